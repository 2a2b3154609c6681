//! Bulk writing of finished case histories on both databases: rows, timelines, an intact audit
//! chain, and live numbers that continue after the seeded ones.

use chrono::{DateTime, Duration, TimeZone, Utc};
use gongzhi_core::audit::Verdict;
use gongzhi_core::cases::UnitRef;
use gongzhi_core::cases::flow::{Action, Case, CaseLimits, CaseNumber, FlowContext, FlowPolicy, apply};
use gongzhi_core::people::{Actor, Grant, Role, Scope};
use gongzhi_core::territory::{GridCode, TerritoryCode};
use gongzhi_core::time::city_day;
use gongzhi_store::cases::bulk::CaseHistory;
use gongzhi_store::cases::{CaseLocation, Created, NewCase};
use gongzhi_store::testing::{TestDb, WallClock, audit_key};

const GRID: &str = "230903011001001";

fn actor(account: &str, role: Role, scope: &str) -> Actor {
    Actor {
        account: account.into(),
        grants: vec![Grant {
            role,
            scope: Scope::Territory(TerritoryCode::parse(scope).unwrap()),
        }],
    }
}

fn report() -> NewCase {
    NewCase {
        channel: "patrol".into(),
        description: "学府社区3号楼前道路结冰，老人出行困难".into(),
        location: CaseLocation {
            grid: Some(GRID.into()),
            community: Some("230903011001".into()),
            street: Some("230903011000".into()),
            district: Some("230903000000".into()),
            lon: Some(131.0),
            lat: Some(45.77),
            address: None,
        },
        reporter: "gridworker".into(),
        report_detail: serde_json::json!({"demo": true}),
        request_hash: None,
    }
}

/// The `serial`-th case of its day, taken through `steps` actions of the normal loop.
fn history(at: DateTime<Utc>, serial: u32, steps: usize) -> CaseHistory {
    let policy = FlowPolicy::qitaihe();
    let ctx = FlowContext {
        policy: &policy,
        clock: &WallClock,
    };
    let number = CaseNumber::new(city_day(at), serial).unwrap();
    let reported = Case::new(
        number,
        TerritoryCode::parse(GRID).unwrap(),
        "27001",
        at,
        CaseLimits::default(),
    );
    let city = "230900000000";
    let street = actor("street", Role::StreetStaff, "230903011000");
    let plan: Vec<(Action, Actor)> = vec![
        (Action::Accept, actor("clerk", Role::IntakeClerk, city)),
        (Action::Register, actor("shiftlead", Role::ShiftLead, city)),
        (
            Action::Dispatch {
                lead: UnitRef::Territory(TerritoryCode::parse("230903011000").unwrap()),
                co_handlers: vec![],
                limits: None,
            },
            actor("dispatcher", Role::Dispatcher, city),
        ),
        (Action::Acknowledge, street.clone()),
        (
            Action::ReportBack {
                result: "已清除冰面并撒布融雪剂".into(),
                photos: vec!["demo-photo".into()],
            },
            street,
        ),
        (
            Action::CheckPass { photos: vec![] },
            Actor {
                account: "gridworker".into(),
                grants: vec![Grant {
                    role: Role::GridWorker,
                    scope: Scope::Territory(TerritoryCode::Grid(GridCode::parse(GRID).unwrap())),
                }],
            },
        ),
        (Action::Close, actor("shiftlead", Role::ShiftLead, city)),
    ];
    let mut current = reported.clone();
    let mut events = Vec::new();
    for (i, (action, who)) in plan.into_iter().take(steps).enumerate() {
        let applied = apply(
            &current,
            action,
            &who,
            at + Duration::minutes(10 * (i as i64 + 1)),
            &ctx,
        )
        .unwrap();
        current = applied.case;
        events.push(applied.event);
    }
    CaseHistory {
        report: report(),
        reported,
        events,
        current,
    }
}

