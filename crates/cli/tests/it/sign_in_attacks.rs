//! Sign-in under attack (issue 14), replayed as the outside test did it, on SQLite and
//! PostgreSQL: the API's token endpoint follows the pages' lockout, throttle and audit; a lockout
//! holds one source address only, so nobody can lock the owner out, and an administrator lifts
//! it; an administrator-set password opens nothing before it is changed; tokens end with a
//! password change, a reset, a deactivation, their holder or an idle hour; an unknown name costs
//! the time of a wrong password; one address cannot have SMS codes sent to thirty phones.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use gongzhi_app::people::sms::MemoryGateway;
use gongzhi_core::people::policy::SecurityPolicy;
use serde_json::json;

use crate::common::resident::app_of;
use crate::common::{Reply, browse, demo_apps, input_value, page, send, set_cookie, sign_in_from, submit};

/// Where the attacker sends from, and where the account's owner works.
const ATTACKER: &str = "198.51.100.66";
const OFFICE: &str = "203.0.113.10";

fn addr(ip: &str) -> SocketAddr {
    format!("{ip}:40000").parse().unwrap()
}

/// The demo city's application with the demo accounts (password `demo`) under `policy`.
async fn apps_with(policy: impl Fn(&mut SecurityPolicy)) -> Vec<(gongzhi_store::testing::TestDb, Router)> {
    let mut out = Vec::new();
    for (db, state) in demo_apps().await {
        gongzhi_demo::ensure_demo_accounts(&db, "demo", &gongzhi_store::testing::audit_key())
            .await
            .unwrap();
        let mut security = state.security.clone();
        policy(&mut security);
        out.push((db, gongzhi_web::router(state.with_security(security))));
    }
    out
}

/// `POST /api/v1/auth/token` from `from`, with extra headers.
async fn token_request(app: &Router, from: &str, username: &str, password: &str, headers: &[(&str, &str)]) -> Reply {
    let mut request = Request::post("/api/v1/auth/token")
        .header(header::CONTENT_TYPE, "application/json")
        .extension(ConnectInfo(addr(from)));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let body = json!({"username": username, "password": password}).to_string();
    send(app, request.body(Body::from(body)).unwrap()).await
}

async fn ask_token(app: &Router, from: &str, username: &str, password: &str) -> Reply {
    token_request(app, from, username, password, &[]).await
}

/// A token that must be issued.
async fn token_of(app: &Router, from: &str, username: &str, password: &str) -> String {
    let r = ask_token(app, from, username, password).await;
    assert_eq!(r.status, StatusCode::CREATED, "token of {username}: {}", r.body);
    r.json()["token"].as_str().unwrap().to_string()
}

/// The sign-in page's answer to `username` and `password` sent from `from`.
async fn page_sign_in(
    app: &Router,
    from: &str,
    username: &str,
    password: &str,
) -> Result<crate::common::PageSession, Reply> {
    sign_in_from(app, Some(addr(from)), username, password).await
}

/// What a bearer token opens: the status of `GET /api/v1/me`.
async fn me(app: &Router, token: &str) -> StatusCode {
    let request = Request::get("/api/v1/me")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    send(app, request).await.status
}

async fn actions(db: &gongzhi_store::Db, subject: &str) -> Vec<(String, serde_json::Value)> {
    gongzhi_store::audit::entries_about(db, "account", subject)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.detail))
        .collect()
}

fn count(actions: &[(String, serde_json::Value)], action: &str) -> usize {
    actions.iter().filter(|(a, _)| a == action).count()
}

