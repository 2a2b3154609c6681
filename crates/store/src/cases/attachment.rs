//! Attachments: the files in the data folder ([`Blobs`]) and their rows (`attachments`).
//!
//! A file is written before its row, atomically (a temporary file in the same folder, synced,
//! then renamed), so a row never points at a missing or half-written file; a crash between the
//! two leaves at most an unreferenced file, which the next upload of the same photo reuses.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use gongzhi_core::cases::attachment::{AttachmentId, CheckedUpload, ContentAddress, MediaType};
use serde::Serialize;

use crate::db::{Db, Tx};
use crate::error::StoreError;

/// The attachment files, content-addressed under `DATA_DIR/attachments/ab/cdef…`.
#[derive(Debug, Clone)]
pub struct Blobs {
    root: PathBuf,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn io_error(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Blob {
        path: path.display().to_string(),
        source,
    }
}

impl Blobs {
    /// The attachment files of a data folder (`DIR/attachments`); folders are created on the
    /// first write.
    pub fn in_data_dir(data_dir: &Path) -> Blobs {
        Blobs {
            root: data_dir.join("attachments"),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the file with this content lives.
    pub fn path_of(&self, address: &ContentAddress) -> PathBuf {
        let (folder, name) = address.shard();
        self.root.join(folder).join(name)
    }

    /// Stores `bytes` under their address, unless a file is already there. Returns whether it
    /// wrote. `address` must be the SHA-256 of `bytes` (a [`CheckedUpload`] guarantees it).
    pub async fn put(&self, address: &ContentAddress, bytes: Vec<u8>) -> Result<bool, StoreError> {
        let path = self.path_of(address);
        tokio::task::spawn_blocking(move || write_atomically(&path, &bytes))
            .await
            .map_err(|e| StoreError::Blob {
                path: "attachment writer".into(),
                source: std::io::Error::other(e),
            })?
    }

    /// The bytes stored under `address`, checked against it: a file that was changed or
    /// damaged on disk is an error, never served as the photo.
    pub async fn get(&self, address: &ContentAddress) -> Result<Vec<u8>, StoreError> {
        let path = self.path_of(address);
        let address = address.clone();
        tokio::task::spawn_blocking(move || {
            let bytes = std::fs::read(&path).map_err(|e| io_error(&path, e))?;
            if ContentAddress::of(&bytes) != address {
                return Err(StoreError::Corrupt {
                    what: "attachment file",
                    detail: format!("{} does not match its SHA-256", path.display()),
                });
            }
            Ok(bytes)
        })
        .await
        .map_err(|e| StoreError::Blob {
            path: "attachment reader".into(),
            source: std::io::Error::other(e),
        })?
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<bool, StoreError> {
    if path.exists() {
        return Ok(false);
    }
    let folder = path.parent().expect("a blob path has a folder");
    std::fs::create_dir_all(folder).map_err(|e| io_error(folder, e))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("blob");
    let temp = folder.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let written = (|| {
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        // Renaming over a file that another upload of the same photo just wrote is harmless:
        // the content is the same.
        std::fs::rename(&temp, path)?;
        // The rename itself is durable only once the folder is synced.
        std::fs::File::open(folder)?.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(io_error(path, e));
    }
    Ok(true)
}

/// What is known about a stored attachment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attachment {
    pub id: AttachmentId,
    pub sha256: ContentAddress,
    pub media_type: MediaType,
    pub size: u64,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub created_at: DateTime<Utc>,
    /// Who first uploaded this content.
    pub created_by: String,
}

/// The result of [`Db::save_attachment`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    pub attachment: Attachment,
    /// False when the same content was already stored: the existing attachment is returned.
    pub created: bool,
}

#[derive(sqlx::FromRow)]
struct AttachmentRow {
    id: i64,
    sha256: String,
    media_type: String,
    size: i64,
    width: Option<i64>,
    height: Option<i64>,
    created_at: DateTime<Utc>,
    created_by: String,
}

const COLUMNS: &str = "id, sha256, media_type, size, width, height, created_at, created_by";

fn corrupt(detail: impl ToString) -> StoreError {
    StoreError::Corrupt {
        what: "attachment",
        detail: detail.to_string(),
    }
}

impl TryFrom<AttachmentRow> for Attachment {
    type Error = StoreError;
    fn try_from(r: AttachmentRow) -> Result<Attachment, StoreError> {
        let dimension = |v: Option<i64>| v.map(u32::try_from).transpose().map_err(corrupt);
        Ok(Attachment {
            id: AttachmentId(r.id),
            sha256: ContentAddress::parse(&r.sha256).map_err(corrupt)?,
            media_type: r.media_type.parse().map_err(corrupt)?,
            size: u64::try_from(r.size).map_err(corrupt)?,
            width: dimension(r.width)?,
            height: dimension(r.height)?,
            created_at: r.created_at,
            created_by: r.created_by,
        })
    }
}

impl Db {
    /// Keeps a checked upload: its file under its content address, then its row. The same
    /// content uploaded again (by anyone) gives the existing attachment, `created: false`.
    pub async fn save_attachment(&self, blobs: &Blobs, upload: &CheckedUpload, who: &str) -> Result<Saved, StoreError> {
        blobs.put(upload.sha256(), upload.bytes().to_vec()).await?;
        let size = i64::try_from(upload.size()).map_err(corrupt)?;
        let inserted: Option<i64> = on_pool!(self, p => sqlx::query_scalar(
            "INSERT INTO attachments (sha256, media_type, size, width, height, created_at, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (sha256) DO NOTHING
             RETURNING id")
            .bind(upload.sha256().as_str())
            .bind(upload.media_type().as_str())
            .bind(size)
            .bind(i64::from(upload.width()))
            .bind(i64::from(upload.height()))
            .bind(Utc::now())
            .bind(who)
            .fetch_optional(p)
            .await)?;
        let attachment = self
            .attachment_by_address(upload.sha256())
            .await?
            .ok_or_else(|| corrupt(format!("row for {} vanished after insert", upload.sha256())))?;
        // Everyone who sent these bytes may read them back (see `uploaded_by`).
        on_pool!(self, p => sqlx::query(
            "INSERT INTO attachment_uploads (attachment_id, account) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(attachment.id.0).bind(who).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(Saved {
            created: inserted.is_some(),
            attachment,
        })
    }

    /// An attachment's row, if it exists.
    pub async fn attachment(&self, id: AttachmentId) -> Result<Option<Attachment>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM attachments WHERE id = $1");
        let row: Option<AttachmentRow> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id.0).fetch_optional(p).await)?;
        row.map(Attachment::try_from).transpose()
    }

    /// Whether `account` uploaded the attachment (first, or the same content again).
    pub async fn uploaded_by(&self, id: AttachmentId, account: &str) -> Result<bool, StoreError> {
        let found: Option<i64> = on_pool!(self, p => sqlx::query_scalar(
            "SELECT attachment_id FROM attachment_uploads WHERE attachment_id = $1 AND account = $2")
            .bind(id.0).bind(account).fetch_optional(p).await)?;
        Ok(found.is_some())
    }

    pub async fn attachment_by_address(&self, address: &ContentAddress) -> Result<Option<Attachment>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM attachments WHERE sha256 = $1");
        let row: Option<AttachmentRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(address.as_str()).fetch_optional(p).await)?;
        row.map(Attachment::try_from).transpose()
    }

