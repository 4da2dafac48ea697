//! The password user service (seeds 001 and 002): register, confirm, login and its lockout,
//! refresh, password reset, profile and attributes, and the third-party sync.

pub mod codes;
pub mod common;
pub mod login;
pub mod paths;
pub mod profile;
pub mod register;
pub mod reset;
pub mod sync;
