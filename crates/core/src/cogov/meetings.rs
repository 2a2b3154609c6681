//! Joint meetings that decide and follow through (党建联席会议): the bodies that hold them (the
//! street's 大工委, the community's 大党委 …) with their seats, the agenda items (议题) raised to
//! them, the meetings that discuss and decide them. The rules here are pure: what each record
//! must hold and how agenda items and meetings move.
//!
//! ```text
//! agenda item: raised ──vet──▶ vetted ──schedule──▶ scheduled ──discuss──▶ discussed
//!                └──reject (reason)──▶ rejected        ──decide──▶ decided ──assign──▶ assigned ──complete──▶ done
//! meeting:     convened ──hold (attendance)──▶ held ──close (minutes)──▶ closed
//! ```
//!
//! An item is scheduled when a meeting is convened with it on the agenda, discussed when that
//! meeting is held, decided when the meeting records its decision, assigned when the decision's
//! cases are in the loop (one case per unit, channel `meeting`) and done when all of them are
//! closed. The kinds of body and the roles of seats are data: `data/qitaihe/joint-meetings.toml`,
//! read by [`MeetingRules`].

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Deserialize;

use super::DraftProblem;
use crate::Lang;
use crate::territory::{Level, TerritoryCode};

pub const NAME_MAX: usize = 100;
pub const TITLE_MAX: usize = 100;
pub const TEXT_MAX: usize = 5000;
pub const REASON_MAX: usize = 500;

fn problem(field: &'static str, zh: impl Into<String>, en: impl Into<String>) -> DraftProblem {
    DraftProblem {
        field,
        zh: zh.into(),
        en: en.into(),
    }
}

/// A required text of at most `max` characters, trimmed.
fn text(field: &'static str, zh_name: &str, value: &str, max: usize) -> Result<String, DraftProblem> {
    let value = value.trim();
    if value.is_empty() {
        return Err(problem(
            field,
            format!("{zh_name} {field} 不能为空"),
            format!("{field} is required"),
        ));
    }
    if value.chars().count() > max {
        return Err(problem(
            field,
            format!("{zh_name} {field} 不能超过 {max} 字"),
            format!("{field} must be at most {max} characters"),
        ));
    }
    Ok(value.to_string())
}

/// A kind of body (大工委, 大党委, 联席会议 …) and the levels of node that may have one.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BodyKind {
    pub code: String,
    pub zh: String,
    pub en: String,
    pub levels: Vec<String>,
}

/// A role a seat holds (兼职委员 …).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SeatRole {
    pub code: String,
    pub zh: String,
    pub en: String,
}

impl BodyKind {
    pub fn label(&self, lang: Lang) -> &str {
        lang.pick(&self.zh, &self.en)
    }
}

impl SeatRole {
    pub fn label(&self, lang: Lang) -> &str {
        lang.pick(&self.zh, &self.en)
    }
}

/// The city's kinds of body and roles of seats.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MeetingRules {
    pub body_kinds: Vec<BodyKind>,
    pub seat_roles: Vec<SeatRole>,
}

/// What is wrong with a settings file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("joint-meetings.toml: {0}")]
pub struct MeetingRulesError(pub String);

