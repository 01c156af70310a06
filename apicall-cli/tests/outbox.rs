//! `apicall outbox FILE|URL list|retry|purge`, the binary run against a real SQLite outbox
//! whose rows the runtime itself wrote and its worker settled against a receiver on
//! 127.0.0.1: one delivered, one given up (HTTP 400), one parked (its signing key not
//! configured in the sending process).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use apicall_runtime::{
    Client, Conversation, Outbox, OutboxRow, Outcome, ParkReason, RowState, Secret, WebhookError,
};
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::Value;

#[path = "../../tests/pg_cluster/mod.rs"]
#[allow(
    dead_code,
    reason = "the tests crate uses the rest of the cluster's helpers"
)]
mod pg_cluster;

mod calls {
    apicall_macros::include_api_calls!("outbox_calls.yaml");
}

const PHONE: &str = "+15550100777";
const WEBHOOK_SECRET: &str = "whsec-cli-outbox-5a6b7c8d";

fn apicall(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_apicall"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs `apicall outbox LOCATION ARGS…` and asserts its exit status.
fn outbox_command(location: impl AsRef<std::ffi::OsStr>, args: &[&str], status: i32) -> Output {
    let location = location.as_ref().to_str().unwrap();
    let mut all = vec!["outbox", location];
    all.extend(args);
    let output = apicall(&all);
    assert_eq!(
        output.status.code(),
        Some(status),
        "apicall {all:?}\nstdout: {}\nstderr: {}",
        stdout(&output),
        stderr(&output)
    );
    output
}

/// A fresh directory, removed when the returned guard drops (the test's end, pass or fail).
/// Every process that uses it is gone by then: [`settle`] drops its runtimes (so their
/// workers) before it returns, and each command is waited for.
fn temp_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("apicall-cli-outbox-{name}-"))
        .tempdir()
        .unwrap()
}

fn row<'a>(rows: &'a [OutboxRow], webhook: &str) -> &'a OutboxRow {
    rows.iter()
        .find(|row| row.webhook == webhook)
        .unwrap_or_else(|| panic!("no `{webhook}` row in {rows:?}"))
}

fn session() -> calls::Session {
    let mut session = calls::Session::new(calls::Context {
        caller_phone: PHONE.into(),
        webhook_secret: Secret::new(WEBHOOK_SECRET),
    });
    session.conversation = Conversation::with_id("CA-OUTBOX-1");
    session
}

/// An outbox file at `dir/outbox.db` with three settled rows (see [`settle`]).
fn settled_outbox(dir: &Path) -> PathBuf {
    let db = dir.join("outbox.db");
    settle(db.to_str().unwrap());
    db
}

