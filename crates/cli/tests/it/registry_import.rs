//! Importing the registry from spreadsheets, as staff and administrators do it: through the API,
//! the upload page with its job page, and the command line; on both databases.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gongzhi_core::audit::SYSTEM_ACTOR;
use gongzhi_core::people::cipher::SoftwareCipher;
use gongzhi_demo::import_rows::resident_rows;
use gongzhi_office::{Format, write_rows};
use gongzhi_store::testing::{TestDb, audit_key};

use crate::common;
use crate::common::{PageSession, Reply, demo_apps, page, send, sign_in, token};

const CIPHER_HEX: &str = "0303030303030303030303030303030303030303030303030303030303030303";
/// Two grids of 学府社区 (the demo community worker's community).
const GRIDS: [&str; 2] = ["230903011001001", "230903011001002"];

fn cipher() -> Arc<SoftwareCipher> {
    Arc::new(SoftwareCipher::from_hex(CIPHER_HEX).unwrap())
}

fn good_rows(n: usize, seed: u64) -> Vec<Vec<String>> {
    let grids: Vec<String> = GRIDS.iter().map(|g| g.to_string()).collect();
    resident_rows(n, &grids, seed)
}

/// A grid of the demo city outside 学府社区.
fn other_grid() -> String {
    common::demo_nodes()
        .iter()
        .map(|n| n.code.to_string())
        .find(|c| c.len() == 15 && !c.starts_with("230903011001"))
        .unwrap()
}

fn xlsx(rows: &[Vec<String>]) -> Vec<u8> {
    write_rows(Format::Xlsx, "实有人口", rows).unwrap()
}

