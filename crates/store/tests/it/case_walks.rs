//! Random walks through the case loop, stored on both databases: whatever people do, every change
//! is one timeline event and one audit entry, the chain verifies, and what is stored is what the
//! state machine computed.

use chrono::{DateTime, Duration, Utc};
use gongzhi_core::cases::flow::{
    Action, ActionKind, Case, CaseLimits, FlowContext, FlowPolicy, apply, available_actions,
};
use gongzhi_core::cases::rules::CaseRules;
use gongzhi_core::people::{Actor, Grant, Role, Scope};
use gongzhi_core::territory::TerritoryCode;
use gongzhi_store::cases::{CaseLocation, Created, NewCase};
use gongzhi_store::testing::{TestDb, audit_key};
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::collections::BTreeSet;

const GRID: &str = "230903011001001";

fn actor(account: &str, role: Role, scope: &str) -> Actor {
    let scope = match scope.split_once(':') {
        Some(("department", d)) => Scope::Department(d.parse().unwrap()),
        _ => Scope::Territory(TerritoryCode::parse(scope).unwrap()),
    };
    Actor {
        account: account.into(),
        grants: vec![Grant { role, scope }],
    }
}

fn people() -> Vec<Actor> {
    vec![
        actor("clerk", Role::IntakeClerk, "230900000000"),
        actor("shiftlead", Role::ShiftLead, "230900000000"),
        actor("dispatcher", Role::Dispatcher, "230900000000"),
        actor("leader", Role::Leader, "230900000000"),
        actor("handler", Role::DepartmentHandler, "department:urban-management"),
        actor("housing", Role::DepartmentHandler, "department:housing"),
        actor("street", Role::StreetStaff, "230903011000"),
        actor("community", Role::CommunityWorker, "230903011001"),
        actor("gridworker", Role::GridWorker, GRID),
    ]
}

/// A payload for an action of this kind, with randomly chosen answers where there is a choice.
fn action(kind: ActionKind, rng: &mut impl Rng) -> Option<Action> {
    let satisfaction = ["satisfied", "basically_satisfied", "not_satisfied"][rng.random_range(0..3)];
    let level = ["yellow", "red"][rng.random_range(0..2)];
    let lead = if rng.random_bool(0.8) {
        json!({"kind": "department", "code": "urban-management"})
    } else {
        json!({"kind": "territory", "code": "230903011000"})
    };
    let body = match kind {
        ActionKind::MergeInto => return None,
        ActionKind::Dispatch => json!({"action": "dispatch", "lead": lead}),
        ActionKind::RequestExtension => json!({"action": "request_extension", "reason": "材料未到",
            "extend_by": {"kind": "limit", "limit": {"amount": 2, "unit": "work_days"}}}),
        ActionKind::FollowUp => json!({"action": "follow_up", "contacted": true, "solved": rng.random_bool(0.7),
            "satisfaction": satisfaction}),
        ActionKind::Whistle => json!({"action": "whistle", "departments": ["housing"]}),
        ActionKind::ReportIn => json!({"action": "report_in", "department": "housing"}),
        ActionKind::Supervise => json!({"action": "supervise", "level": level, "reason": "进度缓慢"}),
        k => json!({"action": k.as_str(), "reason": "原因", "result": "已处置", "note": "已核实", "photos": ["1"]}),
    };
    Some(serde_json::from_value(body).unwrap_or_else(|e| panic!("{kind:?}: {e}")))
}

/// One case in six may end early by rejection or cancel, late in its walk.
fn rng_once(case: i64, revision: u32) -> bool {
    case % 6 == 0 && revision > 6
}

#[tokio::test]
async fn random_walks_store_exactly_what_the_machine_decided_with_one_audit_entry_per_change() {
    let rules = CaseRules::qitaihe().unwrap();
    let policy: &FlowPolicy = &rules.policy;
    let people = people();
    let key = audit_key();
    for db in TestDb::all().await {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2026);
        let mut applied_kinds = BTreeSet::new(); // by name: ActionKind is not ordered
        let mut changes = 0usize;
        for n in 0..24 {
            let mut now: DateTime<Utc> = "2026-11-02T01:00:00Z".parse::<DateTime<Utc>>().unwrap() + Duration::hours(n);
            let new = NewCase {
                channel: "patrol".into(),
                description: format!("第{n}件"),
                location: CaseLocation {
                    grid: Some(GRID.into()),
                    ..Default::default()
                },
                reporter: "gridworker".into(),
                report_detail: json!({}),
                request_hash: None,
            };
            let make = |number| {
                Case::new(
                    number,
                    TerritoryCode::parse(GRID).unwrap(),
                    "06001",
                    now,
                    CaseLimits::default(),
                )
            };
            let Created::New(record) = db.create_case(&new, None, make, now, &key).await.unwrap() else {
                panic!()
            };
            changes += 1;
            let mut case = record.flow;
            for _ in 0..60 {
                now += Duration::minutes(rng.random_range(5..600));
                // What someone could do now; endings that cut the walk short are picked rarely.
                let options: Vec<(&Actor, ActionKind)> = people
                    .iter()
                    .flat_map(|p| available_actions(&case, p).into_iter().map(move |k| (p, k)))
                    .filter(|(_, k)| {
                        !matches!(k, ActionKind::Reject | ActionKind::ApproveCancel) || rng_once(n, case.revision)
                    })
                    .collect();
                if options.is_empty() {
                    break;
                }
                let (who, kind) = options[rng.random_range(0..options.len())];
                let Some(action) = action(kind, &mut rng) else { continue };
                let result = {
                    let ctx = FlowContext {
                        policy,
                        clock: &rules.calendar,
                    };
                    apply(&case, action, who, now, &ctx)
                };
                let Ok(applied) = result else { continue };
                db.record_action(record.id, &applied, now, &key).await.unwrap();
                applied_kinds.insert(kind.as_str());
                changes += 1;
                case = applied.case;
                let stored = db.case_by_id(record.id).await.unwrap().unwrap();
                assert_eq!(
                    stored.flow,
                    case,
                    "{}: the store keeps what apply computed",
                    db.backend_name()
                );
            }
            let events = db.case_events(record.id).await.unwrap();
            assert_eq!(
                events.len() as u32,
                case.revision + 1,
                "one event per change, plus the report"
            );
            assert!(
                events
                    .windows(2)
                    .all(|w| w[0].to_state == w[1].from_state.clone().unwrap_or_default())
            );
        }
        let verdict = gongzhi_store::audit::verify(&db, &key).await.unwrap();
        assert!(verdict.is_intact(), "{}: {verdict:?}", db.backend_name());
        assert_eq!(
            gongzhi_store::audit::head(&db).await.unwrap().seq as usize,
            changes,
            "one audit entry per change"
        );
        // Every transition but merging (tested over HTTP, where the parent is checked) is taken.
        let missing: Vec<&str> = ActionKind::ALL
            .iter()
            .map(|k| k.as_str())
            .filter(|k| *k != "merge_into" && !applied_kinds.contains(k))
            .collect();
        assert!(
            missing.is_empty(),
            "{}: the walks never took {missing:?}",
            db.backend_name()
        );
    }
}
