//! Office files in and out as rows of strings: CSV and XLSX (Excel, WPS).
//!
//! Administrators keep lists such as the responsibility list (职责清单) in spreadsheets. This crate
//! turns a file's bytes into `Vec<Vec<String>>` (header first) for the core's `from_rows` functions,
//! and rows back into a file, so the core stays free of spreadsheet libraries.
//!
//! ```no_run
//! # use gongzhi_office::{read_rows, write_rows, Format};
//! # use gongzhi_core::cases::responsibility::ResponsibilityList;
//! # let rules = gongzhi_core::cases::rules::CaseRules::qitaihe().unwrap();
//! # let (taxonomy, departments) = (&rules.taxonomy, &rules.departments);
//! let bytes = std::fs::read("职责清单.xlsx").unwrap();
//! let rows = read_rows("职责清单.xlsx", &bytes).unwrap();
//! let list = ResponsibilityList::from_rows(&rows, taxonomy, departments);
//! let xlsx = write_rows(Format::Xlsx, "职责清单", &list.unwrap().to_rows()).unwrap();
//! ```
//!
//! Errors are the core's [`DataError`]: they name the file and, where known, the row and column.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use gongzhi_core::cases::data::{DataError, Problem, RowError, csv_rows, csv_text};
use rust_xlsxwriter::{Format as CellFormat, Workbook};

/// Row type shared with the core: the header first, then data rows.
pub type Rows = Vec<Vec<String>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    /// The format a file name says (`.csv`, `.xlsx`), case-insensitive.
    pub fn from_file_name(name: &str) -> Option<Format> {
        let lower = name.to_lowercase();
        if lower.ends_with(".csv") {
            Some(Format::Csv)
        } else if lower.ends_with(".xlsx") {
            Some(Format::Xlsx)
        } else {
            None
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

fn file_error(file: &str, zh: String, en: String) -> DataError {
    DataError::one(file, RowError::file(Problem::other(zh, en)))
}

/// Reads a file by the format its name says.
pub fn read_rows(file: &str, bytes: &[u8]) -> Result<Rows, DataError> {
    match Format::from_file_name(file) {
        Some(Format::Csv) => read_csv(file, bytes),
        Some(Format::Xlsx) => read_xlsx(file, bytes),
        None => Err(file_error(
            file,
            "只支持 .csv 和 .xlsx 文件".into(),
            "only .csv and .xlsx files are supported".into(),
        )),
    }
}

/// Writes rows in a format; `sheet` names the worksheet of an XLSX file.
pub fn write_rows(format: Format, sheet: &str, rows: &[Vec<String>]) -> Result<Vec<u8>, DataError> {
    match format {
        Format::Csv => Ok(write_csv(rows)),
        Format::Xlsx => write_xlsx(sheet, rows),
    }
}

/// Reads UTF-8 CSV (with or without a byte-order mark).
pub fn read_csv(file: &str, bytes: &[u8]) -> Result<Rows, DataError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        file_error(
            file,
            format!(
                "文件不是UTF-8编码（第{}字节起），请另存为“CSV UTF-8”格式",
                e.valid_up_to() + 1
            ),
            format!(
                "the file is not UTF-8 (from byte {}); save it as \"CSV UTF-8\"",
                e.valid_up_to() + 1
            ),
        )
    })?;
    csv_rows(file, text)
}

/// Writes CSV with a UTF-8 byte-order mark, so that spreadsheet programs show Chinese correctly.
pub fn write_csv(rows: &[Vec<String>]) -> Vec<u8> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    out.extend_from_slice(csv_text(rows).as_bytes());
    out
}

/// Reads the first worksheet of an XLSX workbook. Cells keep their place: row 1 of the sheet is
/// `rows[0]`, even when the sheet starts lower down, so row numbers in errors match what the user sees.
/// Numbers lose a `.0` when whole, dates become `YYYY-MM-DD` (with a time if they have one), booleans
/// `true`/`false`, and error cells their Excel text (`#N/A` …).
pub fn read_xlsx(file: &str, bytes: &[u8]) -> Result<Rows, DataError> {
    let unreadable = |detail: String| DataError::one(file, RowError::file(Problem::Syntax { detail }));
    let mut book: Xlsx<_> =
        open_workbook_from_rs(Cursor::new(bytes)).map_err(|e: calamine::XlsxError| unreadable(e.to_string()))?;
    let range = match book.worksheet_range_at(0) {
        Some(r) => r.map_err(|e| unreadable(e.to_string()))?,
        None => {
            return Err(file_error(
                file,
                "工作簿没有工作表".into(),
                "the workbook has no worksheet".into(),
            ));
        }
    };
    let (top, left) = range.start().unwrap_or((0, 0));
    let mut rows: Rows = vec![Vec::new(); top as usize];
    for r in range.rows() {
        let mut row = vec![String::new(); left as usize];
        row.extend(r.iter().map(cell_text));
        while row.last().is_some_and(|c| c.is_empty()) {
            row.pop();
        }
        rows.push(row);
    }
    Ok(rows)
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(t) if dt.is_datetime() && t.time() == chrono::NaiveTime::MIN => t.date().to_string(),
            Some(t) if dt.is_datetime() => t.format("%Y-%m-%d %H:%M:%S").to_string(),
            _ => dt.as_f64().to_string(),
        },
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => e.to_string(),
    }
}

