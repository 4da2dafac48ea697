//! Airnode relay mode: API3 Airnode callers as they really are.
//!
//! No Airnode release signs its requests. What it can do is present a static secret (an OIS
//! `apiKey` scheme in a header, or an `http` bearer scheme) and relay, per request, the facts of
//! the on-chain request it serves through its `relay*` schemes ([`relay`]). This module owns an
//! `[[airnode]]` block's checked form ([`AirnodeConfig`]) and turns a request's headers into the
//! block and the relayed facts ([`Airnodes::identify`]):
//! - a request is in this mode when it carries any relay header of a block, that block's key
//!   header, or (for a block whose key is a bearer token) a bearer token that is its key;
//! - then it needs the block's key, compared as a SHA-256 digest in constant time (the secret is
//!   never kept, logged or compared byte by byte), from one of the block's `allowed_hosts`;
//! - relay headers with a `DAuth` header, or with a bearer credential that is not the block's
//!   key, are ambiguous (400): a backend must never get two stories of who is calling;
//! - the relay headers are read strictly, the chain id must be one of the block's `chains`, and
//!   the allow-lists of sponsors and requesters apply.
//!
//! The optional on-chain check ([`onchain`]) and the user the facts name are the pipeline's
//! steps; the retry binding is the store's ([`crate::store::retry`]).

pub mod onchain;
pub mod relay;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use alloy_primitives::Address;
use aws_lc_rs::digest;
use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderName};

use crate::auth::{Authorization, DAUTH_HEADER, authorization};
use crate::chain::{ChainRpc, ChainSetupError};
use crate::error::{AirnodeError, Error, RelayField};
use crate::net::CidrList;
use onchain::ChainCheck;
use relay::{Relay, RelayHeaders};

/// Calls to one chain's node waiting or running at once, per block; the rest are refused (503).
const MAX_CHAIN_CALLS_IN_FLIGHT: usize = 64;

/// One `[[airnode]]` block, checked.
#[derive(Debug, Clone)]
pub struct AirnodeConfig {
    /// The block's name: logs, and the `consumer_key` `airnode:<name>`.
    pub name: String,
    /// SHA-256 of the Airnode's key.
    pub key_sha256: [u8; 32],
    /// The header carrying the key (`authorization`: an OIS `http` bearer scheme).
    pub key_header: HeaderName,
    /// Where the Airnode calls from (empty: nobody).
    pub allowed_hosts: CidrList,
    /// The Airnode's own address, for the on-chain check.
    pub airnode_address: Option<Address>,
    /// Chain id -> network name (canonical, upper case), as DAuth users are keyed.
    pub chains: BTreeMap<u64, String>,
    /// The relay header names.
    pub headers: RelayHeaders,
    /// Allowed sponsors (empty: any).
    pub sponsors: Vec<Address>,
    /// Allowed requester contracts (empty: any).
    pub requesters: Vec<Address>,
    /// How long a request id's binding is remembered.
    pub retry_window_secs: u64,
    /// Largest first response kept for a retry.
    pub max_replay_bytes: usize,
    /// Most bindings remembered at once (fail closed beyond: 503).
    pub retry_capacity: usize,
    /// Most bytes of responses kept for replay at once.
    pub replay_memory_bytes: usize,
    /// Chain id -> (node URL, AirnodeRrpV0 address) for the on-chain check.
    pub rpc: BTreeMap<u64, (String, Address)>,
    /// Deadline of each call to a node.
    pub rpc_timeout_secs: u64,
}

impl AirnodeConfig {
    /// The `consumer_key` of this block's callers.
    pub fn consumer_key(&self) -> String {
        format!("airnode:{}", self.name)
    }

    fn key_is_bearer(&self) -> bool {
        self.key_header == AUTHORIZATION
    }

    /// Whether `secret` is this block's key: digests compared in constant time.
    fn is_key(&self, secret: &str) -> bool {
        let got = digest::digest(&digest::SHA256, secret.as_bytes());
        aws_lc_rs::constant_time::verify_slices_are_equal(got.as_ref(), &self.key_sha256).is_ok()
    }

    /// Whether the request carries this block's key, exactly once.
    fn has_key(&self, headers: &HeaderMap, bearer: Option<&str>) -> bool {
        if self.key_is_bearer() {
            return bearer.is_some_and(|t| self.is_key(t));
        }
        let mut values = headers.get_all(&self.key_header).iter();
        match (values.next(), values.next()) {
            (Some(v), None) => v.to_str().is_ok_and(|s| self.is_key(s.trim())),
            _ => false,
        }
    }

    /// Whether the request is addressed to this block at all (see the module docs).
    fn is_involved(&self, headers: &HeaderMap, bearer: Option<&str>) -> bool {
        self.headers.any_in(headers)
            || if self.key_is_bearer() {
                bearer.is_some_and(|t| self.is_key(t))
            } else {
                headers.contains_key(&self.key_header)
            }
    }
}

/// A block, with its on-chain checks built.
#[derive(Debug)]
pub struct Airnode {
    /// The block.
    pub config: AirnodeConfig,
    checks: BTreeMap<u64, ChainCheck>,
}

/// A request the mode accepted: its block, the relayed facts and the user's network.
#[derive(Debug)]
pub struct Identified<'a> {
    /// The block whose key the request carried.
    pub airnode: &'a Airnode,
    /// The relayed facts.
    pub relay: Relay,
    /// `chains[chain id]`.
    pub network: &'a str,
}

