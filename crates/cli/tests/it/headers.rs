//! The headers every answer carries (issue 14): a Content-Security-Policy without inline script
//! and with `frame-ancestors 'none'`, `X-Frame-Options`, `nosniff`, `Referrer-Policy`, and
//! `Cache-Control: no-store` on pages, API answers, photos and exports with personal data; the
//! pages' scripts served by the binary; session cookies `Secure` when the server's public address
//! is https. On both databases.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gongzhi_core::cases::attachment::AttachmentLimits;
use gongzhi_store::Blobs;
use gongzhi_store::testing::TestDb;

use crate::common::{Reply, browse, demo_apps, get, get_as, page, send, sign_in, token, upload_photo};
use crate::registry_export::cipher;

const PNG: &[u8] = include_bytes!("../../../core/tests/fixtures/small.png");

fn header<'a>(r: &'a Reply, name: &header::HeaderName) -> &'a str {
    r.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// The headers every answer must carry, whatever it is.
fn assert_guarded(what: &str, r: &Reply) {
    let csp = header(r, &header::CONTENT_SECURITY_POLICY);
    let script_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src"))
        .unwrap_or_else(|| panic!("{what}: no script-src in {csp:?}"));
    assert_eq!(script_src, "script-src 'self'", "{what}: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(
        csp.contains("object-src 'none'") && csp.contains("base-uri 'none'"),
        "{what}: {csp}"
    );
    assert_eq!(header(r, &header::X_FRAME_OPTIONS), "DENY", "{what}");
    assert_eq!(header(r, &header::X_CONTENT_TYPE_OPTIONS), "nosniff", "{what}");
    assert_eq!(header(r, &header::REFERRER_POLICY), "no-referrer", "{what}");
}

/// A page, an API answer, a photo, an export: guarded and never stored.
fn assert_not_stored(what: &str, r: &Reply) {
    assert_guarded(what, r);
    assert_eq!(header(r, &header::CACHE_CONTROL), "no-store", "{what}");
}

/// An HTML page has no inline script: each `<script` loads a file of this server.
fn assert_no_inline_script(what: &str, html: &str) {
    for (i, _) in html.match_indices("<script") {
        let tag = &html[i..i + html[i..].find('>').unwrap()];
        assert!(tag.contains(" src=\"/static/"), "{what}: an inline script: {tag}");
    }
    assert!(!html.contains(" onclick=") && !html.contains("javascript:"), "{what}");
}

async fn app_with_everything(state: gongzhi_web::AppState) -> (Router, std::path::PathBuf) {
    let dir = TestDb::temp_dir();
    let app = gongzhi_web::router(
        state
            .with_cipher(cipher())
            .with_attachments(Blobs::in_data_dir(&dir), AttachmentLimits::default()),
    );
    (app, dir)
}

