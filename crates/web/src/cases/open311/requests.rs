//! Service requests: POST one (a case reported through the one intake path, channel `open311`),
//! list them with the spec's filters and the extensions clients send, read one, resolve a token.

use axum::extract::{FromRequest, Multipart, Path, RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Utc};
use gongzhi_app::AppError;
use gongzhi_app::cases::open311::{
    self, Brief, MAX_PAGE_SIZE, NewRequest, Request as ServiceRequest, RequestFilter, RequestQuery, Status, Window,
};
use gongzhi_core::ErrorCode;
use gongzhi_core::cases::flow::{CaseNumber, State as CaseState};
use gongzhi_core::cases::rules::CaseRules;
use gongzhi_core::cases::taxonomy::TypeCode;
use gongzhi_core::people::policy::SecurityPolicy;
use gongzhi_core::{Lang, Localized};
use serde_json::{Map, Value, json};

use super::{Doc, Format, Params, respond, split_file};
use crate::conditional::{self, Audience, Validators};
use crate::json::local;
use crate::{ApiError, AppState, ReqLang};
use gongzhi_app::cases::steps;
use gongzhi_app::cases::{self, Reported};
use gongzhi_app::people::api_keys::{POST_REQUEST, authorize, key_actor};

pub(super) fn bad(field: &'static str, code: ErrorCode, zh: String, en: String) -> ApiError {
    AppError::new(code, Some(field), zh, en)
}

