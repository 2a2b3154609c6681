//! Service requests: POST one (a case reported through the one intake path, channel `open311`),
//! list them with the spec's filters and the extensions clients send, read one, resolve a token.

use axum::extract::{FromRequest, Multipart, Path, RawQuery, Request, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use gongzhi_app::AppError;
use gongzhi_core::ErrorCode;
use gongzhi_core::cases::UnitRef;
use gongzhi_core::cases::flow::{CaseNumber, State as CaseState, next_deadline};
use gongzhi_core::cases::rules::CaseRules;
use gongzhi_core::cases::taxonomy::TypeCode;
use gongzhi_core::orgs::DepartmentCode;
use gongzhi_core::{Lang, Localized};
use gongzhi_store::cases::{CaseBrief, CaseFilter, CaseRecord, CaseSort, StoredEvent};
use serde_json::{Map, Value, json};

use super::{Doc, Format, Params, respond, services, split_file};
use crate::cases::api::local;
use crate::people::api_keys::{POST_REQUEST, authorize, key_actor, key_reaches};
use crate::{ApiError, AppState, ReqLang};
use gongzhi_app::cases::{self, RawReport, Report, Reported};
use gongzhi_app::cases::{steps, unit_json};

/// The most requests one page may hold, and the default (the spec's "first 1000").
const MAX_PAGE_SIZE: i64 = 1000;
/// The longest `start_date`–`end_date` span, and the default window (the spec's 90 days).
const MAX_SPAN_DAYS: i64 = 90;

pub(super) fn bad(field: &'static str, code: ErrorCode, zh: String, en: String) -> ApiError {
    AppError::new(code, Some(field), zh, en)
}

/// The fields of a POST, from a urlencoded or multipart body, then the query string (open311
/// 1.1 sends `api_key` and `jurisdiction_id` there), and the uploaded `media` files.
pub(super) async fn read_form(
    state: &AppState,
    query: Option<&str>,
    request: Request,
) -> Result<(Params, Vec<Vec<u8>>), ApiError> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut params = Params::default();
    let mut media = Vec::new();
    if content_type.starts_with("multipart/form-data") {
        let mut form = Multipart::from_request(request, state)
            .await
            .map_err(|e| AppError::bad_multipart("media", &e.body_text()))?;
        while let Some(field) = form
            .next_field()
            .await
            .map_err(|e| AppError::bad_multipart("media", &e.body_text()))?
        {
            let name = field.name().unwrap_or("").to_string();
            if name == "media" || name == "media[]" {
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| AppError::bad_multipart("media", &e.body_text()))?;
                if !bytes.is_empty() {
                    media.push(bytes.to_vec());
                }
            } else {
                let text = field
                    .text()
                    .await
                    .map_err(|e| AppError::bad_multipart("media", &e.body_text()))?;
                params.push(name, text);
            }
        }
    } else {
        let bytes = axum::body::to_bytes(request.into_body(), usize::MAX)
            .await
            .map_err(|e| {
                bad(
                    "body",
                    ErrorCode::UnreadableBody,
                    format!("请求体无法读取：{e}"),
                    format!("unreadable body: {e}"),
                )
            })?;
        params = Params::from_bytes(&bytes);
    }
    params.0.extend(Params::parse(query).0);
    Ok((params, media))
}

/// `attribute[CODE]=v` and `attribute[CODE][]=v1&attribute[CODE][]=v2` as `{CODE: v}` and
/// `{CODE: [v1, v2]}`.
fn attributes(params: &Params) -> Result<Map<String, Value>, ApiError> {
    let mut out = Map::new();
    for (k, v) in &params.0 {
        let Some(rest) = k.strip_prefix("attribute[") else {
            continue;
        };
        let (code, multi) = match rest.strip_suffix("][]") {
            Some(code) => (code, true),
            None => (rest.strip_suffix(']').unwrap_or(""), false),
        };
        if code.is_empty() || code.len() > 100 || code.contains(['[', ']']) {
            return Err(bad(
                "attribute",
                ErrorCode::InvalidAttribute,
                format!("属性参数名无效：{k}"),
                format!("invalid attribute parameter {k:?}"),
            ));
        }
        if multi {
            let list = out.entry(code.to_string()).or_insert_with(|| json!([]));
            match list {
                Value::Array(a) => a.push(json!(v)),
                other => *other = json!([other.clone(), v]),
            }
        } else {
            out.insert(code.to_string(), json!(v));
        }
    }
    Ok(out)
}

