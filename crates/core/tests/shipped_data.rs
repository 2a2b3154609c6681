//! Every data file the repository ships for the case loop loads, and the demo city's lists say what
//! the seed report says (84 rules, 125 delegated matters).

use chrono::{DateTime, NaiveDateTime, Utc};
use gongzhi_core::cases::calendar::WorkCalendar;
use gongzhi_core::cases::responsibility::{CaseLevel, Departments, Handler, RegionClass, ResponsibilityList};
use gongzhi_core::cases::taxonomy::{EntryKind, Taxonomy, TypeCode};
use gongzhi_core::cases::{Limit, LimitUnit, UnitRef, WorkClock};
use gongzhi_core::orgs::DepartmentCode;
use gongzhi_core::territory::TerritoryCode;
use gongzhi_core::time::city_instant;

fn read(path: &str) -> String {
    let full = format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn taxonomy() -> Taxonomy {
    Taxonomy::load(
        &read("data/taxonomy/gbt-47678.5-2026.csv"),
        &read("data/taxonomy/local-extensions.csv"),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn departments() -> Departments {
    Departments::load(&read("data/qitaihe/departments.csv")).unwrap_or_else(|e| panic!("{e}"))
}

fn list() -> ResponsibilityList {
    ResponsibilityList::from_csv(
        "data/qitaihe/responsibility-list.csv",
        &read("data/qitaihe/responsibility-list.csv"),
        &taxonomy(),
        &departments(),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn calendar() -> WorkCalendar {
    WorkCalendar::load(
        &read("data/calendar/cn-official-days.csv"),
        &read("data/qitaihe/calendar-overlay.csv"),
        &read("data/qitaihe/working-hours.toml"),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn code(s: &str) -> TerritoryCode {
    TerritoryCode::parse(s).unwrap()
}

fn bj(s: &str) -> DateTime<Utc> {
    city_instant(NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap())
}

#[test]
fn the_taxonomy_has_the_national_directory_and_the_local_extensions() {
    let t = taxonomy();
    let national = |k| t.entries().iter().filter(|e| !e.local && e.kind == k).count();
    assert_eq!(national(EntryKind::Component), 153);
    assert_eq!(national(EntryKind::Matter), 250);
    let local: Vec<_> = t.entries().iter().filter(|e| e.local).collect();
    assert!(local.len() >= 80, "{}", local.len());
    assert!(local.iter().all(|e| e.major.is_local() && e.kind == EntryKind::Matter));
    for name in [
        "邻里纠纷",
        "供暖不热",
        "投诉",
        "电梯故障",
        "助老",
        "采煤沉陷",
        "屋檐冰溜",
    ] {
        assert_eq!(t.search(name, 1).first().map(|e| e.name.as_str()), Some(name));
    }
    assert_eq!(t.search("gnbr", 1)[0].name, "供暖不热");
}

#[test]
fn the_calendar_loads_and_knows_which_years_it_lacks() {
    let c = calendar();
    assert_eq!(c.years_with_data(), [2025, 2026]);
    assert_eq!(c.missing_years(2025..=2027), [2027]);
    assert_eq!(c.daily_work_minutes(), 450);
    assert_eq!(
        c.deadline(
            bj("2026-09-30 17:00"),
            Limit {
                amount: 1,
                unit: LimitUnit::WorkDays
            }
        ),
        bj("2026-10-08 17:00")
    );
}

#[test]
fn the_demo_list_has_84_rules_and_delegates_125_matters() {
    let t = taxonomy();
    let l = list();
    assert_eq!(l.rules().len(), 84);
    assert_eq!(l.delegated_matters(&t).len(), 125);
    assert!(l.uncovered_matters(&t).is_empty(), "{:?}", l.uncovered_matters(&t));
    // Every department of the list is in the departments file (checked at load), and every scope
    // is a node of the demo city.
    let divisions = read("data/qitaihe/divisions.json");
    for r in l.rules() {
        assert!(
            divisions.contains(&format!("\"{}\"", r.scope)),
            "rule {} scope {}",
            r.item,
            r.scope
        );
    }
}

#[test]
fn the_demo_list_routes_a_northern_coal_citys_cases() {
    let l = list();
    let t = |s: &str| TypeCode::parse(s).unwrap();
    let grid = code("230903011001007"); // a grid of 桃山区
    let dept = |s: &str| UnitRef::Department(DepartmentCode::parse(s).unwrap());

    // 暴露垃圾 in a class-one area: the street, within 1 working day.
    let r = l.route(&t("06010"), &grid, Some(RegionClass::One), None).unwrap();
    assert_eq!(r.unit_for(&grid), Some(UnitRef::Territory(code("230903011000"))));
    assert_eq!(
        r.handling_limit,
        Limit {
            amount: 1,
            unit: LimitUnit::WorkDays
        }
    );
    assert!(r.delegated);

    // 道路不洁: 5 working hours.
    let r = l.route(&t("06012"), &grid, None, None).unwrap();
    assert_eq!(
        r.handling_limit,
        Limit {
            amount: 5,
            unit: LimitUnit::WorkHours
        }
    );

    // 违法搭建: urban management, 15 working days; in 勃利县 the town handles it.
    let r = l.route(&t("06001"), &grid, None, None).unwrap();
    assert_eq!(r.unit_for(&grid), Some(dept("urban-management")));
    assert_eq!(
        r.handling_limit,
        Limit {
            amount: 15,
            unit: LimitUnit::WorkDays
        }
    );
    let boli = code("230921100201");
    let r = l.route(&t("06001"), &boli, None, None).unwrap();
    assert_eq!(r.handler, Handler::OwnStreet);
    assert_eq!(r.unit_for(&boli), Some(UnitRef::Territory(code("230921100000"))));

    // Snow and ice on a main road: urban management within 4 working hours; a lane: the street.
    let r = l.route(&t("10001"), &grid, None, Some(CaseLevel::A)).unwrap();
    assert_eq!(
        r.handling_limit,
        Limit {
            amount: 4,
            unit: LimitUnit::WorkHours
        }
    );
    let r = l.route(&t("10001"), &grid, None, Some(CaseLevel::C)).unwrap();
    assert_eq!(r.handler, Handler::OwnStreet);

    // A cold flat goes to the heating company; a quarrel between neighbours to the grid worker.
    assert_eq!(
        l.route(&t("23001"), &grid, None, None).unwrap().unit_for(&grid),
        Some(dept("heating"))
    );
    let r = l.route(&t("21001"), &grid, None, None).unwrap();
    assert_eq!(
        r.unit_for(&grid),
        Some(UnitRef::GridWorker(
            gongzhi_core::territory::GridCode::parse("230903011001007").unwrap()
        ))
    );
}

#[test]
fn the_demo_list_round_trips_through_csv() {
    let l = list();
    let again = ResponsibilityList::from_csv("again.csv", &l.to_csv(), &taxonomy(), &departments()).unwrap();
    assert_eq!(again, l);
}
