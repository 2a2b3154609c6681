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
use gongzhi_core::audit::{
    AuditEntry, AuditKey, BrokenReason, Head, NewAuditEntry, Read, StoredEntry, Verdict, Verifier, canonical_json,
};

use crate::db::{Db, Tx};
use crate::error::StoreError;
use crate::sql::values_sql;

/// Entries read per query when verifying: bounded memory for chains of any length, and while
/// one batch's MACs are checked the next is read.
const VERIFY_BATCH: i64 = 8_000;

/// An entry's columns, each read on its own: a value that cannot be read (a timestamp that is
/// not one, a text that is a number) names its entry and column instead of failing the query.
/// `seq` falls back to `expected` (a primary key is always an integer).
fn read_row<R>(row: &R, expected: i64) -> Read
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> DateTime<Utc>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let seq: i64 = row.try_get(0).unwrap_or(expected);
    let text = |i: usize, name: &str| -> Result<String, (i64, String)> {
        row.try_get::<String, _>(i).map_err(|e| (seq, format!("{name}: {e}")))
    };
    Ok(StoredEntry {
        seq,
        at: row.try_get(1).map_err(|e| (seq, format!("at: {e}")))?,
        actor: text(2, "actor")?,
        action: text(3, "action")?,
        subject_kind: text(4, "subject_kind")?,
        subject_id: text(5, "subject_id")?,
        detail: text(6, "detail")?,
        prev_mac: text(7, "prev_mac")?,
        mac: text(8, "mac")?,
    })
}

/// Up to `limit` entries after `after_seq` as read, in order.
async fn fetch_after(db: &Db, after_seq: i64, limit: i64) -> Result<Vec<Read>, sqlx::Error> {
    let sql = format!(
        "SELECT {} FROM audit_entries WHERE seq > $1 ORDER BY seq LIMIT $2",
        select_columns(db)
    );
    on_pool!(db, p => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(after_seq).bind(limit).fetch_all(p).await?;
        let mut expected = after_seq + 1;
        Ok(rows
            .iter()
            .map(|row| {
                let read = read_row(row, expected);
                expected = seq_of(&read) + 1;
                read
            })
            .collect())
    })
}

fn seq_of(read: &Read) -> i64 {
    match read {
        Ok(e) => e.seq,
        Err((seq, _)) => *seq,
    }
}

fn corrupt((seq, detail): (i64, String)) -> StoreError {
    StoreError::Corrupt {
        what: "audit entry",
        detail: format!("{seq}: {detail}"),
    }
}

fn parsed(read: Read) -> Result<AuditEntry, StoreError> {
    let entry = read.map_err(corrupt)?;
    let seq = entry.seq;
    entry.into_entry().map_err(|reason| corrupt((seq, reason.to_string())))
}

const ENTRY_COLUMNS: &str = "seq, at, actor, action, subject_kind, subject_id, detail, prev_mac, mac";

/// The columns read back. PostgreSQL's `timestamptz` holds `infinity` and years past chrono's
/// range, which its decoder would panic on: those are read as NULL, so that they are reported as
/// a malformed entry.
fn select_columns(db: &Db) -> &'static str {
    match db {
        Db::Sqlite(_) => ENTRY_COLUMNS,
        Db::Postgres(_) => {
            "seq, CASE WHEN isfinite(at) AND at < '200000-01-01 00:00:00+00' THEN at END AS at, \
             actor, action, subject_kind, subject_id, detail, prev_mac, mac"
        }
    }
}

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
    fetch_after(db, after_seq, limit)
        .await?
        .into_iter()
        .map(parsed)
        .collect()
}

/// The entries about one subject (`case`, `2026112700001`), oldest first.
pub async fn entries_about(db: &Db, subject_kind: &str, subject_id: &str) -> Result<Vec<AuditEntry>, StoreError> {
    let sql = format!(
        "SELECT {} FROM audit_entries WHERE subject_kind = $1 AND subject_id = $2 ORDER BY seq",
        select_columns(db)
    );
    let reads: Vec<Read> = on_pool!(db, p => sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(subject_kind).bind(subject_id).fetch_all(p).await?
        .iter().map(|row| read_row(row, 0)).collect());
    reads.into_iter().map(parsed).collect()
}

