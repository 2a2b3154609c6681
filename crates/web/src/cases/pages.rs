//! The case pages: a case with its timeline and one form per action the reader may take, and the
//! new-case form. The forms work without JavaScript and call the very functions the JSON API
//! calls ([`gongzhi_app::cases::report`], [`gongzhi_app::cases::perform`]): a form only turns its fields into the
//! command an API client would send, so the rules live in one place.

use gongzhi_app::cases::{self, Acted, CaseRecord, Dossier, RawReport, Report, Step};
use gongzhi_app::{AppError, TerritoryIndex};
use gongzhi_core::ErrorCode;
use gongzhi_core::cases::attachment::AttachmentId;
use std::collections::HashMap;

use crate::json::Query;
use askama::Template;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use gongzhi_core::Lang;
use gongzhi_core::cases::UnitRef;
use gongzhi_core::cases::flow::{ActionKind, available_actions, next_deadline, remaining_minutes};
use gongzhi_core::cases::intake::Channel;
use gongzhi_core::cases::taxonomy::{EntryKind, TypeCode};
use gongzhi_core::people::{Actor, Role};
use gongzhi_core::territory::{Node, TerritoryCode};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::api;
use crate::map::{Dot, MapSpec, Shape, render_map};
use crate::pages::{Chrome, local_time};
use crate::people::session::Staff;
use crate::{ApiError, AppState};

/// Room for several photos and the form around them.
const FORM_OVERHEAD: u64 = 256 * 1024;
/// The most photos one form takes.
const MAX_PHOTOS: usize = 6;

pub fn routes(max_upload: u64) -> Router<AppState> {
    let limit = usize::try_from(
        max_upload
            .saturating_mul(MAX_PHOTOS as u64)
            .saturating_add(FORM_OVERHEAD),
    )
    .unwrap_or(usize::MAX);
    Router::new()
        .route(
            "/cases/new",
            get(new_form).post(new_case).layer(DefaultBodyLimit::max(limit)),
        )
        .route("/cases/{id}", get(case_page))
        .route(
            "/cases/{id}/act",
            axum::routing::post(act_form).layer(DefaultBodyLimit::max(limit)),
        )
        .route("/api/v1/cases/duplicates", get(duplicates))
}

fn render(page: impl Template, status: StatusCode) -> Result<Response, ApiError> {
    let html = page.render().map_err(|e| AppError::internal(&e))?;
    Ok((status, Html(html)).into_response())
}

/// A form as posted: its text fields in order, and its files (empty file inputs left out).
#[derive(Default)]
pub struct Posted {
    fields: Vec<(String, String)>,
    files: Vec<(String, Vec<u8>)>,
}

impl Posted {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// How many files the form carries in a field.
    pub(crate) fn files_named(&self, name: &str) -> usize {
        self.files.iter().filter(|(n, _)| n == name).count()
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect()
    }
}

/// Reads a form sent as `application/x-www-form-urlencoded` or, with photos,
/// `multipart/form-data`.
pub async fn read_form<S: Send + Sync>(state: &S, request: Request) -> Result<Posted, ApiError> {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("multipart/form-data"));
    let mut posted = Posted::default();
    if !multipart {
        let crate::json::Form(fields) =
            crate::json::Form::<Vec<(String, String)>>::from_request(request, state).await?;
        posted.fields = fields;
        return Ok(posted);
    }
    let mut form = Multipart::from_request(request, state)
        .await
        .map_err(|e| crate::json::unreadable_form("photos", e.status()))?;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| crate::json::unreadable_form("photos", e.status()))?
    {
        let name = field.name().unwrap_or("").to_string();
        if field.file_name().is_some() {
            let bytes = field
                .bytes()
                .await
                .map_err(|e| crate::json::unreadable_form("photos", e.status()))?;
            // A file input left empty still sends a part, without a name or bytes.
            if !bytes.is_empty() {
                posted.files.push((name, bytes.to_vec()));
            }
        } else {
            let text = field
                .text()
                .await
                .map_err(|e| crate::json::unreadable_form("form", e.status()))?;
            crate::json::check_fields([(name.as_str(), text.as_str())])?;
            posted.fields.push((name, text));
        }
    }
    Ok(posted)
}

/// Stores the photos of one file field of a form, giving their ids as an action names them.
pub(crate) async fn save_photos(
    state: &AppState,
    actor: &Actor,
    posted: &Posted,
    field: &str,
) -> Result<Vec<String>, ApiError> {
    let ids = save_photo_ids(state, actor, posted, field).await?;
    Ok(ids.iter().map(ToString::to_string).collect())
}

/// Stores the photos of one file field of a form, giving their attachment ids.
pub(crate) async fn save_photo_ids(
    state: &AppState,
    actor: &Actor,
    posted: &Posted,
    field: &str,
) -> Result<Vec<AttachmentId>, ApiError> {
    let photos: Vec<&Vec<u8>> = posted
        .files
        .iter()
        .filter(|(n, _)| n == field)
        .map(|(_, b)| b)
        .collect();
    if photos.len() > MAX_PHOTOS {
        return Err(AppError::new(
            ErrorCode::TooManyPhotos,
            Some("photos"),
            format!("一次最多上传{MAX_PHOTOS}张照片"),
            format!("at most {MAX_PHOTOS} photos at a time"),
        ));
    }
    let mut ids = Vec::new();
    for bytes in photos {
        let saved = cases::attachment::upload(state, "photos", bytes.clone(), actor).await?;
        ids.push(saved.attachment.id);
    }
    Ok(ids)
}

