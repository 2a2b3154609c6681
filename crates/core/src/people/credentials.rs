//! Secrets of accounts: Argon2id password hashes and API bearer tokens (stored only as hashes).

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use sha2::{Digest, Sha256};
use thiserror::Error;

#[derive(Debug, Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// An Argon2id hash (PHC string format) with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, HashError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Whether `password` matches a stored PHC hash; a malformed hash never matches.
pub fn verify_password(password: &str, phc: &str) -> bool {
    Argon2::default().verify_password(password.as_bytes(), phc).is_ok()
}

/// A hash of nobody's password, made as real ones are: checking a password against it costs what
/// checking a real one costs, so that a user name nobody has answers no faster than a wrong
/// password (names cannot be told apart by timing).
pub fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash_password("nobody has this password").unwrap_or_default())
}

/// A bearer token as handed to a client once: 32 random bytes in hex. Only its hash is stored,
/// so a copy of the database does not let anyone act as the holder.
pub struct IssuedToken {
    pub secret: String,
    pub hash: String,
}

impl IssuedToken {
    pub fn from_random(bytes: [u8; 32]) -> IssuedToken {
        let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let hash = token_hash(&secret);
        IssuedToken { secret, hash }
    }
}

/// The stored form of a token: SHA-256 hex (a token has 256 bits of entropy, so no salt or slow
/// hash is needed).
pub fn token_hash(secret: &str) -> String {
    Sha256::digest(secret.trim().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let h = hash_password("demo").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("demo", &h));
        assert!(!verify_password("Demo", &h));
        assert!(!verify_password("demo", "not a hash"));
        assert_ne!(h, hash_password("demo").unwrap(), "salts differ");
        assert!(dummy_hash().starts_with("$argon2id$"));
        assert!(!verify_password("", dummy_hash()));
    }

    #[test]
    fn tokens_are_stored_as_hashes() {
        let t = IssuedToken::from_random([7; 32]);
        assert_eq!(t.secret.len(), 64);
        assert_eq!(t.hash, token_hash(&t.secret));
        assert_ne!(t.hash, t.secret);
    }
}
