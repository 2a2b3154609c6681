//! Joint meetings' staff pages (党建联席会议): the bodies in reach and a new one at
//! `/cogov/bodies`; a body's seats, agenda items and meetings at `/cogov/bodies/{id}`; an agenda
//! item with its journey, decision and cases at `/cogov/items/{id}`; a meeting with its agenda,
//! attendance, decisions and minutes at `/cogov/meetings/{id}`. Each form posts to one use case
//! of `gongzhi_app::cogov::meetings` and comes back to its page; a refused field is shown there.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use gongzhi_app::cases::CaseRecord;
use gongzhi_app::cogov::meetings::{
    self as m, Assignment, Body, Convene, Decide, ItemStep, JourneyStep, MEETINGS, NewBody, NewSeat, RaiseItem,
};
use gongzhi_core::Lang;
use gongzhi_core::cogov::meetings::{AgendaSource, AgendaState, SeatOrgKind};
use gongzhi_core::people::Actor;
use serde::Deserialize;

use super::notices::page;
use crate::json::{Form, Query};
use crate::pages::{Chrome, local_time};
use crate::people::session::Staff;
use crate::{ApiError, AppState};

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    done: String,
}

fn lang_suffix(lang: Lang) -> &'static str {
    if lang == Lang::En { "&lang=en" } else { "" }
}

/// A code → label pair for a select.
pub struct Choice {
    pub code: String,
    pub label: String,
}

/// A body as a list shows it.
pub struct BodyRow {
    pub id: i64,
    pub kind: String,
    pub node: String,
    pub name: String,
}

fn node_names(state: &AppState) -> HashMap<String, String> {
    let index = state.index();
    let mut names = HashMap::new();
    for l in index.by_code.values() {
        names.insert(l.district.code.clone(), l.district.name.clone());
        names.insert(l.street.code.clone(), format!("{} {}", l.district.name, l.street.name));
        names.insert(
            l.community.code.clone(),
            format!("{} {} {}", l.district.name, l.street.name, l.community.name),
        );
    }
    names
}

fn body_row(b: &Body, names: &HashMap<String, String>, lang: Lang) -> BodyRow {
    BodyRow {
        id: b.id,
        kind: MEETINGS
            .body_kind(&b.kind)
            .map_or_else(|| b.kind.clone(), |k| k.label(lang).to_string()),
        node: names.get(&b.node_code).cloned().unwrap_or_else(|| b.node_code.clone()),
        name: b.name.clone(),
    }
}

/// The streets and communities `actor` runs, for the new body's form.
fn nodes_run(state: &AppState, actor: &Actor, names: &HashMap<String, String>) -> Vec<Choice> {
    let mut codes: Vec<&String> = names.keys().filter(|c| m::may_write(actor, c)).collect();
    codes.sort();
    codes
        .into_iter()
        .filter(|c| !c.ends_with("000000"))
        .map(|c| Choice {
            code: c.clone(),
            label: names[c].clone(),
        })
        .chain(
            // A leader's city.
            state
                .index()
                .by_code
                .values()
                .next()
                .map(|l| l.district.code[..4].to_string() + "00000000")
                .filter(|city| m::may_write(actor, city))
                .map(|city| Choice {
                    label: city.clone(),
                    code: city,
                }),
        )
        .collect()
}

fn failure(e: Option<&ApiError>, lang: Lang) -> (Option<String>, String) {
    (
        e.map(|e| e.message(lang).to_string()),
        e.and_then(|e| e.field).unwrap_or("").to_string(),
    )
}

// ---- the list of bodies ----

#[derive(Template)]
#[template(path = "cogov/bodies.html")]
struct BodiesPage {
    c: Chrome,
    rows: Vec<BodyRow>,
    kinds: Vec<Choice>,
    nodes: Vec<Choice>,
    writer: bool,
    solved_cases: i64,
    solved_closed: i64,
    done: String,
    error: Option<String>,
    error_field: String,
}

