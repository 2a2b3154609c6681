//! A grid worker on a phone (360×800 headless Chromium) against `gongzhi demo`: signs in, sees
//! my grid, fills a report from patrol with a camera photo and the browser's location (a fixed
//! WGS-84 point inside 学府社区第1网格), and sends it with the network off (chromedriver's
//! network conditions): the report waits in the browser, shown as waiting to send. Back online,
//! it is sent with its idempotency key and arrives exactly once, which the clerk checks through
//! the API. Page weights are printed and kept under 200 KB; screenshots under target/screenshots.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use fantoccini::wd::WebDriverCompatibleCommand;
use serde_json::json;

use crate::common;
use crate::common::browser::{Browser, Window};

const GRID: &str = "230903011001001";
const DESCRIPTION: &str = "离线上报：学府路口井盖缺失";

/// A WGS-84 point inside the demo grid.
fn point_in_grid() -> (f64, f64) {
    common::point_in(GRID)
}

/// chromedriver's `POST /session/{id}/chromium/network_conditions`: the network off or on.
#[derive(Debug)]
struct NetworkConditions {
    offline: bool,
}

impl WebDriverCompatibleCommand for NetworkConditions {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/chromium/network_conditions",
            session.unwrap_or("")
        ))
    }
    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        let body = json!({"network_conditions": {
            "offline": self.offline, "latency": 0,
            "download_throughput": 10_000_000, "upload_throughput": 10_000_000}});
        (axum::http::Method::POST, Some(body.to_string()))
    }
}

async fn network(b: &Browser, online: bool) {
    b.client
        .issue_cmd(NetworkConditions { offline: !online })
        .await
        .expect("chromedriver sets network conditions");
}

