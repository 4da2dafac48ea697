//! Why a configuration cannot be used: the file, the dotted key and the problem.

use std::path::PathBuf;

use crate::auth::keys::KeyError;

/// A configuration that cannot be used, with the file and key at fault.
#[derive(Debug, thiserror::Error)]
#[error("{}: {key}: {problem}", file.display())]
pub struct ConfigError {
    /// The configuration file.
    pub file: PathBuf,
    /// The key at fault, dotted (`dauth.allowed_hosts[1]`), or `-` for the whole file.
    pub key: String,
    /// What is wrong.
    #[source]
    pub problem: Problem,
}

/// What is wrong with a configuration key.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    /// The file cannot be read.
    #[error("cannot read the file: {0}")]
    Read(#[source] std::io::Error),
    /// TOML syntax, an unknown key, or a value of the wrong type.
    #[error("{0}")]
    Syntax(#[source] Box<toml::de::Error>),
    /// A key file was refused.
    #[error("{0}")]
    Key(#[source] KeyError),
    /// A CIDR entry does not parse.
    #[error("{0}")]
    Cidr(#[source] crate::net::CidrParseError),
    /// TLS material was refused.
    #[error("{0}")]
    Tls(#[source] crate::tls::TlsError),
    /// What a key names cannot be used on this machine (an address in use, a directory that
    /// cannot be written), as `check-config` finds by trying.
    #[error("{0}")]
    Unavailable(String),
    /// A value is out of range or contradicts another.
    #[error("{0}")]
    Invalid(&'static str),
}

/// A problem with the key it is about (dotted), before the file is known.
pub(super) type KeyProblem = (String, Problem);