async fn bodies_page(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    done: String,
    error: Option<ApiError>,
) -> Result<Response, ApiError> {
    let lang = staff.lang;
    let names = node_names(state);
    let rows = m::bodies(state, &staff.actor)
        .await?
        .iter()
        .map(|b| body_row(b, &names, lang))
        .collect();
    let solved = m::solved(state, &staff.actor).await?;
    let (error, error_field) = failure(error.as_ref(), lang);
    page(
        BodiesPage {
            c: Chrome::for_staff(staff, "/cogov/bodies"),
            rows,
            kinds: MEETINGS
                .body_kinds
                .iter()
                .map(|k| Choice {
                    code: k.code.clone(),
                    label: k.label(lang).to_string(),
                })
                .collect(),
            nodes: nodes_run(state, &staff.actor, &names),
            writer: m::is_writer(&staff.actor),
            solved_cases: solved.cases,
            solved_closed: solved.closed,
            done,
            error,
            error_field,
        },
        status,
    )
}

/// `GET /cogov/bodies`: the bodies in reach, the problems their meetings solved, a new body.
pub async fn bodies(State(state): State<AppState>, staff: Staff, Query(q): Query<Done>) -> Result<Response, ApiError> {
    bodies_page(&state, &staff, StatusCode::OK, q.done, None).await
}

#[derive(Deserialize, Default)]
pub struct BodyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    node: String,
    #[serde(default)]
    name: String,
}

/// `POST /cogov/bodies`: creates a body and opens it.
pub async fn create_body(
    State(state): State<AppState>,
    staff: Staff,
    Form(f): Form<BodyForm>,
) -> Result<Response, ApiError> {
    staff.check_csrf(&f.csrf)?;
    let cmd = NewBody {
        kind: f.kind,
        node: f.node,
        name: f.name,
    };
    match m::create_body(&state, &staff.actor, cmd).await {
        Ok(id) => {
            Ok(Redirect::to(&format!("/cogov/bodies/{id}?done=created{}", lang_suffix(staff.lang))).into_response())
        }
        Err(e) if e.field.is_some() => {
            let status = e.http_status();
            bodies_page(&state, &staff, status, String::new(), Some(e)).await
        }
        Err(e) => Err(e),
    }
}

// ---- one body ----

pub struct SeatRow {
    pub id: i64,
    pub person: String,
    pub org: String,
    pub role: String,
    pub term: String,
}

pub struct ItemRow {
    pub id: i64,
    pub title: String,
    pub source: String,
    pub state: &'static str,
    pub state_code: &'static str,
    pub raised_at: String,
}

pub struct MeetingRow {
    pub id: i64,
    pub title: String,
    pub starts_at: String,
    pub place: String,
    pub state: &'static str,
    pub state_code: &'static str,
}

#[derive(Template)]
#[template(path = "cogov/body.html")]
struct BodyPage {
    c: Chrome,
    body: BodyRow,
    body_id: i64,
    writable: bool,
    seats: Vec<SeatRow>,
    items: Vec<ItemRow>,
    vetted: Vec<ItemRow>,
    meetings: Vec<MeetingRow>,
    org_kinds: Vec<Choice>,
    roles: Vec<Choice>,
    sources: Vec<Choice>,
    done: String,
    error: Option<String>,
    error_field: String,
}

fn item_row(i: &gongzhi_app::cogov::meetings::AgendaItem, lang: Lang) -> ItemRow {
    ItemRow {
        id: i.id,
        title: i.title.clone(),
        source: i.source.label(lang).to_string(),
        state: i.state.label(lang),
        state_code: i.state.as_str(),
        raised_at: local_time(i.raised_at),
    }
}

