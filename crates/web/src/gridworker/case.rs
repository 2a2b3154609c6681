//! The grid worker's phone case page: a case in my grids with the grid worker's actions that the
//! loop allows now (核实 `verified`, 自行处置 `self_handle`, 核查通过 `check_pass`, 核查不通过
//! `check_fail`) as forms with camera photos, each through [`cases::perform`].

use crate::json::Query;
use askama::Template;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use gongzhi_app::AppError;
use gongzhi_app::cases::gridworker::my_case;
use gongzhi_app::cases::{self, Acted, CaseRecord};
use gongzhi_core::ErrorCode;
use serde::Deserialize;
use serde_json::json;

use super::{GChrome, matter_name, render};
use crate::cases::pages::{read_form, save_photos};
use crate::pages::local_time;
use crate::people::session::Staff;
use crate::{ApiError, AppState};

/// The grid worker's actions, in the order the page offers them: (action, 中文, English, needs
/// a reason, needs a photo).
const ACTIONS: [(&str, &str, &str, bool, bool); 4] = [
    ("verified", "核实属实", "Verified", false, false),
    (
        "self_handle",
        "自行处置（附处置后照片）",
        "Fixed it myself (photo after)",
        false,
        true,
    ),
    ("check_pass", "核查通过", "Check passed", false, false),
    ("check_fail", "核查不通过（返工）", "Check failed (rework)", true, false),
];

pub struct ActionForm {
    pub action: &'static str,
    pub label: &'static str,
    pub reason: bool,
    pub photo: bool,
}

#[derive(Template)]
#[template(path = "gridworker/case.html")]
struct CasePage {
    c: GChrome,
    id: i64,
    number: String,
    matter: String,
    state: &'static str,
    description: String,
    place: String,
    reported_at: String,
    forms: Vec<ActionForm>,
    done: String,
    error: Option<String>,
}

/// The grid worker's actions the loop would take now (a dummy photo/reason stands in for
/// what the form will carry; photos are checked again when performing).
fn available(state: &AppState, staff: &Staff, record: &CaseRecord) -> Vec<ActionForm> {
    ACTIONS
        .iter()
        .filter(|(action, _, _, reason, photo)| {
            let mut raw = json!({"action": action});
            if *reason {
                raw["reason"] = json!("-");
            }
            if *photo {
                raw["photos"] = json!(["1"]);
            }
            cases::parse_action(raw)
                .and_then(|action| cases::check_action(state, &staff.actor, record, action))
                .is_ok()
        })
        .map(|(action, zh, en, reason, photo)| ActionForm {
            action,
            label: staff.lang.pick(zh, en),
            reason: *reason,
            photo: *photo,
        })
        .collect()
}

fn page(state: &AppState, staff: &Staff, record: &CaseRecord, done: String, error: Option<String>) -> CasePage {
    let l = &record.location;
    let place = [&l.address, &l.grid, &l.community]
        .iter()
        .find_map(|v| v.as_ref().cloned())
        .unwrap_or_else(|| record.flow.node.to_string());
    CasePage {
        c: GChrome::of(staff, "/g/"),
        id: record.id,
        number: record.flow.number.to_string(),
        matter: matter_name(state, &record.flow.matter),
        state: record.flow.state.label(staff.lang),
        description: record.description.clone(),
        place,
        reported_at: local_time(record.reported_at),
        forms: available(state, staff, record),
        done,
        error,
    }
}

#[derive(Deserialize, Default)]
pub struct DoneQuery {
    done: Option<String>,
}

/// `GET /g/cases/{id}`
pub async fn show(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, ApiError> {
    let record = my_case(&state, &staff.actor, &id).await?;
    render(
        page(&state, &staff, &record, q.done.unwrap_or_default(), None),
        StatusCode::OK,
    )
}

/// `POST /g/cases/{id}/act`: one of the grid worker's actions, with its photos.
pub async fn act(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let record = my_case(&state, &staff.actor, &id).await?;
    let posted = read_form(&state, request).await?;
    staff.check_csrf(posted.get("csrf").unwrap_or(""))?;
    let action = posted.get("action").unwrap_or("");
    let outcome = async {
        let Some(&(name, _, _, reason, _)) = ACTIONS.iter().find(|a| a.0 == action) else {
            return Err(AppError::new(
                ErrorCode::InvalidField,
                Some("action"),
                format!("网格员不能做 {action}"),
                format!("{action:?} is not a grid worker's action here"),
            ));
        };
        let mut raw = json!({"action": name});
        if reason {
            raw["reason"] = json!(posted.get("reason").unwrap_or(""));
        }
        if let Some(note) = posted.get("note") {
            raw["note"] = json!(note);
        }
        // Asked first, so a refused action stores no photos.
        let mut probe = raw.clone();
        if name == "self_handle" {
            probe["photos"] = json!(["1"]);
        }
        cases::check_action(&state, &staff.actor, &record, cases::parse_action(probe)?)?;
        raw["photos"] = json!(save_photos(&state, &staff.actor, &posted, "photos").await?);
        cases::perform(&state, &staff.actor, record.clone(), cases::parse_action(raw)?).await
    }
    .await;
    match outcome {
        Ok(Acted { record: updated, .. }) => {
            Ok(Redirect::to(&format!("/g/cases/{}?done={action}", updated.id)).into_response())
        }
        Err(e) if e.http_status().is_client_error() => {
            let status = e.http_status();
            render(
                page(
                    &state,
                    &staff,
                    &record,
                    String::new(),
                    Some(e.message(staff.lang).to_string()),
                ),
                status,
            )
        }
        Err(e) => Err(e),
    }
}
