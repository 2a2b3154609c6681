//! The case loop's policy as data (data/<city>/case-policy.toml): reopen window, whistle report-in
//! limit, default step limits, automatic supervision thresholds, which staff roles report under
//! which channel.

use std::collections::BTreeMap;

use crate::ErrorCode;
use serde::Deserialize;
use thiserror::Error;

use crate::cases::Limit;
use crate::cases::intake::Channel;
use crate::i18n::{Lang, Localized};
use crate::people::Role;

/// Everything about the loop that a city may set differently.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowPolicy {
    /// A closed case may be reopened within this many natural days of closing; 0 disables reopening.
    pub reopen_window_days: u32,
    /// A summoned department reports in within this many minutes of wall time: a whistle is an
    /// on-site call ("arrive within 30 minutes", cn-governance §6.5), not office time.
    pub whistle_report_in_minutes: Positive,
    /// Whether a report back must carry photos.
    pub report_back_needs_photos: bool,
    /// Used for any limit routing did not give.
    pub default_limits: DefaultLimits,
    pub supervision: SupervisionThresholds,
    /// Which staff roles report under which channel (`[intake]`).
    pub intake: ChannelRoles,
}

/// Which working roles report under each channel (受理渠道): a member of staff reports only
/// under a channel one of their roles is listed for, within that role's territory. A channel
/// listed for no role is used by no member of staff (the residents' own door uses `resident`,
/// integrations' keys `open311`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "BTreeMap<String, Vec<Role>>")]
pub struct ChannelRoles(Vec<(Channel, Vec<Role>)>);

impl ChannelRoles {
    /// The roles that report under `channel`.
    pub fn roles(&self, channel: Channel) -> &[Role] {
        self.0
            .iter()
            .find(|(c, _)| *c == channel)
            .map_or(&[], |(_, roles)| roles.as_slice())
    }

    /// The channels one of `roles` reports under, in the order of [`Channel::ALL`].
    pub fn channels_for(&self, roles: &[Role]) -> Vec<Channel> {
        Channel::ALL
            .into_iter()
            .filter(|c| self.roles(*c).iter().any(|r| roles.contains(r)))
            .collect()
    }
}

impl TryFrom<BTreeMap<String, Vec<Role>>> for ChannelRoles {
    type Error = &'static str;
    fn try_from(map: BTreeMap<String, Vec<Role>>) -> Result<Self, Self::Error> {
        let mut out = Vec::new();
        for (name, roles) in map {
            let channel: Channel = name.parse().map_err(|_| Rule::UnknownChannel.key())?;
            if roles.iter().any(|r| !Role::WORKING.contains(r)) {
                return Err(Rule::NotAWorkingRole.key());
            }
            out.push((channel, roles));
        }
        Ok(ChannelRoles(out))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "u32")]
pub struct Positive(u32);

