//! The fleet outbox on a real PostgreSQL server (a throwaway one each test starts, see
//! `pg_cluster`) and a real receiver on 127.0.0.1: two worker processes share 1,000 webhooks,
//! one is killed with SIGKILL halfway, and every webhook still arrives, none sent by two
//! workers at once, none lost; no secret value is ever written to the tables or the files.

use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apicall_runtime::{
    Client, Conversation, IDEMPOTENCY_KEY_HEADER, Outbox, OutboxError, OutboxRow, Outcome,
    RowState, Secret, Verifier,
};
use apicall_tests::webhooks::{ApiValues, Context, Session};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};

use crate::pg_cluster::{self, Cluster};

const API_KEY: &str = "sk-live-fleet-0a9b8c7d6e5f";
const WEBHOOK_SECRET: &str = "whsec-fleet-5f4e3d2c1b0a";
/// Set in a worker process: the outbox's connection string and the receiver's address.
const CHILD_URL: &str = "APICALL_OUTBOX_PG_CHILD_URL";
const CHILD_RECEIVER: &str = "APICALL_OUTBOX_PG_CHILD_RECEIVER";

const CONVERSATIONS: usize = 500;
/// Each conversation ends with two webhooks (`crm_summary`, `audit_log`).
const WEBHOOKS: usize = 2 * CONVERSATIONS;
/// How long the receiver takes to answer: long enough that each worker has a full set of
/// attempts in flight when one is killed.
const ANSWER_AFTER: Duration = Duration::from_millis(40);

/// What the receiver saw.
#[derive(Default)]
struct Receiver {
    /// Every request's Idempotency-Key, in arrival order.
    keys: Vec<String>,
    /// Keys whose request is being answered now.
    in_flight: HashSet<String>,
    /// Keys that arrived while a request with the same key was still being answered.
    overlapping: Vec<String>,
    /// Requests whose signature did not verify.
    unverified: usize,
}

async fn receive(
    State(receiver): State<Arc<Mutex<Receiver>>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let key = headers[IDEMPOTENCY_KEY_HEADER].to_str().unwrap().to_owned();
    {
        let mut seen = receiver.lock().unwrap();
        if uri.path().starts_with("/customers")
            && Verifier::new(Secret::new(WEBHOOK_SECRET))
                .verify(&headers, &body)
                .is_err()
        {
            seen.unverified += 1;
        }
        if !seen.in_flight.insert(key.clone()) {
            seen.overlapping.push(key.clone());
        }
        seen.keys.push(key.clone());
    }
    // Also when the sender dies mid-request and the server drops this handler.
    let _answered = Answered { receiver, key };
    tokio::time::sleep(ANSWER_AFTER).await;
    StatusCode::OK
}

/// Takes a key out of the in-flight set when its request ends, however it ends.
struct Answered {
    receiver: Arc<Mutex<Receiver>>,
    key: String,
}

impl Drop for Answered {
    fn drop(&mut self) {
        let mut seen = self
            .receiver
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        seen.in_flight.remove(&self.key);
    }
}

fn start_receiver(runtime: &tokio::runtime::Runtime) -> (Arc<Mutex<Receiver>>, String) {
    let receiver = Arc::new(Mutex::new(Receiver::default()));
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let address = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .fallback(receive)
        .with_state(receiver.clone());
    runtime.spawn(async move { axum::serve(listener, app).await });
    (receiver, format!("http://{address}"))
}

fn session(number: usize) -> Session {
    let mut session = Session::new(Context {
        caller_phone: "+15550100".into(),
        api_key: Secret::new(API_KEY),
        webhook_secret: Secret::new(WEBHOOK_SECRET),
        agent_id: 42,
    });
    session.conversation = Conversation::with_id(format!("CA-{number:04}"));
    session.api = ApiValues {
        customer_id: Some(format!("C-{number}")),
        customer_name: Some("Ada Lovelace".into()),
        open_orders: Some(2),
    };
    session
}

