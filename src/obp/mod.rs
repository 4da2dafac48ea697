//! The OBP product: `users/current` ([`users`]), accounts and their views ([`accounts`]),
//! account access ([`access`], [`source`]), the system views and the grant and revoke rules
//! ([`views`], [`permissions`]), OBP path parsing ([`paths`]), and the view check of forwarded
//! routes ([`route_check`]).
//!
//! It owns OBP's rules and codes. It does not own the records (`View`, `Account`, access rows
//! are [`crate::store::model`]'s, kept by an [`crate::store::AccessStore`]), authentication
//! (its handlers are handed the caller) or reading the request (they are handed its head and
//! body by the pipeline).

pub(crate) mod access;
pub(crate) mod accounts;
pub(crate) mod paths;
pub(crate) mod permissions;
pub(crate) mod route_check;
pub(crate) mod source;
pub(crate) mod users;
pub(crate) mod views;

#[cfg(test)]
mod tests;
