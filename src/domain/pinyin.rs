//! Pinyin keys for pickers: what an operator types to find a name (`msz` or `mishui` finds
//! 洣水镇). Characters without a reading (letters, digits) stand for themselves.

use pinyin::ToPinyin;

/// The name's initials and its whole reading, in small letters: `("msz", "mishuizhen")`.
pub fn keys(name: &str) -> (String, String) {
    let mut initials = String::new();
    let mut full = String::new();
    for (c, p) in name.chars().zip(name.to_pinyin()) {
        match p {
            Some(p) => {
                initials.push_str(p.first_letter());
                full.push_str(p.plain());
            }
            None if c.is_ascii_alphanumeric() => {
                let c = c.to_ascii_lowercase();
                initials.push(c);
                full.push(c);
            }
            None => {}
        }
    }
    (initials, full)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_county_names() {
        assert_eq!(keys("洣水镇"), ("msz".into(), "mishuizhen".into()));
        assert_eq!(keys("县城管局"), ("xcgj".into(), "xianchengguanju".into()));
        assert_eq!(
            keys("12345中心"),
            ("12345zx".into(), "12345zhongxin".into())
        );
    }
}
