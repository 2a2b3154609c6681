//! The working calendar: which days are working days and which hours of them count, so that limits
//! in working time become deadlines.
//!
//! Three data files make a city's calendar:
//! - `data/calendar/cn-official-days.csv`: the State Council's official holidays and make-up workdays
//!   (调休上班), `date,kind,name` with `kind` = `holiday` | `workday`. A year is *covered* when the file
//!   has at least one row in it. Further years are merged with [`WorkCalendar::import_official`].
//! - `data/<city>/calendar-overlay.csv`: the city's own extra holidays or workdays, same columns; it wins
//!   over the official file and may be empty (header only).
//! - `data/<city>/working-hours.toml`: the daily working periods and the UTC offset.
//!
//! Any date listed in neither file is a working day on Monday–Friday. For a year without official data
//! this is only a fallback that ignores holidays, so [`WorkCalendar::missing_years`] tells which years
//! need importing, for administrators to be warned.
//!
//! Deadlines ([`WorkClock::deadline`]):
//! - `WorkMinutes` / `WorkHours`: that much time inside working periods, counted from the start (or
//!   from the next working moment if the start is outside working time). A deadline may fall exactly on
//!   the end of a period (e.g. 12:00).
//! - `WorkDays`: the start is first moved to the next working moment if it is outside working time
//!   (evening, lunch break, weekend, holiday); the deadline is the same clock time on the n-th working
//!   day after that. So a case reported on Friday at 20:00 with 1 working day is due on Tuesday 08:30,
//!   and exactly one working day of working time always lies between start and deadline.
//! - `NaturalDays`: n × 24 hours after the start, whatever the calendar says.
//!
//! [`deadline_with_pauses`] moves a deadline by the working time during which the case was suspended.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday};
use serde::{Deserialize, Serialize};

use super::{Limit, LimitUnit, WorkClock};
use crate::data::{DataError, Problem, RowError, Table, csv_rows};

pub const OFFICIAL_FILE: &str = "data/calendar/cn-official-days.csv";
pub const OVERLAY_FILE: &str = "calendar-overlay.csv";
pub const HOURS_FILE: &str = "working-hours.toml";

/// How far [`WorkCalendar`] searches for a working day before giving up: a calendar in which no day of
/// ten years works is a data error, not a reason to loop forever.
const MAX_DAYS: i64 = 3660;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// A day off (a statutory holiday or a weekend day inside a holiday block).
    Holiday,
    /// A working day, usually a make-up workday on a weekend.
    Workday,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpecialDay {
    pub kind: DayKind,
    pub name: String,
}

/// A daily working period in local time, `start` inclusive, `end` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

/// An interval during which a case's clock stood still (suspended, 挂起/挂账). `until` is `None` while
/// the case is still suspended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    pub from: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct WorkCalendar {
    offset: FixedOffset,
    periods: Vec<Period>,
    official: BTreeMap<NaiveDate, SpecialDay>,
    official_years: BTreeSet<i32>,
    overlay: BTreeMap<NaiveDate, SpecialDay>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HoursFile {
    /// Informational; the offset is what counts (Asia/Shanghai has no daylight saving).
    #[allow(dead_code)]
    time_zone: Option<String>,
    utc_offset: String,
    periods: Vec<String>,
}

impl WorkCalendar {
    /// Loads a calendar from the official days, the city's overlay (CSV) and its working hours (TOML).
    /// `hours_file` names the hours file in errors (e.g. `data/qitaihe/working-hours.toml`); the CSV
    /// files are named by [`OFFICIAL_FILE`] and [`OVERLAY_FILE`].
    pub fn load(official_csv: &str, overlay_csv: &str, hours_toml: &str) -> Result<WorkCalendar, DataError> {
        let (offset, periods) = parse_hours(HOURS_FILE, hours_toml)?;
        let official = parse_days(OFFICIAL_FILE, official_csv, true)?;
        let overlay = parse_days(OVERLAY_FILE, overlay_csv, false)?;
        let official_years = official.keys().map(|d| d.year()).collect();
        Ok(WorkCalendar {
            offset,
            periods,
            official,
            official_years,
            overlay,
        })
    }

