//! Service discovery, the service list (the matters of the taxonomy) and service definitions.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gongzhi_app::cases::open311;
use gongzhi_core::Lang;
use gongzhi_core::cases::taxonomy::Entry;

use super::{Doc, Format, base_url, respond, split_file};
use crate::conditional::{self, Audience};
use crate::{ApiError, AppState, ReqLang};

const SPECIFICATION: &str = "http://wiki.open311.org/GeoReport_v2";

/// `GET /open311/v2/discovery.{xml,json}`.
pub(super) fn discovery(state: &AppState, format: Format, headers: &HeaderMap) -> Result<Response, ApiError> {
    let tag = super::tag(state, "discovery", Lang::Zh, format).part(base_url(state));
    let v = super::validators(tag, rules_day(state), false, Audience::Stored);
    Ok(conditional::answer(headers, &v, || discovery_doc(state, format)))
}

/// The day the responsibility list in force took effect, at midnight where the city is: the
/// services' `Last-Modified` (not used for `If-Modified-Since`: a taxonomy can be reloaded
/// within a version, which the entity tag sees through the rules revision).
fn rules_day(state: &AppState) -> Option<chrono::DateTime<chrono::Utc>> {
    let rules = state.rules();
    let midnight = rules.responsibility.valid_from.and_hms_opt(0, 0, 0)?;
    midnight
        .and_local_timezone(rules.calendar.offset())
        .single()
        .map(|t| t.with_timezone(&chrono::Utc))
}

fn discovery_doc(state: &AppState, format: Format) -> Response {
    let changeset = open311::changeset(state);
    let doc = Doc::Obj(vec![
        ("changeset", Doc::text(changeset.clone())),
        (
            "contact",
            Doc::text("城市运行管理服务中心（12345 热线） / the city operations centre (hotline 12345)"),
        ),
        (
            "key_service",
            Doc::text(
                "API keys are issued per integration by the system administrator (gongzhi api-key create, or POST /api/v1/api-keys)",
            ),
        ),
        (
            "endpoints",
            Doc::List(
                "endpoint",
                vec![Doc::Obj(vec![
                    ("specification", Doc::text(SPECIFICATION)),
                    ("url", Doc::text(base_url(state))),
                    ("changeset", Doc::text(changeset)),
                    ("type", Doc::text("production")),
                    (
                        "formats",
                        Doc::List("format", vec![Doc::text("text/xml"), Doc::text("application/json")]),
                    ),
                ])],
            ),
        ),
    ]);
    respond(format, StatusCode::OK, "discovery", &doc)
}

fn service(e: &Entry, lang: Lang) -> Doc {
    Doc::Obj(vec![
        ("service_code", Doc::text(e.code.as_str())),
        ("service_name", Doc::text(e.name.clone())),
        (
            "description",
            Doc::text(match lang {
                Lang::Zh => format!("{}：{}", e.major_name, e.name),
                Lang::En => format!("{} / {}", e.major_name, e.name),
            }),
        ),
        // The taxonomy names no required fields for any matter, so no definition has attributes.
        ("metadata", Doc::Bool(false)),
        ("type", Doc::text("realtime")),
        ("keywords", Doc::text(format!("{},{}", e.initials, e.name))),
        ("group", Doc::text(e.major_name.clone())),
    ])
}

/// `GET /open311/v2/services.{xml,json}`: every matter of the taxonomy, by code.
pub(super) fn list(state: &AppState, lang: Lang, format: Format, headers: &HeaderMap) -> Result<Response, ApiError> {
    let v = super::validators(
        super::tag(state, "services", lang, format),
        rules_day(state),
        false,
        Audience::Stored,
    );
    Ok(conditional::answer(headers, &v, || {
        let services = open311::services(state).iter().map(|e| service(e, lang)).collect();
        respond(format, StatusCode::OK, "services", &Doc::List("service", services))
    }))
}

/// `GET /open311/v2/services/{code}.{xml,json}`: the definition, an object even in JSON.
pub(super) async fn definition(
    _: super::PublicRead,
    State(state): State<AppState>,
    ReqLang(_lang): ReqLang,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (code, format) = split_file(&file)?;
    let entry = open311::service(&state, code)?;
    let tag = super::tag(&state, "definition", Lang::Zh, format).part(entry.code.as_str());
    let v = super::validators(tag, rules_day(&state), false, Audience::Stored);
    Ok(conditional::answer(&headers, &v, || {
        let doc = Doc::Obj(vec![
            ("service_code", Doc::text(entry.code.as_str())),
            ("attributes", Doc::List("attribute", vec![])),
        ]);
        respond(format, StatusCode::OK, "service_definition", &doc)
    }))
}
