//! Residents' accounts and sessions: a resident signs in with a one-time code sent to their phone
//! ([`send_code`], then [`sign_in`]) and gets a session of their own, apart from staff sessions
//! ([`session`], [`sign_out`]). The phone is never stored in clear: the codes and the account are
//! found by a keyed hash of it, and only its mask is kept for display.

use std::time::Instant;

use chrono::{Duration, Utc};
use gongzhi_core::ErrorCode;
use gongzhi_core::people::credentials::token_hash;
use gongzhi_core::people::resident::{CodeProblem, Phone, check_code, code_from, code_hash, may_send, resident_key};
use gongzhi_store::StoreError;
use rand::Rng;

use super::random_token;
use crate::{App, AppError};

pub use gongzhi_store::people::residents::Resident;

/// A live resident session.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub resident: Resident,
    /// The session's CSRF token, which every form of the resident carries.
    pub csrf: String,
    /// The session as stored (the hash of its secret), for signing out.
    pub session_hash: String,
}

/// The live session whose secret (the cookie's value) is `secret`, if any; touched at most once a
/// minute, so that reading pages does not write on every request.
pub async fn session(app: &App, secret: &str) -> Result<Option<SignedIn>, AppError> {
    let hash = token_hash(secret);
    let now = Utc::now();
    let idle = Duration::minutes(app.security.resident_session_idle_minutes);
    let Some(session) = app.db().live_resident_session(&hash, now, idle).await? else {
        return Ok(None);
    };
    if now - session.last_seen_at > Duration::minutes(1)
        && let Err(e) = app.db().touch_resident_session(&hash, now).await
    {
        tracing::warn!(error = %e, "resident session not touched");
    }
    Ok(Some(SignedIn {
        resident: session.resident,
        csrf: session.csrf_token,
        session_hash: hash,
    }))
}

/// Sends a new one-time code to `phone` for a request from `source`, unless `source` asked for
/// `sms_codes_per_hour` codes already (429 with `Retry-After`, field `phone`, whatever the
/// phones: the gateway is not a free messaging service) or one was sent to the phone too recently
/// (429, field `phone`). A gateway that fails answers 502 (the reason goes to the log only).
pub async fn send_code(app: &App, phone: &Phone, source: &str) -> Result<(), AppError> {
    let audit_key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    let policy = &app.security;
    let hour = std::time::Duration::from_secs(3600);
    if let Err(wait) = app
        .sms_limits
        .take(source.to_string(), policy.sms_codes_per_hour, hour, Instant::now())
    {
        tracing::warn!(source, wait, "SMS codes throttled");
        let minutes = wait.div_ceil(60);
        return Err(AppError::new(
            ErrorCode::RateLimited,
            Some("phone"),
            format!("此网络地址请求验证码过于频繁，请 {minutes} 分钟后再试"),
            format!("too many codes were asked for from this network address; try again in {minutes} min"),
        )
        .with_retry_after(wait));
    }
    let key = resident_key(&audit_key);
    let phone_hash = phone.lookup_hash(&key);
    let now = Utc::now();
    if let Err(e) = may_send(app.db().resident_code(&phone_hash).await?.as_ref(), now, policy) {
        return Err(AppError::localized(Some(e.field()), &e));
    }
    let code = code_from(rand::rng().random_range(0..1_000_000));
    app.db()
        .put_resident_code(
            &phone_hash,
            &code_hash(&key, &phone_hash, &code),
            now,
            Duration::minutes(policy.resident_code_minutes),
        )
        .await?;
    if let Err(reason) = app.sms().send_code(phone, &code).await {
        tracing::error!(phone = %phone.masked(), %reason, "SMS gateway failed");
        return Err(AppError::new(
            ErrorCode::SmsFailed,
            Some("phone"),
            "短信发送失败，请稍后再试",
            "the text message could not be sent; try again later",
        ));
    }
    Ok(())
}

/// Signing in: the phone and the code typed.
pub struct SignIn {
    pub phone: Phone,
    pub code: String,
}

/// A session just started: the secret for the cookie, and how long it may last at most.
pub struct NewSession {
    pub secret: String,
    pub max_age: Duration,
}

/// Checks the code sent to the phone and starts a session of its resident (the account is made
/// on first sign-in). A refused code names the field `code` with its own code of the catalogue; a
/// wrong one counts against the code's tries.
pub async fn sign_in(app: &App, cmd: SignIn) -> Result<NewSession, AppError> {
    let audit_key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    let key = resident_key(&audit_key);
    let phone_hash = cmd.phone.lookup_hash(&key);
    let now = Utc::now();
    let stored = app.db().resident_code(&phone_hash).await?;
    let typed_hash = code_hash(&key, &phone_hash, &cmd.code);
    if let Err(e) = check_code(stored.as_ref(), &typed_hash, &cmd.code, now, &app.security) {
        if matches!(e, CodeProblem::Wrong(_) | CodeProblem::TooManyAttempts) && stored.is_some() {
            app.db().count_resident_code_failure(&phone_hash).await?;
        }
        return Err(AppError::localized(Some(e.field()), &e));
    }
    let secret = random_token();
    let csrf = random_token();
    let max_age = Duration::hours(app.security.resident_session_max_hours);
    let started = app
        .db()
        .start_resident_session(
            &phone_hash,
            &cmd.phone.masked(),
            &token_hash(&secret),
            &csrf,
            now,
            now + max_age,
            &audit_key,
        )
        .await;
    match started {
        Ok(_) => Ok(NewSession { secret, max_age }),
        // Another sign-in used the code meanwhile: this one has none left.
        Err(StoreError::Conflict { .. }) => Err(AppError::localized(Some("code"), &CodeProblem::NoCode)),
        Err(e) => Err(e.into()),
    }
}

/// Ends the session (audited under the resident).
pub async fn sign_out(app: &App, resident: &Resident, session_hash: &str) -> Result<(), AppError> {
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    app.db()
        .end_resident_session(session_hash, resident, Utc::now(), &key)
        .await?;
    Ok(())
}
