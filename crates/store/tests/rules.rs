//! Rules as data at run time, on both databases: the shipped files seeded once, new versions of the
//! responsibility list and new calendar years imported whole or not at all, each with its audit
//! entry, and the rules in force built from what is stored.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use gongzhi_core::cases::responsibility::ResponsibilityList;
use gongzhi_core::cases::rules::{CaseRules, RuleFiles};
use gongzhi_core::cases::taxonomy::TypeCode;
use gongzhi_core::cases::{Limit, LimitUnit, UnitRef, WorkClock};
use gongzhi_core::orgs::DepartmentCode;
use gongzhi_core::territory::TerritoryCode;
use gongzhi_core::time::CITY_OFFSET;
use gongzhi_store::Db;
use gongzhi_store::audit::head;
use gongzhi_store::rules::RulesImportError;
use gongzhi_store::testing::{TestDb, audit_key};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
}

/// The shipped list, relabelled as a new version from `valid_from`, with the street-level rule for
/// snow and ice on roads (item 39) handed to the urban-management department.
fn revised_rows(label: &str, valid_from: &str) -> Vec<Vec<String>> {
    let mut rows = CaseRules::qitaihe().unwrap().responsibility.to_rows();
    for r in rows.iter_mut().skip(1) {
        r[0] = label.to_string();
        r[1] = valid_from.to_string();
        if r[2] == "39" {
            r[7] = "department".into();
            r[8] = "urban-management".into();
        }
    }
    rows
}

/// Who handles snow on a road in 学府社区's first grid.
fn snow_handler(rules: &CaseRules) -> UnitRef {
    let grid = TerritoryCode::parse("230903011001001").unwrap();
    let rule = rules
        .responsibility
        .route(&TypeCode::parse("10001").unwrap(), &grid, None, None)
        .unwrap();
    rule.unit_for(&grid).unwrap()
}

async fn seeded(db: &Db) -> CaseRules {
    db.ensure_rules_seeded(&RuleFiles::qitaihe(), &audit_key())
        .await
        .unwrap();
    db.rules_in_force(&RuleFiles::qitaihe(), today())
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn the_shipped_files_are_the_first_version_seeded_once() {
    for db in TestDb::all().await {
        let name = db.backend_name();
        assert!(
            db.rules_in_force(&RuleFiles::qitaihe(), today())
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            db.ensure_rules_seeded(&RuleFiles::qitaihe(), &audit_key())
                .await
                .unwrap()
        );
        assert!(
            !db.ensure_rules_seeded(&RuleFiles::qitaihe(), &audit_key())
                .await
                .unwrap()
        );
        assert_eq!(head(&db).await.unwrap().seq, 1, "{name}: one audit entry for the seed");
        let rules = db
            .rules_in_force(&RuleFiles::qitaihe(), today())
            .await
            .unwrap()
            .unwrap();
        let shipped = CaseRules::qitaihe().unwrap();
        assert_eq!(rules.responsibility, shipped.responsibility, "{name}");
        assert_eq!(rules.calendar.years_with_data(), vec![2025, 2026], "{name}");
        let status = db.rules_status(today()).await.unwrap();
        assert_eq!(status.versions.len(), 1);
        assert_eq!(status.in_force.as_deref(), Some("七台河市职责清单（2026版）"));
        assert_eq!(
            status.missing_years,
            vec![2027],
            "{name}: next year is not imported yet"
        );
    }
}

#[tokio::test]
async fn an_imported_version_is_in_force_from_its_start_and_changes_routing() {
    for db in TestDb::all().await {
        let name = db.backend_name();
        let before = seeded(&db).await;
        let street = TerritoryCode::parse("230903011000").unwrap();
        assert_eq!(snow_handler(&before), UnitRef::Territory(street), "{name}");

        let v = db
            .import_responsibility(
                "2026年11月修订.csv",
                &revised_rows("2026年11月修订", "2026-11-15"),
                &before,
                "admin",
                &audit_key(),
            )
            .await
            .unwrap();
        assert_eq!(
            (v.version.as_str(), v.rules, v.imported_by.as_str()),
            ("2026年11月修订", 84, "admin")
        );
        assert_eq!(
            head(&db).await.unwrap().seq,
            2,
            "{name}: the import has its audit entry"
        );

        let after = db
            .rules_in_force(&RuleFiles::qitaihe(), today())
            .await
            .unwrap()
            .unwrap();
        let urban = UnitRef::Department(DepartmentCode::parse("urban-management").unwrap());
        assert_eq!(snow_handler(&after), urban, "{name}");
        // On a day before the new version started, the first one is still the one in force.
        let earlier = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        let then = db
            .rules_in_force(&RuleFiles::qitaihe(), earlier)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(then.responsibility.version, "七台河市职责清单（2026版）");

        // Export round trip: the stored text reads back as the same list.
        let (stored, csv) = db
            .responsibility_version(Some("2026年11月修订"), today())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored, v);
        let back = ResponsibilityList::from_csv("x.csv", &csv, &after.taxonomy, &after.departments).unwrap();
        assert_eq!(back, after.responsibility);

        // The same label again is refused, and so is a second version on the same start date.
        for (label, from) in [("2026年11月修订", "2026-11-20"), ("另一版", "2026-11-15")] {
            let e = db
                .import_responsibility("again.csv", &revised_rows(label, from), &after, "admin", &audit_key())
                .await
                .unwrap_err();
            let RulesImportError::Invalid(e) = e else {
                panic!("{name}: {e}")
            };
            assert_eq!(e.errors.len(), 1, "{name}: {e}");
        }
        assert_eq!(db.rules_status(today()).await.unwrap().versions.len(), 2);
    }
}

