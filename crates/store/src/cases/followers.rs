//! "Me too" (我也遇到/关注): residents follow public cases near them. The public cases are the open
//! ones (outcome `open`), whatever their channel, as Open311's public `GET requests` lists them;
//! the caller never shows their reporter. Following twice is one follow (the key); following and
//! unfollowing are audited under `resident:ID` in the same transaction.

use chrono::{DateTime, Utc};
use gongzhi_core::audit::{AuditKey, NewAuditEntry};
use gongzhi_core::people::resident::resident_actor;
use serde_json::json;

use super::{CASE_COLUMNS, CaseRecord, CaseRow};
use crate::db::{Db, Tx};
use crate::error::StoreError;

/// A public case with how many residents follow it.
#[derive(Debug, Clone)]
pub struct FollowedCase {
    pub record: CaseRecord,
    pub followers: i64,
}

#[derive(sqlx::FromRow)]
struct CountedRow {
    #[sqlx(flatten)]
    case: CaseRow,
    followers: i64,
}

fn counted(rows: Vec<CountedRow>) -> Result<Vec<FollowedCase>, StoreError> {
    rows.into_iter()
        .map(|r| {
            Ok(FollowedCase {
                record: CaseRecord::try_from(r.case)?,
                followers: r.followers,
            })
        })
        .collect()
}

const FOLLOWERS: &str = "(SELECT COUNT(*) FROM case_followers f WHERE f.case_id = cases.id) AS followers";

async fn audit(
    tx: &mut Tx,
    key: &AuditKey,
    at: DateTime<Utc>,
    resident_id: i64,
    action: &str,
    number: &str,
) -> Result<(), StoreError> {
    let actor = resident_actor(resident_id);
    let entry = NewAuditEntry::new(at, &actor, action, "case", number, json!({}))?;
    crate::audit::append(tx, key, entry).await?;
    Ok(())
}

pub(crate) const FOLLOWER_COUNT_SQL: &str = "SELECT COUNT(*) FROM case_followers WHERE case_id = $1";

impl Db {
    /// Open cases with a point inside a box (WGS-84), newest first, with their followers; the
    /// caller measures the distance.
    pub async fn public_cases_in_box(
        &self,
        (min_lon, min_lat, max_lon, max_lat): (f64, f64, f64, f64),
        limit: i64,
    ) -> Result<Vec<FollowedCase>, StoreError> {
        let sql = format!(
            "SELECT {CASE_COLUMNS}, {FOLLOWERS} FROM cases WHERE outcome = 'open' AND lat BETWEEN $1 AND $2
             AND lon BETWEEN $3 AND $4 ORDER BY id DESC LIMIT $5"
        );
        let rows: Vec<CountedRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(min_lat).bind(max_lat).bind(min_lon).bind(max_lon).bind(limit).fetch_all(p).await)?;
        counted(rows)
    }

    /// Open cases of a community, newest first, with their followers.
    pub async fn public_cases_of_community(
        &self,
        community: &str,
        limit: i64,
    ) -> Result<Vec<FollowedCase>, StoreError> {
        let sql = format!(
            "SELECT {CASE_COLUMNS}, {FOLLOWERS} FROM cases WHERE community_code = $1 AND outcome = 'open'
             ORDER BY id DESC LIMIT $2"
        );
        let rows: Vec<CountedRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(community).bind(limit).fetch_all(p).await)?;
        counted(rows)
    }

    /// The cases a resident follows (open or not any more), the latest followed first.
    pub async fn cases_followed_by(&self, resident_id: i64, limit: i64) -> Result<Vec<FollowedCase>, StoreError> {
        let sql = format!(
            "SELECT {CASE_COLUMNS}, {FOLLOWERS} FROM cases JOIN case_followers mine ON mine.case_id = cases.id
             WHERE mine.resident_id = $1 ORDER BY mine.followed_at DESC, cases.id DESC LIMIT $2"
        );
        let rows: Vec<CountedRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(resident_id).bind(limit).fetch_all(p).await)?;
        counted(rows)
    }

    /// How many residents follow a case.
    pub async fn follower_count(&self, case_id: i64) -> Result<i64, StoreError> {
        on_pool!(self, p => sqlx::query_scalar(FOLLOWER_COUNT_SQL)
            .bind(case_id).fetch_one(p).await)
        .map_err(Into::into)
    }

    /// Whether a resident follows a case.
    pub async fn follows(&self, case_id: i64, resident_id: i64) -> Result<bool, StoreError> {
        let n: i64 = on_pool!(self, p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM case_followers WHERE case_id = $1 AND resident_id = $2")
            .bind(case_id).bind(resident_id).fetch_one(p).await)?;
        Ok(n > 0)
    }

    /// A resident follows a case, audited. Following again changes nothing; returns whether this
    /// follow is new.
    pub async fn follow_case(
        &self,
        case: &CaseRecord,
        resident_id: i64,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let added = on_tx!(&mut tx, conn => sqlx::query(
            "INSERT INTO case_followers (case_id, resident_id, followed_at) VALUES ($1, $2, $3)
             ON CONFLICT (case_id, resident_id) DO NOTHING")
            .bind(case.id).bind(resident_id).bind(now).execute(conn).await.map(|r| r.rows_affected()))?;
        if added == 0 {
            return Ok(false);
        }
        audit(&mut tx, key, now, resident_id, "case.follow", case.flow.number.as_str()).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A resident stops following a case, audited. Returns whether they followed it.
    pub async fn unfollow_case(
        &self,
        case: &CaseRecord,
        resident_id: i64,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let removed = on_tx!(&mut tx, conn => sqlx::query(
            "DELETE FROM case_followers WHERE case_id = $1 AND resident_id = $2")
            .bind(case.id).bind(resident_id).execute(conn).await.map(|r| r.rows_affected()))?;
        if removed == 0 {
            return Ok(false);
        }
        audit(
            &mut tx,
            key,
            now,
            resident_id,
            "case.unfollow",
            case.flow.number.as_str(),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}
