//! Databases for tests: every store test runs on SQLite and on PostgreSQL.
//!
//! PostgreSQL is reached at `GONGZHI_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); each test creates its own database there and
//! drops it afterwards. When the server cannot be reached the PostgreSQL half is skipped with a
//! warning, unless `CI` or `GONGZHI_TEST_REQUIRE_PG` is set, in which case the test fails.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use gongzhi_core::audit::AuditKey;

use crate::db::Db;

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

fn unique_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "gongzhi_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        nanos
    )
}

fn pg_required() -> bool {
    let set = |k: &str| std::env::var(k).is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
    set("CI") || set("GONGZHI_TEST_REQUIRE_PG")
}

pub fn pg_admin_url() -> String {
    std::env::var("GONGZHI_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_PG_URL.to_string())
}

/// The audit key of tests (fixed, so a failing chain can be re-checked by hand). Never use it
/// outside tests.
pub fn audit_key() -> AuditKey {
    AuditKey::parse("hex:74657374206175646974206b6579206f6e6c792c206e6f7420666f72207573").expect("a valid test key")
}

/// A migrated, empty database that is removed when dropped.
pub struct TestDb {
    pub db: Db,
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(PathBuf),
    PgDatabase { admin_url: String, name: String },
}

impl std::ops::Deref for TestDb {
    type Target = Db;
    fn deref(&self) -> &Db {
        &self.db
    }
}

impl TestDb {
    pub fn backend_name(&self) -> &'static str {
        self.db.backend().as_str()
    }

    /// What the database holds, as raw text, for tests that look for data in clear: the SQLite
    /// file's bytes with its WAL (lossy UTF-8), or on PostgreSQL every row of `tables` as text
    /// (`SELECT t::text FROM table t`).
    pub async fn raw_text(&self, tables: &[&str]) -> String {
        if let Some(path) = self.url.strip_prefix("sqlite:") {
            let mut bytes = std::fs::read(path).expect("read the SQLite file");
            if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
                bytes.extend(wal);
            }
            return String::from_utf8_lossy(&bytes).into_owned();
        }
        let Db::Postgres(pool) = &self.db else {
            unreachable!("a URL not sqlite: is PostgreSQL")
        };
        let mut out = String::new();
        for table in tables {
            let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT t::text FROM {table} t")))
                .fetch_all(pool)
                .await
                .expect("read a table as text");
            out.extend(rows.into_iter().map(|r| r.0 + "\n"));
        }
        out
    }

    /// A fresh data folder under `gongzhi-tests/` in the system's temporary folder. Folders a test
    /// keeps using until the process ends (photo stores, servers' data) cannot be removed by the
    /// test itself, so each test process first removes those older than two hours.
    pub fn temp_dir() -> PathBuf {
        static SWEPT: std::sync::Once = std::sync::Once::new();
        let parent = std::env::temp_dir().join("gongzhi-tests");
        SWEPT.call_once(|| sweep_stale(&parent, std::time::Duration::from_secs(2 * 3600)));
        let dir = parent.join(unique_name());
        std::fs::create_dir_all(&dir).expect("create a temporary folder");
        dir
    }

    pub async fn sqlite() -> TestDb {
        let dir = Self::temp_dir();
        let url = Db::sqlite_url_in(&dir);
        let db = Db::connect(&url).await.expect("open SQLite");
        db.migrate().await.expect("migrate SQLite");
        TestDb {
            db,
            url,
            cleanup: Cleanup::Dir(dir),
        }
    }

    /// A new database on the PostgreSQL server, or `None` when no server answers and none is
    /// required.
    pub async fn postgres() -> Option<TestDb> {
        let url = Self::postgres_url().await?;
        let db = Db::connect(&url.0)
            .await
            .expect("connect to the new PostgreSQL database");
        db.migrate().await.expect("migrate PostgreSQL");
        Some(TestDb {
            db,
            url: url.0,
            cleanup: Cleanup::PgDatabase {
                admin_url: pg_admin_url(),
                name: url.1,
            },
        })
    }

    /// Creates an empty database and returns its URL and name, for tests that start a server
    /// on it themselves. The caller drops it with [`drop_pg_database`].
    pub async fn postgres_url() -> Option<(String, String)> {
        let admin_url = pg_admin_url();
        let admin = match sqlx::PgPool::connect(&admin_url).await {
            Ok(p) => p,
            Err(e) if !pg_required() => {
                eprintln!("warning: PostgreSQL at {admin_url} not reachable ({e}); testing SQLite only");
                return None;
            }
            Err(e) => panic!("PostgreSQL is required (CI) but {admin_url} is not reachable: {e}"),
        };
        let name = unique_name();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
            .expect("create test database");
        admin.close().await;
        let base = admin_url
            .rsplit_once('/')
            .map(|(b, _)| b.to_string())
            .unwrap_or(admin_url);
        Some((format!("{base}/{name}"), name))
    }

    /// SQLite always, PostgreSQL when available (or required).
    pub async fn all() -> Vec<TestDb> {
        let mut dbs = vec![TestDb::sqlite().await];
        dbs.extend(TestDb::postgres().await);
        dbs
    }
}

