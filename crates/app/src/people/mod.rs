//! People: accounts, sessions and the secrets they carry.

pub mod residents;
pub mod sms;

use rand::Rng;

/// 256 random bits as 64 hex digits: session ids, CSRF tokens, import job ids.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
