//! Staff sessions of the pages (GB/T 22239 level 3): sign-in by the one rule of
//! [`super::sign_in`] (rate limit and lockout per source address), idle and absolute expiry,
//! sign-out, and password changes (which revoke the account's API tokens). The doors keep the
//! session secret in a cookie; the store keeps its hash and a CSRF token. Every sign-in, failure,
//! lockout, sign-out and password change is audited.

use chrono::{DateTime, Duration, Utc};
use gongzhi_core::people::Actor;
use gongzhi_core::people::credentials::token_hash;
use gongzhi_core::people::policy::{PasswordProblem, SecurityPolicy};

use super::sign_in::Via;
use super::{Account, random_token};
use crate::{App, AppError};

/// A live session: who holds it and the CSRF token its forms carry.
#[derive(Debug, Clone)]
pub struct StaffSession {
    pub actor: Actor,
    pub account: Account,
    pub csrf: String,
    /// The hash of the session secret: sign-out ends exactly this session.
    pub session_hash: String,
}

pub use super::sign_in::{Refusal, SignIn};

/// A session just started: its secret (for the cookie, never stored) and how long it may last.
pub struct Started {
    pub secret: String,
    pub max_age: Duration,
}

/// Signs a person in to the pages by the one sign-in rule ([`super::sign_in::check`]):
/// `Ok(Ok(started))` with a new session, `Ok(Err(refusal))` when refused.
pub async fn sign_in(app: &App, attempt: SignIn<'_>) -> Result<Result<Started, Refusal>, AppError> {
    let account = match super::sign_in::check(app, &attempt, Via::Pages).await? {
        Ok(account) => account,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    let now = Utc::now();
    let secret = random_token();
    let csrf = random_token();
    let max_age = Duration::hours(app.security.session_max_hours);
    app.db
        .start_session(
            &account,
            &token_hash(&secret),
            &csrf,
            now,
            now + max_age,
            attempt.source,
            &key,
        )
        .await?;
    Ok(Ok(Started { secret, max_age }))
}

/// The live session behind a session secret (not ended, not expired, used within the idle
/// limit, its account active), touched at most once a minute.
pub async fn staff_session(app: &App, secret: &str) -> Result<Option<StaffSession>, AppError> {
    let hash = token_hash(secret);
    let now = Utc::now();
    let idle = Duration::minutes(app.security.session_idle_minutes);
    let Some(session) = app.db.live_session(&hash, now, idle).await? else {
        return Ok(None);
    };
    // Only the idle timeout depends on the touch: a busy database (a bulk import holding the
    // write lock) must not turn a page view into an error.
    if now - session.last_seen_at > Duration::minutes(1)
        && let Err(e) = app.db.touch_session(&hash, now).await
    {
        tracing::warn!(error = %e, "session not touched");
    }
    Ok(Some(StaffSession {
        actor: session.actor,
        account: session.account,
        csrf: session.csrf_token,
        session_hash: hash,
    }))
}

/// Ends `username`'s session of hash `session_hash` on the server: its cookie is worthless
/// afterwards.
pub async fn sign_out(app: &App, username: &str, session_hash: &str) -> Result<(), AppError> {
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    app.db.end_session(session_hash, username, Utc::now(), &key).await?;
    Ok(())
}

/// Whether the password must be changed before anything else: reset by an administrator, or
/// older than the policy allows.
pub fn must_change_password(policy: &SecurityPolicy, account: &Account, now: DateTime<Utc>) -> bool {
    account.must_change_password
        || (policy.password_max_age_days > 0
            && account
                .password_changed_at
                .is_some_and(|at| now - at > Duration::days(policy.password_max_age_days)))
}

/// A password change: the current password and the new one twice.
pub struct ChangePassword<'a> {
    pub current: &'a str,
    pub new: &'a str,
    pub confirm: &'a str,
}

/// Why a password change was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordRefusal {
    WrongCurrent,
    /// The two new passwords differ.
    Mismatch,
    /// The new password breaks the policy (or equals the current one).
    Policy(PasswordProblem),
}

/// Changes the password of `account`, signed in with the session of hash `session_hash`: its
/// other sessions end, this one stays.
pub async fn change_password(
    app: &App,
    account: &Account,
    session_hash: &str,
    change: ChangePassword<'_>,
) -> Result<Result<(), PasswordRefusal>, AppError> {
    let hash = account.password_hash.clone().unwrap_or_default();
    if !super::password_matches(change.current, &hash).await {
        return Ok(Err(PasswordRefusal::WrongCurrent));
    }
    if change.new != change.confirm {
        return Ok(Err(PasswordRefusal::Mismatch));
    }
    if change.new == change.current {
        return Ok(Err(PasswordRefusal::Policy(PasswordProblem::Unchanged)));
    }
    if let Err(problem) = app.security.check_password(&account.username, change.new) {
        return Ok(Err(PasswordRefusal::Policy(problem)));
    }
    let new_hash = super::hashed(change.new).await?;
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    app.db
        .set_password(
            account,
            &new_hash,
            &account.username,
            Some(session_hash),
            Utc::now(),
            &key,
        )
        .await?;
    Ok(Ok(()))
}
