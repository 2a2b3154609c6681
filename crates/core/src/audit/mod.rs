//! The audit record: an append-only chain of entries, each sealed with a keyed MAC
//! (HMAC-SM3, GB/T 32905 + RFC 2104) over the previous entry's MAC and a canonical form of
//! itself. Whoever can write the table but lacks the key cannot change, insert or remove an
//! entry without [`Verifier`] noticing at that entry (security-cn.md §1.3, §2.4).
//!
//! # Canonical encoding (version 1)
//!
//! An entry without its `mac` is written as one JSON object, UTF-8, no whitespace, keys in
//! byte order: `action`, `actor`, `at`, `detail`, `prev_mac`, `seq`, `subject_id`,
//! `subject_kind`.
//! - `at` is RFC 3339 in UTC with exactly six fractional digits and `Z`
//!   (`2026-11-27T08:00:00.000000Z`); entries keep microseconds only, which both databases
//!   store exactly.
//! - `seq` is a JSON integer; the other fields are JSON strings (serde_json's escaping: `"`,
//!   `\` and control characters escaped, everything else as UTF-8).
//! - `detail` is any JSON value, itself canonical: objects with keys in byte order at every
//!   depth, numbers as serde_json prints them, no whitespace.
//!
//! `mac = HMAC-SM3(key, prev_mac_bytes || canonical)`, where `prev_mac_bytes` are the 32 raw
//! bytes of the previous entry's MAC ([`GENESIS_MAC`], all zeros, before the first entry).
//! MACs are written as 64 lowercase hex digits.

use crate::ErrorCode;
use std::fmt;
use std::io;

use base64::Engine;
use chrono::{DateTime, Datelike, SubsecRound, Timelike, Utc};
use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;
use zeroize::{ZeroizeOnDrop, Zeroizing};

use crate::i18n::{Lang, Localized};

type HmacSm3 = hmac::Hmac<sm3::Sm3>;

/// Bytes in an SM3 digest, and so in an HMAC-SM3 tag.
pub const MAC_LEN: usize = 32;
/// The `prev_mac` of the first entry.
pub const GENESIS_MAC: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// The shortest key accepted: 128 bits, the strength of SM4 and half of SM3's output.
pub const MIN_KEY_LEN: usize = 16;
/// The actor of changes no account made (demo build, imports from the command line).
pub const SYSTEM_ACTOR: &str = "system";

/// Why an audit key, action or entry is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AuditError {
    #[error("the audit key is {found} bytes; it must be at least {MIN_KEY_LEN} bytes (32 recommended)")]
    KeyTooShort { found: usize },
    #[error("the audit key is neither hex nor base64")]
    KeyNotEncoded,
    #[error("an audit action is lowercase words joined by dots, like case.dispatch; got {0:?}")]
    BadAction(String),
    #[error("an audit entry needs an actor (an account or \"system\")")]
    NoActor,
}

impl Localized for AuditError {
    fn code(&self) -> ErrorCode {
        match self {
            AuditError::KeyTooShort { .. } | AuditError::KeyNotEncoded => ErrorCode::InvalidAuditKey,
            AuditError::BadAction(_) | AuditError::NoActor => ErrorCode::InvalidAuditEntry,
        }
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (AuditError::KeyTooShort { found }, Lang::Zh) => {
                format!("审计密钥只有{found}字节，至少需要{MIN_KEY_LEN}字节（建议32字节）")
            }
            (AuditError::KeyNotEncoded, Lang::Zh) => "审计密钥应为十六进制或Base64编码".into(),
            (AuditError::BadAction(a), Lang::Zh) => {
                format!("审计动作应为以点分隔的小写单词，如 case.dispatch；实际为“{a}”")
            }
            (AuditError::NoActor, Lang::Zh) => "审计记录必须注明操作者（账号或 system）".into(),
            (e, Lang::En) => e.to_string(),
        }
    }
}

