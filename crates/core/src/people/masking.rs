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

#[cfg(test)]
mod tests {
    use super::*;

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
