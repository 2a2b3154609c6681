//! `gongzhi bench audit-verify`: an audit record of N entries written by the product's own appends
//! ([`gongzhi_store::audit::append_many`], entries shaped like the case loop's and the registry's)
//! into a fresh database, then verified whole `runs` times: wall time and entries per second.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::Utc;
use gongzhi_core::audit::{AuditKey, NewAuditEntry, Verdict};
use gongzhi_store::Db;
use serde_json::json;

/// Entries per transaction while filling: the size of a large registry import's batch.
const FILL_BATCH: usize = 5_000;

/// The `i`-th entry of the benchmark's record: case reports, dispatches and registry edits in
/// turn, with details of the sizes those have (100 to 250 bytes).
fn entry(i: usize) -> NewAuditEntry {
    let case = format!("2026112{:07}", i % 10_000_000);
    let (actor, action, kind, id, detail) = match i % 3 {
        0 => (
            "grid.worker.0815",
            "case.report",
            "case",
            case,
            json!({"channel": "grid_worker", "matter": "0301", "grid": "230902001003", "place": [131.0123, 45.7761], "photos": [i, i + 1]}),
        ),
        1 => (
            "dispatcher",
            "case.dispatch",
            "case",
            case,
            json!({"to": "230902001", "note": "道路积雪，请于两日内清理", "limit": {"days": 2}, "i": i}),
        ),
        _ => (
            "clerk",
            "registry.person.update",
            "person",
            format!("{}", 1_000_000 + i),
            json!({"fields": ["phone", "address"], "grid": "230902001003", "reason": "入户核实"}),
        ),
    };
    NewAuditEntry::new(Utc::now(), actor, action, kind, id, detail).expect("a valid benchmark entry")
}

/// Appends `n` entries to `db`'s record, [`FILL_BATCH`] to a transaction; returns the time taken.
pub async fn fill(db: &Db, key: &AuditKey, n: usize) -> Result<Duration> {
    let started = Instant::now();
    let mut done = 0;
    while done < n {
        let batch: Vec<NewAuditEntry> = (done..(done + FILL_BATCH).min(n)).map(entry).collect();
        done += batch.len();
        let mut tx = db.begin().await?;
        gongzhi_store::audit::append_many(&mut tx, key, batch).await?;
        tx.commit().await?;
    }
    Ok(started.elapsed())
}

/// One verification of the whole record; fails unless it is intact with `n` entries.
pub async fn verify_full(db: &Db, key: &AuditKey, n: usize) -> Result<Duration> {
    let started = Instant::now();
    let verdict = gongzhi_store::audit::verify(db, key).await?;
    let took = started.elapsed();
    match verdict {
        Verdict::Intact { entries, .. } if entries == n as u64 => Ok(took),
        other => bail!("the benchmark's record did not verify: {other:?}"),
    }
}

/// A fresh database at `database_url` with the schema and nothing else.
pub async fn fresh_db(database_url: &str) -> Result<Db> {
    let db = Db::connect(database_url)
        .await
        .context("opening the benchmark database")?;
    db.migrate().await?;
    if gongzhi_store::audit::head(&db).await?.seq != 0 {
        bail!("the benchmark database already holds an audit record: give an empty one");
    }
    Ok(db)
}

/// The median of `runs` (sorted in place).
pub fn median(runs: &mut [Duration]) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}
