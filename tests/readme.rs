//! The README's walkthroughs, run as written: every `sh` block marked `<!-- readme-run -->`, in
//! order, in one bash session, against the real binary on `config/dev.toml` with the echo
//! backend, in a temporary copy of the repository's `config/` and `keys/` (so the paths in the
//! configuration resolve as they would in a fresh clone). README.md, "Walkthroughs", says what a
//! marker may ask for.
//!
//! What is substituted, and only that: free ports for 8080 (the gateway) and 9000 (the echo),
//! in the configuration and the blocks alike; `cargo run [-q] [--release] -- ARGS` and
//! `dauth-proxy ARGS` mean the binary under test; `curl` also writes each answer's status to
//! stderr, for the status check.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

#[path = "../examples/echo.rs"]
#[allow(dead_code)]
mod echo;

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::install::{apt_install, free_port, signal, which};

/// The repository root.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One marked block.
#[derive(Debug)]
struct Block {
    /// The line number of its opening fence in README.md.
    line: usize,
    /// The shell text.
    code: String,
    /// The HTTP statuses its curl calls must answer, in order; `None`: every one 2xx.
    statuses: Option<Vec<u16>>,
    /// Run with the gateway stopped (admin commands).
    stopped: bool,
    /// Output the README shows for it: `# <json>` lines in it, then a `json` block after it.
    expected: Vec<String>,
}

/// The options of a `<!-- readme-run ... -->` marker line (`status=...`, `stopped`), or `None`
/// for any other line.
fn marker(line: &str, number: usize) -> Option<(Option<Vec<u16>>, bool)> {
    let options = line
        .trim()
        .strip_prefix("<!-- readme-run")?
        .strip_suffix("-->")?;
    let (mut statuses, mut stopped) = (None, false);
    for option in options.split_whitespace() {
        if option == "stopped" {
            stopped = true;
        } else if let Some(list) = option.strip_prefix("status=") {
            statuses = Some(list.split(',').map(|s| s.parse().unwrap()).collect());
        } else {
            panic!("README.md:{number}: unknown marker option {option:?}");
        }
    }
    Some((statuses, stopped))
}

/// The text of the fenced block that opens at `lines[open]`, and the index of its closing fence.
fn fenced(lines: &[&str], open: usize) -> (String, usize) {
    let close = open + 1 + lines[open + 1..].iter().position(|l| *l == "```").unwrap();
    (lines[open + 1..close].join("\n"), close)
}

/// The marked blocks of `readme`, in order. A marker not followed by an `sh` block, an option
/// this runner does not know, or an `sh` block marked neither to run nor to skip fails the test.
fn blocks(readme: &str) -> Vec<Block> {
    let lines: Vec<&str> = readme.lines().collect();
    // Every shell block is a walkthrough or says why not, so none is left out unnoticed.
    for (i, line) in lines.iter().enumerate().filter(|(_, l)| **l == "```sh") {
        let before = lines.get(i.wrapping_sub(1)).copied().unwrap_or_default();
        assert!(
            before.starts_with("<!-- readme-run") || before.starts_with("<!-- readme-skip: "),
            "README.md:{}: {line} block without <!-- readme-run --> or <!-- readme-skip: why -->",
            i + 1
        );
    }
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some((statuses, stopped)) = marker(line, i + 1) else {
            continue;
        };
        assert_eq!(
            lines.get(i + 1).copied(),
            Some("```sh"),
            "README.md:{}: a marker needs an sh block right after it",
            i + 1
        );
        let (code, close) = fenced(&lines, i + 1);
        let mut expected: Vec<String> = code
            .lines()
            .filter_map(|l| l.strip_prefix("# "))
            .filter(|l| serde_json::from_str::<Value>(l).is_ok())
            .map(str::to_owned)
            .collect();
        let next = (close + 1..lines.len()).find(|&n| !lines[n].trim().is_empty());
        if let Some(next) = next.filter(|&n| lines[n] == "```json") {
            expected.push(fenced(&lines, next).0);
        }
        found.push(Block {
            line: i + 2,
            code: code + "\n",
            statuses,
            stopped,
            expected,
        });
    }
    found
}

/// Copies the directory `from` into `to`, recursively.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Replaces the README's addresses with the ones of this run.
fn ports(text: &str, gateway: SocketAddr, echo: SocketAddr) -> String {
    text.replace("127.0.0.1:8080", &gateway.to_string())
        .replace("127.0.0.1:9000", &echo.to_string())
}

