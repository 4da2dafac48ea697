//! Pre-signs DAuth tokens for load tests, one per line, using every core.
//!
//! Each token has its own `request_id` (`<run-uuid>-<index>`, so no two tokens of any run share
//! one) and names one of `--contracts` contract addresses (EIP-55 form, round-robin), or, with
//! `--random-contracts`, a contract of its own drawn at random (every token a new user: no two
//! files share a contract either, so files signed at different times can be concatenated). Signing
//! goes through [`dauth_proxy::auth::mint::mint_dauth`], the same code as `dauth-proxy token`.
//! RS256 signing costs about 1 ms per token per core, so this is done before a measurement,
//! never during one. The time taken is printed on stderr.
//!
//! ```sh
//! cargo build --release --example sign_tokens
//! target/release/examples/sign_tokens --count 50000 --out tokens.txt
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use alloy_primitives::Address;
use clap::Parser;
use dauth_proxy::auth::keys::load_signing_key;
use dauth_proxy::auth::mint::{DauthTokenSpec, mint_dauth};
use time::OffsetDateTime;

/// Command-line arguments.
#[derive(Parser)]
#[command(about = "Pre-sign DAuth tokens for load tests, one per line")]
struct Args {
    /// How many tokens to sign.
    #[arg(long)]
    count: usize,
    /// Output file; `-` for stdout.
    #[arg(long, default_value = "-")]
    out: PathBuf,
    /// RSA private key (PEM) to sign with.
    #[arg(long, default_value = "keys/dev/dauth_private.pem")]
    private_key: PathBuf,
    /// Number of distinct contracts, used round-robin.
    #[arg(long, default_value_t = 1)]
    contracts: usize,
    /// Give every token its own random contract instead (`--contracts` is then ignored).
    #[arg(long)]
    random_contracts: bool,
    /// `network_name` claim.
    #[arg(long, default_value = "ETHEREUM")]
    network: String,
    /// `consumer_key` claim.
    #[arg(long, default_value = "bench-consumer")]
    consumer_key: String,
    /// Lifetime in seconds (`exp` = now + ttl).
    #[arg(long, default_value_t = 3600)]
    ttl: u64,
    /// Signing threads (default: every core).
    #[arg(long)]
    threads: Option<usize>,
}

/// The `i`-th benchmark contract: the README's example address first, then derived ones.
fn contract(i: usize) -> String {
    let mut bytes: [u8; 20] =
        Address::parse_checksummed("0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045", None)
            .expect("valid address")
            .0
            .0;
    for (j, b) in (i as u64).to_be_bytes().iter().enumerate() {
        bytes[12 + j] ^= b;
    }
    Address::from(bytes).to_checksum(None)
}

/// A random contract address, EIP-55 form (122 random bits of each of two v4 UUIDs).
fn random_contract() -> String {
    let mut bytes = [0u8; 20];
    let (a, b) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    bytes[..16].copy_from_slice(a.as_bytes());
    bytes[16..].copy_from_slice(&b.as_bytes()[..4]);
    Address::from(bytes).to_checksum(None)
}

fn main() {
    let args = Args::parse();
    let key = load_signing_key(&args.private_key).expect("signing key");
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from))
        .max(1);
    let contracts: Vec<String> = (0..args.contracts.max(1)).map(contract).collect();
    let run = uuid::Uuid::new_v4();
    let now = OffsetDateTime::now_utc();
    let started = Instant::now();
    let chunk = args.count.div_ceil(threads).max(1);
    let signed: Vec<Vec<String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (key, contracts, args) = (&key, &contracts, &args);
                s.spawn(move || {
                    let range = (t * chunk).min(args.count)..((t + 1) * chunk).min(args.count);
                    range
                        .map(|i| {
                            let contract = if args.random_contracts {
                                random_contract()
                            } else {
                                contracts[i % contracts.len()].clone()
                            };
                            let mut spec =
                                DauthTokenSpec::new(&contract, &args.network, &args.consumer_key);
                            spec.request_id = Some(format!("{run}-{i}"));
                            spec.ttl_secs = args.ttl;
                            mint_dauth(key, &spec, now).expect("signing")
                        })
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("signing thread"))
            .collect()
    });
    let elapsed = started.elapsed().as_secs_f64();
    let out: Box<dyn Write> = if args.out.as_os_str() == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(std::fs::File::create(&args.out).expect("output file"))
    };
    let mut out = BufWriter::new(out);
    for token in signed.iter().flatten() {
        writeln!(out, "{token}").expect("write");
    }
    out.flush().expect("flush");
    eprintln!(
        "signed {} tokens in {elapsed:.2} s on {threads} threads ({:.0} tokens/s)",
        args.count,
        args.count as f64 / elapsed.max(1e-9)
    );
}
