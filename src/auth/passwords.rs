//! Password hashing: argon2id for everything we hash, bcrypt (`$2a$`, `$2b$`, `$2y$`) verified
//! for users imported from elsewhere. Hashing is CPU- and memory-heavy, so it runs on a fixed
//! pool of threads that reuse their memory, behind a bounded queue ([`super::hashpool`]): a
//! flood of logins cannot starve request handling, queue without bound, or take more memory
//! than `accounts.hash_slots` x 19 MiB.

use std::time::Duration;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Params, Version};

use super::hashpool::{HashPool, Memory, Ticket};
use crate::error::Error;

/// Shortest and longest password accepted.
pub(crate) const PASSWORD_LEN: (usize, usize) = (8, 1024);

/// Why a password operation failed.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// `accounts.hash_slots + accounts.hash_queue` hashes are already running or waiting.
    #[error("password hashing queue full")]
    Busy,
    /// The hashing library (or the random source for a salt) failed; what it said.
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// The hashing thread died before it answered (the job's panic is not recoverable).
    #[error("password task failed")]
    Task,
}

/// A full queue answers 503 `DAUTH-5035`; a failure of the hashing itself 500, its cause logged.
impl From<PasswordError> for Error {
    fn from(e: PasswordError) -> Self {
        match e {
            PasswordError::Busy => Error::HashBusy,
            other => Error::Internal {
                what: "password hashing",
                cause: Box::new(other),
            },
        }
    }
}

/// A hashing failure, with what the library said.
fn failed(e: impl std::fmt::Display) -> PasswordError {
    PasswordError::Hash(e.to_string())
}

/// Whether `password` meets the policy: 8 to 1024 characters.
pub(crate) fn acceptable(password: &str) -> bool {
    let n = password.chars().count();
    n >= PASSWORD_LEN.0 && password.len() <= PASSWORD_LEN.1
}

/// Highest bcrypt cost verified (2^14 rounds: about 0.9 s on one core).
pub(crate) const MAX_BCRYPT_COST: u32 = 14;
/// Highest argon2 memory cost verified, in KiB (64 MiB).
pub(crate) const MAX_ARGON2_KIB: u32 = 64 * 1024;
/// Highest argon2 pass count verified.
pub(crate) const MAX_ARGON2_PASSES: u32 = 10;
/// Highest argon2 lane count verified.
pub(crate) const MAX_ARGON2_LANES: u32 = 8;

/// Whether `hash` is a hash we can verify at a bounded cost: bcrypt (`$2a$`, `$2b$`, `$2y$`)
/// of cost at most [`MAX_BCRYPT_COST`], or argon2 PHC within [`MAX_ARGON2_KIB`],
/// [`MAX_ARGON2_PASSES`] and [`MAX_ARGON2_LANES`].
///
/// The bound matters because a login runs the stored hash at its own cost: an imported
/// `$2b$31$` hash would hold a hashing slot for a day per attempt, and a few attempts would
/// stall every login.
pub(crate) fn importable(hash: &str) -> bool {
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

/// How long a hashing thread keeps its memory block without work.
const IDLE_RELEASE: Duration = Duration::from_secs(5);

/// The password hasher: the pool and its queue, built once from `[accounts]`.
pub(crate) struct Hasher {
    pool: HashPool,
}

/// A place in the hashing queue, taken before other work for the request (such as counting a
/// login attempt) so that a full queue refuses before anything else happens.
pub(crate) struct HashTicket(Ticket);

impl Hasher {
    /// `slots` hashing threads, each keeping one block of our argon2 memory cost, and room for
    /// `queue` callers waiting for them.
    pub(crate) fn new(slots: usize, queue: usize) -> std::io::Result<Self> {
        let keep = Params::default().block_count();
        Ok(Self {
            pool: HashPool::new(slots, queue, keep, IDLE_RELEASE)?,
        })
    }

    /// A place in the queue, or [`PasswordError::Busy`] at once.
    pub(crate) fn admit(&self) -> Result<HashTicket, PasswordError> {
        self.pool
            .admit()
            .map(HashTicket)
            // The pool's refusal says only that it is full.
            .map_err(|_| PasswordError::Busy)
    }

    /// An argon2id PHC string for `password`; see [`HashTicket::hash`].
    pub(crate) async fn hash(&self, password: String) -> Result<String, PasswordError> {
        self.admit()?.hash(password).await
    }
}

impl HashTicket {
    /// An argon2id PHC string for `password` (OWASP parameters: 19 MiB, 2 passes, 1 lane).
    pub(crate) async fn hash(self, password: String) -> Result<String, PasswordError> {
        self.0
            .run(move |memory| argon2id(password.as_bytes(), memory))
            .await
            .ok_or(PasswordError::Task)?
    }

    /// Whether `password` matches `stored` (argon2 PHC or bcrypt). Also says whether the hash
    /// is of an old kind that should be replaced by an argon2id one. A hash over the cost
    /// bounds of [`importable`] never matches, and costs nothing to refuse.
    pub(crate) async fn verify(
        self,
        password: String,
        stored: String,
    ) -> Result<(bool, bool), PasswordError> {
        if !importable(&stored) {
            return Ok((false, false));
        }
        self.0
            .run(move |memory| {
                if is_bcrypt(&stored) {
                    return (bcrypt::verify(&password, &stored).unwrap_or(false), true);
                }
                (argon2_matches(password.as_bytes(), &stored, memory), false)
            })
            .await
            .ok_or(PasswordError::Task)
    }
}

/// Hashes with argon2id's default (OWASP) parameters in `memory`.
fn argon2id(password: &[u8], memory: &mut Memory) -> Result<String, PasswordError> {
    let params = Params::default();
    let mut salt = [0u8; Salt::RECOMMENDED_LENGTH];
    aws_lc_rs::rand::fill(&mut salt).map_err(failed)?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    memory
        .with_blocks(params.block_count(), |blocks| {
            argon.hash_password_into_with_memory(password, &salt, &mut out, blocks)
        })
        .map_err(failed)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(failed)?,
        salt: Some(Salt::new(&salt).map_err(failed)?),
        hash: Some(Output::new(&out).map_err(failed)?),
    };
    Ok(phc.to_string())
}

