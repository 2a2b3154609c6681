//! The case loop in a real headless Chromium, as the people of the command centre, a department
//! and a grid do it through the pages: record, accept, register, dispatch, acknowledge, report
//! back with a photo, check, close. Screenshots go to target/screenshots.

use crate::common::browser::{Browser, Window};

/// Opens the case page at `path` as `who`, does `action` (filling `fields` first), and comes
/// back to the case page.
pub(crate) async fn act(b: &Browser, who: &str, path: &str, action: &str, fields: &[(&str, &str)]) {
    act_as(b, who, "demo", path, action, fields).await;
}

/// [`act`] for an account with its own password.
pub(crate) async fn act_as(b: &Browser, who: &str, password: &str, path: &str, action: &str, fields: &[(&str, &str)]) {
    b.sign_in(who, password).await;
    do_action(b, path, action, fields).await;
    b.sign_out().await;
}

/// Does `action` on the case page at `path` through its form, as the one signed in.
async fn do_action(b: &Browser, path: &str, action: &str, fields: &[(&str, &str)]) {
    b.goto(path).await;
    let form = format!("#act-{action}");
    b.wait(&form).await;
    // Open the form's <details> unless it is open already.
    if b.wait(&form).await.attr("open").await.unwrap().is_none() {
        b.click(&format!("{form} > summary")).await;
    }
    for (name, value) in fields {
        let css = format!("#{action}-{name}");
        if name == &"photos" {
            b.wait(&css).await.send_keys(value).await.unwrap();
        } else if name == &"lead" {
            b.choose(&css, value).await;
        } else {
            b.fill(&css, value).await;
        }
    }
    b.click(&format!("#do-{action}")).await;
    b.wait("#notice").await;
    assert!(
        b.path().await.starts_with(path),
        "{action}: back on the case page, not {}",
        b.path().await
    );
}

#[tokio::test]
async fn a_case_travels_the_loop_through_the_pages() {
    let Some(b) = Browser::start(0, Window::Desktop).await else {
        return;
    };
    b.sign_in("clerk", "demo").await;
    b.goto("/cases/new").await;
    b.wait("#pick-map").await;
    // The matter picker finds 私搭乱建 by its pinyin initials.
    b.fill("#matter", "sdlj").await;
    b.click("#matter-hits button[data-code='06001']").await;
    assert_eq!(b.wait("#matter").await.prop("value").await.unwrap().unwrap(), "06001");
    b.fill("#description", "学府小区3号楼旁正在违法搭建彩钢房").await;
    // The place by a click on the map: a click on the grid fills lon/lat, which the server
    // places in that grid.
    b.click("#pick-map a[href='#230903011001001'] path").await;
    let started = std::time::Instant::now();
    while !b.text("#picked").await.contains("学府社区第1网格") {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "the click was placed in {}",
            b.text("#picked").await
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(!b.wait("#lon").await.prop("value").await.unwrap().unwrap().is_empty());
    b.screenshot("case-new").await;
    b.click("#submit-case").await;
    b.wait("#notice").await;
    let path = b.path().await;
    let path = path.split('?').next().unwrap().to_string();
    assert!(path.starts_with("/cases/"), "on the new case's page: {path}");
    assert_eq!(b.text("#state").await, "已上报");
    assert!(
        b.text("#facts").await.contains("学府社区第1网格"),
        "placed by the point"
    );
    b.screenshot("case-reported").await;
    do_action(&b, &path, "accept", &[]).await;
    assert_eq!(b.text("#state").await, "已受理");
    b.sign_out().await;

    act(&b, "shiftlead", &path, "register", &[]).await;
    act(
        &b,
        "dispatcher",
        &path,
        "dispatch",
        &[("lead", "department:urban-management")],
    )
    .await;
    act(&b, "handler", &path, "acknowledge", &[]).await;
    let photo =
        std::fs::canonicalize(concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/fixtures/small.png")).unwrap();
    // The handler's page before reporting back: the countdown runs.
    b.sign_in("handler", "demo").await;
    b.goto(&path).await;
    b.wait("#countdown").await;
    b.screenshot("case-handling").await;
    b.sign_out().await;
    act(
        &b,
        "handler",
        &path,
        "report_back",
        &[
            ("result", "违建已拆除，现场清理完毕"),
            ("photos", photo.to_str().unwrap()),
        ],
    )
    .await;
    act(&b, "gridworker", &path, "check_pass", &[]).await;
    act(&b, "shiftlead", &path, "close", &[]).await;

    b.sign_in("shiftlead", "demo").await;
    b.goto(&path).await;
    assert_eq!(b.text("#state").await, "已结案");
    let timeline = b.text("#timeline").await;
    for step in ["上报", "受理", "立案", "派遣", "签收", "处置反馈", "核查通过", "结案"] {
        assert!(timeline.contains(step), "timeline: {step} missing in {timeline}");
    }
    assert!(timeline.contains("违建已拆除"));
    assert!(b.text("#lead").await.contains("城市管理综合执法局"));
    // The photo after the work is shown (through its public copy) and has loaded.
    b.wait("#photos-after img").await;
    let mut width = serde_json::Value::Null;
    for _ in 0..50 {
        width = b
            .client
            .execute(
                "var i = document.querySelector('#photos-after img'); return i.complete ? i.naturalWidth : -1;",
                vec![],
            )
            .await
            .unwrap();
        if width.as_i64() != Some(-1) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(width.as_i64().unwrap_or(0) > 0, "the photo loads: {width}");
    b.screenshot("case-closed").await;
    b.goto(&format!("{path}?lang=en")).await;
    assert!(b.text("#timeline").await.contains("report back"));
    b.screenshot("case-closed-en").await;
    b.close().await;
}
