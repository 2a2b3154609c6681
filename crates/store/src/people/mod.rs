//! Accounts, their role grants and API tokens; web sessions and account administration in
//! [`sessions`] and [`admin`].

pub mod admin;
pub mod api_keys;
pub mod registry;
pub mod residents;
pub mod rotation;
pub mod sessions;

use chrono::{DateTime, Utc};
use gongzhi_core::audit::{AuditKey, NewAuditEntry};
use gongzhi_core::orgs::DepartmentCode;
use gongzhi_core::people::{Actor, Grant, Role, Scope};
use gongzhi_core::territory::TerritoryCode;

use crate::db::Db;
use crate::error::StoreError;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub active: bool,
    pub password_changed_at: Option<DateTime<Utc>>,
    pub must_change_password: bool,
}

/// The columns of [`Account`], for queries that read one.
pub(crate) const ACCOUNT_COLUMNS: &str =
    "id, username, display_name, password_hash, active, password_changed_at, must_change_password";

/// The query of [`Db::display_names`] and its values.
pub(crate) fn display_names_query(usernames: &[&str]) -> (String, Vec<crate::sql::Arg>) {
    let placeholders: Vec<String> = (1..=usernames.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT username, display_name FROM accounts WHERE username IN ({})",
        placeholders.join(", ")
    );
    let args = usernames
        .iter()
        .map(|u| crate::sql::Arg::Text(Some((*u).to_string())))
        .collect();
    (sql, args)
}

/// The account behind a live API token, and when the token was last used.
#[derive(Debug, Clone)]
pub struct TokenUse {
    pub actor: Actor,
    pub last_used_at: DateTime<Utc>,
}

pub(crate) fn scope_parts(scope: &Scope) -> (&'static str, String) {
    match scope {
        Scope::Territory(t) => ("territory", t.to_string()),
        Scope::Department(d) => ("department", d.to_string()),
        Scope::Organization(o) => ("organization", o.to_string()),
    }
}

/// The grants of rows joined with `account_grants` (all three columns null on the one row of an
/// account without grants).
pub(crate) fn joined_grants<'a>(
    rows: impl Iterator<Item = (&'a Option<String>, &'a Option<String>, &'a Option<String>)>,
) -> Result<Vec<Grant>, StoreError> {
    rows.filter_map(|(r, k, c)| match (r, k, c) {
        (Some(r), Some(k), Some(c)) => Some(grant_from(r, k, c)),
        _ => None,
    })
    .collect()
}

pub(crate) fn grant_from(role: &str, kind: &str, code: &str) -> Result<Grant, StoreError> {
    let corrupt = |d: String| StoreError::Corrupt {
        what: "account grant",
        detail: d,
    };
    let role: Role = role.parse().map_err(|e| corrupt(format!("{e}")))?;
    let scope = match kind {
        "territory" => Scope::Territory(TerritoryCode::parse(code).map_err(|e| corrupt(e.to_string()))?),
        "department" => Scope::Department(DepartmentCode::parse(code).map_err(|e| corrupt(e.to_string()))?),
        "organization" => Scope::Organization(code.parse().map_err(|_| corrupt(format!("organization {code}")))?),
        other => return Err(corrupt(format!("scope kind {other}"))),
    };
    Ok(Grant { role, scope })
}