/// The secrets every worker process is configured with.
fn resolve_all(name: &str) -> Option<Secret> {
    match name {
        "api_key" => Some(Secret::new(API_KEY)),
        "webhook_secret" => Some(Secret::new(WEBHOOK_SECRET)),
        _ => None,
    }
}

/// A worker process of [`two_workers_share_a_thousand_webhooks_and_one_is_killed_halfway`]:
/// sends the outbox's rows until it is killed. Ignored, so only the parent runs it.
#[test]
#[ignore = "a worker process of two_workers_share_a_thousand_webhooks_and_one_is_killed_halfway"]
fn postgres_worker_process() {
    let url = std::env::var(CHILD_URL).expect("run by the parent test, which names the outbox");
    let base = std::env::var(CHILD_RECEIVER).expect("run by the parent test, with a receiver");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let outbox = Outbox::postgres(&url)
            .unwrap()
            .with_secrets(resolve_all)
            // A killed worker's rows are taken over a second after their attempt's timeout.
            .with_lease_margin(Duration::from_secs(1));
        let _client = Client::new()
            .with_base_url(&base)
            .unwrap()
            .with_outbox(outbox);
        tokio::time::sleep(Duration::from_secs(300)).await;
    });
    panic!("the parent test should have killed this process");
}

/// An outbox on `url` and a client that writes to it, with webhooks sent to `base`. Outside
/// any runtime, no worker starts: `finish` only writes rows.
fn writer(url: &str, base: &str) -> (Outbox, Client) {
    let outbox = Outbox::postgres(url).unwrap();
    let client = Client::new()
        .with_base_url(base)
        .unwrap()
        .with_outbox(outbox.clone());
    (outbox, client)
}

fn start_worker(url: &str, base: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            test_name!("postgres_worker_process").as_str(),
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_URL, url)
        .env(CHILD_RECEIVER, base)
        .stdout(Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits until `done` holds, or fails after `limit` saying `what`.
fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn sigkill(mut child: Child) {
    child.kill().unwrap();
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(9), "{status:?}");
}

#[test]
fn two_workers_share_a_thousand_webhooks_and_one_is_killed_halfway() {
    let cluster = Cluster::start("fleet");
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (receiver, base) = start_receiver(&server);

    // 1,000 webhooks written outside any runtime: rows, and no worker in this process.
    let (outbox, writer) = writer(&cluster.url, &base);
    for number in 0..CONVERSATIONS {
        drop(session(number).finish(&writer, Outcome::Completed));
    }
    let rows = outbox.list().unwrap();
    assert_eq!(rows.len(), WEBHOOKS);
    assert!(rows.iter().all(|r| r.state == RowState::Pending));
    let expected: HashSet<String> = rows.iter().map(|r| r.idempotency_key.clone()).collect();
    assert_eq!(expected.len(), WEBHOOKS, "one key per webhook");

    let sent = || receiver.lock().unwrap().keys.len();
    let doomed = start_worker(&cluster.url, &base);
    wait_for("the first worker to start", Duration::from_secs(60), || {
        sent() >= 100
    });
    let survivor = start_worker(&cluster.url, &base);
    wait_for("half the webhooks", Duration::from_secs(60), || {
        sent() >= WEBHOOKS / 2
    });
    sigkill(doomed);
    let at_kill = sent();
    assert!(at_kill < WEBHOOKS, "killed halfway, not at the end");

    let delivered = |rows: &[OutboxRow]| rows.iter().all(|r| r.state == RowState::Delivered);
    wait_for(
        "every row to be delivered",
        Duration::from_secs(120),
        || delivered(&outbox.list().unwrap()),
    );
    sigkill(survivor);

    let seen = receiver.lock().unwrap();
    let keys: HashSet<String> = seen.keys.iter().cloned().collect();
    assert_eq!(keys, expected, "every webhook arrived, and nothing else");
    assert!(
        seen.overlapping.is_empty(),
        "two workers sent one row at once, {} times; first: {:?}",
        seen.overlapping.len(),
        &seen.overlapping[..seen.overlapping.len().min(5)]
    );
    assert_eq!(seen.unverified, 0, "every signature verifies");
    // A row sent twice is one the killed worker had sent but not yet recorded: at most the
    // attempts it had in flight; the receiver dedupes it by its Idempotency-Key.
    let mut times: HashMap<&str, usize> = HashMap::new();
    for key in &seen.keys {
        *times.entry(key).or_default() += 1;
    }
    let twice: Vec<&&str> = times
        .iter()
        .filter(|(_, count)| **count > 1)
        .map(|(key, _)| key)
        .collect();
    assert!(twice.len() <= 32, "sent twice: {twice:?}");
    assert!(times.values().all(|count| *count <= 2), "{times:?}");
    assert!(seen.keys.len() > at_kill, "the survivor finished the work");

    assert_no_secret_at_rest(&cluster, &["CA-0007:crm_summary", "api_key"]);
}

