//! Masks for personal data kept where it cannot be encrypted (timelines, the audit record):
//! enough to recognise a caller again, not enough to reach them (security-cn §3: phone 前3后4).

/// `13800000000` → `138****0000`; anything shorter than 8 characters is masked whole.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.trim().chars().collect();
    if chars.len() < 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

/// `zhang@example.cn` → `z***@example.cn`; without an `@`, masked whole.
pub fn mask_email(email: &str) -> String {
    match email.trim().split_once('@') {
        Some((local, domain)) if !local.is_empty() => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        _ => "***".to_string(),
    }
}

/// Masks every phone or ID number in a free text: a run of 7 or more digits (an ID number's
/// closing `X` included) keeps its first 3 and last 4 characters (`138****5678`), an 18-character
/// ID number its first and last (security-cn §3.7: `前1后1` for general lists); the rest of the
/// text is kept.
pub fn mask_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        if i - start == 17 && i < chars.len() && matches!(chars[i], 'X' | 'x') {
            i += 1;
        }
        let run: String = chars[start..i].iter().collect();
        match run.chars().count() {
            0..=6 => out.push_str(&run),
            18 => {
                let first = &run[..1];
                let last = &run[17..];
                out.push_str(&format!("{first}{}{last}", "*".repeat(16)));
            }
            _ => out.push_str(&mask_phone(&run)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_a_text_are_masked_and_the_rest_kept() {
        assert_eq!(mask_numbers("张三 13612345678"), "张三 136****5678");
        assert_eq!(
            mask_numbers("身份证34052419800101001X，3号楼"),
            "身份证3****************X，3号楼"
        );
        assert_eq!(mask_numbers("电话0464-8271234"), "电话0464-*******");
        assert_eq!(mask_numbers("学府小区12号楼502室"), "学府小区12号楼502室");
    }

    #[test]
    fn phones_keep_the_first_three_and_last_four_digits() {
        assert_eq!(mask_phone("13800000000"), "138****0000");
        assert_eq!(mask_phone(" 0464-8271234 "), "046*****1234");
        assert_eq!(mask_phone("12345"), "*****");
    }

    #[test]
    fn emails_keep_the_first_letter_and_the_domain() {
        assert_eq!(mask_email("zhang@example.cn"), "z***@example.cn");
        assert_eq!(mask_email("nobody"), "***");
        assert_eq!(mask_email("@x.cn"), "***");
    }
}
