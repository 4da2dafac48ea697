//! A real HTTPS JWKS server on loopback, its certificate issued by a test CA (rcgen): it
//! serves `/jwks` (the keys the test sets, with the `Cache-Control` it sets) and
//! `/.well-known/openid-configuration` (naming `/jwks`), counts the fetches of `/jwks`, and can
//! be taken down (500) and brought back.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use dauth_proxy::auth::keys::{generate_rsa, load_signing_key_pair};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rustls_pki_types::pem::PemObject;
use serde_json::{Value, json};

/// A signing key with its JWK.
pub struct Jwk {
    /// The private key, PEM.
    pub private_pem: String,
    /// The public key as a JWK (`kty`, `n`, `e`, `kid`, `use` sig, `alg` RS256).
    pub jwk: Value,
    /// Its `kid`.
    pub kid: String,
}

impl Jwk {
    /// A fresh 2048-bit key with `kid`.
    pub fn new(kid: &str) -> Self {
        let pair = generate_rsa(2048).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        std::fs::write(&path, &pair.private_pem).unwrap();
        let jwk = load_signing_key_pair(&path).unwrap().jwk(kid);
        Self {
            private_pem: pair.private_pem,
            jwk,
            kid: kid.to_owned(),
        }
    }

    /// Signs `claims` (RS256) with header `kid` = `kid`.
    pub fn sign_as(&self, kid: &str, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.to_owned());
        let key = EncodingKey::from_rsa_pem(self.private_pem.as_bytes()).unwrap();
        jsonwebtoken::encode(&header, claims, &key).unwrap()
    }

    /// Signs `claims` with its own `kid`.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_as(&self.kid, claims)
    }
}

/// What the server answers, changed by the test.
#[derive(Default)]
struct Served {
    keys: Vec<Value>,
    cache_control: Option<String>,
    down: bool,
    fetches: usize,
}

/// The server (see the module docs).
pub struct JwksServer {
    /// Where it listens.
    pub addr: SocketAddr,
    served: Arc<Mutex<Served>>,
    dir: tempfile::TempDir,
}

impl JwksServer {
    /// Starts serving `keys`; the CA certificate is written to [`JwksServer::ca_path`].
    pub async fn start(keys: Vec<Value>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let leaf_params =
            rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
                .unwrap();
        let leaf = leaf_params.signed_by(&leaf_key, &ca).unwrap();
        let key =
            rustls_pki_types::PrivateKeyDer::from_pem_slice(leaf_key.serialize_pem().as_bytes())
                .unwrap();
        let mut tls = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone()], key)
        .unwrap();
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let served = Arc::new(Mutex::new(Served {
            keys,
            ..Served::default()
        }));
        let state = Arc::clone(&served);
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, state) = (acceptor.clone(), Arc::clone(&state));
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                        let answer = answer(&state, addr, req.uri().path());
                        async move { Ok::<_, Infallible>(answer) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        Self { addr, served, dir }
    }

    /// The CA certificate file (for `jwks_ca`).
    pub fn ca_path(&self) -> String {
        self.dir.path().join("ca.pem").display().to_string()
    }

    /// `https://127.0.0.1:PORT/jwks`
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}/jwks", self.addr.port())
    }

    /// The discovery document's URL.
    pub fn discovery_url(&self) -> String {
        format!(
            "https://127.0.0.1:{}/.well-known/openid-configuration",
            self.addr.port()
        )
    }

    /// Serves `keys` from now on.
    pub fn set_keys(&self, keys: Vec<Value>) {
        self.served.lock().unwrap().keys = keys;
    }

    /// Sends `Cache-Control: value` from now on.
    pub fn set_cache_control(&self, value: Option<&str>) {
        self.served.lock().unwrap().cache_control = value.map(str::to_owned);
    }

    /// Answers 500 while `down`.
    pub fn set_down(&self, down: bool) {
        self.served.lock().unwrap().down = down;
    }

    /// Requests for `/jwks` so far (answered or not).
    pub fn fetches(&self) -> usize {
        self.served.lock().unwrap().fetches
    }
}

fn answer(state: &Mutex<Served>, addr: SocketAddr, path: &str) -> http::Response<Full<Bytes>> {
    let mut s = state.lock().unwrap();
    let mut resp = http::Response::builder().header("content-type", "application/json");
    let body = match path {
        "/jwks" => {
            s.fetches += 1;
            if let Some(cc) = &s.cache_control {
                resp = resp.header("cache-control", cc.as_str());
            }
            json!({"keys": s.keys}).to_string()
        }
        "/.well-known/openid-configuration" => {
            json!({"issuer": "https://idp.example", "jwks_uri": format!("https://127.0.0.1:{}/jwks", addr.port())}).to_string()
        }
        _ => return resp.status(404).body(Full::new(Bytes::new())).unwrap(),
    };
    let status = if s.down { 500 } else { 200 };
    resp.status(status)
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}
