//! Hot topics (热点): the categories, towns and title words with the most registrations in a
//! period, and how many the period before it of the same length had — rising ones first.
//! Categories and towns from the index's per-day counters, words from the per-day word facts
//! (`order_facts::Dim::Word`, kept by the write path) less the county's stop words: two
//! periods of day ranges, never the orders.

use serde::Serialize;

use super::Period;
use super::table::{Cell, Column, Table};
use crate::domain::order_facts::{Dim, Measure, Value};
use crate::domain::order_index::Kind;
use crate::domain::role::Permission;
use crate::error::AppError;
use crate::service::{Actor, App};
use crate::store::Tx;

#[derive(Clone, Debug, Serialize)]
pub struct Topic {
    pub code: String,
    pub name: String,
    pub count: u64,
    pub previous: u64,
}

/// A word of the titles: in how many orders' titles it was, this period and the one before.
#[derive(Clone, Debug, Serialize)]
pub struct Word {
    pub word: String,
    pub count: u64,
    pub previous: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Hot {
    pub period: Period,
    pub previous: Period,
    pub categories: Vec<Topic>,
    pub towns: Vec<Topic>,
    pub words: Vec<Word>,
}

/// The county's stop words: words of titles that say nothing of the matter (反映, 问题, …),
/// left out of the hot words. A setting; the defaults until the admin saves a list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StopWords {
    pub words: Vec<String>,
}

impl crate::store::codec::Record for StopWords {
    const KIND: &'static str = "stop_words";
    const VERSION: u8 = 1;
}

const STOP_WORDS_KEY: &str = "hot-stop-words";
/// The most stop words kept, and the longest one (in characters).
pub const MAX_STOP_WORDS: usize = 2000;
const MAX_STOP_WORD_CHARS: usize = 20;

impl Default for StopWords {
    fn default() -> Self {
        let words = "反映 问题 要求 希望 请求 市民 群众 来电 咨询 投诉 举报 建议 求助 表扬 \
                     处理 解决 落实 相关 有关 部门 情况 关于 进行 没有 不能 无法 已经 一直 \
                     目前 现在 至今 多次 长期 严重 导致 存在 是否 如何 什么 怎么 为何 \
                     我们 他们 自己 本人 家里 一个 这个 那个 工单 诉求 回复 答复";
        StopWords {
            words: words.split_whitespace().map(str::to_string).collect(),
        }
    }
}

impl StopWords {
    /// Cleans an edited list: one word a line or separated by spaces or commas, trimmed,
    /// each once, in the order given. Too many or too long: the field and why.
    pub fn parse(text: &str) -> Result<StopWords, AppError> {
        let mut seen = std::collections::BTreeSet::new();
        let mut words = Vec::new();
        for w in
            text.split(|c: char| c.is_whitespace() || matches!(c, ',' | '，' | '、' | ';' | '；'))
        {
            let w = w.trim().to_lowercase();
            if w.is_empty() {
                continue;
            }
            if w.chars().count() > MAX_STOP_WORD_CHARS || w.chars().any(char::is_control) {
                return Err(AppError::invalid(
                    "words",
                    format!(
                        "停用词每个最多 {MAX_STOP_WORD_CHARS} 个字：{}",
                        w.chars().take(MAX_STOP_WORD_CHARS).collect::<String>()
                    ),
                ));
            }
            if seen.insert(w.clone()) {
                words.push(w);
            }
        }
        if words.len() > MAX_STOP_WORDS {
            return Err(AppError::invalid(
                "words",
                format!("停用词最多 {MAX_STOP_WORDS} 个"),
            ));
        }
        Ok(StopWords { words })
    }
}

pub fn stop_words_in(tx: &impl Tx) -> Result<StopWords, AppError> {
    Ok(crate::store::meta::get(tx, STOP_WORDS_KEY)?.unwrap_or_default())
}

pub fn stop_words(app: &App, actor: &Actor) -> Result<StopWords, AppError> {
    actor.require(Permission::ReportsRead)?;
    app.store.read(stop_words_in)
}

/// Saves the county's stop words (the admin), audited with how many there are.
pub fn save_stop_words(app: &App, actor: &Actor, words: StopWords) -> Result<StopWords, AppError> {
    actor.require(Permission::AssessmentManage)?;
    let words = StopWords::parse(&words.words.join("\n"))?;
    let now = app.now();
    app.store.write(|tx| -> Result<StopWords, AppError> {
        crate::store::meta::put(tx, STOP_WORDS_KEY, &words)?;
        crate::store::audit::append(
            tx,
            now,
            actor.event(
                "reports.stop_words",
                None,
                format!("热点停用词：共 {} 个", words.words.len()),
            ),
        )?;
        Ok(words.clone())
    })
}

