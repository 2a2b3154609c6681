//! Patrols (巡查): a grid worker starts one, sends the phone's location while it is under way
//! (WGS-84, as browsers give it) and stops it; the length is summed point to point as points
//! arrive. A patrol is its grid worker's own: another's is no more visible than a missing one.

use chrono::{DateTime, Utc};
use gongzhi_core::ErrorCode;
use gongzhi_core::people::Actor;

pub use gongzhi_store::cases::patrols::{Patrol, PatrolPoint};

use super::gridworker::my_grids;
use crate::{App, AppError};

/// The most points one request may carry (a phone catching up after a gap).
pub const MAX_POINTS: usize = 500;
/// The most patrols [`mine`] lists.
const LISTED: i64 = 100;

fn unknown(id: i64) -> AppError {
    AppError::new(
        ErrorCode::UnknownPatrol,
        Some("id"),
        format!("没有编号为 {id} 的本人巡查"),
        format!("you have no patrol {id}"),
    )
}

fn bad_point(zh: String, en: String) -> AppError {
    AppError::new(ErrorCode::InvalidPoint, Some("points"), zh, en)
}

/// The grid worker's patrols, newest first.
pub async fn mine(app: &App, actor: &Actor) -> Result<Vec<Patrol>, AppError> {
    my_grids(actor)?;
    Ok(app.db().patrols_of(&actor.account, LISTED).await?)
}

/// One of the grid worker's own patrols, or 404.
pub async fn get(app: &App, actor: &Actor, id: i64) -> Result<Patrol, AppError> {
    my_grids(actor)?;
    match app.db().patrol(id).await? {
        Some(p) if p.account == actor.account => Ok(p),
        _ => Err(unknown(id)),
    }
}

/// Starts a patrol, or gives the one under way.
pub async fn start(app: &App, actor: &Actor) -> Result<Patrol, AppError> {
    my_grids(actor)?;
    Ok(app.db().start_patrol(&actor.account, Utc::now()).await?)
}

/// Ends one of the grid worker's patrols (an ended one keeps its end).
pub async fn stop(app: &App, actor: &Actor, id: i64) -> Result<(), AppError> {
    get(app, actor, id).await?;
    Ok(app.db().stop_patrol(id, Utc::now()).await?)
}

/// A point as the phone sends it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SentPoint {
    /// WGS-84 degrees; both are required.
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    /// The phone's estimate, in metres.
    pub accuracy: Option<f64>,
    /// When the phone took it.
    pub at: Option<DateTime<Utc>>,
}

/// Points for a patrol under way, in the datum they are in (`None`: WGS-84).
#[derive(Debug, Clone, Default)]
pub struct Track {
    pub datum: Option<String>,
    pub points: Vec<SentPoint>,
}

/// A point as kept: the phone's own time if it is sane (not in the future), the server's
/// otherwise.
fn kept(p: &SentPoint, now: DateTime<Utc>) -> Result<(PatrolPoint, Option<f64>, DateTime<Utc>), AppError> {
    let (Some(lon), Some(lat)) = (p.lon, p.lat) else {
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
    let accuracy = p.accuracy.filter(|a| a.is_finite() && *a >= 0.0);
    let at = p.at.filter(|t| *t <= now).unwrap_or(now);
    Ok((PatrolPoint { lon, lat }, accuracy, at))
}

/// Adds points to one of the grid worker's patrols under way (WGS-84 only, 1 to
/// [`MAX_POINTS`] at a time). Gives the patrol with its new length and point count.
pub async fn add_points(app: &App, actor: &Actor, id: i64, track: Track) -> Result<Patrol, AppError> {
    my_grids(actor)?;
    let datum = track.datum.as_deref().unwrap_or("wgs84");
    if datum != "wgs84" {
        return Err(bad_point(
            format!("巡查轨迹只收 WGS-84（datum=wgs84），收到 {datum}"),
            format!("patrol tracks take WGS-84 only (datum=wgs84), not {datum}"),
        ));
    }
    let p = get(app, actor, id).await?;
    if p.ended_at.is_some() {
        return Err(AppError::new(
            ErrorCode::PatrolEnded,
            Some("id"),
            "巡查已结束",
            "the patrol has ended",
        ));
    }
    if track.points.is_empty() || track.points.len() > MAX_POINTS {
        return Err(bad_point(
            format!("一次须发送1至{MAX_POINTS}个点"),
            format!("send 1 to {MAX_POINTS} points at a time"),
        ));
    }
    let now = Utc::now();
    let points = track
        .points
        .iter()
        .map(|p| kept(p, now))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(app.db().add_patrol_points(id, &points).await?)
}
