//! The case loop over JSON: report, act, read with its timeline, list.

use crate::json::Query;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use gongzhi_app::AppError;
use gongzhi_core::ErrorCode;
use gongzhi_core::Lang;
use gongzhi_core::cases::WorkClock;
use gongzhi_core::cases::flow::{State as CaseState, available_actions, next_deadline, overdue, remaining_minutes};
use gongzhi_core::cases::intake::Channel;
use gongzhi_core::cases::rules::CaseRules;
use gongzhi_core::cases::taxonomy::TypeCode;
use gongzhi_core::people::Actor;
use gongzhi_core::territory::TerritoryCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::json;
use crate::people::Authenticated;
use crate::{ApiError, AppState, ReqLang};
use gongzhi_app::cases::{
    self, Acted, CaseQuery, CaseRecord, CaseView, Duplicate, RawReport, Reported, Step, StoredEvent, idempotency_key,
    matter_code, steps, unit_json,
};

use crate::json::local;

fn local_opt(t: Option<DateTime<Utc>>) -> Value {
    t.map(|t| json!(local(t))).unwrap_or(Value::Null)
}

fn bad(field: &'static str, code: ErrorCode, zh: String, en: String) -> ApiError {
    AppError::new(code, Some(field), zh, en)
}

/// `POST /api/v1/cases`: report a case from any channel. The body is a [`RawReport`] (checked
/// into a [`cases::Report`]); the `Idempotency-Key` header makes a retry safe.
pub async fn report(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ReqLang(lang): ReqLang,
    headers: HeaderMap,
    crate::json::JsonBody(body): crate::json::JsonBody,
) -> Result<Response, ApiError> {
    let raw: RawReport = json::command(&body)?;
    let raw_key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => Some(v.to_str().unwrap_or("\u{7f}")),
    };
    let key = idempotency_key("Idempotency-Key", raw_key)?;
    let report = cases::Report {
        idempotency_key: key,
        ..cases::Report::try_from(raw)?
    };
    let Reported {
        record,
        routing,
        duplicates,
        replayed,
    } = cases::report(&state, &actor, report).await?;
    let rules = state.rules();
    let mut body = case_json(&record, &rules, &actor, lang, Utc::now());
    body["routing"] = routing;
    body["duplicates"] = duplicates.iter().map(duplicate_json).collect();
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if replayed {
        response
            .headers_mut()
            .insert("idempotency-replayed", HeaderValue::from_static("true"));
    }
    response.headers_mut().insert(
        axum::http::header::LOCATION,
        HeaderValue::from_str(&format!("/api/v1/cases/{}", record.id))
            .unwrap_or(HeaderValue::from_static("/api/v1/cases")),
    );
    Ok(response)
}

/// An open duplicate nearby as the API shows it.
pub(crate) fn duplicate_json(d: &Duplicate) -> Value {
    json!({"id": d.id, "number": d.number, "state": d.state, "distance_m": d.distance_m,
           "description": d.description, "reported_at": local(d.reported_at)})
}

pub(crate) fn case_json(r: &CaseRecord, rules: &CaseRules, actor: &Actor, lang: Lang, now: DateTime<Utc>) -> Value {
    let c = &r.flow;
    let matter_name = TypeCode::parse(&c.matter)
        .ok()
        .and_then(|t| rules.taxonomy.matter(&t).map(|e| e.name.clone()));
    json!({
        "id": r.id,
        "number": c.number,
        "channel": r.channel,
        "channel_label": r.channel.parse::<Channel>().map(|ch| ch.label(lang)).unwrap_or(""),
        "matter": {"code": c.matter, "name": matter_name},
        "description": r.description,
        "state": c.state.as_str(),
        "state_label": c.state.label(lang),
        "outcome": c.state.outcome(),
        "stage": c.state.stage(),
        "location": r.location,
        "node": c.node,
        "lead": c.lead.as_ref().map(|u| unit_json(u, rules)),
        "co_handlers": c.co_handlers.iter().map(|u| unit_json(u, rules)).collect::<Vec<_>>(),
        "deadlines": {
            "response": local_opt(c.deadlines.response),
            "handling": local_opt(c.deadlines.handling),
            "verification": local_opt(c.deadlines.verification),
        },
        "next_deadline": local_opt(next_deadline(c)),
        "overdue": overdue(c, now),
        "remaining_work_minutes": remaining_minutes(c, now, &rules.calendar),
        "supervision": c.supervision,
        "rework_count": c.rework_count,
        "reopen_count": c.reopen_count,
        "pending_requests": c.pending,
        "whistles": c.whistles,
        "follow_up": c.follow_up,
        "merged_into": c.merged_into,
        "revision": c.revision,
        "reporter": r.reporter,
        "reported_at": local(r.reported_at),
        "updated_at": local(r.updated_at),
        "closed_at": local_opt(c.closed_at),
        "available_actions": available_actions(c, actor).iter().map(|k| json!({"action": k.as_str(), "label": k.label(lang)})).collect::<Vec<_>>(),
    })
}

