//! Community groups (社群): staff create one for a community, a grid or a building at
//! `/cogov/groups` and moderate its posts; residents of the community join, post and reply at
//! `/m/groups/{id}`. Residents show under the display name they chose or 居民 and a short id.

use gongzhi_app::AppError;
use gongzhi_core::ErrorCode;
use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use gongzhi_core::cogov::groups::{group_name, hide_reason, post_body, shown_name};
use gongzhi_store::StoreError;
use gongzhi_store::cogov::groups::{Group, Post};
use serde::Deserialize;

use super::notices::{PUBLISHERS, Place, may_publish, not_a_publisher, page, places};
use crate::pages::{Chrome, local_time};
use crate::people::session::Staff;
use crate::resident::ResidentUser;
use crate::resident::pages::MChrome;
use crate::{ApiError, AppState};

pub struct GroupRow {
    pub id: i64,
    pub name: String,
    pub place: String,
    pub joined: bool,
}

fn group_row(state: &AppState, g: &Group, joined: bool) -> GroupRow {
    let place = places(&state.index())
        .into_iter()
        .find(|p| p.code == g.place_code)
        .map_or_else(|| g.place_code.clone(), |p| p.label);
    GroupRow {
        id: g.id,
        name: g.name.clone(),
        place,
        joined,
    }
}

pub struct PostRow {
    pub id: i64,
    pub author: String,
    pub body: String,
    pub at: String,
    pub hidden: Option<String>,
    pub replies: Vec<PostRow>,
}

/// Posts with their replies beneath; `with_hidden` keeps hidden ones (for staff, with the
/// reason), otherwise they and their replies are left out.
fn threads(posts: &[Post], with_hidden: bool) -> Vec<PostRow> {
    let to_row = |p: &Post| PostRow {
        id: p.id,
        author: shown_name(p.resident_id, p.display_name.as_deref()),
        body: p.body.clone(),
        at: local_time(p.posted_at),
        hidden: p.hidden_at.map(|_| p.hidden_reason.clone().unwrap_or_default()),
        replies: vec![],
    };
    let visible = |p: &&Post| with_hidden || p.hidden_at.is_none();
    posts
        .iter()
        .filter(|p| p.parent_id.is_none())
        .filter(visible)
        .map(|top| {
            let mut row = to_row(top);
            row.replies = posts
                .iter()
                .filter(|p| p.parent_id == Some(top.id))
                .filter(visible)
                .map(to_row)
                .collect();
            row
        })
        .collect()
}

fn staff_only(staff: &Staff) -> Result<(), ApiError> {
    if PUBLISHERS.iter().any(|r| staff.actor.has_role(*r)) {
        Ok(())
    } else {
        Err(not_a_publisher())
    }
}

fn invalid(field: &'static str, zh: String, en: String) -> ApiError {
    AppError::new(ErrorCode::InvalidField, Some(field), zh, en)
}

#[derive(Template)]
#[template(path = "cogov/groups.html")]
struct StaffGroups {
    c: Chrome,
    places: Vec<Place>,
    rows: Vec<GroupRow>,
    error: Option<String>,
    error_field: String,
    form: GroupForm,
}

#[derive(Deserialize, Default, Clone)]
pub struct GroupForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub name: String,
}

async fn staff_page(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    error: Option<ApiError>,
    form: GroupForm,
) -> Result<Response, ApiError> {
    let places: Vec<Place> = places(&state.index())
        .into_iter()
        .filter(|p| may_publish(staff, &p.community))
        .collect();
    let rows = state
        .db()
        .groups(None)
        .await?
        .iter()
        .filter(|g| may_publish(staff, &g.community_code))
        .map(|g| group_row(state, g, false))
        .collect();
    page(
        StaffGroups {
            c: Chrome::for_staff(staff, "/cogov/groups"),
            places,
            rows,
            error: error.as_ref().map(|e| e.message(staff.lang).to_string()),
            error_field: error.and_then(|e| e.field).unwrap_or("").to_string(),
            form,
        },
        status,
    )
}

/// `GET /cogov/groups`
pub async fn staff_list(State(state): State<AppState>, staff: Staff) -> Result<Response, ApiError> {
    staff_only(&staff)?;
    staff_page(&state, &staff, StatusCode::OK, None, GroupForm::default()).await
}