impl Positive {
    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for Positive {
    type Error = &'static str;
    fn try_from(v: u32) -> Result<Self, Self::Error> {
        if v == 0 {
            Err(Rule::NotPositive.key())
        } else {
            Ok(Positive(v))
        }
    }
}

/// A limit of at least one unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "Limit")]
pub struct PositiveLimit(Limit);

impl PositiveLimit {
    pub fn get(self) -> Limit {
        self.0
    }
}

impl TryFrom<Limit> for PositiveLimit {
    type Error = &'static str;
    fn try_from(l: Limit) -> Result<Self, Self::Error> {
        if l.amount == 0 {
            Err(Rule::NotPositive.key())
        } else {
            Ok(PositiveLimit(l))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultLimits {
    pub response: PositiveLimit,
    pub handling: PositiveLimit,
    pub verification: PositiveLimit,
}

/// Tianque's two tables (cn-governance §1.5): administrative units (streets, communities, grid
/// workers) and functional departments are held to different thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupervisionThresholds {
    pub administrative: PhaseThresholds,
    pub department: PhaseThresholds,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseThresholds {
    /// Dispatched and not acknowledged, counted from dispatch.
    pub acceptance: Escalation,
    /// Acknowledged and not reported back, counted from the start of the handling round, with
    /// suspended time left out.
    pub handling: Escalation,
}

/// A yellow order after `yellow`, a red one after `red`; both in one unit, red strictly later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawEscalation")]
pub struct Escalation {
    pub yellow: Limit,
    pub red: Limit,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEscalation {
    yellow: PositiveLimit,
    red: PositiveLimit,
}

impl TryFrom<RawEscalation> for Escalation {
    type Error = &'static str;
    fn try_from(r: RawEscalation) -> Result<Self, Self::Error> {
        let (yellow, red) = (r.yellow.get(), r.red.get());
        // Limits in different units cannot be compared without a calendar.
        if yellow.unit != red.unit {
            return Err(Rule::MixedUnits.key());
        }
        if red.amount <= yellow.amount {
            return Err(Rule::RedNotAfterYellow.key());
        }
        Ok(Escalation { yellow, red })
    }
}

/// Rules a policy file can break beyond its syntax; the key travels through serde's error text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    NotPositive,
    MixedUnits,
    RedNotAfterYellow,
    UnknownChannel,
    NotAWorkingRole,
}

impl Rule {
    const ALL: [Rule; 5] = [
        Rule::NotPositive,
        Rule::MixedUnits,
        Rule::RedNotAfterYellow,
        Rule::UnknownChannel,
        Rule::NotAWorkingRole,
    ];

    fn key(self) -> &'static str {
        match self {
            Rule::NotPositive => "policy-rule:not_positive",
            Rule::MixedUnits => "policy-rule:mixed_units",
            Rule::RedNotAfterYellow => "policy-rule:red_not_after_yellow",
            Rule::UnknownChannel => "policy-rule:unknown_channel",
            Rule::NotAWorkingRole => "policy-rule:not_a_working_role",
        }
    }

    fn text(self, lang: Lang) -> &'static str {
        match self {
            Rule::NotPositive => lang.pick("数值须大于零", "the value must be greater than zero"),
            Rule::MixedUnits => lang.pick(
                "黄牌与红牌时限须使用同一时间单位",
                "yellow and red must use the same unit",
            ),
            Rule::RedNotAfterYellow => lang.pick("红牌时限须长于黄牌时限", "red must come after yellow"),
            Rule::UnknownChannel => lang.pick(
                "未知的上报渠道（应为 patrol、resident、hotline、open311、video、meeting、property、feed 之一）",
                "unknown channel (one of patrol, resident, hotline, open311, video, meeting, property, feed)",
            ),
            Rule::NotAWorkingRole => lang.pick(
                "只能列出办理案件的工作角色（不含三员与个人信息导出员）",
                "only working roles may be listed (not the administrators nor the personal-data exporter)",
            ),
        }
    }
}

/// A policy file that does not load: the file, line and column (1-based) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{file}:{line}:{column}: {}", self.problem_text(Lang::En))]
pub struct PolicyError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub problem: PolicyProblem,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyProblem {
    Rule(Rule),
    /// Syntax, a missing or unknown key, a wrong type: the TOML parser's own words.
    Toml(String),
}

impl PolicyError {
    fn problem_text(&self, lang: Lang) -> String {
        match &self.problem {
            PolicyProblem::Rule(r) => r.text(lang).to_string(),
            PolicyProblem::Toml(m) => m.clone(),
        }
    }
}

impl Localized for PolicyError {
    fn code(&self) -> ErrorCode {
        ErrorCode::InvalidCasePolicy
    }

    fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::Zh => format!(
                "案件流程配置文件 {} 第{}行第{}列有误：{}",
                self.file,
                self.line,
                self.column,
                self.problem_text(lang)
            ),
            Lang::En => self.to_string(),
        }
    }
}

impl FlowPolicy {
    /// Reads a policy from the text of `file` (the name is only used in errors: the caller reads).
    pub fn from_toml(file: &str, text: &str) -> Result<FlowPolicy, PolicyError> {
        toml::from_str(text).map_err(|e| {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            let (line, column) = line_column(text, offset);
            let message = e.message().trim().to_string();
            let problem = Rule::ALL
                .into_iter()
                .find(|r| message.contains(r.key()))
                .map(PolicyProblem::Rule)
                .unwrap_or(PolicyProblem::Toml(message));
            PolicyError {
                file: file.to_string(),
                line,
                column,
                problem,
            }
        })
    }

    /// The Qitaihe policy shipped in data/qitaihe/case-policy.toml.
    pub fn qitaihe() -> FlowPolicy {
        FlowPolicy::from_toml(
            "data/qitaihe/case-policy.toml",
            include_str!("../../../../../data/qitaihe/case-policy.toml"),
        )
        .expect("the shipped policy loads (tested)")
    }

    pub fn default_limit(&self, which: LimitKind) -> Limit {
        match which {
            LimitKind::Response => self.default_limits.response.get(),
            LimitKind::Handling => self.default_limits.handling.get(),
            LimitKind::Verification => self.default_limits.verification.get(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    Response,
    Handling,
    Verification,
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}