impl MeetingRules {
    pub fn from_toml(text: &str) -> Result<MeetingRules, MeetingRulesError> {
        let rules: MeetingRules =
            toml::from_str(text).map_err(|e| MeetingRulesError(e.to_string().trim_end().into()))?;
        if rules.body_kinds.is_empty() || rules.seat_roles.is_empty() {
            return Err(MeetingRulesError(
                "body_kinds and seat_roles must each list one at least".into(),
            ));
        }
        for (i, k) in rules.body_kinds.iter().enumerate() {
            if k.code.trim().is_empty() || k.zh.trim().is_empty() || k.en.trim().is_empty() {
                return Err(MeetingRulesError(format!("body kind {} needs code, zh and en", i + 1)));
            }
            if rules.body_kinds[..i].iter().any(|o| o.code == k.code) {
                return Err(MeetingRulesError(format!("body kind {} is listed twice", k.code)));
            }
            if k.levels.is_empty() || k.levels.iter().any(|l| level(l).is_none_or(|l| l == Level::Grid)) {
                return Err(MeetingRulesError(format!(
                    "body kind {}: levels are city, district, street or community",
                    k.code
                )));
            }
        }
        for (i, r) in rules.seat_roles.iter().enumerate() {
            if r.code.trim().is_empty() || r.zh.trim().is_empty() || r.en.trim().is_empty() {
                return Err(MeetingRulesError(format!("seat role {} needs code, zh and en", i + 1)));
            }
            if rules.seat_roles[..i].iter().any(|o| o.code == r.code) {
                return Err(MeetingRulesError(format!("seat role {} is listed twice", r.code)));
            }
        }
        Ok(rules)
    }

    /// The Qitaihe demo city's settings, as shipped in data/.
    pub fn qitaihe() -> Result<MeetingRules, MeetingRulesError> {
        MeetingRules::from_toml(include_str!("../../../../data/qitaihe/joint-meetings.toml"))
    }

    pub fn body_kind(&self, code: &str) -> Option<&BodyKind> {
        self.body_kinds.iter().find(|k| k.code == code)
    }

    pub fn seat_role(&self, code: &str) -> Option<&SeatRole> {
        self.seat_roles.iter().find(|k| k.code == code)
    }
}

fn level(text: &str) -> Option<Level> {
    Level::ALL.into_iter().find(|l| l.as_str() == text)
}

/// A body as staff typed it, checked: its kind, the node it is of and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyDraft {
    pub kind: String,
    pub node: TerritoryCode,
    pub name: String,
}

impl BodyDraft {
    pub fn check(rules: &MeetingRules, kind: &str, node: &str, name: &str) -> Result<BodyDraft, DraftProblem> {
        let kind = rules.body_kind(kind.trim()).ok_or_else(|| {
            let all = rules
                .body_kinds
                .iter()
                .map(|k| k.code.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            problem(
                "kind",
                format!("机构类型 kind 须为 {all} 之一"),
                format!("kind must be one of {all}"),
            )
        })?;
        let node = TerritoryCode::parse(node.trim()).map_err(|_| {
            problem(
                "node",
                "所属区划 node 须为12位区划代码",
                "node must be a 12-digit division code",
            )
        })?;
        let at = node.level();
        if !kind.levels.iter().any(|l| level(l) == Some(at)) {
            return Err(problem(
                "node",
                format!("{}不能设在{}一级", kind.zh, at.label(Lang::Zh)),
                format!("a {} is not held at the level {}", kind.en, at.as_str()),
            ));
        }
        let name = text("name", "名称", name, NAME_MAX)?;
        Ok(BodyDraft {
            kind: kind.code.clone(),
            node,
            name,
        })
    }
}

/// What kind of organization a seat is held for: a kind of the registry, referenced by its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatOrgKind {
    /// 派驻机构 (城管、市场监管、司法、派出所 …).
    PostedOffice,
    /// 辖区单位.
    MemberOrganization,
    /// 物业公司.
    PropertyCompany,
    /// 业委会.
    OwnersCommittee,
    /// 党组织.
    PartyOrganization,
}

impl SeatOrgKind {
    pub const ALL: [SeatOrgKind; 5] = [
        SeatOrgKind::PostedOffice,
        SeatOrgKind::MemberOrganization,
        SeatOrgKind::PropertyCompany,
        SeatOrgKind::OwnersCommittee,
        SeatOrgKind::PartyOrganization,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SeatOrgKind::PostedOffice => "posted_office",
            SeatOrgKind::MemberOrganization => "member_organization",
            SeatOrgKind::PropertyCompany => "property_company",
            SeatOrgKind::OwnersCommittee => "owners_committee",
            SeatOrgKind::PartyOrganization => "party_organization",
        }
    }

    pub fn parse(s: &str) -> Option<SeatOrgKind> {
        SeatOrgKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            SeatOrgKind::PostedOffice => lang.pick("派驻机构", "posted office"),
            SeatOrgKind::MemberOrganization => lang.pick("辖区单位", "member organization"),
            SeatOrgKind::PropertyCompany => lang.pick("物业公司", "property company"),
            SeatOrgKind::OwnersCommittee => lang.pick("业委会", "owners' committee"),
            SeatOrgKind::PartyOrganization => lang.pick("党组织", "party organization"),
        }
    }
}

