//! Group commit of case reports: one writer task takes every report waiting at that moment and
//! writes them in ONE transaction, in order (numbers, cases, first events, idempotency keys and
//! audit entries), then answers each report after the commit.
//!
//! Why: a report per transaction pays one disk flush (SQLite WAL with synchronous=FULL) or one
//! WAL flush (PostgreSQL) per case, and every report waits on the audit chain's head lock; one
//! transaction for a batch pays it once, takes the head's lock once and reserves the day's
//! numbers once. Each answer still comes after its own data is durable, and the chain stays
//! gapless because the batch appends its entries in order under that one lock. If anything in
//! the batch fails before the commit (say a key was stored meanwhile by another server), the
//! batch is rolled back and its reports are written one transaction each, so that a bad report
//! fails alone with its own error.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use gongzhi_core::audit::AuditKey;
use gongzhi_core::cases::flow::{Case, CaseNumber};
use gongzhi_core::time::city_day;
use tokio::sync::{mpsc, oneshot};

use super::{CaseRecord, Created, NewCase, reserve_serials, write_case};
use crate::db::{Db, Tx};
use crate::error::StoreError;

/// The most reports written in one transaction: bounds the time the write lock is held.
const MAX_BATCH: usize = 256;
/// Reports waiting for the writer before submitters wait for room (back-pressure).
const QUEUE: usize = 4096;

/// Builds a case's flow once its number is known.
pub type MakeFlow = Box<dyn Fn(CaseNumber) -> Case + Send + Sync>;

struct Request {
    new: NewCase,
    key: Option<String>,
    make_flow: MakeFlow,
    now: DateTime<Utc>,
    reply: oneshot::Sender<Result<Created, StoreError>>,
}

/// The handle of the intake writer; cheap to clone. The writer task ends when the last handle
/// is dropped.
#[derive(Clone)]
pub struct Intake {
    queue: mpsc::Sender<Request>,
}

impl Intake {
    /// Starts the writer task on the current tokio runtime.
    pub fn spawn(db: Db, audit_key: Arc<AuditKey>) -> Intake {
        let (queue, inbox) = mpsc::channel(QUEUE);
        tokio::spawn(writer(db, audit_key, inbox));
        Intake { queue }
    }