/// No secret value in any column of any row, nor in any file of the server's data directory
/// (after a checkpoint, so the rows are in the table files, not only the WAL); `expected` is
/// found, so the scan reads what was written.
fn assert_no_secret_at_rest(cluster: &Cluster, expected: &[&str]) {
    let mut client = cluster.connect();
    let mut text = String::new();
    for row in client
        .query(
            "SELECT t::text, convert_from(body, 'UTF8') FROM webhook_outbox t",
            &[],
        )
        .unwrap()
    {
        text.push_str(row.get(0));
        text.push_str(row.get(1));
    }
    for secret in [API_KEY, WEBHOOK_SECRET] {
        assert!(!text.contains(secret), "a secret value is in the table");
    }
    for needle in expected {
        assert!(text.contains(needle), "`{needle}` is not in the table");
    }
    let Some(data) = cluster.data_dir() else {
        return;
    };
    client.batch_execute("CHECKPOINT").unwrap();
    let mut found = 0;
    let mut pending = vec![data.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            let holds = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
            for secret in [API_KEY, WEBHOOK_SECRET] {
                assert!(!holds(secret), "a secret value is in {}", path.display());
            }
            found += usize::from(holds(expected[0]));
        }
    }
    assert!(found > 0, "the rows are in no file of the data directory");
}

#[test]
fn processes_starting_together_migrate_once_and_a_newer_schema_is_refused() {
    let cluster = Cluster::start("schema");
    let opened: Vec<Result<Outbox, OutboxError>> = std::thread::scope(|scope| {
        let starting: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| Outbox::postgres(&cluster.url)))
            .collect();
        starting.into_iter().map(|t| t.join().unwrap()).collect()
    });
    assert!(opened.iter().all(Result::is_ok), "{opened:?}");
    let mut client = cluster.connect();
    let versions: Vec<i32> = client
        .query("SELECT version FROM apicall_outbox_migrations", &[])
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(versions, [1]);
    client
        .batch_execute("INSERT INTO apicall_outbox_migrations (version, applied_at) VALUES (99, 0)")
        .unwrap();
    assert!(matches!(
        Outbox::postgres(&cluster.url),
        Err(OutboxError::NewerSchema {
            found: 99,
            known: 1
        })
    ));
}

/// Whether every connection to `database` but the one asking is TLS, and there is at least
/// one.
fn outbox_connections_are_tls(cluster: &Cluster, database: &str) -> bool {
    let mut admin = cluster.connect();
    let rows = admin
        .query(
            "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
             WHERE a.datname = $1 AND a.pid <> pg_backend_pid()",
            &[&database],
        )
        .unwrap();
    !rows.is_empty() && rows.iter().all(|row| row.get::<_, bool>(0))
}

