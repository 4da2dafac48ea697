//! `[issuer]`, `[accounts]`, `[internal]`, `[bearer]` and `[mail]`: the identity service's
//! configuration, checked (keys parsed) once.

use std::path::Path;

use super::error::{KeyProblem, Problem};
use super::file::{RawAccounts, RawBearer, RawBearerIssuer, RawClient, RawIssuer, RawKey, RawMail};
use super::values::verify_keys;
use crate::auth::bearer::{BearerConfig, ExternalIssuer};
use crate::auth::clients::{ClientDef, is_scope_token, is_valid_client_id};
use crate::auth::issuer::IssuerConfig;
use crate::auth::keys::{VerifyKey, load_jwks, load_signing_key_pair};
use crate::auth::remote::JwksUrlConfig;
use crate::mail::MailConfig;

/// Most `accounts.hash_slots`: each is a thread with a 19 MiB block.
const MAX_HASH_SLOTS: usize = 256;

/// `[accounts]`: password users.
#[derive(Debug, Clone)]
pub struct AccountsConfig {
    /// Register confirms at once; otherwise a confirmation code is mailed.
    pub auto_confirm: bool,
    /// Addresses (normalised as registered addresses are) whose users are administrators once
    /// their mailbox is proven.
    pub admin_emails: Vec<String>,
    /// Failed logins in a row before the account locks.
    pub max_failed_logins: u32,
    /// How long a lock lasts.
    pub lockout_secs: u64,
    /// Lifetime of confirmation and reset codes.
    pub code_ttl_secs: u64,
    /// Password-reset requests waiting for their lookup and mail; beyond it, 503.
    pub mail_queue: usize,
    /// Password hashes computed at once (threads, each with one argon2 memory block).
    pub hash_slots: usize,
    /// Password hashes waiting for a slot; beyond it, 503.
    pub hash_queue: usize,
    /// (`clientId`, `clientSecret`) pairs a seed-002 login must name, when any are set.
    pub login_clients: Vec<(String, String)>,
}

pub(super) fn issuer(raw: Option<RawIssuer>) -> Result<Option<IssuerConfig>, KeyProblem> {
    let Some(raw) = raw else { return Ok(None) };
    let invalid = |k: &str, why| (format!("issuer.{k}"), Problem::Invalid(why));
    let url: http::Uri = raw
        .url
        .parse()
        // Nothing to keep: the key is named, and the message says what it must be.
        .map_err(|_| invalid("url", "must be an http:// or https:// URL"))?;
    if !matches!(url.scheme_str(), Some("http" | "https")) || url.authority().is_none() {
        return Err(invalid("url", "must be an http:// or https:// URL"));
    }
    if raw.kid.trim().is_empty() {
        return Err(invalid("kid", "must not be empty"));
    }
    for (name, ttl) in [
        ("access_ttl_secs", raw.access_ttl_secs),
        ("refresh_ttl_secs", raw.refresh_ttl_secs),
    ] {
        if ttl == 0 {
            return Err(invalid(name, "token lifetimes must be at least 1 second"));
        }
    }
    let key = load_signing_key_pair(Path::new(&raw.private_key))
        .map_err(|e| ("issuer.private_key".into(), Problem::Key(e)))?;
    Ok(Some(IssuerConfig {
        url: raw.url.trim_end_matches('/').to_owned(),
        key,
        kid: raw.kid,
        audience: raw.audience,
        access_ttl_secs: raw.access_ttl_secs,
        refresh_ttl_secs: raw.refresh_ttl_secs,
    }))
}

