//! Credentials: verifying what a caller presents, and the keys and tokens behind it.
//!
//! This module owns token verification (DAuth tokens: [`dauth`]; bearer tokens: [`bearer`];
//! both through `jws` with keys parsed once: [`keys`]), the one reading of the
//! `Authorization` header ([`authorization()`]), Airnode relay mode ([`airnode`]), the in-memory replay window (`replay`), this
//! gateway's issuer ([`issuer`]) and minting ([`mint`]), password hashing (`passwords` on the
//! `hashpool`), the service-client registry ([`clients`]), address rules ([`address`]) and the
//! [`Principal`] that results ([`principal`]). It does not decide what an identity may do (the
//! products and the proxy do), nor read the store: the pipeline's authentication step joins
//! verified claims with stored users.

pub mod address;
pub mod airnode;
pub mod authorization;
pub mod bearer;
pub mod clients;
pub mod dauth;
pub mod eip191;
pub mod erc6492;
pub mod erc8128;
pub(crate) mod hashpool;
pub mod issuer;
pub(crate) mod jws;
pub mod keys;
pub mod mint;
pub(crate) mod passwords;
pub mod principal;
pub mod remote;
pub(crate) mod replay;
pub mod siwe;

pub use authorization::{Authorization, DAUTH_HEADER, authorization};
pub use bearer::{BearerClaims, BearerVerifier};
pub use dauth::{DauthClaims, DauthVerifier};
pub use principal::{AuthMethod, Principal, VerifiedDauth, external_user_id};
