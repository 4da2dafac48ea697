//! The real `dauth-proxy` binary as a child process: started on a config file, ready when it
//! logs its listening address, stopped with SIGTERM or killed with SIGKILL.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

/// Path of the binary under test.
pub fn exe() -> &'static str {
    env!("CARGO_BIN_EXE_dauth-proxy")
}

/// Runs the binary with `args` to completion; returns (exit code, stdout, stderr).
pub fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(exe())
        .args(args)
        .env("DAUTH_ADMIN_LISTEN", admin_listen())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A running gateway process.
pub struct Binary {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// What it printed before it was listening (start-up warnings, for instance).
    pub startup: Vec<String>,
    lines: Receiver<String>,
}

impl Binary {
    /// Starts `dauth-proxy serve --config PATH` and waits until it logs `listening`, which it
    /// does once it can be stopped with SIGTERM or SIGINT (its handlers are installed first).
    pub fn spawn(config: &Path) -> Self {
        Self::spawn_under(&[], config)
    }

    /// Writes the default test configuration (`super::config_text`, store in `dir/store`) to
    /// `dir/dauth.toml` and spawns the binary on it; returns it with the config's path.
    pub fn spawn_default_in(dir: &Path) -> (Self, PathBuf) {
        let config = dir.join("dauth.toml");
        std::fs::write(&config, super::config_text(&dir.join("store"), "", "")).unwrap();
        (Self::spawn(&config), config)
    }

    /// Like [`Binary::spawn`], run under `wrapper` (`["nice", "-n", "19"]`, say).
    pub fn spawn_under(wrapper: &[&str], config: &Path) -> Self {
        Self::launch(wrapper, Some("info"), config)
    }

    /// Like [`Binary::spawn`], with `RUST_LOG` set to `rust_log` or, for `None`, unset (so
    /// that `log.level` decides).
    pub fn spawn_with_log(rust_log: Option<&str>, config: &Path) -> Self {
        Self::launch(&[], rust_log, config)
    }

    /// Like [`Binary::spawn`], in the working directory `cwd`.
    pub fn spawn_in(cwd: &Path, config: &Path) -> Self {
        Self::launch_in(Some(cwd), &[], Some("info"), config)
    }

    fn launch(wrapper: &[&str], rust_log: Option<&str>, config: &Path) -> Self {
        Self::launch_in(None, wrapper, rust_log, config)
    }

    fn launch_in(
        cwd: Option<&Path>,
        wrapper: &[&str],
        rust_log: Option<&str>,
        config: &Path,
    ) -> Self {
        let mut command = match wrapper.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(exe());
                c
            }
            None => Command::new(exe()),
        };
        if let Some(cwd) = cwd {
            command.current_dir(cwd);
        }
        let mut child = command
            .args(["serve", "--config"])
            .arg(config)
            .env_remove("RUST_LOG")
            // Many gateways run at once: each admin listener on a port of its own.
            .env("DAUTH_ADMIN_LISTEN", admin_listen())
            .envs(rust_log.map(|l| ("RUST_LOG", l)))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = channel();
        for pipe in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut seen = Vec::new();
        let addr = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(addr) = line
                        .contains("listening")
                        .then(|| parse_addr(&line))
                        .flatten()
                    {
                        break addr;
                    }
                    seen.push(line);
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                    let _ = child.kill();
                    panic!("gateway did not start; output:\n{}", seen.join("\n"));
                }
            }
        };
        Self {
            child,
            addr,
            startup: seen,
            lines,
        }
    }

    /// SIGKILL: no chance to flush or drain.
    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, then waits for the exit status.
    pub fn terminate(mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        self.child.wait().unwrap()
    }

    /// Process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits up to `timeout` for an output line containing every one of `needles`, and returns
    /// it; lines read on the way are dropped.
    pub fn wait_for_line(&self, needles: &[&str], timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let line = self.lines.recv_timeout(left).ok()?;
            if needles.iter().all(|n| line.contains(n)) {
                return Some(line);
            }
        }
    }

    /// Output lines logged so far (non-blocking).
    pub fn drain_output(&self) -> Vec<String> {
        self.lines.try_iter().collect()
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The admin address test binaries get: `DAUTH_TEST_ADMIN_LISTEN` if a test set it (`""`
/// for none), else a free loopback port.
fn admin_listen() -> String {
    std::env::var("DAUTH_TEST_ADMIN_LISTEN").unwrap_or_else(|_| "127.0.0.1:0".into())
}

fn parse_addr(line: &str) -> Option<SocketAddr> {
    let rest = &line[line.find("addr=")? + 5..];
    rest.split_whitespace()
        .next()?
        .trim_matches('"')
        .parse()
        .ok()
}
