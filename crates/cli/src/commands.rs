//! What each subcommand does, callable from tests.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use chrono::{NaiveDate, Utc};
use gongzhi_core::audit::{AuditKey, SYSTEM_ACTOR, Verdict};
use gongzhi_core::cases::rules::CaseRules;
use gongzhi_core::orgs::DepartmentCode;
use gongzhi_core::people::credentials::hash_password;
use gongzhi_core::people::{Grant, Role, Scope};
use gongzhi_core::territory::geojson::parse_grids;
use gongzhi_core::territory::{Level, TerritoryCode};
use gongzhi_core::{Lang, Localized};
use gongzhi_store::cases::bulk::CaseHistory;
use gongzhi_store::{Db, ImportReport, StoreError};
use gongzhi_web::AppState;

use crate::config::Settings;
use crate::demo::{GridSystem, build};
use crate::demo_cases::{DemoCases, DemoCasesOptions, DemoTerritory};

/// Opens the database (creating the SQLite data folder if needed) and applies migrations.
pub async fn open(settings: &Settings) -> Result<Db> {
    if settings.uses_sqlite() {
        std::fs::create_dir_all(&settings.data_dir)
            .with_context(|| format!("creating data folder {}", settings.data_dir.display()))?;
    }
    let db = Db::connect(&settings.database_url)
        .await
        .with_context(|| format!("opening {}", redact(&settings.database_url)))?;
    db.migrate().await.context("applying migrations")?;
    Ok(db)
}

/// A database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

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

/// The demo city's staff: one account per role, all with `password` (demo only; the README lists
/// them). Accounts already there are left alone.
pub const DEMO_ACCOUNTS: [(&str, &str, Role, &str); 12] = [
    ("admin", "系统管理员", Role::SystemAdmin, "territory:230900000000"),
    ("secadmin", "安全管理员", Role::SecurityAdmin, "territory:230900000000"),
    ("auditor", "审计管理员", Role::AuditAdmin, "territory:230900000000"),
    ("leader", "市领导", Role::Leader, "territory:230900000000"),
    ("clerk", "指挥中心受理员", Role::IntakeClerk, "territory:230900000000"),
    ("shiftlead", "指挥中心值班长", Role::ShiftLead, "territory:230900000000"),
    (
        "dispatcher",
        "指挥中心派遣员",
        Role::Dispatcher,
        "territory:230900000000",
    ),
    (
        "handler",
        "城管局经办人",
        Role::DepartmentHandler,
        "department:urban-management",
    ),
    (
        "street",
        "桃东街道工作人员",
        Role::StreetStaff,
        "territory:230903011000",
    ),
    (
        "community",
        "学府社区工作者",
        Role::CommunityWorker,
        "territory:230903011001",
    ),
    (
        "gridworker",
        "学府社区第1网格网格员",
        Role::GridWorker,
        "territory:230903011001001",
    ),
    (
        "exporter",
        "桃东街道个人信息导出员",
        Role::StreetStaff,
        "territory:230903011000",
    ),
];

/// Roles some demo accounts hold besides their first: the `exporter` is street staff who may
/// also export the street's residents unmasked (a security permission, 三员分立).
pub const DEMO_EXTRA_GRANTS: [(&str, Role, &str); 1] =
    [("exporter", Role::PersonalDataExporter, "territory:230903011000")];

fn demo_scope(s: &str) -> Result<Scope> {
    Ok(match s.split_once(':') {
        Some(("territory", code)) => Scope::Territory(TerritoryCode::parse(code)?),
        Some(("department", code)) => Scope::Department(DepartmentCode::parse(code)?),
        _ => anyhow::bail!("bad demo scope {s}"),
    })
}

