//! The errors of every data file and form field, and the small CSV helpers data files share.
//!
//! Every rule that varies by city is a data file (taxonomy, calendar, responsibility list,
//! departments), and the registry is imported from sheets; a bad file must tell its administrator
//! exactly where it is wrong. A [`RowError`] names the row (1-based, the header is row 1), the
//! column and the reason, in Chinese and English; a [`DataError`] names the file and carries every
//! bad row found, not just the first. A [`FieldError`] names the field of a form, an API body or a
//! sheet's column that failed validation, and why.

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;
use thiserror::Error;

use crate::ErrorCode;
use crate::i18n::{Lang, Localized};
use crate::orgs::CreditCodeError;
use crate::people::id_number::IdNumberError;

/// Why a cell, row or file is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Problem {
    /// The header lacks a column the file must have.
    MissingColumn,
    /// A required cell is empty.
    Empty,
    /// The value does not have the expected form.
    Invalid {
        value: String,
        expected_zh: String,
        expected_en: String,
    },
    /// The value (or key of the row) already appeared in an earlier row.
    Duplicate { value: String, first_row: usize },
    /// The value refers to something that is not defined (a department, a matter …).
    Unknown {
        value: String,
        what_zh: String,
        what_en: String,
    },
    /// The file could not be read at all (CSV or TOML syntax).
    Syntax { detail: String },
    /// Anything else, said in both languages.
    Other { zh: String, en: String },
}

impl Problem {
    pub fn invalid(value: impl Into<String>, expected_zh: impl Into<String>, expected_en: impl Into<String>) -> Self {
        Problem::Invalid {
            value: value.into(),
            expected_zh: expected_zh.into(),
            expected_en: expected_en.into(),
        }
    }

    pub fn unknown(value: impl Into<String>, what_zh: impl Into<String>, what_en: impl Into<String>) -> Self {
        Problem::Unknown {
            value: value.into(),
            what_zh: what_zh.into(),
            what_en: what_en.into(),
        }
    }

    pub fn other(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Problem::Other {
            zh: zh.into(),
            en: en.into(),
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (Problem::MissingColumn, Lang::Zh) => "缺少此列".into(),
            (Problem::MissingColumn, Lang::En) => "the column is missing".into(),
            (Problem::Empty, Lang::Zh) => "不能为空".into(),
            (Problem::Empty, Lang::En) => "must not be empty".into(),
            (Problem::Invalid { value, expected_zh, .. }, Lang::Zh) => format!("“{value}”无效，应为{expected_zh}"),
            (Problem::Invalid { value, expected_en, .. }, Lang::En) => {
                format!("{value:?} is not valid: expected {expected_en}")
            }
            (Problem::Duplicate { value, first_row }, Lang::Zh) => format!("“{value}”与第{first_row}行重复"),
            (Problem::Duplicate { value, first_row }, Lang::En) => {
                format!("{value:?} repeats row {first_row}")
            }
            (Problem::Unknown { value, what_zh, .. }, Lang::Zh) => format!("未定义的{what_zh}“{value}”"),
            (Problem::Unknown { value, what_en, .. }, Lang::En) => format!("{value:?} is not a known {what_en}"),
            (Problem::Syntax { detail }, Lang::Zh) => format!("格式错误：{detail}"),
            (Problem::Syntax { detail }, Lang::En) => format!("cannot be read: {detail}"),
            (Problem::Other { zh, .. }, Lang::Zh) => zh.clone(),
            (Problem::Other { en, .. }, Lang::En) => en.clone(),
        }
    }
}

/// One thing wrong in a table: where (row, column) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// 1-based; the header is row 1, so the first data row is row 2. `None` for the file as a whole.
    pub row: Option<usize>,
    /// The column's name as the header spells it; `None` for the whole row or file.
    pub column: Option<String>,
    pub problem: Problem,
}

impl RowError {
    pub fn cell(row: usize, column: &str, problem: Problem) -> Self {
        RowError {
            row: Some(row),
            column: Some(column.to_string()),
            problem,
        }
    }

    pub fn row(row: usize, problem: Problem) -> Self {
        RowError {
            row: Some(row),
            column: None,
            problem,
        }
    }

