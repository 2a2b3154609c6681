//! The territory tree over HTTP: summary, point → grid, nodes, grid GeoJSON, and pages.

mod api;
mod import;
mod pages;

use axum::Router;
use axum::routing::get;
use gongzhi_app::AppError;
use gongzhi_core::territory::TerritoryCode;

use crate::{ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/territory/summary", get(api::summary))
        .route("/api/v1/territory/locate", get(api::locate))
        .route("/api/v1/territory/nodes/{code}", get(api::node))
        .route("/api/v1/territory/grids.geojson", get(api::grids_geojson))
        .route("/api/v1/territory/grids", axum::routing::post(api::import_grids))
        .route(
            "/territory/import",
            get(import::import_page).post(import::import_upload),
        )
        .route("/territory", get(pages::city))
        .route("/territory/{code}", get(pages::node))
}

fn parse_code(field: &'static str, value: &str) -> Result<TerritoryCode, ApiError> {
    TerritoryCode::parse(value).map_err(|e| AppError::bad_code(field, e))
}
