//! The case loop over JSON: report, act, read with its timeline, list.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use gongzhi_app::AppError;
use gongzhi_core::ErrorCode;
use gongzhi_core::cases::attachment::AttachmentId;
use gongzhi_core::cases::flow::{
    Action, ActionKind, Case, CaseLimits, CaseNumber, Event, FlowContext, FlowError, State as CaseState, apply,
    available_actions, next_deadline, overdue, remaining_minutes,
};
use gongzhi_core::cases::intake::Channel;
use gongzhi_core::cases::rules::{CaseRules, distance_m};
use gongzhi_core::cases::taxonomy::TypeCode;
use gongzhi_core::cases::{UnitRef, WorkClock};
use gongzhi_core::people::{Actor, Scope};
use gongzhi_core::territory::{Datum, GridCode, LonLat, TerritoryCode};
use gongzhi_core::time::{city_instant, city_time};
use gongzhi_core::{Lang, Localized};
use gongzhi_store::StoreError;
use gongzhi_store::cases::{CaseFilter, CaseLocation, CaseRecord, Created, NewCase, StoredEvent};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::events::CaseEvent;
use crate::json::json_object;
use crate::people::Authenticated;
use crate::{ApiError, AppState, ReqLang};
use gongzhi_app::territory::Located;

pub(crate) fn local(t: DateTime<Utc>) -> String {
    city_time(t).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

fn local_opt(t: Option<DateTime<Utc>>) -> Value {
    t.map(|t| json!(local(t))).unwrap_or(Value::Null)
}

/// A matter's type code from the field `matter`, or a 400 naming it.
pub fn matter_code(text: &str) -> Result<TypeCode, ApiError> {
    TypeCode::parse(text).map_err(|e| {
        AppError::new(
            ErrorCode::InvalidMatter,
            Some("matter"),
            e.message(Lang::Zh),
            e.message(Lang::En),
        )
    })
}

fn bad(field: &'static str, code: ErrorCode, zh: String, en: String) -> ApiError {
    AppError::new(code, Some(field), zh, en)
}

fn optional_str<'a>(body: &'a Map<String, Value>, field: &'static str) -> Result<Option<&'a str>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim())),
        Some(_) => Err(bad(
            field,
            ErrorCode::NotAString,
            format!("字段 {field} 应为字符串"),
            format!("field {field} must be a string"),
        )),
    }
}

fn optional_number(body: &Map<String, Value>, field: &'static str) -> Result<Option<f64>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| AppError::not_a_number(field, s)),
        Some(other) => Err(AppError::not_a_number(field, &other.to_string()).into()),
    }
}

