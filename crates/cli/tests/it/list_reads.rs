//! Lists that do not slow down with the city (issue 15), as staff and clients read them, on
//! SQLite and PostgreSQL: the API's keyset pages walk the whole filtered list exactly once in
//! every order while new cases arrive; the staff list's "next" link (下一页) carries the key its
//! page starts after and shows the same rows as the numbered page; a total counts no further than the
//! list reaches and says "more than" beyond it (API `total_exact`, the page "超过"/"more than"),
//! exact on a narrow filter; Open311 pages newest reported first and no deeper than the bound.

use std::collections::HashSet;

use axum::Router;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::common::{demo_apps_with, get, get_as, page, post_as, sign_in, token};

const GRID: &str = "230903011001001";
const MATTER: &str = "06001";

/// Reports a case through the API as the clerk; its JSON.
async fn report(app: &Router, clerk: &str, i: usize) -> Value {
    let body =
        json!({"channel": "hotline", "matter": MATTER, "description": format!("第{i}处违法搭建"), "grid_code": GRID});
    let r = post_as(app, "/api/v1/cases", clerk, &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()
}

fn ids(page: &Value) -> Vec<i64> {
    page["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn keyset_pages_walk_every_order_once_while_cases_arrive() {
    for (db, app) in demo_apps_with(|_| {}).await {
        let name = db.backend_name();
        let clerk = token(&app, &db, "clerk").await;
        let mut reported = Vec::new();
        for i in 0..9 {
            reported.push(report(&app, &clerk, i).await);
        }
        // Merged cases have no deadline: the deadline order lists them after the others.
        for dup in &reported[6..9] {
            let r = post_as(
                &app,
                &format!("/api/v1/cases/{}/actions", dup["id"]),
                &clerk,
                &json!({"action": "merge_into", "parent": reported[0]["number"]}),
            )
            .await;
            assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        }
        let dispatcher = token(&app, &db, "dispatcher").await;
        let all = get_as(&app, "/api/v1/cases?limit=200", &dispatcher).await.json();
        let before: HashSet<i64> = ids(&all).into_iter().collect();
        assert_eq!(before.len(), 9, "{name}: {all}");
        assert_eq!(all["total"], 9, "{name}");
        assert_eq!(all["total_exact"], true, "{name}");
        let mut arrivals = 100;
        for sort in ["newest", "oldest", "deadline"] {
            let mut seen: Vec<i64> = Vec::new();
            let mut uri = format!("/api/v1/cases?limit=2&sort={sort}");
            let mut last_deadline = String::new();
            loop {
                let r = get_as(&app, &uri, &dispatcher).await;
                assert_eq!(r.status, StatusCode::OK, "{name} {uri}: {}", r.body);
                let page = r.json();
                for c in page["cases"].as_array().unwrap() {
                    if sort == "deadline" {
                        // Cases with a deadline come first, nearest first; then those without.
                        let d = c["next_deadline"].as_str().unwrap_or("~").to_string();
                        assert!(d >= last_deadline, "{name}: {d} after {last_deadline}");
                        last_deadline = d;
                    }
                }
                seen.extend(ids(&page));
                // A new case arrives between every two pages.
                report(&app, &clerk, arrivals).await;
                arrivals += 1;
                match page["next_cursor"].as_str() {
                    Some(next) => uri = format!("/api/v1/cases?limit=2&sort={sort}&cursor={next}"),
                    None => break,
                }
            }
            let unique: HashSet<i64> = seen.iter().copied().collect();
            assert_eq!(unique.len(), seen.len(), "{name} {sort}: a case twice: {seen:?}");
            assert!(before.is_subset(&unique), "{name} {sort}: a gap: {seen:?}");
            match sort {
                "newest" => assert!(seen.windows(2).all(|w| w[0] > w[1]), "{name}: {seen:?}"),
                "oldest" => assert!(seen.windows(2).all(|w| w[0] < w[1]), "{name}: {seen:?}"),
                _ => {}
            }
        }
        // A reported-time window lists the same cases in the same order, and an empty one none.
        let today = chrono::Utc::now()
            .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
            .format("%Y-%m-%d")
            .to_string();
        for sort in ["newest", "oldest"] {
            let mut seen = Vec::new();
            let mut uri = format!("/api/v1/cases?limit=4&sort={sort}&from={today}&to={today}");
            loop {
                let page = get_as(&app, &uri, &dispatcher).await.json();
                seen.extend(ids(&page));
                match page["next_cursor"].as_str() {
                    Some(next) => {
                        uri = format!("/api/v1/cases?limit=4&sort={sort}&from={today}&to={today}&cursor={next}")
                    }
                    None => break,
                }
            }
            let everything = ids(
                &get_as(&app, &format!("/api/v1/cases?limit=200&sort={sort}"), &dispatcher)
                    .await
                    .json(),
            );
            assert_eq!(seen, everything, "{name} {sort}");
        }
        let none = get_as(&app, "/api/v1/cases?from=2000-01-01&to=2000-01-02", &dispatcher)
            .await
            .json();
        assert_eq!(ids(&none), Vec::<i64>::new(), "{name}");
        // A cursor of another order, or none at all, is refused naming it.
        let r = get_as(&app, "/api/v1/cases?sort=deadline&cursor=12", &dispatcher).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{name}: {}", r.body);
        assert_eq!(r.json()["error"]["field"], "cursor", "{name}");
        let r = get_as(&app, "/api/v1/cases?sort=sideways", &dispatcher).await;
        assert_eq!(r.json()["error"]["field"], "sort", "{name}");
    }
}

#[tokio::test]
async fn a_total_says_more_than_on_a_broad_filter_and_is_exact_on_a_narrow_one() {
    // The list reaches 5 rows here (10,000 by default): counting stops there.
    for (db, app) in demo_apps_with(|p| p.list_max_rows = 5).await {
        let name = db.backend_name();
        let clerk = token(&app, &db, "clerk").await;
        let mut reported = Vec::new();
        for i in 0..8 {
            reported.push(report(&app, &clerk, i).await);
        }
        let r = post_as(
            &app,
            &format!("/api/v1/cases/{}/actions", reported[7]["id"]),
            &clerk,
            &json!({"action": "merge_into", "parent": reported[0]["number"]}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        let dispatcher = token(&app, &db, "dispatcher").await;
        let broad = get_as(&app, "/api/v1/cases?limit=2", &dispatcher).await.json();
        assert_eq!(broad["total"], 5, "{name}: {broad}");
        assert_eq!(broad["total_exact"], false, "{name}: more than 5");
        let narrow = get_as(&app, "/api/v1/cases?state=merged", &dispatcher).await.json();
        assert_eq!(narrow["total"], 1, "{name}: {narrow}");
        assert_eq!(narrow["total_exact"], true, "{name}");

        let staff = sign_in(&app, &db, "dispatcher").await;
        let r = page(&app, &staff, "/cases").await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        assert!(r.body.contains("超过 <b>5</b> 件"), "{name}: {}", r.body);
        let r = page(&app, &staff, "/cases?lang=en").await;
        assert!(r.body.contains("more than <b>5</b> cases"), "{name}: {}", r.body);
        let r = page(&app, &staff, "/cases?state=merged").await;
        assert!(r.body.contains("共 <b>1</b> 件"), "{name}: {}", r.body);
        // A change shows in the count at once (a cached total is dropped on every change).
        let second = post_as(
            &app,
            &format!("/api/v1/cases/{}/actions", reported[6]["id"]),
            &clerk,
            &json!({"action": "merge_into", "parent": reported[0]["number"]}),
        )
        .await;
        assert_eq!(second.status, StatusCode::OK, "{name}: {}", second.body);
        let r = page(&app, &staff, "/cases?state=merged").await;
        assert!(r.body.contains("共 <b>2</b> 件"), "{name}: {}", r.body);
    }
}

/// The case ids a list page links to, in order.
fn linked_cases(html: &str) -> Vec<String> {
    html.split("<a href=\"/cases/")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_string)
        .collect()
}

/// The pager's link to the next page ("下一页").
fn next_link(html: &str) -> Option<String> {
    let after = html.split("<a rel=\"next\" href=\"").nth(1)?;
    let href = after.split('"').next()?;
    Some(href.replace("&amp;", "&").replace("&#38;", "&"))
}

#[tokio::test]
async fn the_staff_lists_next_link_seeks_to_the_same_rows_as_the_numbered_page() {
    for (db, app) in demo_apps_with(|_| {}).await {
        let name = db.backend_name();
        let clerk = token(&app, &db, "clerk").await;
        for i in 0..53 {
            report(&app, &clerk, i).await;
        }
        let staff = sign_in(&app, &db, "dispatcher").await;
        for sort in ["newest", "oldest", "deadline"] {
            let first = page(&app, &staff, &format!("/cases?sort={sort}")).await;
            assert_eq!(first.status, StatusCode::OK, "{name}: {}", first.body);
            assert_eq!(linked_cases(&first.body).len(), 50, "{name} {sort}");
            let next = next_link(&first.body).unwrap_or_else(|| panic!("{name}: {}", first.body));
            assert!(next.contains("page=2&after="), "{name} {sort}: {next}");
            let by_key = page(&app, &staff, &next).await;
            assert_eq!(by_key.status, StatusCode::OK, "{name} {next}: {}", by_key.body);
            let numbered = page(&app, &staff, &format!("/cases?sort={sort}&page=2")).await;
            assert_eq!(linked_cases(&by_key.body).len(), 3, "{name} {sort}");
            assert_eq!(
                linked_cases(&by_key.body),
                linked_cases(&numbered.body),
                "{name} {sort}"
            );
            assert!(by_key.body.contains("共 <b>53</b> 件"), "{name}: {}", by_key.body);
            assert!(next_link(&by_key.body).is_none(), "{name} {sort}: the last page");
        }
        let r = page(&app, &staff, "/cases?page=2&after=nonsense&sort=deadline").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{name}: {}", r.body);
        // A key is no way past the list's reach: the page number is still bounded.
        let r = page(&app, &staff, "/cases?page=201&after=5").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{name}: {}", r.body);
        assert!(r.body.contains("请用筛选条件缩小列表"), "{name}: {}", r.body);
        let r = page(&app, &staff, "/cases?page=201&after=5&lang=en").await;
        assert!(
            r.body.contains("narrow the list with its filters"),
            "{name}: {}",
            r.body
        );
    }
}

#[tokio::test]
async fn open311_pages_newest_reported_first_and_every_row_once() {
    for (db, app) in demo_apps_with(|_| {}).await {
        let name = db.backend_name();
        let clerk = token(&app, &db, "clerk").await;
        for i in 0..7 {
            report(&app, &clerk, i).await;
        }
        let mut seen = Vec::new();
        for n in 1..=4 {
            let r = get(&app, &format!("/open311/v2/requests.json?page_size=2&page={n}")).await;
            assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
            for req in r.json().as_array().unwrap() {
                seen.push(req["requested_datetime"].as_str().unwrap().to_string());
            }
        }
        assert_eq!(seen.len(), 7, "{name}: {seen:?}");
        assert!(seen.windows(2).all(|w| w[0] >= w[1]), "{name}: {seen:?}");
    }
}