pub(super) fn accounts(raw: RawAccounts) -> Result<AccountsConfig, KeyProblem> {
    let mut admin_emails = Vec::with_capacity(raw.admin_emails.len());
    for (i, e) in raw.admin_emails.iter().enumerate() {
        let email = crate::mail::address::normalize_email(e).ok_or_else(|| {
            (
                format!("accounts.admin_emails[{i}]"),
                Problem::Invalid("not an email address"),
            )
        })?;
        admin_emails.push(email);
    }
    if raw.max_failed_logins == 0 {
        return Err((
            "accounts.max_failed_logins".into(),
            Problem::Invalid("must be at least 1"),
        ));
    }
    if raw.code_ttl_secs == 0 {
        return Err((
            "accounts.code_ttl_secs".into(),
            Problem::Invalid("must be at least 1"),
        ));
    }
    for (key, value) in [
        ("accounts.mail_queue", raw.mail_queue),
        ("accounts.hash_slots", raw.hash_slots),
    ] {
        if value == 0 {
            return Err((key.into(), Problem::Invalid("must be at least 1")));
        }
    }
    if raw.hash_slots > MAX_HASH_SLOTS {
        return Err((
            "accounts.hash_slots".into(),
            Problem::Invalid("at most 256 (each slot is a thread with 19 MiB of memory)"),
        ));
    }
    Ok(AccountsConfig {
        auto_confirm: raw.auto_confirm,
        admin_emails,
        max_failed_logins: raw.max_failed_logins,
        lockout_secs: raw.lockout_secs,
        code_ttl_secs: raw.code_ttl_secs,
        mail_queue: raw.mail_queue,
        hash_slots: raw.hash_slots,
        hash_queue: raw.hash_queue,
        login_clients: raw
            .login_clients
            .into_iter()
            .map(|c| (c.client_id, c.client_secret))
            .collect(),
    })
}

/// The keys of a client at `prefix` (`clients[0].`): `public_keys` PEM files or a
/// `jwks_file`, exactly one of them.
fn keys_or_jwks(
    prefix: &str,
    public_keys: Vec<RawKey>,
    jwks_file: Option<&str>,
) -> Result<Vec<VerifyKey>, KeyProblem> {
    match (public_keys.is_empty(), jwks_file) {
        (false, None) => verify_keys(&format!("{prefix}public_keys"), public_keys),
        (true, Some(file)) => {
            load_jwks(Path::new(file)).map_err(|e| (format!("{prefix}jwks_file"), Problem::Key(e)))
        }
        _ => Err((
            format!("{prefix}public_keys"),
            Problem::Invalid("set exactly one of public_keys and jwks_file"),
        )),
    }
}

/// The keys of a bearer issuer at `prefix`: exactly one of `public_keys`, `jwks_file`,
/// `jwks_url` and `discovery_url`; (static keys, URL source).
fn issuer_keys(
    prefix: &str,
    r: RawBearerIssuer,
) -> Result<(Vec<VerifyKey>, Option<JwksUrlConfig>), KeyProblem> {
    let timing = r.timing();
    let remote = super::jwks::url_source(
        prefix,
        super::jwks::RawUrl {
            jwks_url: r.jwks_url.as_deref(),
            discovery_url: r.discovery_url.as_deref(),
            jwks_ca: r.jwks_ca.as_deref(),
            timing,
        },
        &r.issuer,
    )?;
    match remote {
        None => Ok((
            keys_or_jwks(prefix, r.public_keys, r.jwks_file.as_deref())?,
            None,
        )),
        Some(_) if !r.public_keys.is_empty() || r.jwks_file.is_some() => Err((
            format!("{prefix}public_keys"),
            Problem::Invalid(
                "set exactly one of public_keys, jwks_file, jwks_url and discovery_url",
            ),
        )),
        Some(remote) => Ok((Vec::new(), Some(remote))),
    }
}

/// An issuer URL as (scheme, host, port, path), case-insensitive where URLs are (RFC 3986
/// section 6.2.2.1) and with the default port and trailing `/` made explicit, so that two
/// spellings of one issuer compare equal. `None` for anything but an http(s) URL: an external
/// issuer named `local` or `ETHEREUM` would pass for a password user's or a contract's provider
/// in `X-DAuth-Provider`.
fn issuer_identity(url: &str) -> Option<(String, String, u16, String)> {
    let uri: http::Uri = url.trim().parse().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let default = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    let authority = uri.authority()?;
    if authority.as_str().contains('@') || uri.query().is_some() {
        return None;
    }
    let host = authority.host().to_ascii_lowercase();
    let port = authority.port_u16().unwrap_or(default);
    let path = uri.path().trim_end_matches('/').to_owned();
    Some((scheme, host, port, path))
}