/// Where a report is: a point (in a declared datum), a grid code, or an address naming a
/// community.
pub(crate) fn place(state: &AppState, body: &Map<String, Value>) -> Result<(TerritoryCode, CaseLocation), ApiError> {
    let index = state.index();
    let address = optional_str(body, "address")?.map(str::to_string);
    let location_of = |l: &Located, lon: Option<f64>, lat: Option<f64>| CaseLocation {
        grid: Some(l.grid.code.clone()),
        community: Some(l.community.code.clone()),
        street: Some(l.street.code.clone()),
        district: Some(l.district.code.clone()),
        lon,
        lat,
        address: address.clone(),
    };
    let grid_of = |code: &str| -> Result<TerritoryCode, ApiError> {
        GridCode::parse(code)
            .map(TerritoryCode::Grid)
            .map_err(|e| AppError::bad_code("grid_code", e))
    };
    match (optional_number(body, "lon")?, optional_number(body, "lat")?) {
        (Some(lon), Some(lat)) => {
            let datum: Datum = match optional_str(body, "datum")? {
                None => Datum::Wgs84,
                Some(d) => d.parse().map_err(AppError::bad_coordinate)?,
            };
            let point = LonLat::from_datum(lon, lat, datum).map_err(AppError::bad_coordinate)?;
            let found = index.grids.locate(point).ok_or_else(|| {
                AppError::new(
                    ErrorCode::PlaceOutsideGrids,
                    Some("lon"),
                    format!("坐标 ({lon}, {lat}) 不在本市任何网格内"),
                    format!("the point ({lon}, {lat}) is in no grid of this city"),
                )
            })?;
            Ok((
                grid_of(&found.grid.code)?,
                location_of(found, Some(point.lon), Some(point.lat)),
            ))
        }
        (Some(_), None) => Err(AppError::missing("lat").into()),
        (None, Some(_)) => Err(AppError::missing("lon").into()),
        (None, None) => {
            if let Some(code) = optional_str(body, "grid_code")? {
                let node = grid_of(code)?;
                let found = index
                    .by_code
                    .get(code)
                    .ok_or_else(|| AppError::unknown_node("grid_code", code))?;
                return Ok((node, location_of(found, None, None)));
            }
            let Some(text) = address.as_deref() else {
                return Err(bad(
                    "location",
                    ErrorCode::MissingLocation,
                    "请提供位置：经纬度（lon、lat 和 datum）、网格代码（grid_code）或地址（address）".into(),
                    "give a location: lon and lat (with datum), a grid_code, or an address".into(),
                ));
            };
            // Without an address register yet, an address is placed by the community it names;
            // the district and street it names tell namesakes apart (there are two 学府社区).
            let score = |l: &Located| {
                let named = |n: &str| text.contains(n) as usize;
                (named(&l.district.name) * 2 + named(&l.street.name) * 2) * 100 + l.community.name.chars().count()
            };
            let mut candidates: Vec<&Located> = index
                .communities()
                .filter(|l| text.contains(l.community.name.as_str()))
                .collect();
            candidates.sort_by_key(|l| std::cmp::Reverse(score(l)));
            let community = match candidates.as_slice() {
                [] => {
                    return Err(AppError::new(
                        ErrorCode::AddressNotPlaced,
                        Some("address"),
                        format!("无法根据地址“{text}”确定所属社区，请提供经纬度或网格代码"),
                        format!("cannot place the address {text:?}: give lon/lat or a grid_code"),
                    )
                    .into());
                }
                [first, second, ..] if score(first) == score(second) => {
                    return Err(AppError::new(
                        ErrorCode::AddressAmbiguous,
                        Some("address"),
                        format!("地址“{text}”中的社区有重名，请写明区县或街道"),
                        format!("the community in {text:?} has namesakes: name its district or street"),
                    )
                    .into());
                }
                [first, ..] => *first,
            };
            let node = TerritoryCode::parse(&community.community.code).map_err(|e| AppError::bad_code("address", e))?;
            let mut loc = location_of(community, None, None);
            loc.grid = None;
            Ok((node, loc))
        }
    }
}

/// Open cases of the same matter near a point, reported within the matter's window.
pub(crate) async fn duplicates_near(
    state: &AppState,
    rules: &CaseRules,
    matter: &str,
    point: (f64, f64),
    now: DateTime<Utc>,
) -> Result<Vec<Value>, ApiError> {
    let (radius, days) = rules.duplicates.for_matter(matter);
    let dlat = radius / 111_320.0;
    let dlon = radius / (111_320.0 * point.1.to_radians().cos().max(0.01));
    let candidates = state
        .db()
        .open_cases_in_box(
            matter,
            (point.0 - dlon, point.1 - dlat, point.0 + dlon, point.1 + dlat),
            now - chrono::Duration::days(days),
        )
        .await?;
    Ok(candidates
        .iter()
        .filter_map(|c| {
            let d = distance_m(point, (c.location.lon?, c.location.lat?));
            (d <= radius).then(|| {
                json!({"id": c.id, "number": c.flow.number, "state": c.flow.state.as_str(), "distance_m": d.round(),
                       "description": c.description, "reported_at": local(c.reported_at)})
            })
        })
        .collect())
}

pub(crate) fn unit_json(unit: &UnitRef, rules: &CaseRules) -> Value {
    let name = match unit {
        UnitRef::Department(d) => rules.departments.get(d).map(|d| d.name.clone()),
        _ => None,
    };
    let mut j = serde_json::to_value(unit).unwrap_or(Value::Null);
    if let Some(n) = name {
        j["name"] = json!(n);
    }
    j
}

/// What reporting a case gave: the case, the routing proposal of the responsibility list, the
/// open duplicates nearby, and whether it replays an earlier report with the same key.
pub struct Reported {
    pub record: CaseRecord,
    pub routing: Value,
    pub duplicates: Vec<Value>,
    pub replayed: bool,
}

