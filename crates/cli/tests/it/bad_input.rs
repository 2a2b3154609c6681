//! Bad input, replayed as the outside test sent it, on SQLite and PostgreSQL: a NUL or a
//! right-to-left override in any text (a case description, a registry name, a JSON field, a form
//! field) is a 400 naming the field and changes nothing, where PostgreSQL answered 500; an
//! Idempotency-Key reused for another report is a 422, not the first case; a body over the limit
//! answers 413 in the catalogue's words (JSON for the API, a page for pages); a JSON route given
//! another content type answers 415; a field of the wrong kind is named with the kind expected,
//! never with the parser's words.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use gongzhi_core::people::cipher::{CipherProvider, SoftwareCipher};
use gongzhi_demo::registry::DemoRegistryOptions;
use serde_json::{Value, json};

use crate::common;
use crate::common::{Reply, demo_apps, get_as, input_value, page, post_as, send, sign_in, submit, token};

const GRID: &str = "230903011001001";
const MATTER: &str = "06001";
const STREET: &str = "230903011";
const COMMUNITY: &str = "230903011001";

fn report(description: &str) -> Value {
    json!({"channel": "hotline", "matter": MATTER, "description": description, "grid_code": GRID})
}

/// A request with a body of `content_type` (none when empty) and a bearer token.
async fn send_body(app: &Router, method: Method, uri: &str, token: &str, content_type: &str, body: Vec<u8>) -> Reply {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    if !content_type.is_empty() {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    send(app, request.body(Body::from(body)).unwrap()).await
}

async fn cases_total(app: &Router, token: &str) -> i64 {
    get_as(app, "/api/v1/cases", token).await.json()["total"]
        .as_i64()
        .unwrap()
}

fn assert_invalid_text(r: &Reply, field: &str, context: &str) {
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{context}: {}", r.body);
    assert_eq!(r.json()["error"]["code"], "invalid_text", "{context}: {}", r.body);
    assert_eq!(r.json()["error"]["field"], field, "{context}: {}", r.body);
}

#[tokio::test]
async fn a_nul_or_a_direction_override_in_a_case_or_a_json_field_is_refused_naming_the_field() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let app = gongzhi_web::router(state);
        let clerk = token(&app, &db, "clerk").await;
        for bad in [
            "路灯\u{0}不亮",
            "彩钢房\u{202E}gnp.exe",
            "\u{1b}[2J清屏",
            "隔离\u{2066}符",
        ] {
            let r = post_as(&app, "/api/v1/cases", &clerk, &report(bad)).await;
            assert_invalid_text(&r, "description", &format!("{name} {bad:?}"));
            assert!(
                r.json()["error"]["message"].as_str().unwrap().contains("不允许的字符"),
                "{name}"
            );
        }
        assert_eq!(cases_total(&app, &clerk).await, 0, "{name}: nothing stored");
        // A free text keeps its line breaks and tabs.
        let r = post_as(&app, "/api/v1/cases", &clerk, &report("第一行\r\n第二行\t缩进")).await;
        assert_eq!(r.status, StatusCode::CREATED, "{name}: {}", r.body);

        // A JSON field that reaches a query: the user name of the token endpoint.
        let body = json!({"username": "dispatcher\u{0}", "password": "demo"}).to_string();
        let r = send_body(
            &app,
            Method::POST,
            "/api/v1/auth/token",
            "",
            "application/json",
            body.into_bytes(),
        )
        .await;
        assert_invalid_text(&r, "username", name);
        let request = Request::post("/api/v1/auth/token")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT_LANGUAGE, "en")
            .body(Body::from(
                json!({"username": "a\u{202D}b", "password": "x"}).to_string(),
            ))
            .unwrap();
        let r = send(&app, request).await;
        assert_invalid_text(&r, "username", name);
        assert!(
            r.json()["error"]["message"].as_str().unwrap().contains("U+202D"),
            "{name}: {}",
            r.body
        );
    }
}

