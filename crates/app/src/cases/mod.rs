//! The case loop's use cases: reporting ([`report`]), acting ([`act`], [`perform`]), reading one
//! case ([`get`]) and lists ([`list`], [`page`], [`export`], [`inbox`]), photos ([`attachment`]),
//! automatic supervision ([`supervision`]), the grid worker's work ([`gridworker`], [`patrols`]),
//! the Open311 channel ([`open311`]), and the rules every door of the loop shares: where a report
//! is ([`place`]), the open duplicates nearby ([`duplicates_near`]), who works on cases
//! ([`check_case_worker`]), who may see a case ([`can_see`], [`visible_case`],
//! [`visible_within`]) and telling the live views ([`publish`]).

mod act;
pub mod attachment;
mod dossier;
pub mod gridworker;
pub mod inbox;
pub(crate) mod list;
pub mod open311;
pub mod patrols;
mod place;
mod report;
pub mod supervision;
mod view;

use chrono::{DateTime, Utc};
use gongzhi_core::cases::UnitRef;
use gongzhi_core::cases::flow::{Case, CaseNumber};
use gongzhi_core::cases::rules::{CaseRules, distance_m};
use gongzhi_core::cases::taxonomy::TypeCode;
use gongzhi_core::people::resident::resident_id;
use gongzhi_core::people::{Actor, Role, Scope};
use gongzhi_core::{ErrorCode, Lang, Localized};
use serde_json::{Value, json};

use crate::people::api_keys::is_key_actor;
use crate::{App, AppError, CaseEvent};

pub use act::{Acted, act, check_action, flow_error, parse_action, perform};
pub use dossier::{Dossier, dossier, reporting_grids};
pub use list::{
    CaseQuery, EXPORT_CAP, OpenWithin, Sort, Start, cursor, export, list, open_within, page, visible_within,
};
pub use place::{Place, Placed, place};
pub use report::{Checked, RawReport, Report, Reported, check, report, reporting_channels};
pub use view::{CaseView, Step, events, get, steps};

// The records the store keeps, as the doors show them.
pub use gongzhi_store::cases::{COUNT_CAP, CaseKey, CasePage, CaseRecord, StoredEvent};
pub use gongzhi_store::{Attachment, Saved};

/// A matter's type code from the field `matter`, or a 400 naming it.
pub fn matter_code(text: &str) -> Result<TypeCode, AppError> {
    TypeCode::parse(text).map_err(|e| {
        AppError::new(
            ErrorCode::InvalidMatter,
            Some("matter"),
            e.message(Lang::Zh),
            e.message(Lang::En),
        )
    })
}

/// An idempotency key as sent (header or form field): 1 to 200 visible characters.
pub fn idempotency_key(field: &'static str, raw: Option<&str>) -> Result<Option<String>, AppError> {
    match raw.map(str::trim) {
        None => Ok(None),
        Some(k) if !k.is_empty() && k.len() <= 200 && k.chars().all(|c| !c.is_control()) => Ok(Some(k.to_string())),
        Some(_) => Err(AppError::new(
            ErrorCode::InvalidIdempotencyKey,
            Some(field),
            format!("{field} 应为1至200个可见字符"),
            format!("{field} must be 1 to 200 visible characters"),
        )),
    }
}

/// An open case of the same matter near a report's point.
#[derive(Debug, Clone)]
pub struct Duplicate {
    pub id: i64,
    pub number: CaseNumber,
    pub state: &'static str,
    /// Metres from the point, rounded.
    pub distance_m: f64,
    pub description: String,
    pub reported_at: DateTime<Utc>,
}

/// Open cases of the same matter near a point, reported within the matter's window. Shown to
/// someone (`seen_by`), only the cases they may see, and nothing to an account that works on no
/// case: a duplicate's number, state and description are the case's. `None` counts them for the
/// report's record, shown to no one.
pub async fn duplicates_near(
    app: &App,
    rules: &CaseRules,
    matter: &str,
    point: (f64, f64),
    now: DateTime<Utc>,
    seen_by: Option<&Actor>,
) -> Result<Vec<Duplicate>, AppError> {
    if let Some(actor) = seen_by {
        check_case_worker(actor)?;
    }
    let (radius, days) = rules.duplicates.for_matter(matter);
    let dlat = radius / 111_320.0;
    let dlon = radius / (111_320.0 * point.1.to_radians().cos().max(0.01));
    let candidates = app
        .db()
        .open_cases_in_box(
            matter,
            (point.0 - dlon, point.1 - dlat, point.0 + dlon, point.1 + dlat),
            now - chrono::Duration::days(days),
        )
        .await?;
    Ok(candidates
        .iter()
        .filter(|c| seen_by.is_none_or(|actor| can_see(actor, &c.flow)))
        .filter_map(|c| {
            let d = distance_m(point, (c.location.lon?, c.location.lat?));
            (d <= radius).then(|| Duplicate {
                id: c.id,
                number: c.flow.number.clone(),
                state: c.flow.state.as_str(),
                distance_m: d.round(),
                description: c.description.clone(),
                reported_at: c.reported_at,
            })
        })
        .collect())
}

