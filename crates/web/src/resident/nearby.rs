//! "Me too" (我也遇到/关注): a resident sees the public cases near them and follows those they
//! meet too; followed cases show in my reports. Near is within the city's radius
//! (`data/qitaihe/palm-community.toml`, 500 m) of the browser's location (WGS-84, as `/m/report`
//! takes it), or, without a location, in the community the resident picked.
//!
//! Public cases are the open ones (outcome `open`) of every channel, the same cases Open311's
//! public `GET requests` lists: their matter, a short description, the state, the time and the
//! number of followers, never the reporter, their contact, photos or anonymity.

use crate::json::Form;
use crate::json::Query;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use gongzhi_app::AppError;
use gongzhi_app::cogov::nearby::{self, FollowedCase};
use gongzhi_app::cogov::{PALM, community_name};
use gongzhi_core::ErrorCode;
use gongzhi_core::Lang;
use gongzhi_core::cases::flow::CaseNumber;
use serde::Deserialize;

use super::ResidentUser;
use super::pages::{MChrome, render, row};
use crate::{ApiError, AppState};

/// One public case as the nearby list shows it.
pub struct NearbyRow {
    pub number: String,
    pub matter: String,
    pub state: &'static str,
    pub reported_at: String,
    pub summary: String,
    pub followers: i64,
    pub distance: Option<String>,
    pub following: bool,
}

/// The first characters of a description.
fn summary(text: &str) -> String {
    const MAX: usize = 60;
    let mut s: String = text.chars().take(MAX).collect();
    if text.chars().count() > MAX {
        s.push('…');
    }
    s
}

fn nearby_row(state: &AppState, c: &FollowedCase, distance: Option<f64>, following: bool, lang: Lang) -> NearbyRow {
    let r = row(&c.record, state, lang);
    NearbyRow {
        number: r.number,
        matter: r.matter,
        state: r.state,
        reported_at: r.reported_at,
        summary: summary(&c.record.description),
        followers: c.followers,
        distance: distance.map(|d| format!("{} m", d.round())),
        following,
    }
}

#[derive(Template)]
#[template(path = "resident/nearby.html")]
struct NearbyPage {
    c: MChrome,
    rows: Vec<NearbyRow>,
    /// The location the list is around (`lon`, `lat`), or empty.
    lon: String,
    lat: String,
    radius: f64,
    /// The community the list is of, when there is no location.
    community: String,
    /// The page's own address, where the follow forms come back to.
    back: String,
    error: Option<String>,
    error_field: String,
}

#[derive(Deserialize, Default)]
pub struct NearbyQuery {
    #[serde(default)]
    lon: String,
    #[serde(default)]
    lat: String,
}

fn coordinate(text: &str, field: &'static str, max: f64) -> Result<f64, ApiError> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && v.abs() <= max)
        .ok_or_else(|| {
            AppError::new(
                ErrorCode::InvalidField,
                Some(field),
                format!("位置 {field} 须为 WGS-84 经纬度（度）"),
                format!("{field} must be a WGS-84 coordinate in degrees"),
            )
        })
}

/// `GET /m/nearby[?lon=&lat=]`: the open cases near me, nearest first; without a location those
/// of my community, newest first.
pub async fn nearby(
    State(state): State<AppState>,
    r: ResidentUser,
    Query(q): Query<NearbyQuery>,
) -> Result<Response, ApiError> {
    let mut page = NearbyPage {
        c: MChrome::of(&r, "/m/nearby"),
        rows: vec![],
        lon: String::new(),
        lat: String::new(),
        radius: PALM.nearby_radius_m,
        community: String::new(),
        back: "/m/nearby".into(),
        error: None,
        error_field: String::new(),
    };
    let point = if !q.lon.is_empty() || !q.lat.is_empty() {
        let point = coordinate(&q.lon, "lon", 180.0).and_then(|lon| Ok((lon, coordinate(&q.lat, "lat", 90.0)?)));
        match point {
            Ok(p) => Some(p),
            Err(e) => {
                page.error = Some(e.message(r.lang).to_string());
                page.error_field = e.field.unwrap_or("").to_string();
                return render(page, e.http_status());
            }
        }
    } else {
        None
    };
    let found = nearby::nearby(&state, &r.resident, point).await?;
    page.rows = found
        .cases
        .iter()
        .map(|(c, d)| nearby_row(&state, c, *d, found.followed.contains(&c.record.id), r.lang))
        .collect();
    if let Some((lon, lat)) = point {
        page.lon = format!("{lon:.6}");
        page.lat = format!("{lat:.6}");
        page.back = format!("/m/nearby?lon={}&lat={}", page.lon, page.lat);
    } else if let Some(code) = found.community {
        page.community = community_name(&state.index(), &code);
    }
    render(page, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct FollowForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    back: String,
}

/// Only my nearby list or my reports may follow a follow.
fn safe_back(back: &str, number: &str) -> String {
    let ok = (back.starts_with("/m/nearby") || back.starts_with("/m/reports"))
        && !back.contains("//")
        && !back.contains('\\');
    if ok {
        back.to_string()
    } else {
        format!("/m/reports/{number}")
    }
}

/// `POST /m/nearby/{number}/follow`: I meet it too. Only a public (open) case may be followed;
/// following twice is one follow.
pub async fn follow(
    State(state): State<AppState>,
    r: ResidentUser,
    Path(number): Path<String>,
    Form(form): Form<FollowForm>,
) -> Result<Response, ApiError> {
    r.check_csrf(&form.csrf)?;
    let n = CaseNumber::parse(&number).map_err(|_| nearby::no_public_case(&number))?;
    nearby::follow(&state, &r.resident, &n).await?;
    Ok(Redirect::to(&safe_back(&form.back, &number)).into_response())
}

/// `POST /m/nearby/{number}/unfollow`: I stop following it (whatever its state).
pub async fn unfollow(
    State(state): State<AppState>,
    r: ResidentUser,
    Path(number): Path<String>,
    Form(form): Form<FollowForm>,
) -> Result<Response, ApiError> {
    r.check_csrf(&form.csrf)?;
    let n = CaseNumber::parse(&number).map_err(|_| nearby::no_public_case(&number))?;
    let reported = nearby::unfollow(&state, &r.resident, &n).await?;
    let back = safe_back(&form.back, &number);
    // My page of a case I no longer follow is gone: back to my reports.
    let back = if back.starts_with(&format!("/m/reports/{number}")) && !reported {
        "/m/reports".to_string()
    } else {
        back
    };
    Ok(Redirect::to(&back).into_response())
}
