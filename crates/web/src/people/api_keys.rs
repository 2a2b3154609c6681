//! API keys of integrations: created by a system administrator (shown once, stored hashed),
//! scoped to a territory subtree and to the calls they may make, rate-limited in memory per key,
//! revocable. A request made with a key acts as `api-key:NAME`, so its use is attributable.

use gongzhi_app::AppError;
use gongzhi_core::ErrorCode;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use gongzhi_core::people::credentials::{IssuedToken, token_hash};
use gongzhi_core::people::{Actor, Role, Scope};
use gongzhi_core::territory::TerritoryCode;
use gongzhi_store::people::api_keys::{ApiKey, NewApiKey};
use rand::Rng;
use serde_json::{Value, json};

use super::Authenticated;
use crate::json::{json_object, string_field};
use crate::{ApiError, AppState};

/// The calls a key may be allowed; new channels add theirs here.
pub const CALLS: [&str; 2] = [POST_REQUEST, POST_UPDATE];
/// `POST /open311/v2/requests.{fmt}`.
pub const POST_REQUEST: &str = "open311.post_request";
/// `POST /open311/v2/servicerequestupdates.{fmt}` (FixMyStreet's extension): a note on a case.
pub const POST_UPDATE: &str = "open311.post_update";
/// Requests a minute a new key may make unless told otherwise.
pub const DEFAULT_RATE_PER_MINUTE: i64 = 60;

/// The actor name of a key: never a username (usernames have no colon).
pub fn actor_name(key: &ApiKey) -> String {
    format!("api-key:{}", key.name)
}

/// A token bucket per key, in this process's memory: `rate_per_minute` requests at once, refilled
/// at that rate. (Several servers each keep their own buckets.)
#[derive(Clone, Default)]
pub struct RateLimits(Arc<Mutex<HashMap<i64, (f64, Instant)>>>);

impl RateLimits {
    /// Takes one token from the key's bucket; `Err(seconds)` to wait when it is empty.
    pub fn take(&self, key: &ApiKey, now: Instant) -> Result<(), u64> {
        let capacity = key.rate_per_minute.max(1) as f64;
        let per_second = capacity / 60.0;
        let mut buckets = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let (tokens, last) = buckets.entry(key.id).or_insert((capacity, now));
        let refilled = (*tokens + now.saturating_duration_since(*last).as_secs_f64() * per_second).min(capacity);
        *last = now;
        if refilled >= 1.0 {
            *tokens = refilled - 1.0;
            Ok(())
        } else {
            *tokens = refilled;
            Err(((1.0 - refilled) / per_second).ceil() as u64)
        }
    }
}

fn invalid_key() -> ApiError {
    AppError::new(
        ErrorCode::InvalidApiKey,
        Some("api_key"),
        "api_key 无效或已吊销，无法创建请求",
        "Invalid api_key received -- can't proceed with create_request.",
    )
}

/// The key behind `secret` if it may make `call` now: 403 for a missing, unknown, revoked or
/// not-allowed key, 429 when its bucket is empty.
pub async fn authorize(state: &AppState, secret: Option<&str>, call: &str) -> Result<ApiKey, ApiError> {
    let secret = secret.ok_or_else(|| {
        AppError::new(
            ErrorCode::MissingApiKey,
            Some("api_key"),
            "缺少 api_key，无法创建请求",
            "No api_key received -- can't proceed with create_request.",
        )
    })?;
    let key = state
        .db()
        .api_key_for_hash(&token_hash(secret), Utc::now())
        .await?
        .ok_or_else(invalid_key)?;
    if !key.calls.iter().any(|c| c == call) {
        return Err(AppError::new(
            ErrorCode::CallNotAllowed,
            Some("api_key"),
            format!("此 api_key 不允许调用 {call}"),
            format!("this api_key may not make the call {call}"),
        )
        .into());
    }
    state.api_key_limits.take(&key, Instant::now()).map_err(|wait| {
        AppError::new(
            ErrorCode::RateLimited,
            Some("api_key"),
            format!(
                "此 api_key 每分钟最多 {} 次请求，请 {wait} 秒后重试",
                key.rate_per_minute
            ),
            format!(
                "this api_key may make {} requests a minute; try again in {wait} s",
                key.rate_per_minute
            ),
        )
    })?;
    Ok(key)
}

/// Whether a key's territory scope reaches `node`.
pub fn key_reaches(key: &ApiKey, node: &TerritoryCode) -> bool {
    TerritoryCode::parse(&key.scope_code).is_ok_and(|scope| Scope::Territory(scope).reaches(node))
}

/// The actor a key's requests act as: no roles, only a name.
pub fn key_actor(key: &ApiKey) -> Actor {
    Actor {
        account: actor_name(key),
        grants: vec![],
    }
}

/// The system administrator grants of the caller; 403 without one.
fn system_admin(actor: &Actor) -> Result<Vec<&Scope>, ApiError> {
    let scopes: Vec<&Scope> = actor
        .grants
        .iter()
        .filter(|g| g.role == Role::SystemAdmin)
        .map(|g| &g.scope)
        .collect();
    if scopes.is_empty() {
        return Err(AppError::forbidden_role("系统管理员", "system administrator").into());
    }
    Ok(scopes)
}

fn key_json(key: &ApiKey) -> Value {
    json!({
        "id": key.id,
        "name": key.name,
        "actor": actor_name(key),
        "scope": key.scope_code,
        "calls": key.calls,
        "rate_per_minute": key.rate_per_minute,
        "created_by": key.created_by,
        "created_at": crate::cases::api::local(key.created_at),
        "revoked_at": key.revoked_at.map(crate::cases::api::local),
        "last_used_at": key.last_used_at.map(crate::cases::api::local),
    })
}