/// What a verification found, and what it covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub verdict: Verdict,
    /// The first entry checked: 1, or the checkpoint's own entry when resumed from it.
    pub from: i64,
    /// How many entries were checked.
    pub checked: u64,
}

/// Verifies the whole chain with `key`, reading it in batches (memory stays flat however long
/// the chain is), then compares its end with the recorded head, which shows entries removed
/// from the end. Entries appended while this runs are verified too.
pub async fn verify(db: &Db, key: &AuditKey) -> Result<Verdict, StoreError> {
    Ok(verify_from(db, key, None, true).await?.verdict)
}

/// Verifies the chain against `anchor`, the end of the record a checkpoint kept outside the
/// database vouches for: whole when `full` (checking on the way that the anchor's entry carries
/// the anchor's MAC), else only from the anchor's own entry on. Either way the record must reach
/// the anchor, so that entries removed from the end back past it are found even when the head
/// row was rewritten to match. If the anchor's entry is gone, the whole chain is verified, which
/// says where the record ends or breaks.
pub async fn verify_from(
    db: &Db,
    key: &AuditKey,
    anchor: Option<&Head>,
    full: bool,
) -> Result<Verification, StoreError> {
    let Some(anchor) = anchor.filter(|a| a.seq > 0) else {
        return run(db, Verifier::new(key), 0).await;
    };
    if !full && anchor_entry_present(db, anchor.seq).await? {
        return run(db, Verifier::resume_at(key, anchor.clone()), anchor.seq - 1).await;
    }
    run(db, Verifier::anchored(key, anchor.clone()), 0).await
}

async fn anchor_entry_present(db: &Db, seq: i64) -> Result<bool, StoreError> {
    let found: Result<Option<i64>, sqlx::Error> = on_pool!(db, p => sqlx::query_scalar(
        "SELECT seq FROM audit_entries WHERE seq = $1").bind(seq).fetch_optional(p).await);
    match found {
        Ok(found) => Ok(found.is_some()),
        // The full verification reports the missing table.
        Err(e) if missing_table(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Whether a query failed because its table does not exist (SQLite's message, PostgreSQL's
/// SQLSTATE 42P01).
fn missing_table(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => d.code().as_deref() == Some("42P01") || d.message().contains("no such table"),
        _ => false,
    }
}

/// Feeds `verifier` the entries after `after`: batches are read here while a blocking task checks
/// the previous one's MACs on every core, then the ends are compared (the anchor, the head row).
async fn run(db: &Db, mut verifier: Verifier, mut after: i64) -> Result<Verification, StoreError> {
    let from = after + 1;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (batches, mut to_check) = tokio::sync::mpsc::channel::<Vec<Read>>(2);
    let checker = tokio::task::spawn_blocking(move || {
        while let Some(batch) = to_check.blocking_recv() {
            if !verifier.push_batch(&batch, threads) {
                break;
            }
        }
        verifier
    });
    let mut rechecked = false;
    let mut recorded = None;
    let mut failed = None;
    loop {
        let batch = match fetch_after(db, after, VERIFY_BATCH).await {
            Ok(batch) => batch,
            Err(e) => {
                failed = Some(("audit_entries", e));
                break;
            }
        };
        if batch.is_empty() {
            match head(db).await {
                // An append may have committed between our last read and the head's: look once more.
                Ok(h) if h.seq > after && !rechecked => {
                    rechecked = true;
                    continue;
                }
                Ok(h) => recorded = Some(h),
                Err(StoreError::Database(e)) => failed = Some(("audit_head", e)),
                Err(e) => return Err(e),
            }
            break;
        }
        rechecked = false;
        after = batch.last().map_or(after, seq_of);
        if batches.send(batch).await.is_err() {
            break; // the checker found the chain broken
        }
    }
    drop(batches);
    let mut verifier = checker
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
    if let Some((table, e)) = failed {
        if !missing_table(&e) {
            return Err(e.into());
        }
        verifier.fail(BrokenReason::TableMissing { table: table.into() });
    }
    verifier.check_anchor();
    if let Some(h) = &recorded {
        verifier.check_head(h);
    }
    Ok(Verification {
        from,
        checked: verifier.checked(),
        verdict: verifier.finish(),
    })
}
