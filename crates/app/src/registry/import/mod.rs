//! The registry's import (`registry::import`), the same for a page upload, the API and the command
//! line: read and check the
//! whole file on a blocking thread (rows streamed from the file, each good row converted to its
//! typed form, every bad row collected), then — only if no row was bad — write everything in one
//! transaction with its audit entry. A refused file writes nothing.

use std::ops::ControlFlow;
use std::sync::Arc;

use bytes::Bytes;
use gongzhi_core::Lang;
use gongzhi_core::audit::{AuditKey, NewAuditEntry};
use gongzhi_core::data::{DataError, Problem, RowError};
use gongzhi_core::import::registry::{outline_of, position_of};
use gongzhi_core::import::{ErrorList, Imported, Phase, Reach, Record};
use gongzhi_core::people::Actor;
use gongzhi_core::people::cipher::CipherProvider;
use gongzhi_core::territory::{GridCode, TerritoryCode};

mod jobs;
mod orgs;
mod party;
mod places;
mod residents;

pub use jobs::{Job, Jobs, Outcome};

use crate::App;

/// Reads and checks the file of `job`, giving every good row to `convert` (which may refuse it
/// with its own problems: a repeat, a place outside the importer's reach …). All good rows, in
/// file order, or the refusal naming every bad row.
pub async fn read_all<T: Send + 'static>(
    job: &Job,
    bytes: Bytes,
    mut convert: impl FnMut(Record) -> Result<T, Vec<RowError>> + Send + 'static,
) -> Result<Vec<T>, Outcome> {
    let file = job.file.clone();
    let template = job.template;
    let progress = job.progress.clone();
    let read = tokio::task::spawn_blocking(move || {
        let mut errors = ErrorList::default();
        let mut good = Vec::new();
        let read = gongzhi_office::read_records(&file, &bytes, &template, &progress, &mut errors, |record| {
            good.push(convert(record)?);
            Ok(ControlFlow::Continue(()))
        });
        progress.set_phase(Phase::Validating);
        match read {
            Err(e) => Err(Outcome::Refused(e)),
            Ok(_) => match errors.into_result(&file) {
                Err(e) => Err(Outcome::Refused(e)),
                Ok(()) => Ok(good),
            },
        }
    })
    .await;
    match read {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "import reader failed");
            Err(Outcome::Failed)
        }
    }
}

/// Runs `job` to its outcome.
pub async fn execute(app: &App, job: &Job, bytes: Bytes, actor: &Actor, reach: &Reach) -> Outcome {
    let result = match job.template.key {
        "residents" => residents::import(app, job, bytes, actor, reach).await,
        "member-orgs" => orgs::member_orgs(app, job, bytes, actor, reach).await,
        "property-companies" => orgs::property_companies(app, job, bytes, actor).await,
        "compounds" => orgs::compounds(app, job, bytes, actor, reach).await,
        "buildings" => places::buildings(app, job, bytes, actor, reach).await,
        "households" => places::households(app, job, bytes, actor, reach).await,
        "party-orgs" => party::organizations(app, job, bytes, actor, reach).await,
        "party-members" => party::members(app, job, bytes, actor, reach).await,
        _ => Err(Outcome::Refused(DataError::one(
            job.file.clone(),
            RowError::file(Problem::other(
                format!("{}暂不支持从表格导入", job.template.name_zh),
                format!("{} cannot be imported from a spreadsheet yet", job.template.name_en),
            )),
        ))),
    };
    match result {
        Ok(done) => {
            tracing::info!(
                template = job.template.key,
                rows = done.rows,
                actor = %actor.account,
                "registry import committed"
            );
            Outcome::Imported(done)
        }
        Err(o) => o,
    }
}

/// A store failure during an import: logged (never with row values), nothing written.
pub fn failed(e: impl std::fmt::Display) -> Outcome {
    tracing::error!(error = %e, "registry import failed; rolled back");
    Outcome::Failed
}