/// Creates the demo accounts if the database has no accounts yet.
pub async fn ensure_demo_accounts(db: &Db, password: &str, key: &AuditKey) -> Result<bool> {
    if db.account_count().await? > 0 {
        return Ok(false);
    }
    let password = password.to_string();
    let hash = tokio::task::spawn_blocking(move || hash_password(&password)).await??;
    for (username, name, role, scope) in DEMO_ACCOUNTS {
        let mut grants = vec![Grant {
            role,
            scope: demo_scope(scope)?,
        }];
        for (_, role, scope) in DEMO_EXTRA_GRANTS.iter().filter(|(u, ..)| *u == username) {
            grants.push(Grant {
                role: *role,
                scope: demo_scope(scope)?,
            });
        }
        db.create_account(username, name, Some(&hash), &grants, SYSTEM_ACTOR, key)
            .await?;
    }
    tracing::warn!(
        "demo accounts created (admin, secadmin, auditor, leader, clerk, shiftlead, dispatcher, handler, street, community, gridworker, exporter): for demonstration only"
    );
    Ok(true)
}

/// Creates an account with one role and a random password that must be changed at first sign-in;
/// returns the password. A refused value is an error line naming it.
pub async fn create_account(
    db: &Db,
    username: &str,
    name: &str,
    role: &str,
    scope: &str,
    key: &AuditKey,
) -> std::result::Result<String, String> {
    let valid_name = (2..=32).contains(&username.len())
        && username
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-'));
    if !valid_name {
        return Err(format!(
            "username {username:?}: 2 to 32 lower-case letters, digits, _ . -"
        ));
    }
    let role: Role = role.parse().map_err(|_| {
        let all: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        format!("--role {role}: not one of {}", all.join(", "))
    })?;
    let scope = match scope.strip_prefix("department:") {
        Some(d) => Scope::Department(DepartmentCode::parse(d).map_err(|e| format!("--scope {scope}: {e}"))?),
        None => Scope::Territory(TerritoryCode::parse(scope).map_err(|e| format!("--scope {scope}: {e}"))?),
    };
    let exists = db.account_by_username(username).await.map_err(|e| e.to_string())?;
    if exists.is_some() {
        return Err(format!("username {username}: an account of that name exists"));
    }
    // 16 characters of letters and digits in both cases: passes the password policy.
    let password: String = {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|e| e.to_string())?;
        const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
        let mut p: String = bytes.iter().map(|b| CHARS[*b as usize % CHARS.len()] as char).collect();
        p.replace_range(0..3, "Qa7");
        p
    };
    let hash = hash_password(&password).map_err(|e| e.to_string())?;
    let grant = Grant { role, scope };
    gongzhi_core::people::policy::check_admin_separation(std::slice::from_ref(&grant)).map_err(|e| e.to_string())?;
    db.create_account(username, name, Some(&hash), &[grant], SYSTEM_ACTOR, key)
        .await
        .map_err(|e| e.to_string())?;
    let account = db
        .account_by_username(username)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the account vanished")?;
    // Set by an installer, not chosen by the person: changed at first sign-in.
    db.set_password(&account, &hash, SYSTEM_ACTOR, None, chrono::Utc::now(), key)
        .await
        .map_err(|e| e.to_string())?;
    Ok(password)
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
    cipher: std::sync::Arc<dyn gongzhi_core::people::cipher::CipherProvider>,
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
        let opts = crate::demo_registry::DemoRegistryOptions { seed, scale, within };
        match crate::demo_registry::load(&db, cipher.as_ref(), &key, &nodes, opts, DEMO_REGISTRY_PAUSE).await {
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

/// Serves until Ctrl-C or SIGTERM.
pub async fn serve(
    db: Db,
    settings: &Settings,
    key: AuditKey,
    cipher: Option<std::sync::Arc<dyn gongzhi_core::people::cipher::CipherProvider>>,
) -> Result<()> {
    // On first start the shipped rule files become the first version kept in the database.
    db.ensure_rules_seeded(&gongzhi_core::cases::rules::RuleFiles::qitaihe(), &key)
        .await?;
    let state = AppState::new(db.clone())
        .await?
        .with_security(settings.security.clone());
    let state = match settings.sms_gateway.as_deref() {
        Some("log") => {
            tracing::warn!(
                "sms_gateway = \"log\": residents' sign-in codes are written to this log, for development only"
            );
            state.with_sms(std::sync::Arc::new(gongzhi_web::resident::sms::LogGateway))
        }
        None | Some("none") => {
            tracing::info!("no SMS gateway (sms_gateway): residents cannot sign in");
            state
        }
        Some(other) => anyhow::bail!("sms_gateway = {other:?}: expected \"log\" or \"none\""),
    };
    let state = state
        .with_attachments(
            gongzhi_store::Blobs::in_data_dir(&settings.data_dir),
            settings.attachment_limits,
        )
        .with_audit_key(key)
        .with_id_mask(settings.id_mask);
    let state = match cipher {
        Some(c) => state.with_cipher(c),
        None => {
            tracing::warn!("no personal-data key configured: the registry's pages and API answer 503");
            state
        }
    };
    state.spawn_index_refresh(Duration::from_secs(settings.index_refresh_seconds));
    gongzhi_web::cases::supervision::spawn(state.clone(), Duration::from_secs(60));
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("listening on {}", settings.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, database = db.backend().as_str(), grids = state.index().grids.len(), "Gongzhi is serving on http://{addr}/");
    axum::serve(listener, gongzhi_web::router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    db.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

/// A failed import, said as one line that names the file and the feature.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ImportFailed(pub String);

/// `gongzhi import grids FILE`: all grids of the file, or none.
pub async fn import_grids(
    db: &Db,
    file: &Path,
    valid_from: NaiveDate,
    lang: Lang,
    key: &AuditKey,
) -> Result<ImportReport, ImportFailed> {
    let name = file.display();
    let text = std::fs::read_to_string(file)
        .map_err(|e| ImportFailed(format!("{name}: {}{e}", lang.pick("无法读取：", "cannot read: "))))?;
    let grids = parse_grids(&text).map_err(|e| ImportFailed(format!("{name}: {}", e.message(lang))))?;
    db.import_grids(&grids, valid_from, key, SYSTEM_ACTOR)
        .await
        .map_err(|e| match e {
            StoreError::Import(e) => ImportFailed(format!("{name}: {}", e.message(lang))),
            other => ImportFailed(format!("{name}: {other}")),
        })
}

/// `gongzhi audit verify`: the verdict and the line to print for it.
pub async fn verify_audit(db: &Db, key: &AuditKey, lang: Lang) -> Result<(Verdict, String)> {
    let started = Instant::now();
    let verdict = gongzhi_store::audit::verify(db, key).await?;
    let line = match &verdict {
        Verdict::Intact { entries, head } => match lang {
            Lang::Zh => format!("审计记录完整：共 {entries} 条，链头 {head}"),
            Lang::En => format!("audit record intact: {entries} entries, head {head}"),
        },
        Verdict::Broken { broken_at, reason } => match lang {
            Lang::Zh => format!("审计记录在第 {broken_at} 条处被破坏：{}", reason.message(lang)),
            Lang::En => format!("audit record broken at entry {broken_at}: {}", reason.message(lang)),
        },
    };
    tracing::info!(ms = started.elapsed().as_millis() as u64, "audit record verified");
    Ok((verdict, line))
}

/// Creates an API key for an integration with the checks of `POST /api/v1/api-keys`, recorded as
/// made by the system; returns the key (printed once: only its hash is stored). A refused value
/// is an error line naming it.
pub async fn create_api_key(
    db: Db,
    name: &str,
    scope: &str,
    calls: Option<Vec<String>>,
    rate_per_minute: Option<i64>,
    key: AuditKey,
    lang: gongzhi_core::Lang,
) -> std::result::Result<String, String> {
    use gongzhi_web::people::api_keys::{check_key_request, create_key};
    let state = gongzhi_web::AppState::new(db)
        .await
        .map_err(|e| e.to_string())?
        .with_audit_key(key);
    let request = check_key_request(&state, name, scope, calls, rate_per_minute)
        .await
        .map_err(|e| e.message(lang).to_string())?;
    match create_key(&state, &request, SYSTEM_ACTOR)
        .await
        .map_err(|e| e.message(lang).to_string())?
    {
        Some((_, secret)) => Ok(secret),
        None => Err(format!("api key {name}: a key of that name exists")),
    }
}
