//! Notices and policy publicity (通知公告/政策宣传): community staff publish one to a community they
//! serve or one of its grids and withdraw it; residents read the live notices of the community
//! they picked.

use chrono::Utc;
use gongzhi_core::ErrorCode;
use gongzhi_core::cogov::NoticeDraft;
use gongzhi_core::people::Actor;

use super::{Place, invalid, not_a_publisher, places, places_served, serves, staff_only};
use crate::people::residents::Resident;
use crate::{App, AppError};

pub use gongzhi_store::cogov::Notice;

/// What the staff's page of notices shows: where they may publish, and the latest notices there.
pub struct StaffNotices {
    pub places: Vec<Place>,
    pub notices: Vec<Notice>,
}

/// The notices of the communities `actor` serves (the latest 500), and where they may publish.
pub async fn staff_notices(app: &App, actor: &Actor) -> Result<StaffNotices, AppError> {
    staff_only(actor)?;
    let notices = app
        .db()
        .latest_notices(500)
        .await?
        .into_iter()
        .filter(|n| serves(actor, &n.community_code))
        .collect();
    Ok(StaffNotices {
        places: places_served(app, actor),
        notices,
    })
}

/// A notice as typed: where it goes (a community or a grid code), its kind, title, body and the
/// last day it shows (optional).
pub struct Publish {
    pub place: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub expires: String,
}

/// Publishes a notice (audited). Refused: not community staff (403); a place that is no community
/// or grid, or of a community `actor` does not serve, or a bad draft (422 naming the field).
pub async fn publish(app: &App, actor: &Actor, cmd: Publish) -> Result<i64, AppError> {
    staff_only(actor)?;
    let place = match places(&app.index()).into_iter().find(|p| p.code == cmd.place.trim()) {
        None => {
            return Err(invalid(
                "place",
                "发布范围 place 须为一个社区或网格",
                "place must be a community or a grid",
            ));
        }
        Some(p) if !serves(actor, &p.community) => {
            return Err(invalid(
                "place",
                "您不能向该社区发布通知（发布范围 place）",
                "you may not publish to that community (place)",
            ));
        }
        Some(p) => p,
    };
    let draft =
        NoticeDraft::check(&cmd.kind, &cmd.title, &cmd.body, &cmd.expires, app.today()).map_err(AppError::draft)?;
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    let id = app
        .db()
        .publish_notice(
            &place.community,
            place.grid.as_deref(),
            &draft,
            &actor.account,
            Utc::now(),
            &key,
        )
        .await?;
    Ok(id)
}

/// Withdraws a notice of a community `actor` serves (audited).
pub async fn withdraw(app: &App, actor: &Actor, id: i64) -> Result<(), AppError> {
    let notice = app.db().notice(id).await?.ok_or_else(AppError::not_found_path)?;
    if !serves(actor, &notice.community_code) {
        return Err(not_a_publisher());
    }
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    app.db().withdraw_notice(id, &actor.account, Utc::now(), &key).await?;
    Ok(())
}

/// The live notices of the resident's community, newest first: `None` until they pick one.
pub async fn live_of_my_community(app: &App, resident: &Resident) -> Result<Option<(String, Vec<Notice>)>, AppError> {
    let Some(community) = app.db().resident_community(resident.id).await? else {
        return Ok(None);
    };
    let now = Utc::now();
    let notices = app
        .db()
        .notices_of_community(&community)
        .await?
        .into_iter()
        .filter(|n| n.is_live(now))
        .collect();
    Ok(Some((community, notices)))
}

/// One live notice of the resident's community; any other (withdrawn, expired, elsewhere) is not
/// found.
pub async fn live_notice(app: &App, resident: &Resident, id: i64) -> Result<Notice, AppError> {
    let community = app.db().resident_community(resident.id).await?;
    let notice = app.db().notice(id).await?;
    notice
        .filter(|n| Some(&n.community_code) == community.as_ref() && n.is_live(Utc::now()))
        .ok_or_else(|| {
            AppError::new(
                ErrorCode::NotFound,
                None,
                "通知不存在或已撤回",
                "no such notice, or it was withdrawn",
            )
        })
}