async fn body_page(
    state: &AppState,
    staff: &Staff,
    id: i64,
    status: StatusCode,
    done: String,
    error: Option<ApiError>,
) -> Result<Response, ApiError> {
    let lang = staff.lang;
    let v = m::body(state, &staff.actor, id).await?;
    let names = node_names(state);
    let (error, error_field) = failure(error.as_ref(), lang);
    page(
        BodyPage {
            c: Chrome::for_staff(staff, "/cogov/bodies"),
            body: body_row(&v.body, &names, lang),
            body_id: v.body.id,
            writable: v.writable,
            seats: v
                .seats
                .iter()
                .map(|s| SeatRow {
                    id: s.id,
                    person: s.person.clone(),
                    org: format!(
                        "{} · {}",
                        SeatOrgKind::parse(&s.org_kind).map_or("", |k| k.label(lang)),
                        s.org_name
                    ),
                    role: MEETINGS
                        .seat_role(&s.role)
                        .map_or_else(|| s.role.clone(), |r| r.label(lang).to_string()),
                    term: format!(
                        "{} – {}",
                        s.term_from,
                        s.term_to.map(|d| d.to_string()).unwrap_or_default()
                    ),
                })
                .collect(),
            items: v.items.iter().map(|i| item_row(i, lang)).collect(),
            vetted: v
                .items
                .iter()
                .filter(|i| i.state == AgendaState::Vetted)
                .map(|i| item_row(i, lang))
                .collect(),
            meetings: v
                .meetings
                .iter()
                .map(|mt| MeetingRow {
                    id: mt.id,
                    title: mt.title.clone(),
                    starts_at: local_time(mt.starts_at),
                    place: mt.place.clone(),
                    state: mt.state.label(lang),
                    state_code: mt.state.as_str(),
                })
                .collect(),
            org_kinds: SeatOrgKind::ALL
                .iter()
                .map(|k| Choice {
                    code: k.as_str().into(),
                    label: k.label(lang).into(),
                })
                .collect(),
            roles: MEETINGS
                .seat_roles
                .iter()
                .map(|r| Choice {
                    code: r.code.clone(),
                    label: r.label(lang).into(),
                })
                .collect(),
            sources: AgendaSource::ALL
                .iter()
                .map(|s| Choice {
                    code: s.as_str().into(),
                    label: s.label(lang).into(),
                })
                .collect(),
            done,
            error,
            error_field,
        },
        status,
    )
}

/// `GET /cogov/bodies/{id}`: a body's seats, agenda items and meetings, with their forms.
pub async fn body(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Query(q): Query<Done>,
) -> Result<Response, ApiError> {
    body_page(&state, &staff, id, StatusCode::OK, q.done, None).await
}

/// After a form of a body's page: back to it, or the page with the refused field.
async fn back_to_body(
    state: &AppState,
    staff: &Staff,
    id: i64,
    done: &str,
    result: Result<(), ApiError>,
) -> Result<Response, ApiError> {
    match result {
        Ok(()) => {
            Ok(Redirect::to(&format!("/cogov/bodies/{id}?done={done}{}", lang_suffix(staff.lang))).into_response())
        }
        Err(e) if e.field.is_some() || e.code == gongzhi_core::ErrorCode::WrongAgendaState => {
            let status = e.http_status();
            body_page(state, staff, id, status, String::new(), Some(e)).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize, Default)]
pub struct SeatForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    person: String,
    #[serde(default)]
    org_kind: String,
    #[serde(default)]
    org_id: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    term_from: String,
    #[serde(default)]
    term_to: String,
}

/// `POST /cogov/bodies/{id}/seats`.
pub async fn add_seat(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(f): Form<SeatForm>,
) -> Result<Response, ApiError> {
    staff.check_csrf(&f.csrf)?;
    let cmd = NewSeat {
        person: f.person,
        org_kind: f.org_kind,
        org_id: f.org_id,
        role: f.role,
        term_from: f.term_from,
        term_to: f.term_to,
    };
    let r = m::add_seat(&state, &staff.actor, id, cmd).await.map(|_| ());
    back_to_body(&state, &staff, id, "seat", r).await
}

#[derive(Deserialize, Default)]
pub struct ItemForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    source_ref: String,
}

/// `POST /cogov/bodies/{id}/items`: raises an item and opens it.
pub async fn raise_item(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(f): Form<ItemForm>,
) -> Result<Response, ApiError> {
    staff.check_csrf(&f.csrf)?;
    let cmd = RaiseItem {
        title: f.title,
        description: f.description,
        source: f.source,
        source_ref: f.source_ref,
    };
    match m::raise_item(&state, &staff.actor, id, cmd).await {
        Ok(item) => {
            Ok(Redirect::to(&format!("/cogov/items/{item}?done=raised{}", lang_suffix(staff.lang))).into_response())
        }
        Err(e) => back_to_body(&state, &staff, id, "", Err(e)).await,
    }
}

