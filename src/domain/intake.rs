//! Intake hints computed from what the operator types: emergency words and content similarity.

use serde::{Deserialize, Serialize};

/// An emergency word and the number the caller should be told to dial.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmergencyWord {
    pub word: String,
    pub number: String,
}

pub fn default_emergency_words() -> Vec<EmergencyWord> {
    [
        ("起火", "119"),
        ("着火", "119"),
        ("火灾", "119"),
        ("冒烟", "119"),
        ("煤气泄漏", "119"),
        ("燃气泄漏", "119"),
        ("爆炸", "119"),
        ("救命", "120"),
        ("昏迷", "120"),
        ("晕倒", "120"),
        ("溺水", "120"),
        ("中毒", "120"),
        ("车祸", "122"),
        ("撞车", "122"),
        ("交通事故", "122"),
        ("抢劫", "110"),
        ("持刀", "110"),
        ("杀人", "110"),
        ("跳楼", "110"),
        ("打架", "110"),
        ("绑架", "110"),
        ("自杀", "110"),
        ("轻生", "110"),
        ("不想活", "110"),
        ("喝农药", "120"),
        ("吃安眠药", "120"),
        ("割腕", "120"),
        ("失火", "119"),
        ("山火", "119"),
        ("触电", "120"),
        ("被困", "119"),
        ("困在电梯", "119"),
        ("塌方", "119"),
        ("落水", "110"),
        ("煤气中毒", "120"),
        ("一氧化碳", "120"),
        ("大出血", "120"),
        ("呼吸困难", "120"),
        ("心脏病发", "120"),
        ("砍人", "110"),
        ("家暴", "110"),
        ("小孩走失", "110"),
    ]
    .iter()
    .map(|(w, n)| EmergencyWord {
        word: (*w).to_string(),
        number: (*n).to_string(),
    })
    .collect()
}

/// The emergency words found in `text`, each once.
pub fn emergency_hits<'a>(text: &str, words: &'a [EmergencyWord]) -> Vec<&'a EmergencyWord> {
    words
        .iter()
        .filter(|w| !w.word.is_empty() && text.contains(&w.word))
        .collect()
}

/// A text's character bigrams (letters and digits only, lowercased), each once, as sorted
/// codes (the two characters side by side in one number).
fn bigrams(text: &str) -> Vec<u64> {
    let mut codes: Vec<u64> = Vec::with_capacity(text.len() / 3 + 1);
    let mut prev: Option<char> = None;
    let mut push = |c: char| {
        if let Some(p) = prev {
            codes.push((u64::from(p) << 32) | u64::from(c));
        }
        prev = Some(c);
    };
    for c in text.chars() {
        // Fast paths for ASCII and CJK ideographs (which have no case); the Unicode tables
        // for the rest.
        if c.is_ascii() {
            if c.is_ascii_alphanumeric() {
                push(c.to_ascii_lowercase());
            }
        } else if ('\u{4E00}'..='\u{9FFF}').contains(&c) {
            push(c);
        } else if c.is_alphanumeric() {
            c.to_lowercase().for_each(&mut push);
        }
    }
    codes.sort_unstable();
    codes.dedup();
    codes
}

/// Jaccard similarity of the character bigrams of two texts, 0.0–1.0.
pub fn similarity(a: &str, b: &str) -> f64 {
    Bigrams::of(a).similarity_to(b)
}

/// One text's character bigrams, made once and compared with many texts.
pub struct Bigrams(Vec<u64>);

impl Bigrams {
    pub fn of(text: &str) -> Bigrams {
        Bigrams(bigrams(text))
    }

    /// `similarity` of this text and `other`.
    pub fn similarity_to(&self, other: &str) -> f64 {
        let y = bigrams(other);
        if self.0.is_empty() || y.is_empty() {
            return 0.0;
        }
        // Both sorted: one merge pass.
        let (mut i, mut j, mut inter) = (0, 0, 0usize);
        while i < self.0.len() && j < y.len() {
            match self.0[i].cmp(&y[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    inter += 1;
                    i += 1;
                    j += 1;
                }
            }
        }
        let union = self.0.len() + y.len() - inter;
        inter as f64 / union as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast paths of `bigrams` give what the plain definition does: letters and digits
    /// only, lowercased, each pair once, sorted.
    #[test]
    fn bigrams_match_their_definition() {
        fn plain(text: &str) -> Vec<u64> {
            let chars: Vec<char> = text
                .chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase)
                .collect();
            let mut codes: Vec<u64> = chars
                .windows(2)
                .map(|w| (u64::from(w[0]) << 32) | u64::from(w[1]))
                .collect();
            codes.sort_unstable();
            codes.dedup();
            codes
        }
        let samples = [
            "",
            "a",
            "路灯不亮",
            "小区门口路灯不亮已经一周，晚上出行不便，请尽快维修。",
            "ABC def 123 İstanbul ΣΑΣ Straße ＡＢＣ１２３ 〇一二 𠀀𠀁 ㄅㄆ ｶﾀｶﾅ",
            "第 3 号话务员第 1234 件：XY-12 建设路5号（洣水镇）",
            "\u{9FFF}\u{4E00}\u{3400}\u{F900}\u{2F800}",
        ];
        for s in samples {
            assert_eq!(bigrams(s), plain(s), "{s}");
        }
        // Every character of the first planes, in runs, against the definition.
        let all: Vec<char> = (0u32..0x3_0000).filter_map(char::from_u32).collect();
        for run in all.chunks(997) {
            let s: String = run.iter().collect();
            assert_eq!(bigrams(&s), plain(&s));
        }
    }

    #[test]
    fn emergency() {
        let w = default_emergency_words();
        let hits = emergency_hits("我家楼下起火了，还有人昏迷", &w);
        let nums: Vec<&str> = hits.iter().map(|h| h.number.as_str()).collect();
        assert_eq!(nums, vec!["119", "120"]);
        assert!(emergency_hits("咨询社保缴费", &w).is_empty());
    }

    #[test]
    fn bigram_similarity() {
        let a = "洣水镇建设路菜市场门口占道经营严重，影响通行";
        let b = "建设路菜市场门口又有人占道经营，影响通行";
        let c = "咨询新生儿医保如何办理";
        assert!(similarity(a, b) > 0.4, "{}", similarity(a, b));
        assert!(similarity(a, c) < 0.1);
        assert!((similarity(a, a) - 1.0).abs() < 1e-9);
        assert_eq!(similarity("", a), 0.0);
    }
}
