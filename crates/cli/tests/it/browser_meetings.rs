//! A joint meeting that decides and follows through, in a real headless Chromium against
//! `gongzhi demo` (issue 16's first "done when"): a case reported in 桃东街道 that the street
//! cannot solve alone is raised as an agenda item of the street's 大工委 (with a seat for a posted
//! office of the demo registry); the item is vetted, the joint meeting convened and held with
//! attendance; its decision assigns two departments (urban management and housing); their two
//! cases travel the loop to closed through the case pages; the item's journey shows it done.
//! Screenshots go to target/screenshots (meetings-*.png).

use std::time::{Duration, Instant};

use crate::browser_case_loop::act;
use crate::common::browser::{Browser, RegistryShare, Window};

const GRID: &str = "230903011001001";
const STREET: &str = "230903011000";
/// The housing department's handler, made by the system administrator for the test.
const HOUSING: &str = "housing1";
const HOUSING_PASSWORD: &str = "Zhujian-2026";

async fn wait_until(b: &Browser, what: &str, ok: impl Fn(String) -> bool, css: &str) {
    let started = Instant::now();
    loop {
        // The page may be reloading: an element gone stale is read again.
        let text = match b.client.find(fantoccini::Locator::Css(css)).await {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if ok(text.clone()) {
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{what}: {text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sets an input's value as a date or time picker would.
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

/// The path of the current page without its query.
async fn here(b: &Browser) -> String {
    b.path().await.split('?').next().unwrap().to_string()
}

#[tokio::test]
async fn a_street_raises_a_case_to_the_joint_meeting_which_assigns_two_departments_who_close_it() {
    let registry = RegistryShare {
        scale: "0.05",
        within: GRID,
    };
    let Some(b) = Browser::start_with(0, Window::Desktop, Some(registry)).await else {
        return;
    };

    // The system administrator gives the housing department a handler.
    b.sign_in("admin", "demo").await;
    b.goto("/admin/accounts").await;
    b.fill("#username", HOUSING).await;
    b.fill("#display_name", "住建局经办人").await;
    b.fill("#password", "Initial-2026").await;
    b.choose("#role", "department_handler").await;
    b.fill("#scope", "department:housing").await;
    b.click("form[action='/admin/accounts'] button[type=submit]").await;
    b.wait("main").await;
    b.sign_out().await;
    b.sign_in(HOUSING, "Initial-2026").await;
    if b.path().await.starts_with("/account/password") {
        b.fill("#current", "Initial-2026").await;
        b.fill("#new", HOUSING_PASSWORD).await;
        b.fill("#confirm", HOUSING_PASSWORD).await;
        b.click("main form button[type=submit]").await;
        wait_until(&b, "the password changed", |t| t.contains("密码已修改"), "main").await;
    }
    b.sign_out().await;

    // A hotline case in the street, recorded by the command centre.
    b.sign_in("clerk", "demo").await;
    b.goto("/cases/new").await;
    b.wait("#pick-map").await;
    b.fill("#matter", "sdlj").await;
    b.click("#matter-hits button[data-code='06001']").await;
    b.fill(
        "#description",
        "学府小区旁违建占用消防通道，涉及城管与住建，街道无法单独解决",
    )
    .await;
    set(&b, "#grid_code", GRID).await;
    b.click("#submit-case").await;
    b.wait("#notice").await;
    let case_path = here(&b).await;
    assert!(case_path.starts_with("/cases/"), "{case_path}");
    let case_number = b.text("h1 small").await.trim().to_string();
    assert_eq!(case_number.len(), 13, "the case's number in its heading");
    b.sign_out().await;

    // The street's 大工委, with a seat for a posted office of the street (the demo registry
    // loads in the background: the seat is refused until it is there).
    b.sign_in("street", "demo").await;
    b.goto("/cogov/bodies").await;
    b.wait("#new-body").await;
    b.choose("#new-body select[name=kind]", "street_working_committee")
        .await;
    b.choose("#new-body select[name=node]", STREET).await;
    b.fill("#new-body input[name=name]", "桃东街道大工委").await;
    b.click("#new-body button[type=submit]").await;
    b.wait("#done").await;
    let body_path = here(&b).await;
    let started = Instant::now();
    for person in ["王城管", "李所长"] {
        loop {
            b.goto(&body_path).await;
            b.click("#add-seat > summary").await;
            b.fill("#new-seat input[name=person]", person).await;
            b.choose("#new-seat select[name=org_kind]", "posted_office").await;
            b.fill("#new-seat input[name=org_id]", "1").await;
            b.choose("#new-seat select[name=role]", "part_time_member").await;
            set(&b, "#new-seat input[name=term_from]", "2026-01-01").await;
            b.click("#new-seat button[type=submit]").await;
            b.wait("main h1").await;
            if b.client.find(fantoccini::Locator::Css("#done")).await.is_ok() {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(120), "{}", b.body_text().await);
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    assert!(b.text("#seats").await.contains("兼职委员"));

    // The case raised as an agenda item, then vetted.
    b.click("#raise > summary").await;
    b.fill("#new-item input[name=title]", "学府小区违建需城管、住建联合处置")
        .await;
    b.fill(
        "#new-item textarea[name=description]",
        "违建占用消防通道，街道无法单独解决，提请联席会议研究。",
    )
    .await;
    b.choose("#new-item select[name=source]", "case").await;
    b.fill("#new-item input[name=source_ref]", &case_number).await;
    b.click("#new-item button[type=submit]").await;
    b.wait("#done").await;
    let item_path = here(&b).await;
    assert!(item_path.starts_with("/cogov/items/"), "{item_path}");
    assert_eq!(b.text("#source-case").await, case_number);
    b.click(".step-vet button").await;
    wait_until(&b, "vetted", |t| t == "已审核", "#state").await;
    b.screenshot("meetings-01-item-vetted").await;

    // Convened with the item, held with attendance (one present, one absent).
    b.goto(&body_path).await;
    b.click("#convene > summary").await;
    b.fill("#new-meeting input[name=title]", "桃东街道党建联席会议（第一次）")
        .await;
    set(&b, "#new-meeting input[name=starts_at]", "2026-12-10T09:00").await;
    b.fill("#new-meeting input[name=place]", "街道办事处三楼会议室").await;
    b.click("#new-meeting button[type=submit]").await;
    b.wait("#done").await;
    let meeting_path = here(&b).await;
    assert!(meeting_path.starts_with("/cogov/meetings/"), "{meeting_path}");
    b.click("#hold input[type=checkbox]").await;
    b.click("#hold button[type=submit]").await;
    wait_until(&b, "held", |t| t == "已召开", "#state").await;
    let attendance = b.text("#attendance").await;
    assert!(
        attendance.contains("出席") && attendance.contains("缺席"),
        "{attendance}"
    );

    // The decision assigns two departments: two cases of the loop.
    b.fill(
        "#decide textarea[name=text]",
        "城管牵头拆除违建，住建部门核查房屋结构安全。",
    )
    .await;
    b.click("#decide input[name='unit_department:urban-management']").await;
    b.click("#decide input[name='unit_department:housing']").await;
    let due = (gongzhi_core::time::city_time(chrono::Utc::now()).date_naive() + chrono::Duration::days(10))
        .format("%Y-%m-%d")
        .to_string();
    set(&b, "#decide input[name=due]", &due).await;
    b.click("#decide button[type=submit]").await;
    b.wait("#done").await;
    // Each case and the account of its department.
    let mut cases: Vec<(String, (&str, &str))> = vec![];
    for row in b
        .client
        .find_all(fantoccini::Locator::Css(".decision .cases tbody tr"))
        .await
        .unwrap()
    {
        let path = format!("/cases/{}", row.attr("data-id").await.unwrap().unwrap());
        let who = if row.text().await.unwrap().contains("城市管理") {
            ("handler", "demo")
        } else {
            (HOUSING, HOUSING_PASSWORD)
        };
        cases.push((path, who));
    }
    assert_eq!(cases.len(), 2, "{}", b.body_text().await);
    b.screenshot("meetings-02-decided").await;
    b.fill(
        "#close textarea[name=minutes]",
        "会议议定：城管牵头拆除违建，住建部门核查房屋安全，十日内办结。",
    )
    .await;
    b.click("#close button[type=submit]").await;
    wait_until(&b, "closed", |t| t == "已结束", "#state").await;
    b.sign_out().await;

    // Each department takes its case through the loop; the street checks and closes it.
    let photo =
        std::fs::canonicalize(concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/fixtures/small.png")).unwrap();
    assert_ne!(cases[0].1, cases[1].1, "one case per department");
    for (path, (who, password)) in &cases {
        for (action, fields) in [
            ("acknowledge", vec![]),
            (
                "report_back",
                vec![("result", "已按会议决定处置完毕"), ("photos", photo.to_str().unwrap())],
            ),
        ] {
            crate::browser_case_loop::act_as(&b, who, password, path, action, &fields).await;
        }
        act(&b, "street", path, "check_pass", &[]).await;
        act(&b, "street", path, "close", &[]).await;
    }

    // The item's journey: raised → discussed → decided → assigned → done.
    b.sign_in("street", "demo").await;
    b.goto(&item_path).await;
    assert_eq!(b.text("#state").await, "已办结");
    for state in ["raised", "discussed", "decided", "assigned", "done"] {
        let class = b
            .wait(&format!("#journey li[data-state={state}]"))
            .await
            .attr("class")
            .await
            .unwrap()
            .unwrap_or_default();
        assert_eq!(class, "reached", "{state}");
    }
    let cases_text = b.text("#cases").await;
    assert_eq!(cases_text.matches("已结案").count(), 2, "{cases_text}");
    b.screenshot("meetings-03-item-done").await;
    b.goto("/cogov/bodies").await;
    assert!(
        b.text("#solved").await.starts_with("2 / 2"),
        "{}",
        b.text("#solved").await
    );
    b.close().await;
}
