//! `apply`: one action on one case gives the new case and one event, or a typed error and no
//! change at all (the input case is only read).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::action::{Action, ActionKind};
use super::case::{
    Case, CaseNumber, Deadlines, ExtendBy, FollowUp, Request, RequestKind, Summons, SupervisionOrder, SuspensionPeriod,
    Whistle,
};
use super::clock::{next_deadline, shift};
use super::error::FlowError;
use super::permit::{Authority, authorize, state_allows};
use super::policy::{FlowPolicy, LimitKind};
use super::state::State;
use crate::cases::{Limit, UnitRef, WorkClock};
use crate::people::{Actor, Role, Scope};
use crate::territory::TerritoryCode;

/// What `apply` needs besides the case: the city's policy and its working clock.
///
/// The limits routing gave are not here but in the case (`Case::limits`, replaced at dispatch
/// when the dispatcher picks a unit): the responsibility list is versioned, and a case keeps the
/// limits it was routed under whatever the list says later.
#[derive(Clone, Copy)]
pub struct FlowContext<'a> {
    pub policy: &'a FlowPolicy,
    pub clock: &'a dyn WorkClock,
}

impl FlowContext<'_> {
    fn limit(&self, case: &Case, which: LimitKind) -> Limit {
        let given = match which {
            LimitKind::Response => case.limits.response,
            LimitKind::Handling => case.limits.handling,
            LimitKind::Verification => case.limits.verification,
        };
        given.unwrap_or_else(|| self.policy.default_limit(which))
    }

    fn deadline(&self, case: &Case, from: DateTime<Utc>, which: LimitKind) -> DateTime<Utc> {
        self.clock.deadline(from, self.limit(case, which))
    }
}

/// What happened: the timeline entry and the audit entry of one applied action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub case: CaseNumber,
    /// The case's revision after this event: events of a case are numbered 1, 2, 3 …
    pub revision: u32,
    pub at: DateTime<Utc>,
    pub account: String,
    /// The role and scope of the grant that allowed it.
    pub role: Role,
    pub scope: Scope,
    /// The handling unit the actor acted for (lead handler, summoned department), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<UnitRef>,
    pub kind: ActionKind,
    pub from: State,
    pub to: State,
    /// The action with its payload, as given.
    pub action: Action,
    /// The deadline of the step this action ended or acted in, if one ran (for "duration against
    /// its limit" on the timeline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_deadline: Option<DateTime<Utc>>,
    /// The deadlines in force afterwards.
    pub deadlines: Deadlines,
    /// Working minutes paused, on resuming.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_minutes: Option<i64>,
    /// Whether a report-in came after its deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late: Option<bool>,
    /// Requests withdrawn because the case left the states where they mean something.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withdrawn: Vec<RequestKind>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub case: Case,
    pub event: Event,
}

#[derive(Default)]
struct Effects {
    paused_minutes: Option<i64>,
    late: Option<bool>,
}

/// Applies `action` by `actor` at `now`. Checks, in order: the state, the actor's permission, the
/// payload; any failure returns its error and changes nothing.
pub fn apply(
    case: &Case,
    action: Action,
    actor: &Actor,
    now: DateTime<Utc>,
    ctx: &FlowContext<'_>,
) -> Result<Applied, FlowError> {
    let kind = action.kind();
    if !state_allows(case.state, kind) {
        return Err(FlowError::WrongState {
            action: kind,
            state: case.state,
        });
    }
    let Authority { grant, unit } = authorize(case, &action, actor)?;
    // A resident rating their own report answers it: there is no call that failed to reach them.
    if grant.role == Role::Resident && matches!(action, Action::FollowUp { contacted: false, .. }) {
        return Err(FlowError::BadFollowUp);
    }
    let mut next = case.clone();
    let mut fx = Effects::default();
    transition(&mut next, &action, &actor.account, now, ctx, &mut fx)?;

    let withdrawn: Vec<RequestKind> = next
        .pending
        .iter()
        .filter(|r| !r.kind.valid_in(next.state))
        .map(|r| r.kind)
        .collect();
    next.pending.retain(|r| r.kind.valid_in(next.state));
    next.revision = case.revision + 1;

    let event = Event {
        case: case.number.clone(),
        revision: next.revision,
        at: now,
        account: actor.account.clone(),
        role: grant.role,
        scope: grant.scope,
        unit,
        kind,
        from: case.state,
        to: next.state,
        action,
        step_deadline: next_deadline(case),
        deadlines: next.deadlines,
        paused_minutes: fx.paused_minutes,
        late: fx.late,
        withdrawn,
    };
    Ok(Applied { case: next, event })
}

