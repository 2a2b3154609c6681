//! Automatic supervision (自动督办): a periodic job that raises yellow and red orders on cases whose
//! handlers let them wait past the policy's thresholds. It acts through the same state machine and
//! store path as a person, so each order is a timeline entry with its audit entry.

use std::time::Duration;

use chrono::{DateTime, Utc};
use gongzhi_core::Lang;
use gongzhi_core::cases::UnitRef;
use gongzhi_core::cases::flow::{Action, FlowContext, State, apply, auto_supervision};
use gongzhi_core::people::{Actor, Grant, Role, Scope};
use gongzhi_core::territory::Level;
use gongzhi_store::StoreError;
use gongzhi_store::cases::{CaseFilter, CaseSort};

use crate::{App, AppError, CaseEvent};

/// The account the job acts as: a dispatcher of the whole city, named so in every record.
pub const SUPERVISION_ACCOUNT: &str = "system:supervision";

async fn job_actor(app: &App) -> Result<Option<Actor>, StoreError> {
    let city = app.db().nodes_at_level(Level::City).await?.into_iter().next();
    Ok(city.map(|c| Actor {
        account: SUPERVISION_ACCOUNT.into(),
        grants: vec![Grant {
            role: Role::Dispatcher,
            scope: Scope::Territory(c.code),
        }],
    }))
}

/// One pass over the cases waiting on a handler: raises every order that is due at `now`.
/// Returns how many orders it raised.
pub async fn run_once(app: &App, now: DateTime<Utc>) -> Result<usize, AppError> {
    let Some(audit_key) = app.audit_key() else {
        return Ok(0);
    };
    let Some(actor) = job_actor(app).await? else {
        return Ok(0);
    };
    let rules = app.rules();
    let mut raised = 0;
    let filter = CaseFilter {
        states: vec![State::Dispatched.as_str().into(), State::Handling.as_str().into()],
        ..Default::default()
    };
    // Keyset pages without their count: the job walks every waiting case once.
    let mut after = None;
    loop {
        let (cases, next) = app.db().keyset_page(&filter, CaseSort::Newest, after, 500, now).await?;
        for record in &cases {
            let due = {
                let ctx = FlowContext {
                    policy: &rules.policy,
                    clock: &rules.calendar,
                };
                auto_supervision(&record.flow, now, &rules.policy, &rules.calendar).and_then(|(level, trigger)| {
                    let action = Action::Supervise {
                        level,
                        reason: trigger.reason(Lang::Zh),
                    };
                    apply(&record.flow, action, &actor, now, &ctx).ok()
                })
            };
            let Some(applied) = due else { continue };
            match app.db().record_action(record.id, &applied, now, &audit_key).await {
                Ok(()) => {
                    raised += 1;
                    app.events.publish(CaseEvent {
                        case_id: record.id,
                        case_no: record.flow.number.to_string(),
                        state: applied.case.state.as_str().to_string(),
                        territory_code: record.flow.node.clone(),
                        at: now,
                        kind: "supervise".into(),
                        lead_unit: applied.case.lead.as_ref().map(UnitRef::key),
                    });
                }
                // Someone acted on the case meanwhile; the next pass looks again.
                Err(StoreError::Conflict { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        match next {
            Some(key) => after = Some(key),
            None => break,
        }
    }
    Ok(raised)
}

impl App {
    /// Runs automatic supervision ([`run_once`]) every `period`.
    pub fn spawn_supervision(&self, period: Duration) -> tokio::task::JoinHandle<()> {
        self.every(period, |app| async move {
            match run_once(&app, Utc::now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(orders = n, "automatic supervision orders raised"),
                Err(e) => tracing::warn!(error = %e, "automatic supervision pass failed"),
            }
        })
    }
}