#[tokio::test]
async fn a_batch_of_histories_is_stored_with_its_timelines_and_an_intact_chain() {
    for db in TestDb::all().await {
        let day1 = Utc.with_ymd_and_hms(2026, 1, 5, 1, 0, 0).unwrap();
        let day2 = day1 + Duration::days(1);
        let mut batch = Vec::new();
        for i in 0..30u32 {
            batch.push(history(day1 + Duration::minutes(i as i64), i + 1, (i % 8) as usize));
        }
        for i in 0..20u32 {
            batch.push(history(day2 + Duration::minutes(i as i64), i + 1, 7));
        }
        let expected_events: usize = batch.iter().map(|h| h.events.len() + 1).sum();
        let report = db.insert_case_histories(&batch, &audit_key()).await.unwrap();
        assert_eq!(report.cases, 50, "{}", db.backend_name());
        assert_eq!(report.events, expected_events);
        assert_eq!(db.case_count().await.unwrap(), 50);

        // A stored case reads back as the history left it, with its whole timeline.
        let last = &batch[7];
        let stored = db.case_by_number(&last.current.number).await.unwrap().unwrap();
        assert_eq!(stored.flow, last.current);
        assert_eq!(stored.flow.state.as_str(), "closed");
        let timeline = db.case_events(stored.id).await.unwrap();
        let kinds: Vec<&str> = timeline.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "report",
                "accept",
                "register",
                "dispatch",
                "acknowledge",
                "report_back",
                "check_pass",
                "close"
            ]
        );
        assert_eq!(timeline[0].body()["demo"], true);
        let open = db.case_by_number(&batch[3].current.number).await.unwrap().unwrap();
        assert_eq!(open.flow.state.as_str(), "dispatched");

        // One audit entry per event, and the chain holds.
        match gongzhi_store::audit::verify(&db, &audit_key()).await.unwrap() {
            Verdict::Intact { entries, .. } => assert_eq!(entries as usize, expected_events),
            other => panic!("{other:?}"),
        }
        let about = gongzhi_store::audit::entries_about(&db, "case", last.current.number.as_str())
            .await
            .unwrap();
        assert_eq!(about.len(), 8);
        assert_eq!(about[7].action, "case.close");
    }
}

#[tokio::test]
async fn live_reports_continue_after_the_seeded_numbers_of_their_day() {
    for db in TestDb::all().await {
        let day = Utc.with_ymd_and_hms(2026, 3, 2, 2, 0, 0).unwrap();
        let batch: Vec<CaseHistory> = (1..=12).map(|s| history(day, s, 3)).collect();
        db.insert_case_histories(&batch, &audit_key()).await.unwrap();
        let later = day + Duration::hours(3);
        let created = db
            .create_case(
                &report(),
                None,
                |n| {
                    Case::new(
                        n,
                        TerritoryCode::parse(GRID).unwrap(),
                        "06010",
                        later,
                        CaseLimits::default(),
                    )
                },
                later,
                &audit_key(),
            )
            .await
            .unwrap();
        let Created::New(record) = created else {
            panic!("a new case")
        };
        assert_eq!(record.flow.number.as_str(), "2026030200013", "{}", db.backend_name());

        // Reserving never lowers a day's serial, and a second batch on a reserved day fits after it.
        db.reserve_case_numbers(&[(city_day(day), 5)]).await.unwrap();
        db.reserve_case_numbers(&[(city_day(day + Duration::days(1)), 40)])
            .await
            .unwrap();
        let next = day + Duration::days(1);
        let created = db
            .create_case(
                &report(),
                None,
                |n| {
                    Case::new(
                        n,
                        TerritoryCode::parse(GRID).unwrap(),
                        "06010",
                        next,
                        CaseLimits::default(),
                    )
                },
                next,
                &audit_key(),
            )
            .await
            .unwrap();
        let Created::New(record) = created else {
            panic!("a new case")
        };
        assert_eq!(record.flow.number.as_str(), "2026030300041");
        assert!(matches!(
            gongzhi_store::audit::verify(&db, &audit_key()).await.unwrap(),
            Verdict::Intact { .. }
        ));
    }
}