/// The secret key of the audit chain. It comes from configuration, never from the database,
/// and is never printed: `Debug` shows `***`, and there is no `Display`. Its bytes are wiped
/// when it is dropped (GB/T 22239 §8.1.4.10 剩余信息保护).
#[derive(Clone, PartialEq, Eq)]
pub struct AuditKey(Zeroizing<Vec<u8>>);

impl ZeroizeOnDrop for AuditKey {}

impl AuditKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<AuditKey, AuditError> {
        if bytes.len() < MIN_KEY_LEN {
            return Err(AuditError::KeyTooShort { found: bytes.len() });
        }
        Ok(AuditKey(Zeroizing::new(bytes.to_vec())))
    }

    /// Reads a configured key: `hex:…` or `base64:…`, or without a prefix hex when the text is
    /// only hex digits (even in number) and standard base64 otherwise. Surrounding whitespace
    /// (a key file's final newline) is ignored.
    pub fn parse(text: &str) -> Result<AuditKey, AuditError> {
        let t = text.trim();
        let bytes: Vec<u8> = if let Some(h) = t.strip_prefix("hex:") {
            hex::decode(h.trim()).map_err(|_| AuditError::KeyNotEncoded)?
        } else if let Some(b) = t.strip_prefix("base64:") {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .map_err(|_| AuditError::KeyNotEncoded)?
        } else if !t.is_empty() && t.len().is_multiple_of(2) && t.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(t).map_err(|_| AuditError::KeyNotEncoded)?
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(t)
                .map_err(|_| AuditError::KeyNotEncoded)?
        };
        let bytes = Zeroizing::new(bytes);
        AuditKey::from_bytes(&bytes)
    }

    /// The key as hex, for writing a newly generated key file. Named so that a call stands out
    /// in review: the result is the secret itself.
    pub fn expose_hex(&self) -> String {
        hex::encode(self.0.as_slice())
    }

    fn hmac(&self) -> HmacSm3 {
        // HMAC accepts keys of any length; ours is at least MIN_KEY_LEN.
        <HmacSm3 as KeyInit>::new_from_slice(&self.0).expect("HMAC takes keys of any length")
    }
}

impl fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuditKey(***)")
    }
}

/// HMAC-SM3 of `data` under `key`, as lowercase hex.
pub fn hmac_sm3_hex(key: &AuditKey, data: &[u8]) -> String {
    let mut mac = key.hmac();
    mac.update(data);
    hex::encode(mac.finalize().into_bytes())
}

/// What happened, as lowercase words joined by dots: `territory.grid.import`, `case.dispatch`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AuditAction(String);

