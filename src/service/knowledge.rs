//! The knowledge base: write and revise articles (each save a new version), search them
//! from intake, and resolve the versions an answer cites.

use serde::{Deserialize, Serialize};

use super::{Actor, App};
use crate::domain::intake::similarity;
use crate::domain::knowledge::{Article, Synonyms};
use crate::domain::role::Permission;
use crate::error::AppError;
use crate::store::{Tx, audit, kb};

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct ArticleInput {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub doc_no: Option<String>,
    #[serde(default)]
    pub valid_from: Option<String>,
    #[serde(default)]
    pub valid_to: Option<String>,
    #[serde(default)]
    pub owner_unit: Option<u64>,
}

fn clean(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A day field as `YYYY-MM-DD`, or `None` when left empty.
fn day(field: &'static str, v: &Option<String>) -> Result<Option<String>, AppError> {
    match clean(v) {
        None => Ok(None),
        Some(d) => crate::domain::time::parse_day(&d)
            .map(|d| Some(crate::domain::time::day_string(d)))
            .ok_or_else(|| {
                AppError::invalid(field, "日期应为 YYYY-MM-DD 的真实日期（2000—2099 年）")
            }),
    }
}

/// Checks the input; the validity days come back normalised.
fn validate(i: &mut ArticleInput) -> Result<(), AppError> {
    let n = i.title.trim().chars().count();
    if !(2..=100).contains(&n) {
        return Err(AppError::invalid("title", "标题须为 2–100 个字"));
    }
    let n = i.body.trim().chars().count();
    if !(2..=20000).contains(&n) {
        return Err(AppError::invalid("body", "正文须为 2–20000 个字"));
    }
    i.valid_from = day("valid_from", &i.valid_from)?;
    i.valid_to = day("valid_to", &i.valid_to)?;
    if let (Some(f), Some(t)) = (&i.valid_from, &i.valid_to)
        && f > t
    {
        return Err(AppError::invalid("valid_to", "失效日期不能早于生效日期"));
    }
    Ok(())
}

/// Creates an article (`id` None) or saves a new version of one.
pub fn save(
    app: &App,
    actor: &Actor,
    id: Option<u64>,
    input: ArticleInput,
) -> Result<Article, AppError> {
    actor.require(Permission::KnowledgeManage)?;
    let mut input = input;
    validate(&mut input)?;
    let now = app.now();
    app.store.write(|tx| -> Result<Article, AppError> {
        let (id, version) = match id {
            Some(id) => {
                let cur = kb::get(tx, id)?.ok_or(AppError::NotFound)?;
                (id, cur.version + 1)
            }
            None => (kb::next_id(tx)?, 1),
        };
        let a = Article {
            id,
            version,
            title: input.title.trim().to_string(),
            body: input.body.trim().to_string(),
            category: clean(&input.category),
            doc_no: clean(&input.doc_no),
            valid_from: clean(&input.valid_from),
            valid_to: clean(&input.valid_to),
            owner_unit: input.owner_unit,
            updated_at: now,
            updated_by: actor.display_name.clone(),
        };
        kb::put(tx, &a)?;
        audit::append(
            tx,
            now,
            actor.event(
                "kb.save",
                Some(format!("kb:{id}")),
                format!("知识库《{}》第 {version} 版", a.title),
            ),
        )?;
        Ok(a)
    })
}

pub fn get(app: &App, actor: &Actor, id: u64) -> Result<(Article, Vec<Article>), AppError> {
    actor.require(Permission::KnowledgeRead)?;
    app.store.read(|tx| -> Result<_, AppError> {
        let a = kb::get(tx, id)?.ok_or(AppError::NotFound)?;
        Ok((a, kb::versions(tx, id)?))
    })
}

/// Articles matching `q` (all when empty), best first; `only_valid` keeps those in force today.
pub fn search_in(
    tx: &impl Tx,
    q: &str,
    today: &str,
    only_valid: bool,
    limit: usize,
) -> Result<Vec<(f64, Article)>, AppError> {
    let q = q.trim();
    // The query as typed and as the office's synonyms spell it; an article scores by the
    // spelling it matches best.
    let variants = synonyms_in(tx)?.expand(q);
    let mut scored: Vec<(f64, Article)> = kb::list(tx)?
        .into_iter()
        .filter(|a| !only_valid || a.valid_on(today))
        .filter_map(|a| {
            if q.is_empty() {
                return Some((0.0, a));
            }
            let text = format!("{} {}", a.title, a.body);
            let score = variants
                .iter()
                .map(|q| {
                    let contains = text.contains(q.as_str())
                        || a.doc_no.as_deref().is_some_and(|d| d.contains(q.as_str()));
                    let s = similarity(q, &a.title).max(similarity(q, &text) * 1.5);
                    if contains { 1.0 + s } else { s }
                })
                .fold(0.0, f64::max);
            (score >= 0.08).then_some((score, a))
        })
        .collect();
    scored.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(b.1.updated_at.cmp(&a.1.updated_at))
    });
    scored.truncate(limit);
    Ok(scored)
}

const SYNONYMS_KEY: &str = "kb-synonyms";

impl crate::store::codec::Record for Synonyms {
    const KIND: &'static str = "kb_synonyms";
    const VERSION: u8 = 1;
}

/// The office's synonyms (the defaults until someone saves a list).
pub fn synonyms_in(tx: &impl Tx) -> Result<Synonyms, AppError> {
    Ok(crate::store::meta::get(tx, SYNONYMS_KEY)?.unwrap_or_default())
}

pub fn synonyms(app: &App, actor: &Actor) -> Result<Synonyms, AppError> {
    actor.require(Permission::KnowledgeRead)?;
    app.store.read(synonyms_in)
}

/// Saves the synonyms (those who keep the knowledge base), checked and audited.
pub fn save_synonyms(app: &App, actor: &Actor, s: Synonyms) -> Result<Synonyms, AppError> {
    actor.require(Permission::KnowledgeManage)?;
    let s = Synonyms::parse(&s.text()).map_err(|m| AppError::invalid("groups", m))?;
    let now = app.now();
    app.store.write(|tx| -> Result<Synonyms, AppError> {
        crate::store::meta::put(tx, SYNONYMS_KEY, &s)?;
        audit::append(
            tx,
            now,
            actor.event(
                "kb.synonyms",
                None,
                format!("知识库同义词：共 {} 组", s.groups.len()),
            ),
        )?;
        Ok(s.clone())
    })
}

pub fn search(app: &App, actor: &Actor, q: &str) -> Result<Vec<Article>, AppError> {
    actor.require(Permission::KnowledgeRead)?;
    let today = app.now().cst_day();
    Ok(app
        .store
        .read(|tx| search_in(tx, q, &today, false, 200))?
        .into_iter()
        .map(|(_, a)| a)
        .collect())
}