/// An idempotency key as sent (header or form field): 1 to 200 visible characters.
pub fn idempotency_key(field: &'static str, raw: Option<&str>) -> Result<Option<String>, ApiError> {
    match raw.map(str::trim) {
        None => Ok(None),
        Some(k) if !k.is_empty() && k.len() <= 200 && k.chars().all(|c| !c.is_control()) => Ok(Some(k.to_string())),
        Some(_) => Err(bad(
            field,
            ErrorCode::InvalidIdempotencyKey,
            format!("{field} 应为1至200个可见字符"),
            format!("{field} must be 1 to 200 visible characters"),
        )),
    }
}

/// A report's facts, checked.
struct Parsed {
    channel: Channel,
    matter: TypeCode,
    matter_name: String,
    description: String,
    node: TerritoryCode,
    location: CaseLocation,
}

fn parse_report(state: &AppState, body: &Map<String, Value>) -> Result<Parsed, ApiError> {
    let rules = state.rules();
    let channel_text = crate::json::string_field(body, "channel")?;
    let channel: Channel = channel_text.parse().map_err(|_| {
        let all = Channel::ALL.map(|c| c.as_str()).join(", ");
        bad(
            "channel",
            ErrorCode::InvalidChannel,
            format!("渠道 channel 无效：{channel_text}；应为 {all} 之一"),
            format!("channel {channel_text:?} is not one of {all}"),
        )
    })?;
    let matter_text = crate::json::string_field(body, "matter")?;
    let matter = matter_code(matter_text)?;
    let entry = rules.taxonomy.matter(&matter).ok_or_else(|| {
        bad(
            "matter",
            ErrorCode::InvalidMatter,
            format!("事项代码 {matter_text} 不在事项目录中"),
            format!("matter {matter_text} is not in the taxonomy"),
        )
    })?;
    let description = crate::json::string_field(body, "description")?;
    if description.chars().count() > 2000 {
        return Err(bad(
            "description",
            ErrorCode::DescriptionTooLong,
            "描述不能超过2000字".into(),
            "the description has more than 2000 characters".into(),
        ));
    }
    let (node, location) = place(state, body)?;
    Ok(Parsed {
        channel,
        matter,
        matter_name: entry.name.clone(),
        description: description.to_string(),
        node,
        location,
    })
}

/// Checks a report without storing anything (the pages do before storing its photos).
pub fn check_report(state: &AppState, body: &Map<String, Value>) -> Result<(), ApiError> {
    parse_report(state, body).map(|_| ())
}