async fn post_file(app: &axum::Router, token: &str, uri: &str, content_type: &str, bytes: Vec<u8>) -> Reply {
    let request = Request::post(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(bytes))
        .unwrap();
    send(app, request).await
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

async fn residents(db: &gongzhi_store::Db) -> i64 {
    db.registry_counts("").await.unwrap().residents
}

#[tokio::test]
async fn staff_import_residents_through_the_api_all_or_nothing_within_their_area() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let app = gongzhi_web::router(state.with_cipher(cipher()));
        let community = token(&app, &db.db, "community").await;
        let clerk = token(&app, &db.db, "clerk").await;

        // A file with four bad rows: every one listed by row, column and reason; nothing written.
        let mut rows = good_rows(8, 1);
        let id = rows[2][6].clone();
        rows[2][6] = format!("{}{}", &id[..17], if id.ends_with('0') { '1' } else { '0' }); // row 3: check digit
        rows[4][5] = String::new(); // row 5: no name
        rows[6][0] = other_grid(); // row 7: another community's grid
        rows[7][6] = rows[1][6].clone(); // row 8: the ID number of row 2 again
        let reply = post_file(
            &app,
            &community,
            "/api/v1/registry/import/residents?file=residents-a.xlsx",
            XLSX,
            xlsx(&rows),
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", reply.body);
        let listed: Vec<(i64, String)> = reply.json()["error"]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["row"].as_i64().unwrap(), r["column"].as_str().unwrap().to_string()))
            .collect();
        assert_eq!(
            listed,
            vec![
                (3, "身份证号".to_string()),
                (5, "姓名".to_string()),
                (7, "网格编码".to_string()),
                (8, "身份证号".to_string()),
            ],
            "{name}: {}",
            reply.body
        );
        assert!(
            reply.body.contains("不在您的辖区内") && reply.body.contains("与第2行重复"),
            "{}",
            reply.body
        );
        // Personal data is masked even in the refusal.
        assert!(
            !reply.body.contains(&rows[1][6]),
            "{name}: an ID number in clear: {}",
            reply.body
        );
        assert_eq!(residents(&db.db).await, 0, "{name}: a refused file wrote rows");

        // A missing required column is named; a workbook named .csv is refused; a clerk may not import.
        let mut missing = good_rows(2, 2);
        for r in missing.iter_mut() {
            r.remove(6);
        }
        let reply = post_file(
            &app,
            &community,
            "/api/v1/registry/import/residents?file=r.xlsx",
            XLSX,
            xlsx(&missing),
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(
            reply.body.contains("身份证号") && reply.body.contains("缺少此列"),
            "{}",
            reply.body
        );
        let reply = post_file(
            &app,
            &community,
            "/api/v1/registry/import/residents?file=r.csv",
            "text/csv",
            xlsx(&rows),
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(reply.body.contains(".xlsx"), "{}", reply.body);
        let reply = post_file(
            &app,
            &clerk,
            "/api/v1/registry/import/residents",
            XLSX,
            xlsx(&good_rows(2, 3)),
        )
        .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{name}: {}", reply.body);

        // The good file: every row, the buildings and households it names created, audited.
        let good = good_rows(8, 1);
        let reply = post_file(
            &app,
            &community,
            "/api/v1/registry/import/residents?file=residents-a.xlsx",
            XLSX,
            xlsx(&good),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{name}: {}", reply.body);
        let body = reply.json();
        assert_eq!(body["rows"], 8, "{name}: {body}");
        assert_eq!(body["created"]["residents"], 8);
        assert!(body["created"]["households"].as_i64().unwrap() >= 2, "{body}");
        assert_eq!(residents(&db.db).await, 8, "{name}");
        let audit = gongzhi_store::audit::entries(&db.db, 0, 10_000).await.unwrap();
        let import = audit
            .iter()
            .find(|e| e.action == "registry.import")
            .expect("the import is audited");
        assert_eq!(import.actor, "community");
        assert_eq!(import.detail["file"], "residents-a.xlsx");
        assert_eq!(import.detail["rows"], 8);
        let all_audit = serde_json::to_string(&audit.iter().map(|e| &e.detail).collect::<Vec<_>>()).unwrap();
        for row in &good[1..] {
            assert!(!all_audit.contains(&row[6]), "{name}: an ID number in the audit record");
            assert!(
                !all_audit.contains(&row[7]),
                "{name}: a phone number in the audit record"
            );
        }

        // The same people again: already registered, nothing written twice.
        let reply = post_file(
            &app,
            &community,
            "/api/v1/registry/import/residents?file=again.xlsx",
            XLSX,
            xlsx(&good),
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(reply.body.contains("已在登记中"), "{}", reply.body);
        assert_eq!(residents(&db.db).await, 8, "{name}");

        // More people in the same buildings: the buildings are found, not made again.
        let more = good_rows(12, 1);
        let mut later: Vec<Vec<String>> = vec![more[0].clone()];
        later.extend(more[9..].iter().cloned());
        let reply = post_file(
            &app,
            &community,
            "/api/v1/registry/import/residents",
            XLSX,
            xlsx(&later),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{name}: {}", reply.body);
        assert!(
            reply.json()["created"].get("buildings").is_none(),
            "{name}: {}",
            reply.body
        );
        assert_eq!(residents(&db.db).await, 12, "{name}");

        // The export is masked and audited.
        let export = common::get_as(&app, "/registry/export/residents.csv", &community).await;
        assert_eq!(export.status, StatusCode::OK, "{name}: {}", export.body);
        assert_eq!(export.body.lines().count(), 13, "{name}: {}", export.body);
        for row in &more[1..] {
            assert!(
                !export.body.contains(&row[6]) && !export.body.contains(&row[7]),
                "{name}: unmasked export"
            );
        }
        let audit = gongzhi_store::audit::entries(&db.db, 0, 10_000).await.unwrap();
        let e = audit
            .iter()
            .find(|e| e.action == "registry.export")
            .expect("the export is audited");
        assert_eq!(
            (e.actor.as_str(), &e.detail["rows"], &e.detail["masked"]),
            ("community", &serde_json::json!(12), &serde_json::json!(true))
        );

        // No ID number or phone number in clear in the SQLite file.
        if db.url.starts_with("sqlite:") {
            db.db.close().await;
            let path = db.url.trim_start_matches("sqlite:");
            let mut raw = std::fs::read(path).unwrap();
            raw.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
            for row in &more[1..] {
                for value in [&row[6], &row[7]] {
                    assert!(
                        !raw.windows(value.len()).any(|w| w == value.as_bytes()),
                        "personal data in clear in the database file"
                    );
                }
            }
        }
    }
}

/// A multipart upload from the import page.
async fn upload(app: &axum::Router, session: &PageSession, template: &str, file: &str, bytes: &[u8]) -> Reply {
    common::upload_form(app, session, "/registry/import", &[("template", template)], file, bytes).await
}

/// Follows a job page until the job ends; the last page.
async fn finished_job(app: &axum::Router, session: &PageSession, location: &str) -> Reply {
    for _ in 0..200 {
        let json = page(app, session, &format!("{location}.json")).await;
        assert_eq!(json.status, StatusCode::OK, "{}", json.body);
        if json.json()["finished"] == true {
            return page(app, session, location).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the import job did not finish");
}

#[tokio::test]
async fn the_import_page_offers_templates_and_shows_a_job_to_its_end() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let app = gongzhi_web::router(state.with_cipher(cipher()));
        let staff = sign_in(&app, &db.db, "community").await;
        let p = page(&app, &staff, "/registry/import").await;
        assert_eq!(p.status, StatusCode::OK, "{name}");
        for t in [
            "residents",
            "households",
            "buildings",
            "compounds",
            "member-orgs",
            "property-companies",
            "party-orgs",
            "party-members",
        ] {
            assert!(p.body.contains(&format!("/registry/import/templates/{t}.xlsx")), "{t}");
        }
        let t = page(&app, &staff, "/registry/import/templates/residents.xlsx").await;
        assert_eq!(t.status, StatusCode::OK);
        let sheet = gongzhi_office::read_rows("t.xlsx", &t.bytes).unwrap();
        assert_eq!(sheet[0][0], "网格编码(grid_code)*");
        let t = page(&app, &staff, "/registry/import/templates/party-members.csv").await;
        assert!(t.body.contains("身份证号(id_number)*"), "{}", t.body);

        let mut rows = good_rows(5, 9);
        rows[3][8] = "邻居".into();
        let r = upload(&app, &staff, "residents", "居民.xlsx", &xlsx(&rows)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        let location = r.headers[header::LOCATION].to_str().unwrap().to_string();
        let done = finished_job(&app, &staff, &location).await;
        assert!(done.body.contains("id=\"refused\""), "{}", done.body);
        assert!(done.body.contains("data-row=\"4\""), "{}", done.body);
        assert!(done.body.contains("与户主关系"), "{}", done.body);
        assert_eq!(residents(&db.db).await, 0, "{name}");

        rows[3][8] = "子女".into();
        let r = upload(&app, &staff, "residents", "居民.xlsx", &xlsx(&rows)).await;
        let location = r.headers[header::LOCATION].to_str().unwrap().to_string();
        let done = finished_job(&app, &staff, &location).await;
        assert!(done.body.contains("id=\"done\""), "{}", done.body);
        assert!(done.body.contains("已导入 5 行"), "{}", done.body);
        assert_eq!(residents(&db.db).await, 5, "{name}");

        // Buildings from a GeoJSON file through the same page; the page links the GeoJSON export.
        assert!(p.body.contains("accept=\".xlsx,.csv,.geojson,.json\""), "{}", p.body);
        assert!(p.body.contains("/registry/export/buildings.geojson"), "{}", p.body);
        let features = serde_json::json!({"type": "FeatureCollection", "features": [{
            "type": "Feature",
            "properties": {"网格编码": GRIDS[1], "楼栋": "页面楼", "门牌地址": "学府街1号"},
            "geometry": {"type": "Point", "coordinates": [131.02, 45.78]}
        }]});
        let r = upload(
            &app,
            &staff,
            "buildings",
            "楼栋.geojson",
            features.to_string().as_bytes(),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        let at = r.headers[header::LOCATION].to_str().unwrap().to_string();
        let done = finished_job(&app, &staff, &at).await;
        assert!(done.body.contains("id=\"done\""), "{name}: {}", done.body);
        let b = db.db.building_places_within(GRIDS[1]).await.unwrap();
        assert!(
            b.iter().any(|b| b.name == "页面楼" && b.lon == Some(131.02)),
            "{name}: {b:?}"
        );

        // Someone else's job is not found.
        let admin = sign_in(&app, &db.db, "admin").await;
        assert_eq!(page(&app, &admin, &location).await.status, StatusCode::NOT_FOUND);
    }
}

fn gongzhi(url: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gongzhi"));
    c.env_remove("GONGZHI_DATA_DIR")
        .env_remove("GONGZHI_CONFIG")
        .env_remove("GONGZHI_AUDIT_KEY_FILE")
        .env("GONGZHI_DATABASE_URL", url)
        .env("GONGZHI_AUDIT_KEY", audit_key().expose_hex())
        .env("GONGZHI_PERSONAL_DATA_KEY", CIPHER_HEX)
        .env("GONGZHI_LOG", "warn");
    c
}

#[tokio::test]
async fn an_administrator_imports_residents_from_the_command_line() {
    for db in TestDb::all().await {
        let name = db.backend_name();
        db.insert_nodes(common::demo_nodes(), chrono::Utc::now(), &audit_key(), SYSTEM_ACTOR)
            .await
            .unwrap();
        let dir = TestDb::temp_dir();
        let template = dir.join("模板.xlsx");
        let out = gongzhi(&db.url)
            .args(["import", "residents", "--template"])
            .arg(&template)
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(gongzhi_office::read_rows("t.xlsx", &std::fs::read(&template).unwrap()).unwrap()[0].len() >= 12);

        let mut rows = good_rows(6, 4);
        rows[2][8] = String::new();
        rows[5][4] = String::new();
        let bad = dir.join("坏.csv");
        std::fs::write(&bad, write_rows(Format::Csv, "", &rows).unwrap()).unwrap();
        let out = gongzhi(&db.url)
            .args(["import", "residents"])
            .arg(&bad)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains("坏.csv: 第3行「与户主关系」："), "{err}");
        assert!(err.contains("坏.csv: 第6行「户号」：不能为空"), "{err}");
        assert!(err.contains("共2处错误，未导入任何数据"), "{err}");
        assert_eq!(residents(&db.db).await, 0, "{name}");

        let good = dir.join("好.xlsx");
        std::fs::write(&good, xlsx(&good_rows(6, 4))).unwrap();
        let out = gongzhi(&db.url)
            .args(["import", "residents"])
            .arg(&good)
            .output()
            .unwrap();
        let (stdout, err) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(out.status.success(), "{name}: {err}");
        assert!(stdout.contains("已导入 6 行：居民 6"), "{stdout}");
        // The progress line on standard error ends at 100%.
        assert!(err.contains("已完成") && err.contains("（100%）"), "{err}");
        assert_eq!(residents(&db.db).await, 6, "{name}");

        // Exports: masked by default; unmasked only with a reason, which the audit record keeps.
        let rows = good_rows(6, 4);
        let out_path = dir.join("导出.csv");
        let out = gongzhi(&db.url)
            .args(["export", "residents"])
            .arg(&out_path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        let text = std::fs::read_to_string(&out_path).unwrap();
        assert_eq!(text.lines().count(), 7, "{text}");
        assert!(!text.contains(&rows[1][6]) && !text.contains(&rows[1][7]), "{text}");
        let out = gongzhi(&db.url)
            .args(["export", "residents", "--unmasked"])
            .arg(&out_path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "--unmasked without --reason");
        let out = gongzhi(&db.url)
            .args(["export", "residents", "--unmasked", "--reason", "入户走访核对"])
            .arg(&out_path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        let text = std::fs::read_to_string(&out_path).unwrap();
        assert!(text.contains(&rows[1][6]) && text.contains(&rows[1][7]), "{text}");
        let audit = gongzhi_store::audit::entries(&db.db, 0, 10_000).await.unwrap();
        let unmasked = audit
            .iter()
            .find(|e| e.action == "registry.export" && e.detail["masked"] == false)
            .expect("the unmasked export is audited");
        assert_eq!(unmasked.detail["reason"], "入户走访核对");
        assert_eq!(unmasked.detail["rows"], 6);
    }
}

/// The row numbers a refusal lists.
fn bad_rows(reply: &Reply) -> Vec<i64> {
    reply.json()["error"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["row"].as_i64().unwrap())
        .collect()
}

fn csv(rows: &[&[&str]]) -> Vec<u8> {
    let rows: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    write_rows(Format::Csv, "", &rows).unwrap()
}

#[tokio::test]
async fn organizations_and_compounds_import_in_order_and_refer_to_each_other() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let app = gongzhi_web::router(state.with_cipher(cipher()));
        let admin = token(&app, &db.db, "admin").await;
        let community = token(&app, &db.db, "community").await;
        let company = "91230900MA1B2C3D8Y";

        // A compound naming a property company not registered yet: refused, named.
        let compounds = csv(&[
            &["社区代码", "小区名称", "物业企业信用代码", "业主委员会"],
            &["230903011001", "学府花园", company, "学府花园业主委员会"],
            &["230903011001", "书香苑", "", ""],
        ]);
        let reply = post_file(
            &app,
            &community,
            "/api/v1/registry/import/compounds?file=compounds.csv",
            "text/csv",
            compounds.clone(),
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", reply.body);
        assert!(reply.body.contains("请先导入物业企业"), "{}", reply.body);

        let companies = csv(&[
            &["统一社会信用代码", "企业名称", "服务电话"],
            &[company, "七台河市安居物业服务有限公司", "0464-8888888"],
        ]);
        let reply = post_file(
            &app,
            &admin,
            "/api/v1/registry/import/property-companies?file=companies.csv",
            "text/csv",
            companies.clone(),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{name}: {}", reply.body);
        let reply = post_file(
            &app,
            &admin,
            "/api/v1/registry/import/property-companies?file=companies.csv",
            "text/csv",
            companies,
        )
        .await;
        assert!(reply.body.contains("已登记"), "{name}: {}", reply.body);

        let reply = post_file(
            &app,
            &community,
            "/api/v1/registry/import/compounds?file=compounds.csv",
            "text/csv",
            compounds,
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{name}: {}", reply.body);
        assert_eq!(reply.json()["created"]["compounds"], 2);
        assert_eq!(reply.json()["created"]["owners_committees"], 1);
        let stored = db.db.compounds_within("230903011001").await.unwrap();
        assert_eq!(stored.len(), 2, "{name}");

        // Member organizations: a bad credit code and another street's code listed; then good.
        let orgs = csv(&[
            &["统一社会信用代码", "单位名称", "单位类型", "所在区划"],
            &["12230900MB1234562E", "七台河市第一中学", "事业单位", "230903011001"],
            &["12230900MB1234562F", "坏代码单位", "企业", "230903011001"],
            &["91230900MA1B2C3D8Y", "别处单位", "企业", &other_grid()[..12]],
        ]);
        let reply = post_file(
            &app,
            &community,
            "/api/v1/registry/import/member-orgs?file=orgs.csv",
            "text/csv",
            orgs,
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", reply.body);
        let rows = bad_rows(&reply);
        assert_eq!(rows, vec![3, 4], "{name}: {}", reply.body);
        let orgs = csv(&[
            &["credit_code", "name", "kind", "territory_code"],
            &[
                "12230900MB1234562E",
                "七台河市第一中学",
                "public_institution",
                "230903011001",
            ],
        ]);
        let reply = post_file(
            &app,
            &community,
            "/api/v1/registry/import/member-orgs?file=orgs.csv",
            "text/csv",
            orgs,
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{name}: {}", reply.body);
        assert_eq!(db.db.member_organizations_within("").await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn buildings_then_households_import_all_or_nothing_naming_each_bad_row() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let app = gongzhi_web::router(state.with_cipher(cipher()));
        let community = token(&app, &db.db, "community").await;
        let grid = GRIDS[0];
        let before = db.db.buildings_within(grid, 1_000_000).await.unwrap().len();

        // Another area's grid, a repeated building and a compound not registered: nothing written.
        let other = other_grid();
        let bad = csv(&[
            &["网格编码", "小区", "楼栋", "门牌地址", "层数", "单元数"],
            &[grid, "", "导入甲栋", "学府街18号甲栋", "6", "2"],
            &[&other, "", "导入乙栋", "别处1号", "5", "1"],
            &[grid, "", "导入甲栋", "学府街18号甲栋", "6", "2"],
        ]);
        let reply = post_file(
            &app,
            &community,
            "/api/v1/registry/import/buildings?file=buildings.csv",
            "text/csv",
            bad,
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", reply.body);
        let rows = bad_rows(&reply);
        assert_eq!(rows, vec![3, 4], "{name}: {}", reply.body);
        // Rows good in themselves are then checked against the registry.
        let unknown = csv(&[
            &["网格编码", "小区", "楼栋", "门牌地址"],
            &[grid, "", "导入甲栋", "学府街18号甲栋"],
            &[grid, "无此小区", "导入丙栋", "学府街20号"],
        ]);
        let reply = post_file(
            &app,
            &community,
            "/api/v1/registry/import/buildings?file=buildings.csv",
            "text/csv",
            unknown,
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", reply.body);
        assert!(reply.body.contains("第3行“小区”列"), "{name}: {}", reply.body);
        assert!(reply.body.contains("请先导入小区"), "{name}: {}", reply.body);
        assert_eq!(
            db.db.buildings_within(grid, 1_000_000).await.unwrap().len(),
            before,
            "{name}"
        );

        let good = csv(&[
            &["网格编码", "楼栋", "门牌地址", "层数", "单元数", "用途"],
            &[grid, "导入甲栋", "学府街18号甲栋", "6", "2", ""],
            &[grid, "导入乙栋", "学府街18号乙栋", "5", "1", "商住"],
        ]);
        let reply = post_file(
            &app,
            &community,
            "/api/v1/registry/import/buildings?file=buildings.csv",
            "text/csv",
            good.clone(),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{name}: {}", reply.body);
        assert_eq!(reply.json()["created"]["buildings"], 2, "{name}");
        assert_eq!(reply.json()["created"]["entrances"], 3, "{name}");
        let stored = db.db.buildings_within(grid, 1_000_000).await.unwrap();
        assert_eq!(stored.len(), before + 2, "{name}");
        let jia = stored.iter().find(|b| b.name == "导入甲栋").unwrap();
        assert_eq!(db.db.entrances_of(jia.id).await.unwrap().len(), 2, "{name}");
        // 用途 is kept (residential when left empty).
        let mut uses = Vec::new();
        for id in [jia.id, stored.iter().find(|b| b.name == "导入乙栋").unwrap().id] {
            uses.push(db.db.building(id).await.unwrap().unwrap().use_kind);
        }
        assert_eq!(uses, vec!["residential", "mixed"], "{name}");
        // The same file again: every row registered already.
        let reply = post_file(
            &app,
            &community,
            "/api/v1/registry/import/buildings?file=buildings.csv",
            "text/csv",
            good,
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", reply.body);
        assert!(reply.body.contains("已登记"), "{name}: {}", reply.body);

        // Households: a building not imported, an entrance it lacks, a repeated room.
        let bad = csv(&[
            &["网格编码", "楼栋", "单元", "户号", "面积"],
            &[grid, "导入甲栋", "1单元", "101", "86"],
            &[grid, "无此楼", "1", "101", ""],
            &[grid, "导入甲栋", "5", "501", ""],
        ]);
        let reply = post_file(
            &app,
            &community,
            "/api/v1/registry/import/households?file=households.csv",
            "text/csv",
            bad,
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", reply.body);
        assert!(reply.body.contains("请先导入楼栋"), "{name}: {}", reply.body);
        let rows = bad_rows(&reply);
        assert_eq!(rows, vec![3, 4], "{name}: {}", reply.body);
        assert!(db.db.households_of(cipher().as_ref(), jia.id).await.unwrap().is_empty());

        let good = csv(&[
            &["网格编码", "楼栋", "单元", "户号", "面积"],
            &[grid, "导入甲栋", "1单元", "101", "86"],
            &[grid, "导入甲栋", "2", "201", ""],
            &[grid, "导入乙栋", "", "102", "120"],
        ]);
        let reply = post_file(
            &app,
            &community,
            "/api/v1/registry/import/households?file=households.csv",
            "text/csv",
            good,
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{name}: {}", reply.body);
        assert_eq!(reply.json()["created"]["households"], 3, "{name}");
        let households = db.db.households_of(cipher().as_ref(), jia.id).await.unwrap();
        let rooms: Vec<&str> = households.iter().map(|h| h.room.as_str()).collect();
        assert_eq!(rooms, vec!["101", "201"], "{name}");
        let areas: Vec<Option<i64>> = households.iter().map(|h| h.area_m2).collect();
        assert_eq!(areas, vec![Some(86), None], "{name}: 面积 is kept");
        // The audit entry counts, never a room.
        let audit = gongzhi_store::audit::entries(&db.db, 0, 10_000).await.unwrap();
        let import = audit
            .iter()
            .find(|e| e.action == "registry.import" && e.detail["template"] == "households")
            .expect("the import is audited");
        assert_eq!(import.detail["created"]["households"], 3, "{name}");
        assert!(!import.detail.to_string().contains("201"), "{name}: {}", import.detail);
    }
}

#[tokio::test]
async fn party_organizations_then_party_members_import_with_their_references_checked() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let app = gongzhi_web::router(state.with_cipher(cipher()));
        let community = token(&app, &db.db, "community").await;
        let other = other_grid();

        // Another area's grid and a repeated code: refused before anything is looked up.
        let bad = csv(&[
            &["组织编号", "组织名称", "组织类型", "所在区划或网格", "上级组织编号"],
            &["T-XF-P", "学府社区党委（导入）", "社区党委", "230903011001", ""],
            &["T-XF-G9", "别处网格党支部", "网格党组织", &other, "T-XF-P"],
            &["T-XF-P", "重复", "社区党委", "230903011001", ""],
        ]);
        let reply = post_file(
            &app,
            &community,
            "/api/v1/registry/import/party-orgs?file=orgs.csv",
            "text/csv",
            bad,
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", reply.body);
        let rows = bad_rows(&reply);
        assert_eq!(rows, vec![3, 4], "{name}: {}", reply.body);
        // A parent neither registered nor earlier in the file.
        let unknown = csv(&[
            &["组织编号", "组织名称", "组织类型", "所在区划或网格", "上级组织编号"],
            &["T-XF-G1", "学府社区第1网格党支部", "网格党组织", GRIDS[0], "T-XF-P"],
            &["T-XF-P", "学府社区党委（导入）", "社区党委", "230903011001", ""],
        ]);
        let reply = post_file(
            &app,
            &community,
            "/api/v1/registry/import/party-orgs?file=orgs.csv",
            "text/csv",
            unknown,
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", reply.body);
        assert!(reply.body.contains("第2行“上级组织编号”列"), "{name}: {}", reply.body);
        assert!(
            db.db.party_organization_by_code("T-XF-P").await.unwrap().is_none(),
            "{name}"
        );

        let good = csv(&[
            &["组织编号", "组织名称", "组织类型", "所在区划或网格", "上级组织编号"],
            &["T-XF-P", "学府社区党委（导入）", "社区党委", "230903011001", ""],
            &["T-XF-G1", "学府社区第1网格党支部", "网格党组织", GRIDS[0], "T-XF-P"],
        ]);
        let reply = post_file(
            &app,
            &community,
            "/api/v1/registry/import/party-orgs?file=orgs.csv",
            "text/csv",
            good,
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{name}: {}", reply.body);
        assert_eq!(reply.json()["created"]["party_orgs"], 2, "{name}");
        let g1 = db.db.party_organization_by_code("T-XF-G1").await.unwrap().unwrap();
        let p = db.db.party_organization_by_code("T-XF-P").await.unwrap().unwrap();
        assert_eq!(g1.parent_id, Some(p.id), "{name}");

        // Members: a repeated ID number, then an organization not registered.
        let before = db.db.party_member_counts("230903011001").await.unwrap();
        let bad = csv(&[
            &["姓名", "身份证号", "手机号", "所在党组织编号"],
            &["李建国", "230903197803120034", "13904670001", "T-XF-G1"],
            &["李建国", "230903197803120034", "", "T-XF-G1"],
        ]);
        let reply = post_file(
            &app,
            &community,
            "/api/v1/registry/import/party-members?file=m.csv",
            "text/csv",
            bad,
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", reply.body);
        assert!(reply.body.contains("第3行“身份证号”列"), "{name}: {}", reply.body);
        assert!(
            !reply.body.contains("230903197803120034"),
            "{name}: an ID number in the reply"
        );
        let unknown = csv(&[
            &["姓名", "身份证号", "所在党组织编号"],
            &["李建国", "230903197803120034", "T-NOPE"],
        ]);
        let reply = post_file(
            &app,
            &community,
            "/api/v1/registry/import/party-members?file=m.csv",
            "text/csv",
            unknown,
        )
        .await;
        assert!(reply.body.contains("请先导入党组织"), "{name}: {}", reply.body);

        let good = csv(&[
            &["姓名", "身份证号", "手机号", "所在党组织编号", "入党日期"],
            &["李建国", "230903197803120034", "13904670001", "T-XF-G1", "2005/7/1"],
            &["张秀英", "230903198506150020", "", "T-XF-P", ""],
        ]);
        let reply = post_file(
            &app,
            &community,
            "/api/v1/registry/import/party-members?file=m.csv",
            "text/csv",
            good.clone(),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{name}: {}", reply.body);
        assert_eq!(reply.json()["created"]["party_members"], 2, "{name}");
        let after = db.db.party_member_counts("230903011001").await.unwrap();
        assert_eq!(after.community, before.community + 2, "{name}");
        let reply = post_file(
            &app,
            &community,
            "/api/v1/registry/import/party-members?file=m.csv",
            "text/csv",
            good,
        )
        .await;
        assert!(reply.body.contains("已在党员登记中"), "{name}: {}", reply.body);
        // 入党日期 is kept, sealed: it opens with the key and is not in the database in clear.
        let ids = db
            .db
            .party_member_ids_by_id_numbers(
                cipher().as_ref(),
                &[gongzhi_core::people::id_number::IdNumber::parse("230903197803120034").unwrap()],
            )
            .await
            .unwrap();
        let member = db
            .db
            .party_member(cipher().as_ref(), ids["230903197803120034"])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(member.joined_on, chrono::NaiveDate::from_ymd_opt(2005, 7, 1), "{name}");
        assert!(
            !db.raw_text(&["party_members"]).await.contains("2005-07-01"),
            "{name}: in clear"
        );
        let audit = gongzhi_store::audit::entries(&db.db, 0, 10_000).await.unwrap();
        let all = serde_json::to_string(&audit.iter().map(|e| &e.detail).collect::<Vec<_>>()).unwrap();
        assert!(
            !all.contains("230903197803120034") && !all.contains("李建国"),
            "{name}: personal data audited"
        );
    }
}

/// Compounds and buildings as compared after a round trip (positions included).
async fn places(db: &gongzhi_store::Db) -> (Vec<String>, Vec<String>) {
    let compounds = db
        .compounds_within("230903011001")
        .await
        .unwrap()
        .into_iter()
        .map(|c| {
            format!(
                "{}|{}|{}|{:?}|{:?}|{:?}",
                c.community_code, c.name, c.address, c.lon, c.lat, c.outline
            )
        })
        .collect();
    let buildings = db
        .building_places_within("230903011001")
        .await
        .unwrap()
        .into_iter()
        .map(|b| {
            format!(
                "{}|{:?}|{}|{}|{}|{}|{}|{:?}|{:?}|{:?}",
                b.grid_code, b.compound, b.name, b.address, b.floors, b.entrances, b.use_kind, b.lon, b.lat, b.outline
            )
        })
        .collect();
    (compounds, buildings)
}

#[tokio::test]
async fn compounds_and_buildings_import_from_geojson_and_export_to_it_again() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let app = gongzhi_web::router(state.with_cipher(cipher()));
        let community = token(&app, &db.db, "community").await;
        let grid = GRIDS[0];
        let compounds = serde_json::json!({
            "type": "FeatureCollection",
            "features": [{
                "type": "Feature",
                "properties": {"community_code": "230903011001", "name": "学府花园", "address": "学府街18号"},
                "geometry": {"type": "Polygon", "coordinates": [[[131.01, 45.77], [131.02, 45.77], [131.02, 45.78], [131.01, 45.78], [131.01, 45.77]]]}
            }]
        });
        let reply = post_file(
            &app,
            &community,
            "/api/v1/registry/import/compounds?file=compounds.geojson",
            "application/geo+json",
            compounds.to_string().into_bytes(),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{name}: {}", reply.body);

        // A line is not a place and another area's grid is refused: feature numbers as rows.
        let point = |g: &str, b: &str, lon: f64, lat: f64| {
            serde_json::json!({
                "type": "Feature",
                "properties": {"grid_code": g, "compound": "学府花园", "building": b, "address": format!("学府街18号{b}"), "floors": 6, "entrances": 2},
                "geometry": {"type": "Point", "coordinates": [lon, lat]}
            })
        };
        let mut line = point(grid, "线楼", 131.0, 45.0);
        line["geometry"] = serde_json::json!({"type": "LineString", "coordinates": [[131.0, 45.0], [131.1, 45.1]]});
        let bad = serde_json::json!({
            "type": "FeatureCollection",
            "features": [point(grid, "1号楼", 131.0151, 45.7712), line, point(&other_grid(), "2号楼", 131.0, 45.7)]
        });
        let reply = post_file(
            &app,
            &community,
            "/api/v1/registry/import/buildings?file=b.geojson",
            "application/geo+json",
            bad.to_string().into_bytes(),
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", reply.body);
        let rows = bad_rows(&reply);
        assert_eq!(rows, vec![2, 3], "{name}: {}", reply.body);
        let good = serde_json::json!({
            "type": "FeatureCollection",
            "features": [point(grid, "1号楼", 131.0151, 45.7712), point(GRIDS[1], "9号楼", 131.0163, 45.7721)]
        });
        let reply = post_file(
            &app,
            &community,
            "/api/v1/registry/import/buildings?file=b.geojson",
            "application/geo+json",
            good.to_string().into_bytes(),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{name}: {}", reply.body);
        let before = places(&db.db).await;
        assert!(
            before.1.iter().any(|b| b.contains("Some(131.0151)")),
            "{name}: {:?}",
            before.1
        );

        // Export both, import them into a fresh database: the same records.
        let c = common::get_as(&app, "/registry/export/compounds.geojson", &community).await;
        assert_eq!(c.status, StatusCode::OK, "{name}: {}", c.body);
        // The compound imported as a polygon keeps its outline (and its centroid as the point).
        assert!(before.0[0].contains("Polygon"), "{name}: {:?}", before.0);
        let exported = c.json();
        let shape = &exported["features"][0]["geometry"];
        assert!(shape["type"].as_str().unwrap().ends_with("Polygon"), "{name}: {shape}");
        let b = common::get_as(&app, "/registry/export/buildings.geojson", &community).await;
        assert_eq!(b.status, StatusCode::OK, "{name}: {}", b.body);
        let (fresh, fresh_state) = demo_apps()
            .await
            .into_iter()
            .find(|(d, _)| d.backend_name() == name)
            .unwrap();
        let fresh_app = gongzhi_web::router(fresh_state.with_cipher(cipher()));
        let fresh_token = token(&fresh_app, &fresh.db, "community").await;
        for (kind, body) in [("compounds", c.body), ("buildings", b.body)] {
            let reply = post_file(
                &fresh_app,
                &fresh_token,
                &format!("/api/v1/registry/import/{kind}?file={kind}.geojson"),
                "application/geo+json",
                body.into_bytes(),
            )
            .await;
            assert_eq!(reply.status, StatusCode::CREATED, "{name} {kind}: {}", reply.body);
        }
        assert_eq!(places(&fresh.db).await, before, "{name}");
    }
}

#[tokio::test]
async fn an_administrator_imports_buildings_from_geojson_and_exports_them_on_the_command_line() {
    for db in TestDb::all().await {
        let name = db.backend_name();
        db.insert_nodes(common::demo_nodes(), chrono::Utc::now(), &audit_key(), SYSTEM_ACTOR)
            .await
            .unwrap();
        let dir = TestDb::temp_dir();
        let file = dir.join("楼栋.geojson");
        let features = serde_json::json!({
            "type": "FeatureCollection",
            "features": [{
                "type": "Feature",
                "properties": {"grid_code": GRIDS[0], "building": "3号楼", "address": "学府街18号3号楼", "floors": 6, "entrances": 3},
                "geometry": {"type": "Polygon", "coordinates": [[[131.01, 45.77], [131.0102, 45.77], [131.0102, 45.7702], [131.01, 45.7702], [131.01, 45.77]]]}
            }]
        });
        std::fs::write(&file, features.to_string()).unwrap();
        let out = gongzhi(&db.url)
            .args(["import", "buildings"])
            .arg(&file)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name}: {err}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("楼栋 1"), "{name}");

        let exported = dir.join("导出.geojson");
        let out = gongzhi(&db.url)
            .args(["export", "buildings", "--format", "geojson"])
            .arg(&exported)
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        let text = std::fs::read_to_string(&exported).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let f = &json["features"][0];
        assert_eq!(f["properties"]["building"], "3号楼", "{name}: {text}");
        assert_eq!(f["properties"]["entrances"], 3, "{name}: {text}");
        // The outline goes out as it came in; the point kept beside it is its centroid.
        assert_eq!(f["geometry"]["type"], "Polygon", "{name}: {text}");
        assert_eq!(f["geometry"]["coordinates"][0][1][0], 131.0102, "{name}: {text}");
        let b = db.buildings_within(GRIDS[0], 10).await.unwrap();
        let stored = db
            .building(b.iter().find(|b| b.name == "3号楼").unwrap().id)
            .await
            .unwrap()
            .unwrap();
        assert!(
            (stored.lon.unwrap() - 131.0101).abs() < 1e-6,
            "{name}: the polygon's centroid"
        );

        // The same buildings as the template's table, and a format a kind has not: a clear line.
        let table = dir.join("楼栋.csv");
        let out = gongzhi(&db.url)
            .args(["export", "buildings"])
            .arg(&table)
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("已导出楼栋 1 条"),
            "{name}"
        );
        let text = std::fs::read_to_string(&table).unwrap();
        assert!(
            text.contains("楼栋(building)*") && text.contains("3号楼,学府街18号3号楼,6,3,住宅"),
            "{name}: {text}"
        );
        let out = gongzhi(&db.url)
            .args(["export", "member-orgs"])
            .arg(dir.join("单位.geojson"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(".xlsx 或 .csv"), "{name}");
    }
}

#[tokio::test]
async fn an_administrator_rotates_the_personal_data_key_on_the_command_line() {
    for db in TestDb::all().await {
        let name = db.backend_name();
        db.insert_nodes(common::demo_nodes(), chrono::Utc::now(), &audit_key(), SYSTEM_ACTOR)
            .await
            .unwrap();
        let dir = TestDb::temp_dir();
        let rows = good_rows(6, 9);
        let file = dir.join("居民.xlsx");
        std::fs::write(&file, xlsx(&rows)).unwrap();
        let out = gongzhi(&db.url)
            .args(["import", "residents"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));

        // A new key generated into the file named, everything sealed again, audited.
        let new_key = dir.join("new-personal-data.key");
        let out = gongzhi(&db.url)
            .args(["rotate-personal-data-key", "--new-key-file"])
            .arg(&new_key)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(
            stdout.contains("重新加密") && stdout.contains("新生成"),
            "{name}: {stdout}"
        );
        let hex_key = std::fs::read_to_string(&new_key).unwrap().trim().to_string();
        assert_eq!(hex_key.len(), 64, "{name}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&new_key).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let audit = gongzhi_store::audit::entries(&db.db, 0, 10_000).await.unwrap();
        assert!(audit.iter().any(|e| e.action == "registry.key.rotate"), "{name}");

        // The old key no longer opens the registry; the new one does, in full.
        let export = dir.join("导出.csv");
        let out = gongzhi(&db.url)
            .args(["export", "residents", "--unmasked", "--reason", "核对密钥更新"])
            .arg(&export)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{name}: the old key still opens the data");
        let out = gongzhi(&db.url)
            .env("GONGZHI_PERSONAL_DATA_KEY", &hex_key)
            .args(["export", "residents", "--unmasked", "--reason", "核对密钥更新"])
            .arg(&export)
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        let text = std::fs::read_to_string(&export).unwrap();
        for row in &rows[1..] {
            assert!(text.contains(&row[6]), "{name}: {} not in the export", &row[6][..4]);
        }
        // Rotating again from a key that does not open the data changes nothing.
        let out = gongzhi(&db.url)
            .args(["rotate-personal-data-key", "--new-key-file"])
            .arg(dir.join("third.key"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("未做任何更改") && err.contains("does not open"),
            "{name}: {err}"
        );
    }
}

/// Posted offices (派驻机构) come in by a template like the other organizations: one office per
/// department and street, the department one of the list, the street inside the importer's area;
/// any bad row and nothing is written. The organizations page then lists them with the id a
/// joint-meeting seat names.
#[tokio::test]
async fn street_staff_import_posted_offices_and_the_organizations_page_lists_them() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let app = gongzhi_web::router(state.with_cipher(cipher()));
        let street = token(&app, &db.db, "street").await;
        let community = token(&app, &db.db, "community").await;
        let street_code = "230903011000";
        let before = db.db.posted_offices_within("230903011").await.unwrap().len();
        let uri = "/api/v1/registry/import/posted-offices?file=offices.csv";

        // A street outside the area, the same department twice: refused, each row named.
        let other_street = format!("{}000", &other_grid()[..9]);
        let bad = csv(&[
            &["department_code", "name", "street_code", "address"],
            &["water", "桃东水务站", street_code, "街道办事处院内"],
            &["water", "别处水务站", &other_street, ""],
            &["water", "桃东水务站二", street_code, ""],
        ]);
        let reply = post_file(&app, &street, uri, "text/csv", bad).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", reply.body);
        assert_eq!(bad_rows(&reply), vec![3, 4], "{name}: {}", reply.body);
        // A department the list does not have: refused, the column named.
        let bad = csv(&[
            &["department_code", "name", "street_code"],
            &["water", "桃东水务站", street_code],
            &["weather-bureau", "气象站", street_code],
        ]);
        let reply = post_file(&app, &street, uri, "text/csv", bad).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", reply.body);
        assert_eq!(bad_rows(&reply), vec![3], "{name}: {}", reply.body);
        assert!(reply.body.contains("部门代码"), "{name}: {}", reply.body);
        assert_eq!(
            db.db.posted_offices_within("230903011").await.unwrap().len(),
            before,
            "{name}"
        );

        // A community worker's area does not reach the street.
        let one = csv(&[
            &["部门代码", "机构名称", "所在街道代码"],
            &["water", "桃东水务站", street_code],
        ]);
        let reply = post_file(&app, &community, uri, "text/csv", one.clone()).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", reply.body);
        assert!(reply.body.contains("不在您的辖区内"), "{name}: {}", reply.body);

        let reply = post_file(&app, &street, uri, "text/csv", one.clone()).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{name}: {}", reply.body);
        let offices = db.db.posted_offices_within("230903011").await.unwrap();
        assert_eq!(offices.len(), before + 1, "{name}");
        let office = offices.iter().find(|o| o.name == "桃东水务站").unwrap();
        assert_eq!(office.department_code, "water");
        assert_eq!(office.street_code, street_code);

        // The same office again: it is registered already.
        let reply = post_file(&app, &street, uri, "text/csv", one).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", reply.body);
        assert!(reply.body.contains("已有派驻机构"), "{name}: {}", reply.body);

        let staff = sign_in(&app, &db.db, "community").await;
        let r = page(&app, &staff, "/registry/organizations?within=230903011001").await;
        assert_eq!(r.status, StatusCode::OK, "{name}");
        assert!(r.body.contains("id=\"posted\""), "{name}: {}", r.body);
        assert!(r.body.contains("桃东水务站") && r.body.contains("水务局"), "{name}");
        assert!(r.body.contains(&format!("<td>{}</td><td>", office.id)), "{name}");
        // A community worker does not reach the street: no link to correct it.
        assert!(
            !r.body.contains(&format!("/registry/posted-offices/{}/edit", office.id)),
            "{name}"
        );
    }
}