/// Three settled rows in the outbox at `location`: `accepted` delivered, `refused` given up
/// after a 400, `signed` parked. Every runtime (so every worker) is gone when it returns:
/// nothing but the commands under test changes the rows.
fn settle(location: &str) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let base = runtime.block_on(async {
        let app = axum::Router::new()
            .route("/accepted", post(|| async { StatusCode::OK }))
            .route("/refused", post(|| async { StatusCode::BAD_REQUEST }))
            .route("/signed", post(|| async { StatusCode::OK }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{address}")
    });

    // Written outside any runtime: three pending rows, and no worker holds their secrets.
    let writer = Client::new()
        .with_base_url(&base)
        .unwrap()
        .with_outbox(Outbox::open(location).unwrap());
    let results = runtime.block_on(session().finish(&writer, Outcome::Completed).wait());
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Err(WebhookError::NoRuntime { .. }))),
        "{results:?}"
    );
    drop(writer);

    // A process that resolves no secret: it sends the unsigned rows and parks the signed one.
    runtime.block_on(async {
        let outbox = Outbox::open(location).unwrap().with_secrets(|_| None);
        let _client = Client::new()
            .with_base_url(&base)
            .unwrap()
            .with_outbox(outbox.clone());
        let start = Instant::now();
        loop {
            let rows = outbox.list().unwrap();
            if rows.len() == 3 && rows.iter().all(|r| r.state != RowState::Pending) {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "rows not settled: {rows:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    drop(runtime);

    let rows = Outbox::open(location).unwrap().list().unwrap();
    assert_eq!(row(&rows, "accepted").state, RowState::Delivered);
    assert_eq!(row(&rows, "refused").state, RowState::GaveUp);
    assert_eq!(row(&rows, "signed").state, RowState::Parked);
}

#[test]
fn list_retry_and_purge_act_on_the_rows_the_runtime_wrote() {
    let dir = temp_dir("flow");
    let db = settled_outbox(dir.path());
    list_retry_and_purge(db.to_str().unwrap());
}

#[test]
fn list_retry_and_purge_act_on_a_postgresql_outbox() {
    let cluster = pg_cluster::Cluster::start("cli");
    assert!(cluster.url.starts_with("postgres"), "{}", cluster.url);
    settle(&cluster.url);
    list_retry_and_purge(&cluster.url);
}

/// `--root-certificates` lets the command reach a server whose certificate comes from a CA of
/// its own, over TLS (`sslmode=require`); without it the certificate is refused.
#[test]
fn a_tls_postgresql_outbox_is_read_with_the_root_certificates_given() {
    let (ca_pem, certificate_pem, key_pem) = pg_cluster::test_ca();
    let cluster = pg_cluster::Cluster::start_tls(
        "cli_tls",
        &pg_cluster::ServerTls {
            certificate_pem: &certificate_pem,
            key_pem: &key_pem,
            client_ca_pem: None,
        },
    );
    let url = cluster.tcp_url("localhost", "sslmode=require");
    let refused = outbox_command(&url, &["list"], 2);
    assert!(
        stderr(&refused).contains("cannot open the outbox"),
        "{}",
        stderr(&refused)
    );

    let dir = temp_dir("tls");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &ca_pem).unwrap();
    let roots = ca.to_str().unwrap();
    let listed = outbox_command(&url, &["list", "--root-certificates", roots], 0);
    assert!(stdout(&listed).contains("is empty"), "{}", stdout(&listed));

    // Given for a SQLite file, it is a mistake worth saying.
    let sqlite = dir.path().join("outbox.db");
    let wrong = outbox_command(&sqlite, &["list", "--root-certificates", roots], 2);
    assert!(
        stderr(&wrong).contains("is for a PostgreSQL outbox"),
        "{}",
        stderr(&wrong)
    );
}

fn list_retry_and_purge(db: &str) {
    let location = db;
    let library = || Outbox::open(location).unwrap().list().unwrap();
    let rows = library();
    let id = |webhook: &str| row(&rows, webhook).id.to_string();
    let (accepted, refused, signed) = (id("accepted"), id("refused"), id("signed"));

    // list: each row, with what happened, and nothing of what was sent.
    let text = stdout(&outbox_command(db, &["list"], 0));
    for expected in [
        format!("#{accepted} accepted delivered\n"),
        format!("#{refused} refused gave_up\n"),
        format!("#{signed} signed parked\n"),
        "attempts:        1, last status 400\n".to_owned(),
        "parked because:  the secret `webhook_secret` is not configured in this process\n"
            .to_owned(),
        "idempotency key: CA-OUTBOX-1:refused\n".to_owned(),
        "3 rows: 1 delivered, 1 gave_up, 1 parked\n".to_owned(),
    ] {
        assert!(text.contains(&expected), "`{expected}` not in:\n{text}");
    }
    assert!(text.contains("created:         20"), "{text}");
    assert!(text.contains("finished:        20"), "{text}");
    for never in [
        PHONE,
        WEBHOOK_SECRET,
        "127.0.0.1",
        "example.com",
        "/accepted",
    ] {
        assert!(!text.contains(never), "`{never}` is in:\n{text}");
    }

    // list --json: the same rows, oldest first, for a script.
    let json: Value = serde_json::from_str(&stdout(&outbox_command(db, &["list", "--json"], 0)))
        .expect("list --json prints JSON");
    let json = json.as_array().expect("an array");
    let listed: Vec<(&str, &str, u64, Option<u64>)> = json
        .iter()
        .map(|row| {
            (
                row["webhook"].as_str().unwrap(),
                row["state"].as_str().unwrap(),
                row["attempts"].as_u64().unwrap(),
                row["last_status"].as_u64(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("accepted", "delivered", 1, Some(200)),
            ("refused", "gave_up", 1, Some(400)),
            ("signed", "parked", 0, None),
        ]
    );
    let ids: Vec<i64> = json.iter().map(|row| row["id"].as_i64().unwrap()).collect();
    assert!(ids.is_sorted(), "{ids:?}");
    let refused_row = &json[1];
    assert_eq!(refused_row["idempotency_key"], "CA-OUTBOX-1:refused");
    assert!(
        refused_row["last_error"]
            .as_str()
            .is_some_and(|error| error.contains("400")),
        "{refused_row}"
    );
    assert!(refused_row["next_attempt_at"].is_null());
    let created = refused_row["created_at"].as_str().unwrap();
    let finished = refused_row["finished_at"].as_str().unwrap();
    assert!(
        created.len() == 24 && created.ends_with('Z') && created <= finished,
        "{created} {finished}"
    );
    assert_eq!(
        json[2]["park_reason"],
        "the secret `webhook_secret` is not configured in this process"
    );
    assert!(json[2]["finished_at"].is_null());

    // retry: a given-up and a parked row are pending again; nothing sends them here.
    let output = outbox_command(db, &["retry", &refused, &signed], 0);
    assert_eq!(
        stdout(&output),
        format!("row {refused}: pending again\nrow {signed}: pending again\n")
    );
    let rows = library();
    for webhook in ["refused", "signed"] {
        let row = row(&rows, webhook);
        assert_eq!(row.state, RowState::Pending, "{row:?}");
        assert_eq!(row.park_reason, None::<ParkReason>);
        assert_eq!(row.finished_at_ms, None);
    }
    let json: Value =
        serde_json::from_str(&stdout(&outbox_command(db, &["list", "--json"], 0))).unwrap();
    assert_eq!(json[1]["state"], "pending");
    assert!(json[1]["next_attempt_at"].is_string(), "{}", json[1]);

    // A delivered row, a pending one and an unknown id cannot be retried: each is named, and
    // the command fails.
    let output = outbox_command(db, &["retry", &accepted, &refused, "999999"], 1);
    let errors = stderr(&output);
    for id in [&accepted, &refused, "999999"] {
        assert!(
            errors.contains(&format!(
                "error: row {id}: no parked or given-up row has this id\n"
            )),
            "{errors}"
        );
    }
    assert_eq!(row(&library(), "accepted").state, RowState::Delivered);

    // purge: the default keeps rows finished within the retention; 0s removes the finished.
    let output = outbox_command(db, &["purge"], 0);
    assert_eq!(
        stdout(&output),
        "Removed 0 finished rows (delivered or given up more than 7d ago).\n"
    );
    let output = outbox_command(db, &["purge", "--older-than", "0s"], 0);
    assert_eq!(
        stdout(&output),
        "Removed 1 finished row (delivered or given up more than 0s ago).\n"
    );
    let left: Vec<String> = library().into_iter().map(|row| row.webhook).collect();
    assert_eq!(left, ["refused", "signed"], "pending rows stay");
}

#[test]
fn purge_removes_delivered_and_given_up_rows_and_keeps_parked_ones() {
    let dir = temp_dir("purge");
    let db = settled_outbox(dir.path());
    let output = outbox_command(&db, &["purge", "--older-than", "0s"], 0);
    assert_eq!(
        stdout(&output),
        "Removed 2 finished rows (delivered or given up more than 0s ago).\n"
    );
    let rows = Outbox::sqlite(&db).unwrap().list().unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].state, RowState::Parked);
}

#[test]
fn an_empty_outbox_says_so() {
    let dir = temp_dir("empty");
    let db = dir.path().join("outbox.db");
    drop(Outbox::sqlite(&db).unwrap());
    let output = outbox_command(&db, &["list"], 0);
    assert_eq!(
        stdout(&output),
        format!("The outbox at {} is empty.\n", db.display())
    );
    let output = outbox_command(&db, &["list", "--json"], 0);
    assert_eq!(stdout(&output), "[]\n");
}

#[test]
fn a_file_that_does_not_exist_is_not_created() {
    let dir = temp_dir("missing");
    let db = dir.path().join("mistyped.db");
    for args in [
        &["list"][..],
        &["retry", "1"],
        &["purge", "--older-than", "0s"],
    ] {
        let output = outbox_command(&db, args, 2);
        assert_eq!(
            stderr(&output),
            format!(
                "error: no outbox at `{}`: the file does not exist (a PostgreSQL outbox is given \
                 as a postgres:// URL)\n",
                db.display()
            )
        );
        assert!(stdout(&output).is_empty());
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "a file was created"
    );
}

#[test]
fn a_connection_strings_password_is_never_shown() {
    // Nothing listens on port 1: the outbox cannot be opened, whichever backends this build has.
    let output = apicall(&[
        "outbox",
        "postgres://agent:pw-9f8e7d6c@127.0.0.1:1/outbox",
        "list",
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let errors = stderr(&output);
    assert!(
        errors.starts_with(
            "error: cannot open the outbox at postgres://agent:***@127.0.0.1:1/outbox: "
        ),
        "{errors}"
    );
    assert!(!errors.contains("pw-9f8e7d6c"), "{errors}");
    assert!(stdout(&output).is_empty());
}

#[test]
fn a_wrong_command_line_exits_2() {
    let dir = temp_dir("usage");
    let db = dir.path().join("outbox.db");
    drop(Outbox::sqlite(&db).unwrap());
    let output = outbox_command(&db, &["purge", "--older-than", "7w"], 2);
    assert!(
        stderr(&output).contains("such as 30s, 15m, 12h or 7d; found `7w`"),
        "{}",
        stderr(&output)
    );
    let output = outbox_command(&db, &["retry"], 2);
    assert!(stderr(&output).contains("<ID>"), "{}", stderr(&output));
    let output = outbox_command(&db, &["retry", "seven"], 2);
    assert!(stderr(&output).contains("seven"), "{}", stderr(&output));
}