impl AuditAction {
    pub fn parse(s: &str) -> Result<AuditAction, AuditError> {
        let word_ok = |w: &str| {
            !w.is_empty()
                && w.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        };
        if s.len() <= 100 && s.contains('.') && s.split('.').all(word_ok) {
            Ok(AuditAction(s.to_string()))
        } else {
            Err(AuditError::BadAction(s.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AuditAction {
    type Error = AuditError;
    fn try_from(s: String) -> Result<Self, AuditError> {
        AuditAction::parse(&s)
    }
}

impl From<AuditAction> for String {
    fn from(a: AuditAction) -> String {
        a.0
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A change to be recorded; the store gives it its place in the chain.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEntry {
    pub at: DateTime<Utc>,
    /// An account, or [`SYSTEM_ACTOR`].
    pub actor: String,
    pub action: AuditAction,
    /// What kind of thing changed (`territory`, `case`, …) and which one.
    pub subject_kind: String,
    pub subject_id: String,
    pub detail: Value,
}

impl NewAuditEntry {
    pub fn new(
        at: DateTime<Utc>,
        actor: impl Into<String>,
        action: &str,
        subject_kind: impl Into<String>,
        subject_id: impl Into<String>,
        detail: Value,
    ) -> Result<NewAuditEntry, AuditError> {
        let actor = actor.into();
        if actor.trim().is_empty() {
            return Err(AuditError::NoActor);
        }
        Ok(NewAuditEntry {
            at,
            actor,
            action: AuditAction::parse(action)?,
            subject_kind: subject_kind.into(),
            subject_id: subject_id.into(),
            detail,
        })
    }
}

/// The end of a chain: the last entry's number and MAC (0 and [`GENESIS_MAC`] when empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Head {
    pub seq: i64,
    pub mac: String,
}

impl Head {
    pub fn genesis() -> Head {
        Head {
            seq: 0,
            mac: GENESIS_MAC.to_string(),
        }
    }
}

/// One entry of the audit record, as stored. Fields are plain text because a stored entry
/// may have been tampered with; [`Verifier`] is what decides whether it is genuine.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    /// 1-based, without gaps.
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub subject_kind: String,
    pub subject_id: String,
    pub detail: Value,
    /// The previous entry's `mac` (hex).
    pub prev_mac: String,
    /// HMAC-SM3 over `prev_mac` and the canonical form of this entry (hex).
    pub mac: String,
}

impl AuditEntry {
    /// Places `new` after `head` and computes its MAC. `at` keeps microseconds only.
    pub fn seal(head: &Head, new: NewAuditEntry, key: &AuditKey) -> AuditEntry {
        let mut entry = AuditEntry {
            seq: head.seq + 1,
            at: new.at.trunc_subsecs(6),
            actor: new.actor,
            action: new.action.0,
            subject_kind: new.subject_kind,
            subject_id: new.subject_id,
            detail: new.detail,
            prev_mac: head.mac.clone(),
            mac: String::new(),
        };
        entry.mac = entry.expected_mac(key).unwrap_or_default();
        entry
    }

    fn fields<'a>(&'a self, detail: &'a str) -> Canonical<'a> {
        Canonical {
            seq: self.seq,
            at: &self.at,
            actor: &self.actor,
            action: &self.action,
            subject_kind: &self.subject_kind,
            subject_id: &self.subject_id,
            detail,
            prev_mac: &self.prev_mac,
        }
    }

    /// The canonical encoding of this entry without its MAC (see the module documentation).
    pub fn canonical(&self) -> String {
        let detail = canonical_json(&self.detail);
        let mut out = Vec::with_capacity(256);
        self.fields(&detail)
            .write_to(&mut out)
            .expect("writing to a Vec cannot fail");
        String::from_utf8(out).expect("the canonical form is UTF-8")
    }

    /// The MAC this entry should carry, or `None` when its `prev_mac` is not 32 bytes of hex.
    pub fn expected_mac(&self, key: &AuditKey) -> Option<String> {
        let prev = decode_mac(&self.prev_mac)?;
        let detail = canonical_json(&self.detail);
        Some(hex::encode(MacKey::new(key).tag(&prev, &self.fields(&detail))))
    }

    /// Whether the entry is genuine: [`BrokenReason::Malformed`] for a MAC that is not 64 hex
    /// digits, [`BrokenReason::MacMismatch`] for one that does not match.
    fn check(&self, key: &MacKey) -> Result<(), BrokenReason> {
        let (prev, tag) = decode_macs(&self.prev_mac, &self.mac)?;
        let detail = canonical_json(&self.detail);
        if key.verify(&prev, &self.fields(&detail), &tag) {
            Ok(())
        } else {
            Err(BrokenReason::MacMismatch)
        }
    }
}

/// An entry as read from the database, before anything about it is trusted: `detail` is the
/// stored JSON text. Verifying it needs no parsing when the text is the canonical form that was
/// sealed (it always is as written by [`AuditEntry::seal`] and the store), so a long record is
/// checked without building a JSON value per entry.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEntry {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub subject_kind: String,
    pub subject_id: String,
    /// The stored JSON text of the detail.
    pub detail: String,
    pub prev_mac: String,
    pub mac: String,
}

impl StoredEntry {
    fn fields<'a>(&'a self, detail: &'a str) -> Canonical<'a> {
        Canonical {
            seq: self.seq,
            at: &self.at,
            actor: &self.actor,
            action: &self.action,
            subject_kind: &self.subject_kind,
            subject_id: &self.subject_id,
            detail,
            prev_mac: &self.prev_mac,
        }
    }

    /// Whether the stored entry is the one sealed. The stored detail text is tried first as it
    /// is; only if that fails is it parsed and put in canonical form (a detail that is not JSON
    /// is [`BrokenReason::Malformed`], like a MAC that is not 64 hex digits).
    pub fn check(&self, key: &MacKey) -> Result<(), BrokenReason> {
        let (prev, tag) = decode_macs(&self.prev_mac, &self.mac)?;
        if key.verify(&prev, &self.fields(&self.detail), &tag) {
            return Ok(());
        }
        let value: Value = serde_json::from_str(&self.detail).map_err(|e| BrokenReason::Malformed {
            detail: format!("detail: {e}"),
        })?;
        let canonical = canonical_json(&value);
        if canonical != self.detail && key.verify(&prev, &self.fields(&canonical), &tag) {
            return Ok(());
        }
        Err(BrokenReason::MacMismatch)
    }

    /// The entry with its detail parsed.
    pub fn into_entry(self) -> Result<AuditEntry, BrokenReason> {
        let detail = serde_json::from_str(&self.detail).map_err(|e| BrokenReason::Malformed {
            detail: format!("detail: {e}"),
        })?;
        Ok(AuditEntry {
            seq: self.seq,
            at: self.at,
            actor: self.actor,
            action: self.action,
            subject_kind: self.subject_kind,
            subject_id: self.subject_id,
            detail,
            prev_mac: self.prev_mac,
            mac: self.mac,
        })
    }
}

/// The fields of an entry's canonical form, borrowed; `detail` is canonical JSON text.
struct Canonical<'a> {
    seq: i64,
    at: &'a DateTime<Utc>,
    actor: &'a str,
    action: &'a str,
    subject_kind: &'a str,
    subject_id: &'a str,
    detail: &'a str,
    prev_mac: &'a str,
}

impl Canonical<'_> {
    /// Writes the canonical form (see the module documentation) without building it first.
    fn write_to<W: io::Write>(&self, w: &mut W) -> io::Result<()> {
        w.write_all(b"{\"action\":")?;
        write_json_string(w, self.action)?;
        w.write_all(b",\"actor\":")?;
        write_json_string(w, self.actor)?;
        w.write_all(b",\"at\":\"")?;
        write_time(w, self.at)?;
        w.write_all(b"\",\"detail\":")?;
        w.write_all(self.detail.as_bytes())?;
        w.write_all(b",\"prev_mac\":")?;
        write_json_string(w, self.prev_mac)?;
        write!(w, ",\"seq\":{}", self.seq)?;
        w.write_all(b",\"subject_id\":")?;
        write_json_string(w, self.subject_id)?;
        w.write_all(b",\"subject_kind\":")?;
        write_json_string(w, self.subject_kind)?;
        w.write_all(b"}")
    }
}

fn write_json_string<W: io::Write>(w: &mut W, s: &str) -> io::Result<()> {
    serde_json::to_writer(w, s).map_err(io::Error::other)
}

/// `canonical_time` without a format string or an allocation (the same text; chrono's format
/// for years outside 0..=9999 and leap seconds).
fn write_time<W: io::Write>(w: &mut W, at: &DateTime<Utc>) -> io::Result<()> {
    let (year, nanos) = (at.year(), at.nanosecond());
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        return w.write_all(canonical_time(at).as_bytes());
    }
    let mut b = *b"0000-00-00T00:00:00.000000Z";
    let mut put = |from: usize, digits: usize, mut v: u32| {
        for i in (from..from + digits).rev() {
            b[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, year as u32);
    put(5, 2, at.month());
    put(8, 2, at.day());
    put(11, 2, at.hour());
    put(14, 2, at.minute());
    put(17, 2, at.second());
    put(20, 6, nanos / 1_000);
    w.write_all(&b)
}

/// The audit key made ready to MAC: HMAC's inner and outer states computed once and cloned per
/// entry, rather than the key being padded and hashed again for each.
#[derive(Clone)]
pub struct MacKey(HmacSm3);

impl MacKey {
    pub fn new(key: &AuditKey) -> MacKey {
        MacKey(key.hmac())
    }

    fn keyed(&self, prev: &[u8; MAC_LEN], fields: &Canonical<'_>) -> HmacSm3 {
        let mut mac = self.0.clone();
        mac.update(prev);
        fields.write_to(&mut MacSink(&mut mac)).expect("a MAC takes any bytes");
        mac
    }

    fn tag(&self, prev: &[u8; MAC_LEN], fields: &Canonical<'_>) -> [u8; MAC_LEN] {
        self.keyed(prev, fields).finalize().into_bytes().into()
    }

    /// Whether `tag` is the MAC of `fields` after `prev`, compared in constant time.
    fn verify(&self, prev: &[u8; MAC_LEN], fields: &Canonical<'_>, tag: &[u8; MAC_LEN]) -> bool {
        self.keyed(prev, fields).verify_slice(tag).is_ok()
    }

    /// HMAC-SM3 of `data`, as lowercase hex.
    pub fn hex(&self, data: &[u8]) -> String {
        let mut mac = self.0.clone();
        mac.update(data);
        hex::encode(mac.finalize().into_bytes())
    }
}

impl fmt::Debug for MacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MacKey(***)")
    }
}

/// Feeds what is written into a MAC.
struct MacSink<'a>(&'a mut HmacSm3);