    /// An attachment with its bytes (checked against its SHA-256), if it exists.
    pub async fn open_attachment(
        &self,
        blobs: &Blobs,
        id: AttachmentId,
    ) -> Result<Option<(Attachment, Vec<u8>)>, StoreError> {
        let Some(attachment) = self.attachment(id).await? else {
            return Ok(None);
        };
        let bytes = blobs.get(&attachment.sha256).await?;
        Ok(Some((attachment, bytes)))
    }
}

/// The attachment ids a timeline entry's body names: a report's `photos`, an action's
/// `action.photos` (ids as text or numbers; anything else names none).
pub(crate) fn photos_named(body: &serde_json::Value) -> Vec<i64> {
    [body.get("photos"), body.pointer("/action/photos")]
        .into_iter()
        .flatten()
        .filter_map(serde_json::Value::as_array)
        .flatten()
        .filter_map(|v| match v {
            serde_json::Value::String(s) => s.parse().ok(),
            other => other.as_i64(),
        })
        .collect()
}

impl Tx {
    /// Remembers that the case `case_id` holds the photos a timeline entry's body names (those
    /// stored; the caller checked them), so that whoever may see the case may read them.
    pub(crate) async fn link_photos(&mut self, case_id: i64, body: &serde_json::Value) -> Result<(), StoreError> {
        for id in photos_named(body) {
            on_tx!(self, conn => sqlx::query(
                "INSERT INTO case_attachments (case_id, attachment_id)
                 SELECT $1, id FROM attachments WHERE id = $2
                 ON CONFLICT DO NOTHING")
                .bind(case_id).bind(id).execute(conn).await.map(|r| r.rows_affected()))?;
        }
        Ok(())
    }

    /// The attachments with these ids, in the order given, inside a transaction: for a case
    /// step that refers to uploaded photos. An id that does not exist is an error, so the step
    /// is not written.
    pub async fn require_attachments(&mut self, ids: &[AttachmentId]) -> Result<Vec<Attachment>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM attachments WHERE id = $1");
        let mut found = Vec::with_capacity(ids.len());
        for &id in ids {
            let row: Option<AttachmentRow> = on_tx!(self, conn => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(id.0).fetch_optional(conn).await)?;
            found.push(
                row.map(Attachment::try_from)
                    .transpose()?
                    .ok_or(StoreError::UnknownAttachment(id))?,
            );
        }
        Ok(found)
    }
}
