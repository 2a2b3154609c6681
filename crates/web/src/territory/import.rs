//! Importing grids from GeoJSON (网格导入) on a page (`/territory/import`) and through the API
//! (`POST /api/v1/territory/grids`), as `gongzhi import grids` does: all grids or none; a changed
//! grid gets a new version valid from the day given, the old one kept; the grid index is rebuilt
//! at once, so locating follows the new boundaries. For system administrators whose scope holds
//! every grid of the file.

use crate::json::Query;
use askama::Template;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use gongzhi_app::AppError;
use gongzhi_app::territory::{grid_importer_scopes, import_grids};
use gongzhi_core::ErrorCode;
use serde::Deserialize;

use crate::pages::Chrome;
use crate::people::session::Staff;
use crate::{ApiError, AppState};

/// The day from which changed grids count, as typed (`None`: today).
pub(super) fn valid_from(text: Option<&str>) -> Result<Option<NaiveDate>, ApiError> {
    match text.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            AppError::new(
                ErrorCode::InvalidField,
                Some("valid_from"),
                format!("字段 valid_from（生效日期）：“{v}”不是日期，应如 2026-01-05"),
                format!("field valid_from: {v:?} is not a date such as 2026-01-05"),
            )
        }),
    }
}

#[derive(Template)]
#[template(path = "territory_import.html")]
struct ImportPage {
    c: Chrome,
    today: String,
    error: Option<String>,
    error_field: String,
    done: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct DoneQuery {
    grids: Option<usize>,
    created: Option<usize>,
    changed: Option<usize>,
    unchanged: Option<usize>,
}

fn page(
    staff: &Staff,
    state: &AppState,
    error: Option<ApiError>,
    done: Option<String>,
) -> Result<Html<String>, ApiError> {
    let lang = staff.lang;
    let html = ImportPage {
        c: Chrome::for_staff(staff, "/territory"),
        today: state.today().to_string(),
        error: error.as_ref().map(|e| e.message(lang).to_string()),
        error_field: error.and_then(|e| e.field).unwrap_or("").to_string(),
        done,
    }
    .render()
    .map_err(|e| AppError::internal(&e))?;
    Ok(Html(html))
}

/// `GET /territory/import`: the upload form (and what the last upload did).
pub async fn import_page(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<DoneQuery>,
) -> Result<Html<String>, ApiError> {
    grid_importer_scopes(&staff.actor)?;
    let done = q.grids.map(|n| match staff.lang {
        gongzhi_core::Lang::Zh => format!(
            "已导入 {n} 个网格：新增 {}，边界或信息变更 {}，未变 {}",
            q.created.unwrap_or(0),
            q.changed.unwrap_or(0),
            q.unchanged.unwrap_or(0)
        ),
        gongzhi_core::Lang::En => format!(
            "imported {n} grids: {} new, {} changed, {} unchanged",
            q.created.unwrap_or(0),
            q.changed.unwrap_or(0),
            q.unchanged.unwrap_or(0)
        ),
    });
    page(&staff, &state, None, done)
}

/// `POST /territory/import` (multipart: `csrf`, `file`, `valid_from`): imports, then shows what it
/// did; a refused file shows the page again with the reason, naming the feature or field.
pub async fn import_upload(
    State(state): State<AppState>,
    staff: Staff,
    request: Request,
) -> Result<Response, ApiError> {
    let up = crate::import::read_multipart(&state, request).await?;
    staff.check_csrf(&up.csrf)?;
    grid_importer_scopes(&staff.actor)?;
    if up.bytes.is_empty() {
        let e = AppError::new(
            ErrorCode::MissingFile,
            Some("file"),
            "请选择要导入的 GeoJSON 文件",
            "choose a GeoJSON file to import",
        );
        return Ok((StatusCode::BAD_REQUEST, page(&staff, &state, Some(e), None)?).into_response());
    }
    let imported = match valid_from(Some(&up.valid_from)) {
        Ok(day) => import_grids(&state, &staff.actor, &up.bytes, day).await,
        Err(e) => Err(e),
    };
    match imported {
        Ok(d) => Ok(Redirect::to(&format!(
            "/territory/import?grids={}&created={}&changed={}&unchanged={}",
            d.grids, d.created, d.changed, d.unchanged
        ))
        .into_response()),
        Err(e)
            if (e.http_status().is_client_error() && e.http_status() != StatusCode::FORBIDDEN)
                || e.code == "outside_scope" =>
        {
            let status = e.http_status();
            Ok((status, page(&staff, &state, Some(e), None)?).into_response())
        }
        Err(e) => Err(e),
    }
}
