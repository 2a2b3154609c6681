//! A checkpoint of the audit record: its last entry's number and MAC at a moment, signed with the
//! audit key and kept outside the database (a file beside the key, and whatever an operator's
//! witness command does with it). Whoever can write the database but not the checkpoint cannot
//! remove entries from the end back past it, nor rewrite the record up to it, unseen
//! (security-cn.md §1.3, §2.4).
//!
//! # Format (version 1)
//!
//! One line of JSON: `{"at":"2026-12-07T14:00:00.000000Z","mac":"<64 hex>","seq":N,"sig":"<64 hex>"}`
//! and a newline. `sig = HMAC-SM3(key, "gongzhi-audit-checkpoint-v1\n" || body)`, where `body` is
//! the same object without `sig`: `{"at":…,"mac":…,"seq":N}`. The prefix keeps a signature from
//! ever being taken for an entry's MAC (those start with 32 raw bytes and then `{"action"`).

use chrono::{DateTime, SubsecRound, Utc};
use hmac::Mac;
use serde::Deserialize;
use thiserror::Error;

use super::{AuditKey, Head, MAC_LEN, decode_mac};
use crate::ErrorCode;
use crate::i18n::{Lang, Localized};

const DOMAIN: &[u8] = b"gongzhi-audit-checkpoint-v1\n";

/// The record's end at a moment, as the audit key vouches for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub seq: i64,
    pub mac: String,
    pub at: DateTime<Utc>,
}

/// Why a checkpoint's text is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error, serde::Serialize)]
pub enum CheckpointError {
    #[error("the checkpoint cannot be read: {0}")]
    Unreadable(String),
    #[error("the checkpoint's signature does not match: it was changed, or signed with another key")]
    BadSignature,
}

impl Localized for CheckpointError {
    fn code(&self) -> ErrorCode {
        ErrorCode::CheckpointInvalid
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (CheckpointError::Unreadable(d), Lang::Zh) => format!("检查点无法读取：{d}"),
            (CheckpointError::BadSignature, Lang::Zh) => "检查点的签名不符：检查点被改动，或以其他密钥签发".into(),
            (e, Lang::En) => e.to_string(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    at: String,
    mac: String,
    seq: i64,
    sig: String,
}

impl Checkpoint {
    /// The record's end `head` at `at` (kept to the microsecond).
    pub fn of(head: &Head, at: DateTime<Utc>) -> Checkpoint {
        Checkpoint {
            seq: head.seq,
            mac: head.mac.clone(),
            at: at.trunc_subsecs(6),
        }
    }

    /// The entry it names and that entry's MAC.
    pub fn head(&self) -> Head {
        Head {
            seq: self.seq,
            mac: self.mac.clone(),
        }
    }

    fn body(&self) -> String {
        format!(
            "{{\"at\":\"{}\",\"mac\":{},\"seq\":{}}}",
            super::canonical_time(&self.at),
            serde_json::to_string(&self.mac).expect("a string always serialises"),
            self.seq
        )
    }

    fn signature(&self, key: &AuditKey) -> String {
        let mut mac = key.hmac();
        mac.update(DOMAIN);
        mac.update(self.body().as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The checkpoint as the text of its file (and of a witness's input), signed with `key`.
    pub fn to_signed_text(&self, key: &AuditKey) -> String {
        let body = self.body();
        format!("{},\"sig\":\"{}\"}}\n", &body[..body.len() - 1], self.signature(key))
    }

    /// Reads a checkpoint's text and checks its signature with `key` (in constant time).
    pub fn parse(text: &str, key: &AuditKey) -> Result<Checkpoint, CheckpointError> {
        let stored: Stored =
            serde_json::from_str(text.trim()).map_err(|e| CheckpointError::Unreadable(e.to_string()))?;
        let at = DateTime::parse_from_rfc3339(&stored.at)
            .map_err(|e| CheckpointError::Unreadable(format!("at: {e}")))?
            .with_timezone(&Utc);
        if stored.seq < 0 || decode_mac(&stored.mac).is_none() {
            return Err(CheckpointError::Unreadable(format!(
                "seq must be 0 or more and mac {} hex digits",
                2 * MAC_LEN
            )));
        }
        let checkpoint = Checkpoint {
            seq: stored.seq,
            mac: stored.mac,
            at,
        };
        let sig = decode_mac(&stored.sig).ok_or(CheckpointError::BadSignature)?;
        let mut mac = key.hmac();
        mac.update(DOMAIN);
        mac.update(checkpoint.body().as_bytes());
        mac.verify_slice(&sig).map_err(|_| CheckpointError::BadSignature)?;
        Ok(checkpoint)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn key() -> AuditKey {
        AuditKey::from_bytes(&[7; 32]).unwrap()
    }

    fn checkpoint() -> Checkpoint {
        Checkpoint::of(
            &Head {
                seq: 470_000,
                mac: "ab".repeat(32),
            },
            Utc.with_ymd_and_hms(2026, 12, 7, 14, 0, 0).unwrap(),
        )
    }

    #[test]
    fn a_signed_checkpoint_reads_back_with_its_key_only() {
        let text = checkpoint().to_signed_text(&key());
        assert!(
            text.starts_with(r#"{"at":"2026-12-07T14:00:00.000000Z","mac":"abab"#),
            "{text}"
        );
        assert!(text.ends_with("\"}\n"), "{text}");
        assert_eq!(Checkpoint::parse(&text, &key()), Ok(checkpoint()));
        let other = AuditKey::from_bytes(&[8; 32]).unwrap();
        assert_eq!(Checkpoint::parse(&text, &other), Err(CheckpointError::BadSignature));
    }

    #[test]
    fn a_changed_checkpoint_is_refused_naming_why() {
        let text = checkpoint().to_signed_text(&key());
        // Moving the anchor back, to hide entries removed from the end.
        let moved = text.replace("470000", "460000");
        assert_eq!(Checkpoint::parse(&moved, &key()), Err(CheckpointError::BadSignature));
        let garbled = Checkpoint::parse("{\"seq\": 1}", &key()).unwrap_err();
        assert!(matches!(garbled, CheckpointError::Unreadable(_)));
        assert!(garbled.message(Lang::Zh).starts_with("检查点无法读取"), "{garbled}");
        let extra = text.replacen("{", "{\"note\":\"x\",", 1);
        assert!(matches!(
            Checkpoint::parse(&extra, &key()),
            Err(CheckpointError::Unreadable(_))
        ));
    }
}
