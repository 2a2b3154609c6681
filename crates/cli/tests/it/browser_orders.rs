//! Order → publish → take in a real headless Chromium on a phone (360×800) against `gongzhi
//! demo`: a resident orders (居民点单); the community lists and publishes it (社区发单); the demo
//! member organization's liaison takes it on the phone (单位接单) and delivers it on its case
//! (report back with a photo); the community certifies it (check, close); the resident sees
//! every step and rates the taker. Screenshots go to target/screenshots.

use crate::browser_case_loop::{act, act_as};
use crate::common::browser::{Browser, Window};

const PHONE: &str = "13700002468";
const MASKED: &str = "137****2468";
const COMMUNITY: &str = "230903011001";

#[tokio::test]
async fn a_resident_orders_the_community_publishes_a_liaison_takes_on_the_phone_and_the_resident_rates() {
    let Some(b) = Browser::start(0, Window::Phone).await else {
        return;
    };

    // The resident signs in on the phone, picks 学府社区 and orders.
    b.goto("/m/orders").await;
    b.wait("#phone").await;
    b.fill("#phone", PHONE).await;
    b.click("#send-code").await;
    b.wait("#notice").await;
    let code = b.sms_code_for(MASKED).await;
    b.fill("#code", &code).await;
    b.click("#sign-in").await;
    b.wait("#community").await;
    b.choose("#community", COMMUNITY).await;
    b.click("#save-community").await;
    b.until("#notices").await;
    b.goto("/m/orders/new").await;
    b.wait("#order").await;
    b.click("#order input[name=kind][value=repair]").await;
    b.fill("#description", "卫生间下水道堵塞，老人独居无法处理").await;
    b.fill("#preferred_time", "周末上午").await;
    b.click("#submit").await;
    b.until("#done").await;

    // The community lists it and publishes it to the member organizations of the street.
    b.sign_in("community", "demo").await;
    b.goto("/cogov/orders").await;
    let row = b.wait("#orders tr[data-state=ordered]").await;
    let id = row.attr("data-id").await.unwrap().unwrap();
    let at = format!("#orders tr[data-id='{id}']");
    b.click(&format!("{at} .step-list button")).await;
    b.until(&format!("{at}[data-state=listed]")).await;
    b.click(&format!("{at} .step-publish button")).await;
    b.until(&format!("{at}[data-state=published]")).await;
    let case_path = b
        .wait(&format!("{at} a.case"))
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    assert!(case_path.starts_with("/cases/"), "{case_path}");
    b.screenshot("orders-01-published").await;
    b.sign_out().await;

    // The liaison of 七台河市桃东家政服务有限公司 takes it on the phone.
    b.sign_in("liaison", "demo").await;
    b.goto("/cogov/offers").await;
    assert_eq!(b.text("#organization").await, "七台河市桃东家政服务有限公司");
    let offer = format!("#offered li[data-id='{id}']");
    assert!(b.text(&offer).await.contains("卫生间下水道堵塞"));
    b.fits_width("/cogov/offers").await;
    b.screenshot("orders-02-offered").await;
    b.click(&format!("{offer} .take button")).await;
    b.until("#done").await;
    let taken = format!("#taken li[data-id='{id}']");
    assert!(b.text(&taken).await.contains("已接单"), "{}", b.text(&taken).await);
    b.screenshot("orders-03-taken").await;
    b.sign_out().await;

    // Delivered on its case: reported back with a photo.
    let photo =
        std::fs::canonicalize(concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/fixtures/small.png")).unwrap();
    act_as(
        &b,
        "liaison",
        "demo",
        &case_path,
        "report_back",
        &[
            ("result", "已上门疏通下水道，恢复正常"),
            ("photos", photo.to_str().unwrap()),
        ],
    )
    .await;

    // The community certifies it: checks and closes the case.
    act(&b, "community", &case_path, "check_pass", &[]).await;
    act(&b, "community", &case_path, "close", &[]).await;

    // The taker rates back.
    b.sign_in("liaison", "demo").await;
    b.goto("/cogov/offers").await;
    b.choose(&format!("{taken} .rate-back select[name=rating]"), "satisfied")
        .await;
    b.click(&format!("{taken} .rate-back button")).await;
    b.until(&format!("{taken} .taker-rating")).await;
    b.sign_out().await;

    // The resident sees every step, confirms and rates the taker.
    b.goto("/m/orders").await;
    let mine = format!("#orders li[data-id='{id}']");
    for step in ["ordered", "listed", "published", "taken", "delivered", "certified"] {
        let class = b
            .wait(&format!("{mine} .journey li[data-state={step}]"))
            .await
            .attr("class")
            .await
            .unwrap()
            .unwrap_or_default();
        assert_eq!(class, "reached", "{step}");
    }
    assert!(b.text(&mine).await.contains("七台河市桃东家政服务有限公司"));
    b.fits_width("/m/orders").await;
    b.screenshot("orders-04-certified").await;
    b.click(&format!("{mine} .rate input[value=satisfied]")).await;
    b.fill(&format!("{mine} .rate input[name=comment]"), "师傅很耐心").await;
    b.click(&format!("{mine} .rate button")).await;
    b.until("#done").await;
    let text = b.text(&mine).await;
    assert!(text.contains("居民已评价") && text.contains("满意"), "{text}");
    b.screenshot("orders-05-rated").await;
    b.close().await;
}
