//! FixMyStreet's `servicerequestupdates` (GET and POST): the case loop's timeline as a feed of
//! updates, and notes integrations add to a case (docs/OPEN311.md, "Service request updates").
//!
//! An update's id is `{case number}-{revision}`: the timeline event it is. A posted update is a
//! `note` event: it changes the case's revision and nothing else (an API key holds no role in
//! the loop, so it cannot move a case); the status it brings is kept on the note.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use gongzhi_app::AppError;
use gongzhi_app::cases::open311::{self, FeedEvent, NOTE_KIND, NewUpdate, PostedUpdate, Window};
use gongzhi_core::Lang;
use gongzhi_core::cases::flow::{ActionKind, State as CaseState};
use serde_json::{Value, json};

use super::requests::{fms_status, media_urls, read_form, w3c};
use super::{Doc, Format, Params, respond};
use crate::json::local;
use crate::{ApiError, AppState};
use gongzhi_app::people::api_keys::{POST_UPDATE, authorize};

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
    let window = Window::of_updates(w3c(params, "start_date")?, w3c(params, "end_date")?, Utc::now())?;
    let events = open311::updates(state, window).await?;
    let items = events.iter().map(|e| update_doc(e, lang)).collect();
    Ok(respond(
        format,
        StatusCode::OK,
        "service_request_updates",
        &Doc::List("request_update", items),
    ))
}

fn answer(format: Format, posted: &PostedUpdate, params: &Params) -> Response {
    let doc = Doc::List(
        "request_update",
        vec![Doc::Obj(vec![
            (
                "update_id",
                Doc::text(update_id(posted.case_number.as_str(), posted.note.revision)),
            ),
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
    let required = |f: &'static str| params.get(f).map(str::to_string).ok_or_else(|| AppError::missing(f));
    let optional = |f: &str| params.get(f).map(str::to_string);
    // The required fields are asked for in the spec's order (the first missing one is named).
    let update = NewUpdate {
        service_request_id: required("service_request_id")?,
        update_id: required("update_id")?,
        status: required("status")?,
        updated_datetime: required("updated_datetime")?,
        description: required("description")?,
        account_id: optional("account_id"),
        service_request_id_ext: optional("service_request_id_ext"),
        title: optional("title"),
        media_urls: media_urls(&params),
    };
    let posted = open311::post_update(state, &key, update).await?;
    Ok(answer(format, &posted, &params))
}
