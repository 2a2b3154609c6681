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
    // Taking the head's lock is the first thing we do, so that the head we read is the head
    // we extend (see the module documentation).
    let (seq, prev_mac): (i64, String) = on_tx!(tx, conn => sqlx::query_as(
        "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, mac")
        .fetch_one(conn).await)?;
    let head = Head {
        seq: seq - 1,
        mac: prev_mac,
    };
    let entry = AuditEntry::seal(&head, new, key);
    insert_entry(tx, &entry).await?;
    set_head_mac(tx, &entry.mac).await?;
    Ok(entry)
}

/// Appends `entries` in order at the end of the chain, inside `tx`, taking the head's lock once
/// for all of them (the group commit of case reports).
pub async fn append_many(
    tx: &mut Tx,
    key: &AuditKey,
    entries: Vec<NewAuditEntry>,
) -> Result<Vec<AuditEntry>, StoreError> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let count = entries.len() as i64;
    let (last, prev_mac): (i64, String) = on_tx!(tx, conn => sqlx::query_as(
        "UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, mac")
        .bind(count).fetch_one(conn).await)?;
    let mut head = Head {
        seq: last - count,
        mac: prev_mac,
    };
    let mut sealed = Vec::with_capacity(entries.len());
    for new in entries {
        let entry = AuditEntry::seal(&head, new, key);
        insert_entry(tx, &entry).await?;
        head = Head {
            seq: entry.seq,
            mac: entry.mac.clone(),
        };
        sealed.push(entry);
    }
    set_head_mac(tx, &head.mac).await?;
    Ok(sealed)
}

async fn insert_entry(tx: &mut Tx, entry: &AuditEntry) -> Result<(), StoreError> {
    let detail = canonical_json(&entry.detail);
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO audit_entries (seq, at, actor, action, subject_kind, subject_id, detail, prev_mac, mac)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
        .bind(entry.seq)
        .bind(entry.at)
        .bind(&entry.actor)
        .bind(&entry.action)
        .bind(&entry.subject_kind)
        .bind(&entry.subject_id)
        .bind(&detail)
        .bind(&entry.prev_mac)
        .bind(&entry.mac)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

async fn set_head_mac(tx: &mut Tx, mac: &str) -> Result<(), StoreError> {
    on_tx!(tx, conn => sqlx::query("UPDATE audit_head SET mac = $1 WHERE id = 1")
        .bind(mac).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The recorded end of the chain (seq 0 and the genesis MAC when nothing was recorded).
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
