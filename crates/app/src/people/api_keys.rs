//! API keys of integrations: created by a system administrator (shown once, stored hashed),
//! scoped to a territory subtree and to the calls they may make, rate-limited in memory per key,
//! revocable. A request made with a key acts as `api-key:NAME`, so its use is attributable.

use std::time::{Duration, Instant};

use chrono::Utc;
use gongzhi_core::ErrorCode;
use gongzhi_core::people::credentials::{IssuedToken, token_hash};
use gongzhi_core::people::{Actor, Role, Scope};
use gongzhi_core::territory::TerritoryCode;
use gongzhi_store::people::api_keys::NewApiKey;
use rand::Rng;
use serde::Deserialize;

pub use gongzhi_store::people::api_keys::ApiKey;

use crate::{App, AppError};

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
    format!("{KEY_ACTOR_PREFIX}{}", key.name)
}

const KEY_ACTOR_PREFIX: &str = "api-key:";

/// Whether an actor's name is a key's (a staff user name never holds a `:`).
pub fn is_key_actor(account: &str) -> bool {
    account.starts_with(KEY_ACTOR_PREFIX)
}

/// A token bucket per key (by id), in this process's memory: `rate_per_minute` requests at once,
/// refilled at that rate.
pub type RateLimits = super::throttle::Buckets<i64>;

fn invalid_key() -> AppError {
    AppError::new(
        ErrorCode::InvalidApiKey,
        Some("api_key"),
        "api_key 无效或已吊销，无法创建请求",
        "Invalid api_key received -- can't proceed with create_request.",
    )
}

