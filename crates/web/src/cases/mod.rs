//! The case loop over HTTP.

pub mod api;
pub mod attachment;
pub mod pages;
pub mod scope;
pub mod supervision;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/cases", post(api::report).get(api::list))
        .route("/api/v1/cases/{id}", get(api::get_case))
        .route("/api/v1/cases/{id}/actions", post(api::act))
}
