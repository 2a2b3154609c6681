//! `GET /api/v1/events` streams the case changes a caller may see as server-sent events (one
//! JSON object per event), from the application's [`Hub`].

use gongzhi_app::AppError;
use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures_util::Stream;
use gongzhi_core::people::{Actor, Scope};
use gongzhi_core::territory::TerritoryCode;
use serde::Deserialize;

pub use gongzhi_app::events::{CaseEvent, DEFAULT_CAPACITY, Delivery, Hub, Subscription};

use crate::people::Authenticated;
use crate::{ApiError, AppState};

/// How often an idle stream sends a comment, so proxies keep the connection open.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/events", get(stream))
}

#[derive(Deserialize)]
pub struct EventParams {
    within: Option<String>,
}

/// Which events a caller may see: those in the subtrees their roles reach, narrowed to the
/// subtree named by `?within=`, and for department staff the cases their department leads.
fn scope_filter(
    params: &EventParams,
    actor: &Actor,
) -> Result<impl Fn(&CaseEvent) -> bool + Send + Sync + 'static, ApiError> {
    let reach: Vec<Scope> = actor
        .grants
        .iter()
        .map(|g| g.scope.clone())
        .filter(|s| matches!(s, Scope::Territory(_)))
        .collect();
    let departments: Vec<String> = actor
        .grants
        .iter()
        .filter_map(|g| match &g.scope {
            Scope::Department(d) => Some(format!("department:{d}")),
            Scope::Territory(_) => None,
        })
        .collect();
    let prefix = match params.within.as_deref() {
        None | Some("") => String::new(),
        Some(code) => TerritoryCode::parse(code)
            .map_err(|e| AppError::bad_code("within", e))?
            .subtree_prefix()
            .to_string(),
    };
    Ok(move |event: &CaseEvent| {
        event.territory_code.as_str().starts_with(&prefix)
            && (reach.iter().any(|s| s.reaches(&event.territory_code))
                || event.lead_unit.as_ref().is_some_and(|l| departments.contains(l)))
    })
}

fn to_sse(delivery: Delivery) -> Event {
    match delivery {
        Delivery::Event(event) => Event::default()
            .json_data(&*event)
            .unwrap_or_else(|_| Event::default().comment("unserialisable event")),
        Delivery::Missed(n) => Event::default().event("missed").data(format!("{{\"missed\":{n}}}")),
    }
}

/// `GET /api/v1/events?within={code}`: the case changes in that subtree as server-sent events.
pub async fn stream(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Query(params): Query<EventParams>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let filter = scope_filter(&params, &actor)?;
    let events = state.events.subscribe(filter).into_stream();
    let sse = futures_util::StreamExt::map(events, |d| Ok(to_sse(d)));
    Ok(Sse::new(sse).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}
