//! Service clients (seed 000): the token endpoint and discovery ([`token`]), the checks of a
//! `private_key_jwt` client assertion ([`assertion`]) and the users API ([`users`]).
//!
//! It owns RFC 6749/7523's rules and the users API's. It does not own the client registry (which
//! clients exist and their keys: [`crate::auth::clients`], part of the policy), signature
//! verification ([`crate::auth`]), the replay window of assertion ids (the store's
//! [`crate::store::ReplayWindow`]) or the records ([`crate::store::ClientStore`]).

pub(crate) mod assertion;
pub(crate) mod token;
pub(crate) mod users;
