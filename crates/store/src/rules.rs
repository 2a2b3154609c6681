//! Rules as data at run time: versions of the responsibility list and imported calendar years.
//!
//! The shipped files (`RuleFiles`) are the first version, seeded once ([`Db::ensure_rules_seeded`]).
//! Afterwards administrators import new versions of the list and new years of official days; each
//! import is checked whole (a bad file changes nothing and every bad row is reported), written with
//! its audit entry in one transaction, and bumps `rules_revision`, which servers poll to reload.
//! The rules in force ([`Db::rules_in_force`]) are the shipped taxonomy, departments and policy
//! with the list version in force on the day, the official days and the overlay from the database.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, NaiveDate, SubsecRound, Utc};
use gongzhi_core::audit::{AuditKey, NewAuditEntry};
use gongzhi_core::cases::calendar::{DayKind, SpecialDay, days_csv, parse_official_days, parse_overlay_days};
use gongzhi_core::cases::responsibility::ResponsibilityList;
use gongzhi_core::cases::rules::{CaseRules, RuleFiles};
use gongzhi_core::data::{DataError, Problem, RowError, csv_text};
use serde::Serialize;
use serde_json::json;

use crate::audit::append;
use crate::db::{Db, Tx};
use crate::error::StoreError;

/// The file name under which the shipped list and days are recorded as the source.
pub const SHIPPED: &str = "shipped";

/// One stored version of the responsibility list (without its text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ListVersion {
    pub version: String,
    pub valid_from: NaiveDate,
    pub rules: i64,
    pub imported_at: DateTime<Utc>,
    pub imported_by: String,
}

/// What administrators need to know about the rules: the list versions (oldest first), which one
/// is in force, which years have official days and which of this year and next have none (there
/// deadlines fall back to plain weekends and ignore holidays).
#[derive(Debug, Clone, Serialize)]
pub struct RulesStatus {
    pub versions: Vec<ListVersion>,
    pub in_force: Option<String>,
    pub years_with_data: Vec<i32>,
    pub missing_years: Vec<i32>,
    pub revision: i64,
}

/// A refused import: the file is wrong (every reason, by row and column), or the database failed.
#[derive(Debug, thiserror::Error)]
pub enum RulesImportError {
    #[error(transparent)]
    Invalid(DataError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for RulesImportError {
    fn from(e: sqlx::Error) -> Self {
        RulesImportError::Store(e.into())
    }
}

const VERSION_COLUMNS: &str = "version, valid_from, rules, imported_at, imported_by";

fn kind_str(k: DayKind) -> &'static str {
    match k {
        DayKind::Holiday => "holiday",
        DayKind::Workday => "workday",
    }
}

fn corrupt(detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        what: "rules",
        detail: detail.to_string(),
    }
}

async fn bump_revision(tx: &mut Tx) -> Result<i64, StoreError> {
    Ok(on_tx!(tx, conn => sqlx::query_scalar(
        "UPDATE rules_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision")
        .fetch_one(conn).await)?)
}

