//! Co-building agreements (共建协议) in a real headless Chromium against `gongzhi demo`: the
//! community worker of 学府社区 signs an agreement with the demo's member organization of 桃东街道
//! (two commitments, a cross-appointment, a pairing) and records what was done under one.
//! Screenshots go to target/screenshots.

use crate::common::browser::{Browser, Window};

/// Sets an input's value as a date picker would.
async fn set(b: &Browser, css: &str, value: &str) {
    b.wait(css).await;
    b.client
        .execute(
            "document.querySelector(arguments[0]).value = arguments[1];",
            vec![serde_json::json!(css), serde_json::json!(value)],
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn a_community_worker_signs_an_agreement_and_records_what_was_done() {
    let Some(b) = Browser::start(0, Window::Desktop).await else {
        return;
    };
    b.sign_in("community", "demo").await;
    b.goto("/cogov/agreements").await;
    b.wait("#new-agreement").await;
    let form = "#new-agreement";
    let organizations = b.text(&format!("{form} select[name=organization]")).await;
    assert!(
        organizations.contains("七台河市桃东家政服务有限公司"),
        "{organizations}"
    );
    let today = gongzhi_core::time::city_time(chrono::Utc::now()).date_naive();
    set(&b, &format!("{form} input[name=term_from]"), &today.to_string()).await;
    let to = today + chrono::Duration::days(730);
    set(&b, &format!("{form} input[name=term_to]"), &to.to_string()).await;
    b.fill(
        &format!("{form} textarea[name=commitment_organization]"),
        "单位党支部与社区党委结对共建，每季度联合开展一次主题党日",
    )
    .await;
    b.fill(
        &format!("{form} textarea[name=commitment_services]"),
        "每月为独居老人上门提供一次家政服务",
    )
    .await;
    b.fill(&format!("{form} input[name=appt_person_1]"), "王丽").await;
    b.fill(&format!("{form} input[name=appt_org_post_1]"), "公司党支部书记")
        .await;
    b.fill(
        &format!("{form} input[name=appt_community_post_1]"),
        "社区大党委兼职委员",
    )
    .await;
    b.fill(&format!("{form} input[name=pair_first_1]"), "李师傅").await;
    b.fill(&format!("{form} input[name=pair_second_1]"), "学府社区网格员")
        .await;
    b.fill(&format!("{form} input[name=pair_subject_1]"), "家电维修技能")
        .await;
    b.click(&format!("{form} button[type=submit]")).await;
    b.until("#done").await;
    assert_eq!(b.text("#state").await, "在约");
    assert_eq!(
        b.client
            .find_all(fantoccini::Locator::Css("#commitments tbody tr"))
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(b.text("#appointments").await.contains("社区大党委兼职委员"));
    b.screenshot("agreements-01-signed").await;

    // What was done under the service commitment.
    let service = b
        .wait("#commitments tbody tr[data-mechanism=services]")
        .await
        .attr("data-id")
        .await
        .unwrap()
        .unwrap();
    b.choose("#new-record select[name=commitment]", &service).await;
    b.fill("#new-record textarea[name=text]", "为3户独居老人上门打扫卫生")
        .await;
    b.fill("#new-record input[name=people]", "3").await;
    b.click("#new-record button[type=submit]").await;
    b.until("#done").await;
    let row = b.text("#commitments tbody tr[data-mechanism=services]").await;
    assert!(row.contains("为3户独居老人上门打扫卫生"), "{row}");
    b.screenshot("agreements-02-recorded").await;
    b.close().await;
}
