//! What each subcommand does, callable from tests.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use chrono::NaiveDate;
use gongzhi_app::App;
use gongzhi_app::audit::Report;
use gongzhi_core::audit::{AuditKey, SYSTEM_ACTOR, Verdict, canonical_time};
use gongzhi_core::orgs::DepartmentCode;
use gongzhi_core::people::credentials::hash_password;
use gongzhi_core::people::{Grant, Role, Scope};
use gongzhi_core::territory::TerritoryCode;
use gongzhi_core::territory::geojson::parse_grids;
use gongzhi_core::{Lang, Localized};
use gongzhi_store::{Db, ImportReport, StoreError};

use crate::config::Settings;
use crate::context;

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
    let scope = match (scope.strip_prefix("department:"), scope.strip_prefix("organization:")) {
        (Some(d), _) => Scope::Department(DepartmentCode::parse(d).map_err(|e| format!("--scope {scope}: {e}"))?),
        (_, Some(o)) => Scope::Organization(
            o.parse::<i64>()
                .ok()
                .filter(|o| *o > 0)
                .ok_or_else(|| format!("--scope {scope}: not an organization id"))?,
        ),
        _ => Scope::Territory(TerritoryCode::parse(scope).map_err(|e| format!("--scope {scope}: {e}"))?),
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
    // A security permission goes only to staff who set their own password, never with a new account.
    gongzhi_core::people::policy::check_permission_grant(role, &[], false).map_err(|e| e.to_string())?;
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
    let changed = gongzhi_app::audit::configuration::record(&db, &key, &settings.audited())
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "recording the configuration in the audit record: {}",
                e.message(gongzhi_core::Lang::En)
            )
        })?;
    if !changed.is_empty() {
        tracing::info!(settings = %changed.join(", "), "configuration changed since the last start (audited)");
    }
    let state = App::new(db.clone()).await?.with_security(settings.security.clone());
    let state = match settings.sms_gateway.as_deref() {
        Some("log") => {
            tracing::warn!(
                "sms_gateway = \"log\": residents' sign-in codes are written to this log, for development only"
            );
            state.with_sms(std::sync::Arc::new(gongzhi_app::people::sms::LogGateway))
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
        .with_audit_anchor(settings.audit_anchor.clone())
        .with_id_mask(settings.id_mask)
        .with_public_url(&settings.public_url());
    let state = match cipher {
        Some(c) => state.with_cipher(c),
        None => {
            tracing::warn!("no personal-data key configured: the registry's pages and API answer 503");
            state
        }
    };
    state.spawn_index_refresh(Duration::from_secs(settings.index_refresh_seconds));
    state.spawn_supervision(Duration::from_secs(60));
    if settings.audit_checkpoint_minutes > 0 {
        state.spawn_audit_checkpoints(Duration::from_secs(60 * settings.audit_checkpoint_minutes));
    } else {
        tracing::warn!(
            "audit_checkpoint_minutes = 0: the audit record's end is anchored only by `gongzhi audit checkpoint`"
        );
    }
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("listening on {}", settings.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, database = db.backend().as_str(), grids = state.index().grids.len(), "Gongzhi is serving on http://{addr}/");
    // The peer's address is what sign-in counts attempts and lockouts under (a trusted proxy's
    // X-Forwarded-For aside: `[security] trusted_proxies`).
    let app = gongzhi_web::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
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

/// The line that says a verdict.
fn verdict_line(verdict: &Verdict, lang: Lang) -> String {
    match verdict {
        Verdict::Intact { entries, head } => match lang {
            Lang::Zh => format!("审计记录完整：共 {entries} 条，链头 {head}"),
            Lang::En => format!("audit record intact: {entries} entries, head {head}"),
        },
        Verdict::Broken { broken_at: 0, reason } => match lang {
            Lang::Zh => format!("审计记录无法核对：{}", reason.message(lang)),
            Lang::En => format!("audit record cannot be checked: {}", reason.message(lang)),
        },
        Verdict::Broken { broken_at, reason } => match lang {
            Lang::Zh => format!("审计记录在第 {broken_at} 条处被破坏：{}", reason.message(lang)),
            Lang::En => format!("audit record broken at entry {broken_at}: {}", reason.message(lang)),
        },
    }
}

/// What a verification covered, for the operator (printed to standard error).
pub fn coverage_note(report: &Report, lang: Lang) -> String {
    let v = &report.verification;
    let what = match (report.full, lang) {
        (true, Lang::Zh) => format!("全量核对 {} 条", v.checked),
        (true, Lang::En) => format!("checked all {} entries", v.checked),
        (false, Lang::Zh) => format!("自第 {} 条起核对 {} 条", v.from, v.checked),
        (false, Lang::En) => format!("checked {} entries from entry {}", v.checked, v.from),
    };
    match (&report.checkpoint, lang) {
        (Some(c), Lang::Zh) => format!("{what}；检查点：第 {} 条（{}）", c.seq, canonical_time(&c.at)),
        (Some(c), Lang::En) => format!("{what}; checkpoint: entry {} ({})", c.seq, canonical_time(&c.at)),
        (None, Lang::Zh) => format!("{what}；尚无检查点：记录末尾未在数据库之外锚定（gongzhi audit checkpoint）"),
        (None, Lang::En) => {
            format!(
                "{what}; no checkpoint yet: the record's end is not anchored outside the database (gongzhi audit checkpoint)"
            )
        }
    }
}

/// `gongzhi audit verify [--full]`: the report and the line to print for it.
pub async fn verify_audit(app: &App, full: bool, lang: Lang) -> Result<(Report, String)> {
    let started = Instant::now();
    let report = gongzhi_app::audit::verify_record(app, full)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message(lang)))?;
    let line = verdict_line(&report.verification.verdict, lang);
    tracing::info!(
        ms = started.elapsed().as_millis() as u64,
        checked = report.verification.checked,
        "audit record verified"
    );
    Ok((report, line))
}

