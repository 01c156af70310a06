//! A throwaway PostgreSQL server for a test: `initdb` into a fresh directory, `pg_ctl start`
//! listening on a Unix socket in that directory only, and stopped (`immediate`) and removed on
//! drop, even when starting it panics partway. The binaries come from Debian's `postgresql`
//! package (`/usr/lib/postgresql/*/bin`), or `PATH`. PostgreSQL refuses to run as root, so as
//! root the server runs as the package's `postgres` user.
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
    /// The TCP port, when the server also listens on 127.0.0.1 (with TLS).
    tcp_port: Option<u16>,
}

/// A CA of the test's own and a server certificate it signs for `localhost`: what a managed
/// database's CA bundle and server are to a user.
pub fn test_ca() -> (String, String, String) {
    let pki = test_pki("postgres");
    (pki.ca_pem, pki.server_certificate_pem, pki.server_key_pem)
}

/// [`test_ca`]'s CA and server certificate, and a client certificate it signs for `user` (its
/// common name, which PostgreSQL's `cert` authentication takes as the user name).
pub struct TestPki {
    pub ca_pem: String,
    pub server_certificate_pem: String,
    pub server_key_pem: String,
    pub client_certificate_pem: String,
    pub client_key_pem: String,
}

pub fn test_pki(user: &str) -> TestPki {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "apicall test database CA");
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca, ca_key);
    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&server_key, &issuer)
        .unwrap();
    let client_key = KeyPair::generate().unwrap();
    let mut client = CertificateParams::new(Vec::<String>::new()).unwrap();
    client.distinguished_name.push(DnType::CommonName, user);
    let client = client.signed_by(&client_key, &issuer).unwrap();
    TestPki {
        ca_pem,
        server_certificate_pem: server.pem(),
        server_key_pem: server_key.serialize_pem(),
        client_certificate_pem: client.pem(),
        client_key_pem: client_key.serialize_pem(),
    }
}

/// A server certificate and its key, PEM, for a server that also takes TLS connections.
pub struct ServerTls<'a> {
    pub certificate_pem: &'a str,
    pub key_pem: &'a str,
    /// With a CA (PEM), connections over TCP must present a client certificate it signed,
    /// whose common name is the user (PostgreSQL's `cert` authentication).
    pub client_ca_pem: Option<&'a str>,
}

impl Cluster {
    /// A server with a fresh, empty database for this test.
    pub fn start(test: &str) -> Self {
        Self::start_with(test, None)
    }

    /// A server of this test's own that also listens on 127.0.0.1 with `tls` (never
    /// `APICALL_TEST_POSTGRES_URL`'s). `url` stays the Unix socket's; [`Cluster::tcp_url`]
    /// gives the TCP one.
    pub fn start_tls(test: &str, tls: &ServerTls<'_>) -> Self {
        Self::start_with(test, Some(tls))
    }

    /// The name of this test's database.
    pub fn database(&self) -> &str {
        let path = self.url.split('?').next().unwrap_or_default();
        path.rsplit('/').next().unwrap_or_default()
    }

    /// The URL of this test's database over TCP as `host` (a started-with-TLS server only),
    /// with `query` appended (`sslmode=require`, say).
    pub fn tcp_url(&self, host: &str, query: &str) -> String {
        let port = self.tcp_port.expect("a server started with start_tls");
        format!(
            "postgresql://postgres@{host}:{port}/{}?{query}",
            self.database()
        )
    }

    fn start_with(test: &str, tls: Option<&ServerTls<'_>>) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let database = format!(
            "apicall_{test}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let own_server_needed = tls.is_some();
        if let (Ok(admin), false) = (std::env::var(URL_VARIABLE), own_server_needed) {
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
                tcp_port: None,
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
            tcp_port: None,
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
        let mut options = format!(
            "-c listen_addresses='' -k {} -c fsync=off -c max_connections=40",
            dir.display()
        );
        if let Some(tls) = tls {
            // A free port now; another process could take it before the server does, which a
            // test run on one machine does not.
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|listener| listener.local_addr())
                .unwrap()
                .port();
            let (certificate, key) = (dir.join("server.crt"), dir.join("server.key"));
            std::fs::write(&certificate, tls.certificate_pem).unwrap();
            std::fs::write(&key, tls.key_pem).unwrap();
            // PostgreSQL refuses a key others can read.
            run(Command::new("chmod").arg("600").arg(&key));
            let client_ca = dir.join("client_ca.crt");
            if let Some(ca_pem) = tls.client_ca_pem {
                std::fs::write(&client_ca, ca_pem).unwrap();
                // Over TCP only a client certificate for the user gets in; the test's own
                // setup keeps the Unix socket.
                std::fs::write(
                    data.join("pg_hba.conf"),
                    "local all all trust\nhostssl all all 127.0.0.1/32 cert\n",
                )
                .unwrap();
            }
            if as_root {
                run(Command::new("chown")
                    .arg("postgres:postgres")
                    .arg(&certificate)
                    .arg(&key));
                if tls.client_ca_pem.is_some() {
                    run(Command::new("chown")
                        .arg("postgres:postgres")
                        .arg(&client_ca));
                }
            }
            options = format!(
                "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off \
                 -c max_connections=40 -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
                dir.display(),
                certificate.display(),
                key.display()
            );
            if tls.client_ca_pem.is_some() {
                options.push_str(&format!(" -c ssl_ca_file={}", client_ca.display()));
            }
            cluster.tcp_port = Some(port);
        }
        run(pg("pg_ctl")
            .arg("-D")
            .arg(&data)
            .arg("-o")
            .arg(options)
            .arg("-l")
            .arg(dir.join("server.log"))
            .args(["-w", "-t", "60", "start"]));
        cluster.url = socket_url(&dir, "postgres", cluster.tcp_port);
        let mut client = connect(&cluster.url);
        client
            .batch_execute(&format!("CREATE DATABASE {database}"))
            .unwrap();
        cluster.url = socket_url(&dir, &database, cluster.tcp_port);
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
fn socket_url(dir: &Path, database: &str, port: Option<u16>) -> String {
    // The socket's name holds the port the server listens on (5432 unless told).
    let port = port.map(|port| format!("&port={port}")).unwrap_or_default();
    format!(
        "postgresql://postgres@/{database}?host={}{port}",
        dir.display()
    )
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