/// A seat as staff typed it, checked: who holds it, for which organization, in which role, for
/// which term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatDraft {
    pub person: String,
    pub org_kind: SeatOrgKind,
    pub org_id: i64,
    pub role: String,
    pub term_from: NaiveDate,
    pub term_to: Option<NaiveDate>,
}

fn date(field: &'static str, zh_name: &str, value: &str) -> Result<NaiveDate, DraftProblem> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| {
        problem(
            field,
            format!("{zh_name} {field} 须为日期 YYYY-MM-DD"),
            format!("{field} must be a date YYYY-MM-DD"),
        )
    })
}

impl SeatDraft {
    pub fn check(
        rules: &MeetingRules,
        person: &str,
        org_kind: &str,
        org_id: &str,
        role: &str,
        term_from: &str,
        term_to: &str,
    ) -> Result<SeatDraft, DraftProblem> {
        let person = text("person", "委员姓名", person, NAME_MAX)?;
        let org_kind = SeatOrgKind::parse(org_kind.trim()).ok_or_else(|| {
            let all = SeatOrgKind::ALL.map(|k| k.as_str()).join(", ");
            problem(
                "org_kind",
                format!("所在单位类型 org_kind 须为 {all} 之一"),
                format!("org_kind must be one of {all}"),
            )
        })?;
        let org_id = org_id
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| problem("org_id", "所在单位 org_id 须为编号", "org_id must be an id"))?;
        let role = rules.seat_role(role.trim()).ok_or_else(|| {
            let all = rules
                .seat_roles
                .iter()
                .map(|k| k.code.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            problem(
                "role",
                format!("职务 role 须为 {all} 之一"),
                format!("role must be one of {all}"),
            )
        })?;
        let term_from = date("term_from", "任期开始", term_from)?;
        let term_to = if term_to.trim().is_empty() {
            None
        } else {
            let to = date("term_to", "任期结束", term_to)?;
            if to < term_from {
                return Err(problem(
                    "term_to",
                    "任期结束 term_to 不能早于任期开始",
                    "term_to must not be before term_from",
                ));
            }
            Some(to)
        };
        Ok(SeatDraft {
            person,
            org_kind,
            org_id,
            role: role.code.clone(),
            term_from,
            term_to,
        })
    }
}

/// Where an agenda item comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgendaSource {
    /// A case the street or community cannot solve alone (its case id is kept).
    Case,
    /// A resident's need (居民点单) or a resident's wish.
    ResidentNeed,
    MemberOrganization,
    /// A part-time member (兼职委员) of the body.
    PartTimeMember,
    Survey,
    Other,
}

impl AgendaSource {
    pub const ALL: [AgendaSource; 6] = [
        AgendaSource::Case,
        AgendaSource::ResidentNeed,
        AgendaSource::MemberOrganization,
        AgendaSource::PartTimeMember,
        AgendaSource::Survey,
        AgendaSource::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AgendaSource::Case => "case",
            AgendaSource::ResidentNeed => "resident_need",
            AgendaSource::MemberOrganization => "member_organization",
            AgendaSource::PartTimeMember => "part_time_member",
            AgendaSource::Survey => "survey",
            AgendaSource::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<AgendaSource> {
        AgendaSource::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            AgendaSource::Case => lang.pick("案件（街道社区难以单独解决）", "a case"),
            AgendaSource::ResidentNeed => lang.pick("居民诉求", "a resident's need"),
            AgendaSource::MemberOrganization => lang.pick("辖区单位", "a member organization"),
            AgendaSource::PartTimeMember => lang.pick("兼职委员", "a part-time member"),
            AgendaSource::Survey => lang.pick("问卷调查", "a survey"),
            AgendaSource::Other => lang.pick("其他", "other"),
        }
    }
}

