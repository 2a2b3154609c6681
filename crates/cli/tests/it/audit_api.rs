//! `GET /api/v1/audit/verify` on the demo city, on both databases.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gongzhi_app::audit;
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

/// SQL run straight on the database by someone who can write it but has no key: the guards
/// dropped first, then `statements`.
async fn attack(db: &Db, statements: &[String]) {
    let guards = [
        "DROP TRIGGER IF EXISTS audit_entries_no_update",
        "DROP TRIGGER IF EXISTS audit_entries_no_delete",
        "DROP TRIGGER IF EXISTS audit_entries_no_change ON audit_entries",
    ];
    for s in guards.iter().map(|s| s.to_string()).chain(statements.iter().cloned()) {
        let q = sqlx::AssertSqlSafe(s.clone());
        let done = match db {
            Db::Sqlite(p) => sqlx::query(q).execute(p).await.map(|_| ()),
            Db::Postgres(p) => sqlx::query(q).execute(p).await.map(|_| ()),
        };
        // A DROP meant for the other database fails; every other statement must work.
        assert!(done.is_ok() || s.starts_with("DROP TRIGGER"), "{s}: {done:?}");
    }
}

/// The demo apps with their record's end anchored in a checkpoint file of their own (and
/// `witness`, if not empty).
async fn anchored_apps(
    witness: &[&str],
) -> Vec<(
    gongzhi_store::testing::TestDb,
    gongzhi_web::AppState,
    std::path::PathBuf,
)> {
    let mut apps = Vec::new();
    for (db, state) in demo_apps().await {
        let dir = gongzhi_store::testing::TestDb::temp_dir();
        let anchor = audit::Anchor {
            file: dir.join("audit.checkpoint"),
            witness: witness
                .iter()
                .map(|w| w.replace("DIR", &dir.display().to_string()))
                .collect(),
        };
        apps.push((db, state.with_audit_anchor(anchor), dir));
    }
    apps
}

#[tokio::test]
async fn a_cut_off_end_with_its_head_rewritten_is_found_against_the_checkpoint() {
    for (db, state, dir) in anchored_apps(&["sh", "-c", "cat > DIR/witnessed"]).await {
        let app = gongzhi_web::router(state.clone());
        let auditor = token(&app, &db, "auditor").await;
        let j = get_as(&app, "/api/v1/audit/verify", &auditor).await.json();
        assert_eq!(j["intact"], true, "{j}");
        assert_eq!(j["checkpoint"], serde_json::Value::Null, "none written yet: {j}");

        let done = audit::checkpoint(&state).await.unwrap();
        let written = done.written.expect("a first checkpoint");
        assert_eq!(written.seq, 1 + 12 + 1, "the city, its accounts and one sign-in");
        assert_eq!(done.witness_failed, None);
        let file = std::fs::read_to_string(dir.join("audit.checkpoint")).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("witnessed")).unwrap(),
            file,
            "the witness got it"
        );
        // Nothing appended since: nothing to write.
        assert!(audit::checkpoint(&state).await.unwrap().written.is_none());

        // More work after the checkpoint, then verification checks only from its entry on.
        let clerk = token(&app, &db, "clerk").await;
        let j = get_as(&app, "/api/v1/audit/verify", &auditor).await.json();
        assert_eq!(j["intact"], true, "{}: {j}", db.backend_name());
        assert_eq!(j["entries"], 15);
        assert_eq!((j["from"].clone(), j["checked"].clone()), (14.into(), 2.into()), "{j}");
        assert_eq!(j["checkpoint"]["seq"], 14);
        assert_eq!(j["full"], false);
        let j = get_as(&app, "/api/v1/audit/verify?full=true", &auditor).await.json();
        assert_eq!(
            (j["from"].clone(), j["checked"].clone(), j["full"].clone()),
            (1.into(), 15.into(), true.into())
        );

        // Someone with the database cuts the record back to 10 entries and rewrites its head.
        let mac_10 = gongzhi_store::audit::entries(&db, 9, 1).await.unwrap().remove(0).mac;
        attack(
            &db,
            &[
                "DELETE FROM audit_entries WHERE seq > 10".into(),
                format!("UPDATE audit_head SET seq = 10, mac = '{mac_10}' WHERE id = 1"),
            ],
        )
        .await;
        assert!(
            gongzhi_store::audit::verify(&db, &gongzhi_store::testing::audit_key())
                .await
                .unwrap()
                .is_intact()
        );
        for path in ["/api/v1/audit/verify", "/api/v1/audit/verify?full=true"] {
            let j = get_as(&app, path, &auditor).await.json();
            assert_eq!(j["intact"], false, "{}: {j}", db.backend_name());
            assert_eq!(j["broken_at"], 11, "{j}");
            assert_eq!(j["reason_code"], "behind_checkpoint");
            assert_eq!(j["reason"], "记录止于第10条，但检查点记至第14条：末尾记录被删除");
        }
        // A broken record gets no new checkpoint: the last good one stays.
        let done = audit::checkpoint(&state).await.unwrap();
        assert!(done.written.is_none() && !done.report.verification.verdict.is_intact());
        assert_eq!(std::fs::read_to_string(dir.join("audit.checkpoint")).unwrap(), file);
        let _ = clerk;
        std::fs::remove_dir_all(dir).ok();
    }
}

