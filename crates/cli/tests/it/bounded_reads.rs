//! Reads that cost the database little whoever asks (issue 14, High 5 and the public Open311
//! list), replayed as the outside test did it, on SQLite and PostgreSQL: a staff list's page
//! beyond the list's reach (`[security] list_max_rows`) is a 400 naming `page`, shown on the page
//! in the reader's language; the public Open311 list gives a small page by default, reaches no
//! deeper than the staff lists, and counts each source address's reads (429 with `Retry-After`
//! beyond them); discovery publishes the configured address, never the `Host` a client sends.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use gongzhi_core::people::policy::SecurityPolicy;
use gongzhi_store::testing::TestDb;
use serde_json::json;

use crate::common::{Reply, demo_apps, demo_apps_with, get, get_as, page, post_as, send, sign_in, token};

const GRID: &str = "230903011001001";
const MATTER: &str = "06001";

/// A GET as a client at `ip` sends it.
async fn get_from(app: &Router, ip: &str, uri: &str) -> Reply {
    let peer: SocketAddr = format!("{ip}:40000").parse().unwrap();
    let request = Request::get(uri)
        .extension(ConnectInfo(peer))
        .body(Body::empty())
        .unwrap();
    send(app, request).await
}

/// Reports `n` cases through the API as the clerk.
async fn report_cases(app: &Router, db: &TestDb, n: usize) {
    let clerk = token(app, db, "clerk").await;
    for i in 0..n {
        let body = json!({"channel": "hotline", "matter": MATTER, "description": format!("第{i}处违法搭建"), "grid_code": GRID});
        let r = post_as(app, "/api/v1/cases", &clerk, &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
}

#[tokio::test]
async fn a_page_beyond_the_lists_reach_is_refused_naming_page_and_the_reader_sees_why() {
    for (db, app) in demo_apps_with(|_| {}).await {
        let name = db.backend_name();
        let dispatcher = sign_in(&app, &db, "dispatcher").await;
        // The outside test's pages: 500 and 100,000 (50 rows a page, 10,000 rows at most).
        for deep in ["/cases?page=100000", "/cases?page=201&sort=oldest", "/inbox?page=500"] {
            let r = page(&app, &dispatcher, deep).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{name} {deep}: {}", r.body);
            assert!(r.body.contains("页码 page 最大为 200"), "{name} {deep}: {}", r.body);
            assert!(r.body.contains("id=\"error-field\""), "{name} {deep}: {}", r.body);
        }
        let r = page(&app, &dispatcher, "/cases?page=100000&lang=en").await;
        assert!(r.body.contains("page may be at most 200"), "{name}: {}", r.body);
        // The deepest page within reach still answers.
        let r = page(&app, &dispatcher, "/cases?page=200").await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        // The API list has no page to skip to: it continues from a cursor (keyset), and a page
        // given to it is no way around that.
        let t = token(&app, &db, "dispatcher").await;
        let r = get_as(&app, "/api/v1/cases?limit=201", &t).await;
        assert_eq!(r.json()["error"]["field"], "limit", "{name}: {}", r.body);
    }
}

#[tokio::test]
async fn the_lists_reach_is_a_setting() {
    for (db, app) in demo_apps_with(|p| p.list_max_rows = 100).await {
        let name = db.backend_name();
        let dispatcher = sign_in(&app, &db, "dispatcher").await;
        assert_eq!(
            page(&app, &dispatcher, "/cases?page=2").await.status,
            StatusCode::OK,
            "{name}"
        );
        let r = page(&app, &dispatcher, "/cases?page=3").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{name}: {}", r.body);
        assert!(r.body.contains("页码 page 最大为 2"), "{name}: {}", r.body);
        // Open311 reaches as deep: 100 rows.
        let r = get(&app, "/open311/v2/requests.json?page_size=10&page=11").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{name}: {}", r.body);
        assert!(r.body.contains("(page)"), "{name}: {}", r.body);
        let r = get(&app, "/open311/v2/requests.json?page_size=10&page=10").await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
    }
}

#[tokio::test]
async fn the_public_open311_list_gives_a_small_page_by_default_and_no_deep_one() {
    assert_eq!(SecurityPolicy::default().open311_page_size, 50);
    for (db, app) in demo_apps_with(|p| p.open311_page_size = 2).await {
        let name = db.backend_name();
        report_cases(&app, &db, 3).await;
        let r = get(&app, "/open311/v2/requests.json").await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        assert_eq!(r.json().as_array().unwrap().len(), 2, "{name}: the default page");
        let r = get(&app, "/open311/v2/requests.json?page=2").await;
        assert_eq!(r.json().as_array().unwrap().len(), 1, "{name}: the next page");
        let r = get(&app, "/open311/v2/requests.json?page_size=3").await;
        assert_eq!(
            r.json().as_array().unwrap().len(),
            3,
            "{name}: a client may ask for more"
        );
        // The outside test's deep pages: beyond 10,000 rows is refused, naming the page.
        let r = get(&app, "/open311/v2/requests.json?page_size=1000&page=100000").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{name}: {}", r.body);
        assert!(r.body.contains("(page)"), "{name}: {}", r.body);
        let r = get(&app, "/open311/v2/requests.xml?page=5001").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{name}: {}", r.body);
    }
}

#[tokio::test]
async fn one_address_reading_open311_too_often_waits_and_others_do_not() {
    for (db, app) in demo_apps_with(|p| p.open311_reads_per_minute = 5).await {
        let name = db.backend_name();
        let reads = [
            "/open311/v2/requests.json",
            "/open311/v2/services.json",
            "/open311/v2/discovery.xml",
            "/open311/v2/services/06001.json",
            "/open311/v2/requests/2026010100001.json",
        ];
        for uri in reads {
            let r = get_from(&app, "198.51.100.7", uri).await;
            assert_ne!(r.status, StatusCode::TOO_MANY_REQUESTS, "{name} {uri}: {}", r.body);
        }
        let r = get_from(&app, "198.51.100.7", "/open311/v2/requests.json").await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{name}: {}", r.body);
        let wait: u64 = r.headers[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&wait), "{name}: Retry-After {wait}");
        assert_eq!(
            r.json()[0]["code"],
            429,
            "{name}: the spec's error document: {}",
            r.body
        );
        assert!(
            r.json()[0]["description"].as_str().unwrap().contains("请求过于频繁"),
            "{name}: {}",
            r.body
        );
        let r = get_from(&app, "198.51.100.7", "/open311/v2/tokens/x.xml").await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{name}: every read counts");
        // Another client, and the staff, are not held up.
        let r = get_from(&app, "203.0.113.10", "/open311/v2/requests.json").await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        let t = token(&app, &db, "dispatcher").await;
        assert_eq!(get_as(&app, "/api/v1/cases", &t).await.status, StatusCode::OK, "{name}");
    }
}

#[tokio::test]
async fn discovery_publishes_the_configured_address_whatever_host_a_client_names() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let app = gongzhi_web::router(state.with_public_url("https://gongzhi.example.gov.cn/"));
        for host in ["evil.example", "gongzhi.example.gov.cn\"><script>"] {
            let request = Request::get("/open311/v2/discovery.json")
                .header(header::HOST, host)
                .header("x-forwarded-proto", "https")
                .body(Body::empty())
                .unwrap();
            let r = send(&app, request).await;
            assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
            assert_eq!(
                r.json()["endpoints"][0]["url"],
                "https://gongzhi.example.gov.cn/open311/v2",
                "{name}"
            );
            assert!(
                !r.body.contains("evil") && !r.body.contains("<script>"),
                "{name}: {}",
                r.body
            );
        }
    }
}
