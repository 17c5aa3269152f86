//! Check digits and formats of Chinese identifiers: phone numbers, GB 11643 identity numbers,
//! GB 32100 unified social credit codes.

/// What a caller is told when `normalize_phone` refuses a number.
pub const PHONE_FORMAT: &str = "电话号码格式不正确（手机 11 位，座机带区号，如 0734-5212345）";

/// Mobile `1[3-9]` + 9 digits, or a landline with area code (`0734-5212345`, `07345212345`).
/// Full-width digits and the country code (`+86`, `0086`, `86`) are accepted; the area code
/// must be a real one (`0` then a non-zero digit) and the number not all zeros.
/// Returns the normalised form (digits, landline as `0734-5212345`).
pub fn normalize_phone(raw: &str) -> Option<String> {
    let s: String = raw
        .chars()
        .filter_map(|c| match c {
            '０'..='９' => char::from_u32(u32::from(c) - u32::from('０') + u32::from('0')),
            '＋' => Some('+'),
            ' ' | '\u{3000}' | '-' | '－' | '(' | ')' | '（' | '）' => None,
            c => Some(c),
        })
        .collect();
    let national = s
        .strip_prefix("+86")
        .or_else(|| s.strip_prefix("0086"))
        .map(str::to_string)
        .or_else(|| {
            // "86" + a mobile number (13 digits), or "86" + an area code without its 0.
            let rest = s.strip_prefix("86")?;
            (rest.len() == 11 && rest.starts_with('1')).then(|| rest.to_string())
        });
    let s = match national {
        // After the country code a landline drops its trunk 0: put it back.
        Some(n) if !n.starts_with('1') && !n.starts_with('0') => format!("0{n}"),
        Some(n) => n,
        None => s,
    };
    if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let b = s.as_bytes();
    if b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) {
        return Some(s);
    }
    // Landline: area code 0 + 2–3 digits (not 00, the international prefix), then a 7–8
    // digit local number that does not start with 0.
    if b.first() == Some(&b'0')
        && b.get(1).is_some_and(|d| *d != b'0')
        && (10..=12).contains(&b.len())
    {
        let area = if b.get(1) == Some(&b'1') || b.get(1) == Some(&b'2') {
            3
        } else {
            4
        };
        let local = &s[area..];
        if (7..=8).contains(&local.len())
            && local.as_bytes()[0] != b'0'
            && !local.bytes().all(|d| d == b'0')
        {
            return Some(format!("{}-{}", &s[..area], local));
        }
    }
    None
}

/// Why an identity number is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdProblem {
    /// Not 17 digits and a check character.
    Format,
    /// The region (first six digits) is not a real one.
    Region,
    /// The birth date is not a real day, before 1900, or after today.
    BirthDate,
    CheckDigit,
}

impl IdProblem {
    pub fn message(self) -> &'static str {
        match self {
            IdProblem::Format => "身份证号码应为 18 位（最后一位可以是 X）",
            IdProblem::Region => "身份证号码的地区代码不存在，请核对前 6 位",
            IdProblem::BirthDate => "身份证号码中的出生日期不是真实日期或晚于今天，请核对",
            IdProblem::CheckDigit => "身份证号码校验位不正确，请核对",
        }
    }
}

/// Province codes of GB/T 2260 (the first two digits of a region).
const PROVINCES: &[u8] = &[
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83, 91,
];

/// GB 11643: a real region, a real birth date not after `today` (`YYYYMMDD`), and the
/// check character (0–9 or X) from weights 2^(17-i) mod 11.
pub fn check_id_number(id: &str, today: u32) -> Result<(), IdProblem> {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let b = id.as_bytes();
    if b.len() != 18
        || !b[..17].iter().all(u8::is_ascii_digit)
        || !(b[17].is_ascii_digit() || b[17] == b'X' || b[17] == b'x')
    {
        return Err(IdProblem::Format);
    }
    let province = (b[0] - b'0') * 10 + (b[1] - b'0');
    if !PROVINCES.contains(&province) || b[2..6].iter().all(|d| *d == b'0') {
        return Err(IdProblem::Region);
    }
    if !birth_date_real(&id[6..14], today) {
        return Err(IdProblem::BirthDate);
    }
    let sum: u32 = b[..17]
        .iter()
        .zip(W)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    if b[17].to_ascii_uppercase() != CHECK[(sum % 11) as usize] {
        return Err(IdProblem::CheckDigit);
    }
    Ok(())
}

