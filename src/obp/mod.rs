//! The OBP product: `users/current`, accounts, account access, views and their permissions,
//! OBP path parsing, and the route view check.

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
