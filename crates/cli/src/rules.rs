//! `gongzhi rules …`: import and export the responsibility list, import calendar years, and the
//! status of the rules (versions, years with data, missing years).
//!
//! A refused file is reported row by row, every bad row on its own line as
//! `FILE: 第N行「列」：reason` (English: `FILE: row N, column C: reason`), and nothing is imported.

use std::path::Path;

use anyhow::{Context, Result};
use gongzhi_core::Lang;
use gongzhi_core::audit::{AuditKey, SYSTEM_ACTOR};
use gongzhi_core::cases::responsibility::ResponsibilityList;
use gongzhi_core::cases::rules::{CaseRules, RuleFiles};
use gongzhi_core::data::{DataError, RowError};
use gongzhi_core::time::city_today;
use gongzhi_office::{Format, read_rows, write_rows};
use gongzhi_store::Db;
use gongzhi_store::rules::RulesImportError;

/// What a rules command prints: lines for standard output on success, or lines for standard
/// error on a refused file (exit code 2).
pub type Outcome = std::result::Result<Vec<String>, Vec<String>>;

/// One line per bad row, naming the file.
pub fn error_lines(e: &DataError, lang: Lang) -> Vec<String> {
    e.errors.iter().map(|r| error_line(&e.file, r, lang)).collect()
}

fn error_line(file: &str, r: &RowError, lang: Lang) -> String {
    let why = r.problem.message(lang);
    match (lang, r.row, r.column.as_deref()) {
        (Lang::Zh, Some(n), Some(c)) => format!("{file}: 第{n}行「{c}」：{why}"),
        (Lang::Zh, Some(n), None) => format!("{file}: 第{n}行：{why}"),
        (Lang::Zh, None, Some(c)) => format!("{file}: 「{c}」：{why}"),
        (Lang::En, Some(n), Some(c)) => format!("{file}: row {n}, column {c}: {why}"),
        (Lang::En, Some(n), None) => format!("{file}: row {n}: {why}"),
        (Lang::En, None, Some(c)) => format!("{file}: column {c}: {why}"),
        (_, None, None) => format!("{file}: {why}"),
    }
}

fn read_file(path: &Path, lang: Lang) -> std::result::Result<(String, Vec<Vec<String>>), Vec<String>> {
    let name = path.display().to_string();
    let bytes =
        std::fs::read(path).map_err(|e| vec![format!("{name}: {}{e}", lang.pick("无法读取：", "cannot read: "))])?;
    let rows = read_rows(&name, &bytes).map_err(|e| error_lines(&e, lang))?;
    Ok((name, rows))
}

/// The rules in force, seeding the shipped files first if this database never had any.
pub async fn current_rules(db: &Db, key: &AuditKey) -> Result<CaseRules> {
    db.ensure_rules_seeded(&RuleFiles::qitaihe(), key).await?;
    db.rules_in_force(&RuleFiles::qitaihe(), city_today())
        .await?
        .context("the rules were seeded but cannot be read back")
}

fn refused(e: RulesImportError, lang: Lang) -> Result<Outcome> {
    match e {
        RulesImportError::Invalid(e) => Ok(Err(error_lines(&e, lang))),
        RulesImportError::Store(e) => Err(e.into()),
    }
}

/// `gongzhi rules import responsibility FILE.(csv|xlsx)`.
pub async fn import_responsibility(db: &Db, path: &Path, lang: Lang, key: &AuditKey) -> Result<Outcome> {
    let (name, rows) = match read_file(path, lang) {
        Ok(r) => r,
        Err(lines) => return Ok(Err(lines)),
    };
    let current = current_rules(db, key).await?;
    match db
        .import_responsibility(&name, &rows, &current, SYSTEM_ACTOR, key)
        .await
    {
        Ok(v) => {
            let in_force = v.valid_from <= city_today();
            Ok(Ok(vec![match lang {
                Lang::Zh => format!(
                    "{name}: 已导入职责清单“{}”，{} 条规则，{} 起{}",
                    v.version,
                    v.rules,
                    v.valid_from,
                    if in_force { "生效（现行）" } else { "生效" }
                ),
                Lang::En => format!(
                    "{name}: imported responsibility list {:?}, {} rules, in force from {}{}",
                    v.version,
                    v.rules,
                    v.valid_from,
                    if in_force { " (now in force)" } else { "" }
                ),
            }]))
        }
        Err(e) => refused(e, lang),
    }
}

