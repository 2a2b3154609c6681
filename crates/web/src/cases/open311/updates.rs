//! FixMyStreet's `servicerequestupdates` (GET and POST): the case loop's timeline as a feed of
//! updates, and notes integrations add to a case (docs/OPEN311.md, "Service request updates").
//!
//! An update's id is `{case number}-{revision}`: the timeline event it is. A posted update is a
//! `note` event: it changes the case's revision and nothing else (an API key holds no role in
//! the loop, so it cannot move a case); the status it brings is kept on the note.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Duration, Utc};
use gongzhi_app::AppError;
use gongzhi_core::ErrorCode;
use gongzhi_core::Lang;
use gongzhi_core::cases::flow::{ActionKind, State as CaseState};
use gongzhi_store::cases::updates::{FeedEvent, NOTE_KIND, NoteRef};
use serde_json::{Map, Value, json};

use super::requests::{bad, fms_status, parse_number, read_form, unknown_request, w3c};
use super::{Doc, Format, Params, respond};
use crate::cases::api::local;
use crate::people::api_keys::{POST_UPDATE, authorize, key_actor, key_reaches};
use crate::{ApiError, AppState};
use gongzhi_app::cases::publish;

/// The most updates one answer holds (oldest first: a client continues from the last one's time).
const MAX_UPDATES: i64 = 1000;
/// The longest `start_date`–`end_date` span (as for requests).
const MAX_SPAN_DAYS: i64 = 90;
/// The window when no dates are given.
const DEFAULT_WINDOW_HOURS: i64 = 24;
/// FixMyStreet's extended statuses, as POSTed (upper case).
pub const POST_STATUSES: [&str; 15] = [
    "UNCHANGED",
    "OPEN",
    "CLOSED",
    "FIXED",
    "IN_PROGRESS",
    "PLANNED",
    "ACTION_SCHEDULED",
    "INVESTIGATING",
    "DUPLICATE",
    "NOT_COUNCILS_RESPONSIBILITY",
    "NO_FURTHER_ACTION",
    "INTERNAL_REFERRAL",
    "CANCELLED",
    "REOPEN",
    "FOR_TRIAGE",
];
/// The longest note (the case loop's limit on texts).
const MAX_DESCRIPTION: usize = 2000;

fn update_id(case_no: &str, revision: i32) -> String {
    format!("{case_no}-{revision}")
}

/// One timeline event as a `request_update`.
fn update_doc(e: &FeedEvent, lang: Lang) -> Doc {
    let body: Value = serde_json::from_str(&e.body).unwrap_or(Value::Null);
    let to = CaseState::parse(&e.to_state);
    let status = to.map(fms_status).unwrap_or("open");
    let (description, media) = if e.kind == NOTE_KIND {
        let media = body
            .pointer("/open311/media_url")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        (
            body.get("note").and_then(Value::as_str).unwrap_or("").to_string(),
            media,
        )
    } else {
        // An action of the loop: its name and the state it led to (never its free text, which
        // may name people; the same as the requests' `notes`).
        let label = serde_json::from_value::<ActionKind>(json!(e.kind))
            .map(|k| k.label(lang).to_string())
            .unwrap_or_else(|_| e.kind.clone());
        let state = to.map(|s| s.label(lang)).unwrap_or("");
        (format!("{label}{}{state}", lang.pick("：", ": ")), String::new())
    };
    Doc::Obj(vec![
        ("update_id", Doc::text(update_id(&e.case_no, e.revision))),
        ("service_request_id", Doc::text(e.case_no.clone())),
        ("status", Doc::text(status)),
        ("updated_datetime", Doc::text(local(e.at))),
        ("description", Doc::text(description)),
        ("media_url", Doc::text(media)),
    ])
}

/// `GET /open311/v2/servicerequestupdates.{xml,json}`: public, as the requests are.
pub(super) async fn list(state: &AppState, lang: Lang, format: Format, params: &Params) -> Result<Response, ApiError> {
    let now = Utc::now();
    let (start, end) = (w3c(params, "start_date")?, w3c(params, "end_date")?);
    let window = Duration::hours(DEFAULT_WINDOW_HOURS);
    let (start, end) = match (start, end) {
        (Some(s), Some(e)) => (s, e),
        (Some(s), None) => (s, now),
        (None, Some(e)) => (e - window, e),
        (None, None) => (now - window, now),
    };
    if start > end {
        return Err(bad(
            "start_date",
            ErrorCode::InvalidDateRange,
            "start_date 晚于 end_date".into(),
            "start_date is after end_date".into(),
        ));
    }
    if end - start > Duration::days(MAX_SPAN_DAYS) {
        return Err(bad(
            "end_date",
            ErrorCode::DateRangeTooLong,
            format!("start_date 至 end_date 不能超过{MAX_SPAN_DAYS}天"),
            format!("start_date to end_date may span at most {MAX_SPAN_DAYS} days"),
        ));
    }
    let events = state.db().feed_events(start, end, MAX_UPDATES).await?;
    let items = events.iter().map(|e| update_doc(e, lang)).collect();
    Ok(respond(
        format,
        StatusCode::OK,
        "service_request_updates",
        &Doc::List("request_update", items),
    ))
}