pub(super) fn bearer(
    raw: RawBearer,
    own: Option<&IssuerConfig>,
) -> Result<BearerConfig, KeyProblem> {
    let mut issuers = Vec::with_capacity(raw.issuers.len());
    for (i, r) in raw.issuers.into_iter().enumerate() {
        let key = |k: &str| format!("bearer.issuers[{i}].{k}");
        for (field, value) in [("issuer", &r.issuer), ("audience", &r.audience)] {
            if value.trim().is_empty() {
                return Err((key(field), Problem::Invalid("must not be empty")));
            }
        }
        let Some(this) = issuer_identity(&r.issuer) else {
            return Err((
                key("issuer"),
                Problem::Invalid(
                    "must be an http:// or https:// URL (OpenID Connect Core 1.0 section 2)",
                ),
            ));
        };
        if own
            .and_then(|o| issuer_identity(&o.url))
            .is_some_and(|o| o == this)
        {
            return Err((
                key("issuer"),
                Problem::Invalid(
                    "this is the gateway's own issuer.url; no external issuer speaks for its users",
                ),
            ));
        }
        if issuers
            .iter()
            .any(|e: &ExternalIssuer| issuer_identity(&e.issuer).is_some_and(|e| e == this))
        {
            return Err((
                key("issuer"),
                Problem::Invalid("another [[bearer.issuers]] entry has this issuer"),
            ));
        }
        let (issuer, audience) = (r.issuer.clone(), r.audience.clone());
        let (keys, jwks_url) = issuer_keys(&key(""), r)?;
        issuers.push(ExternalIssuer {
            issuer,
            audience,
            keys,
            jwks_url,
        });
    }
    Ok(BearerConfig {
        leeway_secs: raw.leeway_secs,
        issuers,
    })
}

pub(super) fn mail(raw: Option<RawMail>) -> Result<Option<MailConfig>, KeyProblem> {
    let Some(raw) = raw else { return Ok(None) };
    if raw.from.parse::<lettre::message::Mailbox>().is_err() {
        return Err((
            "mail.from".into(),
            Problem::Invalid("not a mailbox such as \"Gateway <noreply@example.com>\""),
        ));
    }
    let credentials = match (raw.username, raw.password) {
        (Some(u), Some(p)) => Some((u, p)),
        (None, None) => None,
        (Some(_), None) => {
            return Err((
                "mail.password".into(),
                Problem::Invalid("username and password go together"),
            ));
        }
        (None, Some(_)) => {
            return Err((
                "mail.username".into(),
                Problem::Invalid("username and password go together"),
            ));
        }
    };
    Ok(Some(MailConfig {
        smtp_host: raw.smtp_host,
        smtp_port: raw.smtp_port,
        from: raw.from,
        credentials,
        starttls: raw.starttls,
    }))
}

pub(super) fn clients(raw: Vec<RawClient>) -> Result<Vec<ClientDef>, KeyProblem> {
    let mut out: Vec<ClientDef> = Vec::with_capacity(raw.len());
    for (i, c) in raw.into_iter().enumerate() {
        let key = |k: &str| format!("clients[{i}].{k}");
        if !is_valid_client_id(&c.client_id) {
            return Err((
                key("client_id"),
                Problem::Invalid("1 to 128 of A-Z a-z 0-9 . _ - :"),
            ));
        }
        if out.iter().any(|o| o.client_id == c.client_id) {
            return Err((
                key("client_id"),
                Problem::Invalid("another client has this id"),
            ));
        }
        if let Some(j) = c.scopes.iter().position(|s| !is_scope_token(s)) {
            return Err((
                key(&format!("scopes[{j}]")),
                Problem::Invalid("not an RFC 6749 scope token"),
            ));
        }
        let keys = keys_or_jwks(&key(""), c.public_keys, c.jwks_file.as_deref())?;
        out.push(ClientDef {
            client_id: c.client_id,
            name: c.name,
            scopes: c.scopes,
            keys,
        });
    }
    Ok(out)
}
