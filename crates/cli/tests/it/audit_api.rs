//! `GET /api/v1/audit/verify` on the demo city, on both databases.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gongzhi_store::Db;

use crate::common::{demo_apps, get, get_as, send, token};

async fn tamper(db: &Db) {
    for s in [
        "DROP TRIGGER IF EXISTS audit_entries_no_update",
        "DROP TRIGGER IF EXISTS audit_entries_no_change ON audit_entries",
        "UPDATE audit_entries SET detail = '{\"count\":1}' WHERE seq = 1",
    ] {
        let s = sqlx::AssertSqlSafe(s.to_string());
        // The DROP meant for the other database fails; the UPDATE is checked by the verdict.
        let _ = match db {
            Db::Sqlite(p) => sqlx::query(s).execute(p).await.map(|_| ()),
            Db::Postgres(p) => sqlx::query(s).execute(p).await.map(|_| ()),
        };
    }
}

#[tokio::test]
async fn the_api_reports_an_intact_record_then_the_entry_that_was_changed() {
    for (db, state) in demo_apps().await {
        let app = gongzhi_web::router(state.clone());
        assert_eq!(get(&app, "/api/v1/audit/verify").await.status, StatusCode::UNAUTHORIZED);
        let clerk = token(&app, &db, "clerk").await;
        assert_eq!(
            get_as(&app, "/api/v1/audit/verify", &clerk).await.status,
            StatusCode::FORBIDDEN
        );
        let admin = token(&app, &db, "auditor").await;
        let sysadmin = token(&app, &db, "admin").await;
        assert_eq!(
            get_as(&app, "/api/v1/audit/verify", &sysadmin).await.status,
            StatusCode::FORBIDDEN,
            "the system administrator does not read the audit record"
        );
        let r = get_as(&app, "/api/v1/audit/verify", &admin).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let j = r.json();
        let head = gongzhi_store::audit::head(&db).await.unwrap();
        assert_eq!(j["intact"], true, "{}: {j}", db.backend_name());
        assert_eq!(
            j["entries"],
            1 + 12 + 3,
            "the demo city, 12 demo accounts and 3 sign-ins"
        );
        assert_eq!(j["head"], head.mac);

        tamper(&db).await;
        let j = get_as(&app, "/api/v1/audit/verify", &admin).await.json();
        assert_eq!(j["intact"], false, "{}: {j}", db.backend_name());
        assert_eq!(j["broken_at"], 1);
        assert_eq!(j["reason_code"], "mac_mismatch");
        assert!(j["reason"].as_str().unwrap().contains("校验码与内容不符"), "{j}");
        let en = send(
            &app,
            Request::get("/api/v1/audit/verify")
                .header(header::ACCEPT_LANGUAGE, "en")
                .header(header::AUTHORIZATION, format!("Bearer {admin}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .json();
        assert!(
            en["reason"].as_str().unwrap().starts_with("its MAC does not match"),
            "{en}"
        );
    }
}

#[tokio::test]
async fn without_a_key_the_server_says_it_cannot_verify() {
    for (db, _) in demo_apps().await {
        let state = gongzhi_web::AppState::new(db.db.clone()).await.unwrap();
        let app = gongzhi_web::router(state);
        let city = gongzhi_core::people::Scope::Territory(
            gongzhi_core::territory::TerritoryCode::parse("230900000000").unwrap(),
        );
        let grant = gongzhi_core::people::Grant {
            role: gongzhi_core::people::Role::AuditAdmin,
            scope: city,
        };
        let admin = gongzhi_store::testing::signed_in(&db, "auditor", &[grant]).await;
        let r = get_as(&app, "/api/v1/audit/verify", &admin).await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.json()["error"]["code"], "audit_key_missing");
    }
}