/// `POST /cogov/groups`: a group for a community or a grid (a building's group is named so).
pub async fn create(
    State(state): State<AppState>,
    staff: Staff,
    Form(form): Form<GroupForm>,
) -> Result<Response, ApiError> {
    staff.check_csrf(&form.csrf)?;
    staff_only(&staff)?;
    let place = places(&state.index()).into_iter().find(|p| p.code == form.place.trim());
    let checked = match place {
        Some(p) if may_publish(&staff, &p.community) => group_name(&form.name)
            .map(|n| (p, n))
            .map_err(|e| invalid(e.field, e.zh, e.en)),
        _ => Err(invalid(
            "place",
            "范围 place 须为您所服务的社区或网格".into(),
            "place must be a community or grid you serve".into(),
        )),
    };
    let (place, name) = match checked {
        Ok(ok) => ok,
        Err(e) => return staff_page(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, Some(e), form).await,
    };
    let key = state.audit_key().ok_or_else(AppError::audit_key_missing)?;
    match state
        .db()
        .create_group(
            &place.community,
            &place.code,
            &name,
            &staff.actor.account,
            Utc::now(),
            &key,
        )
        .await
    {
        Ok(id) => Ok(Redirect::to(&format!("/cogov/groups/{id}")).into_response()),
        Err(StoreError::Conflict { .. }) => {
            let e = invalid(
                "name",
                "该范围已有同名的群（群名称 name）".into(),
                "that place has a group of that name (name)".into(),
            );
            staff_page(&state, &staff, StatusCode::CONFLICT, Some(e), form).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "cogov/group.html")]
struct StaffGroup {
    c: Chrome,
    g: GroupRow,
    posts: Vec<PostRow>,
}

/// `GET /cogov/groups/{id}`: every post and reply, hidden ones with their reason; hide forms.
pub async fn staff_group(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    staff_only(&staff)?;
    let group = state.db().group(id).await?.ok_or_else(AppError::not_found_path)?;
    if !may_publish(&staff, &group.community_code) {
        return Err(not_a_publisher());
    }
    let posts = state.db().posts(id).await?;
    page(
        StaffGroup {
            c: Chrome::for_staff(&staff, "/cogov/groups"),
            g: group_row(&state, &group, false),
            posts: threads(&posts, true),
        },
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
pub struct HideForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// `POST /cogov/posts/{id}/hide`: hides a post or reply with a reason (audited).
pub async fn hide(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(form): Form<HideForm>,
) -> Result<Response, ApiError> {
    staff.check_csrf(&form.csrf)?;
    staff_only(&staff)?;
    let post = state.db().post(id).await?.ok_or_else(AppError::not_found_path)?;
    let group = state
        .db()
        .group(post.group_id)
        .await?
        .ok_or_else(AppError::not_found_path)?;
    if !may_publish(&staff, &group.community_code) {
        return Err(not_a_publisher());
    }
    let reason = hide_reason(&form.reason).map_err(|e| invalid(e.field, e.zh, e.en))?;
    let key = state.audit_key().ok_or_else(AppError::audit_key_missing)?;
    state
        .db()
        .hide_post(id, &reason, &staff.actor.account, Utc::now(), &key)
        .await?;
    Ok(Redirect::to(&format!("/cogov/groups/{}", group.id)).into_response())
}

#[derive(Template)]
#[template(path = "cogov/m_groups.html")]
struct ResidentGroups {
    c: MChrome,
    rows: Vec<GroupRow>,
}

/// `GET /m/groups`: the groups of my community, joined ones marked.
pub async fn resident_list(State(state): State<AppState>, r: ResidentUser) -> Result<Response, ApiError> {
    let Some(community) = state.db().resident_community(r.resident.id).await? else {
        return Ok(Redirect::to("/m/community").into_response());
    };
    let joined = state.db().joined_groups(r.resident.id).await?;
    let rows = state
        .db()
        .groups(Some(&community))
        .await?
        .iter()
        .map(|g| group_row(&state, g, joined.contains(&g.id)))
        .collect();
    page(
        ResidentGroups {
            c: MChrome::of(&r, "/m/groups"),
            rows,
        },
        StatusCode::OK,
    )
}

async fn group_of_resident(state: &AppState, r: &ResidentUser, id: i64) -> Result<Group, ApiError> {
    let community = state.db().resident_community(r.resident.id).await?;
    state
        .db()
        .group(id)
        .await?
        .filter(|g| Some(&g.community_code) == community.as_ref())
        .ok_or_else(|| AppError::new(ErrorCode::NotFound, None, "群不存在", "no such group"))
}

#[derive(Template)]
#[template(path = "cogov/m_group.html")]
struct ResidentGroup {
    c: MChrome,
    g: GroupRow,
    me: String,
    posts: Vec<PostRow>,
    body: String,
    error: Option<String>,
    error_field: String,
}

async fn resident_group_page(
    state: &AppState,
    r: &ResidentUser,
    group: &Group,
    body: String,
    error: Option<ApiError>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let joined = state.db().joined_groups(r.resident.id).await?.contains(&group.id);
    let posts = state.db().posts(group.id).await?;
    let me = shown_name(
        r.resident.id,
        state.db().resident_display_name(r.resident.id).await?.as_deref(),
    );
    page(
        ResidentGroup {
            c: MChrome::of(r, "/m/groups"),
            g: group_row(state, group, joined),
            me,
            posts: threads(&posts, false),
            body,
            error: error.as_ref().map(|e| e.message(r.lang).to_string()),
            error_field: error.and_then(|e| e.field).unwrap_or("").to_string(),
        },
        status,
    )
}

/// `GET /m/groups/{id}`: the visible posts and replies; forms to post and reply once joined.
pub async fn resident_group(
    State(state): State<AppState>,
    r: ResidentUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let group = group_of_resident(&state, &r, id).await?;
    resident_group_page(&state, &r, &group, String::new(), None, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// `POST /m/groups/{id}/join`
pub async fn join(
    State(state): State<AppState>,
    r: ResidentUser,
    Path(id): Path<i64>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, ApiError> {
    r.check_csrf(&form.csrf)?;
    let group = group_of_resident(&state, &r, id).await?;
    let key = state.audit_key().ok_or_else(AppError::audit_key_missing)?;
    state.db().join_group(group.id, r.resident.id, Utc::now(), &key).await?;
    Ok(Redirect::to(&format!("/m/groups/{id}")).into_response())
}

/// `POST /m/groups/{id}/posts`: a post, or with `parent` a reply to a visible post.
pub async fn add_post(
    State(state): State<AppState>,
    r: ResidentUser,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    r.check_csrf(form.get("csrf").map_or("", String::as_str))?;
    let group = group_of_resident(&state, &r, id).await?;
    let typed = form.get("body").cloned().unwrap_or_default();
    if !state.db().joined_groups(r.resident.id).await?.contains(&group.id) {
        let e = AppError::forbidden("请先加入本群再发言", "join the group before posting");
        return resident_group_page(&state, &r, &group, typed, Some(e), StatusCode::FORBIDDEN).await;
    }
    let parent = match form.get("parent").map(|p| p.trim()).filter(|p| !p.is_empty()) {
        None => None,
        Some(p) => {
            let top = match p.parse::<i64>() {
                Ok(pid) => state.db().post(pid).await?,
                Err(_) => None,
            };
            match top.filter(|t| t.group_id == group.id && t.parent_id.is_none() && t.hidden_at.is_none()) {
                Some(t) => Some(t.id),
                None => {
                    let e = invalid(
                        "parent",
                        "回复的帖子 parent 不存在或已被隐藏".into(),
                        "the post replied to (parent) does not exist or was hidden".into(),
                    );
                    return resident_group_page(&state, &r, &group, typed, Some(e), StatusCode::UNPROCESSABLE_ENTITY)
                        .await;
                }
            }
        }
    };
    let body = match post_body(&typed) {
        Ok(b) => b,
        Err(e) => {
            let e = invalid(e.field, e.zh, e.en);
            return resident_group_page(&state, &r, &group, typed, Some(e), StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let key = state.audit_key().ok_or_else(AppError::audit_key_missing)?;
    let post = state
        .db()
        .add_post(group.id, parent, r.resident.id, &body, Utc::now(), &key)
        .await?;
    Ok(Redirect::to(&format!("/m/groups/{id}#post-{}", parent.unwrap_or(post))).into_response())
}
