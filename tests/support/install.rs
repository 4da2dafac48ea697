//! What the service helpers need from the machine, installed when it is missing: Debian
//! packages through `apt-get` (with `sudo -n` when not root) and the pinned npm tools in
//! `tests/js` through `npm ci`. One installer runs at a time across concurrently running test
//! binaries and worktrees: each holds an exclusive lock on a file in the temporary directory.
//!
//! Also the small process plumbing the helpers share: free loopback ports, and a watchdog that
//! cleans up a service when the test process exits without dropping it (statics, SIGKILL).

use std::fs::File;
use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// Whether the test process runs as root.
pub fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// Holds the machine-wide install lock until dropped.
pub struct InstallLock(File);

/// Takes the machine-wide install lock, waiting for another installer to finish.
pub fn lock() -> InstallLock {
    let path = std::env::temp_dir().join("dauth-proxy-test-install.lock");
    // flock needs no write access: another user's lock file is opened read-only.
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .or_else(|_| File::open(&path))
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    file.lock()
        .unwrap_or_else(|e| panic!("cannot lock {}: {e}", path.display()));
    InstallLock(file)
}

/// `name` on `PATH`, or in the system directories a non-login `PATH` may lack.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

/// Whether `path` is a file with an execute bit.
pub fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.mode() & 0o111 != 0)
}

/// Installs Debian `packages` (`apt-get install`, after `apt-get update` if that fails), under
/// the install lock. `present` is re-checked under the lock: if another process installed them
/// meanwhile, nothing is done. Panics with apt's output if the install fails.
pub fn apt_install(packages: &[&str], present: impl Fn() -> bool) {
    let _lock = lock();
    if present() {
        return;
    }
    eprintln!("test support: installing Debian packages {packages:?}");
    let install = || {
        apt(&[
            "install",
            "-y",
            "-q",
            "--no-install-recommends",
            "-o",
            "DPkg::Lock::Timeout=600",
        ])
        .args(packages)
        .output()
    };
    let first = install();
    if first.as_ref().is_ok_and(|o| o.status.success()) && present() {
        return;
    }
    // A fresh machine often has no package lists, or stale ones.
    let update = apt(&["update", "-q"]).output();
    let second = install();
    if second.as_ref().is_ok_and(|o| o.status.success()) && present() {
        return;
    }
    panic!(
        "could not install {packages:?} with apt-get\nfirst try: {}\napt-get update: {}\nsecond try: {}",
        describe(&first),
        describe(&update),
        describe(&second)
    );
}

fn apt(args: &[&str]) -> Command {
    let mut cmd = if is_root() {
        Command::new("apt-get")
    } else {
        let mut sudo = Command::new("sudo");
        sudo.args(["-n", "apt-get"]);
        sudo
    };
    cmd.args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(Stdio::null());
    cmd
}

/// A command's outcome as text for a panic message.
pub fn describe(out: &std::io::Result<Output>) -> String {
    match out {
        Ok(o) => format!(
            "{}\n--- stdout\n{}\n--- stderr\n{}",
            o.status,
            tail(&String::from_utf8_lossy(&o.stdout), 40),
            tail(&String::from_utf8_lossy(&o.stderr), 40)
        ),
        Err(e) => format!("could not run: {e}"),
    }
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// `tests/js`: the npm tools directory (package.json and its lockfile).
pub fn js_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("js")
}

/// Returns `tests/js/<relative>` after making sure it exists: when it does not, runs
/// `npm ci --omit=dev --ignore-scripts` in `tests/js` under the install lock (installing the
/// Debian `npm` package first if npm is missing). The runtime tools are `dependencies`; the
/// fixture generators (`devDependencies`) are not needed by the tests.
///
/// npm silently skips an optional dependency whose `engines` the running Node.js does not
/// meet (anvil's per-platform binary packages want Node.js 20; Debian 12's is 18). If the file
/// is still missing, the package holding it is installed explicitly at the version the
/// lockfile pins (`npm install --no-save`), where an engines mismatch is only a warning.
pub fn npm_tool(relative: &str) -> PathBuf {
    let dir = js_dir();
    let target = dir.join(relative);
    if target.exists() {
        return target;
    }
    if which("npm").is_none() {
        apt_install(&["npm"], || which("npm").is_some());
    }
    let _lock = lock();
    if target.exists() {
        return target;
    }
    eprintln!("test support: npm ci in {}", dir.display());
    let ci = npm(&dir, &["ci", "--omit=dev"]);
    let mut outcome = describe(&ci);
    if ci.as_ref().is_ok_and(|o| o.status.success())
        && !target.exists()
        && let Some(spec) = locked_spec(&dir, relative)
    {
        eprintln!("test support: npm skipped {spec}; installing it explicitly");
        let out = npm(&dir, &["install", "--no-save", "--omit=dev", &spec]);
        outcome = format!(
            "{outcome}\nnpm install --no-save {spec}: {}",
            describe(&out)
        );
    }
    assert!(
        target.exists(),
        "npm in {} did not provide {relative}: {outcome}",
        dir.display()
    );
    target
}

fn npm(dir: &Path, args: &[&str]) -> std::io::Result<Output> {
    Command::new(which("npm").unwrap_or_else(|| PathBuf::from("npm")))
        .args(args)
        .args(["--ignore-scripts", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
}

/// `name@version` of the package holding `relative` (`node_modules/[@scope/]name/...`), at the
/// version `package-lock.json` pins.
fn locked_spec(dir: &Path, relative: &str) -> Option<String> {
    let mut parts = relative.strip_prefix("node_modules/")?.split('/');
    let first = parts.next()?;
    let name = if first.starts_with('@') {
        format!("{first}/{}", parts.next()?)
    } else {
        first.to_owned()
    };
    let lock = std::fs::read_to_string(dir.join("package-lock.json")).ok()?;
    let lock: serde_json::Value = serde_json::from_str(&lock).ok()?;
    let version = lock["packages"][format!("node_modules/{name}")]["version"].as_str()?;
    Some(format!("{name}@{version}"))
}

/// A loopback TCP port that was free a moment ago. The caller binds it soon after and retries
/// with another port if someone else took it meanwhile.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Quotes `s` for a POSIX shell.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// A background shell that runs `cleanup` (shell text) once this test process has exited.
/// It lives in its own process group, so a Ctrl-C to the test run does not stop it first.
/// Dropping the [`Watchdog`] kills it: the owner cleans up itself.
pub struct Watchdog(Child);

impl Watchdog {
    /// Starts watching this process.
    pub fn start(cleanup: &str) -> Self {
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {cleanup}",
            pid = std::process::id()
        );
        let child = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap();
        Self(child)
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sends `signal` (e.g. `"TERM"`) to process `pid` with kill(1).
pub fn signal(pid: u32, signal: &str) -> bool {
    Command::new("kill")
        .args([format!("-{signal}"), pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs the Node.js tool `script` (from [`npm_tool`]) with `spec` as JSON on its standard input
/// and returns the JSON it prints; its standard error is shown if it fails.
pub fn run_node(script: &Path, spec: &serde_json::Value) -> serde_json::Value {
    use std::io::Write;
    let mut child = Command::new("node")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("node {}: {e}", script.display()));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(spec.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "node {}: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
