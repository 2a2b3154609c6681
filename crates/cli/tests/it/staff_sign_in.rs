//! Staff sign in to the pages, stay signed in, sign out, change passwords, get locked out after
//! repeated failures, and administrators manage accounts with their duties kept apart.

use axum::http::StatusCode;

use crate::common;
use crate::common::{browse, demo_apps, page, sign_in, sign_in_with, submit};

#[tokio::test]
async fn a_page_sends_a_stranger_to_the_sign_in_form_and_back_afterwards() {
    for (db, state) in demo_apps().await {
        let app = gongzhi_web::router(state);
        let r = browse(&app, "/territory/230903000000").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", db.backend_name());
        assert_eq!(r.headers["location"], "/login?next=/territory/230903000000");
        let form = browse(&app, "/login?next=/territory/230903000000").await;
        assert!(form.body.contains("工作人员登录"), "Chinese by default");
        assert!(form.body.contains("name=\"next\" value=\"/territory/230903000000\""));
        // A next that leaves the site is dropped.
        let evil = browse(&app, "/login?next=//evil.example/").await;
        assert!(evil.body.contains("name=\"next\" value=\"/\""));

        let me = sign_in(&app, &db.db, "street").await;
        let r = page(&app, &me, "/territory/230903000000").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            r.body.contains("桃东街道工作人员"),
            "the person's name is in the header"
        );
    }
}

#[tokio::test]
async fn signing_out_ends_the_session_on_the_server() {
    for (db, state) in demo_apps().await {
        let app = gongzhi_web::router(state);
        let me = sign_in(&app, &db.db, "clerk").await;
        let bad = submit(
            &app,
            &common::PageSession {
                csrf: "forged".into(),
                ..me.clone()
            },
            "/logout",
            &[],
        )
        .await;
        assert_eq!(bad.status, StatusCode::FORBIDDEN, "a forged form is refused");
        assert!(bad.body.contains("CSRF"));
        let out = submit(&app, &me, "/logout", &[]).await;
        assert_eq!(out.status, StatusCode::SEE_OTHER);
        assert_eq!(out.headers["location"], "/login");
        // The old cookie, replayed, no longer opens anything.
        let r = page(&app, &me, "/territory").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let actions: Vec<String> = sqlx_actions(&db.db, "clerk").await;
        assert!(actions.contains(&"people.sign_in".to_string()));
        assert!(actions.contains(&"people.sign_out".to_string()));
    }
}

async fn sqlx_actions(db: &gongzhi_store::Db, account: &str) -> Vec<String> {
    gongzhi_store::audit::entries_about(db, "account", account)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_account_for_thirty_minutes() {
    for (db, state) in demo_apps().await {
        let app = gongzhi_web::router(state);
        sign_in(&app, &db.db, "dispatcher").await;
        for attempt in 1..=4 {
            let r = sign_in_with(&app, "dispatcher", "wrong").await.err().unwrap();
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
            assert!(r.body.contains("用户名或密码错误"));
        }
        let r = sign_in_with(&app, "dispatcher", "wrong").await.err().unwrap();
        assert!(r.body.contains("账户已锁定至"), "{}", r.body);
        // Even the right password waits for the lock to end.
        let r = sign_in_with(&app, "dispatcher", "demo").await.err().unwrap();
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.body.contains("账户已锁定至"));
        // The security administrator lifts it.
        let sec = sign_in(&app, &db.db, "secadmin").await;
        let admin = sign_in(&app, &db.db, "admin").await;
        let r = submit(&app, &admin, "/admin/accounts/dispatcher", &[("change", "unlock")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let _ = sec;
        assert!(sign_in_with(&app, "dispatcher", "demo").await.is_ok());
        let actions = sqlx_actions(&db.db, "dispatcher").await;
        assert_eq!(actions.iter().filter(|a| *a == "people.sign_in_failed").count(), 5);
        assert!(actions.contains(&"people.account.unlock".to_string()));
        // An unknown user name is recorded too, and told nothing more than a wrong password.
        let r = sign_in_with(&app, "nobody", "x").await.err().unwrap();
        assert!(r.body.contains("用户名或密码错误"));
    }
}

#[tokio::test]
async fn an_idle_session_expires() {
    for (db, state) in demo_apps().await {
        let mut security = state.security.clone();
        security.session_idle_minutes = 0;
        let state = state.with_security(security);
        let app = gongzhi_web::router(state);
        gongzhi_demo::ensure_demo_accounts(&db.db, "demo", &gongzhi_store::testing::audit_key())
            .await
            .unwrap();
        // Signing in works, but with no idle time allowed the very next page asks again.
        let r = sign_in_with(&app, "leader", "demo").await;
        let reply = r.err().expect("the session was already idle too long");
        assert_eq!(reply.status, StatusCode::SEE_OTHER);
        assert!(reply.headers["location"].to_str().unwrap().starts_with("/login"));
    }
}

#[tokio::test]
async fn a_new_password_must_follow_the_policy_and_replaces_the_old_one() {
    for (db, state) in demo_apps().await {
        let app = gongzhi_web::router(state);
        let me = sign_in(&app, &db.db, "community").await;
        let change = |current: &'static str, new: &'static str, confirm: &'static str| {
            let app = app.clone();
            let me = me.clone();
            async move {
                submit(
                    &app,
                    &me,
                    "/account/password",
                    &[("current", current), ("new", new), ("confirm", confirm)],
                )
                .await
            }
        };
        let r = change("wrong", "Qitaihe2026", "Qitaihe2026").await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("当前密码不正确"));
        let r = change("demo", "short", "short").await;
        assert!(r.body.contains("密码至少需要 8 个字符"), "{}", r.body);
        let r = change("demo", "abcdefgh", "abcdefgh").await;
        assert!(r.body.contains("至少 3 类"));
        let r = change("demo", "Qitaihe2026", "Qitaihe2025").await;
        assert!(r.body.contains("两次输入的新密码不一致"));
        let r = change("demo", "Qitaihe2026", "Qitaihe2026").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("密码已修改"));
        assert!(sign_in_with(&app, "community", "demo").await.is_err());
        assert!(sign_in_with(&app, "community", "Qitaihe2026").await.is_ok());
        assert!(
            sqlx_actions(&db.db, "community")
                .await
                .contains(&"people.password.change".to_string())
        );
    }
}

