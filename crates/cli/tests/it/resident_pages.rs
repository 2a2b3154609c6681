//! The residents' phone pages over HTTP on SQLite and PostgreSQL: sign-in by phone with a code
//! read from a test SMS gateway, wrong and expired codes, a report that makes exactly one case,
//! my reports, the rating after closing, and no phone number in clear on pages or in the database.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gongzhi_app::people::sms::MemoryGateway;
use gongzhi_core::cases::attachment::AttachmentLimits;
use gongzhi_store::Db;
use gongzhi_store::testing::{TestDb, audit_key};
use serde_json::json;

use crate::common;
use crate::common::resident::{Phone, app_of, ask_code, enter_code, get_page, post_form, session_of};
use crate::common::{Reply, browse, demo_apps, input_value, post_as, send, set_cookie, token};

const PHONE: &str = "13800138000";
const MASKED: &str = "138****8000";
const OTHER_PHONE: &str = "13911112222";
const MATTER: &str = "06010"; // 暴露垃圾

async fn sign_in(app: &axum::Router, sms: &MemoryGateway, phone: &str) -> Phone {
    let cookie = session_of(app, sms, phone, "/m/reports").await;
    let page = get_page(app, "/m/report", &cookie).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csrf = input_value(&page.body, "csrf").unwrap();
    Phone { cookie, csrf }
}