impl Airnode {
    /// Runs the chain's on-chain check, when the block configures one for it.
    pub async fn check_chain(&self, relay: &Relay) -> Result<(), Error> {
        match (
            self.checks.get(&relay.chain_id),
            self.config.airnode_address,
        ) {
            (Some(check), Some(airnode)) => check.check(airnode, relay).await,
            _ => Ok(()),
        }
    }

    fn allow_lists(&self, relay: &Relay) -> Result<(), Error> {
        let c = &self.config;
        if !c.sponsors.is_empty() {
            let sponsor = relay
                .sponsor
                .ok_or(Error::Airnode(AirnodeError::HeaderMissing(
                    RelayField::Sponsor,
                )))?;
            if !c.sponsors.contains(&sponsor) {
                return Err(Error::Airnode(AirnodeError::NotAllowed(
                    RelayField::Sponsor,
                )));
            }
        }
        if !c.requesters.is_empty() && !c.requesters.contains(&relay.requester) {
            return Err(Error::Airnode(AirnodeError::NotAllowed(
                RelayField::Requester,
            )));
        }
        if self.checks.contains_key(&relay.chain_id) {
            // The on-chain check compares them: they must be relayed.
            relay
                .sponsor
                .ok_or(Error::Airnode(AirnodeError::HeaderMissing(
                    RelayField::Sponsor,
                )))?;
            relay
                .sponsor_wallet
                .ok_or(Error::Airnode(AirnodeError::HeaderMissing(
                    RelayField::SponsorWallet,
                )))?;
        }
        Ok(())
    }
}

/// Every `[[airnode]]` block of a policy.
#[derive(Debug, Default)]
pub struct Airnodes {
    blocks: Vec<Airnode>,
    strip: Vec<HeaderName>,
}

impl Airnodes {
    /// The blocks of a configuration, each chain's client built with `tls` for `https` nodes.
    pub fn new(
        configs: &[AirnodeConfig],
        tls: &rustls::ClientConfig,
    ) -> Result<Self, ChainSetupError> {
        let mut strip = Vec::new();
        let mut blocks = Vec::new();
        for config in configs {
            let mut checks = BTreeMap::new();
            for (chain, (url, rrp)) in &config.rpc {
                let timeout = Duration::from_secs(config.rpc_timeout_secs);
                let rpc = ChainRpc::new(url, tls.clone(), timeout, MAX_CHAIN_CALLS_IN_FLIGHT)?;
                checks.insert(*chain, ChainCheck { rpc, rrp: *rrp });
            }
            strip.extend(config.headers.all().cloned());
            if !config.key_is_bearer() {
                strip.push(config.key_header.clone());
            }
            blocks.push(Airnode {
                config: config.clone(),
                checks,
            });
        }
        strip.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        strip.dedup();
        Ok(Self { blocks, strip })
    }

    /// The block whose callers have `consumer_key` (`airnode:<name>`).
    pub fn by_consumer_key(&self, consumer_key: &str) -> Option<&AirnodeConfig> {
        let name = consumer_key.strip_prefix("airnode:")?;
        self.blocks
            .iter()
            .map(|b| &b.config)
            .find(|c| c.name == name)
    }

    /// True when no block is configured.
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// The relay and key headers of every block: removed from every forwarded request, so a
    /// backend never sees relayed facts or a key the gateway did not check (a bearer key is
    /// removed as every bearer credential is, by [`crate::proxy::headers`]).
    pub fn header_names(&self) -> &[HeaderName] {
        &self.strip
    }

    /// The block and relayed facts of a request from `ip`, `None` when the request is not in
    /// Airnode mode (see the module docs).
    pub fn identify(
        &self,
        headers: &HeaderMap,
        ip: IpAddr,
    ) -> Result<Option<Identified<'_>>, Error> {
        if self.blocks.is_empty() {
            return Ok(None);
        }
        let bearer = match authorization(headers)? {
            Authorization::Bearer(token) => Some(token),
            Authorization::Absent | Authorization::Other => None,
        };
        // The blocks whose key or relay headers the request carries (no allocation: most
        // requests carry none, and this runs on every request once a block is configured).
        let involved = || {
            self.blocks
                .iter()
                .filter(|b| b.config.is_involved(headers, bearer))
        };
        if involved().next().is_none() {
            return Ok(None);
        }
        let has_dauth = headers.contains_key(DAUTH_HEADER);
        let keyed = involved().find(|b| b.config.has_key(headers, bearer));
        let Some(airnode) = keyed else {
            let bearer_is_key = involved().any(|b| b.config.key_is_bearer());
            return Err(if has_dauth || (bearer.is_some() && !bearer_is_key) {
                Error::Airnode(AirnodeError::Ambiguous)
            } else {
                Error::Airnode(AirnodeError::KeyInvalid)
            });
        };
        if has_dauth || (bearer.is_some() && !airnode.config.key_is_bearer()) {
            return Err(Error::Airnode(AirnodeError::Ambiguous));
        }
        if !airnode.config.allowed_hosts.contains(ip) {
            return Err(Error::Airnode(AirnodeError::HostNotAllowed));
        }
        let relay = Relay::read(headers, &airnode.config.headers)?;
        let network = airnode
            .config
            .chains
            .get(&relay.chain_id)
            .ok_or(Error::Airnode(AirnodeError::ChainNotAllowed))?;
        airnode.allow_lists(&relay)?;
        Ok(Some(Identified {
            airnode,
            relay,
            network,
        }))
    }
}
