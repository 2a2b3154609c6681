//! Patrols (巡查): a grid worker starts one, the patrol page sends the browser's location every
//! [`INTERVAL_SECONDS`] while it is open (WGS-84, as browsers give it), and stops it; the length
//! is summed point to point as points arrive. `/g/patrols` lists mine with length and duration.

use askama::Template;
use axum::Form;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use gongzhi_app::AppError;
use gongzhi_core::ErrorCode;
use gongzhi_store::cases::patrols::{Patrol, PatrolPoint};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{GChrome, my_grids, render};
use crate::pages::local_time;
use crate::people::session::Staff;
use crate::{ApiError, AppState};

/// How often the patrol page sends the location.
pub const INTERVAL_SECONDS: u32 = 30;
/// The most points one request may carry (a phone catching up after a gap).
const MAX_POINTS: usize = 500;

fn unknown(id: i64) -> ApiError {
    AppError::new(
        ErrorCode::UnknownPatrol,
        Some("id"),
        format!("没有编号为 {id} 的本人巡查"),
        format!("you have no patrol {id}"),
    )
}

/// My own patrol, or 404 (another's is no more visible than a missing one).
async fn mine(state: &AppState, staff: &Staff, id: i64) -> Result<Patrol, ApiError> {
    match state.db().patrol(id).await? {
        Some(p) if p.account == staff.actor.account => Ok(p),
        _ => Err(unknown(id)),
    }
}

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
    my_grids(&staff)?;
    let now = Utc::now();
    let patrols = state.db().patrols_of(&staff.actor.account, 100).await?;
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
    my_grids(&staff)?;
    staff.check_csrf(&f.csrf)?;
    let p = state.db().start_patrol(&staff.actor.account, Utc::now()).await?;
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
    my_grids(&staff)?;
    let p = mine(&state, &staff, id).await?;
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
    my_grids(&staff)?;
    staff.check_csrf(&f.csrf)?;
    mine(&state, &staff, id).await?;
    state.db().stop_patrol(id, Utc::now()).await?;
    Ok(Redirect::to("/g/patrols").into_response())
}

fn bad_point(zh: String, en: String) -> ApiError {
    AppError::new(ErrorCode::InvalidPoint, Some("points"), zh, en)
}

/// One point as sent: `{"lon", "lat", "accuracy"?, "at"?}`, WGS-84 degrees.
fn point_of(v: &Value, now: DateTime<Utc>) -> Result<(PatrolPoint, Option<f64>, DateTime<Utc>), ApiError> {
    let num = |k: &str| v.get(k).and_then(Value::as_f64);
    let (Some(lon), Some(lat)) = (num("lon"), num("lat")) else {
        return Err(bad_point(
            "每个点须有数值 lon 与 lat（WGS-84 经纬度）".into(),
            "each point needs numbers lon and lat (WGS-84 degrees)".into(),
        ));
    };
    if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
        return Err(bad_point(
            format!("经纬度超出范围：{lon}, {lat}"),
            format!("lon/lat out of range: {lon}, {lat}"),
        ));
    }
    let accuracy = num("accuracy").filter(|a| a.is_finite() && *a >= 0.0);
    // The phone's own time, if it is sane (not in the future); the server's otherwise.
    let at = v
        .get("at")
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .filter(|t| *t <= now)
        .unwrap_or(now);
    Ok((PatrolPoint { lon, lat }, accuracy, at))
}

/// `POST /g/patrols/{id}/points`: `{"csrf", "datum": "wgs84", "points": [{"lon","lat","accuracy"?,"at"?}]}`
/// (or one point's fields at the top level). Answers the patrol's length and point count.
pub async fn points(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Json(body): Json<Value>,
) -> Result<Response, ApiError> {
    my_grids(&staff)?;
    staff.check_csrf(body.get("csrf").and_then(Value::as_str).unwrap_or(""))?;
    let datum = body.get("datum").and_then(Value::as_str).unwrap_or("wgs84");
    if datum != "wgs84" {
        return Err(bad_point(
            format!("巡查轨迹只收 WGS-84（datum=wgs84），收到 {datum}"),
            format!("patrol tracks take WGS-84 only (datum=wgs84), not {datum}"),
        ));
    }
    let p = mine(&state, &staff, id).await?;
    if p.ended_at.is_some() {
        return Err(AppError::new(ErrorCode::PatrolEnded, Some("id"), "巡查已结束", "the patrol has ended").into());
    }
    let now = Utc::now();
    let raw: Vec<&Value> = match body.get("points").and_then(Value::as_array) {
        Some(list) => list.iter().collect(),
        None => vec![&body],
    };
    if raw.is_empty() || raw.len() > MAX_POINTS {
        return Err(bad_point(
            format!("一次须发送1至{MAX_POINTS}个点"),
            format!("send 1 to {MAX_POINTS} points at a time"),
        ));
    }
    let pts = raw
        .into_iter()
        .map(|v| point_of(v, now))
        .collect::<Result<Vec<_>, _>>()?;
    let p = state.db().add_patrol_points(id, &pts).await?;
    Ok(Json(json!({"id": p.id, "length_m": p.length_m, "points": p.point_count})).into_response())
}
