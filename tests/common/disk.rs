//! Small and failing disks for the store's tests, and a recorder to put on
//! them: a tmpfs of a few MiB the test mounts (root only; skipped, saying
//! so, where mounting is not allowed, unless `VENOMQA_REQUIRE_TMPFS=1`), a
//! file-size limit (`RLIMIT_FSIZE`, no privileges needed) that makes every
//! write past it fail with `EFBIG`, an upstream that answers each upload
//! with the size it read, and `venomqa record` with its log in a file.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use venomqa_testkit::upstream::{full, handler};
use venomqa_testkit::Upstream;

use super::{venomqa, Running};

/// A tmpfs mounted on a fresh temp directory, unmounted when dropped.
pub struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (`"12m"`); `None`, after saying why on
    /// stderr, where mounting is not permitted — unless
    /// `VENOMQA_REQUIRE_TMPFS=1`, when that fails the test.
    pub fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().expect("a temp dir");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0755"), "tmpfs"])
            .arg(dir.path())
            .stderr(Stdio::piped())
            .output();
        let why = match mounted {
            Ok(out) if out.status.success() => return Some(Tmpfs { dir }),
            Ok(out) => String::from_utf8_lossy(&out.stderr).trim().to_string(),
            Err(e) => format!("cannot run mount: {e}"),
        };
        let message = format!(
            "SKIPPED: this test needs a small tmpfs and could not mount one ({why}); \
             run it as root (as CI does), or set VENOMQA_REQUIRE_TMPFS=1 to make this a failure"
        );
        if std::env::var("VENOMQA_REQUIRE_TMPFS").as_deref() == Ok("1") {
            panic!("{message}");
        }
        eprintln!("{message}");
        None
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Makes the file system read-only (or writable again).
    pub fn remount(&self, read_only: bool) {
        let option = if read_only { "remount,ro" } else { "remount,rw" };
        let status = Command::new("mount").args(["-o", option]).arg(self.path()).status();
        assert!(status.map(|s| s.success()).unwrap_or(false), "mount -o {option}");
    }

    /// Fills what is left with a file, `name`; returns its path.
    pub fn fill(&self, name: &str) -> PathBuf {
        let path = self.path().join(name);
        let mut file = File::create(&path).expect("create the filler");
        let chunk = vec![0u8; 64 * 1024];
        loop {
            if std::io::Write::write_all(&mut file, &chunk).is_err() {
                break;
            }
        }
        path
    }

    /// Bytes free, as `statvfs` says.
    pub fn free(&self) -> u64 {
        let out = Command::new("df").args(["-B1", "--output=avail"]).arg(self.path()).output();
        let out = out.expect("df runs");
        let text = String::from_utf8_lossy(&out.stdout);
        text.lines().nth(1).and_then(|l| l.trim().parse().ok()).expect("df prints the free bytes")
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazily: a process of the test may still hold a file open.
        let _ = Command::new("umount").arg("-l").arg(self.path()).status();
    }
}

/// A tokio runtime and an upstream on it that reads every request body
/// whole and answers `200 read N bytes`.
pub struct CountingUpstream {
    pub runtime: tokio::runtime::Runtime,
    pub upstream: Upstream,
}

impl CountingUpstream {
    pub fn start() -> CountingUpstream {
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        let upstream = runtime.block_on(Upstream::start(handler(|req| async move {
            let read = req.into_body().collect().await.map(|b| b.to_bytes().len()).unwrap_or(0);
            http::Response::new(full(format!("read {read} bytes")))
        })));
        CountingUpstream { runtime, upstream }
    }

    pub fn url(&self) -> String {
        self.upstream.url().to_string().trim_end_matches('/').to_string()
    }

    /// POSTs `size` bytes to `base/upload/n` and returns the status and body.
    pub fn upload(&self, base: &str, n: usize, size: usize) -> (u16, String) {
        self.runtime.block_on(async {
            let client = venomqa_testkit::http::client();
            let body = incompressible(n, size);
            let sent = client
                .post(format!("{base}/upload/{n}"))
                .header("x-session", "uploader")
                .body(body)
                .send()
                .await
                .expect("the proxy answers");
            let status = sent.status().as_u16();
            (status, sent.text().await.unwrap_or_default())
        })
    }
}

/// `venomqa record` in front of `upstream` into `store`, its stderr (the
/// log) written to `log`, with the file-size limit `fsize` when given
/// (and `SIGXFSZ` ignored, so that a write past it fails with `EFBIG`
/// instead of killing the process), and `umask` when given.
pub fn start_recorder(
    upstream: &str,
    store: &Path,
    log: &Path,
    fsize: Option<u64>,
    umask: Option<u32>,
) -> (Running, String) {
    let mut command = venomqa();
    command
        .args(["record", "--upstream", upstream, "--listen", "127.0.0.1:0", "--store"])
        .arg(store)
        .stderr(File::create(log).expect("create the log file"));
    // SAFETY: only async-signal-safe calls (setrlimit, signal, umask)
    // between fork and exec.
    unsafe {
        command.pre_exec(move || {
            if let Some(limit) = fsize {
                let limit = libc::rlimit { rlim_cur: limit, rlim_max: limit };
                if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            }
            if let Some(mask) = umask {
                libc::umask(mask as libc::mode_t);
            }
            Ok(())
        });
    }
    let mut recorder = Running::spawn(command);
    let url = recorder.wait_for_url("listening on");
    (recorder, url)
}

/// The log so far.
pub fn read_log(log: &Path) -> String {
    std::fs::read_to_string(log).unwrap_or_default()
}

/// How many lines of the log contain `needle`.
pub fn lines_with(log: &Path, needle: &str) -> usize {
    read_log(log).lines().filter(|line| line.contains(needle)).count()
}

/// Uploads `size` bytes at a time through `proxy` (numbering from `from`)
/// until the log has a line with `needle`, at most `most` uploads; asserts
/// each was answered by the upstream. Returns how many were sent.
pub fn upload_until(
    upstream: &CountingUpstream,
    proxy: &str,
    log: &Path,
    needle: &str,
    (from, most, size): (usize, usize, usize),
) -> usize {
    for n in 0..most {
        let (status, body) = upstream.upload(proxy, from + n, size);
        assert_eq!(
            (status, body.as_str()),
            (200, format!("read {size} bytes").as_str()),
            "upload {} is answered by the upstream, whatever the store's disk",
            from + n
        );
        if wait_for_log(log, needle, Duration::from_millis(20)) {
            return n + 1;
        }
    }
    panic!("no log line with {needle:?} after {most} uploads; the log:\n{}", read_log(log));
}

/// Whether a line with `needle` is in the log within `wait`.
pub fn wait_for_log(log: &Path, needle: &str, wait: Duration) -> bool {
    let until = Instant::now() + wait;
    loop {
        if lines_with(log, needle) > 0 {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `size` letters that LZ4 cannot shrink (the store compresses its blocks,
/// and a test that fills a disk must fill it): a xorshift stream seeded
/// by `n`, so each upload differs.
fn incompressible(n: usize, size: usize) -> Vec<u8> {
    let mut state = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..size)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            b'a' + (state % 26) as u8
        })
        .collect()
}
