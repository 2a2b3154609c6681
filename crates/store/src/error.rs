use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL {0:?}: use sqlite:… or postgres://…")]
    UnsupportedUrl(String),
    /// A maintenance operation that cannot be done on this data (said why).
    #[error("{0}")]
    CannotDo(String),
    #[error("stored data is not valid ({what}): {detail}")]
    Corrupt { what: &'static str, detail: String },
    #[error(transparent)]
    Import(#[from] gongzhi_core::territory::geojson::ImportError),
    #[error("{what} {id} was changed by someone else meanwhile")]
    Conflict { what: &'static str, id: String },
    #[error("database file {path}: {source}")]
    DataFile { path: String, source: std::io::Error },
    /// The database takes no writes (or no requests) now: a full disk, a read-only file, a
    /// server that is down or restarting. Worth trying again later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("attachment file {path}: {source}")]
    Blob { path: String, source: std::io::Error },
    #[error("no attachment has id {0}")]
    UnknownAttachment(gongzhi_core::cases::attachment::AttachmentId),
    /// A registry record refers to something that does not exist (a household, building …).
    #[error("no {what} has id {id}")]
    Unknown { what: &'static str, id: String },
    #[error(transparent)]
    Audit(#[from] gongzhi_core::audit::AuditError),
    #[error("invalid node {code}: {source}")]
    InvalidNode {
        code: String,
        source: gongzhi_core::territory::NodeError,
    },
}

impl StoreError {
    /// Whether the database itself is unavailable (a full disk, a read-only or vanished file, a
    /// database server that is down, restarting or out of connections), not the request wrong:
    /// answered 503, and worth trying again.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Unavailable(_) => true,
            StoreError::Database(e) => sqlx_unavailable(e),
            StoreError::Blob { source, .. } | StoreError::DataFile { source, .. } => matches!(
                source.kind(),
                std::io::ErrorKind::StorageFull
                    | std::io::ErrorKind::ReadOnlyFilesystem
                    | std::io::ErrorKind::QuotaExceeded
            ),
            _ => false,
        }
    }
}

fn sqlx_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            let Some(code) = db.code() else { return false };
            if let Ok(sqlite) = code.parse::<i32>() {
                // SQLite's primary result code is the low byte of the extended one.
                const BUSY: i32 = 5;
                const READONLY: i32 = 8;
                const IOERR: i32 = 10;
                const FULL: i32 = 13;
                const CANTOPEN: i32 = 14;
                matches!(sqlite & 0xff, BUSY | READONLY | IOERR | FULL | CANTOPEN)
            } else {
                // PostgreSQL's SQLSTATE classes: 08 connection exception, 53 insufficient
                // resources (53100 disk full), 57P01–57P03 shutting down or starting up, 58 system
                // error (an I/O error).
                code.starts_with("08")
                    || code.starts_with("53")
                    || code.starts_with("58")
                    || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")
            }
        }
        _ => false,
    }
}