    pub fn file(problem: Problem) -> Self {
        RowError {
            row: None,
            column: None,
            problem,
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        let mut place = String::new();
        match (self.row, lang) {
            (Some(r), Lang::Zh) => place.push_str(&format!("第{r}行")),
            (Some(r), Lang::En) => place.push_str(&format!("row {r}")),
            (None, _) => {}
        }
        if let Some(c) = &self.column {
            match lang {
                Lang::Zh => place.push_str(&format!("“{c}”列")),
                Lang::En if place.is_empty() => place.push_str(&format!("column {c}")),
                Lang::En => place.push_str(&format!(", column {c}")),
            }
        }
        let why = self.problem.message(lang);
        match (place.is_empty(), lang) {
            (true, _) => why,
            (false, Lang::Zh) => format!("{place}：{why}"),
            (false, Lang::En) => format!("{place}: {why}"),
        }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

impl Localized for RowError {
    fn code(&self) -> ErrorCode {
        ErrorCode::InvalidData
    }
    fn message(&self, lang: Lang) -> String {
        RowError::message(self, lang)
    }
}

/// A data file that was refused, with every reason found. Loading is all-or-nothing: nothing of a
/// refused file is used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Error)]
pub struct DataError {
    /// The file's name as the caller gave it (e.g. `data/qitaihe/responsibility-list.csv`).
    pub file: String,
    pub errors: Vec<RowError>,
    /// Errors found but not listed in `errors` (a large import lists the first ones only and
    /// counts the rest).
    #[serde(skip_serializing_if = "is_zero")]
    pub omitted: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl DataError {
    pub fn new(file: impl Into<String>, errors: Vec<RowError>) -> Self {
        DataError {
            file: file.into(),
            errors,
            omitted: 0,
        }
    }

    /// Every error found, of which the first `listed.len()` are listed and `omitted` more counted.
    pub fn capped(file: impl Into<String>, listed: Vec<RowError>, omitted: usize) -> Self {
        DataError {
            file: file.into(),
            errors: listed,
            omitted,
        }
    }

    /// How many errors were found, listed or not.
    pub fn total(&self) -> usize {
        self.errors.len() + self.omitted
    }

    pub fn one(file: impl Into<String>, error: RowError) -> Self {
        DataError::new(file, vec![error])
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&Localized::message(self, Lang::En))
    }
}

impl Localized for DataError {
    fn code(&self) -> ErrorCode {
        ErrorCode::InvalidDataFile
    }

    fn message(&self, lang: Lang) -> String {
        let mut out = match lang {
            Lang::Zh => format!("数据文件 {} 有{}处错误", self.file, self.total()),
            Lang::En => format!("data file {}: {} error(s)", self.file, self.total()),
        };
        for e in &self.errors {
            out.push_str("\n  ");
            out.push_str(&e.message(lang));
        }
        if self.omitted > 0 {
            out.push_str("\n  ");
            out.push_str(&match lang {
                Lang::Zh => format!("……另有{}处错误未列出", self.omitted),
                Lang::En => format!("… and {} more not listed", self.omitted),
            });
        }
        out
    }
}

/// A field of a registry record that failed validation: the field's name (as in forms, the API
/// and import templates) and why.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    pub field: &'static str,
    pub reason: FieldProblem,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FieldProblem {
    #[error("is required")]
    Missing,
    #[error("is too long (at most {0} characters)")]
    TooLong(usize),
    #[error("{0:?} is not one of the allowed values")]
    Unknown(String),
    #[error("{0:?} is not a phone number (11-digit mobile or landline with area code)")]
    Phone(String),
    #[error("{0}")]
    IdNumber(IdNumberError),
    #[error("{0}")]
    CreditCode(CreditCodeError),
    #[error("{0:?} is not a number in range")]
    Number(String),
}

impl FieldError {
    pub fn new(field: &'static str, reason: FieldProblem) -> FieldError {
        FieldError { field, reason }
    }

    pub fn field(&self) -> &'static str {
        self.field
    }
}

/// The field names in Chinese, for messages.
pub fn field_label_zh(field: &str) -> &'static str {
    match field {
        "name" => "姓名",
        "id_number" => "身份证号码",
        "phone" => "联系电话",
        "relation" => "与户主关系",
        "residence" => "居住类型",
        "registered_address" => "户籍地址",
        "care_tags" => "关怀标签",
        "party_member" => "党员",
        "room" => "房号",
        "floors" => "层数",
        "address" => "地址",
        "credit_code" => "统一社会信用代码",
        "kind" => "类型",
        "household" => "户",
        "reason" => "查看理由",
        _ => "字段",
    }
}

impl Localized for FieldError {
    fn code(&self) -> ErrorCode {
        match &self.reason {
            FieldProblem::Missing => ErrorCode::MissingField,
            FieldProblem::TooLong(_) => ErrorCode::TooLong,
            FieldProblem::Unknown(_) => ErrorCode::UnknownValue,
            FieldProblem::Phone(_) => ErrorCode::InvalidPhone,
            FieldProblem::IdNumber(e) => e.code(),
            FieldProblem::CreditCode(e) => e.code(),
            FieldProblem::Number(_) => ErrorCode::InvalidNumber,
        }
    }

    fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::En => format!("field {}: {}", self.field, self.reason),
            Lang::Zh => {
                let label = field_label_zh(self.field);
                let why = match &self.reason {
                    FieldProblem::Missing => "不能为空".to_string(),
                    FieldProblem::TooLong(n) => format!("过长（最多 {n} 个字符）"),
                    FieldProblem::Unknown(v) => format!("“{v}”不是允许的取值"),
                    FieldProblem::Phone(v) => format!("“{v}”不是电话号码（11位手机号或带区号的固定电话）"),
                    FieldProblem::IdNumber(e) => e.message(Lang::Zh),
                    FieldProblem::CreditCode(e) => e.message(Lang::Zh),
                    FieldProblem::Number(v) => format!("“{v}”不是有效的数字"),
                };
                format!("字段 {}（{label}）：{why}", self.field)
            }
        }
    }
}

/// Required text, trimmed, at most `max` characters.
pub fn required_text(field: &'static str, text: &str, max: usize) -> Result<String, FieldError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(FieldError::new(field, FieldProblem::Missing));
    }
    if t.chars().count() > max {
        return Err(FieldError::new(field, FieldProblem::TooLong(max)));
    }
    Ok(t.to_string())
}

/// Optional text: empty gives `None`.
pub fn optional_text(field: &'static str, text: &str, max: usize) -> Result<Option<String>, FieldError> {
    if text.trim().is_empty() {
        Ok(None)
    } else {
        required_text(field, text, max).map(Some)
    }
}

/// Declares a closed list of values with a stable text form and names in both languages.
macro_rules! labelled_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal, { $($variant:ident => ($text:literal, $zh:literal, $en:literal)),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn label(self, lang: $crate::Lang) -> &'static str {
                match (self, lang) {
                    $(($name::$variant, $crate::Lang::Zh) => $zh,)+
                    $(($name::$variant, $crate::Lang::En) => $en,)+
                }
            }

            /// Reads the text form or the Chinese or English name (import sheets use either).
            pub fn parse_field(field: &'static str, text: &str) -> Result<$name, $crate::data::FieldError> {
                let t = text.trim();
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == t || v.label($crate::Lang::Zh) == t || v.label($crate::Lang::En).eq_ignore_ascii_case(t))
                    .ok_or_else(|| $crate::data::FieldError::new(
                        field,
                        if t.is_empty() {
                            $crate::data::FieldProblem::Missing
                        } else {
                            $crate::data::FieldProblem::Unknown(t.to_string())
                        },
                    ))
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::territory::node::UnknownName;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| {
                    $crate::territory::node::UnknownName { what: $what, value: s.to_string() }
                })
            }
        }
    };
}
pub(crate) use labelled_enum;

/// Reads CSV text into rows of strings, the header included (row 1). A UTF-8 byte-order mark, which
/// spreadsheet programs write, is dropped.
pub fn csv_rows(file: &str, text: &str) -> Result<Vec<Vec<String>>, DataError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        match record {
            Ok(r) => rows.push(r.iter().map(|c| c.trim().to_string()).collect()),
            Err(e) => {
                let row = e.position().map(|p| p.line() as usize).unwrap_or(i + 1);
                return Err(DataError::one(
                    file,
                    RowError::row(row, Problem::Syntax { detail: e.to_string() }),
                ));
            }
        }
    }
    Ok(rows)
}

/// Writes rows of strings as CSV text (RFC 4180, `\n` line ends).
pub fn csv_text(rows: &[Vec<String>]) -> String {
    let mut w = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
    for r in rows {
        // Writing into a Vec cannot fail.
        w.write_record(r).expect("write to memory");
    }
    String::from_utf8(w.into_inner().expect("flush to memory")).expect("csv of strings is UTF-8")
}

