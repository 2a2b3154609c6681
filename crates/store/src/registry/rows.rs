//! Helpers shared by the registry's stores (territory places, people, orgs): multi-row INSERTs
//! that give back the new ids in the order of the rows, the audit entry of a write, and opening
//! sealed columns.

use std::collections::HashMap;

use chrono::Utc;
use gongzhi_core::audit::{AuditKey, NewAuditEntry};
use gongzhi_core::people::cipher::CipherProvider;
use serde_json::Value;

use crate::db::Tx;
use crate::error::StoreError;
use crate::sql::{Arg, bind_args, values_sql};

/// Parameters per statement. SQLite takes up to 32,766, but binding costs grow with the square of
/// a statement's parameters (sqlx-sqlite looks each one up by name: `sqlite3_bind_parameter_name`
/// took 88% of a 20,000-resident import's time with 30,000 per statement), so keep statements small.
const MAX_PARAMS: usize = 999;

/// Inserts `rows` (each `(key, values)`, the values in `columns` order) into `table` with
/// multi-row INSERTs, and returns the new ids in the order of the rows. `key_column` must be a
/// unique text column holding each row's key (a multi-row RETURNING promises no order, so ids
/// are matched back by key).
pub(crate) async fn insert_keyed(
    tx: &mut Tx,
    table: &str,
    columns: &[&str],
    key_column: &str,
    rows: &[(String, Vec<Arg>)],
) -> Result<Vec<i64>, StoreError> {
    let width = columns.len();
    let per_chunk = (MAX_PARAMS / width).max(1);
    let mut ids: HashMap<String, i64> = HashMap::with_capacity(rows.len());
    for chunk in rows.chunks(per_chunk) {
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES {} RETURNING id, {key_column}",
            columns.join(", "),
            values_sql(chunk.len(), width)
        );
        let args: Vec<&Arg> = chunk.iter().flat_map(|(_, a)| a.iter()).collect();
        let back: Vec<(i64, String)> = on_tx!(tx, conn =>
            bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), args.iter().copied()).fetch_all(conn).await)?;
        ids.extend(back.into_iter().map(|(id, key)| (key, id)));
    }
    rows.iter()
        .map(|(key, _)| {
            ids.get(key).copied().ok_or_else(|| StoreError::Corrupt {
                what: "registry insert",
                detail: format!("no id came back for a row of {table}"),
            })
        })
        .collect()
}

/// Inserts rows without keys (nothing refers to them by id).
pub(crate) async fn insert_plain(
    tx: &mut Tx,
    table: &str,
    columns: &[&str],
    rows: &[Vec<Arg>],
) -> Result<u64, StoreError> {
    let width = columns.len();
    let per_chunk = (MAX_PARAMS / width).max(1);
    let mut n = 0;
    for chunk in rows.chunks(per_chunk) {
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES {}",
            columns.join(", "),
            values_sql(chunk.len(), width)
        );
        let args: Vec<&Arg> = chunk.iter().flatten().collect();
        n += on_tx!(tx, conn =>
            bind_args!(sqlx::query(sqlx::AssertSqlSafe(sql)), args.iter().copied()).execute(conn).await.map(|r| r.rows_affected()))?;
    }
    Ok(n)
}

/// Appends the audit entry of a registry write inside `tx`. `detail` never holds personal data:
/// ids, counts and the names of fields only.
pub(crate) async fn audit(
    tx: &mut Tx,
    key: &AuditKey,
    actor: &str,
    action: &str,
    subject_kind: &str,
    subject_id: &str,
    detail: Value,
) -> Result<(), StoreError> {
    let entry = NewAuditEntry::new(Utc::now(), actor, action, subject_kind, subject_id, detail)?;
    crate::audit::append(tx, key, entry).await?;
    Ok(())
}

/// Opens a sealed text column; a value that does not open is reported without its content.
pub(crate) fn open(cipher: &dyn CipherProvider, context: &'static str, sealed: &str) -> Result<String, StoreError> {
    cipher.open_text(context, sealed).map_err(|_| StoreError::Corrupt {
        what: "sealed personal data",
        detail: format!("a value of {context} does not open (changed, moved or another key)"),
    })
}

pub(crate) fn open_opt(
    cipher: &dyn CipherProvider,
    context: &'static str,
    sealed: &Option<String>,
) -> Result<Option<String>, StoreError> {
    sealed.as_deref().map(|s| open(cipher, context, s)).transpose()
}

/// `prefix%` for LIKE over codes of a subtree (`""` is everything).
pub(crate) fn like_prefix(prefix: &str) -> String {
    format!("{}%", prefix.replace(['%', '_'], ""))
}

/// `%text%` for LIKE over free text, with LIKE's wildcards taken literally by dropping them.
pub(crate) fn like_contains(text: &str) -> String {
    format!("%{}%", text.trim().replace(['%', '_'], ""))
}