impl io::Write for MacSink<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn decode_mac(hex_text: &str) -> Option<[u8; MAC_LEN]> {
    let mut out = [0u8; MAC_LEN];
    hex::decode_to_slice(hex_text, &mut out).ok()?;
    Some(out)
}

/// An entry's `prev_mac` and `mac` as bytes, or why not.
fn decode_macs(prev_mac: &str, mac: &str) -> Result<([u8; MAC_LEN], [u8; MAC_LEN]), BrokenReason> {
    let malformed = |field: &str| BrokenReason::Malformed {
        detail: format!("{field} is not {} hex digits", 2 * MAC_LEN),
    };
    let prev = decode_mac(prev_mac).ok_or_else(|| malformed("prev_mac"))?;
    let tag = decode_mac(mac).ok_or_else(|| malformed("mac"))?;
    Ok((prev, tag))
}

/// RFC 3339, UTC, six fractional digits: `2026-11-27T08:00:00.000000Z`.
pub fn canonical_time(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// A JSON value with object keys in byte order at every depth and no whitespace.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    push_canonical_json(&mut out, value);
    out
}

fn push_json_string(out: &mut String, s: &str) {
    out.push_str(&serde_json::to_string(s).expect("a string always serialises"));
}

fn push_canonical_json(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => push_json_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_canonical_json(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            // Sorted here, not by serde_json's map, so that a crate enabling `preserve_order`
            // elsewhere in the build cannot change the encoding.
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_json_string(out, k);
                out.push(':');
                push_canonical_json(out, &map[k]);
            }
            out.push('}');
        }
    }
}