/// `POST /open311/v2/requests.{xml,json}`: reports a case (channel `open311`) as the key's actor.
pub(super) async fn post_request(
    State(state): State<AppState>,
    ReqLang(lang): ReqLang,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Result<Response, ApiError> {
    let (stem, format) = split_file(&file)?;
    if stem == "servicerequestupdates" {
        return super::updates::post(&state, lang, format, query.as_deref(), request).await;
    }
    if stem != "requests" {
        return Err(AppError::new(
            ErrorCode::NotFound,
            None,
            format!("不能向 {file} 提交"),
            format!("nothing to POST to at {file}"),
        )
        .into());
    }
    let (params, media) = read_form(&state, query.as_deref(), request).await?;
    let key = authorize(&state, params.get("api_key"), POST_REQUEST).await?;
    let actor = key_actor(&key);
    let code = params
        .get("service_code")
        .ok_or_else(|| AppError::missing("service_code"))?;
    let entry = services::matter(&state, code)?;

    let (lat, long, address) = (params.get("lat"), params.get("long"), params.get("address_string"));
    if lat.is_none() && long.is_none() && address.is_none() {
        return Err(bad(
            "lat",
            ErrorCode::MissingLocation,
            "缺少位置：请提供 lat 和 long（WGS-84）或 address_string（address_id 不受支持）".into(),
            "a location is required: lat and long (WGS-84) or address_string (address_id is not supported)".into(),
        ));
    }
    let mut report = Report::try_from(RawReport {
        channel: RawReport::text(Some("open311")),
        matter: RawReport::text(Some(entry.code.as_str())),
        // The spec makes the description optional; a case always has one.
        description: RawReport::text(Some(params.get("description").unwrap_or(&entry.name))),
        lat: RawReport::text(lat),
        lon: RawReport::text(long),
        address: RawReport::text(address),
        ..RawReport::default()
    })?;
    let node = cases::place(&state, &report.place, report.address.as_deref())?.node;
    if !key_reaches(&key, &node) {
        return Err(AppError::new(
            ErrorCode::OutsideKeyScope,
            Some("api_key"),
            format!("此 api_key 只能上报 {} 范围内的请求", key.scope_code),
            format!("this api_key reports only within {}", key.scope_code),
        )
        .into());
    }
    let attributes = attributes(&params)?;

    // The contact goes into the timeline and the audit record, which are not encrypted: the
    // phone and e-mail are kept masked (enough to recognise a caller, not to reach them).
    let mut contact = Map::new();
    for f in ["email", "first_name", "last_name", "phone"] {
        if let Some(v) = params.get(f) {
            let kept = match f {
                "phone" => gongzhi_core::people::masking::mask_phone(v),
                "email" => gongzhi_core::people::masking::mask_email(v),
                _ => v.to_string(),
            };
            contact.insert(f.into(), json!(kept));
        }
    }
    let mut open311 = Map::new();
    open311.insert("api_key".into(), json!(key.name));
    open311.insert("attributes".into(), Value::Object(attributes));
    for f in ["account_id", "device_id", "jurisdiction_id", "address_id"] {
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
    if !contact.is_empty() {
        report.detail.insert("reporter_contact".into(), Value::Object(contact));
    }
    report.detail.insert("open311".into(), Value::Object(open311));

    // Everything is checked but the photos: store them, then report.
    cases::check(&state, &report)?;
    for bytes in media {
        let saved = crate::cases::attachment::save_upload(&state, "media", bytes, &actor.account).await?;
        report.photos.push(saved.attachment.id);
    }
    let Reported { record, .. } = cases::report(&state, &actor, report).await?;
    let number = record.flow.number.to_string();
    let notice = match lang {
        Lang::Zh => format!("已收到，案件编号 {number}，将按职责清单派遣办理"),
        Lang::En => format!("received as case {number}; it will be dispatched by the responsibility list"),
    };
    let mut fields = vec![
        ("service_request_id", Doc::text(number)),
        ("service_notice", Doc::text(notice)),
    ];
    fields.push(("account_id", Doc::opt_text(params.get("account_id"))));
    let doc = Doc::List("request", vec![Doc::Obj(fields)]);
    Ok(respond(format, StatusCode::OK, "service_requests", &doc))
}

/// A W3C datetime (the timezone required); a `+` the client did not encode arrives as a space.
pub(super) fn w3c(params: &Params, field: &'static str) -> Result<Option<DateTime<Utc>>, ApiError> {
    let Some(v) = params.get(field) else { return Ok(None) };
    let fixed = v.replace(' ', "+");
    DateTime::parse_from_rfc3339(&fixed)
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(|_| {
            bad(
                field,
                ErrorCode::InvalidDate,
                format!("{field} 应为带时区的 W3C 时间，如 2026-11-27T08:00:00+08:00，实际为 {v:?}"),
                format!("{field} must be a W3C datetime with a timezone, e.g. 2026-11-27T08:00:00+08:00; got {v:?}"),
            )
        })
}

fn positive(params: &Params, field: &'static str, max: i64) -> Result<Option<i64>, ApiError> {
    let Some(v) = params.get(field) else { return Ok(None) };
    v.parse::<i64>()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .map(Some)
        .ok_or_else(|| {
            bad(
                field,
                ErrorCode::NotANumber,
                format!("{field} 应为1至{max}的整数，实际为 {v:?}"),
                format!("{field} must be a whole number from 1 to {max}; got {v:?}"),
            )
        })
}

fn comma_list<'a>(params: &'a Params, field: &str) -> Vec<&'a str> {
    params
        .get(field)
        .map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default()
}