#[tokio::test]
async fn five_wrong_passwords_on_the_api_lock_the_address_out_and_the_right_one_then_gets_no_token() {
    for (db, app) in apps_with(|_| {}).await {
        let name = db.backend_name();
        for attempt in 1..=4 {
            let r = ask_token(&app, ATTACKER, "dispatcher", "wrong").await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{name}: attempt {attempt}");
            assert_eq!(r.json()["error"]["code"], "invalid_credentials");
        }
        let r = ask_token(&app, ATTACKER, "dispatcher", "wrong").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: {}", r.body);
        assert_eq!(r.json()["error"]["code"], "account_locked");
        // The right password waits for the lockout to end, on the API and on the pages.
        let r = ask_token(&app, ATTACKER, "dispatcher", "demo").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: {}", r.body);
        assert_eq!(r.json()["error"]["code"], "account_locked");
        assert!(r.json()["error"]["message"].as_str().unwrap().contains("账户已锁定至"));
        let refused = page_sign_in(&app, ATTACKER, "dispatcher", "demo").await.err().unwrap();
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert!(refused.body.contains("账户已锁定至"), "{}", refused.body);
        // Every failure is in the record, with where it came from.
        let record = actions(&db, "dispatcher").await;
        assert_eq!(count(&record, "people.sign_in_failed"), 5, "{name}: {record:?}");
        assert!(
            record
                .iter()
                .filter(|(a, _)| a == "people.sign_in_failed")
                .all(|(_, d)| d["source"] == ATTACKER)
        );
        assert!(
            record
                .iter()
                .any(|(a, d)| a == "people.sign_in_failed" && d["locked_until"].is_string())
        );
        assert_eq!(count(&record, "people.sign_in"), 0, "{name}: no token, no session");
    }
}

#[tokio::test]
async fn an_address_locked_out_on_the_sign_in_page_gets_no_token_either() {
    for (db, app) in apps_with(|_| {}).await {
        let name = db.backend_name();
        for _ in 0..5 {
            assert!(page_sign_in(&app, ATTACKER, "leader", "wrong").await.is_err());
        }
        let r = ask_token(&app, ATTACKER, "leader", "demo").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: {}", r.body);
        assert_eq!(r.json()["error"]["code"], "account_locked");
    }
}