/// `POST /cogov/bodies/{id}/meetings`: convenes a meeting with the vetted items ticked
/// (`item_ID`) and opens it.
pub async fn convene(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let field = |k: &str| f.get(k).cloned().unwrap_or_default();
    staff.check_csrf(&field("csrf"))?;
    let cmd = Convene {
        title: field("title"),
        starts_at: field("starts_at"),
        place: field("place"),
        items: ticked(&f, "item_"),
    };
    match m::convene(&state, &staff.actor, id, cmd).await {
        Ok(meeting) => Ok(Redirect::to(&format!(
            "/cogov/meetings/{meeting}?done=convened{}",
            lang_suffix(staff.lang)
        ))
        .into_response()),
        Err(e) => back_to_body(&state, &staff, id, "", Err(e)).await,
    }
}

/// The ids of the boxes ticked as `PREFIX<id>`.
fn ticked(f: &HashMap<String, String>, prefix: &str) -> Vec<i64> {
    let mut ids: Vec<i64> = f.keys().filter_map(|k| k.strip_prefix(prefix)?.parse().ok()).collect();
    ids.sort_unstable();
    ids
}

// ---- one agenda item ----

pub struct JourneyRow {
    pub code: &'static str,
    pub label: &'static str,
    pub at: String,
    pub by: String,
    pub note: String,
    pub reached: bool,
}

pub struct CaseRow {
    pub id: i64,
    pub number: String,
    pub unit: String,
    pub state: &'static str,
    pub state_code: &'static str,
    pub deadline: String,
}

fn case_row(state: &AppState, a: &Assignment, r: &CaseRecord, lang: Lang) -> CaseRow {
    let rules = state.rules();
    let unit = match r.flow.lead.as_ref() {
        Some(gongzhi_core::cases::UnitRef::Department(d)) => rules
            .departments
            .get(d)
            .map_or_else(|| a.unit.clone(), |d| d.name.clone()),
        _ => a.unit.clone(),
    };
    CaseRow {
        id: r.id,
        number: r.flow.number.to_string(),
        unit,
        state: r.flow.state.label(lang),
        state_code: r.flow.state.as_str(),
        deadline: r.flow.deadlines.handling.map(local_time).unwrap_or_default(),
    }
}

fn journey_rows(steps: &[JourneyStep], lang: Lang) -> Vec<JourneyRow> {
    let mut rows: Vec<JourneyRow> = Vec::new();
    for s in AgendaState::ALL {
        let found = steps.iter().find(|j| j.state == s.as_str());
        let on_path = AgendaState::JOURNEY.contains(&s);
        if found.is_none() && !on_path {
            continue;
        }
        rows.push(JourneyRow {
            code: s.as_str(),
            label: s.label(lang),
            at: found.map(|j| local_time(j.stepped_at)).unwrap_or_default(),
            by: found.map(|j| j.by_who.clone()).unwrap_or_default(),
            note: found.and_then(|j| j.note.clone()).unwrap_or_default(),
            reached: found.is_some(),
        });
    }
    rows
}

#[derive(Template)]
#[template(path = "cogov/item.html")]
struct ItemPage {
    c: Chrome,
    item: ItemRow,
    description: String,
    reason: String,
    body_id: i64,
    body_name: String,
    source_case: Option<(i64, String)>,
    source_ref: String,
    meeting: Option<(i64, String)>,
    decision: Option<(String, String)>,
    journey: Vec<JourneyRow>,
    cases: Vec<CaseRow>,
    steps: &'static [&'static str],
    done: String,
    error: Option<String>,
    error_field: String,
}

