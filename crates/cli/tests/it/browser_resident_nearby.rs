//! A resident on a phone (360×800 headless Chromium) against `gongzhi demo`: a hotline case is
//! reported at a point inside 学府社区第1网格; the resident, at that point (a fixed WGS-84
//! location), opens 附近 (`/m/nearby`), taps 我也遇到 on the case and finds it under the problems
//! they follow in my reports; then picks 学府社区 and posts a need (居民点单). Each page's weight
//! is printed and kept under 200 KB; no page scrolls sideways. Screenshots go to
//! target/screenshots.

use std::net::SocketAddr;

use serde_json::json;

use crate::common;
use crate::common::browser::{Browser, Window};

const PHONE: &str = "13700005678";
const MASKED: &str = "137****5678";
const GRID: &str = "230903011001001";
const COMMUNITY: &str = "230903011001";

/// A WGS-84 point inside the demo grid.
fn point_in_grid() -> (f64, f64) {
    common::point_in(GRID)
}

/// A hotline case at the point, through the JSON API as the clerk's desk records it; its number.
fn hotline_case(addr: SocketAddr, (lon, lat): (f64, f64)) -> String {
    let mut conn = gongzhi::client::Conn::new(addr);
    let clerk = gongzhi::client::sign_in(addr, "clerk", "demo").unwrap();
    let body = json!({"channel": "hotline", "matter": "06010", "description": "学府小区南门垃圾桶满了没人清",
                      "lon": lon, "lat": lat, "datum": "wgs84",
                      "report_detail": {"reporter_contact": {"name": "张三丰", "phone": "13612345678"}}});
    let r = conn
        .post_json("/api/v1/cases", Some(&clerk), &[], body.to_string().as_bytes())
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    r.json().unwrap()["number"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_resident_nearby_taps_me_too_sees_it_followed_and_posts_a_need() {
    let Some(b) = Browser::start(0, Window::Phone).await else {
        return;
    };
    let point = point_in_grid();
    let addr: SocketAddr = b.base.trim_start_matches("http://").parse().unwrap();
    let number = tokio::task::spawn_blocking(move || hotline_case(addr, point))
        .await
        .unwrap();

    // Signing in from 附近 comes back to it.
    b.goto("/m/nearby").await;
    b.wait("#phone").await;
    b.fill("#phone", PHONE).await;
    b.click("#send-code").await;
    b.wait("#notice").await;
    let code = b.sms_code_for(MASKED).await;
    b.fill("#code", &code).await;
    b.click("#sign-in").await;
    b.wait("#locate").await;
    assert_eq!(b.path().await, "/m/nearby");

    // The browser's location, fixed (WebDriver cannot set it): the page asks for it and lists the
    // open cases around.
    b.client
        .execute(
            "navigator.geolocation.getCurrentPosition = function (ok) {
               ok({coords: {longitude: LON, latitude: LAT, accuracy: 10}});
             };"
            .replace("LON", &point.0.to_string())
            .replace("LAT", &point.1.to_string())
            .as_str(),
            vec![],
        )
        .await
        .unwrap();
    b.click("#locate").await;
    let row = format!("#nearby li[data-number='{number}']");
    b.until(&row).await;
    assert!(b.path().await.starts_with("/m/nearby?lon="));
    let text = b.text(&row).await;
    assert!(text.contains("暴露垃圾") && text.contains("0 人关注"), "{text}");
    assert!(b.text("#where").await.contains("WGS-84"));
    let source = b.client.source().await.unwrap();
    assert!(
        !source.contains("张三丰") && !source.contains("13612345678") && !source.contains(PHONE),
        "a reporter or a phone on the page"
    );
    b.fits_width("/m/nearby").await;
    let nearby = b.page_weight("/m/nearby").await;
    b.screenshot("resident-nearby-01-list").await;

    // 我也遇到: the case is followed, the count says so, the button turns to unfollow.
    b.click(&format!("{row} button.follow")).await;
    b.until(&format!("{row} button.unfollow")).await;
    assert!(b.text(&row).await.contains("1 人关注"));
    b.screenshot("resident-nearby-02-followed").await;

    // My reports list it under the problems I follow; its page shows the steps.
    b.click("nav.tabs a[href='/m/reports']").await;
    let followed = format!("#followed a[data-number='{number}']");
    b.until(&followed).await;
    let reports = b.page_weight("/m/reports (following)").await;
    b.screenshot("resident-nearby-03-my-reports").await;
    b.click(&followed).await;
    b.until("#timeline").await;
    assert!(b.text("#followers").await.contains('1'));
    assert!(!b.client.source().await.unwrap().contains("张三丰"));
    let case = b.page_weight("/m/reports/{number} (followed)").await;
    b.screenshot("resident-nearby-04-followed-case").await;

    // A need: 点单 asks for the community first, then the form.
    b.click("nav.tabs a[href='/m/orders']").await;
    b.wait("#community").await;
    b.choose("#community", COMMUNITY).await;
    b.click("#save-community").await;
    b.until("#notices").await;
    b.goto("/m/orders").await;
    b.click("#new-order").await;
    b.wait("#order").await;
    b.fits_width("/m/orders/new").await;
    let form = b.page_weight("/m/orders/new").await;
    b.click("#order input[name=kind][value=elderly]").await;
    b.fill("#description", "独居老人，想请人每周陪同去医院取药").await;
    b.fill("#preferred_time", "每周三上午").await;
    b.screenshot("resident-nearby-05-need").await;
    b.click("#submit").await;
    b.until("#done").await;
    let text = b.text("#orders").await;
    assert!(
        text.contains("助老") && text.contains("已点单") && text.contains("每周三上午"),
        "{text}"
    );
    b.fits_width("/m/orders").await;
    let orders = b.page_weight("/m/orders").await;
    b.screenshot("resident-nearby-06-needs").await;
    println!(
        "page weights (bytes): nearby {nearby}, reports {reports}, followed case {case}, need form {form}, needs {orders}"
    );
    b.close().await;
}
