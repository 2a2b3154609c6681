use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::pool::PoolOptions;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, PgPool, Postgres, Sqlite, SqlitePool, Transaction};

use crate::error::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A connection pool to one of the two supported databases.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A transaction on either database.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs `$body` with `$pool` bound to whichever native pool `$db` holds. Both arms must give
/// the same type, so an `execute` maps its result to `rows_affected()`.
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` with `$conn` bound to the connection of whichever transaction `$tx` holds.
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(t) => {
                let $conn = &mut **t;
                $body
            }
            $crate::db::Tx::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}

impl Db {
    /// Opens `sqlite:PATH` (created if missing) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Db, StoreError> {
        if url.starts_with("sqlite:") {
            // WAL lets readers run beside the writer; FULL syncs the WAL on every commit, so an
            // acknowledged write survives a crash of the machine, not just of the process.
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            keep_private(options.get_filename())?;
            let pool = never_reuse_a_broken_transaction(SqlitePoolOptions::new())
                .max_connections(4)
                .connect_with(options)
                .await?;
            Ok(Db::Sqlite(pool))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = never_reuse_a_broken_transaction(PgPoolOptions::new())
                .max_connections(8)
                .connect(url)
                .await?;
            Ok(Db::Postgres(pool))
        } else {
            Err(StoreError::UnsupportedUrl(url.to_string()))
        }
    }

    /// The SQLite URL for a data folder: `DIR/gongzhi.sqlite3`.
    pub fn sqlite_url_in(dir: &std::path::Path) -> String {
        format!("sqlite:{}", dir.join("gongzhi.sqlite3").display())
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the migrations of this backend (`migrations/sqlite` or `migrations/postgres`).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(p) => sqlx::migrate!("./migrations/sqlite").run(p).await?,
            Db::Postgres(p) => sqlx::migrate!("./migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    /// Begins a write transaction. On SQLite it is `BEGIN IMMEDIATE`: the write lock is taken
    /// at once (waiting up to the busy timeout), because a deferred transaction that reads
    /// first fails with SQLITE_BUSY when it later writes after another writer committed.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Db::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// A real write that changes nothing, to learn whether the database takes writes again
    /// (after a full disk, a read-only data folder, a restarted server): on SQLite it rewrites
    /// the header's user version with its own value, on PostgreSQL it commits a transaction that
    /// holds a transaction id (a commit record in the write-ahead log).
    pub async fn probe_write(&self) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        match &mut tx {
            Tx::Sqlite(t) => {
                let (version,): (i64,) = sqlx::query_as("PRAGMA user_version").fetch_one(&mut **t).await?;
                sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA user_version = {version}")))
                    .execute(&mut **t)
                    .await?;
            }
            Tx::Postgres(t) => {
                sqlx::query("SELECT pg_current_xact_id()::text")
                    .execute(&mut **t)
                    .await?;
            }
        }
        tx.commit().await
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query("SELECT 1").execute(p).await.map(|_| ()))?;
        Ok(())
    }

    pub async fn close(&self) {
        on_pool!(self, p => p.close().await)
    }
}

/// A connection is handed out only outside any transaction. When SQLite's disk is full,
/// a failed COMMIT rolls the transaction back by itself; sqlx's own ROLLBACK then fails ("no
/// transaction is active") and leaves its count of open transactions at one, so that connection
/// refused every later `BEGIN` ("begin_with at non-zero transaction depth") until a restart, even
/// once space was back. Such a connection is closed when next taken from the pool (checked
/// without a query of its own), and the pool opens a fresh one.
fn never_reuse_a_broken_transaction<DB: sqlx::Database>(options: PoolOptions<DB>) -> PoolOptions<DB> {
    options
        // Without a database, a request waits this long for a connection, then answers 503.
        .acquire_timeout(Duration::from_secs(5))
        // The pool pinged it when it came back (after the rollback its dropped transaction
        // queued), and pings it again before this: its count of open transactions is settled.
        .before_acquire(|conn, _| Box::pin(async move { Ok(!conn.is_in_transaction()) }))
}

/// The SQLite file at `path` (and so its `-wal` and `-shm`, which SQLite creates with the
/// database file's mode) is readable by its owner only: created 0600 if missing, tightened to
/// 0600 if an older version left it readable by others.
fn keep_private(path: &Path) -> Result<(), StoreError> {
    let name = path.to_string_lossy();
    if name.is_empty() || name == ":memory:" || name.starts_with("file::memory:") {
        return Ok(());
    }
    let io = |e: std::io::Error| StoreError::DataFile {
        path: path.display().to_string(),
        source: e,
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                for file in [path.to_path_buf(), suffixed(path, "-wal"), suffixed(path, "-shm")] {
                    if let Ok(meta) = std::fs::metadata(&file)
                        && meta.permissions().mode() & 0o077 != 0
                    {
                        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
                    }
                }
            }
            Err(e) => return Err(io(e)),
        }
    }
    #[cfg(not(unix))]
    let _ = io;
    Ok(())
}

fn suffixed(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(suffix);
    name.into()
}

/// Creates the data folder `dir` (and its parents) readable by its owner only (0700).
pub fn create_data_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

impl Tx {
    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}
