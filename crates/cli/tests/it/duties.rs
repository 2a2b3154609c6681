//! Separation of duty (三员分立) and who may see and do what with cases and photos, tried as the
//! outside test tried them (issue 14): over HTTP against the router, on both databases.
//!
//! - No administrator makes an exporter of personal data, nor becomes one; the permission takes
//!   the system administrator (the account), the security administrator (the permission) and a
//!   password only its holder knows.
//! - A photo is read by its uploaders and by whoever may see a case it is on; Open311 publishes
//!   no photo id.
//! - The three administrators read, report and upload nothing of the case loop.
//! - Staff report only within their area, under the channels their roles use, and a report's
//!   `report_detail` keeps only a caller's contact, masked.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gongzhi_core::cases::attachment::AttachmentLimits;
use gongzhi_core::people::{Grant, Role, Scope};
use gongzhi_core::territory::TerritoryCode;
use gongzhi_store::testing::{TestDb, signed_in};
use serde_json::{Value, json};

use crate::common::{
    PageSession, Reply, demo_apps, demo_nodes, get, get_as, page, post_as, send, sign_in, sign_in_with, submit, token,
    upload_photo,
};
use crate::registry_export::{account, cipher, exports, grants_of, import_residents};

/// 学府社区第1网格: the demo grid worker's grid, in 桃东街道 (the demo street staff's).
const GRID: &str = "230903011001001";
/// 违法建设.
const MATTER: &str = "06001";
const GRANT_EXPORTER: [(&str, &str); 3] = [
    ("change", "grant"),
    ("role", "personal_data_exporter"),
    ("scope", "230903011000"),
];

/// A grid of another district (茄子河区).
fn grid_elsewhere() -> String {
    demo_nodes()
        .iter()
        .map(|n| n.code.to_string())
        .find(|c| c.starts_with("230904") && c.len() == 15)
        .expect("a grid in 茄子河区")
}

fn grant(role: Role, code: &str) -> Grant {
    Grant {
        role,
        scope: Scope::Territory(TerritoryCode::parse(code).unwrap()),
    }
}

