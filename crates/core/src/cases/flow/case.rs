//! The machine's view of a case: everything the rules read or write, and nothing else (the
//! description, the reporter and the attachments live beside it in the store).

use crate::ErrorCode;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

use super::state::{Outcome, Stage, State};
use crate::cases::{Limit, UnitRef};
use crate::i18n::{Lang, Localized};
use crate::orgs::DepartmentCode;
use crate::territory::TerritoryCode;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("a case number is 13 digits: a date YYYYMMDD and a daily serial 00001–99999; got {0:?}")]
pub struct BadCaseNumber(pub String);

impl Localized for BadCaseNumber {
    fn code(&self) -> ErrorCode {
        ErrorCode::InvalidCaseNumber
    }
    fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::Zh => format!(
                "案件编号应为13位数字：8位日期加5位当日序号（00001–99999），实际为“{}”",
                self.0
            ),
            Lang::En => self.to_string(),
        }
    }
}

/// A case number as people read it, like 2026112700001: the reporting date (Asia/Shanghai) and a
/// daily serial per city.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaseNumber(String);

impl CaseNumber {
    pub fn parse(s: &str) -> Result<Self, BadCaseNumber> {
        let bad = || BadCaseNumber(s.to_string());
        if s.len() != 13 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        NaiveDate::parse_from_str(&s[..8], "%Y%m%d").map_err(|_| bad())?;
        if &s[8..] == "00000" {
            return Err(bad());
        }
        Ok(CaseNumber(s.to_string()))
    }

    /// The number of the `serial`-th case reported on `date`.
    pub fn new(date: NaiveDate, serial: u32) -> Result<Self, BadCaseNumber> {
        Self::parse(&format!("{}{serial:05}", date.format("%Y%m%d")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CaseNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for CaseNumber {
    type Err = BadCaseNumber;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for CaseNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for CaseNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// The limits routing (the responsibility list) gave this case. Kept in the case, because the
/// list is versioned: a case keeps the limits it was routed under. A missing one falls back to the
/// policy's default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CaseLimits {
    /// Dispatch → acknowledge (响应时限).
    pub response: Option<Limit>,
    /// Dispatch → report back (处置时限); the clock starts at dispatch (cn-governance §1.2 step 3).
    pub handling: Option<Limit>,
    /// On-site verification (核实) before registration and check (核查) after report back.
    pub verification: Option<Limit>,
}

/// The deadlines now in force. `None`: no such clock is running or was ever set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Deadlines {
    pub response: Option<DateTime<Utc>>,
    pub handling: Option<DateTime<Utc>>,
    /// The 核实 deadline while verifying, the 核查 deadline once reported back.
    pub verification: Option<DateTime<Utc>>,
}

/// A period during which the case was suspended (挂账) and its handling clock stood still.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuspensionPeriod {
    pub from: DateTime<Utc>,
    /// `None` while still suspended.
    pub until: Option<DateTime<Utc>>,
    pub reason: String,
    /// Working minutes paused, set on resuming; the handling deadline moved by exactly this.
    pub paused_minutes: Option<i64>,
}

/// What an extension asks for: more time on top of the current deadline, or a new deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExtendBy {
    Limit { limit: Limit },
    Until { deadline: DateTime<Utc> },
}

/// The kinds of request that wait for someone's approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    Return,
    Extension,
    Suspension,
    Cancel,
    SelfHandling,
}

impl RequestKind {
    pub fn label(self, lang: Lang) -> &'static str {
        let (zh, en) = match self {
            RequestKind::Return => ("回退申请", "return request"),
            RequestKind::Extension => ("延期申请", "extension request"),
            RequestKind::Suspension => ("挂账申请", "suspension request"),
            RequestKind::Cancel => ("作废申请", "cancellation request"),
            RequestKind::SelfHandling => ("自处置审核", "self-handling review"),
        };
        lang.pick(zh, en)
    }

    /// The states in which a request of this kind can stand; a transition to any other state
    /// withdraws it (a return request means nothing once the case is reported back).
    pub fn valid_in(self, state: State) -> bool {
        match self {
            RequestKind::Return => matches!(state, State::Dispatched | State::Handling),
            RequestKind::Extension | RequestKind::Suspension => state == State::Handling,
            RequestKind::Cancel => state.is_open(),
            RequestKind::SelfHandling => state == State::Reported,
        }
    }
}

/// A request waiting for a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub kind: RequestKind,
    pub by: String,
    pub at: DateTime<Utc>,
    /// The reason, or for self-handling the note on what was done.
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extend_by: Option<ExtendBy>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub photos: Vec<String>,
}

/// One department summoned by a whistle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summons {
    pub department: DepartmentCode,
    pub arrived_at: Option<DateTime<Utc>>,
}

/// 吹哨: a street or community summons departments, each to report in by a deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Whistle {
    pub blown_by: String,
    pub blown_at: DateTime<Utc>,
    pub report_in_by: DateTime<Utc>,
    pub summons: Vec<Summons>,
}

/// 督办 level, ordered: a later order may only keep or raise the level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SupervisionLevel {
    Normal,
    Yellow,
    Red,
}

