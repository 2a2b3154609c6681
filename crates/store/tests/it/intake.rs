//! Case reports through the group-commit writer, on both databases: many at once get
//! consecutive numbers and one audit entry each, retried keys never make a second case.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use gongzhi_core::cases::flow::{Case, CaseLimits, CaseNumber};
use gongzhi_core::territory::TerritoryCode;
use gongzhi_core::time::city_day;
use gongzhi_store::cases::intake::{Intake, MakeFlow};
use gongzhi_store::cases::{CaseFilter, CaseLocation, Created, NewCase};
use gongzhi_store::testing::{TestDb, audit_key};

const GRID: &str = "230903011001001";

fn report(reporter: &str, i: usize) -> NewCase {
    NewCase {
        channel: "hotline".into(),
        description: format!("第{i}号来电：暴露垃圾"),
        location: CaseLocation {
            grid: Some(GRID.into()),
            lon: Some(131.0),
            lat: Some(45.77),
            ..CaseLocation::default()
        },
        reporter: reporter.into(),
        report_detail: serde_json::json!({}),
        request_hash: None,
    }
}

fn flow_at(at: DateTime<Utc>) -> MakeFlow {
    Box::new(move |n: CaseNumber| {
        Case::new(
            n,
            TerritoryCode::parse(GRID).unwrap(),
            "06010",
            at,
            CaseLimits::default(),
        )
    })
}

fn id_of(c: &Created) -> i64 {
    match c {
        Created::New(r) | Created::Replayed(r) => r.id,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_reports_gets_consecutive_numbers_and_a_retried_key_one_case() {
    for db in TestDb::all().await {
        let name = db.backend_name();
        let intake = Intake::spawn(db.db.clone(), Arc::new(audit_key()));
        let now = Utc::now();
        // 300 reports at once, 40 of them with the same key (a client retrying while waiting),
        // so that batches hold both new reports and repeats of one key.
        let mut tasks = Vec::new();
        for i in 0..300 {
            let intake = intake.clone();
            let key = if i % 10 == 0 {
                "retried".to_string()
            } else {
                format!("k-{i}")
            };
            tasks.push(tokio::spawn(async move {
                intake
                    .create_case(report("clerk", i), Some(&key), flow_at(now), now)
                    .await
            }));
        }
        let mut answers = Vec::new();
        for t in tasks {
            answers.push(t.await.unwrap().unwrap());
        }
        let retried: HashSet<i64> = answers.iter().step_by(10).map(id_of).collect();
        assert_eq!(retried.len(), 1, "{name}: one case for the retried key");
        let new = answers.iter().filter(|a| matches!(a, Created::New(_))).count();
        assert_eq!(new, 271, "{name}: 270 distinct keys and the retried one");

        // A key stored earlier comes back replayed, without writing.
        let again = intake
            .create_case(report("clerk", 1), Some("k-1"), flow_at(now), now)
            .await
            .unwrap();
        assert!(matches!(again, Created::Replayed(_)), "{name}");
        assert_eq!(id_of(&again), id_of(&answers[1]), "{name}");
        // Without a key, every submission is a case.
        let unkeyed = intake
            .create_case(report("clerk", 0), None, flow_at(now), now)
            .await
            .unwrap();
        assert!(matches!(unkeyed, Created::New(_)), "{name}");

        let page = db.list_cases(&CaseFilter::default(), 500, now).await.unwrap();
        assert_eq!(page.total, 272, "{name}");
        // The day's numbers run 1..=272 without gap or repeat.
        let mut serials: Vec<u32> = page
            .cases
            .iter()
            .map(|c| c.flow.number.as_str()[8..].parse().unwrap())
            .collect();
        serials.sort();
        assert_eq!(serials, (1..=272).collect::<Vec<_>>(), "{name}");
        assert!(page.cases.iter().all(|c| {
            c.flow
                .number
                .as_str()
                .starts_with(&city_day(now).format("%Y%m%d").to_string())
        }));
        // Every case has its first timeline entry and one audit entry; the chain holds.
        for c in &page.cases {
            assert_eq!(db.case_events(c.id).await.unwrap().len(), 1, "{name}");
        }
        assert_eq!(gongzhi_store::audit::head(&db).await.unwrap().seq, 272, "{name}");
        assert!(
            gongzhi_store::audit::verify(&db, &audit_key())
                .await
                .unwrap()
                .is_intact(),
            "{name}"
        );
    }
}
