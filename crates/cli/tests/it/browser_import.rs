//! A community worker imports residents in headless Chromium against `gongzhi demo`: downloads
//! nothing (the template links are there), uploads a resident workbook with one bad row, sees that
//! row listed with its reason and nothing imported, uploads the corrected file, watches the job
//! page to its end, sees the rows imported and finds an imported person on the registry page
//! with ID number and phone masked. Screenshots go to target/screenshots.

use gongzhi_demo::import_rows::resident_rows;
use gongzhi_office::{Format, write_rows};

use crate::common::browser::{Browser, Window};

#[tokio::test]
async fn staff_fix_a_bad_row_and_import_a_resident_file() {
    let Some(b) = Browser::start(0, Window::Desktop).await else {
        return;
    };
    let grids = vec!["230903011001001".to_string(), "230903011001002".to_string()];
    let mut rows = resident_rows(40, &grids, 21);
    let good = write_rows(Format::Xlsx, "实有人口", &rows).unwrap();
    rows[4][8] = "邻居".into();
    let bad = write_rows(Format::Xlsx, "实有人口", &rows).unwrap();
    let dir = gongzhi_store::testing::TestDb::temp_dir();
    let (bad_path, good_path) = (dir.join("学府社区居民.xlsx"), dir.join("学府社区居民-改正.xlsx"));
    std::fs::write(&bad_path, bad).unwrap();
    std::fs::write(&good_path, good).unwrap();

    b.sign_in("community", "demo").await;
    b.goto("/registry/import").await;
    b.wait("#upload").await;
    assert!(b.text("#templates").await.contains("实有人口"));
    b.screenshot("import-01-page").await;

    // The file with one bad row: the row, its column and reason; nothing imported.
    b.choose("#template", "residents").await;
    b.wait("#file")
        .await
        .send_keys(bad_path.to_str().unwrap())
        .await
        .unwrap();
    b.click("#start").await;
    b.wait("#refused").await;
    let listed = b.text("#bad-rows").await;
    assert!(
        listed.contains("5") && listed.contains("与户主关系") && listed.contains("邻居"),
        "{listed}"
    );
    assert!(b.text("#refused").await.contains("未导入任何数据"));
    b.screenshot("import-02-bad-row").await;

    // The corrected file: progress, then done.
    b.click("#again").await;
    b.wait("#upload").await;
    b.wait("#file")
        .await
        .send_keys(good_path.to_str().unwrap())
        .await
        .unwrap();
    b.click("#start").await;
    b.wait("#bar").await;
    b.screenshot("import-03-progress").await;
    b.wait("#done").await;
    let done = b.text("#done").await;
    assert!(done.contains("已导入 40 行") && done.contains("居民 40"), "{done}");
    b.screenshot("import-04-done").await;

    // The staff member looks an imported person up by name: found, ID number and phone masked.
    let (person, id_number, phone) = (rows[1][5].clone(), rows[1][6].clone(), rows[1][7].clone());
    b.goto("/registry").await;
    b.wait("#search").await;
    b.fill("#q", &person).await;
    b.click("#search-go").await;
    b.wait("#people").await;
    let found = b.text("#people").await;
    assert!(found.contains(&person), "{person} not found: {found}");
    assert!(
        !found.contains(&id_number) && !found.contains(&phone),
        "unmasked: {found}"
    );
    let masked_id = format!("{}{}{}", &id_number[..1], "*".repeat(16), &id_number[17..]);
    let masked_phone = format!("{}****{}", &phone[..3], &phone[7..]);
    assert!(found.contains(&masked_id) && found.contains(&masked_phone), "{found}");
    b.screenshot("import-05-person-found").await;
    b.close().await;
}

/// The personal-data exporter finds the unmasked export's form on the import page, a reason
/// refused by the server is named on the page again (the browser's own checks taken off), and
/// with a reason the file comes as a download while the page stays.
#[tokio::test]
async fn an_exporter_uses_the_unmasked_export_form() {
    let Some(b) = Browser::start(0, Window::Desktop).await else {
        return;
    };
    b.sign_in("exporter", "demo").await;
    b.goto("/registry/import").await;
    b.wait("#export-unmasked").await;
    let section = b.text("#unmasked-export").await;
    assert!(
        section.contains("导出完整信息（不打码）") && section.contains("230903011000"),
        "{section}"
    );
    b.client
        .execute("document.getElementById('unmasked-export').scrollIntoView();", vec![])
        .await
        .unwrap();
    b.screenshot("import-06-unmasked-form").await;

    // Without the browser's checks, a one-character reason reaches the server: 422, named.
    b.client
        .execute(
            "const r = document.getElementById('reason'); r.removeAttribute('required'); r.removeAttribute('minlength');",
            vec![],
        )
        .await
        .unwrap();
    b.fill("#reason", "查").await;
    b.click("#export-unmasked-start").await;
    b.until("#export-error").await;
    let error = b.text("#export-error").await;
    assert!(error.contains("reason") && error.contains("导出理由"), "{error}");
    b.screenshot("import-07-unmasked-no-reason").await;

    // With a reason: the file downloads; the browser stays on the page, with no error.
    b.fill("#reason", "入户走访核对").await;
    b.click("#export-unmasked-start").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(b.path().await.starts_with("/registry/"), "{}", b.path().await);
    assert!(b.server_log().find("panicked").is_none(), "{}", b.server_log());
    b.close().await;
}
