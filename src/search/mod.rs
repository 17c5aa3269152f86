//! The full-text index over orders (title, content, address, replies): derived data in
//! `DATA/index`, rebuilt from redb when missing or unreadable, and caught up from the order
//! change log beyond the watermark kept in its own commit payload — so a crash never leaves
//! it behind. Chinese text is indexed as character bigrams; other words whole, lowercased.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tantivy::collector::{Count, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::query::{BooleanQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, Term, doc};

use crate::domain::order::{Order, OrderId};
use crate::domain::order_index::{Facet, cst_day};
use crate::error::AppError;
use crate::store::{Store, orders};

mod similar;
mod tokens;

use similar::Window;
use tokens::CjkBigram;
pub use tokens::tokens;

const TOKENIZER: &str = "cjk_bigram";
/// Splits on spaces only (the `recent` field is made of finished terms).
const SPACES: &str = "spaces";
/// The writer's memory budget: small, for a small box.
const WRITER_BYTES: usize = 15_000_000;

/// A writer with one indexing thread and one merge thread (tantivy's default is four merge
/// threads: on a two-core box their merges at once held tens of MiB more under load).
fn new_writer(index: &Index) -> Result<IndexWriter, AppError> {
    let options = tantivy::indexer::IndexWriterOptions::builder()
        .num_worker_threads(1)
        .num_merge_threads(1)
        .memory_budget_per_thread(WRITER_BYTES)
        .build();
    index.writer_with_options(options).map_err(internal)
}

/// What is searchable of an order. Never the caller's name, phone or ID number.
fn order_text(o: &Order) -> String {
    let mut t = format!("{} {}", o.number, own_text(o));
    for r in &o.rounds {
        for reply in &r.replies {
            t.push(' ');
            t.push_str(&reply.result);
        }
    }
    if let Some(a) = &o.answer {
        t.push(' ');
        t.push_str(a);
    }
    t
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("search index: {e}"))
}

pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<Slot>,
    /// Searches waiting for the index to take in their writes (they get a commit at once).
    waiters: std::sync::atomic::AtomicUsize,
    id: Field,
    text: Field,
    /// The order's list filter values (`Facet::token`), as plain terms.
    facets: Field,
    /// Registration day (Beijing), for date filters.
    day: Field,
    /// The order's own words (title, content, address), each once, prefixed by its
    /// registration period (`PERIOD_DAYS`-day blocks of Beijing days): "these words within the
    /// last 90 days" is read from the postings of those periods only, however often the words
    /// occur in the rest of the history.
    recent: Field,
    watermark: AtomicU64,
    /// Signalled after every commit of the index (searches may wait for their own writes).
    committed: (Mutex<()>, std::sync::Condvar),
    /// The segments of the "similar" window at the reader's current generation.
    window: Mutex<Option<Arc<Window>>>,
}

/// The writer and what it holds that is not committed yet.
struct Slot {
    /// `None` after a failed commit: made anew at the next catch-up.
    writer: Option<IndexWriter>,
    /// The last order change added to the writer (at least the committed watermark).
    added: u64,
    committed_at: std::time::Instant,
}

/// Under a steady stream of changes the index commits at most this often (each commit is
/// a new segment, file syncs and merges), unless a search waits for its writes.
const COMMIT_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Days in one registration period.
const PERIOD_DAYS: u32 = 16;
fn period_of(t: crate::domain::time::Timestamp) -> u64 {
    u64::from(cst_day(t) / PERIOD_DAYS)
}

/// The citizen's own words of an order: title, content, address.
fn own_text(o: &Order) -> String {
    let mut t = format!("{} {}", o.title, o.content);
    for part in [&o.address.town, &o.address.village, &o.address.detail]
        .into_iter()
        .flatten()
    {
        t.push(' ');
        t.push_str(part);
    }
    t
}

/// A word as filed under a registration period in the `recent` field.
fn in_period(period: u64, word: &str) -> String {
    format!("{period}/{word}")
}