async fn insert_days(
    tx: &mut Tx,
    layer: &str,
    days: &BTreeMap<NaiveDate, SpecialDay>,
    source: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for (day, d) in days {
        on_tx!(tx, conn => sqlx::query(
            "INSERT INTO calendar_days (layer, day, kind, name, source, imported_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(layer).bind(*day).bind(kind_str(d.kind)).bind(&d.name).bind(source).bind(now)
            .execute(conn).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

async fn insert_years(
    tx: &mut Tx,
    years: &BTreeSet<i32>,
    source: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for y in years {
        on_tx!(tx, conn => sqlx::query("DELETE FROM calendar_years WHERE year = $1")
            .bind(i64::from(*y)).execute(conn).await.map(|r| r.rows_affected()))?;
        on_tx!(tx, conn => sqlx::query(
            "INSERT INTO calendar_years (year, source, imported_at, imported_by) VALUES ($1, $2, $3, $4)")
            .bind(i64::from(*y)).bind(source).bind(now).bind(actor)
            .execute(conn).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

async fn insert_version(
    tx: &mut Tx,
    list: &ResponsibilityList,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<ListVersion, StoreError> {
    let v = ListVersion {
        version: list.version.clone(),
        valid_from: list.valid_from,
        rules: list.rules().len() as i64,
        imported_at: now,
        imported_by: actor.to_string(),
    };
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO responsibility_versions (version, valid_from, csv, rules, imported_at, imported_by)
         VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&v.version).bind(v.valid_from).bind(list.to_csv()).bind(v.rules).bind(now).bind(actor)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(v)
}

impl Db {
    /// Grows by one in the same transaction as every change to the rules.
    pub async fn rules_revision(&self) -> Result<i64, StoreError> {
        Ok(
            on_pool!(self, p => sqlx::query_scalar("SELECT revision FROM rules_revision WHERE id = 1")
            .fetch_one(p).await)?,
        )
    }

    /// Records the shipped files as the first version of the rules, once: a database that has a
    /// list version already is left alone. Returns whether it seeded. Safe when several processes
    /// start at once (the revision row's lock is taken first).
    pub async fn ensure_rules_seeded(&self, files: &RuleFiles<'_>, key: &AuditKey) -> Result<bool, StoreError> {
        let count: i64 = on_pool!(self, p => sqlx::query_scalar("SELECT COUNT(*) FROM responsibility_versions")
            .fetch_one(p).await)?;
        if count > 0 {
            return Ok(false);
        }
        let rules = CaseRules::load(files).map_err(corrupt)?;
        let official =
            parse_official_days(gongzhi_core::cases::calendar::OFFICIAL_FILE, files.official_days).map_err(corrupt)?;
        let overlay =
            parse_overlay_days(gongzhi_core::cases::calendar::OVERLAY_FILE, files.calendar_overlay).map_err(corrupt)?;
        let years: BTreeSet<i32> = official.keys().map(|d| d.year()).collect();
        let now = Utc::now().trunc_subsecs(6); // what both databases keep
        let actor = gongzhi_core::audit::SYSTEM_ACTOR;
        let mut tx = self.begin().await?;
        bump_revision(&mut tx).await?;
        let count: i64 = on_tx!(&mut tx, conn => sqlx::query_scalar("SELECT COUNT(*) FROM responsibility_versions")
            .fetch_one(conn).await)?;
        if count > 0 {
            // Another process seeded meanwhile; dropping the transaction undoes the bump.
            return Ok(false);
        }
        let v = insert_version(&mut tx, &rules.responsibility, actor, now).await?;
        insert_days(&mut tx, "official", &official, SHIPPED, now).await?;
        insert_days(&mut tx, "overlay", &overlay, SHIPPED, now).await?;
        insert_years(&mut tx, &years, SHIPPED, actor, now).await?;
        let entry = NewAuditEntry::new(
            now,
            actor,
            "rules.seed",
            "rules",
            "responsibility",
            json!({"version": v.version, "valid_from": v.valid_from, "rules": v.rules, "years": years}),
        )?;
        append(&mut tx, key, entry).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The stored versions of the list, oldest first.
    pub async fn responsibility_versions(&self) -> Result<Vec<ListVersion>, StoreError> {
        let sql = format!("SELECT {VERSION_COLUMNS} FROM responsibility_versions ORDER BY valid_from");
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(p).await)?)
    }

    /// A version of the list and its canonical CSV text: the one labelled `version`, or (with
    /// `None`) the one in force on `day` (the latest that started by then, else the earliest).
    pub async fn responsibility_version(
        &self,
        version: Option<&str>,
        day: NaiveDate,
    ) -> Result<Option<(ListVersion, String)>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            version: String,
            valid_from: NaiveDate,
            rules: i64,
            imported_at: DateTime<Utc>,
            imported_by: String,
            csv: String,
        }
        let cols = format!("{VERSION_COLUMNS}, csv");
        let row: Option<Row> = match version {
            Some(v) => {
                let sql = format!("SELECT {cols} FROM responsibility_versions WHERE version = $1");
                on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(v).fetch_optional(p).await)?
            }
            None => {
                let sql = format!(
                    "SELECT {cols} FROM responsibility_versions WHERE valid_from <= $1 ORDER BY valid_from DESC LIMIT 1"
                );
                let in_force: Option<Row> =
                    on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(day).fetch_optional(p).await)?;
                match in_force {
                    Some(r) => Some(r),
                    None => {
                        let sql = format!("SELECT {cols} FROM responsibility_versions ORDER BY valid_from LIMIT 1");
                        on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_optional(p).await)?
                    }
                }
            }
        };
        Ok(row.map(|r| {
            (
                ListVersion {
                    version: r.version,
                    valid_from: r.valid_from,
                    rules: r.rules,
                    imported_at: r.imported_at,
                    imported_by: r.imported_by,
                },
                r.csv,
            )
        }))
    }

    async fn days_of(&self, layer: &str) -> Result<BTreeMap<NaiveDate, SpecialDay>, StoreError> {
        let rows: Vec<(NaiveDate, String, String)> = on_pool!(self, p => sqlx::query_as(
            "SELECT day, kind, name FROM calendar_days WHERE layer = $1 ORDER BY day")
            .bind(layer).fetch_all(p).await)?;
        rows.into_iter()
            .map(|(day, kind, name)| {
                let kind = match kind.as_str() {
                    "holiday" => DayKind::Holiday,
                    "workday" => DayKind::Workday,
                    other => return Err(corrupt(format!("calendar day {day} has kind {other:?}"))),
                };
                Ok((day, SpecialDay { kind, name }))
            })
            .collect()
    }

    /// Years that have official days.
    pub async fn calendar_years(&self) -> Result<Vec<i32>, StoreError> {
        let years: Vec<i64> = on_pool!(self, p => sqlx::query_scalar("SELECT year FROM calendar_years ORDER BY year").fetch_all(p).await)?;
        Ok(years.into_iter().map(|y| y as i32).collect())
    }

    /// The rules in force on `day`: `files` for what is not stored (taxonomy, departments, working
    /// hours, policy, duplicate rules), the database for the list and the calendar days. `None`
    /// before the rules were seeded.
    pub async fn rules_in_force(&self, files: &RuleFiles<'_>, day: NaiveDate) -> Result<Option<CaseRules>, StoreError> {
        let Some((_, list_csv)) = self.responsibility_version(None, day).await? else {
            return Ok(None);
        };
        let official = days_csv(&self.days_of("official").await?);
        let overlay = days_csv(&self.days_of("overlay").await?);
        let stored = RuleFiles {
            responsibility_list: &list_csv,
            official_days: &official,
            calendar_overlay: &overlay,
            ..*files
        };
        CaseRules::load(&stored).map(Some).map_err(corrupt)
    }

    /// Imports a version of the responsibility list from rows (header first, as CSV or a spreadsheet
    /// gives them), checked against `current` (its taxonomy and departments). All or nothing: a bad
    /// file, or a version label or start date that is already stored, changes nothing, and the
    /// error lists every reason. Writes the version, its audit entry (`rules.responsibility.import`)
    /// and the revision in one transaction.
    pub async fn import_responsibility(
        &self,
        file: &str,
        rows: &[Vec<String>],
        current: &CaseRules,
        actor: &str,
        key: &AuditKey,
    ) -> Result<ListVersion, RulesImportError> {
        let list = ResponsibilityList::from_rows(rows, &current.taxonomy, &current.departments)
            .map_err(|e| RulesImportError::Invalid(DataError::new(file, e)))?;
        let now = Utc::now().trunc_subsecs(6); // what both databases keep
        let mut tx = self.begin().await?;
        // Lock first, so that two imports of the same label cannot both pass the check below.
        bump_revision(&mut tx).await?;
        let clash: Option<(String, NaiveDate)> = on_tx!(&mut tx, conn => sqlx::query_as(
            "SELECT version, valid_from FROM responsibility_versions WHERE version = $1 OR valid_from = $2 LIMIT 1")
            .bind(&list.version).bind(list.valid_from).fetch_optional(conn).await)?;
        if let Some((version, valid_from)) = clash {
            let error = if version == list.version {
                RowError::cell(
                    2,
                    "version",
                    Problem::other(
                        format!("版本“{version}”已导入，新版本须另起名称"),
                        format!("version {version:?} was imported already; a new version needs a new label"),
                    ),
                )
            } else {
                RowError::cell(
                    2,
                    "valid_from",
                    Problem::other(
                        format!("版本“{version}”已于 {valid_from} 生效，每个生效日期只能有一个版本"),
                        format!("version {version:?} already starts on {valid_from}; one version per start date"),
                    ),
                )
            };
            return Err(RulesImportError::Invalid(DataError::one(file, error)));
        }
        let v = insert_version(&mut tx, &list, actor, now).await?;
        let entry = NewAuditEntry::new(
            now,
            actor,
            "rules.responsibility.import",
            "rules",
            "responsibility",
            json!({"version": v.version, "valid_from": v.valid_from, "rules": v.rules, "file": file}),
        )
        .map_err(StoreError::from)?;
        append(&mut tx, key, entry).await?;
        tx.commit().await?;
        Ok(v)
    }

    /// Imports official days (`date,kind,name`, as `data/calendar/cn-official-days.csv`) from rows.
    /// Each year in the file replaces what was stored for it, so a corrected notice can be imported
    /// again. All or nothing, with every bad row reported; the days, their audit entry
    /// (`rules.calendar.import`) and the revision in one transaction. Returns the years imported.
    pub async fn import_calendar(
        &self,
        file: &str,
        rows: &[Vec<String>],
        actor: &str,
        key: &AuditKey,
    ) -> Result<Vec<i32>, RulesImportError> {
        let days = parse_official_days(file, &csv_text(rows)).map_err(RulesImportError::Invalid)?;
        if days.is_empty() {
            return Err(RulesImportError::Invalid(DataError::one(
                file,
                RowError::file(Problem::other("文件没有任何日期", "the file lists no days")),
            )));
        }
        let years: BTreeSet<i32> = days.keys().map(|d| d.year()).collect();
        let now = Utc::now().trunc_subsecs(6); // what both databases keep
        let mut tx = self.begin().await?;
        bump_revision(&mut tx).await?;
        for y in &years {
            let (first, last) = (
                NaiveDate::from_ymd_opt(*y, 1, 1).expect("a year's first day"),
                NaiveDate::from_ymd_opt(*y, 12, 31).expect("a year's last day"),
            );
            on_tx!(&mut tx, conn => sqlx::query(
                "DELETE FROM calendar_days WHERE layer = 'official' AND day >= $1 AND day <= $2")
                .bind(first).bind(last).execute(conn).await.map(|r| r.rows_affected()))?;
        }
        insert_days(&mut tx, "official", &days, file, now).await?;
        insert_years(&mut tx, &years, file, actor, now).await?;
        let entry = NewAuditEntry::new(
            now,
            actor,
            "rules.calendar.import",
            "rules",
            "calendar",
            json!({"years": years, "days": days.len(), "file": file}),
        )
        .map_err(StoreError::from)?;
        append(&mut tx, key, entry).await?;
        tx.commit().await?;
        Ok(years.into_iter().collect())
    }

    /// Versions, the one in force on `today`, years with official days and the missing ones of
    /// `today`'s year and the next.
    pub async fn rules_status(&self, today: NaiveDate) -> Result<RulesStatus, StoreError> {
        let versions = self.responsibility_versions().await?;
        let in_force = self.responsibility_version(None, today).await?.map(|(v, _)| v.version);
        let years_with_data = self.calendar_years().await?;
        let missing_years = (today.year()..=today.year() + 1)
            .filter(|y| !years_with_data.contains(y))
            .collect();
        Ok(RulesStatus {
            versions,
            in_force,
            years_with_data,
            missing_years,
            revision: self.rules_revision().await?,
        })
    }
}
