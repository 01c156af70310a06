//! A throwaway PostgreSQL server for a test: `initdb` into a fresh directory, `pg_ctl start`
//! listening on a Unix socket in that directory only, and stopped (`immediate`) and removed on
//! drop, even when starting it panics partway. The binaries come from Debian's `postgresql` package (`/usr/lib/postgresql/*/bin`),
//! or `PATH`. PostgreSQL refuses to run as root, so as root the server runs as the package's
//! `postgres` user.
//!
//! With `APICALL_TEST_POSTGRES_URL` set (a server of your own, e.g. on macOS), that server is
//! used instead: each test gets a database of its own there.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub const URL_VARIABLE: &str = "APICALL_TEST_POSTGRES_URL";

pub struct Cluster {
    /// The data directory, when this test started the server.
    data: Option<PathBuf>,
    /// Removed when the cluster drops, after the server has stopped.
    dir: Option<tempfile::TempDir>,
    bin: PathBuf,
    /// The URL of this test's database (`postgresql://…`, as `apicall outbox` takes it).
    pub url: String,
}

impl Cluster {
    /// A server with a fresh, empty database for this test.
    pub fn start(test: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let database = format!(
            "apicall_{test}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        if let Ok(admin) = std::env::var(URL_VARIABLE) {
            let mut client = postgres::Client::connect(&admin, postgres::NoTls)
                .unwrap_or_else(|error| panic!("{URL_VARIABLE}: cannot connect: {error}"));
            client
                .batch_execute(&format!("CREATE DATABASE {database}"))
                .unwrap();
            let mut url = apicall_runtime::reqwest::Url::parse(&admin).unwrap_or_else(|error| {
                panic!("{URL_VARIABLE} must be a postgres:// URL: {error}")
            });
            url.set_path(&database);
            return Self {
                data: None,
                dir: None,
                bin: PathBuf::new(),
                url: url.to_string(),
            };
        }
        let bin = binaries().unwrap_or_else(|| {
            panic!(
                "this test needs a PostgreSQL server: install Debian's `postgresql` package \
                 (apt-get install postgresql), or set {URL_VARIABLE} to a server's URL"
            )
        });
        // Short: a Unix socket's path has a length limit of about 100 bytes.
        let dir = tempfile::Builder::new()
            .prefix("apicall-pg-")
            .tempdir_in("/tmp")
            .unwrap();
        let data = dir.path().join("data");
        // Made before the server starts: a panic from here on stops it and removes its files.
        let mut cluster = Self {
            data: Some(data.clone()),
            dir: None,
            bin: bin.clone(),
            url: String::new(),
        };
        let dir = cluster.dir.insert(dir).path().to_owned();
        let as_root = is_root();
        if as_root {
            run(Command::new("chown").args(["postgres:postgres"]).arg(&dir));
        }
        let pg = |program: &str| {
            let mut command = if as_root {
                let mut command = Command::new("runuser");
                command
                    .args(["-u", "postgres", "--"])
                    .arg(bin.join(program));
                command
            } else {
                Command::new(bin.join(program))
            };
            command.env_remove("PGDATA");
            command
        };
        run(pg("initdb")
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
                "-D",
            ])
            .arg(&data));
        run(pg("pg_ctl")
            .arg("-D")
            .arg(&data)
            .arg("-o")
            .arg(format!(
                "-c listen_addresses='' -k {} -c fsync=off -c max_connections=40",
                dir.display()
            ))
            .arg("-l")
            .arg(dir.join("server.log"))
            .args(["-w", "-t", "60", "start"]));
        cluster.url = socket_url(&dir, "postgres");
        let mut client = connect(&cluster.url);
        client
            .batch_execute(&format!("CREATE DATABASE {database}"))
            .unwrap();
        cluster.url = socket_url(&dir, &database);
        cluster
    }

    /// The data directory, when this test runs the server: its files can be scanned.
    pub fn data_dir(&self) -> Option<&Path> {
        self.data.as_deref()
    }

    /// A connection of the test's own, to look at the tables directly.
    pub fn connect(&self) -> postgres::Client {
        connect(&self.url)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let Some(data) = &self.data else {
            return;
        };
        let mut stop = if is_root() {
            let mut command = Command::new("runuser");
            command
                .args(["-u", "postgres", "--"])
                .arg(self.bin.join("pg_ctl"));
            command
        } else {
            Command::new(self.bin.join("pg_ctl"))
        };
        let _ = stop
            .arg("-D")
            .arg(data)
            .args(["-m", "immediate", "-w", "stop"])
            .output();
        // `dir` is removed as the field drops, after this.
    }
}

/// A URL for the server's Unix socket in `dir` (rust-postgres and libpq read `host` from the
/// query).
fn socket_url(dir: &Path, database: &str) -> String {
    format!("postgresql://postgres@/{database}?host={}", dir.display())
}

fn connect(url: &str) -> postgres::Client {
    let start = Instant::now();
    loop {
        match postgres::Client::connect(url, postgres::NoTls) {
            Ok(client) => return client,
            Err(error) if start.elapsed() > Duration::from_secs(30) => {
                panic!("cannot connect to the test server: {error}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// The directory of `initdb` and `pg_ctl`: Debian's newest version, else `PATH`'s.
fn binaries() -> Option<PathBuf> {
    let mut debian: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    debian.sort_by_key(|bin| {
        bin.parent()
            .and_then(|version| version.file_name())
            .and_then(|name| name.to_str())
            .and_then(|name| name.parse::<u32>().ok())
    });
    if let Some(newest) = debian.pop() {
        return Some(newest);
    }
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .find(|dir| dir.join("initdb").exists() && dir.join("pg_ctl").exists())
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.trim_ascii() == b"0")
}

fn run(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("cannot run {command:?}: {error}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
