//! "Similar" lookups for duplicate hints: an order's rarest words in the last quarter's
//! periods of the index, with bounded work per word.

/// Distinct words of a new order looked up (for their rarity) at most.
const SIMILAR_EXAMINED: usize = 48;

/// Orders read from the index for each word of a "similar" lookup at most.
const SIMILAR_POSTINGS: usize = 256;

/// Words of an order compared for "similar": the rarest ones (commonest words say little
/// and cost the most to look up).
const SIMILAR_TERMS: usize = 6;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, DocSet, Searcher, Term};

use super::{SearchIndex, in_period, internal, period_of, tokens};
use crate::domain::order::OrderId;
use crate::error::AppError;

impl SearchIndex {
    /// Orders registered since `since` whose text is most like `text`: the candidates for
    /// duplicates at intake, from the whole window (callers rank them by their bigrams).
    /// The text's rarest words in the window are looked up, each in the segments and periods
    /// of the window that hold it, and an order scores the rarity (idf) of the words it
    /// shares. At most `SIMILAR_POSTINGS` orders are read for each word, so the cost follows
    /// the text, not the window's size: a burst of calls about one outage, where every word
    /// is in thousands of orders, costs no more than a quiet day (its candidates are then among
    /// the first orders of the burst, where a merge belongs).
    pub fn similar(
        &self,
        text: &str,
        since: crate::domain::time::Timestamp,
        now: crate::domain::time::Timestamp,
        limit: usize,
    ) -> Result<Vec<OrderId>, AppError> {
        Ok(self
            .similar_scored(text, since, now, limit)?
            .into_iter()
            .map(|(id, _)| id)
            .collect())
    }

    /// `similar`, each order with its score (the summed rarity of the words it shares).
    pub fn similar_scored(
        &self,
        text: &str,
        since: crate::domain::time::Timestamp,
        now: crate::domain::time::Timestamp,
        limit: usize,
    ) -> Result<Vec<(OrderId, f32)>, AppError> {
        let searcher = self.reader.searcher();
        // The periods the window touches (the first may begin before `since`: callers
        // check the registration time of what they are given).
        let first = period_of(since);
        let last = period_of(now).max(first).min(first + 64);
        let window = self.window(&searcher, first, last)?;
        if window.segments.is_empty() {
            return Ok(Vec::new());
        }
        let words = self.rarest_words(&searcher, &window, text)?;
        let docs = window.docs as f32;
        let mut scores: std::collections::HashMap<DocAddress, f32> =
            std::collections::HashMap::new();
        // Each segment's `recent` terms and live documents, opened once for all the words.
        let mut segments = Vec::with_capacity(window.segments.len());
        for (ord, periods) in &window.segments {
            let segment = searcher.segment_reader(*ord);
            let index = segment.inverted_index(self.recent).map_err(internal)?;
            segments.push((*ord, periods, index, segment.alive_bitset()));
        }
        for (df, w) in &words {
            let idf = (1.0 + (docs - *df as f32 + 0.5) / (*df as f32 + 0.5)).ln();
            let mut read = 0;
            'segments: for (ord, periods, index, alive) in &segments {
                for p in periods.iter() {
                    let term = Term::from_field_text(self.recent, &in_period(*p, w));
                    let Some(mut postings) = index
                        .read_postings(&term, IndexRecordOption::Basic)
                        .map_err(internal)?
                    else {
                        continue;
                    };
                    let mut doc = postings.doc();
                    while doc != tantivy::TERMINATED {
                        if read >= SIMILAR_POSTINGS {
                            break 'segments;
                        }
                        read += 1;
                        if alive.is_none_or(|a| a.is_alive(doc)) {
                            *scores.entry(DocAddress::new(*ord, doc)).or_default() += idf;
                        }
                        doc = postings.advance();
                    }
                }
            }
        }
        // The best `limit`; among equals, the newest in each segment.
        let mut best: Vec<(f32, DocAddress)> = scores.into_iter().map(|(a, s)| (s, a)).collect();
        let order = |a: &(f32, DocAddress), b: &(f32, DocAddress)| {
            b.0.total_cmp(&a.0)
                .then(b.1.segment_ord.cmp(&a.1.segment_ord))
                .then(b.1.doc_id.cmp(&a.1.doc_id))
        };
        let limit = limit.max(1);
        if best.len() > limit {
            best.select_nth_unstable_by(limit - 1, order);
            best.truncate(limit);
        }
        best.sort_unstable_by(order);
        let mut out = Vec::with_capacity(best.len());
        for (score, addr) in best {
            if let Some(id) = window
                .id_column(&searcher, addr.segment_ord)?
                .first(addr.doc_id)
            {
                out.push((OrderId(id), score));
            }
        }
        Ok(out)
    }

    /// The segments of the window `first..=last` (periods) in `searcher`, from the cache
    /// while the searcher's generation and the window are the same (the index commits at
    /// most once a second; every intake asks).
    fn window(&self, searcher: &Searcher, first: u64, last: u64) -> Result<Arc<Window>, AppError> {
        let generation = searcher.generation().generation_id();
        let mut cached = self.window.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(w) = cached.as_ref()
            && w.generation == generation
            && w.periods == (first, last)
        {
            return Ok(Arc::clone(w));
        }
        let w = Arc::new(Window::of(searcher, self.recent, generation, first, last)?);
        *cached = Some(Arc::clone(&w));
        Ok(w)
    }

    /// The rarest words of `text` found in the window (at most `SIMILAR_TERMS`), with their
    /// document frequency there. A word's document frequency is counted over every
    /// segment of the window: a burst of calls about one matter makes its words common
    /// there however rare they are in the rest of the history.
    fn rarest_words(
        &self,
        searcher: &Searcher,
        window: &Window,
        text: &str,
    ) -> Result<Vec<(u64, String)>, AppError> {
        // The segments' `text` terms, opened at the first word not known yet.
        let mut indexes = Vec::new();
        let mut seen = BTreeSet::new();
        // The first distinct words of the text (its title comes first), a bounded number.
        let distinct = tokens(text)
            .into_iter()
            .map(|(_, _, t)| t)
            .filter(|t| seen.insert(t.clone()))
            .take(SIMILAR_EXAMINED);
        let mut words: Vec<(u64, String)> = Vec::new();
        let mut known = window.df.lock().unwrap_or_else(|p| p.into_inner());
        for w in distinct {
            let df = match known.get(&w) {
                Some(df) => *df,
                None => {
                    if indexes.is_empty() {
                        for (ord, _) in &window.segments {
                            let segment = searcher.segment_reader(*ord);
                            indexes.push(segment.inverted_index(self.text).map_err(internal)?);
                        }
                    }
                    let term = Term::from_field_text(self.text, &w);
                    let mut df = 0u64;
                    for index in &indexes {
                        df = df.saturating_add(u64::from(index.doc_freq(&term).map_err(internal)?));
                    }
                    if known.len() < WINDOW_WORDS {
                        known.insert(w.clone(), df);
                    }
                    df
                }
            };
            if df > 0 {
                words.push((df.min(window.docs), w));
            }
        }
        words.sort();
        words.truncate(SIMILAR_TERMS);
        Ok(words)
    }
}

