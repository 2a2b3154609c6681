//! Deadlines, overdue cases and automatic supervision, with the clock stopped while suspended.

use chrono::{DateTime, Utc};

use super::case::{Case, SupervisionLevel};
use super::policy::{Escalation, FlowPolicy};
use super::state::State;
use crate::cases::{Limit, LimitUnit, UnitRef, WorkClock};
use crate::i18n::Lang;

/// The deadline of the step the case is in: 核实 while verifying, the response deadline while
/// dispatched, the handling deadline while handling or suspended, the 核查 deadline once reported
/// back; none in the command centre's own steps or once done.
pub fn next_deadline(case: &Case) -> Option<DateTime<Utc>> {
    match case.state {
        State::Verifying | State::ReportedBack => case.deadlines.verification,
        State::Dispatched => case.deadlines.response,
        State::Handling | State::Suspended => case.deadlines.handling,
        _ => None,
    }
}

/// The instant the clock reads for `case` at `now`: while suspended it stands at the start of the
/// suspension.
fn clock_reading(case: &Case, now: DateTime<Utc>) -> DateTime<Utc> {
    match (case.state, case.open_suspension()) {
        (State::Suspended, Some(s)) => s.from.min(now),
        _ => now,
    }
}

/// Whether the case is past a deadline that is running. A dispatched case is overdue when either
/// its response or its handling deadline has passed (handling counts from dispatch).
pub fn overdue(case: &Case, now: DateTime<Utc>) -> bool {
    let t = clock_reading(case, now);
    let past = |d: Option<DateTime<Utc>>| d.is_some_and(|d| d < t);
    match case.state {
        State::Dispatched => past(case.deadlines.response) || past(case.deadlines.handling),
        _ => past(next_deadline(case)),
    }
}

/// Working minutes left until the next deadline; negative when overdue by that many; `None` when
/// no deadline runs. Frozen while suspended.
pub fn remaining_minutes(case: &Case, now: DateTime<Utc>, clock: &dyn WorkClock) -> Option<i64> {
    let deadline = next_deadline(case)?;
    let t = clock_reading(case, now);
    Some(if deadline >= t {
        clock.work_minutes(t, deadline)
    } else {
        -clock.work_minutes(deadline, t)
    })
}

/// `instant` moved later by `minutes` of working time.
pub fn shift(clock: &dyn WorkClock, instant: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
    if minutes <= 0 {
        return instant;
    }
    let amount = u32::try_from(minutes).unwrap_or(u32::MAX);
    clock.deadline(
        instant,
        Limit {
            amount,
            unit: LimitUnit::WorkMinutes,
        },
    )
}

/// Why an automatic supervision order is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SupervisionTrigger {
    /// Dispatched and not acknowledged for `after`.
    Unacknowledged { department: bool, after: Limit },
    /// Acknowledged and not reported back for `after` (suspended time left out).
    Unresolved { department: bool, after: Limit },
}

impl SupervisionTrigger {
    /// The reason written into the order.
    pub fn reason(&self, lang: Lang) -> String {
        let (department, after, zh, en) = match *self {
            SupervisionTrigger::Unacknowledged { department, after } => (
                department,
                after,
                "派遣后超过{}未签收",
                "not acknowledged {} after dispatch",
            ),
            SupervisionTrigger::Unresolved { department, after } => (
                department,
                after,
                "签收后超过{}未反馈",
                "not reported back {} after acknowledgement",
            ),
        };
        let unit = lang.pick(
            if department { "职能部门" } else { "属地单位" },
            if department {
                "department"
            } else {
                "administrative unit"
            },
        );
        let amount = limit_text(after, lang);
        match lang {
            Lang::Zh => format!("自动督办（{unit}）：{}", zh.replace("{}", &amount)),
            Lang::En => format!("automatic supervision ({unit}): {}", en.replace("{}", &amount)),
        }
    }
}

fn limit_text(l: Limit, lang: Lang) -> String {
    let unit = match l.unit {
        LimitUnit::WorkMinutes => lang.pick("个工作分钟", " working minutes"),
        LimitUnit::WorkHours => lang.pick("个工作小时", " working hours"),
        LimitUnit::WorkDays => lang.pick("个工作日", " working days"),
        LimitUnit::NaturalDays => lang.pick("个自然日", " days"),
    };
    format!("{}{unit}", l.amount)
}

/// The supervision order a periodic job should raise now, if any: the level the thresholds reach,
/// when it is above the case's current level. Thresholds depend on whether the lead handler is a
/// department or an administrative unit (street, community, grid worker).
pub fn auto_supervision(
    case: &Case,
    now: DateTime<Utc>,
    policy: &FlowPolicy,
    clock: &dyn WorkClock,
) -> Option<(SupervisionLevel, SupervisionTrigger)> {
    let department = matches!(case.lead.as_ref()?, UnitRef::Department(_));
    let phases = if department {
        policy.supervision.department
    } else {
        policy.supervision.administrative
    };
    let (start, escalation, trigger): (_, Escalation, fn(bool, Limit) -> SupervisionTrigger) = match case.state {
        State::Dispatched => (case.dispatched_at?, phases.acceptance, |department, after| {
            SupervisionTrigger::Unacknowledged { department, after }
        }),
        State::Handling => (case.handling_since?, phases.handling, |department, after| {
            SupervisionTrigger::Unresolved { department, after }
        }),
        // A suspended case's clock stands still; other states are not the handler's.
        _ => return None,
    };
    let paused: i64 = case
        .suspensions
        .iter()
        .filter(|s| s.from >= start)
        .filter_map(|s| s.paused_minutes)
        .sum();
    let reached = |limit: Limit| now >= shift(clock, clock.deadline(start, limit), paused);
    let (level, after) = if reached(escalation.red) {
        (SupervisionLevel::Red, escalation.red)
    } else if reached(escalation.yellow) {
        (SupervisionLevel::Yellow, escalation.yellow)
    } else {
        return None;
    };
    if case.supervision.is_some_and(|current| current >= level) {
        return None;
    }
    Some((level, trigger(department, after)))
}
