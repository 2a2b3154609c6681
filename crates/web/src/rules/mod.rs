//! Rules as data over HTTP: the responsibility list (read, download, import a new version), calendar
//! years (import) and the status administrators watch (`missing_years`).
//!
//! Any signed-in staff may read; only a system administrator may import. An import is all or
//! nothing: a bad file answers 422 with every bad row, a good one 201, and the server's rules in
//! force are replaced at once (other servers notice through the rules revision).

use crate::json::Query;
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use gongzhi_app::AppError;
use gongzhi_app::rules::{self, ListVersion, RulesStatus};
use gongzhi_core::ErrorCode;
use gongzhi_office::{Format, read_rows, write_rows};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::people::Authenticated;
use crate::{ApiError, AppState, ReqLang};

/// The largest file accepted for import (a list of a few hundred rules is far smaller).
const MAX_UPLOAD: usize = 8 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/rules/responsibility",
            get(list_json).post(import_responsibility),
        )
        .route("/api/v1/rules/responsibility.csv", get(list_csv))
        .route("/api/v1/rules/responsibility.xlsx", get(list_xlsx))
        .route("/api/v1/rules/calendar", axum::routing::post(import_calendar))
        .route("/api/v1/rules/status", get(status))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_UPLOAD + 64 * 1024))
}

#[derive(Deserialize)]
struct VersionQuery {
    version: Option<String>,
}

fn described(v: &ListVersion, in_force: bool) -> Value {
    json!({
        "version": v.version,
        "valid_from": v.valid_from,
        "rule_count": v.rules,
        "imported_at": v.imported_at,
        "imported_by": v.imported_by,
        "in_force": in_force,
    })
}

/// `GET /api/v1/rules/responsibility[?version=]`: a version (by default the one in force) with its rules.
async fn list_json(
    State(state): State<AppState>,
    Authenticated(_): Authenticated,
    Query(q): Query<VersionQuery>,
) -> Result<Json<Value>, ApiError> {
    let v = rules::responsibility(&state, q.version.as_deref()).await?;
    let mut body = described(&v.version, v.in_force);
    body["rules"] = json!(v.list.rules());
    Ok(Json(body))
}

