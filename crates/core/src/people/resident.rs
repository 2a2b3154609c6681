//! Residents (居民) who sign in on their phones with a one-time code: the phone number as typed,
//! checked and normalised; its keyed hash (the only form the database keeps for lookup) and mask
//! (前3后4, the only form shown); the codes and the rules of checking one. A resident acts in the
//! case loop as `resident:ID`, never under the phone number.

use crate::ErrorCode;
use chrono::{DateTime, Duration, Utc};

use crate::audit::{AuditKey, hmac_sm3_hex};
use crate::i18n::{Lang, Localized};
use crate::people::masking::mask_phone;
use crate::people::policy::SecurityPolicy;

/// The account name a resident acts under in cases and the audit record.
pub fn resident_actor(id: i64) -> String {
    format!("resident:{id}")
}

/// The resident id behind an actor name made by [`resident_actor`].
pub fn resident_id(actor: &str) -> Option<i64> {
    actor.strip_prefix("resident:")?.parse().ok()
}

/// A mainland mobile number: 11 digits starting 13–19 (an optional `+86`/`86` and spaces or
/// dashes are dropped).
#[derive(Clone, PartialEq, Eq)]
pub struct Phone(String);

impl std::fmt::Debug for Phone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a mainland mobile number (11 digits starting 13 to 19)")]
pub struct BadPhone;

impl Localized for BadPhone {
    fn code(&self) -> ErrorCode {
        ErrorCode::InvalidPhone
    }
    fn message(&self, lang: Lang) -> String {
        lang.pick(
            "手机号 phone 应为11位大陆手机号（1开头，第二位3至9）",
            "phone: not a mainland mobile number (11 digits starting 13 to 19)",
        )
        .to_string()
    }
}

impl Phone {
    pub fn parse(text: &str) -> Result<Phone, BadPhone> {
        let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let digits = digits
            .strip_prefix("+86")
            .or_else(|| (digits.len() == 13).then(|| digits.strip_prefix("86")).flatten())
            .unwrap_or(&digits);
        let b = digits.as_bytes();
        if b.len() == 11 && b.iter().all(u8::is_ascii_digit) && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) {
            Ok(Phone(digits.to_string()))
        } else {
            Err(BadPhone)
        }
    }

    /// `138****0000`: what pages and the record show.
    pub fn masked(&self) -> String {
        mask_phone(&self.0)
    }

    /// The keyed hash the database finds a resident by: without the key, the 10⁹ possible
    /// numbers cannot be tried against it.
    pub fn lookup_hash(&self, key: &AuditKey) -> String {
        hmac_sm3_hex(key, format!("phone:{}", self.0).as_bytes())
    }

    /// The number itself, for the SMS gateway only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The key of resident lookups, derived from the audit key under its own label, so that it never
/// equals the key of the record and needs no second secret to keep.
pub fn resident_key(audit_key: &AuditKey) -> AuditKey {
    let derived = hmac_sm3_hex(audit_key, b"gongzhi resident phone lookup v1");
    AuditKey::parse(&derived).expect("an HMAC-SM3 value is a 32-byte key")
}

/// A code from 6 random decimal digits drawn by the caller (the core draws no randomness).
pub fn code_from(n: u32) -> String {
    format!("{:06}", n % 1_000_000)
}

/// How a code is kept: keyed to the phone, so the hash of one phone's code says nothing of
/// another's, and 10⁶ codes cannot be tried without the key.
pub fn code_hash(key: &AuditKey, phone_hash: &str, code: &str) -> String {
    hmac_sm3_hex(key, format!("code:{phone_hash}:{}", code.trim()).as_bytes())
}

/// A code as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCode {
    pub code_hash: String,
    pub sent_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub attempts: i64,
}

/// Why a code is refused (always about the field `code`, except a resend too soon: `phone`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeProblem {
    #[error("wait {0} s before asking for another code")]
    TooSoon(i64),
    #[error("no code was sent to this phone; ask for one first")]
    NoCode,
    #[error("the code has expired; ask for a new one")]
    Expired,
    #[error("too many wrong codes; ask for a new one")]
    TooManyAttempts,
    #[error("wrong code ({0} tries left)")]
    Wrong(i64),
    #[error("the code is 6 digits")]
    Malformed,
}

impl CodeProblem {
    pub fn field(&self) -> &'static str {
        match self {
            CodeProblem::TooSoon(_) => "phone",
            _ => "code",
        }
    }
}

