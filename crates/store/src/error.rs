use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL {0:?}: use sqlite:… or postgres://…")]
    UnsupportedUrl(String),
    #[error("stored data is not valid ({what}): {detail}")]
    Corrupt { what: &'static str, detail: String },
    #[error(transparent)]
    Import(#[from] gongzhi_core::territory::geojson::ImportError),
    #[error("{what} {id} was changed by someone else meanwhile")]
    Conflict { what: &'static str, id: String },
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