/// `filename*` needs percent-encoding for Chinese version labels (RFC 6266 / 5987).
fn attachment_header(version: &str, ext: &str) -> HeaderValue {
    let mut encoded = String::new();
    for b in format!("{version}.{ext}").bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    HeaderValue::from_str(&format!(
        "attachment; filename=\"responsibility-list.{ext}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

async fn download(state: AppState, q: VersionQuery, format: Format) -> Result<Response, ApiError> {
    let v = rules::responsibility(&state, q.version.as_deref()).await?;
    let bytes = write_rows(format, "职责清单", &v.list.to_rows()).map_err(|e| AppError::internal(&e))?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(format.content_type())),
            (
                header::CONTENT_DISPOSITION,
                attachment_header(&v.version.version, format.extension()),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// `GET /api/v1/rules/responsibility.csv[?version=]`: UTF-8 with a byte-order mark, for Excel and WPS.
async fn list_csv(
    State(state): State<AppState>,
    Authenticated(_): Authenticated,
    Query(q): Query<VersionQuery>,
) -> Result<Response, ApiError> {
    download(state, q, Format::Csv).await
}

/// `GET /api/v1/rules/responsibility.xlsx[?version=]`.
async fn list_xlsx(
    State(state): State<AppState>,
    Authenticated(_): Authenticated,
    Query(q): Query<VersionQuery>,
) -> Result<Response, ApiError> {
    download(state, q, Format::Xlsx).await
}

fn content_type(headers: &axum::http::HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// The format of an uploaded file: its name, else its declared type, else its content (an XLSX
/// file is a ZIP archive).
fn format_of(name: Option<&str>, content_type: &str, bytes: &[u8]) -> Format {
    if let Some(f) = name.and_then(Format::from_file_name) {
        return f;
    }
    if content_type.starts_with("text/csv") || content_type.starts_with("text/plain") {
        Format::Csv
    } else if content_type.contains("spreadsheetml") || bytes.starts_with(b"PK\x03\x04") {
        Format::Xlsx
    } else {
        Format::Csv
    }
}

/// The uploaded file as rows, with the name errors should give it: the body itself (typed by
/// `Content-Type`) or the field `file` of a multipart form.
async fn uploaded_rows(
    state: &AppState,
    request: Request,
    default_name: &str,
) -> Result<(String, Vec<Vec<String>>), ApiError> {
    let ctype = content_type(request.headers());
    let (name, declared, bytes): (Option<String>, String, Bytes) = if ctype.starts_with("multipart/form-data") {
        let mut form = Multipart::from_request(request, state)
            .await
            .map_err(|e| crate::json::unreadable_form("file", e.status()))?;
        let mut found = None;
        while let Some(field) = form
            .next_field()
            .await
            .map_err(|e| crate::json::unreadable_form("file", e.status()))?
        {
            if field.name() != Some("file") {
                continue;
            }
            let name = field.file_name().map(str::to_string);
            let declared = field.content_type().unwrap_or("").to_ascii_lowercase();
            let bytes = field
                .bytes()
                .await
                .map_err(|e| crate::json::unreadable_form("file", e.status()))?;
            found = Some((name, declared, bytes));
            break;
        }
        found.ok_or_else(|| AppError::missing("file"))?
    } else {
        let bytes = axum::body::to_bytes(request.into_body(), MAX_UPLOAD)
            .await
            .map_err(|_| {
                AppError::new(
                    ErrorCode::TooLarge,
                    None,
                    format!("文件不能超过 {} MB", MAX_UPLOAD / 1024 / 1024),
                    format!("the file must not exceed {} MB", MAX_UPLOAD / 1024 / 1024),
                )
            })?;
        (None, ctype, bytes)
    };
    if bytes.is_empty() {
        return Err(AppError::missing("file"));
    }
    let format = format_of(name.as_deref(), &declared, &bytes);
    // Errors name the file as the user knows it; read_rows picks the reader by the extension.
    let name = match name.filter(|n| Format::from_file_name(n) == Some(format)) {
        Some(n) => n,
        None => format!("{default_name}.{}", format.extension()),
    };
    let rows = read_rows(&name, &bytes).map_err(|e| AppError::invalid_data(&e))?;
    Ok((name, rows))
}

/// `POST /api/v1/rules/responsibility`: a new version from a CSV or XLSX file (the body, or the
/// multipart field `file`). 201 with the version; 422 with every bad row.
async fn import_responsibility(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    request: Request,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    // Only an importer learns what is wrong with an upload.
    rules::may_import(&state, &actor).await?;
    let (name, rows) = uploaded_rows(&state, request, "responsibility-list").await?;
    let (v, in_force) = rules::import_responsibility(&state, &actor, &name, &rows).await?;
    Ok((StatusCode::CREATED, Json(described(&v, in_force))))
}

/// `POST /api/v1/rules/calendar`: a year (or years) of official days, `date,kind,name`, as CSV or
/// XLSX. 201 with the years imported and the status; 422 with every bad row.
async fn import_calendar(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ReqLang(lang): ReqLang,
    request: Request,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    rules::may_import(&state, &actor).await?;
    let (name, rows) = uploaded_rows(&state, request, "official-days").await?;
    let (years, status) = rules::import_calendar(&state, &actor, &name, &rows).await?;
    let mut body = status_json(&status, lang);
    body["imported_years"] = json!(years);
    Ok((StatusCode::CREATED, Json(body)))
}

fn status_json(s: &RulesStatus, lang: gongzhi_core::Lang) -> Value {
    let warnings: Vec<String> = s
        .missing_years
        .iter()
        .map(|y| match lang {
            gongzhi_core::Lang::Zh => {
                format!("{y}年尚未导入法定节假日和调休安排：该年期限只按周六、周日休息计算，请尽快导入")
            }
            gongzhi_core::Lang::En => format!(
                "no official holidays imported for {y}: deadlines in {y} count only weekends as days off; import the year"
            ),
        })
        .collect();
    let mut body = json!(s);
    body["warnings"] = json!(warnings);
    body
}

/// `GET /api/v1/rules/status`: list versions, the one in force, years with official days and
/// `missing_years` (this year and next without data) with a warning for each.
async fn status(
    State(state): State<AppState>,
    Authenticated(_): Authenticated,
    ReqLang(lang): ReqLang,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(status_json(&rules::status(&state).await?, lang)))
}
