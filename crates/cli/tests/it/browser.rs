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