/// The gateway as the README starts it: `serve --config config/dev.toml`, from the copy's
/// root, its output appended to `data/gateway.log` (what `tee` writes in the README).
struct Gateway {
    child: Option<Child>,
    dir: PathBuf,
}

impl Gateway {
    /// Starts it and waits until it accepts connections; fails with its log if it exits first.
    fn start(dir: &Path, addr: SocketAddr) -> Self {
        Self::try_start(dir, addr).unwrap_or_else(|log| panic!("the gateway did not start:\n{log}"))
    }

    /// As [`Gateway::start`], or the log if it exited before accepting connections (say, the
    /// free port was taken meanwhile).
    fn try_start(dir: &Path, addr: SocketAddr) -> Result<Self, String> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("data/gateway.log"))
            .unwrap();
        let child = Command::new(support::binary::exe())
            .args(["serve", "--config", "config/dev.toml"])
            .current_dir(dir)
            .env_remove("RUST_LOG")
            .env("DAUTH_ADMIN_LISTEN", "127.0.0.1:0")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut gateway = Self {
            child: Some(child),
            dir: dir.to_owned(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            let exited = gateway.child.as_mut().unwrap().try_wait().unwrap();
            if exited.is_some() {
                gateway.child = None;
                return Err(gateway.log());
            }
            assert!(
                Instant::now() < deadline,
                "the gateway is not listening after 30 s:\n{}",
                gateway.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(gateway)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("data/gateway.log")).unwrap_or_default()
    }

    /// SIGTERM, as Ctrl-C in the README's shell would; it must drain and exit 0.
    fn stop(&mut self) {
        let mut child = self.child.take().unwrap();
        assert!(signal(child.id(), "TERM"));
        let status = child.wait().unwrap();
        assert!(status.success(), "{status}:\n{}", self.log());
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Defined before every block: the README's commands mean the binary under test.
const PRELUDE: &str = r#"
cargo() { # `cargo run [-q] [--release] -- ARGS`, as the README writes it
  [ "${1:-}" = run ] || { echo "readme runner: only 'cargo run ... -- ARGS' runs here: cargo $*" >&2; return 2; }
  shift
  while [ "${1:-}" != -- ]; do
    case "${1:-}" in
      -q|--release) shift ;;
      *) echo "readme runner: 'cargo run ${1:-}' is not supported" >&2; return 2 ;;
    esac
  done
  shift
  "$README_BIN" "$@"
}
dauth-proxy() { "$README_BIN" "$@"; }
curl() { command curl -w '%{stderr}readme-status %{http_code}\n' "$@"; }
"#;

/// Runs `block` in bash with what earlier blocks left in `env` (their variables and functions),
/// and saves what it leaves there; returns (exit status, stdout, stderr).
fn run_block(dir: &Path, block: &str) -> (bool, String, String) {
    let script = r#"
source .readme/prelude.sh
__readme_base=" $(compgen -v | tr '\n' ' ') "
if [ -f .readme/env.sh ]; then source .readme/env.sh; fi
source .readme/block.sh
{
  for __readme_v in $(compgen -v); do
    case "$__readme_base" in *" $__readme_v "*) continue ;; esac
    case "$__readme_v" in __readme*) continue ;; esac
    declare -p "$__readme_v"
  done
  declare -f
} > .readme/env.new
mv .readme/env.new .readme/env.sh
"#;
    std::fs::write(dir.join(".readme/block.sh"), block).unwrap();
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-euo", "pipefail", "-c", script])
        .current_dir(dir)
        .env("README_BIN", support::binary::exe())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The JSON values in `out`, in order: each that starts a line or follows another.
fn json_values(out: &str) -> Vec<Value> {
    let mut values = Vec::new();
    let mut i = 0;
    let mut at_start = true;
    while i < out.len() {
        let c = out.as_bytes()[i];
        if c == b'{' || c == b'[' || (at_start && c.is_ascii_digit()) {
            let mut stream = serde_json::Deserializer::from_str(&out[i..]).into_iter::<Value>();
            if let Some(Ok(v)) = stream.next() {
                values.push(v);
                i += stream.byte_offset();
                at_start = true;
                continue;
            }
        }
        at_start = c == b'\n' || (at_start && c.is_ascii_whitespace());
        i += 1;
    }
    values
}

/// Values that differ from run to run: the client's port, curl's version and the new trace
/// the gateway starts for each request.
const VARYING: [&str; 3] = ["peer", "user-agent", "traceparent"];

