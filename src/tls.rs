//! TLS material: the listener's rustls configuration and the roots upstream connections trust.
//!
//! Built once from PEM files when the configuration is checked, with the aws-lc-rs provider
//! passed explicitly (no process-wide default is installed or needed). The listener offers
//! HTTP/2 and HTTP/1.1 by ALPN.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::crypto::aws_lc_rs;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::fs::read_small_file;

/// Why TLS material was refused.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The certificate file could not be read or holds no certificate.
    #[error("{}: no PEM certificate could be read ({detail})", path.display())]
    Certs {
        /// The file.
        path: PathBuf,
        /// What the PEM reader said.
        detail: String,
    },
    /// The key file could not be read or holds no private key.
    #[error("{}: no PEM private key could be read ({detail})", path.display())]
    Key {
        /// The file.
        path: PathBuf,
        /// What the PEM reader said.
        detail: String,
    },
    /// rustls refused the pair (unsupported key type, key not matching the certificate...).
    #[error("certificate and key are not usable together: {0}")]
    Config(#[source] rustls::Error),
}

/// The listener's TLS configuration from a PEM certificate chain and private key.
pub(crate) fn server_config(
    cert: &Path,
    key: &Path,
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let certs = read_certs(cert)?;
    let key_fail = |detail: String| TlsError::Key {
        path: key.to_owned(),
        detail,
    };
    let key_pem = read_small_file(key).map_err(|e| key_fail(e.to_string()))?;
    let key_der =
        PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| key_fail(e.to_string()))?;
    let mut config =
        rustls::ServerConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Config)?
            .with_no_client_auth()
            .with_single_cert(certs, key_der)
            .map_err(TlsError::Config)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Reads every certificate in a PEM file (at least one).
pub(crate) fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let fail = |detail: String| TlsError::Certs {
        path: path.to_owned(),
        detail,
    };
    let pem = read_small_file(path).map_err(|e| fail(e.to_string()))?;
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(e.to_string()))?;
    if certs.is_empty() {
        return Err(fail("the file holds no CERTIFICATE block".into()));
    }
    Ok(certs)
}

/// The roots an upstream connection trusts: the system's, plus `extra` certificates.
pub(crate) fn upstream_roots(extra: &[CertificateDer<'static>]) -> RootCertStore {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    roots.add_parsable_certificates(extra.iter().cloned());
    roots
}

/// A client TLS configuration trusting `roots`, offering HTTP/1.1 only.
pub(crate) fn client_config(roots: RootCertStore) -> Result<rustls::ClientConfig, rustls::Error> {
    Ok(
        rustls::ClientConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}