/// Reports a case from any channel: the one intake path of the JSON API and the new-case page.
/// `body` holds `channel`, `matter`, `description`, a place (see [`place`]), optional `photos`
/// (stored attachment ids) and optional `report_detail` (an object of the channel's own facts,
/// kept on the report's timeline entry).
pub async fn report_case(
    state: &AppState,
    actor: &Actor,
    body: &Map<String, Value>,
    key: Option<String>,
) -> Result<Reported, ApiError> {
    let audit_key = state.audit_key().ok_or_else(AppError::audit_key_missing)?;
    let rules = state.rules();
    let Parsed {
        channel,
        matter,
        matter_name,
        description,
        node,
        location,
    } = parse_report(state, body)?;
    // Photos taken when reporting (before the work): kept on the report's timeline entry.
    let photos = body.get("photos").cloned().unwrap_or(json!([]));
    check_photos(state, &json!({ "photos": photos })).await?;
    let now = Utc::now();

    let rule = rules.responsibility.route(&matter, &node, None, None);
    let limits = rule
        .map(|r| CaseLimits {
            response: Some(r.response_limit),
            handling: Some(r.handling_limit),
            verification: Some(r.verification_limit),
        })
        .unwrap_or_default();
    let proposed = rule.and_then(|r| r.unit_for(&node));
    let duplicates = match (location.lon, location.lat) {
        (Some(lon), Some(lat)) => duplicates_near(state, &rules, matter.as_str(), (lon, lat), now).await?,
        _ => vec![],
    };
    let routing = json!({
        "rule": rule.map(|r| r.item),
        "proposed_lead": proposed.as_ref().map(|u| unit_json(u, &rules)),
        "limits": limits,
        "delegated": rule.map(|r| r.delegated),
    });
    let mut detail = json!({"routing": routing, "duplicates_offered": duplicates.len(), "matter_name": matter_name});
    if photos.as_array().is_some_and(|p| !p.is_empty()) {
        detail["photos"] = photos;
    }
    // Facts a channel adds to the report (Open311: the reporter's contact, the attributes), kept
    // on the report's timeline entry beside the routing; they never override it.
    if let (Some(extra), Some(d)) = (
        body.get("report_detail").and_then(Value::as_object),
        detail.as_object_mut(),
    ) {
        for (k, v) in extra {
            d.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    let new = NewCase {
        channel: channel.as_str().to_string(),
        description,
        location,
        reporter: actor.account.clone(),
        report_detail: detail,
    };
    let matter_code = matter.as_str().to_string();
    // A resident's own report: the case remembers them, so they may rate it (the loop's rule).
    let resident = (channel == Channel::Resident
        && gongzhi_core::people::resident::resident_id(&actor.account).is_some())
    .then(|| actor.account.clone());
    let make = Box::new(move |number: CaseNumber| {
        let mut case = Case::new(number, node.clone(), matter_code.clone(), now, limits);
        case.resident = resident.clone();
        case
    });
    let (record, replayed) = match state
        .intake(audit_key)
        .create_case(new, key.as_deref(), make, now)
        .await?
    {
        Created::New(r) => (r, false),
        Created::Replayed(r) => (r, true),
    };
    if !replayed {
        publish(state, &record, "report");
    }
    Ok(Reported {
        record,
        routing,
        duplicates,
        replayed,
    })
}

/// `POST /api/v1/cases`: report a case from any channel.
pub async fn report(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ReqLang(lang): ReqLang,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = json_object(&body)?;
    let raw_key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => Some(v.to_str().unwrap_or("\u{7f}")),
    };
    let key = idempotency_key("Idempotency-Key", raw_key)?;
    let Reported {
        record,
        routing,
        duplicates,
        replayed,
    } = report_case(&state, &actor, &body, key).await?;
    let rules = state.rules();
    let mut body = case_json(&record, &rules, &actor, lang, Utc::now());
    body["routing"] = routing;
    body["duplicates"] = json!(duplicates);
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

pub(crate) fn publish(state: &AppState, record: &CaseRecord, kind: &str) {
    state.events.publish(CaseEvent {
        case_id: record.id,
        case_no: record.flow.number.to_string(),
        state: record.flow.state.as_str().to_string(),
        territory_code: record.flow.node.clone(),
        at: record.updated_at,
        kind: kind.to_string(),
        lead_unit: record.flow.lead.as_ref().map(UnitRef::key),
    });
}

/// Whether the actor may see a case: a role reaching its place, or its department handles it.
pub fn can_see(actor: &Actor, case: &Case) -> bool {
    actor.grants.iter().any(|g| match &g.scope {
        Scope::Territory(_) => g.scope.reaches(&case.node),
        Scope::Department(d) => {
            let unit = UnitRef::Department(d.clone());
            case.lead.as_ref() == Some(&unit) || case.co_handlers.contains(&unit)
        }
    })
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

/// A case by id or by its 13-digit number, if the actor may see it (otherwise 404 as if absent).
pub(crate) async fn visible_case(state: &AppState, actor: &Actor, id: &str) -> Result<CaseRecord, ApiError> {
    let found = if id.len() == 13 {
        let number = CaseNumber::parse(id)
            .map_err(|e| AppError::new(e.code(), Some("id"), e.message(Lang::Zh), e.message(Lang::En)))?;
        state.db().case_by_number(&number).await?
    } else {
        let n: i64 = id.parse().map_err(|_| AppError::not_a_number("id", id))?;
        state.db().case_by_id(n).await?
    };
    found.filter(|r| can_see(actor, &r.flow)).ok_or_else(|| {
        AppError::new(
            ErrorCode::UnknownCase,
            Some("id"),
            format!("案件 {id} 不存在或不在您的权限范围内"),
            format!("no case {id} in your scope"),
        )
    })
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
    Ok(Some(city_instant(midnight)))
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
