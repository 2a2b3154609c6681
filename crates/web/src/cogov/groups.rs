//! Community groups (社群): staff create one for a community, a grid or a building at
//! `/cogov/groups` and moderate its posts; residents of the community join, post and reply at
//! `/m/groups/{id}`. Residents show under the display name they chose or 居民 and a short id.

use std::collections::HashMap;

use crate::json::Form;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use gongzhi_app::cogov::groups::{self, AddPost, CreateGroup, Group, HidePost, Post, ResidentGroup};
use gongzhi_app::cogov::{Place, places};
use gongzhi_core::ErrorCode;
use gongzhi_core::cogov::groups::shown_name;
use serde::Deserialize;

use super::notices::page;
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
    let view = groups::staff_groups(state, &staff.actor).await?;
    page(
        StaffGroups {
            c: Chrome::for_staff(staff, "/cogov/groups"),
            places: view.places,
            rows: view.groups.iter().map(|g| group_row(state, g, false)).collect(),
            error: error.as_ref().map(|e| e.message(staff.lang).to_string()),
            error_field: error.and_then(|e| e.field).unwrap_or("").to_string(),
            form,
        },
        status,
    )
}

/// `GET /cogov/groups`
pub async fn staff_list(State(state): State<AppState>, staff: Staff) -> Result<Response, ApiError> {
    staff_page(&state, &staff, StatusCode::OK, None, GroupForm::default()).await
}

/// `POST /cogov/groups`: a group for a community or a grid (a building's group is named so).
pub async fn create(
    State(state): State<AppState>,
    staff: Staff,
    Form(form): Form<GroupForm>,
) -> Result<Response, ApiError> {
    staff.check_csrf(&form.csrf)?;
    let cmd = CreateGroup {
        place: form.place.clone(),
        name: form.name.clone(),
    };
    match groups::create(&state, &staff.actor, cmd).await {
        Ok(id) => Ok(Redirect::to(&format!("/cogov/groups/{id}")).into_response()),
        // A refused field (or a name taken): the form comes back as typed.
        Err(e) if e.field.is_some() => staff_page(&state, &staff, e.http_status(), Some(e), form).await,
        Err(e) => Err(e),
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
    let (group, posts) = groups::staff_group(&state, &staff.actor, id).await?;
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
    let cmd = HidePost {
        post: id,
        reason: form.reason,
    };
    let group = groups::hide(&state, &staff.actor, cmd).await?;
    Ok(Redirect::to(&format!("/cogov/groups/{group}")).into_response())
}

#[derive(Template)]
#[template(path = "cogov/m_groups.html")]
struct ResidentGroups {
    c: MChrome,
    rows: Vec<GroupRow>,
}

/// `GET /m/groups`: the groups of my community, joined ones marked.
pub async fn resident_list(State(state): State<AppState>, r: ResidentUser) -> Result<Response, ApiError> {
    let Some((all, joined)) = groups::groups_of_my_community(&state, &r.resident).await? else {
        return Ok(Redirect::to("/m/community").into_response());
    };
    let rows = all
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

#[derive(Template)]
#[template(path = "cogov/m_group.html")]
struct ResidentGroupPage {
    c: MChrome,
    g: GroupRow,
    me: String,
    posts: Vec<PostRow>,
    body: String,
    error: Option<String>,
    error_field: String,
}

fn resident_group_page(
    state: &AppState,
    r: &ResidentUser,
    view: ResidentGroup,
    body: String,
    error: Option<ApiError>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    page(
        ResidentGroupPage {
            c: MChrome::of(r, "/m/groups"),
            g: group_row(state, &view.group, view.joined),
            me: shown_name(r.resident.id, view.display_name.as_deref()),
            posts: threads(&view.posts, false),
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
    let view = groups::resident_group(&state, &r.resident, id).await?;
    resident_group_page(&state, &r, view, String::new(), None, StatusCode::OK)
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
    groups::join(&state, &r.resident, id).await?;
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
    let typed = form.get("body").cloned().unwrap_or_default();
    let parent = match form.get("parent").map(|p| p.trim()).filter(|p| !p.is_empty()) {
        None => Ok(None),
        Some(p) => p.parse::<i64>().map(Some).map_err(|_| groups::unknown_parent()),
    };
    let posted = match parent {
        Ok(parent) => {
            let cmd = AddPost {
                group: id,
                parent,
                body: typed.clone(),
            };
            groups::add_post(&state, &r.resident, cmd).await
        }
        Err(e) => Err(e),
    };
    match posted {
        Ok(thread) => Ok(Redirect::to(&format!("/m/groups/{id}#post-{thread}")).into_response()),
        // Refused in a group of mine (not joined, a bad reply or body): the page with what I typed.
        Err(e) if e.is_client_error() && e.code != ErrorCode::NotFound => {
            let status = e.http_status();
            let view = groups::resident_group(&state, &r.resident, id).await?;
            resident_group_page(&state, &r, view, typed, Some(e), status)
        }
        Err(e) => Err(e),
    }
}
