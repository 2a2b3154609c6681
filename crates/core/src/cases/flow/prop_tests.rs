//! Random action sequences by random actors, checking the invariants of the loop after every step.

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;

use super::tests::{
    EveryMinute, GRID, clerk, community, dept, dispatcher, gridworker, handler, housing, leader, new_case,
    other_gridworker, policy, shiftlead, street, t, urban,
};
use super::*;
use crate::cases::{Limit, LimitUnit, UnitRef, WorkClock};
use crate::people::{Actor, Grant, Role, Scope};
use crate::territory::{GridCode, TerritoryCode};

fn actors() -> Vec<Actor> {
    let police = Actor {
        account: "police".into(),
        grants: vec![Grant {
            role: Role::DepartmentHandler,
            scope: Scope::Department(dept("public-security")),
        }],
    };
    let nobody = Actor {
        account: "nobody".into(),
        grants: vec![],
    };
    // One person holding two roles at the command centre.
    let mut both = dispatcher();
    both.account = "both".into();
    both.grants.extend(shiftlead().grants);
    vec![
        clerk(),
        shiftlead(),
        dispatcher(),
        leader(),
        gridworker(),
        other_gridworker(),
        community(),
        street(),
        handler(),
        housing(),
        police,
        nobody,
        both,
    ]
}

#[derive(Debug, Clone)]
struct Step {
    actor: usize,
    /// Pick among the actions this actor may take now (most steps), or any action at all.
    guided: bool,
    pick: usize,
    payload: u8,
    advance: i64,
}

fn step() -> impl Strategy<Value = Step> {
    let advance = prop_oneof![6 => 0i64..120, 3 => 0i64..3000, 1 => 5_000i64..25_000];
    (
        any::<usize>(),
        prop::bool::weighted(0.85),
        any::<usize>(),
        any::<u8>(),
        advance,
    )
        .prop_map(|(actor, guided, pick, payload, advance)| Step {
            actor,
            guided,
            pick,
            payload,
            advance,
        })
}

/// Who acts and how. A guided step picks among everything anybody may do now, avoiding most of the
/// time the actions that end a case, so walks get deep into the loop instead of stopping at the
/// first rejection; an unguided step is any action by anyone, mostly refused.
fn choose<'a>(step: &Step, case: &Case, actors: &'a [Actor]) -> (&'a Actor, ActionKind) {
    let ends = |k: &ActionKind| {
        matches!(
            k,
            ActionKind::Reject | ActionKind::MergeInto | ActionKind::ApproveCancel | ActionKind::ApproveSelfHandling
        )
    };
    let options: Vec<(&Actor, ActionKind)> = actors
        .iter()
        .flat_map(|a| available_actions(case, a).into_iter().map(move |k| (a, k)))
        .filter(|(_, k)| step.payload.is_multiple_of(8) || !ends(k))
        .collect();
    if step.guided && !options.is_empty() {
        options[step.pick % options.len()]
    } else {
        (
            &actors[step.actor % actors.len()],
            ActionKind::ALL[step.pick % ActionKind::ALL.len()],
        )
    }
}

fn reason(p: u8) -> String {
    if p.is_multiple_of(5) {
        String::new()
    } else {
        "原因".into()
    }
}

fn photos(p: u8) -> Vec<String> {
    if p.is_multiple_of(4) {
        vec![]
    } else {
        vec!["sha256:ab".into()]
    }
}