    /// Merges a further year (or years) of official days, same columns as the official file. Each year
    /// in the file replaces what the calendar had for that year, so a corrected notice can be imported
    /// again. All-or-nothing: a bad file changes nothing. Returns the years imported.
    pub fn import_official(&mut self, file: &str, csv: &str) -> Result<Vec<i32>, DataError> {
        let days = parse_days(file, csv, true)?;
        let years: BTreeSet<i32> = days.keys().map(|d| d.year()).collect();
        self.official.retain(|d, _| !years.contains(&d.year()));
        self.official.extend(days);
        self.official_years.extend(years.iter().copied());
        Ok(years.into_iter().collect())
    }

    /// Years that have official data.
    pub fn years_with_data(&self) -> Vec<i32> {
        self.official_years.iter().copied().collect()
    }

    /// Years in `range` without official data: there the calendar falls back to plain Monday–Friday
    /// and ignores holidays, so administrators should import them.
    pub fn missing_years(&self, range: RangeInclusive<i32>) -> Vec<i32> {
        range.filter(|y| !self.official_years.contains(y)).collect()
    }

    pub fn offset(&self) -> FixedOffset {
        self.offset
    }

    pub fn periods(&self) -> &[Period] {
        &self.periods
    }

    /// Working minutes in a full working day.
    pub fn daily_work_minutes(&self) -> i64 {
        self.periods.iter().map(|p| (p.end - p.start).num_minutes()).sum()
    }

    /// The special day (holiday or workday) in force on `date`, the overlay first.
    pub fn special_day(&self, date: NaiveDate) -> Option<&SpecialDay> {
        self.overlay.get(&date).or_else(|| self.official.get(&date))
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        match self.special_day(date) {
            Some(d) => d.kind == DayKind::Workday,
            None => !matches!(date.weekday(), Weekday::Sat | Weekday::Sun),
        }
    }

    /// The local date of an instant.
    pub fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.offset).date_naive()
    }

    fn at(&self, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        let local = NaiveDateTime::new(date, time);
        // A fixed offset maps every local time to exactly one instant.
        self.offset
            .from_local_datetime(&local)
            .single()
            .expect("fixed offset")
            .with_timezone(&Utc)
    }

    /// `t` itself if it is inside working time, else the start of the next working period.
    pub fn next_working_moment(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        let mut date = self.local_date(t);
        for _ in 0..MAX_DAYS {
            if self.is_working_day(date) {
                for p in &self.periods {
                    let (s, e) = (self.at(date, p.start), self.at(date, p.end));
                    if t < e {
                        return t.max(s);
                    }
                }
            }
            date = date.succ_opt().expect("date in range");
        }
        t
    }

    /// The instant after `minutes` of working time from `t`.
    pub fn add_work_minutes(&self, t: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
        if minutes <= 0 {
            return t;
        }
        let mut left = Duration::minutes(minutes);
        let mut date = self.local_date(t);
        for _ in 0..MAX_DAYS {
            if self.is_working_day(date) {
                for p in &self.periods {
                    let (s, e) = (self.at(date, p.start), self.at(date, p.end));
                    let from = s.max(t);
                    if from >= e {
                        continue;
                    }
                    let available = e - from;
                    if left <= available {
                        return from + left;
                    }
                    left -= available;
                }
            }
            date = date.succ_opt().expect("date in range");
        }
        t + left
    }

    /// Working minutes left from `now` until `deadline`; negative when overdue (then it is the working
    /// time by which the deadline was missed).
    pub fn remaining_work_minutes(&self, now: DateTime<Utc>, deadline: DateTime<Utc>) -> i64 {
        if deadline >= now {
            self.work_minutes(now, deadline)
        } else {
            -self.work_minutes(deadline, now)
        }
    }

    fn work_days_after(&self, start: DateTime<Utc>, days: u32) -> DateTime<Utc> {
        let s = self.next_working_moment(start);
        let local = s.with_timezone(&self.offset);
        let mut date = local.date_naive();
        let mut left = days;
        let mut guard = 0;
        while left > 0 && guard < MAX_DAYS * 10 {
            date = date.succ_opt().expect("date in range");
            if self.is_working_day(date) {
                left -= 1;
            }
            guard += 1;
        }
        self.at(date, local.time())
    }
}

