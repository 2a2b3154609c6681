//! The states of a case, their outcome type and their coarse stage.

use serde::{Deserialize, Serialize};

use crate::i18n::Lang;

/// Where a case stands. The minimal faithful set of DESIGN §3 (see the module docs of `flow` for
/// what was folded away and why).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// 上报: reported by any channel, not yet looked at (a grid worker's self-handled report waits
    /// here for review).
    Reported,
    /// 受理: the intake clerk took the report in.
    Accepted,
    /// 核实: a grid worker is verifying the report on site before registration.
    Verifying,
    /// 立案: the shift lead registered the case; it waits for dispatch (again, after a return).
    Registered,
    /// 派遣: dispatched to a lead handler; the response clock runs until it acknowledges.
    Dispatched,
    /// 处置中: acknowledged and being handled (also after rework and reopening).
    Handling,
    /// 挂账: suspended with approval; the handling clock is paused.
    Suspended,
    /// 处置反馈: the handler reported back; waits for the check (核查).
    ReportedBack,
    /// 核查通过: the check passed; waits for closing.
    Passed,
    /// 结案: closed after a passed check (or an approved self-handling). Fixed.
    Closed,
    /// 不予受理 / 不予立案: refused with a reason.
    Rejected,
    /// 合并: a duplicate, linked to its parent case.
    Merged,
    /// 作废: cancelled with approval.
    Cancelled,
}

/// The outward type of a state (FixMyStreet / Open311 style): "closed but not fixed" is never fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Open,
    Closed,
    Fixed,
}

/// The coarse step of the standard closed loop (cn-governance §1.2), kept apart from the fine state
/// the way eGOVA keeps `act_property_id` apart from `event_state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// 信息采集
    Intake,
    /// 案卷建立 (accept, verify, register)
    Filing,
    /// 任务派遣
    Dispatch,
    /// 任务处理 (suspended included)
    Handling,
    /// 核查结案 (reported back, passed)
    Check,
    /// 结束 (closed, rejected, merged, cancelled)
    Done,
}

impl State {
    pub const ALL: [State; 13] = [
        State::Reported,
        State::Accepted,
        State::Verifying,
        State::Registered,
        State::Dispatched,
        State::Handling,
        State::Suspended,
        State::ReportedBack,
        State::Passed,
        State::Closed,
        State::Rejected,
        State::Merged,
        State::Cancelled,
    ];

    pub fn outcome(self) -> Outcome {
        match self {
            State::Closed => Outcome::Fixed,
            State::Rejected | State::Merged | State::Cancelled => Outcome::Closed,
            _ => Outcome::Open,
        }
    }

    pub fn is_open(self) -> bool {
        self.outcome() == Outcome::Open
    }

    pub fn stage(self) -> Stage {
        match self {
            State::Reported => Stage::Intake,
            State::Accepted | State::Verifying | State::Registered => Stage::Filing,
            State::Dispatched => Stage::Dispatch,
            State::Handling | State::Suspended => Stage::Handling,
            State::ReportedBack | State::Passed => Stage::Check,
            State::Closed | State::Rejected | State::Merged | State::Cancelled => Stage::Done,
        }
    }

    /// The stable name used in JSON and in the database's indexed column.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Reported => "reported",
            State::Accepted => "accepted",
            State::Verifying => "verifying",
            State::Registered => "registered",
            State::Dispatched => "dispatched",
            State::Handling => "handling",
            State::Suspended => "suspended",
            State::ReportedBack => "reported_back",
            State::Passed => "passed",
            State::Closed => "closed",
            State::Rejected => "rejected",
            State::Merged => "merged",
            State::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub fn label(self, lang: Lang) -> &'static str {
        let (zh, en) = match self {
            State::Reported => ("已上报", "reported"),
            State::Accepted => ("已受理", "accepted"),
            State::Verifying => ("核实中", "verifying"),
            State::Registered => ("已立案", "registered"),
            State::Dispatched => ("已派遣", "dispatched"),
            State::Handling => ("处置中", "handling"),
            State::Suspended => ("已挂账", "suspended"),
            State::ReportedBack => ("已反馈", "reported back"),
            State::Passed => ("核查通过", "check passed"),
            State::Closed => ("已结案", "closed"),
            State::Rejected => ("不予受理", "rejected"),
            State::Merged => ("已合并", "merged"),
            State::Cancelled => ("已作废", "cancelled"),
        };
        lang.pick(zh, en)
    }
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Open => "open",
            Outcome::Closed => "closed",
            Outcome::Fixed => "fixed",
        }
    }
}

impl Stage {
    pub fn label(self, lang: Lang) -> &'static str {
        let (zh, en) = match self {
            Stage::Intake => ("信息采集", "intake"),
            Stage::Filing => ("案卷建立", "filing"),
            Stage::Dispatch => ("任务派遣", "dispatch"),
            Stage::Handling => ("任务处理", "handling"),
            Stage::Check => ("核查结案", "check"),
            Stage::Done => ("已结束", "done"),
        };
        lang.pick(zh, en)
    }
}