pub(super) fn parse_number(text: &str) -> Option<CaseNumber> {
    CaseNumber::parse(text).ok()
}

/// `GET /open311/v2/requests.{xml,json}`.
pub(super) async fn list(state: &AppState, lang: Lang, format: Format, params: &Params) -> Result<Response, ApiError> {
    let extensions = matches!(params.get("extensions"), Some("true" | "1"));
    let rules = state.rules();
    let now = Utc::now();
    let ids = comma_list(params, "service_request_id");
    let mut briefs: Option<Vec<CaseBrief>> = None;
    let records: Vec<CaseRecord> = if !ids.is_empty() {
        // The ids override every other argument.
        let mut found = Vec::new();
        for id in ids {
            let number = parse_number(id).ok_or_else(|| {
                bad(
                    "service_request_id",
                    ErrorCode::InvalidServiceRequestId,
                    format!("service_request_id {id} 不是13位案件编号"),
                    format!("service_request_id {id} is not a 13-digit case number"),
                )
            })?;
            if let Some(r) = state.db().case_by_number(&number).await? {
                found.push(r);
            }
        }
        found
    } else {
        let mut filter = CaseFilter::default();
        for code in comma_list(params, "service_code") {
            let t = TypeCode::parse(code).map_err(|e| {
                AppError::new(
                    ErrorCode::InvalidServiceCode,
                    Some("service_code"),
                    e.message(Lang::Zh),
                    e.message(Lang::En),
                )
            })?;
            filter.matters.push(t.as_str().to_string());
        }
        for s in comma_list(params, "status") {
            match s {
                "open" => filter.outcomes.push("open".into()),
                "closed" => filter.outcomes.extend(["closed".to_string(), "fixed".to_string()]),
                other => {
                    return Err(bad(
                        "status",
                        ErrorCode::InvalidStatus,
                        format!("status 应为 open 或 closed，实际为 {other:?}"),
                        format!("status must be open or closed; got {other:?}"),
                    ));
                }
            }
        }
        let (start, end) = (w3c(params, "start_date")?, w3c(params, "end_date")?);
        let span = Duration::days(MAX_SPAN_DAYS);
        let (start, end) = match (start, end) {
            (Some(s), Some(e)) => (s, e),
            (Some(s), None) => (s, s + span),
            (None, Some(e)) => (e - span, e),
            (None, None) => (now - span, now),
        };
        if start > end {
            return Err(bad(
                "start_date",
                ErrorCode::InvalidDateRange,
                "start_date 晚于 end_date".into(),
                "start_date is after end_date".into(),
            ));
        }
        if end - start > span {
            return Err(bad(
                "end_date",
                ErrorCode::DateRangeTooLong,
                format!("start_date 至 end_date 不能超过{MAX_SPAN_DAYS}天"),
                format!("start_date to end_date may span at most {MAX_SPAN_DAYS} days"),
            ));
        }
        filter.reported_from = Some(start);
        filter.reported_to = Some(end);
        filter.updated_from = w3c(params, "updated_after")?;
        filter.updated_to = w3c(params, "updated_before")?;
        let page_size = positive(params, "page_size", MAX_PAGE_SIZE)?.unwrap_or(MAX_PAGE_SIZE);
        let page = positive(params, "page", i64::MAX / MAX_PAGE_SIZE)?.unwrap_or(1);
        // One query for the page: no total (the spec has none), no query per case; without
        // extensions only the listed columns, not the flow.
        let offset = (page - 1) * page_size;
        if extensions {
            state
                .db()
                .case_page(&filter, CaseSort::Newest, offset, page_size, now)
                .await?
        } else {
            briefs = Some(
                state
                    .db()
                    .case_briefs(&filter, CaseSort::Newest, offset, page_size, now)
                    .await?,
            );
            Vec::new()
        }
    };
    if let Some(briefs) = briefs {
        let items = briefs
            .iter()
            .map(|b| Ok(brief_doc(&Brief::of_row(b, &rules)?, &rules, lang)))
            .collect::<Result<Vec<_>, ApiError>>()?;
        return Ok(respond(
            format,
            StatusCode::OK,
            "service_requests",
            &Doc::List("request", items),
        ));
    }
    let mut items = Vec::with_capacity(records.len());
    for r in &records {
        let events = if extensions {
            Some(state.db().case_events(r.id).await?)
        } else {
            None
        };
        items.push(request_doc(r, &rules, lang, events.as_deref()));
    }
    Ok(respond(
        format,
        StatusCode::OK,
        "service_requests",
        &Doc::List("request", items),
    ))
}

