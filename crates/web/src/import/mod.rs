//! Importing the registry from staff's spreadsheets over HTTP (docs/IMPORT.md).
//!
//! - `GET /registry/import`: the templates to download (XLSX with a notes sheet, or CSV) and the
//!   upload form; `GET /registry/import/templates/{key}.{xlsx|csv}` a template.
//! - `POST /registry/import` (multipart: `csrf`, `template`, `file`): starts a job and sends the
//!   browser to `GET /registry/import/jobs/{id}`, which shows its progress (a small script polls
//!   `…/{id}.json`; without JavaScript the page refreshes itself) and then the outcome: the rows
//!   imported, or every bad row with its column and reason (nothing imported).
//! - `POST /api/v1/registry/import/{key}` (the file as the body with its `Content-Type`, or
//!   multipart field `file`; `?file=NAME` names it): waits for the import and answers 201 with
//!   the counts, or 422 with every bad row. `GET /api/v1/registry/import/jobs/{id}` is a job's
//!   progress.
//!
//! Who may import: system administrators, street staff and community workers, each within the
//! subtree of their role ([`Reach`]); a row placed outside is an error of that row.
//!
//! Exports: `GET /registry/export/residents.xlsx|csv` (masked, importers), the buildings and
//! compounds as GeoJSON, and the unmasked export of residents for personal-data exporters only
//! (`POST /registry/export/residents-unmasked` from the page's form, `POST
//! /api/v1/registry/export/residents-unmasked`): a stated reason, audited before the file is sent.

use gongzhi_app::AppError;
use gongzhi_core::ErrorCode;
use std::sync::Arc;

use crate::json::Query;
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use gongzhi_core::Lang;
use gongzhi_core::data::RowError;
use gongzhi_core::import::registry::{ALL, template};
use gongzhi_core::import::{Reach, Template};
use gongzhi_core::people::Actor;
use gongzhi_office::{Format, template_file};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::pages::{Chrome, local_time, render};
use crate::people::Authenticated;
use crate::people::session::Staff;
use crate::{ApiError, AppState};

use gongzhi_app::registry::export::{UnmaskedExport, exporter_reach};
use gongzhi_app::registry::import::{Job, Outcome};
use gongzhi_app::registry::{importer_reach, unknown_template};

/// The largest file accepted (a 100,000-row resident workbook is about 6 MB).
pub const MAX_UPLOAD: usize = 64 * 1024 * 1024;

/// How many bad rows a job page lists (all are counted).
const SHOWN_ON_PAGE: usize = 200;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/registry/import", get(import_page).post(upload))
        .route("/registry/import/templates/{file}", get(template_download))
        .route("/registry/import/jobs/{id}", get(job_page))
        .route("/registry/export/{file}", get(export))
        .route("/registry/export/residents-unmasked", post(export_unmasked_page))
        .route("/api/v1/registry/export/residents-unmasked", post(api_export_unmasked))
        .route("/api/v1/registry/import/{key}", post(api_import))
        .route("/api/v1/registry/import/jobs/{id}", get(api_job))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_UPLOAD + 64 * 1024))
}

