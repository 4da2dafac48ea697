//! Service clients (seed 000): the token endpoint and discovery, client assertions, and the
//! users API.

pub mod assertion;
pub mod token;
pub mod users;
