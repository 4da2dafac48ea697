//! The `dauth-proxy` command line: subcommands, dispatch, and exit codes (0 success, 64 bad
//! configuration or arguments, 1 runtime failure). Every error type's `Display` carries its
//! cause, so failures are printed as one line.

mod admin;
mod check;
mod failure;
mod otlp;
mod telemetry;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use crate::config::DEFAULT_PATH;
use crate::{App, Config, auth};
use failure::{Failure, runtime};

#[derive(Parser)]
#[command(
    name = "dauth-proxy",
    version,
    about = "Authentication gateway for smart contracts, people and services"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway until SIGINT or SIGTERM, then drain and exit 0.
    Serve {
        #[arg(long, env = "DAUTH_CONFIG", default_value = DEFAULT_PATH)]
        config: PathBuf,
        /// The admin listener's address, instead of the file's `admin.listen` ("" turns it off).
        #[arg(long, env = "DAUTH_ADMIN_LISTEN", value_name = "ADDR")]
        admin_listen: Option<String>,
    },
    /// Print a signed DAuth token (what an integrator or the README's curl example uses).
    Token(auth::mint::TokenArgs),
    /// Print a signed RFC 7523 client assertion (private_key_jwt) for POST /oidc/token.
    ClientAssertion(auth::mint::assertion::AssertionArgs),
    /// Write an RSA key pair as PEM: NAME_private.pem (PKCS#8) and NAME_public.pem (SPKI).
    Keygen {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value = "dauth")]
        name: String,
        #[arg(long, default_value_t = 2048)]
        bits: usize,
        /// Overwrite existing files.
        #[arg(long)]
        force: bool,
    },
    /// Check a configuration file, and that its listen address can be bound and its store
    /// directory written (both tried and released); exit 64 with a message naming the bad key.
    CheckConfig {
        #[arg(long, env = "DAUTH_CONFIG", default_value = DEFAULT_PATH)]
        config: PathBuf,
        /// Check the file only, not the listen address and store directory (for a file meant
        /// for another machine, such as a container's).
        #[arg(long)]
        file_only: bool,
    },
    /// Print a shell completion script for SHELL (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff; `dauth-proxy man | man -l -`).
    Man,
    /// Operator commands on the store (run them while the gateway is stopped).
    Admin {
        #[arg(long, env = "DAUTH_CONFIG", default_value = DEFAULT_PATH, global = true)]
        config: PathBuf,
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
}

/// Parses the command line, runs it, and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print to stdout and succeed; a bad argument is a usage error.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(64)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let outcome = match cli.command {
        Command::Serve {
            config,
            admin_listen,
        } => load(&config)
            .and_then(|c| admin_override(c, admin_listen.as_deref()))
            .and_then(|c| serve(c).map_err(Failure::Runtime)),
        Command::CheckConfig { config, file_only } => load(&config).and_then(|c| {
            if !file_only {
                check::resources(&c).map_err(|e| Failure::Usage(e.to_string()))?;
            }
            for (key, why) in c.warnings() {
                eprintln!("warning: {}: {key}: {why}", c.source.display());
            }
            println!("{}: ok", c.source.display());
            Ok(())
        }),
        Command::Token(args) => auth::mint::run_token(&args)
            .map(|t| println!("{t}"))
            .map_err(|e| Failure::Usage(e.to_string())),
        Command::ClientAssertion(args) => auth::mint::assertion::run_client_assertion(&args)
            .map(|t| println!("{t}"))
            .map_err(|e| Failure::Usage(e.to_string())),
        Command::Keygen {
            out,
            name,
            bits,
            force,
        } => auth::keys::write_pair(&out, &name, bits, force)
            .map(|(private, public)| {
                println!("wrote {} and {}", private.display(), public.display())
            })
            .map_err(|e| match e.kind() {
                // An existing file without --force, an unsupported --bits: the caller's to fix.
                std::io::ErrorKind::AlreadyExists | std::io::ErrorKind::InvalidInput => {
                    Failure::Usage(e.to_string())
                }
                _ => Failure::Runtime(e.to_string()),
            }),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "dauth-proxy",
                &mut std::io::stdout(),
            );
            Ok(())
        }
        Command::Man => clap_mangen::Man::new(Cli::command())
            .render(&mut std::io::stdout())
            .map_err(|e| Failure::Runtime(format!("cannot write the manual page: {e}"))),
        Command::Admin { config, command } => load(&config).and_then(|c| admin::run(&c, command)),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(64)
        }
        Err(Failure::Runtime(e)) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Loads the configuration; a configuration file that cannot be read says where it was looked
/// for and how to name another (a key file it names that cannot be read is the key's problem:
/// its message names the key and the path, without the hint).
fn load(path: &Path) -> Result<Config, Failure> {
    Config::load(path).map_err(|e| {
        let mut text = e.to_string();
        if e.key == "-" && matches!(e.problem, crate::config::Problem::Read(_)) {
            let looked = std::env::current_dir().map_or_else(|_| path.to_owned(), |d| d.join(path));
            text.push_str(&format!(
                " (looked for {}; name the configuration with --config PATH or the DAUTH_CONFIG \
                 environment variable)",
                looked.display()
            ));
        }
        Failure::Usage(text)
    })
}

/// `config` with `--admin-listen` (or `DAUTH_ADMIN_LISTEN`) in place of `admin.listen`.
fn admin_override(mut config: Config, admin: Option<&str>) -> Result<Config, Failure> {
    let Some(addr) = admin.map(str::trim) else {
        return Ok(config);
    };
    config.admin.listen = if addr.is_empty() {
        None
    } else {
        Some(addr.parse().map_err(|_| {
            Failure::Usage(format!(
                "--admin-listen {addr:?}: not a socket address such as 127.0.0.1:9901, or \"\""
            ))
        })?)
    };
    Ok(config)
}

fn serve(config: Config) -> Result<(), String> {
    runtime()?.block_on(async {
        let otlp = telemetry::init(&config.log, &config.tracing)?;
        // Before anything can announce readiness: the `listening` line means SIGTERM drains.
        let stop = shutdown_signal().map_err(|e| format!("cannot install signal handlers: {e}"))?;
        for (key, why) in config.warnings() {
            tracing::warn!(file = %config.source.display(), key, "{why}");
        }
        let app = App::bind(config)
            .await
            .map_err(|e| format!("cannot start: {e}"))?;
        let ran = app.run(stop).await;
        if let Some(provider) = otlp {
            // Blocking: the last batch goes out (on this runtime) before exit.
            let flushed = tokio::task::spawn_blocking(move || provider.shutdown()).await;
            if !matches!(flushed, Ok(Ok(()))) {
                tracing::warn!("the last OTLP spans were not exported");
            }
        }
        ran.map_err(|e| format!("final store flush failed: {e}"))?;
        tracing::info!("stopped");
        Ok(())
    })
}

/// SIGINT or SIGTERM. The handlers are installed by this call, not when the future is first
/// polled: a signal that arrives between the two (the server polls it only once it is in its
/// accept loop, after it has logged `listening`) would otherwise meet the default action and
/// kill the process without draining or flushing.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! { _ = interrupt.recv() => {}, _ = terminate.recv() => {} }
    })
}
