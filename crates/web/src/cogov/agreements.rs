//! Co-building agreements' staff pages (共建协议): the agreements in reach, filtered by
//! community, and a form to sign one at `/cogov/agreements`; one agreement with its term,
//! commitments and their records, cross-appointments and talent pairings, and the forms to
//! record, renew and end it at `/cogov/agreements/{id}`. Each form posts to one use case of
//! `gongzhi_app::cogov::agreements` and comes back to its page; a refused field is shown there.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use gongzhi_app::cogov::agreements::{self as ag, Agreement, CO_BUILDING, NewAgreement, NewRecord, TermsInput};
use gongzhi_core::Lang;
use gongzhi_core::cogov::agreements::{AgreementState, Appointment, Commitment, Pairing};
use serde::Deserialize;

use super::meetings::Choice;
use super::notices::page;
use crate::json::{Form, Query};
use crate::pages::{Chrome, local_time};
use crate::people::session::Staff;
use crate::{ApiError, AppState};

/// Rows of cross-appointments and of pairings a form offers.
const FORM_ROWS: [usize; 3] = [1, 2, 3];

fn lang_suffix(lang: Lang) -> &'static str {
    if lang == Lang::En { "&lang=en" } else { "" }
}

fn failure(e: Option<&ApiError>, lang: Lang) -> (Option<String>, String) {
    (
        e.map(|e| e.message(lang).to_string()),
        e.and_then(|e| e.field).unwrap_or("").to_string(),
    )
}

fn community_names(state: &AppState) -> HashMap<String, String> {
    state
        .index()
        .communities()
        .map(|l| {
            (
                l.community.code.clone(),
                format!("{} {}", l.street.name, l.community.name),
            )
        })
        .collect()
}

/// An agreement as a list shows it.
pub struct AgreementRow {
    pub id: i64,
    pub community: String,
    pub organization: String,
    pub term: String,
    pub standing: &'static str,
    pub standing_code: &'static str,
}

fn agreement_row(a: &Agreement, names: &HashMap<String, String>, lang: Lang) -> AgreementRow {
    let today = gongzhi_core::time::city_time(chrono::Utc::now()).date_naive();
    let standing = a.state.standing(a.term_to, today);
    AgreementRow {
        id: a.id,
        community: names
            .get(&a.community_code)
            .cloned()
            .unwrap_or_else(|| a.community_code.clone()),
        organization: a.organization_name.clone(),
        term: format!("{} – {}", a.term_from, a.term_to),
        standing: standing.label(lang),
        standing_code: standing.as_str(),
    }
}

fn mechanisms(lang: Lang) -> Vec<Choice> {
    CO_BUILDING
        .mechanisms
        .iter()
        .map(|m| Choice {
            code: m.code.clone(),
            label: m.label(lang).to_string(),
        })
        .collect()
}

fn mechanism_label(code: &str, lang: Lang) -> String {
    CO_BUILDING
        .mechanism(code)
        .map_or_else(|| code.to_string(), |m| m.label(lang).to_string())
}

// ---- the list ----

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    community: String,
    #[serde(default)]
    done: String,
}

#[derive(Template)]
#[template(path = "cogov/agreements.html")]
struct ListPage {
    c: Chrome,
    rows: Vec<AgreementRow>,
    filter: String,
    filters: Vec<Choice>,
    writer: bool,
    communities: Vec<Choice>,
    organizations: Vec<Choice>,
    mechanisms: Vec<Choice>,
    form_rows: [usize; 3],
    done: String,
    error: Option<String>,
    error_field: String,
}

async fn list_page(
    state: &AppState,
    staff: &Staff,
    filter: String,
    status: StatusCode,
    done: String,
    error: Option<ApiError>,
) -> Result<Response, ApiError> {
    let lang = staff.lang;
    let names = community_names(state);
    let filter = filter.trim().to_string();
    let rows = ag::agreements(state, &staff.actor, Some(&filter))
        .await?
        .iter()
        .map(|a| agreement_row(a, &names, lang))
        .collect();
    let mut filters: Vec<Choice> = names
        .iter()
        .filter(|(code, _)| ag::may_read(&staff.actor, code))
        .map(|(code, name)| Choice {
            code: code.clone(),
            label: name.clone(),
        })
        .collect();
    filters.sort_by(|a, b| a.code.cmp(&b.code));
    let writer = ag::is_writer(&staff.actor);
    let organizations = if writer {
        ag::organizations_near(state, &staff.actor)
            .await?
            .into_iter()
            .map(|o| Choice {
                code: o.id.to_string(),
                label: format!("{} · {}", o.id, o.name),
            })
            .collect()
    } else {
        Vec::new()
    };
    let (error, error_field) = failure(error.as_ref(), lang);
    page(
        ListPage {
            c: Chrome::for_staff(staff, "/cogov/agreements"),
            rows,
            filter,
            filters,
            writer,
            communities: ag::communities_served(state, &staff.actor)
                .into_iter()
                .map(|(code, label)| Choice { code, label })
                .collect(),
            organizations,
            mechanisms: mechanisms(lang),
            form_rows: FORM_ROWS,
            done,
            error,
            error_field,
        },
        status,
    )
}

