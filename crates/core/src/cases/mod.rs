//! The case loop (事件 / 诉求 / 工单): every matter someone must resolve, whatever its channel.
//!
//! The shared vocabulary of the loop lives here; each part has its own module:
//! the taxonomy of matters, the responsibility list (routing and limits), the working calendar
//! and the state machine.

pub mod attachment;
pub mod calendar;
pub mod responsibility;
pub mod taxonomy;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::orgs::DepartmentCode;
use crate::territory::{GridCode, TerritoryCode};

pub mod flow;
pub mod inbox;
pub mod intake;
pub mod rules;

/// A time limit as the responsibility list states it: an amount of some unit of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Limit {
    pub amount: u32,
    pub unit: LimitUnit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitUnit {
    /// Minutes of working time (inside working hours on working days).
    WorkMinutes,
    /// Hours of working time.
    WorkHours,
    /// Whole working days: the deadline is the same time of day, that many working days later.
    WorkDays,
    /// Calendar days, counting every day and hour.
    NaturalDays,
}

/// Working time as a city's calendar counts it (official holidays, make-up workdays, working
/// hours). `calendar::WorkCalendar` implements it; tests may use simpler clocks.
pub trait WorkClock {
    /// The instant `limit` after `start`.
    fn deadline(&self, start: DateTime<Utc>, limit: Limit) -> DateTime<Utc>;
    /// Working minutes between two instants; 0 when `end` is not after `start`.
    fn work_minutes(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> i64;
}

/// Who handles a case: a department, a territorial unit (street or community), or the grid's
/// worker.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "code", rename_all = "snake_case")]
pub enum UnitRef {
    Department(DepartmentCode),
    Territory(TerritoryCode),
    GridWorker(GridCode),
    /// A member organization of the registry, by id: it takes a need a community published.
    Organization(i64),
}

impl UnitRef {
    /// How the unit is written where cases are listed by it: `department:housing`,
    /// `territory:230903011000`, `grid_worker:230903011001001`.
    pub fn key(&self) -> String {
        match self {
            UnitRef::Department(d) => format!("department:{d}"),
            UnitRef::Territory(t) => format!("territory:{t}"),
            UnitRef::GridWorker(g) => format!("grid_worker:{g}"),
            UnitRef::Organization(o) => format!("organization:{o}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_serialise_with_their_kind() {
        let u = UnitRef::Department(DepartmentCode::parse("housing").unwrap());
        assert_eq!(
            serde_json::to_string(&u).unwrap(),
            r#"{"kind":"department","code":"housing"}"#
        );
        let t = UnitRef::Territory(TerritoryCode::parse("230903011000").unwrap());
        assert_eq!(
            serde_json::from_str::<UnitRef>(&serde_json::to_string(&t).unwrap()).unwrap(),
            t
        );
    }
}
