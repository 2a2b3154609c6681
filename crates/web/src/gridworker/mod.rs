//! The grid worker's phone pages under `/g/` (网格员掌上端): my grid and my tasks, and reporting
//! from the phone with a photo and the browser's location (channel `patrol`). The report form
//! works without JavaScript; with it, reports go by `fetch` with their idempotency key, and when
//! the network fails they wait in the browser (localStorage) and are sent again, with the same
//! key, when the browser is back online or the page loads: the server replays a key it has seen
//! (per account), so a report is neither lost nor doubled.

use crate::json::Query;
use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Json, Redirect, Response};
use axum::routing::{get, post};
use gongzhi_app::AppError;
use gongzhi_app::cases::gridworker::{self, my_grids};
use gongzhi_app::cases::{self, Acted, CaseRecord};
use gongzhi_app::people::random_token;
use gongzhi_core::ErrorCode;
use gongzhi_core::Lang;
use gongzhi_core::cases::flow::Action;
use serde::Deserialize;
use serde_json::json;

use crate::cases::pages::{read_form, save_photo_ids, save_photos};
use crate::cases::phone_form::phone_report;
use crate::pages::local_time;
use crate::people::session::Staff;
use crate::{ApiError, AppState};

pub mod case;
pub mod patrols;

pub fn routes(max_upload: u64) -> Router<AppState> {
    let limit = usize::try_from(max_upload.saturating_mul(3).saturating_add(256 * 1024)).unwrap_or(usize::MAX);
    Router::new()
        .route("/g", get(|| async { Redirect::to("/g/") }))
        .route("/g/", get(home))
        .route(
            "/g/report",
            get(report_form).post(report).layer(DefaultBodyLimit::max(limit)),
        )
        .route("/g/cases/{id}", get(case::show))
        .route("/g/cases/{id}/act", post(case::act).layer(DefaultBodyLimit::max(limit)))
        .route("/g/patrols", get(patrols::list).post(patrols::start))
        .route("/g/patrols/{id}", get(patrols::show))
        .route("/g/patrols/{id}/stop", post(patrols::stop))
        .route("/g/patrols/{id}/points", post(patrols::points))
}

/// The frame of a grid worker's phone page.
pub struct GChrome {
    pub lang: Lang,
    pub csrf: String,
    pub name: String,
    pub path: String,
}

impl GChrome {
    pub fn tr<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        self.lang.pick(zh, en)
    }
    pub fn lang_tag(&self) -> &'static str {
        self.lang.tag()
    }
    fn of(s: &Staff, path: &str) -> GChrome {
        GChrome {
            lang: s.lang,
            csrf: s.csrf.clone(),
            name: s.account.display_name.clone(),
            path: path.to_string(),
        }
    }
}

fn render(page: impl Template, status: StatusCode) -> Result<Response, ApiError> {
    let html = page.render().map_err(|e| AppError::internal(&e))?;
    Ok((status, Html(html)).into_response())
}

struct GridView {
    code: String,
    name: String,
    households: String,
    map: String,
}

struct TaskRow {
    id: i64,
    number: String,
    matter: String,
    state: &'static str,
    description: String,
    reported_at: String,
}

#[derive(Template)]
#[template(path = "gridworker/home.html")]
struct HomePage {
    c: GChrome,
    grids: Vec<GridView>,
    to_verify: Vec<TaskRow>,
    to_check: Vec<TaskRow>,
    open: i64,
    /// The newest open cases of my grids (at most 10).
    open_cases: Vec<TaskRow>,
    done: String,
}

#[derive(Deserialize, Default)]
pub struct HomeQuery {
    done: Option<String>,
}

fn matter_name(state: &AppState, code: &str) -> String {
    let rules = state.rules();
    gongzhi_core::cases::taxonomy::TypeCode::parse(code)
        .ok()
        .and_then(|t| rules.taxonomy.matter(&t).map(|e| e.name.clone()))
        .unwrap_or_else(|| code.to_string())
}

fn task_rows(state: &AppState, cases: &[CaseRecord], lang: Lang) -> Vec<TaskRow> {
    cases
        .iter()
        .map(|rec| TaskRow {
            id: rec.id,
            number: rec.flow.number.to_string(),
            matter: matter_name(state, &rec.flow.matter),
            state: rec.flow.state.label(lang),
            description: rec.description.chars().take(60).collect(),
            reported_at: local_time(rec.reported_at),
        })
        .collect()
}

/// `GET /g/`: my grids with their map and households, and my tasks.
pub async fn home(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<HomeQuery>,
) -> Result<Response, ApiError> {
    let tasks = gridworker::tasks(&state, &staff.actor).await?;
    let mut views = vec![];
    for grid in &tasks.grids {
        let code = &grid.code;
        let (name, households, map) = match &grid.node {
            Some(n) => {
                let map = n
                    .boundary
                    .as_ref()
                    .map(|b| {
                        crate::map::render(
                            &[crate::map::Shape {
                                boundary: b,
                                group: 0,
                                href: format!("/territory/{}", n.code),
                                title: n.name.clone(),
                            }],
                            &[],
                            320.0,
                            &n.name,
                        )
                    })
                    .unwrap_or_default();
                (
                    n.name.clone(),
                    n.households.map(|h| h.to_string()).unwrap_or_else(|| "—".into()),
                    map,
                )
            }
            None => (code.to_string(), "—".into(), String::new()),
        };
        views.push(GridView {
            code: code.to_string(),
            name,
            households,
            map,
        });
    }
    render(
        HomePage {
            c: GChrome::of(&staff, "/g/"),
            grids: views,
            to_verify: task_rows(&state, &tasks.to_verify, staff.lang),
            to_check: task_rows(&state, &tasks.to_check, staff.lang),
            open: tasks.open,
            open_cases: task_rows(&state, &tasks.open_cases, staff.lang),
            done: q.done.unwrap_or_default(),
        },
        StatusCode::OK,
    )
}