/// A step of the timeline as the API shows it.
fn step_json(s: &Step) -> Value {
    json!({
        "revision": s.revision,
        "at": local(s.at),
        "account": s.account,
        "role": s.role,
        "unit": s.unit,
        "kind": s.kind,
        "label": s.label,
        "from": s.from,
        "to": s.to,
        "to_label": s.to_label,
        "work_minutes": s.work_minutes,
        "limit_minutes": s.limit_minutes,
        "step_deadline": local_opt(s.step_deadline),
        "late": s.late,
        "detail": s.detail,
    })
}

/// The timeline as JSON.
fn timeline(events: &[StoredEvent], clock: &dyn WorkClock, lang: Lang) -> Vec<Value> {
    steps(events, clock, lang).iter().map(step_json).collect()
}

/// `GET /api/v1/cases/{id}`: the case with its full timeline and the actions the caller may take.
pub async fn get_case(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ReqLang(lang): ReqLang,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let CaseView {
        record,
        events,
        followers,
        merged,
    } = cases::get(&state, &actor, &id).await?;
    let rules = state.rules();
    let mut body = case_json(&record, &rules, &actor, lang, Utc::now());
    body["timeline"] = json!(timeline(&events, &rules.calendar, lang));
    // Residents who follow it ("me too"): how many, never who.
    body["followers"] = json!(followers);
    // Duplicates merged into this case: their reporters follow this one now.
    body["merged_cases"] = merged
        .iter()
        .map(|m| json!({"id": m.id, "number": m.flow.number, "reporter": m.reporter, "channel": m.channel, "reported_at": local(m.reported_at)}))
        .collect();
    // Joint meetings: the agenda items raised from this case, and the item and decision it is
    // an assignment of.
    let links = gongzhi_app::cogov::meetings::links_of_case(&state, &record).await?;
    body["joint_meeting"] = json!({
        "raised_as": links.raised_as.iter().map(|i| json!({"item": i.id, "body": i.body_id, "title": i.title,
            "state": i.state.as_str(), "state_label": i.state.label(lang)})).collect::<Vec<_>>(),
        "assignment_of": links.assignment.map(|a| json!({"item": a.item_id, "decision": a.decision_id, "unit": a.unit})),
    });
    Ok(Json(body))
}

/// `POST /api/v1/cases/{id}/actions` with `{"action": …, …}`: one transition of the loop.
pub async fn act(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ReqLang(lang): ReqLang,
    Path(id): Path<String>,
    crate::json::JsonBody(body): crate::json::JsonBody,
) -> Result<Json<Value>, ApiError> {
    let action = cases::parse_action(json::object(&body)?)?;
    let Acted { record, event } = cases::act(&state, &actor, &id, action).await?;
    let rules = state.rules();
    let mut body = case_json(&record, &rules, &actor, lang, event.at);
    body["event"] = serde_json::to_value(&event).unwrap_or(Value::Null);
    Ok(Json(body))
}

/// The filters of a case list (the API's and the pages').
#[derive(Deserialize, Default)]
pub struct ListParams {
    pub state: Option<String>,
    pub within: Option<String>,
    pub matter: Option<String>,
    pub handler: Option<String>,
    pub channel: Option<String>,
    pub overdue: Option<String>,
    pub supervised: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<String>,
    /// `newest` (the default), `oldest` or `deadline`.
    pub sort: Option<String>,
}

/// A list's `sort` parameter, else 400 naming it.
pub(crate) fn sort_param(v: Option<&str>) -> Result<cases::Sort, ApiError> {
    match v {
        None | Some("" | "newest") => Ok(cases::Sort::Newest),
        Some("oldest") => Ok(cases::Sort::Oldest),
        Some("deadline") => Ok(cases::Sort::Deadline),
        Some(other) => Err(bad(
            "sort",
            ErrorCode::InvalidSort,
            format!("排序 sort 应为 newest、oldest 或 deadline，实际为 {other:?}"),
            format!("sort must be newest, oldest or deadline; got {other:?}"),
        )),
    }
}