/// A new key's facts, checked: a name of 1–64 letters, digits, `-`, `_` or `.`; a territory code
/// that exists; known calls; a rate of 1–6000 a minute.
pub struct KeyRequest {
    pub name: String,
    pub scope: TerritoryCode,
    pub calls: Vec<String>,
    pub rate_per_minute: i64,
}

fn bad(field: &'static str, code: ErrorCode, zh: String, en: String) -> ApiError {
    AppError::new(code, Some(field), zh, en)
}

pub async fn check_key_request(
    state: &AppState,
    name: &str,
    scope: &str,
    calls: Option<Vec<String>>,
    rate: Option<i64>,
) -> Result<KeyRequest, ApiError> {
    let name = name.trim();
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(bad(
            "name",
            ErrorCode::InvalidName,
            "密钥名称应为1至64个字母、数字或 - _ .".into(),
            "a key name is 1 to 64 letters, digits, '-', '_' or '.'".into(),
        ));
    }
    let scope_code = TerritoryCode::parse(scope).map_err(|e| AppError::bad_code("scope", e))?;
    if state.db().node(&scope_code).await?.is_none() {
        return Err(AppError::unknown_node("scope", scope).into());
    }
    let calls = calls.unwrap_or_else(|| vec![POST_REQUEST.to_string()]);
    if calls.is_empty() || calls.iter().any(|c| !CALLS.contains(&c.as_str())) {
        return Err(bad(
            "calls",
            ErrorCode::InvalidCalls,
            format!("calls 应为以下之一或多个：{}", CALLS.join(", ")),
            format!("calls must be one or more of {}", CALLS.join(", ")),
        ));
    }
    let rate_per_minute = rate.unwrap_or(DEFAULT_RATE_PER_MINUTE);
    if !(1..=6000).contains(&rate_per_minute) {
        return Err(bad(
            "rate_per_minute",
            ErrorCode::InvalidRate,
            "rate_per_minute 应为1至6000".into(),
            "rate_per_minute must be 1 to 6000".into(),
        ));
    }
    Ok(KeyRequest {
        name: name.to_string(),
        scope: scope_code,
        calls,
        rate_per_minute,
    })
}

/// Stores a checked key and returns it with its secret (the only time the secret exists outside
/// the caller's hands); `None` when the name is taken.
pub async fn create_key(
    state: &AppState,
    request: &KeyRequest,
    created_by: &str,
) -> Result<Option<(ApiKey, String)>, ApiError> {
    let audit_key = state.audit_key().ok_or_else(AppError::audit_key_missing)?;
    let mut bytes = [0u8; 32];
    rand::rng().fill(&mut bytes);
    let token = IssuedToken::from_random(bytes);
    let secret = format!("gz311_{}", token.secret);
    let scope = request.scope.to_string();
    let new = NewApiKey {
        name: &request.name,
        key_hash: &token_hash(&secret),
        scope_code: &scope,
        calls: &request.calls,
        rate_per_minute: request.rate_per_minute,
    };
    Ok(state
        .db()
        .create_api_key(&new, created_by, &audit_key)
        .await?
        .map(|k| (k, secret)))
}

/// `POST /api/v1/api-keys` `{"name", "scope", "calls"?, "rate_per_minute"?}`: 201 with the key
/// once in `"key"`; 409 when the name is taken.
pub async fn create(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    body: Bytes,
) -> Result<Response, ApiError> {
    let scopes = system_admin(&actor)?;
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
    let request = check_key_request(&state, name, scope, calls, rate).await?;
    if !scopes.iter().any(|s| s.reaches(&request.scope)) {
        return Err(AppError::new(
            ErrorCode::OutsideScope,
            Some("scope"),
            format!("{scope} 不在您的管理范围内"),
            format!("{scope} is outside your scope"),
        )
        .into());
    }
    let Some((key, secret)) = create_key(&state, &request, &actor.account).await? else {
        return Err(AppError::new(
            ErrorCode::NameTaken,
            Some("name"),
            format!("已有名为 {} 的密钥", request.name),
            format!("a key named {} exists", request.name),
        )
        .into());
    };
    let mut body = key_json(&key);
    body["key"] = json!(secret);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `GET /api/v1/api-keys`: every key (never a secret), revoked ones too.
pub async fn list(State(state): State<AppState>, Authenticated(actor): Authenticated) -> Result<Json<Value>, ApiError> {
    system_admin(&actor)?;
    let keys = state.db().api_keys().await?;
    Ok(Json(json!({"api_keys": keys.iter().map(key_json).collect::<Vec<_>>()})))
}

/// `DELETE /api/v1/api-keys/{id}`: revokes the key at once (it stays listed).
pub async fn revoke(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    system_admin(&actor)?;
    let audit_key = state.audit_key().ok_or_else(AppError::audit_key_missing)?;
    let n: i64 = id.parse().map_err(|_| AppError::not_a_number("id", &id))?;
    let key = state
        .db()
        .revoke_api_key(n, &actor.account, &audit_key)
        .await?
        .ok_or_else(|| {
            AppError::new(
                ErrorCode::UnknownApiKey,
                Some("id"),
                format!("密钥 {id} 不存在"),
                format!("no api key {id}"),
            )
        })?;
    Ok(Json(key_json(&key)))
}