impl WorkClock for WorkCalendar {
    fn deadline(&self, start: DateTime<Utc>, limit: Limit) -> DateTime<Utc> {
        let n = i64::from(limit.amount);
        match limit.unit {
            LimitUnit::WorkMinutes => self.add_work_minutes(start, n),
            LimitUnit::WorkHours => self.add_work_minutes(start, n * 60),
            LimitUnit::WorkDays => self.work_days_after(start, limit.amount),
            LimitUnit::NaturalDays => start + Duration::days(n),
        }
    }

    /// The first and last local days are counted period by period; every day between them is
    /// whole, so it counts as a full working day or not at all ([`WorkCalendar::working_days_between`]).
    /// Constant in the length of the span: a case open for years (its timeline, its remaining time on
    /// every read) costs no more than one open for a day.
    fn work_minutes(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> i64 {
        if end <= start {
            return 0;
        }
        let first = self.local_date(start);
        let last = self.local_date(end);
        let mut total = self.work_on(first, start, end);
        if last > first {
            total += self.work_on(last, start, end);
            let whole_days = self.working_days_between(first, last);
            total += Duration::minutes(whole_days * self.daily_work_minutes());
        }
        total.num_minutes()
    }
}

impl WorkCalendar {
    /// Working time on the local day `date` that lies between `start` and `end`.
    fn work_on(&self, date: NaiveDate, start: DateTime<Utc>, end: DateTime<Utc>) -> Duration {
        let mut total = Duration::zero();
        if self.is_working_day(date) {
            for p in &self.periods {
                let (s, e) = (self.at(date, p.start).max(start), self.at(date, p.end).min(end));
                if e > s {
                    total += e - s;
                }
            }
        }
        total
    }

    /// How many working days lie strictly between `first` and `last`: the weekdays, corrected by
    /// the special days in between (a holiday on a weekday takes one away, a make-up workday on a
    /// weekend adds one; the overlay wins over the official file).
    fn working_days_between(&self, first: NaiveDate, last: NaiveDate) -> i64 {
        let Some(from) = first.succ_opt() else { return 0 };
        if from >= last {
            return 0;
        }
        let mut count = weekdays_in(from, last);
        let default = |d: &NaiveDate| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
        let adjust = |d: &NaiveDate, day: &SpecialDay| i64::from(day.kind == DayKind::Workday) - i64::from(default(d));
        for (d, day) in self.overlay.range(from..last) {
            count += adjust(d, day);
        }
        for (d, day) in self.official.range(from..last) {
            if !self.overlay.contains_key(d) {
                count += adjust(d, day);
            }
        }
        count
    }
}

/// Monday–Friday dates in `from..until` (`until` excluded).
fn weekdays_in(from: NaiveDate, until: NaiveDate) -> i64 {
    let days = (until - from).num_days();
    if days <= 0 {
        return 0;
    }
    let mut count = days / 7 * 5;
    let mut d = from + Duration::days(days / 7 * 7);
    while d < until {
        if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            count += 1;
        }
        d = d.succ_opt().expect("date in range");
    }
    count
}