/// A true/false query parameter (`true`, `1`, `yes` / `false`, `0`, `no`; empty as absent), else
/// 400 naming it.
pub(crate) fn flag(field: &'static str, v: &Option<String>) -> Result<Option<bool>, ApiError> {
    match v.as_deref() {
        None | Some("") => Ok(None),
        Some("true" | "1" | "yes") => Ok(Some(true)),
        Some("false" | "0" | "no") => Ok(Some(false)),
        Some(other) => Err(bad(
            field,
            ErrorCode::NotABoolean,
            format!("参数 {field} 应为 true 或 false，实际为 {other:?}"),
            format!("parameter {field} must be true or false; got {other:?}"),
        )),
    }
}

/// A day (`2026-11-27`, the start of that day in Asia/Shanghai) or an instant (RFC 3339).
fn instant(field: &'static str, v: &Option<String>, end_of_day: bool) -> Result<Option<DateTime<Utc>>, ApiError> {
    let Some(v) = v.as_deref().filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    let day = NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| {
        bad(
            field,
            ErrorCode::InvalidDate,
            format!("参数 {field} 应为日期 YYYY-MM-DD 或 RFC 3339 时间，实际为 {v:?}"),
            format!("parameter {field} must be a date YYYY-MM-DD or an RFC 3339 time; got {v:?}"),
        )
    })?;
    let day = if end_of_day { day.succ_opt().unwrap_or(day) } else { day };
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    Ok(Some(gongzhi_core::time::city_instant(midnight)))
}

impl ListParams {
    /// The list's filters as a typed query, refusing a bad value with the parameter's name.
    pub fn query(&self) -> Result<CaseQuery, ApiError> {
        let p = self;
        let mut q = CaseQuery {
            within: match p.within.as_deref().filter(|w| !w.is_empty()) {
                Some(w) => Some(TerritoryCode::parse(w).map_err(|e| AppError::bad_code("within", e))?),
                None => None,
            },
            ..CaseQuery::default()
        };
        if let Some(states) = p.state.as_deref().filter(|s| !s.is_empty()) {
            for s in states.split(',') {
                let st = CaseState::parse(s.trim()).ok_or_else(|| {
                    bad(
                        "state",
                        ErrorCode::InvalidState,
                        format!("状态 {s} 无效"),
                        format!("state {s:?} is unknown"),
                    )
                })?;
                q.states.push(st);
            }
        }
        if let Some(m) = p.matter.as_deref().filter(|m| !m.is_empty()) {
            q.matter = Some(matter_code(m)?);
        }
        q.handler = p.handler.clone().filter(|h| !h.is_empty());
        if let Some(c) = p.channel.as_deref().filter(|c| !c.is_empty()) {
            let ch: Channel = c.parse().map_err(|_| {
                bad(
                    "channel",
                    ErrorCode::InvalidChannel,
                    format!("渠道 {c} 无效"),
                    format!("channel {c:?} is unknown"),
                )
            })?;
            q.channel = Some(ch);
        }
        q.overdue = flag("overdue", &p.overdue)?;
        q.supervised = flag("supervised", &p.supervised)?;
        q.from = instant("from", &p.from, false)?;
        q.to = instant("to", &p.to, true)?;
        Ok(q)
    }
}

/// `GET /api/v1/cases`: filtered, in `sort` order (newest first by default), a keyset page after
/// `cursor`, with the count: exact up to the policy's `list_max_rows` (10,000), else `total`
/// 10,000 with `total_exact` false ("more than").
pub async fn list(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ReqLang(lang): ReqLang,
    Query(p): Query<ListParams>,
) -> Result<Json<Value>, ApiError> {
    let query = p.query()?;
    let sort = sort_param(p.sort.as_deref())?;
    let cursor = match p.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => Some(cases::cursor("cursor", c, sort)?),
        None => None,
    };
    let limit = match p.limit.as_deref().filter(|l| !l.is_empty()) {
        Some(l) => l.parse::<i64>().ok().filter(|l| (1..=200).contains(l)).ok_or_else(|| {
            bad(
                "limit",
                ErrorCode::InvalidLimit,
                "参数 limit 应为1至200的整数".into(),
                "parameter limit must be a whole number from 1 to 200".into(),
            )
        })?,
        None => 50,
    };
    let now = Utc::now();
    let page = cases::list(
        &state,
        &actor,
        &query,
        sort,
        cursor,
        limit,
        state.security.list_max_rows,
        now,
    )
    .await?;
    let rules = state.rules();
    let cases: Vec<Value> = page
        .cases
        .iter()
        .map(|r| {
            let mut j = case_json(r, &rules, &actor, lang, now);
            if let Some(o) = j.as_object_mut() {
                o.remove("available_actions");
                o.remove("pending_requests");
                o.remove("whistles");
            }
            j
        })
        .collect();
    Ok(Json(
        json!({"total": page.total, "total_exact": page.total_exact, "cases": cases,
               "next_cursor": page.next.map(|k| k.encode(sort.into()))}),
    ))
}