pub(super) fn unknown_request(id: &str) -> ApiError {
    AppError::new(
        ErrorCode::UnknownServiceRequest,
        Some("service_request_id"),
        format!("请求 {id} 不存在"),
        format!("service request {id} not found"),
    )
}

/// `GET /open311/v2/requests/{id}.{xml,json}`: still a list of one.
pub(super) async fn one(
    State(state): State<AppState>,
    ReqLang(lang): ReqLang,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let (id, format) = split_file(&file)?;
    let params = Params::parse(query.as_deref());
    let extensions = matches!(params.get("extensions"), Some("true" | "1"));
    let number = parse_number(id).ok_or_else(|| unknown_request(id))?;
    let record = state
        .db()
        .case_by_number(&number)
        .await?
        .ok_or_else(|| unknown_request(id))?;
    let events = if extensions {
        Some(state.db().case_events(record.id).await?)
    } else {
        None
    };
    let doc = Doc::List(
        "request",
        vec![request_doc(&record, &state.rules(), lang, events.as_deref())],
    );
    Ok(respond(format, StatusCode::OK, "service_requests", &doc))
}

/// `GET /open311/v2/tokens/{token}.{xml,json}`: every service is realtime, so no token is ever
/// handed out; a case number given as a token resolves to itself, anything else is 404.
pub(super) async fn token(State(state): State<AppState>, Path(file): Path<String>) -> Result<Response, ApiError> {
    let (token, format) = split_file(&file)?;
    let not_found = || {
        AppError::new(
            ErrorCode::UnknownToken,
            Some("token"),
            format!("令牌 {token} 不存在（所有服务均为实时，不发放令牌）"),
            format!("token {token} not found (every service is realtime: no tokens are issued)"),
        )
    };
    let number = parse_number(token).ok_or_else(not_found)?;
    let record = state.db().case_by_number(&number).await?.ok_or_else(not_found)?;
    let doc = Doc::List(
        "request",
        vec![Doc::Obj(vec![
            ("service_request_id", Doc::text(record.flow.number.to_string())),
            ("token", Doc::text(token)),
        ])],
    );
    Ok(respond(format, StatusCode::OK, "service_requests", &doc))
}

