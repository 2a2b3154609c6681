//! API keys of integrations (Open311 clients): stored as the SHA-256 of the secret, scoped to a
//! territory subtree and to named calls, revocable. Creating and revoking one is audited.

use chrono::{DateTime, Utc};
use gongzhi_core::audit::{AuditKey, NewAuditEntry};

use crate::db::Db;
use crate::error::StoreError;

/// A stored key (never the secret).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    /// The territory code (12-digit division or 15-digit grid) whose subtree the key may report in.
    pub scope_code: String,
    /// The calls the key may make (`open311.post_request` …).
    pub calls: Vec<String>,
    pub rate_per_minute: i64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct ApiKeyRow {
    id: i64,
    name: String,
    scope_code: String,
    calls: String,
    rate_per_minute: i64,
    created_by: String,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
}

impl From<ApiKeyRow> for ApiKey {
    fn from(r: ApiKeyRow) -> Self {
        ApiKey {
            id: r.id,
            name: r.name,
            scope_code: r.scope_code,
            calls: r
                .calls
                .split(',')
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect(),
            rate_per_minute: r.rate_per_minute,
            created_by: r.created_by,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
            last_used_at: r.last_used_at,
        }
    }
}

const COLUMNS: &str = "id, name, scope_code, calls, rate_per_minute, created_by, created_at, revoked_at, last_used_at";

/// A key to create: the secret's hash only.
pub struct NewApiKey<'a> {
    pub name: &'a str,
    pub key_hash: &'a str,
    pub scope_code: &'a str,
    pub calls: &'a [String],
    pub rate_per_minute: i64,
}

impl Db {
    /// Stores a new key and audits its creation; `None` when the name is taken.
    pub async fn create_api_key(
        &self,
        key: &NewApiKey<'_>,
        created_by: &str,
        audit_key: &AuditKey,
    ) -> Result<Option<ApiKey>, StoreError> {
        if self.api_key_by_name(key.name).await?.is_some() {
            return Ok(None);
        }
        let now = Utc::now();
        let mut tx = self.begin().await?;
        let calls = key.calls.join(",");
        on_tx!(&mut tx, conn => sqlx::query(
            "INSERT INTO api_keys (name, key_hash, scope_code, calls, rate_per_minute, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(key.name).bind(key.key_hash).bind(key.scope_code).bind(&calls)
            .bind(key.rate_per_minute).bind(created_by).bind(now)
            .execute(conn).await.map(|r| r.rows_affected()))?;
        // The secret never enters the record; what the key may do does.
        let detail =
            serde_json::json!({"scope": key.scope_code, "calls": key.calls, "rate_per_minute": key.rate_per_minute});
        let entry = NewAuditEntry::new(now, created_by, "people.api_key.create", "api_key", key.name, detail)?;
        crate::audit::append(&mut tx, audit_key, entry).await?;
        tx.commit().await?;
        self.api_key_by_name(key.name).await
    }

    pub async fn api_key_by_name(&self, name: &str) -> Result<Option<ApiKey>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE name = $1");
        let row: Option<ApiKeyRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(name).fetch_optional(p).await)?;
        Ok(row.map(ApiKey::from))
    }

    /// Every key, revoked ones included, oldest first.
    pub async fn api_keys(&self) -> Result<Vec<ApiKey>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM api_keys ORDER BY id");
        let rows: Vec<ApiKeyRow> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).fetch_all(p).await)?;
        Ok(rows.into_iter().map(ApiKey::from).collect())
    }

    /// The key with this secret's hash, unless revoked; marks it used.
    pub async fn api_key_for_hash(&self, key_hash: &str, now: DateTime<Utc>) -> Result<Option<ApiKey>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL");
        let row: Option<ApiKeyRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(key_hash).fetch_optional(p).await)?;
        let Some(row) = row else { return Ok(None) };
        on_pool!(self, p => sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
            .bind(now).bind(row.id).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(Some(row.into()))
    }

    /// Revokes a key (it stays listed, so what it did stays attributable). Returns the key as
    /// revoked, or `None` when there is no such key; revoking twice keeps the first time.
    pub async fn revoke_api_key(
        &self,
        id: i64,
        revoked_by: &str,
        audit_key: &AuditKey,
    ) -> Result<Option<ApiKey>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE id = $1");
        let row: Option<ApiKeyRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id).fetch_optional(p).await)?;
        let Some(row) = row else { return Ok(None) };
        if row.revoked_at.is_some() {
            return Ok(Some(row.into()));
        }
        let now = Utc::now();
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, conn => sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2")
            .bind(now).bind(id).execute(conn).await.map(|r| r.rows_affected()))?;
        let entry = NewAuditEntry::new(
            now,
            revoked_by,
            "people.api_key.revoke",
            "api_key",
            &row.name,
            serde_json::json!({}),
        )?;
        crate::audit::append(&mut tx, audit_key, entry).await?;
        tx.commit().await?;
        let mut key = ApiKey::from(row);
        key.revoked_at = Some(now);
        Ok(Some(key))
    }
}
