//! Residents signed in by phone with a one-time code: the accounts (a keyed hash of the phone for
//! lookup, its mask for display, never the number), the codes (keyed hashes, expiry, failed tries)
//! and the residents' own sessions. Each sign-in and sign-out is audited under `resident:ID`.

use chrono::{DateTime, Duration, Utc};
use gongzhi_core::audit::AuditKey;
use gongzhi_core::people::resident::{StoredCode, resident_actor};
use serde_json::json;

use super::sessions::audit;
use crate::db::Db;
use crate::error::StoreError;

/// A resident account: the masked phone only.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Resident {
    pub id: i64,
    pub phone_masked: String,
    pub created_at: DateTime<Utc>,
}

impl Resident {
    /// The name the resident acts under (`resident:ID`).
    pub fn actor(&self) -> String {
        resident_actor(self.id)
    }
}

/// A live resident session.
#[derive(Debug, Clone)]
pub struct ResidentSession {
    pub resident: Resident,
    pub csrf_token: String,
    pub last_seen_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct CodeRow {
    code_hash: String,
    sent_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    attempts: i64,
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    csrf_token: String,
    last_seen_at: DateTime<Utc>,
    id: i64,
    phone_masked: String,
    created_at: DateTime<Utc>,
}

impl Db {
    /// The code last sent to a phone (by its lookup hash), if any.
    pub async fn resident_code(&self, phone_hash: &str) -> Result<Option<StoredCode>, StoreError> {
        let row: Option<CodeRow> = on_pool!(self, p => sqlx::query_as(
            "SELECT code_hash, sent_at, expires_at, attempts FROM resident_codes WHERE phone_hash = $1")
            .bind(phone_hash).fetch_optional(p).await)?;
        Ok(row.map(|r| StoredCode {
            code_hash: r.code_hash,
            sent_at: r.sent_at,
            expires_at: r.expires_at,
            attempts: r.attempts,
        }))
    }

    /// Keeps a new code for a phone, replacing any earlier one.
    pub async fn put_resident_code(
        &self,
        phone_hash: &str,
        code_hash: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, conn => sqlx::query("DELETE FROM resident_codes WHERE phone_hash = $1")
            .bind(phone_hash).execute(conn).await.map(|r| r.rows_affected()))?;
        on_tx!(&mut tx, conn => sqlx::query(
            "INSERT INTO resident_codes (phone_hash, code_hash, sent_at, expires_at, attempts) VALUES ($1, $2, $3, $4, 0)")
            .bind(phone_hash).bind(code_hash).bind(now).bind(now + ttl)
            .execute(conn).await.map(|r| r.rows_affected()))?;
        tx.commit().await
    }

    /// Counts a wrong code.
    pub async fn count_resident_code_failure(&self, phone_hash: &str) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query("UPDATE resident_codes SET attempts = attempts + 1 WHERE phone_hash = $1")
            .bind(phone_hash).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Signs a resident in after a correct code: uses the code up, creates the resident on the
    /// first sign-in, starts a session and audits it. Returns the resident.
    #[allow(clippy::too_many_arguments)]
    pub async fn start_resident_session(
        &self,
        phone_hash: &str,
        phone_masked: &str,
        secret_hash: &str,
        csrf_token: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<Resident, StoreError> {
        let mut tx = self.begin().await?;
        // The code is good once: whoever deletes it first signs in.
        let used = on_tx!(&mut tx, conn => sqlx::query("DELETE FROM resident_codes WHERE phone_hash = $1")
            .bind(phone_hash).execute(conn).await.map(|r| r.rows_affected()))?;
        if used == 0 {
            return Err(StoreError::Conflict {
                what: "resident code",
                id: phone_masked.to_string(),
            });
        }
        let existing: Option<i64> = on_tx!(&mut tx, conn => sqlx::query_scalar(
            "SELECT id FROM residents WHERE phone_hash = $1").bind(phone_hash).fetch_optional(conn).await)?;
        let (id, created) = match existing {
            Some(id) => (id, false),
            None => {
                let id: i64 = on_tx!(&mut tx, conn => sqlx::query_scalar(
                    "INSERT INTO residents (phone_hash, phone_masked, created_at) VALUES ($1, $2, $3) RETURNING id")
                    .bind(phone_hash).bind(phone_masked).bind(now).fetch_one(conn).await)?;
                (id, true)
            }
        };
        on_tx!(&mut tx, conn => sqlx::query("UPDATE residents SET last_sign_in_at = $1 WHERE id = $2")
            .bind(now).bind(id).execute(conn).await.map(|r| r.rows_affected()))?;
        on_tx!(&mut tx, conn => sqlx::query(
            "INSERT INTO resident_sessions (secret_hash, resident_id, csrf_token, created_at, last_seen_at, expires_at)
             VALUES ($1, $2, $3, $4, $4, $5)")
            .bind(secret_hash).bind(id).bind(csrf_token).bind(now).bind(expires_at)
            .execute(conn).await.map(|r| r.rows_affected()))?;
        let actor = resident_actor(id);
        audit(
            &mut tx,
            key,
            now,
            &actor,
            "people.resident.sign_in",
            &actor,
            json!({"via": "sms_code", "phone": phone_masked, "new": created, "expires_at": expires_at}),
        )
        .await?;
        tx.commit().await?;
        let created_at: DateTime<Utc> = on_pool!(self, p => sqlx::query_scalar(
            "SELECT created_at FROM residents WHERE id = $1").bind(id).fetch_one(p).await)?;
        Ok(Resident {
            id,
            phone_masked: phone_masked.to_string(),
            created_at,
        })
    }

    /// The live resident session behind a cookie: not ended, not expired, used within `idle`.
    pub async fn live_resident_session(
        &self,
        secret_hash: &str,
        now: DateTime<Utc>,
        idle: Duration,
    ) -> Result<Option<ResidentSession>, StoreError> {
        let row: Option<SessionRow> = on_pool!(self, p => sqlx::query_as(
            "SELECT s.csrf_token, s.last_seen_at, r.id, r.phone_masked, r.created_at
             FROM resident_sessions s JOIN residents r ON r.id = s.resident_id
             WHERE s.secret_hash = $1 AND s.ended_at IS NULL AND s.expires_at > $2 AND s.last_seen_at > $3")
            .bind(secret_hash).bind(now).bind(now - idle).fetch_optional(p).await)?;
        Ok(row.map(|r| ResidentSession {
            resident: Resident {
                id: r.id,
                phone_masked: r.phone_masked,
                created_at: r.created_at,
            },
            csrf_token: r.csrf_token,
            last_seen_at: r.last_seen_at,
        }))
    }

    pub async fn touch_resident_session(&self, secret_hash: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query("UPDATE resident_sessions SET last_seen_at = $1 WHERE secret_hash = $2 AND ended_at IS NULL")
            .bind(now).bind(secret_hash).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Ends a resident session (sign-out), audited.
    pub async fn end_resident_session(
        &self,
        secret_hash: &str,
        resident: &Resident,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let ended = on_tx!(&mut tx, conn => sqlx::query(
            "UPDATE resident_sessions SET ended_at = $1 WHERE secret_hash = $2 AND ended_at IS NULL")
            .bind(now).bind(secret_hash).execute(conn).await.map(|r| r.rows_affected()))?;
        if ended > 0 {
            let actor = resident.actor();
            audit(&mut tx, key, now, &actor, "people.resident.sign_out", &actor, json!({})).await?;
        }
        tx.commit().await
    }
}
