//! Password hashing: argon2id, PHC strings (`$argon2id$v=19$m=...`).
//!
//! Each hash works through 19 MiB of memory. Left to the allocator, those
//! blocks stayed with the process: glibc raises its mmap threshold after the
//! first free, so later blocks came from heaps it never gives back, and a
//! burst of 64 concurrent logins took a node from 45 MB to 8.8 GB resident
//! (200 logins one after another: 260 MB). Here the work memory is a small
//! pool of buffers reused for every hash, one per core, and a hash waits for
//! a free buffer (in line, not on a thread): memory stays at one buffer per
//! core whatever the load.

use anyhow::Context;
use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::{Mutex, OnceLock};

/// Work memory for one hash at a time each.
struct Pool {
    turns: tokio::sync::Semaphore,
    buffers: Mutex<Vec<Vec<Block>>>,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Pool { turns: tokio::sync::Semaphore::new(cores), buffers: Mutex::new(Vec::new()) }
    })
}

/// Runs `hash` on a blocking thread with a pooled buffer of `blocks` blocks.
async fn with_memory<T: Send + 'static>(
    blocks: usize,
    hash: impl FnOnce(&mut [Block]) -> T + Send + 'static,
) -> anyhow::Result<T> {
    let pool = pool();
    let _turn = pool.turns.acquire().await?;
    let mut buffer = pool.buffers.lock().unwrap_or_else(|p| p.into_inner()).pop().unwrap_or_default();
    let (buffer, out) = tokio::task::spawn_blocking(move || {
        buffer.resize(blocks, Block::default());
        let out = hash(&mut buffer);
        (buffer, out)
    })
    .await?;
    pool.buffers.lock().unwrap_or_else(|p| p.into_inner()).push(buffer);
    Ok(out)
}

/// The argon2id hash of `password` with a fresh salt, as a PHC string.
pub async fn hash_password(password: String) -> anyhow::Result<String> {
    let params = Params::default();
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    let blocks = params.block_count();
    let phc = with_memory(blocks, move |memory| -> anyhow::Result<String> {
        let output = compute(&password, &salt, &params, memory)?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: (&params).try_into().map_err(|e| anyhow::anyhow!("params: {e}"))?,
            salt: Some(salt.as_salt()),
            hash: Some(output),
        };
        Ok(phc.to_string())
    })
    .await??;
    Ok(phc)
}

/// The argon2id (v19) output for `password` under `salt` and `params`: what
/// the `argon2` crate's `PasswordHasher` puts in its PHC string.
fn compute(password: &str, salt: &SaltString, params: &Params, memory: &mut [Block]) -> anyhow::Result<Output> {
    let mut salt_bytes = [0u8; 64];
    let salt_raw = salt.as_salt().decode_b64(&mut salt_bytes).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let hasher = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let output = Output::init_with(len, |out| {
        hasher.hash_password_into_with_memory(password.as_bytes(), salt_raw, out, &mut *memory).map_err(Into::into)
    })
    .map_err(|e| anyhow::anyhow!("hashing password: {e}"))?;
    Ok(output)
}

/// Whether `password` matches `hash`. With no hash (no such account, or
/// one without a password) a dummy hash is checked anyway, so the answer
/// takes as long either way, and is false.
pub async fn verify_password(password: String, hash: Option<String>) -> anyhow::Result<bool> {
    let known = hash.is_some();
    let stored = match hash {
        Some(h) => h,
        None => dummy_hash().await?,
    };
    let parsed = PasswordHash::new(&stored).map_err(|e| anyhow::anyhow!("stored password hash: {e}"))?;
    let params = Params::try_from(&parsed).map_err(|e| anyhow::anyhow!("stored password hash: {e}"))?;
    let salt = parsed.salt.context("stored password hash has no salt")?;
    let salt = SaltString::from_b64(salt.as_str()).map_err(|e| anyhow::anyhow!("stored salt: {e}"))?;
    let expected = parsed.hash.context("stored password hash has no hash")?;
    let blocks = params.block_count();
    let computed = with_memory(blocks, move |memory| compute(&password, &salt, &params, memory)).await??;
    // Output's equality is constant-time.
    Ok(known && computed == expected)
}

async fn dummy_hash() -> anyhow::Result<String> {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY.get_or_try_init(|| hash_password("not a password".into())).await.cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    #[tokio::test]
    async fn passwords_verify_only_against_their_hash() {
        let h = hash_password("correct horse battery".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password("correct horse battery".into(), Some(h.clone())).await.unwrap());
        assert!(!verify_password("wrong horse battery".into(), Some(h)).await.unwrap());
        assert!(!verify_password("correct horse battery".into(), None).await.unwrap());
    }

    /// Hashes stored before this module (made by the argon2 crate's own
    /// hasher) still verify, and its verifier accepts ours.
    #[tokio::test]
    async fn hashes_are_interchangeable_with_the_argon2_crates() {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        let theirs = Argon2::default().hash_password(b"correct horse battery", &salt).unwrap().to_string();
        assert!(verify_password("correct horse battery".into(), Some(theirs.clone())).await.unwrap());
        assert!(!verify_password("correct horse batterY".into(), Some(theirs)).await.unwrap());
        let ours = hash_password("correct horse battery".into()).await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default().verify_password(b"correct horse battery", &parsed).is_ok());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_hashes_share_one_buffer_per_core() {
        let hashes: Vec<_> = (0..16).map(|i| tokio::spawn(hash_password(format!("password number {i}")))).collect();
        for h in hashes {
            h.await.unwrap().unwrap();
        }
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let buffers = pool().buffers.lock().unwrap().len();
        assert!((1..=cores).contains(&buffers), "{buffers} buffers for {cores} cores");
    }
}