/// Why the chain is broken at an entry.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BrokenReason {
    #[error("entry {expected} is missing (the next stored entry is {found})")]
    SeqGap { expected: i64, found: i64 },
    #[error("its prev_mac does not match the MAC of the entry before it")]
    PrevMacMismatch,
    #[error("its MAC does not match its content: the entry was changed, or sealed with another key")]
    MacMismatch,
    #[error("the stored entry cannot be read: {detail}")]
    Malformed { detail: String },
    #[error("the chain ends at entry {last} but its head says {head}: entries were removed from the end")]
    Truncated { last: i64, head: i64 },
    #[error("the chain's head does not match its last entry")]
    HeadMismatch,
    /// The record ends before the entry a checkpoint kept outside the database names.
    #[error("{}", behind_checkpoint_en(*last, *checkpoint))]
    BehindCheckpoint { last: i64, checkpoint: i64 },
    /// The entry a checkpoint names carries another MAC than the checkpoint: the record was
    /// rewritten up to it.
    #[error("its MAC differs from the checkpoint's: the record was rewritten up to this entry")]
    CheckpointMismatch,
    /// The checkpoint file is unreadable or its signature does not match (changed, or signed
    /// with another key).
    #[error("the checkpoint cannot be trusted ({file}): {why}")]
    CheckpointInvalid {
        file: String,
        why: checkpoint::CheckpointError,
    },
    /// A table of the record is gone.
    #[error("the table {table} is missing")]
    TableMissing { table: String },
}

