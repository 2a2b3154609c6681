//! Residents' needs (居民点单, "orders" in the glossary): a resident posts a need of a kind from
//! the city's list; community staff take it through its states. The states and their transitions
//! are here, pure:
//!
//! ```text
//! ordered (已点单) ──list──▶ listed (已纳入需求清单) ──fulfil (note)──▶ fulfilled (已办结)
//!    └──decline (reason)──▶ declined (未采纳)   └──publish──▶ published (已发单)
//!
//! published ──take──▶ taken (已接单) ──deliver──▶ delivered (已服务) ──certify──▶ certified (社区已认证)
//!    ──the resident rates──▶ rated (居民已评价)
//! ```
//!
//! Publishing (社区发单) puts the need into the one loop as a case (channel `order`): from then on
//! the need's state is read from its case ([`OrderState::of_case`]): a member organization's
//! liaison takes it (the case is dispatched to the organization and acknowledged), delivers it
//! (reports back), the community certifies it (checks and closes), the resident rates it (the
//! case's follow-up). The clock, supervision and audit are the loop's.
//!
//! The city's settings of the palm community (the kinds of needs and the matter of the loop each
//! is, the radius of "me too") are data: `data/qitaihe/palm-community.toml`, read by [`PalmRules`].

use serde::Deserialize;

use super::DraftProblem;
use crate::Lang;
use crate::cases::flow::State;

pub const DESCRIPTION_MAX: usize = 1000;
pub const PREFERRED_TIME_MAX: usize = 100;
pub const NOTE_MAX: usize = 500;

/// A kind of need the city offers (助老, 维修 …).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NeedKind {
    pub code: String,
    pub zh: String,
    pub en: String,
    /// The matter of the taxonomy a published need of this kind is in the loop (居民点单类).
    pub matter: String,
}

impl NeedKind {
    pub fn label(&self, lang: Lang) -> &str {
        lang.pick(&self.zh, &self.en)
    }
}

/// The palm community's settings of a city.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PalmRules {
    /// "Me too": how far from the resident's location open cases are listed, in metres.
    pub nearby_radius_m: f64,
    pub need_kinds: Vec<NeedKind>,
}

/// What is wrong with a settings file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("palm-community.toml: {0}")]
pub struct PalmRulesError(pub String);

impl PalmRules {
    pub fn from_toml(text: &str) -> Result<PalmRules, PalmRulesError> {
        let rules: PalmRules = toml::from_str(text).map_err(|e| PalmRulesError(e.to_string().trim_end().into()))?;
        if rules.nearby_radius_m.is_nan() || rules.nearby_radius_m <= 0.0 {
            return Err(PalmRulesError("nearby_radius_m must be above 0".into()));
        }
        if rules.need_kinds.is_empty() {
            return Err(PalmRulesError("need_kinds must list at least one kind".into()));
        }
        for (i, k) in rules.need_kinds.iter().enumerate() {
            if k.code.trim().is_empty() || k.zh.trim().is_empty() || k.en.trim().is_empty() {
                return Err(PalmRulesError(format!("need kind {} needs code, zh and en", i + 1)));
            }
            if k.matter.len() != 5 || !k.matter.bytes().all(|b| b.is_ascii_digit()) {
                return Err(PalmRulesError(format!(
                    "need kind {}: matter {:?} is not a five-digit matter code",
                    k.code, k.matter
                )));
            }
            if rules.need_kinds[..i].iter().any(|o| o.code == k.code) {
                return Err(PalmRulesError(format!("need kind {} is listed twice", k.code)));
            }
        }
        Ok(rules)
    }

    /// The Qitaihe demo city's settings, as shipped in data/.
    pub fn qitaihe() -> Result<PalmRules, PalmRulesError> {
        PalmRules::from_toml(include_str!("../../../../data/qitaihe/palm-community.toml"))
    }

    pub fn kind(&self, code: &str) -> Option<&NeedKind> {
        self.need_kinds.iter().find(|k| k.code == code)
    }
}

/// A need as the resident typed it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderDraft {
    pub kind: String,
    pub description: String,
    pub preferred_time: Option<String>,
}

fn problem(field: &'static str, zh: impl Into<String>, en: impl Into<String>) -> DraftProblem {
    DraftProblem {
        field,
        zh: zh.into(),
        en: en.into(),
    }
}

