//! Templates of importable tables: their columns, how a file's header is matched against them,
//! and how each cell is checked and normalised.
//!
//! A file's header may name a column by its Chinese header (`身份证号`), its English key
//! (`id_number`) or both (`身份证号(id_number)`, as the downloadable templates write them), in any
//! order; columns the template does not know are ignored. A missing required column is an error
//! naming it; a missing optional column reads as empty cells.

use chrono::NaiveDate;

use crate::Lang;
use crate::data::{DataError, Problem, RowError};
use crate::orgs::credit_code::CreditCode;
use crate::people::id_number::{IdNumber, IdNumberError};
use crate::people::masking::mask_phone;
use crate::people::registry::Phone;
use crate::territory::TerritoryCode;

/// One value of a [`CellKind::Choice`] column: the English key stored, the Chinese label shown.
/// A cell may hold either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    pub key: &'static str,
    pub zh: &'static str,
}

/// What a column holds, and so how a cell is checked and normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    /// Free text of at most this many characters.
    Text { max_chars: usize },
    /// A citizen ID number (GB 11643 check character); normalised to upper-case `X`.
    IdNumber,
    /// A mobile number (11 digits) or a landline with its area code.
    Phone,
    /// An 18-character unified social credit code (GB 32100 check characters).
    CreditCode,
    /// A 12-digit division code or a 15-digit grid code.
    TerritoryCode,
    /// A whole number in a range.
    Integer { min: i64, max: i64 },
    /// A date: `2026-01-05`, `2026/1/5` or `20260105`; normalised to `2026-01-05`.
    Date,
    /// One of the choices (key or Chinese label); normalised to the key.
    Choice(&'static [Choice]),
    /// Any number of the choices, separated by `、` `,` `，` `;` `；` or spaces; normalised to the
    /// keys joined by `,`, in the template's order, without repeats.
    Choices(&'static [Choice]),
}

const SEPARATORS: &[char] = &['、', ',', '，', ';', '；', ' ', '\u{3000}'];

impl CellKind {
    /// Checks a non-empty cell and returns its normalised value.
    pub fn normalize(&self, value: &str) -> Result<String, Problem> {
        let value = value.trim();
        // No cell may carry a control character or a direction override (crate::text).
        if let Some(c) = crate::text::forbidden_char(value) {
            let c = crate::text::code_point(c);
            return Err(Problem::other(
                format!("含有不允许的字符 {c}（控制字符或文字方向控制符）"),
                format!("holds a character that is not allowed: {c} (a control or text-direction character)"),
            ));
        }
        match *self {
            CellKind::Text { max_chars } => {
                let n = value.chars().count();
                if n > max_chars {
                    Err(Problem::other(
                        format!("超过{max_chars}个字（{n}个）"),
                        format!("longer than {max_chars} characters ({n})"),
                    ))
                } else {
                    Ok(value.to_string())
                }
            }
            // Personal data is named masked even in an error: the message may be shown or kept.
            CellKind::IdNumber => match IdNumber::parse(value) {
                Ok(id) => Ok(id.as_str().to_string()),
                Err(IdNumberError::Check(..)) => Err(Problem::invalid(
                    mask_middle(value),
                    "校验码正确的18位身份证号码（GB 11643）",
                    "an 18-character ID number whose check character is right (GB 11643)",
                )),
                Err(IdNumberError::BirthDate(..)) => Err(Problem::invalid(
                    mask_middle(value),
                    "出生日期存在的18位身份证号码",
                    "an 18-character ID number with a real birth date",
                )),
                Err(IdNumberError::Form(_)) => Err(Problem::invalid(
                    mask_middle(value),
                    "18位身份证号码（17位数字加1位数字或X）",
                    "an 18-character ID number (17 digits and a digit or X)",
                )),
            },
            CellKind::Phone => match Phone::parse(value) {
                Ok(p) => Ok(p.as_str().to_string()),
                Err(_) => Err(Problem::invalid(
                    mask_phone(value),
                    "11位手机号或带区号的座机号",
                    "a mobile number (11 digits) or a landline with its area code",
                )),
            },
            CellKind::CreditCode => match CreditCode::parse(value) {
                Ok(c) => Ok(c.as_str().to_string()),
                Err(_) => Err(Problem::invalid(
                    value,
                    "校验码正确的18位统一社会信用代码（GB 32100）",
                    "an 18-character unified social credit code whose check characters are right (GB 32100)",
                )),
            },
            CellKind::TerritoryCode => match TerritoryCode::parse(value) {
                Ok(c) => Ok(c.as_str().to_string()),
                Err(_) => Err(Problem::invalid(
                    value,
                    "12位区划代码或15位网格编码",
                    "a 12-digit division code or a 15-digit grid code",
                )),
            },
            CellKind::Integer { min, max } => match value.parse::<i64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n.to_string()),
                _ => Err(Problem::invalid(
                    value,
                    format!("{min}至{max}的整数"),
                    format!("a whole number from {min} to {max}"),
                )),
            },
            CellKind::Date => parse_date(value)
                .map(|d| d.to_string())
                .ok_or_else(|| Problem::invalid(value, "日期，如2026-01-05", "a date such as 2026-01-05")),
            CellKind::Choice(choices) => find_choice(choices, value)
                .map(|c| c.key.to_string())
                .ok_or_else(|| choice_problem(choices, value)),
            CellKind::Choices(choices) => {
                let mut picked = vec![false; choices.len()];
                for part in value.split(SEPARATORS).filter(|p| !p.is_empty()) {
                    let i = choices
                        .iter()
                        .position(|c| c.key == part || c.zh == part)
                        .ok_or_else(|| choice_problem(choices, part))?;
                    picked[i] = true;
                }
                Ok(choices
                    .iter()
                    .zip(picked)
                    .filter(|(_, p)| *p)
                    .map(|(c, _)| c.key)
                    .collect::<Vec<_>>()
                    .join(","))
            }
        }
    }

    /// What the column expects, for the notes of a template.
    pub fn describe(&self, lang: Lang) -> String {
        let list = |choices: &[Choice]| {
            choices
                .iter()
                .map(|c| match lang {
                    Lang::Zh => c.zh.to_string(),
                    Lang::En => format!("{} ({})", c.key, c.zh),
                })
                .collect::<Vec<_>>()
                .join(lang.pick("、", ", "))
        };
        match (*self, lang) {
            (CellKind::Text { max_chars }, Lang::Zh) => format!("文字，至多{max_chars}字"),
            (CellKind::Text { max_chars }, Lang::En) => format!("text, at most {max_chars} characters"),
            (CellKind::IdNumber, _) => lang
                .pick(
                    "18位身份证号码，校验码须正确",
                    "18-character citizen ID number with a correct check character",
                )
                .into(),
            (CellKind::Phone, _) => lang
                .pick(
                    "11位手机号或带区号的座机号",
                    "11-digit mobile or landline with area code",
                )
                .into(),
            (CellKind::CreditCode, _) => lang
                .pick("18位统一社会信用代码", "18-character unified social credit code")
                .into(),
            (CellKind::TerritoryCode, _) => lang
                .pick(
                    "12位区划代码或15位网格编码",
                    "12-digit division code or 15-digit grid code",
                )
                .into(),
            (CellKind::Integer { min, max }, Lang::Zh) => format!("{min}至{max}的整数"),
            (CellKind::Integer { min, max }, Lang::En) => format!("whole number from {min} to {max}"),
            (CellKind::Date, _) => lang.pick("日期，如2026-01-05", "date such as 2026-01-05").into(),
            (CellKind::Choice(c), Lang::Zh) => format!("其一：{}", list(c)),
            (CellKind::Choice(c), Lang::En) => format!("one of: {}", list(c)),
            (CellKind::Choices(c), Lang::Zh) => format!("可多选，用顿号分隔：{}", list(c)),
            (CellKind::Choices(c), Lang::En) => format!("any of, separated by 、 or commas: {}", list(c)),
        }
    }
}

