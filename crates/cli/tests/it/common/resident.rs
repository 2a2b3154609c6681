//! A resident's phone over HTTP: the app with a test SMS gateway, forms and pages sent with the
//! resident's cookie, and signing in with the code the gateway captured.
#![allow(dead_code)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gongzhi_app::people::sms::MemoryGateway;
use gongzhi_core::cases::attachment::AttachmentLimits;
use gongzhi_store::Db;
use gongzhi_store::testing::{TestDb, audit_key};

use super::{Reply, browse, input_value, send, set_cookie};

/// The application with attachments and a gateway that keeps the codes it sends.
pub fn app_of(state: gongzhi_web::AppState, sms: Arc<MemoryGateway>) -> axum::Router {
    let blobs = gongzhi_store::Blobs::in_data_dir(&TestDb::temp_dir());
    gongzhi_web::router(
        state
            .with_audit_key(audit_key())
            .with_attachments(blobs, AttachmentLimits::default())
            .with_sms(sms),
    )
}

/// A resident's browser: the session cookie and the CSRF token of its forms.
pub struct Phone {
    pub cookie: String,
    pub csrf: String,
}

pub async fn post_form(app: &axum::Router, uri: &str, cookie: &str, fields: &[(&str, &str)]) -> Reply {
    send(
        app,
        Request::post(uri)
            .header(header::ACCEPT, "text/html")
            .header(header::COOKIE, cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(serde_urlencoded::to_string(fields).unwrap()))
            .unwrap(),
    )
    .await
}

pub async fn get_page(app: &axum::Router, uri: &str, cookie: &str) -> Reply {
    send(
        app,
        Request::get(uri)
            .header(header::ACCEPT, "text/html")
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

/// Asks for a code: the sign-in form's cookie (double-submit token) and the code's page.
pub async fn ask_code(app: &axum::Router, phone: &str, next: &str) -> (String, Reply) {
    let form = browse(app, "/m/login").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let planted = set_cookie(&form, "gz_resident_form").expect("the form plants its token");
    let token = input_value(&form.body, "form_token").unwrap();
    let cookie = format!("gz_resident_form={planted}");
    let sent = post_form(
        app,
        "/m/login/code",
        &cookie,
        &[("phone", phone), ("form_token", &token), ("next", next)],
    )
    .await;
    (cookie, sent)
}

/// Sends the code on the code's page.
pub async fn enter_code(app: &axum::Router, cookie: &str, page: &Reply, phone: &str, code: &str, next: &str) -> Reply {
    let token = input_value(&page.body, "form_token").unwrap();
    let planted = set_cookie(page, "gz_resident_form")
        .unwrap_or_else(|| cookie.trim_start_matches("gz_resident_form=").to_string());
    post_form(
        app,
        "/m/login",
        &format!("gz_resident_form={planted}"),
        &[("phone", phone), ("code", code), ("form_token", &token), ("next", next)],
    )
    .await
}

/// Signs a resident in with the code the gateway captured; returns the session cookie.
pub async fn session_of(app: &axum::Router, sms: &MemoryGateway, phone: &str, next: &str) -> String {
    let (cookie, sent) = ask_code(app, phone, next).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    let code = sms.last_code(phone).expect("the gateway got a code");
    let signed = enter_code(app, &cookie, &sent, phone, &code, next).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    format!(
        "gz_resident={}",
        set_cookie(&signed, "gz_resident").expect("a resident session")
    )
}

/// Signs a resident in with the code the test SMS gateway captured.
pub async fn resident_sign_in(app: &axum::Router, sms: &MemoryGateway, phone: &str) -> Phone {
    let cookie = session_of(app, sms, phone, "/m/").await;
    // `/m/` asks a resident without a community to pick one.
    let start = get_page(app, "/m/", &cookie).await;
    assert_eq!(start.status, StatusCode::SEE_OTHER);
    assert_eq!(start.headers[header::LOCATION], "/m/community");
    let picker = get_page(app, "/m/community", &cookie).await;
    assert_eq!(picker.status, StatusCode::OK, "{}", picker.body);
    let csrf = input_value(&picker.body, "csrf").unwrap();
    Phone { cookie, csrf }
}

/// One text column of every row a query gives.
pub async fn texts(db: &Db, sql: &str) -> Vec<String> {
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    match db {
        Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_all(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sql).fetch_all(p).await.unwrap(),
    }
}

/// Whether the audit chain holds.
pub async fn audit_ok(db: &Db) -> bool {
    gongzhi_store::audit::verify(db, &audit_key())
        .await
        .unwrap()
        .is_intact()
}

/// A resident signed in who picked `community`.
pub async fn resident_in(app: &axum::Router, sms: &MemoryGateway, phone: &str, community: &str) -> Phone {
    let me = resident_sign_in(app, sms, phone).await;
    let r = post_form(
        app,
        "/m/community",
        &me.cookie,
        &[("csrf", &me.csrf), ("community", community)],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    me
}
