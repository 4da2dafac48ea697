//! The password user service (seeds 001 and 002): register, confirm, login and its lockout,
//! refresh, password reset, profile and attributes, and the third-party sync.

pub(crate) mod codes;
pub(crate) mod common;
pub(crate) mod login;
pub(crate) mod paths;
pub(crate) mod profile;
pub(crate) mod register;
pub mod reset;
pub(crate) mod sync;
