//! Shared by the integration tests: the demo city on each database, and HTTP requests to the
//! application as a browser or an API client would send them.
#![allow(dead_code)]

pub mod browser;
pub mod resident;

use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gongzhi_core::audit::SYSTEM_ACTOR;
use gongzhi_core::territory::Node;
use gongzhi_demo::grids::{GridSystem, build};
use gongzhi_store::testing::{TestDb, audit_key};
use gongzhi_web::AppState;
use http_body_util::BodyExt;
use tower::ServiceExt;

/// The demo city's nodes, built once per test binary.
pub fn demo_nodes() -> &'static [Node] {
    static NODES: OnceLock<Vec<Node>> = OnceLock::new();
    NODES.get_or_init(|| build(&GridSystem::builtin().unwrap()).unwrap())
}

/// A WGS-84 point inside a demo node (a grid, a community …) by its code.
pub fn point_in(code: &str) -> (f64, f64) {
    use geo::InteriorPoint;
    let node = demo_nodes()
        .iter()
        .find(|n| n.code.to_string() == code)
        .unwrap_or_else(|| panic!("no demo node {code}"));
    let p = node.boundary.as_ref().unwrap().interior_point().unwrap();
    (p.x(), p.y())
}

/// Each test database with the demo city in it, and an application on it.
pub async fn demo_apps() -> Vec<(TestDb, AppState)> {
    let mut apps = Vec::new();
    for db in TestDb::all().await {
        db.insert_nodes(demo_nodes(), chrono::Utc::now(), &audit_key(), SYSTEM_ACTOR)
            .await
            .unwrap();
        let state = AppState::new(db.db.clone()).await.unwrap().with_audit_key(audit_key());
        apps.push((db, state));
    }
    apps
}

/// [`demo_apps`] as routers under the security `policy` as `policy` changes it.
pub async fn demo_apps_with(
    policy: impl Fn(&mut gongzhi_core::people::policy::SecurityPolicy),
) -> Vec<(TestDb, Router)> {
    let mut out = Vec::new();
    for (db, state) in demo_apps().await {
        let mut security = state.security.clone();
        policy(&mut security);
        out.push((db, gongzhi_web::router(state.with_security(security))));
    }
    out
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    /// The body as text (lossy for binary bodies, which `bytes` holds exactly).
    pub body: String,
    pub bytes: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// The demo apps with a share of the demo registry of one subtree loaded and sealed with
/// `cipher` (as `gongzhi demo --demo-registry-scale … --demo-registry-within …` would load it).
pub async fn registry_apps(
    cipher: std::sync::Arc<dyn gongzhi_core::people::cipher::CipherProvider>,
    opts: gongzhi_demo::registry::DemoRegistryOptions,
) -> Vec<(TestDb, Router)> {
    let mut out = Vec::new();
    for (db, state) in demo_apps().await {
        let loaded = gongzhi_demo::registry::load(
            &db,
            cipher.as_ref(),
            &audit_key(),
            demo_nodes(),
            opts.clone(),
            std::time::Duration::ZERO,
        )
        .await
        .unwrap();
        assert!(loaded.residents > 50, "{loaded:?}");
        out.push((db, gongzhi_web::router(state.with_cipher(cipher.clone()))));
    }
    out
}

pub async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        bytes: bytes.to_vec(),
    }
}

/// A GET as an API client sends it.
pub async fn get(app: &Router, uri: &str) -> Reply {
    send(app, Request::get(uri).body(Body::empty()).unwrap()).await
}

/// A GET as a browser sends it (asking for HTML, in English by its own settings).
pub async fn browse(app: &Router, uri: &str) -> Reply {
    let request = Request::get(uri)
        .header(header::ACCEPT, "text/html,application/xhtml+xml")
        .header(header::ACCEPT_LANGUAGE, "en-US,en;q=0.9")
        .body(Body::empty())
        .unwrap();
    send(app, request).await
}

/// Signs `username` in (creating the demo accounts, password `demo`, if needed) and returns a
/// bearer token.
pub async fn token(app: &Router, db: &gongzhi_store::Db, username: &str) -> String {
    gongzhi_demo::ensure_demo_accounts(db, "demo", &gongzhi_store::testing::audit_key())
        .await
        .unwrap();
    let body = format!(r#"{{"username":"{username}","password":"demo"}}"#);
    let r = send(
        app,
        Request::post("/api/v1/auth/token")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "sign-in of {username}: {}", r.body);
    r.json()["token"].as_str().unwrap().to_string()
}

/// A GET with a bearer token.
pub async fn get_as(app: &Router, uri: &str, token: &str) -> Reply {
    let request = Request::get(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    send(app, request).await
}

/// A POST of JSON with a bearer token.
pub async fn post_as(app: &Router, uri: &str, token: &str, json: &serde_json::Value) -> Reply {
    let request = Request::post(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json.to_string()))
        .unwrap();
    send(app, request).await
}

/// Uploads a photo to `POST /api/v1/attachments` with a bearer token, as a client does.
pub async fn upload_photo(app: &Router, token: &str, bytes: &[u8]) -> Reply {
    let mut body = b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"photo.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n".to_vec();
    body.extend(bytes);
    body.extend(b"\r\n--XyZ--\r\n");
    let request = Request::post("/api/v1/attachments")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=XyZ")
        .body(Body::from(body))
        .unwrap();
    send(app, request).await
}

/// A person signed in to the pages: the session cookie and the CSRF token its forms carry.
#[derive(Clone)]
pub struct PageSession {
    pub cookie: String,
    pub csrf: String,
}

/// The value a page's `name="…" value="…"` input holds.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &html[at + name.len() + 15..];
    Some(rest[..rest.find('"')?].to_string())
}

