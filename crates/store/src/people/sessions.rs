//! Web sessions of staff: started at sign-in, ended at sign-out, idle or absolute expiry; and the
//! account state the sign-in policy keeps (failed attempts, lockout, password changes). Every
//! sign-in, failure, lockout, sign-out and password change is audited in its own transaction.

use chrono::{DateTime, Duration, Utc};
use gongzhi_core::audit::{AuditKey, NewAuditEntry};
use gongzhi_core::people::Actor;
use serde_json::{Value, json};

use super::{ACCOUNT_COLUMNS, Account};
use crate::db::{Db, Tx};
use crate::error::StoreError;

/// A live session and who holds it.
#[derive(Debug, Clone)]
pub struct Session {
    pub account: Account,
    pub actor: Actor,
    pub csrf_token: String,
    pub last_seen_at: DateTime<Utc>,
}

/// How a failed sign-in left the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Wrong password; this many failures in a row so far.
    Counted(i64),
    /// This failure reached the limit: locked until then.
    Locked(DateTime<Utc>),
}

/// Appends one audit entry inside `tx`.
pub(crate) async fn audit(
    tx: &mut Tx,
    key: &AuditKey,
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    subject: &str,
    detail: Value,
) -> Result<(), StoreError> {
    let entry = NewAuditEntry::new(at, actor, action, "account", subject, detail)?;
    crate::audit::append(tx, key, entry).await?;
    Ok(())
}

