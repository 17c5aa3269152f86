//! The words of a title, for the hot words (热点词) of the reports: Chinese word segmentation
//! by jieba-rs over a dictionary of the repo's own, `words.dict`.
//!
//! The dictionary is jieba's (MIT) trimmed to the words it has seen at least 50 times (52,000
//! entries: about 6 MiB in memory, loaded in ~20 ms on first use, where the whole
//! 349,000-word one takes 33 MiB and the 80,000 seen 20 times 8 MiB — too much for the box's
//! 128 MiB under load), then about 130 words of the county's own at the end: its towns and the
//! hotline's everyday terms (社保卡, 占道经营, 噪音扰民, 宅基地, …), so they come out whole.
//! Words the dictionary lacks are cut by jieba's HMM. Editing the dictionary changes what `words` returns, and so the stored per-day word
//! facts (`order_facts::Dim::Word`): a change to it comes with a migration that rebuilds them.
//!
//! Stop words are not dropped here but when a report reads the facts (the county's list is a
//! setting, and a word added to it leaves every period at once).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use jieba_rs::Jieba;

static DICT: &str = include_str!("words.dict");

/// The segmenter while registrations need it: loaded by the first one (~20 ms), let go by
/// `release_if_unused` when none came since its last call (the server calls it each minute),
/// so its 6 MiB are held only while orders are being registered.
static JIEBA: RwLock<Option<Arc<Jieba>>> = RwLock::new(None);
static USED: AtomicBool = AtomicBool::new(false);

fn segmenter() -> Arc<Jieba> {
    USED.store(true, Ordering::Relaxed);
    if let Some(j) = JIEBA
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .as_ref()
    {
        return j.clone();
    }
    let mut slot = JIEBA.write().unwrap_or_else(PoisonError::into_inner);
    slot.get_or_insert_with(|| {
        let mut j = Jieba::empty();
        // The dictionary is compiled in and read by the tests: it cannot fail to load.
        if let Err(e) = j.load_dict(&mut DICT.as_bytes()) {
            tracing::error!(error = %e, "word dictionary did not load");
        }
        Arc::new(j)
    })
    .clone()
}

/// Lets the segmenter go if no text was cut since the last call; true if it was let go.
pub fn release_if_unused() -> bool {
    if USED.swap(false, Ordering::Relaxed) {
        return false;
    }
    JIEBA
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
        .is_some()
}

/// The most words one title gives (titles are short; this bounds the facts an order moves).
pub const MAX_WORDS: usize = 16;
/// Characters of a title that are segmented (a title is at most 100 by validation).
const MAX_CHARS: usize = 200;
/// Bytes of the longest word kept (a run of letters or digits longer than this is noise).
const MAX_WORD_BYTES: usize = 30;

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}')
}

/// Whether a segment is a word worth counting: two characters or more, Chinese or letters
/// (with digits), not a bare number, not punctuation.
fn counts(w: &str) -> bool {
    let n = w.chars().count();
    n >= 2
        && w.len() <= MAX_WORD_BYTES
        && w.chars().all(|c| is_cjk(c) || c.is_ascii_alphanumeric())
        && w.chars().any(|c| is_cjk(c) || c.is_ascii_alphabetic())
}

/// The distinct words of a text in the order they first appear, at most `MAX_WORDS`; latin
/// letters lowercased.
pub fn words(text: &str) -> Vec<String> {
    let text: String = text.chars().take(MAX_CHARS).collect();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let jieba = segmenter();
    for t in jieba.cut(&text, true) {
        let w = t.word.trim().to_lowercase();
        if counts(&w) && seen.insert(w.clone()) {
            out.push(w);
            if out.len() == MAX_WORDS {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_cut_into_the_county_words() {
        assert_eq!(
            words("洣水镇某小区物业乱收费，噪音扰民严重"),
            ["洣水镇", "小区", "物业", "乱收费", "噪音扰民", "严重"]
        );
        assert_eq!(words("社保卡无法激活"), ["社保卡", "无法", "激活"]);
        assert_eq!(words("路灯不亮 路灯不亮"), ["路灯", "不亮"]);
        // Single characters, numbers and punctuation are not words; letters are lowercased.
        assert_eq!(words("3栋5楼WiFi没信号！！"), ["wifi", "信号"]);
        assert!(words("").is_empty());
        assert!(words("，。！？ 123 456").is_empty());
    }

    #[test]
    fn the_segmenter_is_let_go_only_when_unused() {
        words("路灯不亮");
        // Used since the last call: kept. (Other tests may cut words meanwhile, so only
        // what holds whatever they do is asserted.)
        assert!(!release_if_unused());
        // Loaded again on demand after a release, with the same answers.
        JIEBA.write().unwrap().take();
        assert_eq!(words("路灯不亮"), ["路灯", "不亮"]);
    }

    #[test]
    fn every_text_gives_bounded_words() {
        let long = "农民工工资拖欠".repeat(500);
        let w = words(&long);
        assert!(w.len() <= MAX_WORDS);
        let mixed: String = (0..3000u32)
            .filter_map(char::from_u32)
            .chain("噪音".chars())
            .collect();
        for w in words(&mixed) {
            assert!(counts(&w), "{w:?}");
        }
        // Any bytes that are a string: no panic, every word counts.
        for seed in 0..200u32 {
            let s: String = (0..40)
                .map(|i| char::from_u32((seed * 7919 + i * 104_729) % 0x3_0000).unwrap_or('?'))
                .collect();
            for w in words(&s) {
                assert!(counts(&w), "{w:?}");
            }
        }
    }
}