fn answer(format: Format, case_no: &str, note: &NoteRef, params: &Params) -> Response {
    let doc = Doc::List(
        "request_update",
        vec![Doc::Obj(vec![
            ("update_id", Doc::text(update_id(case_no, note.revision))),
            ("account_id", Doc::opt_text(params.get("account_id"))),
        ])],
    );
    respond(format, StatusCode::OK, "service_request_updates", &doc)
}

/// `POST /open311/v2/servicerequestupdates.{xml,json}`: a note on a case within the key's scope.
pub(super) async fn post(
    state: &AppState,
    _lang: Lang,
    format: Format,
    query: Option<&str>,
    request: Request,
) -> Result<Response, ApiError> {
    let (params, _media) = read_form(state, query, request).await?;
    let key = authorize(state, params.get("api_key"), POST_UPDATE).await?;
    let actor = key_actor(&key);
    let mut required = Vec::new();
    for f in [
        "service_request_id",
        "update_id",
        "status",
        "updated_datetime",
        "description",
    ] {
        required.push(params.get(f).ok_or_else(|| AppError::missing(f))?);
    }
    let (id, their_update_id, status, description) = (required[0], required[1], required[2], required[4]);
    let their_update_id = gongzhi_app::cases::idempotency_key("update_id", Some(their_update_id))?.unwrap_or_default();
    // A repeated update_id answers with the first note, whatever else the post says.
    if let Some(found) = state.db().note_by_update_id(key.id, &their_update_id).await? {
        let record = state
            .db()
            .case_by_id(found.case_id)
            .await?
            .ok_or_else(|| unknown_request(id))?;
        return Ok(answer(format, record.flow.number.as_str(), &found, &params));
    }
    let number = parse_number(id).ok_or_else(|| unknown_request(id))?;
    let record = state
        .db()
        .case_by_number(&number)
        .await?
        .ok_or_else(|| unknown_request(id))?;
    if !key_reaches(&key, &record.flow.node) {
        return Err(AppError::new(
            ErrorCode::OutsideKeyScope,
            Some("api_key"),
            format!("此 api_key 只能更新 {} 范围内的请求", key.scope_code),
            format!("this api_key updates only requests within {}", key.scope_code),
        )
        .into());
    }
    let status = status.to_ascii_uppercase();
    if !POST_STATUSES.contains(&status.as_str()) {
        return Err(bad(
            "status",
            ErrorCode::InvalidStatus,
            format!("status 应为 {} 之一，实际为 {status:?}", POST_STATUSES.join(", ")),
            format!("status must be one of {}; got {status:?}", POST_STATUSES.join(", ")),
        ));
    }
    let updated = w3c(&params, "updated_datetime")?.unwrap_or_else(Utc::now);
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(bad(
            "description",
            ErrorCode::DescriptionTooLong,
            format!("描述不能超过{MAX_DESCRIPTION}字"),
            format!("the description has more than {MAX_DESCRIPTION} characters"),
        ));
    }
    let mut open311 = Map::new();
    open311.insert("api_key".into(), json!(key.name));
    open311.insert("update_id".into(), json!(their_update_id));
    open311.insert("status".into(), json!(status));
    open311.insert("updated_datetime".into(), json!(local(updated)));
    for f in ["account_id", "service_request_id_ext", "title"] {
        if let Some(v) = params.get(f) {
            open311.insert(f.into(), json!(v));
        }
    }
    let media_urls: Vec<&str> = params
        .0
        .iter()
        .filter(|(k, v)| (k == "media_url" || k == "media_url[]") && !v.trim().is_empty())
        .map(|(_, v)| v.trim())
        .collect();
    if !media_urls.is_empty() {
        open311.insert("media_url".into(), json!(media_urls));
    }
    let body = json!({"note": description, "open311": open311});
    let audit_key = state.audit_key().ok_or_else(AppError::audit_key_missing)?;
    let note = state
        .db()
        .add_note(
            &record,
            key.id,
            &their_update_id,
            &actor.account,
            &body,
            Utc::now(),
            &audit_key,
        )
        .await
        .map_err(|e| match e {
            gongzhi_store::StoreError::Conflict { .. } => AppError::new(
                ErrorCode::CaseChanged,
                None,
                "案件刚被他人处理，请重试",
                "the case was just changed by someone else; try again",
            ),
            other => other.into(),
        })?;
    if !note.replayed
        && let Some(updated) = state.db().case_by_id(record.id).await?
    {
        publish(state, &updated, NOTE_KIND);
    }
    Ok(answer(format, record.flow.number.as_str(), &note, &params))
}
