//! The development key pairs shipped in `keys/dev/`, known by their public halves (built into
//! the binary), so that a configured key that is one of them is found wherever it was copied
//! and in whatever encoding: the comparison is of the RSA modulus, not of a path or a file.
//! The keys are parsed by the parent module, which looks them up.

/// Each development public key, with what to say when it is configured.
pub(super) const DEV_KEYS: [(&str, &str); 3] = [
    (
        include_str!("../../../keys/dev/dauth_public.pem"),
        "DEVELOPMENT KEY: this is keys/dev/dauth (shipped with dauth-proxy); anyone with the \
         repository holds its private half. Never deploy it: make your own with dauth-proxy keygen",
    ),
    (
        include_str!("../../../keys/dev/issuer_public.pem"),
        "DEVELOPMENT KEY: this is keys/dev/issuer (shipped with dauth-proxy); anyone with the \
         repository holds its private half. Never deploy it: make your own with dauth-proxy keygen",
    ),
    (
        include_str!("../../../keys/dev/client_app_public.pem"),
        "DEVELOPMENT KEY: this is keys/dev/client_app (shipped with dauth-proxy); anyone with the \
         repository holds its private half. Never deploy it: make your own with dauth-proxy keygen",
    ),
];

/// SHA-256 of a modulus without leading zero bytes: how keys are compared here.
pub(super) fn fingerprint(modulus: &[u8]) -> [u8; 32] {
    let start = modulus
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(modulus.len());
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &modulus[start..]);
    let mut out = [0; 32];
    out.copy_from_slice(digest.as_ref());
    out
}