/// The key behind `secret` if it may make `call` now: 403 for a missing, unknown, revoked or
/// not-allowed key, 429 when its bucket is empty.
pub async fn authorize(app: &App, secret: Option<&str>, call: &str) -> Result<ApiKey, AppError> {
    let secret = secret.ok_or_else(|| {
        AppError::new(
            ErrorCode::MissingApiKey,
            Some("api_key"),
            "缺少 api_key，无法创建请求",
            "No api_key received -- can't proceed with create_request.",
        )
    })?;
    let key = app
        .db
        .api_key_for_hash(&token_hash(secret), Utc::now())
        .await?
        .ok_or_else(invalid_key)?;
    if !key.calls.iter().any(|c| c == call) {
        return Err(AppError::new(
            ErrorCode::CallNotAllowed,
            Some("api_key"),
            format!("此 api_key 不允许调用 {call}"),
            format!("this api_key may not make the call {call}"),
        ));
    }
    let minute = Duration::from_secs(60);
    app.api_key_limits
        .take(key.id, key.rate_per_minute, minute, Instant::now())
        .map_err(|wait| {
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
            .with_retry_after(wait)
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

/// The scopes the caller administers as a system administrator (who alone manages keys); 403
/// without one. Doors ask it before reading a request, so that others learn nothing from it.
pub fn system_admin(actor: &Actor) -> Result<Vec<&Scope>, AppError> {
    let scopes: Vec<&Scope> = actor
        .grants
        .iter()
        .filter(|g| g.role == Role::SystemAdmin)
        .map(|g| &g.scope)
        .collect();
    if scopes.is_empty() {
        return Err(AppError::forbidden_role("系统管理员", "system administrator"));
    }
    Ok(scopes)
}

/// A new key's facts, checked: a name of 1–64 letters, digits, `-`, `_` or `.`; a territory code
/// that exists; known calls; a rate of 1–6000 a minute.
pub struct KeyRequest {
    pub name: String,
    pub scope: TerritoryCode,
    pub calls: Vec<String>,
    pub rate_per_minute: i64,
}

/// Checks the facts of a new key as given (`calls` by default [`POST_REQUEST`], the rate by
/// default [`DEFAULT_RATE_PER_MINUTE`]).
pub async fn check_key_request(
    app: &App,
    name: &str,
    scope: &str,
    calls: Option<Vec<String>>,
    rate: Option<i64>,
) -> Result<KeyRequest, AppError> {
    let name = name.trim();
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(AppError::new(
            ErrorCode::InvalidName,
            Some("name"),
            "密钥名称应为1至64个字母、数字或 - _ .",
            "a key name is 1 to 64 letters, digits, '-', '_' or '.'",
        ));
    }
    let scope_code = TerritoryCode::parse(scope).map_err(|e| AppError::bad_code("scope", e))?;
    if app.db.node(&scope_code).await?.is_none() {
        return Err(AppError::unknown_node("scope", scope));
    }
    let calls = calls.unwrap_or_else(|| vec![POST_REQUEST.to_string()]);
    if calls.is_empty() || calls.iter().any(|c| !CALLS.contains(&c.as_str())) {
        return Err(AppError::new(
            ErrorCode::InvalidCalls,
            Some("calls"),
            format!("calls 应为以下之一或多个：{}", CALLS.join(", ")),
            format!("calls must be one or more of {}", CALLS.join(", ")),
        ));
    }
    let rate_per_minute = rate.unwrap_or(DEFAULT_RATE_PER_MINUTE);
    if !(1..=6000).contains(&rate_per_minute) {
        return Err(AppError::new(
            ErrorCode::InvalidRate,
            Some("rate_per_minute"),
            "rate_per_minute 应为1至6000",
            "rate_per_minute must be 1 to 6000",
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
/// the caller's hands); `None` when the name is taken. The door decides who may (the command
/// line records the system as the creator).
pub async fn create_key(
    app: &App,
    request: &KeyRequest,
    created_by: &str,
) -> Result<Option<(ApiKey, String)>, AppError> {
    let audit_key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
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
    Ok(app
        .db
        .create_api_key(&new, created_by, &audit_key)
        .await?
        .map(|k| (k, secret)))
}

/// A key asked for (`POST /api/v1/api-keys`): a name and a scope are required; the calls default
/// to posting requests, the rate to [`DEFAULT_RATE_PER_MINUTE`].
#[derive(Debug, Default, Deserialize)]
pub struct NewKey {
    pub name: Option<String>,
    pub scope: Option<String>,
    pub calls: Option<Vec<String>>,
    pub rate_per_minute: Option<i64>,
}

/// A system administrator creates a key within their scope: the key with its secret, 409 when
/// the name is taken.
pub async fn create(app: &App, actor: &Actor, command: NewKey) -> Result<(ApiKey, String), AppError> {
    let scopes = system_admin(actor)?;
    let name = AppError::required(command.name, "name")?;
    let scope = AppError::required(command.scope, "scope")?;
    let request = check_key_request(app, &name, &scope, command.calls, command.rate_per_minute).await?;
    if !scopes.iter().any(|s| s.reaches(&request.scope)) {
        return Err(AppError::new(
            ErrorCode::OutsideScope,
            Some("scope"),
            format!("{scope} 不在您的管理范围内"),
            format!("{scope} is outside your scope"),
        ));
    }
    create_key(app, &request, &actor.account).await?.ok_or_else(|| {
        AppError::new(
            ErrorCode::NameTaken,
            Some("name"),
            format!("已有名为 {} 的密钥", request.name),
            format!("a key named {} exists", request.name),
        )
    })
}

/// Every key (never a secret), revoked ones too; for system administrators.
pub async fn list(app: &App, actor: &Actor) -> Result<Vec<ApiKey>, AppError> {
    system_admin(actor)?;
    Ok(app.db.api_keys().await?)
}

/// Revokes a key at once (it stays listed); for system administrators. `id` is the key's id as
/// the path gave it.
pub async fn revoke(app: &App, actor: &Actor, id: &str) -> Result<ApiKey, AppError> {
    system_admin(actor)?;
    let audit_key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    let n: i64 = id.parse().map_err(|_| AppError::not_a_number("id", id))?;
    app.db
        .revoke_api_key(n, &actor.account, &audit_key)
        .await?
        .ok_or_else(|| {
            AppError::new(
                ErrorCode::UnknownApiKey,
                Some("id"),
                format!("密钥 {id} 不存在"),
                format!("no api key {id}"),
            )
        })
}
