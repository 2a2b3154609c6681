//! `gongzhi import residents|households|buildings|compounds|member-orgs|property-companies|
//! party-orgs|party-members FILE` and `… --template FILE`: the registry's spreadsheets from the
//! command line, through the same import as the server's upload page ([`gongzhi_app::registry::import`]),
//! with a progress line on standard error. The command line imports everywhere (it is run by
//! whoever runs the server) and is recorded as `system`.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, Result};
use gongzhi_app::registry::import::Outcome;
use gongzhi_core::Lang;
use gongzhi_core::audit::SYSTEM_ACTOR;
use gongzhi_core::import::Reach;
use gongzhi_core::import::registry::template;
use gongzhi_core::people::Actor;
use gongzhi_office::{Format, template_file};

use crate::context::Context;
use crate::rules::{Outcome as Lines, error_lines};

fn unknown(key: &str, lang: Lang) -> String {
    match lang {
        Lang::Zh => format!("没有名为“{key}”的导入模板"),
        Lang::En => format!("no import template is called {key:?}"),
    }
}

/// `gongzhi import KIND --template FILE.(xlsx|csv)`: writes the template to fill in.
pub fn write_template(key: &str, path: &Path, lang: Lang) -> Lines {
    let t = template(key).ok_or_else(|| vec![unknown(key, lang)])?;
    let name = path.display().to_string();
    let format = Format::from_file_name(&name).ok_or_else(|| {
        vec![format!(
            "{name}: {}",
            lang.pick(
                "模板文件名须以 .xlsx 或 .csv 结尾",
                "the template's name must end in .xlsx or .csv"
            )
        )]
    })?;
    let bytes = template_file(&t, format).map_err(|e| error_lines(&e, lang))?;
    std::fs::write(path, bytes).map_err(|e| vec![format!("{name}: {e}")])?;
    Ok(vec![match lang {
        Lang::Zh => format!("已写出{}导入模板 {name}", t.name_zh),
        Lang::En => format!("wrote the {} template {name}", t.name_en),
    }])
}

/// `gongzhi import KIND FILE`: all rows, or none (every bad row is listed, exit code 2).
pub async fn import_file(ctx: &Context, key: &str, path: &Path, lang: Lang) -> Result<Lines> {
    let Some(t) = template(key) else {
        return Ok(Err(vec![unknown(key, lang)]));
    };
    let name = path.display().to_string();
    let bytes = match std::fs::read(path) {
        Ok(b) => axum::body::Bytes::from(b),
        Err(e) => {
            return Ok(Err(vec![format!(
                "{name}: {}{e}",
                lang.pick("无法读取：", "cannot read: ")
            )]));
        }
    };
    let state = ctx.app().await.context("loading the territory")?;
    let actor = Actor {
        account: SYSTEM_ACTOR.to_string(),
        grants: vec![],
    };
    let job = state.import_jobs().start(&actor, t, &name, &bytes);
    let shown = job.clone();
    let terminal = std::io::stderr().is_terminal();
    let ticker = tokio::spawn(async move {
        let mut ticks = 0u64;
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            ticks += 1;
            let line = shown.progress.snapshot().line(lang);
            if terminal {
                eprint!("\r\x1b[2K{line}");
                let _ = std::io::stderr().flush();
            } else if ticks.is_multiple_of(8) {
                eprintln!("{line}");
            }
        }
    });
    let outcome = gongzhi_app::registry::import::execute(&state, &job, bytes, &actor, &Reach::everywhere()).await;
    ticker.abort();
    job.finish(outcome.clone());
    let last = job.progress.snapshot().line(lang);
    if terminal {
        eprintln!("\r\x1b[2K{last}");
    } else {
        eprintln!("{last}");
    }
    Ok(match outcome {
        Outcome::Imported(i) => Ok(vec![format!("{name}: {}", i.line(lang))]),
        Outcome::Refused(e) => {
            let mut lines = error_lines(&e, lang);
            if e.omitted > 0 {
                lines.push(match lang {
                    Lang::Zh => format!("{name}: ……另有{}处错误未列出", e.omitted),
                    Lang::En => format!("{name}: … and {} more errors not listed", e.omitted),
                });
            }
            lines.push(match lang {
                Lang::Zh => format!("{name}: 共{}处错误，未导入任何数据", e.total()),
                Lang::En => format!("{name}: {} error(s); nothing was imported", e.total()),
            });
            Err(lines)
        }
        Outcome::Failed => anyhow::bail!("{name}: the import failed; nothing was imported (see the log)"),
    })
}