#[tokio::test]
async fn nobody_can_lock_the_security_administrator_out_and_a_lockout_tells_no_name_apart() {
    for (db, app) in apps_with(|_| {}).await {
        let name = db.backend_name();
        for _ in 0..5 {
            ask_token(&app, ATTACKER, "secadmin", "guess").await;
        }
        assert_eq!(
            ask_token(&app, ATTACKER, "secadmin", "demo").await.status,
            StatusCode::FORBIDDEN,
            "{name}: the attacker's address is locked out"
        );
        // Saying it comes from elsewhere does not help: without a trusted proxy the header is
        // the client's own word.
        let r = token_request(&app, ATTACKER, "secadmin", "demo", &[("x-forwarded-for", OFFICE)]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: {}", r.body);
        // The security administrator, at the office, signs in to the pages and the API.
        let at_office = page_sign_in(&app, OFFICE, "secadmin", "demo").await;
        assert!(at_office.is_ok(), "{name}: {:?}", at_office.err().map(|r| r.body));
        token_of(&app, OFFICE, "secadmin", "demo").await;

        // A name nobody has is locked out after five failures just like a real one, with the
        // same words: the lockout does not tell which names exist.
        let mut answers = Vec::new();
        for username in ["clerk", "nobody-here"] {
            for _ in 0..4 {
                ask_token(&app, ATTACKER, username, "guess").await;
            }
            let r = ask_token(&app, ATTACKER, username, "guess").await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: {username}");
            let message = r.json()["error"]["message"].as_str().unwrap().to_string();
            answers.push(message.split(" 20").next().unwrap().to_string());
        }
        assert_eq!(answers[0], answers[1], "{name}");
        let unknown = actions(&db, "nobody-here").await;
        assert_eq!(count(&unknown, "people.sign_in_unknown"), 5, "{name}: {unknown:?}");
    }
}

#[tokio::test]
async fn an_administrator_sees_the_locked_address_and_unlocks_it() {
    for (db, app) in apps_with(|_| {}).await {
        let name = db.backend_name();
        for _ in 0..5 {
            ask_token(&app, ATTACKER, "dispatcher", "wrong").await;
        }
        let admin = page_sign_in(&app, OFFICE, "admin", "demo").await.ok().unwrap();
        let list = page(&app, &admin, "/admin/accounts").await;
        assert_eq!(list.status, StatusCode::OK);
        let account = page(&app, &admin, "/admin/accounts/dispatcher").await;
        assert!(
            account.body.contains(ATTACKER),
            "{name}: the page names the locked address"
        );
        assert!(account.body.contains("id=\"unlock\""));
        let r = submit(&app, &admin, "/admin/accounts/dispatcher", &[("change", "unlock")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        let account = page(&app, &admin, "/admin/accounts/dispatcher").await;
        assert!(!account.body.contains(ATTACKER), "{name}");
        token_of(&app, ATTACKER, "dispatcher", "demo").await;
        let record = actions(&db, "dispatcher").await;
        let unlock = record.iter().find(|(a, _)| a == "people.account.unlock").unwrap();
        assert_eq!(unlock.1["sources"], json!([ATTACKER]), "{name}");
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_is_counted_apart() {
    const PROXY: &str = "10.0.0.1";
    for (db, app) in apps_with(|p| p.trusted_proxies = vec![PROXY.parse().unwrap()]).await {
        let name = db.backend_name();
        let via_proxy = |client: &'static str| [("x-forwarded-for", client)];
        for _ in 0..5 {
            token_request(&app, PROXY, "clerk", "wrong", &via_proxy(ATTACKER)).await;
        }
        let r = token_request(&app, PROXY, "clerk", "demo", &via_proxy(ATTACKER)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: {}", r.body);
        let r = token_request(&app, PROXY, "clerk", "demo", &via_proxy(OFFICE)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{name}: {}", r.body);
        let record = actions(&db, "clerk").await;
        assert!(
            record
                .iter()
                .any(|(a, d)| a == "people.sign_in" && d["source"] == OFFICE)
        );
    }
}

#[tokio::test]
async fn sign_in_attempts_from_one_address_are_throttled_on_the_api_and_the_pages_together() {
    // Lockouts out of the way: only the rate limit answers here.
    let policy = |p: &mut SecurityPolicy| {
        p.sign_in_attempts_per_minute = 4;
        p.lockout_failures = 100;
    };
    for (db, app) in apps_with(policy).await {
        let name = db.backend_name();
        let started = Instant::now();
        for _ in 0..2 {
            assert_eq!(
                ask_token(&app, ATTACKER, "clerk", "wrong").await.status,
                StatusCode::UNAUTHORIZED
            );
            let r = page_sign_in(&app, ATTACKER, "clerk", "wrong").await.err().unwrap();
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{name}");
        }
        let r = ask_token(&app, ATTACKER, "clerk", "demo").await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{name}: {}", r.body);
        assert_eq!(r.json()["error"]["code"], "rate_limited");
        assert!(
            r.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains("登录尝试过于频繁")
        );
        let wait: u64 = r.headers[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
        assert!((1..=15).contains(&wait), "{name}: Retry-After {wait}");
        let r = page_sign_in(&app, ATTACKER, "clerk", "demo").await.err().unwrap();
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{name}");
        assert!(r.body.contains("登录尝试过于频繁"));
        assert!(r.headers.contains_key(header::RETRY_AFTER));
        // Refused before any password is checked: nothing more in the record.
        assert_eq!(
            count(&actions(&db, "clerk").await, "people.sign_in_failed"),
            4,
            "{name}"
        );
        // (Four a minute: one more every 15 s, which this test takes far less than.)
        assert!(started.elapsed() < Duration::from_secs(15), "{name}: too slow to tell");
        // Another address is not affected.
        token_of(&app, OFFICE, "clerk", "demo").await;
    }
}

#[tokio::test]
async fn an_administrator_set_password_opens_neither_the_api_nor_its_session_until_it_is_changed() {
    for (db, app) in apps_with(|_| {}).await {
        let name = db.backend_name();
        let admin = page_sign_in(&app, OFFICE, "admin", "demo").await.ok().unwrap();
        let r = submit(
            &app,
            &admin,
            "/admin/accounts",
            &[
                ("username", "wangfang"),
                ("display_name", "王芳"),
                ("password", "Start2026!"),
                ("role", "grid_worker"),
                ("scope", "230903011001002"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        // The password the administrator chose does not open the API …
        let r = ask_token(&app, OFFICE, "wangfang", "Start2026!").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: {}", r.body);
        assert_eq!(r.json()["error"]["code"], "password_change_required");
        assert_eq!(count(&actions(&db, "wangfang").await, "people.sign_in_refused"), 1);
        // … nor the API behind the pages' session, which only leads to the password page.
        let her = page_sign_in(&app, OFFICE, "wangfang", "Start2026!").await.ok().unwrap();
        let request = Request::builder()
            .method(Method::GET)
            .uri("/api/v1/me")
            .header(header::COOKIE, &her.cookie)
            .body(Body::empty())
            .unwrap();
        let r = send(&app, request).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: {}", r.body);
        assert_eq!(r.json()["error"]["code"], "password_change_required");
        // Once she chose her own, the API accepts it.
        let r = submit(
            &app,
            &her,
            "/account/password",
            &[
                ("current", "Start2026!"),
                ("new", "Wang-2026-fang"),
                ("confirm", "Wang-2026-fang"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        token_of(&app, OFFICE, "wangfang", "Wang-2026-fang").await;

        // A reset by the system administrator: the worker's own tokens end, and the new
        // password opens nothing until the worker changes it.
        let before = token_of(&app, OFFICE, "gridworker", "demo").await;
        let r = submit(
            &app,
            &admin,
            "/admin/accounts/gridworker",
            &[("change", "reset_password"), ("password", "Reset-2026!")],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        assert_eq!(me(&app, &before).await, StatusCode::UNAUTHORIZED, "{name}");
        let r = ask_token(&app, OFFICE, "gridworker", "Reset-2026!").await;
        assert_eq!(r.json()["error"]["code"], "password_change_required", "{name}");
    }
}

#[tokio::test]
async fn tokens_end_with_a_password_change_a_deactivation_or_their_holder() {
    for (db, app) in apps_with(|_| {}).await {
        let name = db.backend_name();
        // The holder changes the password on the pages: every token of the account ends.
        let clerk = page_sign_in(&app, OFFICE, "clerk", "demo").await.ok().unwrap();
        let token = token_of(&app, OFFICE, "clerk", "demo").await;
        assert_eq!(me(&app, &token).await, StatusCode::OK);
        let r = submit(
            &app,
            &clerk,
            "/account/password",
            &[
                ("current", "demo"),
                ("new", "Qitaihe-2026!"),
                ("confirm", "Qitaihe-2026!"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        assert_eq!(me(&app, &token).await, StatusCode::UNAUTHORIZED, "{name}");
        assert_eq!(
            page(&app, &clerk, "/account/password").await.status,
            StatusCode::OK,
            "this session stays"
        );

        // Deactivating the account ends its tokens; activating it again does not revive them.
        let token = token_of(&app, OFFICE, "street", "demo").await;
        let admin = page_sign_in(&app, OFFICE, "admin", "demo").await.ok().unwrap();
        for change in ["deactivate", "activate"] {
            let r = submit(&app, &admin, "/admin/accounts/street", &[("change", change)]).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        }
        assert_eq!(me(&app, &token).await, StatusCode::UNAUTHORIZED, "{name}");

        // A client signs out of the API: its token ends, the holder's other tokens do not.
        let leaving = token_of(&app, OFFICE, "leader", "demo").await;
        let staying = token_of(&app, OFFICE, "leader", "demo").await;
        let delete = |token: Option<&str>| {
            let mut request = Request::delete("/api/v1/auth/token");
            if let Some(t) = token {
                request = request.header(header::AUTHORIZATION, format!("Bearer {t}"));
            }
            send(&app, request.body(Body::empty()).unwrap())
        };
        let r = delete(Some(&leaving)).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        assert_eq!(me(&app, &leaving).await, StatusCode::UNAUTHORIZED, "{name}");
        assert_eq!(me(&app, &staying).await, StatusCode::OK, "{name}");
        let r = delete(Some(&leaving)).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.json()["error"]["code"], "invalid_token");
        assert_eq!(delete(None).await.json()["error"]["code"], "unauthenticated");
        let record = actions(&db, "leader").await;
        assert_eq!(count(&record, "people.token.revoke"), 1, "{name}");
    }
}

#[tokio::test]
async fn an_unused_token_idles_out() {
    for (db, app) in apps_with(|p| p.token_idle_minutes = 0).await {
        let token = token_of(&app, OFFICE, "leader", "demo").await;
        assert_eq!(
            me(&app, &token).await,
            StatusCode::UNAUTHORIZED,
            "{}",
            db.backend_name()
        );
    }
}

#[tokio::test]
async fn an_unknown_name_takes_as_long_to_refuse_as_a_wrong_password() {
    // Neither the rate limit nor the lockout may answer first.
    let policy = |p: &mut SecurityPolicy| {
        p.sign_in_attempts_per_minute = 0;
        p.lockout_failures = 1000;
    };
    for (db, app) in apps_with(policy).await {
        let name = db.backend_name();
        let mut unknown = Vec::new();
        let mut wrong = Vec::new();
        for round in 0..7 {
            for (username, times) in [("nobody-at-all", &mut unknown), ("leader", &mut wrong)] {
                let t = Instant::now();
                let r = ask_token(&app, ATTACKER, username, &format!("guess-{round}")).await;
                times.push(t.elapsed());
                assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{name}: {}", r.body);
                assert_eq!(
                    r.json()["error"]["message"],
                    "用户名或密码错误",
                    "{name}: the same words"
                );
            }
        }
        unknown.sort();
        wrong.sort();
        let (u, w) = (unknown[3], wrong[3]);
        assert!(
            u.as_secs_f64() > 0.6 * w.as_secs_f64(),
            "{name}: an unknown name answered in {u:?}, a wrong password in {w:?}"
        );
    }
}

#[tokio::test]
async fn one_address_cannot_have_codes_sent_to_thirty_phones() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let sms = Arc::new(MemoryGateway::default());
        let app = app_of(state, sms.clone());
        let allowed = SecurityPolicy::default().sms_codes_per_hour as usize;
        let form = browse(&app, "/m/login").await;
        let cookie = format!("gz_resident_form={}", set_cookie(&form, "gz_resident_form").unwrap());
        let token = input_value(&form.body, "form_token").unwrap();
        let ask = |phone: String, from: &'static str| {
            let body =
                serde_urlencoded::to_string([("phone", phone.as_str()), ("form_token", &token), ("next", "/m/")])
                    .unwrap();
            let request = Request::post("/m/login/code")
                .header(header::ACCEPT, "text/html")
                .header(header::COOKIE, &cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .extension(ConnectInfo(addr(from)))
                .body(Body::from(body))
                .unwrap();
            send(&app, request)
        };
        let phone = |i: usize| format!("1380013{i:04}");
        let mut refused = Vec::new();
        for i in 0..30 {
            let r = ask(phone(i), ATTACKER).await;
            match r.status {
                StatusCode::OK => {}
                StatusCode::TOO_MANY_REQUESTS => refused.push(r),
                other => panic!("{name}: {other} {}", r.body),
            }
        }
        let sent = (0..30).filter(|i| sms.last_code(&phone(*i)).is_some()).count();
        assert_eq!(sent, allowed, "{name}: codes sent from one address");
        assert_eq!(refused.len(), 30 - allowed);
        let last = refused.last().unwrap();
        assert!(last.body.contains("请求验证码过于频繁"), "{name}: {}", last.body);
        let wait: u64 = last.headers[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
        assert!(wait > 60, "{name}: Retry-After {wait}");
        // A resident elsewhere still gets a code.
        assert_eq!(ask(phone(99), OFFICE).await.status, StatusCode::OK, "{name}");
        assert!(sms.last_code(&phone(99)).is_some());
    }
}

/// `GET uri` from `from` with a header (a bearer token or a session cookie).
async fn get_from(app: &Router, uri: &str, from: &str, header: (header::HeaderName, &str)) -> Reply {
    let request = Request::get(uri)
        .header(header::ACCEPT, "text/html")
        .header(header.0, header.1)
        .extension(ConnectInfo(addr(from)))
        .body(Body::empty())
        .unwrap();
    send(app, request).await
}

/// The pages' sign-in form sent from `from`: the session cookie when one is started.
async fn login_cookie(app: &Router, from: &str, username: &str) -> Result<String, Reply> {
    let form = browse(app, "/login").await;
    let planted = set_cookie(&form, "gz_signin").unwrap();
    let token = input_value(&form.body, "form_token").unwrap();
    let body = serde_urlencoded::to_string([
        ("username", username),
        ("password", "demo"),
        ("form_token", &token),
        ("next", "/"),
    ])
    .unwrap();
    let request = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "text/html")
        .header(header::COOKIE, format!("gz_signin={planted}"))
        .extension(ConnectInfo(addr(from)));
    let reply = send(app, request.body(Body::from(body)).unwrap()).await;
    match set_cookie(&reply, "gz_session").filter(|c| !c.is_empty()) {
        Some(cookie) => Ok(format!("gz_session={cookie}")),
        None => Err(reply),
    }
}

#[tokio::test]
async fn administrators_work_only_from_the_administration_networks() {
    const ADMIN_DESK: &str = "10.20.3.4";
    let networks = |p: &mut SecurityPolicy| p.admin_networks = vec!["10.20.0.0/16".parse().unwrap()];
    for (db, app) in apps_with(networks).await {
        let name = db.backend_name();
        // From outside, none of the three administrators signs in, on the API or the pages,
        // whatever the password; the refusal is audited and locks nobody out.
        for admin in ["admin", "secadmin", "auditor"] {
            let r = ask_token(&app, ATTACKER, admin, "demo").await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: {admin}: {}", r.body);
            assert_eq!(r.json()["error"]["code"], "admin_network_refused", "{name}: {admin}");
            let refused = login_cookie(&app, ATTACKER, admin).await.err().unwrap();
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{name}: {admin}");
            assert!(refused.body.contains("管理网络"), "{name}: {}", refused.body);
            let record = actions(&db, admin).await;
            assert_eq!(
                count(&record, "people.sign_in_refused"),
                2,
                "{name}: {admin}: {record:?}"
            );
            assert_eq!(count(&record, "people.sign_in_failed"), 0, "{name}: {admin}");
        }
        // From the administration network they do; a token or a session carried outside stops.
        let token = token_of(&app, ADMIN_DESK, "secadmin", "demo").await;
        let bearer = format!("Bearer {token}");
        let inside = get_from(&app, "/api/v1/me", ADMIN_DESK, (header::AUTHORIZATION, &bearer)).await;
        assert_eq!(inside.status, StatusCode::OK, "{name}: {}", inside.body);
        let outside = get_from(&app, "/api/v1/me", ATTACKER, (header::AUTHORIZATION, &bearer)).await;
        assert_eq!(outside.status, StatusCode::FORBIDDEN, "{name}");
        assert_eq!(outside.json()["error"]["code"], "admin_network_refused");
        let cookie = login_cookie(&app, ADMIN_DESK, "admin")
            .await
            .unwrap_or_else(|r| panic!("{name}: {} {}", r.status, r.body));
        let inside = get_from(&app, "/admin/accounts", ADMIN_DESK, (header::COOKIE, &cookie)).await;
        assert_eq!(inside.status, StatusCode::OK, "{name}: {}", inside.body);
        let outside = get_from(&app, "/admin/accounts", ATTACKER, (header::COOKIE, &cookie)).await;
        assert_eq!(outside.status, StatusCode::FORBIDDEN, "{name}");
        // Working accounts sign in from anywhere.
        let token = token_of(&app, ATTACKER, "dispatcher", "demo").await;
        let bearer = format!("Bearer {token}");
        let r = get_from(&app, "/api/v1/me", ATTACKER, (header::AUTHORIZATION, &bearer)).await;
        assert_eq!(r.status, StatusCode::OK, "{name}");
    }
}