/// Writes one worksheet named `sheet`: every cell as text (so codes such as `06010` keep their
/// leading zero), the header bold and frozen, columns sized to their content.
pub fn write_xlsx(sheet: &str, rows: &[Vec<String>]) -> Result<Vec<u8>, DataError> {
    let fail = |e: rust_xlsxwriter::XlsxError| {
        file_error(
            sheet,
            format!("无法生成XLSX文件：{e}"),
            format!("cannot write the XLSX file: {e}"),
        )
    };
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name(sheet).map_err(fail)?;
    let bold = CellFormat::new().set_bold();
    let text = CellFormat::new().set_num_format("@");
    for (r, row) in rows.iter().enumerate() {
        let r = u32::try_from(r).map_err(|_| file_error(sheet, "行数超过上限".into(), "too many rows".into()))?;
        for (c, cell) in row.iter().enumerate() {
            let c =
                u16::try_from(c).map_err(|_| file_error(sheet, "列数超过上限".into(), "too many columns".into()))?;
            let format = if r == 0 { &bold } else { &text };
            ws.write_string_with_format(r, c, cell, format).map_err(fail)?;
        }
    }
    if !rows.is_empty() {
        ws.set_freeze_panes(1, 0).map_err(fail)?;
    }
    ws.autofit();
    book.save_to_buffer().map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Rows {
        vec![
            vec!["matter".into(), "delegated".into(), "legal_basis".into()],
            vec![
                "06010".into(),
                "是".into(),
                "《城市市容和环境卫生管理条例》第二十八条".into(),
            ],
            vec!["21".into(), "否".into(), "含逗号,和\"引号\"".into()],
        ]
    }

    #[test]
    fn rows_round_trip_through_xlsx_with_leading_zeros_and_chinese() {
        let bytes = write_rows(Format::Xlsx, "职责清单", &sample()).unwrap();
        assert_eq!(read_rows("清单.XLSX", &bytes).unwrap(), sample());
    }

    #[test]
    fn rows_round_trip_through_csv_with_a_byte_order_mark() {
        let bytes = write_rows(Format::Csv, "ignored", &sample()).unwrap();
        assert!(bytes.starts_with("\u{feff}".as_bytes()));
        assert_eq!(read_rows("list.csv", &bytes).unwrap(), sample());
    }

    #[test]
    fn numbers_and_dates_typed_into_a_spreadsheet_read_as_text() {
        let mut book = Workbook::new();
        let ws = book.add_worksheet();
        // Leave row 1 and column A empty: row numbers must still match the sheet.
        ws.write_string(1, 1, "item").unwrap();
        ws.write_string(1, 2, "valid_from").unwrap();
        ws.write_number(2, 1, 7.0).unwrap();
        let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 1, 1).unwrap();
        ws.write_datetime_with_format(2, 2, &date, &CellFormat::new().set_num_format("yyyy-mm-dd"))
            .unwrap();
        ws.write_number(3, 1, 2.5).unwrap();
        let rows = read_xlsx("x.xlsx", &book.save_to_buffer().unwrap()).unwrap();
        assert_eq!(
            rows,
            vec![
                vec![],
                vec!["".to_string(), "item".into(), "valid_from".into()],
                vec!["".to_string(), "7".into(), "2026-01-01".into()],
                vec!["".to_string(), "2.5".into()],
            ]
        );
    }

    #[test]
    fn bad_files_are_refused_with_their_name() {
        let e = read_rows("清单.xlsx", b"not a zip").unwrap_err();
        assert_eq!(e.file, "清单.xlsx");
        let e = read_rows("清单.csv", &[0xc7, 0xe5, 0xb5, 0xa5]).unwrap_err(); // GBK "清单"
        assert!(e.errors[0].message(gongzhi_core::Lang::Zh).contains("UTF-8"));
        assert!(read_rows("清单.xls", b"").is_err());
    }
}