async fn item_page(
    state: &AppState,
    staff: &Staff,
    id: i64,
    status: StatusCode,
    done: String,
    error: Option<ApiError>,
) -> Result<Response, ApiError> {
    let lang = staff.lang;
    let v = m::item(state, &staff.actor, id).await?;
    let (error, error_field) = failure(error.as_ref(), lang);
    page(
        ItemPage {
            c: Chrome::for_staff(staff, "/cogov/bodies"),
            item: item_row(&v.item, lang),
            description: v.item.description.clone(),
            reason: v.item.reason.clone().unwrap_or_default(),
            body_id: v.body.id,
            body_name: v.body.name.clone(),
            source_case: v.source_case.as_ref().map(|c| (c.id, c.flow.number.to_string())),
            source_ref: v.item.source_ref.clone().unwrap_or_default(),
            meeting: v.meeting.as_ref().map(|mt| (mt.id, mt.title.clone())),
            decision: v.decision.as_ref().map(|d| (d.body.clone(), d.due.to_string())),
            journey: journey_rows(&v.journey, lang),
            cases: v.cases.iter().map(|(a, r)| case_row(state, a, r, lang)).collect(),
            steps: if v.writable { v.item.state.steps() } else { &[] },
            done,
            error,
            error_field,
        },
        status,
    )
}

/// `GET /cogov/items/{id}`: an item, its journey (raised → discussed → decided → assigned →
/// done, with times), its decision and the cases of the loop it became.
pub async fn item(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Query(q): Query<Done>,
) -> Result<Response, ApiError> {
    item_page(&state, &staff, id, StatusCode::OK, q.done, None).await
}

#[derive(Deserialize, Default)]
pub struct ItemStepForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    step: String,
    #[serde(default)]
    reason: String,
}

/// `POST /cogov/items/{id}/step`: vets or rejects (with a reason) an item.
pub async fn step_item(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(f): Form<ItemStepForm>,
) -> Result<Response, ApiError> {
    staff.check_csrf(&f.csrf)?;
    let cmd = ItemStep {
        step: f.step,
        reason: f.reason,
    };
    match m::step_item(&state, &staff.actor, id, cmd).await {
        Ok(to) => Ok(Redirect::to(&format!(
            "/cogov/items/{id}?done={}{}",
            to.as_str(),
            lang_suffix(staff.lang)
        ))
        .into_response()),
        Err(e) if e.field.is_some() => {
            let status = e.http_status();
            item_page(&state, &staff, id, status, String::new(), Some(e)).await
        }
        Err(e) => Err(e),
    }
}

// ---- one meeting ----

pub struct AttendanceRow {
    pub seat: i64,
    pub person: String,
    pub org: String,
    /// `present`, `absent` or empty before the meeting is held.
    pub present: String,
}

pub struct DecisionRow {
    pub item: String,
    pub text: String,
    pub due: String,
    pub cases: Vec<CaseRow>,
}

#[derive(Template)]
#[template(path = "cogov/meeting.html")]
struct MeetingPage {
    c: Chrome,
    meeting: MeetingRow,
    minutes: String,
    body_id: i64,
    body_name: String,
    writable: bool,
    items: Vec<ItemRow>,
    to_decide: Vec<ItemRow>,
    attendance: Vec<AttendanceRow>,
    decisions: Vec<DecisionRow>,
    departments: Vec<Choice>,
    done: String,
    error: Option<String>,
    error_field: String,
}

async fn meeting_page(
    state: &AppState,
    staff: &Staff,
    id: i64,
    status: StatusCode,
    done: String,
    error: Option<ApiError>,
) -> Result<Response, ApiError> {
    let lang = staff.lang;
    let v = m::meeting(state, &staff.actor, id).await?;
    let (error, error_field) = failure(error.as_ref(), lang);
    let rules = state.rules();
    let mut departments: Vec<Choice> = rules
        .departments
        .iter()
        .map(|d| Choice {
            code: format!("department:{}", d.code),
            label: d.name.clone(),
        })
        .collect();
    departments.sort_by(|a, b| a.code.cmp(&b.code));
    page(
        MeetingPage {
            c: Chrome::for_staff(staff, "/cogov/bodies"),
            meeting: MeetingRow {
                id: v.meeting.id,
                title: v.meeting.title.clone(),
                starts_at: local_time(v.meeting.starts_at),
                place: v.meeting.place.clone(),
                state: v.meeting.state.label(lang),
                state_code: v.meeting.state.as_str(),
            },
            minutes: v.meeting.minutes.clone().unwrap_or_default(),
            body_id: v.body.id,
            body_name: v.body.name.clone(),
            writable: v.writable,
            items: v.items.iter().map(|i| item_row(i, lang)).collect(),
            to_decide: v
                .items
                .iter()
                .filter(|i| i.state == AgendaState::Discussed)
                .map(|i| item_row(i, lang))
                .collect(),
            attendance: v
                .seats
                .iter()
                .map(|s| AttendanceRow {
                    seat: s.id,
                    person: s.person.clone(),
                    org: s.org_name.clone(),
                    present: v
                        .attendance
                        .iter()
                        .find(|a| a.seat_id == s.id)
                        .map(|a| if a.present { "present" } else { "absent" })
                        .unwrap_or("")
                        .to_string(),
                })
                .collect(),
            decisions: v
                .decisions
                .iter()
                .map(|d| DecisionRow {
                    item: d.item.as_ref().map_or_else(String::new, |i| i.title.clone()),
                    text: d.decision.body.clone(),
                    due: d.decision.due.to_string(),
                    cases: d.cases.iter().map(|(a, r)| case_row(state, a, r, lang)).collect(),
                })
                .collect(),
            departments,
            done,
            error,
            error_field,
        },
        status,
    )
}