#[derive(Template)]
#[template(path = "gridworker/report.html")]
struct ReportPage {
    c: GChrome,
    key: String,
    matters: Vec<(String, String)>,
    error: Option<String>,
}

/// The worker's recent matters first, then the common ones, with their names.
async fn matters_for(state: &AppState, staff: &Staff) -> Result<Vec<(String, String)>, ApiError> {
    let codes = gridworker::matters(state, &staff.actor).await?;
    Ok(codes
        .into_iter()
        .map(|c| {
            let name = matter_name(state, &c);
            (c, name)
        })
        .collect())
}

/// `GET /g/report`
pub async fn report_form(State(state): State<AppState>, staff: Staff) -> Result<Response, ApiError> {
    let matters = matters_for(&state, &staff).await?;
    render(
        ReportPage {
            c: GChrome::of(&staff, "/g/report"),
            key: random_token(),
            matters,
            error: None,
        },
        StatusCode::OK,
    )
}

/// `POST /g/report`: a report from patrol. A plain form goes back to `/g/` naming the case; a
/// `fetch` asking for JSON gets `201 {"number", "id", "replayed"}`. The idempotency key comes
/// from the `Idempotency-Key` header or the `idempotency_key` field.
pub async fn report(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    request: Request,
) -> Result<Response, ApiError> {
    my_grids(&staff.actor)?;
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"));
    let posted = read_form(&state, request).await?;
    staff.check_csrf(posted.get("csrf").unwrap_or(""))?;
    let actor = staff.actor.clone();
    let outcome = async {
        let raw_key = match headers.get("idempotency-key") {
            Some(v) => Some(v.to_str().unwrap_or("\u{7f}")),
            None => posted.get("idempotency_key"),
        };
        let key = cases::idempotency_key("idempotency_key", raw_key)?;
        let mut report = phone_report(&state, &posted, "patrol", key, None)?;
        cases::check(&state, &actor, &report)?;
        let self_handle = posted.get("self_handle").is_some();
        if self_handle && posted.files_named("after_photos") == 0 {
            return Err(AppError::new(
                ErrorCode::MissingPhotos,
                Some("after_photos"),
                "自行处置须附处置后照片",
                "fixing it yourself needs a photo after",
            ));
        }
        report.photos = save_photo_ids(&state, &actor, &posted, "photos").await?;
        let reported = cases::report(&state, &actor, report).await?;
        // Fixed on the spot: the loop's self_handle on the new case, with the photos after (a
        // replayed report did this the first time).
        let mut self_handle_error = None;
        let mut record = reported.record.clone();
        if self_handle && !reported.replayed {
            let action = Action::SelfHandle {
                note: posted.get("handle_note").unwrap_or_default().to_string(),
                photos: save_photos(&state, &actor, &posted, "after_photos").await?,
            };
            match cases::perform(&state, &actor, record.clone(), action).await {
                Ok(Acted { record: updated, .. }) => record = updated,
                Err(e) if e.http_status().is_client_error() => {
                    self_handle_error = Some(e.message(staff.lang).to_string())
                }
                Err(e) => return Err(e),
            }
        }
        Ok((reported.replayed, record, self_handle_error))
    }
    .await;
    match outcome {
        Ok((replayed, record, self_handle_error)) if wants_json => Ok((
            if replayed { StatusCode::OK } else { StatusCode::CREATED },
            Json(json!({
                "id": record.id,
                "number": record.flow.number.to_string(),
                "replayed": replayed,
                "state": record.flow.state.as_str(),
                "self_handled": record.flow.pending_request(gongzhi_core::cases::flow::RequestKind::SelfHandling).is_some(),
                "self_handle_error": self_handle_error,
            })),
        )
            .into_response()),
        Ok((_, record, None)) => Ok(Redirect::to(&format!("/g/?done={}", record.flow.number)).into_response()),
        // Reported, but the loop refused the self-handling: the case page says why and offers it again.
        Ok((_, record, Some(_))) => Ok(Redirect::to(&format!("/g/cases/{}?done=report", record.id)).into_response()),
        Err(e) if !wants_json && e.http_status().is_client_error() => {
            let matters = matters_for(&state, &staff).await?;
            let status = e.http_status();
            render(
                ReportPage {
                    c: GChrome::of(&staff, "/g/report"),
                    key: random_token(),
                    matters,
                    error: Some(e.message(staff.lang).to_string()),
                },
                status,
            )
        }
        Err(e) => Err(e),
    }
}
