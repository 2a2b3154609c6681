//! "Me too" (我也遇到/关注): a resident sees the public cases near them and follows those they meet
//! too. Near is within the city's radius ([`PALM`]) of a point (WGS-84), or, without one, in the
//! community the resident picked. Public cases are the open ones of every channel; what of them a
//! resident may see is the caller's to keep to (never the reporter, their contact or photos).

use chrono::Utc;
use gongzhi_core::ErrorCode;
use gongzhi_core::cases::flow::CaseNumber;
use gongzhi_core::cases::rules::distance_m;

use super::PALM;
use crate::people::residents::Resident;
use crate::{App, AppError};

pub use gongzhi_store::cases::CaseRecord;
pub use gongzhi_store::cases::followers::FollowedCase;

/// At most this many cases a list.
const LIMIT: usize = 50;

/// Public cases near a resident.
pub struct Nearby {
    /// Each case with its distance from the point, nearest first; without a point, the cases of
    /// the resident's community, newest first, without a distance.
    pub cases: Vec<(FollowedCase, Option<f64>)>,
    /// The ids of the cases the resident follows.
    pub followed: Vec<i64>,
    /// The community listed when there is no point (`None` also when the resident picked none).
    pub community: Option<String>,
}

/// The open cases within the radius of `point` (lon, lat, WGS-84), or without a point those of
/// the resident's community.
pub async fn nearby(app: &App, resident: &Resident, point: Option<(f64, f64)>) -> Result<Nearby, AppError> {
    let followed = app
        .db()
        .cases_followed_by(resident.id, 500)
        .await?
        .iter()
        .map(|c| c.record.id)
        .collect();
    let radius = PALM.nearby_radius_m;
    if let Some((lon, lat)) = point {
        let dlat = radius / 111_320.0;
        let dlon = radius / (111_320.0 * lat.to_radians().cos().max(0.01));
        let found = app
            .db()
            .public_cases_in_box((lon - dlon, lat - dlat, lon + dlon, lat + dlat), 500)
            .await?;
        let mut near: Vec<(FollowedCase, Option<f64>)> = found
            .into_iter()
            .filter_map(|c| {
                let d = distance_m((lon, lat), (c.record.location.lon?, c.record.location.lat?));
                (d <= radius).then_some((c, Some(d)))
            })
            .collect();
        near.sort_by(|a, b| a.1.unwrap_or(0.0).total_cmp(&b.1.unwrap_or(0.0)));
        near.truncate(LIMIT);
        return Ok(Nearby {
            cases: near,
            followed,
            community: None,
        });
    }
    let Some(community) = app.db().resident_community(resident.id).await? else {
        return Ok(Nearby {
            cases: vec![],
            followed,
            community: None,
        });
    };
    let cases = app
        .db()
        .public_cases_of_community(&community, LIMIT as i64)
        .await?
        .into_iter()
        .map(|c| (c, None))
        .collect();
    Ok(Nearby {
        cases,
        followed,
        community: Some(community),
    })
}

/// No public case has that number (also when the number is malformed).
pub fn no_public_case(number: &str) -> AppError {
    AppError::new(
        ErrorCode::UnknownCase,
        Some("number"),
        format!("没有编号为 {number} 的公开案件"),
        format!("no public case {number}"),
    )
}

async fn case_of(app: &App, number: &CaseNumber) -> Result<CaseRecord, AppError> {
    app.db()
        .case_by_number(number)
        .await?
        .ok_or_else(|| no_public_case(&number.to_string()))
}

/// The resident meets the case too: only a public (open) case may be followed; following twice
/// is one follow (audited).
pub async fn follow(app: &App, resident: &Resident, number: &CaseNumber) -> Result<(), AppError> {
    let case = case_of(app, number).await?;
    if !case.flow.state.is_open() {
        return Err(no_public_case(&number.to_string()));
    }
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    app.db().follow_case(&case, resident.id, Utc::now(), &key).await?;
    Ok(())
}

/// The resident stops following the case, whatever its state (audited). Gives whether they
/// reported it (their page of it stays).
pub async fn unfollow(app: &App, resident: &Resident, number: &CaseNumber) -> Result<bool, AppError> {
    let case = case_of(app, number).await?;
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    app.db().unfollow_case(&case, resident.id, Utc::now(), &key).await?;
    Ok(case.reporter == resident.actor())
}