#[tokio::test]
async fn a_list_with_two_bad_rows_changes_nothing_and_names_both() {
    for db in TestDb::all().await {
        let name = db.backend_name();
        let rules = seeded(&db).await;
        let revision = db.rules_revision().await.unwrap();
        let mut rows = revised_rows("坏版本", "2026-11-20");
        rows[5][3] = "99998".into(); // no such matter
        rows[11][8] = "no-such-office".into(); // no such department
        let e = db
            .import_responsibility("坏清单.xlsx", &rows, &rules, "admin", &audit_key())
            .await
            .unwrap_err();
        let RulesImportError::Invalid(e) = e else {
            panic!("{name}: {e}")
        };
        assert_eq!(e.file, "坏清单.xlsx");
        let places: Vec<(Option<usize>, Option<&str>)> =
            e.errors.iter().map(|r| (r.row, r.column.as_deref())).collect();
        assert_eq!(
            places,
            vec![(Some(6), Some("matter")), (Some(12), Some("department"))],
            "{name}"
        );
        assert_eq!(head(&db).await.unwrap().seq, 1, "{name}: no audit entry");
        assert_eq!(db.rules_revision().await.unwrap(), revision, "{name}");
        assert_eq!(db.rules_status(today()).await.unwrap().versions.len(), 1, "{name}");
    }
}

const MADE_UP_2027: &str = "date,kind,name
2027-01-01,holiday,元旦
2027-10-01,holiday,国庆节
2027-10-02,holiday,国庆节
2027-10-03,holiday,国庆节
2027-10-04,holiday,国庆节
2027-10-05,holiday,国庆节
2027-10-06,holiday,国庆节
2027-10-07,holiday,国庆节
2027-10-09,workday,国庆节调休上班
";

fn rows_of(csv: &str) -> Vec<Vec<String>> {
    gongzhi_core::data::csv_rows("t.csv", csv).unwrap()
}

fn china(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    CITY_OFFSET
        .with_ymd_and_hms(y, m, d, h, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

#[tokio::test]
async fn a_new_calendar_year_moves_deadlines_across_its_holidays() {
    for db in TestDb::all().await {
        let name = db.backend_name();
        let before = seeded(&db).await;
        let one_day = Limit {
            amount: 1,
            unit: LimitUnit::WorkDays,
        };
        // Thursday 30 September 2027: without data, Friday 1 October is a working day.
        let start = china(2027, 9, 30, 10);
        assert_eq!(
            before.calendar.deadline(start, one_day),
            china(2027, 10, 1, 10),
            "{name}"
        );

        let years = db
            .import_calendar("2027.csv", &rows_of(MADE_UP_2027), "admin", &audit_key())
            .await
            .unwrap();
        assert_eq!(years, vec![2027]);
        assert_eq!(head(&db).await.unwrap().seq, 2, "{name}");
        let status = db.rules_status(today()).await.unwrap();
        assert_eq!(status.missing_years, Vec::<i32>::new(), "{name}");
        assert_eq!(status.years_with_data, vec![2025, 2026, 2027]);

        let after = db
            .rules_in_force(&RuleFiles::qitaihe(), today())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            after.calendar.deadline(start, one_day),
            china(2027, 10, 8, 10),
            "{name}"
        );

        // A corrected notice replaces the year: 1 January alone is left.
        db.import_calendar(
            "2027-fix.csv",
            &rows_of("date,kind,name\n2027-01-01,holiday,元旦\n"),
            "admin",
            &audit_key(),
        )
        .await
        .unwrap();
        let fixed = db
            .rules_in_force(&RuleFiles::qitaihe(), today())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            fixed.calendar.deadline(start, one_day),
            china(2027, 10, 1, 10),
            "{name}"
        );

        // Two bad rows: both named, nothing changed.
        let bad = "date,kind,name\n2028-01-01,holiday,元旦\n2028-13-01,holiday,x\n2028-02-02,workday,春节\n";
        let e = db
            .import_calendar("2028.csv", &rows_of(bad), "admin", &audit_key())
            .await
            .unwrap_err();
        let RulesImportError::Invalid(e) = e else {
            panic!("{name}: {e}")
        };
        let rows: Vec<Option<usize>> = e.errors.iter().map(|r| r.row).collect();
        assert_eq!(rows, vec![Some(3), Some(4)], "{name}");
        assert_eq!(head(&db).await.unwrap().seq, 3, "{name}");
        assert!(!db.calendar_years().await.unwrap().contains(&2028));
        let verdict = gongzhi_store::audit::verify(&db, &audit_key()).await.unwrap();
        assert!(verdict.is_intact(), "{name}: the chain over seed and imports verifies");
    }
}