/// The `recent` field of an order: each word of its title, content and address once, filed
/// under its registration period.
fn recent_text(o: &Order) -> String {
    let p = period_of(o.created_at);
    let words: BTreeSet<String> = tokens(&own_text(o))
        .into_iter()
        .map(|(_, _, t)| t)
        .collect();
    words
        .iter()
        .map(|w| in_period(p, w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a search is narrowed to besides its words: filter values (all of them), and
/// registration days `[from, to)`.
#[derive(Clone, Debug, Default)]
pub struct Narrow {
    pub facets: Vec<Facet>,
    pub from: Option<crate::domain::time::Timestamp>,
    pub to: Option<crate::domain::time::Timestamp>,
}

struct Fields {
    id: Field,
    text: Field,
    facets: Field,
    day: Field,
    recent: Field,
}

fn schema() -> (Schema, Fields) {
    let mut sb = Schema::builder();
    let id = sb.add_u64_field("id", INDEXED | STORED | FAST);
    let opts = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let text = sb.add_text_field("text", opts);
    let facets = sb.add_text_field("facets", STRING);
    let day = sb.add_u64_field("day", INDEXED);
    // Period-prefixed words, for "similar orders of the last 90 days".
    let recent = sb.add_text_field(
        "recent",
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(SPACES)
                .set_index_option(IndexRecordOption::WithFreqs),
        ),
    );
    let fields = Fields {
        id,
        text,
        facets,
        day,
        recent,
    };
    (sb.build(), fields)
}

/// Changes indexed per catch-up run: a request never indexes more than this itself (a
/// rebuild runs in the background, a slice at a time).
pub const CATCH_UP_SLICE: usize = 2000;

impl SearchIndex {
    /// Opens `dir/index`, or builds a fresh one (from watermark 0) when it is missing or bad.
    pub fn open(dir: &Path) -> Result<SearchIndex, AppError> {
        let path = dir.join("index");
        let (schema, f) = schema();
        let open = || -> tantivy::Result<Index> {
            std::fs::create_dir_all(&path)?;
            let d = MmapDirectory::open(&path)
                .map_err(|e| tantivy::TantivyError::InternalError(e.to_string()))?;
            Index::open_or_create(d, schema.clone())
        };
        let index = match open() {
            Ok(i) => i,
            Err(e) => {
                // Unreadable, or made by an earlier version with other fields.
                tracing::warn!(error = %e, "search index unreadable or outdated; rebuilding it from the database");
                let _ = std::fs::remove_dir_all(&path);
                open().map_err(internal)?
            }
        };
        index
            .tokenizers()
            .register(TOKENIZER, TextAnalyzer::builder(CjkBigram).build());
        index.tokenizers().register(
            SPACES,
            TextAnalyzer::builder(tantivy::tokenizer::WhitespaceTokenizer::default()).build(),
        );
        let writer = new_writer(&index)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(internal)?;
        let watermark = index
            .load_metas()
            .map_err(internal)?
            .payload
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        Ok(SearchIndex {
            index,
            reader,
            writer: Mutex::new(Slot {
                writer: Some(writer),
                added: watermark,
                committed_at: std::time::Instant::now(),
            }),
            waiters: std::sync::atomic::AtomicUsize::new(0),
            id: f.id,
            text: f.text,
            facets: f.facets,
            day: f.day,
            recent: f.recent,
            committed: (Mutex::new(()), std::sync::Condvar::new()),
            window: Mutex::new(None),
            watermark: AtomicU64::new(watermark),
        })
    }

    pub fn watermark(&self) -> u64 {
        self.watermark.load(Ordering::SeqCst)
    }

    /// Indexes every order changed since the last one taken in, and commits with the new
    /// watermark when a search waits, a second has passed since the last commit, or a slice is
    /// full; returns how many changes it took in. A failure (a full disk) rolls the writer
    /// back to the last commit, or drops it to be made anew, so the next catch-up starts
    /// clean from the committed watermark.
    pub fn catch_up(&self, store: &Store) -> Result<usize, AppError> {
        let mut guard = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let slot = &mut *guard;
        if slot.writer.is_none() {
            slot.writer = Some(new_writer(&self.index)?);
            slot.added = self.watermark();
        }
        let Some(writer) = slot.writer.as_mut() else {
            return Ok(0);
        };
        let result = self
            .index_changes(store, writer, slot.added)
            .and_then(|(n, added)| {
                slot.added = added;
                let due = self.waiters.load(Ordering::SeqCst) > 0
                    || slot.committed_at.elapsed() >= COMMIT_EVERY
                    || n >= CATCH_UP_SLICE;
                if added > self.watermark() && due {
                    self.commit(writer, added)?;
                    slot.committed_at = std::time::Instant::now();
                }
                Ok(n)
            });
        if result.is_err() {
            slot.added = self.watermark();
            if writer.rollback().is_err() {
                slot.writer = None;
            }
        }
        result
    }

    fn commit(&self, writer: &mut IndexWriter, wm: u64) -> Result<(), AppError> {
        let mut prepared = writer.prepare_commit().map_err(internal)?;
        prepared.set_payload(&wm.to_string());
        prepared.commit().map_err(internal)?;
        self.reader.reload().map_err(internal)?;
        self.watermark.store(wm, Ordering::SeqCst);
        let _guard = self.committed.0.lock().unwrap_or_else(|p| p.into_inner());
        self.committed.1.notify_all();
        Ok(())
    }

    /// Adds the orders changed after `wm` to the writer (at most a slice): how many changes,
    /// and the last one added.
    fn index_changes(
        &self,
        store: &Store,
        writer: &mut IndexWriter,
        mut wm: u64,
    ) -> Result<(usize, u64), AppError> {
        let mut done = 0;
        loop {
            let batch = store.read(|tx| orders::changes_after(tx, wm, 2000))?;
            let Some(&(last, _)) = batch.last() else {
                break;
            };
            let ids: BTreeSet<OrderId> = batch.iter().map(|(_, id)| *id).collect();
            let docs = store.read(|tx| -> Result<Vec<Order>, AppError> {
                let mut v = Vec::new();
                for id in &ids {
                    if let Some(o) = orders::get(tx, *id)? {
                        v.push(o);
                    }
                }
                Ok(v)
            })?;
            for o in docs {
                writer.delete_term(Term::from_field_u64(self.id, o.id.0));
                let mut d = doc!(
                    self.id => o.id.0,
                    self.text => order_text(&o),
                    self.day => u64::from(cst_day(o.created_at)),
                    self.recent => recent_text(&o),
                );
                for f in Facet::of(&o) {
                    d.add_text(self.facets, f.token());
                }
                writer.add_document(d).map_err(internal)?;
            }
            done += ids.len();
            wm = last;
            if done >= CATCH_UP_SLICE {
                break;
            }
        }
        Ok((done, wm))
    }

    /// Orders containing every bigram and word of `q`, best first.
    pub fn search(&self, q: &str, limit: usize) -> Result<Vec<OrderId>, AppError> {
        self.search_in(q, &Narrow::default(), limit)
    }

    /// `search` within filters.
    pub fn search_in(&self, q: &str, n: &Narrow, limit: usize) -> Result<Vec<OrderId>, AppError> {
        match self.all_of(q, n) {
            Some(query) => self.top(&query, limit),
            None => Ok(Vec::new()),
        }
    }

    /// One page of `search` (skipping `skip`), and how many orders match in all.
    pub fn search_page(
        &self,
        q: &str,
        n: &Narrow,
        skip: usize,
        limit: usize,
    ) -> Result<(Vec<OrderId>, usize), AppError> {
        let Some(query) = self.all_of(q, n) else {
            return Ok((Vec::new(), 0));
        };
        let searcher = self.reader.searcher();
        let (hits, total) = searcher
            .search(
                &query,
                &(
                    TopDocs::with_limit(limit.max(1))
                        .and_offset(skip)
                        .order_by_score(),
                    Count,
                ),
            )
            .map_err(internal)?;
        let mut out = Vec::with_capacity(hits.len());
        for (_, addr) in hits {
            if let Some(id) = id_of(&searcher, addr)? {
                out.push(OrderId(id));
            }
        }
        Ok((out, total))
    }

    fn all_of(&self, q: &str, n: &Narrow) -> Option<BooleanQuery> {
        let terms: BTreeSet<String> = tokens(q).into_iter().map(|(_, _, t)| t).collect();
        if terms.is_empty() {
            return None;
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = terms
            .into_iter()
            .map(|t| (Occur::Must, self.term(&t)))
            .collect();
        for f in &n.facets {
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(self.facets, &f.token()),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        if n.from.is_some() || n.to.is_some() {
            let lo = n.from.map(|t| u64::from(cst_day(t))).unwrap_or(0);
            let hi = n.to.map(|t| u64::from(cst_day(t))).unwrap_or(u64::MAX);
            clauses.push((
                Occur::Must,
                Box::new(RangeQuery::new(
                    std::ops::Bound::Included(Term::from_field_u64(self.day, lo)),
                    std::ops::Bound::Excluded(Term::from_field_u64(self.day, hi)),
                )),
            ));
        }
        Some(BooleanQuery::new(clauses))
    }

    /// Waits (at most `timeout`) until the background indexer has taken in every change up
    /// to `seq`; whether it has. A search waits for the writes just before it this way, and
    /// never indexes (or syncs the disk) itself.
    pub fn wait_for(&self, seq: u64, timeout: std::time::Duration) -> bool {
        if self.watermark() >= seq {
            return true;
        }
        struct Waiting<'a>(&'a std::sync::atomic::AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        self.waiters.fetch_add(1, Ordering::SeqCst);
        let _waiting = Waiting(&self.waiters);
        let until = std::time::Instant::now() + timeout;
        let mut guard = self.committed.0.lock().unwrap_or_else(|p| p.into_inner());
        while self.watermark() < seq {
            let left = until.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return false;
            }
            guard = self
                .committed
                .1
                .wait_timeout(guard, left)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
        true
    }

    /// How many order changes the index has not taken in yet.
    pub fn lag(&self, store: &Store) -> Result<u64, AppError> {
        let head = store.read(orders::last_change)?;
        Ok(head.saturating_sub(self.watermark()))
    }

    fn term(&self, t: &str) -> Box<dyn Query> {
        Box::new(TermQuery::new(
            Term::from_field_text(self.text, t),
            IndexRecordOption::WithFreqs,
        ))
    }

    /// The best `limit` hits of a query, as order ids (read from the id column).
    fn top(&self, query: &dyn Query, limit: usize) -> Result<Vec<OrderId>, AppError> {
        self.top_with(&self.reader.searcher(), query, limit)
    }

    fn top_with(
        &self,
        searcher: &Searcher,
        query: &dyn Query,
        limit: usize,
    ) -> Result<Vec<OrderId>, AppError> {
        let hits = searcher
            .search(query, &TopDocs::with_limit(limit.max(1)).order_by_score())
            .map_err(internal)?;
        let mut out = Vec::with_capacity(hits.len());
        for (_, addr) in hits {
            if let Some(id) = id_of(searcher, addr)? {
                out.push(OrderId(id));
            }
        }
        Ok(out)
    }
}

fn id_of(searcher: &Searcher, addr: DocAddress) -> Result<Option<u64>, AppError> {
    let column = searcher
        .segment_reader(addr.segment_ord)
        .fast_fields()
        .u64("id")
        .map_err(internal)?;
    Ok(column.first(addr.doc_id))
}