/// `gongzhi audit checkpoint`: the lines to print, and whether it succeeded (a checkpoint
/// written or the record unchanged, and the witness, if any, content).
pub async fn checkpoint_audit(app: &App, lang: Lang) -> Result<(bool, Vec<String>)> {
    let done = gongzhi_app::audit::checkpoint(app)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message(lang)))?;
    let file = app
        .audit_anchor()
        .map(|a| a.file.display().to_string())
        .unwrap_or_default();
    let mut lines = vec![verdict_line(&done.report.verification.verdict, lang)];
    let intact = done.report.verification.verdict.is_intact();
    match (&done.written, intact, lang) {
        (Some(c), _, Lang::Zh) => lines.push(format!("审计检查点已写入 {file}：第 {} 条", c.seq)),
        (Some(c), _, Lang::En) => lines.push(format!("audit checkpoint written to {file}: entry {}", c.seq)),
        (None, true, Lang::Zh) => lines.push(format!("记录自上次检查点以来未增加，{file} 未变")),
        (None, true, Lang::En) => lines.push(format!(
            "the record has not grown since the last checkpoint: {file} unchanged"
        )),
        (None, false, Lang::Zh) => lines.push("记录已被破坏：未写入新的检查点，原检查点保留".into()),
        (None, false, Lang::En) => {
            lines.push("the record is broken: no new checkpoint written, the last one is kept".into())
        }
    }
    if let Some(e) = &done.witness_failed {
        lines.push(match lang {
            Lang::Zh => format!("见证命令失败：{e}"),
            Lang::En => format!("the witness command failed: {e}"),
        });
    }
    Ok((intact && done.witness_failed.is_none(), lines))
}

/// Creates an API key for an integration with the checks of `POST /api/v1/api-keys`, recorded as
/// made by the system; returns the key (printed once: only its hash is stored). A refused value
/// is an error line naming it.
pub async fn create_api_key(
    ctx: context::Context,
    name: &str,
    scope: &str,
    calls: Option<Vec<String>>,
    rate_per_minute: Option<i64>,
    lang: gongzhi_core::Lang,
) -> std::result::Result<String, String> {
    use gongzhi_app::people::api_keys::{check_key_request, create_key};
    let app = ctx.app().await.map_err(|e| e.to_string())?;
    let request = check_key_request(&app, name, scope, calls, rate_per_minute)
        .await
        .map_err(|e| e.message(lang).to_string())?;
    match create_key(&app, &request, SYSTEM_ACTOR)
        .await
        .map_err(|e| e.message(lang).to_string())?
    {
        Some((_, secret)) => Ok(secret),
        None => Err(format!("api key {name}: a key of that name exists")),
    }
}
