//! Notices: staff publish and withdraw them; residents read those of their community.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Utc;
use gongzhi_app::AppError;
use gongzhi_core::ErrorCode;
use gongzhi_core::Lang;
use gongzhi_core::cogov::{BODY_MAX, NoticeDraft, TITLE_MAX};
use gongzhi_core::people::Role;
use gongzhi_core::territory::TerritoryCode;
use gongzhi_core::time::{city_time, city_today};
use gongzhi_store::cogov::Notice;
use serde::Deserialize;

use crate::pages::{Chrome, local_time};
use crate::people::session::Staff;
use crate::resident::ResidentUser;
use crate::resident::pages::MChrome;
use crate::{ApiError, AppState};
use gongzhi_app::territory::TerritoryIndex;

/// The roles that publish notices, over the community.
pub(super) const PUBLISHERS: [Role; 2] = [Role::CommunityWorker, Role::StreetStaff];

pub(super) fn may_publish(staff: &Staff, community: &str) -> bool {
    TerritoryCode::parse(community).is_ok_and(|code| PUBLISHERS.iter().any(|r| staff.actor.has_role_over(*r, &code)))
}

pub(super) fn page(page: impl Template, status: StatusCode) -> Result<Response, ApiError> {
    let html = page.render().map_err(|e| AppError::internal(&e))?;
    Ok((status, Html(html)).into_response())
}

/// A place a notice goes to: a community, or a grid of it.
#[derive(Clone)]
pub struct Place {
    pub code: String,
    pub label: String,
    pub community: String,
    pub grid: Option<String>,
}

/// Every community and grid of the index, communities first, each followed by its grids.
pub(super) fn places(index: &TerritoryIndex) -> Vec<Place> {
    let mut grids: Vec<_> = index.by_code.values().collect();
    grids.sort_by(|a, b| a.grid.code.cmp(&b.grid.code));
    let mut out: Vec<Place> = Vec::new();
    for l in grids {
        if !out.iter().any(|p| p.code == l.community.code) {
            out.push(Place {
                code: l.community.code.clone(),
                label: format!("{} {} {}", l.district.name, l.street.name, l.community.name),
                community: l.community.code.clone(),
                grid: None,
            });
        }
        out.push(Place {
            code: l.grid.code.clone(),
            label: format!("{} · {}", l.community.name, l.grid.name),
            community: l.community.code.clone(),
            grid: Some(l.grid.code.clone()),
        });
    }
    out
}

