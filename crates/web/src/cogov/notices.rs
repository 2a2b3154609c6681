//! Notices: staff publish and withdraw them; residents read those of their community.

use crate::json::Form;
use crate::json::Query;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Utc;
use gongzhi_app::AppError;
use gongzhi_app::cogov::notices::{self, Notice, Publish};
use gongzhi_app::cogov::{self, ChooseCommunity, Place, places};
use gongzhi_core::Lang;
use gongzhi_core::cogov::{BODY_MAX, TITLE_MAX};
use serde::Deserialize;

use crate::pages::{Chrome, local_time};
use crate::people::session::Staff;
use crate::resident::ResidentUser;
use crate::resident::pages::MChrome;
use crate::{ApiError, AppState};
use gongzhi_app::territory::TerritoryIndex;
use gongzhi_core::time::city_time;

pub(super) fn page(page: impl Template, status: StatusCode) -> Result<Response, ApiError> {
    let html = page.render().map_err(|e| AppError::internal(&e))?;
    Ok((status, Html(html)).into_response())
}

/// The name of where a notice goes, as residents and staff read it.
fn place_name(index: &TerritoryIndex, n: &Notice) -> String {
    let community = cogov::community_name(index, &n.community_code);
    match n.grid_code.as_deref().and_then(|g| index.by_code.get(g)) {
        Some(g) => format!("{community} · {}", g.grid.name),
        None => community,
    }
}

pub struct Row {
    pub id: i64,
    pub kind: &'static str,
    pub title: String,
    pub body: String,
    pub place: String,
    pub published_at: String,
    pub expires: String,
    pub by: String,
    pub live: bool,
    pub withdrawn: bool,
}

fn row(index: &TerritoryIndex, n: &Notice, lang: Lang) -> Row {
    let now = Utc::now();
    Row {
        id: n.id,
        kind: n.kind().label(lang),
        title: n.title.clone(),
        body: n.body.clone(),
        place: place_name(index, n),
        published_at: local_time(n.published_at),
        expires: n
            .expires_at
            .map(|e| city_time(e).format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        by: n.published_by.clone(),
        live: n.is_live(now),
        withdrawn: n.withdrawn_at.is_some(),
    }
}

#[derive(Template)]
#[template(path = "cogov/notices.html")]
struct StaffNotices {
    c: Chrome,
    places: Vec<Place>,
    rows: Vec<Row>,
    done: String,
    error: Option<String>,
    error_field: String,
    form: NoticeForm,
    title_max: usize,
    body_max: usize,
}

#[derive(Deserialize, Default, Clone)]
pub struct NoticeForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub expires: String,
}

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    done: String,
}

/// The staff's page of notices; with an error, the form comes back as typed.
async fn staff_page(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    done: String,
    error: Option<ApiError>,
    form: NoticeForm,
) -> Result<Response, ApiError> {
    let view = notices::staff_notices(state, &staff.actor).await?;
    let index = state.index();
    page(
        StaffNotices {
            c: Chrome::for_staff(staff, "/cogov/notices"),
            places: view.places,
            rows: view.notices.iter().map(|n| row(&index, n, staff.lang)).collect(),
            done,
            error: error.as_ref().map(|e| e.message(staff.lang).to_string()),
            error_field: error.and_then(|e| e.field).unwrap_or("").to_string(),
            form,
            title_max: TITLE_MAX,
            body_max: BODY_MAX,
        },
        status,
    )
}

/// `GET /cogov/notices`: the notices of the communities in reach, and a form for a new one.
pub async fn staff_list(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<Done>,
) -> Result<Response, ApiError> {
    let form = NoticeForm {
        kind: "notice".into(),
        ..NoticeForm::default()
    };
    staff_page(&state, &staff, StatusCode::OK, q.done, None, form).await
}