/// The report form as a phone sends it, with a photo.
async fn report(app: &axum::Router, me: &Phone, key: &str, fields: &[(&str, &str)], photo: Option<&[u8]>) -> Reply {
    let mut body = Vec::new();
    let mut all = vec![("csrf", me.csrf.as_str()), ("idempotency_key", key), ("datum", "wgs84")];
    all.extend_from_slice(fields);
    for (k, v) in all {
        body.extend(format!("--XyZ\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes());
    }
    if let Some(bytes) = photo {
        body.extend(
            b"--XyZ\r\nContent-Disposition: form-data; name=\"photos\"; filename=\"p.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n",
        );
        body.extend(bytes);
        body.extend(b"\r\n");
    }
    body.extend(b"--XyZ--\r\n");
    send(
        app,
        Request::post("/m/report")
            .header(header::ACCEPT, "text/html")
            .header(header::COOKIE, &me.cookie)
            .header(header::CONTENT_TYPE, "multipart/form-data; boundary=XyZ")
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

fn jpeg() -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/fixtures/plain.jpg")).unwrap()
}

/// The case number a 303 after the report form points at.
fn number_of(reply: &Reply) -> String {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let to = reply.headers[header::LOCATION].to_str().unwrap();
    let rest = to
        .strip_prefix("/m/reports/")
        .unwrap_or_else(|| panic!("redirect to {to}"));
    rest.split('?').next().unwrap().to_string()
}

/// One text column of every row a query gives.
async fn texts(db: &Db, sql: &str) -> Vec<String> {
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    match db {
        Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_all(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sql).fetch_all(p).await.unwrap(),
    }
}

/// The option of the community fallback naming 学府社区 of 桃东街道 (the demo's own).
fn community_option(html: &str) -> String {
    html.split("<option>")
        .filter_map(|o| o.split("</option>").next())
        .find(|o| o.contains("桃东街道") && o.contains("学府社区"))
        .expect("学府社区 is offered")
        .to_string()
}

#[tokio::test]
async fn a_resident_signs_in_by_code_reports_once_follows_and_rates_without_a_phone_in_clear() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let sms = Arc::new(MemoryGateway::default());
        let app = app_of(state, sms.clone());

        // Pages under /m/ want a resident; staff cookies do not count.
        let r = browse(&app, "/m/reports").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(r.headers[header::LOCATION].to_str().unwrap().starts_with("/m/login"));

        // A bad number is refused naming the field.
        let (_, bad) = ask_code(&app, "1234", "/m/reports").await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            bad.body.contains("data-field=\"phone\"") && bad.body.contains("手机号 phone"),
            "{}",
            bad.body
        );

        // A wrong code is refused naming the field, counted, and the right one still works.
        let (cookie, sent) = ask_code(&app, PHONE, "/m/reports").await;
        assert_eq!(sent.status, StatusCode::OK, "{name}: {}", sent.body);
        assert!(sent.body.contains(MASKED) && !sent.body.contains("id=\"error\""));
        let code = sms.last_code(PHONE).unwrap();
        assert_eq!(code.len(), 6);
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let r = enter_code(&app, &cookie, &sent, PHONE, wrong, "/m/reports").await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(
            r.body.contains("data-field=\"code\"") && r.body.contains("验证码 code 错误"),
            "{}",
            r.body
        );
        assert!(set_cookie(&r, "gz_resident").is_none());
        // Asking again at once is refused: the resend interval.
        let (_, again) = ask_code(&app, PHONE, "/m/reports").await;
        assert_eq!(again.status, StatusCode::TOO_MANY_REQUESTS, "{}", again.body);
        assert!(again.body.contains("data-field=\"phone\""));
        let r = enter_code(&app, &cookie, &sent, PHONE, &code, "/m/reports").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        // A code is good once.
        let r = enter_code(&app, &cookie, &sent, PHONE, &code, "/m/reports").await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("data-field=\"code\""));

        let me = sign_in(&app, &sms, PHONE).await;
        let page = get_page(&app, "/m/report", &me.cookie).await;
        assert!(page.body.contains(MASKED) && !page.body.contains(PHONE));
        assert!(page.body.contains("capture=\"environment\"") && page.body.contains("accept=\"image/*\""));
        let community = community_option(&page.body);

        // A refused report names the field and stores nothing.
        let r = report(
            &app,
            &me,
            "k-bad",
            &[("matter", MATTER), ("community", &community)],
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert!(r.body.contains("data-field=\"description\""), "{}", r.body);

        // The report, sent twice with the same key, makes one case.
        let fields = [
            ("matter", MATTER),
            ("description", "学府小区南门垃圾堆了三天没人清"),
            ("community", community.as_str()),
            ("anonymous", "1"),
        ];
        let photo = jpeg();
        let first = number_of(&report(&app, &me, "form-1", &fields, Some(&photo)).await);
        let second = number_of(&report(&app, &me, "form-1", &fields, Some(&photo)).await);
        assert_eq!(first, second, "{name}");
        let reporter = texts(&db.db, &format!("SELECT reporter FROM cases WHERE case_no = '{first}'")).await;
        assert_eq!(reporter.len(), 1);
        assert!(reporter[0].starts_with("resident:"), "{reporter:?}");
        let mine = texts(
            &db.db,
            &format!("SELECT case_no FROM cases WHERE reporter = '{}'", reporter[0]),
        )
        .await;
        assert_eq!(mine, vec![first.clone()], "{name}: exactly one case");
        let channel = texts(&db.db, &format!("SELECT channel FROM cases WHERE case_no = '{first}'")).await;
        assert_eq!(channel, vec!["resident".to_string()]);

        // My reports list it; another resident's list does not, nor may they open it.
        let list = get_page(&app, "/m/reports", &me.cookie).await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(
            list.body.contains(&first) && list.body.contains("暴露垃圾"),
            "{}",
            list.body
        );
        let other = sign_in(&app, &sms, OTHER_PHONE).await;
        let theirs = get_page(&app, "/m/reports", &other.cookie).await;
        assert!(!theirs.body.contains(&first) && theirs.body.contains("id=\"empty\""));
        let r = get_page(&app, &format!("/m/reports/{first}"), &other.cookie).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);

        // The case as the resident sees it: steps and times, the photo, no rating form yet.
        let case = get_page(&app, &format!("/m/reports/{first}"), &me.cookie).await;
        assert_eq!(case.status, StatusCode::OK, "{}", case.body);
        assert!(case.body.contains("id=\"timeline\"") && case.body.contains("id=\"anonymous\""));
        let photo_at = case
            .body
            .find(&format!("/m/reports/{first}/photos/"))
            .expect("the photo");
        let src: String = case.body[photo_at..].chars().take_while(|c| *c != '"').collect();
        let img = get_page(&app, &src, &me.cookie).await;
        assert_eq!(img.status, StatusCode::OK, "{src}");
        assert_eq!(img.headers[header::CONTENT_TYPE], "image/jpeg");
        assert_eq!(get_page(&app, &src, &other.cookie).await.status, StatusCode::NOT_FOUND);
        let not_listed = format!("/m/reports/{first}/photos/999999");
        assert_eq!(
            get_page(&app, &not_listed, &me.cookie).await.status,
            StatusCode::NOT_FOUND
        );
        assert!(case.body.contains("学府社区"), "the place");
        assert!(!case.body.contains("id=\"rate\""));
        // Rating before closing is refused through the loop and changes nothing.
        let r = post_form(
            &app,
            &format!("/m/reports/{first}/rate"),
            &me.cookie,
            &[("csrf", &me.csrf), ("solved", "yes"), ("satisfaction", "satisfied")],
        )
        .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        assert!(r.body.contains("id=\"error\""));
        // Without the CSRF token nothing happens either.
        let r = post_form(
            &app,
            &format!("/m/reports/{first}/rate"),
            &me.cookie,
            &[("csrf", "x"), ("solved", "yes"), ("satisfaction", "satisfied")],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);

        // Staff take it round the loop to closing.
        let clerk = token(&app, &db.db, "clerk").await;
        let found = common::get_as(&app, &format!("/api/v1/cases/{first}"), &clerk).await;
        assert_eq!(found.status, StatusCode::OK, "{}", found.body);
        let id = found.json()["id"].clone();
        assert!(found.json()["reporter"].as_str().unwrap().starts_with("resident:"));
        let steps = [
            ("clerk", json!({"action": "accept"})),
            ("shiftlead", json!({"action": "register"})),
            (
                "dispatcher",
                json!({"action": "dispatch", "lead": {"kind": "department", "code": "urban-management"}}),
            ),
            ("handler", json!({"action": "acknowledge"})),
        ];
        for (who, action) in steps {
            let t = token(&app, &db.db, who).await;
            let r = post_as(&app, &format!("/api/v1/cases/{id}/actions"), &t, &action).await;
            assert_eq!(r.status, StatusCode::OK, "{who} {action}: {}", r.body);
        }
        let handler = token(&app, &db.db, "handler").await;
        let photo_id = upload(&app, &handler).await;
        let r = post_as(
            &app,
            &format!("/api/v1/cases/{id}/actions"),
            &handler,
            &json!({"action": "report_back", "result": "已清运", "photos": [photo_id]}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        for (who, action) in [("community", "check_pass"), ("shiftlead", "close")] {
            let t = token(&app, &db.db, who).await;
            let r = post_as(
                &app,
                &format!("/api/v1/cases/{id}/actions"),
                &t,
                &json!({"action": action}),
            )
            .await;
            assert_eq!(r.status, StatusCode::OK, "{who} {action}: {}", r.body);
        }

        // Closed: the resident rates it; an incomplete rating names the field.
        let case = get_page(&app, &format!("/m/reports/{first}"), &me.cookie).await;
        assert!(case.body.contains("id=\"rate\""), "{}", case.body);
        let r = post_form(
            &app,
            &format!("/m/reports/{first}/rate"),
            &me.cookie,
            &[("csrf", &me.csrf), ("solved", "no")],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("data-field=\"satisfaction\""), "{}", r.body);
        let r = post_form(
            &app,
            &format!("/m/reports/{first}/rate"),
            &me.cookie,
            &[("csrf", &me.csrf), ("solved", "no"), ("satisfaction", "not_satisfied")],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let case = get_page(&app, &format!("/m/reports/{first}?lang=en"), &me.cookie).await;
        assert!(
            case.body.contains("id=\"rating\"") && case.body.contains("dissatisfied"),
            "{}",
            case.body
        );
        assert!(!case.body.contains("id=\"rate\""));
        // Once is enough; another resident may not rate it.
        let r = post_form(
            &app,
            &format!("/m/reports/{first}/rate"),
            &other.cookie,
            &[("csrf", &other.csrf), ("solved", "yes"), ("satisfaction", "satisfied")],
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        // The dissatisfied answer lets the shift lead reopen it.
        let shiftlead = token(&app, &db.db, "shiftlead").await;
        let seen = common::get_as(&app, &format!("/api/v1/cases/{id}"), &shiftlead)
            .await
            .json();
        let actions = seen["available_actions"].to_string() + &seen["actions"].to_string();
        assert!(actions.contains("reopen"), "{seen}");
        let follow = seen["timeline"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(follow["kind"], "follow_up");
        assert_eq!(follow["role"], "resident");

        // Public pages (Open311) and staff pages never carry the phone, masked or not.
        for uri in [
            format!("/open311/v2/requests/{first}.json?extensions=true"),
            "/open311/v2/requests.json?extensions=true".to_string(),
        ] {
            let r = common::get(&app, &uri).await;
            assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.body);
            assert!(!r.body.contains(PHONE) && !r.body.contains(MASKED), "{uri}: {}", r.body);
        }
        let staff = common::sign_in(&app, &db.db, "clerk").await;
        let r = common::page(&app, &staff, &format!("/cases/{id}")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(!r.body.contains(PHONE) && !r.body.contains(MASKED));

        // The database holds no phone number in clear: only its keyed hash and its mask.
        let hashes = texts(&db.db, "SELECT phone_hash FROM residents ORDER BY id").await;
        assert_eq!(hashes.len(), 2);
        let masks = texts(&db.db, "SELECT phone_masked FROM residents ORDER BY id").await;
        assert_eq!(masks, vec![MASKED.to_string(), "139****2222".to_string()]);
        for (table, columns) in [
            ("residents", "phone_hash || phone_masked"),
            ("resident_codes", "phone_hash || code_hash"),
            ("resident_sessions", "secret_hash || csrf_token"),
            ("cases", "description || reporter || flow || channel"),
            ("case_events", "account || body"),
            ("audit_entries", "actor || subject_id || detail"),
            ("attachments", "created_by"),
        ] {
            for text in texts(&db.db, &format!("SELECT {columns} FROM {table}")).await {
                for phone in [PHONE, OTHER_PHONE] {
                    assert!(!text.contains(phone), "{name}: {table} holds {phone}: {text}");
                }
            }
        }
    }
}

async fn upload(app: &axum::Router, token: &str) -> String {
    let r = common::upload_photo(app, token, &jpeg()).await;
    assert!(r.status.is_success(), "upload: {}", r.body);
    r.json()["id"].to_string()
}

#[tokio::test]
async fn an_expired_code_is_refused_naming_the_field() {
    for (db, state) in demo_apps().await {
        let sms = Arc::new(MemoryGateway::default());
        let mut security = state.security.clone();
        security.resident_code_minutes = 0;
        let state = state.with_security(security);
        let app = app_of(state, sms.clone());
        let (cookie, sent) = ask_code(&app, PHONE, "/m/reports").await;
        assert_eq!(sent.status, StatusCode::OK, "{}: {}", db.backend_name(), sent.body);
        let code = sms.last_code(PHONE).unwrap();
        let r = enter_code(&app, &cookie, &sent, PHONE, &code, "/m/reports").await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(
            r.body.contains("data-field=\"code\"") && r.body.contains("验证码 code 已过期"),
            "{}",
            r.body
        );
        let r = enter_code(&app, &cookie, &sent, PHONE, "12a456", "/m/reports").await;
        assert!(r.body.contains("验证码 code 应为6位数字"), "{}", r.body);
        assert!(set_cookie(&r, "gz_resident").is_none());
        // Nothing in clear there either.
        let rows = texts(&db.db, "SELECT phone_hash || code_hash FROM resident_codes").await;
        assert_eq!(rows.len(), 1);
        assert!(!rows[0].contains(PHONE) && !rows[0].contains(&code));
    }
}

#[tokio::test]
async fn without_an_sms_gateway_residents_cannot_sign_in() {
    for (db, state) in demo_apps().await {
        // No `with_sms`: the server's default sends nothing.
        let blobs = gongzhi_store::Blobs::in_data_dir(&TestDb::temp_dir());
        let app = gongzhi_web::router(
            state
                .with_audit_key(audit_key())
                .with_attachments(blobs, AttachmentLimits::default()),
        );
        let (_, sent) = ask_code(&app, PHONE, "/m/reports").await;
        assert_eq!(
            sent.status,
            StatusCode::BAD_GATEWAY,
            "{}: {}",
            db.backend_name(),
            sent.body
        );
        assert!(sent.body.contains("data-field=\"phone\"") && !sent.body.contains("id=\"code\""));
    }
}
