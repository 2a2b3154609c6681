//! Reading one case: the case with its timeline, its followers and the duplicates merged into it.

use chrono::{DateTime, Utc};
use gongzhi_core::Lang;
use gongzhi_core::cases::WorkClock;
use gongzhi_core::cases::flow::{ActionKind, State as CaseState};
use gongzhi_core::people::Actor;
use gongzhi_store::cases::{CaseRecord, StoredEvent};
use serde_json::{Value, json};

use super::visible_case;
use crate::{App, AppError};

/// One case as the reader sees it.
#[derive(Debug, Clone)]
pub struct CaseView {
    pub record: CaseRecord,
    /// Its stored events, oldest first (see [`steps`] for the timeline).
    pub events: Vec<StoredEvent>,
    /// Residents who follow it ("me too"): how many, never who.
    pub followers: i64,
    /// Duplicates merged into it: their reporters follow this one now.
    pub merged: Vec<CaseRecord>,
}

/// The case `id` (its id or 13-digit number) with its history, if `actor` may see it (otherwise
/// 404 as if absent).
pub async fn get(app: &App, actor: &Actor, id: &str) -> Result<CaseView, AppError> {
    let record = visible_case(app, actor, id).await?;
    // Three lookups by index, independent of each other: side by side, a view waits for the
    // slowest of them rather than for their sum.
    let db = app.db();
    let (events, followers, merged) = tokio::try_join!(
        db.case_events(record.id),
        db.follower_count(record.id),
        db.merged_into(&record.flow.number)
    )?;
    Ok(CaseView {
        record,
        events,
        followers,
        merged,
    })
}

/// The stored events of a case the door already found for the reader (a resident's own report).
pub async fn events(app: &App, record: &CaseRecord) -> Result<Vec<StoredEvent>, AppError> {
    Ok(app.db().case_events(record.id).await?)
}

/// One step of a case's timeline: who, which unit, when, and how long it took against its limit.
#[derive(Debug, Clone)]
pub struct Step {
    pub revision: i32,
    pub at: DateTime<Utc>,
    pub account: String,
    /// The role and unit as the event recorded them (`"shift_lead"`, `{"kind", "code"}`).
    pub role: Value,
    pub unit: Value,
    pub kind: String,
    pub label: String,
    pub from: Option<String>,
    pub to: String,
    pub to_label: Option<&'static str>,
    /// Working minutes since the step before.
    pub work_minutes: Option<i64>,
    /// Working minutes the step was allowed: from the step before to the deadline in force.
    pub limit_minutes: Option<i64>,
    pub step_deadline: Option<DateTime<Utc>>,
    pub late: Option<bool>,
    /// The action's payload (reason, result, photos …), or the report's facts.
    pub detail: Value,
}

/// The timeline of a case from its stored events, oldest first.
pub fn steps(events: &[StoredEvent], clock: &dyn WorkClock, lang: Lang) -> Vec<Step> {
    let mut previous: Option<DateTime<Utc>> = None;
    events
        .iter()
        .map(|e| {
            let body = e.body();
            let step_deadline = body
                .get("step_deadline")
                .and_then(|v| v.as_str())
                .and_then(|s| s.parse::<DateTime<Utc>>().ok());
            let label = serde_json::from_value::<ActionKind>(json!(e.kind))
                .map(|k| k.label(lang).to_string())
                .unwrap_or_else(|_| match e.kind.as_str() {
                    "note" => lang.pick("补充说明", "note").to_string(),
                    _ => lang.pick("上报", "report").to_string(),
                });
            let step = Step {
                revision: e.revision,
                at: e.at,
                account: e.account.clone(),
                role: body.get("role").cloned().unwrap_or(Value::Null),
                unit: body.get("unit").cloned().unwrap_or(Value::Null),
                kind: e.kind.clone(),
                label,
                from: e.from_state.clone(),
                to: e.to_state.clone(),
                to_label: CaseState::parse(&e.to_state).map(|s| s.label(lang)),
                work_minutes: previous.map(|p| clock.work_minutes(p, e.at)),
                limit_minutes: previous.zip(step_deadline).map(|(p, d)| clock.work_minutes(p, d)),
                step_deadline,
                late: step_deadline.map(|d| e.at > d),
                detail: body.get("action").cloned().unwrap_or(body),
            };
            previous = Some(e.at);
            step
        })
        .collect()
}
