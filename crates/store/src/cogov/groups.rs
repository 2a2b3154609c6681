//! Community groups: staff create them, residents join, post and reply, community staff hide a
//! post or reply with a reason. Every change is audited in its own transaction.

use chrono::{DateTime, Utc};
use gongzhi_core::audit::AuditKey;
use gongzhi_core::people::resident::resident_actor;
use serde_json::json;

use super::audit;
use crate::db::Db;
use crate::error::StoreError;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Group {
    pub id: i64,
    pub community_code: String,
    pub place_code: String,
    pub name: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// A post or a reply, with its author's display name (never the phone).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Post {
    pub id: i64,
    pub group_id: i64,
    pub parent_id: Option<i64>,
    pub resident_id: i64,
    pub display_name: Option<String>,
    pub body: String,
    pub posted_at: DateTime<Utc>,
    pub hidden_by: Option<String>,
    pub hidden_at: Option<DateTime<Utc>>,
    pub hidden_reason: Option<String>,
}

const GROUP_COLUMNS: &str = "id, community_code, place_code, name, created_by, created_at";
const POST_COLUMNS: &str = "p.id, p.group_id, p.parent_id, p.resident_id, r.display_name, p.body, p.posted_at, p.hidden_by, p.hidden_at, p.hidden_reason";

impl Db {
    /// Creates a group for a community, a grid or a building; `Conflict` when the place has a
    /// group of that name.
    pub async fn create_group(
        &self,
        community_code: &str,
        place_code: &str,
        name: &str,
        by: &str,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin().await?;
        let taken: i64 = on_tx!(&mut tx, conn => sqlx::query_scalar(
            "SELECT COUNT(*) FROM cogov_groups WHERE place_code = $1 AND name = $2")
            .bind(place_code).bind(name).fetch_one(conn).await)?;
        if taken > 0 {
            return Err(StoreError::Conflict {
                what: "group",
                id: name.to_string(),
            });
        }
        let id: i64 = on_tx!(&mut tx, conn => sqlx::query_scalar(
            "INSERT INTO cogov_groups (community_code, place_code, name, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(community_code).bind(place_code).bind(name).bind(by).bind(now).fetch_one(conn).await)?;
        audit(
            &mut tx,
            key,
            now,
            by,
            "cogov.group.create",
            "group",
            &id.to_string(),
            json!({"community": community_code, "place": place_code, "name": name}),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn group(&self, id: i64) -> Result<Option<Group>, StoreError> {
        let sql = format!("SELECT {GROUP_COLUMNS} FROM cogov_groups WHERE id = $1");
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(id).fetch_optional(p).await)?)
    }

    /// The groups of a community (or of all when `None`), by place and name.
    pub async fn groups(&self, community_code: Option<&str>) -> Result<Vec<Group>, StoreError> {
        let sql = format!(
            "SELECT {GROUP_COLUMNS} FROM cogov_groups WHERE ($1 IS NULL OR community_code = $1) ORDER BY place_code, name LIMIT 500"
        );
        Ok(
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(community_code).fetch_all(p).await)?,
        )
    }

    /// The ids of the groups a resident joined.
    pub async fn joined_groups(&self, resident_id: i64) -> Result<Vec<i64>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_scalar(
            "SELECT group_id FROM cogov_group_members WHERE resident_id = $1").bind(resident_id).fetch_all(p).await)?)
    }

    /// Joins a group, audited; `false` when already a member.
    pub async fn join_group(
        &self,
        group_id: i64,
        resident_id: i64,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let added = on_tx!(&mut tx, conn => sqlx::query(
            "INSERT INTO cogov_group_members (group_id, resident_id, joined_at) VALUES ($1, $2, $3)
             ON CONFLICT (group_id, resident_id) DO NOTHING")
            .bind(group_id).bind(resident_id).bind(now).execute(conn).await.map(|r| r.rows_affected()))?;
        if added == 0 {
            return Ok(false);
        }
        let actor = resident_actor(resident_id);
        audit(
            &mut tx,
            key,
            now,
            &actor,
            "cogov.group.join",
            "group",
            &group_id.to_string(),
            json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A post (or, with `parent`, a reply) by a resident, audited.
    pub async fn add_post(
        &self,
        group_id: i64,
        parent: Option<i64>,
        resident_id: i64,
        body: &str,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin().await?;
        let id: i64 = on_tx!(&mut tx, conn => sqlx::query_scalar(
            "INSERT INTO cogov_posts (group_id, parent_id, resident_id, body, posted_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(group_id).bind(parent).bind(resident_id).bind(body).bind(now).fetch_one(conn).await)?;
        let actor = resident_actor(resident_id);
        let action = if parent.is_some() {
            "cogov.post.reply"
        } else {
            "cogov.post.create"
        };
        audit(
            &mut tx,
            key,
            now,
            &actor,
            action,
            "post",
            &id.to_string(),
            json!({"group": group_id, "parent": parent}),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Every post and reply of a group, oldest first, hidden ones included (the caller filters).
    pub async fn posts(&self, group_id: i64) -> Result<Vec<Post>, StoreError> {
        let sql = format!(
            "SELECT {POST_COLUMNS} FROM cogov_posts p JOIN residents r ON r.id = p.resident_id WHERE p.group_id = $1 ORDER BY p.id LIMIT 2000"
        );
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(group_id).fetch_all(p).await)?)
    }

    pub async fn post(&self, id: i64) -> Result<Option<Post>, StoreError> {
        let sql = format!(
            "SELECT {POST_COLUMNS} FROM cogov_posts p JOIN residents r ON r.id = p.resident_id WHERE p.id = $1"
        );
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(id).fetch_optional(p).await)?)
    }

    /// Hides a post or reply with a reason, audited; `false` when it was hidden already.
    pub async fn hide_post(
        &self,
        id: i64,
        reason: &str,
        by: &str,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let changed = on_tx!(&mut tx, conn => sqlx::query(
            "UPDATE cogov_posts SET hidden_by = $1, hidden_at = $2, hidden_reason = $3 WHERE id = $4 AND hidden_at IS NULL")
            .bind(by).bind(now).bind(reason).bind(id).execute(conn).await.map(|r| r.rows_affected()))?;
        if changed == 0 {
            return Ok(false);
        }
        audit(
            &mut tx,
            key,
            now,
            by,
            "cogov.post.hide",
            "post",
            &id.to_string(),
            json!({"reason": reason}),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The display name a resident chose, if any.
    pub async fn resident_display_name(&self, resident_id: i64) -> Result<Option<String>, StoreError> {
        let name: Option<Option<String>> = on_pool!(self, p => sqlx::query_scalar(
            "SELECT display_name FROM residents WHERE id = $1").bind(resident_id).fetch_optional(p).await)?;
        Ok(name.flatten())
    }

    /// Keeps the display name a resident chose, audited.
    pub async fn set_display_name(
        &self,
        resident_id: i64,
        name: &str,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, conn => sqlx::query("UPDATE residents SET display_name = $1 WHERE id = $2")
            .bind(name).bind(resident_id).execute(conn).await.map(|r| r.rows_affected()))?;
        let actor = resident_actor(resident_id);
        audit(
            &mut tx,
            key,
            now,
            &actor,
            "cogov.resident.display_name",
            "resident",
            &actor,
            json!({"display_name": name}),
        )
        .await?;
        tx.commit().await
    }
}
