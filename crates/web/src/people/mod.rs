//! Sign-in: bearer tokens for API clients (`POST` and `DELETE /api/v1/auth/token`, the
//! [`Authenticated`] extractor), sessions for the pages ([`session`], [`pages`]), the client's
//! address ([`source`]) and account administration ([`admin`]).

pub mod admin;
pub mod api_keys;
pub mod pages;
pub mod session;
pub mod source;

use crate::json;
use axum::Json;
use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::post;
use gongzhi_app::AppError;
use gongzhi_app::people::{sign_in, tokens};
use gongzhi_core::ErrorCode;
use gongzhi_core::people::Actor;
use serde_json::{Value, json};

use crate::{ApiError, AppState};
use source::ClientAddr;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/token", post(issue_token).delete(revoke_token))
        .route("/api/v1/me", axum::routing::get(me))
        .route("/api/v1/api-keys", post(api_keys::create).get(api_keys::list))
        .route("/api/v1/api-keys/{id}", axum::routing::delete(api_keys::revoke))
        .route("/login", axum::routing::get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route(
            "/account/password",
            axum::routing::get(pages::password_form).post(pages::change_password),
        )
        .route(
            "/admin/accounts",
            axum::routing::get(admin::accounts).post(admin::create),
        )
        .route(
            "/admin/accounts/{username}",
            axum::routing::get(admin::account).post(admin::change),
        )
}

/// `POST /api/v1/auth/token` `{"username", "password"}` → `{"token", "token_type", "expires_at"}`,
/// by the same sign-in rule as the pages (rate limit and lockout per source address).
async fn issue_token(
    State(state): State<AppState>,
    ClientAddr(source): ClientAddr,
    crate::json::JsonBody(body): crate::json::JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let token = tokens::sign_in(&state, json::command(&body)?, &source).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"token": token.secret, "token_type": "Bearer", "expires_at": token.expires_at})),
    ))
}

/// `DELETE /api/v1/auth/token`: revokes the bearer token the request carries (signing out of the
/// API) → `{"revoked": true}`.
async fn revoke_token(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let secret = bearer(&headers).ok_or_else(sign_in_required)?;
    tokens::revoke(&state, secret).await?;
    Ok(Json(json!({"revoked": true})))
}

/// The token of `Authorization: Bearer <token>`, if the request carries one.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
}

/// `GET /api/v1/me`: who the token belongs to and the roles it holds.
async fn me(Authenticated(actor): Authenticated) -> Json<Value> {
    let roles: Vec<Value> = actor
        .grants
        .iter()
        .map(|g| json!({"role": g.role, "role_label": g.role.label_zh(), "scope": g.scope}))
        .collect();
    Json(json!({"username": actor.account, "grants": roles}))
}

/// The caller, from `Authorization: Bearer <token>`, or from the page session's cookie (so the
/// pages' scripts and `EventSource` can call the API); 401 otherwise. A cookie-authenticated
/// request that changes something must carry the session's CSRF token in `X-CSRF-Token`.
pub struct Authenticated(pub Actor);

fn sign_in_required() -> ApiError {
    AppError::new(
        ErrorCode::Unauthenticated,
        Some("Authorization"),
        "需要登录：请在 Authorization 头中提供 Bearer 令牌",
        "sign-in required: send a Bearer token in the Authorization header",
    )
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(secret) = bearer(&parts.headers) else {
            let staff = session::session_of(state, &parts.headers)
                .await?
                .ok_or_else(sign_in_required)?;
            // A password set by an administrator (or too old) opens the password page only,
            // not the API behind it.
            if staff.must_change_password(&state.security, chrono::Utc::now()) {
                return Err(sign_in::Refusal::MustChangePassword.error());
            }
            if !parts.method.is_safe() {
                let sent = parts
                    .headers
                    .get("x-csrf-token")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                staff.check_csrf(sent)?;
            }
            admin_network(parts, state, &staff.actor).await?;
            return Ok(Authenticated(staff.actor));
        };
        let actor = tokens::authenticate(state, secret).await?;
        admin_network(parts, state, &actor).await?;
        Ok(Authenticated(actor))
    }
}

/// An administrator's session or token works only from the administration networks (when set).
pub(crate) async fn admin_network(parts: &mut Parts, state: &AppState, actor: &Actor) -> Result<(), ApiError> {
    let Ok(ClientAddr(source)) = ClientAddr::from_request_parts(parts, state).await;
    sign_in::check_admin_network(state, actor, &source)
}