/// `POST /api/v1/auth/token` as a client sends it.
async fn token_reply(app: &axum::Router, username: &str, password: &str) -> Reply {
    let body = json!({"username": username, "password": password}).to_string();
    send(
        app,
        Request::post("/api/v1/auth/token")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

fn code_of(r: &Reply) -> String {
    r.json()["error"]["code"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn no_administrator_makes_an_exporter_nor_becomes_one() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let app = gongzhi_web::router(state.with_cipher(cipher()));
        let sec = sign_in(&app, &db.db, "secadmin").await;

        // The outside test's attack: an account holding only the permission, with a password the
        // security administrator chose. Refused; there is no such account to sign in with.
        let r = submit(
            &app,
            &sec,
            "/admin/accounts",
            &[
                ("username", "ghost"),
                ("display_name", "影子"),
                ("password", "Shadow2026!x"),
                ("role", "personal_data_exporter"),
                ("scope", "230900000000"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", r.body);
        assert!(
            r.body.contains("只能授予已有工作角色的工作人员账户"),
            "{name}: {}",
            r.body
        );
        assert!(db.db.account_by_username("ghost").await.unwrap().is_none(), "{name}");
        let t = token_reply(&app, "ghost", "Shadow2026!x").await;
        assert_eq!(t.status, StatusCode::UNAUTHORIZED, "{name}: {}", t.body);

        // Nor to the system administrator's or the auditor's account …
        for admin in ["admin", "auditor"] {
            let r = submit(&app, &sec, &format!("/admin/accounts/{admin}"), &GRANT_EXPORTER).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name} {admin}: {}", r.body);
            assert!(
                r.body.contains("三员分立") && r.body.contains("个人信息导出员"),
                "{name}: {}",
                r.body
            );
            let held = grants_of(&account(&db.db, admin).await);
            assert!(!held.contains(&Role::PersonalDataExporter), "{name} {admin}");
        }
        // … nor to its own, which it does not reach.
        let r = submit(&app, &sec, "/admin/accounts/secadmin", &GRANT_EXPORTER).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{name}: {}", r.body);
        // The system administrator grants no security permission at all.
        let admin = sign_in(&app, &db.db, "admin").await;
        let r = submit(&app, &admin, "/admin/accounts/street", &GRANT_EXPORTER).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", r.body);

        // Nor by a detour: an administrator's account it made, emptied of its role, is no
        // member of staff, and its password is no longer the security administrator's to set.
        let r = submit(
            &app,
            &sec,
            "/admin/accounts",
            &[
                ("username", "ghost2"),
                ("display_name", "影子二"),
                ("password", "Shadow2026!y"),
                ("role", "audit_admin"),
                ("scope", "230900000000"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        let revoke = [("change", "revoke"), ("role", "audit_admin"), ("scope", "230900000000")];
        let r = submit(&app, &sec, "/admin/accounts/ghost2", &revoke).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        let r = submit(&app, &sec, "/admin/accounts/ghost2", &GRANT_EXPORTER).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", r.body);
        let reset = [("change", "reset_password"), ("password", "Mine2026!gh")];
        let r = submit(&app, &sec, "/admin/accounts/ghost2", &reset).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: {}", r.body);
        assert!(grants_of(&account(&db.db, "ghost2").await).is_empty(), "{name}");
    }
}

/// Changes the signed-in person's password on the page.
async fn change_password(app: &axum::Router, me: &PageSession, current: &str, new: &str) {
    let r = submit(
        app,
        me,
        "/account/password",
        &[("current", current), ("new", new), ("confirm", new)],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("密码已修改"), "{}", r.body);
}

#[tokio::test]
async fn the_export_permission_takes_two_people_and_a_password_only_its_holder_knows() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let app = gongzhi_web::router(state.with_cipher(cipher()));
        import_residents(&app, &db.db, 4).await;
        let admin = sign_in(&app, &db.db, "admin").await;
        let sec = sign_in(&app, &db.db, "secadmin").await;
        let export = [
            ("reason", "入户走访核对"),
            ("within", "230903011001"),
            ("format", "xlsx"),
        ];

        // The system administrator makes the account of a street staff member, with a password
        // it chose; the security administrator cannot give it the permission yet.
        let r = submit(
            &app,
            &admin,
            "/admin/accounts",
            &[
                ("username", "zhangsan"),
                ("display_name", "张三"),
                ("password", "Start2026!zs"),
                ("role", "street_staff"),
                ("scope", "230903011000"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        let r = submit(&app, &sec, "/admin/accounts/zhangsan", &GRANT_EXPORTER).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", r.body);
        assert!(r.body.contains("本人修改密码"), "{name}: {}", r.body);
        assert!(!grants_of(&account(&db.db, "zhangsan").await).contains(&Role::PersonalDataExporter));

        // With the administrator's password nothing but changing it works.
        let before = exports(&db.db).await.len();
        let zs = sign_in_with(&app, "zhangsan", "Start2026!zs").await.ok().unwrap();
        for r in [
            page(&app, &zs, "/registry/import").await,
            submit(&app, &zs, "/registry/export/residents-unmasked", &export).await,
        ] {
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
            assert_eq!(r.headers["location"], "/account/password", "{name}");
        }
        change_password(&app, &zs, "Start2026!zs", "Mine2026!zs").await;

        // Now the security administrator grants it, and the holder exports with their password.
        let r = submit(&app, &sec, "/admin/accounts/zhangsan", &GRANT_EXPORTER).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        let r = submit(&app, &zs, "/registry/export/residents-unmasked", &export).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        let all = exports(&db.db).await;
        assert_eq!(all.len(), before + 1, "{name}");
        assert_eq!(all.last().unwrap().actor, "zhangsan", "{name}");

        // The system administrator cannot take the account over by resetting its password.
        let r = submit(
            &app,
            &admin,
            "/admin/accounts/zhangsan",
            &[("change", "reset_password"), ("password", "Taken2026!zs")],
        )
        .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{name}: {}", r.body);
        assert!(r.body.contains("管理员不能重置其密码"), "{name}: {}", r.body);
        assert!(sign_in_with(&app, "zhangsan", "Taken2026!zs").await.is_err(), "{name}");
        assert!(sign_in_with(&app, "zhangsan", "Mine2026!zs").await.is_ok(), "{name}");
        let t = token_reply(&app, "zhangsan", "Taken2026!zs").await;
        assert_eq!(t.status, StatusCode::UNAUTHORIZED, "{name}: {}", t.body);

        // Once the permission is revoked it may (the person forgot it), and the permission waits
        // for the person's own password again.
        let revoke = [
            ("change", "revoke"),
            ("role", "personal_data_exporter"),
            ("scope", "230903011000"),
        ];
        let r = submit(&app, &sec, "/admin/accounts/zhangsan", &revoke).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        let r = submit(
            &app,
            &admin,
            "/admin/accounts/zhangsan",
            &[("change", "reset_password"), ("password", "Reset2026!zs")],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        assert!(account(&db.db, "zhangsan").await.account.must_change_password, "{name}");
        let r = submit(&app, &sec, "/admin/accounts/zhangsan", &GRANT_EXPORTER).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", r.body);
        // … and with the reset password the account does nothing before it is changed.
        let again = sign_in_with(&app, "zhangsan", "Reset2026!zs").await.ok().unwrap();
        let r = page(&app, &again, "/cases").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}");
        assert_eq!(r.headers["location"], "/account/password", "{name}");
    }
}

/// The app of `state` with a folder for photos.
fn with_photos(state: gongzhi_web::AppState) -> axum::Router {
    let blobs = gongzhi_store::Blobs::in_data_dir(&TestDb::temp_dir());
    gongzhi_web::router(state.with_attachments(blobs, AttachmentLimits::default()))
}

fn exif_jpeg() -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/fixtures/exif.jpg")).unwrap()
}

fn has_exif(bytes: &[u8]) -> bool {
    bytes.windows(4).any(|w| w == b"Exif")
}

#[tokio::test]
async fn a_photo_is_read_by_its_uploader_and_by_who_may_see_its_case_only() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let app = with_photos(state);
        let gridworker = token(&app, &db.db, "gridworker").await;
        let clerk = token(&app, &db.db, "clerk").await;
        let street = token(&app, &db.db, "street").await;
        let handler = token(&app, &db.db, "handler").await;
        let auditor = token(&app, &db.db, "auditor").await;
        let admin = token(&app, &db.db, "admin").await;
        let there = grid_elsewhere();
        let elsewhere = signed_in(&db.db, "gw-elsewhere", &[grant(Role::GridWorker, &there)]).await;
        let jpeg = exif_jpeg();
        assert!(has_exif(&jpeg));

        let up = upload_photo(&app, &gridworker, &jpeg).await;
        assert_eq!(up.status, StatusCode::CREATED, "{name}: {}", up.body);
        let id = up.json()["id"].as_i64().unwrap();
        let original = format!("/api/v1/attachments/{id}");
        let public = format!("/api/v1/attachments/{id}/public");

        // Before it is on a case: its uploader only, with the metadata (the evidence).
        let r = get_as(&app, &original, &gridworker).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        assert_eq!(r.bytes, jpeg, "{name}");
        for who in [&clerk, &elsewhere] {
            for uri in [&original, &public] {
                let r = get_as(&app, uri, who).await;
                assert_eq!(r.status, StatusCode::NOT_FOUND, "{name} {uri}: {}", r.body);
                assert_eq!(code_of(&r), "unknown_attachment", "{name}");
            }
        }

        // The grid worker reports it from their grid: whoever may see the case may see it.
        let report = json!({"channel": "patrol", "matter": MATTER, "description": "学府小区北门私搭彩钢房",
                            "grid_code": GRID, "photos": [id.to_string()]});
        let r = post_as(&app, "/api/v1/cases", &gridworker, &report).await;
        assert_eq!(r.status, StatusCode::CREATED, "{name}: {}", r.body);
        let number = r.json()["number"].as_str().unwrap().to_string();
        for who in [&gridworker, &clerk, &street] {
            let r = get_as(&app, &original, who).await;
            assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
            assert!(has_exif(&r.bytes), "{name}: staff get the original");
            let r = get_as(&app, &public, who).await;
            assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
            assert!(!has_exif(&r.bytes), "{name}: the public copy has no metadata");
        }
        // Not a grid worker of another district, nor a department the case is not dispatched to.
        for who in [&elsewhere, &handler] {
            for uri in [&original, &public] {
                let r = get_as(&app, uri, who).await;
                assert_eq!(r.status, StatusCode::NOT_FOUND, "{name} {uri}: {}", r.body);
                assert_eq!(code_of(&r), "unknown_attachment", "{name}");
            }
        }
        // The administrators work on no case.
        for who in [&auditor, &admin] {
            let r = get_as(&app, &original, who).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: {}", r.body);
            assert_eq!(code_of(&r), "not_a_case_worker", "{name}");
        }

        // Naming it on a case of one's own does not open it: the step is refused.
        let launder = json!({"channel": "patrol", "matter": MATTER, "description": "路边违建",
                             "grid_code": there, "photos": [id.to_string()]});
        let r = post_as(&app, "/api/v1/cases", &elsewhere, &launder).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{name}: {}", r.body);
        assert_eq!(code_of(&r), "unknown_photo", "{name}");
        assert_eq!(get_as(&app, &original, &elsewhere).await.status, StatusCode::NOT_FOUND);
        // Ids are sequential: the next one answers as one not theirs does.
        let next = get_as(&app, &format!("/api/v1/attachments/{}", id + 1), &elsewhere).await;
        assert_eq!(
            (next.status, code_of(&next)),
            (StatusCode::NOT_FOUND, "unknown_attachment".into())
        );

        // The public Open311 list names no photo.
        for uri in [
            format!("/open311/v2/requests/{number}.json?extensions=true"),
            "/open311/v2/requests.json?extensions=true".to_string(),
        ] {
            let r = get(&app, &uri).await;
            assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
            let list = r.json();
            let ours = list
                .as_array()
                .unwrap()
                .iter()
                .find(|q| q["service_request_id"] == number)
                .cloned()
                .unwrap_or_else(|| panic!("{name}: {number} not listed"));
            assert!(ours["extended_attributes"].is_object(), "{name}: {ours}");
            assert!(ours["extended_attributes"].get("photos").is_none(), "{name}: {ours}");
            assert_eq!(ours["media_url"], Value::Null, "{name}: {ours}");
            assert!(!r.body.contains("\"photo"), "{name}");
        }
    }
}

#[tokio::test]
async fn the_three_administrators_neither_read_nor_report_cases_nor_upload() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let app = with_photos(state);
        let clerk = token(&app, &db.db, "clerk").await;
        let report =
            json!({"channel": "hotline", "matter": MATTER, "description": "学府小区私搭乱建", "grid_code": GRID});
        let r = post_as(&app, "/api/v1/cases", &clerk, &report).await;
        assert_eq!(r.status, StatusCode::CREATED, "{name}: {}", r.body);
        let (id, number) = (r.json()["id"].clone(), r.json()["number"].as_str().unwrap().to_string());

        for who in ["admin", "secadmin", "auditor"] {
            let t = token(&app, &db.db, who).await;
            let refused = |r: Reply| {
                assert_eq!(r.status, StatusCode::FORBIDDEN, "{name} {who}: {}", r.body);
                assert_eq!(code_of(&r), "not_a_case_worker", "{name} {who}");
            };
            refused(get_as(&app, &format!("/api/v1/cases/{id}"), &t).await);
            refused(get_as(&app, &format!("/api/v1/cases/{number}"), &t).await);
            refused(post_as(&app, "/api/v1/cases", &t, &report).await);
            refused(
                post_as(
                    &app,
                    &format!("/api/v1/cases/{id}/actions"),
                    &t,
                    &json!({"action": "accept"}),
                )
                .await,
            );
            refused(upload_photo(&app, &t, &exif_jpeg()).await);
            // Their lists hold nothing.
            let list = get_as(&app, "/api/v1/cases", &t).await;
            assert_eq!(list.json()["total"], 0, "{name} {who}");
            // The pages likewise.
            let s = sign_in(&app, &db.db, who).await;
            assert_eq!(
                page(&app, &s, &format!("/cases/{id}")).await.status,
                StatusCode::FORBIDDEN
            );
            assert_eq!(page(&app, &s, "/cases/new").await.status, StatusCode::FORBIDDEN);
        }
        let all = get_as(&app, "/api/v1/cases", &clerk).await.json();
        assert_eq!(all["total"], 1, "{name}: nothing reported by an administrator");

        // An administrator who also holds a working role works through that role.
        let both = signed_in(
            &db.db,
            "admin-leader",
            &[
                grant(Role::SystemAdmin, "230900000000"),
                grant(Role::Leader, "230900000000"),
            ],
        )
        .await;
        let r = get_as(&app, &format!("/api/v1/cases/{id}"), &both).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
    }
}

fn at(channel: &str, grid: &str) -> Value {
    json!({"channel": channel, "matter": MATTER, "description": "路边私搭乱建", "grid_code": grid})
}

#[tokio::test]
async fn staff_report_only_in_their_area_under_their_roles_channels() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let app = with_photos(state);
        let there = grid_elsewhere();
        let gridworker = token(&app, &db.db, "gridworker").await;
        let street = token(&app, &db.db, "street").await;
        let clerk = token(&app, &db.db, "clerk").await;
        let handler = token(&app, &db.db, "handler").await;
        let cases = [
            // (who, channel, grid, status, code)
            ("gridworker", &gridworker, "hotline", GRID, 403, "channel_not_allowed"),
            (
                "gridworker",
                &gridworker,
                "patrol",
                there.as_str(),
                403,
                "outside_scope",
            ),
            ("gridworker", &gridworker, "patrol", GRID, 201, ""),
            ("street", &street, "patrol", there.as_str(), 403, "outside_scope"),
            ("street", &street, "patrol", GRID, 201, ""),
            ("clerk", &clerk, "patrol", GRID, 403, "channel_not_allowed"),
            ("clerk", &clerk, "resident", GRID, 403, "channel_not_allowed"),
            ("clerk", &clerk, "open311", GRID, 403, "channel_not_allowed"),
            ("clerk", &clerk, "hotline", there.as_str(), 201, ""),
            ("handler", &handler, "hotline", GRID, 403, "channel_not_allowed"),
            ("handler", &handler, "feed", there.as_str(), 201, ""),
        ];
        for (who, t, channel, grid, status, code) in cases {
            let r = post_as(&app, "/api/v1/cases", t, &at(channel, grid)).await;
            assert_eq!(r.status.as_u16(), status, "{name}: {who} {channel} {grid}: {}", r.body);
            if status != 201 {
                assert_eq!(code_of(&r), code, "{name}: {who} {channel}");
            }
        }
        // The refusal names the channels one has.
        let r = post_as(&app, "/api/v1/cases", &gridworker, &at("hotline", GRID)).await;
        assert!(
            r.json()["error"]["message"].as_str().unwrap().contains("网格员巡查"),
            "{}",
            r.body
        );
        let all = get_as(&app, "/api/v1/cases", &clerk).await.json();
        assert_eq!(all["total"], 4, "{name}: only the allowed reports were made");

        // The form offers a grid worker patrol only.
        let s = sign_in(&app, &db.db, "gridworker").await;
        let form = page(&app, &s, "/cases/new").await;
        assert_eq!(form.status, StatusCode::OK, "{name}");
        assert!(form.body.contains("value=\"patrol\""), "{name}");
        assert!(!form.body.contains("value=\"hotline\""), "{name}");
    }
}

#[tokio::test]
async fn a_report_detail_keeps_only_a_callers_contact_masked() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let app = with_photos(state);
        let clerk = token(&app, &db.db, "clerk").await;
        let phone = "13612345678";
        let mut body = at("hotline", GRID);
        body["report_detail"] = json!({"reporter_contact": {"name": format!("张三丰 {phone}"), "phone": phone, "email": "zhangsan@example.cn"}});
        let r = post_as(&app, "/api/v1/cases", &clerk, &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{name}: {}", r.body);
        let number = r.json()["number"].as_str().unwrap().to_string();
        let case = get_as(&app, &format!("/api/v1/cases/{number}"), &clerk).await;
        assert_eq!(
            case.json()["timeline"][0]["detail"]["reporter_contact"],
            json!({"name": "张三丰 136****5678", "phone": "136****5678", "email": "z***@example.cn"}),
            "{name}"
        );
        assert!(!case.body.contains(phone), "{name}: the phone in clear on the timeline");
        let audit = gongzhi_store::audit::entries_about(&db.db, "case", &number)
            .await
            .unwrap();
        assert!(!audit.is_empty() && !audit.iter().any(|e| e.detail.to_string().contains(phone)));

        // Anything else is refused, and nothing is reported.
        let refusals = [
            (json!({"note": "随便写"}), 422, "unknown_field"),
            (
                json!({"reporter_contact": {"id_number": "34052419800101001X"}}),
                422,
                "unknown_field",
            ),
            (json!({"reporter_contact": {"name": "长".repeat(51)}}), 422, "too_long"),
            (json!({"reporter_contact": {"phone": "call me"}}), 422, "invalid_field"),
            (
                json!({"reporter_contact": {"phone": 13612345678_i64}}),
                400,
                "not_a_string",
            ),
            (json!("13612345678"), 422, "invalid_field"),
        ];
        for (detail, status, code) in refusals {
            let mut body = at("hotline", GRID);
            body["report_detail"] = detail.clone();
            let r = post_as(&app, "/api/v1/cases", &clerk, &body).await;
            assert_eq!(r.status.as_u16(), status, "{name} {detail}: {}", r.body);
            assert_eq!(code_of(&r), code, "{name} {detail}");
            assert_eq!(r.json()["error"]["field"], "report_detail", "{name}");
        }
        assert_eq!(get_as(&app, "/api/v1/cases", &clerk).await.json()["total"], 1, "{name}");
    }
}

