//! `gongzhi bench import`: a deterministic resident workbook of N rows ([`gongzhi_demo::import_rows`])
//! imported into a fresh database through the server's own import
//! ([`gongzhi_app::registry::import::execute`]), timed, with the process's peak resident memory growth.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use gongzhi_app::registry::import::Outcome;
use gongzhi_core::audit::AuditKey;
use gongzhi_core::import::Reach;
use gongzhi_core::import::registry::RESIDENTS;
use gongzhi_core::people::Actor;
use gongzhi_store::Db;

fn status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

pub struct ImportRun {
    pub wall: Duration,
    pub rows: u64,
    /// Peak resident memory during the import minus resident memory before it, MB.
    pub rss_growth_mb: f64,
}

impl ImportRun {
    pub fn rate(&self) -> f64 {
        self.rows as f64 / self.wall.as_secs_f64()
    }
}

/// One measured import of `file` (its bytes) into `db`, which has the demo city's territory.
pub async fn measure(db: &Db, key: &AuditKey, name: &str, bytes: Vec<u8>) -> Result<ImportRun> {
    let state = gongzhi_app::App::new(db.clone())
        .await?
        .with_audit_key(key.clone())
        .with_cipher(std::sync::Arc::new(gongzhi_core::people::cipher::SoftwareCipher::new(
            &[7u8; 32],
        )));
    let actor = Actor {
        account: "bench".to_string(),
        grants: vec![],
    };
    let bytes = axum::body::Bytes::from(bytes);
    // Resets the peak (VmHWM) to the current resident size (Linux ≥ 4.0), so the peak read
    // after the import is the import's own.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = status_kb("VmRSS:").unwrap_or(0);
    let started = Instant::now();
    let job = state.import_jobs().start(&actor, RESIDENTS, name, &bytes);
    let outcome = gongzhi_app::registry::import::execute(&state, &job, bytes, &actor, &Reach::everywhere()).await;
    let wall = started.elapsed();
    let peak = status_kb("VmHWM:").unwrap_or(0);
    match outcome {
        Outcome::Imported(i) => Ok(ImportRun {
            wall,
            rows: i.rows,
            rss_growth_mb: peak.saturating_sub(before) as f64 / 1024.0,
        }),
        Outcome::Refused(e) => bail!("the benchmark's file was refused: {e}"),
        Outcome::Failed => bail!("the import failed (see the log)"),
    }
}

/// A fresh SQLite database in `dir` with the demo city's territory.
pub async fn fresh_db(database_url: &str, key: &AuditKey) -> Result<Db> {
    let db = Db::connect(database_url)
        .await
        .context("opening the benchmark database")?;
    db.migrate().await?;
    gongzhi_demo::ensure_demo(&db, None, key).await?;
    Ok(db)
}
