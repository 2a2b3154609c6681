//! Residents' needs (居民点单): a resident posts a need to the community they picked at
//! `/m/orders/new` and follows its state at `/m/orders`; community staff (community workers of
//! that community, street staff over it) take it through its states at `/cogov/orders`: list it
//! on the needs list or decline it with a reason, then mark it fulfilled with a note. The states
//! are `OrderState`; publishing a listed need as a task (社区发单) and its taking by a member
//! organization (单位接单) are the next issue's (the hook is in `gongzhi_core::cogov::orders`).

use crate::json::Form;
use crate::json::Query;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use gongzhi_app::cogov::orders::{self, Order, PostNeed, TakeStep};
use gongzhi_app::cogov::{PALM, community_name};
use gongzhi_core::Lang;
use gongzhi_core::cogov::orders::{DESCRIPTION_MAX, NOTE_MAX, PREFERRED_TIME_MAX};
use serde::Deserialize;

use super::notices::page;
use crate::pages::{Chrome, local_time};
use crate::people::session::Staff;
use crate::resident::ResidentUser;
use crate::resident::pages::MChrome;
use crate::{ApiError, AppState};
use gongzhi_app::people::random_token;
use gongzhi_app::territory::TerritoryIndex;

/// A need as a list shows it.
pub struct OrderRow {
    pub id: i64,
    pub community: String,
    pub resident: String,
    pub kind: String,
    pub description: String,
    pub preferred_time: String,
    pub state: &'static str,
    pub state_code: &'static str,
    pub note: String,
    pub ordered_at: String,
    pub changed: String,
    pub steps: &'static [&'static str],
}

fn order_row(index: &TerritoryIndex, o: &Order, lang: Lang) -> OrderRow {
    OrderRow {
        id: o.id,
        community: community_name(index, &o.community_code),
        resident: gongzhi_core::people::resident::resident_actor(o.resident_id),
        kind: PALM
            .kind(&o.kind)
            .map_or_else(|| o.kind.clone(), |k| k.label(lang).to_string()),
        description: o.description.clone(),
        preferred_time: o.preferred_time.clone().unwrap_or_default(),
        state: o.state.label(lang),
        state_code: o.state.as_str(),
        note: o.state_note.clone().unwrap_or_default(),
        ordered_at: local_time(o.ordered_at),
        changed: o.changed_at.map(local_time).unwrap_or_default(),
        steps: o.state.steps(),
    }
}

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    done: String,
}

// ---- the resident's side ----

#[derive(Template)]
#[template(path = "cogov/m_orders.html")]
struct ResidentOrders {
    c: MChrome,
    community: String,
    rows: Vec<OrderRow>,
    done: String,
}

/// `GET /m/orders`: my needs, newest first, with their state and the reason or note.
pub async fn resident_list(
    State(state): State<AppState>,
    r: ResidentUser,
    Query(q): Query<Done>,
) -> Result<Response, ApiError> {
    let Some((community, mine)) = orders::my_orders(&state, &r.resident).await? else {
        return Ok(Redirect::to("/m/community").into_response());
    };
    let index = state.index();
    page(
        ResidentOrders {
            c: MChrome::of(&r, "/m/orders"),
            community: community_name(&index, &community),
            rows: mine.iter().map(|o| order_row(&index, o, r.lang)).collect(),
            done: q.done,
        },
        StatusCode::OK,
    )
}

#[derive(Deserialize, Default, Clone)]
pub struct OrderForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    idempotency_key: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    preferred_time: String,
}

#[derive(Template)]
#[template(path = "cogov/m_order_new.html")]
struct NewOrderPage {
    c: MChrome,
    community: String,
    kinds: Vec<(String, String)>,
    form: OrderForm,
    error: Option<String>,
    error_field: String,
    description_max: usize,
    preferred_time_max: usize,
}

fn new_order_page(
    state: &AppState,
    r: &ResidentUser,
    community: &str,
    form: OrderForm,
    error: Option<ApiError>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let kinds = PALM
        .need_kinds
        .iter()
        .map(|k| (k.code.clone(), k.label(r.lang).to_string()))
        .collect();
    page(
        NewOrderPage {
            c: MChrome::of(r, "/m/orders"),
            community: community_name(&state.index(), community),
            kinds,
            form,
            error: error.as_ref().map(|e| e.message(r.lang).to_string()),
            error_field: error.and_then(|e| e.field).unwrap_or("").to_string(),
            description_max: DESCRIPTION_MAX,
            preferred_time_max: PREFERRED_TIME_MAX,
        },
        status,
    )
}

