//! A self-signed certificate for TLS tests: files for the gateway, a connector for clients.

use std::sync::Arc;

use rustls_pki_types::pem::PemObject;

use super::Gateway;

/// A self-signed certificate for `localhost` and `127.0.0.1`, written to a temporary directory.
pub struct TestCert {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// Its private key, PEM.
    pub key_pem: String,
    dir: tempfile::TempDir,
}

impl TestCert {
    /// Generates the certificate and writes `cert.pem` and `key.pem`.
    pub fn new() -> Self {
        let rcgen::CertifiedKey { cert, signing_key } =
            rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
                .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (cert_pem, key_pem) = (cert.pem(), signing_key.serialize_pem());
        std::fs::write(dir.path().join("cert.pem"), &cert_pem).unwrap();
        std::fs::write(dir.path().join("key.pem"), &key_pem).unwrap();
        Self {
            cert_pem,
            key_pem,
            dir,
        }
    }

    /// Path of `name` in the certificate's directory.
    pub fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// A client connector trusting the certificate and offering `alpn`.
    pub fn connector(&self, alpn: &[u8]) -> tokio_rustls::TlsConnector {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(
                rustls_pki_types::CertificateDer::from_pem_slice(self.cert_pem.as_bytes()).unwrap(),
            )
            .unwrap();
        let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        config.alpn_protocols = vec![alpn.to_vec()];
        tokio_rustls::TlsConnector::from(Arc::new(config))
    }
}

/// A gateway terminating TLS with `cert`, with `extra` sections.
pub async fn gateway(cert: &TestCert, server_extra: &str, extra: &str) -> Gateway {
    let server = format!(
        "tls_cert = {:?}\ntls_key = {:?}\n{server_extra}",
        cert.path("cert.pem"),
        cert.path("key.pem")
    );
    Gateway::start_with(&server, "", extra).await
}
