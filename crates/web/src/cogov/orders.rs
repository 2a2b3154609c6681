//! Residents' needs (居民点单): a resident posts a need to the community they picked at
//! `/m/orders/new` and follows each step at `/m/orders` (rating the taker once certified);
//! community staff (community workers of that community, street staff over it) take it through
//! its states at `/cogov/orders`: list it on the needs list or decline it with a reason, then
//! fulfil it with a note or publish it to the member organizations (社区发单) with a date to
//! deliver by. A member organization's liaison takes it at `/cogov/offers` (单位接单), delivers it
//! on its case's page (report back), and may rate back; the community certifies it on the case's
//! page (check, close). The JSON API of the same steps is at the end of this file.

use crate::json::Form;
use crate::json::Query;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;

use axum::Json;
use gongzhi_app::cogov::orders::{self, Order, PostNeed, Publish, TakeStep};
use gongzhi_app::cogov::{PALM, community_name};
use gongzhi_core::Lang;
use gongzhi_core::cases::flow::Satisfaction;
use gongzhi_core::cogov::orders::OrderState;
use gongzhi_core::cogov::orders::{DESCRIPTION_MAX, NOTE_MAX, PREFERRED_TIME_MAX};
use serde::Deserialize;
use serde_json::{Value, json};

use super::notices::page;
use crate::pages::{Chrome, local_time};
use crate::people::Authenticated;
use crate::people::session::Staff;
use crate::resident::ResidentUser;
use crate::resident::pages::MChrome;
use crate::{ApiError, AppState, ReqLang};
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
    /// Once published: its case (0 before), the date to deliver by, the taker's name.
    pub case_id: i64,
    pub due: String,
    pub taker: String,
    /// The resident's rating of the taker and the taker's rating back, as labels.
    pub rating: String,
    pub rating_comment: String,
    pub taker_rating: String,
    pub taker_comment: String,
    /// The steps of order → publish → take with whether each is reached (empty for a need
    /// declined or done by the community).
    pub journey: Vec<(&'static str, &'static str, bool)>,
}

fn rating_label(code: Option<&str>, lang: Lang) -> String {
    code.and_then(Satisfaction::parse)
        .map_or_else(String::new, |s| s.label(lang).to_string())
}

fn journey(state: OrderState, lang: Lang) -> Vec<(&'static str, &'static str, bool)> {
    let Some(at) = OrderState::JOURNEY.iter().position(|s| *s == state) else {
        return vec![];
    };
    OrderState::JOURNEY
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), s.label(lang), i <= at))
        .collect()
}

fn order_row(index: &TerritoryIndex, o: &Order, takers: &HashMap<i64, String>, lang: Lang) -> OrderRow {
    OrderRow {
        case_id: o.case_id.unwrap_or(0),
        due: o.due.map(|d| d.to_string()).unwrap_or_default(),
        taker: o
            .taker_org_id
            .map(|t| takers.get(&t).cloned().unwrap_or_else(|| t.to_string()))
            .unwrap_or_default(),
        rating: rating_label(o.rating.as_deref(), lang),
        rating_comment: o.rating_comment.clone().unwrap_or_default(),
        taker_rating: rating_label(o.taker_rating.as_deref(), lang),
        taker_comment: o.taker_comment.clone().unwrap_or_default(),
        journey: journey(o.state, lang),
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
    failed: i64,
    error: Option<String>,
    error_field: String,
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
    resident_page(&state, &r, &community, &mine, q.done, None, StatusCode::OK).await
}

async fn resident_page(
    state: &AppState,
    r: &ResidentUser,
    community: &str,
    mine: &[Order],
    done: String,
    failure: Option<(i64, ApiError)>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let index = state.index();
    let takers = orders::taker_names(state, mine).await?;
    let (failed, error) = match failure {
        Some((id, e)) => (id, Some(e)),
        None => (0, None),
    };
    page(
        ResidentOrders {
            c: MChrome::of(r, "/m/orders"),
            community: community_name(&index, community),
            rows: mine.iter().map(|o| order_row(&index, o, &takers, r.lang)).collect(),
            done,
            failed,
            error: error.as_ref().map(|e| e.message(r.lang).to_string()),
            error_field: error.and_then(|e| e.field).unwrap_or("").to_string(),
        },
        status,
    )
}

#[derive(Deserialize, Default)]
pub struct RateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    rating: String,
    #[serde(default)]
    comment: String,
}