/// The structural check alone, with no date to compare the birth date to.
pub fn valid_id_number(id: &str) -> bool {
    check_id_number(id, 99_991_231).is_ok()
}

fn birth_date_real(yyyymmdd: &str, today: u32) -> bool {
    let Ok(n) = yyyymmdd.parse::<u32>() else {
        return false;
    };
    let (y, m, d) = (n / 10_000, (n / 100) % 100, n % 100);
    let Ok(month) = time::Month::try_from(m as u8) else {
        return false;
    };
    y >= 1900
        && n <= today
        && i32::try_from(y)
            .ok()
            .and_then(|y| time::Date::from_calendar_date(y, month, d as u8).ok())
            .is_some()
}

/// GB 32100: 18 characters over `0-9A-Z` without I, O, Z, S, V; a known registering
/// department (first character), a region that is not all zeros, an organisation code that
/// is not all zeros, and the check character by weights.
pub fn valid_credit_code(code: &str) -> bool {
    const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    const W: [u32; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let b = code.as_bytes();
    if b.len() != 18 {
        return false;
    }
    if !b"123456789ANY".contains(&b[0].to_ascii_uppercase())
        || b[2..8].iter().all(|c| *c == b'0')
        || b[8..17].iter().all(|c| *c == b'0')
    {
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
        // Country codes and full-width digits, as people and platforms write them.
        for raw in [
            "008613800138000",
            "8613800138000",
            "+86 138 0013 8000",
            "１３８００１３８０００",
            "＋８６１３８００１３８０００",
        ] {
            assert_eq!(
                normalize_phone(raw).as_deref(),
                Some("13800138000"),
                "{raw}"
            );
        }
        assert_eq!(
            normalize_phone("+86 734 5212345").as_deref(),
            Some("0734-5212345")
        );
        assert_eq!(
            normalize_phone("0086-734-5212345").as_deref(),
            Some("0734-5212345")
        );
        assert_eq!(
            normalize_phone("０７３４－５２１２３４５").as_deref(),
            Some("0734-5212345")
        );
        // All-zero and impossible numbers.
        for bad in [
            "00000000000",
            "0000-0000000",
            "0734-0000000",
            "0734-0212345",
            "86",
            "+86",
        ] {
            assert_eq!(normalize_phone(bad), None, "{bad}");
        }
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
        let today = 20_261_201;
        assert_eq!(check_id_number("430424199001011232", today), Ok(()));
        // Impossible, early and future birth dates; all-zero and unknown regions.
        assert_eq!(
            check_id_number("430424199002301235", today),
            Err(IdProblem::BirthDate)
        );
        assert_eq!(
            check_id_number("430424189912311234", today),
            Err(IdProblem::BirthDate)
        );
        assert_eq!(
            check_id_number("430424203001011234", today),
            Err(IdProblem::BirthDate)
        );
        assert_eq!(
            check_id_number("000000199001011234", today),
            Err(IdProblem::Region)
        );
        assert_eq!(
            check_id_number("990424199001011234", today),
            Err(IdProblem::Region)
        );
        assert_eq!(
            check_id_number("43042419900101123", today),
            Err(IdProblem::Format)
        );
        assert_eq!(mask_id("43042419900101123X"), "4304**********123X");
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳小明"), "欧***");
    }

    #[test]
    fn credit_codes() {
        assert!(valid_credit_code("91350100M000100Y43"));
        assert!(!valid_credit_code("000000000000000000"), "all zeros");
        assert!(!valid_credit_code("910000000000000000"));
        assert!(!valid_credit_code("91350100M000100Y44"));
        assert!(!valid_credit_code("91350100M000100Y4"));
        assert!(
            !valid_credit_code("9135010OM000100Y43"),
            "O is not in the alphabet"
        );
    }
}
