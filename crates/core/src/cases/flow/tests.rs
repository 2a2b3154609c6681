//! One test per transition, legal and illegal, written as what people at the command centre, in
//! the grid and in the departments do.

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::*;
use crate::cases::{Limit, LimitUnit, UnitRef, WorkClock};
use crate::i18n::{Lang, Localized};
use crate::orgs::DepartmentCode;
use crate::people::{Actor, Grant, Role, Scope};
use crate::territory::{GridCode, TerritoryCode};

/// Every minute is a working minute and a working day is 1,440 of them, so tests do not depend on
/// the calendar.
pub(super) struct EveryMinute;

impl WorkClock for EveryMinute {
    fn deadline(&self, start: DateTime<Utc>, limit: Limit) -> DateTime<Utc> {
        let minutes = match limit.unit {
            LimitUnit::WorkMinutes => 1,
            LimitUnit::WorkHours => 60,
            LimitUnit::WorkDays | LimitUnit::NaturalDays => 1440,
        };
        start + Duration::minutes(i64::from(limit.amount) * minutes)
    }
    fn work_minutes(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> i64 {
        (end - start).num_minutes().max(0)
    }
}

pub(super) const GRID: &str = "230903011001007";
const OTHER_GRID: &str = "230903011001008";
const COMMUNITY: &str = "230903011001";
const STREET: &str = "230903011000";
const CITY: &str = "230900000000";

pub(super) fn t(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap() + Duration::minutes(minutes)
}

fn node(code: &str) -> TerritoryCode {
    TerritoryCode::parse(code).unwrap()
}

pub(super) fn dept(code: &str) -> DepartmentCode {
    DepartmentCode::parse(code).unwrap()
}

fn person(account: &str, role: Role, scope: Scope) -> Actor {
    Actor {
        account: account.into(),
        grants: vec![Grant { role, scope }],
    }
}

fn at(code: &str) -> Scope {
    Scope::Territory(node(code))
}

pub(super) fn clerk() -> Actor {
    person("clerk", Role::IntakeClerk, at(CITY))
}
pub(super) fn shiftlead() -> Actor {
    person("shiftlead", Role::ShiftLead, at(CITY))
}
pub(super) fn dispatcher() -> Actor {
    person("dispatcher", Role::Dispatcher, at(CITY))
}
pub(super) fn leader() -> Actor {
    person("leader", Role::Leader, at(CITY))
}
pub(super) fn gridworker() -> Actor {
    person("gridworker", Role::GridWorker, at(GRID))
}
pub(super) fn other_gridworker() -> Actor {
    person("gridworker2", Role::GridWorker, at(OTHER_GRID))
}
pub(super) fn community() -> Actor {
    person("community", Role::CommunityWorker, at(COMMUNITY))
}
pub(super) fn street() -> Actor {
    person("street", Role::StreetStaff, at(STREET))
}
pub(super) fn handler() -> Actor {
    person(
        "handler",
        Role::DepartmentHandler,
        Scope::Department(dept("urban-management")),
    )
}
pub(super) fn housing() -> Actor {
    person("housing", Role::DepartmentHandler, Scope::Department(dept("housing")))
}

pub(super) fn urban() -> UnitRef {
    UnitRef::Department(dept("urban-management"))
}

pub(super) fn policy() -> FlowPolicy {
    FlowPolicy::qitaihe()
}

pub(super) fn limits() -> CaseLimits {
    CaseLimits {
        response: Some(Limit {
            amount: 2,
            unit: LimitUnit::WorkHours,
        }),
        handling: Some(Limit {
            amount: 3,
            unit: LimitUnit::WorkDays,
        }),
        verification: Some(Limit {
            amount: 30,
            unit: LimitUnit::WorkMinutes,
        }),
    }
}

pub(super) fn new_case() -> Case {
    Case::new(
        CaseNumber::parse("2026030200001").unwrap(),
        node(GRID),
        "01001",
        t(0),
        limits(),
    )
}

fn reason(s: &str) -> String {
    s.to_string()
}

/// Applies an action that must succeed; checks the event matches the change.
fn run(case: &Case, action: Action, actor: &Actor, when: DateTime<Utc>) -> Case {
    let policy = policy();
    let ctx = FlowContext {
        policy: &policy,
        clock: &EveryMinute,
    };
    let applied = apply(case, action.clone(), actor, when, &ctx)
        .unwrap_or_else(|e| panic!("{} failed: {e}", action.kind().as_str()));
    assert_eq!(applied.event.kind, action.kind());
    assert_eq!(applied.event.action, action);
    assert_eq!(applied.event.from, case.state);
    assert_eq!(applied.event.to, applied.case.state);
    assert_eq!(applied.event.revision, case.revision + 1);
    assert_eq!(applied.case.revision, case.revision + 1);
    assert_eq!(applied.event.account, actor.account);
    applied.case
}

/// Applies an action that must be refused; checks nothing changed.
fn refused(case: &Case, action: Action, actor: &Actor, when: DateTime<Utc>) -> FlowError {
    let before = case.clone();
    let policy = policy();
    let ctx = FlowContext {
        policy: &policy,
        clock: &EveryMinute,
    };
    let err = apply(case, action, actor, when, &ctx).expect_err("should be refused");
    assert_eq!(case, &before);
    err
}

fn photos() -> Vec<String> {
    vec!["sha256:0f1e2d".into()]
}

fn accepted() -> Case {
    run(&new_case(), Action::Accept, &clerk(), t(5))
}
fn registered() -> Case {
    run(&accepted(), Action::Register, &shiftlead(), t(10))
}
fn dispatched_to(lead: UnitRef) -> Case {
    run(
        &registered(),
        Action::Dispatch {
            lead,
            co_handlers: vec![],
            limits: None,
        },
        &dispatcher(),
        t(20),
    )
}
fn handling() -> Case {
    run(&dispatched_to(urban()), Action::Acknowledge, &handler(), t(30))
}
fn reported_back() -> Case {
    run(
        &handling(),
        Action::ReportBack {
            result: reason("已清理"),
            photos: photos(),
        },
        &handler(),
        t(600),
    )
}
fn passed() -> Case {
    run(
        &reported_back(),
        Action::CheckPass { photos: photos() },
        &gridworker(),
        t(620),
    )
}
fn closed() -> Case {
    run(&passed(), Action::Close, &shiftlead(), t(630))
}

#[test]
fn the_intake_clerk_accepts_a_report() {
    let case = run(&new_case(), Action::Accept, &clerk(), t(5));
    assert_eq!(case.state, State::Accepted);
    assert_eq!(case.stage(), Stage::Filing);
    let err = refused(&new_case(), Action::Accept, &gridworker(), t(5));
    assert_eq!(
        err,
        FlowError::NotPermitted {
            action: ActionKind::Accept,
            account: "gridworker".into()
        }
    );
    assert!(matches!(
        refused(&case, Action::Accept, &clerk(), t(6)),
        FlowError::WrongState {
            state: State::Accepted,
            ..
        }
    ));
}

#[test]
fn a_report_is_rejected_only_with_a_reason_and_is_closed_not_fixed() {
    assert_eq!(
        refused(&new_case(), Action::Reject { reason: "  ".into() }, &clerk(), t(5)),
        FlowError::MissingReason {
            action: ActionKind::Reject
        }
    );
    let rejected = run(
        &new_case(),
        Action::Reject {
            reason: reason("不属于受理范围"),
        },
        &clerk(),
        t(5),
    );
    assert_eq!(rejected.state, State::Rejected);
    assert_eq!(rejected.outcome(), Outcome::Closed);
    assert_eq!(rejected.closed_at, Some(t(5)));
    // 不予立案: the shift lead refuses to register an accepted report.
    let not_filed = run(
        &accepted(),
        Action::Reject {
            reason: reason("重复上报"),
        },
        &shiftlead(),
        t(8),
    );
    assert_eq!(not_filed.state, State::Rejected);
    assert!(matches!(
        refused(
            &registered(),
            Action::Reject { reason: reason("x") },
            &shiftlead(),
            t(12)
        ),
        FlowError::WrongState { .. }
    ));
}

#[test]
fn a_report_is_verified_on_site_before_registering() {
    let verifying = run(&accepted(), Action::SendToVerify, &clerk(), t(6));
    assert_eq!(verifying.state, State::Verifying);
    assert_eq!(verifying.deadlines.verification, Some(t(36)));
    assert!(overdue(&verifying, t(37)));
    assert_eq!(remaining_minutes(&verifying, t(16), &EveryMinute), Some(20));
    assert!(matches!(
        refused(
            &verifying,
            Action::Verified {
                note: String::new(),
                photos: vec![]
            },
            &other_gridworker(),
            t(20)
        ),
        FlowError::NotPermitted { .. }
    ));
    assert!(matches!(
        refused(&new_case(), Action::SendToVerify, &clerk(), t(2)),
        FlowError::WrongState { .. }
    ));
    let back = run(
        &verifying,
        Action::Verified {
            note: reason("属实"),
            photos: photos(),
        },
        &gridworker(),
        t(20),
    );
    assert_eq!(back.state, State::Accepted);
    assert_eq!(back.deadlines.verification, None);
}

#[test]
fn the_shift_lead_registers() {
    assert!(matches!(
        refused(&accepted(), Action::Register, &clerk(), t(8)),
        FlowError::NotPermitted { .. }
    ));
    assert_eq!(registered().state, State::Registered);
    assert!(matches!(
        refused(&new_case(), Action::Register, &shiftlead(), t(8)),
        FlowError::WrongState { .. }
    ));
}

#[test]
fn dispatch_starts_the_response_and_handling_clocks() {
    let case = dispatched_to(urban());
    assert_eq!(case.state, State::Dispatched);
    assert_eq!(case.lead, Some(urban()));
    assert_eq!(case.deadlines.response, Some(t(20 + 120)));
    assert_eq!(case.deadlines.handling, Some(t(20 + 3 * 1440)));
    assert!(!overdue(&case, t(139)));
    assert!(overdue(&case, t(141)));

    let lead_twice = Action::Dispatch {
        lead: urban(),
        co_handlers: vec![urban()],
        limits: None,
    };
    assert_eq!(
        refused(&registered(), lead_twice, &dispatcher(), t(20)),
        FlowError::BadHandlers
    );
    let by_clerk = Action::Dispatch {
        lead: urban(),
        co_handlers: vec![],
        limits: None,
    };
    assert!(matches!(
        refused(&registered(), by_clerk, &clerk(), t(20)),
        FlowError::NotPermitted { .. }
    ));

    // Routing gave other limits for the unit the dispatcher chose.
    let other = run(
        &registered(),
        Action::Dispatch {
            lead: UnitRef::Territory(node(STREET)),
            co_handlers: vec![urban()],
            limits: Some(CaseLimits {
                response: Some(Limit {
                    amount: 30,
                    unit: LimitUnit::WorkMinutes,
                }),
                handling: None,
                verification: None,
            }),
        },
        &dispatcher(),
        t(20),
    );
    assert_eq!(other.deadlines.response, Some(t(50)));
    // No handling limit from routing: the policy's default (5 working days).
    assert_eq!(other.deadlines.handling, Some(t(20 + 5 * 1440)));
}

#[test]
fn only_the_lead_handler_acknowledges() {
    let case = dispatched_to(urban());
    for other in [housing(), dispatcher(), street()] {
        assert!(matches!(
            refused(&case, Action::Acknowledge, &other, t(30)),
            FlowError::NotPermitted { .. }
        ));
    }
    let policy = policy();
    let ctx = FlowContext {
        policy: &policy,
        clock: &EveryMinute,
    };
    let applied = apply(&case, Action::Acknowledge, &handler(), t(30), &ctx).unwrap();
    assert_eq!(applied.case.state, State::Handling);
    assert_eq!(applied.case.acknowledged_at, Some(t(30)));
    assert_eq!(applied.event.role, Role::DepartmentHandler);
    assert_eq!(applied.event.unit, Some(urban()));
    assert_eq!(applied.event.step_deadline, Some(t(140)));
    assert!(matches!(
        refused(&applied.case, Action::Acknowledge, &handler(), t(31)),
        FlowError::WrongState { .. }
    ));
}

#[test]
fn a_street_acknowledges_as_lead_handler_through_its_staff() {
    let case = dispatched_to(UnitRef::Territory(node(STREET)));
    let case = run(&case, Action::Acknowledge, &street(), t(25));
    assert_eq!(case.state, State::Handling);
}

#[test]
fn a_wrongly_dispatched_case_is_returned_with_approval() {
    let case = handling();
    assert!(matches!(
        refused(
            &case,
            Action::RequestReturn { reason: String::new() },
            &handler(),
            t(40)
        ),
        FlowError::MissingReason { .. }
    ));
    assert_eq!(
        refused(&case, Action::ApproveReturn, &dispatcher(), t(40)),
        FlowError::NoPendingRequest {
            kind: RequestKind::Return
        }
    );
    let asked = run(
        &case,
        Action::RequestReturn {
            reason: reason("不属于本部门职责"),
        },
        &handler(),
        t(40),
    );
    assert_eq!(asked.state, State::Handling);
    assert!(asked.pending_request(RequestKind::Return).is_some());
    assert_eq!(
        refused(
            &asked,
            Action::RequestReturn {
                reason: reason("again")
            },
            &handler(),
            t(41)
        ),
        FlowError::AlreadyPending {
            kind: RequestKind::Return
        }
    );
    assert!(matches!(
        refused(&asked, Action::ApproveReturn, &handler(), t(42)),
        FlowError::NotPermitted { .. }
    ));
    let denied = run(
        &asked,
        Action::DenyReturn {
            reason: reason("属于城管职责"),
        },
        &dispatcher(),
        t(42),
    );
    assert_eq!(denied.state, State::Handling);
    assert!(denied.pending.is_empty());

    let returned = run(&asked, Action::ApproveReturn, &dispatcher(), t(42));
    assert_eq!(returned.state, State::Registered);
    assert_eq!(returned.lead, None);
    assert_eq!(returned.deadlines.handling, None);
    assert_eq!(returned.return_count, 1);
}

#[test]
fn an_extension_moves_the_handling_deadline_when_approved() {
    let case = handling();
    let deadline = case.deadlines.handling.unwrap();
    let too_early = Action::RequestExtension {
        extend_by: ExtendBy::Until { deadline: t(100) },
        reason: reason("需协调"),
    };
    assert_eq!(refused(&case, too_early, &handler(), t(40)), FlowError::BadExtension);
    let two_days = Action::RequestExtension {
        extend_by: ExtendBy::Limit {
            limit: Limit {
                amount: 2,
                unit: LimitUnit::WorkDays,
            },
        },
        reason: reason("等待材料"),
    };
    assert!(matches!(
        refused(&case, two_days.clone(), &dispatcher(), t(40)),
        FlowError::NotPermitted { .. }
    ));
    let asked = run(&case, two_days, &handler(), t(40));
    assert_eq!(asked.deadlines.handling, Some(deadline));
    let approved = run(&asked, Action::ApproveExtension, &dispatcher(), t(50));
    assert_eq!(approved.deadlines.handling, Some(deadline + Duration::days(2)));
    assert_eq!(approved.extension_count, 1);
    let denied = run(
        &asked,
        Action::DenyExtension {
            reason: reason("时限充足"),
        },
        &dispatcher(),
        t(50),
    );
    assert_eq!(denied.deadlines.handling, Some(deadline));
    assert!(matches!(
        refused(
            &asked,
            Action::DenyExtension { reason: String::new() },
            &dispatcher(),
            t(50)
        ),
        FlowError::MissingReason { .. }
    ));
}

#[test]
fn a_suspension_stops_the_handling_clock_until_resumed() {
    let case = handling();
    let deadline = case.deadlines.handling.unwrap();
    let asked = run(
        &case,
        Action::RequestSuspension {
            reason: reason("冬季无法施工"),
        },
        &handler(),
        t(100),
    );
    assert_eq!(asked.state, State::Handling);
    let denied = run(
        &asked,
        Action::DenySuspension {
            reason: reason("可先行处置"),
        },
        &dispatcher(),
        t(110),
    );
    assert_eq!(denied.state, State::Handling);

    let suspended = run(&asked, Action::ApproveSuspension, &dispatcher(), t(200));
    assert_eq!(suspended.state, State::Suspended);
    let left = remaining_minutes(&suspended, t(200), &EveryMinute).unwrap();
    // Frozen: a week later the same time is left, and the case is not overdue.
    assert_eq!(
        remaining_minutes(&suspended, t(200 + 7 * 1440), &EveryMinute),
        Some(left)
    );
    assert!(!overdue(&suspended, t(200 + 7 * 1440)));
    assert!(matches!(
        refused(
            &suspended,
            Action::ReportBack {
                result: reason("x"),
                photos: photos()
            },
            &handler(),
            t(300)
        ),
        FlowError::WrongState { .. }
    ));
    assert!(matches!(
        refused(&suspended, Action::Resume, &housing(), t(300)),
        FlowError::NotPermitted { .. }
    ));

    let resumed = run(&suspended, Action::Resume, &handler(), t(200 + 7 * 1440));
    assert_eq!(resumed.state, State::Handling);
    assert_eq!(resumed.deadlines.handling, Some(deadline + Duration::days(7)));
    assert_eq!(resumed.suspensions[0].paused_minutes, Some(7 * 1440));
    assert_eq!(remaining_minutes(&resumed, t(200 + 7 * 1440), &EveryMinute), Some(left));
    // The dispatcher may resume too.
    assert_eq!(
        run(&suspended, Action::Resume, &dispatcher(), t(500)).state,
        State::Handling
    );
}

#[test]
fn a_grid_worker_self_handles_a_trivial_matter_subject_to_review() {
    let case = new_case();
    assert_eq!(
        refused(
            &case,
            Action::SelfHandle {
                note: reason("已清理"),
                photos: vec![]
            },
            &gridworker(),
            t(3)
        ),
        FlowError::MissingPhotos {
            action: ActionKind::SelfHandle
        }
    );
    let self_handle = Action::SelfHandle {
        note: reason("井盖已复位"),
        photos: photos(),
    };
    assert!(matches!(
        refused(&case, self_handle.clone(), &other_gridworker(), t(3)),
        FlowError::NotPermitted { .. }
    ));
    let asked = run(&case, self_handle, &gridworker(), t(3));
    assert_eq!(asked.state, State::Reported);
    assert!(matches!(
        refused(&asked, Action::ApproveSelfHandling, &gridworker(), t(4)),
        FlowError::NotPermitted { .. }
    ));
    let approved = run(&asked, Action::ApproveSelfHandling, &clerk(), t(10));
    assert_eq!(approved.state, State::Closed);
    assert_eq!(approved.outcome(), Outcome::Fixed);
    assert_eq!(approved.lead, Some(UnitRef::GridWorker(GridCode::parse(GRID).unwrap())));
    let denied = run(
        &asked,
        Action::DenySelfHandling {
            reason: reason("照片不清"),
        },
        &clerk(),
        t(10),
    );
    assert_eq!(denied.state, State::Accepted);
    // Accepting instead of reviewing withdraws the self-handling request.
    let policy = policy();
    let ctx = FlowContext {
        policy: &policy,
        clock: &EveryMinute,
    };
    let taken = apply(&asked, Action::Accept, &clerk(), t(10), &ctx).unwrap();
    assert!(taken.case.pending.is_empty());
    assert_eq!(taken.event.withdrawn, vec![RequestKind::SelfHandling]);
}

#[test]
fn the_handler_reports_back_with_a_result_and_photos() {
    let case = handling();
    assert_eq!(
        refused(
            &case,
            Action::ReportBack {
                result: String::new(),
                photos: photos()
            },
            &handler(),
            t(60)
        ),
        FlowError::MissingResult
    );
    assert_eq!(
        refused(
            &case,
            Action::ReportBack {
                result: reason("已清理"),
                photos: vec![]
            },
            &handler(),
            t(60)
        ),
        FlowError::MissingPhotos {
            action: ActionKind::ReportBack
        }
    );
    assert!(matches!(
        refused(
            &case,
            Action::ReportBack {
                result: reason("已清理"),
                photos: photos()
            },
            &housing(),
            t(60)
        ),
        FlowError::NotPermitted { .. }
    ));
    let back = reported_back();
    assert_eq!(back.state, State::ReportedBack);
    assert_eq!(back.stage(), Stage::Check);
    assert_eq!(back.deadlines.verification, Some(t(630)));
}

#[test]
fn a_failed_check_sends_the_case_back_for_rework() {
    let case = reported_back();
    assert!(matches!(
        refused(
            &case,
            Action::CheckFail {
                reason: String::new(),
                photos: vec![]
            },
            &gridworker(),
            t(610)
        ),
        FlowError::MissingReason { .. }
    ));
    assert!(matches!(
        refused(&case, Action::CheckPass { photos: vec![] }, &handler(), t(610)),
        FlowError::NotPermitted { .. }
    ));
    let rework = run(
        &case,
        Action::CheckFail {
            reason: reason("垃圾未清净"),
            photos: photos(),
        },
        &community(),
        t(610),
    );
    assert_eq!(rework.state, State::Handling);
    assert_eq!(rework.rework_count, 1);
    assert_eq!(rework.deadlines.handling, Some(t(610 + 3 * 1440)));
    assert_eq!(passed().state, State::Passed);
}

#[test]
fn nobody_checks_or_closes_the_work_of_their_own_unit() {
    let case = run(
        &dispatched_to(UnitRef::Territory(node(STREET))),
        Action::Acknowledge,
        &street(),
        t(25),
    );
    let case = run(
        &case,
        Action::ReportBack {
            result: reason("已调解"),
            photos: photos(),
        },
        &street(),
        t(60),
    );
    assert_eq!(
        refused(&case, Action::CheckPass { photos: vec![] }, &street(), t(70)),
        FlowError::OwnWork {
            action: ActionKind::CheckPass
        }
    );
    // A community under that street is a unit of its own and may check it.
    assert_eq!(
        run(&case, Action::CheckPass { photos: vec![] }, &community(), t(70)).state,
        State::Passed
    );
    let passed = run(&case, Action::CheckPass { photos: vec![] }, &gridworker(), t(70));
    assert_eq!(
        refused(&passed, Action::Close, &street(), t(80)),
        FlowError::OwnWork {
            action: ActionKind::Close
        }
    );
    assert_eq!(run(&passed, Action::Close, &shiftlead(), t(80)).state, State::Closed);
}

#[test]
fn a_passed_case_is_closed_and_fixed() {
    assert!(matches!(
        refused(&reported_back(), Action::Close, &shiftlead(), t(640)),
        FlowError::WrongState { .. }
    ));
    assert!(matches!(
        refused(&passed(), Action::Close, &clerk(), t(640)),
        FlowError::NotPermitted { .. }
    ));
    let case = closed();
    assert_eq!(case.state, State::Closed);
    assert_eq!(case.outcome(), Outcome::Fixed);
    assert_eq!(case.closed_at, Some(t(630)));
    // The community worker may close a case in its area handled by a department.
    assert_eq!(run(&passed(), Action::Close, &community(), t(640)).state, State::Closed);
}

#[test]
fn cancellation_needs_the_shift_leads_approval() {
    let case = handling();
    assert!(matches!(
        refused(&case, Action::RequestCancel { reason: String::new() }, &clerk(), t(40)),
        FlowError::MissingReason { .. }
    ));
    let asked = run(
        &case,
        Action::RequestCancel {
            reason: reason("虚假上报"),
        },
        &clerk(),
        t(40),
    );
    assert!(matches!(
        refused(&asked, Action::ApproveCancel, &dispatcher(), t(41)),
        FlowError::NotPermitted { .. }
    ));
    let cancelled = run(&asked, Action::ApproveCancel, &shiftlead(), t(41));
    assert_eq!(cancelled.state, State::Cancelled);
    assert_eq!(cancelled.outcome(), Outcome::Closed);
    let kept = run(
        &asked,
        Action::DenyCancel {
            reason: reason("情况属实"),
        },
        &shiftlead(),
        t(41),
    );
    assert_eq!(kept.state, State::Handling);
    assert!(matches!(
        refused(
            &closed(),
            Action::RequestCancel { reason: reason("x") },
            &clerk(),
            t(700)
        ),
        FlowError::WrongState { .. }
    ));

    // A suspended case that is cancelled ends its suspension.
    let suspended = run(
        &run(
            &case,
            Action::RequestSuspension {
                reason: reason("待规划"),
            },
            &handler(),
            t(50),
        ),
        Action::ApproveSuspension,
        &dispatcher(),
        t(60),
    );
    let asked = run(
        &suspended,
        Action::RequestCancel {
            reason: reason("已拆除"),
        },
        &dispatcher(),
        t(70),
    );
    let cancelled = run(&asked, Action::ApproveCancel, &shiftlead(), t(90));
    assert_eq!(cancelled.suspensions[0].until, Some(t(90)));
    assert_eq!(cancelled.suspensions[0].paused_minutes, Some(30));
}

#[test]
fn the_reporter_is_followed_up_after_closing() {
    let case = closed();
    assert_eq!(
        refused(
            &case,
            Action::FollowUp {
                contacted: true,
                solved: Some(true),
                satisfaction: None
            },
            &clerk(),
            t(700)
        ),
        FlowError::BadFollowUp
    );
    assert!(matches!(
        refused(
            &handling(),
            Action::FollowUp {
                contacted: false,
                solved: None,
                satisfaction: None
            },
            &clerk(),
            t(700)
        ),
        FlowError::WrongState { .. }
    ));
    let no_answer = run(
        &case,
        Action::FollowUp {
            contacted: false,
            solved: None,
            satisfaction: None,
        },
        &clerk(),
        t(700),
    );
    let answered = Action::FollowUp {
        contacted: true,
        solved: Some(true),
        satisfaction: Some(Satisfaction::BasicallySatisfied),
    };
    let rated = run(&no_answer, answered.clone(), &community(), t(800));
    assert_eq!(rated.state, State::Closed);
    assert_eq!(
        rated.follow_up.as_ref().unwrap().satisfaction,
        Some(Satisfaction::BasicallySatisfied)
    );
    assert_eq!(refused(&rated, answered, &clerk(), t(900)), FlowError::FollowUpDone);
    assert!(matches!(
        refused(
            &case,
            Action::FollowUp {
                contacted: false,
                solved: None,
                satisfaction: None
            },
            &handler(),
            t(700)
        ),
        FlowError::NotPermitted { .. }
    ));
}

#[test]
fn an_unsettled_case_is_reopened_within_the_window() {
    let unhappy = Action::FollowUp {
        contacted: true,
        solved: Some(false),
        satisfaction: Some(Satisfaction::NotSatisfied),
    };
    let happy = Action::FollowUp {
        contacted: true,
        solved: Some(true),
        satisfaction: Some(Satisfaction::BasicallySatisfied),
    };
    let reopen = || Action::Reopen {
        reason: reason("居民反映仍有垃圾"),
    };
    assert_eq!(
        refused(&closed(), reopen(), &shiftlead(), t(700)),
        FlowError::NotUnsettled
    );
    let settled = run(&closed(), happy, &clerk(), t(700));
    assert_eq!(
        refused(&settled, reopen(), &shiftlead(), t(800)),
        FlowError::NotUnsettled
    );

    let unsettled = run(&closed(), unhappy, &clerk(), t(700));
    assert!(matches!(
        refused(&unsettled, reopen(), &clerk(), t(800)),
        FlowError::NotPermitted { .. }
    ));
    let window = policy().reopen_window_days as i64;
    assert_eq!(
        refused(
            &unsettled,
            reopen(),
            &shiftlead(),
            t(630) + Duration::days(window) + Duration::minutes(1)
        ),
        FlowError::OutsideReopenWindow {
            closed_at: t(630),
            days: window as u32
        }
    );
    assert!(matches!(
        refused(&unsettled, Action::Reopen { reason: " ".into() }, &shiftlead(), t(800)),
        FlowError::MissingReason { .. }
    ));
    let reopened = run(&unsettled, reopen(), &shiftlead(), t(630) + Duration::days(window));
    assert_eq!(reopened.state, State::Handling);
    assert_eq!(reopened.reopen_count, 1);
    assert_eq!(reopened.closed_at, None);
    assert_eq!(reopened.follow_up, None);
    assert_eq!(reopened.lead, Some(urban()));
}

#[test]
fn a_duplicate_is_merged_into_its_parent() {
    let parent = CaseNumber::parse("2026030100042").unwrap();
    let own = new_case().number.clone();
    assert_eq!(
        refused(&new_case(), Action::MergeInto { parent: own }, &clerk(), t(3)),
        FlowError::MergeIntoSelf
    );
    let merged = run(
        &accepted(),
        Action::MergeInto { parent: parent.clone() },
        &clerk(),
        t(6),
    );
    assert_eq!(merged.state, State::Merged);
    assert_eq!(merged.merged_into, Some(parent.clone()));
    assert_eq!(merged.outcome(), Outcome::Closed);
    assert!(matches!(
        refused(
            &handling(),
            Action::MergeInto { parent: parent.clone() },
            &clerk(),
            t(40)
        ),
        FlowError::WrongState { .. }
    ));
    assert!(matches!(
        refused(&new_case(), Action::MergeInto { parent }, &gridworker(), t(3)),
        FlowError::NotPermitted { .. }
    ));
    // A merged case never changes again.
    assert!(matches!(
        refused(
            &merged,
            Action::Supervise {
                level: SupervisionLevel::Red,
                reason: reason("x")
            },
            &leader(),
            t(9)
        ),
        FlowError::WrongState { .. }
    ));
}

#[test]
fn the_street_blows_the_whistle_and_departments_report_in() {
    let case = handling();
    let whistle = Action::Whistle {
        departments: vec![dept("public-security"), dept("housing")],
        report_in_by: None,
    };
    assert!(matches!(
        refused(&case, whistle.clone(), &handler(), t(40)),
        FlowError::NotPermitted { .. }
    ));
    assert!(matches!(
        refused(&registered(), whistle.clone(), &street(), t(15)),
        FlowError::WrongState { .. }
    ));
    assert_eq!(
        refused(
            &case,
            Action::Whistle {
                departments: vec![],
                report_in_by: None
            },
            &street(),
            t(40)
        ),
        FlowError::BadSummons
    );
    assert_eq!(
        refused(
            &case,
            Action::Whistle {
                departments: vec![dept("housing"), dept("housing")],
                report_in_by: None
            },
            &street(),
            t(40)
        ),
        FlowError::BadSummons
    );
    assert_eq!(
        refused(
            &case,
            Action::Whistle {
                departments: vec![dept("housing")],
                report_in_by: Some(t(40))
            },
            &street(),
            t(40)
        ),
        FlowError::ReportInInPast
    );
    let blown = run(&case, whistle, &street(), t(40));
    assert_eq!(blown.whistles[0].report_in_by, t(70));
    assert!(blown.co_handlers.contains(&UnitRef::Department(dept("housing"))));
    assert_eq!(blown.state, State::Handling);

    let policy = policy();
    let ctx = FlowContext {
        policy: &policy,
        clock: &EveryMinute,
    };
    let arrived = apply(
        &blown,
        Action::ReportIn {
            department: dept("housing"),
        },
        &housing(),
        t(65),
        &ctx,
    )
    .unwrap();
    assert_eq!(arrived.event.late, Some(false));
    assert_eq!(arrived.case.whistles[0].summons[1].arrived_at, Some(t(65)));
    assert_eq!(
        refused(
            &arrived.case,
            Action::ReportIn {
                department: dept("housing")
            },
            &housing(),
            t(66)
        ),
        FlowError::NotSummoned {
            department: dept("housing")
        }
    );
    assert!(matches!(
        refused(
            &blown,
            Action::ReportIn {
                department: dept("public-security")
            },
            &housing(),
            t(66)
        ),
        FlowError::NotPermitted { .. }
    ));
    let police = person(
        "police",
        Role::DepartmentHandler,
        Scope::Department(dept("public-security")),
    );
    let late = apply(
        &blown,
        Action::ReportIn {
            department: dept("public-security"),
        },
        &police,
        t(75),
        &ctx,
    )
    .unwrap();
    assert_eq!(late.event.late, Some(true));
}

#[test]
fn supervision_is_ordered_by_dispatchers_and_leaders_and_never_lowered() {
    let case = handling();
    assert!(matches!(
        refused(
            &case,
            Action::Supervise {
                level: SupervisionLevel::Yellow,
                reason: reason("x")
            },
            &gridworker(),
            t(50)
        ),
        FlowError::NotPermitted { .. }
    ));
    assert!(matches!(
        refused(
            &case,
            Action::Supervise {
                level: SupervisionLevel::Yellow,
                reason: String::new()
            },
            &leader(),
            t(50)
        ),
        FlowError::MissingReason { .. }
    ));
    let yellow = run(
        &case,
        Action::Supervise {
            level: SupervisionLevel::Yellow,
            reason: reason("群众反映强烈"),
        },
        &leader(),
        t(50),
    );
    assert_eq!(yellow.supervision, Some(SupervisionLevel::Yellow));
    assert_eq!(
        refused(
            &yellow,
            Action::Supervise {
                level: SupervisionLevel::Normal,
                reason: reason("x")
            },
            &dispatcher(),
            t(60)
        ),
        FlowError::SupervisionLowered {
            current: SupervisionLevel::Yellow,
            requested: SupervisionLevel::Normal
        }
    );
    let red = run(
        &yellow,
        Action::Supervise {
            level: SupervisionLevel::Red,
            reason: reason("逾期"),
        },
        &dispatcher(),
        t(60),
    );
    assert_eq!(red.supervision_history.len(), 2);
    assert!(matches!(
        refused(
            &closed(),
            Action::Supervise {
                level: SupervisionLevel::Red,
                reason: reason("x")
            },
            &leader(),
            t(700)
        ),
        FlowError::WrongState { .. }
    ));
}

#[test]
fn supervision_is_raised_automatically_by_the_thresholds() {
    let policy = policy();
    // A department that does not acknowledge: yellow after 1 working day, red after 2.
    let case = dispatched_to(urban());
    assert_eq!(auto_supervision(&case, t(20 + 1439), &policy, &EveryMinute), None);
    let (level, why) = auto_supervision(&case, t(20 + 1440), &policy, &EveryMinute).unwrap();
    assert_eq!(level, SupervisionLevel::Yellow);
    assert!(why.reason(Lang::Zh).contains("未签收"));
    assert_eq!(
        auto_supervision(&case, t(20 + 2 * 1440), &policy, &EveryMinute)
            .unwrap()
            .0,
        SupervisionLevel::Red
    );
    // Once a yellow order stands, the job raises nothing until red is due.
    let yellow = run(
        &case,
        Action::Supervise {
            level,
            reason: why.reason(Lang::Zh),
        },
        &dispatcher(),
        t(20 + 1440),
    );
    assert_eq!(auto_supervision(&yellow, t(20 + 1500), &policy, &EveryMinute), None);

    // A department handling: yellow after 5 working days, red after 10; a street: 1 and 2.
    let handling = handling();
    assert_eq!(
        auto_supervision(&handling, t(30 + 2 * 1440), &policy, &EveryMinute),
        None
    );
    assert_eq!(
        auto_supervision(&handling, t(30 + 5 * 1440), &policy, &EveryMinute)
            .unwrap()
            .0,
        SupervisionLevel::Yellow
    );
    let street_case = run(
        &dispatched_to(UnitRef::Territory(node(STREET))),
        Action::Acknowledge,
        &street(),
        t(30),
    );
    assert_eq!(
        auto_supervision(&street_case, t(30 + 2 * 1440), &policy, &EveryMinute)
            .unwrap()
            .0,
        SupervisionLevel::Red
    );

    // Suspended time does not count.
    let suspended = run(
        &run(
            &handling,
            Action::RequestSuspension {
                reason: reason("待规划"),
            },
            &handler(),
            t(40),
        ),
        Action::ApproveSuspension,
        &dispatcher(),
        t(40),
    );
    assert_eq!(
        auto_supervision(&suspended, t(30 + 6 * 1440), &policy, &EveryMinute),
        None
    );
    let resumed = run(&suspended, Action::Resume, &dispatcher(), t(40 + 3 * 1440));
    assert_eq!(
        auto_supervision(&resumed, t(30 + 5 * 1440), &policy, &EveryMinute),
        None
    );
    assert_eq!(
        auto_supervision(&resumed, t(30 + 8 * 1440), &policy, &EveryMinute)
            .unwrap()
            .0,
        SupervisionLevel::Yellow
    );
}

#[test]
fn available_actions_follow_state_and_role() {
    let case = registered();
    assert_eq!(
        available_actions(&case, &dispatcher()),
        vec![ActionKind::Dispatch, ActionKind::RequestCancel, ActionKind::Supervise]
    );
    assert_eq!(available_actions(&case, &housing()), vec![]);
    let blown = run(
        &handling(),
        Action::Whistle {
            departments: vec![dept("housing")],
            report_in_by: None,
        },
        &street(),
        t(40),
    );
    assert_eq!(available_actions(&blown, &housing()), vec![ActionKind::ReportIn]);
    assert!(available_actions(&blown, &handler()).contains(&ActionKind::ReportBack));
}

#[test]
fn every_state_has_an_outcome_and_closed_is_never_fixed_unless_it_was() {
    for state in State::ALL {
        let expected = match state {
            State::Closed => Outcome::Fixed,
            State::Rejected | State::Merged | State::Cancelled => Outcome::Closed,
            _ => Outcome::Open,
        };
        assert_eq!(state.outcome(), expected, "{state:?}");
        assert_eq!(State::parse(state.as_str()), Some(state));
        assert!(!state.label(Lang::Zh).is_ascii());
    }
}

#[test]
fn actions_read_from_the_api_json() {
    let json = r#"{"action":"dispatch","lead":{"kind":"department","code":"urban-management"},
                   "co_handlers":[{"kind":"territory","code":"230903011000"}]}"#;
    let action: Action = serde_json::from_str(json).unwrap();
    assert_eq!(action.kind(), ActionKind::Dispatch);
    let json = r#"{"action":"request_extension","reason":"等待材料",
                   "extend_by":{"kind":"limit","limit":{"amount":2,"unit":"work_days"}}}"#;
    assert_eq!(
        serde_json::from_str::<Action>(json).unwrap().kind(),
        ActionKind::RequestExtension
    );
    for kind in ActionKind::ALL {
        assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
    }
    assert!(serde_json::from_str::<Action>(r#"{"action":"teleport"}"#).is_err());
    let case = run(
        &closed(),
        Action::FollowUp {
            contacted: false,
            solved: None,
            satisfaction: None,
        },
        &clerk(),
        t(700),
    );
    let text = serde_json::to_string(&case).unwrap();
    assert_eq!(serde_json::from_str::<Case>(&text).unwrap(), case);
}

#[test]
fn case_numbers_are_a_date_and_a_daily_serial() {
    assert!(CaseNumber::parse("2026112700001").is_ok());
    assert_eq!(
        CaseNumber::new(chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(), 42)
            .unwrap()
            .as_str(),
        "2026112700042"
    );
    for bad in ["2026113100001", "2026112700000", "202611270001", "2026112700a01"] {
        assert!(CaseNumber::parse(bad).is_err(), "{bad}");
    }
    assert!(BadCaseNumber("x".into()).message(Lang::Zh).contains("案件编号"));
}

#[test]
fn errors_speak_chinese_and_english() {
    let errors = [
        FlowError::WrongState {
            action: ActionKind::Close,
            state: State::Handling,
        },
        FlowError::NotPermitted {
            action: ActionKind::Dispatch,
            account: "clerk".into(),
        },
        FlowError::OutsideReopenWindow {
            closed_at: t(0),
            days: 15,
        },
        FlowError::NotSummoned {
            department: dept("housing"),
        },
    ];
    for e in errors {
        assert!(e.code().as_str().starts_with("case_"));
        assert!(
            e.message(Lang::Zh)
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{e:?}"
        );
        assert!(e.message(Lang::En).is_ascii(), "{e:?}");
    }
    assert_eq!(
        FlowError::WrongState {
            action: ActionKind::Close,
            state: State::Handling
        }
        .message(Lang::Zh),
        "案件当前为“处置中”，不能结案"
    );
}

#[test]
fn the_shipped_policy_loads_with_tianques_thresholds() {
    let p = policy();
    assert_eq!(p.reopen_window_days, 15);
    assert_eq!(p.whistle_report_in_minutes.get(), 30);
    let days = |amount| Limit {
        amount,
        unit: LimitUnit::WorkDays,
    };
    assert_eq!(p.supervision.administrative.acceptance.red, days(2));
    assert_eq!(p.supervision.department.handling.yellow, days(5));
    assert_eq!(p.supervision.department.handling.red, days(10));
}

#[test]
fn a_bad_policy_file_names_the_file_line_and_column() {
    let good = include_str!("../../../../../data/qitaihe/case-policy.toml");
    let red_first = good.replace(
        "handling = { yellow = { amount = 5, unit = \"work_days\" }, red = { amount = 10",
        "handling = { yellow = { amount = 5, unit = \"work_days\" }, red = { amount = 4",
    );
    let err = FlowPolicy::from_toml("case-policy.toml", &red_first).unwrap_err();
    assert_eq!(err.problem, PolicyProblem::Rule(Rule::RedNotAfterYellow));
    let line = red_first.lines().position(|l| l.contains("amount = 4")).unwrap() + 1;
    assert_eq!(err.line, line);
    assert!(err.column > 1);
    assert!(
        err.message(Lang::Zh)
            .starts_with(&format!("案件流程配置文件 case-policy.toml 第{line}行"))
    );
    assert!(err.to_string().starts_with(&format!("case-policy.toml:{line}:")));

    let zero = good.replace("whistle_report_in_minutes = 30", "whistle_report_in_minutes = 0");
    let err = FlowPolicy::from_toml("p.toml", &zero).unwrap_err();
    assert_eq!(err.problem, PolicyProblem::Rule(Rule::NotPositive));
    assert_eq!(
        (err.line, err.column),
        (zero.lines().position(|l| l.starts_with("whistle")).unwrap() + 1, 29)
    );

    let mixed = good.replacen(
        "red = { amount = 2, unit = \"work_days\" }",
        "red = { amount = 2, unit = \"natural_days\" }",
        1,
    );
    assert_eq!(
        FlowPolicy::from_toml("p.toml", &mixed).unwrap_err().problem,
        PolicyProblem::Rule(Rule::MixedUnits)
    );
    let unknown = good.replace("reopen_window_days", "reopen_days");
    let err = FlowPolicy::from_toml("p.toml", &unknown).unwrap_err();
    assert!(
        matches!(err.problem, PolicyProblem::Toml(ref m) if m.contains("reopen_days")),
        "{err}"
    );
    let bad_unit = good.replace("unit = \"work_hours\"", "unit = \"fortnights\"");
    assert!(FlowPolicy::from_toml("p.toml", &bad_unit).is_err());
}

#[test]
fn the_policy_says_which_working_roles_report_under_which_channel() {
    use crate::cases::intake::Channel;
    let p = policy();
    assert!(p.intake.roles(Channel::Hotline).contains(&Role::IntakeClerk));
    assert!(!p.intake.roles(Channel::Hotline).contains(&Role::GridWorker));
    // The residents' and the integrations' channels are their doors', no staff role's.
    assert!(p.intake.roles(Channel::Resident).is_empty());
    assert!(p.intake.roles(Channel::Open311).is_empty());
    assert_eq!(p.intake.channels_for(&[Role::GridWorker]), [Channel::Patrol]);
    assert_eq!(p.intake.channels_for(&[Role::DepartmentHandler]), [Channel::Feed]);
    assert!(
        p.intake
            .channels_for(&[Role::SystemAdmin, Role::PersonalDataExporter])
            .is_empty()
    );

    let good = include_str!("../../../../../data/qitaihe/case-policy.toml");
    let admin = good.replace(
        "feed = [\"department_handler\"]",
        "feed = [\"department_handler\", \"audit_admin\"]",
    );
    let err = FlowPolicy::from_toml("p.toml", &admin).unwrap_err();
    assert_eq!(err.problem, PolicyProblem::Rule(Rule::NotAWorkingRole));
    assert!(err.message(Lang::Zh).contains("工作角色"), "{}", err.message(Lang::Zh));
    let fax = good.replace("feed = [", "fax = [");
    let err = FlowPolicy::from_toml("p.toml", &fax).unwrap_err();
    assert_eq!(err.problem, PolicyProblem::Rule(Rule::UnknownChannel));
}

#[test]
fn the_reporting_resident_rates_the_closed_case_and_may_ground_a_reopen() {
    let resident = Actor {
        account: "resident:7".into(),
        grants: vec![],
    };
    let other = Actor {
        account: "resident:8".into(),
        grants: vec![],
    };
    let mut case = closed();
    case.resident = Some(resident.account.clone());
    let unhappy = Action::FollowUp {
        contacted: true,
        solved: Some(false),
        satisfaction: Some(Satisfaction::NotSatisfied),
    };
    assert!(matches!(
        refused(&case, unhappy.clone(), &other, t(700)),
        FlowError::NotPermitted { .. }
    ));
    let silent = Action::FollowUp {
        contacted: false,
        solved: None,
        satisfaction: None,
    };
    assert_eq!(refused(&case, silent, &resident, t(700)), FlowError::BadFollowUp);
    let mut open = handling();
    open.resident = Some(resident.account.clone());
    assert!(matches!(
        refused(&open, unhappy.clone(), &resident, t(700)),
        FlowError::WrongState { .. }
    ));
    let policy = policy();
    let ctx = FlowContext {
        policy: &policy,
        clock: &EveryMinute,
    };
    let applied = apply(&case, unhappy, &resident, t(700), &ctx).unwrap();
    assert_eq!(applied.event.role, Role::Resident);
    assert_eq!(applied.event.account, "resident:7");
    assert!(applied.case.follow_up.as_ref().unwrap().unsettled());
    // The shift lead may reopen on the resident's answer; the resident may not.
    assert!(available_actions(&applied.case, &shiftlead()).contains(&ActionKind::Reopen));
    assert!(available_actions(&applied.case, &resident).is_empty());
}