impl OrderDraft {
    pub fn check(
        rules: &PalmRules,
        kind: &str,
        description: &str,
        preferred_time: &str,
    ) -> Result<OrderDraft, DraftProblem> {
        let kind = rules
            .kind(kind.trim())
            .ok_or_else(|| problem("kind", "请选择需求类型（kind）", "choose the kind of need (kind)"))?;
        let description = description.trim();
        if description.is_empty() {
            return Err(problem(
                "description",
                "需求描述 description 不能为空",
                "description is required",
            ));
        }
        if description.chars().count() > DESCRIPTION_MAX {
            return Err(problem(
                "description",
                format!("需求描述 description 不能超过 {DESCRIPTION_MAX} 字"),
                format!("description must be at most {DESCRIPTION_MAX} characters"),
            ));
        }
        let preferred = preferred_time.trim();
        if preferred.chars().count() > PREFERRED_TIME_MAX {
            return Err(problem(
                "preferred_time",
                format!("期望时间 preferred_time 不能超过 {PREFERRED_TIME_MAX} 字"),
                format!("preferred_time must be at most {PREFERRED_TIME_MAX} characters"),
            ));
        }
        Ok(OrderDraft {
            kind: kind.code.clone(),
            description: description.to_string(),
            preferred_time: (!preferred.is_empty()).then(|| preferred.to_string()),
        })
    }
}

/// Where a need stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderState {
    /// 已点单: posted by the resident, not yet looked at.
    Ordered,
    /// 已纳入需求清单: on the community's needs list.
    Listed,
    /// 未采纳: declined, with a reason the resident reads.
    Declined,
    /// 已办结: done by the community itself, with a note the resident reads.
    Fulfilled,
    /// 已发单: published to the member organizations; a case of the loop waits for a taker.
    Published,
    /// 已接单: a member organization took it (its case dispatched to it and acknowledged).
    Taken,
    /// 已服务: the taker reported it delivered; the community is to certify it.
    Delivered,
    /// 社区已认证: the community certified the delivery (the case closed).
    Certified,
    /// 居民已评价: the resident confirmed and rated the taker (the case's follow-up).
    Rated,
}

impl OrderState {
    pub const ALL: [OrderState; 9] = [
        OrderState::Ordered,
        OrderState::Listed,
        OrderState::Declined,
        OrderState::Fulfilled,
        OrderState::Published,
        OrderState::Taken,
        OrderState::Delivered,
        OrderState::Certified,
        OrderState::Rated,
    ];

    /// The steps of order → publish → take, in order, for the journey a resident reads.
    pub const JOURNEY: [OrderState; 7] = [
        OrderState::Ordered,
        OrderState::Listed,
        OrderState::Published,
        OrderState::Taken,
        OrderState::Delivered,
        OrderState::Certified,
        OrderState::Rated,
    ];

    /// The state of a published need read from its case: `rated` when the resident followed it
    /// up. A case sent back to the command centre (returned, `registered` again) waits for a
    /// taker again; one refused or cancelled in the loop declines the need.
    pub fn of_case(state: State, rated: bool) -> OrderState {
        match state {
            State::Reported | State::Accepted | State::Verifying | State::Registered => OrderState::Published,
            State::Dispatched | State::Handling | State::Suspended => OrderState::Taken,
            State::ReportedBack => OrderState::Delivered,
            State::Passed => OrderState::Certified,
            State::Closed if rated => OrderState::Rated,
            State::Closed => OrderState::Certified,
            State::Rejected | State::Merged | State::Cancelled => OrderState::Declined,
        }
    }

    /// Whether the need was met (the seed's "诉求…解决"): done by the community, or delivered
    /// by a taker and certified.
    pub fn is_fulfilled(self) -> bool {
        matches!(self, OrderState::Fulfilled | OrderState::Certified | OrderState::Rated)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OrderState::Ordered => "ordered",
            OrderState::Listed => "listed",
            OrderState::Declined => "declined",
            OrderState::Fulfilled => "fulfilled",
            OrderState::Published => "published",
            OrderState::Taken => "taken",
            OrderState::Delivered => "delivered",
            OrderState::Certified => "certified",
            OrderState::Rated => "rated",
        }
    }

    pub fn parse(s: &str) -> Option<OrderState> {
        OrderState::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            OrderState::Ordered => lang.pick("已点单", "ordered"),
            OrderState::Listed => lang.pick("已纳入需求清单", "on the needs list"),
            OrderState::Declined => lang.pick("未采纳", "declined"),
            OrderState::Fulfilled => lang.pick("已办结", "fulfilled"),
            OrderState::Published => lang.pick("已发单", "published"),
            OrderState::Taken => lang.pick("已接单", "taken"),
            OrderState::Delivered => lang.pick("已服务", "delivered"),
            OrderState::Certified => lang.pick("社区已认证", "certified"),
            OrderState::Rated => lang.pick("居民已评价", "rated"),
        }
    }

    /// The steps staff may take from here (the forms a page offers).
    pub fn steps(self) -> &'static [&'static str] {
        match self {
            OrderState::Ordered => &["list", "decline"],
            OrderState::Listed => &["publish", "fulfil"],
            // From here the steps are the loop's (take, deliver, certify, rate).
            _ => &[],
        }
    }

    /// The state a step leads to, or why it may not be taken.
    pub fn apply(self, step: &OrderStep) -> Result<OrderState, OrderProblem> {
        match (self, step) {
            (OrderState::Ordered, OrderStep::List) => Ok(OrderState::Listed),
            (OrderState::Ordered, OrderStep::Decline { .. }) => Ok(OrderState::Declined),
            (OrderState::Listed, OrderStep::Fulfil { .. }) => Ok(OrderState::Fulfilled),
            (OrderState::Listed, OrderStep::Publish) => Ok(OrderState::Published),
            (from, step) => Err(OrderProblem::WrongState {
                from,
                step: step.name(),
            }),
        }
    }
}