/// The label of a form field, to name it in an error.
fn field_label(field: &str, lang: Lang) -> Option<&'static str> {
    let (zh, en) = match field {
        "reason" => ("原因", "Reason"),
        "result" => ("处置结果", "Result"),
        "note" => ("说明", "Note"),
        "photos" => ("照片", "Photos"),
        "lead" => ("主办单位", "Lead unit"),
        "co_handlers" => ("协办单位", "Co-handlers"),
        "extend_by" | "extend_days" => ("延期工作日数", "Extension in working days"),
        "contacted" => ("是否联系上", "Reached"),
        "solved" => ("是否解决", "Solved"),
        "satisfaction" => ("满意度", "Satisfaction"),
        "parent" => ("合并到案件编号", "Merge into case number"),
        "departments" => ("吹哨部门", "Departments summoned"),
        "department" => ("报到部门", "Department"),
        "level" => ("督办级别", "Supervision level"),
        "channel" => ("渠道", "Channel"),
        "matter" => ("事项", "Matter"),
        "description" => ("描述", "Description"),
        "location" | "lon" | "lat" => ("位置", "Location"),
        "grid_code" => ("网格代码", "Grid code"),
        "address" => ("地址", "Address"),
        "idempotency_key" => ("表单标识", "Form key"),
        _ => return None,
    };
    Some(lang.pick(zh, en))
}

