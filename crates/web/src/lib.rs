//! HTTP for Gongzhi: the JSON API under `/api/v1` and server-rendered pages, Chinese first.

pub mod audit;
pub mod cases;
pub mod cogov;
pub mod conditional;
mod error;
pub mod events;
pub mod gridworker;
mod headers;
pub mod import;
pub mod json;
mod lang;
mod map;
pub mod pages;
pub mod people;
pub mod registry;
pub mod resident;
pub mod rules;
pub mod taxonomy;
pub mod territory;

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use gongzhi_app::App;

pub use error::ApiError;
pub use gongzhi_app::{AppError, Attachments, CaseEvent, Hub, TerritoryIndex};
pub use headers::CONTENT_SECURITY_POLICY;
pub use lang::ReqLang;

/// What every handler can reach: the application itself is the router's state, so a door
/// holds no state of its own and calls the use cases on it.
pub type AppState = App;

/// The start page of whoever signs in: the first section of their navigation.
async fn home(staff: people::session::Staff) -> Redirect {
    let chrome = pages::Chrome::for_staff(&staff, "");
    Redirect::to(chrome.nav.first().map_or("/territory", |l| l.href))
}

async fn healthz() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "ok\n")
}

/// Ready when the database answers and takes writes (503 `storage_unavailable` while a full
/// disk or a database server that is down refuses them).
async fn readyz(axum::extract::State(state): axum::extract::State<AppState>) -> Result<&'static str, ApiError> {
    state.ready().await?;
    Ok("ready\n")
}

/// The OpenAPI 3.0 document of every endpoint under /api/v1, hand-written and kept true by
/// `crates/cli/tests/it/openapi.rs`.
pub const OPENAPI: &str = include_str!("../openapi/openapi.json");

/// `GET /api/v1/openapi.json`.
async fn openapi() -> impl axum::response::IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], OPENAPI)
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let max_upload = state.max_upload_bytes();
    Router::new()
        .route("/", get(home))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/api/v1/openapi.json", get(openapi))
        .merge(territory::routes())
        .merge(people::routes())
        .merge(cases::attachment::routes(max_upload))
        .merge(events::routes())
        .merge(cases::routes())
        .merge(cases::open311::routes(max_upload))
        .merge(cases::pages::routes(max_upload))
        .merge(resident::routes(max_upload))
        .merge(gridworker::routes(max_upload))
        .merge(cogov::routes())
        .merge(registry::routes())
        .merge(audit::routes())
        .merge(rules::routes())
        .merge(taxonomy::routes())
        .merge(import::routes())
        .merge(headers::routes())
        .fallback(|| async { AppError::not_found_path() })
        .layer(axum::middleware::from_fn_with_state(state.clone(), error::watch_writes))
        .layer(axum::middleware::from_fn(error::render_errors))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            headers::security_headers,
        ))
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
}

/// The span every log line of a request carries: its method and path, never its query string,
/// which holds what people search for (an ID number, a phone) and would land in the log in clear.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    tracing::debug_span!("request", method = %request.method(), path = %request.uri().path())
}