/// What staff do with a need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderStep {
    /// Put it on the community's needs list (纳入需求清单).
    List,
    /// Decline it (不予采纳), with the reason the resident reads.
    Decline { reason: String },
    /// Mark it done (办结), with a note the resident reads.
    Fulfil { note: String },
    /// Publish it to the member organizations (社区发单): it becomes a case of the loop.
    Publish,
}

impl OrderStep {
    /// Reads a step as a form sends it: `step` and `text` (the reason or the note).
    pub fn parse(step: &str, text: &str) -> Result<OrderStep, OrderProblem> {
        let text = text.trim();
        let checked = |field: &'static str| -> Result<String, OrderProblem> {
            if text.is_empty() {
                return Err(OrderProblem::Missing(field));
            }
            if text.chars().count() > NOTE_MAX {
                return Err(OrderProblem::TooLong(field));
            }
            Ok(text.to_string())
        };
        match step.trim() {
            "list" => Ok(OrderStep::List),
            "decline" => Ok(OrderStep::Decline {
                reason: checked("reason")?,
            }),
            "fulfil" => Ok(OrderStep::Fulfil { note: checked("note")? }),
            "publish" => Ok(OrderStep::Publish),
            other => Err(OrderProblem::UnknownStep(other.to_string())),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            OrderStep::List => "list",
            OrderStep::Decline { .. } => "decline",
            OrderStep::Fulfil { .. } => "fulfil",
            OrderStep::Publish => "publish",
        }
    }

    /// The reason or note the step carries, for the resident.
    pub fn text(&self) -> Option<&str> {
        match self {
            OrderStep::List | OrderStep::Publish => None,
            OrderStep::Decline { reason } => Some(reason),
            OrderStep::Fulfil { note } => Some(note),
        }
    }
}