fn behind_checkpoint_en(last: i64, checkpoint: i64) -> String {
    if last == 0 {
        format!("the record is empty but the checkpoint names entry {checkpoint}: entries were removed")
    } else {
        format!(
            "the record ends at entry {last} but the checkpoint says {checkpoint}: entries were removed from the end"
        )
    }
}

impl Localized for BrokenReason {
    fn code(&self) -> ErrorCode {
        match self {
            BrokenReason::SeqGap { .. } => ErrorCode::SeqGap,
            BrokenReason::PrevMacMismatch => ErrorCode::PrevMacMismatch,
            BrokenReason::MacMismatch => ErrorCode::MacMismatch,
            BrokenReason::Malformed { .. } => ErrorCode::Malformed,
            BrokenReason::Truncated { .. } => ErrorCode::Truncated,
            BrokenReason::HeadMismatch => ErrorCode::HeadMismatch,
            BrokenReason::BehindCheckpoint { .. } => ErrorCode::BehindCheckpoint,
            BrokenReason::CheckpointMismatch => ErrorCode::CheckpointMismatch,
            BrokenReason::CheckpointInvalid { .. } => ErrorCode::CheckpointInvalid,
            BrokenReason::TableMissing { .. } => ErrorCode::TableMissing,
        }
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (BrokenReason::SeqGap { expected, found }, Lang::Zh) => {
                format!("第{expected}条记录缺失（其后存储的是第{found}条）")
            }
            (BrokenReason::PrevMacMismatch, Lang::Zh) => "本条的前序校验码与上一条记录的校验码不符".into(),
            (BrokenReason::MacMismatch, Lang::Zh) => "本条校验码与内容不符：记录被改动，或以其他密钥生成".into(),
            (BrokenReason::Malformed { detail }, Lang::Zh) => format!("存储的记录无法读取：{detail}"),
            (BrokenReason::Truncated { last, head }, Lang::Zh) => {
                format!("记录止于第{last}条，但链头为第{head}条：末尾记录被删除")
            }
            (BrokenReason::HeadMismatch, Lang::Zh) => "链头与最后一条记录不符".into(),
            (BrokenReason::BehindCheckpoint { last: 0, checkpoint }, Lang::Zh) => {
                format!("审计记录为空，但检查点记至第{checkpoint}条：记录被删除")
            }
            (BrokenReason::BehindCheckpoint { last, checkpoint }, Lang::Zh) => {
                format!("记录止于第{last}条，但检查点记至第{checkpoint}条：末尾记录被删除")
            }
            (BrokenReason::CheckpointMismatch, Lang::Zh) => "本条校验码与检查点不符：记录被改写至此条".into(),
            (BrokenReason::CheckpointInvalid { file, why }, Lang::Zh) => {
                format!("检查点不可信（{file}）：{}", why.message(lang))
            }
            (BrokenReason::TableMissing { table }, Lang::Zh) => format!("数据表 {table} 不存在"),
            (e, Lang::En) => e.to_string(),
        }
    }
}

/// The outcome of verifying a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Verdict {
    /// Every entry checked is genuine; `entries` is the length of the record (its last entry's
    /// number) and `head` its last MAC (the genesis MAC when empty).
    Intact { entries: u64, head: String },
    /// The first entry found broken, and why.
    Broken { broken_at: i64, reason: BrokenReason },
}

impl Verdict {
    pub fn is_intact(&self) -> bool {
        matches!(self, Verdict::Intact { .. })
    }
}

