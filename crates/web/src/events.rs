//! `GET /api/v1/events` streams the case changes a caller may see as server-sent events (one
//! JSON object per event), from the application's [`Hub`].

use gongzhi_app::AppError;
use std::convert::Infallible;
use std::time::Duration;

use crate::json::Query;
use axum::Router;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures_util::Stream;
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
    let within = match params.within.as_deref() {
        None | Some("") => None,
        Some(code) => Some(TerritoryCode::parse(code).map_err(|e| AppError::bad_code("within", e))?),
    };
    let filter = gongzhi_app::events::visible_to(&actor, within.as_ref());
    let events = state.events.subscribe(filter).into_stream();
    let sse = futures_util::StreamExt::map(events, |d| Ok(to_sse(d)));
    Ok(Sse::new(sse).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}
