//! Group commit of case reports: one writer task takes every report waiting at that moment and
//! writes them in ONE transaction, in order (numbers, cases, first events, idempotency keys and
//! audit entries), then answers each report after the commit.
//!
//! Why: a report per transaction pays one disk flush (SQLite WAL with synchronous=FULL) or one
//! WAL flush (PostgreSQL) per case, and every report waits on the audit chain's head lock; one
//! transaction for a batch pays it once. Each answer still comes after its own data is durable,
//! and the chain stays gapless because the batch appends its entries in order under one lock.
//! A report that fails (say its key was used meanwhile by another server) is rolled back to its
//! own savepoint; the others of the batch are unaffected.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use gongzhi_core::audit::AuditKey;
use gongzhi_core::cases::flow::{Case, CaseNumber};
use tokio::sync::{mpsc, oneshot};

use super::{CaseRecord, Created, NewCase, insert_case_in, is_unique_violation};
use crate::db::{Db, Tx};
use crate::error::StoreError;

/// The most reports written in one transaction: bounds the time the write lock is held.
const MAX_BATCH: usize = 256;
/// Reports waiting for the writer before submitters wait for room (back-pressure).
const QUEUE: usize = 4096;

/// Builds a case's flow once its number is known.
pub type MakeFlow = Box<dyn FnOnce(CaseNumber) -> Case + Send>;

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
    db: Db,
    queue: mpsc::Sender<Request>,
}

/// What happened to one report inside the batch's transaction.
enum Written {
    New(CaseRecord),
    /// Its key was already stored (by another writer): answered with that case after commit.
    KeyTaken,
    Failed(StoreError),
}

impl Intake {
    /// Starts the writer task on the current tokio runtime.
    pub fn spawn(db: Db, audit_key: Arc<AuditKey>) -> Intake {
        let (queue, inbox) = mpsc::channel(QUEUE);
        tokio::spawn(writer(db.clone(), audit_key, inbox));
        Intake { db, queue }
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
        // A retry of a stored key is answered without queueing behind the writer.
        if let Some(key) = idempotency_key
            && let Some(existing) = self.db.case_for_key(&new.reporter, key).await?
        {
            return Ok(Created::Replayed(existing));
        }
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

/// The same failure said to every report of a batch (errors are not `Clone`).
fn shared(e: &StoreError) -> StoreError {
    StoreError::Database(sqlx::Error::Io(std::io::Error::other(e.to_string())))
}

async fn writer(db: Db, audit_key: Arc<AuditKey>, mut inbox: mpsc::Receiver<Request>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while inbox.recv_many(&mut batch, MAX_BATCH).await > 0 {
        write_batch(&db, &audit_key, std::mem::take(&mut batch)).await;
    }
}

async fn savepoint(tx: &mut Tx, sql: &'static str) -> Result<(), StoreError> {
    on_tx!(tx, conn => sqlx::query(sql).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

async fn write_one(
    tx: &mut Tx,
    audit_key: &AuditKey,
    new: &NewCase,
    key: Option<&str>,
    make_flow: MakeFlow,
    now: DateTime<Utc>,
) -> Written {
    if let Err(e) = savepoint(tx, "SAVEPOINT intake_report").await {
        return Written::Failed(e);
    }
    match insert_case_in(tx, new, key, make_flow, now, audit_key).await {
        Ok((id, flow)) => match savepoint(tx, "RELEASE SAVEPOINT intake_report").await {
            Ok(()) => Written::New(CaseRecord {
                id,
                channel: new.channel.clone(),
                description: new.description.clone(),
                location: new.location.clone(),
                reporter: new.reporter.clone(),
                reported_at: flow.reported_at,
                flow,
                updated_at: now,
            }),
            Err(e) => Written::Failed(e),
        },
        Err(e) => {
            // Undo this report only (its number and audit entry too), keep the batch going.
            let undone = async {
                savepoint(tx, "ROLLBACK TO SAVEPOINT intake_report").await?;
                savepoint(tx, "RELEASE SAVEPOINT intake_report").await
            };
            match undone.await {
                Ok(()) if key.is_some() && is_unique_violation(&e) => Written::KeyTaken,
                Ok(()) => Written::Failed(e),
                Err(rollback) => Written::Failed(rollback),
            }
        }
    }
}

/// A report once written: what to answer it with, after the commit.
struct Pending {
    new: NewCase,
    key: Option<String>,
    reply: oneshot::Sender<Result<Created, StoreError>>,
    /// `Err(i)`: the same key as report `i` of this batch, so a retry of it.
    written: Result<Written, usize>,
}

async fn write_batch(db: &Db, audit_key: &AuditKey, batch: Vec<Request>) {
    let mut tx = match db.begin().await {
        Ok(tx) => tx,
        Err(e) => {
            for req in batch {
                let _ = req.reply.send(Err(shared(&e)));
            }
            return;
        }
    };
    let mut pending: Vec<Pending> = Vec::with_capacity(batch.len());
    // (account, key) → position of the report of this batch that stored it.
    let mut keys_in_batch = std::collections::HashMap::new();
    for Request {
        new,
        key,
        make_flow,
        now,
        reply,
    } in batch
    {
        let account_key = key.as_ref().map(|k| (new.reporter.clone(), k.clone()));
        let written = match account_key.as_ref().and_then(|ak| keys_in_batch.get(ak)) {
            Some(&first) => Err(first),
            None => {
                let w = write_one(&mut tx, audit_key, &new, key.as_deref(), make_flow, now).await;
                if let (Written::New(_), Some(ak)) = (&w, account_key) {
                    keys_in_batch.insert(ak, pending.len());
                }
                Ok(w)
            }
        };
        pending.push(Pending {
            new,
            key,
            reply,
            written,
        });
    }
    if let Err(e) = tx.commit().await {
        for p in pending {
            let _ = p.reply.send(Err(shared(&e)));
        }
        return;
    }
    let records: Vec<Option<CaseRecord>> = pending
        .iter()
        .map(|p| match &p.written {
            Ok(Written::New(r)) => Some(r.clone()),
            _ => None,
        })
        .collect();
    for p in pending {
        let answer = match p.written {
            Ok(Written::New(r)) => Ok(Created::New(r)),
            Ok(Written::Failed(e)) => Err(e),
            Err(first) => records[first]
                .clone()
                .map(Created::Replayed)
                .ok_or(StoreError::Corrupt {
                    what: "intake",
                    detail: "a repeated key without its first case".into(),
                }),
            Ok(Written::KeyTaken) => {
                let key = p.key.as_deref().unwrap_or_default();
                match db.case_for_key(&p.new.reporter, key).await {
                    Ok(Some(r)) => Ok(Created::Replayed(r)),
                    Ok(None) => Err(StoreError::Corrupt {
                        what: "idempotency key",
                        detail: format!("key {key} is taken but names no case"),
                    }),
                    Err(e) => Err(e),
                }
            }
        };
        let _ = p.reply.send(answer);
    }
}
