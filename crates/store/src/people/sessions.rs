//! Web sessions of staff: started at sign-in, ended at sign-out, idle or absolute expiry; and the
//! state the sign-in policy keeps (failed attempts and lockouts per user name and source address,
//! password changes). Every sign-in, failure, lockout, sign-out and password change is audited in
//! its own transaction.

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

/// How a failed sign-in left the user name at its source address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Not locked (yet): this many failures in a row so far from that address.
    Counted(i64),
    /// This failure reached the limit: the address is locked out of the name until then.
    Locked(DateTime<Utc>),
}

/// A sign-in attempt as the lockout counts it: the user name typed, the source address, when.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    pub username: &'a str,
    pub source: &'a str,
    pub at: DateTime<Utc>,
}

/// The lockout rule: `failures` in a row (each within `window` of the last) lock the source out
/// of the name for `window`.
#[derive(Debug, Clone, Copy)]
pub struct Lockout {
    pub failures: i64,
    pub window: Duration,
}

/// A source address's lockout from an account, for the administration pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLock {
    pub source: String,
    pub until: DateTime<Utc>,
}

/// The name as the lockout keeps it: what was typed, cut short (the table is not a place for
/// whatever was typed).
fn kept_name(username: &str) -> String {
    username.chars().take(64).collect()
}

/// A correct sign-in from `source` (a session or a token starts in `tx`): clears that address's
/// failures for the account and appends `people.sign_in` with `detail`.
pub(crate) async fn signed_in(
    tx: &mut Tx,
    key: &AuditKey,
    at: DateTime<Utc>,
    account: &Account,
    source: &str,
    detail: Value,
) -> Result<(), StoreError> {
    on_tx!(tx, conn => sqlx::query("DELETE FROM sign_in_failures WHERE username = $1 AND source = $2")
        .bind(&account.username).bind(source).execute(conn).await.map(|r| r.rows_affected()))?;
    audit(
        tx,
        key,
        at,
        &account.username,
        "people.sign_in",
        &account.username,
        detail,
    )
    .await
}

