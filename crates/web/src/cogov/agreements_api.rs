//! Co-building agreements over JSON (`/api/v1/cogov/agreements…`): the list in reach (filtered
//! by `community`), sign, one agreement with its commitments and records, renew, end and
//! record; each route parses, calls one use case of `gongzhi_app::cogov::agreements` and renders.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gongzhi_app::cogov::agreements::{
    self as ag, Agreement, AgreementView, CO_BUILDING, NewAgreement, NewRecord, TermsInput,
};
use gongzhi_core::Lang;
use gongzhi_core::cogov::agreements::{Appointment, Commitment, Pairing};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::json::{self, Query, local};
use crate::people::Authenticated;
use crate::{ApiError, AppState, ReqLang};

fn today() -> chrono::NaiveDate {
    gongzhi_core::time::city_time(chrono::Utc::now()).date_naive()
}

pub(crate) fn agreement_json(a: &Agreement, lang: Lang) -> Value {
    let standing = a.state.standing(a.term_to, today());
    json!({
        "id": a.id,
        "community": a.community_code,
        "organization": a.organization_id,
        "organization_name": a.organization_name,
        "term_from": a.term_from.to_string(),
        "term_to": a.term_to.to_string(),
        "state": a.state.as_str(),
        "state_label": a.state.label(lang),
        "standing": standing.as_str(),
        "standing_label": standing.label(lang),
        "renews": a.renews,
        "end_reason": a.end_reason,
        "signed_by": a.signed_by,
        "signed_at": local(a.signed_at),
    })
}

