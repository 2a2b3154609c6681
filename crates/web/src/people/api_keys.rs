//! API keys of integrations over HTTP: `POST`, `GET /api/v1/api-keys` and
//! `DELETE /api/v1/api-keys/{id}`. The keys' rules (who may, checks, rate limits) are
//! [`gongzhi_app::people::api_keys`].

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gongzhi_app::AppError;
use gongzhi_app::people::api_keys::{self, ApiKey, actor_name};
use serde_json::{Value, json};

pub use gongzhi_app::people::api_keys::{POST_REQUEST, POST_UPDATE, authorize, key_actor, key_reaches};

use super::Authenticated;
use crate::json::{json_object, string_field};
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
        "created_at": crate::json::local(key.created_at),
        "revoked_at": key.revoked_at.map(crate::json::local),
        "last_used_at": key.last_used_at.map(crate::json::local),
    })
}

/// `POST /api/v1/api-keys` `{"name", "scope", "calls"?, "rate_per_minute"?}`: 201 with the key
/// once in `"key"`; 409 when the name is taken.
pub async fn create(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    body: Bytes,
) -> Result<Response, ApiError> {
    // Only a system administrator learns what a request lacks.
    api_keys::system_admin(&actor)?;
    let body = json_object(&body)?;
    let name = string_field(&body, "name")?;
    let scope = string_field(&body, "scope")?;
    let calls = match body.get("calls") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => Some(a.iter().map(|c| c.as_str().unwrap_or("").to_string()).collect()),
        Some(_) => Some(vec![String::new()]),
    };
    let rate = match body.get("rate_per_minute") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_i64()
                .ok_or_else(|| AppError::not_a_number("rate_per_minute", &v.to_string()))?,
        ),
    };
    let (key, secret) = api_keys::create(&state, &actor, name, scope, calls, rate).await?;
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