/// Whether `password` gives the argon2 PHC hash `stored`, computed in `memory` with the
/// stored hash's own algorithm, version, parameters and salt.
fn argon2_matches(password: &[u8], stored: &str, memory: &mut Memory) -> bool {
    let Ok(h) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&h.salt, &h.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(h.algorithm.as_str()) else {
        return false;
    };
    let Ok(version) = h.version.map_or(Ok(Version::default()), Version::try_from) else {
        return false;
    };
    let Ok(params) = Params::try_from(&h) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let argon = Argon2::new(algorithm, version, params.clone());
    let computed = memory.with_blocks(params.block_count(), |blocks| {
        argon.hash_password_into_with_memory(password, salt.as_ref(), &mut out, blocks)
    });
    // `Output`'s equality is constant-time.
    computed.is_ok() && Output::new(&out).is_ok_and(|o| &o == expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher() -> &'static Hasher {
        static HASHER: std::sync::OnceLock<Hasher> = std::sync::OnceLock::new();
        HASHER.get_or_init(|| Hasher::new(2, 8).unwrap())
    }

    async fn hash(password: String) -> Result<String, PasswordError> {
        hasher().hash(password).await
    }

    async fn verify(password: String, stored: String) -> Result<(bool, bool), PasswordError> {
        hasher().admit()?.verify(password, stored).await
    }

    #[tokio::test]
    async fn hashes_are_argon2_phc_strings_either_way() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        // Hashes stored before the pool (argon2's own allocation) still verify...
        let theirs = Argon2::default()
            .hash_password(b"correct horse")
            .unwrap()
            .to_string();
        assert_eq!(
            verify("correct horse".into(), theirs.clone())
                .await
                .unwrap(),
            (true, false)
        );
        assert!(!verify("correct horsf".into(), theirs).await.unwrap().0);
        // ... and ours verify with argon2's own verifier, with the same parameters.
        let ours = hash("correct horse".into()).await.unwrap();
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        // A dearer imported hash (more memory than the kept block) verifies too.
        let dear = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(32 * 1024, 1, 2, None).unwrap(),
        )
        .hash_password(b"imported")
        .unwrap()
        .to_string();
        assert_eq!(
            verify("imported".into(), dear).await.unwrap(),
            (true, false)
        );
    }

    #[tokio::test]
    async fn a_full_queue_is_refused_at_once() {
        let h = Hasher::new(1, 0).unwrap();
        let held = h.admit().unwrap();
        assert!(matches!(h.admit(), Err(PasswordError::Busy)));
        assert!(matches!(
            h.hash("correct horse".into()).await,
            Err(PasswordError::Busy)
        ));
        drop(held);
        assert!(h.hash("correct horse".into()).await.is_ok());
    }

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
