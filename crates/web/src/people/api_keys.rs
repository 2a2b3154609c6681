//! API keys of integrations over HTTP: `POST`, `GET /api/v1/api-keys` and
//! `DELETE /api/v1/api-keys/{id}`. The keys' rules (who may, checks, rate limits) are
//! [`gongzhi_app::people::api_keys`].

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gongzhi_app::people::api_keys::{self, ApiKey, actor_name};
use serde_json::{Value, json};

use super::Authenticated;
use crate::json;
use crate::{ApiError, AppState};

fn key_json(key: &ApiKey) -> Value {
    json!({
        "id": key.id,
        "name": key.name,
        "actor": actor_name(key),
        "scope": key.scope_code,
        "calls": key.calls,
        "rate_per_minute": key.rate_per_minute,
        "created_by": key.created_by,
        "created_at": json::local(key.created_at),
        "revoked_at": key.revoked_at.map(json::local),
        "last_used_at": key.last_used_at.map(json::local),
    })
}

/// `POST /api/v1/api-keys` `{"name", "scope", "calls"?, "rate_per_minute"?}`: 201 with the key
/// once in `"key"`; 409 when the name is taken.
pub async fn create(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    crate::json::JsonBody(body): crate::json::JsonBody,
) -> Result<Response, ApiError> {
    // Only a system administrator learns what a body lacks.
    api_keys::system_admin(&actor)?;
    let (key, secret) = api_keys::create(&state, &actor, json::command(&body)?).await?;
    let mut body = key_json(&key);
    body["key"] = json!(secret);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `GET /api/v1/api-keys`: every key (never a secret), revoked ones too.
pub async fn list(State(state): State<AppState>, Authenticated(actor): Authenticated) -> Result<Json<Value>, ApiError> {
    let keys = api_keys::list(&state, &actor).await?;
    Ok(Json(json!({"api_keys": keys.iter().map(key_json).collect::<Vec<_>>()})))
}

/// `DELETE /api/v1/api-keys/{id}`: revokes the key at once (it stays listed).
pub async fn revoke(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(key_json(&api_keys::revoke(&state, &actor, &id).await?)))
}
