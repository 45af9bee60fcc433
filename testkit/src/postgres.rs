//! A real PostgreSQL server for a test: a fresh cluster in a temp directory
//! (`initdb`, trust authentication), `postgres` listening on 127.0.0.1 and
//! a port picked now, stopped (fast shutdown) and removed on drop.
//!
//! It needs Debian's `postgresql` package (or `initdb` and `postgres` on the
//! PATH). Without it, [`Postgres::start`] says so on stderr and returns
//! `None`, unless `VENOMQA_REQUIRE_POSTGRES=1` (as `.ci/run` sets after
//! installing the package): then a missing server fails the test. As root,
//! where PostgreSQL refuses to run, the cluster belongs to the `postgres`
//! user the package creates, and both programs run as it (`runuser`).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Makes a missing PostgreSQL a failure instead of a skip.
pub const REQUIRE_POSTGRES: &str = "VENOMQA_REQUIRE_POSTGRES";

/// Longest a fresh cluster may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running PostgreSQL server; stopped and deleted on drop.
#[derive(Debug)]
pub struct Postgres {
    server: Child,
    /// Where the cluster lives; removed after the server stops.
    dir: tempfile::TempDir,
    /// The TCP port on 127.0.0.1.
    pub port: u16,
}

impl Postgres {
    /// Starts a server, or says why it cannot and returns `None` (a skip),
    /// unless [`REQUIRE_POSTGRES`] is set: then it panics with how to
    /// install one. `test` names the caller in the skip message.
    pub fn start(test: &str) -> Option<Postgres> {
        let Some(bin) = binaries() else {
            assert!(
                std::env::var(REQUIRE_POSTGRES).as_deref() != Ok("1"),
                "{REQUIRE_POSTGRES}=1 but no PostgreSQL server is installed: \
                 `apt-get install -y postgresql` on Debian"
            );
            eprintln!(
                "SKIPPED {test}: no PostgreSQL server (initdb, postgres) on the PATH or in \
                 /usr/lib/postgresql/*/bin (set {REQUIRE_POSTGRES}=1 to make this a failure)"
            );
            return None;
        };
        let dir = tempfile::Builder::new().prefix("venomqa-pg-").tempdir().expect("a temp dir");
        let as_root = effective_uid() == 0;
        if as_root {
            let owned = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown runs");
            assert!(owned.success(), "cannot give the cluster directory to the postgres user");
        }
        let data = dir.path().join("data");
        let initdb = program(&bin.join("initdb"), as_root)
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ])
            .stdout(Stdio::null())
            .output()
            .expect("initdb runs");
        assert!(
            initdb.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&initdb.stderr)
        );
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("server.log")).expect("a log file");
        let server = program(&bin.join("postgres"), as_root)
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1"])
            .arg("-c")
            .arg(format!("unix_socket_directories={}", dir.path().display()))
            .args(["-c", "fsync=off", "-c", "full_page_writes=off", "-c", "max_connections=20"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("postgres starts");
        let pg = Postgres { server, dir, port };
        pg.wait_until_ready();
        Some(pg)
    }

    /// `postgres://postgres@127.0.0.1:PORT/DATABASE`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// The server's log so far, for a failing test's message.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    fn wait_until_ready(&self) {
        let deadline = Instant::now() + START_TIMEOUT;
        // Accepting TCP is not yet accepting queries; the log says when it is.
        while !self.log().contains("ready to accept connections") {
            assert!(Instant::now() < deadline, "PostgreSQL did not start:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // SIGINT is PostgreSQL's fast shutdown: clients cut off, no checkpoint wait.
        let _ = Command::new("kill").args(["-INT", &self.server.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.server.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// `program`, run as the `postgres` user when we are root.
fn program(path: &Path, as_root: bool) -> Command {
    if as_root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(path);
        command
    } else {
        Command::new(path)
    }
}

/// The directory holding `initdb` and `postgres`: the PATH's, else the
/// newest of Debian's `/usr/lib/postgresql/*/bin`.
fn binaries() -> Option<PathBuf> {
    let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    if let Some(dir) = on_path.into_iter().find(|d| has_both(d)) {
        return Some(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| has_both(bin))
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// A port nothing listens on now.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("its address").port()
}

/// The effective user id, from `id -u` (no libc in this crate).
fn effective_uid() -> u32 {
    let out = Command::new("id").arg("-u").output().expect("id runs");
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(u32::MAX)
}
