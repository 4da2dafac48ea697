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

/// Highest bcrypt cost verified (2^14 rounds: about 0.9 s on one core).
pub const MAX_BCRYPT_COST: u32 = 14;
/// Highest argon2 memory cost verified, in KiB (64 MiB).
pub const MAX_ARGON2_KIB: u32 = 64 * 1024;
/// Highest argon2 pass count verified.
pub const MAX_ARGON2_PASSES: u32 = 10;
/// Highest argon2 lane count verified.
pub const MAX_ARGON2_LANES: u32 = 8;

/// Whether `hash` is a hash we can verify at a bounded cost: bcrypt (`$2a$`, `$2b$`, `$2y$`)
/// of cost at most [`MAX_BCRYPT_COST`], or argon2 PHC within [`MAX_ARGON2_KIB`],
/// [`MAX_ARGON2_PASSES`] and [`MAX_ARGON2_LANES`].
///
/// The bound matters because a login runs the stored hash at its own cost: an imported
/// `$2b$31$` hash would hold a hashing slot for a day per attempt, and a few attempts would
/// stall every login.
pub fn importable(hash: &str) -> bool {
    if is_bcrypt(hash) {
        return hash.len() == 60
            && hash
                .parse::<bcrypt::HashParts>()
                .is_ok_and(|p| p.get_cost() <= MAX_BCRYPT_COST);
    }
    PasswordHash::new(hash).is_ok_and(|h| {
        h.algorithm.as_str().starts_with("argon2")
            && argon2::Params::try_from(&h).is_ok_and(|p| {
                p.m_cost() <= MAX_ARGON2_KIB
                    && p.t_cost() <= MAX_ARGON2_PASSES
                    && p.p_cost() <= MAX_ARGON2_LANES
            })
    })
}

fn is_bcrypt(hash: &str) -> bool {
    ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p))
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
/// an old kind that should be replaced by an argon2id one. A hash over the cost bounds of
/// [`importable`] never matches, and costs nothing to refuse.
pub async fn verify(password: String, stored: String) -> Result<(bool, bool), PasswordError> {
    if !importable(&stored) {
        return Ok((false, false));
    }
    run(move || {
        if is_bcrypt(&stored) {
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

    #[tokio::test]
    async fn hashes_over_the_cost_bounds_are_not_importable_and_never_run() {
        let cheap = bcrypt::hash("C3rs3i#L4nnist3r", 4).unwrap();
        assert!(importable(&cheap));
        // Same hash, cost 31: about 34 hours per check if it were run.
        let dear = format!("$2b$31${}", &cheap[7..]);
        assert!(!importable(&dear));
        assert_eq!(
            verify("C3rs3i#L4nnist3r".into(), dear).await.unwrap(),
            (false, false)
        );
        let ours = hash("correct horse".into()).await.unwrap();
        assert!(importable(&ours));
        let salt_and_hash = ours.rsplitn(3, '$').take(2).collect::<Vec<_>>();
        for params in [
            "m=4194304,t=2,p=1",
            "m=19456,t=1000,p=1",
            "m=19456,t=2,p=64",
        ] {
            let dear = format!(
                "$argon2id$v=19${params}${}${}",
                salt_and_hash[1], salt_and_hash[0]
            );
            assert!(!importable(&dear), "{dear}");
            assert!(!verify("correct horse".into(), dear).await.unwrap().0);
        }
        assert!(!importable("$2b$10$short"));
        assert!(!importable("$argon2id$garbage"));
    }

    #[test]
    fn policy() {
        assert!(!acceptable("short"));
        assert!(acceptable("long enough"));
        assert!(!acceptable(&"x".repeat(1025)));
    }
}
