//! Service clients (seed 000): registered services that authenticate with a `private_key_jwt`
//! client assertion (RFC 7523) and get client-credentials tokens with scopes.
//!
//! Clients come from `[[clients]]` in the configuration and from the store
//! (`dauth-proxy admin client add`); both are parsed once, at start-up, into a
//! [`ClientRegistry`]. A client listed in both is taken from the configuration.

use std::collections::HashMap;
use std::path::Path;

use crate::auth::keys::{KeyError, VerifyKey, jwks_from_json, verify_key_from_pem};
use crate::store::model::StoredClient;

/// The scopes the users API knows.
pub const USER_SCOPES: [&str; 3] = ["user:create", "user:read", "user:delete"];

/// A registered client, keys parsed.
#[derive(Debug, Clone)]
pub struct ClientDef {
    /// `client_id`: the assertion's `iss` and `sub`.
    pub client_id: String,
    /// Display name (`clientName` in the users API).
    pub name: String,
    /// Scopes it may ask for.
    pub scopes: Vec<String>,
    /// Keys its assertions are signed with.
    pub keys: Vec<VerifyKey>,
}

impl ClientDef {
    /// A stored registration with its key material parsed.
    pub fn from_stored(stored: &StoredClient) -> Result<Self, KeyError> {
        let origin = format!("stored client {}", stored.client_id);
        let origin = Path::new(&origin);
        let keys = match &stored.jwks {
            Some(jwks) => jwks_from_json(jwks, origin)?,
            None => stored
                .public_keys_pem
                .iter()
                .map(|pem| verify_key_from_pem(pem, origin, None))
                .collect::<Result<_, _>>()?,
        };
        Ok(ClientDef {
            client_id: stored.client_id.clone(),
            name: stored.name.clone(),
            scopes: stored.scopes.clone(),
            keys,
        })
    }
}

/// Whether `id` is a usable client id: 1 to 128 of `A-Z a-z 0-9 . _ - :`.
pub fn is_valid_client_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-:".contains(&b))
}

/// Whether `s` is an RFC 6749 scope token (printable ASCII without space, `"` or `\`).
pub fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
}

/// Every client the gateway knows, by id.
#[derive(Debug, Default)]
pub struct ClientRegistry {
    clients: HashMap<String, ClientDef>,
}

impl ClientRegistry {
    /// The registry of configured clients plus stored ones (configuration wins on a clash).
    pub fn new(configured: &[ClientDef], stored: Vec<ClientDef>) -> Self {
        let mut clients: HashMap<String, ClientDef> = stored
            .into_iter()
            .map(|c| (c.client_id.clone(), c))
            .collect();
        for c in configured {
            if clients.insert(c.client_id.clone(), c.clone()).is_some() {
                tracing::warn!(client_id = %c.client_id, "client is both configured and stored; using the configured one");
            }
        }
        Self { clients }
    }

    /// The client `id`.
    pub fn get(&self, id: &str) -> Option<&ClientDef> {
        self.clients.get(id)
    }
}