fn find_choice<'a>(choices: &'a [Choice], value: &str) -> Option<&'a Choice> {
    choices.iter().find(|c| c.key == value || c.zh == value)
}

fn choice_problem(choices: &[Choice], value: &str) -> Problem {
    Problem::invalid(
        value,
        choices.iter().map(|c| c.zh).collect::<Vec<_>>().join("、"),
        choices.iter().map(|c| c.key).collect::<Vec<_>>().join(", "),
    )
}

/// `2309031985********` style: enough to find the cell, not enough to be the number.
fn mask_middle(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() < 10 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..6].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 10))
}

fn parse_date(value: &str) -> Option<NaiveDate> {
    let v = value.trim();
    // A spreadsheet date read with its time (`2026-01-05 00:00:00`) keeps the date.
    let v = v.split_whitespace().next().unwrap_or(v);
    ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(v, f).ok())
}

/// A field refused by [`Template::check_fields`]: its column and why.
pub type FieldProblem = (&'static Column, Problem);

/// One column of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The English key: stable, used by the API and accepted as a header.
    pub key: &'static str,
    /// The Chinese header the template writes.
    pub header: &'static str,
    pub required: bool,
    pub kind: CellKind,
    /// A value the example row shows.
    pub example: &'static str,
    /// What the column means, for the notes sheet.
    pub note_zh: &'static str,
    pub note_en: &'static str,
}

