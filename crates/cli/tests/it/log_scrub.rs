//! No personal data in the server's log (security-cn.md testable 29, GB/T 22239 §8.1.4.8): the
//! demo server, logging at `debug`, is given ID numbers and phone numbers every way staff give
//! them (an import, an exact search, a full view, a case whose description and caller carry a
//! phone, a bad row), and its whole log is then searched for each of them.

use std::net::SocketAddr;

use gongzhi::client::{Conn, sign_in};
use gongzhi_office::{Format, write_rows};
use gongzhi_store::testing::TestDb;

use crate::common::browser::start_demo_logging;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
/// 学府社区's grids (the demo community worker's).
const GRIDS: [&str; 2] = ["230903011001001", "230903011001002"];

fn column(header: &[String], key: &str) -> usize {
    header
        .iter()
        .position(|h| h.contains(&format!("({key})")) || h == key)
        .unwrap_or_else(|| panic!("no column {key} in {header:?}"))
}

#[test]
fn the_server_log_holds_no_id_number_or_phone_it_was_given() {
    let dir = TestDb::temp_dir().join("log-scrub");
    let (_server, base) = start_demo_logging(&dir, 0, None, "debug");
    let addr: SocketAddr = base.trim_start_matches("http://").parse().unwrap();
    let community = sign_in(addr, "community", "demo").unwrap();
    let bearer = format!("Bearer {community}");

    // An import of twelve people.
    let grids: Vec<String> = GRIDS.iter().map(|g| g.to_string()).collect();
    let rows = gongzhi_demo::import_rows::resident_rows(12, &grids, 29);
    let (id_at, phone_at) = (column(&rows[0], "id_number"), column(&rows[0], "phone"));
    let xlsx = write_rows(Format::Xlsx, "实有人口", &rows).unwrap();
    let mut conn = Conn::new(addr);
    let r = conn
        .request(
            "POST",
            "/api/v1/registry/import/residents?file=r.xlsx",
            &[("Authorization", &bearer), ("Content-Type", XLSX)],
            &xlsx,
        )
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    let people: Vec<(String, String)> = rows[1..]
        .iter()
        .map(|row| (row[id_at].clone(), row[phone_at].clone()))
        .collect();

    // Exact searches by ID number and by phone, and a full view with a reason.
    for (id_number, phone) in &people[..3] {
        for q in [id_number, phone] {
            let r = conn
                .get(&format!("/api/v1/registry/search?q={q}"), Some(&community))
                .unwrap();
            assert_eq!(r.status, 200, "{}", r.text());
        }
    }
    let found = conn
        .get(&format!("/api/v1/registry/search?q={}", people[0].0), Some(&community))
        .unwrap()
        .json()
        .unwrap();
    let id = found["residents"][0]["id"].as_i64().unwrap();
    let r = conn
        .post_json(
            &format!("/api/v1/registry/residents/{id}/reveal"),
            Some(&community),
            &[],
            r#"{"reason": "核实低保申请"}"#.as_bytes(),
        )
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json().unwrap()["id_number"], people[0].0.as_str());

    // A case whose description and caller carry a phone.
    let clerk = sign_in(addr, "clerk", "demo").unwrap();
    let caller = &people[1].1;
    let report = serde_json::json!({
        "channel": "hotline", "matter": "06001", "grid_code": GRIDS[0],
        "description": format!("居民来电，回电 {caller}，楼道堆放杂物"),
        "report_detail": {"reporter_contact": {"name": "王女士", "phone": caller}},
    });
    let r = conn
        .post_json("/api/v1/cases", Some(&clerk), &[], report.to_string().as_bytes())
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());

    // A row with a wrong check digit: refused, naming the field.
    let mut bad = rows[..2].to_vec();
    let wrong = format!("{}0", &people[2].0[..17]);
    let wrong = if wrong == people[2].0 {
        format!("{}1", &people[2].0[..17])
    } else {
        wrong
    };
    bad[1][id_at] = wrong.clone();
    let xlsx = write_rows(Format::Xlsx, "实有人口", &bad).unwrap();
    let r = conn
        .request(
            "POST",
            "/api/v1/registry/import/residents?file=bad.xlsx",
            &[("Authorization", &bearer), ("Content-Type", XLSX)],
            &xlsx,
        )
        .unwrap();
    assert_eq!(r.status, 422, "{}", r.text());

    // Give the log a moment to reach the file, then read all of it.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let log = std::fs::read_to_string(dir.with_file_name("server.log")).unwrap();
    assert!(log.contains("serving on"), "the log was captured");
    assert!(
        log.lines().count() > 20,
        "the log at debug has something to search: {log}"
    );
    for (id_number, phone) in people.iter().chain([(wrong.clone(), caller.clone())].iter()) {
        for secret in [id_number, phone] {
            assert!(
                !log.contains(secret.as_str()),
                "the server log holds {secret}: {}",
                log.lines()
                    .filter(|l| l.contains(secret.as_str()))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
    }
}