/// Why a step on a need is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderProblem {
    #[error("a need that is {} cannot be {step}ed", from.as_str())]
    WrongState { from: OrderState, step: &'static str },
    #[error("{0} is required")]
    Missing(&'static str),
    #[error("{0} is too long")]
    TooLong(&'static str),
    #[error("unknown step {0}")]
    UnknownStep(String),
}

impl OrderProblem {
    /// The form field the problem is about.
    pub fn field(&self) -> &'static str {
        match self {
            OrderProblem::WrongState { .. } | OrderProblem::UnknownStep(_) => "step",
            OrderProblem::Missing(f) | OrderProblem::TooLong(f) => f,
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        let name = |f: &str| match f {
            "reason" => lang.pick("未采纳原因 reason", "reason"),
            _ => lang.pick("办结说明 note", "note"),
        };
        match (self, lang) {
            (OrderProblem::WrongState { from, .. }, Lang::Zh) => {
                format!("该需求当前为“{}”，不能进行此操作（step）", from.label(lang))
            }
            (OrderProblem::WrongState { from, step }, Lang::En) => {
                format!("the need is {}; it cannot be {step}ed (step)", from.label(lang))
            }
            (OrderProblem::Missing(f), Lang::Zh) => format!("{}不能为空", name(f)),
            (OrderProblem::Missing(f), Lang::En) => format!("{} is required", name(f)),
            (OrderProblem::TooLong(f), Lang::Zh) => format!("{}不能超过 {NOTE_MAX} 字", name(f)),
            (OrderProblem::TooLong(f), Lang::En) => format!("{} must be at most {NOTE_MAX} characters", name(f)),
            (OrderProblem::UnknownStep(s), Lang::Zh) => format!("未知操作 step：{s}"),
            (OrderProblem::UnknownStep(s), Lang::En) => format!("unknown step: {s}"),
        }
    }

    /// A step from the wrong state is a conflict; the rest is bad input.
    pub fn is_conflict(&self) -> bool {
        matches!(self, OrderProblem::WrongState { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> PalmRules {
        PalmRules::qitaihe().unwrap()
    }

    #[test]
    fn the_shipped_settings_load() {
        let r = rules();
        assert_eq!(r.nearby_radius_m, 500.0);
        let labels: Vec<&str> = r.need_kinds.iter().map(|k| k.zh.as_str()).collect();
        assert_eq!(labels, ["助老", "助残", "维修", "家政", "法律咨询", "其他"]);
        assert!(PalmRules::from_toml("nearby_radius_m = 0\nneed_kinds = []").is_err());
        let twice = "nearby_radius_m = 1\n[[need_kinds]]\ncode='a'\nzh='甲'\nen='A'\nmatter='26011'\n[[need_kinds]]\ncode='a'\nzh='乙'\nen='B'\nmatter='26011'";
        assert!(PalmRules::from_toml(twice).unwrap_err().0.contains("twice"));
        let bad_matter = "nearby_radius_m = 1\n[[need_kinds]]\ncode='a'\nzh='甲'\nen='A'\nmatter='26x'";
        assert!(PalmRules::from_toml(bad_matter).unwrap_err().0.contains("matter"));
        assert!(r.need_kinds.iter().all(|k| k.matter.starts_with("26")));
    }

    #[test]
    fn a_published_need_reads_its_state_from_its_case() {
        let publish = OrderStep::parse("publish", "").unwrap();
        assert_eq!(OrderState::Listed.apply(&publish), Ok(OrderState::Published));
        assert!(OrderState::Ordered.apply(&publish).unwrap_err().is_conflict());
        assert!(OrderState::Published.apply(&publish).unwrap_err().is_conflict());
        assert_eq!(OrderState::of_case(State::Registered, false), OrderState::Published);
        assert_eq!(OrderState::of_case(State::Handling, false), OrderState::Taken);
        assert_eq!(OrderState::of_case(State::ReportedBack, false), OrderState::Delivered);
        assert_eq!(OrderState::of_case(State::Closed, false), OrderState::Certified);
        assert_eq!(OrderState::of_case(State::Closed, true), OrderState::Rated);
        assert_eq!(OrderState::of_case(State::Cancelled, false), OrderState::Declined);
        assert!(OrderState::Certified.is_fulfilled() && !OrderState::Delivered.is_fulfilled());
        // Past publishing, staff steps are the loop's.
        for s in [OrderState::Published, OrderState::Taken, OrderState::Delivered] {
            assert!(s.steps().is_empty());
        }
    }

    #[test]
    fn a_need_names_its_bad_field() {
        let r = rules();
        assert_eq!(OrderDraft::check(&r, "x", "d", "").unwrap_err().field, "kind");
        assert_eq!(
            OrderDraft::check(&r, "repair", "  ", "").unwrap_err().field,
            "description"
        );
        let long = "字".repeat(DESCRIPTION_MAX + 1);
        assert_eq!(
            OrderDraft::check(&r, "repair", &long, "").unwrap_err().field,
            "description"
        );
        let ok = OrderDraft::check(&r, "repair", " 水龙头漏水 ", " ").unwrap();
        assert_eq!(ok.description, "水龙头漏水");
        assert_eq!(ok.preferred_time, None);
        let ok = OrderDraft::check(&r, "elderly", "陪同就医", "周三上午").unwrap();
        assert_eq!(ok.preferred_time.as_deref(), Some("周三上午"));
    }

    #[test]
    fn a_need_goes_ordered_listed_fulfilled_or_declined_with_a_reason() {
        let list = OrderStep::parse("list", "").unwrap();
        let fulfil = OrderStep::parse("fulfil", "已上门维修").unwrap();
        let decline = OrderStep::parse("decline", "不属于社区服务范围").unwrap();
        assert_eq!(OrderState::Ordered.apply(&list), Ok(OrderState::Listed));
        assert_eq!(OrderState::Listed.apply(&fulfil), Ok(OrderState::Fulfilled));
        assert_eq!(OrderState::Ordered.apply(&decline), Ok(OrderState::Declined));
        // Only forward, once.
        for (from, step) in [
            (OrderState::Ordered, &fulfil),
            (OrderState::Listed, &list),
            (OrderState::Listed, &decline),
            (OrderState::Declined, &list),
            (OrderState::Fulfilled, &fulfil),
        ] {
            let e = from.apply(step).unwrap_err();
            assert!(e.is_conflict(), "{from:?} {step:?}");
            assert_eq!(e.field(), "step");
        }
        // A decline wants its reason, a fulfilment its note.
        let e = OrderStep::parse("decline", "  ").unwrap_err();
        assert_eq!((e.field(), e.is_conflict()), ("reason", false));
        assert!(e.message(Lang::Zh).contains("未采纳原因 reason"));
        assert_eq!(OrderStep::parse("fulfil", "").unwrap_err().field(), "note");
        assert_eq!(OrderStep::parse("take", "").unwrap_err().field(), "step");
        // The steps a page offers are the ones apply takes.
        for s in OrderState::ALL {
            for name in s.steps() {
                assert!(s.apply(&OrderStep::parse(name, "x").unwrap()).is_ok());
            }
            assert_eq!(OrderState::parse(s.as_str()), Some(s));
        }
    }
}