/// Whether `got` is what the README shows: the same keys and values, but for ids (any UUID
/// stands for another) and the [`VARYING`] keys.
fn same(shown: &Value, got: &Value, key: &str) -> bool {
    match (shown, got) {
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| same(v, w, k)))
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(v, w)| same(v, w, key))
        }
        (Value::String(a), Value::String(b)) => {
            a == b
                || VARYING.contains(&key)
                || (uuid::Uuid::parse_str(a).is_ok() && uuid::Uuid::parse_str(b).is_ok())
        }
        _ => shown == got,
    }
}

/// Checks one block's run: exit 0, the statuses, the output shown.
fn check(block: &Block, ok: bool, out: &str, err: &str, gateway: &Gateway, shown: &[Value]) {
    let context = || {
        format!(
            "README.md:{}:\n{}\n--- stdout\n{out}\n--- stderr\n{err}\n--- gateway log (tail)\n{}",
            block.line,
            block.code,
            support::install::tail(&gateway.log(), 20)
        )
    };
    assert!(ok, "the block failed: {}", context());
    let statuses: Vec<u16> = err
        .lines()
        .filter_map(|l| l.strip_prefix("readme-status "))
        .map(|s| s.trim().parse().unwrap())
        .collect();
    match &block.statuses {
        Some(want) => assert_eq!(&statuses, want, "statuses: {}", context()),
        None => assert!(
            statuses.iter().all(|s| (200..300).contains(s)),
            "an answer was not 2xx ({statuses:?}): {}",
            context()
        ),
    }
    let got = json_values(out);
    let mut rest = got.iter();
    for want in shown {
        assert!(
            rest.any(|g| same(want, g, "")),
            "the README shows {want}, which did not come out (in order) of {got:?}: {}",
            context()
        );
    }
}

/// Copies the repository's `config/` and `keys/` into `dir`, with the runner's own files;
/// returns `config/dev.toml`'s text, the README's ports still in it.
fn repository_copy(dir: &Path) -> String {
    for sub in ["config", "keys"] {
        copy_dir(&root().join(sub), &dir.join(sub));
    }
    let text = std::fs::read_to_string(dir.join("config/dev.toml")).unwrap();
    assert!(text.contains("127.0.0.1:8080") && text.contains("127.0.0.1:9000"));
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::create_dir_all(dir.join(".readme")).unwrap();
    std::fs::write(dir.join(".readme/prelude.sh"), PRELUDE).unwrap();
    text
}

/// Writes `config/dev.toml` with a port that was free a moment ago and starts the gateway on
/// it; another port if that one was taken meanwhile.
fn start_on_a_free_port(dir: &Path, config: &str, echo: SocketAddr) -> (Gateway, SocketAddr) {
    (0..5)
        .find_map(|_| {
            let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
            std::fs::write(dir.join("config/dev.toml"), ports(config, addr, echo)).unwrap();
            Gateway::try_start(dir, addr).ok().map(|g| (g, addr))
        })
        .unwrap_or_else(|| {
            panic!(
                "the gateway did not start on 5 free ports:\n{}",
                std::fs::read_to_string(dir.join("data/gateway.log")).unwrap_or_default()
            )
        })
}

#[test]
fn every_readme_walkthrough_runs_as_written() {
    if which("curl").is_none() || which("jq").is_none() {
        apt_install(&["curl", "jq"], || {
            which("curl").is_some() && which("jq").is_some()
        });
    }
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let blocks = blocks(&readme);
    assert!(blocks.len() >= 10, "only {} marked blocks", blocks.len());
    assert!(blocks.iter().any(|b| b.stopped));

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let echo_addr = listener.local_addr().unwrap();
    runtime.spawn(echo::accept_loop(listener));
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let config = repository_copy(dir);
    let (mut gateway, gateway_addr) = start_on_a_free_port(dir, &config, echo_addr);
    for block in &blocks {
        if block.stopped {
            gateway.stop();
        }
        let (ok, out, err) = run_block(dir, &ports(&block.code, gateway_addr, echo_addr));
        if block.stopped {
            gateway = Gateway::start(dir, gateway_addr);
        }
        let shown: Vec<Value> = block
            .expected
            .iter()
            .map(|e| serde_json::from_str(&ports(e, gateway_addr, echo_addr)).unwrap())
            .collect();
        check(block, ok, &out, &err, &gateway, &shown);
    }
    gateway.stop();
}