#[test]
fn sslmode_require_is_tls_to_a_server_its_roots_trust_and_refused_otherwise() {
    let (ca_pem, certificate_pem, key_pem) = pg_cluster::test_ca();
    let cluster = Cluster::start_tls(
        "tls",
        &pg_cluster::ServerTls {
            certificate_pem: &certificate_pem,
            key_pem: &key_pem,
            client_ca_pem: None,
        },
    );
    let database = cluster.database();

    // The platform's roots do not hold the test CA: refused, and the error says why.
    let require = cluster.tcp_url("localhost", "sslmode=require");
    let refused = Outbox::postgres(&require).unwrap_err();
    let shown = format!("{refused} {:?}", std::error::Error::source(&refused));
    assert!(shown.to_lowercase().contains("certificate"), "{shown}");

    // With the CA: TLS, as the server itself reports the connection.
    let outbox = Outbox::postgres_with_root_certificates(&require, ca_pem.as_bytes()).unwrap();
    assert!(outbox.list().unwrap().is_empty());
    assert!(outbox_connections_are_tls(&cluster, database));
    drop(outbox);

    // A URL written for libpq, as managed databases document them, works as it is.
    let roots = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(roots.path(), &ca_pem).unwrap();
    let libpq = cluster.tcp_url(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={}", roots.path().display()),
    );
    let outbox = Outbox::postgres(&libpq).unwrap();
    assert!(outbox.list().unwrap().is_empty());
    assert!(outbox_connections_are_tls(&cluster, database));
    drop(outbox);

    // The name is checked too: the certificate is for `localhost`, not 127.0.0.1.
    let by_address = cluster.tcp_url("127.0.0.1", "sslmode=require");
    assert!(Outbox::postgres_with_root_certificates(&by_address, ca_pem.as_bytes()).is_err());

    // Something that is not a certificate is refused before connecting.
    let garbage = b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n";
    let error = Outbox::postgres_with_root_certificates(&require, garbage).unwrap_err();
    assert!(matches!(error, OutboxError::Open { .. }), "{error:?}");
    // Nor is a file with no certificate at all (DER, a key): it would otherwise be ignored.
    let error = Outbox::postgres_with_root_certificates(&require, key_pem.as_bytes()).unwrap_err();
    let shown = format!("{:?}", std::error::Error::source(&error));
    assert!(shown.contains("BEGIN CERTIFICATE"), "{shown}");
}

#[test]
fn a_server_that_asks_for_a_client_certificate_gets_the_one_sslcert_names() {
    let pki = pg_cluster::test_pki("postgres");
    let cluster = Cluster::start_tls(
        "client_cert",
        &pg_cluster::ServerTls {
            certificate_pem: &pki.server_certificate_pem,
            key_pem: &pki.server_key_pem,
            client_ca_pem: Some(&pki.ca_pem),
        },
    );
    let files = tempfile::tempdir().unwrap();
    let write = |name: &str, pem: &str| {
        let path = files.path().join(name);
        std::fs::write(&path, pem).unwrap();
        path.display().to_string()
    };
    let roots = write("ca.pem", &pki.ca_pem);
    let certificate = write("agent.crt", &pki.client_certificate_pem);
    let key = write("agent.key", &pki.client_key_pem);
    let url = |query: &str| {
        cluster.tcp_url(
            "localhost",
            &format!("sslmode=verify-full&sslrootcert={roots}{query}"),
        )
    };

    // Without a certificate the server (`cert` authentication) refuses the connection.
    assert!(Outbox::postgres(&url("")).is_err());
    // With the one the URL names, as libpq reads `sslcert` and `sslkey`: in, over TLS.
    let outbox = Outbox::postgres(&url(&format!("&sslcert={certificate}&sslkey={key}"))).unwrap();
    assert!(outbox.list().unwrap().is_empty());
    assert!(outbox_connections_are_tls(&cluster, cluster.database()));
    drop(outbox);
    // libpq's `key=value` form too, as psql and RDS's docs write it.
    let port = apicall_runtime::reqwest::Url::parse(&url(""))
        .unwrap()
        .port()
        .unwrap();
    let dsn = format!(
        "host=localhost port={port} user=postgres dbname={} sslmode=verify-full \
         sslrootcert={roots} sslcert='{certificate}' sslkey={key}",
        cluster.database()
    );
    let outbox = Outbox::postgres(&dsn).unwrap();
    assert!(outbox.list().unwrap().is_empty());
    drop(outbox);

    // A certificate from the same CA for another user does not get in as `postgres`.
    let other = pg_cluster::test_pki("intruder");
    let foreign = write("intruder.crt", &other.client_certificate_pem);
    let foreign_key = write("intruder.key", &other.client_key_pem);
    let refused = Outbox::postgres(&url(&format!("&sslcert={foreign}&sslkey={foreign_key}")));
    assert!(refused.is_err());

    // Mistakes in the settings are refused before connecting, and say which setting.
    let alone = Outbox::postgres(&url(&format!("&sslcert={certificate}"))).unwrap_err();
    let shown = format!("{:?}", std::error::Error::source(&alone));
    assert!(shown.contains("go together"), "{shown}");
    let plain = cluster.tcp_url(
        "localhost",
        &format!("sslmode=disable&sslcert={certificate}&sslkey={key}"),
    );
    let shown = format!("{:?}", Outbox::postgres(&plain).unwrap_err());
    assert!(shown.contains("needs TLS"), "{shown}");
    let not_a_key = write("not_a.key", "PRIVATE-KEY-TEXT-never-shown");
    let error =
        Outbox::postgres(&url(&format!("&sslcert={certificate}&sslkey={not_a_key}"))).unwrap_err();
    let shown = format!("{error} {error:?} {:?}", std::error::Error::source(&error));
    assert!(shown.contains("sslkey"), "{shown}");
    assert!(!shown.contains("PRIVATE-KEY-TEXT"), "{shown}");
}

