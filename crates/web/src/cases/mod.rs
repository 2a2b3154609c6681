//! The case loop over HTTP.

pub mod api;
pub mod attachment;
pub mod inbox;
pub mod lists;
pub mod open311;
pub mod pages;
pub mod phone_form;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/cases", post(api::report).get(api::list))
        .route("/api/v1/cases/{id}", get(api::get_case))
        .route("/api/v1/cases/{id}/actions", post(api::act))
        .route("/inbox", get(inbox::overview))
        .route("/inbox/counts.json", get(inbox::counts_json))
        .route("/inbox/{name}", get(inbox::one))
        .route("/cases", get(lists::list_page))
        .route("/cases.xlsx", get(lists::export))
}
