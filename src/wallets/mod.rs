//! Wallet sign-in: Sign-In with Ethereum (EIP-4361) sessions, `POST /auth/siwe/nonce` and
//! `POST /auth/siwe/login` ([`siwe`]). A wallet that logs in gets this gateway's bearer access
//! and refresh tokens, as a password user does, for the user keyed by (`siwe.<chain id>`,
//! EIP-55 address), the same user its ERC-8128 signed requests are (the verification of those
//! is `crate::auth::erc8128`, joined with the store by the pipeline).
//!
//! It does not parse messages or recover signatures (`crate::auth::siwe`,
//! `crate::auth::eip191`) nor keep nonces (`crate::store::nonces`).

pub(crate) mod siwe;