/// An agenda item as raised, checked. `source_ref` is the source record as typed (a case's id
/// or 13-digit number, a need's id …): required for a case, optional otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemDraft {
    pub title: String,
    pub description: String,
    pub source: AgendaSource,
    pub source_ref: Option<String>,
}

impl ItemDraft {
    pub fn check(title: &str, description: &str, source: &str, source_ref: &str) -> Result<ItemDraft, DraftProblem> {
        let title = text("title", "议题", title, TITLE_MAX)?;
        let description = text("description", "议题说明", description, TEXT_MAX)?;
        let source = AgendaSource::parse(source.trim()).ok_or_else(|| {
            let all = AgendaSource::ALL.map(|k| k.as_str()).join(", ");
            problem(
                "source",
                format!("议题来源 source 须为 {all} 之一"),
                format!("source must be one of {all}"),
            )
        })?;
        let source_ref = source_ref.trim();
        if source_ref.chars().count() > 50 {
            return Err(problem(
                "source_ref",
                "来源记录 source_ref 不能超过 50 字",
                "source_ref must be at most 50 characters",
            ));
        }
        if source == AgendaSource::Case && source_ref.is_empty() {
            return Err(problem(
                "source_ref",
                "来源为案件时须填写案件编号（source_ref）",
                "an item raised from a case names the case (source_ref)",
            ));
        }
        Ok(ItemDraft {
            title,
            description,
            source,
            source_ref: (!source_ref.is_empty()).then(|| source_ref.to_string()),
        })
    }
}

/// Where an agenda item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgendaState {
    Raised,
    Vetted,
    Rejected,
    Scheduled,
    Discussed,
    Decided,
    Assigned,
    Done,
}

impl AgendaState {
    pub const ALL: [AgendaState; 8] = [
        AgendaState::Raised,
        AgendaState::Vetted,
        AgendaState::Rejected,
        AgendaState::Scheduled,
        AgendaState::Discussed,
        AgendaState::Decided,
        AgendaState::Assigned,
        AgendaState::Done,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AgendaState::Raised => "raised",
            AgendaState::Vetted => "vetted",
            AgendaState::Rejected => "rejected",
            AgendaState::Scheduled => "scheduled",
            AgendaState::Discussed => "discussed",
            AgendaState::Decided => "decided",
            AgendaState::Assigned => "assigned",
            AgendaState::Done => "done",
        }
    }

    pub fn parse(s: &str) -> Option<AgendaState> {
        AgendaState::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            AgendaState::Raised => lang.pick("已提出", "raised"),
            AgendaState::Vetted => lang.pick("已审核", "vetted"),
            AgendaState::Rejected => lang.pick("未通过审核", "rejected"),
            AgendaState::Scheduled => lang.pick("已列入会议", "scheduled"),
            AgendaState::Discussed => lang.pick("已讨论", "discussed"),
            AgendaState::Decided => lang.pick("已决定", "decided"),
            AgendaState::Assigned => lang.pick("已交办", "assigned"),
            AgendaState::Done => lang.pick("已办结", "done"),
        }
    }

    /// The steps of the journey a resident or staff reads, in order (a rejected item stops).
    pub const JOURNEY: [AgendaState; 5] = [
        AgendaState::Raised,
        AgendaState::Discussed,
        AgendaState::Decided,
        AgendaState::Assigned,
        AgendaState::Done,
    ];

    /// The steps staff may take by hand from here (the forms a page offers); the others follow
    /// from the meeting and the cases.
    pub fn steps(self) -> &'static [&'static str] {
        match self {
            AgendaState::Raised => &["vet", "reject"],
            _ => &[],
        }
    }

    /// The state a step leads to, or why it may not be taken.
    pub fn apply(self, step: &AgendaStep) -> Result<AgendaState, WrongState> {
        use AgendaState as S;
        use AgendaStep as T;
        match (self, step) {
            (S::Raised, T::Vet) => Ok(S::Vetted),
            (S::Raised, T::Reject { .. }) => Ok(S::Rejected),
            (S::Vetted, T::Schedule) => Ok(S::Scheduled),
            (S::Scheduled, T::Discuss) => Ok(S::Discussed),
            (S::Discussed, T::Decide) => Ok(S::Decided),
            (S::Decided, T::Assign) => Ok(S::Assigned),
            (S::Assigned, T::Complete) => Ok(S::Done),
            (from, step) => Err(WrongState {
                what: "agenda_item",
                from_zh: from.label(Lang::Zh),
                from_en: from.label(Lang::En),
                step: step.name(),
            }),
        }
    }
}