    /// Reports a case, like [`Db::create_case`], through the group commit: answered once the
    /// transaction holding it has committed.
    pub async fn create_case(
        &self,
        new: NewCase,
        idempotency_key: Option<&str>,
        make_flow: MakeFlow,
        now: DateTime<Utc>,
    ) -> Result<Created, StoreError> {
        let (reply, answer) = oneshot::channel();
        let request = Request {
            new,
            key: idempotency_key.map(str::to_string),
            make_flow,
            now,
            reply,
        };
        self.queue.send(request).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn stopped() -> StoreError {
    StoreError::Database(sqlx::Error::WorkerCrashed)
}

/// The same failure said to every report of a batch (errors are not `Clone`): an unavailable
/// database stays unavailable (503, try again), anything else is ours (500).
fn shared(e: &StoreError) -> StoreError {
    if e.is_unavailable() {
        StoreError::Unavailable(e.to_string())
    } else {
        StoreError::Corrupt {
            what: "intake",
            detail: e.to_string(),
        }
    }
}

async fn writer(db: Db, audit_key: Arc<AuditKey>, mut inbox: mpsc::Receiver<Request>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while inbox.recv_many(&mut batch, MAX_BATCH).await > 0 {
        write_batch(&db, &audit_key, std::mem::take(&mut batch)).await;
    }
}

/// A failure before the commit: logged, since each report is then written on its own and only
/// their own errors reach the clients.
fn before_commit(e: StoreError) -> Failed {
    tracing::warn!(error = %e, "a group-commit batch failed before its commit; writing its reports one by one");
    Failed::BeforeCommit
}

/// Where a report of the batch stands before writing.
enum Slot {
    New,
    /// Its key is stored already: a retry of that case.
    Stored(i64),
    /// The same account and key as an earlier report of this batch.
    SameAs(usize),
}

enum Failed {
    /// Nothing was committed: the reports can be written again one by one (the cause is logged).
    BeforeCommit,
    /// The commit's outcome is unknown: a second try could write a case twice.
    Commit(StoreError),
}

async fn stored_keys(tx: &mut Tx, batch: &[Request]) -> Result<HashMap<(String, String), i64>, StoreError> {
    let keyed: Vec<(&str, &str)> = batch
        .iter()
        .filter_map(|r| r.key.as_deref().map(|k| (r.new.reporter.as_str(), k)))
        .collect();
    if keyed.is_empty() {
        return Ok(HashMap::new());
    }
    let conditions: Vec<String> = (0..keyed.len())
        .map(|i| format!("(account = ${} AND key = ${})", 2 * i + 1, 2 * i + 2))
        .collect();
    let sql = format!(
        "SELECT account, key, case_id FROM idempotency_keys WHERE {}",
        conditions.join(" OR ")
    );
    let rows: Vec<(String, String, i64)> = on_tx!(tx, conn => {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
        for (account, key) in &keyed {
            q = q.bind(*account).bind(*key);
        }
        q.fetch_all(conn).await
    })?;
    Ok(rows.into_iter().map(|(a, k, id)| ((a, k), id)).collect())
}

/// Writes the whole batch in one transaction; the answers in the batch's order.
async fn write_together(db: &Db, audit_key: &AuditKey, batch: &[Request]) -> Result<Vec<Created>, Failed> {
    let mut tx = db.begin().await.map_err(before_commit)?;
    let stored = stored_keys(&mut tx, batch).await.map_err(before_commit)?;
    let mut first_of_key: HashMap<(&str, &str), usize> = HashMap::new();
    let mut per_day: HashMap<NaiveDate, u32> = HashMap::new();
    let slots: Vec<Slot> = batch
        .iter()
        .enumerate()
        .map(|(i, r)| {
            if let Some(k) = r.key.as_deref() {
                let ak = (r.new.reporter.as_str(), k);
                if let Some(id) = stored.get(&(ak.0.to_string(), ak.1.to_string())) {
                    return Slot::Stored(*id);
                }
                if let Some(&first) = first_of_key.get(&ak) {
                    return Slot::SameAs(first);
                }
                first_of_key.insert(ak, i);
            }
            *per_day.entry(city_day(r.now)).or_default() += 1;
            Slot::New
        })
        .collect();
    let mut next_serial = HashMap::new();
    for (day, count) in per_day {
        let first = reserve_serials(&mut tx, day, count).await.map_err(before_commit)?;
        next_serial.insert(day, first);
    }
    let mut records: Vec<Option<CaseRecord>> = Vec::with_capacity(batch.len());
    let mut entries = Vec::new();
    for (r, slot) in batch.iter().zip(&slots) {
        if !matches!(slot, Slot::New) {
            records.push(None);
            continue;
        }
        let day = city_day(r.now);
        let serial = next_serial.get_mut(&day).ok_or(Failed::BeforeCommit)?;
        let (id, flow, entry) = write_case(&mut tx, &r.new, r.key.as_deref(), day, *serial, &r.make_flow, r.now)
            .await
            .map_err(before_commit)?;
        *serial += 1;
        entries.push(entry);
        records.push(Some(CaseRecord {
            id,
            channel: r.new.channel.clone(),
            description: r.new.description.clone(),
            location: r.new.location.clone(),
            reporter: r.new.reporter.clone(),
            reported_at: flow.reported_at,
            flow,
            updated_at: r.now,
        }));
    }
    crate::audit::append_many(&mut tx, audit_key, entries)
        .await
        .map_err(before_commit)?;
    tx.commit().await.map_err(Failed::Commit)?;
    let mut answers = Vec::with_capacity(batch.len());
    for (i, slot) in slots.iter().enumerate() {
        let record = match slot {
            Slot::New => records[i].clone().map(Created::New),
            Slot::SameAs(first) => records[*first].clone().map(Created::Replayed),
            Slot::Stored(id) => db.case_by_id(*id).await.map_err(Failed::Commit)?.map(Created::Replayed),
        };
        answers.push(record.ok_or_else(|| {
            Failed::Commit(StoreError::Corrupt {
                what: "intake",
                detail: format!("report {i} of a batch has no case after commit"),
            })
        })?);
    }
    Ok(answers)
}

async fn write_batch(db: &Db, audit_key: &AuditKey, batch: Vec<Request>) {
    match write_together(db, audit_key, &batch).await {
        Ok(answers) => {
            for (req, answer) in batch.into_iter().zip(answers) {
                let _ = req.reply.send(Ok(answer));
            }
        }
        Err(Failed::Commit(e)) => {
            for req in batch {
                let _ = req.reply.send(Err(shared(&e)));
            }
        }
        Err(Failed::BeforeCommit) => {
            for req in batch {
                let answer = db
                    .create_case(&req.new, req.key.as_deref(), &req.make_flow, req.now, audit_key)
                    .await;
                let _ = req.reply.send(answer);
            }
        }
    }
}