/// The words of the titles registered in `p`, by how many orders had each.
fn word_counts(
    tx: &impl Tx,
    p: &Period,
) -> Result<std::collections::BTreeMap<String, u64>, AppError> {
    let mut out = std::collections::BTreeMap::new();
    if p.to_day <= p.from_day {
        return Ok(out);
    }
    crate::store::facts::fold(tx, Dim::Word, p.from_day, p.to_day - 1, |f, n| {
        if let (Value::Code(w), Measure::Mentioned) = (f.value, f.measure) {
            *out.entry(w).or_default() += n;
        }
    })?;
    Ok(out)
}

fn words(tx: &impl Tx, p: &Period, before: &Period) -> Result<Vec<Word>, AppError> {
    let stop: std::collections::BTreeSet<String> = stop_words_in(tx)?.words.into_iter().collect();
    let now = word_counts(tx, p)?;
    let then = word_counts(tx, before)?;
    let v: Vec<Word> = now
        .into_iter()
        .filter(|(w, _)| !stop.contains(w))
        .map(|(w, n)| Word {
            previous: then.get(&w).copied().unwrap_or(0),
            count: n,
            word: w,
        })
        .collect();
    Ok(rank(v, |w| (w.count, w.previous, w.word.as_str())))
}

/// The period of the same length just before `p`.
pub fn previous(p: &Period, now: crate::domain::time::Timestamp) -> Result<Period, AppError> {
    let days = i64::from(p.to_day - p.from_day);
    let from = p.start.plus_secs(-days * 86_400).cst_day();
    Period::parse(Some(&from), Some(&p.from), now)
}

/// Rising first (by how many more than before), then by count, then by name; at most 30.
/// `key` gives an item's (count, previous, name).
fn rank<T>(mut v: Vec<T>, key: impl Fn(&T) -> (u64, u64, &str)) -> Vec<T> {
    v.sort_by(|a, b| {
        let (ca, pa, na) = key(a);
        let (cb, pb, nb) = key(b);
        let rise = |c: u64, p: u64| c as i64 - p as i64;
        rise(cb, pb)
            .cmp(&rise(ca, pa))
            .then(cb.cmp(&ca))
            .then(na.cmp(nb))
    });
    v.truncate(30);
    v
}

fn topics(
    tx: &impl Tx,
    kind: Kind,
    p: &Period,
    before: &Period,
    name: impl Fn(&str) -> String,
) -> Result<Vec<Topic>, AppError> {
    let now = super::bulletin::by_value(tx, kind, p)?;
    let then = super::bulletin::by_value(tx, kind, before)?;
    let mut out: Vec<Topic> = Vec::new();
    for (v, n) in &now {
        let code = super::bulletin::text(v);
        out.push(Topic {
            name: name(&code),
            count: *n,
            previous: then.get(v).copied().unwrap_or(0),
            code,
        });
    }
    Ok(rank(out, |t| (t.count, t.previous, t.name.as_str())))
}

pub fn hot(app: &App, actor: &Actor, p: &Period) -> Result<Hot, AppError> {
    actor.require(Permission::ReportsRead)?;
    let now = app.now();
    let before = previous(p, now)?;
    app.store.read(|tx| -> Result<Hot, AppError> {
        let cats: crate::domain::category::Categories =
            crate::store::meta::get(tx, "categories")?.unwrap_or_default();
        let path = |c: &str| {
            let p = cats.path(c);
            if p.is_empty() { c.to_string() } else { p }
        };
        Ok(Hot {
            categories: topics(tx, Kind::ByCategory, p, &before, path)?,
            towns: topics(tx, Kind::ByTown, p, &before, str::to_string)?,
            words: words(tx, p, &before)?,
            period: p.clone(),
            previous: before,
        })
    })
}

pub fn table(h: &Hot) -> Table {
    let col = |name, width| Column { name, width };
    let mut rows = Vec::new();
    for (section, list) in [("诉求分类", &h.categories), ("乡镇（街道）", &h.towns)] {
        for t in list {
            rows.push(vec![
                Cell::text(section),
                Cell::text(t.name.clone()),
                Cell::int(t.count),
                Cell::int(t.previous),
                Cell::Number(t.count as f64 - t.previous as f64),
            ]);
        }
    }
    for w in &h.words {
        rows.push(vec![
            Cell::text("热词"),
            Cell::text(w.word.clone()),
            Cell::int(w.count),
            Cell::int(w.previous),
            Cell::Number(w.count as f64 - w.previous as f64),
        ]);
    }
    Table {
        title: format!(
            "热点诉求（{} 至 {}，对比 {} 至 {}）",
            h.period.from, h.period.last, h.previous.from, h.previous.last
        ),
        columns: vec![
            col("类别", 12),
            col("热点", 30),
            col("本期", 8),
            col("上期", 8),
            col("增减", 8),
        ],
        rows,
    }
}
