//! The progress of a running import, shared by the reader, the writer and whoever shows it (the
//! command line's progress line on stderr, the job page's JSON endpoint). Counters are atomics so
//! that a reading thread and a polling request need no lock.

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use serde::Serialize;

use crate::Lang;

/// Where an import is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Accepted, not started.
    Queued,
    /// Reading the file and checking each row.
    Reading,
    /// Checks across rows (references, repeats) after the whole file was read.
    Validating,
    /// Writing the checked rows in one transaction.
    Writing,
    /// Committed.
    Done,
    /// Refused (bad rows, missing column, wrong file) or failed: nothing was written.
    Failed,
}

impl Phase {
    const ALL: [Phase; 6] = [
        Phase::Queued,
        Phase::Reading,
        Phase::Validating,
        Phase::Writing,
        Phase::Done,
        Phase::Failed,
    ];

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Phase::Queued => lang.pick("排队中", "queued"),
            Phase::Reading => lang.pick("读取并校验", "reading and checking"),
            Phase::Validating => lang.pick("校验", "checking"),
            Phase::Writing => lang.pick("写入", "writing"),
            Phase::Done => lang.pick("已完成", "done"),
            Phase::Failed => lang.pick("未导入", "not imported"),
        }
    }

    pub fn is_finished(self) -> bool {
        matches!(self, Phase::Done | Phase::Failed)
    }
}

/// Live counters of one import.
#[derive(Debug, Default)]
pub struct Progress {
    phase: AtomicU8,
    bytes_total: AtomicU64,
    bytes_read: AtomicU64,
    rows_total: AtomicU64,
    rows_read: AtomicU64,
    rows_written: AtomicU64,
    bad_rows: AtomicU64,
}

/// What a [`Progress`] says at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ProgressSnapshot {
    pub phase: Phase,
    pub bytes_total: u64,
    pub bytes_read: u64,
    /// Data rows in the file: exact when the file says (an XLSX sheet's dimension), else estimated
    /// from the bytes read so far; `None` before anything is known.
    pub rows_total: Option<u64>,
    pub rows_read: u64,
    pub rows_written: u64,
    pub bad_rows: u64,
    /// 0–100 over reading and writing (reading counts for the first half).
    pub percent: u8,
}

impl Progress {
    pub fn new(bytes_total: u64) -> Progress {
        let p = Progress::default();
        p.bytes_total.store(bytes_total, Ordering::Relaxed);
        p
    }

    pub fn set_phase(&self, phase: Phase) {
        let i = Phase::ALL.iter().position(|p| *p == phase).unwrap_or(0);
        self.phase.store(i as u8, Ordering::Relaxed);
    }

    pub fn phase(&self) -> Phase {
        Phase::ALL[self.phase.load(Ordering::Relaxed) as usize % Phase::ALL.len()]
    }

    /// The number of data rows, when the file declares it.
    pub fn set_rows_total(&self, rows: u64) {
        self.rows_total.store(rows, Ordering::Relaxed);
    }

    /// One more data row read, the reader having reached `bytes_read` of the file (0 when it
    /// cannot tell).
    pub fn row_read(&self, bytes_read: u64) {
        self.rows_read.fetch_add(1, Ordering::Relaxed);
        if bytes_read > 0 {
            self.bytes_read.store(bytes_read, Ordering::Relaxed);
        }
    }

    pub fn bad_row(&self) {
        self.bad_rows.fetch_add(1, Ordering::Relaxed);
    }

