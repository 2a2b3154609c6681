//! Who may do what (cn-governance §1.3), and in which states an action makes sense.
//!
//! | action | who |
//! |---|---|
//! | accept, send to verify, review self-handling | intake clerk (受理员) |
//! | reject | intake clerk (不予受理) or shift lead (不予立案) |
//! | verify (核实), self-handle (自处置) | grid worker (监督员) |
//! | register (立案), approve/deny cancel (作废审批), reopen (重办) | shift lead (值班长) |
//! | dispatch, approve/deny return, extension, suspension; resume | dispatcher (派遣员) |
//! | acknowledge, report back, request return/extension/suspension; resume | the lead handler |
//! | check (核查) | grid worker, community worker, street staff |
//! | close (结案) | shift lead, community worker, street staff |
//! | request cancel | intake clerk, dispatcher, shift lead |
//! | follow up (回访) | intake clerk, shift lead, community worker; the resident who reported it (rating) |
//! | merge a duplicate | intake clerk, shift lead |
//! | whistle (吹哨) | street staff, community worker |
//! | report in (报到) | a handler of the summoned department |
//! | supervise (督办) | dispatcher, leader |
//!
//! A territorial role counts when held at a node whose subtree contains the case's node. The lead
//! handler is whoever acts for the lead unit: a department's handler, street staff or a community
//! worker over the street or community, the grid's grid worker. Nobody checks or closes a case
//! their own unit handles: the separation of supervision from execution (the "two axes", §1.1),
//! which matters when a street is the lead handler of a respond-on-receipt case.

use super::action::{Action, ActionKind};
use super::case::{Case, FollowUp, RequestKind};
use super::error::FlowError;
use super::state::State;
use crate::cases::UnitRef;
use crate::people::{Actor, Grant, Role, Scope};
use crate::territory::TerritoryCode;

/// The grant under which an action was allowed, and the unit the actor acted for, if any: the
/// event records both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority {
    pub grant: Grant,
    pub unit: Option<UnitRef>,
}

