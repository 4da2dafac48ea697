//! The password user service (seeds 001 and 002): register, confirm and refresh
//! (`register`), login and its lockout (`login`), password reset ([`reset`]), profile and
//! attributes (`profile`), the third-party sync (`sync`), its paths (`paths`), one-time
//! codes (`codes`) and what the endpoints share (`common`).
//!
//! It owns the service's rules (who is an administrator, what a code proves, the lockout's use
//! of the store's counter). It does not own password hashing or the token issuer (both
//! [`crate::auth`], held by the shared state and the policy), mail and the reset queue
//! (`crate::mail`), or the records ([`crate::store::PasswordStore`]).

pub(crate) mod codes;
pub(crate) mod common;
pub(crate) mod login;
pub(crate) mod paths;
pub(crate) mod profile;
pub(crate) mod register;
pub mod reset;
pub(crate) mod sync;
