//! Importing grids from GeoJSON (网格导入) on a page (`/territory/import`) and through the API
//! (`POST /api/v1/territory/grids`), as `gongzhi import grids` does: all grids or none; a changed
//! grid gets a new version valid from the day given, the old one kept; the grid index is rebuilt
//! at once, so locating follows the new boundaries. For system administrators whose scope holds
//! every grid of the file.

use askama::Template;
use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use gongzhi_app::AppError;
use gongzhi_core::ErrorCode;
use gongzhi_core::people::{Actor, Role, Scope};
use gongzhi_core::territory::TerritoryCode;
use serde::{Deserialize, Serialize};

use crate::pages::Chrome;
use crate::people::session::Staff;
use crate::{ApiError, AppState};

/// What an import of grids did.
#[derive(Debug, Clone, Serialize)]
pub struct GridsImported {
    pub grids: usize,
    pub created: usize,
    pub changed: usize,
    pub unchanged: usize,
    pub valid_from: String,
}

/// The system administrator's scopes, or 403.
fn admin_scopes(actor: &Actor) -> Result<Vec<&TerritoryCode>, ApiError> {
    let scopes: Vec<&TerritoryCode> = actor
        .grants
        .iter()
        .filter(|g| g.role == Role::SystemAdmin)
        .filter_map(|g| match &g.scope {
            Scope::Territory(t) => Some(t),
            Scope::Department(_) => None,
        })
        .collect();
    if scopes.is_empty() {
        Err(AppError::forbidden_role("系统管理员", "system administrator").into())
    } else {
        Ok(scopes)
    }
}

fn valid_from_of(state: &AppState, text: Option<&str>) -> Result<NaiveDate, ApiError> {
    match text.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(state.today()),
        Some(v) => v.parse().map_err(|_| {
            AppError::new(
                ErrorCode::InvalidField,
                Some("valid_from"),
                format!("字段 valid_from（生效日期）：“{v}”不是日期，应如 2026-01-05"),
                format!("field valid_from: {v:?} is not a date such as 2026-01-05"),
            )
        }),
    }
}

/// Checks and imports a GeoJSON file of grids for `actor`; nothing is written unless every grid
/// is good and inside the actor's scope.
pub async fn import_grid_file(
    state: &AppState,
    actor: &Actor,
    bytes: &[u8],
    valid_from: Option<&str>,
) -> Result<GridsImported, ApiError> {
    let scopes = admin_scopes(actor)?;
    let valid_from = valid_from_of(state, valid_from)?;
    let text = std::str::from_utf8(bytes).map_err(|_| {
        AppError::new(
            ErrorCode::InvalidFile,
            Some("file"),
            "文件不是 UTF-8 编码的 GeoJSON",
            "the file is not GeoJSON in UTF-8",
        )
    })?;
    let grids = gongzhi_core::territory::geojson::parse_grids(text).map_err(|e| AppError::import(&e))?;
    if let Some(outside) = grids.iter().find(|g| {
        let code = TerritoryCode::Grid(g.code.clone());
        !scopes.iter().any(|s| code.as_str().starts_with(s.subtree_prefix()))
    }) {
        return Err(AppError::new(
            ErrorCode::OutsideScope,
            Some("code"),
            format!("网格 {} 不在您的管理范围内，未导入任何网格", outside.code),
            format!("grid {} is outside your scope; no grid was imported", outside.code),
        )
        .into());
    }
    let key = state.audit_key().ok_or_else(AppError::audit_key_missing)?;
    let report = state
        .db()
        .import_grids(&grids, valid_from, &key, &actor.account)
        .await?;
    state.refresh_index().await?;
    Ok(GridsImported {
        grids: grids.len(),
        created: report.created,
        changed: report.changed,
        unchanged: report.unchanged,
        valid_from: valid_from.to_string(),
    })
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
    admin_scopes(&staff.actor)?;
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
    admin_scopes(&staff.actor)?;
    if up.bytes.is_empty() {
        let e = AppError::new(
            ErrorCode::MissingFile,
            Some("file"),
            "请选择要导入的 GeoJSON 文件",
            "choose a GeoJSON file to import",
        );
        return Ok((StatusCode::BAD_REQUEST, page(&staff, &state, Some(e), None)?).into_response());
    }
    match import_grid_file(&state, &staff.actor, &up.bytes, Some(&up.valid_from)).await {
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
