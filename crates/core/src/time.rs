//! The city's time: Asia/Shanghai, UTC+8 all year (no daylight saving since 1991). Case numbers
//! take the day of the report on this clock, "today" picks the rules in force, and times are
//! shown on it. This is the one definition of the offset; the working calendar reads its own from
//! the city's `working-hours.toml` (`utc_offset = "+08:00"`, see [`crate::cases::calendar`]).

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// UTC+8, the offset of Asia/Shanghai.
pub const CITY_OFFSET: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+8 is a valid offset"),
};

/// An instant as the city's clocks show it.
pub fn city_time(at: DateTime<Utc>) -> DateTime<FixedOffset> {
    at.with_timezone(&CITY_OFFSET)
}

/// The day it is in the city at `at` (the day a case is reported on).
pub fn city_day(at: DateTime<Utc>) -> NaiveDate {
    city_time(at).date_naive()
}

/// Today in the city.
pub fn city_today() -> NaiveDate {
    city_day(Utc::now())
}

/// The instant at which the city's clocks show `local`.
pub fn city_instant(local: NaiveDateTime) -> DateTime<Utc> {
    CITY_OFFSET
        .from_local_datetime(&local)
        .single()
        .expect("a fixed offset maps every local time to one instant")
        .with_timezone(&Utc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_city_is_eight_hours_ahead_of_utc() {
        let at = DateTime::parse_from_rfc3339("2026-11-27T16:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(city_time(at).to_rfc3339(), "2026-11-28T00:30:00+08:00");
        assert_eq!(city_day(at), NaiveDate::from_ymd_opt(2026, 11, 28).unwrap());
        let local = NaiveDate::from_ymd_opt(2026, 11, 28)
            .unwrap()
            .and_hms_opt(0, 30, 0)
            .unwrap();
        assert_eq!(city_instant(local), at);
    }
}
