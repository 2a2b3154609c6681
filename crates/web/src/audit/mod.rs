//! The audit record over HTTP: `GET /api/v1/audit/verify`.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use gongzhi_app::audit;
use gongzhi_core::Localized;
use gongzhi_core::audit::Verdict;
use serde_json::{Value, json};

use crate::people::Authenticated;
use crate::{ApiError, AppState, ReqLang};

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/audit/verify", get(verify))
}

/// Verifies the whole chain with the server's key: `{"intact": true, "entries": N, "head":
/// "…"}`, or `{"intact": false, "broken_at": seq, "reason": "…", "reason_code": "…"}` with the
/// reason in the request's language. Only the audit administrator may ask (see
/// [`gongzhi_app::audit::verify`]).
pub async fn verify(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ReqLang(lang): ReqLang,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(match audit::verify(&state, &actor).await? {
        Verdict::Intact { entries, head } => json!({ "intact": true, "entries": entries, "head": head }),
        Verdict::Broken { broken_at, reason } => json!({
            "intact": false,
            "broken_at": broken_at,
            "reason": reason.message(lang),
            "reason_code": reason.code(),
        }),
    }))
}