#[tokio::test]
async fn every_kind_of_answer_carries_the_security_headers_and_personal_data_is_never_stored() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let (app, dir) = app_with_everything(state).await;

        // Anonymous: the sign-in pages, an error, Open311, the health check.
        for uri in ["/login", "/m/login", "/no-such-page", "/healthz"] {
            let r = browse(&app, uri).await;
            assert_not_stored(&format!("{name} {uri}"), &r);
            assert_no_inline_script(&format!("{name} {uri}"), &r.body);
        }
        let r = get(&app, "/open311/v2/requests.json").await;
        assert_not_stored(&format!("{name} open311"), &r);
        let r = get(&app, "/api/v1/cases").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{name}");
        assert_not_stored(&format!("{name} 401"), &r);

        // Staff pages with their maps, forms and lists (personal data): every one.
        let staff = sign_in(&app, &db.db, "community").await;
        for uri in [
            "/territory",
            "/territory/230903011001",
            "/cases",
            "/cases/new",
            "/inbox",
            "/registry",
            "/registry/import",
            "/account/password",
        ] {
            let r = page(&app, &staff, uri).await;
            assert_eq!(r.status, StatusCode::OK, "{name} {uri}: {}", r.body);
            assert_not_stored(&format!("{name} {uri}"), &r);
            assert_no_inline_script(&format!("{name} {uri}"), &r.body);
        }
        // The registry's export (a file with personal data).
        let r = page(&app, &staff, "/registry/export/residents.csv").await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        assert_not_stored(&format!("{name} export"), &r);

        // API answers and a photo.
        let bearer = token(&app, &db.db, "community").await;
        let r = get_as(&app, "/api/v1/cases", &bearer).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        assert_not_stored(&format!("{name} api"), &r);
        let up = upload_photo(&app, &bearer, PNG).await;
        assert_eq!(up.status, StatusCode::CREATED, "{name}: {}", up.body);
        assert_not_stored(&format!("{name} upload"), &up);
        let id = up.json()["id"].as_i64().unwrap();
        let photo = get_as(&app, &format!("/api/v1/attachments/{id}"), &bearer).await;
        assert_eq!(photo.status, StatusCode::OK, "{name}");
        assert_not_stored(&format!("{name} photo"), &photo);

        // The pages' scripts: from this server, guarded too; kept but asked for again by ETag.
        for file in ["nav.js", "zoom.js", "case-new.js", "locate.js"] {
            let r = get(&app, &format!("/static/{file}")).await;
            assert_eq!(r.status, StatusCode::OK, "{name} {file}");
            assert_guarded(&format!("{name} {file}"), &r);
            assert!(
                header(&r, &header::CONTENT_TYPE).starts_with("text/javascript"),
                "{name} {file}"
            );
            assert_eq!(header(&r, &header::CACHE_CONTROL), "no-cache", "{name} {file}");
            let etag = header(&r, &header::ETAG).to_string();
            let again = send(
                &app,
                Request::get(format!("/static/{file}"))
                    .header(header::IF_NONE_MATCH, &etag)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
            assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{name} {file}");
        }
        assert_eq!(
            get(&app, "/static/nope.js").await.status,
            StatusCode::NOT_FOUND,
            "{name}"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Every `Set-Cookie` of a reply.
fn cookies(r: &Reply) -> Vec<String> {
    r.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

fn secure(cookie: &str) -> bool {
    cookie.split(';').any(|a| a.trim() == "Secure")
}

#[tokio::test]
async fn session_cookies_are_secure_when_the_public_address_is_https_and_only_then() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        // The default (`http://` and the listen address), a LAN address, https.
        for (public_url, expected) in [
            (None, false),
            (Some("http://192.168.1.20:8080"), false),
            (Some("https://gongzhi.qth.gov.cn/"), true),
            (Some("HTTPS://gongzhi.qth.gov.cn"), true),
        ] {
            let what = format!("{name} {public_url:?}");
            let state = match public_url {
                Some(url) => state.clone().with_public_url(url),
                None => state.clone(),
            };
            let app = gongzhi_web::router(state);
            // The staff sign-in form's cookie, the session cookie, the language cookie, and the
            // residents' sign-in form's cookie.
            let form = browse(&app, "/login?lang=zh").await;
            let session = sign_in(&app, &db.db, "community").await;
            let login = send(
                &app,
                Request::post("/logout")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .header(header::ACCEPT, "text/html")
                    .header(header::COOKIE, &session.cookie)
                    .body(Body::from(format!("csrf={}", session.csrf)))
                    .unwrap(),
            )
            .await;
            let resident = browse(&app, "/m/login").await;
            let all: Vec<String> = [&form, &login, &resident].into_iter().flat_map(cookies).collect();
            for prefix in ["gz_signin=", "gz_session=", "lang=", "gz_resident_form="] {
                assert!(
                    all.iter().any(|c| c.starts_with(prefix)),
                    "{what}: no {prefix} in {all:?}"
                );
            }
            assert!(all.len() >= 4, "{what}: {all:?}");
            for cookie in &all {
                assert_eq!(secure(cookie), expected, "{what}: {cookie}");
                assert!(
                    cookie.contains("HttpOnly") || cookie.starts_with("lang="),
                    "{what}: {cookie}"
                );
            }
        }
        // The session cookie itself, as sign-in sets it over https.
        let app = gongzhi_web::router(state.with_public_url("https://gongzhi.qth.gov.cn"));
        let form = browse(&app, "/login").await;
        let planted = crate::common::set_cookie(&form, "gz_signin").unwrap();
        let token = crate::common::input_value(&form.body, "form_token").unwrap();
        let body = serde_urlencoded::to_string([
            ("username", "community"),
            ("password", "demo"),
            ("form_token", token.as_str()),
            ("next", "/"),
        ])
        .unwrap();
        let r = send(
            &app,
            Request::post("/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT, "text/html")
                .header(header::COOKIE, format!("gz_signin={planted}"))
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
        let session: Vec<String> = cookies(&r)
            .into_iter()
            .filter(|c| c.starts_with("gz_session="))
            .collect();
        assert_eq!(session.len(), 1, "{name}: {:?}", cookies(&r));
        assert!(
            secure(&session[0]) && session[0].contains("HttpOnly"),
            "{name}: {}",
            session[0]
        );
    }
}
