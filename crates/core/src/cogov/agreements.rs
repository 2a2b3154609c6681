//! Co-building agreements (共建协议) between a community and a member organization (辖区单位):
//! their term, the commitments each made under a mechanism (组织共建, 活动共联, 资源共享 …; the
//! mechanisms are data, `data/qitaihe/co-building.toml`, read by [`CoBuildingRules`]),
//! cross-appointments (交叉任职) and talent pairing (人才结对), and the records of what was done
//! under a commitment. The rules here are pure: what each record must hold and how an agreement
//! moves.
//!
//! ```text
//! active (在约) ──renew (a new agreement that `renews` it)──▶ renewed (已续签)
//!        └──────end (reason)──────────────────────────────▶ ended (已终止)
//! ```
//!
//! "Expired" (已到期) is not stored: an active agreement whose term ended before today
//! ([`Standing`]). Records are kept under an active agreement only.

use chrono::NaiveDate;
use serde::Deserialize;

use super::DraftProblem;
use crate::Lang;
use crate::territory::{Level, TerritoryCode};

pub const NAME_MAX: usize = 100;
pub const TEXT_MAX: usize = 2000;
pub const REASON_MAX: usize = 500;
/// At most this many commitments, appointments or pairings on one agreement.
pub const LIST_MAX: usize = 50;

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
            format!("{zh_name}（{field}）不能为空"),
            format!("{field} is required"),
        ));
    }
    if value.chars().count() > max {
        return Err(problem(
            field,
            format!("{zh_name}（{field}）不能超过 {max} 字"),
            format!("{field} must be at most {max} characters"),
        ));
    }
    Ok(value.to_string())
}

fn date(field: &'static str, zh_name: &str, value: &str) -> Result<NaiveDate, DraftProblem> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| {
        problem(
            field,
            format!("{zh_name}（{field}）须为日期 YYYY-MM-DD"),
            format!("{field} must be a date YYYY-MM-DD"),
        )
    })
}

/// A mechanism of co-building (组织共建 …) a commitment is made under.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Mechanism {
    pub code: String,
    pub zh: String,
    pub en: String,
}

impl Mechanism {
    pub fn label(&self, lang: Lang) -> &str {
        lang.pick(&self.zh, &self.en)
    }
}

/// The city's mechanisms of co-building.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CoBuildingRules {
    pub mechanisms: Vec<Mechanism>,
}

/// What is wrong with the settings file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("co-building.toml: {0}")]
pub struct CoBuildingRulesError(pub String);

impl CoBuildingRules {
    pub fn from_toml(text: &str) -> Result<CoBuildingRules, CoBuildingRulesError> {
        let rules: CoBuildingRules =
            toml::from_str(text).map_err(|e| CoBuildingRulesError(e.to_string().trim_end().into()))?;
        if rules.mechanisms.is_empty() {
            return Err(CoBuildingRulesError("mechanisms must list one at least".into()));
        }
        for (i, m) in rules.mechanisms.iter().enumerate() {
            if m.code.trim().is_empty() || m.zh.trim().is_empty() || m.en.trim().is_empty() {
                return Err(CoBuildingRulesError(format!(
                    "mechanism {} needs code, zh and en",
                    i + 1
                )));
            }
            if !m
                .code
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                return Err(CoBuildingRulesError(format!(
                    "mechanism {}: code {:?} is lower-case letters, digits and _",
                    i + 1,
                    m.code
                )));
            }
            if rules.mechanisms[..i].iter().any(|o| o.code == m.code) {
                return Err(CoBuildingRulesError(format!("mechanism {} is listed twice", m.code)));
            }
        }
        Ok(rules)
    }

    /// The Qitaihe demo city's settings, as shipped in data/.
    pub fn qitaihe() -> Result<CoBuildingRules, CoBuildingRulesError> {
        CoBuildingRules::from_toml(include_str!("../../../../data/qitaihe/co-building.toml"))
    }

    pub fn mechanism(&self, code: &str) -> Option<&Mechanism> {
        self.mechanisms.iter().find(|m| m.code == code)
    }

    fn codes(&self) -> String {
        self.mechanisms
            .iter()
            .map(|m| m.code.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A commitment as typed: a mechanism's code and what is promised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commitment {
    pub mechanism: String,
    pub text: String,
}

/// A cross-appointment (交叉任职): a person holding a post in the organization and one in the
/// community.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appointment {
    pub person: String,
    pub organization_post: String,
    pub community_post: String,
}