fn sweep_stale(parent: &std::path::Path, age: std::time::Duration) {
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|e| e > age);
        if old {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Drops a test database, closing whatever connections remain.
pub fn drop_pg_database(admin_url: &str, name: &str) {
    let (admin_url, name) = (admin_url.to_string(), name.to_string());
    // Drop may run inside or outside a runtime; a thread of its own works in both.
    let _ = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        rt.block_on(async {
            let admin = sqlx::PgPool::connect(&admin_url).await.ok()?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&admin)
            .await
            .ok()?;
            admin.close().await;
            Some(())
        })
    })
    .join();
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::PgDatabase { admin_url, name } => drop_pg_database(admin_url, name),
        }
    }
}

/// A staff account holding `grants` and a valid bearer token for it (no password: tests only).
pub async fn signed_in(db: &Db, username: &str, grants: &[gongzhi_core::people::Grant]) -> String {
    use gongzhi_core::people::credentials::IssuedToken;
    let id = db
        .create_account(
            username,
            username,
            None,
            grants,
            gongzhi_core::audit::SYSTEM_ACTOR,
            &audit_key(),
        )
        .await
        .expect("create a test account");
    let mut bytes = [0u8; 32];
    for (i, b) in username.bytes().chain(std::iter::repeat(7)).take(32).enumerate() {
        bytes[i] = b ^ (i as u8);
    }
    let token = IssuedToken::from_random(bytes);
    let account = db
        .account_by_username(username)
        .await
        .expect("read the account")
        .expect("the account");
    let _ = id;
    db.insert_token(
        &token.hash,
        &account,
        "test",
        chrono::Utc::now() + chrono::Duration::hours(1),
        &audit_key(),
    )
    .await
    .expect("store the token");
    token.secret
}

/// A work clock on which every minute counts: enough for tests of storage, which does not judge
/// clocks (the working calendar has its own tests).
pub struct WallClock;

impl gongzhi_core::cases::WorkClock for WallClock {
    fn deadline(
        &self,
        start: chrono::DateTime<chrono::Utc>,
        limit: gongzhi_core::cases::Limit,
    ) -> chrono::DateTime<chrono::Utc> {
        use gongzhi_core::cases::LimitUnit;
        let minutes = match limit.unit {
            LimitUnit::WorkMinutes => i64::from(limit.amount),
            LimitUnit::WorkHours => i64::from(limit.amount) * 60,
            LimitUnit::WorkDays | LimitUnit::NaturalDays => i64::from(limit.amount) * 1440,
        };
        start + chrono::Duration::minutes(minutes)
    }

    fn work_minutes(&self, start: chrono::DateTime<chrono::Utc>, end: chrono::DateTime<chrono::Utc>) -> i64 {
        (end - start).num_minutes().max(0)
    }
}

/// The plans of the queries that read one case and its staff page (the case by id and number, its
/// timeline, followers and merged duplicates, the names of the people and places it shows), run
/// with these values: on SQLite `EXPLAIN QUERY PLAN`, one line per step; on PostgreSQL `EXPLAIN`
/// with sequential scans priced out (`enable_seqscan = off`), so that a small test table shows
/// whether an index *can* answer the query, as it must once the city has a million cases.
pub async fn case_read_plans(db: &Db, case_id: i64, number: &str) -> Vec<(&'static str, String)> {
    let mut queries = crate::cases::case_read_queries(case_id, number);
    let (sql, args) = crate::people::display_names_query(&["someone", "someone else"]);
    queries.push(("display_names", sql, args));
    let (sql, args) = crate::territory::node_names_query(&["230903011001", "230903011000"]);
    queries.push(("node_names", sql, args));
    let mut plans = Vec::new();
    for (name, sql, args) in queries {
        let plan = match db {
            Db::Sqlite(pool) => {
                let rows: Vec<(i64, i64, i64, String)> = crate::sql::bind_args!(
                    sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}"))),
                    &args
                )
                .fetch_all(pool)
                .await
                .expect("explain a case read on SQLite");
                rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("\n")
            }
            Db::Postgres(pool) => {
                let mut tx = pool.begin().await.expect("begin");
                sqlx::query("SET LOCAL enable_seqscan = off")
                    .execute(&mut *tx)
                    .await
                    .expect("price out sequential scans");
                let rows: Vec<(String,)> =
                    crate::sql::bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN {sql}"))), &args)
                        .fetch_all(&mut *tx)
                        .await
                        .expect("explain a case read on PostgreSQL");
                tx.rollback().await.expect("rollback");
                rows.into_iter().map(|r| r.0).collect::<Vec<_>>().join("\n")
            }
        };
        plans.push((name, plan));
    }
    plans
}
