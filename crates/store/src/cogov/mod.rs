//! Co-governance in the palm community: the community each resident picked, and notices published
//! to a community or a grid. Every change is audited in its own transaction.

pub mod agreements;
pub mod groups;
pub mod meetings;
pub mod orders;
pub mod surveys;

use chrono::{DateTime, Utc};
use gongzhi_core::audit::{AuditKey, NewAuditEntry};
use gongzhi_core::cogov::{NoticeDraft, NoticeKind};
use gongzhi_core::people::resident::resident_actor;
use serde_json::{Value, json};

use crate::db::{Db, Tx};
use crate::error::StoreError;

#[allow(clippy::too_many_arguments)]
async fn audit(
    tx: &mut Tx,
    key: &AuditKey,
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    subject_kind: &str,
    subject: &str,
    detail: Value,
) -> Result<(), StoreError> {
    let entry = NewAuditEntry::new(at, actor, action, subject_kind, subject, detail)?;
    crate::audit::append(tx, key, entry).await?;
    Ok(())
}

/// A published notice.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Notice {
    pub id: i64,
    pub community_code: String,
    pub grid_code: Option<String>,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub published_by: String,
    pub published_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub withdrawn_by: Option<String>,
    pub withdrawn_at: Option<DateTime<Utc>>,
}

impl Notice {
    pub fn kind(&self) -> NoticeKind {
        NoticeKind::parse(&self.kind).unwrap_or(NoticeKind::Notice)
    }

    /// Whether residents see it at `now`: not withdrawn, not expired.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.withdrawn_at.is_none() && self.expires_at.is_none_or(|e| e > now)
    }
}

const NOTICE_COLUMNS: &str = "id, community_code, grid_code, kind, title, body, published_by, published_at, expires_at, withdrawn_by, withdrawn_at";

impl Db {
    /// The community a resident picked, if any.
    pub async fn resident_community(&self, resident_id: i64) -> Result<Option<String>, StoreError> {
        let code: Option<Option<String>> = on_pool!(self, p => sqlx::query_scalar(
            "SELECT community_code FROM residents WHERE id = $1").bind(resident_id).fetch_optional(p).await)?;
        Ok(code.flatten())
    }

    /// Keeps the community a resident picked, audited under `resident:ID`.
    pub async fn set_resident_community(
        &self,
        resident_id: i64,
        community_code: &str,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, conn => sqlx::query("UPDATE residents SET community_code = $1 WHERE id = $2")
            .bind(community_code).bind(resident_id).execute(conn).await.map(|r| r.rows_affected()))?;
        let actor = resident_actor(resident_id);
        audit(
            &mut tx,
            key,
            now,
            &actor,
            "cogov.resident.community",
            "resident",
            &actor,
            json!({"community": community_code}),
        )
        .await?;
        tx.commit().await
    }

    /// Publishes a notice to a community (or one grid of it), audited.
    #[allow(clippy::too_many_arguments)]
    pub async fn publish_notice(
        &self,
        community_code: &str,
        grid_code: Option<&str>,
        draft: &NoticeDraft,
        by: &str,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin().await?;
        let id: i64 = on_tx!(&mut tx, conn => sqlx::query_scalar(
            "INSERT INTO cogov_notices (community_code, grid_code, kind, title, body, published_by, published_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
            .bind(community_code).bind(grid_code).bind(draft.kind.as_str()).bind(&draft.title).bind(&draft.body)
            .bind(by).bind(now).bind(draft.expires_at).fetch_one(conn).await)?;
        audit(
            &mut tx,
            key,
            now,
            by,
            "cogov.notice.publish",
            "notice",
            &id.to_string(),
            json!({
                "community": community_code,
                "grid": grid_code,
                "kind": draft.kind.as_str(),
                "title": draft.title,
                "expires_at": draft.expires_at,
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Withdraws a live notice, audited. Returns whether it was live.
    pub async fn withdraw_notice(
        &self,
        id: i64,
        by: &str,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let changed = on_tx!(&mut tx, conn => sqlx::query(
            "UPDATE cogov_notices SET withdrawn_by = $1, withdrawn_at = $2 WHERE id = $3 AND withdrawn_at IS NULL")
            .bind(by).bind(now).bind(id).execute(conn).await.map(|r| r.rows_affected()))?;
        if changed == 0 {
            return Ok(false);
        }
        audit(
            &mut tx,
            key,
            now,
            by,
            "cogov.notice.withdraw",
            "notice",
            &id.to_string(),
            json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn notice(&self, id: i64) -> Result<Option<Notice>, StoreError> {
        let sql = format!("SELECT {NOTICE_COLUMNS} FROM cogov_notices WHERE id = $1");
        on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(id).fetch_optional(p).await)
            .map_err(Into::into)
    }

    /// The notices of a community, newest first (withdrawn and expired ones included: the caller
    /// filters with [`Notice::is_live`]).
    pub async fn notices_of_community(&self, community_code: &str) -> Result<Vec<Notice>, StoreError> {
        let sql =
            format!("SELECT {NOTICE_COLUMNS} FROM cogov_notices WHERE community_code = $1 ORDER BY id DESC LIMIT 200");
        on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(community_code).fetch_all(p).await)
            .map_err(Into::into)
    }

    /// The latest notices of every community, newest first; the caller keeps those in reach.
    pub async fn latest_notices(&self, limit: i64) -> Result<Vec<Notice>, StoreError> {
        let sql = format!("SELECT {NOTICE_COLUMNS} FROM cogov_notices ORDER BY id DESC LIMIT $1");
        on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(limit).fetch_all(p).await)
            .map_err(Into::into)
    }
}
