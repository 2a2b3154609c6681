//! The territory pages in a real headless Chromium, signed in as a leader: what a person sees,
//! with screenshots kept under target/screenshots.

use crate::common::browser::{Browser, Window};

#[tokio::test]
async fn a_leader_signs_in_and_sees_the_city_and_a_district_on_the_map() {
    let Some(b) = Browser::start(200, Window::Desktop).await else {
        return;
    };
    b.goto("/territory").await;
    assert!(
        b.path().await.starts_with("/login"),
        "signed out: the sign-in form first"
    );
    b.screenshot("sign-in").await;
    b.sign_in("leader", "demo").await;
    b.goto("/territory").await;
    let text = b.body_text().await;
    for shown in ["七台河市", "网格化社区", "228,200", "勃利县", "市领导"] {
        assert!(text.contains(shown), "/territory: {shown} not shown");
    }
    b.screenshot("territory-city").await;
    b.goto("/territory/230903000000").await;
    let text = b.body_text().await;
    for shown in ["桃山区", "桃东街道", "万宝河镇"] {
        assert!(text.contains(shown), "district page: {shown} not shown");
    }
    b.wait("svg.map path.grid").await;
    b.screenshot("territory-district").await;
    // Zoom in twice with the buttons the script reveals: the map's viewBox narrows.
    let before = b.wait("#grid-map").await.attr("viewBox").await.unwrap().unwrap();
    b.click("[data-map=grid-map] button[data-act=in]").await;
    b.click("[data-map=grid-map] button[data-act=in]").await;
    let after = b.wait("#grid-map").await.attr("viewBox").await.unwrap().unwrap();
    let width = |v: &str| v.split(' ').nth(2).unwrap().parse::<f64>().unwrap();
    assert!(width(&after) < width(&before) * 0.7, "zoomed: {before} -> {after}");
    b.screenshot("territory-district-zoomed").await;
    b.goto("/territory/230903000000?colour=density").await;
    b.wait("#legend").await;
    b.screenshot("territory-district-density").await;
    b.goto("/territory/230903011001001").await;
    assert!(b.text("#grid-staff").await.contains("网格员"));
    b.screenshot("territory-grid").await;
    b.goto("/territory/230903000000?lang=en").await;
    let text = b.body_text().await;
    assert!(text.contains("Grid map") && text.contains("Households"));
    b.screenshot("territory-district-en").await;
    b.sign_out().await;
    b.goto("/territory").await;
    assert!(b.path().await.starts_with("/login"), "signed out again");
    b.close().await;
}

/// The Content-Security-Policy as Chromium applies it: the pages' own scripts (files of this
/// server) run, the map zooms and the form answers; a script injected into a page, inline or as
/// an event handler, does not run.
#[tokio::test]
async fn the_pages_own_scripts_run_and_an_injected_inline_script_does_not() {
    let Some(b) = Browser::start(0, Window::Desktop).await else {
        return;
    };
    b.sign_in("clerk", "demo").await;
    b.goto("/cases/new").await;
    // zoom.js shows the map's buttons and zooms; case-new.js searches matters as one types.
    let before = b.wait("#pick-map").await.attr("viewBox").await.unwrap().unwrap();
    b.click("[data-map=pick-map] button[data-act=in]").await;
    let after = b.wait("#pick-map").await.attr("viewBox").await.unwrap().unwrap();
    assert_ne!(before, after, "the map zooms");
    b.fill("#matter", "sdlj").await;
    b.wait("#matter-hits button[data-code='06001']").await;
    b.screenshot("csp-case-new").await;

    let injected = b
        .client
        .execute(
            "var s = document.createElement('script'); s.textContent = 'window.injected = 1';
             document.body.appendChild(s); return window.injected === 1;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(injected, serde_json::json!(false), "an inline script ran");
    let handler = b
        .client
        .execute(
            "var i = document.createElement('img'); i.setAttribute('onerror', 'window.handled = 1');
             i.src = '/no-such-image.png'; document.body.appendChild(i);
             return new Promise(function (done) { setTimeout(function () { done(window.handled === 1); }, 1000); });",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(handler, serde_json::json!(false), "an inline event handler ran");
    // The same script from this server would run: the policy, not the test, stopped them.
    let own = b
        .client
        .execute(
            "return new Promise(function (done) { var s = document.createElement('script');
             s.src = '/static/zoom.js'; s.onload = function () { done(true); }; s.onerror = function () { done(false); };
             document.body.appendChild(s); });",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(own, serde_json::json!(true), "a script of this server loads");
    b.close().await;
}

/// The city's map as sent now (outlines simplified for the scale drawn, whole pixels, grids
/// linked by district): every grid still draws with an area, and a click on one opens its
/// district, whose map draws each grid finer and links it.
#[tokio::test]
async fn the_city_map_draws_every_grid_simplified_and_a_grid_leads_to_its_district() {
    let Some(b) = Browser::start(2000, Window::Desktop).await else {
        return;
    };
    b.sign_in("leader", "demo").await;
    b.goto("/territory").await;
    b.wait("svg.map path.grid").await;
    let drawn = b
        .client
        .execute(
            "return Array.from(document.querySelectorAll('svg.map path.grid')).map(function (p) {
               var r = p.getBBox(); return r.width * r.height; });",
            vec![],
        )
        .await
        .unwrap();
    let areas: Vec<f64> = drawn.as_array().unwrap().iter().map(|a| a.as_f64().unwrap()).collect();
    assert_eq!(areas.len(), 810, "every grid is drawn");
    assert!(areas.iter().all(|a| *a >= 1.0), "no grid vanished: {areas:?}");
    b.screenshot("territory-city-simplified").await;
    for _ in 0..4 {
        b.click("[data-map=grid-map] button[data-act=in]").await;
    }
    b.screenshot("territory-city-simplified-zoomed").await;
    b.goto("/territory?colour=density").await;
    b.wait("#legend").await;
    b.screenshot("territory-city-density").await;
    b.goto("/territory").await;
    b.click("svg.map a path.grid").await;
    let started = std::time::Instant::now();
    while b.path().await == "/territory" {
        assert!(started.elapsed().as_secs() < 10, "the click led nowhere");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let path = b.path().await;
    assert!(
        path.starts_with("/territory/2309") && path.ends_with("000000"),
        "a district: {path}"
    );
    b.wait("svg.map a path.grid").await;
    b.screenshot("territory-district-from-city").await;
    b.close().await;
}