#[tokio::test]
async fn a_nul_in_a_form_field_is_refused_on_the_page_naming_the_field() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let app = gongzhi_web::router(state);
        gongzhi_demo::ensure_demo_accounts(&db, "demo", &gongzhi_store::testing::audit_key())
            .await
            .unwrap();
        // The sign-in form, as a browser sends it.
        let r = common::sign_in_with(&app, "dispatcher\u{0}", "demo")
            .await
            .err()
            .expect("no session");
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{name}: {}", r.body);
        assert!(
            r.body.contains("字段 username 含有不允许的字符 U+0000"),
            "{name}: {}",
            r.body
        );
        assert!(r.body.contains("id=\"error-field\""), "{name}: {}", r.body);

        // A case reported on the staff page with a NUL in its description.
        let clerk = sign_in(&app, &db, "clerk").await;
        let form = page(&app, &clerk, "/cases/new").await;
        let key = input_value(&form.body, "idempotency_key").unwrap();
        let r = submit(
            &app,
            &clerk,
            "/cases/new",
            &[
                ("idempotency_key", &key),
                ("channel", "hotline"),
                ("matter", MATTER),
                ("description", "井盖\u{0}丢失"),
                ("grid_code", GRID),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{name}: {}", r.body);
        assert!(r.body.contains("description"), "{name}: {}", r.body);
        let t = token(&app, &db, "clerk").await;
        assert_eq!(cases_total(&app, &t).await, 0, "{name}: nothing stored");
    }
}

#[tokio::test]
async fn a_nul_or_an_override_in_a_registry_name_is_refused_and_changes_nothing() {
    let cipher: Arc<dyn CipherProvider> = Arc::new(SoftwareCipher::new(&[5u8; 32]));
    let opts = DemoRegistryOptions {
        seed: 11,
        scale: 0.01,
        within: Some(STREET.into()),
    };
    for (db, app) in common::registry_apps(cipher, opts).await {
        let name = db.backend_name();
        let t = token(&app, &db, "community").await;
        let org = db
            .member_organizations_within(STREET)
            .await
            .unwrap()
            .into_iter()
            .find(|m| m.community_code.as_deref() == Some(COMMUNITY))
            .expect("a member organization of the community");
        let uri = format!("/api/v1/registry/member-orgs/{}", org.id);
        for bad in ["物业\u{0}公司", "\u{202E}司公业物", "物业\u{2067}公司"] {
            let body = json!({"fields": {"name": bad}}).to_string().into_bytes();
            let r = send_body(&app, Method::PATCH, &uri, &t, "application/json", body).await;
            assert_invalid_text(&r, "name", &format!("{name} {bad:?}"));
        }
        let after = db.member_organizations_within(STREET).await.unwrap();
        let after = after.iter().find(|m| m.id == org.id).unwrap();
        assert_eq!(after.name, org.name, "{name}: unchanged");

        // A compound's name on its page.
        let community = sign_in(&app, &db, "community").await;
        let compound = db
            .compounds_within(COMMUNITY)
            .await
            .unwrap()
            .into_iter()
            .next()
            .unwrap();
        let edit = format!("/registry/compounds/{}/edit", compound.id);
        let form = page(&app, &community, &edit).await;
        let revision = input_value(&form.body, "revision").unwrap();
        let r = submit(
            &app,
            &community,
            &edit,
            &[("revision", &revision), ("name", "小区\u{0}名")],
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{name}: {}", r.body);
        assert!(r.body.contains("字段 name 含有不允许的字符"), "{name}: {}", r.body);
        assert_eq!(
            db.compound(compound.id).await.unwrap().unwrap().name,
            compound.name,
            "{name}"
        );

        // A path segment of the wrong kind is the catalogue's error, not the router's English.
        let r = send_body(
            &app,
            Method::PATCH,
            "/api/v1/registry/member-orgs/abc",
            &t,
            "application/json",
            b"{}".to_vec(),
        )
        .await;
        assert!(r.status.is_client_error(), "{name}: {}", r.body);
        assert!(r.json()["error"]["code"].is_string(), "{name}: {}", r.body);
        assert!(!r.body.contains("Cannot parse"), "{name}: {}", r.body);
    }
}

#[tokio::test]
async fn an_idempotency_key_reused_for_another_report_is_refused_and_a_retry_still_replays() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let app = gongzhi_web::router(state);
        let clerk = token(&app, &db, "clerk").await;
        let send_keyed = |body: Value| {
            Request::post("/api/v1/cases")
                .header(header::AUTHORIZATION, format!("Bearer {clerk}"))
                .header(header::CONTENT_TYPE, "application/json")
                .header("Idempotency-Key", "call-0042")
                .body(Body::from(body.to_string()))
                .unwrap()
        };
        let first = send(&app, send_keyed(report("学府小区3号楼旁违法搭建"))).await;
        assert_eq!(first.status, StatusCode::CREATED, "{name}: {}", first.body);
        let retry = send(&app, send_keyed(report("学府小区3号楼旁违法搭建"))).await;
        assert_eq!(retry.status, StatusCode::CREATED, "{name}: {}", retry.body);
        assert_eq!(retry.headers["idempotency-replayed"], "true");
        assert_eq!(retry.json()["id"], first.json()["id"], "{name}");
        let other = send(&app, send_keyed(report("另一处：井盖丢失"))).await;
        assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", other.body);
        assert_eq!(other.json()["error"]["code"], "idempotency_key_reused", "{name}");
        assert_eq!(other.json()["error"]["field"], "Idempotency-Key", "{name}");
        assert!(
            other.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains("已用于另一份上报"),
            "{name}: {}",
            other.body
        );
        assert_eq!(cases_total(&app, &clerk).await, 1, "{name}: one case");
    }
}