/// Revokes every live API token of `account` inside `tx`; how many.
pub(crate) async fn revoke_tokens_of(tx: &mut Tx, account: &Account, now: DateTime<Utc>) -> Result<u64, StoreError> {
    Ok(
        on_tx!(tx, conn => sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL")
            .bind(now).bind(account.id).execute(conn).await.map(|r| r.rows_affected()))?,
    )
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
    /// When the lockout of `attempt`'s source from its user name ends, if one is in force.
    pub async fn sign_in_locked_until(&self, attempt: Attempt<'_>) -> Result<Option<DateTime<Utc>>, StoreError> {
        let until: Option<Option<DateTime<Utc>>> = on_pool!(self, p => sqlx::query_scalar(
            "SELECT locked_until FROM sign_in_failures WHERE username = $1 AND source = $2 AND locked_until > $3")
            .bind(kept_name(attempt.username)).bind(attempt.source).bind(attempt.at).fetch_optional(p).await)?;
        Ok(until.flatten())
    }

    /// Counts a failed sign-in: a wrong password, an inactive account, or (`account` `None`) a
    /// name no account has, counted all the same so that a lockout does not tell whether a name
    /// exists. `rule.failures` in a row from the attempt's source lock that source out of the
    /// name; other sources are not affected. Audited as `people.sign_in_failed` under the account
    /// or `people.sign_in_unknown` under the system. Counts gone quiet are cleared on the way.
    pub async fn record_failed_sign_in(
        &self,
        attempt: Attempt<'_>,
        account: Option<&Account>,
        rule: Lockout,
        key: &AuditKey,
    ) -> Result<Failure, StoreError> {
        let name = kept_name(attempt.username);
        let (now, quiet) = (attempt.at, attempt.at - rule.window);
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, conn => sqlx::query(
            "DELETE FROM sign_in_failures WHERE last_failed_at < $1 AND (locked_until IS NULL OR locked_until < $2)")
            .bind(quiet).bind(now).execute(conn).await.map(|r| r.rows_affected()))?;
        let failures: i64 = on_tx!(&mut tx, conn => sqlx::query_scalar(
            "INSERT INTO sign_in_failures (username, source, failures, last_failed_at) VALUES ($1, $2, 1, $3)
             ON CONFLICT (username, source) DO UPDATE SET
                 failures = CASE WHEN sign_in_failures.last_failed_at > $4 THEN sign_in_failures.failures + 1 ELSE 1 END,
                 last_failed_at = excluded.last_failed_at
             RETURNING failures")
            .bind(&name).bind(attempt.source).bind(now).bind(quiet).fetch_one(conn).await)?;
        let outcome = if failures >= rule.failures {
            let until = now + rule.window;
            on_tx!(&mut tx, conn => sqlx::query(
                "UPDATE sign_in_failures SET locked_until = $1, failures = 0 WHERE username = $2 AND source = $3")
                .bind(until).bind(&name).bind(attempt.source).execute(conn).await.map(|r| r.rows_affected()))?;
            Failure::Locked(until)
        } else {
            Failure::Counted(failures)
        };
        let detail = match outcome {
            Failure::Locked(until) => json!({"source": attempt.source, "failures": failures, "locked_until": until}),
            Failure::Counted(n) => json!({"source": attempt.source, "failures": n}),
        };
        let (actor, action) = match account {
            Some(a) => (a.username.as_str(), "people.sign_in_failed"),
            None => (gongzhi_core::audit::SYSTEM_ACTOR, "people.sign_in_unknown"),
        };
        audit(&mut tx, key, now, actor, action, &name, detail).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// A right password that still may not sign in from `source` (`reason`, e.g. an API client
    /// whose password must be changed first): audited, nothing else changes.
    pub async fn record_refused_sign_in(
        &self,
        account: &Account,
        source: &str,
        via: &str,
        reason: &str,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let detail = json!({"source": source, "via": via, "reason": reason});
        audit(
            &mut tx,
            key,
            now,
            &account.username,
            "people.sign_in_refused",
            &account.username,
            detail,
        )
        .await?;
        tx.commit().await
    }

    /// The source addresses locked out of each user name at `now`, by name.
    pub async fn sign_in_locks(&self, now: DateTime<Utc>) -> Result<Vec<(String, SourceLock)>, StoreError> {
        let rows: Vec<(String, String, DateTime<Utc>)> = on_pool!(self, p => sqlx::query_as(
            "SELECT username, source, locked_until FROM sign_in_failures WHERE locked_until > $1
             ORDER BY username, locked_until DESC")
            .bind(now).fetch_all(p).await)?;
        Ok(rows
            .into_iter()
            .map(|(name, source, until)| (name, SourceLock { source, until }))
            .collect())
    }

    /// Starts a session after a correct password from `source`: clears that address's failures.
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
            "INSERT INTO sessions (secret_hash, account_id, csrf_token, created_at, last_seen_at, expires_at)
             VALUES ($1, $2, $3, $4, $4, $5)")
            .bind(secret_hash).bind(account.id).bind(csrf_token).bind(now).bind(expires_at)
            .execute(conn).await.map(|r| r.rows_affected()))?;
        let detail = json!({"source": source, "via": "web", "expires_at": expires_at});
        signed_in(&mut tx, key, now, account, source, detail).await?;
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
        // The session, its account and the account's grants in one round trip (a row per grant,
        // one without any): every signed-in page starts here.
        let sql = format!(
            "SELECT s.csrf_token, s.last_seen_at, {columns}, g.role AS grant_role, g.scope_kind AS grant_kind,
                 g.scope_code AS grant_code
             FROM sessions s JOIN accounts a ON a.id = s.account_id
             LEFT JOIN account_grants g ON g.account_id = a.id
             WHERE s.secret_hash = $1 AND s.ended_at IS NULL AND s.expires_at > $2 AND s.last_seen_at > $3
             AND a.active = $4 ORDER BY g.role, g.scope_code"
        );
        let rows: Vec<SessionRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(secret_hash).bind(now).bind(now - idle).bind(true).fetch_all(p).await)?;
        let grants = super::joined_grants(rows.iter().map(|r| (&r.grant_role, &r.grant_kind, &r.grant_code)))?;
        let Some(row) = rows.into_iter().next() else {
            return Ok(None);
        };
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
    /// reset, which forces a change at the next sign-in and lifts every lockout of the name).
    /// Other sessions of the account end and all its API tokens are revoked.
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
            "UPDATE accounts SET password_hash = $1, password_changed_at = $2, must_change_password = $3 WHERE id = $4")
            .bind(new_hash).bind(now).bind(reset).bind(account.id)
            .execute(conn).await.map(|r| r.rows_affected()))?;
        if reset {
            // The person is to sign in with it, from wherever they failed before.
            on_tx!(&mut tx, conn => sqlx::query("DELETE FROM sign_in_failures WHERE username = $1")
                .bind(&account.username).execute(conn).await.map(|r| r.rows_affected()))?;
        }
        let sessions = on_tx!(&mut tx, conn => sqlx::query(
            "UPDATE sessions SET ended_at = $1 WHERE account_id = $2 AND ended_at IS NULL AND secret_hash <> $3")
            .bind(now).bind(account.id).bind(keep_session.unwrap_or(""))
            .execute(conn).await.map(|r| r.rows_affected()))?;
        let tokens = revoke_tokens_of(&mut tx, account, now).await?;
        let action = if reset {
            "people.password.reset"
        } else {
            "people.password.change"
        };
        let detail = json!({"sessions_ended": sessions, "tokens_revoked": tokens});
        audit(&mut tx, key, now, by, action, &account.username, detail).await?;
        tx.commit().await
    }
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    csrf_token: String,
    last_seen_at: DateTime<Utc>,
    #[sqlx(flatten)]
    account: Account,
    grant_role: Option<String>,
    grant_kind: Option<String>,
    grant_code: Option<String>,
}
