//! The palm community on a phone (360×800 headless Chromium) against `gongzhi demo`: a community
//! worker publishes a notice to 学府社区 and opens a survey; a resident signs in with the code the
//! demo's LogGateway wrote to the server log, picks 学府社区 once, reads the notice and answers the
//! survey, then joins the community's group and posts. Each page's weight (HTML with its inline style; these pages load no script) is printed
//! and kept under 200 KB. Screenshots go to target/screenshots.

use std::time::{Duration, Instant};

use crate::common::browser::{Browser, Window};

const PHONE: &str = "13700001234";
const XUEFU: &str = "230903011001";

async fn wait_path(b: &Browser, path: &str) {
    let started = Instant::now();
    while b.path().await != path {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "not at {path} but {}: {}",
            b.path().await,
            b.body_text().await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_resident_reads_a_notice_and_answers_a_survey_on_a_phone() {
    let Some(b) = Browser::start(0, Window::Phone).await else {
        return;
    };
    // Staff publish a notice and open a survey (their own session, beside the resident's).
    b.sign_in("community", "demo").await;
    b.goto("/cogov/notices").await;
    b.wait("#new-notice").await;
    b.choose("#place", XUEFU).await;
    b.choose("#kind", "policy").await;
    b.fill("#title", "垃圾分类政策宣传").await;
    b.fill(
        "#body",
        "请按可回收物、有害垃圾、厨余垃圾、其他垃圾分类投放。\n厨余垃圾请沥干水分。",
    )
    .await;
    b.click("#publish").await;
    b.wait("#done").await;
    let staff_notices = b.page_weight("/cogov/notices").await;
    b.screenshot("cogov-01-staff-notices").await;
    b.goto("/cogov/surveys").await;
    b.wait("#new-survey").await;
    b.choose("#community", XUEFU).await;
    b.fill("#title", "停车满意度调查").await;
    b.fill("#questions", "小区停车是否方便？| 方便 | 一般 | 不方便\n您的建议")
        .await;
    b.click("#create-survey").await;
    b.wait("#open").await;
    b.click("#open").await;
    b.wait("#close").await;
    b.goto("/cogov/groups").await;
    b.wait("#new-group").await;
    b.choose("#place", XUEFU).await;
    b.fill("#name", "学府社区居民群").await;
    b.click("#create-group").await;
    wait_path(&b, "/cogov/groups/1").await;

    // The resident signs in, picks the community once, reads the notice.
    b.goto("/m/").await;
    b.wait("#phone").await;
    b.fill("#phone", PHONE).await;
    b.click("#send-code").await;
    b.wait("#notice").await;
    let code = b.sms_code_for("137****1234").await;
    b.fill("#code", &code).await;
    b.click("#sign-in").await;
    wait_path(&b, "/m/community").await;
    let picker = b.page_weight("/m/community").await;
    b.choose("#community", XUEFU).await;
    b.screenshot("cogov-02-community").await;
    b.click("#save-community").await;
    wait_path(&b, "/m/notices").await;
    b.wait("#notices a").await;
    let notices = b.page_weight("/m/notices").await;
    b.screenshot("cogov-03-notices").await;
    b.click("#notices a").await;
    b.wait("#notice").await;
    assert!(b.text("#notice").await.contains("厨余垃圾请沥干水分"));
    let notice = b.page_weight("/m/notices/{id}").await;
    b.screenshot("cogov-04-notice").await;

    // The survey, answered once.
    b.click("nav.tabs a[href='/m/surveys']").await;
    b.wait("#surveys a").await;
    let surveys = b.page_weight("/m/surveys").await;
    b.click("#surveys a").await;
    b.wait("#survey").await;
    let wide = b
        .client
        .execute(
            "return document.documentElement.scrollWidth > window.innerWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(wide, serde_json::json!(false), "the survey scrolls sideways");
    let survey = b.page_weight("/m/surveys/{id}").await;
    b.click("input[name='q0'][value='2']").await;
    b.fill("#q1", "多划几个车位").await;
    b.screenshot("cogov-05-survey").await;
    b.click("#submit-survey").await;
    b.wait("#answered").await;
    b.screenshot("cogov-06-answered").await;
    assert!(!b.client.source().await.unwrap().contains(PHONE));

    // The community's group: join, post, read it under the display name.
    b.click("nav.tabs a[href='/m/groups']").await;
    b.wait("#groups a").await;
    b.click("#groups a").await;
    b.wait("#join").await;
    b.click("#join").await;
    b.wait("#new-post").await;
    b.fill("#body", "周六上午社区义诊，大家互相转告").await;
    b.click("#post").await;
    b.wait("#posts .post").await;
    assert!(b.text("#posts").await.contains("社区义诊"));
    assert!(b.text("#posts .author").await.starts_with("居民"));
    let group = b.page_weight("/m/groups/{id}").await;
    b.screenshot("cogov-07-group").await;
    assert!(!b.client.source().await.unwrap().contains(PHONE));
    println!(
        "page weights (bytes): staff notices {staff_notices}, community {picker}, notices {notices}, notice {notice}, surveys {surveys}, survey {survey}, group {group}"
    );
    b.close().await;
}