#[tokio::test]
async fn a_body_over_the_limit_answers_413_as_json_for_the_api_and_as_a_page_for_pages() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let app = gongzhi_web::router(state);
        let clerk = token(&app, &db, "clerk").await;
        let huge = report(&"违".repeat(1_200_000)).to_string().into_bytes();
        let r = send_body(&app, Method::POST, "/api/v1/cases", &clerk, "application/json", huge).await;
        assert_eq!(
            r.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{name}: {}",
            &r.body[..r.body.len().min(200)]
        );
        assert_eq!(r.json()["error"]["code"], "too_large", "{name}: {}", r.body);
        assert!(
            r.headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{name}"
        );
        // The sign-in form, 3 MB of it, as a browser sends it.
        let body = format!("username={}&password=x", "a".repeat(3 << 20));
        let request = Request::post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "text/html")
            .body(Body::from(body))
            .unwrap();
        let r = send(&app, request).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{name}");
        assert!(r.body.contains("<!doctype html>"), "{name}: {}", r.body);
        assert!(r.body.contains("请求内容超过服务器允许的大小"), "{name}: {}", r.body);
    }
}

#[tokio::test]
async fn a_json_route_refuses_a_body_of_another_content_type() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let app = gongzhi_web::router(state);
        let clerk = token(&app, &db, "clerk").await;
        let body = report("学府小区3号楼旁违法搭建").to_string().into_bytes();
        for content_type in [
            "",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
        ] {
            let r = send_body(&app, Method::POST, "/api/v1/cases", &clerk, content_type, body.clone()).await;
            assert_eq!(
                r.status,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{name} {content_type:?}: {}",
                r.body
            );
            assert_eq!(r.json()["error"]["code"], "not_json", "{name}");
            assert_eq!(r.json()["error"]["field"], "Content-Type", "{name}");
        }
        let r = send_body(
            &app,
            Method::POST,
            "/api/v1/auth/token",
            "",
            "text/plain",
            br#"{"username":"clerk","password":"demo"}"#.to_vec(),
        )
        .await;
        assert_eq!(r.json()["error"]["code"], "not_json", "{name}: {}", r.body);
        assert_eq!(cases_total(&app, &clerk).await, 0, "{name}: nothing stored");
        let r = send_body(
            &app,
            Method::POST,
            "/api/v1/cases",
            &clerk,
            "application/json; charset=utf-8",
            body,
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{name}: {}", r.body);
    }
}

#[tokio::test]
async fn a_field_of_the_wrong_kind_is_named_with_the_kind_expected_not_the_parsers_words() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let app = gongzhi_web::router(state);
        for (lang, expected) in [("zh", "字段 username 应为文本"), ("en", "field username must be text")] {
            let request = Request::post("/api/v1/auth/token")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::ACCEPT_LANGUAGE, lang)
                .body(Body::from(r#"{"username": 5, "password": "x"}"#))
                .unwrap();
            let r = send(&app, request).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", r.body);
            assert_eq!(r.json()["error"]["field"], "username", "{name}");
            let message = r.json()["error"]["message"].as_str().unwrap().to_string();
            assert_eq!(message, expected, "{name}");
        }
    }
}