/// An error as a page shows it: its message, led by the field it is about.
fn error_text(e: &ApiError, lang: Lang) -> String {
    match e.field.and_then(|f| field_label(f, lang)) {
        Some(label) => format!(
            "{}{label}{}{}",
            lang.pick("「", "["),
            lang.pick("」：", "]: "),
            e.message(lang)
        ),
        None => e.message(lang).to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// The case page

/// One input of an action form.
struct Input {
    name: &'static str,
    label: &'static str,
    /// `textarea`, `file`, `select`, `multiselect`, `number`, `text`.
    widget: &'static str,
    required: bool,
    options: Vec<(String, String)>,
    /// The option chosen first.
    preset: String,
}

struct ActionForm {
    kind: &'static str,
    label: &'static str,
    inputs: Vec<Input>,
    multipart: bool,
}

struct StepRow {
    label: String,
    to_label: &'static str,
    who: String,
    role: String,
    unit: String,
    at: String,
    took: String,
    late: bool,
    text: String,
    photos: Vec<String>,
}

struct MergedRow {
    id: i64,
    number: String,
    reporter: String,
    channel: &'static str,
    reported: String,
}

struct Suggestion {
    id: i64,
    number: String,
    distance: String,
    description: String,
    reported: String,
}

#[derive(Template)]
#[template(path = "cases/case.html")]
struct CasePage {
    c: Chrome,
    id: i64,
    number: String,
    matter_code: String,
    matter_name: String,
    channel: &'static str,
    description: String,
    address: String,
    places: Vec<(String, String, &'static str)>,
    state_label: &'static str,
    lead: String,
    co_handlers: String,
    reporter: String,
    reported: String,
    supervision: String,
    pending: Vec<&'static str>,
    map_svg: String,
    photos_before: Vec<String>,
    photos_after: Vec<String>,
    steps: Vec<StepRow>,
    deadline: Option<String>,
    remaining: String,
    overdue: bool,
    merged: Vec<MergedRow>,
    merged_into: Option<String>,
    suggestions: Vec<Suggestion>,
    can_merge: bool,
    forms: Vec<ActionForm>,
    notice: Option<String>,
    error: Option<String>,
    error_field: &'static str,
    /// The action whose form failed, kept open.
    failed_action: String,
    /// Residents who follow the case ("me too" on `/m/nearby`).
    followers: i64,
    /// Joint meetings: the agenda items raised from the case, or the one it is an assignment of
    /// (id, title, state).
    agenda_items: Vec<(i64, String, &'static str)>,
}

/// Working minutes as people read them: `45 分钟`, `2 小时 5 分钟`.
fn duration(minutes: i64, lang: Lang) -> String {
    let m = minutes.abs();
    let (h, m) = (m / 60, m % 60);
    match (h, lang) {
        (0, Lang::Zh) => format!("{m} 分钟"),
        (0, Lang::En) => format!("{m} min"),
        (h, Lang::Zh) => format!("{h} 小时 {m} 分钟"),
        (h, Lang::En) => format!("{h} h {m} min"),
    }
}

/// The name of a handling unit: a department's, a street's or community's (from the names the
/// dossier looked up), a grid's worker.
fn unit_name(state: &AppState, places: &HashMap<String, String>, unit: &UnitRef, lang: Lang) -> String {
    match unit {
        UnitRef::Department(d) => state
            .rules()
            .departments
            .get(d)
            .map_or_else(|| d.to_string(), |d| d.name.clone()),
        UnitRef::Territory(t) => places.get(t.as_str()).cloned().unwrap_or_else(|| t.to_string()),
        UnitRef::GridWorker(g) => {
            let name = state
                .index()
                .by_code
                .get(g.as_str())
                .map_or_else(|| g.to_string(), |l| l.grid.name.clone());
            format!("{name}{}", lang.pick("网格员", " grid worker"))
        }
        UnitRef::Organization(o) => places
            .get(&unit.key())
            .cloned()
            .unwrap_or_else(|| format!("{} {o}", lang.pick("辖区单位", "member organization"))),
    }
}

fn photo_ids(detail: &Value) -> Vec<String> {
    detail
        .get("photos")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// What a step's payload says in words: its reason, result or note, and other choices.
fn step_text(detail: &Value, lang: Lang) -> String {
    let mut parts = Vec::new();
    for key in ["result", "reason", "note"] {
        if let Some(t) = detail.get(key).and_then(Value::as_str).filter(|t| !t.is_empty()) {
            parts.push(t.to_string());
        }
    }
    if let Some(parent) = detail.get("parent").and_then(Value::as_str) {
        parts.push(format!("{}{parent}", lang.pick("合并到 ", "merged into ")));
    }
    if let Some(level) = detail.get("level").and_then(Value::as_str) {
        parts.push(level.to_string());
    }
    parts.join("；")
}

/// The options of a unit select: the city's departments, then the case's street and community.
fn unit_options(
    state: &AppState,
    places: &HashMap<String, String>,
    record: &CaseRecord,
    lang: Lang,
) -> Vec<(String, String)> {
    let mut options: Vec<(String, String)> = state
        .rules()
        .departments
        .iter()
        .map(|d| (format!("department:{}", d.code), d.name.clone()))
        .collect();
    let l = &record.location;
    for code in [&l.street, &l.community].into_iter().flatten() {
        if let Ok(t) = TerritoryCode::parse(code) {
            let name = unit_name(state, places, &UnitRef::Territory(t), lang);
            options.push((format!("territory:{code}"), name));
        }
    }
    if let Some(grid) = &l.grid {
        let name = state
            .index()
            .by_code
            .get(grid.as_str())
            .map_or_else(|| grid.clone(), |g| g.grid.name.clone());
        options.push((
            format!("grid_worker:{grid}"),
            format!("{name}{}", lang.pick("网格员", " grid worker")),
        ));
    }
    options
}

/// The form of one action: its inputs, from the payload `Action` takes for it.
fn action_form(
    state: &AppState,
    places: &HashMap<String, String>,
    record: &CaseRecord,
    kind: ActionKind,
    proposed: &str,
    lang: Lang,
) -> ActionForm {
    use ActionKind as K;
    let t = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    let input = |name: &'static str, widget: &'static str, required: bool| Input {
        name,
        label: field_label(name, lang).unwrap_or(name),
        widget,
        required,
        options: vec![],
        preset: String::new(),
    };
    let departments = || -> Vec<(String, String)> {
        state
            .rules()
            .departments
            .iter()
            .map(|d| (d.code.to_string(), d.name.clone()))
            .collect()
    };
    let yes_no = |blank: bool| {
        let mut o = vec![];
        if blank {
            o.push((String::new(), t("（未答）", "(no answer)").to_string()));
        }
        o.push(("true".to_string(), t("是", "yes").to_string()));
        o.push(("false".to_string(), t("否", "no").to_string()));
        o
    };
    let reason = || input("reason", "textarea", true);
    let photos = |required| input("photos", "file", required);
    let inputs = match kind {
        // A check that fails also takes photos (below).
        k if k != K::CheckFail && needs_text(k, "reason") => vec![reason()],
        K::Verified => vec![input("note", "textarea", false), photos(false)],
        K::SelfHandle => vec![input("note", "textarea", false), photos(true)],
        K::Dispatch => {
            let options = unit_options(state, places, record, lang);
            vec![
                Input {
                    options: options.clone(),
                    preset: proposed.to_string(),
                    ..input("lead", "select", true)
                },
                Input {
                    options: options
                        .into_iter()
                        .filter(|(v, _)| v.starts_with("department:"))
                        .collect(),
                    ..input("co_handlers", "multiselect", false)
                },
            ]
        }
        K::RequestExtension => vec![input("extend_days", "number", true), reason()],
        K::ReportBack => vec![input("result", "textarea", true), photos(false)],
        K::CheckPass => vec![photos(false)],
        K::CheckFail => vec![reason(), photos(false)],
        K::FollowUp => vec![
            Input {
                options: yes_no(false),
                ..input("contacted", "select", true)
            },
            Input {
                options: yes_no(true),
                ..input("solved", "select", false)
            },
            Input {
                options: vec![
                    (String::new(), t("（未答）", "(no answer)").to_string()),
                    ("satisfied".into(), t("满意", "satisfied").into()),
                    (
                        "basically_satisfied".into(),
                        t("基本满意", "basically satisfied").into(),
                    ),
                    ("not_satisfied".into(), t("不满意", "not satisfied").into()),
                ],
                ..input("satisfaction", "select", false)
            },
        ],
        K::MergeInto => vec![input("parent", "text", true)],
        K::Whistle => vec![Input {
            options: departments(),
            ..input("departments", "multiselect", true)
        }],
        K::ReportIn => vec![Input {
            options: record
                .flow
                .whistles
                .iter()
                .flat_map(|w| w.summons.iter())
                .filter_map(|s| serde_json::to_value(s).ok())
                .filter_map(|s| s.get("department").and_then(Value::as_str).map(str::to_string))
                .map(|d| {
                    let name = departments()
                        .into_iter()
                        .find(|(c, _)| *c == d)
                        .map_or(d.clone(), |(_, n)| n);
                    (d, name)
                })
                .collect(),
            ..input("department", "select", true)
        }],
        K::Supervise => vec![
            Input {
                options: [
                    ("normal", "一般督办", "normal"),
                    ("yellow", "黄牌督办", "yellow"),
                    ("red", "红牌督办", "red"),
                ]
                .iter()
                .map(|(v, zh, en)| (v.to_string(), t(zh, en).to_string()))
                .collect(),
                ..input("level", "select", true)
            },
            reason(),
        ],
        _ => vec![],
    };
    ActionForm {
        kind: kind.as_str(),
        label: kind.label(lang),
        multipart: inputs.iter().any(|i| i.widget == "file"),
        inputs,
    }
}

/// Turns a posted action form into the JSON body `POST /api/v1/cases/{id}/actions` takes.
fn action_json(kind: ActionKind, posted: &Posted, photos: Vec<String>) -> Result<Value, ApiError> {
    use ActionKind as K;
    let mut body = Map::new();
    body.insert("action".into(), json!(kind.as_str()));
    let text = |name: &str| json!(posted.get(name).unwrap_or(""));
    let unit = |value: &str| -> Result<Value, ApiError> {
        let (kind, code) = value.split_once(':').ok_or_else(|| {
            AppError::new(
                ErrorCode::InvalidUnit,
                Some("lead"),
                format!("单位 {value} 无效"),
                format!("unit {value:?} is invalid"),
            )
        })?;
        Ok(json!({"kind": kind, "code": code}))
    };
    // A select of the follow-up: yes, no, a satisfaction, or left unanswered.
    let choice = |name: &str| match posted.get(name) {
        None => Value::Null,
        Some("true") => json!(true),
        Some("false") => json!(false),
        Some(other) => json!(other),
    };
    match kind {
        K::Dispatch => {
            let lead = posted.get("lead").ok_or_else(|| AppError::missing("lead"))?;
            body.insert("lead".into(), unit(lead)?);
            let co: Result<Vec<Value>, ApiError> = posted.all("co_handlers").into_iter().map(unit).collect();
            body.insert("co_handlers".into(), Value::Array(co?));
        }
        K::RequestExtension => {
            let days = posted
                .get("extend_days")
                .ok_or_else(|| AppError::missing("extend_days"))?;
            let days: u32 = days.parse().ok().filter(|d| (1..=365).contains(d)).ok_or_else(|| {
                AppError::new(
                    ErrorCode::InvalidExtension,
                    Some("extend_days"),
                    "延期工作日数应为1至365的整数",
                    "the extension must be a whole number of working days from 1 to 365",
                )
            })?;
            body.insert(
                "extend_by".into(),
                json!({"kind": "limit", "limit": {"amount": days, "unit": "work_days"}}),
            );
            body.insert("reason".into(), text("reason"));
        }
        K::FollowUp => {
            let contacted = choice("contacted");
            if !contacted.is_boolean() {
                return Err(AppError::missing("contacted"));
            }
            body.insert("contacted".into(), contacted);
            body.insert("solved".into(), choice("solved"));
            body.insert("satisfaction".into(), choice("satisfaction"));
        }
        K::MergeInto => {
            body.insert("parent".into(), text("parent"));
        }
        K::Whistle => {
            body.insert("departments".into(), json!(posted.all("departments")));
        }
        K::ReportIn => {
            body.insert("department".into(), text("department"));
        }
        K::Supervise => {
            body.insert("level".into(), text("level"));
            body.insert("reason".into(), text("reason"));
        }
        _ => {
            // The free-text fields and photos of the other actions, as `Action` names them.
            for name in ["reason", "result", "note"] {
                if posted.get(name).is_some() || needs_text(kind, name) {
                    body.insert(name.into(), text(name));
                }
            }
            if takes_photos(kind) {
                body.insert("photos".into(), json!(photos));
            }
        }
    }
    Ok(Value::Object(body))
}

/// Whether an action's payload has this text field (sent empty, so the rules name it missing).
fn needs_text(kind: ActionKind, name: &str) -> bool {
    use ActionKind as K;
    match name {
        "result" => kind == K::ReportBack,
        "reason" => matches!(
            kind,
            K::Reject
                | K::RequestReturn
                | K::DenyReturn
                | K::DenyExtension
                | K::RequestSuspension
                | K::DenySuspension
                | K::DenySelfHandling
                | K::RequestCancel
                | K::DenyCancel
                | K::Reopen
                | K::CheckFail
        ),
        _ => false,
    }
}

fn takes_photos(kind: ActionKind) -> bool {
    use ActionKind as K;
    matches!(
        kind,
        K::Verified | K::SelfHandle | K::ReportBack | K::CheckPass | K::CheckFail
    )
}

#[derive(Deserialize, Default)]
pub struct CaseQuery {
    /// The action just done, for the notice after the redirect.
    done: Option<String>,
}

/// What a failed form leaves on the re-rendered page.
struct Failure {
    message: String,
    field: &'static str,
    action: String,
}

fn case_view(
    state: &AppState,
    staff: &Staff,
    dossier: &Dossier,
    notice: Option<String>,
    failure: Option<Failure>,
) -> CasePage {
    let lang = staff.lang;
    let rules = state.rules();
    let now = Utc::now();
    let Dossier {
        view,
        people,
        places: node_names,
        duplicates,
    } = dossier;
    let record = &view.record;
    let flow = &record.flow;
    let steps: Vec<Step> = cases::steps(&view.events, &rules.calendar, lang);
    let who = |account: &str| people.get(account).cloned().unwrap_or_else(|| account.to_string());
    let mut rows = Vec::new();
    let mut photos_before = Vec::new();
    let mut photos_after = Vec::new();
    let mut proposed = String::new();
    for s in &steps {
        let unit = match serde_json::from_value::<UnitRef>(s.unit.clone()) {
            Ok(u) => unit_name(state, node_names, &u, lang),
            Err(_) => String::new(),
        };
        let photos = photo_ids(&s.detail);
        if s.kind == "report" {
            photos_before.extend(photos.iter().cloned());
            if let Some(u) = s
                .detail
                .pointer("/routing/proposed_lead")
                .and_then(|u| serde_json::from_value::<UnitRef>(u.clone()).ok())
            {
                proposed = u.key();
            }
        } else if s.kind == "report_back" {
            // The latest report back shows the work as it was left.
            photos_after = photos.clone();
        }
        let took = match (s.work_minutes, s.limit_minutes) {
            (Some(m), Some(l)) => format!("{} / {}", duration(m, lang), duration(l, lang)),
            (Some(m), None) => duration(m, lang),
            _ => String::new(),
        };
        rows.push(StepRow {
            label: s.label.clone(),
            to_label: s.to_label.unwrap_or(""),
            who: who(&s.account),
            role: s
                .role
                .as_str()
                .and_then(|r| r.parse::<Role>().ok())
                .map_or_else(String::new, |r| r.label(lang).to_string()),
            unit,
            at: local_time(s.at),
            took,
            late: s.late == Some(true),
            text: step_text(&s.detail, lang),
            photos,
        });
    }
    let matter_name = TypeCode::parse(&flow.matter)
        .ok()
        .and_then(|t| rules.taxonomy.matter(&t).map(|e| e.name.clone()))
        .unwrap_or_default();
    let index = state.index();
    let l = &record.location;
    let mut places = Vec::new();
    for (code, what) in [
        (&l.grid, lang.pick("网格", "Grid")),
        (&l.community, lang.pick("社区", "Community")),
        (&l.street, lang.pick("街道", "Street")),
    ] {
        if let Some(code) = code {
            let name = match index.by_code.get(code.as_str()) {
                Some(g) => g.grid.name.clone(),
                None => node_names.get(code).cloned().unwrap_or_else(|| code.clone()),
            };
            places.push((code.clone(), name, what));
        }
    }
    let map_svg = case_map(record, &index);
    let lead = match &flow.lead {
        Some(u) => unit_name(state, node_names, u, lang),
        None => String::new(),
    };
    let co: Vec<String> = flow
        .co_handlers
        .iter()
        .map(|u| unit_name(state, node_names, u, lang))
        .collect();
    let merged = view
        .merged
        .iter()
        .map(|m| MergedRow {
            id: m.id,
            number: m.flow.number.to_string(),
            reporter: m.reporter.clone(),
            channel: m.channel.parse::<Channel>().map_or("", |c| c.label(lang)),
            reported: local_time(m.reported_at),
        })
        .collect();
    let available = available_actions(flow, &staff.actor);
    let can_merge = available.contains(&ActionKind::MergeInto);
    let suggestions = duplicates
        .iter()
        .map(|d| Suggestion {
            id: d.id,
            number: d.number.to_string(),
            distance: format!("{} m", d.distance_m),
            description: d.description.clone(),
            reported: crate::json::local(d.reported_at).replace('T', " "),
        })
        .collect();
    let forms = available
        .into_iter()
        .map(|kind| action_form(state, node_names, record, kind, &proposed, lang))
        .collect();
    let deadline = next_deadline(flow).filter(|_| flow.state.is_open());
    let remaining = deadline.and_then(|_| remaining_minutes(flow, now, &rules.calendar));
    let (message, field, action) = match failure {
        Some(f) => (Some(f.message), f.field, f.action),
        None => (None, "", String::new()),
    };
    CasePage {
        agenda_items: vec![],
        followers: view.followers,
        c: Chrome::for_staff(staff, "/cases"),
        id: record.id,
        number: flow.number.to_string(),
        matter_code: flow.matter.clone(),
        matter_name,
        channel: record.channel.parse::<Channel>().map_or("", |c| c.label(lang)),
        description: record.description.clone(),
        address: l.address.clone().unwrap_or_default(),
        places,
        state_label: flow.state.label(lang),
        lead,
        co_handlers: co.join("、"),
        reporter: who(&record.reporter),
        reported: local_time(record.reported_at),
        supervision: flow.supervision.map(|s| s.label(lang).to_string()).unwrap_or_default(),
        pending: flow.pending.iter().map(|r| r.kind.label(lang)).collect(),
        map_svg,
        photos_before,
        photos_after,
        steps: rows,
        deadline: deadline.map(local_time),
        remaining: remaining.map(|m| duration(m, lang)).unwrap_or_default(),
        overdue: remaining.is_some_and(|m| m < 0),
        merged,
        merged_into: flow.merged_into.as_ref().map(|n| n.to_string()),
        suggestions,
        can_merge,
        forms,
        notice,
        error: message,
        error_field: field,
        failed_action: action,
    }
}

/// A small map of the case: the grids of its community (from the territory index in memory), its
/// own grid standing out and outlined, with the point on it.
fn case_map(record: &CaseRecord, index: &TerritoryIndex) -> String {
    let l = &record.location;
    let Some(community) = l.community.as_deref().filter(|c| TerritoryCode::parse(c).is_ok()) else {
        return String::new();
    };
    let drawn = index.community_grids(community);
    let shapes: Vec<Shape> = drawn
        .iter()
        .map(|(boundary, g)| Shape {
            boundary,
            group: 0,
            href: format!("/territory/{}", g.grid.code),
            title: format!("{} {}", g.grid.name, g.grid.code),
        })
        .collect();
    let own = |code: &str| l.grid.as_deref() == Some(code);
    let fills: Vec<&str> = drawn
        .iter()
        .map(|(_, g)| if own(&g.grid.code) { "#4e79a7" } else { "#d9e2ec" })
        .collect();
    let outlines: Vec<&geo::MultiPolygon<f64>> = drawn
        .iter()
        .filter(|(_, g)| own(&g.grid.code))
        .map(|(b, _)| *b)
        .collect();
    let dots: Vec<Dot> = match (l.lon, l.lat) {
        (Some(lon), Some(lat)) => vec![Dot {
            lon,
            lat,
            href: format!("/cases/{}", record.id),
            title: record.flow.number.to_string(),
        }],
        _ => vec![],
    };
    let label = record.flow.number.to_string();
    render_map(&MapSpec {
        shapes: &shapes,
        groups: None,
        fills: Some(&fills),
        outlines: &outlines,
        dots: &dots,
        width: 480.0,
        label: &label,
        zoom_id: None,
        grain: crate::map::Grain::Fine,
    })
}

/// `GET /cases/{id}` (id or 13-digit number): 404 outside the reader's scope.
pub async fn case_page(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<CaseQuery>,
) -> Result<Response, ApiError> {
    let dossier = cases::dossier(&state, &staff.actor, &id, Utc::now()).await?;
    let notice = q.done.as_deref().map(|d| {
        let label = serde_json::from_value::<ActionKind>(json!(d))
            .map(|k| k.label(staff.lang))
            .unwrap_or_else(|_| staff.lang.pick("上报", "report"));
        format!("{}{label}", staff.lang.pick("已完成：", "Done: "))
    });
    let mut page = case_view(&state, &staff, &dossier, notice, None);
    let links = gongzhi_app::cogov::meetings::links_of_case(&state, &dossier.view.record).await?;
    page.agenda_items = links
        .raised_as
        .iter()
        .chain(links.assigned_item.iter())
        .map(|i| (i.id, i.title.clone(), i.state.label(staff.lang)))
        .collect();
    render(page, StatusCode::OK)
}

/// `POST /cases/{id}/act`: one action from the case page's forms; 303 back to the page when done,
/// the page again with the error (naming the field, nothing changed) when refused.
pub async fn act_form(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let posted = read_form(&state, request).await?;
    staff.check_csrf(posted.get("csrf").unwrap_or(""))?;
    let record = cases::visible_case(&state, &staff.actor, &id).await?;
    let action = posted.get("action").unwrap_or("").to_string();
    let outcome = async {
        let kind: ActionKind = serde_json::from_value(json!(action)).map_err(|_| AppError::missing("action"))?;
        // Try the action without its photos first, so a refused form stores nothing; the
        // photos are then stored and the action performed for real.
        let placeholder: Vec<String> = posted
            .files
            .iter()
            .filter(|(n, _)| n == "photos")
            .map(|_| "0".to_string())
            .collect();
        let probe = cases::parse_action(action_json(kind, &posted, placeholder)?)?;
        cases::check_action(&state, &staff.actor, &record, probe)?;
        let photos = save_photos(&state, &staff.actor, &posted, "photos").await?;
        let action = cases::parse_action(action_json(kind, &posted, photos)?)?;
        cases::perform(&state, &staff.actor, record, action).await
    }
    .await;
    match outcome {
        Ok(Acted { record: updated, event }) => Ok(Redirect::to(&format!(
            "/cases/{}?done={}{}",
            updated.id,
            event.kind.as_str(),
            lang_suffix(staff.lang)
        ))
        .into_response()),
        Err(e) if e.http_status().is_client_error() && e.http_status() != StatusCode::NOT_FOUND => {
            let failure = Failure {
                message: error_text(&e, staff.lang),
                field: e.field.unwrap_or(""),
                action,
            };
            let status = e.http_status();
            // Nothing changed: the page as it was, with the error.
            let dossier = cases::dossier(&state, &staff.actor, &id, Utc::now()).await?;
            render(case_view(&state, &staff, &dossier, None, Some(failure)), status)
        }
        Err(e) => Err(e),
    }
}

/// Keeps an English reader in English across a redirect (the cookie does too, once set).
fn lang_suffix(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "&lang=en",
        Lang::Zh => "",
    }
}

// ---------------------------------------------------------------------------------------------
// The new-case page

#[derive(Template)]
#[template(path = "cases/new.html")]
struct NewPage {
    c: Chrome,
    channels: Vec<(&'static str, &'static str)>,
    channel: String,
    matter: String,
    description: String,
    lon: String,
    lat: String,
    grid_code: String,
    address: String,
    key: String,
    /// The grids to click on; `data-proj` holds the projection the script inverts.
    map_svg: String,
    error: Option<String>,
    error_field: &'static str,
}

/// The channel a person reports through by default, of those they may use: the hotline for the
/// command centre, patrol for people on the ground.
fn default_channel(actor: &Actor, channels: &[Channel]) -> Option<Channel> {
    let preferred = if actor.has_role(Role::IntakeClerk) || actor.has_role(Role::ShiftLead) {
        Channel::Hotline
    } else {
        Channel::Patrol
    };
    channels
        .iter()
        .copied()
        .find(|c| *c == preferred)
        .or_else(|| channels.first().copied())
}

/// The grids a person reports in: those of their widest territorial scope (a grid worker sees
/// the grids of the community), the city otherwise.
async fn reporting_map(state: &AppState, actor: &Actor) -> Result<String, ApiError> {
    let Some(grids) = cases::reporting_grids(state, actor).await? else {
        return Ok(String::new());
    };
    let shapes = grid_shapes(&grids, |g| format!("#{}", g.code));
    let fills: Vec<&str> = shapes.iter().map(|_| "#9fb8d6").collect();
    Ok(render_map(&MapSpec {
        shapes: &shapes,
        groups: None,
        fills: Some(&fills),
        outlines: &[],
        dots: &[],
        width: 640.0,
        label: "",
        zoom_id: Some("pick-map"),
        grain: crate::map::Grain::Fine,
    }))
}

async fn new_page(
    state: &AppState,
    staff: &Staff,
    posted: Option<&Posted>,
    error: Option<&ApiError>,
) -> Result<NewPage, ApiError> {
    let lang = staff.lang;
    let kept = |name: &str| posted.and_then(|p| p.get(name)).unwrap_or("").to_string();
    // Only the channels this person's roles use (the case policy's `[intake]`).
    let channels = cases::reporting_channels(state, &staff.actor);
    let channel = posted.and_then(|p| p.get("channel")).map_or_else(
        || {
            default_channel(&staff.actor, &channels)
                .map_or("", |c| c.as_str())
                .to_string()
        },
        str::to_string,
    );
    Ok(NewPage {
        c: Chrome::for_staff(staff, "/cases/new"),
        channels: channels.iter().map(|c| (c.as_str(), c.label(lang))).collect(),
        channel,
        matter: kept("matter"),
        description: kept("description"),
        lon: kept("lon"),
        lat: kept("lat"),
        grid_code: kept("grid_code"),
        address: kept("address"),
        // Random per form shown, kept when the form comes back with an error: a double submit
        // of one form makes one case.
        key: posted
            .and_then(|p| p.get("idempotency_key"))
            .map_or_else(gongzhi_app::people::random_token, str::to_string),
        map_svg: reporting_map(state, &staff.actor).await?,
        error: error.map(|e| error_text(e, lang)),
        error_field: error.and_then(|e| e.field).unwrap_or(""),
    })
}

/// `GET /cases/new` (403 for an administrator: they report no case)
pub async fn new_form(State(state): State<AppState>, staff: Staff) -> Result<Response, ApiError> {
    cases::check_case_worker(&staff.actor)?;
    render(new_page(&state, &staff, None, None).await?, StatusCode::OK)
}

/// A matter as typed without the picker's script: its code, `code name`, or its exact name.
pub(crate) fn matter_code(state: &AppState, typed: &str) -> String {
    let first = typed.split_whitespace().next().unwrap_or("");
    if TypeCode::parse(first).is_ok() {
        return first.to_string();
    }
    let rules = state.rules();
    rules
        .taxonomy
        .entries()
        .iter()
        .find(|e| e.kind == EntryKind::Matter && e.name == typed)
        .map_or_else(|| typed.to_string(), |e| e.code.as_str().to_string())
}

/// `POST /cases/new`: reports the case as `POST /api/v1/cases` does, then shows it.
pub async fn new_case(State(state): State<AppState>, staff: Staff, request: Request) -> Result<Response, ApiError> {
    let posted = read_form(&state, request).await?;
    staff.check_csrf(posted.get("csrf").unwrap_or(""))?;
    let outcome = async {
        let key = cases::idempotency_key("idempotency_key", posted.get("idempotency_key"))?;
        let raw = RawReport {
            channel: RawReport::text(posted.get("channel")),
            matter: RawReport::text(posted.get("matter").map(|m| matter_code(&state, m)).as_deref()),
            description: RawReport::text(posted.get("description")),
            lon: RawReport::text(posted.get("lon")),
            lat: RawReport::text(posted.get("lat")),
            grid_code: RawReport::text(posted.get("grid_code")),
            address: RawReport::text(posted.get("address")),
            ..RawReport::default()
        };
        let mut report = Report {
            idempotency_key: key,
            ..Report::try_from(raw)?
        };
        // Check the report before storing its photos, so a refused form stores nothing.
        cases::check(&state, &staff.actor, &report)?;
        report.photos = save_photo_ids(&state, &staff.actor, &posted, "photos").await?;
        cases::report(&state, &staff.actor, report).await
    }
    .await;
    match outcome {
        Ok(reported) => Ok(Redirect::to(&format!(
            "/cases/{}?done=report{}",
            reported.record.id,
            lang_suffix(staff.lang)
        ))
        .into_response()),
        Err(e) if e.http_status().is_client_error() => {
            let status = e.http_status();
            render(new_page(&state, &staff, Some(&posted), Some(&e)).await?, status)
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct DuplicateQuery {
    matter: Option<String>,
    lon: Option<String>,
    lat: Option<String>,
    datum: Option<String>,
}

/// `GET /api/v1/cases/duplicates?matter=&lon=&lat=[&datum=]`: open cases of the matter near the
/// point, as a report there would be offered them (the new-case form asks before submitting).
pub async fn duplicates(
    State(state): State<AppState>,
    crate::people::Authenticated(actor): crate::people::Authenticated,
    Query(q): Query<DuplicateQuery>,
) -> Result<Json<Value>, ApiError> {
    let matter = q
        .matter
        .as_deref()
        .filter(|m| !m.is_empty())
        .ok_or_else(|| AppError::missing("matter"))?;
    let matter = cases::matter_code(matter)?;
    let text = |v: &Option<String>| RawReport::text(v.as_deref().filter(|v| !v.is_empty()));
    let raw = RawReport {
        lon: text(&q.lon),
        lat: text(&q.lat),
        datum: text(&q.datum),
        ..RawReport::default()
    };
    if raw.lon.is_none() || raw.lat.is_none() {
        return Err(AppError::missing(if raw.lon.is_some() { "lat" } else { "lon" }));
    }
    let (place, _) = raw.place()?;
    let location = cases::place(&state, &place, None)?.location;
    let rules = state.rules();
    let point = (location.lon.unwrap_or_default(), location.lat.unwrap_or_default());
    let found: Vec<Value> = cases::duplicates_near(&state, &rules, matter.as_str(), point, Utc::now(), Some(&actor))
        .await?
        .iter()
        .map(api::duplicate_json)
        .collect();
    Ok(Json(
        json!({ "matter": matter.as_str(), "grid": location.grid, "duplicates": found }),
    ))
}

/// The grids that have a boundary, as map shapes linking to `href(grid)`.
fn grid_shapes<'a>(grids: impl IntoIterator<Item = &'a Node>, href: impl Fn(&Node) -> String) -> Vec<Shape<'a>> {
    grids
        .into_iter()
        .filter_map(|g| {
            Some(Shape {
                boundary: g.boundary.as_ref()?,
                group: 0,
                href: href(g),
                title: format!("{} {}", g.name, g.code),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use gongzhi_core::cases::flow::Action;

    use super::*;

    /// Every action's form, filled as a person would, gives a body the API's `Action` takes:
    /// the forms cannot drift from the payloads.
    #[test]
    fn every_action_form_gives_an_action_the_api_takes() {
        let posted = Posted {
            fields: [
                ("reason", "现场无人"),
                ("result", "已处理"),
                ("note", "已核实"),
                ("lead", "department:urban-management"),
                ("co_handlers", "department:housing"),
                ("extend_days", "3"),
                ("contacted", "true"),
                ("solved", "false"),
                ("satisfaction", "not_satisfied"),
                ("parent", "2026112700001"),
                ("departments", "housing"),
                ("department", "housing"),
                ("level", "yellow"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            files: vec![],
        };
        for kind in ActionKind::ALL {
            let body = action_json(kind, &posted, vec!["1".into()]).unwrap();
            let action: Action =
                serde_json::from_value(body.clone()).unwrap_or_else(|e| panic!("{kind:?}: {e} in {body}"));
            assert_eq!(action.kind(), kind);
        }
    }

    #[test]
    fn a_follow_up_without_an_answer_names_the_field() {
        let e = action_json(ActionKind::FollowUp, &Posted::default(), vec![]).unwrap_err();
        assert_eq!(e.field, Some("contacted"));
        assert_eq!(error_text(&e, Lang::Zh).split('」').next(), Some("「是否联系上"));
    }

    #[test]
    fn working_time_reads_in_hours_and_minutes() {
        assert_eq!(duration(45, Lang::Zh), "45 分钟");
        assert_eq!(duration(125, Lang::En), "2 h 5 min");
    }
}