/// An action of `kind` with a payload chosen by `p`, valid or not.
fn build(kind: ActionKind, p: u8, now: DateTime<Utc>) -> Action {
    use ActionKind as K;
    let units = [
        urban(),
        UnitRef::Department(dept("housing")),
        UnitRef::Territory(TerritoryCode::parse("230903011000").unwrap()),
        UnitRef::Territory(TerritoryCode::parse("230903011001").unwrap()),
        UnitRef::GridWorker(GridCode::parse(GRID).unwrap()),
    ];
    match kind {
        K::Accept => Action::Accept,
        K::Reject => Action::Reject { reason: reason(p) },
        K::SendToVerify => Action::SendToVerify,
        K::Verified => Action::Verified {
            note: reason(p),
            photos: photos(p),
        },
        K::Register => Action::Register,
        K::Dispatch => {
            let lead = units[p as usize % units.len()].clone();
            let co_handlers = match p % 7 {
                0 => vec![lead.clone()],
                1 | 2 => vec![units[(p as usize + 1) % units.len()].clone()],
                _ => vec![],
            };
            let limits = (p.is_multiple_of(3)).then_some(CaseLimits {
                response: Some(Limit {
                    amount: 1,
                    unit: LimitUnit::WorkHours,
                }),
                handling: Some(Limit {
                    amount: 2,
                    unit: LimitUnit::WorkDays,
                }),
                verification: None,
            });
            Action::Dispatch {
                lead,
                co_handlers,
                limits,
            }
        }
        K::Acknowledge => Action::Acknowledge,
        K::RequestReturn => Action::RequestReturn { reason: reason(p) },
        K::ApproveReturn => Action::ApproveReturn,
        K::DenyReturn => Action::DenyReturn { reason: reason(p) },
        K::RequestExtension => Action::RequestExtension {
            extend_by: match p % 3 {
                0 => ExtendBy::Limit {
                    limit: Limit {
                        amount: 1,
                        unit: LimitUnit::WorkDays,
                    },
                },
                1 => ExtendBy::Until {
                    deadline: now + Duration::days(20),
                },
                _ => ExtendBy::Until { deadline: t(0) },
            },
            reason: reason(p / 3),
        },
        K::ApproveExtension => Action::ApproveExtension,
        K::DenyExtension => Action::DenyExtension { reason: reason(p) },
        K::RequestSuspension => Action::RequestSuspension { reason: reason(p) },
        K::ApproveSuspension => Action::ApproveSuspension,
        K::DenySuspension => Action::DenySuspension { reason: reason(p) },
        K::Resume => Action::Resume,
        K::SelfHandle => Action::SelfHandle {
            note: reason(p),
            photos: photos(p),
        },
        K::ApproveSelfHandling => Action::ApproveSelfHandling,
        K::DenySelfHandling => Action::DenySelfHandling { reason: reason(p) },
        K::ReportBack => Action::ReportBack {
            result: if p.is_multiple_of(6) {
                String::new()
            } else {
                "已处置".into()
            },
            photos: photos(p),
        },
        K::CheckPass => Action::CheckPass { photos: photos(p) },
        K::CheckFail => Action::CheckFail {
            reason: reason(p),
            photos: photos(p),
        },
        K::Close => Action::Close,
        K::RequestCancel => Action::RequestCancel { reason: reason(p) },
        K::ApproveCancel => Action::ApproveCancel,
        K::DenyCancel => Action::DenyCancel { reason: reason(p) },
        K::FollowUp => {
            let (contacted, solved, satisfaction) = match p % 5 {
                0 => (false, None, None),
                1 | 2 => (true, Some(false), Some(Satisfaction::NotSatisfied)),
                3 => (true, Some(true), Some(Satisfaction::Satisfied)),
                _ => (true, Some(true), None),
            };
            Action::FollowUp {
                contacted,
                solved,
                satisfaction,
            }
        }
        K::Reopen => Action::Reopen { reason: reason(p) },
        K::MergeInto => Action::MergeInto {
            parent: if p.is_multiple_of(5) {
                new_case().number
            } else {
                CaseNumber::parse("2026030100007").unwrap()
            },
        },
        K::Whistle => Action::Whistle {
            departments: match p % 4 {
                0 => vec![],
                1 => vec![dept("housing"), dept("housing")],
                _ => vec![dept("public-security"), dept("housing")],
            },
            report_in_by: (p.is_multiple_of(5)).then_some(now - Duration::minutes(1)),
        },
        K::ReportIn => Action::ReportIn {
            department: dept(["housing", "public-security", "urban-management"][p as usize % 3]),
        },
        K::Supervise => Action::Supervise {
            level: [
                SupervisionLevel::Normal,
                SupervisionLevel::Yellow,
                SupervisionLevel::Red,
            ][p as usize % 3],
            reason: reason(p / 3),
        },
    }
}

