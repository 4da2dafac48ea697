//! `dauth-proxy admin ...`: operator commands that act on the store directly.
//!
//! sled lets one process open a store, so on sled these run while the gateway is stopped; a
//! store in use is reported as such
//! ([`StoreError::InUse`](crate::store::error::StoreError::InUse)) instead of a lock error. On
//! PostgreSQL they run beside the gateways, and a client added or removed reaches every replica
//! (`NOTIFY`). `migrate` applies the PostgreSQL schema alone; `copy-store` copies every record
//! of a sled store into a PostgreSQL database.

use clap::Subcommand;

use super::failure::{Failure, runtime};
use crate::Config;
use crate::auth::clients::{is_scope_token, is_valid_client_id};
use crate::config::PostgresConfig;
use crate::store::Stores;
use crate::store::error::{AccessError, ClientStoreError};
use crate::store::model::StoredClient;
use crate::store::model::is_valid_id;
use crate::store::postgres::{PgStore, migrate};
use crate::store::sled::SledStore;

/// `admin` subcommands.
#[derive(Subcommand)]
pub(super) enum AdminCommand {
    /// Accounts guarded by the OBP endpoints.
    Account {
        #[command(subcommand)]
        command: AccountCommand,
    },
    /// Service clients that get tokens with a private_key_jwt.
    Client {
        #[command(subcommand)]
        command: ClientCommand,
    },
    /// Apply the PostgreSQL schema migrations (the gateway also applies them at start-up).
    Migrate,
    /// Copy every record of a sled store into a PostgreSQL database (migrated first). Run
    /// with the gateway stopped; records already in the database are kept.
    CopyStore {
        /// The sled store directory.
        #[arg(long)]
        from: std::path::PathBuf,
        /// The PostgreSQL URL (libpq form; the password may come from PGPASSWORD).
        #[arg(long)]
        to: String,
    },
}

/// `admin client` subcommands.
#[derive(Subcommand)]
pub(super) enum ClientCommand {
    /// Register a client: its id, name, scopes and public keys (PEM files) or a JWKS file.
    Add {
        #[arg(long)]
        client_id: String,
        #[arg(long)]
        name: String,
        /// A scope it may ask for (repeat for several), e.g. user:create.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// A PEM public key file (repeat for several).
        #[arg(long = "public-key")]
        public_keys: Vec<std::path::PathBuf>,
        /// A JWKS file instead of PEM keys.
        #[arg(long)]
        jwks_file: Option<std::path::PathBuf>,
    },
    /// List stored clients (configured `[[clients]]` are in the configuration file).
    List,
    /// Remove a stored client.
    Remove {
        #[arg(long)]
        client_id: String,
    },
}

/// `admin account` subcommands.
#[derive(Subcommand)]
pub(super) enum AccountCommand {
    /// Create an account held by USER_ID, who gets the owner view.
    Create {
        #[arg(long)]
        bank: String,
        #[arg(long)]
        account: String,
        /// The holder's user id (as `/users/current` shows it).
        #[arg(long)]
        holder: String,
        #[arg(long, default_value = "")]
        label: String,
    },
}

pub(super) fn run(config: &Config, command: AdminCommand) -> Result<(), Failure> {
    match command {
        AdminCommand::Client { command } => client(config, command),
        AdminCommand::Migrate => run_migrate(config),
        AdminCommand::CopyStore { from, to } => copy_store(config, &from, &to),
        AdminCommand::Account {
            command:
                AccountCommand::Create {
                    bank,
                    account,
                    holder,
                    label,
                },
        } => {
            if !is_valid_id(&bank) || !is_valid_id(&account) {
                return Err(Failure::Usage(
                    "--bank and --account are 1 to 128 of A-Z a-z 0-9 . _ -".into(),
                ));
            }
            let rt = runtime().map_err(Failure::Runtime)?;
            let store = open(config, &rt)?;
            let created = rt
                .block_on(store.access.create_account(
                    &bank,
                    &account,
                    &label,
                    &holder,
                    crate::clock::now(),
                ))
                .map_err(|e| match e {
                    AccessError::AccountExists => {
                        Failure::Usage(format!("account {bank}/{account} already exists"))
                    }
                    AccessError::UserMissing => Failure::Usage(format!("no user has id {holder}")),
                    other => Failure::Runtime(other.to_string()),
                })?;
            println!(
                "{}",
                serde_json::json!({"bank_id": created.bank_id, "account_id": created.account_id, "holder": created.created_by, "view_id": "owner"})
            );
            Ok(())
        }
    }
}