#[tokio::test]
async fn a_checkpoint_moved_back_or_unreadable_is_reported_not_trusted() {
    for (db, state, dir) in anchored_apps(&["false"]).await {
        let app = gongzhi_web::router(state.clone());
        let auditor = token(&app, &db, "auditor").await;
        let done = audit::checkpoint(&state).await.unwrap();
        assert!(done.written.is_some());
        assert!(
            done.witness_failed.as_deref().is_some_and(|e| e.starts_with("false: ")),
            "a failing witness is reported: {:?}",
            done.witness_failed
        );
        // The checkpoint moved back to entry 10, to hide a cut: its signature no longer holds.
        let file = dir.join("audit.checkpoint");
        let text = std::fs::read_to_string(&file).unwrap();
        std::fs::write(&file, text.replace("\"seq\":14", "\"seq\":10")).unwrap();
        let j = get_as(&app, "/api/v1/audit/verify", &auditor).await.json();
        assert_eq!(j["intact"], false, "{}: {j}", db.backend_name());
        assert_eq!(j["broken_at"], 0);
        assert_eq!(j["reason_code"], "checkpoint_invalid");
        assert!(j["reason"].as_str().unwrap().contains("检查点的签名不符"), "{j}");
        assert_eq!(j["full"], true, "without a checkpoint to trust, everything is checked");
        std::fs::write(&file, "garbage").unwrap();
        let j = get_as(&app, "/api/v1/audit/verify", &auditor).await.json();
        assert_eq!(j["reason_code"], "checkpoint_invalid", "{j}");

        // Bad input is refused naming the parameter, in the caller's language.
        let r = get_as(&app, "/api/v1/audit/verify?full=maybe", &auditor).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let e = r.json();
        assert_eq!(e["error"]["code"], "not_a_boolean", "{e}");
        assert_eq!(e["error"]["field"], "full", "{e}");
        std::fs::remove_dir_all(dir).ok();
    }
}

#[tokio::test]
async fn a_wiped_or_dropped_audit_table_is_reported_naming_the_entry() {
    for (db, state, dir) in anchored_apps(&[]).await {
        let app = gongzhi_web::router(state.clone());
        let auditor = token(&app, &db, "auditor").await;
        audit::checkpoint(&state).await.unwrap();
        attack(
            &db,
            &[
                "DELETE FROM audit_entries".into(),
                format!(
                    "UPDATE audit_head SET seq = 0, mac = '{}' WHERE id = 1",
                    gongzhi_core::audit::GENESIS_MAC
                ),
            ],
        )
        .await;
        let j = get_as(&app, "/api/v1/audit/verify", &auditor).await.json();
        assert_eq!(j["intact"], false, "{}: {j}", db.backend_name());
        assert_eq!(j["broken_at"], 1);
        assert_eq!(j["reason_code"], "behind_checkpoint");
        assert_eq!(j["reason"], "审计记录为空，但检查点记至第14条：记录被删除");

        attack(&db, &["DROP TABLE audit_entries".into()]).await;
        let r = get_as(&app, "/api/v1/audit/verify?full=true", &auditor).await;
        assert_eq!(r.status, StatusCode::OK, "a verdict, not a database error: {}", r.body);
        let j = r.json();
        assert_eq!(j["broken_at"], 1, "{j}");
        assert_eq!(j["reason_code"], "table_missing");
        assert_eq!(j["reason"], "数据表 audit_entries 不存在");
        std::fs::remove_dir_all(dir).ok();
    }
}
