//! The loaders: each writes one part of the demo city into a database that does not have it yet
//! (a database that has it is reused as it is).

use std::time::Instant;

use anyhow::Result;
use chrono::Utc;
use gongzhi_core::audit::{AuditKey, SYSTEM_ACTOR};
use gongzhi_core::cases::rules::CaseRules;
use gongzhi_core::people::cipher::CipherProvider;
use gongzhi_core::territory::{Level, TerritoryCode};
use gongzhi_store::Db;
use gongzhi_store::cases::bulk::CaseHistory;

use crate::cases::{DemoCases, DemoCasesOptions, DemoTerritory};
use crate::grids::{GridSystem, build};
use crate::registry::{DemoRegistryOptions, load};

/// Builds the demo city into an empty database; a database that already has a territory is
/// reused as it is. Returns whether it built.
pub async fn ensure_demo(db: &Db, seed: Option<u64>, key: &AuditKey) -> Result<bool> {
    if !db.territory_is_empty().await? {
        tracing::info!("demo city found in the database; reusing it");
        return Ok(false);
    }
    let started = Instant::now();
    let mut gs = GridSystem::builtin()?;
    if let Some(seed) = seed {
        gs.seed = seed;
    }
    let nodes = build(&gs)?;
    let built = started.elapsed();
    db.insert_nodes(&nodes, Utc::now(), key, SYSTEM_ACTOR).await?;
    tracing::info!(
        nodes = nodes.len(),
        seed = gs.seed,
        layout_ms = built.as_millis() as u64,
        total_ms = started.elapsed().as_millis() as u64,
        "demo city built"
    );
    Ok(true)
}

/// Cases written per transaction when seeding: big enough for multi-row INSERTs to pay, small
/// enough that live requests wait on the write lock for well under a second.
const DEMO_CASE_BATCH: usize = 250;

/// The loader's pause between batches. SQLite's busy handler polls, so a writer that waits for
/// the lock (a sign-in, a report) could otherwise miss every gap between back-to-back batches
/// and time out: with 1,000-case batches sign-ins waited up to 8 s while the year loaded.
const DEMO_CASE_PAUSE: std::time::Duration = std::time::Duration::from_millis(100);

/// Seeds the demo city with `count` simulated cases over the year before now, unless it already
/// has cases (or `count` is 0). The day serials are reserved at once, so reports made while the
/// year is loading get numbers after the seeded ones; the cases themselves are generated on a
/// thread and written in batches by a background task, whose handle is returned.
pub async fn ensure_demo_cases(
    db: &Db,
    count: usize,
    seed: u64,
    key: AuditKey,
) -> Result<Option<tokio::task::JoinHandle<()>>> {
    if count == 0 {
        return Ok(None);
    }
    let existing = db.case_count().await?;
    if existing > 0 {
        tracing::info!(cases = existing, "demo cases found in the database; reusing them");
        return Ok(None);
    }
    let started = Instant::now();
    let mut nodes = Vec::new();
    for level in [Level::Street, Level::Community, Level::Grid] {
        nodes.extend(db.nodes_at_level(level).await?);
    }
    let territory = DemoTerritory::from_nodes(&nodes)?;
    drop(nodes);
    let rules = CaseRules::qitaihe()?;
    let opts = DemoCasesOptions {
        seed,
        count,
        end: Utc::now(),
    };
    let serials = DemoCases::new(&rules, &territory, opts)?.day_serials();
    db.reserve_case_numbers(&serials).await?;
    tracing::info!(cases = count, seed, "loading a year of demo cases in the background");

    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<CaseHistory>>(2);
    std::thread::spawn(move || {
        let mut generator = match DemoCases::new(&rules, &territory, opts) {
            Ok(g) => g,
            Err(e) => return tracing::error!("demo cases: {e}"),
        };
        loop {
            match generator.next_batch(DEMO_CASE_BATCH) {
                Ok(batch) if batch.is_empty() => return,
                Ok(batch) => {
                    if tx.blocking_send(batch).is_err() {
                        return;
                    }
                }
                Err(e) => return tracing::error!("demo cases: {e}"),
            }
        }
    });
    let db = db.clone();
    Ok(Some(tokio::spawn(async move {
        let (mut cases, mut events) = (0usize, 0usize);
        while let Some(batch) = rx.recv().await {
            match db.insert_case_histories(&batch, &key).await {
                Ok(r) => {
                    tokio::time::sleep(DEMO_CASE_PAUSE).await;
                    cases += r.cases;
                    events += r.events;
                    if cases % 10_000 < DEMO_CASE_BATCH || cases == count {
                        tracing::info!(cases, of = count, events, "demo cases loaded");
                    }
                }
                Err(e) => return tracing::error!("demo cases: {e}"),
            }
        }
        tracing::info!(
            cases,
            events,
            seconds = started.elapsed().as_secs_f64(),
            "demo cases: the year is loaded"
        );
        release_freed_memory();
    })))
}

/// Hands memory freed after a bulk load back to the operating system. glibc keeps freed blocks
/// in per-thread arenas (the generator ran on its own thread), so without this the idle server
/// would keep the load's peak (≈ 240 MB) as its resident size.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages of the allocator's heaps to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Pause between the grids of the demo registry while it loads in the background.
const DEMO_REGISTRY_PAUSE: std::time::Duration = std::time::Duration::from_millis(50);

/// Loads the demo registry (`scale` of every grid's households; 0 for none) in the background
/// while the server answers, unless it is already there. Grid by grid, each in one transaction.
pub async fn ensure_demo_registry(
    db: &Db,
    scale: f64,
    within: Option<String>,
    seed: u64,
    key: AuditKey,
    cipher: std::sync::Arc<dyn CipherProvider>,
) -> Result<Option<tokio::task::JoinHandle<()>>> {
    if scale <= 0.0 {
        return Ok(None);
    }
    let within = match within.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
        Some(w) => Some(TerritoryCode::parse(w)?.subtree_prefix().to_string()),
        None => None,
    };
    let mut nodes = Vec::new();
    for level in [Level::Street, Level::Community, Level::Grid] {
        nodes.extend(db.nodes_at_level(level).await?);
    }
    let db = db.clone();
    Ok(Some(tokio::spawn(async move {
        let started = Instant::now();
        let opts = DemoRegistryOptions { seed, scale, within };
        match load(&db, cipher.as_ref(), &key, &nodes, opts, DEMO_REGISTRY_PAUSE).await {
            Ok(l) if l.grids == 0 => tracing::info!("demo registry found in the database; reusing it"),
            Ok(l) => tracing::info!(
                grids = l.grids,
                buildings = l.buildings,
                households = l.households,
                residents = l.residents,
                party_members = l.party_members,
                seconds = started.elapsed().as_secs_f64(),
                "demo registry loaded"
            ),
            Err(e) => tracing::error!("demo registry: {e}"),
        }
        release_freed_memory();
    })))
}