impl Db {
    /// Adds an account with its grants in one transaction; returns its id.
    pub async fn create_account(
        &self,
        username: &str,
        display_name: &str,
        password_hash: Option<&str>,
        grants: &[Grant],
        created_by: &str,
        audit_key: &AuditKey,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin().await?;
        let id: i64 = on_tx!(&mut tx, conn => sqlx::query_scalar(
            "INSERT INTO accounts (username, display_name, password_hash, active, created_at, password_changed_at)
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id")
            .bind(username).bind(display_name).bind(password_hash).bind(true).bind(Utc::now())
            .fetch_one(conn).await)?;
        for g in grants {
            let (kind, code) = scope_parts(&g.scope);
            on_tx!(&mut tx, conn => sqlx::query(
                "INSERT INTO account_grants (account_id, role, scope_kind, scope_code) VALUES ($1, $2, $3, $4)")
                .bind(id).bind(g.role.as_str()).bind(kind).bind(code)
                .execute(conn).await.map(|r| r.rows_affected()))?;
        }
        let detail = serde_json::json!({"display_name": display_name, "grants": grants});
        let entry = NewAuditEntry::new(
            Utc::now(),
            created_by,
            "people.account.create",
            "account",
            username,
            detail,
        )?;
        crate::audit::append(&mut tx, audit_key, entry).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn account_count(&self) -> Result<i64, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_scalar("SELECT COUNT(*) FROM accounts").fetch_one(p).await)?)
    }

    pub async fn account_by_username(&self, username: &str) -> Result<Option<Account>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE username = $1");
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(username).fetch_optional(p).await)?)
    }

    /// The display names of these accounts, by username, in one query (a case page names everyone
    /// in its timeline); unknown usernames are left out.
    pub async fn display_names(
        &self,
        usernames: &[&str],
    ) -> Result<std::collections::HashMap<String, String>, StoreError> {
        if usernames.is_empty() {
            return Ok(Default::default());
        }
        let (sql, args) = display_names_query(usernames);
        let rows: Vec<(String, String)> = on_pool!(self, p => crate::sql::bind_args!(
            sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())), &args).fetch_all(p).await)?;
        Ok(rows.into_iter().collect())
    }

    pub async fn account_by_id(&self, id: i64) -> Result<Option<Account>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1");
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id).fetch_optional(p).await)?)
    }

    pub async fn grants_of(&self, account_id: i64) -> Result<Vec<Grant>, StoreError> {
        let rows: Vec<(String, String, String)> = on_pool!(self, p => sqlx::query_as(
            "SELECT role, scope_kind, scope_code FROM account_grants WHERE account_id = $1 ORDER BY role, scope_code")
            .bind(account_id).fetch_all(p).await)?;
        rows.iter().map(|(r, k, c)| grant_from(r, k, c)).collect()
    }

    /// Stores a newly issued token (a sign-in from `source`, whose failures it clears), with its
    /// audit entry.
    pub async fn insert_token(
        &self,
        token_hash: &str,
        account: &Account,
        source: &str,
        expires_at: DateTime<Utc>,
        audit_key: &AuditKey,
    ) -> Result<(), StoreError> {
        let now = Utc::now();
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, conn => sqlx::query(
            "INSERT INTO api_tokens (token_hash, account_id, created_at, expires_at, last_used_at)
             VALUES ($1, $2, $3, $4, $3)")
            .bind(token_hash).bind(account.id).bind(now).bind(expires_at)
            .execute(conn).await.map(|r| r.rows_affected()))?;
        // The token itself never enters the record; its expiry does.
        let detail = serde_json::json!({"source": source, "via": "api", "expires_at": expires_at});
        sessions::signed_in(&mut tx, audit_key, now, account, source, detail).await?;
        tx.commit().await
    }

    /// The account behind a token that is not revoked, has not expired, was used within `idle`,
    /// and whose account is active.
    pub async fn actor_for_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        idle: chrono::Duration,
    ) -> Result<Option<TokenUse>, StoreError> {
        // The account and its grants in one round trip (a row per grant, one without any): every
        // call of the API starts here.
        let rows: Vec<(String, DateTime<Utc>, Option<String>, Option<String>, Option<String>)> = on_pool!(self, p => sqlx::query_as(
            "SELECT a.username, t.last_used_at, g.role, g.scope_kind, g.scope_code
             FROM api_tokens t JOIN accounts a ON a.id = t.account_id
             LEFT JOIN account_grants g ON g.account_id = a.id
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2 AND t.last_used_at > $3
             AND a.active = $4 ORDER BY g.role, g.scope_code")
            .bind(token_hash).bind(now).bind(now - idle).bind(true).fetch_all(p).await)?;
        let Some((username, last_used_at, ..)) = rows.first().cloned() else {
            return Ok(None);
        };
        let grants = joined_grants(rows.iter().map(|(.., r, k, c)| (r, k, c)))?;
        Ok(Some(TokenUse {
            actor: Actor {
                account: username,
                grants,
            },
            last_used_at,
        }))
    }

    /// Marks a token used now (callers do it at most once a minute, to spare the writer).
    pub async fn touch_token(&self, token_hash: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL")
            .bind(now).bind(token_hash).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Revokes a token at once (its holder signs out of the API), audited under its account;
    /// the account's user name, or `None` when no live token has that hash.
    pub async fn revoke_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        audit_key: &AuditKey,
    ) -> Result<Option<String>, StoreError> {
        let mut tx = self.begin().await?;
        let account: Option<i64> = on_tx!(&mut tx, conn => sqlx::query_scalar(
            "UPDATE api_tokens SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL RETURNING account_id")
            .bind(now).bind(token_hash).fetch_optional(conn).await)?;
        let Some(account) = account else {
            return Ok(None);
        };
        let username: String = on_tx!(&mut tx, conn => sqlx::query_scalar("SELECT username FROM accounts WHERE id = $1")
            .bind(account).fetch_one(conn).await)?;
        sessions::audit(
            &mut tx,
            audit_key,
            now,
            &username,
            "people.token.revoke",
            &username,
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(Some(username))
    }
}