/// A talent pairing (人才结对): two people and what they pair on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pairing {
    pub first: String,
    pub second: String,
    pub subject: String,
}

/// The term and the lists of an agreement (signed or renewing one), checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    pub term_from: NaiveDate,
    pub term_to: NaiveDate,
    pub commitments: Vec<Commitment>,
    pub appointments: Vec<Appointment>,
    pub pairings: Vec<Pairing>,
}

impl Terms {
    /// Checks a term (`term_to` after `term_from`), one commitment at least, each under a
    /// mechanism of `rules`, and the lists as typed (a blank row of a list is an error naming the
    /// list).
    pub fn check(
        rules: &CoBuildingRules,
        term_from: &str,
        term_to: &str,
        commitments: &[Commitment],
        appointments: &[Appointment],
        pairings: &[Pairing],
    ) -> Result<Terms, DraftProblem> {
        let term_from = date("term_from", "协议开始日期", term_from)?;
        let term_to = date("term_to", "协议结束日期", term_to)?;
        if term_to <= term_from {
            return Err(problem(
                "term_to",
                "协议结束日期（term_to）须晚于开始日期",
                "term_to must be after term_from",
            ));
        }
        if commitments.is_empty() {
            return Err(problem(
                "commitments",
                "共建协议须有至少一项承诺（commitments）",
                "an agreement needs one commitment at least (commitments)",
            ));
        }
        for (what, n) in [
            ("commitments", commitments.len()),
            ("appointments", appointments.len()),
            ("pairings", pairings.len()),
        ] {
            if n > LIST_MAX {
                return Err(problem(
                    what,
                    format!("{what} 最多 {LIST_MAX} 项"),
                    format!("{what} lists at most {LIST_MAX}"),
                ));
            }
        }
        let mut checked = Vec::new();
        for (i, c) in commitments.iter().enumerate() {
            let n = i + 1;
            let m = rules.mechanism(c.mechanism.trim()).ok_or_else(|| {
                problem(
                    "commitments",
                    format!("第 {n} 项承诺的机制（mechanism）须为 {} 之一", rules.codes()),
                    format!("commitment {n}: mechanism must be one of {}", rules.codes()),
                )
            })?;
            let t = text("commitments", &format!("第 {n} 项承诺内容"), &c.text, TEXT_MAX)
                .map_err(|p| renamed(p, &format!("commitment {n}: text")))?;
            checked.push(Commitment {
                mechanism: m.code.clone(),
                text: t,
            });
        }
        let mut appointed = Vec::new();
        for (i, a) in appointments.iter().enumerate() {
            let n = i + 1;
            let f = |zh: &str, en: &str, v: &str| {
                text("appointments", &format!("第 {n} 项交叉任职的{zh}"), v, NAME_MAX)
                    .map_err(|p| renamed(p, &format!("appointment {n}: {en}")))
            };
            appointed.push(Appointment {
                person: f("人员", "person", &a.person)?,
                organization_post: f("单位职务", "organization_post", &a.organization_post)?,
                community_post: f("社区职务", "community_post", &a.community_post)?,
            });
        }
        let mut paired = Vec::new();
        for (i, p) in pairings.iter().enumerate() {
            let n = i + 1;
            let f = |zh: &str, en: &str, v: &str| {
                text("pairings", &format!("第 {n} 项人才结对的{zh}"), v, NAME_MAX)
                    .map_err(|p| renamed(p, &format!("pairing {n}: {en}")))
            };
            paired.push(Pairing {
                first: f("一方", "first", &p.first)?,
                second: f("另一方", "second", &p.second)?,
                subject: f("结对内容", "subject", &p.subject)?,
            });
        }
        Ok(Terms {
            term_from,
            term_to,
            commitments: checked,
            appointments: appointed,
            pairings: paired,
        })
    }
}

/// The same problem, its English message saying which row and part of a list.
fn renamed(p: DraftProblem, what: &str) -> DraftProblem {
    let en = match p.en.split_once(' ') {
        Some((_, rest)) => format!("{what} {rest}"),
        None => p.en,
    };
    DraftProblem { en, ..p }
}

/// An agreement as signed, checked: the community (a community-level division code), the
/// member organization (its registry id) and the terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgreementDraft {
    pub community: TerritoryCode,
    pub organization: i64,
    pub terms: Terms,
}

