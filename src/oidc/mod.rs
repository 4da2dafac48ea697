//! Service clients (seed 000): the token endpoint and discovery, client assertions, and the
//! users API.

pub(crate) mod assertion;
pub(crate) mod token;
pub(crate) mod users;