/// The spec's `status`: open while the loop runs, closed when it ended (fixed or not).
pub fn status(state: CaseState) -> &'static str {
    if state.is_open() { "open" } else { "closed" }
}

/// FixMyStreet's extended status (lower case, as its GET responses write them) of each state.
pub fn fms_status(state: CaseState) -> &'static str {
    match state {
        CaseState::Reported => "open",
        CaseState::Accepted | CaseState::Verifying => "investigating",
        CaseState::Registered | CaseState::Dispatched => "action_scheduled",
        CaseState::Handling | CaseState::ReportedBack | CaseState::Passed => "in_progress",
        CaseState::Suspended => "planned",
        CaseState::Closed => "fixed",
        CaseState::Rejected => "no_further_action",
        CaseState::Merged => "duplicate",
        CaseState::Cancelled => "cancelled",
    }
}

fn lead_name(unit: &UnitRef, rules: &CaseRules) -> String {
    unit_json(unit, rules)
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| unit.key())
}

/// What a request shows without extensions, from a full case or from its listed columns.
struct Brief {
    number: String,
    state: CaseState,
    matter: String,
    description: String,
    agency: Option<String>,
    address: Option<String>,
    lon: Option<f64>,
    lat: Option<f64>,
    expected: Option<DateTime<Utc>>,
    reported_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
}

impl Brief {
    fn of_record(r: &CaseRecord, rules: &CaseRules) -> Brief {
        let c = &r.flow;
        Brief {
            number: c.number.to_string(),
            state: c.state,
            matter: c.matter.clone(),
            description: r.description.clone(),
            agency: c.lead.as_ref().map(|u| lead_name(u, rules)),
            address: r.location.address.clone(),
            lon: r.location.lon,
            lat: r.location.lat,
            expected: next_deadline(c),
            reported_at: r.reported_at,
            updated_at: r.updated_at,
            closed_at: c.closed_at,
        }
    }

    /// From the columns kept beside the flow (`next_deadline` is written from the flow by every
    /// change; `lead_unit` as `UnitRef::key`).
    fn of_row(b: &CaseBrief, rules: &CaseRules) -> Result<Brief, ApiError> {
        let state = CaseState::parse(&b.state).ok_or_else(|| {
            AppError::new(
                ErrorCode::CorruptCase,
                None,
                format!("案件 {} 的状态无法识别", b.case_no),
                format!("case {} has an unknown state", b.case_no),
            )
        })?;
        let agency = b.lead_unit.as_ref().map(|key| {
            key.strip_prefix("department:")
                .and_then(|d| DepartmentCode::parse(d).ok())
                .and_then(|d| rules.departments.get(&d).map(|d| d.name.clone()))
                .unwrap_or_else(|| key.clone())
        });
        Ok(Brief {
            number: b.case_no.clone(),
            state,
            matter: b.matter.clone(),
            description: b.description.clone(),
            agency,
            address: b.address.clone(),
            lon: b.lon,
            lat: b.lat,
            expected: b.next_deadline,
            reported_at: b.reported_at,
            updated_at: b.updated_at,
            closed_at: b.closed_at,
        })
    }
}

