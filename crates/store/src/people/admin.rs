//! Account administration: listing, (de)activating, unlocking, granting and revoking roles. Each
//! change is audited in its own transaction; the rules of who may do what are in
//! `gongzhi_core::people::policy`, checked by the caller.

use chrono::{DateTime, Utc};
use gongzhi_core::audit::AuditKey;
use gongzhi_core::people::Grant;
use serde_json::json;

use super::sessions::{SourceLock, audit, revoke_tokens_of};
use super::{ACCOUNT_COLUMNS, Account, scope_parts};
use crate::db::Db;
use crate::error::StoreError;

/// An account with its grants, as the administration pages list it.
#[derive(Debug, Clone)]
pub struct AccountWithGrants {
    pub account: Account,
    pub grants: Vec<Grant>,
    /// The source addresses locked out of the account now (after too many failed sign-ins from
    /// each), the latest lockout first.
    pub locks: Vec<SourceLock>,
}

impl Db {
    /// Every account with its grants and the lockouts in force, by user name.
    pub async fn accounts_with_grants(&self) -> Result<Vec<AccountWithGrants>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY username");
        let accounts: Vec<Account> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).fetch_all(p).await)?;
        let rows: Vec<(i64, String, String, String)> = on_pool!(self, p => sqlx::query_as(
            "SELECT account_id, role, scope_kind, scope_code FROM account_grants ORDER BY role, scope_code")
            .fetch_all(p).await)?;
        let mut out: Vec<AccountWithGrants> = accounts
            .into_iter()
            .map(|account| AccountWithGrants {
                account,
                grants: vec![],
                locks: vec![],
            })
            .collect();
        for (id, role, kind, code) in rows {
            if let Some(a) = out.iter_mut().find(|a| a.account.id == id) {
                a.grants.push(super::grant_from(&role, &kind, &code)?);
            }
        }
        for (username, lock) in self.sign_in_locks(Utc::now()).await? {
            if let Some(a) = out.iter_mut().find(|a| a.account.username == username) {
                a.locks.push(lock);
            }
        }
        Ok(out)
    }

    /// Activates or deactivates an account; deactivating ends its sessions and revokes its API
    /// tokens (activating it again does not bring them back).
    pub async fn set_account_active(
        &self,
        account: &Account,
        active: bool,
        by: &str,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, conn => sqlx::query("UPDATE accounts SET active = $1 WHERE id = $2")
            .bind(active).bind(account.id).execute(conn).await.map(|r| r.rows_affected()))?;
        let detail = if active {
            json!({})
        } else {
            let sessions = on_tx!(&mut tx, conn => sqlx::query("UPDATE sessions SET ended_at = $1 WHERE account_id = $2 AND ended_at IS NULL")
                .bind(now).bind(account.id).execute(conn).await.map(|r| r.rows_affected()))?;
            let tokens = revoke_tokens_of(&mut tx, account, now).await?;
            json!({"sessions_ended": sessions, "tokens_revoked": tokens})
        };
        let action = if active {
            "people.account.activate"
        } else {
            "people.account.deactivate"
        };
        audit(&mut tx, key, now, by, action, &account.username, detail).await?;
        tx.commit().await
    }

    /// Lifts every lockout of the account (from whatever source) before it runs out, and forgets
    /// the failures counted.
    pub async fn unlock_account(
        &self,
        account: &Account,
        by: &str,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let sources: Vec<String> = on_tx!(&mut tx, conn => sqlx::query_scalar(
            "DELETE FROM sign_in_failures WHERE username = $1 AND locked_until > $2 RETURNING source")
            .bind(&account.username).bind(now).fetch_all(conn).await)?;
        on_tx!(&mut tx, conn => sqlx::query("DELETE FROM sign_in_failures WHERE username = $1")
            .bind(&account.username).execute(conn).await.map(|r| r.rows_affected()))?;
        audit(
            &mut tx,
            key,
            now,
            by,
            "people.account.unlock",
            &account.username,
            json!({"sources": sources}),
        )
        .await?;
        tx.commit().await
    }

    /// Adds a grant (no change if the account holds it already).
    pub async fn grant_role(
        &self,
        account: &Account,
        grant: &Grant,
        by: &str,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<(), StoreError> {
        let (kind, code) = scope_parts(&grant.scope);
        let mut tx = self.begin().await?;
        let added = on_tx!(&mut tx, conn => sqlx::query(
            "INSERT INTO account_grants (account_id, role, scope_kind, scope_code) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING")
            .bind(account.id).bind(grant.role.as_str()).bind(kind).bind(&code)
            .execute(conn).await.map(|r| r.rows_affected()))?;
        if added > 0 {
            audit(
                &mut tx,
                key,
                now,
                by,
                "people.grant.add",
                &account.username,
                json!({"grant": grant}),
            )
            .await?;
        }
        tx.commit().await
    }

    /// Removes a grant; the account's sessions pick the change up at their next request.
    pub async fn revoke_role(
        &self,
        account: &Account,
        grant: &Grant,
        by: &str,
        now: DateTime<Utc>,
        key: &AuditKey,
    ) -> Result<(), StoreError> {
        let (kind, code) = scope_parts(&grant.scope);
        let mut tx = self.begin().await?;
        let removed = on_tx!(&mut tx, conn => sqlx::query(
            "DELETE FROM account_grants WHERE account_id = $1 AND role = $2 AND scope_kind = $3 AND scope_code = $4")
            .bind(account.id).bind(grant.role.as_str()).bind(kind).bind(&code)
            .execute(conn).await.map(|r| r.rows_affected()))?;
        if removed > 0 {
            audit(
                &mut tx,
                key,
                now,
                by,
                "people.grant.remove",
                &account.username,
                json!({"grant": grant}),
            )
            .await?;
        }
        tx.commit().await
    }
}
