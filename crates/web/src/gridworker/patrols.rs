//! Patrols (巡查): a grid worker starts one, the patrol page sends the browser's location every
//! [`INTERVAL_SECONDS`] while it is open (WGS-84, as browsers give it), and stops it; the length
//! is summed point to point as points arrive. `/g/patrols` lists mine with length and duration.

use crate::json::Form;
use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use gongzhi_app::cases::gridworker::my_grids;
use gongzhi_app::cases::patrols::{self, Patrol, SentPoint, Track};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{GChrome, render};
use crate::pages::local_time;
use crate::people::session::Staff;
use crate::{ApiError, AppState};

/// How often the patrol page sends the location.
pub const INTERVAL_SECONDS: u32 = 30;

fn duration_text(p: &Patrol, now: DateTime<Utc>) -> String {
    let minutes = (p.ended_at.unwrap_or(now) - p.started_at).num_minutes().max(0);
    format!("{}:{:02}", minutes / 60, minutes % 60)
}

pub struct PatrolRow {
    pub id: i64,
    pub started: String,
    pub duration: String,
    pub length_m: i64,
    pub points: i64,
    pub open: bool,
}

fn row(p: &Patrol, now: DateTime<Utc>) -> PatrolRow {
    PatrolRow {
        id: p.id,
        started: local_time(p.started_at),
        duration: duration_text(p, now),
        length_m: p.length_m.round() as i64,
        points: p.point_count,
        open: p.ended_at.is_none(),
    }
}

#[derive(Template)]
#[template(path = "gridworker/patrols.html")]
struct PatrolsPage {
    c: GChrome,
    rows: Vec<PatrolRow>,
    open: Option<i64>,
}

/// `GET /g/patrols`: my patrols, newest first.
pub async fn list(State(state): State<AppState>, staff: Staff) -> Result<Response, ApiError> {
    let now = Utc::now();
    let patrols = patrols::mine(&state, &staff.actor).await?;
    let open = patrols.iter().find(|p| p.ended_at.is_none()).map(|p| p.id);
    render(
        PatrolsPage {
            c: GChrome::of(&staff, "/g/patrols"),
            rows: patrols.iter().map(|p| row(p, now)).collect(),
            open,
        },
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /g/patrols`: starts a patrol (or goes back to the one under way).
pub async fn start(State(state): State<AppState>, staff: Staff, Form(f): Form<CsrfForm>) -> Result<Response, ApiError> {
    // Who is not a grid worker hears so before the form's token is checked.
    my_grids(&staff.actor)?;
    staff.check_csrf(&f.csrf)?;
    let p = patrols::start(&state, &staff.actor).await?;
    Ok(Redirect::to(&format!("/g/patrols/{}", p.id)).into_response())
}

#[derive(Template)]
#[template(path = "gridworker/patrol.html")]
struct PatrolPage {
    c: GChrome,
    p: PatrolRow,
    interval: u32,
}

/// `GET /g/patrols/{id}`: the patrol, sending the location while it is under way.
pub async fn show(State(state): State<AppState>, staff: Staff, Path(id): Path<i64>) -> Result<Response, ApiError> {
    let p = patrols::get(&state, &staff.actor, id).await?;
    render(
        PatrolPage {
            c: GChrome::of(&staff, "/g/patrols"),
            p: row(&p, Utc::now()),
            interval: INTERVAL_SECONDS,
        },
        StatusCode::OK,
    )
}

/// `POST /g/patrols/{id}/stop`
pub async fn stop(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, ApiError> {
    my_grids(&staff.actor)?;
    staff.check_csrf(&f.csrf)?;
    patrols::stop(&state, &staff.actor, id).await?;
    Ok(Redirect::to("/g/patrols").into_response())
}

/// One point as sent: `{"lon", "lat", "accuracy"?, "at"?}`; an `at` that is not an RFC 3339
/// time counts as absent.
fn sent_point(v: &Value) -> SentPoint {
    let num = |k: &str| v.get(k).and_then(Value::as_f64);
    SentPoint {
        lon: num("lon"),
        lat: num("lat"),
        accuracy: num("accuracy"),
        at: v
            .get("at")
            .and_then(Value::as_str)
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&Utc)),
    }
}

/// `POST /g/patrols/{id}/points`: `{"csrf", "datum": "wgs84", "points": [{"lon","lat","accuracy"?,"at"?}]}`
/// (or one point's fields at the top level). Answers the patrol's length and point count.
pub async fn points(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    crate::json::JsonCommand(body): crate::json::JsonCommand<Value>,
) -> Result<Response, ApiError> {
    my_grids(&staff.actor)?;
    staff.check_csrf(body.get("csrf").and_then(Value::as_str).unwrap_or(""))?;
    let track = Track {
        datum: body.get("datum").and_then(Value::as_str).map(str::to_string),
        points: match body.get("points").and_then(Value::as_array) {
            Some(list) => list.iter().map(sent_point).collect(),
            None => vec![sent_point(&body)],
        },
    };
    let p = patrols::add_points(&state, &staff.actor, id, track).await?;
    Ok(Json(json!({"id": p.id, "length_m": p.length_m, "points": p.point_count})).into_response())
}
