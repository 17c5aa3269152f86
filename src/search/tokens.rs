//! Words as the index files them: Chinese as character bigrams, other words whole and
//! lowercased.

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}')
}

/// Splits text into CJK bigrams (a lone character stays a unigram) and lowercase words.
pub fn tokens(text: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let end_of = |i: usize| chars.get(i).map(|(o, _)| *o).unwrap_or(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i].1;
        if is_cjk(c) {
            let start = i;
            while i < chars.len() && is_cjk(chars[i].1) {
                i += 1;
            }
            if i - start == 1 {
                out.push((chars[start].0, end_of(start + 1), c.to_string()));
            } else {
                for k in start..i - 1 {
                    let s: String = [chars[k].1, chars[k + 1].1].iter().collect();
                    out.push((chars[k].0, end_of(k + 2), s));
                }
            }
        } else if c.is_alphanumeric() {
            let start = i;
            while i < chars.len() && chars[i].1.is_alphanumeric() && !is_cjk(chars[i].1) {
                i += 1;
            }
            let w: String = chars[start..i]
                .iter()
                .map(|(_, c)| *c)
                .collect::<String>()
                .to_lowercase();
            out.push((chars[start].0, end_of(i), w));
        } else {
            i += 1;
        }
    }
    out
}

#[derive(Clone, Default)]
pub(super) struct CjkBigram;

pub(super) struct VecStream {
    tokens: Vec<Token>,
    next: usize,
}

impl TokenStream for VecStream {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }
    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

impl Tokenizer for CjkBigram {
    type TokenStream<'a> = VecStream;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecStream {
        let tokens = tokens(text)
            .into_iter()
            .enumerate()
            .map(|(position, (from, to, text))| Token {
                offset_from: from,
                offset_to: to,
                position,
                text,
                position_length: 1,
            })
            .collect();
        VecStream { tokens, next: 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::tokens;

    #[test]
    fn bigrams_and_words() {
        let t: Vec<String> = tokens("占道经营 HD2026 路")
            .into_iter()
            .map(|(_, _, s)| s)
            .collect();
        assert_eq!(t, vec!["占道", "道经", "经营", "hd2026", "路"]);
        let t: Vec<String> = tokens("Wi-Fi，断网！")
            .into_iter()
            .map(|(_, _, s)| s)
            .collect();
        assert_eq!(t, vec!["wi", "fi", "断网"]);
        assert!(tokens("，。！").is_empty());
    }
}