/// `POST /cogov/notices`: publishes a notice to a community or a grid.
pub async fn publish(
    State(state): State<AppState>,
    staff: Staff,
    Form(form): Form<NoticeForm>,
) -> Result<Response, ApiError> {
    staff.check_csrf(&form.csrf)?;
    let cmd = Publish {
        place: form.place.clone(),
        kind: form.kind.clone(),
        title: form.title.clone(),
        body: form.body.clone(),
        expires: form.expires.clone(),
    };
    match notices::publish(&state, &staff.actor, cmd).await {
        Ok(id) => Ok(Redirect::to(&format!("/cogov/notices?done=published-{id}")).into_response()),
        // A refused field: the form comes back as typed.
        Err(e) if e.field.is_some() => staff_page(&state, &staff, e.http_status(), String::new(), Some(e), form).await,
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// `POST /cogov/notices/{id}/withdraw`
pub async fn withdraw(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, ApiError> {
    staff.check_csrf(&form.csrf)?;
    notices::withdraw(&state, &staff.actor, id).await?;
    Ok(Redirect::to(&format!("/cogov/notices?done=withdrawn-{id}")).into_response())
}

#[derive(Template)]
#[template(path = "cogov/community.html")]
struct CommunityPage {
    c: MChrome,
    communities: Vec<Place>,
    current: String,
    display_name: String,
    error: Option<String>,
    error_field: String,
}

fn community_page(
    state: &AppState,
    r: &ResidentUser,
    current: String,
    display_name: String,
    error: Option<ApiError>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let communities = places(&state.index())
        .into_iter()
        .filter(|p| p.grid.is_none())
        .collect();
    page(
        CommunityPage {
            c: MChrome::of(r, "/m/notices"),
            communities,
            current,
            display_name,
            error: error.as_ref().map(|e| e.message(r.lang).to_string()),
            error_field: error.and_then(|e| e.field).unwrap_or("").to_string(),
        },
        status,
    )
}

/// `GET /m/community`: the resident picks their community.
pub async fn community_form(State(state): State<AppState>, r: ResidentUser) -> Result<Response, ApiError> {
    let profile = cogov::profile(&state, &r.resident).await?;
    community_page(
        &state,
        &r,
        profile.community.unwrap_or_default(),
        profile.display_name.unwrap_or_default(),
        None,
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
pub struct CommunityForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    community: String,
    #[serde(default)]
    display_name: String,
}

/// `POST /m/community`
pub async fn pick_community(
    State(state): State<AppState>,
    r: ResidentUser,
    Form(form): Form<CommunityForm>,
) -> Result<Response, ApiError> {
    r.check_csrf(&form.csrf)?;
    let cmd = ChooseCommunity {
        community: form.community.clone(),
        display_name: form.display_name.clone(),
    };
    match cogov::choose_community(&state, &r.resident, cmd).await {
        Ok(()) => Ok(Redirect::to("/m/notices").into_response()),
        Err(e) if e.field.is_some() => community_page(
            &state,
            &r,
            form.community.trim().to_string(),
            form.display_name,
            Some(e),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "cogov/m_notices.html")]
struct ResidentNotices {
    c: MChrome,
    community: String,
    rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "cogov/m_notice.html")]
struct ResidentNotice {
    c: MChrome,
    n: Row,
}

/// `GET /m/notices`: the live notices of my community, newest first.
pub async fn resident_list(State(state): State<AppState>, r: ResidentUser) -> Result<Response, ApiError> {
    let Some((community, live)) = notices::live_of_my_community(&state, &r.resident).await? else {
        return Ok(Redirect::to("/m/community").into_response());
    };
    let index = state.index();
    page(
        ResidentNotices {
            c: MChrome::of(&r, "/m/notices"),
            community: cogov::community_name(&index, &community),
            rows: live.iter().map(|n| row(&index, n, r.lang)).collect(),
        },
        StatusCode::OK,
    )
}

/// `GET /m/notices/{id}`: one live notice of my community; any other is not found.
pub async fn resident_notice(
    State(state): State<AppState>,
    r: ResidentUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let n = notices::live_notice(&state, &r.resident, id).await?;
    page(
        ResidentNotice {
            c: MChrome::of(&r, "/m/notices"),
            n: row(&state.index(), &n, r.lang),
        },
        StatusCode::OK,
    )
}
