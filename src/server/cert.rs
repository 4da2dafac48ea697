//! The listener's certificate, chosen per handshake from the current policy: one rustls
//! configuration for the listener's life whose [`rustls::server::ResolvesServerCert`] asks the
//! policy loaded at that moment, so a reload that changes `tls_cert`/`tls_key` is seen by the
//! next handshake while open connections keep theirs.

use std::sync::Arc;

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio_rustls::TlsAcceptor;

use crate::state::State;

/// Resolves through the current policy's TLS configuration.
struct CurrentCert(Arc<State>);

impl std::fmt::Debug for CurrentCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CurrentCert")
    }
}

impl ResolvesServerCert for CurrentCert {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let policy = self.0.policy();
        policy
            .config
            .server
            .tls
            .as_ref()?
            .cert_resolver
            .resolve(hello)
    }
}

/// The listener's acceptor when the first policy terminates TLS: its rustls configuration
/// (versions, ALPN) with the certificate resolved per handshake from the current policy.
pub(super) fn acceptor(state: &Arc<State>) -> Option<TlsAcceptor> {
    let policy = state.policy();
    let mut config = policy.config.server.tls.as_deref()?.clone();
    config.cert_resolver = Arc::new(CurrentCert(Arc::clone(state)));
    Some(TlsAcceptor::from(Arc::new(config)))
}
