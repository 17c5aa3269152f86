//! Knowledge base articles (知识库): versioned; answers cite the version they used.

use serde::{Deserialize, Serialize};

use super::time::Timestamp;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Article {
    pub id: u64,
    pub version: u32,
    pub title: String,
    pub body: String,
    pub category: Option<String>,
    /// 文号 of the source document.
    pub doc_no: Option<String>,
    /// `YYYY-MM-DD`, inclusive.
    pub valid_from: Option<String>,
    /// `YYYY-MM-DD`, inclusive.
    pub valid_to: Option<String>,
    pub owner_unit: Option<u64>,
    pub updated_at: Timestamp,
    pub updated_by: String,
}

impl Article {
    /// Whether the article applies on a `YYYY-MM-DD` day (ISO dates compare as strings).
    pub fn valid_on(&self, day: &str) -> bool {
        self.valid_from.as_deref().is_none_or(|f| f <= day)
            && self.valid_to.as_deref().is_none_or(|t| day <= t)
    }
}

/// The office's synonyms for knowledge base search: groups of words that mean the same
/// (社保卡 = 社会保障卡; abbreviations with their full names). A search for one word of a
/// group also tries every other word of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Synonyms {
    pub groups: Vec<Vec<String>>,
}

/// The most groups, words in a group, and characters in a word.
pub const MAX_SYNONYM_GROUPS: usize = 500;
const MAX_GROUP_WORDS: usize = 12;
const MAX_SYNONYM_CHARS: usize = 20;
/// The most spellings of one query tried (the query itself first).
const MAX_VARIANTS: usize = 16;

impl Default for Synonyms {
    fn default() -> Self {
        let text = "社保卡 社会保障卡\n医保 医疗保险 医疗保障\n社保 社会保险\n医保卡 医保电子凭证\n\
                    公积金 住房公积金\n低保 最低生活保障\n身份证 居民身份证\n驾照 驾驶证 机动车驾驶证\n\
                    城管 城市管理 综合执法\n房产证 不动产证 不动产权证书\n新农合 城乡居民医保 城乡居民基本医疗保险\n\
                    养老金 退休金 养老待遇\n户口 户籍\n物业费 物业服务费\n欠薪 拖欠工资 讨薪\n\
                    噪音 噪声\n路灯 照明\n自来水 供水\n停电 断电\n网约车 网络预约出租汽车";
        Synonyms::parse(text).unwrap_or(Synonyms { groups: Vec::new() })
    }
}

impl Synonyms {
    /// Reads the office's list: one group a line, its words separated by spaces, commas or
    /// 、 (or `=`); lines of one word are left out. Too many or too long: why, in Chinese.
    pub fn parse(text: &str) -> Result<Synonyms, String> {
        let mut groups = Vec::new();
        for line in text.lines() {
            let mut words: Vec<String> = Vec::new();
            for w in line.split(|c: char| {
                c.is_whitespace() || matches!(c, ',' | '，' | '、' | '=' | '＝' | ';' | '；')
            }) {
                let w = w.trim();
                if w.is_empty() || words.iter().any(|x| x == w) {
                    continue;
                }
                if w.chars().count() > MAX_SYNONYM_CHARS || w.chars().any(char::is_control) {
                    return Err(format!(
                        "同义词每个最多 {MAX_SYNONYM_CHARS} 个字：{}",
                        w.chars().take(MAX_SYNONYM_CHARS).collect::<String>()
                    ));
                }
                words.push(w.to_string());
            }
            if words.len() > MAX_GROUP_WORDS {
                return Err(format!("每组同义词最多 {MAX_GROUP_WORDS} 个：{}", words[0]));
            }
            if words.len() >= 2 {
                groups.push(words);
            }
        }
        if groups.len() > MAX_SYNONYM_GROUPS {
            return Err(format!("同义词最多 {MAX_SYNONYM_GROUPS} 组"));
        }
        Ok(Synonyms { groups })
    }

    /// The list as the office edits it: one group a line.
    pub fn text(&self) -> String {
        self.groups
            .iter()
            .map(|g| g.join(" "))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The query and its spellings with a word of a group put in place of another (at most
    /// `MAX_VARIANTS`, the query itself first).
    pub fn expand(&self, q: &str) -> Vec<String> {
        let mut out = vec![q.to_string()];
        for g in &self.groups {
            for from in g {
                if !q.contains(from.as_str()) {
                    continue;
                }
                for to in g.iter().filter(|t| *t != from) {
                    let v = q.replace(from.as_str(), to);
                    if !out.contains(&v) {
                        out.push(v);
                    }
                    if out.len() >= MAX_VARIANTS {
                        return out;
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synonyms_spell_a_query_every_way_the_office_listed() {
        let s = Synonyms::parse("社保卡 社会保障卡\n\n医保、医疗保险，医疗保障\n独字").unwrap();
        assert_eq!(s.groups.len(), 2, "a line of one word is no group");
        assert_eq!(s.expand("社保卡补办"), ["社保卡补办", "社会保障卡补办"]);
        assert_eq!(s.expand("社会保障卡挂失"), ["社会保障卡挂失", "社保卡挂失"]);
        assert_eq!(
            s.expand("医保报销"),
            ["医保报销", "医疗保险报销", "医疗保障报销"]
        );
        assert_eq!(s.expand("路灯"), ["路灯"]);
        assert_eq!(Synonyms::parse(&s.text()).unwrap(), s);
        assert!(Synonyms::parse(&"长".repeat(21)).is_err());
        let thirteen: Vec<String> = (0..13).map(|i| format!("词{i}")).collect();
        assert!(Synonyms::parse(&thirteen.join(" ")).is_err());
        let many: String = (0..501).map(|i| format!("词{i} 语{i}\n")).collect();
        assert!(Synonyms::parse(&many).is_err());
        // Every group's words at once: bounded.
        let wide = Synonyms::parse(&"ab ac ad ae af ag ah ai aj ak al am\n".repeat(3)).unwrap();
        assert!(wide.expand("ab ac ad").len() <= MAX_VARIANTS);
        assert!(!Synonyms::default().groups.is_empty());
    }

    #[test]
    fn validity() {
        let a = Article {
            id: 1,
            version: 1,
            title: String::new(),
            body: String::new(),
            category: None,
            doc_no: None,
            valid_from: Some("2026-01-01".into()),
            valid_to: Some("2026-12-31".into()),
            owner_unit: None,
            updated_at: Timestamp(0),
            updated_by: String::new(),
        };
        assert!(a.valid_on("2026-06-30"));
        assert!(a.valid_on("2026-12-31"));
        assert!(!a.valid_on("2027-01-01"));
        assert!(!a.valid_on("2025-12-31"));
    }
}
