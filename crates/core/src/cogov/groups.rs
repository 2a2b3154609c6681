//! Community groups (社群): what a group's name, a post, a moderator's reason and a resident's
//! display name must be, and how a resident shows on the pages (never by phone or real name).

use super::DraftProblem;

pub const NAME_MAX: usize = 40;
pub const POST_MAX: usize = 1000;
pub const REASON_MAX: usize = 200;
pub const DISPLAY_NAME_MAX: usize = 20;

fn text(field: &'static str, zh_name: &str, value: &str, max: usize) -> Result<String, DraftProblem> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max {
        return Err(DraftProblem {
            field,
            zh: format!("{zh_name} {field} 不能为空，且不超过 {max} 字"),
            en: format!("{field} is required, at most {max} characters"),
        });
    }
    Ok(v.to_string())
}

pub fn group_name(value: &str) -> Result<String, DraftProblem> {
    text("name", "群名称", value, NAME_MAX)
}

pub fn post_body(value: &str) -> Result<String, DraftProblem> {
    text("body", "内容", value, POST_MAX)
}

pub fn hide_reason(value: &str) -> Result<String, DraftProblem> {
    text("reason", "隐藏原因", value, REASON_MAX)
}

/// A display name: short, and with no run of digits that could be a phone number.
pub fn display_name(value: &str) -> Result<String, DraftProblem> {
    let v = text("display_name", "昵称", value, DISPLAY_NAME_MAX)?;
    if v.chars().filter(char::is_ascii_digit).count() > 4 {
        return Err(DraftProblem {
            field: "display_name",
            zh: "昵称 display_name 不能含电话号码等多位数字".into(),
            en: "display_name must not hold a phone number or other long digits".into(),
        });
    }
    Ok(v)
}

/// How a resident shows to others: the display name they chose, or 居民 and a short id.
pub fn shown_name(resident_id: i64, display_name: Option<&str>) -> String {
    match display_name.filter(|n| !n.trim().is_empty()) {
        Some(n) => n.to_string(),
        None => format!("居民{:04}", resident_id % 10_000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_bodies_are_checked() {
        assert_eq!(group_name(" ").unwrap_err().field, "name");
        assert_eq!(post_body(&"长".repeat(POST_MAX + 1)).unwrap_err().field, "body");
        assert_eq!(hide_reason("").unwrap_err().field, "reason");
        assert_eq!(display_name("13800138000").unwrap_err().field, "display_name");
        assert_eq!(display_name(" 老王 ").unwrap(), "老王");
        assert_eq!(shown_name(7, None), "居民0007");
        assert_eq!(shown_name(7, Some("老王")), "老王");
    }
}