/// `GET /cogov/agreements`: the agreements in reach (`community` filters), a form to sign one.
pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    list_page(&state, &staff, q.community, StatusCode::OK, q.done, None).await
}

/// The term and lists of a form: `term_from`, `term_to`, a text per mechanism
/// (`commitment_CODE`), and rows of appointments (`appt_person_N`, `appt_org_post_N`,
/// `appt_community_post_N`) and pairings (`pair_first_N`, `pair_second_N`, `pair_subject_N`);
/// blank rows are left out.
fn terms_of(f: &HashMap<String, String>) -> TermsInput {
    let field = |k: &str| f.get(k).cloned().unwrap_or_default();
    let commitments = CO_BUILDING
        .mechanisms
        .iter()
        .filter_map(|m| {
            let text = field(&format!("commitment_{}", m.code));
            (!text.trim().is_empty()).then(|| Commitment {
                mechanism: m.code.clone(),
                text,
            })
        })
        .collect();
    let filled = |parts: &[String]| parts.iter().any(|p| !p.trim().is_empty());
    let mut appointments = Vec::new();
    let mut pairings = Vec::new();
    for n in FORM_ROWS {
        let a = [
            field(&format!("appt_person_{n}")),
            field(&format!("appt_org_post_{n}")),
            field(&format!("appt_community_post_{n}")),
        ];
        if filled(&a) {
            let [person, organization_post, community_post] = a;
            appointments.push(Appointment {
                person,
                organization_post,
                community_post,
            });
        }
        let p = [
            field(&format!("pair_first_{n}")),
            field(&format!("pair_second_{n}")),
            field(&format!("pair_subject_{n}")),
        ];
        if filled(&p) {
            let [first, second, subject] = p;
            pairings.push(Pairing { first, second, subject });
        }
    }
    TermsInput {
        term_from: field("term_from"),
        term_to: field("term_to"),
        commitments,
        appointments,
        pairings,
    }
}

/// `POST /cogov/agreements`: signs an agreement and opens it.
pub async fn sign(
    State(state): State<AppState>,
    staff: Staff,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let field = |k: &str| f.get(k).cloned().unwrap_or_default();
    staff.check_csrf(&field("csrf"))?;
    let cmd = NewAgreement {
        community: field("community"),
        organization: field("organization"),
        terms: terms_of(&f),
    };
    match ag::sign(&state, &staff.actor, cmd).await {
        Ok(id) => Ok(Redirect::to(&format!(
            "/cogov/agreements/{id}?done=signed{}",
            lang_suffix(staff.lang)
        ))
        .into_response()),
        Err(e) if e.field.is_some() => {
            let status = e.http_status();
            list_page(&state, &staff, String::new(), status, String::new(), Some(e)).await
        }
        Err(e) => Err(e),
    }
}

// ---- one agreement ----

pub struct RecordRow {
    pub date: String,
    pub text: String,
    pub people: String,
    pub by: String,
}

pub struct CommitmentRow {
    pub id: i64,
    pub mechanism: String,
    pub mechanism_code: String,
    pub text: String,
    pub records: Vec<RecordRow>,
}

pub struct AppointmentRow {
    pub person: String,
    pub organization_post: String,
    pub community_post: String,
}

pub struct PairingRow {
    pub first: String,
    pub second: String,
    pub subject: String,
}

#[derive(Template)]
#[template(path = "cogov/agreement.html")]
struct AgreementPage {
    c: Chrome,
    a: AgreementRow,
    organization_id: i64,
    signed: String,
    renews: Option<i64>,
    renewed_by: Option<i64>,
    end_reason: String,
    active: bool,
    writable: bool,
    commitments: Vec<CommitmentRow>,
    appointments: Vec<AppointmentRow>,
    pairings: Vec<PairingRow>,
    today: String,
    /// The renewal form's proposed term: from the day after this one ends, as long again.
    renew_from: String,
    renew_to: String,
    done: String,
    error: Option<String>,
    error_field: String,
}

