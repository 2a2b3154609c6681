//! The audit record in the database: appended inside the caller's transaction, verified by
//! streaming the table in `seq` order.
//!
//! Appending first moves the one-row `audit_head` (`UPDATE … RETURNING`), and that is what
//! serialises concurrent writers: on SQLite the update takes the database's write lock, on
//! PostgreSQL the row lock, which a second appender waits on and then re-reads the committed
//! row (READ COMMITTED). The chain therefore cannot fork; `seq` being the primary key is the
//! backstop. The lock is held until the caller commits or rolls back, so keep transactions
//! that append short. Nothing in this crate updates or deletes an `audit_entries` row (a test
//! checks the SQL), and triggers make the database refuse it too.

use chrono::{DateTime, Utc};
use gongzhi_core::audit::{AuditEntry, AuditKey, Head, NewAuditEntry, Verdict, Verifier, canonical_json};

use crate::db::{Db, Tx};
use crate::error::StoreError;
use crate::sql::values_sql;

/// Entries read per query when verifying: bounded memory for chains of any length.
const VERIFY_BATCH: i64 = 2_000;

#[derive(sqlx::FromRow)]
struct EntryRow {
    seq: i64,
    at: DateTime<Utc>,
    actor: String,
    action: String,
    subject_kind: String,
    subject_id: String,
    detail: String,
    prev_mac: String,
    mac: String,
}

impl EntryRow {
    fn into_entry(self) -> Result<AuditEntry, (i64, String)> {
        let detail = serde_json::from_str(&self.detail).map_err(|e| (self.seq, format!("detail: {e}")))?;
        Ok(AuditEntry {
            seq: self.seq,
            at: self.at,
            actor: self.actor,
            action: self.action,
            subject_kind: self.subject_kind,
            subject_id: self.subject_id,
            detail,
            prev_mac: self.prev_mac,
            mac: self.mac,
        })
    }
}

const ENTRY_COLUMNS: &str = "seq, at, actor, action, subject_kind, subject_id, detail, prev_mac, mac";

/// Appends one entry at the end of the chain, inside `tx`: it is written if and only if the
/// caller commits. Returns the entry as sealed (its `seq` and `mac`).
pub async fn append(tx: &mut Tx, key: &AuditKey, new: NewAuditEntry) -> Result<AuditEntry, StoreError> {
    let mut sealed = append_many(tx, key, vec![new]).await?;
    Ok(sealed.pop().expect("one entry in, one out"))
}

/// Rows per multi-row INSERT: 9 values each stays far below SQLite's 32,766 parameters.
const INSERT_ROWS: usize = 1_000;

/// Appends entries at the end of the chain in their order, inside `tx`, with multi-row INSERTs:
/// the head is moved once for all of them. Returns them as sealed.
pub async fn append_many(
    tx: &mut Tx,
    key: &AuditKey,
    entries: Vec<NewAuditEntry>,
) -> Result<Vec<AuditEntry>, StoreError> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    // Taking the head's lock is the first thing we do, so that the head we read is the head
    // we extend (see the module documentation).
    let n = entries.len() as i64;
    let (last_seq, prev_mac): (i64, String) = on_tx!(tx, conn => sqlx::query_as(
        "UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, mac")
        .bind(n).fetch_one(conn).await)?;
    let mut head = Head {
        seq: last_seq - n,
        mac: prev_mac,
    };
    let mut sealed = Vec::with_capacity(entries.len());
    for new in entries {
        let entry = AuditEntry::seal(&head, new, key);
        head = Head {
            seq: entry.seq,
            mac: entry.mac.clone(),
        };
        sealed.push(entry);
    }
    for chunk in sealed.chunks(INSERT_ROWS) {
        let sql = format!(
            "INSERT INTO audit_entries ({ENTRY_COLUMNS}) VALUES {}",
            values_sql(chunk.len(), 9)
        );
        let details: Vec<String> = chunk.iter().map(|e| canonical_json(&e.detail)).collect();
        on_tx!(tx, conn => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (entry, detail) in chunk.iter().zip(&details) {
                q = q
                    .bind(entry.seq)
                    .bind(entry.at)
                    .bind(&entry.actor)
                    .bind(&entry.action)
                    .bind(&entry.subject_kind)
                    .bind(&entry.subject_id)
                    .bind(detail)
                    .bind(&entry.prev_mac)
                    .bind(&entry.mac);
            }
            q.execute(conn).await.map(|r| r.rows_affected())
        })?;
    }
    on_tx!(tx, conn => sqlx::query("UPDATE audit_head SET mac = $1 WHERE id = 1")
        .bind(&head.mac).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(sealed)
}