/// `attachment; filename=…` with the Chinese name percent-encoded (RFC 6266 / 5987).
pub fn attachment(ascii: &str, name: &str) -> HeaderValue {
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    HeaderValue::from_str(&format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// `GET /registry/import/templates/{key}.{xlsx|csv}`: a template to fill in (any signed-in staff).
async fn template_download(_: Authenticated, Path(file): Path<String>) -> Result<Response, ApiError> {
    let (key, ext) = file.rsplit_once('.').ok_or_else(|| unknown_template(&file))?;
    let t = template(key).ok_or_else(|| unknown_template(key))?;
    let format = Format::from_file_name(&file).ok_or_else(|| unknown_template(&file))?;
    let bytes = template_file(&t, format).map_err(|e| AppError::internal(&e))?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(format.content_type())),
            (
                header::CONTENT_DISPOSITION,
                attachment(
                    &format!("{key}-template.{ext}"),
                    &format!("{}导入模板.{ext}", t.name_zh),
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}

pub struct TemplateLink {
    pub key: &'static str,
    pub name: &'static str,
    pub columns: String,
}

#[derive(askama::Template)]
#[template(path = "import/import.html")]
struct ImportPage {
    c: Chrome,
    templates: Vec<TemplateLink>,
    may_import: bool,
    chosen: String,
    error: Option<String>,
    /// The unmasked export's form, for personal-data exporters only.
    unmasked: Option<UnmaskedForm>,
}

/// The unmasked export's form as shown again: the exporter's areas, the values sent, the error.
#[derive(Default)]
struct UnmaskedForm {
    areas: Vec<String>,
    first_area: String,
    reason: String,
    within: String,
    csv: bool,
    error: Option<String>,
}

impl ImportPage {
    fn new(staff: &Staff, chosen: String) -> ImportPage {
        let exporting = Reach::exporting(&staff.actor);
        ImportPage {
            c: Chrome::for_staff(staff, "/registry/import"),
            templates: links(staff.lang),
            may_import: !Reach::of(&staff.actor).is_empty(),
            chosen,
            error: None,
            unmasked: (!exporting.is_empty()).then(|| {
                let areas = exporter_areas(&staff.actor);
                UnmaskedForm {
                    first_area: areas.first().cloned().unwrap_or_default(),
                    areas,
                    ..UnmaskedForm::default()
                }
            }),
        }
    }
}

/// The territory codes where `actor` holds the personal-data exporter role.
fn exporter_areas(actor: &Actor) -> Vec<String> {
    actor
        .grants
        .iter()
        .filter(|g| g.role == gongzhi_core::people::Role::PersonalDataExporter)
        .filter_map(|g| match &g.scope {
            gongzhi_core::people::Scope::Territory(t) => Some(t.to_string()),
            gongzhi_core::people::Scope::Department(_) | gongzhi_core::people::Scope::Organization(_) => None,
        })
        .collect()
}

fn links(lang: Lang) -> Vec<TemplateLink> {
    ALL.iter()
        .map(|t| TemplateLink {
            key: t.key,
            name: t.name(lang),
            columns: t
                .columns
                .iter()
                .map(|c| {
                    if c.required {
                        format!("{}*", c.header)
                    } else {
                        c.header.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("、"),
        })
        .collect()
}

#[derive(Deserialize)]
struct ImportQuery {
    template: Option<String>,
}

/// `GET /registry/import`.
async fn import_page(staff: Staff, Query(q): Query<ImportQuery>) -> Result<Response, ApiError> {
    let page = ImportPage::new(&staff, q.template.unwrap_or_else(|| "residents".into()));
    Ok(render(&page)?.into_response())
}

/// The file of an upload: name, bytes, and the form's other fields.
pub(crate) struct Upload {
    pub name: String,
    pub bytes: Bytes,
    pub csrf: String,
    pub template: String,
    /// The grids' upload (`/territory/import`): from which day changed grids count.
    pub valid_from: String,
}

pub(crate) async fn read_multipart(state: &AppState, request: Request) -> Result<Upload, ApiError> {
    let mut form = Multipart::from_request(request, state)
        .await
        .map_err(|e| crate::json::unreadable_form("file", e.status()))?;
    let mut up = Upload {
        name: String::new(),
        bytes: Bytes::new(),
        csrf: String::new(),
        template: String::new(),
        valid_from: String::new(),
    };
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| crate::json::unreadable_form("file", e.status()))?
    {
        match field.name() {
            Some("file") => {
                up.name = field.file_name().unwrap_or("").to_string();
                up.bytes = field
                    .bytes()
                    .await
                    .map_err(|e| crate::json::unreadable_form("file", e.status()))?;
            }
            Some("csrf") => up.csrf = field.text().await.unwrap_or_default(),
            Some("template") => up.template = field.text().await.unwrap_or_default(),
            Some("valid_from") => up.valid_from = field.text().await.unwrap_or_default(),
            _ => {}
        }
    }
    Ok(up)
}

/// A file name errors can use: the uploaded one (only its last part), or the template's key.
fn file_name(uploaded: &str, t: &Template, bytes: &[u8]) -> String {
    let base = uploaded.rsplit(['/', '\\']).next().unwrap_or("").trim();
    if !base.is_empty() {
        return base.to_string();
    }
    let ext = if bytes.starts_with(b"PK\x03\x04") {
        "xlsx"
    } else {
        "csv"
    };
    format!("{}.{ext}", t.key)
}

/// Starts `job` on its own task.
pub fn spawn(state: &AppState, job: Arc<Job>, bytes: Bytes, actor: Actor, reach: Reach) {
    let state = state.clone();
    tokio::spawn(async move {
        let outcome = gongzhi_app::registry::import::execute(&state, &job, bytes, &actor, &reach).await;
        job.finish(outcome);
    });
}

/// `POST /registry/import`: starts the job, then its page.
async fn upload(State(state): State<AppState>, staff: Staff, request: Request) -> Result<Response, ApiError> {
    let up = read_multipart(&state, request).await?;
    staff.check_csrf(&up.csrf)?;
    let reach = importer_reach(&staff.actor)?;
    let t = template(&up.template).ok_or_else(|| unknown_template(&up.template))?;
    if up.bytes.is_empty() {
        let page = ImportPage {
            error: Some(staff.lang.pick("请选择要导入的文件", "choose a file to import").into()),
            ..ImportPage::new(&staff, t.key.to_string())
        };
        return Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response());
    }
    let name = file_name(&up.name, &t, &up.bytes);
    let job = state.import_jobs().start(&staff.actor, t, &name, &up.bytes);
    spawn(&state, job.clone(), up.bytes, staff.actor.clone(), reach);
    Ok(Redirect::to(&format!("/registry/import/jobs/{}", job.id)).into_response())
}

pub struct BadRow {
    pub row: String,
    pub column: String,
    pub reason: String,
}

#[derive(askama::Template)]
#[template(path = "import/job.html")]
struct JobPage {
    c: Chrome,
    id: String,
    template: &'static str,
    template_key: &'static str,
    file: String,
    started: String,
    line: String,
    percent: u8,
    finished: bool,
    imported: Option<String>,
    failed: bool,
    refused: Option<String>,
    bad_rows: Vec<BadRow>,
    more: usize,
}

fn bad_row(e: &RowError, lang: Lang) -> BadRow {
    BadRow {
        row: e.row.map(|r| r.to_string()).unwrap_or_default(),
        column: e.column.clone().unwrap_or_default(),
        reason: e.problem.message(lang),
    }
}

fn job_not_found() -> ApiError {
    AppError::new(
        ErrorCode::UnknownJob,
        Some("id"),
        "导入任务不存在或已过期",
        "no such import job (or it expired)",
    )
}

/// `GET /registry/import/jobs/{id}` (`…/{id}.json` for the page's script).
async fn job_page(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> Result<Response, ApiError> {
    if let Some(id) = id.strip_suffix(".json") {
        let job = state
            .import_jobs()
            .get(id, &staff.actor.account)
            .ok_or_else(job_not_found)?;
        return Ok(Json(job_json(&job, staff.lang)).into_response());
    }
    let job = state
        .import_jobs()
        .get(&id, &staff.actor.account)
        .ok_or_else(job_not_found)?;
    let lang = staff.lang;
    let snapshot = job.progress.snapshot();
    let outcome = job.outcome();
    let (imported, failed, refused, bad_rows, more) = match &outcome {
        Some(Outcome::Imported(i)) => (Some(i.line(lang)), false, None, vec![], 0),
        Some(Outcome::Refused(e)) => {
            let shown: Vec<BadRow> = e.errors.iter().take(SHOWN_ON_PAGE).map(|r| bad_row(r, lang)).collect();
            let more = e.total() - shown.len();
            let summary = match lang {
                Lang::Zh => format!(
                    "文件 {} 有{}处错误，未导入任何数据。请改正后重新上传。",
                    e.file,
                    e.total()
                ),
                Lang::En => format!(
                    "file {} has {} error(s); nothing was imported. Correct it and upload it again.",
                    e.file,
                    e.total()
                ),
            };
            (None, false, Some(summary), shown, more)
        }
        Some(Outcome::Failed) => (None, true, None, vec![], 0),
        None => (None, false, None, vec![], 0),
    };
    let page = JobPage {
        c: Chrome::for_staff(&staff, "/registry/import"),
        id: job.id.clone(),
        template: job.template.name(lang),
        template_key: job.template.key,
        file: job.file.clone(),
        started: local_time(job.started_at),
        line: snapshot.line(lang),
        percent: snapshot.percent,
        finished: outcome.is_some(),
        imported,
        failed,
        refused,
        bad_rows,
        more,
    };
    Ok(render(&page)?.into_response())
}

fn job_json(job: &Job, lang: Lang) -> Value {
    let s = job.progress.snapshot();
    let mut body = json!({
        "id": job.id,
        "template": job.template.key,
        "file": job.file,
        "started_at": job.started_at,
        "progress": s,
        "line": s.line(lang),
        "finished": false,
    });
    match job.outcome() {
        Some(Outcome::Imported(i)) => {
            body["finished"] = json!(true);
            body["imported"] = json!({
                "rows": i.rows,
                "created": i.created.iter().map(|(k, n)| (k.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
                "message": i.line(lang),
            });
        }
        Some(Outcome::Refused(e)) => {
            body["finished"] = json!(true);
            body["refused"] = json!({
                "file": e.file,
                "errors": e.total(),
                "rows": e.errors.iter().map(|r| json!({
                    "row": r.row, "column": r.column, "message": r.problem.message(lang),
                })).collect::<Vec<_>>(),
            });
        }
        Some(Outcome::Failed) => {
            body["finished"] = json!(true);
            body["failed"] = json!(lang.pick("服务器内部错误，未导入任何数据", "internal error; nothing was imported"));
        }
        None => {}
    }
    body
}

/// `GET /api/v1/registry/import/jobs/{id}`.
async fn api_job(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    crate::ReqLang(lang): crate::ReqLang,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let job = state.import_jobs().get(&id, &actor.account).ok_or_else(job_not_found)?;
    Ok(Json(job_json(&job, lang)))
}

#[derive(Deserialize)]
struct ApiImportQuery {
    file: Option<String>,
}

/// `POST /api/v1/registry/import/{key}`: the whole import; 201 with the counts or 422 with every
/// bad row.
async fn api_import(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(key): Path<String>,
    Query(q): Query<ApiImportQuery>,
    request: Request,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let reach = importer_reach(&actor)?;
    let t = template(&key).ok_or_else(|| unknown_template(&key))?;
    let ctype = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let (name, bytes) = if ctype.starts_with("multipart/form-data") {
        let up = read_multipart(&state, request).await?;
        (up.name, up.bytes)
    } else {
        let bytes = axum::body::to_bytes(request.into_body(), MAX_UPLOAD)
            .await
            .map_err(|_| {
                AppError::new(
                    ErrorCode::TooLarge,
                    Some("file"),
                    format!("文件不能超过 {} MB", MAX_UPLOAD / 1024 / 1024),
                    format!("the file must not exceed {} MB", MAX_UPLOAD / 1024 / 1024),
                )
            })?;
        let ext = if bytes.starts_with(b"PK\x03\x04") {
            ".xlsx"
        } else {
            ".csv"
        };
        (q.file.clone().unwrap_or_else(|| format!("{key}{ext}")), bytes)
    };
    if bytes.is_empty() {
        return Err(AppError::missing("file"));
    }
    let name = file_name(&name, &t, &bytes);
    let job = state.import_jobs().start(&actor, t, &name, &bytes);
    let outcome = gongzhi_app::registry::import::execute(&state, &job, bytes, &actor, &reach).await;
    job.finish(outcome.clone());
    match outcome {
        Outcome::Imported(i) => Ok((
            StatusCode::CREATED,
            Json(json!({
                "job": job.id,
                "template": i.template,
                "rows": i.rows,
                "created": i.created.iter().map(|(k, n)| (k.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
            })),
        )),
        Outcome::Refused(e) => Err(AppError::invalid_data(&e)),
        Outcome::Failed => Err(AppError::internal(&"import failed")),
    }
}

#[derive(Deserialize)]
struct ExportQuery {
    within: Option<String>,
}

/// `GET /registry/export/residents.xlsx|csv[?within=CODE]`: the residents of the reader's area
/// (or the part `within` names), masked; audited as `registry.export` with the count. Also the
/// places and organizations as tables or GeoJSON.
async fn export(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(file): Path<String>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let done = gongzhi_app::registry::export::export(&state, &actor, &file, q.within.as_deref()).await?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(done.content_type)),
            (header::CONTENT_DISPOSITION, attachment(&file, &done.name)),
        ],
        done.bytes,
    )
        .into_response())
}

/// An unmasked export asked for on the page's form.
#[derive(Deserialize, Default)]
struct UnmaskedPost {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    within: Option<String>,
    #[serde(default)]
    format: Option<String>,
}

/// The unmasked export's file, never cached.
async fn unmasked_export(state: &AppState, actor: &Actor, req: &UnmaskedExport) -> Result<Response, ApiError> {
    let (done, ext) = gongzhi_app::registry::export::unmasked(state, actor, req).await?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(done.content_type)),
            (
                header::CONTENT_DISPOSITION,
                attachment(&format!("residents-unmasked.{ext}"), &done.name),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        done.bytes,
    )
        .into_response())
}

/// `POST /registry/export/residents-unmasked` (form: `csrf`, `reason`, `within`, `format`): the
/// file, or the import page again with the refused field named (422).
async fn export_unmasked_page(
    State(state): State<AppState>,
    staff: Staff,
    crate::json::Form(form): crate::json::Form<UnmaskedPost>,
) -> Result<Response, ApiError> {
    staff.check_csrf(&form.csrf)?;
    let req = UnmaskedExport {
        reason: form.reason.clone(),
        within: form.within.clone(),
        format: form.format.clone(),
    };
    match unmasked_export(&state, &staff.actor, &req).await {
        Ok(r) => Ok(r),
        Err(e) if e.http_status() == StatusCode::UNPROCESSABLE_ENTITY || e.field == Some("within") => {
            let mut page = ImportPage::new(&staff, "residents".into());
            if let Some(u) = page.unmasked.as_mut() {
                u.reason = form.reason.clone();
                u.within = form.within.clone().unwrap_or_default();
                u.csv = form.format.as_deref() == Some("csv");
                let message = e.message(staff.lang);
                u.error = Some(match e.field {
                    Some(f) if !message.contains(f) => format!("{message} ({f})"),
                    _ => message.to_string(),
                });
            }
            Ok((e.http_status(), render(&page)?).into_response())
        }
        Err(e) => Err(e),
    }
}

/// `POST /api/v1/registry/export/residents-unmasked` `{"reason", "within"?, "format"?}`: the
/// file (XLSX unless `"format": "csv"`).
async fn api_export_unmasked(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    crate::json::JsonBody(body): crate::json::JsonBody,
) -> Result<Response, ApiError> {
    exporter_reach(&actor)?;
    let req: UnmaskedExport = crate::json::command(&body)?;
    unmasked_export(&state, &actor, &req).await
}