/// Checks entries one by one, in `seq` order, keeping only the last MAC: a chain of any length
/// is verified in constant memory.
///
/// With an anchor (a [`checkpoint::Checkpoint`] kept outside the database) it also checks that
/// the entry the anchor names carries the anchor's MAC and that the record reaches it. Resumed
/// at an anchor ([`Verifier::resume_at`]) it starts at the anchor's own entry, whose MAC must be
/// genuine and equal to the anchor's, and checks only what follows: the entries before were
/// checked when the anchor was written.
#[derive(Debug)]
pub struct Verifier {
    key: MacKey,
    head: Head,
    checked: u64,
    anchor: Option<Head>,
    /// The first entry pushed is the anchor's own: its `prev_mac` is taken as stored.
    resumed: bool,
    broken: Option<(i64, BrokenReason)>,
}

/// A stored entry, or its number and why it could not be read.
pub type Read = Result<StoredEntry, (i64, String)>;

/// Entries per thread below which a batch is checked on the calling thread.
const PARALLEL_MIN: usize = 1_024;

impl Verifier {
    pub fn new(key: &AuditKey) -> Verifier {
        Verifier {
            key: MacKey::new(key),
            head: Head::genesis(),
            checked: 0,
            anchor: None,
            resumed: false,
            broken: None,
        }
    }

    /// Verifies from the first entry, checking the entry `anchor` names on the way and, at
    /// [`Verifier::check_anchor`], that the record reaches it.
    pub fn anchored(key: &AuditKey, anchor: Head) -> Verifier {
        let mut v = Verifier::new(key);
        if anchor.seq > 0 {
            v.anchor = Some(anchor);
        }
        v
    }

    /// Verifies from `anchor`'s own entry on (see the type's documentation).
    pub fn resume_at(key: &AuditKey, anchor: Head) -> Verifier {
        let mut v = Verifier::anchored(key, anchor.clone());
        if anchor.seq > 0 {
            v.head = Head {
                seq: anchor.seq - 1,
                mac: String::new(),
            };
            v.resumed = true;
        }
        v
    }

    /// Takes the next entry. Returns `false` once the chain is found broken (later entries are
    /// then ignored: the first break is the one reported).
    pub fn push(&mut self, entry: &AuditEntry) -> bool {
        let genuine = if self.broken.is_some() {
            Ok(())
        } else {
            entry.check(&self.key)
        };
        self.link(entry.seq, &entry.prev_mac, &entry.mac, genuine)
    }

    /// Takes the next entry as stored.
    pub fn push_stored(&mut self, entry: &StoredEntry) -> bool {
        let genuine = if self.broken.is_some() {
            Ok(())
        } else {
            entry.check(&self.key)
        };
        self.link(entry.seq, &entry.prev_mac, &entry.mac, genuine)
    }

    /// Takes the next entries as read, in order: their MACs are checked on up to `threads`
    /// threads (each entry's MAC needs only its own `prev_mac`), then linked in order here.
    /// Returns `false` once the chain is found broken.
    pub fn push_batch(&mut self, batch: &[Read], threads: usize) -> bool {
        if self.broken.is_some() {
            return false;
        }
        let check = |r: &Read| match r {
            Ok(e) => e.check(&self.key),
            Err(_) => Ok(()),
        };
        let threads = threads.clamp(1, batch.len().div_ceil(PARALLEL_MIN).max(1));
        let genuine: Vec<Result<(), BrokenReason>> = if threads == 1 {
            batch.iter().map(check).collect()
        } else {
            let size = batch.len().div_ceil(threads);
            std::thread::scope(|s| {
                let parts: Vec<_> = batch
                    .chunks(size)
                    .map(|part| s.spawn(move || part.iter().map(check).collect::<Vec<_>>()))
                    .collect();
                parts
                    .into_iter()
                    .flat_map(|p| p.join().expect("checking MACs does not panic"))
                    .collect()
            })
        };
        for (read, genuine) in batch.iter().zip(genuine) {
            let linked = match read {
                Ok(e) => self.link(e.seq, &e.prev_mac, &e.mac, genuine),
                Err((seq, detail)) => {
                    self.malformed(*seq, detail.clone());
                    false
                }
            };
            if !linked {
                return false;
            }
        }
        true
    }

