//! Cases in the store on both databases: numbers, idempotency, actions against revisions,
//! timelines and filters.

use chrono::{DateTime, Duration, TimeZone, Utc};
use gongzhi_core::cases::flow::{Action, Case, CaseLimits, FlowContext, FlowPolicy, apply};
use gongzhi_core::people::{Actor, Grant, Role, Scope};
use gongzhi_core::territory::TerritoryCode;
use gongzhi_store::cases::{CaseFilter, CaseLocation, Created, NewCase};
use gongzhi_store::testing::{TestDb, WallClock, audit_key};
use gongzhi_store::{Db, StoreError};

/// Every minute counts: enough for the store, which does not judge clocks.
const GRID: &str = "230903011001001";

fn report(reporter: &str) -> NewCase {
    NewCase {
        channel: "patrol".into(),
        description: "学府路积雪未清".into(),
        location: CaseLocation {
            grid: Some(GRID.into()),
            community: Some("230903011001".into()),
            street: Some("230903011000".into()),
            district: Some("230903000000".into()),
            lon: Some(131.0),
            lat: Some(45.77),
            address: None,
        },
        reporter: reporter.into(),
        report_detail: serde_json::json!({}),
        request_hash: None,
    }
}

fn flow_at(at: DateTime<Utc>) -> impl Fn(gongzhi_core::cases::flow::CaseNumber) -> Case {
    move |n| {
        Case::new(
            n,
            TerritoryCode::parse(GRID).unwrap(),
            "06010",
            at,
            CaseLimits::default(),
        )
    }
}

fn clerk() -> Actor {
    Actor {
        account: "clerk".into(),
        grants: vec![Grant {
            role: Role::IntakeClerk,
            scope: Scope::Territory(TerritoryCode::parse("230900000000").unwrap()),
        }],
    }
}

fn created(c: Created) -> gongzhi_store::cases::CaseRecord {
    match c {
        Created::New(r) => r,
        Created::Replayed(_) => panic!("expected a new case"),
    }
}

async fn new_case(db: &Db, at: DateTime<Utc>) -> gongzhi_store::cases::CaseRecord {
    created(
        db.create_case(&report("gridworker"), None, flow_at(at), at, &audit_key())
            .await
            .unwrap(),
    )
}

#[tokio::test]
async fn case_numbers_count_per_day_in_china_time() {
    for db in TestDb::all().await {
        // 2026-11-27 15:59 UTC is 23:59 in Shanghai; 16:00 UTC is already the 28th there.
        let a = new_case(&db, Utc.with_ymd_and_hms(2026, 11, 27, 15, 59, 0).unwrap()).await;
        let b = new_case(&db, Utc.with_ymd_and_hms(2026, 11, 27, 15, 59, 30).unwrap()).await;
        let c = new_case(&db, Utc.with_ymd_and_hms(2026, 11, 27, 16, 0, 0).unwrap()).await;
        assert_eq!(a.flow.number.as_str(), "2026112700001", "{}", db.backend_name());
        assert_eq!(b.flow.number.as_str(), "2026112700002");
        assert_eq!(c.flow.number.as_str(), "2026112800001");
        let events = db.case_events(a.id).await.unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, "report");
        assert_eq!(events[0].body()["channel"], "patrol");
    }
}

#[tokio::test]
async fn a_retried_key_returns_the_first_case_and_never_a_second() {
    for db in TestDb::all().await {
        let now = Utc::now();
        let key = audit_key();
        let first = created(
            db.create_case(&report("gridworker"), Some("k-1"), flow_at(now), now, &key)
                .await
                .unwrap(),
        );
        let again = db
            .create_case(&report("gridworker"), Some("k-1"), flow_at(now), now, &key)
            .await
            .unwrap();
        match again {
            Created::Replayed(r) => assert_eq!(r.id, first.id, "{}", db.backend_name()),
            Created::New(_) => panic!("a second case for the same key"),
        }
        // The same key from another account is another submission.
        let other = db
            .create_case(&report("clerk"), Some("k-1"), flow_at(now), now, &key)
            .await
            .unwrap();
        assert!(matches!(other, Created::New(_)));
        // Many concurrent retries of one key: one case.
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let db = db.db.clone();
            let key = audit_key();
            tasks.push(tokio::spawn(async move {
                db.create_case(&report("street"), Some("burst"), flow_at(now), now, &key)
                    .await
                    .map(|c| match c {
                        Created::New(r) | Created::Replayed(r) => r.id,
                    })
            }));
        }
        let mut ids = Vec::new();
        for t in tasks {
            ids.push(t.await.unwrap().unwrap());
        }
        ids.dedup();
        assert_eq!(ids.len(), 1, "{}: {ids:?}", db.backend_name());
        let page = db.list_cases(&CaseFilter::default(), 100, now).await.unwrap();
        assert_eq!(page.total, 3);
        // One audit entry per case created, none for the replays, and the chain holds.
        assert!(gongzhi_store::audit::verify(&db, &key).await.unwrap().is_intact());
        assert_eq!(gongzhi_store::audit::head(&db).await.unwrap().seq, 3);
    }
}