/// The value of a cookie a reply sets.
pub fn set_cookie(reply: &Reply, name: &str) -> Option<String> {
    reply
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            v.strip_prefix(&format!("{name}="))?
                .split(';')
                .next()
                .map(str::to_string)
        })
}

/// Signs `username` in through the sign-in form, as a browser does, with `password`.
pub async fn sign_in_with(app: &Router, username: &str, password: &str) -> Result<PageSession, Reply> {
    sign_in_from(app, None, username, password).await
}

/// As [`sign_in_with`], the form sent from the network address `from` (the server's peer, as
/// `gongzhi serve` sees it) when given.
pub async fn sign_in_from(
    app: &Router,
    from: Option<std::net::SocketAddr>,
    username: &str,
    password: &str,
) -> Result<PageSession, Reply> {
    let form = browse(app, "/login").await;
    let planted = set_cookie(&form, "gz_signin").expect("the sign-in form plants its token");
    let token = input_value(&form.body, "form_token").expect("the sign-in form carries its token");
    let body = serde_urlencoded::to_string([
        ("username", username),
        ("password", password),
        ("form_token", &token),
        ("next", "/"),
    ])
    .unwrap();
    let mut request = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "text/html")
        .header(header::COOKIE, format!("gz_signin={planted}"));
    if let Some(addr) = from {
        request = request.extension(axum::extract::ConnectInfo(addr));
    }
    let reply = send(app, request.body(Body::from(body)).unwrap()).await;
    let Some(cookie) = set_cookie(&reply, "gz_session").filter(|c| !c.is_empty()) else {
        return Err(reply);
    };
    let mut session = PageSession {
        cookie: format!("gz_session={cookie}"),
        csrf: String::new(),
    };
    let page = page(app, &session, "/account/password").await;
    if page.status != StatusCode::OK {
        return Err(page);
    }
    session.csrf = input_value(&page.body, "csrf").expect("a signed-in page carries the CSRF token");
    Ok(session)
}

/// Signs a demo account in to the pages (creating the demo accounts, password `demo`, if needed).
pub async fn sign_in(app: &Router, db: &gongzhi_store::Db, username: &str) -> PageSession {
    gongzhi_demo::ensure_demo_accounts(db, "demo", &gongzhi_store::testing::audit_key())
        .await
        .unwrap();
    match sign_in_with(app, username, "demo").await {
        Ok(s) => s,
        Err(reply) => panic!("sign-in of {username}: {} {}", reply.status, reply.body),
    }
}

/// A page as the signed-in person's browser asks for it (Chinese unless `?lang=en`).
pub async fn page(app: &Router, session: &PageSession, uri: &str) -> Reply {
    let request = Request::get(uri)
        .header(header::ACCEPT, "text/html")
        .header(header::COOKIE, &session.cookie)
        .body(Body::empty())
        .unwrap();
    send(app, request).await
}

/// Submits a multipart form of a page (the session's CSRF token added) with `fields` and one
/// file in the field `file`.
pub async fn upload_form(
    app: &Router,
    session: &PageSession,
    uri: &str,
    fields: &[(&str, &str)],
    file_name: &str,
    bytes: &[u8],
) -> Reply {
    let mut body = Vec::new();
    let mut all = vec![("csrf", session.csrf.as_str())];
    all.extend_from_slice(fields);
    for (k, v) in all {
        body.extend(format!("--XyZ\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes());
    }
    body.extend(
        format!("--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
    );
    body.extend(bytes);
    body.extend(b"\r\n--XyZ--\r\n");
    let request = Request::post(uri)
        .header(header::ACCEPT, "text/html")
        .header(header::COOKIE, &session.cookie)
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=XyZ")
        .body(Body::from(body))
        .unwrap();
    send(app, request).await
}

/// Submits a form of a page, with the session's CSRF token added.
pub async fn submit(app: &Router, session: &PageSession, uri: &str, fields: &[(&str, &str)]) -> Reply {
    let mut all: Vec<(&str, &str)> = vec![("csrf", &session.csrf)];
    all.extend_from_slice(fields);
    let request = Request::post(uri)
        .header(header::ACCEPT, "text/html")
        .header(header::COOKIE, &session.cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(serde_urlencoded::to_string(&all).unwrap()))
        .unwrap();
    send(app, request).await
}
