//! The audit record over HTTP: `GET /api/v1/audit/verify`.

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use gongzhi_app::audit;
use gongzhi_core::Localized;
use gongzhi_core::audit::{Verdict, canonical_time};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::people::Authenticated;
use crate::{ApiError, AppState, ReqLang};

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/audit/verify", get(verify))
}

#[derive(Deserialize)]
pub struct VerifyParams {
    full: Option<String>,
}

/// Verifies the chain with the server's key against its checkpoint: only the entries from the
/// checkpoint's own on, or all with `?full=true`. Answers `{"intact": true, "entries": N, "head":
/// "…"}`, or `{"intact": false, "broken_at": seq, "reason": "…", "reason_code": "…"}` with the
/// reason in the request's language; either way with `full`, `from` (the first entry checked),
/// `checked` and `checkpoint` (`{"seq", "at"}`, or null when none was written yet). Only the
/// audit administrator may ask (see [`gongzhi_app::audit::verify`]).
pub async fn verify(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ReqLang(lang): ReqLang,
    Query(params): Query<VerifyParams>,
) -> Result<Json<Value>, ApiError> {
    let full = crate::cases::api::flag("full", &params.full)?.unwrap_or(false);
    let report = audit::verify(&state, &actor, full).await?;
    let mut body = match &report.verification.verdict {
        Verdict::Intact { entries, head } => json!({ "intact": true, "entries": entries, "head": head }),
        Verdict::Broken { broken_at, reason } => json!({
            "intact": false,
            "broken_at": broken_at,
            "reason": reason.message(lang),
            "reason_code": reason.code(),
        }),
    };
    body["full"] = json!(report.full);
    body["from"] = json!(report.verification.from);
    body["checked"] = json!(report.verification.checked);
    body["checkpoint"] = report
        .checkpoint
        .map_or(Value::Null, |c| json!({"seq": c.seq, "at": canonical_time(&c.at)}));
    Ok(Json(body))
}