/// The recorded end of the chain (seq 0 and the genesis MAC when nothing was recorded).
/// Records one entry in its own transaction: for reads worth a trace (exports, full views) that
/// change nothing else.
pub async fn record(db: &Db, key: &AuditKey, new: NewAuditEntry) -> Result<AuditEntry, StoreError> {
    let mut tx = db.begin().await?;
    let entry = append(&mut tx, key, new).await?;
    tx.commit().await?;
    Ok(entry)
}

pub async fn head(db: &Db) -> Result<Head, StoreError> {
    let (seq, mac): (i64, String) =
        on_pool!(db, p => sqlx::query_as("SELECT seq, mac FROM audit_head WHERE id = 1").fetch_one(p).await)?;
    Ok(Head { seq, mac })
}

/// Up to `limit` entries after `after_seq`, in order.
pub async fn entries(db: &Db, after_seq: i64, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
    let rows = fetch_after(db, after_seq, limit).await?;
    rows.into_iter()
        .map(|r| {
            r.into_entry().map_err(|(seq, detail)| StoreError::Corrupt {
                what: "audit entry",
                detail: format!("{seq}: {detail}"),
            })
        })
        .collect()
}

/// The entries about one subject (`case`, `2026112700001`), oldest first.
pub async fn entries_about(db: &Db, subject_kind: &str, subject_id: &str) -> Result<Vec<AuditEntry>, StoreError> {
    let sql =
        format!("SELECT {ENTRY_COLUMNS} FROM audit_entries WHERE subject_kind = $1 AND subject_id = $2 ORDER BY seq");
    let rows: Vec<EntryRow> = on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(subject_kind).bind(subject_id).fetch_all(p).await)?;
    rows.into_iter()
        .map(|r| {
            r.into_entry().map_err(|(seq, detail)| StoreError::Corrupt {
                what: "audit entry",
                detail: format!("{seq}: {detail}"),
            })
        })
        .collect()
}

async fn fetch_after(db: &Db, after_seq: i64, limit: i64) -> Result<Vec<EntryRow>, StoreError> {
    let sql = format!("SELECT {ENTRY_COLUMNS} FROM audit_entries WHERE seq > $1 ORDER BY seq LIMIT $2");
    Ok(on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(after_seq).bind(limit).fetch_all(p).await)?)
}

/// Verifies the whole chain with `key`, reading it in batches (memory stays flat however long
/// the chain is), then compares its end with the recorded head, which shows entries removed
/// from the end. Entries appended while this runs are verified too.
pub async fn verify(db: &Db, key: &AuditKey) -> Result<Verdict, StoreError> {
    let mut verifier = Verifier::new(key);
    let mut rechecked = false;
    loop {
        let after = verifier.head().seq;
        let rows = fetch_after(db, after, VERIFY_BATCH).await?;
        if rows.is_empty() {
            let recorded = head(db).await?;
            // An append may have committed between our last read and the head's: look once more.
            if recorded.seq > after && !rechecked {
                rechecked = true;
                continue;
            }
            verifier.check_head(&recorded);
            break;
        }
        rechecked = false;
        for row in rows {
            match row.into_entry() {
                Ok(entry) => {
                    if !verifier.push(&entry) {
                        return Ok(verifier.finish());
                    }
                }
                Err((seq, detail)) => {
                    verifier.malformed(seq, detail);
                    return Ok(verifier.finish());
                }
            }
        }
    }
    Ok(verifier.finish())
}