/// A unit as JSON, with the department's name from the rules when it is a department.
pub fn unit_json(unit: &UnitRef, rules: &CaseRules) -> Value {
    let name = match unit {
        UnitRef::Department(d) => rules.departments.get(d).map(|d| d.name.clone()),
        _ => None,
    };
    let mut j = serde_json::to_value(unit).unwrap_or(Value::Null);
    if let Some(n) = name {
        j["name"] = json!(n);
    }
    j
}

/// Tells the live views (event streams, inbox counts) that a case changed; call after commit.
pub fn publish(app: &App, record: &CaseRecord, kind: &str) {
    app.events.publish(CaseEvent {
        case_id: record.id,
        case_no: record.flow.number.to_string(),
        state: record.flow.state.as_str().to_string(),
        territory_code: record.flow.node.clone(),
        at: record.updated_at,
        kind: kind.to_string(),
        lead_unit: record.flow.lead.as_ref().map(UnitRef::key),
    });
}

/// Refuses a member of staff who holds no working role (the three administrators, an exporter
/// of personal data without one): they administer, they do not work on cases (三员分立,
/// security-cn.md §1.10), so they neither read a case nor report one nor upload or read its
/// photos (403). Residents and integrations' keys come through their own doors, which check
/// them.
pub fn check_case_worker(actor: &Actor) -> Result<(), AppError> {
    let outside_staff = resident_id(&actor.account).is_some() || is_key_actor(&actor.account);
    if outside_staff || actor.grants.iter().any(|g| Role::WORKING.contains(&g.role)) {
        return Ok(());
    }
    Err(AppError::new(
        ErrorCode::NotACaseWorker,
        None,
        "您的账户不办理案件：系统管理员、安全管理员、审计管理员（及个人信息导出员）不能查看或上报案件、上传或查看照片",
        "your account does not work on cases: the system, security and audit administrators (and personal-data exporters) neither read nor report cases nor upload or read photos",
    ))
}

/// Whether the actor may see a case: a working role reaching its place, or its department
/// handles it (an administrator's grant or a security permission shows no case).
pub fn can_see(actor: &Actor, case: &Case) -> bool {
    let mut working = actor.grants.iter().filter(|g| Role::WORKING.contains(&g.role));
    working.any(|g| match &g.scope {
        Scope::Territory(_) => g.scope.reaches(&case.node),
        Scope::Department(d) => {
            let unit = UnitRef::Department(d.clone());
            case.lead.as_ref() == Some(&unit) || case.co_handlers.contains(&unit)
        }
        Scope::Organization(o) => {
            let unit = UnitRef::Organization(*o);
            case.lead.as_ref() == Some(&unit) || case.co_handlers.contains(&unit)
        }
    })
}

/// A case by id or by its 13-digit number, if the actor may see it (otherwise 404 as if absent).
pub async fn visible_case(app: &App, actor: &Actor, id: &str) -> Result<CaseRecord, AppError> {
    check_case_worker(actor)?;
    let found = if id.len() == 13 {
        let number = CaseNumber::parse(id)
            .map_err(|e| AppError::new(e.code(), Some("id"), e.message(Lang::Zh), e.message(Lang::En)))?;
        app.db().case_by_number(&number).await?
    } else {
        let n: i64 = id.parse().map_err(|_| AppError::not_a_number("id", id))?;
        app.db().case_by_id(n).await?
    };
    found.filter(|r| can_see(actor, &r.flow)).ok_or_else(|| {
        AppError::new(
            ErrorCode::UnknownCase,
            Some("id"),
            format!("案件 {id} 不存在或不在您的权限范围内"),
            format!("no case {id} in your scope"),
        )
    })
}