/// The name of where a notice goes, as residents and staff read it.
fn place_name(index: &TerritoryIndex, n: &Notice) -> String {
    let community = index
        .communities()
        .find(|l| l.community.code == n.community_code)
        .map_or_else(|| n.community_code.clone(), |l| l.community.name.clone());
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

async fn staff_page(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    done: String,
    error: Option<ApiError>,
    form: NoticeForm,
) -> Result<Response, ApiError> {
    let index = state.index();
    let places: Vec<Place> = places(&index)
        .into_iter()
        .filter(|p| may_publish(staff, &p.community))
        .collect();
    let rows = state
        .db()
        .latest_notices(500)
        .await?
        .iter()
        .filter(|n| may_publish(staff, &n.community_code))
        .map(|n| row(&index, n, staff.lang))
        .collect();
    page(
        StaffNotices {
            c: Chrome::for_staff(staff, "/cogov/notices"),
            places,
            rows,
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

pub(super) fn not_a_publisher() -> ApiError {
    AppError::forbidden(
        "仅社区工作者、街道工作人员可以发布和管理通知公告",
        "only community workers and street staff publish and manage notices",
    )
}

/// `GET /cogov/notices`: the notices of the communities in reach, and a form for a new one.
pub async fn staff_list(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<Done>,
) -> Result<Response, ApiError> {
    if !PUBLISHERS.iter().any(|r| staff.actor.has_role(*r)) {
        return Err(not_a_publisher());
    }
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
    if !PUBLISHERS.iter().any(|r| staff.actor.has_role(*r)) {
        return Err(not_a_publisher());
    }
    let index = state.index();
    let place = places(&index).into_iter().find(|p| p.code == form.place.trim());
    let bad = |field: &'static str, zh: String, en: String| AppError::new(ErrorCode::InvalidField, Some(field), zh, en);
    let checked = match place {
        None => Err(bad(
            "place",
            "发布范围 place 须为一个社区或网格".into(),
            "place must be a community or a grid".into(),
        )),
        Some(p) if !may_publish(&staff, &p.community) => Err(bad(
            "place",
            "您不能向该社区发布通知（发布范围 place）".into(),
            "you may not publish to that community (place)".into(),
        )),
        Some(p) => {
            let today = city_today();
            NoticeDraft::check(&form.kind, &form.title, &form.body, &form.expires, today)
                .map(|d| (p, d))
                .map_err(|e| bad(e.field, e.zh, e.en))
        }
    };
    let (place, draft) = match checked {
        Ok(ok) => ok,
        Err(e) => {
            return staff_page(
                &state,
                &staff,
                StatusCode::UNPROCESSABLE_ENTITY,
                String::new(),
                Some(e),
                form,
            )
            .await;
        }
    };
    let key = state.audit_key().ok_or_else(AppError::audit_key_missing)?;
    let id = state
        .db()
        .publish_notice(
            &place.community,
            place.grid.as_deref(),
            &draft,
            &staff.actor.account,
            Utc::now(),
            &key,
        )
        .await?;
    Ok(Redirect::to(&format!("/cogov/notices?done=published-{id}")).into_response())
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
    let Some(notice) = state.db().notice(id).await? else {
        return Err(AppError::not_found_path().into());
    };
    if !may_publish(&staff, &notice.community_code) {
        return Err(not_a_publisher());
    }
    let key = state.audit_key().ok_or_else(AppError::audit_key_missing)?;
    state
        .db()
        .withdraw_notice(id, &staff.actor.account, Utc::now(), &key)
        .await?;
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
    let current = state.db().resident_community(r.resident.id).await?.unwrap_or_default();
    let name = state
        .db()
        .resident_display_name(r.resident.id)
        .await?
        .unwrap_or_default();
    community_page(&state, &r, current, name, None, StatusCode::OK)
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
    let code = form.community.trim();
    if !state.index().communities().any(|l| l.community.code == code) {
        let e = AppError::new(
            ErrorCode::InvalidField,
            Some("community"),
            "请选择所在社区（community）",
            "choose your community (community)",
        );
        return community_page(
            &state,
            &r,
            code.to_string(),
            form.display_name.clone(),
            Some(e),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let name = form.display_name.trim();
    let name = if name.is_empty() {
        None
    } else {
        match gongzhi_core::cogov::groups::display_name(name) {
            Ok(n) => Some(n),
            Err(p) => {
                let e = AppError::new(ErrorCode::InvalidField, Some(p.field), p.zh, p.en);
                return community_page(
                    &state,
                    &r,
                    code.to_string(),
                    form.display_name.clone(),
                    Some(e),
                    StatusCode::UNPROCESSABLE_ENTITY,
                );
            }
        }
    };
    let key = state.audit_key().ok_or_else(AppError::audit_key_missing)?;
    let now = Utc::now();
    if state.db().resident_community(r.resident.id).await?.as_deref() != Some(code) {
        state
            .db()
            .set_resident_community(r.resident.id, code, now, &key)
            .await?;
    }
    if let Some(n) = name
        && state.db().resident_display_name(r.resident.id).await?.as_deref() != Some(n.as_str())
    {
        state.db().set_display_name(r.resident.id, &n, now, &key).await?;
    }
    Ok(Redirect::to("/m/notices").into_response())
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
    let Some(community) = state.db().resident_community(r.resident.id).await? else {
        return Ok(Redirect::to("/m/community").into_response());
    };
    let index = state.index();
    let now = Utc::now();
    let rows = state
        .db()
        .notices_of_community(&community)
        .await?
        .iter()
        .filter(|n| n.is_live(now))
        .map(|n| row(&index, n, r.lang))
        .collect();
    let name = index
        .communities()
        .find(|l| l.community.code == community)
        .map_or(community.clone(), |l| l.community.name.clone());
    page(
        ResidentNotices {
            c: MChrome::of(&r, "/m/notices"),
            community: name,
            rows,
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
    let community = state.db().resident_community(r.resident.id).await?;
    let notice = state.db().notice(id).await?;
    let Some(n) = notice.filter(|n| Some(&n.community_code) == community.as_ref() && n.is_live(Utc::now())) else {
        return Err(AppError::new(
            ErrorCode::NotFound,
            None,
            "通知不存在或已撤回",
            "no such notice, or it was withdrawn",
        )
        .into());
    };
    let index = state.index();
    page(
        ResidentNotice {
            c: MChrome::of(&r, "/m/notices"),
            n: row(&index, &n, r.lang),
        },
        StatusCode::OK,
    )
}