    fn link(&mut self, seq: i64, prev_mac: &str, mac: &str, genuine: Result<(), BrokenReason>) -> bool {
        if self.broken.is_some() {
            return false;
        }
        let expected = self.head.seq + 1;
        let first_resumed = self.resumed && self.checked == 0;
        let fault = if seq != expected {
            Some((expected, BrokenReason::SeqGap { expected, found: seq }))
        } else if let Err(reason @ BrokenReason::Malformed { .. }) = genuine {
            Some((seq, reason))
        } else if !first_resumed && prev_mac != self.head.mac {
            Some((seq, BrokenReason::PrevMacMismatch))
        } else if let Err(reason) = genuine {
            Some((seq, reason))
        } else if self.anchor.as_ref().is_some_and(|a| a.seq == seq && a.mac != mac) {
            Some((seq, BrokenReason::CheckpointMismatch))
        } else {
            None
        };
        if let Some(f) = fault {
            self.broken = Some(f);
            return false;
        }
        self.head.seq = seq;
        self.head.mac.clear();
        self.head.mac.push_str(mac);
        self.checked += 1;
        true
    }

    /// Records that the entry after the last one pushed could not be read.
    pub fn malformed(&mut self, seq: i64, detail: impl Into<String>) {
        if self.broken.is_some() {
            return;
        }
        let expected = self.head.seq + 1;
        self.broken = Some(if seq != expected {
            (expected, BrokenReason::SeqGap { expected, found: seq })
        } else {
            (seq, BrokenReason::Malformed { detail: detail.into() })
        });
    }

    /// Records that the chain cannot be verified at all from the next entry on (a table gone,
    /// a checkpoint that cannot be trusted).
    pub fn fail(&mut self, reason: BrokenReason) {
        if self.broken.is_none() {
            self.broken = Some((self.head.seq + 1, reason));
        }
    }

    /// Checks that the record reached its anchor: entries removed from the end back past the
    /// checkpoint show here, even when the head row was rewritten to match.
    pub fn check_anchor(&mut self) {
        if self.broken.is_some() {
            return;
        }
        if let Some(anchor) = &self.anchor
            && anchor.seq > self.head.seq
        {
            self.broken = Some((
                self.head.seq + 1,
                BrokenReason::BehindCheckpoint {
                    last: self.head.seq,
                    checkpoint: anchor.seq,
                },
            ));
        }
    }

    /// Compares the verified chain's end with a head kept elsewhere (the store's head row, or
    /// a checkpoint written down by an operator). Catches entries removed from the end, which
    /// the chain alone cannot show.
    pub fn check_head(&mut self, head: &Head) {
        if self.broken.is_some() {
            return;
        }
        if head.seq > self.head.seq {
            self.broken = Some((
                self.head.seq + 1,
                BrokenReason::Truncated {
                    last: self.head.seq,
                    head: head.seq,
                },
            ));
        } else if head.seq < self.head.seq || head.mac != self.head.mac {
            self.broken = Some((head.seq.max(1), BrokenReason::HeadMismatch));
        }
    }

    /// The last genuine entry's number and MAC.
    pub fn head(&self) -> &Head {
        &self.head
    }

    /// How many entries were checked.
    pub fn checked(&self) -> u64 {
        self.checked
    }

    pub fn is_broken(&self) -> bool {
        self.broken.is_some()
    }

    pub fn finish(self) -> Verdict {
        match self.broken {
            Some((broken_at, reason)) => Verdict::Broken { broken_at, reason },
            None => Verdict::Intact {
                entries: self.head.seq.max(0) as u64,
                head: if self.head.seq == 0 {
                    GENESIS_MAC.to_string()
                } else {
                    self.head.mac
                },
            },
        }
    }
}

pub mod checkpoint;

#[cfg(test)]
mod tests;