/// The fields of a POST, from a urlencoded or multipart body, then the query string (open311
/// 1.1 sends `api_key` and `jurisdiction_id` there), and the uploaded `media` files.
pub async fn read_form<S: Send + Sync>(
    state: &S,
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
            .map_err(|e| crate::json::unreadable_form("media", e.status()))?;
        while let Some(field) = form
            .next_field()
            .await
            .map_err(|e| crate::json::unreadable_form("media", e.status()))?
        {
            let name = field.name().unwrap_or("").to_string();
            if name == "media" || name == "media[]" {
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| crate::json::unreadable_form("media", e.status()))?;
                if !bytes.is_empty() {
                    media.push(bytes.to_vec());
                }
            } else {
                let text = field
                    .text()
                    .await
                    .map_err(|e| crate::json::unreadable_form("media", e.status()))?;
                params.push(name, text);
            }
        }
    } else {
        let bytes = crate::json::body_of(request, state).await?;
        params = Params::from_bytes(&bytes);
    }
    params.0.extend(Params::parse(query).0);
    crate::json::check_fields(params.0.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
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
        ));
    }
    let (params, media) = read_form(&state, query.as_deref(), request).await?;
    let key = authorize(&state, params.get("api_key"), POST_REQUEST).await?;
    let actor = key_actor(&key);
    let new = new_request(&params)?;
    // Everything is checked but the photos: store them, then report.
    let mut report = open311::prepare_request(&state, &key, new)?;
    for bytes in media {
        let saved = gongzhi_app::cases::attachment::upload(&state, "media", bytes, &actor).await?;
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

/// The fields of a new service request as posted (`service_code` required, the attributes
/// well named); the rest is checked with the service and the key.
pub fn new_request(params: &Params) -> Result<NewRequest, ApiError> {
    let text = |f: &str| params.get(f).map(str::to_string);
    Ok(NewRequest {
        service_code: params
            .get("service_code")
            .ok_or_else(|| AppError::missing("service_code"))?
            .to_string(),
        lat: text("lat"),
        long: text("long"),
        address_string: text("address_string"),
        description: text("description"),
        attributes: attributes(params)?,
        email: text("email"),
        first_name: text("first_name"),
        last_name: text("last_name"),
        phone: text("phone"),
        account_id: text("account_id"),
        device_id: text("device_id"),
        jurisdiction_id: text("jurisdiction_id"),
        address_id: text("address_id"),
        media_urls: media_urls(params),
    })
}

/// A W3C datetime parameter (the timezone required).
pub(super) fn w3c(params: &Params, field: &'static str) -> Result<Option<DateTime<Utc>>, ApiError> {
    params.get(field).map(|v| open311::datetime(field, v)).transpose()
}

/// `media_url` (or `media_url[]`), repeated: links to photos kept elsewhere.
pub(super) fn media_urls(params: &Params) -> Vec<String> {
    params
        .0
        .iter()
        .filter(|(k, v)| (k == "media_url" || k == "media_url[]") && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_string())
        .collect()
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

/// `GET /open311/v2/requests.{xml,json}`.
pub(super) async fn list(
    state: &AppState,
    lang: Lang,
    format: Format,
    params: &Params,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let extensions = matches!(params.get("extensions"), Some("true" | "1"));
    let query = request_query(params, Utc::now(), &state.security)?;
    let requests = open311::requests(state, &query, extensions).await?;
    let v = requests_validators(state, lang, format, extensions, &requests, false);
    Ok(conditional::answer(headers, &v, || {
        let rules = state.rules();
        let items = requests.iter().map(|r| request_doc(r, &rules, lang)).collect();
        respond(format, StatusCode::OK, "service_requests", &Doc::List("request", items))
    }))
}

/// The validators of requests as listed: the entity tag names each listed case by its number
/// and last change (a case entering, leaving or changing on the page changes it; no count of
/// the table), `Last-Modified` is the newest change among them. `single`: one request, whose
/// date moves with every change of it, so `If-Modified-Since` may be answered too.
fn requests_validators(
    state: &AppState,
    lang: Lang,
    format: Format,
    extensions: bool,
    requests: &[ServiceRequest],
    single: bool,
) -> Validators {
    let mut tag = super::tag(state, "requests", lang, format).part([u8::from(extensions)]);
    for r in requests {
        tag = tag
            .part(&r.brief.number)
            .part(r.brief.updated_at.timestamp_micros().to_le_bytes());
    }
    let newest = requests.iter().map(|r| r.brief.updated_at).max();
    super::validators(tag, newest, single, Audience::Unstored)
}

/// What a `GET /open311/v2/requests` asks for, from its parameters (`now` bounds the default
/// window, `policy` the page size and how deep a page may go).
pub fn request_query(params: &Params, now: DateTime<Utc>, policy: &SecurityPolicy) -> Result<RequestQuery, ApiError> {
    let ids = comma_list(params, "service_request_id");
    if ids.len() as i64 > MAX_PAGE_SIZE {
        return Err(bad(
            "service_request_id",
            ErrorCode::InvalidServiceRequestId,
            format!("service_request_id 一次最多 {MAX_PAGE_SIZE} 个，实际为 {}", ids.len()),
            format!(
                "service_request_id names at most {MAX_PAGE_SIZE} requests; got {}",
                ids.len()
            ),
        ));
    }
    Ok(if !ids.is_empty() {
        // The ids override every other argument.
        let numbers = ids
            .into_iter()
            .map(|id| {
                CaseNumber::parse(id).map_err(|_| {
                    bad(
                        "service_request_id",
                        ErrorCode::InvalidServiceRequestId,
                        format!("service_request_id {id} 不是13位案件编号"),
                        format!("service_request_id {id} is not a 13-digit case number"),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        RequestQuery::Numbers(numbers)
    } else {
        let services = comma_list(params, "service_code")
            .into_iter()
            .map(|code| {
                TypeCode::parse(code).map_err(|e| {
                    AppError::new(
                        ErrorCode::InvalidServiceCode,
                        Some("service_code"),
                        e.message(Lang::Zh),
                        e.message(Lang::En),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        let statuses = comma_list(params, "status")
            .into_iter()
            .map(|s| match s {
                "open" => Ok(Status::Open),
                "closed" => Ok(Status::Closed),
                other => Err(bad(
                    "status",
                    ErrorCode::InvalidStatus,
                    format!("status 应为 open 或 closed，实际为 {other:?}"),
                    format!("status must be open or closed; got {other:?}"),
                )),
            })
            .collect::<Result<_, _>>()?;
        // A small page unless the client asks for more, and never deeper than the policy's reach
        // (`list_max_rows`): the public list costs the database little whoever calls it.
        let page_size = positive(params, "page_size", MAX_PAGE_SIZE)?
            .unwrap_or(policy.open311_page_size)
            .clamp(1, MAX_PAGE_SIZE);
        let deepest = (policy.list_max_rows / page_size).max(1);
        let reported = Window::of_requests(w3c(params, "start_date")?, w3c(params, "end_date")?, now)?;
        RequestQuery::Filter(RequestFilter {
            services,
            statuses,
            reported,
            updated_after: w3c(params, "updated_after")?,
            updated_before: w3c(params, "updated_before")?,
            page_size,
            page: positive(params, "page", deepest)?.unwrap_or(1),
        })
    })
}

/// `GET /open311/v2/requests/{id}.{xml,json}`: still a list of one.
pub(super) async fn one(
    _: super::PublicRead,
    State(state): State<AppState>,
    ReqLang(lang): ReqLang,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (id, format) = split_file(&file)?;
    let params = Params::parse(query.as_deref());
    let extensions = matches!(params.get("extensions"), Some("true" | "1"));
    let request = open311::request(&state, id, extensions).await?;
    let v = requests_validators(&state, lang, format, extensions, std::slice::from_ref(&request), true);
    Ok(conditional::answer(&headers, &v, || {
        let doc = Doc::List("request", vec![request_doc(&request, &state.rules(), lang)]);
        respond(format, StatusCode::OK, "service_requests", &doc)
    }))
}

/// `GET /open311/v2/tokens/{token}.{xml,json}`: every service is realtime, so no token is ever
/// handed out; a case number given as a token resolves to itself, anything else is 404.
pub(super) async fn token(
    _: super::PublicRead,
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    let (token, format) = split_file(&file)?;
    let number = open311::token(&state, token).await?;
    let doc = Doc::List(
        "request",
        vec![Doc::Obj(vec![
            ("service_request_id", Doc::text(number.to_string())),
            ("token", Doc::text(token)),
        ])],
    );
    Ok(respond(format, StatusCode::OK, "service_requests", &doc))
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
        ("status", Doc::text(Status::of(b.state).as_str())),
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

/// One case as a request. Never the reporter's contact, nor its photos (no attachment id and no
/// `media_url`: the public sees no case's photos, as residents near a case do not); `extensions`
/// adds the posted attributes, `extended_attributes` and the timeline as `notes`.
fn request_doc(request: &ServiceRequest, rules: &CaseRules, lang: Lang) -> Doc {
    let Doc::Obj(mut fields) = brief_doc(&request.brief, rules, lang) else {
        unreachable!("a brief is an object")
    };
    if let Some(open311::Extended { record: r, events }) = &request.extended {
        let c = &r.flow;
        let report = events.first().map(|e| e.body()).unwrap_or(Value::Null);
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
    fn states_project_onto_the_fms_statuses() {
        for s in CaseState::ALL {
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