/// What moves an agenda item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgendaStep {
    /// Vetted (审核通过) by the body's staff.
    Vet,
    /// Rejected (不予列入), with the reason the proposer reads.
    Reject { reason: String },
    /// Put on a convened meeting's agenda.
    Schedule,
    /// The meeting was held.
    Discuss,
    /// The meeting decided it.
    Decide,
    /// The decision's cases are in the loop.
    Assign,
    /// All of its cases are closed.
    Complete,
}

impl AgendaStep {
    /// Reads a step staff take by hand: `vet`, or `reject` with its reason.
    pub fn parse(step: &str, reason: &str) -> Result<AgendaStep, DraftProblem> {
        match step.trim() {
            "vet" => Ok(AgendaStep::Vet),
            "reject" => Ok(AgendaStep::Reject {
                reason: text("reason", "不予列入原因", reason, REASON_MAX)?,
            }),
            other => Err(problem(
                "step",
                format!("未知操作 step：{other}（应为 vet 或 reject）"),
                format!("unknown step {other} (vet or reject)"),
            )),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            AgendaStep::Vet => "vet",
            AgendaStep::Reject { .. } => "reject",
            AgendaStep::Schedule => "schedule",
            AgendaStep::Discuss => "discuss",
            AgendaStep::Decide => "decide",
            AgendaStep::Assign => "assign",
            AgendaStep::Complete => "complete",
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            AgendaStep::Reject { reason } => Some(reason),
            _ => None,
        }
    }
}

/// A step refused from the state something is in: 409.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrongState {
    /// `agenda_item` or `meeting`.
    pub what: &'static str,
    pub from_zh: &'static str,
    pub from_en: &'static str,
    pub step: &'static str,
}

impl WrongState {
    pub fn message(&self, lang: Lang) -> String {
        let (zh, en) = match self.what {
            "meeting" => ("会议", "the meeting"),
            _ => ("议题", "the agenda item"),
        };
        match lang {
            Lang::Zh => format!("{zh}当前为“{}”，不能进行此操作（{}）", self.from_zh, self.step),
            Lang::En => format!("{en} is {}; it cannot take the step {}", self.from_en, self.step),
        }
    }
}

/// Where a meeting stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeetingState {
    /// 已召集: date, place and agenda set.
    Convened,
    /// 已召开: attendance taken; decisions are recorded now.
    Held,
    /// 已结束: minutes kept, nothing more changes.
    Closed,
}

impl MeetingState {
    pub const ALL: [MeetingState; 3] = [MeetingState::Convened, MeetingState::Held, MeetingState::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            MeetingState::Convened => "convened",
            MeetingState::Held => "held",
            MeetingState::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<MeetingState> {
        MeetingState::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            MeetingState::Convened => lang.pick("已召集", "convened"),
            MeetingState::Held => lang.pick("已召开", "held"),
            MeetingState::Closed => lang.pick("已结束", "closed"),
        }
    }

