//! The audit record over HTTP: `GET /api/v1/audit/verify`.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use gongzhi_app::AppError;
use gongzhi_core::Localized;
use gongzhi_core::audit::Verdict;
use gongzhi_core::people::Role;
use serde_json::{Value, json};

use crate::people::Authenticated;
use crate::{ApiError, AppState, ReqLang};

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/audit/verify", get(verify))
}

/// Verifies the whole chain with the server's key: `{"intact": true, "entries": N, "head":
/// "…"}`, or `{"intact": false, "broken_at": seq, "reason": "…", "reason_code": "…"}` with the
/// reason in the request's language. Reads the chain in batches, so it stays cheap in memory
/// however long the record is; its time grows with the record (about 80,000 entries a second).
/// Only the audit administrator may ask: the system administrator, whose work the record
/// watches, may not (三员分立).
pub async fn verify(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ReqLang(lang): ReqLang,
) -> Result<Json<Value>, ApiError> {
    if !actor.has_role(Role::AuditAdmin) {
        return Err(AppError::forbidden_role("审计管理员", "audit administrator").into());
    }
    let key = state.audit_key().ok_or_else(AppError::audit_key_missing)?;
    Ok(Json(match gongzhi_store::audit::verify(&state.db(), &key).await? {
        Verdict::Intact { entries, head } => json!({ "intact": true, "entries": entries, "head": head }),
        Verdict::Broken { broken_at, reason } => json!({
            "intact": false,
            "broken_at": broken_at,
            "reason": reason.message(lang),
            "reason_code": reason.code(),
        }),
    }))
}