fn view_json(v: &AgreementView, lang: Lang) -> Value {
    let mut j = agreement_json(&v.agreement, lang);
    j["renewed_by"] = json!(v.renewed_by);
    j["commitments"] = v
        .commitments
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "mechanism": c.mechanism,
                "mechanism_label": CO_BUILDING.mechanism(&c.mechanism).map_or(c.mechanism.as_str(), |m| m.label(lang)),
                "text": c.body,
                "records": v.records.iter().filter(|r| r.commitment_id == c.id).map(|r| json!({
                    "id": r.id,
                    "date": r.done_on.to_string(),
                    "text": r.body,
                    "people": r.people,
                    "recorded_by": r.recorded_by,
                    "recorded_at": local(r.recorded_at),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    j["appointments"] = v
        .appointments
        .iter()
        .map(|a| json!({"person": a.person, "organization_post": a.organization_post, "community_post": a.community_post}))
        .collect();
    j["pairings"] = v
        .pairings
        .iter()
        .map(|p| json!({"first": p.first_person, "second": p.second_person, "subject": p.subject}))
        .collect();
    j
}

fn created(location: String, body: Value) -> Response {
    let mut r = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(v) = axum::http::HeaderValue::from_str(&location) {
        r.headers_mut().insert(axum::http::header::LOCATION, v);
    }
    r
}

/// A text field that may come as a number (an id) or text.
fn text_of(v: &Option<Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    community: String,
}

/// `GET /api/v1/cogov/agreements`: the agreements in reach, newest first (`community` filters).
pub async fn list(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ReqLang(lang): ReqLang,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let list = ag::agreements(&state, &actor, Some(&q.community)).await?;
    Ok(Json(json!({
        "agreements": list.iter().map(|a| agreement_json(a, lang)).collect::<Vec<_>>(),
        "mechanisms": CO_BUILDING.mechanisms.iter().map(|m| json!({"code": m.code, "label": m.label(lang)})).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize, Default)]
pub struct CommitmentBody {
    mechanism: Option<String>,
    text: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct AppointmentBody {
    person: Option<String>,
    organization_post: Option<String>,
    community_post: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct PairingBody {
    first: Option<String>,
    second: Option<String>,
    subject: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct TermsBody {
    community: Option<String>,
    organization: Option<Value>,
    term_from: Option<String>,
    term_to: Option<String>,
    commitments: Option<Vec<CommitmentBody>>,
    appointments: Option<Vec<AppointmentBody>>,
    pairings: Option<Vec<PairingBody>>,
}

impl TermsBody {
    fn terms(&mut self) -> TermsInput {
        TermsInput {
            term_from: self.term_from.take().unwrap_or_default(),
            term_to: self.term_to.take().unwrap_or_default(),
            commitments: self
                .commitments
                .take()
                .unwrap_or_default()
                .into_iter()
                .map(|c| Commitment {
                    mechanism: c.mechanism.unwrap_or_default(),
                    text: c.text.unwrap_or_default(),
                })
                .collect(),
            appointments: self
                .appointments
                .take()
                .unwrap_or_default()
                .into_iter()
                .map(|a| Appointment {
                    person: a.person.unwrap_or_default(),
                    organization_post: a.organization_post.unwrap_or_default(),
                    community_post: a.community_post.unwrap_or_default(),
                })
                .collect(),
            pairings: self
                .pairings
                .take()
                .unwrap_or_default()
                .into_iter()
                .map(|p| Pairing {
                    first: p.first.unwrap_or_default(),
                    second: p.second.unwrap_or_default(),
                    subject: p.subject.unwrap_or_default(),
                })
                .collect(),
        }
    }
}

/// `POST /api/v1/cogov/agreements`: signs an agreement of a community with a member
/// organization (`organization`: its registry id).
pub async fn sign(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ReqLang(lang): ReqLang,
    json::JsonBody(raw): json::JsonBody,
) -> Result<Response, ApiError> {
    let mut b: TermsBody = json::command(&raw)?;
    let cmd = NewAgreement {
        community: b.community.take().unwrap_or_default(),
        organization: text_of(&b.organization),
        terms: b.terms(),
    };
    let id = ag::sign(&state, &actor, cmd).await?;
    let v = ag::agreement(&state, &actor, id).await?;
    Ok(created(format!("/api/v1/cogov/agreements/{id}"), view_json(&v, lang)))
}

/// `GET /api/v1/cogov/agreements/{id}`: an agreement with its commitments and their records,
/// appointments, pairings, and the agreements it renews and is renewed by.
pub async fn get(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ReqLang(lang): ReqLang,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let v = ag::agreement(&state, &actor, id).await?;
    Ok(Json(view_json(&v, lang)))
}

/// `POST /api/v1/cogov/agreements/{id}/renew`: a new agreement renewing this one (`term_from`,
/// `term_to`; the lists, or this one's when left out); answers the new one.
pub async fn renew(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ReqLang(lang): ReqLang,
    Path(id): Path<i64>,
    json::JsonBody(raw): json::JsonBody,
) -> Result<Response, ApiError> {
    let mut b: TermsBody = json::command(&raw)?;
    let new = ag::renew(&state, &actor, id, b.terms()).await?;
    let v = ag::agreement(&state, &actor, new).await?;
    Ok(created(format!("/api/v1/cogov/agreements/{new}"), view_json(&v, lang)))
}

#[derive(Deserialize, Default)]
pub struct EndBody {
    reason: Option<String>,
}

/// `POST /api/v1/cogov/agreements/{id}/end`: ends it with a `reason`.
pub async fn end(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ReqLang(lang): ReqLang,
    Path(id): Path<i64>,
    json::JsonBody(raw): json::JsonBody,
) -> Result<Json<Value>, ApiError> {
    let b: EndBody = json::command(&raw)?;
    ag::end(&state, &actor, id, b.reason.as_deref().unwrap_or_default()).await?;
    let v = ag::agreement(&state, &actor, id).await?;
    Ok(Json(view_json(&v, lang)))
}

#[derive(Deserialize, Default)]
pub struct RecordBody {
    commitment: Option<Value>,
    date: Option<String>,
    text: Option<String>,
    people: Option<Value>,
}

/// `POST /api/v1/cogov/agreements/{id}/records`: what was done under a commitment
/// (`commitment` id, `date`, `text`, optional `people` served); answers the agreement.
pub async fn record(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ReqLang(lang): ReqLang,
    Path(id): Path<i64>,
    json::JsonBody(raw): json::JsonBody,
) -> Result<Response, ApiError> {
    let b: RecordBody = json::command(&raw)?;
    let cmd = NewRecord {
        commitment: text_of(&b.commitment),
        date: b.date.unwrap_or_default(),
        text: b.text.unwrap_or_default(),
        people: text_of(&b.people),
    };
    ag::record(&state, &actor, id, cmd).await?;
    let v = ag::agreement(&state, &actor, id).await?;
    Ok(created(format!("/api/v1/cogov/agreements/{id}"), view_json(&v, lang)))
}