/// Everything but the fields a follow-up writes.
fn without_follow_up(case: &Case) -> Case {
    Case {
        revision: 0,
        follow_up: None,
        ..case.clone()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn random_action_sequences_keep_the_invariants(steps in prop::collection::vec(step(), 1..120)) {
        let policy = policy();
        let clock = EveryMinute;
        let ctx = FlowContext { policy: &policy, clock: &clock };
        let actors = actors();
        let mut case = new_case();
        let mut now = t(0);
        for s in steps {
            now += Duration::minutes(s.advance);
            let (actor, kind) = choose(&s, &case, &actors);
            let action = build(kind, s.payload, now);
            let before = case.clone();
            let frozen = (case.state == State::Suspended).then(|| remaining_minutes(&case, now, &clock));

            match apply(&case, action.clone(), actor, now, &ctx) {
                Err(e) => {
                    // Refused: the case is as it was, and the error speaks both languages.
                    prop_assert_eq!(&case, &before);
                    prop_assert!(!crate::Localized::message(&e, crate::Lang::Zh).is_empty());
                    if !state_allows(case.state, kind) {
                        prop_assert!(matches!(e, FlowError::WrongState { .. }), "{:?}", e);
                    }
                }
                Ok(Applied { case: next, event }) => {
                    // Exactly one event, describing this change.
                    prop_assert_eq!(event.revision, before.revision + 1);
                    prop_assert_eq!(next.revision, before.revision + 1);
                    prop_assert_eq!(event.kind, kind);
                    prop_assert_eq!(&event.action, &action);
                    prop_assert_eq!(event.from, before.state);
                    prop_assert_eq!(event.to, next.state);
                    prop_assert_eq!(event.at, now);
                    prop_assert_eq!(&event.account, &actor.account);
                    prop_assert_eq!(&event.case, &before.number);
                    prop_assert!(actor.grants.iter().any(|g| g.role == event.role && g.scope == event.scope));

                    // Only follow-up and reopen change a closed case; other ends never change.
                    prop_assert!(!matches!(before.state, State::Rejected | State::Merged | State::Cancelled));
                    if before.state == State::Closed {
                        prop_assert!(matches!(kind, ActionKind::FollowUp | ActionKind::Reopen), "{:?}", kind);
                        if kind == ActionKind::FollowUp {
                            prop_assert_eq!(without_follow_up(&next), without_follow_up(&before));
                        }
                    }

                    // The clock stands still while suspended, and resuming moves the handling
                    // deadline by exactly the suspended working time.
                    if before.state == State::Suspended {
                        if kind == ActionKind::Resume {
                            let from = before.open_suspension().unwrap().from;
                            let paused = clock.work_minutes(from, now);
                            prop_assert_eq!(event.paused_minutes, Some(paused));
                            if let (Some(old), Some(new)) = (before.deadlines.handling, next.deadlines.handling) {
                                prop_assert_eq!(clock.work_minutes(old, new), paused);
                                prop_assert_eq!(new - old, now - from);
                            }
                        } else {
                            prop_assert_eq!(next.deadlines.handling, before.deadlines.handling);
                        }
                    }

                    // Counters only grow.
                    prop_assert!(next.rework_count >= before.rework_count);
                    prop_assert!(next.reopen_count >= before.reopen_count);
                    prop_assert!(next.supervision >= before.supervision);
                    case = next;
                }
            }

            // Whatever happened: outcome types as specified, requests only where they mean
            // something, at most one per kind, and the case survives the store's JSON.
            let expected = match case.state {
                State::Closed => Outcome::Fixed,
                State::Rejected | State::Merged | State::Cancelled => Outcome::Closed,
                _ => Outcome::Open,
            };
            prop_assert_eq!(case.outcome(), expected);
            prop_assert_eq!(case.closed_at.is_some(), !case.state.is_open());
            prop_assert!(case.pending.iter().all(|r| r.kind.valid_in(case.state)));
            for (i, r) in case.pending.iter().enumerate() {
                prop_assert!(case.pending[..i].iter().all(|o| o.kind != r.kind));
            }
            prop_assert_eq!(case.open_suspension().is_some(), case.state == State::Suspended);
            if let Some(frozen) = frozen && case.state == State::Suspended {
                prop_assert_eq!(remaining_minutes(&case, now + Duration::days(3), &clock), frozen);
                prop_assert!(!overdue(&case, now + Duration::days(365)) || overdue(&case, now));
            }
            let json = serde_json::to_string(&case).unwrap();
            prop_assert_eq!(&serde_json::from_str::<Case>(&json).unwrap(), &case);
        }
    }
}

/// The random walk must actually reach the far corners of the loop, or the property above proves
/// little: count, over many fixed-seed walks, how often each state and action kind was reached.
#[test]
fn random_walks_reach_every_state_and_action() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    use std::collections::HashSet;

    let policy = policy();
    let clock = EveryMinute;
    let ctx = FlowContext {
        policy: &policy,
        clock: &clock,
    };
    let actors = actors();
    let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]));
    let mut states = HashSet::new();
    let mut kinds = HashSet::new();
    for _ in 0..600 {
        let steps = prop::collection::vec(step(), 80)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let mut case = new_case();
        let mut now = t(0);
        for s in steps {
            now += Duration::minutes(s.advance);
            let (actor, kind) = choose(&s, &case, &actors);
            if let Ok(applied) = apply(&case, build(kind, s.payload, now), actor, now, &ctx) {
                kinds.insert(kind);
                case = applied.case;
                states.insert(case.state);
            }
        }
    }
    let missing_states: Vec<_> = State::ALL.into_iter().filter(|s| !states.contains(s)).collect();
    let missing_kinds: Vec<_> = ActionKind::ALL.into_iter().filter(|k| !kinds.contains(k)).collect();
    assert!(
        missing_states.is_empty(),
        "never reached: {missing_states:?}, never applied: {missing_kinds:?}"
    );
    assert!(missing_kinds.is_empty(), "never applied: {missing_kinds:?}");
}