/// `gongzhi rules import calendar FILE.csv`: a year (or years) of official days.
pub async fn import_calendar(db: &Db, path: &Path, lang: Lang, key: &AuditKey) -> Result<Outcome> {
    let (name, rows) = match read_file(path, lang) {
        Ok(r) => r,
        Err(lines) => return Ok(Err(lines)),
    };
    db.ensure_rules_seeded(&RuleFiles::qitaihe(), key).await?;
    match db.import_calendar(&name, &rows, SYSTEM_ACTOR, key).await {
        Ok(years) => {
            let years: Vec<String> = years.iter().map(i32::to_string).collect();
            Ok(Ok(vec![match lang {
                Lang::Zh => format!("{name}: 已导入 {} 年的法定节假日和调休安排", years.join("、")),
                Lang::En => format!("{name}: imported the official days of {}", years.join(", ")),
            }]))
        }
        Err(e) => refused(e, lang),
    }
}

/// `gongzhi rules export responsibility FILE.(csv|xlsx) [--version V]`.
pub async fn export_responsibility(
    db: &Db,
    path: &Path,
    version: Option<&str>,
    lang: Lang,
    key: &AuditKey,
) -> Result<Outcome> {
    let name = path.display().to_string();
    let Some(format) = Format::from_file_name(&name) else {
        return Ok(Err(vec![format!(
            "{name}: {}",
            lang.pick("只支持 .csv 和 .xlsx 文件", "only .csv and .xlsx files are supported")
        )]));
    };
    let current = current_rules(db, key).await?;
    let Some((v, csv)) = db.responsibility_version(version, city_today()).await? else {
        let v = version.unwrap_or("");
        return Ok(Err(vec![match lang {
            Lang::Zh => format!("职责清单没有版本“{v}”"),
            Lang::En => format!("the responsibility list has no version {v:?}"),
        }]));
    };
    let list = ResponsibilityList::from_csv(&v.version, &csv, &current.taxonomy, &current.departments)?;
    let bytes = write_rows(format, "职责清单", &list.to_rows())?;
    std::fs::write(path, bytes).with_context(|| format!("writing {name}"))?;
    Ok(Ok(vec![match lang {
        Lang::Zh => format!("{name}: 已导出职责清单“{}”，{} 条规则", v.version, v.rules),
        Lang::En => format!(
            "{name}: exported responsibility list {:?}, {} rules",
            v.version, v.rules
        ),
    }]))
}

/// `gongzhi rules status`: the versions (the one in force marked), years with data and a warning
/// naming the missing years (this year and next).
pub async fn status(db: &Db, lang: Lang, key: &AuditKey) -> Result<Vec<String>> {
    db.ensure_rules_seeded(&RuleFiles::qitaihe(), key).await?;
    let s = db.rules_status(city_today()).await?;
    let mut out = vec![lang.pick("职责清单版本：", "responsibility list versions:").to_string()];
    for v in &s.versions {
        let current = s.in_force.as_deref() == Some(v.version.as_str());
        out.push(match lang {
            Lang::Zh => format!(
                "  {}  {} 起  {} 条  {} 由 {} 导入{}",
                v.version,
                v.valid_from,
                v.rules,
                v.imported_at.format("%Y-%m-%d %H:%M UTC"),
                v.imported_by,
                if current { "  （现行）" } else { "" }
            ),
            Lang::En => format!(
                "  {}  from {}  {} rules  imported {} by {}{}",
                v.version,
                v.valid_from,
                v.rules,
                v.imported_at.format("%Y-%m-%d %H:%M UTC"),
                v.imported_by,
                if current { "  (in force)" } else { "" }
            ),
        });
    }
    let years: Vec<String> = s.years_with_data.iter().map(i32::to_string).collect();
    out.push(match lang {
        Lang::Zh => format!("有法定节假日数据的年份：{}", years.join("、")),
        Lang::En => format!("years with official holidays: {}", years.join(", ")),
    });
    for y in &s.missing_years {
        out.push(match lang {
            Lang::Zh => format!(
                "警告：{y}年尚未导入法定节假日和调休安排，该年期限只按周六、周日休息计算；请用 gongzhi rules import calendar 导入"
            ),
            Lang::En => format!(
                "warning: no official holidays imported for {y}; deadlines in {y} count only weekends as days off; import them with gongzhi rules import calendar"
            ),
        });
    }
    Ok(out)
}
