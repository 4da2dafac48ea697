//! A real, throwaway PostgreSQL cluster: `initdb` in a temporary directory, the server on a free
//! 127.0.0.1 port (no Unix socket), password (SCRAM) authentication for a superuser role
//! `dauth`, `fsync` and `synchronous_commit` on. When the server binaries are missing they are
//! installed (Debian `postgresql`). When the tests run as root, `initdb`, `pg_ctl` and the
//! server run as the `postgres` user (initdb refuses root).
//!
//! ```ignore
//! let pg = Postgres::start();                  // or Postgres::shared() for one per test binary
//! let url = pg.create_database("users");       // postgres://dauth:<pw>@127.0.0.1:<port>/users
//! assert_eq!(pg.sql("users", "SELECT 1"), "1");
//! pg.stop_immediate();                         // crash-like outage...
//! pg.restart();                                // ...and back, same port and data
//! ```

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::install::{self, Watchdog, shell_quote};

/// The role every cluster is created with (a superuser with a password).
pub const USER: &str = "dauth";

/// A running (or deliberately stopped) throwaway cluster. Dropping it stops the server
/// (`pg_ctl stop -m immediate`) and removes its directory.
pub struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    log: PathBuf,
    port: u16,
    password: String,
    run_as: Option<&'static str>,
    running: bool,
    _watchdog: Option<Watchdog>,
    dir: Option<tempfile::TempDir>,
}

impl Postgres {
    /// Starts a new cluster with the default settings.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts a new cluster with extra `postgresql.conf` settings, e.g.
    /// `&[("max_connections", "300")]`. They persist across [`Postgres::restart`].
    pub fn start_with(settings: &[(&str, &str)]) -> Self {
        let bin = bin_dir().to_owned();
        let run_as = install::is_root().then_some("postgres");
        // The server user must be able to reach the directory: as root, use /tmp itself
        // rather than a TMPDIR that may sit under /root.
        let base = if run_as.is_some() {
            PathBuf::from("/tmp")
        } else {
            std::env::temp_dir()
        };
        let dir = tempfile::Builder::new()
            .prefix("dauth-pg-")
            .tempdir_in(base)
            .unwrap();
        let password = format!("pw-{}", uuid::Uuid::new_v4().simple());
        let pwfile = dir.path().join("pwfile");
        std::fs::write(&pwfile, &password).unwrap();
        let mut pg = Self {
            data: dir.path().join("data"),
            log: dir.path().join("postgres.log"),
            bin,
            port: 0,
            password,
            run_as,
            running: false,
            _watchdog: None,
            dir: Some(dir),
        };
        if let Some(user) = run_as {
            pg.chown(user);
        }
        pg._watchdog = Some(Watchdog::start(&pg.cleanup_script()));
        pg.initdb(&pwfile);
        std::fs::remove_file(&pwfile).unwrap();
        pg.configure(settings);
        pg.start_on_free_port();
        pg
    }