/// Who may take an action: the table above as data, which inboxes read too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// Holders of these roles over the case's place.
    Roles(&'static [Role]),
    /// Whoever acts for the lead unit.
    Lead,
    /// The lead unit, or holders of these roles.
    LeadOr(&'static [Role]),
    /// A handler of a department a whistle summoned.
    Summoned,
    /// Holders of these roles, or the resident who reported the case (as [`Role::Resident`]).
    RolesOrReporter(&'static [Role]),
}

/// Who may take `kind`.
pub fn who(kind: ActionKind) -> Who {
    use ActionKind as K;
    use Role::*;
    match kind {
        K::Accept | K::SendToVerify | K::ApproveSelfHandling | K::DenySelfHandling => Who::Roles(&[IntakeClerk]),
        K::Reject | K::MergeInto => Who::Roles(&[IntakeClerk, ShiftLead]),
        K::Verified | K::SelfHandle => Who::Roles(&[GridWorker]),
        K::Register | K::ApproveCancel | K::DenyCancel | K::Reopen => Who::Roles(&[ShiftLead]),
        K::Dispatch
        | K::ApproveReturn
        | K::DenyReturn
        | K::ApproveExtension
        | K::DenyExtension
        | K::ApproveSuspension
        | K::DenySuspension => Who::Roles(&[Dispatcher]),
        K::Acknowledge | K::ReportBack | K::RequestReturn | K::RequestExtension | K::RequestSuspension => Who::Lead,
        K::Resume => Who::LeadOr(&[Dispatcher]),
        K::CheckPass | K::CheckFail => Who::Roles(&[GridWorker, CommunityWorker, StreetStaff]),
        K::Close => Who::Roles(&[ShiftLead, CommunityWorker, StreetStaff]),
        K::RequestCancel => Who::Roles(&[IntakeClerk, Dispatcher, ShiftLead]),
        K::FollowUp => Who::RolesOrReporter(&[IntakeClerk, ShiftLead, CommunityWorker]),
        K::Whistle => Who::Roles(&[StreetStaff, CommunityWorker]),
        K::ReportIn => Who::Summoned,
        K::Supervise => Who::Roles(&[Dispatcher, Leader]),
    }
}

/// Whether `kind` can apply to a case in its current state (payload and permission aside).
pub fn state_allows(state: State, kind: ActionKind) -> bool {
    use ActionKind as K;
    use State::*;
    if let Some((request, _)) = kind.decides() {
        return request.valid_in(state);
    }
    match kind {
        K::Accept | K::SelfHandle => state == Reported,
        K::Reject => matches!(state, Reported | Accepted | Verifying),
        K::SendToVerify | K::Register => state == Accepted,
        K::Verified => state == Verifying,
        K::Dispatch => state == Registered,
        K::Acknowledge => state == Dispatched,
        K::RequestReturn => RequestKind::Return.valid_in(state),
        K::RequestExtension | K::RequestSuspension | K::ReportBack => state == Handling,
        K::Resume => state == Suspended,
        K::CheckPass | K::CheckFail => state == ReportedBack,
        K::Close => state == Passed,
        K::FollowUp | K::Reopen => state == Closed,
        K::MergeInto => matches!(state, Reported | Accepted | Verifying | Registered),
        K::Whistle => matches!(state, Dispatched | Handling),
        K::RequestCancel | K::ReportIn | K::Supervise => state.is_open(),
        _ => unreachable!("decisions handled above"),
    }
}

/// The grant through which `actor` acts for `unit`, if any.
pub fn acts_for(actor: &Actor, unit: &UnitRef) -> Option<Grant> {
    actor
        .grants
        .iter()
        .find(|g| match unit {
            UnitRef::Department(d) => g.role == Role::DepartmentHandler && g.scope == Scope::Department(d.clone()),
            UnitRef::Territory(t) => matches!(g.role, Role::StreetStaff | Role::CommunityWorker) && g.scope.reaches(t),
            UnitRef::GridWorker(grid) => {
                g.role == Role::GridWorker && g.scope.reaches(&TerritoryCode::Grid(grid.clone()))
            }
            UnitRef::Organization(o) => g.role == Role::Liaison && g.scope == Scope::Organization(*o),
        })
        .cloned()
}

fn role_over(actor: &Actor, roles: &[Role], node: &TerritoryCode) -> Option<Grant> {
    // The first listed role wins, so an event names the role the table gives first.
    roles.iter().find_map(|role| {
        actor
            .grants
            .iter()
            .find(|g| g.role == *role && g.scope.reaches(node))
            .cloned()
    })
}

/// May `actor` do `action` to `case`? (The state is checked separately, by `state_allows`.)
pub fn authorize(case: &Case, action: &Action, actor: &Actor) -> Result<Authority, FlowError> {
    let kind = action.kind();
    let denied = || FlowError::NotPermitted {
        action: kind,
        account: actor.account.clone(),
    };
    let as_lead = || {
        let lead = case.lead.as_ref()?;
        acts_for(actor, lead).map(|grant| Authority {
            grant,
            unit: Some(lead.clone()),
        })
    };
    let by_role = |roles: &[Role]| role_over(actor, roles, &case.node).map(|grant| Authority { grant, unit: None });
    let authority = match who(kind) {
        Who::Roles(roles) => by_role(roles),
        Who::Lead => as_lead(),
        Who::LeadOr(roles) => as_lead().or_else(|| by_role(roles)),
        Who::RolesOrReporter(roles) => by_role(roles).or_else(|| {
            (case.resident.as_deref() == Some(actor.account.as_str())).then(|| Authority {
                grant: Grant {
                    role: Role::Resident,
                    scope: Scope::Territory(case.node.clone()),
                },
                unit: None,
            })
        }),
        Who::Summoned => match action {
            Action::ReportIn { department } => {
                let unit = UnitRef::Department(department.clone());
                acts_for(actor, &unit).map(|grant| Authority {
                    grant,
                    unit: Some(unit),
                })
            }
            _ => None,
        },
    }
    .ok_or_else(denied)?;
    if matches!(kind, ActionKind::CheckPass | ActionKind::CheckFail | ActionKind::Close)
        && case.lead.as_ref().is_some_and(|lead| acts_for(actor, lead).is_some())
    {
        return Err(FlowError::OwnWork { action: kind });
    }
    Ok(authority)
}

/// The actions `actor` may take on `case` now, payload aside: for buttons on a page. (A reopen
/// outside the window is still offered: the window needs the policy and the time.)
pub fn available_actions(case: &Case, actor: &Actor) -> Vec<ActionKind> {
    ActionKind::ALL
        .into_iter()
        .filter(|k| state_allows(case.state, *k))
        .filter(|k| match k.decides() {
            Some((request, _)) => case.pending_request(request).is_some(),
            None => k.files().is_none_or(|request| case.pending_request(request).is_none()),
        })
        .filter(|k| match k {
            ActionKind::FollowUp => !case.follow_up.as_ref().is_some_and(|f| f.contacted),
            ActionKind::Reopen => case.follow_up.as_ref().is_some_and(FollowUp::unsettled),
            _ => true,
        })
        .filter(|k| match k {
            // Report-in depends on the department named in the payload.
            ActionKind::ReportIn => case
                .awaited_departments()
                .any(|(_, s)| acts_for(actor, &UnitRef::Department(s.department.clone())).is_some()),
            _ => authorize(case, &placeholder(*k), actor).is_ok(),
        })
        .collect()
}

/// An action of the given kind with an empty payload: permissions never depend on the payload
/// except for report-in, handled apart.
fn placeholder(kind: ActionKind) -> Action {
    use crate::cases::flow::case::{CaseNumber, ExtendBy, SupervisionLevel};
    use ActionKind as K;
    let s = String::new;
    match kind {
        K::Accept => Action::Accept,
        K::Reject => Action::Reject { reason: s() },
        K::SendToVerify => Action::SendToVerify,
        K::Verified => Action::Verified {
            note: s(),
            photos: vec![],
        },
        K::Register => Action::Register,
        K::Dispatch => Action::Dispatch {
            lead: UnitRef::Territory(TerritoryCode::parse("230900000000").expect("valid")),
            co_handlers: vec![],
            limits: None,
        },
        K::Acknowledge => Action::Acknowledge,
        K::RequestReturn => Action::RequestReturn { reason: s() },
        K::ApproveReturn => Action::ApproveReturn,
        K::DenyReturn => Action::DenyReturn { reason: s() },
        K::RequestExtension => Action::RequestExtension {
            extend_by: ExtendBy::Limit {
                limit: crate::cases::Limit {
                    amount: 1,
                    unit: crate::cases::LimitUnit::WorkDays,
                },
            },
            reason: s(),
        },
        K::ApproveExtension => Action::ApproveExtension,
        K::DenyExtension => Action::DenyExtension { reason: s() },
        K::RequestSuspension => Action::RequestSuspension { reason: s() },
        K::ApproveSuspension => Action::ApproveSuspension,
        K::DenySuspension => Action::DenySuspension { reason: s() },
        K::Resume => Action::Resume,
        K::SelfHandle => Action::SelfHandle {
            note: s(),
            photos: vec![],
        },
        K::ApproveSelfHandling => Action::ApproveSelfHandling,
        K::DenySelfHandling => Action::DenySelfHandling { reason: s() },
        K::ReportBack => Action::ReportBack {
            result: s(),
            photos: vec![],
        },
        K::CheckPass => Action::CheckPass { photos: vec![] },
        K::CheckFail => Action::CheckFail {
            reason: s(),
            photos: vec![],
        },
        K::Close => Action::Close,
        K::RequestCancel => Action::RequestCancel { reason: s() },
        K::ApproveCancel => Action::ApproveCancel,
        K::DenyCancel => Action::DenyCancel { reason: s() },
        K::FollowUp => Action::FollowUp {
            contacted: false,
            solved: None,
            satisfaction: None,
        },
        K::Reopen => Action::Reopen { reason: s() },
        K::MergeInto => Action::MergeInto {
            parent: CaseNumber::parse("2026010100001").expect("valid"),
        },
        K::Whistle => Action::Whistle {
            departments: vec![],
            report_in_by: None,
        },
        K::ReportIn => unreachable!("handled by the caller"),
        K::Supervise => Action::Supervise {
            level: SupervisionLevel::Normal,
            reason: s(),
        },
    }
}
