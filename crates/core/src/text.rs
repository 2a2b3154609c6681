//! What outside text may hold. Text from any client (a JSON field, a form field, an Open311
//! parameter) is refused when it carries a control character other than the line breaks and tabs
//! a free text may have (a NUL cannot even be stored by PostgreSQL), or a bidirectional override
//! or isolate (U+202A–U+202E, U+2066–U+2069), which makes a name read differently from what it
//! holds ("Trojan Source", CVE-2021-42574).

/// The first character of `s` that outside text may not hold, if any.
pub fn forbidden_char(s: &str) -> Option<char> {
    s.chars().find(|&c| is_forbidden(c))
}

/// Control characters except tab, line feed and carriage return; bidirectional overrides and
/// isolates.
pub fn is_forbidden(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// How a forbidden character is named in a message: `U+0000`.
pub fn code_point(c: char) -> String {
    format!("U+{:04X}", c as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_controls_and_bidi_overrides_are_refused_line_breaks_and_chinese_are_not() {
        assert_eq!(forbidden_char("路灯不亮\n第二行\r\n\t缩进"), None);
        assert_eq!(forbidden_char("a\u{0}b"), Some('\u{0}'));
        assert_eq!(forbidden_char("\u{1b}[31m"), Some('\u{1b}'));
        assert_eq!(forbidden_char("\u{85}"), Some('\u{85}'), "C1 controls too");
        for c in [
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
        ] {
            assert_eq!(forbidden_char(&format!("名称{c}txt.exe")), Some(c), "{}", code_point(c));
        }
        assert_eq!(forbidden_char("\u{200D}👨‍👩‍👧 emoji joiners"), None);
        assert_eq!(code_point('\u{0}'), "U+0000");
    }
}
