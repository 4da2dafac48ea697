//! The OBP product: `users/current`, accounts, account access, views and their permissions,
//! OBP path parsing, and the route view check.

pub mod access;
pub mod accounts;
pub mod paths;
pub mod permissions;
pub mod route_check;
pub mod users;
pub mod views;
