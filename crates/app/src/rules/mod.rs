//! Rules as data: the responsibility list (versions, read and imported), calendar years (imported)
//! and the status administrators watch. Any signed-in staff may read; only a system
//! administrator may import. An import is all or nothing, and the rules in force are reloaded at
//! once (other servers notice through the rules revision).

use std::sync::Arc;

use gongzhi_core::ErrorCode;
use gongzhi_core::audit::AuditKey;
use gongzhi_core::cases::responsibility::ResponsibilityList;
use gongzhi_core::cases::rules::RuleFiles;
use gongzhi_core::people::{Actor, Role};
use gongzhi_store::rules::RulesImportError;

pub use gongzhi_store::rules::{ListVersion, RulesStatus};

use crate::{App, AppError};

/// A stored version of the responsibility list with its rules.
pub struct Version {
    pub version: ListVersion,
    pub list: ResponsibilityList,
    /// Whether it is the version in force.
    pub in_force: bool,
}

fn unknown_version(v: &str) -> AppError {
    AppError::new(
        ErrorCode::UnknownVersion,
        Some("version"),
        format!("职责清单没有版本“{v}”"),
        format!("the responsibility list has no version {v:?}"),
    )
}

/// A database that never served before has no versions yet: the shipped list is the first.
/// (Without an audit key nothing can be recorded, so nothing is seeded.)
async fn seed(app: &App) -> Result<(), AppError> {
    if let Some(key) = app.audit_key() {
        app.db.ensure_rules_seeded(&RuleFiles::qitaihe(), &key).await?;
    }
    Ok(())
}

/// The version labelled `version`, or (with `None`) the one in force today.
pub async fn responsibility(app: &App, version: Option<&str>) -> Result<Version, AppError> {
    seed(app).await?;
    let (v, csv) = app
        .db
        .responsibility_version(version, app.today())
        .await?
        .ok_or_else(|| unknown_version(version.unwrap_or("")))?;
    let rules = app.rules();
    let list = ResponsibilityList::from_csv(&v.version, &csv, &rules.taxonomy, &rules.departments)
        .map_err(|e| AppError::internal(&e))?;
    Ok(Version {
        in_force: rules.responsibility.version == v.version,
        version: v,
        list,
    })
}

/// The list versions, the one in force, the years with official days and the missing ones;
/// reloads the rules in force first if they moved.
pub async fn status(app: &App) -> Result<RulesStatus, AppError> {
    if app.audit_key().is_some() {
        seed(app).await?;
        app.refresh_rules().await?;
    }
    Ok(app.db.rules_status(app.today()).await?)
}

/// Whether `actor` may import rules (a system administrator; 403 otherwise), on a server that can
/// record the import. Doors ask it before reading the upload, so that others learn nothing from
/// it; it also seeds the shipped list, the version a first import follows.
pub async fn may_import(app: &App, actor: &Actor) -> Result<(), AppError> {
    importer_key(app, actor).await.map(drop)
}

/// The audit key an import is recorded with, once [`may_import`] allows it.
async fn importer_key(app: &App, actor: &Actor) -> Result<Arc<AuditKey>, AppError> {
    if !actor.has_role(Role::SystemAdmin) {
        return Err(AppError::forbidden(
            "只有系统管理员可以导入规则",
            "only a system administrator may import rules",
        ));
    }
    let key = app.audit_key().ok_or_else(|| {
        AppError::new(
            ErrorCode::AuditKeyMissing,
            None,
            "服务器未配置审计密钥，无法记录导入",
            "the server has no audit key configured, so it cannot record an import",
        )
    })?;
    app.db.ensure_rules_seeded(&RuleFiles::qitaihe(), &key).await?;
    Ok(key)
}

fn import_failed(e: RulesImportError) -> AppError {
    match e {
        RulesImportError::Invalid(e) => AppError::invalid_data(&e),
        RulesImportError::Store(e) => e.into(),
    }
}

/// Imports a new version of the responsibility list from a file's rows (`file` names it in
/// errors) and reloads the rules: the version, and whether it is in force (it may start later).
/// 422 with every bad row.
pub async fn import_responsibility(
    app: &App,
    actor: &Actor,
    file: &str,
    rows: &[Vec<String>],
) -> Result<(ListVersion, bool), AppError> {
    let key = importer_key(app, actor).await?;
    let v = app
        .db
        .import_responsibility(file, rows, &app.rules(), &actor.account, &key)
        .await
        .map_err(import_failed)?;
    app.refresh_rules().await?;
    let in_force = app.rules().responsibility.version == v.version;
    Ok((v, in_force))
}

/// Imports official days (`date,kind,name`) of one or more years, each replacing what was stored
/// for it, and reloads the rules: the years imported and the status after. 422 with every bad row.
pub async fn import_calendar(
    app: &App,
    actor: &Actor,
    file: &str,
    rows: &[Vec<String>],
) -> Result<(Vec<i32>, RulesStatus), AppError> {
    let key = importer_key(app, actor).await?;
    let years = app
        .db
        .import_calendar(file, rows, &actor.account, &key)
        .await
        .map_err(import_failed)?;
    app.refresh_rules().await?;
    Ok((years, app.db.rules_status(app.today()).await?))
}