async fn wait_for(b: &Browser, css: &str, secs: u64) {
    let started = Instant::now();
    while b.client.find(fantoccini::Locator::Css(css)).await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(secs),
            "no {css}: {}",
            b.body_text().await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The cases with the description, as the clerk finds them through the API.
fn cases_described(addr: SocketAddr, description: &str) -> Vec<serde_json::Value> {
    let clerk = gongzhi::client::sign_in(addr, "clerk", "demo").unwrap();
    let mut conn = gongzhi::client::Conn::new(addr);
    let r = conn.get("/api/v1/cases?limit=200", Some(&clerk)).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    r.json().unwrap()["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["description"] == description)
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_grid_worker_reports_offline_and_the_report_arrives_once_when_back_online() {
    let Some(b) = Browser::start(0, Window::Phone).await else {
        return;
    };
    b.sign_in("gridworker", "demo").await;
    b.goto("/g/").await;
    b.wait(&format!("section.grid[data-code='{GRID}']")).await;
    assert!(b.body_text().await.contains("学府社区第1网格"));
    let home = b.page_weight("/g/").await;
    b.screenshot("gridworker-01-home").await;

    b.goto("/g/report").await;
    b.wait("#report").await;
    let form = b.page_weight("/g/report").await;
    let wide = b
        .client
        .execute(
            "return document.documentElement.scrollWidth > window.innerWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(wide, json!(false), "the report page scrolls sideways");
    b.choose("#matter", "06010").await;
    b.fill("#description", DESCRIPTION).await;
    let photo = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/fixtures/plain.jpg"))
        .canonicalize()
        .unwrap();
    b.wait("#photos")
        .await
        .send_keys(photo.to_str().unwrap())
        .await
        .unwrap();
    // The browser's location, fixed: WebDriver cannot set it, so the page's geolocation answers
    // with a point inside the grid.
    let (lon, lat) = point_in_grid();
    b.client
        .execute(
            "navigator.geolocation.getCurrentPosition = function (ok) {
               ok({coords: {longitude: LON, latitude: LAT, accuracy: 10}});
             };"
            .replace("LON", &lon.to_string())
            .replace("LAT", &lat.to_string())
            .as_str(),
            vec![],
        )
        .await
        .unwrap();
    b.click("#locate").await;
    let started = Instant::now();
    while b
        .wait("#lon")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
        .is_empty()
    {
        assert!(started.elapsed() < Duration::from_secs(5), "no location");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    b.screenshot("gridworker-02-report").await;

    // The network goes away; the report waits in the browser.
    network(&b, false).await;
    b.click("#submit").await;
    wait_for(&b, "#queue li.waiting", 10).await;
    assert!(b.text("#queue").await.contains(DESCRIPTION));
    assert!(b.body_text().await.contains("等待发送"));
    let key: String = b
        .client
        .execute("return JSON.parse(localStorage.getItem('gz_g_queue'))[0].key;", vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_string();
    assert!(!key.is_empty());
    b.screenshot("gridworker-03-waiting").await;
    let addr: SocketAddr = b.base.trim_start_matches("http://").parse().unwrap();
    let none = tokio::task::spawn_blocking(move || cases_described(addr, DESCRIPTION))
        .await
        .unwrap();
    assert!(none.is_empty(), "nothing arrived while offline: {none:?}");

    // Back online: the queue sends it, with its key, and empties.
    network(&b, true).await;
    wait_for(&b, "#sent li.done", 30).await;
    let number = b
        .wait("#sent li.done")
        .await
        .attr("data-number")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(number.len(), 13, "{number}");
    assert!(b.client.find(fantoccini::Locator::Css("#queue li")).await.is_err());
    b.screenshot("gridworker-04-sent").await;
    // The same report under the same key sent again (as a queue whose answer was lost would,
    // its photo uploaded anew): no second case.
    let photo_bytes: Vec<u8> = std::fs::read(&photo).unwrap();
    let resent = b
        .client
        .execute_async(
            "var done = arguments[arguments.length - 1];
             var f = document.getElementById('report'), fd = new FormData();
             fd.append('csrf', f.elements.csrf.value); fd.append('matter', '06010');
             fd.append('description', DESC); fd.append('lon', LON); fd.append('lat', LAT);
             fd.append('datum', 'wgs84');
             fd.append('photos', new Blob([new Uint8Array(PHOTO)], {type: 'image/jpeg'}), 'plain.jpg');
             fetch('/g/report', {method: 'POST', body: fd,
                   headers: {'Accept': 'application/json', 'Idempotency-Key': KEY}})
               .then(function (r) { return r.json(); }).then(done, function (e) { done(String(e)); });"
                .replace("DESC", &json!(DESCRIPTION).to_string())
                // As the page's location script wrote them (six decimals).
                .replace("LON", &json!(format!("{lon:.6}")).to_string())
                .replace("LAT", &json!(format!("{lat:.6}")).to_string())
                .replace("KEY", &json!(key).to_string())
                .replace("PHOTO", &json!(photo_bytes).to_string())
                .as_str(),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(resent["number"], json!(number), "{resent}");
    assert_eq!(resent["replayed"], json!(true), "{resent}");
    // A reload sends nothing more: the queue is empty.
    b.goto("/g/report").await;
    b.wait("#report").await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let found = tokio::task::spawn_blocking(move || cases_described(addr, DESCRIPTION))
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "exactly one case: {found:?}");
    assert_eq!(found[0]["number"], json!(number));
    assert_eq!(found[0]["channel"], json!("patrol"));
    // The photo taken offline came along: one attachment on the report.
    let id = found[0]["id"].to_string();
    let case = tokio::task::spawn_blocking(move || {
        let clerk = gongzhi::client::sign_in(addr, "clerk", "demo").unwrap();
        let mut conn = gongzhi::client::Conn::new(addr);
        conn.get(&format!("/api/v1/cases/{id}"), Some(&clerk))
            .unwrap()
            .json()
            .unwrap()
    })
    .await
    .unwrap();
    let report = &case["timeline"][0]["detail"];
    assert_eq!(
        report["photos"].as_array().map(Vec::len),
        Some(1),
        "the report's photo: {case}"
    );
    assert_eq!(report["node"], json!(GRID), "placed by the browser's point: {case}");
    b.goto(&format!("/g/cases/{}", found[0]["id"])).await;
    b.wait("#number").await;
    assert_eq!(b.text("#number").await, number);
    let case_page = b.page_weight("/g/cases/{id}").await;
    b.screenshot("gridworker-05-case").await;

    // A patrol: start, two positions about 111 m apart, stop; the list shows its length.
    b.goto("/g/patrols").await;
    let patrols = b.page_weight("/g/patrols").await;
    b.click("#start").await;
    b.wait("#ping").await;
    let patrol = b.page_weight("/g/patrols/{id}").await;
    for (i, dlat) in [0.0, 0.001].iter().enumerate() {
        b.client
            .execute(
                "navigator.geolocation.getCurrentPosition = function (ok) {
                   ok({coords: {longitude: LON, latitude: LAT, accuracy: 10}});
                 };"
                .replace("LON", &lon.to_string())
                .replace("LAT", &(lat + dlat).to_string())
                .as_str(),
                vec![],
            )
            .await
            .unwrap();
        b.click("#ping").await;
        let started = Instant::now();
        while b.text("#points").await.trim().parse::<usize>().unwrap_or(0) < i + 1 {
            assert!(started.elapsed() < Duration::from_secs(10), "point {i} not recorded");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let length: i64 = b.text("#length").await.trim().parse().unwrap();
    assert!((110..=112).contains(&length), "{length}");
    b.screenshot("gridworker-06-patrol").await;
    b.click("#stop").await;
    b.wait("#patrols .length").await;
    assert_eq!(b.text("#patrols .length").await.trim(), length.to_string());
    b.screenshot("gridworker-07-patrols").await;
    println!(
        "page weights (bytes): /g/ {home}, /g/report {form}, /g/cases/{{id}} {case_page}, /g/patrols {patrols}, /g/patrols/{{id}} {patrol}"
    );
    b.close().await;
}