/// `gongzhi export residents FILE.(xlsx|csv) [--within CODE] [--unmasked --reason TEXT]`: the
/// residents of the city (or of `within`), masked unless `--unmasked` with a stated reason; each
/// export audited as `registry.export` (count, area, masked or not, the reason; no values).
pub async fn export_residents(
    ctx: &Context,
    path: &Path,
    within: Option<&str>,
    unmasked_reason: Option<&str>,
    lang: Lang,
) -> Result<Lines> {
    let name = path.display().to_string();
    let Some(format) = Format::from_file_name(&name) else {
        return Ok(Err(vec![format!(
            "{name}: {}",
            lang.pick("文件名须以 .xlsx 或 .csv 结尾", "the name must end in .xlsx or .csv")
        )]));
    };
    let prefix = match within_prefix(within) {
        Ok(p) => p,
        Err(lines) => return Ok(Err(lines)),
    };
    let reason = match unmasked_reason.map(gongzhi_core::people::registry::reveal_reason) {
        Some(Err(_)) => {
            return Ok(Err(vec![
                lang.pick(
                    "不脱敏导出须用 --reason 说明理由（2至200字）",
                    "an unmasked export needs --reason (2 to 200 characters)",
                )
                .to_string(),
            ]));
        }
        Some(Ok(r)) => Some(r),
        None => None,
    };
    let state = ctx.app().await.context("loading the territory")?;
    let rows = gongzhi_app::registry::export::resident_export(&state, std::slice::from_ref(&prefix), reason.is_some())
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message(lang)))?;
    let entry = gongzhi_core::audit::NewAuditEntry::new(
        chrono::Utc::now(),
        SYSTEM_ACTOR,
        "registry.export",
        "export",
        "residents",
        serde_json::json!({
            "kind": "residents", "within": prefix, "rows": rows.len() - 1,
            "masked": reason.is_none(), "reason": reason, "file": name,
        }),
    )?;
    gongzhi_store::audit::record(&ctx.db, ctx.audit_key(), entry).await?;
    let bytes = gongzhi_office::write_rows(format, "实有人口", &rows).map_err(|e| anyhow::anyhow!("{e}"))?;
    std::fs::write(path, bytes).with_context(|| format!("writing {name}"))?;
    Ok(Ok(vec![match (lang, reason.is_some()) {
        (Lang::Zh, false) => format!("已导出 {} 名居民（已脱敏）到 {name}", rows.len() - 1),
        (Lang::Zh, true) => format!("已导出 {} 名居民（未脱敏，已记入审计）到 {name}", rows.len() - 1),
        (Lang::En, false) => format!("exported {} residents (masked) to {name}", rows.len() - 1),
        (Lang::En, true) => format!("exported {} residents (unmasked, audited) to {name}", rows.len() - 1),
    }]))
}

/// `gongzhi export buildings|compounds|member-orgs|property-companies|party-orgs FILE [--format
/// geojson|xlsx|csv] [--within CODE]`: the records as GeoJSON (buildings and compounds) or as the
/// import template's table, so the file imports again; audited with the count.
pub async fn export_places(
    ctx: &Context,
    kind: &str,
    path: &Path,
    format: Option<&str>,
    within: Option<&str>,
    lang: Lang,
) -> Result<Lines> {
    let name = path.display().to_string();
    let format = format
        .map(str::to_string)
        .or_else(|| path.extension().map(|e| e.to_string_lossy().to_lowercase()))
        .unwrap_or_default();
    let geo = format == "geojson" && matches!(kind, "buildings" | "compounds");
    let table = Format::from_file_name(&format!("x.{format}"));
    if !geo && table.is_none() {
        return Ok(Err(vec![match lang {
            Lang::Zh => format!("{name}：导出{kind}须为 .xlsx 或 .csv（楼栋、小区也可为 .geojson）"),
            Lang::En => format!("{name}: {kind} export as .xlsx or .csv (buildings and compounds also .geojson)"),
        }]));
    }
    let prefix = match within_prefix(within) {
        Ok(p) => p,
        Err(lines) => return Ok(Err(lines)),
    };
    let state = ctx.app().await.context("loading the territory")?;
    let prefixes = std::slice::from_ref(&prefix);
    let (bytes, count) = match table.filter(|_| !geo) {
        None => {
            let (text, count) = gongzhi_app::registry::export::places_geojson(&state, kind, prefixes)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message(lang)))?;
            (text.into_bytes(), count)
        }
        Some(f) => {
            let (rows, count) = gongzhi_app::registry::export::table_rows(&state, kind, prefixes)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message(lang)))?;
            let sheet = template(kind).map(|t| t.name_zh).unwrap_or("registry");
            (gongzhi_office::write_rows(f, sheet, &rows)?, count)
        }
    };
    let entry = gongzhi_core::audit::NewAuditEntry::new(
        chrono::Utc::now(),
        SYSTEM_ACTOR,
        "registry.export",
        "export",
        kind,
        serde_json::json!({"kind": kind, "within": prefix, "rows": count, "format": format, "file": name}),
    )?;
    gongzhi_store::audit::record(&ctx.db, ctx.audit_key(), entry).await?;
    std::fs::write(path, bytes).with_context(|| format!("writing {name}"))?;
    let what = template(kind).map(|t| (t.name_zh, t.name_en)).unwrap_or((kind, kind));
    Ok(Ok(vec![match lang {
        Lang::Zh => format!("已导出{} {count} 条到 {name}", what.0),
        Lang::En => format!("exported {count} {} to {name}", what.1),
    }]))
}

/// The subtree prefix `--within CODE` names (the whole city without it), or the line refusing it.
fn within_prefix(within: Option<&str>) -> std::result::Result<String, Vec<String>> {
    match within {
        Some(w) => gongzhi_core::territory::TerritoryCode::parse(w)
            .map(|c| c.subtree_prefix().to_string())
            .map_err(|e| vec![format!("--within {w}: {e}")]),
        None => Ok(String::new()),
    }
}