#[tokio::test]
async fn a_case_merges_only_into_a_case_its_merger_may_see() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let app = with_photos(state);
        let city_clerk = token(&app, &db.db, "clerk").await;
        // An intake clerk of 桃山区 only.
        let district_clerk = signed_in(&db.db, "clerk-taoshan", &[grant(Role::IntakeClerk, "230903000000")]).await;
        let here = post_as(&app, "/api/v1/cases", &district_clerk, &at("hotline", GRID)).await;
        assert_eq!(here.status, StatusCode::CREATED, "{name}: {}", here.body);
        let elsewhere = post_as(&app, "/api/v1/cases", &city_clerk, &at("hotline", &grid_elsewhere())).await;
        assert_eq!(elsewhere.status, StatusCode::CREATED, "{name}: {}", elsewhere.body);
        let (here, elsewhere) = (here.json(), elsewhere.json());
        let merge = |parent: &Value| json!({"action": "merge_into", "parent": parent});
        let uri = format!("/api/v1/cases/{}/actions", here["id"]);
        // Into another district's case: refused, in the words used for a case that does not exist.
        let r = post_as(&app, &uri, &district_clerk, &merge(&elsewhere["number"])).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", r.body);
        assert_eq!(code_of(&r), "bad_merge_target", "{name}");
        let unknown = post_as(&app, &uri, &district_clerk, &merge(&json!("2000010100001"))).await;
        assert_eq!(
            r.json()["error"]["message"]
                .as_str()
                .unwrap()
                .replace(elsewhere["number"].as_str().unwrap(), "N"),
            unknown.json()["error"]["message"]
                .as_str()
                .unwrap()
                .replace("2000010100001", "N"),
            "{name}: the refusal does not tell that the other case exists"
        );
        let other = get_as(&app, &format!("/api/v1/cases/{}", elsewhere["id"]), &city_clerk)
            .await
            .json();
        assert!(
            other["merged_cases"].as_array().is_none_or(|m| m.is_empty()),
            "{name}: {other}"
        );
        // The city's clerk, who sees both, merges.
        let r = post_as(&app, &uri, &city_clerk, &merge(&elsewhere["number"])).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
    }
}