impl AgreementDraft {
    pub fn check(
        community: &str,
        organization: &str,
        terms: Result<Terms, DraftProblem>,
    ) -> Result<Self, DraftProblem> {
        let community = TerritoryCode::parse(community.trim())
            .ok()
            .filter(|c| c.level() == Level::Community)
            .ok_or_else(|| {
                problem(
                    "community",
                    "社区（community）须为社区一级的12位区划代码",
                    "community must be the 12-digit code of a community",
                )
            })?;
        let organization = organization_id(organization)?;
        Ok(AgreementDraft {
            community,
            organization,
            terms: terms?,
        })
    }
}

/// A member organization's id as typed.
pub fn organization_id(value: &str) -> Result<i64, DraftProblem> {
    value.trim().parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
        problem(
            "organization",
            "辖区单位（organization）须为单位编号",
            "organization must be the id of a member organization",
        )
    })
}

/// A renewal's term must reach past the term it renews.
pub fn check_renewal(old_to: NaiveDate, terms: &Terms) -> Result<(), DraftProblem> {
    if terms.term_to <= old_to {
        return Err(problem(
            "term_to",
            format!("续签协议的结束日期（term_to）须晚于原协议的结束日期 {old_to}"),
            format!("a renewal's term_to must be after the renewed term's end {old_to}"),
        ));
    }
    Ok(())
}

/// The reason an agreement is ended.
pub fn end_reason(value: &str) -> Result<String, DraftProblem> {
    text("reason", "终止原因", value, REASON_MAX)
}

/// A record of what was done under a commitment, checked: when (not after today, within the
/// agreement's term), what, and how many people were served (optional).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordDraft {
    pub done_on: NaiveDate,
    pub text: String,
    pub people: Option<i64>,
}

impl RecordDraft {
    pub fn check(
        done_on: &str,
        text_: &str,
        people: &str,
        term_from: NaiveDate,
        term_to: NaiveDate,
        today: NaiveDate,
    ) -> Result<RecordDraft, DraftProblem> {
        let done_on = date("date", "开展日期", done_on)?;
        if done_on > today {
            return Err(problem(
                "date",
                "开展日期（date）不能晚于今天",
                "date must not be after today",
            ));
        }
        if done_on < term_from || done_on > term_to {
            return Err(problem(
                "date",
                format!("开展日期（date）须在协议期限 {term_from} 至 {term_to} 内"),
                format!("date must be within the agreement's term {term_from} to {term_to}"),
            ));
        }
        let text_ = text("text", "开展情况", text_, TEXT_MAX)?;
        let people = match people.trim() {
            "" => None,
            p => Some(
                p.parse::<i64>()
                    .ok()
                    .filter(|n| (0..=10_000_000).contains(n))
                    .ok_or_else(|| {
                        problem(
                            "people",
                            "服务人数（people）须为不小于 0 的整数",
                            "people must be a whole number, 0 or more",
                        )
                    })?,
            ),
        };
        Ok(RecordDraft {
            done_on,
            text: text_,
            people,
        })
    }
}

/// Where an agreement stands, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgreementState {
    /// 在约.
    Active,
    /// 已续签: a newer agreement renews it.
    Renewed,
    /// 已终止, with a reason.
    Ended,
}

impl AgreementState {
    pub const ALL: [AgreementState; 3] = [AgreementState::Active, AgreementState::Renewed, AgreementState::Ended];

    pub fn as_str(self) -> &'static str {
        match self {
            AgreementState::Active => "active",
            AgreementState::Renewed => "renewed",
            AgreementState::Ended => "ended",
        }
    }

    pub fn parse(s: &str) -> Option<AgreementState> {
        AgreementState::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            AgreementState::Active => lang.pick("在约", "active"),
            AgreementState::Renewed => lang.pick("已续签", "renewed"),
            AgreementState::Ended => lang.pick("已终止", "ended"),
        }
    }

    /// The state a step leads to, or why it may not be taken. A record keeps the state.
    pub fn apply(self, step: AgreementStep) -> Result<AgreementState, WrongAgreementState> {
        match (self, step) {
            (AgreementState::Active, AgreementStep::Renew) => Ok(AgreementState::Renewed),
            (AgreementState::Active, AgreementStep::End) => Ok(AgreementState::Ended),
            (AgreementState::Active, AgreementStep::Record) => Ok(AgreementState::Active),
            (from, step) => Err(WrongAgreementState { from, step }),
        }
    }

    /// How it stands on `today`: an active agreement whose term ended is expired.
    pub fn standing(self, term_to: NaiveDate, today: NaiveDate) -> Standing {
        match self {
            AgreementState::Active if term_to < today => Standing::Expired,
            AgreementState::Active => Standing::Active,
            AgreementState::Renewed => Standing::Renewed,
            AgreementState::Ended => Standing::Ended,
        }
    }
}