impl SupervisionLevel {
    pub fn label(self, lang: Lang) -> &'static str {
        let (zh, en) = match self {
            SupervisionLevel::Normal => ("一般督办", "normal"),
            SupervisionLevel::Yellow => ("黄牌督办", "yellow"),
            SupervisionLevel::Red => ("红牌督办", "red"),
        };
        lang.pick(zh, en)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupervisionOrder {
    pub level: SupervisionLevel,
    pub reason: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Satisfaction {
    Satisfied,
    BasicallySatisfied,
    NotSatisfied,
}

impl Satisfaction {
    pub const ALL: [Satisfaction; 3] = [
        Satisfaction::Satisfied,
        Satisfaction::BasicallySatisfied,
        Satisfaction::NotSatisfied,
    ];

    /// As forms send it and the store keeps it (the serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            Satisfaction::Satisfied => "satisfied",
            Satisfaction::BasicallySatisfied => "basically_satisfied",
            Satisfaction::NotSatisfied => "not_satisfied",
        }
    }

    pub fn parse(s: &str) -> Option<Satisfaction> {
        Satisfaction::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn label(self, lang: crate::Lang) -> &'static str {
        match self {
            Satisfaction::Satisfied => lang.pick("满意", "satisfied"),
            Satisfaction::BasicallySatisfied => lang.pick("基本满意", "basically satisfied"),
            Satisfaction::NotSatisfied => lang.pick("不满意", "dissatisfied"),
        }
    }
}

/// 回访: the reporter's answer after closing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    pub contacted: bool,
    pub solved: Option<bool>,
    pub satisfaction: Option<Satisfaction>,
    pub by: String,
    pub at: DateTime<Utc>,
}

impl FollowUp {
    /// The reporter was reached and said it is not solved or not satisfied: grounds to reopen.
    pub fn unsettled(&self) -> bool {
        self.contacted && (self.solved == Some(false) || self.satisfaction == Some(Satisfaction::NotSatisfied))
    }
}

/// The machine's view of a case. The store keeps it as JSON beside indexed columns (number, state,
/// outcome, node, matter, lead handler, supervision, next deadline, revision).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub number: CaseNumber,
    /// Bumped by every applied action: the store updates `WHERE revision = old` so two concurrent
    /// actions cannot both apply to the same version.
    pub revision: u32,
    pub state: State,
    /// Where the case is: a grid code, or a community code when no grid is known.
    pub node: TerritoryCode,
    /// The matter's type code (routing is elsewhere).
    pub matter: String,
    pub reported_at: DateTime<Utc>,
    pub limits: CaseLimits,
    pub lead: Option<UnitRef>,
    pub co_handlers: Vec<UnitRef>,
    pub deadlines: Deadlines,
    pub dispatched_at: Option<DateTime<Utc>>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// When the current handling round began (acknowledge, rework or reopen): automatic
    /// supervision counts handling time from here.
    pub handling_since: Option<DateTime<Utc>>,
    pub rework_count: u32,
    pub return_count: u32,
    pub extension_count: u32,
    pub suspensions: Vec<SuspensionPeriod>,
    pub pending: Vec<Request>,
    pub whistles: Vec<Whistle>,
    pub supervision: Option<SupervisionLevel>,
    pub supervision_history: Vec<SupervisionOrder>,
    pub follow_up: Option<FollowUp>,
    pub closed_at: Option<DateTime<Utc>>,
    pub reopen_count: u32,
    pub merged_into: Option<CaseNumber>,
    /// The resident who reported it (`resident:ID`, channel resident), who may rate it: the
    /// reporter's own follow-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resident: Option<String>,
}

impl Case {
    /// A newly reported case, with the limits routing proposed at intake.
    pub fn new(
        number: CaseNumber,
        node: TerritoryCode,
        matter: impl Into<String>,
        reported_at: DateTime<Utc>,
        limits: CaseLimits,
    ) -> Case {
        Case {
            number,
            revision: 0,
            state: State::Reported,
            node,
            matter: matter.into(),
            reported_at,
            limits,
            lead: None,
            co_handlers: Vec::new(),
            deadlines: Deadlines::default(),
            dispatched_at: None,
            acknowledged_at: None,
            handling_since: None,
            rework_count: 0,
            return_count: 0,
            extension_count: 0,
            suspensions: Vec::new(),
            pending: Vec::new(),
            whistles: Vec::new(),
            supervision: None,
            supervision_history: Vec::new(),
            follow_up: None,
            closed_at: None,
            reopen_count: 0,
            merged_into: None,
            resident: None,
        }
    }

    pub fn outcome(&self) -> Outcome {
        self.state.outcome()
    }

    pub fn stage(&self) -> Stage {
        self.state.stage()
    }

    pub fn pending_request(&self, kind: RequestKind) -> Option<&Request> {
        self.pending.iter().find(|r| r.kind == kind)
    }

    /// The suspension now in force, if the case is suspended.
    pub fn open_suspension(&self) -> Option<&SuspensionPeriod> {
        self.suspensions.iter().rev().find(|s| s.until.is_none())
    }

    /// Departments summoned and not yet reported in.
    pub fn awaited_departments(&self) -> impl Iterator<Item = (&Whistle, &Summons)> {
        self.whistles
            .iter()
            .flat_map(|w| w.summons.iter().map(move |s| (w, s)))
            .filter(|(_, s)| s.arrived_at.is_none())
    }
}