/// `GET /m/orders/new`: the form of a need (a fresh key: one form, one need).
pub async fn new_form(State(state): State<AppState>, r: ResidentUser) -> Result<Response, ApiError> {
    let Some(community) = gongzhi_app::cogov::community_of(&state, &r.resident).await? else {
        return Ok(Redirect::to("/m/community").into_response());
    };
    let form = OrderForm {
        idempotency_key: random_token(),
        ..OrderForm::default()
    };
    new_order_page(&state, &r, &community, form, None, StatusCode::OK)
}

/// `POST /m/orders/new`: posts the need to my community.
pub async fn post(
    State(state): State<AppState>,
    r: ResidentUser,
    Form(form): Form<OrderForm>,
) -> Result<Response, ApiError> {
    r.check_csrf(&form.csrf)?;
    let Some(community) = gongzhi_app::cogov::community_of(&state, &r.resident).await? else {
        return Ok(Redirect::to("/m/community").into_response());
    };
    let posted = match gongzhi_app::cases::idempotency_key("idempotency_key", Some(&form.idempotency_key)) {
        Ok(key) => {
            let cmd = PostNeed {
                kind: form.kind.clone(),
                description: form.description.clone(),
                preferred_time: form.preferred_time.clone(),
                idempotency_key: key,
            };
            orders::post(&state, &r.resident, cmd).await
        }
        Err(e) => Err(e),
    };
    match posted {
        Ok(_) => {
            let lang = if r.lang == Lang::En { "&lang=en" } else { "" };
            Ok(Redirect::to(&format!("/m/orders?done=posted{lang}")).into_response())
        }
        // A refused field: the form comes back as typed.
        Err(e) if e.field.is_some() => {
            let status = e.http_status();
            new_order_page(&state, &r, &community, form, Some(e), status)
        }
        Err(e) => Err(e),
    }
}

// ---- the staff's side ----

#[derive(Template)]
#[template(path = "cogov/orders.html")]
struct StaffOrders {
    c: Chrome,
    rows: Vec<OrderRow>,
    done: String,
    /// The need whose form failed, and why.
    failed: i64,
    error: Option<String>,
    error_field: String,
    note_max: usize,
}

async fn staff_page(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    done: String,
    failure: Option<(i64, ApiError)>,
) -> Result<Response, ApiError> {
    let index = state.index();
    let rows = orders::staff_orders(state, &staff.actor)
        .await?
        .iter()
        .map(|o| order_row(&index, o, staff.lang))
        .collect();
    let (failed, error) = match failure {
        Some((id, e)) => (id, Some(e)),
        None => (0, None),
    };
    page(
        StaffOrders {
            c: Chrome::for_staff(staff, "/cogov/orders"),
            rows,
            done,
            failed,
            error: error.as_ref().map(|e| e.message(staff.lang).to_string()),
            error_field: error.and_then(|e| e.field).unwrap_or("").to_string(),
            note_max: NOTE_MAX,
        },
        status,
    )
}

/// `GET /cogov/orders`: the needs of the communities in reach, newest first.
pub async fn staff_list(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<Done>,
) -> Result<Response, ApiError> {
    staff_page(&state, &staff, StatusCode::OK, q.done, None).await
}

#[derive(Deserialize)]
pub struct StepForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    step: String,
    #[serde(default)]
    text: String,
}

/// `POST /cogov/orders/{id}/step`: lists, declines (with a reason) or fulfils (with a note) a
/// need of a community in reach; another community's need is refused (403).
pub async fn step(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(form): Form<StepForm>,
) -> Result<Response, ApiError> {
    staff.check_csrf(&form.csrf)?;
    let cmd = TakeStep {
        order: id,
        step: form.step,
        text: form.text,
    };
    match orders::step(&state, &staff.actor, cmd).await {
        Ok(to) => Ok(Redirect::to(&format!("/cogov/orders?done={}-{id}", to.as_str())).into_response()),
        // A refused step (or one taken meanwhile): the list, with where the need stands now.
        Err(e) if e.field.is_some() => {
            let status = e.http_status();
            staff_page(&state, &staff, status, String::new(), Some((id, e))).await
        }
        Err(e) => Err(e),
    }
}