/// The deadline of `limit` from `start` when the clock stood still during `pauses` (a suspended case):
/// the instant at which the running (unpaused) time reaches the limit. Work units count paused working
/// minutes; natural days count paused wall-clock time. Pauses may overlap, precede the start or lie after
/// the deadline (those do not count). `None` while a pause that began before the deadline is still open:
/// the clock is stopped and there is no deadline until the case resumes.
pub fn deadline_with_pauses<C: WorkClock + ?Sized>(
    clock: &C,
    start: DateTime<Utc>,
    limit: Limit,
    pauses: &[Pause],
) -> Option<DateTime<Utc>> {
    let natural = limit.unit == LimitUnit::NaturalDays;
    let measure = |a: DateTime<Utc>, b: DateTime<Utc>| {
        if b <= a {
            0
        } else if natural {
            (b - a).num_minutes()
        } else {
            clock.work_minutes(a, b)
        }
    };
    let advance = |t: DateTime<Utc>, minutes: i64| {
        if minutes <= 0 {
            t
        } else if natural {
            t + Duration::minutes(minutes)
        } else {
            clock.deadline(
                t,
                Limit {
                    amount: u32::try_from(minutes).unwrap_or(u32::MAX),
                    unit: LimitUnit::WorkMinutes,
                },
            )
        }
    };
    let mut sorted: Vec<Pause> = pauses.to_vec();
    sorted.sort_by_key(|p| p.from);
    // Merge overlapping pauses so no time is subtracted twice.
    let mut merged: Vec<Pause> = Vec::new();
    for p in sorted {
        match merged.last_mut() {
            Some(last) if last.until.is_none_or(|u| p.from <= u) => {
                last.until = match (last.until, p.until) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                };
            }
            _ => merged.push(p),
        }
    }
    let base = clock.deadline(start, limit);
    let mut deadline = base;
    // Each round can only take in pauses that begin before the current deadline, so it settles within
    // as many rounds as there are pauses.
    for _ in 0..=merged.len() + 1 {
        let mut paused = 0;
        for p in &merged {
            if p.from >= deadline {
                continue;
            }
            match p.until {
                None => return None,
                Some(u) => paused += measure(p.from.max(start), u.min(deadline)),
            }
        }
        let next = advance(base, paused);
        if next == deadline {
            break;
        }
        deadline = next;
    }
    Some(deadline)
}

/// Reads a file of official days (`date,kind,name`, as [`OFFICIAL_FILE`]) without loading a
/// calendar, for importing it elsewhere (a database); every bad row is reported, errors name `file`.
pub fn parse_official_days(file: &str, csv: &str) -> Result<BTreeMap<NaiveDate, SpecialDay>, DataError> {
    parse_days(file, csv, true)
}

/// Reads a city overlay file (`date,kind,name`); any weekday may be a workday or holiday there.
pub fn parse_overlay_days(file: &str, csv: &str) -> Result<BTreeMap<NaiveDate, SpecialDay>, DataError> {
    parse_days(file, csv, false)
}

/// Days as the CSV text [`WorkCalendar::load`] reads (`date,kind,name`, in date order).
pub fn days_csv<'a>(days: impl IntoIterator<Item = (&'a NaiveDate, &'a SpecialDay)>) -> String {
    let mut rows = vec![vec!["date".to_string(), "kind".to_string(), "name".to_string()]];
    for (date, day) in days {
        let kind = match day.kind {
            DayKind::Holiday => "holiday",
            DayKind::Workday => "workday",
        };
        rows.push(vec![date.to_string(), kind.to_string(), day.name.clone()]);
    }
    crate::data::csv_text(&rows)
}