/// What moves (or is kept under) an agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgreementStep {
    Renew,
    End,
    Record,
}

impl AgreementStep {
    pub fn name(self) -> &'static str {
        match self {
            AgreementStep::Renew => "renew",
            AgreementStep::End => "end",
            AgreementStep::Record => "record",
        }
    }
}

/// How an agreement stands on a day: its state, with "expired" computed from the term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Active,
    Expired,
    Renewed,
    Ended,
}

impl Standing {
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Active => "active",
            Standing::Expired => "expired",
            Standing::Renewed => "renewed",
            Standing::Ended => "ended",
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Standing::Active => lang.pick("在约", "active"),
            Standing::Expired => lang.pick("已到期", "expired"),
            Standing::Renewed => lang.pick("已续签", "renewed"),
            Standing::Ended => lang.pick("已终止", "ended"),
        }
    }
}

/// A step refused from the state an agreement is in: 409.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrongAgreementState {
    pub from: AgreementState,
    pub step: AgreementStep,
}

impl WrongAgreementState {
    pub fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::Zh => format!(
                "共建协议当前为“{}”，不能进行此操作（{}）",
                self.from.label(Lang::Zh),
                self.step.name()
            ),
            Lang::En => format!(
                "the agreement is {}; it cannot take the step {}",
                self.from.label(Lang::En),
                self.step.name()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> CoBuildingRules {
        CoBuildingRules::qitaihe().unwrap()
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn c(m: &str, t: &str) -> Commitment {
        Commitment {
            mechanism: m.into(),
            text: t.into(),
        }
    }

    #[test]
    fn the_shipped_mechanisms_load_and_a_bad_file_is_named() {
        let r = rules();
        assert_eq!(r.mechanisms.len(), 8);
        assert_eq!(r.mechanism("organization").unwrap().zh, "组织共建");
        assert_eq!(r.mechanism("problems").unwrap().label(Lang::Zh), "难题共解");
        let e = CoBuildingRules::from_toml("mechanisms = []").unwrap_err();
        assert!(e.to_string().starts_with("co-building.toml: "), "{e}");
        assert!(e.0.contains("one at least"), "{e}");
        let twice = "[[mechanisms]]\ncode='a'\nzh='甲'\nen='A'\n[[mechanisms]]\ncode='a'\nzh='乙'\nen='B'";
        assert!(
            CoBuildingRules::from_toml(twice)
                .unwrap_err()
                .0
                .contains("a is listed twice")
        );
        let blank = "[[mechanisms]]\ncode='a'\nzh=''\nen='A'";
        assert!(
            CoBuildingRules::from_toml(blank)
                .unwrap_err()
                .0
                .contains("mechanism 1 needs")
        );
        let bad_code = "[[mechanisms]]\ncode='A b'\nzh='甲'\nen='A'";
        assert!(
            CoBuildingRules::from_toml(bad_code)
                .unwrap_err()
                .0
                .contains("mechanism 1: code")
        );
        // A TOML error names its line.
        let broken = "[[mechanisms]]\ncode='a'\nzh=\n";
        assert!(CoBuildingRules::from_toml(broken).unwrap_err().0.contains("line 3"));
    }

    #[test]
    fn an_agreement_names_its_bad_field() {
        let r = rules();
        let ok = || {
            Terms::check(
                &r,
                "2026-01-01",
                "2027-12-31",
                &[c("resources", "开放会议室")],
                &[],
                &[],
            )
        };
        assert!(ok().is_ok());
        let field = |t: Result<Terms, DraftProblem>| t.unwrap_err().field;
        assert_eq!(
            field(Terms::check(&r, "1/1", "2027-12-31", &[c("resources", "x")], &[], &[])),
            "term_from"
        );
        assert_eq!(
            field(Terms::check(
                &r,
                "2026-01-01",
                "2026-01-01",
                &[c("resources", "x")],
                &[],
                &[]
            )),
            "term_to"
        );
        assert_eq!(
            field(Terms::check(&r, "2026-01-01", "2027-01-01", &[], &[], &[])),
            "commitments"
        );
        assert_eq!(
            field(Terms::check(
                &r,
                "2026-01-01",
                "2027-01-01",
                &[c("golf", "x")],
                &[],
                &[]
            )),
            "commitments"
        );
        let e = Terms::check(
            &r,
            "2026-01-01",
            "2027-01-01",
            &[c("venues", "x"), c("talent", " ")],
            &[],
            &[],
        )
        .unwrap_err();
        assert_eq!(e.field, "commitments");
        assert!(e.zh.contains("第 2 项"), "{}", e.zh);
        assert!(e.en.starts_with("commitment 2: text"), "{}", e.en);
        let appt = Appointment {
            person: "张三".into(),
            organization_post: "党委委员".into(),
            community_post: "".into(),
        };
        let e = Terms::check(&r, "2026-01-01", "2027-01-01", &[c("venues", "x")], &[appt], &[]).unwrap_err();
        assert_eq!(e.field, "appointments");
        let pair = Pairing {
            first: "李工".into(),
            second: "王社工".into(),
            subject: "".into(),
        };
        assert_eq!(
            field(Terms::check(
                &r,
                "2026-01-01",
                "2027-01-01",
                &[c("venues", "x")],
                &[],
                &[pair]
            )),
            "pairings"
        );
        assert_eq!(
            AgreementDraft::check("230903011000", "1", ok()).unwrap_err().field,
            "community"
        );
        assert_eq!(
            AgreementDraft::check("230903011001", "x", ok()).unwrap_err().field,
            "organization"
        );
        assert_eq!(
            AgreementDraft::check("230903011001", "0", ok()).unwrap_err().field,
            "organization"
        );
        let a = AgreementDraft::check(" 230903011001 ", " 7 ", ok()).unwrap();
        assert_eq!((a.community.as_str(), a.organization), ("230903011001", 7));
        assert_eq!(a.terms.commitments[0].mechanism, "resources");
        let t = ok().unwrap();
        assert_eq!(check_renewal(d("2027-12-31"), &t).unwrap_err().field, "term_to");
        assert!(check_renewal(d("2027-12-30"), &t).is_ok());
        assert_eq!(end_reason(" ").unwrap_err().field, "reason");
    }

    #[test]
    fn a_record_is_dated_within_the_term_and_not_ahead() {
        let (from, to, today) = (d("2026-01-01"), d("2026-12-31"), d("2026-06-01"));
        let rec = |on: &str, t: &str, p: &str| RecordDraft::check(on, t, p, from, to, today);
        assert_eq!(rec("2026-06-02", "x", "").unwrap_err().field, "date");
        assert_eq!(rec("2025-12-31", "x", "").unwrap_err().field, "date");
        assert_eq!(rec("x", "x", "").unwrap_err().field, "date");
        assert_eq!(rec("2026-05-01", " ", "").unwrap_err().field, "text");
        assert_eq!(rec("2026-05-01", "x", "-1").unwrap_err().field, "people");
        assert_eq!(rec("2026-05-01", "x", "many").unwrap_err().field, "people");
        assert_eq!(rec("2026-05-01", "义诊", "").unwrap().people, None);
        assert_eq!(rec("2026-05-01", "义诊", " 40 ").unwrap().people, Some(40));
    }

    #[test]
    fn an_active_agreement_is_renewed_or_ended_once() {
        use AgreementState as S;
        use AgreementStep as T;
        assert_eq!(S::Active.apply(T::Renew), Ok(S::Renewed));
        assert_eq!(S::Active.apply(T::End), Ok(S::Ended));
        assert_eq!(S::Active.apply(T::Record), Ok(S::Active));
        for from in [S::Renewed, S::Ended] {
            for step in [T::Renew, T::End, T::Record] {
                let e = from.apply(step).unwrap_err();
                assert_eq!((e.from, e.step), (from, step));
            }
        }
        let e = S::Ended.apply(T::Renew).unwrap_err();
        assert!(e.message(Lang::Zh).contains("已终止"), "{}", e.message(Lang::Zh));
        assert!(e.message(Lang::En).contains("renew"));
        for s in S::ALL {
            assert_eq!(S::parse(s.as_str()), Some(s));
        }
        let today = d("2026-06-01");
        assert_eq!(S::Active.standing(d("2026-05-31"), today), Standing::Expired);
        assert_eq!(S::Active.standing(d("2026-06-01"), today), Standing::Active);
        assert_eq!(S::Renewed.standing(d("2026-05-31"), today), Standing::Renewed);
        assert_eq!(S::Ended.standing(d("2027-01-01"), today), Standing::Ended);
        assert_eq!(Standing::Expired.label(Lang::Zh), "已到期");
    }
}