/// `GET /cogov/meetings/{id}`: a meeting's agenda, attendance, decisions with their cases and
/// minutes, with the forms of its next step.
pub async fn meeting(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Query(q): Query<Done>,
) -> Result<Response, ApiError> {
    meeting_page(&state, &staff, id, StatusCode::OK, q.done, None).await
}

async fn back_to_meeting(
    state: &AppState,
    staff: &Staff,
    id: i64,
    done: &str,
    result: Result<(), ApiError>,
) -> Result<Response, ApiError> {
    match result {
        Ok(()) => {
            Ok(Redirect::to(&format!("/cogov/meetings/{id}?done={done}{}", lang_suffix(staff.lang))).into_response())
        }
        Err(e) if e.field.is_some() => {
            let status = e.http_status();
            meeting_page(state, staff, id, status, String::new(), Some(e)).await
        }
        Err(e) => Err(e),
    }
}

/// `POST /cogov/meetings/{id}/hold`: the seats ticked present (`present_ID`), the others absent.
pub async fn hold(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    staff.check_csrf(f.get("csrf").map_or("", String::as_str))?;
    let r = m::hold(&state, &staff.actor, id, ticked(&f, "present_")).await;
    back_to_meeting(&state, &staff, id, "held", r).await
}

/// `POST /cogov/meetings/{id}/decide`: a decision on an item, the departments ticked
/// (`unit_department:CODE`) and any other units typed (`other_units`, one per line or comma).
pub async fn decide(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let field = |k: &str| f.get(k).cloned().unwrap_or_default();
    staff.check_csrf(&field("csrf"))?;
    let mut units: Vec<String> = f
        .keys()
        .filter_map(|k| k.strip_prefix("unit_"))
        .map(str::to_string)
        .collect();
    units.sort();
    units.extend(
        field("other_units")
            .split([',', '，', '\n'])
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_string),
    );
    let item = field("item").trim().parse::<i64>().map_err(|_| {
        gongzhi_app::AppError::new(
            gongzhi_core::ErrorCode::InvalidField,
            Some("item"),
            "请选择议题（item）",
            "choose the agenda item (item)",
        )
    });
    let r = match item {
        Ok(item) => {
            let cmd = Decide {
                item,
                text: field("text"),
                units,
                due: field("due"),
                matter: field("matter"),
                grid_code: field("grid_code"),
            };
            m::decide(&state, &staff.actor, id, cmd).await.map(|_| ())
        }
        Err(e) => Err(e),
    };
    back_to_meeting(&state, &staff, id, "decided", r).await
}

#[derive(Deserialize, Default)]
pub struct CloseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    minutes: String,
}

/// `POST /cogov/meetings/{id}/close`: the minutes, and the meeting is over.
pub async fn close(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(f): Form<CloseForm>,
) -> Result<Response, ApiError> {
    staff.check_csrf(&f.csrf)?;
    let r = m::close(&state, &staff.actor, id, &f.minutes).await;
    back_to_meeting(&state, &staff, id, "closed", r).await
}
