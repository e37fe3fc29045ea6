//! Secrets at rest: AES-256-GCM, a fresh 96-bit nonce per value, the key id stored beside the ciphertext.
//!
//! A `Keyring` holds one primary key (used to seal) and any number of older keys (still used to open),
//! so keys can be rotated without downtime.

use aes_gcm::{
    aead::{Aead, KeyInit, OsRng},
    AeadCore, Aes256Gcm, Key, Nonce,
};
use base64::{engine::general_purpose::STANDARD, Engine};

const NONCE_LEN: usize = 12;

/// A sealed secret: `blob` is nonce || ciphertext+tag, `key_id` names the key that sealed it.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    pub key_id: String,
    pub blob: Vec<u8>,
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sealed(key {}, {} bytes)", self.key_id, self.blob.len())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("no key with id {0:?} is configured")]
    UnknownKey(String),
    #[error("the sealed value is damaged or was sealed with another key")]
    Damaged,
    #[error("key spec {0:?}: expected <id>:<base64 of 32 bytes>")]
    BadKeySpec(String),
    #[error("no encryption key configured")]
    NoKeys,
}

#[derive(Clone)]
pub struct Keyring {
    primary: String,
    keys: Vec<(String, Aes256Gcm)>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        write!(f, "Keyring(primary {}, keys {:?})", self.primary, ids)
    }
}

impl Keyring {
    /// Parses `id:base64,id:base64,...`; the first key seals, all of them open.
    pub fn parse(spec: &str) -> Result<Keyring, CryptoError> {
        let mut keys = Vec::new();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (id, b64) = part
                .split_once(':')
                .ok_or_else(|| CryptoError::BadKeySpec(redact(part)))?;
            let bytes = STANDARD
                .decode(b64.trim())
                .map_err(|_| CryptoError::BadKeySpec(redact(part)))?;
            if id.trim().is_empty() || bytes.len() != 32 {
                return Err(CryptoError::BadKeySpec(redact(part)));
            }
            keys.push((
                id.trim().to_string(),
                Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&bytes)),
            ));
        }
        let primary = keys.first().ok_or(CryptoError::NoKeys)?.0.clone();
        Ok(Keyring { primary, keys })
    }

    /// A new random key in the `id:base64` form `parse` reads.
    pub fn generate_spec(id: &str) -> String {
        let key = Aes256Gcm::generate_key(OsRng);
        format!("{id}:{}", STANDARD.encode(key))
    }

    pub fn primary_id(&self) -> &str {
        &self.primary
    }

    fn cipher(&self, id: &str) -> Result<&Aes256Gcm, CryptoError> {
        self.keys
            .iter()
            .find(|(k, _)| k == id)
            .map(|(_, c)| c)
            .ok_or_else(|| CryptoError::UnknownKey(id.to_string()))
    }

    pub fn seal(&self, plaintext: &str) -> Sealed {
        let cipher = self
            .cipher(&self.primary)
            .expect("primary key is in the ring");
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ct = cipher
            .encrypt(&nonce, plaintext.as_bytes())
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ct);
        Sealed {
            key_id: self.primary.clone(),
            blob,
        }
    }

    pub fn open(&self, sealed: &Sealed) -> Result<String, CryptoError> {
        let cipher = self.cipher(&sealed.key_id)?;
        if sealed.blob.len() < NONCE_LEN {
            return Err(CryptoError::Damaged);
        }
        let (nonce, ct) = sealed.blob.split_at(NONCE_LEN);
        let pt = cipher
            .decrypt(Nonce::from_slice(nonce), ct)
            .map_err(|_| CryptoError::Damaged)?;
        String::from_utf8(pt).map_err(|_| CryptoError::Damaged)
    }
}

/// Key specs appear in error messages: keep the id, hide the material.
fn redact(part: &str) -> String {
    match part.split_once(':') {
        Some((id, _)) => format!("{id}:…"),
        None => "…".into(),
    }
}

/// The last four characters of a secret: all of it the UI may ever see.
pub fn last4(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_with_fresh_nonces() {
        let ring = Keyring::parse(&Keyring::generate_spec("k1")).unwrap();
        let a = ring.seal("account-token-123");
        let b = ring.seal("account-token-123");
        assert_ne!(a.blob, b.blob, "each value gets its own nonce");
        assert_eq!(a.key_id, "k1");
        assert!(!String::from_utf8_lossy(&a.blob).contains("account-token-123"));
        assert_eq!(ring.open(&a).unwrap(), "account-token-123");
    }

    #[test]
    fn older_keys_still_open_after_rotation() {
        let k1 = Keyring::generate_spec("k1");
        let old = Keyring::parse(&k1).unwrap().seal("secret");
        let rotated = Keyring::parse(&format!("{},{k1}", Keyring::generate_spec("k2"))).unwrap();
        assert_eq!(rotated.primary_id(), "k2");
        assert_eq!(rotated.open(&old).unwrap(), "secret");
        assert_eq!(rotated.seal("x").key_id, "k2");
    }

    #[test]
    fn tampering_and_unknown_keys_are_refused() {
        let ring = Keyring::parse(&Keyring::generate_spec("k1")).unwrap();
        let mut s = ring.seal("secret");
        let last = s.blob.len() - 1;
        s.blob[last] ^= 1;
        assert_eq!(ring.open(&s), Err(CryptoError::Damaged));
        s.key_id = "nope".into();
        assert_eq!(ring.open(&s), Err(CryptoError::UnknownKey("nope".into())));
    }

    #[test]
    fn bad_specs_name_the_problem_without_the_key() {
        let err = Keyring::parse("k1:c2hvcnQ=").unwrap_err().to_string();
        assert!(err.contains("k1:…") && !err.contains("c2hvcnQ"), "{err}");
        assert_eq!(Keyring::parse(" , ").unwrap_err(), CryptoError::NoKeys);
    }

    #[test]
    fn last4_shows_only_the_tail() {
        assert_eq!(last4("abcdef"), "cdef");
        assert_eq!(last4("ab"), "ab");
    }
}