/// The spec's fields of one request.
fn brief_doc(b: &Brief, rules: &CaseRules, lang: Lang) -> Doc {
    let service_name = TypeCode::parse(&b.matter)
        .ok()
        .and_then(|t| rules.taxonomy.matter(&t).map(|e| e.name.clone()));
    let updated = if b.state.is_open() {
        b.updated_at
    } else {
        b.closed_at.unwrap_or(b.updated_at)
    };
    Doc::Obj(vec![
        ("service_request_id", Doc::text(b.number.clone())),
        ("status", Doc::text(status(b.state))),
        ("status_notes", Doc::text(b.state.label(lang))),
        ("service_name", Doc::opt_text(service_name)),
        ("service_code", Doc::text(b.matter.clone())),
        ("description", Doc::text(b.description.clone())),
        ("agency_responsible", Doc::opt_text(b.agency.clone())),
        ("service_notice", Doc::Null),
        ("requested_datetime", Doc::text(local(b.reported_at))),
        ("updated_datetime", Doc::text(local(updated))),
        ("expected_datetime", Doc::opt_text(b.expected.map(local))),
        ("address", Doc::opt_text(b.address.clone())),
        ("address_id", Doc::Null),
        ("zipcode", Doc::Null),
        ("lat", b.lat.map_or(Doc::Null, Doc::Number)),
        ("long", b.lon.map_or(Doc::Null, Doc::Number)),
        ("media_url", Doc::Null),
    ])
}

/// One case as a request. Never the reporter's contact; `extensions` adds the posted attributes,
/// `extended_attributes` and the timeline as `notes`.
fn request_doc(r: &CaseRecord, rules: &CaseRules, lang: Lang, events: Option<&[StoredEvent]>) -> Doc {
    let c = &r.flow;
    let Doc::Obj(mut fields) = brief_doc(&Brief::of_record(r, rules), rules, lang) else {
        unreachable!("a brief is an object")
    };
    if let Some(events) = events {
        let report = events.first().map(StoredEvent::body).unwrap_or(Value::Null);
        let attrs = report
            .pointer("/open311/attributes")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        let value = match v {
                            Value::Array(a) => Doc::List(
                                "value",
                                a.iter().map(|x| Doc::text(x.as_str().unwrap_or_default())).collect(),
                            ),
                            other => Doc::text(other.as_str().unwrap_or_default()),
                        };
                        Doc::Obj(vec![("code", Doc::text(k.clone())), ("value", value)])
                    })
                    .collect()
            })
            .unwrap_or_default();
        fields.push(("attributes", Doc::List("attribute", attrs)));
        let photos = report
            .get("photos")
            .and_then(Value::as_array)
            .map(|p| p.iter().map(|x| Doc::text(x.as_str().unwrap_or_default())).collect())
            .unwrap_or_default();
        fields.push((
            "extended_attributes",
            Doc::Obj(vec![
                ("channel", Doc::text(r.channel.clone())),
                ("state", Doc::text(c.state.as_str())),
                ("fms_status", Doc::text(fms_status(c.state))),
                ("grid", Doc::opt_text(r.location.grid.clone())),
                ("community", Doc::opt_text(r.location.community.clone())),
                ("street", Doc::opt_text(r.location.street.clone())),
                ("district", Doc::opt_text(r.location.district.clone())),
                (
                    "parent_service_request_id",
                    Doc::opt_text(c.merged_into.as_ref().map(|n| n.to_string())),
                ),
                ("photos", Doc::List("photo", photos)),
            ]),
        ));
        let notes = steps(events, &rules.calendar, lang)
            .into_iter()
            .map(|s| {
                Doc::Obj(vec![
                    ("datetime", Doc::text(local(s.at))),
                    ("summary", Doc::text(s.label.clone())),
                    ("description", Doc::text(s.to_label.unwrap_or_default())),
                    ("type", Doc::text(s.kind.clone())),
                ])
            })
            .collect();
        fields.push(("notes", Doc::List("note", notes)));
    }
    Doc::Obj(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_project_onto_open_closed_and_the_fms_statuses() {
        for s in CaseState::ALL {
            let closed = status(s) == "closed";
            assert_eq!(closed, !s.is_open(), "{s:?}");
            assert_eq!(fms_status(s) == "fixed", s == CaseState::Closed, "{s:?}");
        }
    }

    #[test]
    fn attributes_take_both_shapes() {
        let p = Params::parse(Some(
            "attribute%5BWHERE%5D=road&attribute%5BM%5D%5B%5D=a&attribute%5BM%5D%5B%5D=b&other=1",
        ));
        let a = attributes(&p).unwrap();
        assert_eq!(Value::Object(a), json!({"WHERE": "road", "M": ["a", "b"]}));
        assert!(attributes(&Params::parse(Some("attribute%5B%5D=x"))).is_err());
    }
}