impl Localized for CodeProblem {
    fn code(&self) -> ErrorCode {
        match self {
            CodeProblem::TooSoon(_) => ErrorCode::CodeTooSoon,
            CodeProblem::NoCode => ErrorCode::CodeNotSent,
            CodeProblem::Expired => ErrorCode::CodeExpired,
            CodeProblem::TooManyAttempts => ErrorCode::CodeAttemptsExceeded,
            CodeProblem::Wrong(_) => ErrorCode::CodeWrong,
            CodeProblem::Malformed => ErrorCode::CodeMalformed,
        }
    }
    fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::En => format!("code: {self}"),
            Lang::Zh => match self {
                CodeProblem::TooSoon(s) => format!("手机号 phone：请{s}秒后再获取验证码"),
                CodeProblem::NoCode => "验证码 code：尚未向该手机号发送验证码，请先获取".into(),
                CodeProblem::Expired => "验证码 code 已过期，请重新获取".into(),
                CodeProblem::TooManyAttempts => "验证码 code 错误次数过多，请重新获取".into(),
                CodeProblem::Wrong(n) => format!("验证码 code 错误（还可尝试{n}次）"),
                CodeProblem::Malformed => "验证码 code 应为6位数字".into(),
            },
        }
    }
}

/// May a new code be sent now, given the last one?
pub fn may_send(last: Option<&StoredCode>, now: DateTime<Utc>, policy: &SecurityPolicy) -> Result<(), CodeProblem> {
    match last {
        Some(c) => {
            let next = c.sent_at + Duration::seconds(policy.resident_code_resend_seconds);
            if now < next {
                Err(CodeProblem::TooSoon((next - now).num_seconds().max(1)))
            } else {
                Ok(())
            }
        }
        None => Ok(()),
    }
}

/// Checks a typed code against the stored one. A wrong code counts an attempt (the caller stores
/// the count); the last allowed wrong try ends the code.
pub fn check_code(
    stored: Option<&StoredCode>,
    typed_hash: &str,
    typed: &str,
    now: DateTime<Utc>,
    policy: &SecurityPolicy,
) -> Result<(), CodeProblem> {
    let typed = typed.trim();
    if typed.len() != 6 || !typed.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CodeProblem::Malformed);
    }
    let Some(stored) = stored else {
        return Err(CodeProblem::NoCode);
    };
    if stored.attempts >= policy.resident_code_attempts {
        return Err(CodeProblem::TooManyAttempts);
    }
    if now >= stored.expires_at {
        return Err(CodeProblem::Expired);
    }
    let same = stored.code_hash.len() == typed_hash.len()
        && stored
            .code_hash
            .bytes()
            .zip(typed_hash.bytes())
            .fold(0u8, |a, (x, y)| a | (x ^ y))
            == 0;
    if same {
        Ok(())
    } else {
        let left = policy.resident_code_attempts - stored.attempts - 1;
        if left <= 0 {
            Err(CodeProblem::TooManyAttempts)
        } else {
            Err(CodeProblem::Wrong(left))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> AuditKey {
        AuditKey::from_bytes(&[7u8; 32]).unwrap()
    }

    #[test]
    fn phones_are_normalised_and_masked() {
        let p = Phone::parse("+86 138-0000-0000").unwrap();
        assert_eq!(p.expose(), "13800000000");
        assert_eq!(p.masked(), "138****0000");
        assert_eq!(Phone::parse("8613800000000").unwrap(), p);
        assert!(Phone::parse("12800000000").is_err());
        assert!(Phone::parse("1380000000").is_err());
        assert!(!format!("{p:?}").contains("13800000000"));
        assert_eq!(p.lookup_hash(&key()), p.lookup_hash(&key()));
        assert!(!p.lookup_hash(&key()).contains("13800000000"));
        assert_ne!(resident_key(&key()).expose_hex(), key().expose_hex());
    }

    #[test]
    fn codes_expire_run_out_and_wait_to_be_resent() {
        let policy = SecurityPolicy::default();
        let now = Utc::now();
        let h = code_hash(&key(), "p", "123456");
        let stored = StoredCode {
            code_hash: h.clone(),
            sent_at: now,
            expires_at: now + Duration::minutes(5),
            attempts: 0,
        };
        assert_eq!(check_code(Some(&stored), &h, "123456", now, &policy), Ok(()));
        let wrong = code_hash(&key(), "p", "654321");
        assert_eq!(
            check_code(Some(&stored), &wrong, "654321", now, &policy),
            Err(CodeProblem::Wrong(4))
        );
        assert_eq!(
            check_code(Some(&stored), &h, "12345", now, &policy),
            Err(CodeProblem::Malformed)
        );
        assert_eq!(
            check_code(Some(&stored), &h, "123456", now + Duration::minutes(5), &policy),
            Err(CodeProblem::Expired)
        );
        let spent = StoredCode {
            attempts: 5,
            ..stored.clone()
        };
        assert_eq!(
            check_code(Some(&spent), &h, "123456", now, &policy),
            Err(CodeProblem::TooManyAttempts)
        );
        assert_eq!(check_code(None, &h, "123456", now, &policy), Err(CodeProblem::NoCode));
        assert!(matches!(
            may_send(Some(&stored), now + Duration::seconds(10), &policy),
            Err(CodeProblem::TooSoon(50))
        ));
        assert_eq!(may_send(Some(&stored), now + Duration::seconds(60), &policy), Ok(()));
        assert_eq!(code_from(42), "000042");
        assert_eq!(resident_id(&resident_actor(42)), Some(42));
    }
}