    /// The state `step` (`hold`, `decide`, `close`) leads to.
    pub fn apply(self, step: &'static str) -> Result<MeetingState, WrongState> {
        match (self, step) {
            (MeetingState::Convened, "hold") => Ok(MeetingState::Held),
            (MeetingState::Held, "decide") => Ok(MeetingState::Held),
            (MeetingState::Held, "close") => Ok(MeetingState::Closed),
            (from, step) => Err(WrongState {
                what: "meeting",
                from_zh: from.label(Lang::Zh),
                from_en: from.label(Lang::En),
                step,
            }),
        }
    }
}

/// A meeting as convened, checked: its title, when (city time, `YYYY-MM-DDTHH:MM` or
/// `YYYY-MM-DD HH:MM`) and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingDraft {
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub place: String,
}

impl MeetingDraft {
    pub fn check(title: &str, starts_at: &str, place: &str) -> Result<MeetingDraft, DraftProblem> {
        let title = text("title", "会议名称", title, TITLE_MAX)?;
        let raw = starts_at.trim().replace(' ', "T");
        let local = NaiveDateTime::parse_from_str(&raw, "%Y-%m-%dT%H:%M")
            .or_else(|_| NaiveDateTime::parse_from_str(&raw, "%Y-%m-%dT%H:%M:%S"))
            .map_err(|_| {
                problem(
                    "starts_at",
                    "会议时间 starts_at 须为 YYYY-MM-DD HH:MM",
                    "starts_at must be YYYY-MM-DD HH:MM",
                )
            })?;
        let place = text("place", "会议地点", place, NAME_MAX)?;
        Ok(MeetingDraft {
            title,
            starts_at: crate::time::city_instant(local),
            place,
        })
    }
}

/// A decision's words and its due date (the end of that day, city time), checked; its units
/// are checked against the rules and the territory by the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionDraft {
    pub text: String,
    pub due: NaiveDate,
}

impl DecisionDraft {
    pub fn check(text_: &str, due: &str, today: NaiveDate) -> Result<DecisionDraft, DraftProblem> {
        let text_ = text("text", "决定事项", text_, TEXT_MAX)?;
        let due = date("due", "办结期限", due)?;
        if due <= today {
            return Err(problem("due", "办结期限 due 须晚于今天", "due must be after today"));
        }
        Ok(DecisionDraft { text: text_, due })
    }

    /// Natural days from `today` to the due date: the handling limit of its cases.
    pub fn days(&self, today: NaiveDate) -> u32 {
        u32::try_from((self.due - today).num_days().max(1)).unwrap_or(u32::MAX)
    }
}

