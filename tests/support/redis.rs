//! A real, throwaway Redis: `redis-server` as a child process on a free 127.0.0.1 port, its
//! files in a temporary directory, no RDB snapshots, an append-only file fsynced every second
//! (so a graceful [`Redis::restart`] keeps the data; [`Redis::kill`] may lose the last second,
//! as a crash would). When `redis-server` is missing it is installed (Debian `redis-server`).
//!
//! ```ignore
//! let mut redis = Redis::start();              // or Redis::shared() for one per test binary
//! let url = redis.url();                       // redis://127.0.0.1:<port>/0
//! assert_eq!(redis.cmd(&["SET", "k", "v", "NX", "EX", "60"]), "+OK");
//! redis.kill();                                // outage...
//! redis.restart();                             // ...and back on the same port
//! ```

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::install::{self, Watchdog, shell_quote};

/// A running (or deliberately stopped) throwaway Redis, killed and removed on drop.
pub struct Redis {
    bin: PathBuf,
    port: u16,
    extra: Vec<String>,
    child: Option<Child>,
    _watchdog: Option<Watchdog>,
    dir: tempfile::TempDir,
}

impl Redis {
    /// Starts a new server with the default settings.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts a new server with extra command-line settings, e.g.
    /// `&["--requirepass", "secret"]` or `&["--appendfsync", "always"]`. They persist across
    /// [`Redis::restart`].
    pub fn start_with(extra: &[&str]) -> Self {
        let bin = server_bin().to_owned();
        let dir = tempfile::Builder::new()
            .prefix("dauth-redis-")
            .tempdir()
            .unwrap();
        let mut redis = Self {
            bin,
            port: 0,
            extra: extra.iter().map(|s| (*s).to_owned()).collect(),
            child: None,
            _watchdog: None,
            dir,
        };
        let mut last = String::new();
        for _ in 0..5 {
            redis.port = install::free_port();
            match redis.try_start() {
                Ok(()) => return redis,
                Err(log) => last = log,
            }
        }
        panic!("redis-server did not start:\n{last}");
    }

    /// One server per test binary, started on first use; tests keep apart by key prefix or
    /// database number. It is stopped and removed when the test process exits. Do not stop or
    /// restart it: outage tests start their own.
    pub fn shared() -> &'static Self {
        static SHARED: OnceLock<Redis> = OnceLock::new();
        SHARED.get_or_init(Self::start)
    }

    /// The server's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:<port>/0`.
    pub fn url(&self) -> String {
        self.url_db(0)
    }

    /// `redis://127.0.0.1:<port>/<db>`.
    pub fn url_db(&self, db: u32) -> String {
        format!("redis://127.0.0.1:{}/{db}", self.port)
    }

    /// The server's directory (append-only files, `redis.log`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Whether the server process is running (not stopped or killed by this handle).
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Sends one command on a fresh connection and returns the first line of the reply (RESP:
    /// `+OK`, `:1`, `$-1`, `-ERR ...`; for a bulk string `$<len>`, the following line is
    /// appended after a space). For assertions and set-up; the tests use the `redis` crate.
    pub fn cmd(&self, args: &[&str]) -> String {
        try_cmd(self.port, args).unwrap_or_else(|e| panic!("redis {args:?}: {e}"))
    }

    /// Stops the server as a crash would (SIGKILL): writes of the last second may be lost.
    pub fn kill(&mut self) {
        if self.end(false) {
            self.watch(None);
        }
    }

    /// Stops the server cleanly (SIGTERM: the append-only file is flushed).
    pub fn stop_graceful(&mut self) {
        if self.end(true) {
            self.watch(None);
        }
    }

    /// Stops the server process if it runs; whether it did.
    fn end(&mut self, graceful: bool) -> bool {
        let Some(mut child) = self.child.take() else {
            return false;
        };
        if !(graceful && install::signal(child.id(), "TERM")) {
            let _ = child.kill();
        }
        let _ = child.wait();
        true
    }

    /// Starts the server again on the same port and directory (stopping it gracefully first if
    /// it runs). Returns once it answers PING.
    pub fn restart(&mut self) {
        self.stop_graceful();
        if let Err(log) = self.try_start() {
            panic!("redis-server did not restart on port {}:\n{log}", self.port);
        }
    }

    /// Stops the server gracefully and removes its directory.
    pub fn stop(mut self) {
        self.stop_graceful();
    }

    fn try_start(&mut self) -> Result<(), String> {
        let log = self.dir.path().join("redis.log");
        let child = Command::new(&self.bin)
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .arg("--dir")
            .arg(self.dir.path())
            .arg("--logfile")
            .arg(&log)
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
            ])
            .args(["--daemonize", "no", "--protected-mode", "yes"])
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.bin.display()))?;
        self.watch(Some(child.id()));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            // Up, even if a password is required (NOAUTH).
            match try_cmd(self.port, &["PING"]) {
                Ok(reply) if reply == "+PONG" || reply.starts_with("-NOAUTH") => return Ok(()),
                _ => {}
            }
            let exited = self
                .child
                .as_mut()
                .is_none_or(|c| c.try_wait().ok().flatten().is_some());
            if exited || Instant::now() > deadline {
                self.end(false);
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(install::tail(&text, 20));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Redis {
    /// Replaces the watchdog: on an abnormal exit of the tests it kills `pid` (the server, while
    /// it runs) and removes the directory.
    fn watch(&mut self, pid: Option<u32>) {
        self._watchdog = None;
        let dir = shell_quote(&self.dir.path().display().to_string());
        let kill = pid
            .map(|p| format!("kill -9 {p} 2>/dev/null; "))
            .unwrap_or_default();
        self._watchdog = Some(Watchdog::start(&format!("{kill}rm -rf {dir}")));
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.end(false);
    }
}

/// One RESP command on a new connection to 127.0.0.1:`port`.
fn try_cmd(port: u16, args: &[&str]) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut req = format!("*{}\r\n", args.len());
    for a in args {
        req.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    stream.write_all(req.as_bytes())?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut reply = line.trim_end().to_owned();
    if reply.starts_with('$') && reply != "$-1" {
        let mut value = String::new();
        reader.read_line(&mut value)?;
        reply = format!("{reply} {}", value.trim_end());
    }
    Ok(reply)
}

/// The `redis-server` binary, installing the Debian package when there is none.
pub fn server_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = install::which("redis-server") {
            return bin;
        }
        install::apt_install(&["redis-server"], || {
            install::which("redis-server").is_some()
        });
        install::which("redis-server")
            .unwrap_or_else(|| panic!("redis-server installed but not found"))
    })
}
