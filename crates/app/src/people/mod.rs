//! People: accounts, sessions and the secrets they carry. The one staff sign-in rule (rate
//! limit, lockout per source, audit) in [`sign_in`], bearer tokens of API clients in [`tokens`],
//! staff sessions of the pages in [`sessions`], account administration (三员分立) in
//! [`accounts`], integrations' API keys in [`api_keys`], in-memory rate limits in [`throttle`].

pub mod accounts;
pub mod api_keys;
pub mod sessions;
pub mod sign_in;
pub mod throttle;
pub mod tokens;

pub mod residents;
pub mod sealed;
pub mod sms;

use rand::Rng;

pub use gongzhi_store::people::Account;
pub use gongzhi_store::people::admin::AccountWithGrants;

/// 256 random bits as 64 hex digits: session ids, CSRF tokens, import job ids.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `password` is the one `hash` was made of. Argon2 is deliberately slow: it runs off the
/// async workers.
async fn password_matches(password: &str, hash: &str) -> bool {
    let (password, hash) = (password.to_string(), hash.to_string());
    tokio::task::spawn_blocking(move || gongzhi_core::people::credentials::verify_password(&password, &hash))
        .await
        .unwrap_or(false)
}

/// The Argon2 hash of a new password, made off the async workers.
async fn hashed(password: &str) -> Result<String, crate::AppError> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || gongzhi_core::people::credentials::hash_password(&password))
        .await
        .map_err(|e| crate::AppError::internal(&e))?
        .map_err(|e| crate::AppError::internal(&e))
}
