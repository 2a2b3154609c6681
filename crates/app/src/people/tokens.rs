//! Bearer tokens of API clients: issued for a user name and password, valid for the
//! application's token lifetime, looked up by their hash on every request.

use chrono::{DateTime, Duration, Utc};
use gongzhi_core::ErrorCode;
use gongzhi_core::people::Actor;
use gongzhi_core::people::credentials::{IssuedToken, token_hash};
use rand::Rng;
use serde::Deserialize;

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

fn bad_credentials() -> AppError {
    AppError::new(
        ErrorCode::InvalidCredentials,
        None,
        "用户名或密码错误",
        "wrong username or password",
    )
}

/// Signs an API client in from its command: `missing_parameter` naming a field left out, else
/// as [`issue`].
pub async fn sign_in(app: &App, command: SignIn) -> Result<Issued, AppError> {
    let username = AppError::required(command.username, "username")?;
    let password = AppError::required(command.password, "password")?;
    issue(app, &username, &password).await
}

/// Signs an API client in: a token for the active account `username` if `password` is its
/// password. Neither an unknown name nor a wrong password says which it was.
pub async fn issue(app: &App, username: &str, password: &str) -> Result<Issued, AppError> {
    let account = app.db.account_by_username(username).await?.filter(|a| a.active);
    let Some((account, hash)) = account.and_then(|a| a.password_hash.clone().map(|h| (a, h))) else {
        return Err(bad_credentials());
    };
    if !super::password_matches(password, &hash).await {
        return Err(bad_credentials());
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill(&mut bytes);
    let token = IssuedToken::from_random(bytes);
    let expires_at = Utc::now() + Duration::hours(app.token_ttl_hours);
    let audit_key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    app.db
        .insert_token(&token.hash, &account, expires_at, &audit_key)
        .await?;
    Ok(Issued {
        secret: token.secret,
        expires_at,
    })
}

/// The actor behind a bearer token that has not expired and whose account is active; 401
/// otherwise.
pub async fn authenticate(app: &App, secret: &str) -> Result<Actor, AppError> {
    app.db
        .actor_for_token(&token_hash(secret), Utc::now())
        .await?
        .ok_or_else(|| {
            AppError::new(
                ErrorCode::InvalidToken,
                Some("Authorization"),
                "令牌无效或已过期，请重新登录",
                "the token is invalid or has expired; sign in again",
            )
        })
}