/// The columns of one importable table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Template {
    /// The table's key in commands and addresses (`residents`).
    pub key: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    pub columns: &'static [Column],
}

/// Where each of a template's columns sits in a file, as matched from its header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderMap {
    /// The file's row number of the header (1 unless the sheet starts lower down).
    pub header_row: usize,
    /// Per template column, its index in the file's rows.
    positions: Vec<Option<usize>>,
    /// Per template column, the header as the file spells it (the Chinese header when absent).
    names: Vec<String>,
}

impl HeaderMap {
    /// Whether the file has this column.
    pub fn has(&self, template: &Template, key: &str) -> bool {
        template
            .columns
            .iter()
            .position(|c| c.key == key)
            .is_some_and(|i| self.positions[i].is_some())
    }
}

/// A data row whose cells passed their column's check, normalised, by column key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// 1-based row number in the file.
    pub row: usize,
    template: Template,
    values: Vec<String>,
    names: Vec<String>,
}

impl Record {
    /// The normalised value of column `key`; `None` when empty or absent.
    pub fn get(&self, key: &str) -> Option<&str> {
        let i = self.index(key);
        Some(self.values[i].as_str()).filter(|v| !v.is_empty())
    }

    /// The value of a required column (checked non-empty when the record was made).
    pub fn text(&self, key: &str) -> &str {
        &self.values[self.index(key)]
    }

    /// The keys of a [`CellKind::Choices`] column.
    pub fn choices(&self, key: &str) -> Vec<&str> {
        self.get(key).map(|v| v.split(',').collect()).unwrap_or_default()
    }

    /// An error about column `key` of this row, named as the file spells the column.
    pub fn error(&self, key: &str, problem: Problem) -> RowError {
        RowError::cell(self.row, &self.names[self.index(key)], problem)
    }

    fn index(&self, key: &str) -> usize {
        self.template
            .columns
            .iter()
            .position(|c| c.key == key)
            .unwrap_or_else(|| panic!("template {} has no column {key}", self.template.key))
    }
}

/// Strips what spreadsheets and people add around a header: a byte-order mark, spaces, a `*`
/// marking required columns.
fn clean_header(h: &str) -> &str {
    h.trim()
        .trim_start_matches('\u{feff}')
        .trim_end_matches(['*', '＊'])
        .trim()
}