/// A table whose first row is a header: cells are looked up by column name, and errors are collected
/// with their row and column.
pub struct Table<'a> {
    rows: &'a [Vec<String>],
    columns: HashMap<&'a str, usize>,
}

impl<'a> Table<'a> {
    /// Checks that the header has every `required` column (others are allowed and ignored).
    pub fn new(rows: &'a [Vec<String>], required: &[&str]) -> Result<Table<'a>, Vec<RowError>> {
        let Some(header) = rows.first() else {
            return Err(vec![RowError::file(Problem::other(
                "文件为空，缺少表头",
                "the file is empty: no header row",
            ))]);
        };
        let mut columns = HashMap::new();
        let mut errors = Vec::new();
        for (i, name) in header.iter().enumerate() {
            let name = name.trim().trim_start_matches('\u{feff}');
            if let Some(first) = columns.insert(name, i) {
                errors.push(RowError::cell(
                    1,
                    name,
                    Problem::Duplicate {
                        value: name.to_string(),
                        first_row: 1,
                    },
                ));
                columns.insert(name, first);
            }
        }
        for c in required {
            if !columns.contains_key(c) {
                errors.push(RowError::cell(1, c, Problem::MissingColumn));
            }
        }
        if errors.is_empty() {
            Ok(Table { rows, columns })
        } else {
            Err(errors)
        }
    }

    /// The data rows with their 1-based row numbers (the first data row is 2). Rows whose cells are
    /// all empty are skipped: spreadsheets often end with some.
    pub fn rows(&self) -> impl Iterator<Item = (usize, Row<'_>)> {
        self.rows
            .iter()
            .enumerate()
            .skip(1)
            .filter(|(_, r)| r.iter().any(|c| !c.trim().is_empty()))
            .map(move |(i, r)| {
                (
                    i + 1,
                    Row {
                        number: i + 1,
                        cells: r,
                        columns: &self.columns,
                    },
                )
            })
    }
}

/// One data row of a [`Table`].
pub struct Row<'a> {
    pub number: usize,
    cells: &'a [String],
    columns: &'a HashMap<&'a str, usize>,
}

impl Row<'_> {
    /// The trimmed cell of `column`, empty when the row is short or the column absent.
    pub fn get(&self, column: &str) -> &str {
        self.columns
            .get(column)
            .and_then(|&i| self.cells.get(i))
            .map(|s| s.trim())
            .unwrap_or("")
    }

    /// The cell of `column`, or an `Empty` error for it.
    pub fn required(&self, column: &str, errors: &mut Vec<RowError>) -> Option<&str> {
        let v = self.get(column);
        if v.is_empty() {
            errors.push(RowError::cell(self.number, column, Problem::Empty));
            None
        } else {
            Some(v)
        }
    }

    pub fn error(&self, column: &str, problem: Problem) -> RowError {
        RowError::cell(self.number, column, problem)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_file_row_and_column_in_both_languages() {
        let e = DataError::new(
            "data/x.csv",
            vec![RowError::cell(
                3,
                "code",
                Problem::invalid("1234", "5位数字", "5 digits"),
            )],
        );
        assert_eq!(
            Localized::message(&e, Lang::Zh),
            "数据文件 data/x.csv 有1处错误\n  第3行“code”列：“1234”无效，应为5位数字"
        );
        assert_eq!(
            Localized::message(&e, Lang::En),
            "data file data/x.csv: 1 error(s)\n  row 3, column code: \"1234\" is not valid: expected 5 digits"
        );
    }

    #[test]
    fn csv_round_trips_quotes_commas_and_a_byte_order_mark() {
        let rows = vec![
            vec!["a".to_string(), "b".to_string()],
            vec!["逗号,在内".to_string(), "引号\"在内".to_string()],
        ];
        let text = csv_text(&rows);
        assert_eq!(csv_rows("t.csv", &format!("\u{feff}{text}")).unwrap(), rows);
    }

    #[test]
    fn a_table_reports_missing_columns_against_the_header() {
        let rows = vec![vec!["code".to_string()]];
        let errs = Table::new(&rows, &["code", "name"]).err().unwrap();
        assert_eq!(errs, vec![RowError::cell(1, "name", Problem::MissingColumn)]);
    }
}