    pub fn rows_written(&self, n: u64) {
        self.rows_written.fetch_add(n, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> ProgressSnapshot {
        let phase = self.phase();
        let bytes_total = self.bytes_total.load(Ordering::Relaxed);
        let bytes_read = self.bytes_read.load(Ordering::Relaxed);
        let rows_read = self.rows_read.load(Ordering::Relaxed);
        let declared = self.rows_total.load(Ordering::Relaxed);
        let rows_total = if declared > 0 || (phase != Phase::Reading && phase != Phase::Queued) {
            Some(declared.max(rows_read))
        } else if bytes_read > 0 && rows_read > 0 && bytes_total >= bytes_read {
            Some(((rows_read as f64) * (bytes_total as f64) / (bytes_read as f64)).round() as u64)
        } else {
            None
        };
        let rows_written = self.rows_written.load(Ordering::Relaxed);
        let fraction = |done: u64, of: Option<u64>| match of {
            Some(t) if t > 0 => (done as f64 / t as f64).min(1.0),
            _ => 0.0,
        };
        let percent = match phase {
            Phase::Queued => 0.0,
            Phase::Reading => 50.0 * fraction(rows_read, rows_total),
            Phase::Validating => 50.0,
            Phase::Writing => 50.0 + 50.0 * fraction(rows_written, rows_total),
            Phase::Done => 100.0,
            Phase::Failed => 100.0,
        };
        ProgressSnapshot {
            phase,
            bytes_total,
            bytes_read,
            rows_total,
            rows_read,
            rows_written,
            bad_rows: self.bad_rows.load(Ordering::Relaxed),
            percent: percent.floor().clamp(0.0, 100.0) as u8,
        }
    }
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl ProgressSnapshot {
    /// One line for a terminal or a page: `读取并校验 12,345 / 约 100,000 行（12%），错误行 0`.
    pub fn line(&self, lang: Lang) -> String {
        let total = match (self.rows_total, self.phase, lang) {
            (Some(t), Phase::Reading, Lang::Zh) => format!(" / 约 {}", thousands(t)),
            (Some(t), Phase::Reading, Lang::En) => format!(" / about {}", thousands(t)),
            (Some(t), _, _) => format!(" / {}", thousands(t)),
            (None, _, _) => String::new(),
        };
        let done = if self.phase == Phase::Writing || self.phase == Phase::Done {
            self.rows_written
        } else {
            self.rows_read
        };
        match lang {
            Lang::Zh => format!(
                "{} {}{} 行（{}%），错误行 {}",
                self.phase.label(lang),
                thousands(done),
                total,
                self.percent,
                thousands(self.bad_rows)
            ),
            Lang::En => format!(
                "{} {}{} rows ({}%), bad rows {}",
                self.phase.label(lang),
                thousands(done),
                total,
                self.percent,
                thousands(self.bad_rows)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_estimates_the_total_from_bytes_then_writing_fills_the_second_half() {
        let p = Progress::new(1_000);
        assert_eq!(p.snapshot().phase, Phase::Queued);
        assert_eq!(p.snapshot().rows_total, None);
        p.set_phase(Phase::Reading);
        for i in 1..=25 {
            p.row_read(i * 10);
        }
        let s = p.snapshot();
        assert_eq!((s.rows_read, s.rows_total, s.percent), (25, Some(100), 12));
        assert_eq!(s.line(Lang::Zh), "读取并校验 25 / 约 100 行（12%），错误行 0");
        for _ in 0..75 {
            p.row_read(1_000);
        }
        p.set_phase(Phase::Writing);
        p.rows_written(50);
        let s = p.snapshot();
        assert_eq!((s.rows_total, s.percent), (Some(100), 75));
        assert_eq!(s.line(Lang::En), "writing 50 / 100 rows (75%), bad rows 0");
        p.rows_written(50);
        p.set_phase(Phase::Done);
        assert_eq!(p.snapshot().percent, 100);
        assert!(p.snapshot().phase.is_finished());
    }

    #[test]
    fn a_declared_total_wins_and_big_numbers_are_grouped() {
        let p = Progress::new(0);
        p.set_phase(Phase::Reading);
        p.set_rows_total(100_000);
        p.row_read(0);
        p.bad_row();
        let s = p.snapshot();
        assert_eq!(s.rows_total, Some(100_000));
        assert_eq!(s.line(Lang::Zh), "读取并校验 1 / 约 100,000 行（0%），错误行 1");
        assert_eq!(serde_json::to_value(s).unwrap()["phase"], "reading");
    }
}
