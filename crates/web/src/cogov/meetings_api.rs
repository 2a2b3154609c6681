//! Joint meetings over JSON (`/api/v1/cogov/…`): bodies and seats, agenda items with their
//! journey, meetings with attendance, decisions and their cases; each route parses, calls one
//! use case of `gongzhi_app::cogov::meetings` and renders.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gongzhi_app::cases::CaseRecord;
use gongzhi_app::cogov::meetings::{
    self as m, AgendaItem, Body, Convene, Decide, ItemStep, ItemView, JourneyStep, MEETINGS, Meeting, MeetingView,
    NewBody, NewSeat, RaiseItem, Seat,
};
use gongzhi_core::Lang;
use gongzhi_core::cogov::meetings::{AgendaState, SeatOrgKind};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::json::{self, local};
use crate::people::Authenticated;
use crate::{ApiError, AppState, ReqLang};

pub(crate) fn body_json(b: &Body, lang: Lang) -> Value {
    json!({
        "id": b.id,
        "kind": b.kind,
        "kind_label": MEETINGS.body_kind(&b.kind).map_or(b.kind.as_str(), |k| k.label(lang)),
        "node": b.node_code,
        "name": b.name,
        "created_by": b.created_by,
        "created_at": local(b.created_at),
    })
}

pub(crate) fn seat_json(s: &Seat, lang: Lang) -> Value {
    json!({
        "id": s.id,
        "person": s.person,
        "org_kind": s.org_kind,
        "org_kind_label": SeatOrgKind::parse(&s.org_kind).map_or("", |k| k.label(lang)),
        "org_id": s.org_id,
        "org_name": s.org_name,
        "role": s.role,
        "role_label": MEETINGS.seat_role(&s.role).map_or(s.role.as_str(), |r| r.label(lang)),
        "term_from": s.term_from.to_string(),
        "term_to": s.term_to.map(|d| d.to_string()),
    })
}

pub(crate) fn item_json(i: &AgendaItem, lang: Lang) -> Value {
    json!({
        "id": i.id,
        "body": i.body_id,
        "title": i.title,
        "description": i.description,
        "source": i.source.as_str(),
        "source_label": i.source.label(lang),
        "source_ref": i.source_ref,
        "source_case": i.source_case_id,
        "state": i.state.as_str(),
        "state_label": i.state.label(lang),
        "reason": i.reason,
        "meeting": i.meeting_id,
        "raised_by": i.raised_by,
        "raised_at": local(i.raised_at),
    })
}

pub(crate) fn journey_json(steps: &[JourneyStep], lang: Lang) -> Value {
    steps
        .iter()
        .map(|s| {
            json!({
                "state": s.state,
                "label": AgendaState::parse(&s.state).map_or(s.state.as_str(), |st| st.label(lang)),
                "by": s.by_who,
                "at": local(s.stepped_at),
                "note": s.note,
            })
        })
        .collect()
}

pub(crate) fn case_ref_json(unit: &str, r: &CaseRecord, lang: Lang) -> Value {
    json!({
        "unit": unit,
        "case": r.id,
        "number": r.flow.number,
        "channel": r.channel,
        "state": r.flow.state.as_str(),
        "state_label": r.flow.state.label(lang),
        "lead": r.flow.lead.as_ref().map(gongzhi_core::cases::UnitRef::key),
        "handling_deadline": r.flow.deadlines.handling.map(local),
    })
}

fn item_view_json(v: &ItemView, lang: Lang) -> Value {
    let mut j = item_json(&v.item, lang);
    j["body_name"] = json!(v.body.name);
    j["journey"] = journey_json(&v.journey, lang);
    j["meeting_title"] = json!(v.meeting.as_ref().map(|m| m.title.clone()));
    j["source_case_number"] = json!(v.source_case.as_ref().map(|c| c.flow.number.to_string()));
    j["decision"] = match &v.decision {
        Some(d) => json!({"id": d.id, "meeting": d.meeting_id, "text": d.body, "due": d.due.to_string(),
                          "decided_by": d.decided_by, "decided_at": local(d.decided_at)}),
        None => Value::Null,
    };
    j["cases"] = v.cases.iter().map(|(a, r)| case_ref_json(&a.unit, r, lang)).collect();
    j
}

pub(crate) fn meeting_json(mt: &Meeting, lang: Lang) -> Value {
    json!({
        "id": mt.id,
        "body": mt.body_id,
        "title": mt.title,
        "place": mt.place,
        "starts_at": local(mt.starts_at),
        "state": mt.state.as_str(),
        "state_label": mt.state.label(lang),
        "minutes": mt.minutes,
        "convened_by": mt.convened_by,
        "convened_at": local(mt.convened_at),
    })
}