/// Minutes as typed when a meeting closes.
pub fn minutes(value: &str) -> Result<String, DraftProblem> {
    text("minutes", "会议纪要", value, TEXT_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> MeetingRules {
        MeetingRules::qitaihe().unwrap()
    }

    #[test]
    fn the_shipped_settings_load_and_bad_ones_are_named() {
        let r = rules();
        assert_eq!(r.body_kind("street_working_committee").unwrap().zh, "街道大工委");
        assert_eq!(r.seat_role("part_time_member").unwrap().zh, "兼职委员");
        let bad =
            "[[body_kinds]]\ncode='a'\nzh='甲'\nen='A'\nlevels=['grid']\n[[seat_roles]]\ncode='b'\nzh='乙'\nen='B'";
        assert!(MeetingRules::from_toml(bad).unwrap_err().0.contains("levels"));
    }

    #[test]
    fn a_body_and_a_seat_name_their_bad_field() {
        let r = rules();
        let street = "230903011000";
        let community = "230903011001";
        assert_eq!(BodyDraft::check(&r, "x", street, "n").unwrap_err().field, "kind");
        assert_eq!(
            BodyDraft::check(&r, "street_working_committee", community, "n")
                .unwrap_err()
                .field,
            "node"
        );
        assert_eq!(
            BodyDraft::check(&r, "street_working_committee", "12", "n")
                .unwrap_err()
                .field,
            "node"
        );
        assert_eq!(
            BodyDraft::check(&r, "joint_meeting", street, " ").unwrap_err().field,
            "name"
        );
        let ok = BodyDraft::check(&r, "community_party_committee", community, " 学府社区大党委 ").unwrap();
        assert_eq!(ok.name, "学府社区大党委");
        let seat = |p, k, i, role, f, t| SeatDraft::check(&r, p, k, i, role, f, t);
        assert_eq!(
            seat("", "posted_office", "1", "member", "2026-01-01", "")
                .unwrap_err()
                .field,
            "person"
        );
        assert_eq!(
            seat("王", "bank", "1", "member", "2026-01-01", "").unwrap_err().field,
            "org_kind"
        );
        assert_eq!(
            seat("王", "posted_office", "x", "member", "2026-01-01", "")
                .unwrap_err()
                .field,
            "org_id"
        );
        assert_eq!(
            seat("王", "posted_office", "1", "boss", "2026-01-01", "")
                .unwrap_err()
                .field,
            "role"
        );
        assert_eq!(
            seat("王", "posted_office", "1", "member", "1/1", "").unwrap_err().field,
            "term_from"
        );
        assert_eq!(
            seat("王", "posted_office", "1", "member", "2026-01-01", "2025-01-01")
                .unwrap_err()
                .field,
            "term_to"
        );
        let ok = seat(
            "王",
            "owners_committee",
            "3",
            "part_time_member",
            "2026-01-01",
            "2028-12-31",
        )
        .unwrap();
        assert_eq!(ok.org_kind, SeatOrgKind::OwnersCommittee);
    }

    #[test]
    fn an_item_goes_raised_to_done_only_forward() {
        assert_eq!(ItemDraft::check("t", "d", "case", "").unwrap_err().field, "source_ref");
        assert_eq!(ItemDraft::check("t", "d", "rumour", "").unwrap_err().field, "source");
        assert_eq!(ItemDraft::check(" ", "d", "other", "").unwrap_err().field, "title");
        assert!(ItemDraft::check("t", "d", "other", "").unwrap().source_ref.is_none());
        let mut s = AgendaState::Raised;
        for step in [
            AgendaStep::Vet,
            AgendaStep::Schedule,
            AgendaStep::Discuss,
            AgendaStep::Decide,
            AgendaStep::Assign,
            AgendaStep::Complete,
        ] {
            assert!(AgendaState::Raised.apply(&AgendaStep::Complete).is_err());
            s = s.apply(&step).unwrap();
        }
        assert_eq!(s, AgendaState::Done);
        let e = AgendaState::Rejected.apply(&AgendaStep::Vet).unwrap_err();
        assert!(e.message(Lang::Zh).contains("未通过审核"));
        assert_eq!(AgendaStep::parse("reject", " ").unwrap_err().field, "reason");
        assert_eq!(AgendaStep::parse("hold", "").unwrap_err().field, "step");
        for st in AgendaState::ALL {
            assert_eq!(AgendaState::parse(st.as_str()), Some(st));
            for name in st.steps() {
                assert!(st.apply(&AgendaStep::parse(name, "x").unwrap()).is_ok());
            }
        }
    }

    #[test]
    fn a_meeting_is_held_then_closed_and_its_decisions_are_due_later() {
        assert_eq!(MeetingState::Convened.apply("hold"), Ok(MeetingState::Held));
        assert!(MeetingState::Convened.apply("decide").is_err());
        assert!(MeetingState::Closed.apply("close").is_err());
        let m = MeetingDraft::check("第一次联席会议", "2026-12-08 09:30", "街道会议室").unwrap();
        assert_eq!(m.starts_at.to_rfc3339(), "2026-12-08T01:30:00+00:00");
        assert_eq!(
            MeetingDraft::check("t", "tomorrow", "p").unwrap_err().field,
            "starts_at"
        );
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        assert_eq!(DecisionDraft::check("d", "2026-12-07", today).unwrap_err().field, "due");
        assert_eq!(DecisionDraft::check("d", "2026-12-17", today).unwrap().days(today), 10);
        assert_eq!(minutes(" ").unwrap_err().field, "minutes");
    }
}