#[tokio::test]
async fn an_action_computed_from_a_stale_revision_is_refused() {
    for db in TestDb::all().await {
        let now = Utc::now();
        let case = new_case(&db, now).await;
        let policy = FlowPolicy::qitaihe();
        let ctx = FlowContext {
            policy: &policy,
            clock: &WallClock,
        };
        let accepted = apply(&case.flow, Action::Accept, &clerk(), now, &ctx).unwrap();
        db.record_action(case.id, &accepted, now, &audit_key()).await.unwrap();
        // A second clerk read the same version and acts on it too.
        let rejected = apply(
            &case.flow,
            Action::Reject {
                reason: "重复".into()
            },
            &clerk(),
            now,
            &ctx,
        )
        .unwrap();
        let err = db
            .record_action(case.id, &rejected, now, &audit_key())
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Conflict { .. }),
            "{}: {err}",
            db.backend_name()
        );
        let stored = db.case_by_id(case.id).await.unwrap().unwrap();
        assert_eq!(stored.flow.state.as_str(), "accepted");
        assert_eq!(stored.flow.revision, 1);
        let events = db.case_events(case.id).await.unwrap();
        assert_eq!(
            events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
            ["report", "accept"]
        );
        assert_eq!(events[1].from_state.as_deref(), Some("reported"));
    }
}

#[tokio::test]
async fn lists_filter_count_and_page_with_a_cursor() {
    for db in TestDb::all().await {
        let now = Utc::now();
        let policy = FlowPolicy::qitaihe();
        let ctx = FlowContext {
            policy: &policy,
            clock: &WallClock,
        };
        let mut ids = Vec::new();
        for i in 0..5 {
            let c = new_case(&db, now - Duration::minutes(10 - i)).await;
            ids.push(c.id);
        }
        let accepted = apply(
            &db.case_by_id(ids[0]).await.unwrap().unwrap().flow,
            Action::Accept,
            &clerk(),
            now,
            &ctx,
        )
        .unwrap();
        db.record_action(ids[0], &accepted, now, &audit_key()).await.unwrap();

        let reported = CaseFilter {
            states: vec!["reported".into()],
            ..Default::default()
        };
        assert_eq!(
            db.list_cases(&reported, 10, now).await.unwrap().total,
            4,
            "{}",
            db.backend_name()
        );
        let in_street = CaseFilter {
            within_prefix: Some("230903011".into()),
            ..Default::default()
        };
        assert_eq!(db.list_cases(&in_street, 10, now).await.unwrap().total, 5);
        let elsewhere = CaseFilter {
            within_prefix: Some("230904".into()),
            ..Default::default()
        };
        assert_eq!(db.list_cases(&elsewhere, 10, now).await.unwrap().total, 0);

        let first = db.list_cases(&CaseFilter::default(), 2, now).await.unwrap();
        assert_eq!(first.total, 5);
        assert_eq!(first.cases.iter().map(|c| c.id).collect::<Vec<_>>(), [ids[4], ids[3]]);
        let second = db
            .list_cases(
                &CaseFilter {
                    before_id: first.next_cursor,
                    ..Default::default()
                },
                2,
                now,
            )
            .await
            .unwrap();
        assert_eq!(second.cases.iter().map(|c| c.id).collect::<Vec<_>>(), [ids[2], ids[1]]);
        let third = db
            .list_cases(
                &CaseFilter {
                    before_id: second.next_cursor,
                    ..Default::default()
                },
                2,
                now,
            )
            .await
            .unwrap();
        assert_eq!(third.cases.len(), 1);
        assert_eq!(third.next_cursor, None);

        let recent = CaseFilter {
            reported_from: Some(now - Duration::minutes(7)),
            ..Default::default()
        };
        assert_eq!(db.list_cases(&recent, 10, now).await.unwrap().total, 2);
        let near = db
            .open_cases_in_box("06010", (130.99, 45.76, 131.01, 45.78), now - Duration::days(1))
            .await
            .unwrap();
        assert_eq!(near.len(), 5);
    }
}

/// Issue 15: every query that reads one case (and the names its page shows) is answered from an
/// index on both databases, never by reading every case: `merged_into` scanned the whole table on
/// every view until migration 0020 indexed it.
#[tokio::test]
async fn reading_one_case_uses_an_index_for_every_query() {
    for db in TestDb::all().await {
        let case = new_case(&db, Utc::now()).await;
        let plans = gongzhi_store::testing::case_read_plans(&db, case.id, case.flow.number.as_str()).await;
        assert_eq!(plans.len(), 7);
        for (name, plan) in &plans {
            let backend = db.backend_name();
            // Shown with `--nocapture`: docs/PERFORMANCE.md quotes them.
            eprintln!("{backend} {name}:\n{plan}\n");
            match backend {
                // `SEARCH t USING …` looks rows up; `SCAN t` (even `USING INDEX`) reads them all.
                "sqlite" => assert!(
                    plan.lines().all(|l| !l.trim_start().starts_with("SCAN")),
                    "{backend} {name}: {plan}"
                ),
                _ => assert!(!plan.contains("Seq Scan"), "{backend} {name}: {plan}"),
            }
        }
        let merged = &plans.iter().find(|(n, _)| *n == "merged_into").unwrap().1;
        assert!(merged.contains("cases_merged_into"), "{}: {merged}", db.backend_name());
        assert!(!merged.contains("TEMP B-TREE"), "ordered by the index: {merged}");
    }
}