/// `POST /m/orders/{id}/rate`: the resident confirms a certified need and rates the taker (the
/// follow-up of its case).
pub async fn rate(
    State(state): State<AppState>,
    r: ResidentUser,
    Path(id): Path<i64>,
    Form(form): Form<RateForm>,
) -> Result<Response, ApiError> {
    r.check_csrf(&form.csrf)?;
    match orders::rate(&state, &r.resident, id, &form.rating, &form.comment).await {
        Ok(()) => {
            let lang = if r.lang == Lang::En { "&lang=en" } else { "" };
            Ok(Redirect::to(&format!("/m/orders?done=rated{lang}")).into_response())
        }
        Err(e) if e.field.is_some() => {
            let Some((community, mine)) = orders::my_orders(&state, &r.resident).await? else {
                return Ok(Redirect::to("/m/community").into_response());
            };
            let status = e.http_status();
            resident_page(&state, &r, &community, &mine, String::new(), Some((id, e)), status).await
        }
        Err(e) => Err(e),
    }
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
    /// The date a publish form proposes to deliver by (a week from today).
    default_due: String,
}

async fn staff_page(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    done: String,
    failure: Option<(i64, ApiError)>,
) -> Result<Response, ApiError> {
    let index = state.index();
    let served = orders::staff_orders(state, &staff.actor).await?;
    let takers = orders::taker_names(state, &served).await?;
    let rows = served
        .iter()
        .map(|o| order_row(&index, o, &takers, staff.lang))
        .collect();
    let tomorrow = gongzhi_core::time::city_time(chrono::Utc::now()).date_naive() + chrono::Duration::days(7);
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
            default_due: tomorrow.to_string(),
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
    #[serde(default)]
    due: String,
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
        due: form.due,
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

// ---- the member organization's side (单位接单) ----

/// A need offered to or taken by a member organization, as its liaison reads it (no resident's
/// identity: the community certifies and the resident rates).
pub struct OfferRow {
    pub id: i64,
    pub community: String,
    pub kind: String,
    pub description: String,
    pub preferred_time: String,
    pub due: String,
    pub state: &'static str,
    pub state_code: &'static str,
    pub case_id: i64,
    pub taken_at: String,
    pub rating: String,
    pub taker_rating: String,
}

fn offer_row(index: &TerritoryIndex, o: &Order, lang: Lang) -> OfferRow {
    OfferRow {
        id: o.id,
        community: community_name(index, &o.community_code),
        kind: PALM
            .kind(&o.kind)
            .map_or_else(|| o.kind.clone(), |k| k.label(lang).to_string()),
        description: o.description.clone(),
        preferred_time: o.preferred_time.clone().unwrap_or_default(),
        due: o.due.map(|d| d.to_string()).unwrap_or_default(),
        state: o.state.label(lang),
        state_code: o.state.as_str(),
        case_id: o.case_id.unwrap_or(0),
        taken_at: o.taken_at.map(local_time).unwrap_or_default(),
        rating: rating_label(o.rating.as_deref(), lang),
        taker_rating: rating_label(o.taker_rating.as_deref(), lang),
    }
}

#[derive(Template)]
#[template(path = "cogov/offers.html")]
struct OffersPage {
    c: Chrome,
    organization: String,
    offered: Vec<OfferRow>,
    taken: Vec<OfferRow>,
    done: String,
    failed: i64,
    error: Option<String>,
    error_field: String,
}

async fn offers_page(
    state: &AppState,
    staff: &Staff,
    done: String,
    failure: Option<(i64, ApiError)>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let o = orders::offers(state, &staff.actor).await?;
    let index = state.index();
    let (failed, error) = match failure {
        Some((id, e)) => (id, Some(e)),
        None => (0, None),
    };
    page(
        OffersPage {
            c: Chrome::for_staff(staff, "/cogov/offers"),
            organization: o.organization.name.clone(),
            offered: o.offered.iter().map(|x| offer_row(&index, x, staff.lang)).collect(),
            taken: o.taken.iter().map(|x| offer_row(&index, x, staff.lang)).collect(),
            done,
            failed,
            error: error.as_ref().map(|e| e.message(staff.lang).to_string()),
            error_field: error.and_then(|e| e.field).unwrap_or("").to_string(),
        },
        status,
    )
}

/// `GET /cogov/offers`: the needs offered to the liaison's organization and those it took.
pub async fn offers(State(state): State<AppState>, staff: Staff, Query(q): Query<Done>) -> Result<Response, ApiError> {
    offers_page(&state, &staff, q.done, None, StatusCode::OK).await
}

#[derive(Deserialize, Default)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /cogov/offers/{id}/take`: takes a need for the liaison's organization; on to its case.
pub async fn take(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, ApiError> {
    staff.check_csrf(&form.csrf)?;
    match orders::take(&state, &staff.actor, id).await {
        Ok(_) => Ok(Redirect::to(&format!("/cogov/offers?done=taken-{id}")).into_response()),
        Err(e) if e.field.is_some() => {
            let status = e.http_status();
            offers_page(&state, &staff, String::new(), Some((id, e)), status).await
        }
        Err(e) => Err(e),
    }
}

/// `POST /cogov/offers/{id}/rate_back`: the taker rates back a need it delivered (双向评议).
pub async fn rate_back(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(form): Form<RateForm>,
) -> Result<Response, ApiError> {
    staff.check_csrf(&form.csrf)?;
    match orders::rate_back(&state, &staff.actor, id, &form.rating, &form.comment).await {
        Ok(()) => Ok(Redirect::to(&format!("/cogov/offers?done=rated-{id}")).into_response()),
        Err(e) if e.field.is_some() => {
            let status = e.http_status();
            offers_page(&state, &staff, String::new(), Some((id, e)), status).await
        }
        Err(e) => Err(e),
    }
}

// ---- the JSON API ----

fn order_json(o: &Order, takers: &HashMap<i64, String>, lang: Lang) -> Value {
    json!({
        "id": o.id,
        "community": o.community_code,
        "kind": o.kind,
        "description": o.description,
        "preferred_time": o.preferred_time,
        "state": o.state.as_str(),
        "state_label": o.state.label(lang),
        "note": o.state_note,
        "ordered_at": crate::json::local(o.ordered_at),
        "case": o.case_id,
        "due": o.due.map(|d| d.to_string()),
        "taker": o.taker_org_id.map(|t| json!({"id": t, "name": takers.get(&t)})),
        "taken_at": o.taken_at.map(crate::json::local),
        "rating": o.rating,
        "rating_comment": o.rating_comment,
        "taker_rating": o.taker_rating,
        "taker_comment": o.taker_comment,
    })
}

#[derive(Deserialize, Default)]
pub struct PublishBody {
    due: Option<String>,
}

/// `POST /api/v1/cogov/orders/{id}/publish`: publishes a listed need (`due`: the date to deliver
/// by); answers the need with its case.
pub async fn api_publish(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ReqLang(lang): ReqLang,
    Path(id): Path<i64>,
    crate::json::JsonBody(raw): crate::json::JsonBody,
) -> Result<Json<Value>, ApiError> {
    let b: PublishBody = crate::json::command(&raw)?;
    let due = b.due.ok_or_else(|| gongzhi_app::AppError::missing("due"))?;
    orders::publish(&state, &actor, Publish { order: id, due }).await?;
    api_order(&state, &actor, id, lang).await
}

async fn api_order(
    state: &AppState,
    actor: &gongzhi_core::people::Actor,
    id: i64,
    lang: Lang,
) -> Result<Json<Value>, ApiError> {
    let o = orders::order_for(state, actor, id).await?;
    let takers = orders::taker_names(state, std::slice::from_ref(&o)).await?;
    Ok(Json(order_json(&o, &takers, lang)))
}

/// `GET /api/v1/cogov/offers`: the liaison's organization, the needs offered to it and those
/// it took.
pub async fn api_offers(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ReqLang(lang): ReqLang,
) -> Result<Json<Value>, ApiError> {
    let o = orders::offers(&state, &actor).await?;
    let takers = HashMap::from([(o.organization.id, o.organization.name.clone())]);
    Ok(Json(json!({
        "organization": {"id": o.organization.id, "name": o.organization.name},
        "offered": o.offered.iter().map(|x| order_json(x, &takers, lang)).collect::<Vec<_>>(),
        "taken": o.taken.iter().map(|x| order_json(x, &takers, lang)).collect::<Vec<_>>(),
    })))
}

/// `POST /api/v1/cogov/orders/{id}/take`: takes a published need for the liaison's
/// organization; answers the need (its case dispatched to the organization and acknowledged).
pub async fn api_take(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ReqLang(lang): ReqLang,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    orders::take(&state, &actor, id).await?;
    api_order(&state, &actor, id, lang).await
}

#[derive(Deserialize, Default)]
pub struct RateBody {
    rating: Option<String>,
    comment: Option<String>,
}

/// `POST /api/v1/cogov/orders/{id}/rate_back`: the taker rates back (`rating`, `comment`).
pub async fn api_rate_back(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ReqLang(lang): ReqLang,
    Path(id): Path<i64>,
    crate::json::JsonBody(raw): crate::json::JsonBody,
) -> Result<Json<Value>, ApiError> {
    let b: RateBody = crate::json::command(&raw)?;
    orders::rate_back(
        &state,
        &actor,
        id,
        b.rating.as_deref().unwrap_or_default(),
        b.comment.as_deref().unwrap_or_default(),
    )
    .await?;
    api_order(&state, &actor, id, lang).await
}

#[derive(Deserialize, Default)]
pub struct CountsQuery {
    within: Option<String>,
}

/// `GET /api/v1/cogov/orders/counts?within=CODE`: the needs in each state under a node in reach,
/// and how many were met (fulfilled by the community, or delivered by a taker and certified).
pub async fn api_counts(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ReqLang(lang): ReqLang,
    Query(q): Query<CountsQuery>,
) -> Result<Json<Value>, ApiError> {
    let c = orders::counts(&state, &actor, q.within.as_deref()).await?;
    Ok(Json(json!({
        "fulfilled": c.fulfilled,
        "states": c.by_state.iter().map(|(s, n)| json!({"state": s.as_str(), "label": s.label(lang), "count": n})).collect::<Vec<_>>(),
    })))
}
