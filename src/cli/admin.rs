//! `dauth-proxy admin ...`: operator commands that act on the store directly.
//!
//! sled lets one process open a store, so these run while the gateway is stopped; a store in use
//! is reported as such instead of a lock error.

use clap::Subcommand;

use super::{Failure, runtime};
use crate::Config;
use crate::store::{AccessError, Store};
use crate::views::is_valid_id;

/// `admin` subcommands.
#[derive(Subcommand)]
pub(super) enum AdminCommand {
    /// Accounts guarded by the OBP endpoints.
    Account {
        #[command(subcommand)]
        command: AccountCommand,
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
            let store = open(config)?;
            let created = runtime()
                .map_err(Failure::Runtime)?
                .block_on(store.create_account(&bank, &account, &label, &holder))
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

fn open(config: &Config) -> Result<Store, Failure> {
    let path = &config.store.path;
    Store::open(path, config.store.cache_bytes).map_err(|e| {
        let text = e.to_string();
        if text.contains("lock")
            || text.contains("WouldBlock")
            || text.contains("Resource temporarily unavailable")
        {
            Failure::Runtime(format!(
                "store {} is in use (is the gateway running? stop it first): {text}",
                path.display()
            ))
        } else {
            Failure::Runtime(format!("store {}: {text}", path.display()))
        }
    })
}