/// The segments of one searcher generation holding an order registered in given periods
/// (a term of those periods in their `recent` field), each with the periods it holds, and
/// the number of documents in them (for a word's rarity).
pub(super) struct Window {
    generation: u64,
    periods: (u64, u64),
    segments: Vec<(u32, Vec<u64>)>,
    /// Deleted documents included, as tantivy's own statistics count them: a term's document
    /// frequency counts them too, and may never exceed this.
    docs: u64,
    /// Words' document frequency in these segments, as looked up (at most `WINDOW_WORDS`):
    /// intakes within one generation (a second under load) share most of their words.
    df: Mutex<std::collections::HashMap<String, u64>>,
    /// Each segment's id column, opened at its first use (opening one decodes its header).
    ids: Mutex<std::collections::HashMap<u32, tantivy::columnar::Column<u64>>>,
}

/// Words whose document frequency a window remembers at most.
const WINDOW_WORDS: usize = 8192;

impl Window {
    fn of(
        searcher: &Searcher,
        recent: Field,
        generation: u64,
        first: u64,
        last: u64,
    ) -> Result<Window, AppError> {
        let mut w = Window {
            generation,
            periods: (first, last),
            segments: Vec::new(),
            docs: 0,
            df: Mutex::new(std::collections::HashMap::new()),
            ids: Mutex::new(std::collections::HashMap::new()),
        };
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            if segment.num_docs() == 0 {
                continue;
            }
            let terms = segment.inverted_index(recent).map_err(internal)?;
            let mut held = Vec::new();
            for p in first..=last {
                // A period's terms all begin with `in_period(p, "")`: they lie from it up to
                // the same prefix with its last byte one higher.
                let lo = in_period(p, "").into_bytes();
                let mut hi = lo.clone();
                if let Some(b) = hi.last_mut() {
                    *b += 1;
                }
                let mut stream = terms
                    .terms()
                    .range()
                    .ge(&lo)
                    .lt(&hi)
                    .into_stream()
                    .map_err(internal)?;
                if stream.advance() {
                    held.push(p);
                }
            }
            if held.is_empty() {
                continue;
            }
            let ord = ord as u32;
            w.docs = w.docs.saturating_add(u64::from(segment.max_doc()));
            w.segments.push((ord, held));
        }
        Ok(w)
    }
}

impl Window {
    /// The id column of segment `ord` (of this window's generation).
    fn id_column(
        &self,
        searcher: &Searcher,
        ord: u32,
    ) -> Result<tantivy::columnar::Column<u64>, AppError> {
        let mut ids = self.ids.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = ids.get(&ord) {
            return Ok(c.clone());
        }
        let c = searcher
            .segment_reader(ord)
            .fast_fields()
            .u64("id")
            .map_err(internal)?;
        ids.insert(ord, c.clone());
        Ok(c)
    }
}