fn meeting_view_json(v: &MeetingView, lang: Lang) -> Value {
    let mut j = meeting_json(&v.meeting, lang);
    j["body_name"] = json!(v.body.name);
    j["items"] = v.items.iter().map(|i| item_json(i, lang)).collect();
    j["attendance"] = v
        .seats
        .iter()
        .filter_map(|s| {
            let a = v.attendance.iter().find(|a| a.seat_id == s.id)?;
            Some(json!({"seat": s.id, "person": s.person, "org_name": s.org_name, "present": a.present}))
        })
        .collect();
    j["decisions"] = v
        .decisions
        .iter()
        .map(|d| {
            json!({
                "id": d.decision.id,
                "item": d.decision.item_id,
                "text": d.decision.body,
                "due": d.decision.due.to_string(),
                "decided_by": d.decision.decided_by,
                "decided_at": local(d.decision.decided_at),
                "cases": d.cases.iter().map(|(a, r)| case_ref_json(&a.unit, r, lang)).collect::<Vec<_>>(),
            })
        })
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
pub struct BodyBody {
    kind: Option<String>,
    node: Option<String>,
    name: Option<String>,
}

/// `GET /api/v1/cogov/bodies`: the bodies in reach.
pub async fn list_bodies(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ReqLang(lang): ReqLang,
) -> Result<Json<Value>, ApiError> {
    let bodies = m::bodies(&state, &actor).await?;
    Ok(Json(
        json!({"bodies": bodies.iter().map(|b| body_json(b, lang)).collect::<Vec<_>>()}),
    ))
}

/// `POST /api/v1/cogov/bodies`: creates a body of a node.
pub async fn create_body(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ReqLang(lang): ReqLang,
    json::JsonBody(raw): json::JsonBody,
) -> Result<Response, ApiError> {
    let b: BodyBody = json::command(&raw)?;
    let cmd = NewBody {
        kind: b.kind.unwrap_or_default(),
        node: b.node.unwrap_or_default(),
        name: b.name.unwrap_or_default(),
    };
    let id = m::create_body(&state, &actor, cmd).await?;
    let view = m::body(&state, &actor, id).await?;
    Ok(created(
        format!("/api/v1/cogov/bodies/{id}"),
        body_json(&view.body, lang),
    ))
}

/// `GET /api/v1/cogov/bodies/{id}`: a body with its seats, agenda items and meetings.
pub async fn get_body(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ReqLang(lang): ReqLang,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let v = m::body(&state, &actor, id).await?;
    let mut j = body_json(&v.body, lang);
    j["seats"] = v.seats.iter().map(|s| seat_json(s, lang)).collect();
    j["items"] = v.items.iter().map(|i| item_json(i, lang)).collect();
    j["meetings"] = v.meetings.iter().map(|mt| meeting_json(mt, lang)).collect();
    Ok(Json(j))
}

#[derive(Deserialize, Default)]
pub struct SeatBody {
    person: Option<String>,
    org_kind: Option<String>,
    org_id: Option<Value>,
    role: Option<String>,
    term_from: Option<String>,
    term_to: Option<String>,
}

/// `POST /api/v1/cogov/bodies/{id}/seats`: a seat held by a person for an organization.
pub async fn add_seat(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ReqLang(lang): ReqLang,
    Path(id): Path<i64>,
    json::JsonBody(raw): json::JsonBody,
) -> Result<Response, ApiError> {
    let b: SeatBody = json::command(&raw)?;
    let cmd = NewSeat {
        person: b.person.unwrap_or_default(),
        org_kind: b.org_kind.unwrap_or_default(),
        org_id: text_of(&b.org_id),
        role: b.role.unwrap_or_default(),
        term_from: b.term_from.unwrap_or_default(),
        term_to: b.term_to.unwrap_or_default(),
    };
    let seat = m::add_seat(&state, &actor, id, cmd).await?;
    let view = m::body(&state, &actor, id).await?;
    let s = view.seats.iter().find(|s| s.id == seat).map(|s| seat_json(s, lang));
    Ok(created(format!("/api/v1/cogov/bodies/{id}"), s.unwrap_or(Value::Null)))
}

#[derive(Deserialize, Default)]
pub struct ItemBody {
    title: Option<String>,
    description: Option<String>,
    source: Option<String>,
    source_ref: Option<Value>,
}

/// `POST /api/v1/cogov/bodies/{id}/items`: raises an agenda item (from a case: `source` `case`
/// and `source_ref` its id or number).
pub async fn raise_item(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ReqLang(lang): ReqLang,
    Path(id): Path<i64>,
    json::JsonBody(raw): json::JsonBody,
) -> Result<Response, ApiError> {
    let b: ItemBody = json::command(&raw)?;
    let cmd = RaiseItem {
        title: b.title.unwrap_or_default(),
        description: b.description.unwrap_or_default(),
        source: b.source.unwrap_or_default(),
        source_ref: text_of(&b.source_ref),
    };
    let item = m::raise_item(&state, &actor, id, cmd).await?;
    let v = m::item(&state, &actor, item).await?;
    Ok(created(format!("/api/v1/cogov/items/{item}"), item_view_json(&v, lang)))
}

/// `GET /api/v1/cogov/items/{id}`: an item with its journey, decision and cases.
pub async fn get_item(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ReqLang(lang): ReqLang,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let v = m::item(&state, &actor, id).await?;
    Ok(Json(item_view_json(&v, lang)))
}

#[derive(Deserialize, Default)]
pub struct ItemStepBody {
    step: Option<String>,
    reason: Option<String>,
}

/// `POST /api/v1/cogov/items/{id}/steps`: `vet`, or `reject` with a reason.
pub async fn step_item(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ReqLang(lang): ReqLang,
    Path(id): Path<i64>,
    json::JsonBody(raw): json::JsonBody,
) -> Result<Json<Value>, ApiError> {
    let b: ItemStepBody = json::command(&raw)?;
    let cmd = ItemStep {
        step: b.step.unwrap_or_default(),
        reason: b.reason.unwrap_or_default(),
    };
    m::step_item(&state, &actor, id, cmd).await?;
    let v = m::item(&state, &actor, id).await?;
    Ok(Json(item_view_json(&v, lang)))
}

#[derive(Deserialize, Default)]
pub struct ConveneBody {
    title: Option<String>,
    starts_at: Option<String>,
    place: Option<String>,
    items: Option<Vec<i64>>,
}

/// `POST /api/v1/cogov/bodies/{id}/meetings`: convenes a meeting with vetted items.
pub async fn convene(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ReqLang(lang): ReqLang,
    Path(id): Path<i64>,
    json::JsonBody(raw): json::JsonBody,
) -> Result<Response, ApiError> {
    let b: ConveneBody = json::command(&raw)?;
    let cmd = Convene {
        title: b.title.unwrap_or_default(),
        starts_at: b.starts_at.unwrap_or_default(),
        place: b.place.unwrap_or_default(),
        items: b.items.unwrap_or_default(),
    };
    let meeting = m::convene(&state, &actor, id, cmd).await?;
    let v = m::meeting(&state, &actor, meeting).await?;
    Ok(created(
        format!("/api/v1/cogov/meetings/{meeting}"),
        meeting_view_json(&v, lang),
    ))
}

/// `GET /api/v1/cogov/meetings/{id}`: a meeting with its agenda, attendance and decisions.
pub async fn get_meeting(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ReqLang(lang): ReqLang,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let v = m::meeting(&state, &actor, id).await?;
    Ok(Json(meeting_view_json(&v, lang)))
}

#[derive(Deserialize, Default)]
pub struct MeetingStepBody {
    step: Option<String>,
    present: Option<Vec<i64>>,
    item: Option<i64>,
    text: Option<String>,
    units: Option<Vec<String>>,
    due: Option<String>,
    matter: Option<String>,
    grid_code: Option<String>,
    minutes: Option<String>,
}

/// `POST /api/v1/cogov/meetings/{id}/steps`: `hold` (`present`: the seats present), `decide`
/// (`item`, `text`, `units`, `due`; `matter` and `grid_code` for an item not raised from a case)
/// or `close` (`minutes`).
pub async fn step_meeting(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ReqLang(lang): ReqLang,
    Path(id): Path<i64>,
    json::JsonBody(raw): json::JsonBody,
) -> Result<Json<Value>, ApiError> {
    let b: MeetingStepBody = json::command(&raw)?;
    match b.step.as_deref().unwrap_or_default() {
        "hold" => m::hold(&state, &actor, id, b.present.unwrap_or_default()).await?,
        "decide" => {
            let cmd = Decide {
                item: b.item.ok_or_else(|| gongzhi_app::AppError::missing("item"))?,
                text: b.text.unwrap_or_default(),
                units: b.units.unwrap_or_default(),
                due: b.due.unwrap_or_default(),
                matter: b.matter.unwrap_or_default(),
                grid_code: b.grid_code.unwrap_or_default(),
            };
            m::decide(&state, &actor, id, cmd).await?;
        }
        "close" => m::close(&state, &actor, id, b.minutes.as_deref().unwrap_or_default()).await?,
        other => {
            return Err(gongzhi_app::AppError::new(
                gongzhi_core::ErrorCode::InvalidField,
                Some("step"),
                format!("未知操作 step：{other}（应为 hold、decide 或 close）"),
                format!("unknown step {other:?} (hold, decide or close)"),
            ));
        }
    }
    let v = m::meeting(&state, &actor, id).await?;
    Ok(Json(meeting_view_json(&v, lang)))
}

/// `GET /api/v1/cogov/solved`: problems solved by joint meetings in reach, counted from the
/// closed `meeting` cases of their decisions.
pub async fn solved(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ReqLang(lang): ReqLang,
) -> Result<Json<Value>, ApiError> {
    let s = m::solved(&state, &actor).await?;
    Ok(Json(json!({
        "cases": s.cases,
        "closed": s.closed,
        "bodies": s.by_body.iter().map(|(b, all, closed)| {
            let mut j = body_json(b, lang);
            j["cases"] = json!(all);
            j["closed"] = json!(closed);
            j
        }).collect::<Vec<_>>(),
    })))
}