/// The audit entry of a committed import: who, which file, how many rows and things created;
/// never a value of a row.
pub async fn audit_import(
    tx: &mut gongzhi_store::Tx,
    key: &gongzhi_core::audit::AuditKey,
    actor: &Actor,
    job: &Job,
    done: &Imported,
) -> Result<(), Outcome> {
    let created: serde_json::Map<String, serde_json::Value> = done
        .created
        .iter()
        .map(|(k, n)| (k.to_string(), serde_json::json!(n)))
        .collect();
    let entry = NewAuditEntry::new(
        chrono::Utc::now(),
        actor.account.clone(),
        "registry.import",
        "import",
        job.template.key,
        serde_json::json!({
            "template": job.template.key,
            "file": job.file,
            "rows": done.rows,
            "created": created,
        }),
    )
    .map_err(failed)?;
    gongzhi_store::audit::append(tx, key, entry).await.map_err(failed)?;
    Ok(())
}

/// Ends an import: its audit entry, then the commit of everything.
pub async fn commit(
    mut tx: gongzhi_store::Tx,
    key: &AuditKey,
    actor: &Actor,
    job: &Job,
    done: Imported,
) -> Result<Imported, Outcome> {
    audit_import(&mut tx, key, actor, job, &done).await?;
    tx.commit().await.map_err(failed)?;
    Ok(done)
}

/// The keys every write needs, or the refusal saying which is missing.
pub fn keys(app: &App, job: &Job) -> Result<(Arc<AuditKey>, Arc<dyn CipherProvider>), Outcome> {
    let refuse =
        |zh: &str, en: &str| Outcome::Refused(DataError::one(job.file.clone(), RowError::file(Problem::other(zh, en))));
    let key = app.audit_key().ok_or_else(|| {
        refuse(
            "服务器未配置审计密钥，无法记录导入",
            "the server has no audit key, so it cannot record an import",
        )
    })?;
    let cipher = app.cipher().ok_or_else(|| {
        refuse(
            "服务器未配置个人信息密钥，无法加密保存",
            "the server has no personal-data key, so it cannot store personal data",
        )
    })?;
    Ok((key, cipher))
}

/// The audit key (for imports that seal nothing), or the refusal saying it is missing.
pub fn audit_key(app: &App, job: &Job) -> Result<Arc<AuditKey>, Outcome> {
    app.audit_key()
        .ok_or_else(|| keys(app, job).err().unwrap_or(Outcome::Failed))
}

/// A row naming something the registry holds already.
fn registered(row: usize, column: &str, value: &str) -> RowError {
    RowError::cell(
        row,
        column,
        Problem::other(format!("“{value}”已登记"), format!("{value:?} is registered already")),
    )
}

/// A row naming something not registered that an earlier import must bring: `what` in Chinese,
/// in English and the English plural of the import to run first.
fn import_first(row: usize, column: &str, value: impl Into<String>, zh: &str, en: &str, en_plural: &str) -> RowError {
    RowError::cell(
        row,
        column,
        Problem::unknown(
            value,
            format!("{zh}（请先导入{zh}）"),
            format!("{en} (import {en_plural} first)"),
        ),
    )
}

/// The refusal of a file with problems, or nothing.
fn refuse(errors: ErrorList, job: &Job) -> Result<(), Outcome> {
    errors.into_result(&job.file).map_err(Outcome::Refused)
}

/// The row's grid, known and inside `reach`, or the row's problem.
fn grid_in(index: &crate::territory::TerritoryIndex, reach: &Reach, r: &Record) -> Result<GridCode, RowError> {
    let text = r.text("grid_code");
    match TerritoryCode::parse(text) {
        Ok(code @ TerritoryCode::Grid(_)) if index.by_code.contains_key(text) => {
            if !reach.reaches(&code) {
                return Err(r.error(
                    "grid_code",
                    Problem::other(
                        format!("网格 {text} 不在您的辖区内"),
                        format!("grid {text} is outside your area"),
                    ),
                ));
            }
            GridCode::parse(text).map_err(|_| r.error("grid_code", Problem::unknown(text, "网格", "grid")))
        }
        _ => Err(r.error("grid_code", Problem::unknown(text, "网格", "grid"))),
    }
}
