//! A resident on a phone (360×800 headless Chromium) against `gongzhi demo`: signs in with the
//! code the demo's LogGateway wrote to the server log, reports a problem with a photo and the
//! browser's location (a fixed WGS-84 point inside 学府社区第1网格), and finds it in my reports;
//! staff close it through the JSON API and the resident rates it on the page.
//! Each page's weight (HTML with its inline script and style; the pages load no other script or
//! style) is printed and kept under 200 KB. Screenshots go to target/screenshots.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common;
use crate::common::browser::{Browser, Window};

const PHONE: &str = "13700001234";
const GRID: &str = "230903011001001";

/// A WGS-84 point inside the demo grid.
fn point_in_grid() -> (f64, f64) {
    common::point_in(GRID)
}

#[tokio::test]
async fn a_resident_signs_in_reports_with_photo_and_location_follows_it_and_rates_it() {
    let Some(b) = Browser::start(0, Window::Phone).await else {
        return;
    };
    b.goto("/m/reports").await;
    b.wait("#phone").await;
    assert!(b.path().await.starts_with("/m/login"));
    let login = b.page_weight("/m/login").await;
    b.screenshot("resident-01-login").await;
    b.fill("#phone", PHONE).await;
    b.click("#send-code").await;
    b.wait("#notice").await;
    let code = b.sms_code_for("137****1234").await;
    let log = b.server_log();
    assert!(log.contains("for development only"));
    assert!(!log.contains(PHONE), "the log names the phone masked only");
    b.fill("#code", &code).await;
    b.screenshot("resident-02-code").await;
    b.click("#sign-in").await;
    b.wait("#reports").await;
    assert_eq!(b.path().await, "/m/reports");
    assert!(b.text("#me").await.contains("137****1234"));
    let empty = b.page_weight("/m/reports (empty)").await;

    b.goto("/m/report").await;
    b.wait("#report").await;
    let form = b.page_weight("/m/report").await;
    // No phone layout scrolls sideways at 360 px.
    let wide = b
        .client
        .execute(
            "return document.documentElement.scrollWidth > window.innerWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(wide, serde_json::json!(false), "the report page scrolls sideways");
    b.choose("#matter", "06010").await;
    b.fill("#description", "学府小区南门垃圾堆了三天没人清").await;
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
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the location was not filled in"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    b.screenshot("resident-03-report").await;
    b.click("#submit").await;
    let started = Instant::now();
    while b.client.find(fantoccini::Locator::Css("#done")).await.is_err() {
        if let Ok(e) = b.client.find(fantoccini::Locator::Css("#error")).await {
            panic!("the report was refused: {}", e.text().await.unwrap_or_default());
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no answer to the report: {}",
            b.body_text().await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let number = b.text("#number").await;
    assert_eq!(number.len(), 13);
    assert!(b.body_text().await.contains("暴露垃圾"));
    // The photo shows (loaded, not a broken image), and the place the location gave.
    b.wait("img.photo").await;
    let started = Instant::now();
    loop {
        let loaded = b
            .client
            .execute(
                "var i = document.querySelector('img.photo'); return i.complete && i.naturalWidth > 0;",
                vec![],
            )
            .await
            .unwrap();
        if loaded == serde_json::json!(true) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "the photo did not load");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(b.body_text().await.contains("学府社区"));
    let case = b.page_weight("/m/reports/{number}").await;
    b.screenshot("resident-04-case").await;

    b.click("nav.tabs a[href='/m/reports']").await;
    b.wait(&format!("#reports a[data-number='{number}']")).await;
    let list = b.page_weight("/m/reports").await;
    b.screenshot("resident-05-my-reports").await;
    assert!(!b.client.source().await.unwrap().contains(PHONE));

    // Staff take it round the loop to closing through the API, then the resident rates it on
    // the page.
    let addr: SocketAddr = b.base.trim_start_matches("http://").parse().unwrap();
    let closing = number.clone();
    tokio::task::spawn_blocking(move || close_a_case(addr, &closing))
        .await
        .unwrap();
    b.goto(&format!("/m/reports/{number}")).await;
    b.wait("#rate").await;
    b.click("#rate input[name=solved][value=yes]").await;
    b.click("#rate input[name=satisfaction][value=satisfied]").await;
    b.click("#rate-submit").await;
    let started = Instant::now();
    while b.client.find(fantoccini::Locator::Css("#rating")).await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no rating shown: {}",
            b.body_text().await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rating = b.text("#rating").await;
    assert!(rating.contains("满意") && rating.contains("已解决"), "{rating}");
    assert!(!rating.contains("不满意"), "{rating}");
    assert!(
        b.client.find(fantoccini::Locator::Css("#rate")).await.is_err(),
        "the form is gone once rated"
    );
    let rated = b.page_weight("/m/reports/{number} (rated)").await;
    // The rating sits under the steps: the screenshot shows it.
    b.client
        .execute(
            "document.getElementById('rating').scrollIntoView({block: 'center'});",
            vec![],
        )
        .await
        .unwrap();
    b.screenshot("resident-06-rated").await;
    println!(
        "page weights (bytes): login {login}, reports empty {empty}, report form {form}, case {case}, reports {list}, rated {rated}"
    );
    b.close().await;
}

/// The resident's case taken round the loop to closing through the JSON API, as the staff's
/// desks would: accept, register, dispatch, acknowledge, report back with a photo, check, close.
fn close_a_case(addr: SocketAddr, number: &str) {
    let mut conn = gongzhi::client::Conn::new(addr);
    let token = |who: &str| gongzhi::client::sign_in(addr, who, "demo").unwrap();
    let clerk = token("clerk");
    let found = conn.get(&format!("/api/v1/cases/{number}"), Some(&clerk)).unwrap();
    assert_eq!(found.status, 200, "{}", found.text());
    let id = found.json().unwrap()["id"].to_string();
    let handler = token("handler");
    let photo = photo_id(&mut conn, &handler);
    let steps = [
        ("clerk", json!({"action": "accept"})),
        ("shiftlead", json!({"action": "register"})),
        (
            "dispatcher",
            json!({"action": "dispatch", "lead": {"kind": "department", "code": "urban-management"}}),
        ),
        ("handler", json!({"action": "acknowledge"})),
        (
            "handler",
            json!({"action": "report_back", "result": "已清运", "photos": [photo]}),
        ),
        ("gridworker", json!({"action": "check_pass"})),
        ("shiftlead", json!({"action": "close"})),
    ];
    for (who, action) in steps {
        let t = token(who);
        let r = conn
            .post_json(
                &format!("/api/v1/cases/{id}/actions"),
                Some(&t),
                &[],
                action.to_string().as_bytes(),
            )
            .unwrap();
        assert_eq!(r.status, 200, "{who} {action}: {}", r.text());
    }
}

/// A photo uploaded by POST /api/v1/attachments; its id, as the actions take it (a string).
fn photo_id(conn: &mut gongzhi::client::Conn, token: &str) -> String {
    let jpeg = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/fixtures/plain.jpg")).unwrap();
    let mut body = b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"after.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n".to_vec();
    body.extend(jpeg);
    body.extend(b"\r\n--XyZ--\r\n");
    let auth = format!("Bearer {token}");
    let r = conn
        .request(
            "POST",
            "/api/v1/attachments",
            &[
                ("Authorization", auth.as_str()),
                ("Content-Type", "multipart/form-data; boundary=XyZ"),
            ],
            &body,
        )
        .unwrap();
    assert!((200..300).contains(&r.status), "upload: {}", r.text());
    r.json().unwrap()["id"].to_string()
}