impl Template {
    pub fn name(&self, lang: Lang) -> &'static str {
        lang.pick(self.name_zh, self.name_en)
    }

    pub fn column(&self, key: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.key == key)
    }

    /// Which column a header cell names, if any: the Chinese header, the English key (any case),
    /// or `中文(key)` / `中文（key）`.
    fn column_of(&self, header: &str) -> Option<usize> {
        let h = clean_header(header);
        let h = match h.split_once(['(', '（']) {
            Some((zh, rest)) => {
                let key = rest.trim_end_matches([')', '）']).trim();
                return self
                    .columns
                    .iter()
                    .position(|c| c.header == zh.trim() || c.key.eq_ignore_ascii_case(key));
            }
            None => h,
        };
        self.columns
            .iter()
            .position(|c| c.header == h || c.key.eq_ignore_ascii_case(h))
    }

    /// Matches a file's header row (`header_row` is its 1-based row number). Every missing
    /// required column and every column named twice is an error.
    pub fn match_header(&self, header_row: usize, header: &[String]) -> Result<HeaderMap, Vec<RowError>> {
        let mut positions: Vec<Option<usize>> = vec![None; self.columns.len()];
        let mut names: Vec<String> = self.columns.iter().map(|c| c.header.to_string()).collect();
        let mut errors = Vec::new();
        for (i, cell) in header.iter().enumerate() {
            let Some(c) = self.column_of(cell) else { continue };
            // Named in errors as the file names it: by its key when the file uses the key alone,
            // else by its Chinese header (also for `中文(key)`).
            let clean = clean_header(cell);
            let spelled = if clean.eq_ignore_ascii_case(self.columns[c].key) {
                clean.to_string()
            } else {
                self.columns[c].header.to_string()
            };
            if positions[c].is_some() {
                errors.push(RowError::cell(
                    header_row,
                    &spelled,
                    Problem::Duplicate {
                        value: spelled.clone(),
                        first_row: header_row,
                    },
                ));
                continue;
            }
            positions[c] = Some(i);
            names[c] = spelled;
        }
        for (c, col) in self.columns.iter().enumerate() {
            if col.required && positions[c].is_none() {
                errors.push(RowError::cell(header_row, col.header, Problem::MissingColumn));
            }
        }
        if errors.is_empty() {
            Ok(HeaderMap {
                header_row,
                positions,
                names,
            })
        } else {
            Err(errors)
        }
    }

    /// Checks one data row: every required cell present, every cell of its column's kind. All of
    /// the row's problems are returned, not only the first.
    pub fn record(&self, map: &HeaderMap, row: usize, cells: &[String]) -> Result<Record, Vec<RowError>> {
        let mut values = Vec::with_capacity(self.columns.len());
        let mut errors = Vec::new();
        for (c, col) in self.columns.iter().enumerate() {
            let raw = map.positions[c]
                .and_then(|i| cells.get(i))
                .map(|s| s.trim())
                .unwrap_or("");
            if raw.is_empty() {
                if col.required {
                    errors.push(RowError::cell(row, &map.names[c], Problem::Empty));
                }
                values.push(String::new());
                continue;
            }
            match col.kind.normalize(raw) {
                Ok(v) => values.push(v),
                Err(p) => {
                    errors.push(RowError::cell(row, &map.names[c], p));
                    values.push(String::new());
                }
            }
        }
        if errors.is_empty() {
            Ok(Record {
                row,
                template: *self,
                values,
                names: map.names.clone(),
            })
        } else {
            Err(errors)
        }
    }

    /// Checks the fields of a form or an API call (by column key) the way a row of a file is
    /// checked, so that a value is accepted or refused alike wherever it is typed: every field
    /// named in `keys` (each a column of this template; empty is allowed unless the column is
    /// required), normalised. All problems are returned, each with its column.
    pub fn check_fields<'a>(
        &self,
        keys: &[&'static str],
        value_of: impl Fn(&str) -> Option<&'a str>,
    ) -> Result<Vec<(&'static str, String)>, Vec<FieldProblem>> {
        let mut values = Vec::with_capacity(keys.len());
        let mut problems = Vec::new();
        for key in keys {
            let Some(col) = self.columns.iter().find(|c| c.key == *key) else {
                panic!("template {} has no column {key}", self.key);
            };
            let raw = value_of(key).map(str::trim).unwrap_or("");
            if raw.is_empty() {
                if col.required {
                    problems.push((col, Problem::Empty));
                }
                values.push((col.key, String::new()));
                continue;
            }
            match col.kind.normalize(raw) {
                Ok(v) => values.push((col.key, v)),
                Err(p) => problems.push((col, p)),
            }
        }
        if problems.is_empty() { Ok(values) } else { Err(problems) }
    }

    /// The header row of a template file: each column as `中文(key)`, required ones marked `*`.
    pub fn header_row(&self) -> Vec<String> {
        self.columns
            .iter()
            .map(|c| format!("{}({}){}", c.header, c.key, if c.required { "*" } else { "" }))
            .collect()
    }

    /// The example row of a template file.
    pub fn example_row(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.example.to_string()).collect()
    }

    /// The notes sheet: one row per column saying what it holds.
    pub fn notes_rows(&self, lang: Lang) -> Vec<Vec<String>> {
        let mut rows = vec![
            [
                lang.pick("列名", "header"),
                lang.pick("英文键", "key"),
                lang.pick("必填", "required"),
                lang.pick("格式", "format"),
                lang.pick("说明", "meaning"),
                lang.pick("示例", "example"),
            ]
            .map(String::from)
            .to_vec(),
        ];
        for c in self.columns {
            rows.push(vec![
                c.header.to_string(),
                c.key.to_string(),
                if c.required {
                    lang.pick("是", "yes")
                } else {
                    lang.pick("否", "no")
                }
                .to_string(),
                c.kind.describe(lang),
                lang.pick(c.note_zh, c.note_en).to_string(),
                c.example.to_string(),
            ]);
        }
        rows
    }
}

