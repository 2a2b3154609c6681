//! Community groups (社群): community staff create one for a community, a grid or a building and
//! hide posts with a reason; residents of the community join, post and reply. Every change is
//! audited.

use chrono::Utc;
use gongzhi_core::ErrorCode;
use gongzhi_core::cogov::groups::{group_name, hide_reason, post_body};
use gongzhi_core::people::Actor;
use gongzhi_store::StoreError;

use super::{Place, invalid, not_a_publisher, places, places_served, serves, staff_only};
use crate::people::residents::Resident;
use crate::{App, AppError};

pub use gongzhi_store::cogov::groups::{Group, Post};

/// What the staff's page of groups shows: where they may create one, and the groups there.
pub struct StaffGroups {
    pub places: Vec<Place>,
    pub groups: Vec<Group>,
}

/// The groups of the communities `actor` serves, and the places they may create one for.
pub async fn staff_groups(app: &App, actor: &Actor) -> Result<StaffGroups, AppError> {
    staff_only(actor)?;
    let groups = app
        .db()
        .groups(None)
        .await?
        .into_iter()
        .filter(|g| serves(actor, &g.community_code))
        .collect();
    Ok(StaffGroups {
        places: places_served(app, actor),
        groups,
    })
}

/// A new group: for a community or a grid (a building's group is named so).
pub struct CreateGroup {
    pub place: String,
    pub name: String,
}

/// Creates a group (audited). Refused: a place outside the communities `actor` serves, a bad name
/// (422 naming the field), a name the place has already (409, field `name`).
pub async fn create(app: &App, actor: &Actor, cmd: CreateGroup) -> Result<i64, AppError> {
    staff_only(actor)?;
    let place = places(&app.index())
        .into_iter()
        .find(|p| p.code == cmd.place.trim())
        .filter(|p| serves(actor, &p.community))
        .ok_or_else(|| {
            invalid(
                "place",
                "范围 place 须为您所服务的社区或网格",
                "place must be a community or grid you serve",
            )
        })?;
    let name = group_name(&cmd.name).map_err(AppError::draft)?;
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    match app
        .db()
        .create_group(&place.community, &place.code, &name, &actor.account, Utc::now(), &key)
        .await
    {
        Ok(id) => Ok(id),
        Err(StoreError::Conflict { .. }) => Err(AppError::new(
            ErrorCode::NameTaken,
            Some("name"),
            "该范围已有同名的群（群名称 name）",
            "that place has a group of that name (name)",
        )),
        Err(e) => Err(e.into()),
    }
}

/// A group of a community `actor` serves, with every post and reply (hidden ones too).
pub async fn staff_group(app: &App, actor: &Actor, id: i64) -> Result<(Group, Vec<Post>), AppError> {
    staff_only(actor)?;
    let group = app.db().group(id).await?.ok_or_else(AppError::not_found_path)?;
    if !serves(actor, &group.community_code) {
        return Err(not_a_publisher());
    }
    let posts = app.db().posts(id).await?;
    Ok((group, posts))
}

/// Hiding a post or reply, with the reason residents are not shown but staff are.
pub struct HidePost {
    pub post: i64,
    pub reason: String,
}

/// Hides a post of a group of a community `actor` serves (audited); gives the group's id.
pub async fn hide(app: &App, actor: &Actor, cmd: HidePost) -> Result<i64, AppError> {
    staff_only(actor)?;
    let post = app.db().post(cmd.post).await?.ok_or_else(AppError::not_found_path)?;
    let group = app
        .db()
        .group(post.group_id)
        .await?
        .ok_or_else(AppError::not_found_path)?;
    if !serves(actor, &group.community_code) {
        return Err(not_a_publisher());
    }
    let reason = hide_reason(&cmd.reason).map_err(AppError::draft)?;
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    app.db()
        .hide_post(cmd.post, &reason, &actor.account, Utc::now(), &key)
        .await?;
    Ok(group.id)
}

/// The groups of the resident's community with the ids of those they joined: `None` until they
/// pick a community.
pub async fn groups_of_my_community(
    app: &App,
    resident: &Resident,
) -> Result<Option<(Vec<Group>, Vec<i64>)>, AppError> {
    let Some(community) = app.db().resident_community(resident.id).await? else {
        return Ok(None);
    };
    let joined = app.db().joined_groups(resident.id).await?;
    let groups = app.db().groups(Some(&community)).await?;
    Ok(Some((groups, joined)))
}

/// A group of the resident's community, or 404 (another community's is as missing as none).
async fn group_of_resident(app: &App, resident: &Resident, id: i64) -> Result<Group, AppError> {
    let community = app.db().resident_community(resident.id).await?;
    app.db()
        .group(id)
        .await?
        .filter(|g| Some(&g.community_code) == community.as_ref())
        .ok_or_else(|| AppError::new(ErrorCode::NotFound, None, "群不存在", "no such group"))
}

/// A group as a resident of its community sees it.
pub struct ResidentGroup {
    pub group: Group,
    pub joined: bool,
    /// Every post and reply; the caller leaves out the hidden ones.
    pub posts: Vec<Post>,
    /// The name the resident shows under, if they chose one.
    pub display_name: Option<String>,
}

/// A group of the resident's community, or 404.
pub async fn resident_group(app: &App, resident: &Resident, id: i64) -> Result<ResidentGroup, AppError> {
    let group = group_of_resident(app, resident, id).await?;
    let joined = app.db().joined_groups(resident.id).await?.contains(&group.id);
    let posts = app.db().posts(group.id).await?;
    let display_name = app.db().resident_display_name(resident.id).await?;
    Ok(ResidentGroup {
        group,
        joined,
        posts,
        display_name,
    })
}

/// Joins a group of the resident's community (audited; joining twice is one membership).
pub async fn join(app: &App, resident: &Resident, id: i64) -> Result<(), AppError> {
    let group = group_of_resident(app, resident, id).await?;
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    app.db().join_group(group.id, resident.id, Utc::now(), &key).await?;
    Ok(())
}

/// A post to a group, or with `parent` a reply to one of its visible posts.
pub struct AddPost {
    pub group: i64,
    pub parent: Option<i64>,
    pub body: String,
}

/// The post replied to is not a visible post of the group (also when `parent` is no number).
pub fn unknown_parent() -> AppError {
    invalid(
        "parent",
        "回复的帖子 parent 不存在或已被隐藏",
        "the post replied to (parent) does not exist or was hidden",
    )
}

/// Posts to a group the resident joined (audited); gives the id of the thread it went to (the
/// post's, or the one replied to). Refused: a group not of the resident's community (404); not
/// joined (403); an unknown parent or a bad body (422 naming the field).
pub async fn add_post(app: &App, resident: &Resident, cmd: AddPost) -> Result<i64, AppError> {
    let group = group_of_resident(app, resident, cmd.group).await?;
    if !app.db().joined_groups(resident.id).await?.contains(&group.id) {
        return Err(AppError::forbidden(
            "请先加入本群再发言",
            "join the group before posting",
        ));
    }
    let parent = match cmd.parent {
        None => None,
        Some(id) => match app.db().post(id).await? {
            Some(top) if top.group_id == group.id && top.parent_id.is_none() && top.hidden_at.is_none() => Some(top.id),
            _ => return Err(unknown_parent()),
        },
    };
    let body = post_body(&cmd.body).map_err(AppError::draft)?;
    let key = app.audit_key().ok_or_else(AppError::audit_key_missing)?;
    let post = app
        .db()
        .add_post(group.id, parent, resident.id, &body, Utc::now(), &key)
        .await?;
    Ok(parent.unwrap_or(post))
}
