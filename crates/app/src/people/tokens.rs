//! Bearer tokens of API clients: issued for a user name and password by the one sign-in rule of
//! [`super::sign_in`] (the pages' rate limit, lockout and audit), valid for the application's
//! token lifetime while used within the idle limit, revoked by their holder (sign-out), by a
//! password change or reset, and by deactivating the account; looked up by their hash.

use chrono::{DateTime, Duration, Utc};
use gongzhi_core::ErrorCode;
use gongzhi_core::people::Actor;
use gongzhi_core::people::credentials::{IssuedToken, token_hash};
use rand::Rng;
use serde::Deserialize;

use super::sign_in::{self, Via};
use crate::{App, AppError};

/// An API client signing in (`POST /api/v1/auth/token`): both fields are required.
#[derive(Debug, Default, Deserialize)]
pub struct SignIn {
    pub username: Option<String>,
    pub password: Option<String>,
}

/// A token just issued: the secret exists only in this answer; the store keeps its hash.
pub struct Issued {
    pub secret: String,
    pub expires_at: DateTime<Utc>,
}

fn invalid_token() -> AppError {
    AppError::new(
        ErrorCode::InvalidToken,
        Some("Authorization"),
        "令牌无效或已过期，请重新登录",
        "the token is invalid or has expired; sign in again",
    )
}

/// Signs an API client in from its command, sent from `source`: `missing_parameter` naming a
/// field left out, else as [`issue`].
pub async fn sign_in(app: &App, command: SignIn, source: &str) -> Result<Issued, AppError> {
    let username = AppError::required(command.username, "username")?;
    let password = AppError::required(command.password, "password")?;
    let attempt = sign_in::SignIn {
        username: &username,
        password: &password,
        source,
    };
    issue(app, attempt).await
}

/// Signs an API client in: a token for the account if the sign-in rule admits the attempt, else
/// the refusal as an error (`invalid_credentials` whether the name exists or not,
/// `account_locked`, `rate_limited`, `password_change_required`).
pub async fn issue(app: &App, attempt: sign_in::SignIn<'_>) -> Result<Issued, AppError> {
    let account = sign_in::check(app, &attempt, Via::Api)
        .await?
        .map_err(sign_in::Refusal::error)?;
    let mut bytes = [0u8; 32];
    rand::rng().fill(&mut bytes);
    let token = IssuedToken::from_random(bytes);
    let expires_at = Utc::now() + Duration::hours(app.token_ttl_hours);
    let audit_key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    app.db
        .insert_token(&token.hash, &account, attempt.source, expires_at, &audit_key)
        .await?;
    Ok(Issued {
        secret: token.secret,
        expires_at,
    })
}

/// The actor behind a bearer token that is not revoked, has not expired, was used within the
/// idle limit and whose account is active (touched at most once a minute); 401 otherwise.
pub async fn authenticate(app: &App, secret: &str) -> Result<Actor, AppError> {
    let hash = token_hash(secret);
    let now = Utc::now();
    let idle = Duration::minutes(app.security.token_idle_minutes);
    let used = app
        .db
        .actor_for_token(&hash, now, idle)
        .await?
        .ok_or_else(invalid_token)?;
    // As with sessions: a busy writer must not turn a request into an error.
    if now - used.last_used_at > Duration::minutes(1)
        && let Err(e) = app.db.touch_token(&hash, now).await
    {
        tracing::warn!(error = %e, "token not touched");
    }
    Ok(used.actor)
}

/// Revokes the token `secret` (its holder signs out of the API; audited); 401 when it is not a
/// live token.
pub async fn revoke(app: &App, secret: &str) -> Result<(), AppError> {
    let audit_key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    // Only a token that still works may end itself.
    authenticate(app, secret).await?;
    app.db
        .revoke_token(&token_hash(secret), Utc::now(), &audit_key)
        .await?
        .ok_or_else(invalid_token)?;
    Ok(())
}
