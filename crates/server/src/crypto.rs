//! Secrets at rest and credentials.
//!
//! * A 32-byte master key (from `MERCATO_MASTER_KEY` or `<data_dir>/master.key`,
//!   generated on first start) encrypts secrets with XChaCha20-Poly1305; the
//!   field name is bound in as associated data so a ciphertext cannot be moved
//!   to another field.
//! * API-key secrets are stored as HMAC-SHA256 under a pepper derived from the
//!   master key, and compared in constant time.
//! * Passwords use argon2id (`crate::passwords`).

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretBox};
use sha2::Sha256;
use std::path::Path;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

pub struct Crypto {
    master: SecretBox<[u8; 32]>,
    pepper: SecretBox<[u8; 32]>,
}

impl std::fmt::Debug for Crypto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Crypto(<keys>)")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("a stored secret could not be decrypted (wrong master key or damaged data)")]
pub struct DecryptError;

impl Crypto {
    pub fn from_key(key: [u8; 32]) -> Crypto {
        let pepper = hmac(&key, b"mercato/api-key-pepper/v1");
        Crypto { master: SecretBox::new(Box::new(key)), pepper: SecretBox::new(Box::new(pepper)) }
    }

    /// The configured key (base64), or the one in `<data_dir>/master.key`,
    /// created with fresh random bytes (mode 0600) when missing.
    pub fn load(configured: &str, data_dir: &Path) -> anyhow::Result<Crypto> {
        if !configured.is_empty() {
            return Ok(Crypto::from_key(decode_key(configured).context("MERCATO_MASTER_KEY")?));
        }
        let path = data_dir.join("master.key");
        if path.exists() {
            let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            return Ok(Crypto::from_key(decode_key(text.trim()).with_context(|| format!("{}", path.display()))?));
        }
        std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        write_private(&path, &format!("{}\n", STANDARD.encode(key)))?;
        tracing::info!(path = %path.display(), "generated a new master key; back it up, secrets cannot be read without it");
        Ok(Crypto::from_key(key))
    }

    /// A short value that identifies the master key without revealing it, so
    /// nodes sharing a database can refuse to start with a different key.
    pub fn key_check(&self) -> String {
        hex::encode(&hmac(self.master.expose_secret(), b"mercato/master-key-check/v1")[..16])
    }

    pub fn encrypt(&self, field: &str, plaintext: &str) -> String {
        let cipher = XChaCha20Poly1305::new(self.master.expose_secret().into());
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext.as_bytes(), aad: field.as_bytes() })
            .expect("encryption with a valid key cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("v1.{}", URL_SAFE_NO_PAD.encode(out))
    }

    pub fn decrypt(&self, field: &str, stored: &str) -> Result<String, DecryptError> {
        let raw = stored.strip_prefix("v1.").ok_or(DecryptError)?;
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| DecryptError)?;
        if bytes.len() < 24 {
            return Err(DecryptError);
        }
        let (nonce, sealed) = bytes.split_at(24);
        let cipher = XChaCha20Poly1305::new(self.master.expose_secret().into());
        let plain = cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad: field.as_bytes() })
            .map_err(|_| DecryptError)?;
        String::from_utf8(plain).map_err(|_| DecryptError)
    }

    /// The stored form of an API-key secret.
    pub fn key_hash(&self, secret: &str) -> String {
        hex::encode(hmac(self.pepper.expose_secret(), secret.as_bytes()))
    }

    /// Constant-time check of a presented secret against its stored hash.
    pub fn key_matches(&self, secret: &str, stored_hash: &str) -> bool {
        let computed = self.key_hash(secret);
        computed.as_bytes().ct_eq(stored_hash.as_bytes()).into()
    }
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

fn decode_key(text: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = STANDARD.decode(text.trim()).context("the master key must be base64")?;
    match <[u8; 32]>::try_from(bytes.as_slice()) {
        Ok(k) => Ok(k),
        Err(_) => bail!("the master key must be 32 bytes (base64 of 32 random bytes), got {}", bytes.len()),
    }
}

/// Creates `path` (which must not exist) readable by its owner only (0600
/// on Unix) and writes `contents`: for files that hold keys.
pub fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

/// Random bytes as lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_round_trip_and_are_bound_to_their_field() {
        let c = Crypto::from_key([7u8; 32]);
        let sealed = c.encrypt("bank_account", "6222021001001234");
        assert_ne!(sealed, "6222021001001234");
        assert_eq!(c.decrypt("bank_account", &sealed).unwrap(), "6222021001001234");
        assert!(c.decrypt("endpoint_key", &sealed).is_err());
        assert!(Crypto::from_key([8u8; 32]).decrypt("bank_account", &sealed).is_err());
        // Fresh nonce every time.
        assert_ne!(sealed, c.encrypt("bank_account", "6222021001001234"));
    }

    #[test]
    fn key_hashes_compare_in_constant_time() {
        let c = Crypto::from_key([1u8; 32]);
        let h = c.key_hash("secret");
        assert!(c.key_matches("secret", &h));
        assert!(!c.key_matches("secreT", &h));
        assert_ne!(Crypto::from_key([2u8; 32]).key_hash("secret"), h, "the pepper depends on the master key");
    }

    #[test]
    fn master_key_file_is_created_once() {
        let dir = tempfile::tempdir().unwrap();
        let a = Crypto::load("", dir.path()).unwrap();
        let b = Crypto::load("", dir.path()).unwrap();
        assert_eq!(a.key_check(), b.key_check());
        assert!(Crypto::load("not base64!", dir.path()).is_err());
        assert!(Crypto::load(&STANDARD.encode([0u8; 16]), dir.path()).is_err());
    }
}