fn parse_hours(file: &str, text: &str) -> Result<(FixedOffset, Vec<Period>), DataError> {
    let parsed: HoursFile = toml::from_str(text).map_err(|e| {
        let row = e.span().map(|s| text[..s.start.min(text.len())].lines().count().max(1));
        DataError::one(
            file,
            RowError {
                row,
                column: None,
                problem: Problem::Syntax {
                    detail: e.message().to_string(),
                },
            },
        )
    })?;
    let mut errors = Vec::new();
    let offset = parse_offset(&parsed.utc_offset);
    if offset.is_none() {
        errors.push(RowError {
            row: None,
            column: Some("utc_offset".into()),
            problem: Problem::invalid(
                &parsed.utc_offset,
                "形如 +08:00 的UTC偏移",
                "a UTC offset such as +08:00",
            ),
        });
    }
    let mut periods = Vec::new();
    for p in &parsed.periods {
        let parsed_period = p.split_once('-').and_then(|(a, b)| {
            let s = NaiveTime::parse_from_str(a.trim(), "%H:%M").ok()?;
            let e = NaiveTime::parse_from_str(b.trim(), "%H:%M").ok()?;
            (s < e).then_some(Period { start: s, end: e })
        });
        match parsed_period {
            Some(pp) => periods.push(pp),
            None => errors.push(RowError {
                row: None,
                column: Some("periods".into()),
                problem: Problem::invalid(
                    p,
                    "形如 08:30-12:00 的时段，开始早于结束",
                    "a period such as 08:30-12:00, start before end",
                ),
            }),
        }
    }
    periods.sort_by_key(|p| p.start);
    if errors.is_empty() {
        if periods.is_empty() {
            errors.push(RowError {
                row: None,
                column: Some("periods".into()),
                problem: Problem::Empty,
            });
        }
        for w in periods.windows(2) {
            if w[1].start < w[0].end {
                errors.push(RowError {
                    row: None,
                    column: Some("periods".into()),
                    problem: Problem::other(
                        format!("时段 {}–{} 与 {}–{} 重叠", w[0].start, w[0].end, w[1].start, w[1].end),
                        format!(
                            "periods {}–{} and {}–{} overlap",
                            w[0].start, w[0].end, w[1].start, w[1].end
                        ),
                    ),
                });
            }
        }
    }
    match offset {
        Some(o) if errors.is_empty() => Ok((o, periods)),
        _ => Err(DataError::new(file, errors)),
    }
}