    /// One cluster per test binary, started on first use. Tests share it through databases of
    /// their own ([`Postgres::create_database`]); it is stopped and removed when the test
    /// process exits. Do not stop or restart it: outage tests start their own.
    pub fn shared() -> &'static Self {
        static SHARED: OnceLock<Postgres> = OnceLock::new();
        SHARED.get_or_init(Self::start)
    }

    /// The server's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The password of [`USER`].
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The cluster's temporary directory (data directory `data/`, server log `postgres.log`).
    pub fn dir(&self) -> &Path {
        self.dir.as_ref().map_or(Path::new(""), |d| d.path())
    }

    /// Whether the server is running (not stopped by this handle).
    pub fn is_running(&self) -> bool {
        self.running
    }

    /// URL of database `postgres` (always present).
    pub fn url(&self) -> String {
        self.database_url("postgres")
    }

    /// URL of database `db`: `postgres://dauth:<password>@127.0.0.1:<port>/<db>`.
    pub fn database_url(&self, db: &str) -> String {
        format!(
            "postgres://{USER}:{}@127.0.0.1:{}/{db}",
            self.password, self.port
        )
    }

    /// The key/value (libpq conninfo) form of [`Postgres::database_url`].
    pub fn conninfo(&self, db: &str) -> String {
        format!(
            "host=127.0.0.1 port={} user={USER} password={} dbname={db}",
            self.port, self.password
        )
    }

    /// Creates database `db` and returns its URL.
    pub fn create_database(&self, db: &str) -> String {
        self.sql("postgres", &format!("CREATE DATABASE \"{db}\""));
        self.database_url(db)
    }

    /// Runs `sql` in database `db` with psql over TCP with the password; returns its unaligned,
    /// tuples-only output, trimmed. Panics if psql fails.
    pub fn sql(&self, db: &str, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d"])
            .arg(self.database_url(db))
            .args(["-c", sql])
            .env("PGCONNECT_TIMEOUT", "10")
            .stdin(Stdio::null())
            .output();
        match &out {
            Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_owned(),
            _ => panic!("psql {sql:?} failed: {}", install::describe(&out)),
        }
    }

    /// Stops the server as a crash would (`pg_ctl stop -m immediate`: no checkpoint, clients
    /// cut off; recovery replays the WAL on the next start). The data directory stays.
    pub fn stop_immediate(&mut self) {
        self.pg_ctl_stop("immediate");
    }

    /// Stops the server cleanly (`pg_ctl stop -m fast`: clients disconnected, checkpoint). The
    /// data directory stays.
    pub fn stop_fast(&mut self) {
        self.pg_ctl_stop("fast");
    }

    /// Starts the server again on the same port and data directory, stopping it first (fast)
    /// if it is running. Returns once it accepts password connections.
    pub fn restart(&mut self) {
        if self.running {
            self.stop_fast();
        }
        if let Err(log) = self.try_start() {
            panic!("PostgreSQL did not restart on port {}:\n{log}", self.port);
        }
    }

    /// Stops the server (fast) and removes its directory.
    pub fn stop(mut self) {
        if self.running {
            self.stop_fast();
        }
    }

    fn chown(&self, user: &str) {
        let status = Command::new("chown")
            .args(["-R", &format!("{user}:")])
            .arg(self.dir())
            .status();
        assert!(
            status.is_ok_and(|s| s.success()),
            "cannot chown {} to {user} (is there a {user} user?)",
            self.dir().display()
        );
    }

    /// A command for one of the server binaries, as the server user when running as root.
    fn tool(&self, name: &str) -> Command {
        let exe = self.bin.join(name);
        let mut cmd = match self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(exe);
                c
            }
            None => Command::new(exe),
        };
        cmd.current_dir(self.dir())
            .env("LC_ALL", "C")
            .stdin(Stdio::null());
        cmd
    }

    fn initdb(&self, pwfile: &Path) {
        let out = self
            .tool("initdb")
            .arg("-D")
            .arg(&self.data)
            .args([
                "-U",
                USER,
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
            ])
            .arg(format!("--pwfile={}", pwfile.display()))
            .arg("--no-sync")
            .output();
        assert!(
            out.as_ref().is_ok_and(|o| o.status.success()),
            "initdb failed: {}",
            install::describe(&out)
        );
    }

    /// Appends the test settings to `postgresql.conf` (later lines win).
    fn configure(&self, settings: &[(&str, &str)]) {
        let mut conf = String::from(
            "\n# dauth-proxy test support\nlisten_addresses = '127.0.0.1'\n\
             unix_socket_directories = ''\nfsync = on\nsynchronous_commit = on\n\
             full_page_writes = on\nmax_connections = 200\n",
        );
        for (key, value) in settings {
            conf.push_str(&format!("{key} = '{}'\n", value.replace('\'', "''")));
        }
        append(&self.data.join("postgresql.conf"), &conf);
    }

    /// Starts on a free port, retrying with another when the chosen one was taken meanwhile.
    fn start_on_free_port(&mut self) {
        let mut last = String::new();
        for _ in 0..5 {
            self.port = install::free_port();
            append(
                &self.data.join("postgresql.conf"),
                &format!("port = {}\n", self.port),
            );
            match self.try_start() {
                Ok(()) => return,
                Err(log) => last = log,
            }
        }
        panic!("PostgreSQL did not start:\n{last}");
    }

    /// `pg_ctl start -w`, then a password connection; on failure, the server log.
    fn try_start(&mut self) -> Result<(), String> {
        let out = self
            .tool("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(&self.log)
            .args(["-w", "-t", "60", "start"])
            .output();
        if !out.as_ref().is_ok_and(|o| o.status.success()) {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let _ = self
                .tool("pg_ctl")
                .arg("-D")
                .arg(&self.data)
                .args(["-m", "immediate", "stop"])
                .output();
            return Err(format!(
                "{}\n--- log\n{}",
                install::describe(&out),
                install::tail(&log, 30)
            ));
        }
        self.running = true;
        self.wait_ready();
        Ok(())
    }

    /// Polls `pg_isready` over TCP, then proves a password connection with psql.
    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = Command::new(self.bin.join("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-t", "5", "-d", "postgres", "-p"])
                .arg(self.port.to_string())
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "PostgreSQL on port {} never became ready",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(self.sql("postgres", "SELECT 1"), "1");
    }

    fn pg_ctl_stop(&mut self, mode: &str) {
        if !self.running {
            return;
        }
        let out = self
            .tool("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-w", "-t", "60", "-m", mode, "stop"])
            .output();
        assert!(
            out.as_ref().is_ok_and(|o| o.status.success()),
            "pg_ctl stop -m {mode} failed: {}",
            install::describe(&out)
        );
        self.running = false;
    }

    /// What the watchdog runs if this process exits without dropping the cluster.
    fn cleanup_script(&self) -> String {
        let pg_ctl = shell_quote(&self.bin.join("pg_ctl").display().to_string());
        let data = shell_quote(&self.data.display().to_string());
        let stop = match self.run_as {
            Some(user) => format!("runuser -u {user} -- {pg_ctl} -D {data} -m immediate stop"),
            None => format!("{pg_ctl} -D {data} -m immediate stop"),
        };
        format!(
            "{stop}; rm -rf {}",
            shell_quote(&self.dir().display().to_string())
        )
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if self.running {
            let _ = self
                .tool("pg_ctl")
                .arg("-D")
                .arg(&self.data)
                .args(["-w", "-t", "30", "-m", "immediate", "stop"])
                .output();
        }
    }
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// The directory holding `initdb`, `pg_ctl`, `postgres`, `pg_isready` and `psql`, installing
/// the Debian `postgresql` package when there is none.
pub fn bin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        if let Some(dir) = find_bin_dir() {
            return dir;
        }
        install::apt_install(&["postgresql"], || find_bin_dir().is_some());
        find_bin_dir().unwrap_or_else(|| panic!("PostgreSQL installed but its binaries not found"))
    })
}

fn find_bin_dir() -> Option<PathBuf> {
    let complete = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres", "pg_isready", "psql"]
            .iter()
            .all(|b| install::is_executable(&dir.join(b)))
    };
    // Debian: /usr/lib/postgresql/<major>/bin, newest major first.
    let mut debian: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .collect();
    debian.sort_by_key(|e| std::cmp::Reverse(e.0));
    let on_path = install::which("initdb")
        .and_then(|p| std::fs::canonicalize(p).ok())
        .and_then(|p| p.parent().map(Path::to_owned));
    debian
        .into_iter()
        .map(|(_, dir)| dir)
        .chain(on_path)
        .find(|dir| complete(dir))
}