fn need_text(text: &str, err: FlowError) -> Result<(), FlowError> {
    if text.trim().is_empty() { Err(err) } else { Ok(()) }
}

fn need_reason(text: &str, action: ActionKind) -> Result<(), FlowError> {
    need_text(text, FlowError::MissingReason { action })
}

fn need_photos(photos: &[String], action: ActionKind) -> Result<(), FlowError> {
    if photos.iter().any(|p| !p.trim().is_empty()) {
        Ok(())
    } else {
        Err(FlowError::MissingPhotos { action })
    }
}

fn request(kind: RequestKind, by: &str, at: DateTime<Utc>, reason: &str) -> Request {
    Request {
        kind,
        by: by.to_string(),
        at,
        reason: reason.to_string(),
        extend_by: None,
        photos: Vec::new(),
    }
}

fn file_request(case: &mut Case, req: Request) -> Result<(), FlowError> {
    if case.pending_request(req.kind).is_some() {
        return Err(FlowError::AlreadyPending { kind: req.kind });
    }
    case.pending.push(req);
    Ok(())
}

fn take_request(case: &mut Case, kind: RequestKind) -> Result<Request, FlowError> {
    let i = case
        .pending
        .iter()
        .position(|r| r.kind == kind)
        .ok_or(FlowError::NoPendingRequest { kind })?;
    Ok(case.pending.remove(i))
}

fn finish(case: &mut Case, state: State, now: DateTime<Utc>) {
    case.state = state;
    case.closed_at = Some(now);
}