#[tokio::test]
async fn administrators_keep_their_duties_apart() {
    for (db, state) in demo_apps().await {
        let app = gongzhi_web::router(state);
        let admin = sign_in(&app, &db.db, "admin").await;
        let list = page(&app, &admin, "/admin/accounts").await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(list.body.contains("/admin/accounts/gridworker"));
        assert!(
            !list.body.contains("/admin/accounts/secadmin"),
            "the system administrator does not manage the security administrator"
        );
        let create = |fields: Vec<(&'static str, &'static str)>| {
            let app = app.clone();
            let admin = admin.clone();
            async move { submit(&app, &admin, "/admin/accounts", &fields).await }
        };
        let r = create(vec![
            ("username", "wangfang"),
            ("display_name", "王芳"),
            ("password", "Start2026!"),
            ("role", "security_admin"),
            ("scope", "230900000000"),
        ])
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("您不能授予角色"), "{}", r.body);
        let r = create(vec![
            ("username", "wangfang"),
            ("display_name", "王芳"),
            ("password", "start"),
            ("role", "grid_worker"),
            ("scope", "230903011001002"),
        ])
        .await;
        assert!(r.body.contains("密码至少需要"));
        let r = create(vec![
            ("username", "wangfang"),
            ("display_name", "王芳"),
            ("password", "Start2026!"),
            ("role", "grid_worker"),
            ("scope", "230903011001002"),
        ])
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        // The new grid worker must choose a password of her own first.
        let her = sign_in_with(&app, "wangfang", "Start2026!").await.ok().unwrap();
        let r = page(&app, &her, "/territory").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.headers["location"], "/account/password");
        assert!(
            page(&app, &her, "/account/password")
                .await
                .body
                .contains("请先设置新密码")
        );

        // The security administrator gives the audit role to a fresh account, but cannot make the
        // system administrator an auditor as well.
        let sec = sign_in(&app, &db.db, "secadmin").await;
        let r = submit(
            &app,
            &sec,
            "/admin/accounts",
            &[
                ("username", "zhaolei"),
                ("display_name", "赵磊"),
                ("password", "Audit2026!"),
                ("role", "audit_admin"),
                ("scope", "230900000000"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = submit(
            &app,
            &sec,
            "/admin/accounts/admin",
            &[("change", "grant"), ("role", "audit_admin"), ("scope", "230900000000")],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("三员分立"), "{}", r.body);
        // Nobody administers their own account.
        let r = page(&app, &admin, "/admin/accounts/admin").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        // Working staff have no administration at all.
        let clerk = sign_in(&app, &db.db, "clerk").await;
        let r = page(&app, &clerk, "/admin/accounts").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn a_password_older_than_the_policy_allows_must_be_changed_before_anything_else() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let max_age = state.security.password_max_age_days;
        let app = gongzhi_web::router(state);
        let key = gongzhi_store::testing::audit_key();
        gongzhi_demo::ensure_demo_accounts(&db.db, "demo", &key).await.unwrap();
        // The dispatcher last chose a password a day longer ago than the policy allows.
        let account = db.account_by_username("dispatcher").await.unwrap().unwrap();
        let hash = account.password_hash.clone().unwrap();
        let then = chrono::Utc::now() - chrono::Duration::days(max_age + 1);
        db.set_password(&account, &hash, "dispatcher", None, then, &key)
            .await
            .unwrap();
        // The pages lead to the password page only; the API gives no token.
        let me = sign_in_with(&app, "dispatcher", "demo").await.ok().unwrap();
        let r = page(&app, &me, "/cases").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}");
        assert_eq!(r.headers["location"], "/account/password", "{name}");
        let token = |password: &'static str| {
            let app = app.clone();
            async move {
                common::send(
                    &app,
                    axum::http::Request::post("/api/v1/auth/token")
                        .header("content-type", "application/json")
                        .body(axum::body::Body::from(
                            serde_json::json!({"username": "dispatcher", "password": password}).to_string(),
                        ))
                        .unwrap(),
                )
                .await
            }
        };
        let r = token("demo").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: {}", r.body);
        assert_eq!(r.json()["error"]["code"], "password_change_required");
        // A new password opens both again.
        let r = submit(
            &app,
            &me,
            "/account/password",
            &[("current", "demo"), ("new", "Qitaihe2026"), ("confirm", "Qitaihe2026")],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        assert_eq!(page(&app, &me, "/cases").await.status, StatusCode::OK, "{name}");
        assert_eq!(token("Qitaihe2026").await.status, StatusCode::CREATED, "{name}");
    }
}
