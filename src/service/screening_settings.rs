//! Settings for screening and classification the office edits: emergency words, the scripts
//! read for each exclusion code, and the category tree.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Actor, App};
use crate::domain::category::{Categories, Category};
use crate::domain::exclusion::EXCLUSIONS;
use crate::domain::intake::{EmergencyWord, default_emergency_words};
use crate::domain::role::Permission;
use crate::error::AppError;
use crate::store::{Tx, audit, meta};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Screening {
    pub emergency_words: Vec<EmergencyWord>,
    /// Exclusion code (as text, "1"–"10") → the script read to the caller.
    pub exclusion_scripts: BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    emergency_words: Vec<EmergencyWord>,
    exclusion_scripts: BTreeMap<String, String>,
}

impl crate::store::codec::Record for Stored {
    const KIND: &'static str = "screening";
    const VERSION: u8 = 1;
}

/// The emergency words alone (what every intake's hints need).
pub fn emergency_words(tx: &impl Tx) -> Result<Vec<EmergencyWord>, AppError> {
    let stored: Option<Stored> = meta::get(tx, "screening")?;
    Ok(stored.map_or_else(default_emergency_words, |s| s.emergency_words))
}

pub fn load(tx: &impl Tx) -> Result<Screening, AppError> {
    let stored: Option<Stored> = meta::get(tx, "screening")?;
    let mut scripts: BTreeMap<String, String> = EXCLUSIONS
        .iter()
        .map(|e| (e.code.to_string(), e.script.to_string()))
        .collect();
    let words = match stored {
        Some(s) => {
            scripts.extend(s.exclusion_scripts);
            s.emergency_words
        }
        None => default_emergency_words(),
    };
    Ok(Screening {
        emergency_words: words,
        exclusion_scripts: scripts,
    })
}

/// The screening settings now (scripts and emergency words), for the desks and the admin.
pub fn get(app: &App) -> Result<Screening, AppError> {
    app.store.read(load)
}

/// The script read to the caller for an exclusion code, as the office has written it.
pub fn script_for(tx: &impl Tx, code: u8) -> Result<String, AppError> {
    Ok(load(tx)?
        .exclusion_scripts
        .get(&code.to_string())
        .cloned()
        .unwrap_or_default())
}

pub fn save(app: &App, actor: &Actor, s: Screening) -> Result<Screening, AppError> {
    actor.require(Permission::SettingsManage)?;
    let mut words = Vec::new();
    for w in s.emergency_words {
        let (word, number) = (w.word.trim().to_string(), w.number.trim().to_string());
        if word.is_empty() {
            continue;
        }
        if word.chars().count() > 16 || !matches!(number.as_str(), "110" | "119" | "120" | "122") {
            return Err(AppError::invalid(
                "emergency_words",
                format!("「{word}」：紧急词不超过 16 字，号码应为 110/119/120/122"),
            ));
        }
        words.push(EmergencyWord { word, number });
    }
    let mut scripts = BTreeMap::new();
    for (code, text) in s.exclusion_scripts {
        let n: u8 = code
            .parse()
            .map_err(|_| AppError::invalid("exclusion_scripts", "理由代码应为 1–10"))?;
        if !(1..=10).contains(&n) {
            return Err(AppError::invalid("exclusion_scripts", "理由代码应为 1–10"));
        }
        let t = text.trim();
        if t.is_empty() || t.chars().count() > 1000 {
            return Err(AppError::invalid(
                "exclusion_scripts",
                format!("代码 {n} 的告知口径须为 1–1000 字"),
            ));
        }
        scripts.insert(n.to_string(), t.to_string());
    }
    let now = app.now();
    let stored = Stored {
        emergency_words: words,
        exclusion_scripts: scripts,
    };
    app.store.write(|tx| -> Result<(), AppError> {
        meta::put(tx, "screening", &stored)?;
        audit::append(
            tx,
            now,
            actor.event(
                "screening.update",
                None,
                "修改紧急词和不予受理告知口径".into(),
            ),
        )?;
        Ok(())
    })?;
    app.store.read(load)
}

/// Adds a category or renames one (codes never change: orders keep them).
pub fn put_category(app: &App, actor: &Actor, c: Category) -> Result<Categories, AppError> {
    actor.require(Permission::SettingsManage)?;
    let code = c.code.trim().to_string();
    if code.is_empty()
        || code.len() > 16
        || !code
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
    {
        return Err(AppError::invalid("code", "分类编码须为 1–16 位字母或数字"));
    }
    let name = c.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 32 {
        return Err(AppError::invalid("name", "分类名称须为 1–32 个字"));
    }
    let now = app.now();
    app.store.write(|tx| -> Result<Categories, AppError> {
        let mut cats: Categories = meta::get(tx, "categories")?.unwrap_or_default();
        let parent = c
            .parent
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string);
        if let Some(p) = &parent {
            if p == &code {
                return Err(AppError::invalid("parent", "上级分类不能是自身"));
            }
            let depth = {
                let mut d = 1;
                let mut cur = cats
                    .get(p)
                    .ok_or_else(|| AppError::invalid("parent", "上级分类不存在"))?;
                while let Some(pp) = cur.parent.as_deref().and_then(|x| cats.get(x)) {
                    d += 1;
                    cur = pp;
                }
                d
            };
            if depth >= 3 {
                return Err(AppError::invalid("parent", "分类最多三级"));
            }
        }
        match cats.items.iter_mut().find(|x| x.code == code) {
            Some(existing) => {
                existing.name = name.clone();
            }
            None => cats.items.push(Category {
                code: code.clone(),
                name: name.clone(),
                parent,
            }),
        }
        meta::put(tx, "categories", &cats)?;
        audit::append(
            tx,
            now,
            actor.event("category.update", None, format!("分类 {code} {name}")),
        )?;
        Ok(cats)
    })
}