fn client(config: &Config, command: ClientCommand) -> Result<(), Failure> {
    let rt = runtime().map_err(Failure::Runtime)?;
    let store = open(config, &rt)?;
    match command {
        ClientCommand::Add {
            client_id,
            name,
            scopes,
            public_keys,
            jwks_file,
        } => {
            if !is_valid_client_id(&client_id) {
                return Err(Failure::Usage(
                    "--client-id is 1 to 128 of A-Z a-z 0-9 . _ - :".into(),
                ));
            }
            if config.clients.iter().any(|c| c.client_id == client_id) {
                return Err(Failure::Usage(format!(
                    "client {client_id} is configured in {}",
                    config.source.display()
                )));
            }
            if let Some(bad) = scopes.iter().find(|s| !is_scope_token(s)) {
                return Err(Failure::Usage(format!(
                    "--scope {bad}: not an RFC 6749 scope token"
                )));
            }
            let read = |p: &std::path::Path| {
                crate::fs::read_small_file(p)
                    .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", p.display())))
            };
            // Checked from the files first, so that a refusal names the file given.
            let usage = |e: crate::auth::keys::KeyError| Failure::Usage(e.to_string());
            for p in &public_keys {
                crate::auth::keys::load_verify_key(p, None).map_err(usage)?;
            }
            if let Some(p) = &jwks_file {
                crate::auth::keys::load_jwks(p).map_err(usage)?;
            }
            let stored = StoredClient {
                client_id: client_id.clone(),
                name,
                scopes,
                public_keys_pem: public_keys
                    .iter()
                    .map(|p| read(p))
                    .collect::<Result<_, _>>()?,
                jwks: jwks_file.as_deref().map(read).transpose()?,
                created_at: crate::clock::now(),
            };
            if stored.public_keys_pem.is_empty() == stored.jwks.is_none() {
                return Err(Failure::Usage(
                    "give --public-key (one or more) or --jwks-file".into(),
                ));
            }
            crate::auth::clients::ClientDef::from_stored(&stored)
                .map_err(|e| Failure::Usage(e.to_string()))?;
            rt.block_on(store.clients.add_client(stored))
                .map_err(|e| match e {
                    ClientStoreError::Exists => {
                        Failure::Usage(format!("client {client_id} already exists"))
                    }
                    other => Failure::Runtime(other.to_string()),
                })?;
            println!(
                "{}",
                serde_json::json!({"client_id": client_id, "added": true})
            );
        }
        ClientCommand::List => {
            let clients = rt
                .block_on(store.clients.stored_clients())
                .map_err(|e| Failure::Runtime(e.to_string()))?;
            for c in clients {
                println!(
                    "{}",
                    serde_json::json!({"client_id": c.client_id, "name": c.name, "scopes": c.scopes, "created_at": c.created_at})
                );
            }
        }
        ClientCommand::Remove { client_id } => {
            let removed = rt
                .block_on(store.clients.remove_client(&client_id))
                .map_err(|e| Failure::Runtime(e.to_string()))?;
            if !removed {
                return Err(Failure::Usage(format!("no stored client {client_id}")));
            }
            println!(
                "{}",
                serde_json::json!({"client_id": client_id, "removed": true})
            );
        }
    }
    Ok(())
}

fn open(config: &Config, rt: &tokio::runtime::Runtime) -> Result<Stores, Failure> {
    if let Some(pg) = &config.store.postgres {
        let store = rt
            .block_on(PgStore::connect(pg))
            .map_err(|e| Failure::Runtime(format!("store {}: {e}", pg.display)))?;
        return Ok(store.stores(0));
    }
    let path = &config.store.path;
    let store = SledStore::open(path, config.store.cache_bytes)
        .map_err(|e| Failure::Runtime(format!("store {}: {e}", path.display())))?;
    Ok(store.stores(0))
}

fn run_migrate(config: &Config) -> Result<(), Failure> {
    let Some(pg) = &config.store.postgres else {
        return Err(Failure::Usage(
            "admin migrate is for [store] backend = \"postgres\"; sled needs no migration".into(),
        ));
    };
    let rt = runtime().map_err(Failure::Runtime)?;
    let applied = rt
        .block_on(async {
            let store = PgStore::new(pg)?;
            migrate::apply(store.pool()).await
        })
        .map_err(|e| Failure::Runtime(format!("store {}: {e}", pg.display)))?;
    println!(
        "{}",
        serde_json::json!({"store": pg.display, "applied": applied, "known": migrate::MIGRATIONS.len()})
    );
    Ok(())
}

fn copy_store(_config: &Config, from: &std::path::Path, to: &str) -> Result<(), Failure> {
    let pg = PostgresConfig::from_url(to).map_err(|e| Failure::Usage(format!("--to: {e}")))?;
    if !from.is_dir() {
        return Err(Failure::Usage(format!(
            "--from {}: no sled store there",
            from.display()
        )));
    }
    let sled = SledStore::open(from, 64 * 1024 * 1024)
        .map_err(|e| Failure::Runtime(format!("store {}: {e}", from.display())))?;
    let dump = sled
        .dump()
        .map_err(|e| Failure::Runtime(format!("store {}: {e}", from.display())))?;
    let rt = runtime().map_err(Failure::Runtime)?;
    rt.block_on(async {
        let store = PgStore::connect(&pg).await?;
        store.copy_dump(&dump).await
    })
    .map_err(|e| Failure::Runtime(format!("store {}: {e}", pg.display)))?;
    println!(
        "{}",
        serde_json::json!({"from": from.display().to_string(), "to": pg.display, "copied": dump.counts()})
    );
    Ok(())
}