async fn agreement_page(
    state: &AppState,
    staff: &Staff,
    id: i64,
    status: StatusCode,
    done: String,
    error: Option<ApiError>,
) -> Result<Response, ApiError> {
    let lang = staff.lang;
    let v = ag::agreement(state, &staff.actor, id).await?;
    let names = community_names(state);
    let (error, error_field) = failure(error.as_ref(), lang);
    let commitments = v
        .commitments
        .iter()
        .map(|c| CommitmentRow {
            id: c.id,
            mechanism: mechanism_label(&c.mechanism, lang),
            mechanism_code: c.mechanism.clone(),
            text: c.body.clone(),
            records: v
                .records
                .iter()
                .filter(|r| r.commitment_id == c.id)
                .map(|r| RecordRow {
                    date: r.done_on.to_string(),
                    text: r.body.clone(),
                    people: r.people.map(|n| n.to_string()).unwrap_or_default(),
                    by: r.recorded_by.clone(),
                })
                .collect(),
        })
        .collect();
    page(
        AgreementPage {
            c: Chrome::for_staff(staff, "/cogov/agreements"),
            a: agreement_row(&v.agreement, &names, lang),
            organization_id: v.agreement.organization_id,
            signed: format!("{} · {}", v.agreement.signed_by, local_time(v.agreement.signed_at)),
            renews: v.agreement.renews,
            renewed_by: v.renewed_by,
            end_reason: v.agreement.end_reason.clone().unwrap_or_default(),
            active: v.agreement.state == AgreementState::Active,
            writable: v.writable,
            commitments,
            appointments: v
                .appointments
                .iter()
                .map(|a| AppointmentRow {
                    person: a.person.clone(),
                    organization_post: a.organization_post.clone(),
                    community_post: a.community_post.clone(),
                })
                .collect(),
            pairings: v
                .pairings
                .iter()
                .map(|p| PairingRow {
                    first: p.first_person.clone(),
                    second: p.second_person.clone(),
                    subject: p.subject.clone(),
                })
                .collect(),
            today: gongzhi_core::time::city_time(chrono::Utc::now())
                .date_naive()
                .to_string(),
            renew_from: (v.agreement.term_to + chrono::Duration::days(1)).to_string(),
            renew_to: (v.agreement.term_to + (v.agreement.term_to - v.agreement.term_from)).to_string(),
            done,
            error,
            error_field,
        },
        status,
    )
}

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    done: String,
}

/// `GET /cogov/agreements/{id}`: an agreement with its commitments and their records,
/// appointments, pairings, and the forms to record, renew and end it.
pub async fn agreement(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Query(q): Query<Done>,
) -> Result<Response, ApiError> {
    agreement_page(&state, &staff, id, StatusCode::OK, q.done, None).await
}

/// After a form of an agreement's page: to `to` (with `done`), or the page with the refusal.
async fn back(
    state: &AppState,
    staff: &Staff,
    id: i64,
    result: Result<(i64, &str), ApiError>,
) -> Result<Response, ApiError> {
    match result {
        Ok((to, done)) => Ok(Redirect::to(&format!(
            "/cogov/agreements/{to}?done={done}{}",
            lang_suffix(staff.lang)
        ))
        .into_response()),
        Err(e) if e.field.is_some() => {
            let status = e.http_status();
            agreement_page(state, staff, id, status, String::new(), Some(e)).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize, Default)]
pub struct RecordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    commitment: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    people: String,
}

/// `POST /cogov/agreements/{id}/records`: what was done under a commitment.
pub async fn record(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(f): Form<RecordForm>,
) -> Result<Response, ApiError> {
    staff.check_csrf(&f.csrf)?;
    let cmd = NewRecord {
        commitment: f.commitment,
        date: f.date,
        text: f.text,
        people: f.people,
    };
    let r = ag::record(&state, &staff.actor, id, cmd)
        .await
        .map(|_| (id, "recorded"));
    back(&state, &staff, id, r).await
}

/// `POST /cogov/agreements/{id}/renew`: a new agreement renewing this one (the form's lists, or
/// this one's when left blank); opens the new one.
pub async fn renew(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    staff.check_csrf(f.get("csrf").map_or("", String::as_str))?;
    let r = ag::renew(&state, &staff.actor, id, terms_of(&f))
        .await
        .map(|new| (new, "renewed"));
    back(&state, &staff, id, r).await
}

#[derive(Deserialize, Default)]
pub struct EndForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// `POST /cogov/agreements/{id}/end`: ends it with a reason.
pub async fn end(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(f): Form<EndForm>,
) -> Result<Response, ApiError> {
    staff.check_csrf(&f.csrf)?;
    let r = ag::end(&state, &staff.actor, id, &f.reason)
        .await
        .map(|()| (id, "ended"));
    back(&state, &staff, id, r).await
}
