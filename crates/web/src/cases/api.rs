//! The case loop over JSON: report, act, read with its timeline, list.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use gongzhi_app::AppError;
use gongzhi_core::ErrorCode;
use gongzhi_core::cases::WorkClock;
use gongzhi_core::cases::attachment::AttachmentId;
use gongzhi_core::cases::flow::{
    Action, ActionKind, Event, FlowContext, FlowError, State as CaseState, apply, available_actions, next_deadline,
    overdue, remaining_minutes,
};
use gongzhi_core::cases::intake::Channel;
use gongzhi_core::cases::rules::CaseRules;
use gongzhi_core::cases::taxonomy::TypeCode;
use gongzhi_core::people::Actor;
use gongzhi_core::{Lang, Localized};
use gongzhi_store::StoreError;
use gongzhi_store::cases::{CaseFilter, CaseRecord, StoredEvent};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::json::json_object;
use crate::people::Authenticated;
use crate::{ApiError, AppState, ReqLang};
use gongzhi_app::cases::{self, Duplicate, RawReport, Reported};
pub use gongzhi_app::cases::{can_see, idempotency_key, matter_code, publish, unit_json, visible_case};

pub(crate) fn local(t: DateTime<Utc>) -> String {
    gongzhi_core::time::city_time(t).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

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
    body: Bytes,
) -> Result<Response, ApiError> {
    let raw: RawReport =
        serde_json::from_value(Value::Object(json_object(&body)?)).map_err(|e| AppError::internal(&e))?;
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

/// One step of a case's timeline: who, which unit, when, and how long it took against its limit.
pub struct Step {
    pub revision: i32,
    pub at: DateTime<Utc>,
    pub account: String,
    /// The role and unit as the event recorded them (`"shift_lead"`, `{"kind", "code"}`).
    pub role: Value,
    pub unit: Value,
    pub kind: String,
    pub label: String,
    pub from: Option<String>,
    pub to: String,
    pub to_label: Option<&'static str>,
    /// Working minutes since the step before.
    pub work_minutes: Option<i64>,
    /// Working minutes the step was allowed: from the step before to the deadline in force.
    pub limit_minutes: Option<i64>,
    pub step_deadline: Option<DateTime<Utc>>,
    pub late: Option<bool>,
    /// The action's payload (reason, result, photos …), or the report's facts.
    pub detail: Value,
}

impl Step {
    fn json(&self) -> Value {
        json!({
            "revision": self.revision,
            "at": local(self.at),
            "account": self.account,
            "role": self.role,
            "unit": self.unit,
            "kind": self.kind,
            "label": self.label,
            "from": self.from,
            "to": self.to,
            "to_label": self.to_label,
            "work_minutes": self.work_minutes,
            "limit_minutes": self.limit_minutes,
            "step_deadline": local_opt(self.step_deadline),
            "late": self.late,
            "detail": self.detail,
        })
    }
}

/// The timeline of a case from its stored events, oldest first.
pub(crate) fn steps(events: &[StoredEvent], clock: &dyn WorkClock, lang: Lang) -> Vec<Step> {
    let mut previous: Option<DateTime<Utc>> = None;
    events
        .iter()
        .map(|e| {
            let body = e.body();
            let step_deadline = body
                .get("step_deadline")
                .and_then(|v| v.as_str())
                .and_then(|s| s.parse::<DateTime<Utc>>().ok());
            let label = serde_json::from_value::<ActionKind>(json!(e.kind))
                .map(|k| k.label(lang).to_string())
                .unwrap_or_else(|_| match e.kind.as_str() {
                    "note" => lang.pick("补充说明", "note").to_string(),
                    _ => lang.pick("上报", "report").to_string(),
                });
            let step = Step {
                revision: e.revision,
                at: e.at,
                account: e.account.clone(),
                role: body.get("role").cloned().unwrap_or(Value::Null),
                unit: body.get("unit").cloned().unwrap_or(Value::Null),
                kind: e.kind.clone(),
                label,
                from: e.from_state.clone(),
                to: e.to_state.clone(),
                to_label: CaseState::parse(&e.to_state).map(|s| s.label(lang)),
                work_minutes: previous.map(|p| clock.work_minutes(p, e.at)),
                limit_minutes: previous.zip(step_deadline).map(|(p, d)| clock.work_minutes(p, d)),
                step_deadline,
                late: step_deadline.map(|d| e.at > d),
                detail: body.get("action").cloned().unwrap_or(body),
            };
            previous = Some(e.at);
            step
        })
        .collect()
}

/// The timeline as JSON.
fn timeline(events: &[StoredEvent], clock: &dyn WorkClock, lang: Lang) -> Vec<Value> {
    steps(events, clock, lang).iter().map(Step::json).collect()
}

/// `GET /api/v1/cases/{id}`: the case with its full timeline and the actions the caller may take.
pub async fn get_case(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ReqLang(lang): ReqLang,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let record = visible_case(&state, &actor, &id).await?;
    let rules = state.rules();
    let events = state.db().case_events(record.id).await?;
    let mut body = case_json(&record, &rules, &actor, lang, Utc::now());
    body["timeline"] = json!(timeline(&events, &rules.calendar, lang));
    // Residents who follow it ("me too"): how many, never who.
    body["followers"] = json!(state.db().follower_count(record.id).await?);
    // Duplicates merged into this case: their reporters follow this one now.
    let merged = state.db().merged_into(&record.flow.number).await?;
    body["merged_cases"] = merged
        .iter()
        .map(|m| json!({"id": m.id, "number": m.flow.number, "reporter": m.reporter, "channel": m.channel, "reported_at": local(m.reported_at)}))
        .collect();
    Ok(Json(body))
}

fn flow_error(e: FlowError) -> ApiError {
    // The form field a payload error is about, so a page can point at it.
    let field = match &e {
        FlowError::MissingReason { .. } => Some("reason"),
        FlowError::MissingPhotos { .. } => Some("photos"),
        FlowError::MissingResult => Some("result"),
        FlowError::BadExtension => Some("extend_by"),
        FlowError::BadHandlers => Some("co_handlers"),
        FlowError::BadSummons => Some("departments"),
        FlowError::ReportInInPast => Some("report_in_by"),
        FlowError::NotSummoned { .. } => Some("department"),
        FlowError::SupervisionLowered { .. } => Some("level"),
        FlowError::BadFollowUp => Some("satisfaction"),
        _ => None,
    };
    AppError::new(e.code(), field, e.message(Lang::Zh), e.message(Lang::En))
}

/// Photo ids named anywhere in an action must be stored attachments.
async fn check_photos(state: &AppState, action: &Value) -> Result<(), ApiError> {
    let Some(photos) = action.get("photos").and_then(Value::as_array) else {
        return Ok(());
    };
    for p in photos {
        let text = p.as_str().map(str::to_string).unwrap_or_else(|| p.to_string());
        let known = match text.parse::<i64>() {
            Ok(n) => state.db().attachment(AttachmentId(n)).await?.is_some(),
            Err(_) => false,
        };
        if !known {
            return Err(bad(
                "photos",
                ErrorCode::UnknownPhoto,
                format!("照片 {text} 不存在：请先上传到 /api/v1/attachments"),
                format!("photo {text} does not exist: upload it to /api/v1/attachments first"),
            ));
        }
    }
    Ok(())
}

fn parse_action(raw: Value) -> Result<Action, ApiError> {
    serde_json::from_value(raw).map_err(|e| {
        let kinds = ActionKind::ALL.map(|k| k.as_str()).join(", ");
        AppError::new(
            ErrorCode::InvalidAction,
            Some("action"),
            format!("动作无效：{e}（动作为 {kinds} 之一，附所需字段）"),
            format!("invalid action: {e} (actions: {kinds}, with their fields)"),
        )
    })
}

/// Whether the rules would let `actor` do this action now, changing nothing (the pages ask
/// before storing a form's photos; photo ids and merge targets are checked by [`perform`]).
pub fn check_action(state: &AppState, actor: &Actor, record: &CaseRecord, raw: Value) -> Result<(), ApiError> {
    let action = parse_action(raw)?;
    let rules = state.rules();
    let ctx = FlowContext {
        policy: &rules.policy,
        clock: &rules.calendar,
    };
    apply(&record.flow, action, actor, Utc::now(), &ctx)
        .map(|_| ())
        .map_err(flow_error)
}

/// Performs one action (`{"action": …, …}` as JSON) on a case the actor can see: the one path of
/// every transition, for the JSON API and the case page's forms alike. Nothing changes on error.
pub async fn perform(
    state: &AppState,
    actor: &Actor,
    record: CaseRecord,
    raw: Value,
) -> Result<(CaseRecord, Event), ApiError> {
    let audit_key = state.audit_key().ok_or_else(AppError::audit_key_missing)?;
    let action = parse_action(raw.clone())?;
    check_photos(state, &raw).await?;
    if let Action::MergeInto { parent, .. } = &action {
        let target = state.db().case_by_number(parent).await?;
        match target {
            Some(t) if t.flow.state.is_open() && t.flow.matter == record.flow.matter => {}
            _ => {
                return Err(AppError::new(
                    ErrorCode::BadMergeTarget,
                    Some("parent"),
                    format!("只能合并到同一事项的未办结案件，{parent} 不符合"),
                    format!("a case merges only into an open case of the same matter; {parent} is not one"),
                )
                .into());
            }
        }
    }
    let rules = state.rules();
    let now = Utc::now();
    // The context borrows a `dyn WorkClock`, which is not `Send`: keep it out of the awaits.
    let applied = {
        let ctx = FlowContext {
            policy: &rules.policy,
            clock: &rules.calendar,
        };
        apply(&record.flow, action, actor, now, &ctx).map_err(flow_error)?
    };
    state
        .db()
        .record_action(record.id, &applied, now, &audit_key)
        .await
        .map_err(|e| match e {
            StoreError::Conflict { .. } => AppError::new(
                ErrorCode::CaseChanged,
                None,
                "案件刚被他人处理，请刷新后重试",
                "the case was just changed by someone else; reload and try again",
            ),
            other => other.into(),
        })?;
    let updated = state.db().case_by_id(record.id).await?.unwrap_or(record);
    publish(state, &updated, applied.event.kind.as_str());
    Ok((updated, applied.event))
}

/// `POST /api/v1/cases/{id}/actions` with `{"action": …, …}`: one transition of the loop.
pub async fn act(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ReqLang(lang): ReqLang,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    state.audit_key().ok_or_else(AppError::audit_key_missing)?;
    let record = visible_case(&state, &actor, &id).await?;
    let raw = Value::Object(json_object(&body)?);
    let (updated, event) = perform(&state, &actor, record, raw).await?;
    let rules = state.rules();
    let mut body = case_json(&updated, &rules, &actor, lang, event.at);
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
}

fn flag(field: &'static str, v: &Option<String>) -> Result<Option<bool>, ApiError> {
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

/// Narrows `filter` by the list parameters (state, matter, handler, channel, overdue,
/// supervised, from, to), refusing a bad value with the parameter's name.
pub fn narrow(filter: &mut CaseFilter, p: &ListParams) -> Result<(), ApiError> {
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
            filter.states.push(st.as_str().to_string());
        }
    }
    if let Some(m) = p.matter.as_deref().filter(|m| !m.is_empty()) {
        filter.matter = Some(matter_code(m)?.as_str().to_string());
    }
    filter.lead_unit = p.handler.clone().filter(|h| !h.is_empty());
    if let Some(c) = p.channel.as_deref().filter(|c| !c.is_empty()) {
        let ch: Channel = c.parse().map_err(|_| {
            bad(
                "channel",
                ErrorCode::InvalidChannel,
                format!("渠道 {c} 无效"),
                format!("channel {c:?} is unknown"),
            )
        })?;
        filter.channel = Some(ch.as_str().to_string());
    }
    filter.overdue = flag("overdue", &p.overdue)?;
    filter.supervised = flag("supervised", &p.supervised)?;
    filter.reported_from = instant("from", &p.from, false)?;
    filter.reported_to = instant("to", &p.to, true)?;
    Ok(())
}

/// `GET /api/v1/cases`: filtered, newest first, with a cursor and the total count.
pub async fn list(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ReqLang(lang): ReqLang,
    Query(p): Query<ListParams>,
) -> Result<Json<Value>, ApiError> {
    let Some(mut filter) = super::scope::list_filter(&actor, &p)? else {
        return Ok(Json(json!({"total": 0, "cases": [], "next_cursor": null})));
    };
    filter.before_id = match p.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => Some(c.parse().map_err(|_| AppError::not_a_number("cursor", c))?),
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
    let page = state.db().list_cases(&filter, limit, now).await?;
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
        json!({"total": page.total, "cases": cases, "next_cursor": page.next_cursor.map(|c| c.to_string())}),
    ))
}
