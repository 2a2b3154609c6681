//! The registry in a desktop browser against `gongzhi demo` with the demo registry of one grid
//! (学府社区第1网格, a twentieth of its households): the community worker browses to a building,
//! opens a household (ID numbers and phones masked), asks for the full view without a reason
//! (refused, the field named), then with one (shown, and recorded), opens the organizations
//! page, and corrects a building (a bad number of floors refused, then saved). Screenshots go to target/screenshots.

use std::time::{Duration, Instant};

use crate::common::browser::{Browser, RegistryShare, Window};

const GRID: &str = "230903011001001";

#[tokio::test]
async fn a_community_worker_opens_a_household_and_sees_a_person_in_full_with_a_reason() {
    let registry = RegistryShare {
        scale: "0.05",
        within: GRID,
    };
    let Some(b) = Browser::start_with(0, Window::Desktop, Some(registry)).await else {
        return;
    };
    b.sign_in("community", "demo").await;
    // The registry loads in the background: wait until the grid has its buildings.
    let started = Instant::now();
    loop {
        b.goto(&format!("/registry?within={GRID}")).await;
        b.wait("#counts").await;
        if b.client.find(fantoccini::Locator::Css("#buildings a")).await.is_ok() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the demo registry did not load"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    b.screenshot("registry-01-grid").await;
    b.click("#buildings a").await;
    b.wait("#households").await;
    b.screenshot("registry-02-building").await;
    b.click("#households a").await;
    b.wait("#people").await;
    let masked = b.text("#people tbody tr td.masked").await;
    assert!(masked.contains("****"), "not masked: {masked}");
    b.screenshot("registry-03-household").await;

    // Without a reason: refused, the field named, nothing shown.
    b.click("#people details summary").await;
    b.click("#people form.reveal .reveal-go").await;
    let error = b.wait("#error").await;
    assert_eq!(error.attr("data-field").await.unwrap().as_deref(), Some("reason"));
    assert!(b.text("#error").await.contains("理由"));
    assert!(
        b.client
            .find(fantoccini::Locator::Css("#full-id-number"))
            .await
            .is_err()
    );

    // With a reason: the person in full, and the view recorded.
    b.fill("#people details[open] input.reason", "入户走访核实低保情况")
        .await;
    b.click("#people details[open] .reveal-go").await;
    let full = b.text("#full-id-number").await;
    assert_eq!(full.len(), 18, "{full}");
    assert!(full.starts_with("2309"), "{full}");
    assert!(b.text("#revealed-detail").await.contains("审计"));
    b.screenshot("registry-04-full-view").await;

    // The organizations page of the grid opens from the registry (this demo loads only people;
    // the listing itself is checked in registry_pages.rs).
    b.goto(&format!("/registry?within={GRID}")).await;
    b.click("#organizations").await;
    assert!(b.text("#org-counts").await.contains("辖区单位"));
    b.screenshot("registry-05-organizations").await;

    // Correcting a building: 0 floors is refused naming the field; 8 floors and 商业 are saved.
    b.goto(&format!("/registry?within={GRID}")).await;
    b.click("#buildings a").await;
    b.click("#edit-building").await;
    b.fill("#floors", "0").await;
    b.click("#save").await;
    let error = b.wait("#error").await;
    assert_eq!(error.attr("data-field").await.unwrap().as_deref(), Some("floors"));
    assert!(b.text("#error").await.contains("层数"));
    b.screenshot("registry-06-edit-refused").await;
    b.fill("#floors", "8").await;
    b.choose("#use", "commercial").await;
    b.click("#save").await;
    b.wait("#households").await;
    let line = b.text("#building-address").await;
    assert!(line.contains("8 层") && line.contains("商业"), "{line}");
    b.screenshot("registry-07-building-corrected").await;
    b.close().await;
}