fn parse_offset(s: &str) -> Option<FixedOffset> {
    let s = s.trim();
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    if h > 14 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

fn parse_days(file: &str, text: &str, official: bool) -> Result<BTreeMap<NaiveDate, SpecialDay>, DataError> {
    let rows = csv_rows(file, text)?;
    let table = Table::new(&rows, &["date", "kind", "name"]).map_err(|e| DataError::new(file, e))?;
    let mut errors = Vec::new();
    let mut days = BTreeMap::new();
    let mut first_row: BTreeMap<NaiveDate, usize> = BTreeMap::new();
    for (n, row) in table.rows() {
        let date = row.required("date", &mut errors).and_then(|v| {
            let d = NaiveDate::parse_from_str(v, "%Y-%m-%d").ok();
            if d.is_none() {
                errors.push(row.error(
                    "date",
                    Problem::invalid(v, "YYYY-MM-DD 格式的日期", "a date as YYYY-MM-DD"),
                ));
            }
            d
        });
        let kind = row.required("kind", &mut errors).and_then(|v| match v {
            "holiday" => Some(DayKind::Holiday),
            "workday" => Some(DayKind::Workday),
            _ => {
                errors.push(row.error("kind", Problem::invalid(v, "holiday 或 workday", "holiday or workday")));
                None
            }
        });
        let name = row.required("name", &mut errors);
        let (Some(date), Some(kind), Some(name)) = (date, kind, name) else {
            continue;
        };
        if let Some(first) = first_row.get(&date) {
            errors.push(row.error(
                "date",
                Problem::Duplicate {
                    value: date.to_string(),
                    first_row: *first,
                },
            ));
            continue;
        }
        // In the official notice a make-up workday is always a weekend day; a weekday "workday" is a
        // typo that would silently do nothing.
        if official && kind == DayKind::Workday && !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            errors.push(row.error(
                "kind",
                Problem::other(
                    format!("{date} 是工作日（周一至周五），调休上班日应为周六或周日"),
                    format!("{date} is a weekday already; a make-up workday falls on a Saturday or Sunday"),
                ),
            ));
            continue;
        }
        first_row.insert(date, n);
        days.insert(
            date,
            SpecialDay {
                kind,
                name: name.to_string(),
            },
        );
    }
    if errors.is_empty() {
        Ok(days)
    } else {
        Err(DataError::new(file, errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn official_days_read_back_from_their_csv() {
        let days = parse_official_days("x.csv", OFFICIAL).unwrap();
        assert_eq!(parse_official_days("y.csv", &days_csv(&days)).unwrap(), days);
        let e = parse_official_days(
            "bad.csv",
            "date,kind,name\n2027-13-01,holiday,元旦\n2027-02-03,workday,春节\n",
        )
        .unwrap_err();
        assert_eq!((e.file.as_str(), e.errors.len()), ("bad.csv", 2));
    }

    const OFFICIAL: &str = include_str!("../../../../data/calendar/cn-official-days.csv");
    const HOURS: &str = "utc_offset = \"+08:00\"\nperiods = [\"08:30-12:00\", \"13:30-17:30\"]\n";
    const NO_OVERLAY: &str = "date,kind,name\n";

    fn cal() -> WorkCalendar {
        WorkCalendar::load(OFFICIAL, NO_OVERLAY, HOURS).unwrap()
    }

    /// A Beijing-time instant.
    fn bj(s: &str) -> DateTime<Utc> {
        crate::time::city_instant(NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap())
    }

    fn lim(amount: u32, unit: LimitUnit) -> Limit {
        Limit { amount, unit }
    }

    #[test]
    fn one_working_day_from_the_eve_of_national_day_ends_after_the_holiday() {
        // 2026-10-01 to 10-07 are off; Thursday 10-08 is the next working day.
        let c = cal();
        assert_eq!(
            c.deadline(bj("2026-09-30 17:00"), lim(1, LimitUnit::WorkDays)),
            bj("2026-10-08 17:00")
        );
        // 1.5 h on 09-30 and 3.5 h on 10-08 make 5 working hours.
        assert_eq!(
            c.deadline(bj("2026-09-30 16:00"), lim(5, LimitUnit::WorkHours)),
            bj("2026-10-08 12:00")
        );
        assert_eq!(c.work_minutes(bj("2026-09-30 17:00"), bj("2026-10-08 17:00")), 450);
    }

    #[test]
    fn make_up_saturdays_and_sundays_count_as_working_days() {
        let c = cal();
        // Friday 10-09 → Saturday 10-10 is a make-up workday.
        assert_eq!(
            c.deadline(bj("2026-10-09 10:00"), lim(1, LimitUnit::WorkDays)),
            bj("2026-10-10 10:00")
        );
        // Friday 09-18 → Sunday 09-20 is a make-up workday.
        assert_eq!(
            c.deadline(bj("2026-09-18 10:00"), lim(1, LimitUnit::WorkDays)),
            bj("2026-09-20 10:00")
        );
        // An ordinary weekend: Friday 2026-11-20 → Monday 11-23.
        assert_eq!(
            c.deadline(bj("2026-11-20 10:00"), lim(1, LimitUnit::WorkDays)),
            bj("2026-11-23 10:00")
        );
    }

    #[test]
    fn a_start_outside_working_time_counts_from_the_next_working_moment() {
        let c = cal();
        // Friday evening → Monday 08:30 → Tuesday 08:30.
        assert_eq!(
            c.deadline(bj("2026-11-20 20:00"), lim(1, LimitUnit::WorkDays)),
            bj("2026-11-24 08:30")
        );
        // Lunch break: 30 minutes from 12:10 end at 14:00.
        assert_eq!(
            c.deadline(bj("2026-11-23 12:10"), lim(30, LimitUnit::WorkMinutes)),
            bj("2026-11-23 14:00")
        );
        // A deadline may be the very end of a period.
        assert_eq!(
            c.deadline(bj("2026-11-23 11:30"), lim(30, LimitUnit::WorkMinutes)),
            bj("2026-11-23 12:00")
        );
        assert_eq!(
            c.deadline(bj("2026-09-30 17:00"), lim(2, LimitUnit::NaturalDays)),
            bj("2026-10-02 17:00")
        );
    }

    #[test]
    fn work_minutes_skip_nights_lunch_weekends_and_holidays() {
        let c = cal();
        assert_eq!(c.work_minutes(bj("2026-11-23 08:00"), bj("2026-11-23 20:00")), 450);
        assert_eq!(c.work_minutes(bj("2026-11-23 11:00"), bj("2026-11-23 14:00")), 90);
        assert_eq!(c.work_minutes(bj("2026-11-20 17:00"), bj("2026-11-23 09:00")), 60);
        assert_eq!(c.work_minutes(bj("2026-11-23 10:00"), bj("2026-11-23 09:00")), 0);
        assert_eq!(
            c.remaining_work_minutes(bj("2026-11-23 17:00"), bj("2026-11-23 16:00")),
            -60
        );
        // A whole working week is five days' hours.
        assert_eq!(c.work_minutes(bj("2026-11-23 00:00"), bj("2026-11-30 00:00")), 5 * 450);
    }

    #[test]
    fn years_without_data_fall_back_to_weekdays_and_are_reported() {
        let mut c = cal();
        assert_eq!(c.missing_years(2025..=2028), [2027, 2028]);
        // 2027-01-01 is a Friday: without the 2027 notice it counts as a working day.
        let new_year = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        assert!(c.is_working_day(new_year));
        let years = c
            .import_official("2027.csv", "date,kind,name\n2027-01-01,holiday,元旦\n")
            .unwrap();
        assert_eq!(years, [2027]);
        assert!(!c.is_working_day(new_year));
        assert_eq!(c.missing_years(2025..=2028), [2028]);
        // A bad import changes nothing and names the file, row and column.
        let e = c
            .import_official(
                "2028.csv",
                "date,kind,name\n2028-01-01,holiday,元旦\n2028-02-30,holiday,春节\n",
            )
            .unwrap_err();
        assert_eq!(e.file, "2028.csv");
        assert_eq!(
            (e.errors[0].row, e.errors[0].column.as_deref()),
            (Some(3), Some("date"))
        );
        assert_eq!(c.missing_years(2028..=2028), [2028]);
    }

    #[test]
    fn the_city_overlay_wins_over_the_official_days() {
        let overlay = "date,kind,name\n2026-11-23,holiday,本地假日\n2026-10-08,holiday,本地延长假\n";
        let c = WorkCalendar::load(OFFICIAL, overlay, HOURS).unwrap();
        assert!(!c.is_working_day(NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()));
        assert_eq!(
            c.deadline(bj("2026-09-30 17:00"), lim(1, LimitUnit::WorkDays)),
            bj("2026-10-09 17:00")
        );
    }

    #[test]
    fn bad_calendar_files_say_where() {
        let e = WorkCalendar::load(
            "date,kind,name\n2026-10-01,holiday,国庆节\n2026-10-01,holiday,国庆节\n2026-10-12,workday,周一补班\n",
            NO_OVERLAY,
            HOURS,
        )
        .unwrap_err();
        assert_eq!(e.file, OFFICIAL_FILE);
        let at: Vec<_> = e.errors.iter().map(|e| (e.row, e.column.clone())).collect();
        assert_eq!(at, [(Some(3), Some("date".into())), (Some(4), Some("kind".into()))]);

        let e = WorkCalendar::load(
            OFFICIAL,
            NO_OVERLAY,
            "utc_offset = \"+08:00\"\nperiods = [\"12:00-08:30\"]\n",
        )
        .unwrap_err();
        assert_eq!(e.file, HOURS_FILE);
        assert_eq!(e.errors[0].column.as_deref(), Some("periods"));
        let e = WorkCalendar::load(OFFICIAL, NO_OVERLAY, "utc_offset = \"+08:00\"\nperiods = [\n").unwrap_err();
        assert!(matches!(e.errors[0].problem, Problem::Syntax { .. }));
    }

    #[test]
    fn a_suspension_moves_the_deadline_by_the_paused_working_time() {
        let c = cal();
        let start = bj("2026-11-23 09:00"); // Monday
        let limit = lim(2, LimitUnit::WorkDays);
        assert_eq!(c.deadline(start, limit), bj("2026-11-25 09:00"));
        // Suspended Monday 10:00 to Tuesday 10:00: one working day paused.
        let pause = Pause {
            from: bj("2026-11-23 10:00"),
            until: Some(bj("2026-11-24 10:00")),
        };
        assert_eq!(
            deadline_with_pauses(&c, start, limit, &[pause]),
            Some(bj("2026-11-26 09:00"))
        );
        // Overlapping pauses are not counted twice; a pause over the weekend costs nothing extra.
        let weekend = Pause {
            from: bj("2026-11-21 00:00"),
            until: Some(bj("2026-11-23 00:00")),
        };
        assert_eq!(
            deadline_with_pauses(&c, start, limit, &[pause, pause, weekend]),
            Some(bj("2026-11-26 09:00"))
        );
        // A pause that starts after the extended deadline changes nothing.
        let late = Pause {
            from: bj("2026-11-27 09:00"),
            until: Some(bj("2026-11-30 09:00")),
        };
        assert_eq!(
            deadline_with_pauses(&c, start, limit, &[pause, late]),
            Some(bj("2026-11-26 09:00"))
        );
        // A pause reached only through the first extension counts too.
        let chained = Pause {
            from: bj("2026-11-25 16:30"),
            until: Some(bj("2026-11-25 17:30")),
        };
        assert_eq!(
            deadline_with_pauses(&c, start, limit, &[pause, chained]),
            Some(bj("2026-11-26 10:00"))
        );
        // Still suspended: the clock stands, no deadline.
        let open = Pause {
            from: bj("2026-11-24 09:00"),
            until: None,
        };
        assert_eq!(deadline_with_pauses(&c, start, limit, &[open]), None);
        // Natural days pause by wall-clock time.
        let night = Pause {
            from: bj("2026-11-23 20:00"),
            until: Some(bj("2026-11-24 08:00")),
        };
        assert_eq!(
            deadline_with_pauses(&c, start, lim(1, LimitUnit::NaturalDays), &[night]),
            Some(bj("2026-11-24 21:00"))
        );
    }

    /// Working minutes counted day by day, as the calendar did before issue 15: the reference the
    /// constant-time count must match.
    fn work_minutes_day_by_day(c: &WorkCalendar, start: DateTime<Utc>, end: DateTime<Utc>) -> i64 {
        if end <= start {
            return 0;
        }
        let mut total = Duration::zero();
        let mut date = c.local_date(start);
        while date <= c.local_date(end) {
            total += c.work_on(date, start, end);
            date = date.succ_opt().unwrap();
        }
        total.num_minutes()
    }

    #[test]
    fn working_minutes_over_long_spans_match_the_day_by_day_count() {
        // The overlay overrides official days both ways (a make-up Saturday off, a holiday worked)
        // and adds its own (a weekday off, a Sunday worked).
        let overlay = "date,kind,name\n2026-10-10,holiday,本地调整\n2026-10-05,workday,本地值班\n\
                       2026-11-23,holiday,本地假日\n2027-03-07,workday,本地加班\n";
        let periods = "utc_offset = \"+08:00\"\nperiods = [\"08:30-12:00\", \"13:30-17:30\"]\n";
        let calendars = [cal(), WorkCalendar::load(OFFICIAL, overlay, periods).unwrap()];
        let origin = bj("2024-12-20 00:00");
        // A fixed pseudo-random walk: spans from seconds to five years, at any minute and second.
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for c in &calendars {
            for i in 0..3000 {
                let a = origin + Duration::seconds(i64::try_from(next() % (3 * 365 * 86_400)).unwrap());
                let span = match i % 3 {
                    0 => next() % 86_400 * 3,
                    1 => next() % (60 * 86_400),
                    _ => next() % (5 * 365 * 86_400),
                };
                let b = a + Duration::seconds(i64::try_from(span).unwrap());
                assert_eq!(c.work_minutes(a, b), work_minutes_day_by_day(c, a, b), "{a} → {b}");
                assert_eq!(c.work_minutes(b, a), 0);
            }
        }
        // Whole days between the first and the last: a week of National Day counts none.
        let c = &calendars[0];
        assert_eq!(c.work_minutes(bj("2026-09-30 17:30"), bj("2026-10-08 08:30")), 0);
        assert_eq!(c.work_minutes(bj("2026-09-30 08:30"), bj("2026-10-08 17:30")), 2 * 450);
    }
}