fn transition(
    case: &mut Case,
    action: &Action,
    by: &str,
    now: DateTime<Utc>,
    ctx: &FlowContext<'_>,
    fx: &mut Effects,
) -> Result<(), FlowError> {
    let kind = action.kind();
    match action {
        Action::Accept => case.state = State::Accepted,
        Action::Reject { reason } => {
            need_reason(reason, kind)?;
            finish(case, State::Rejected, now);
        }
        Action::SendToVerify => {
            case.state = State::Verifying;
            case.deadlines.verification = Some(ctx.deadline(case, now, LimitKind::Verification));
        }
        Action::Verified { .. } => {
            case.state = State::Accepted;
            case.deadlines.verification = None;
        }
        Action::Register => case.state = State::Registered,
        Action::Dispatch {
            lead,
            co_handlers,
            limits,
        } => {
            let mut seen = vec![lead];
            for co in co_handlers {
                if seen.contains(&co) {
                    return Err(FlowError::BadHandlers);
                }
                seen.push(co);
            }
            if let Some(limits) = limits {
                case.limits = *limits;
            }
            case.state = State::Dispatched;
            case.lead = Some(lead.clone());
            case.co_handlers = co_handlers.clone();
            case.dispatched_at = Some(now);
            case.acknowledged_at = None;
            case.handling_since = None;
            // The handling clock starts at dispatch (cn-governance §1.2, step 3), not at acknowledgement.
            case.deadlines.response = Some(ctx.deadline(case, now, LimitKind::Response));
            case.deadlines.handling = Some(ctx.deadline(case, now, LimitKind::Handling));
        }
        Action::Acknowledge => {
            case.state = State::Handling;
            case.acknowledged_at = Some(now);
            case.handling_since = Some(now);
        }
        Action::RequestReturn { reason } => {
            need_reason(reason, kind)?;
            file_request(case, request(RequestKind::Return, by, now, reason))?;
        }
        Action::RequestExtension { extend_by, reason } => {
            need_reason(reason, kind)?;
            let current = case.deadlines.handling.unwrap_or(now);
            let gives_more = match extend_by {
                ExtendBy::Limit { limit } => limit.amount > 0,
                ExtendBy::Until { deadline } => *deadline > current && *deadline > now,
            };
            if !gives_more {
                return Err(FlowError::BadExtension);
            }
            let mut req = request(RequestKind::Extension, by, now, reason);
            req.extend_by = Some(*extend_by);
            file_request(case, req)?;
        }
        Action::RequestSuspension { reason } => {
            need_reason(reason, kind)?;
            file_request(case, request(RequestKind::Suspension, by, now, reason))?;
        }
        Action::RequestCancel { reason } => {
            need_reason(reason, kind)?;
            file_request(case, request(RequestKind::Cancel, by, now, reason))?;
        }
        Action::SelfHandle { note, photos } => {
            need_photos(photos, kind)?;
            let mut req = request(RequestKind::SelfHandling, by, now, note);
            req.photos = photos.clone();
            file_request(case, req)?;
        }
        Action::DenyReturn { reason }
        | Action::DenyExtension { reason }
        | Action::DenySuspension { reason }
        | Action::DenyCancel { reason }
        | Action::DenySelfHandling { reason } => {
            need_reason(reason, kind)?;
            let (request, _) = kind.decides().expect("a decision");
            take_request(case, request)?;
            if request == RequestKind::SelfHandling {
                // Not fixed after all: the report goes through the normal loop, already taken in.
                case.state = State::Accepted;
            }
        }
        Action::ApproveReturn => {
            take_request(case, RequestKind::Return)?;
            case.state = State::Registered;
            case.lead = None;
            case.co_handlers.clear();
            case.dispatched_at = None;
            case.acknowledged_at = None;
            case.handling_since = None;
            case.deadlines.response = None;
            case.deadlines.handling = None;
            case.return_count += 1;
        }
        Action::ApproveExtension => {
            let req = take_request(case, RequestKind::Extension)?;
            let current = case.deadlines.handling.unwrap_or(now);
            case.deadlines.handling = Some(match req.extend_by.expect("filed with extend_by") {
                ExtendBy::Limit { limit } => ctx.clock.deadline(current, limit),
                ExtendBy::Until { deadline } => deadline,
            });
            case.extension_count += 1;
        }
        Action::ApproveSuspension => {
            let req = take_request(case, RequestKind::Suspension)?;
            case.state = State::Suspended;
            case.suspensions.push(SuspensionPeriod {
                from: now,
                until: None,
                reason: req.reason,
                paused_minutes: None,
            });
        }
        Action::Resume => {
            let paused = end_suspension(case, now, ctx.clock);
            case.deadlines.handling = case.deadlines.handling.map(|d| shift(ctx.clock, d, paused));
            case.state = State::Handling;
            fx.paused_minutes = Some(paused);
        }
        Action::ApproveSelfHandling => {
            take_request(case, RequestKind::SelfHandling)?;
            // The grid worker who fixed it is on record as the handler, so a reopened case goes back to them.
            if let TerritoryCode::Grid(g) = &case.node {
                case.lead = Some(UnitRef::GridWorker(g.clone()));
            }
            finish(case, State::Closed, now);
        }
        Action::ApproveCancel => {
            take_request(case, RequestKind::Cancel)?;
            if case.state == State::Suspended {
                end_suspension(case, now, ctx.clock);
            }
            finish(case, State::Cancelled, now);
        }
        Action::ReportBack { result, photos } => {
            need_text(result, FlowError::MissingResult)?;
            if ctx.policy.report_back_needs_photos {
                need_photos(photos, kind)?;
            }
            case.state = State::ReportedBack;
            case.deadlines.verification = Some(ctx.deadline(case, now, LimitKind::Verification));
        }
        Action::CheckPass { .. } => {
            case.state = State::Passed;
            case.deadlines.verification = None;
        }
        Action::CheckFail { reason, .. } => {
            need_reason(reason, kind)?;
            // Rework gets a fresh handling limit from now: the department redoes the work under
            // the same limit it had, and the rework count records that it had to.
            case.state = State::Handling;
            case.rework_count += 1;
            case.handling_since = Some(now);
            case.deadlines.verification = None;
            case.deadlines.handling = Some(ctx.deadline(case, now, LimitKind::Handling));
        }
        Action::Close => finish(case, State::Closed, now),
        Action::FollowUp {
            contacted,
            solved,
            satisfaction,
        } => {
            let consistent = if *contacted {
                solved.is_some() && satisfaction.is_some()
            } else {
                solved.is_none() && satisfaction.is_none()
            };
            if !consistent {
                return Err(FlowError::BadFollowUp);
            }
            // A failed call may be retried; once the reporter answered, that answer stands.
            if case.follow_up.as_ref().is_some_and(|f| f.contacted) {
                return Err(FlowError::FollowUpDone);
            }
            case.follow_up = Some(FollowUp {
                contacted: *contacted,
                solved: *solved,
                satisfaction: *satisfaction,
                by: by.to_string(),
                at: now,
            });
        }
        Action::Reopen { reason } => {
            need_reason(reason, kind)?;
            let closed_at = case.closed_at.expect("a closed case has closed_at");
            let days = ctx.policy.reopen_window_days;
            if days == 0 || now - closed_at > Duration::days(i64::from(days)) {
                return Err(FlowError::OutsideReopenWindow { closed_at, days });
            }
            if !case.follow_up.as_ref().is_some_and(FollowUp::unsettled) {
                return Err(FlowError::NotUnsettled);
            }
            case.reopen_count += 1;
            case.closed_at = None;
            case.follow_up = None;
            case.deadlines.verification = None;
            if case.lead.is_some() {
                case.state = State::Handling;
                case.handling_since = Some(now);
                case.deadlines.handling = Some(ctx.deadline(case, now, LimitKind::Handling));
            } else {
                case.state = State::Registered;
            }
        }
        Action::MergeInto { parent } => {
            if *parent == case.number {
                return Err(FlowError::MergeIntoSelf);
            }
            case.merged_into = Some(parent.clone());
            finish(case, State::Merged, now);
        }
        Action::Whistle {
            departments,
            report_in_by,
        } => {
            let distinct = departments
                .iter()
                .enumerate()
                .all(|(i, d)| !departments[..i].contains(d));
            if departments.is_empty() || !distinct {
                return Err(FlowError::BadSummons);
            }
            let by_when = match report_in_by {
                Some(t) if *t <= now => return Err(FlowError::ReportInInPast),
                Some(t) => *t,
                None => now + Duration::minutes(i64::from(ctx.policy.whistle_report_in_minutes.get())),
            };
            for d in departments {
                let unit = UnitRef::Department(d.clone());
                if case.lead.as_ref() != Some(&unit) && !case.co_handlers.contains(&unit) {
                    case.co_handlers.push(unit);
                }
            }
            case.whistles.push(Whistle {
                blown_by: by.to_string(),
                blown_at: now,
                report_in_by: by_when,
                summons: departments
                    .iter()
                    .map(|d| Summons {
                        department: d.clone(),
                        arrived_at: None,
                    })
                    .collect(),
            });
        }
        Action::ReportIn { department } => {
            let (whistle, summons) = case
                .whistles
                .iter_mut()
                .find_map(|w| {
                    let by_when = w.report_in_by;
                    w.summons
                        .iter_mut()
                        .find(|s| &s.department == department && s.arrived_at.is_none())
                        .map(|s| (by_when, s))
                })
                .ok_or_else(|| FlowError::NotSummoned {
                    department: department.clone(),
                })?;
            summons.arrived_at = Some(now);
            fx.late = Some(now > whistle);
        }
        Action::Supervise { level, reason } => {
            need_reason(reason, kind)?;
            if let Some(current) = case.supervision
                && *level < current
            {
                return Err(FlowError::SupervisionLowered {
                    current,
                    requested: *level,
                });
            }
            case.supervision = Some(*level);
            case.supervision_history.push(SupervisionOrder {
                level: *level,
                reason: reason.clone(),
                by: by.to_string(),
                at: now,
            });
        }
    }
    Ok(())
}

/// Ends the open suspension at `now`; returns the working minutes it paused.
fn end_suspension(case: &mut Case, now: DateTime<Utc>, clock: &dyn WorkClock) -> i64 {
    let period = case
        .suspensions
        .iter_mut()
        .rev()
        .find(|s| s.until.is_none())
        .expect("a suspended case has an open suspension");
    let paused = clock.work_minutes(period.from, now);
    period.until = Some(now);
    period.paused_minutes = Some(paused);
    paused
}
