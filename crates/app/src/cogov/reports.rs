//! A resident's own reports and the cases they follow, as they see them: the state, the steps and
//! times, never who worked on it; their photos and anonymity only on cases they reported. Another
//! resident's case is no more visible than a missing one.

use gongzhi_core::ErrorCode;
use gongzhi_core::cases::flow::CaseNumber;
use gongzhi_store::cases::StoredEvent;
use serde_json::Value;

use super::nearby::{CaseRecord, FollowedCase};
use crate::people::residents::Resident;
use crate::{App, AppError};

/// The resident's reports, newest first, and the cases they follow, with their followers.
pub struct MyReports {
    pub reported: Vec<CaseRecord>,
    pub followed: Vec<FollowedCase>,
}

/// The resident's latest 200 reports and 200 followed cases.
pub async fn my_reports(app: &App, resident: &Resident) -> Result<MyReports, AppError> {
    Ok(MyReports {
        reported: app.db().cases_reported_by(&resident.actor(), 200).await?,
        followed: app.db().cases_followed_by(resident.id, 200).await?,
    })
}

/// The resident reported no such case (also when the number is malformed).
pub fn unknown_case(number: &str) -> AppError {
    AppError::new(
        ErrorCode::UnknownCase,
        Some("number"),
        format!("没有编号为 {number} 的本人上报"),
        format!("you reported no case {number}"),
    )
}

/// A case the resident reported (`true`) or follows (`false`), or 404.
async fn case_of(app: &App, resident: &Resident, number: &CaseNumber) -> Result<(CaseRecord, bool), AppError> {
    match app.db().case_by_number(number).await? {
        Some(rec) if rec.reporter == resident.actor() => Ok((rec, true)),
        Some(rec) if app.db().follows(rec.id, resident.id).await? => Ok((rec, false)),
        _ => Err(unknown_case(&number.to_string())),
    }
}

/// A case the resident reported, or 404 (one they only follow too).
pub async fn own_case(app: &App, resident: &Resident, number: &CaseNumber) -> Result<CaseRecord, AppError> {
    match case_of(app, resident, number).await? {
        (rec, true) => Ok(rec),
        _ => Err(unknown_case(&number.to_string())),
    }
}

/// A case as the resident sees it.
pub struct MyCase {
    pub record: CaseRecord,
    /// They reported it (else they follow it).
    pub own: bool,
    /// The timeline, oldest first (for the steps shown: never who took them).
    pub events: Vec<StoredEvent>,
    /// The photos of their report (none on a case they only follow).
    pub photos: Vec<String>,
    /// They reported it anonymously.
    pub anonymous: bool,
    pub followers: i64,
    /// They follow it (a followed case always; their own if they followed it too).
    pub following: bool,
}

/// The facts kept on the report's timeline entry (photos, anonymity …).
fn report_detail(events: &[StoredEvent]) -> Value {
    let first = events.first().map(|e| e.body()).unwrap_or_default();
    first.get("detail").cloned().unwrap_or(first)
}

/// A case the resident reported or follows, or 404.
pub async fn my_case(app: &App, resident: &Resident, number: &CaseNumber) -> Result<MyCase, AppError> {
    let (record, own) = case_of(app, resident, number).await?;
    let events = app.db().case_events(record.id).await?;
    let detail = if own { report_detail(&events) } else { Value::Null };
    let photos = detail
        .get("photos")
        .and_then(|p| p.as_array())
        .map(|a| {
            a.iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let anonymous = detail.get("anonymous").and_then(|v| v.as_bool()).unwrap_or(false);
    let followers = app.db().follower_count(record.id).await?;
    let following = !own || app.db().follows(record.id, resident.id).await?;
    Ok(MyCase {
        record,
        own,
        events,
        photos,
        anonymous,
        followers,
        following,
    })
}

/// Checks that `photo` is a photo of the resident's own report `number` (404 otherwise), before
/// the caller serves it.
pub async fn own_photo(app: &App, resident: &Resident, number: &CaseNumber, photo: &str) -> Result<(), AppError> {
    let rec = own_case(app, resident, number).await?;
    let events = app.db().case_events(rec.id).await?;
    let listed = report_detail(&events)
        .get("photos")
        .and_then(|p| p.as_array())
        .is_some_and(|a| {
            a.iter().any(|v| match v.as_str() {
                Some(s) => s == photo,
                None => v.as_i64().is_some_and(|n| n.to_string() == photo),
            })
        });
    if listed {
        Ok(())
    } else {
        Err(AppError::new(
            ErrorCode::UnknownAttachment,
            Some("id"),
            format!("上报 {number} 没有照片 {photo}"),
            format!("report {number} has no photo {photo}"),
        ))
    }
}