/// Every bad row of a file: the first `cap` errors listed, all counted. An import with any bad
/// row writes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorList {
    cap: usize,
    listed: Vec<RowError>,
    omitted: usize,
    bad_rows: usize,
    last_bad_row: Option<usize>,
}

impl ErrorList {
    /// Lists at most this many errors of a file (the rest are counted).
    pub const DEFAULT_CAP: usize = 1_000;

    pub fn new(cap: usize) -> ErrorList {
        ErrorList {
            cap,
            listed: Vec::new(),
            omitted: 0,
            bad_rows: 0,
            last_bad_row: None,
        }
    }

    pub fn push(&mut self, e: RowError) {
        if e.row.is_some() && e.row != self.last_bad_row {
            self.bad_rows += 1;
            self.last_bad_row = e.row;
        }
        if self.listed.len() < self.cap {
            self.listed.push(e);
        } else {
            self.omitted += 1;
        }
    }

    pub fn extend(&mut self, errors: impl IntoIterator<Item = RowError>) {
        for e in errors {
            self.push(e);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.listed.is_empty()
    }

    /// Errors found, listed or not.
    pub fn total(&self) -> usize {
        self.listed.len() + self.omitted
    }

    /// Rows with at least one error (rows are expected in file order).
    pub fn bad_rows(&self) -> usize {
        self.bad_rows
    }

    /// `Ok` when nothing was wrong, else the refusal of `file` with every error.
    pub fn into_result(self, file: &str) -> Result<(), DataError> {
        if self.listed.is_empty() {
            Ok(())
        } else {
            Err(DataError::capped(file, self.listed, self.omitted))
        }
    }
}

impl Default for ErrorList {
    fn default() -> Self {
        ErrorList::new(ErrorList::DEFAULT_CAP)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KINDS: &[Choice] = &[
        Choice {
            key: "elderly_alone",
            zh: "独居老人",
        },
        Choice {
            key: "disabled",
            zh: "残疾人",
        },
        Choice {
            key: "low_income",
            zh: "低保户",
        },
    ];

    const COLUMNS: &[Column] = &[
        Column {
            key: "name",
            header: "姓名",
            required: true,
            kind: CellKind::Text { max_chars: 4 },
            example: "张三",
            note_zh: "居民姓名",
            note_en: "the resident's name",
        },
        Column {
            key: "id_number",
            header: "身份证号",
            required: true,
            kind: CellKind::IdNumber,
            example: "11010519491231002X",
            note_zh: "公民身份号码",
            note_en: "citizen ID number",
        },
        Column {
            key: "phone",
            header: "手机号",
            required: false,
            kind: CellKind::Phone,
            example: "13800000000",
            note_zh: "",
            note_en: "",
        },
        Column {
            key: "care",
            header: "关爱标签",
            required: false,
            kind: CellKind::Choices(KINDS),
            example: "独居老人、低保户",
            note_zh: "",
            note_en: "",
        },
        Column {
            key: "moved_in",
            header: "入住日期",
            required: false,
            kind: CellKind::Date,
            example: "2020-05-01",
            note_zh: "",
            note_en: "",
        },
    ];

    const T: Template = Template {
        key: "people",
        name_zh: "居民",
        name_en: "residents",
        columns: COLUMNS,
    };

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn headers_match_in_either_language_in_any_order_and_the_template_reads_itself_back() {
        let map = T
            .match_header(1, &strings(&["手机号", "ID_NUMBER", "其他", "姓名"]))
            .unwrap();
        let r = T
            .record(&map, 2, &strings(&["138 0000 0000", "11010519491231002x", "x", "张三"]))
            .unwrap();
        assert_eq!(r.text("name"), "张三");
        assert_eq!(r.get("id_number"), Some("11010519491231002X"));
        assert_eq!(r.get("phone"), Some("13800000000"));
        assert_eq!(r.get("care"), None);
        assert!(!map.has(&T, "care"));

        let map = T.match_header(1, &T.header_row()).unwrap();
        let r = T.record(&map, 2, &T.example_row()).unwrap();
        assert_eq!(r.choices("care"), vec!["elderly_alone", "low_income"]);
        assert_eq!(r.get("moved_in"), Some("2020-05-01"));
    }

    #[test]
    fn a_missing_required_column_is_named_and_a_repeated_one_refused() {
        let errs = T.match_header(3, &strings(&["姓名", "name", "手机号"])).unwrap_err();
        assert_eq!(
            errs,
            vec![
                RowError::cell(
                    3,
                    "name",
                    Problem::Duplicate {
                        value: "name".into(),
                        first_row: 3
                    }
                ),
                RowError::cell(3, "身份证号", Problem::MissingColumn),
            ]
        );
        assert_eq!(errs[1].message(Lang::Zh), "第3行“身份证号”列：缺少此列");
    }

    #[test]
    fn every_bad_cell_of_a_row_is_reported_with_personal_data_masked() {
        let map = T
            .match_header(1, &strings(&["姓名", "身份证号", "手机号", "关爱标签", "入住日期"]))
            .unwrap();
        let errs = T
            .record(
                &map,
                7,
                &strings(&["", "110105194912310021", "1234567890", "独居老人、富人", "2020-02-30"]),
            )
            .unwrap_err();
        let messages: Vec<String> = errs.iter().map(|e| e.message(Lang::Zh)).collect();
        assert_eq!(messages.len(), 5, "{messages:?}");
        assert_eq!(messages[0], "第7行“姓名”列：不能为空");
        assert!(messages[1].starts_with("第7行“身份证号”列：“110105********0021”无效，应为校验码正确"));
        assert!(messages[2].contains("123***7890"), "{}", messages[2]);
        assert!(messages[3].contains("“富人”无效"), "{}", messages[3]);
        assert!(messages[4].contains("入住日期"), "{}", messages[4]);
        assert!(messages.iter().all(|m| !m.contains("110105194912310021")));
    }

    #[test]
    fn the_error_list_counts_all_but_lists_the_first() {
        let mut list = ErrorList::new(2);
        for row in 2..=5 {
            list.push(RowError::cell(row, "姓名", Problem::Empty));
            list.push(RowError::cell(row, "身份证号", Problem::Empty));
        }
        assert_eq!((list.total(), list.bad_rows()), (8, 4));
        let e = list.into_result("居民.xlsx").unwrap_err();
        assert_eq!((e.errors.len(), e.omitted, e.total()), (2, 6, 8));
        assert!(crate::Localized::message(&e, Lang::Zh).contains("另有6处错误未列出"));
        assert!(ErrorList::default().into_result("x").is_ok());
    }

    #[test]
    fn notes_describe_every_column() {
        let notes = T.notes_rows(Lang::Zh);
        assert_eq!(notes.len(), 1 + COLUMNS.len());
        assert_eq!(notes[4][3], "可多选，用顿号分隔：独居老人、残疾人、低保户");
        assert_eq!(T.header_row()[0], "姓名(name)*");
    }

    #[test]
    fn a_cell_with_a_nul_or_a_direction_override_is_refused() {
        let text = CellKind::Text { max_chars: 50 };
        assert!(text.normalize("学府\u{0}小区").is_err());
        assert!(text.normalize("\u{202E}区小府学").is_err());
        assert_eq!(text.normalize("学府小区").unwrap(), "学府小区");
    }
}
