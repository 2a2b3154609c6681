//! Signing in through the API with the demo accounts, on SQLite and PostgreSQL.

use axum::body::Body;
use axum::http::{Request, StatusCode};

use crate::common;
use crate::common::{demo_apps, get, send};

async fn post_json(app: &axum::Router, uri: &str, body: &str) -> common::Reply {
    let request = Request::post(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    send(app, request).await
}

async fn get_with_token(app: &axum::Router, uri: &str, token: &str) -> common::Reply {
    send(
        app,
        Request::get(uri)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn a_demo_account_signs_in_and_its_token_says_who_it_is() {
    for (db, state) in demo_apps().await {
        gongzhi_demo::ensure_demo_accounts(&db, "demo", &gongzhi_store::testing::audit_key())
            .await
            .unwrap();
        assert!(
            !gongzhi_demo::ensure_demo_accounts(&db, "demo", &gongzhi_store::testing::audit_key())
                .await
                .unwrap(),
            "created only once"
        );
        let app = gongzhi_web::router(state);

        let r = post_json(
            &app,
            "/api/v1/auth/token",
            r#"{"username":"dispatcher","password":"demo"}"#,
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}: {}", db.backend_name(), r.body);
        let token = r.json()["token"].as_str().unwrap().to_string();
        assert_eq!(r.json()["token_type"], "Bearer");

        let me = get_with_token(&app, "/api/v1/me", &token).await;
        assert_eq!(me.status, StatusCode::OK);
        assert_eq!(me.json()["username"], "dispatcher");
        assert_eq!(me.json()["grants"][0]["role"], "dispatcher");
        assert_eq!(me.json()["grants"][0]["scope"]["code"], "230900000000");

        let handler = post_json(
            &app,
            "/api/v1/auth/token",
            r#"{"username":"handler","password":"demo"}"#,
        )
        .await;
        let token = handler.json()["token"].as_str().unwrap().to_string();
        let me = get_with_token(&app, "/api/v1/me", &token).await.json();
        assert_eq!(
            me["grants"][0]["scope"],
            serde_json::json!({"kind": "department", "code": "urban-management"})
        );
    }
}

#[tokio::test]
async fn wrong_or_missing_credentials_are_refused() {
    for (db, state) in demo_apps().await {
        gongzhi_demo::ensure_demo_accounts(&db, "demo", &gongzhi_store::testing::audit_key())
            .await
            .unwrap();
        let app = gongzhi_web::router(state);
        for body in [
            r#"{"username":"dispatcher","password":"Demo"}"#,
            r#"{"username":"nobody","password":"demo"}"#,
        ] {
            let r = post_json(&app, "/api/v1/auth/token", body).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{body}");
            assert_eq!(r.json()["error"]["code"], "invalid_credentials");
            assert_eq!(r.json()["error"]["message"], "用户名或密码错误");
        }
        let r = post_json(&app, "/api/v1/auth/token", r#"{"username":"dispatcher"}"#).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.json()["error"]["field"], "password");
        let r = post_json(&app, "/api/v1/auth/token", "username=dispatcher").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.json()["error"]["code"], "invalid_json");
        // A field of the wrong type is named, in the caller's language.
        let r = post_json(&app, "/api/v1/auth/token", r#"{"username":7,"password":"demo"}"#).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.json()["error"]["code"], "invalid_field");
        assert_eq!(r.json()["error"]["field"], "username");
        assert!(r.json()["error"]["message"].as_str().unwrap().contains("字段 username"));
        let r = post_json(&app, "/api/v1/auth/token", r#"{"username":"  ","password":"demo"}"#).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.json()["error"]["field"], "username");

        let r = get(&app, "/api/v1/me").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.json()["error"]["code"], "unauthenticated");
        let r = get_with_token(&app, "/api/v1/me", "not-a-token").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.json()["error"]["code"], "invalid_token");

        // An expired token no longer works.
        let account = db.account_by_username("leader").await.unwrap().unwrap();
        let t = gongzhi_core::people::credentials::IssuedToken::from_random([9; 32]);
        db.insert_token(
            &t.hash,
            &account,
            "test",
            chrono::Utc::now() - chrono::Duration::minutes(1),
            &gongzhi_store::testing::audit_key(),
        )
        .await
        .unwrap();
        assert_eq!(
            get_with_token(&app, "/api/v1/me", &t.secret).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn a_chosen_demo_password_replaces_demo() {
    for (db, state) in demo_apps().await {
        gongzhi_demo::ensure_demo_accounts(&db, "s3cret-长", &gongzhi_store::testing::audit_key())
            .await
            .unwrap();
        let app = gongzhi_web::router(state);
        let r = post_json(&app, "/api/v1/auth/token", r#"{"username":"clerk","password":"demo"}"#).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        let r = post_json(
            &app,
            "/api/v1/auth/token",
            r#"{"username":"clerk","password":"s3cret-长"}"#,
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
}
