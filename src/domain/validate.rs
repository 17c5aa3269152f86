//! Check digits and formats of Chinese identifiers: phone numbers, GB 11643 identity numbers,
//! GB 32100 unified social credit codes.

/// Mobile `1[3-9]` + 9 digits, or a landline with area code (`0734-5212345`, `07345212345`).
/// Returns the normalised form (digits, landline as `0734-5212345`).
pub fn normalize_phone(raw: &str) -> Option<String> {
    let s: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
        .collect();
    let s = s.strip_prefix("+86").unwrap_or(&s);
    if !s.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let b = s.as_bytes();
    if b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) {
        return Some(s.to_string());
    }
    // Landline: area code 0 + 2–3 digits, then a 7–8 digit local number.
    if b.first() == Some(&b'0') && (10..=12).contains(&b.len()) {
        let area = if b.get(1) == Some(&b'1') || b.get(1) == Some(&b'2') {
            3
        } else {
            4
        };
        let local = &s[area..];
        if (7..=8).contains(&local.len()) {
            return Some(format!("{}-{}", &s[..area], local));
        }
    }
    None
}

/// GB 11643: 17 digits and a check character (0–9 or X) from weights 2^(17-i) mod 11.
pub fn valid_id_number(id: &str) -> bool {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let b = id.as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = b[..17]
        .iter()
        .zip(W)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    let expected = CHECK[(sum % 11) as usize];
    b[17].to_ascii_uppercase() == expected && birth_date_plausible(&id[6..14])
}

fn birth_date_plausible(yyyymmdd: &str) -> bool {
    let n = |r: std::ops::Range<usize>| yyyymmdd.get(r).and_then(|s| s.parse::<u32>().ok());
    match (n(0..4), n(4..6), n(6..8)) {
        (Some(y), Some(m), Some(d)) => {
            (1900..=2100).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d)
        }
        _ => false,
    }
}

/// GB 32100: 18 characters over `0-9A-Z` without I, O, Z, S, V; check character by weights.
pub fn valid_credit_code(code: &str) -> bool {
    const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    const W: [u32; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let b = code.as_bytes();
    if b.len() != 18 {
        return false;
    }
    let val = |c: u8| {
        ALPHABET
            .iter()
            .position(|a| *a == c.to_ascii_uppercase())
            .map(|p| p as u32)
    };
    let mut sum = 0;
    for (c, w) in b[..17].iter().zip(W) {
        match val(*c) {
            Some(v) => sum += v * w,
            None => return false,
        }
    }
    let check = (31 - sum % 31) % 31;
    val(b[17]) == Some(check)
}

/// `138****5678`; landlines keep the area code and the last four digits.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() == 11 && !phone.contains('-') {
        format!(
            "{}****{}",
            chars[..3].iter().collect::<String>(),
            chars[7..].iter().collect::<String>()
        )
    } else if let Some((area, local)) = phone.split_once('-') {
        let tail: String = local
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("{area}-****{tail}")
    } else {
        "****".to_string()
    }
}

/// `4304**********123X`.
pub fn mask_id(id: &str) -> String {
    if id.len() == 18 && id.is_ascii() {
        format!("{}**********{}", &id[..4], &id[14..])
    } else {
        "****".to_string()
    }
}

/// `张**`: the family name and one star per remaining character.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => {
            let rest = chars.count().max(1);
            format!("{first}{}", "*".repeat(rest))
        }
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones() {
        assert_eq!(
            normalize_phone("138 0013 8000").as_deref(),
            Some("13800138000")
        );
        assert_eq!(
            normalize_phone("+8613800138000").as_deref(),
            Some("13800138000")
        );
        assert_eq!(
            normalize_phone("0734-5212345").as_deref(),
            Some("0734-5212345")
        );
        assert_eq!(
            normalize_phone("07345212345").as_deref(),
            Some("0734-5212345")
        );
        assert_eq!(
            normalize_phone("010-12345678").as_deref(),
            Some("010-12345678")
        );
        assert_eq!(normalize_phone("12800138000"), None);
        assert_eq!(normalize_phone("1380013800"), None);
        assert_eq!(normalize_phone("abc"), None);
        assert_eq!(normalize_phone(""), None);
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("0734-5212345"), "0734-****2345");
    }

    #[test]
    fn identity_numbers() {
        // A well-known valid sample number and its mutations.
        assert!(valid_id_number("11010519491231002X"));
        assert!(valid_id_number("11010519491231002x"));
        assert!(!valid_id_number("110105194912310021"));
        assert!(!valid_id_number("11010519491331002X"), "month 13");
        assert!(!valid_id_number("1101051949123100"));
        assert!(valid_id_number("430424199001011232"));
        assert!(!valid_id_number("430424199001011236"));
        assert_eq!(mask_id("43042419900101123X"), "4304**********123X");
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳小明"), "欧***");
    }

    #[test]
    fn credit_codes() {
        assert!(valid_credit_code("91350100M000100Y43"));
        assert!(!valid_credit_code("91350100M000100Y44"));
        assert!(!valid_credit_code("91350100M000100Y4"));
        assert!(
            !valid_credit_code("9135010OM000100Y43"),
            "O is not in the alphabet"
        );
    }
}
