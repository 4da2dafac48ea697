//! Password hashing: argon2id for everything we hash, bcrypt (`$2a$`, `$2b$`, `$2y$`) verified
//! for users imported from elsewhere. Hashing is CPU-heavy, so it runs on the blocking pool and
//! at most a few at a time: a flood of logins cannot starve request handling.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use tokio::sync::Semaphore;

/// Shortest and longest password accepted.
pub const PASSWORD_LEN: (usize, usize) = (8, 1024);

/// At most this many hashes or verifications run at once.
static SLOTS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(4));

/// Why a password operation failed.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// The hashing library failed.
    #[error("password hashing failed")]
    Hash,
    /// The blocking task died.
    #[error("password task failed")]
    Task,
}

/// Whether `password` meets the policy: 8 to 1024 characters.
pub fn acceptable(password: &str) -> bool {
    let n = password.chars().count();
    n >= PASSWORD_LEN.0 && password.len() <= PASSWORD_LEN.1
}

/// Whether `hash` is a hash we can verify: bcrypt (`$2a$`, `$2b$`, `$2y$`) or argon2 PHC.
pub fn importable(hash: &str) -> bool {
    let bcrypt = ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p)) && hash.len() == 60;
    bcrypt || PasswordHash::new(hash).is_ok_and(|h| h.algorithm.as_str().starts_with("argon2"))
}

/// An argon2id PHC string for `password` (OWASP parameters: 19 MiB, 2 passes).
pub async fn hash(password: String) -> Result<String, PasswordError> {
    run(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|_| PasswordError::Hash)
    })
    .await?
}

/// Whether `password` matches `stored` (argon2 PHC or bcrypt). Also says whether the hash is of
/// an old kind that should be replaced by an argon2id one.
pub async fn verify(password: String, stored: String) -> Result<(bool, bool), PasswordError> {
    run(move || {
        if stored.starts_with("$2a$") || stored.starts_with("$2b$") || stored.starts_with("$2y$") {
            return (bcrypt::verify(&password, &stored).unwrap_or(false), true);
        }
        let ok = PasswordHash::new(&stored).is_ok_and(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        });
        (ok, false)
    })
    .await
}

async fn run<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, PasswordError> {
    let _slot = SLOTS.acquire().await.map_err(|_| PasswordError::Task)?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| PasswordError::Task)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn argon2_round_trip() {
        let h = hash("correct horse".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert_eq!(
            verify("correct horse".into(), h.clone()).await.unwrap(),
            (true, false)
        );
        assert_eq!(
            verify("wrong horse".into(), h).await.unwrap(),
            (false, false)
        );
    }

    #[tokio::test]
    async fn bcrypt_hashes_verify_and_ask_for_an_upgrade() {
        let h = bcrypt::hash("C3rs3i#L4nnist3r", 4).unwrap();
        assert_eq!(
            verify("C3rs3i#L4nnist3r".into(), h.clone()).await.unwrap(),
            (true, true)
        );
        assert!(!verify("nope".into(), h).await.unwrap().0);
        assert!(!verify("x".into(), "garbage".into()).await.unwrap().0);
    }

    #[test]
    fn policy() {
        assert!(!acceptable("short"));
        assert!(acceptable("long enough"));
        assert!(!acceptable(&"x".repeat(1025)));
    }
}