impl Db {
    /// Counts a wrong password (or a sign-in to an account that is locked or inactive) and locks
    /// the account when `limit` failures in a row are reached.
    pub async fn record_failed_sign_in(
        &self,
        account: &Account,
        now: DateTime<Utc>,
        limit: i64,
        lock_for: Duration,
        source: &str,
        key: &AuditKey,
    ) -> Result<Failure, StoreError> {
        let mut tx = self.begin().await?;
        let failures: i64 = on_tx!(&mut tx, conn => sqlx::query_scalar(
            "UPDATE accounts SET failed_sign_ins = failed_sign_ins + 1 WHERE id = $1 RETURNING failed_sign_ins")
            .bind(account.id).fetch_one(conn).await)?;
        let outcome = if failures >= limit {
            let until = now + lock_for;
            on_tx!(&mut tx, conn => sqlx::query("UPDATE accounts SET locked_until = $1, failed_sign_ins = 0 WHERE id = $2")
                .bind(until).bind(account.id).execute(conn).await.map(|r| r.rows_affected()))?;
            Failure::Locked(until)
        } else {
            Failure::Counted(failures)
        };
        let detail = match outcome {
            Failure::Locked(until) => json!({"source": source, "failures": failures, "locked_until": until}),
            Failure::Counted(n) => json!({"source": source, "failures": n}),
        };
        audit(
            &mut tx,
            key,
            now,
            &account.username,
            "people.sign_in_failed",
            &account.username,
            detail,
        )
        .await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// A sign-in attempt with a user name no account has: audited, nothing else changes.
    pub async fn record_unknown_sign_in(
        &self,
        username: &str,
        now: DateTime<Utc>,
        source: &str,
        key: &AuditKey,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        // The attempted name is kept short: the record is not a place for whatever was typed.
        let name: String = username.chars().take(64).collect();
        audit(
            &mut tx,
            key,
            now,
            gongzhi_core::audit::SYSTEM_ACTOR,
            "people.sign_in_unknown",
            &name,
            json!({"source": source}),
        )
        .await?;
        tx.commit().await
    }

    /// Starts a session after a correct password: clears the failure count and any lockout.
    #[allow(clippy::too_many_arguments)]
    pub async fn start_session(
        &self,
        account: &Account,
        secret_hash: &str,
        csrf_token: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        source: &str,
        key: &AuditKey,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, conn => sqlx::query(
            "UPDATE accounts SET failed_sign_ins = 0, locked_until = NULL WHERE id = $1")
            .bind(account.id).execute(conn).await.map(|r| r.rows_affected()))?;
        on_tx!(&mut tx, conn => sqlx::query(
            "INSERT INTO sessions (secret_hash, account_id, csrf_token, created_at, last_seen_at, expires_at)
             VALUES ($1, $2, $3, $4, $4, $5)")
            .bind(secret_hash).bind(account.id).bind(csrf_token).bind(now).bind(expires_at)
            .execute(conn).await.map(|r| r.rows_affected()))?;
        audit(
            &mut tx,
            key,
            now,
            &account.username,
            "people.sign_in",
            &account.username,
            json!({"source": source, "via": "web", "expires_at": expires_at}),
        )
        .await?;
        tx.commit().await
    }

    /// The session behind a cookie, if it is live: not ended, not past its absolute expiry, used
    /// within `idle`, and its account active.
    pub async fn live_session(
        &self,
        secret_hash: &str,
        now: DateTime<Utc>,
        idle: Duration,
    ) -> Result<Option<Session>, StoreError> {
        let columns = ACCOUNT_COLUMNS
            .split(", ")
            .map(|c| format!("a.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT s.csrf_token, s.last_seen_at, {columns} FROM sessions s JOIN accounts a ON a.id = s.account_id
             WHERE s.secret_hash = $1 AND s.ended_at IS NULL AND s.expires_at > $2 AND s.last_seen_at > $3
             AND a.active = $4"
        );
        let row: Option<SessionRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(secret_hash).bind(now).bind(now - idle).bind(true).fetch_optional(p).await)?;
        let Some(row) = row else { return Ok(None) };
        let grants = self.grants_of(row.account.id).await?;
        Ok(Some(Session {
            actor: Actor {
                account: row.account.username.clone(),
                grants,
            },
            account: row.account,
            csrf_token: row.csrf_token,
            last_seen_at: row.last_seen_at,
        }))
    }

    /// Marks a session used now (callers do it at most once a minute, to spare the writer).
    pub async fn touch_session(&self, secret_hash: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE secret_hash = $2 AND ended_at IS NULL")
            .bind(now).bind(secret_hash).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Ends a session on the server (sign-out): the cookie is worthless afterwards.
    pub async fn end_session(
        &self,
        secret_hash: &str,
        username: &str,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let ended = on_tx!(&mut tx, conn => sqlx::query(
            "UPDATE sessions SET ended_at = $1 WHERE secret_hash = $2 AND ended_at IS NULL")
            .bind(now).bind(secret_hash).execute(conn).await.map(|r| r.rows_affected()))?;
        if ended > 0 {
            audit(&mut tx, key, now, username, "people.sign_out", username, json!({})).await?;
        }
        tx.commit().await
    }

    /// Sets a new password hash. `by` is the account itself (a change) or an administrator (a
    /// reset, which forces a change at the next sign-in). Other sessions of the account end.
    pub async fn set_password(
        &self,
        account: &Account,
        new_hash: &str,
        by: &str,
        keep_session: Option<&str>,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<(), StoreError> {
        let reset = by != account.username;
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, conn => sqlx::query(
            "UPDATE accounts SET password_hash = $1, password_changed_at = $2, must_change_password = $3,
             failed_sign_ins = 0, locked_until = NULL WHERE id = $4")
            .bind(new_hash).bind(now).bind(reset).bind(account.id)
            .execute(conn).await.map(|r| r.rows_affected()))?;
        on_tx!(&mut tx, conn => sqlx::query(
            "UPDATE sessions SET ended_at = $1 WHERE account_id = $2 AND ended_at IS NULL AND secret_hash <> $3")
            .bind(now).bind(account.id).bind(keep_session.unwrap_or(""))
            .execute(conn).await.map(|r| r.rows_affected()))?;
        let action = if reset {
            "people.password.reset"
        } else {
            "people.password.change"
        };
        audit(&mut tx, key, now, by, action, &account.username, json!({})).await?;
        tx.commit().await
    }
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    csrf_token: String,
    last_seen_at: DateTime<Utc>,
    #[sqlx(flatten)]
    account: Account,
}
