//! Co-governance in the palm community (共治 · 掌上社区): notices and policy publicity
//! (通知公告/政策宣传) that community staff publish to a community or a grid, read by the residents
//! who picked that community. The rules here are pure: what a notice must hold.

pub mod agreements;
pub mod groups;
pub mod meetings;
pub mod orders;
pub mod survey;

use chrono::{DateTime, NaiveDate, Utc};

use crate::Lang;

/// What a notice is: an ordinary notice (通知公告) or policy publicity (政策宣传).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    Notice,
    Policy,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 2] = [NoticeKind::Notice, NoticeKind::Policy];

    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Notice => "notice",
            NoticeKind::Policy => "policy",
        }
    }

    pub fn parse(s: &str) -> Option<NoticeKind> {
        NoticeKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            NoticeKind::Notice => lang.pick("通知公告", "Notice"),
            NoticeKind::Policy => lang.pick("政策宣传", "Policy"),
        }
    }
}

pub const TITLE_MAX: usize = 100;
pub const BODY_MAX: usize = 5000;

/// A notice as staff typed it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeDraft {
    pub kind: NoticeKind,
    pub title: String,
    pub body: String,
    /// The end of the day of expiry (Asia/Shanghai) as UTC, if any.
    pub expires_at: Option<DateTime<Utc>>,
}

/// What is wrong with a notice: the field and the message in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftProblem {
    pub field: &'static str,
    pub zh: String,
    pub en: String,
}

fn problem(field: &'static str, zh: impl Into<String>, en: impl Into<String>) -> DraftProblem {
    DraftProblem {
        field,
        zh: zh.into(),
        en: en.into(),
    }
}

impl NoticeDraft {
    /// Checks the typed fields; `expires` is a date `YYYY-MM-DD` (or empty), which must not be
    /// before `today` (in the city's time).
    pub fn check(
        kind: &str,
        title: &str,
        body: &str,
        expires: &str,
        today: NaiveDate,
    ) -> Result<NoticeDraft, DraftProblem> {
        let kind = NoticeKind::parse(kind.trim()).ok_or_else(|| {
            problem(
                "kind",
                "类型 kind 须为 notice 或 policy",
                "kind must be notice or policy",
            )
        })?;
        let title = title.trim();
        if title.is_empty() {
            return Err(problem("title", "标题 title 不能为空", "title is required"));
        }
        if title.chars().count() > TITLE_MAX {
            return Err(problem(
                "title",
                format!("标题 title 不能超过 {TITLE_MAX} 字"),
                format!("title must be at most {TITLE_MAX} characters"),
            ));
        }
        let body = body.trim();
        if body.is_empty() {
            return Err(problem("body", "正文 body 不能为空", "body is required"));
        }
        if body.chars().count() > BODY_MAX {
            return Err(problem(
                "body",
                format!("正文 body 不能超过 {BODY_MAX} 字"),
                format!("body must be at most {BODY_MAX} characters"),
            ));
        }
        let expires = expires.trim();
        let expires_at = if expires.is_empty() {
            None
        } else {
            let day = NaiveDate::parse_from_str(expires, "%Y-%m-%d").map_err(|_| {
                problem(
                    "expires",
                    "有效期 expires 须为日期 YYYY-MM-DD",
                    "expires must be a date YYYY-MM-DD",
                )
            })?;
            if day < today {
                return Err(problem(
                    "expires",
                    "有效期 expires 不能早于今天",
                    "expires must not be before today",
                ));
            }
            // The end of that day in the city.
            Some(crate::time::city_instant(
                day.and_hms_opt(23, 59, 59).expect("a valid time"),
            ))
        };
        Ok(NoticeDraft {
            kind,
            title: title.to_string(),
            body: body.to_string(),
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
    }

    #[test]
    fn a_notice_names_its_bad_field() {
        assert_eq!(
            NoticeDraft::check("x", "t", "b", "", today()).unwrap_err().field,
            "kind"
        );
        assert_eq!(
            NoticeDraft::check("notice", " ", "b", "", today()).unwrap_err().field,
            "title"
        );
        assert_eq!(
            NoticeDraft::check("notice", "t", "", "", today()).unwrap_err().field,
            "body"
        );
        assert_eq!(
            NoticeDraft::check("policy", "t", "b", "28/11", today())
                .unwrap_err()
                .field,
            "expires"
        );
        assert_eq!(
            NoticeDraft::check("policy", "t", "b", "2026-11-27", today())
                .unwrap_err()
                .field,
            "expires"
        );
        let ok = NoticeDraft::check("policy", " t ", "b", "2026-11-28", today()).unwrap();
        assert_eq!(ok.title, "t");
        assert_eq!(ok.expires_at.unwrap().to_rfc3339(), "2026-11-28T15:59:59+00:00");
    }
}
