//! The inbox and the case list in a real headless Chromium: a dispatcher watches the inbox while
//! a case is reported and registered elsewhere, and the count beside 待办 changes without a
//! reload (server-sent events); the case list filters and exports. Screenshots under
//! target/screenshots.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::browser::{Browser, Window};

/// A case reported by the clerk and taken to the dispatcher's step through the API, as the
/// command centre's other desks would.
fn register_a_case(addr: SocketAddr) -> String {
    let clerk = gongzhi::client::sign_in(addr, "clerk", "demo").unwrap();
    let shiftlead = gongzhi::client::sign_in(addr, "shiftlead", "demo").unwrap();
    let mut conn = gongzhi::client::Conn::new(addr);
    let body = json!({"channel": "hotline", "matter": "06001", "description": "学府小区北门外私搭乱建",
                      "grid_code": "230903011001001"});
    let r = conn
        .post_json("/api/v1/cases", Some(&clerk), &[], body.to_string().as_bytes())
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json().unwrap()["id"].to_string();
    for (token, action) in [(&clerk, "accept"), (&shiftlead, "register")] {
        let body = json!({"action": action}).to_string();
        let r = conn
            .post_json(
                &format!("/api/v1/cases/{id}/actions"),
                Some(token),
                &[],
                body.as_bytes(),
            )
            .unwrap();
        assert_eq!(r.status, 200, "{action}: {}", r.text());
    }
    r.json().unwrap()["number"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_dispatchers_inbox_count_follows_a_case_without_a_reload() {
    let Some(b) = Browser::start(0, Window::Desktop).await else {
        return;
    };
    b.sign_in("dispatcher", "demo").await;
    assert_eq!(b.path().await, "/inbox", "the start page of working staff is the inbox");
    b.goto("/inbox/to_dispatch").await;
    let before: i64 = b.text("#nav-inbox-count").await.parse().unwrap();
    let card_before: i64 = b.text("[data-inbox-count=to_dispatch]").await.parse().unwrap();
    b.screenshot("inbox-dispatcher").await;

    let addr: SocketAddr = b.base.trim_start_matches("http://").parse().unwrap();
    let number = tokio::task::spawn_blocking(move || register_a_case(addr))
        .await
        .unwrap();
    // No reload: the event arrives and the counts are fetched again.
    let started = Instant::now();
    loop {
        let now: i64 = b.text("#nav-inbox-count").await.parse().unwrap();
        if now == before + 1 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the count stayed at {now} (was {before})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let card: i64 = b.text("[data-inbox-count=to_dispatch]").await.parse().unwrap();
    assert_eq!(card, card_before + 1);
    b.goto("/inbox/to_dispatch").await;
    assert!(b.body_text().await.contains(&number), "the new case is listed");

    // The case list: filter by channel with the form, then by state.
    b.goto("/cases").await;
    b.choose("select[name=channel]", "hotline").await;
    b.choose("select[name=sort]", "deadline").await;
    b.click("form.filters button[type=submit]").await;
    // The click only starts the navigation: wait for the filtered list's address.
    let started = Instant::now();
    while !b.path().await.contains("channel=") {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the filter form was not sent"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let path = b.path().await;
    assert!(
        path.contains("channel=hotline") && path.contains("sort=deadline"),
        "{path}"
    );
    assert!(b.text("#case-total").await.contains('共'));
    b.screenshot("cases-list-filtered").await;
    let export = b.wait("#export").await.attr("href").await.unwrap().unwrap();
    assert!(
        export.starts_with("/cases.xlsx?") && export.contains("channel=hotline"),
        "{export}"
    );
    b.goto("/cases?lang=en").await;
    assert!(b.body_text().await.contains("Export to Excel"));
    b.screenshot("cases-list-en").await;
    b.close().await;
}