#[test]
fn a_connection_strings_password_is_never_shown() {
    // Nothing listens on port 9: the error must name the server without the password.
    for url in [
        "postgres://agent:hunter2-secret@127.0.0.1:9/outbox",
        "host=127.0.0.1 port=9 user=agent password=hunter2-secret dbname=outbox",
    ] {
        let error = Outbox::postgres(url).unwrap_err();
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("127.0.0.1"), "{shown}");
    }
}

#[test]
fn parked_and_given_up_rows_are_kept_listed_and_retried() {
    let cluster = Cluster::start("park");
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (receiver, base) = start_receiver(&server);
    let (outbox, writer) = writer(&cluster.url, &base);
    drop(session(1).finish(&writer, Outcome::Completed));

    // A process with the API key but not the signing key parks crm_summary and sends the rest.
    server.block_on(async {
        let partial = Outbox::postgres(&cluster.url)
            .unwrap()
            .with_secrets(|name| (name == "api_key").then(|| Secret::new(API_KEY)));
        let _client = Client::new()
            .with_base_url(&base)
            .unwrap()
            .with_outbox(partial.clone());
        let start = Instant::now();
        while partial
            .list()
            .unwrap()
            .iter()
            .any(|r| r.state == RowState::Pending)
        {
            assert!(start.elapsed() < Duration::from_secs(30));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    let rows = outbox.list().unwrap();
    let crm = rows.iter().find(|r| r.webhook == "crm_summary").unwrap();
    assert_eq!((crm.state, crm.attempts), (RowState::Parked, 0));
    assert_eq!(
        crm.park_reason,
        Some(apicall_runtime::ParkReason::UnresolvedSecret {
            name: "webhook_secret".into()
        })
    );
    assert_eq!(
        outbox.purge(Duration::ZERO).unwrap(),
        1,
        "the delivered row"
    );
    assert!(matches!(
        outbox.retry(crm.id + 1000),
        Err(OutboxError::NoSuchRow { .. })
    ));
    outbox.retry(crm.id).unwrap();
    assert_eq!(outbox.list().unwrap()[0].state, RowState::Pending);
    assert_eq!(receiver.lock().unwrap().keys, ["CA-0001:audit_log"]);
}
