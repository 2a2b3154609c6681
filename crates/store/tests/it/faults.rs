//! The store when the database fails under it: a transaction the database ended by itself (as
//! SQLite does when a COMMIT finds the disk full) does not poison the pool, a full database is
//! told apart as "unavailable" (503, try again), a probe write changes nothing, and the SQLite
//! file is its owner's only.

use std::os::unix::fs::PermissionsExt;

use gongzhi_store::testing::TestDb;
use gongzhi_store::{Db, StoreError, Tx};

/// Ends the open transaction behind sqlx's back, as SQLite does when a COMMIT fails on a full
/// disk: sqlx still counts it open, and its ROLLBACK on drop then fails.
async fn end_behind_the_pools_back(tx: &mut Tx) {
    match tx {
        Tx::Sqlite(t) => sqlx::query("COMMIT").execute(&mut **t).await.map(|_| ()),
        Tx::Postgres(t) => sqlx::query("COMMIT").execute(&mut **t).await.map(|_| ()),
    }
    .expect("the database ends the transaction");
}

#[tokio::test]
async fn a_transaction_the_database_ended_by_itself_leaves_no_connection_that_refuses_to_begin() {
    for db in TestDb::all().await {
        // Twice as many as the pool holds: every connection gets its turn.
        for round in 0..16 {
            let mut tx = db
                .begin()
                .await
                .unwrap_or_else(|e| panic!("{}: round {round}: {e}", db.backend_name()));
            end_behind_the_pools_back(&mut tx).await;
            drop(tx);
        }
        let mut tx = db.begin().await.expect("a write begins");
        match &mut tx {
            Tx::Sqlite(t) => sqlx::query("SELECT 1").execute(&mut **t).await.map(|_| ()),
            Tx::Postgres(t) => sqlx::query("SELECT 1").execute(&mut **t).await.map(|_| ()),
        }
        .unwrap();
        tx.commit().await.expect("and commits");
    }
}

#[tokio::test]
async fn a_full_sqlite_database_is_unavailable_not_an_internal_error() {
    let db = TestDb::sqlite().await;
    let mut tx = db.begin().await.unwrap();
    let Tx::Sqlite(t) = &mut tx else { unreachable!() };
    sqlx::query("CREATE TABLE fault_fill (x BLOB)")
        .execute(&mut **t)
        .await
        .unwrap();
    // The database may not grow any more: what a full disk does to it.
    let (pages,): (i64,) = sqlx::query_as("PRAGMA page_count").fetch_one(&mut **t).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA max_page_count = {pages}")))
        .execute(&mut **t)
        .await
        .unwrap();
    let full: StoreError = sqlx::query("INSERT INTO fault_fill VALUES (zeroblob(1000000))")
        .execute(&mut **t)
        .await
        .expect_err("a full database refuses the write")
        .into();
    assert!(full.is_unavailable(), "{full}");
    drop(tx);
    db.close().await;

    // A request's own mistake stays what it is.
    let db = TestDb::sqlite().await;
    let Db::Sqlite(p) = &db.db else { unreachable!() };
    let wrong: StoreError = sqlx::query("SELECT * FROM no_such_table")
        .execute(p)
        .await
        .unwrap_err()
        .into();
    assert!(!wrong.is_unavailable(), "{wrong}");
}

#[tokio::test]
async fn a_probe_write_changes_nothing() {
    for db in TestDb::all().await {
        let before = db.raw_text(&["audit_entries"]).await;
        db.probe_write()
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", db.backend_name()));
        db.probe_write().await.unwrap();
        if db.backend_name() == "postgres" {
            assert_eq!(db.raw_text(&["audit_entries"]).await, before);
        }
        if let Db::Sqlite(p) = &db.db {
            let (version,): (i64,) = sqlx::query_as("PRAGMA user_version").fetch_one(p).await.unwrap();
            assert_eq!(version, 0);
        }
    }
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test]
async fn the_sqlite_file_its_wal_and_its_folder_are_their_owners_only() {
    let parent = TestDb::temp_dir();
    let dir = parent.join("data");
    gongzhi_store::create_data_dir(&dir).unwrap();
    assert_eq!(mode(&dir), 0o700, "a data folder Gongzhi creates");

    let file = dir.join("gongzhi.sqlite3");
    let db = Db::connect(&Db::sqlite_url_in(&dir)).await.unwrap();
    db.migrate().await.unwrap();
    for name in ["gongzhi.sqlite3", "gongzhi.sqlite3-wal", "gongzhi.sqlite3-shm"] {
        assert_eq!(mode(&dir.join(name)), 0o600, "{name}");
    }
    db.close().await;

    // A database an older version left readable by everyone is tightened when opened.
    for name in ["gongzhi.sqlite3", "gongzhi.sqlite3-wal", "gongzhi.sqlite3-shm"] {
        let path = dir.join(name);
        if path.exists() {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
    let db = Db::connect(&Db::sqlite_url_in(&dir)).await.unwrap();
    db.ping().await.unwrap();
    assert_eq!(mode(&file), 0o600);
    for name in ["gongzhi.sqlite3-wal", "gongzhi.sqlite3-shm"] {
        let path = dir.join(name);
        if path.exists() {
            assert_eq!(mode(&path), 0o600, "{name}");
        }
    }
    db.close().await;
    std::fs::remove_dir_all(parent).ok();
}
