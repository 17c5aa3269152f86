//! What the operator should know while registering: the caller's history, the blacklist,
//! emergencies, likely duplicates and knowledge articles.

use serde_json::{Value, json};

use crate::domain::intake::{Bigrams, EmergencyWord, emergency_hits};
use crate::domain::order::{Address, OrderGist, OrderId};
use crate::domain::order_index::{Key, Kind};
use crate::domain::role::Permission;
use crate::domain::time::Timestamp;
use crate::domain::validate::normalize_phone;
use crate::error::AppError;
use crate::service::{Actor, App};
use crate::store::{Tx, gists, orders};

/// The window duplicates are looked for in (SPEC §4: the last 90 days).
pub const DUPLICATE_DAYS: i64 = 90;

/// The caller's and the address's newest orders of the window compared at most (each is
/// read as its gist; five duplicates at most are shown).
const SAME_CALLER: usize = 20;
const SAME_ADDRESS: usize = 10;

/// Orders taken from the full-text index as candidates for "similar" (each is then read and
/// compared by its bigrams).
const SIMILAR_CANDIDATES: usize = 10;

/// Orders of the last 90 days most like `text`, from the full-text index (none without one):
/// found before any write transaction, so intake never searches while holding it.
pub fn similar(app: &App, text: &str) -> Vec<OrderId> {
    let now = app.now();
    let since = now.plus_secs(-DUPLICATE_DAYS * 86400);
    let Some(ix) = app.search.get() else {
        return Vec::new();
    };
    // A hint is help, never a condition of registering: whatever goes wrong in the index
    // (an error, or a panic inside it) leaves the order without this hint, not unregistered.
    let found = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ix.similar(text, since, now, SIMILAR_CANDIDATES)
    }));
    match found {
        Ok(Ok(ids)) => ids,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "similar-order lookup failed");
            Vec::new()
        }
        Err(_) => {
            tracing::error!("similar-order lookup panicked");
            Vec::new()
        }
    }
}

/// What the operator should know while registering: emergencies and likely duplicates —
/// the same caller, the same address, or similar words within the last 90 days, from the
/// indexes (`similar` comes from the full-text index).
#[allow(clippy::too_many_arguments)]
pub fn hints(
    tx: &impl Tx,
    emergency: &[EmergencyWord],
    now: Timestamp,
    phone: Option<&str>,
    content: &str,
    address: &Address,
    exclude: Option<OrderId>,
    similar: &[OrderId],
) -> Result<Vec<Value>, AppError> {
    let mut warnings = Vec::new();
    if let Some(p) = phone {
        warnings.extend(crate::service::blacklist::warnings(tx, p, now)?);
    }
    let hits = emergency_hits(content, emergency);
    if !hits.is_empty() {
        let mut numbers: Vec<&str> = hits.iter().map(|h| h.number.as_str()).collect();
        numbers.dedup();
        warnings.push(json!({
            "code": "emergency",
            "words": hits.iter().map(|h| h.word.as_str()).collect::<Vec<_>>(),
            "numbers": numbers,
        }));
    }
    let since = now.plus_secs(-DUPLICATE_DAYS * 86400);
    let mut candidates: Vec<(OrderId, &'static str)> = Vec::new();
    if let Some(p) = phone {
        let prefix = Key::new(Kind::ByPhone).str(p);
        for id in super::index::between(tx, &prefix, Some(since), None, 0, SAME_CALLER)? {
            candidates.push((id, "same_caller"));
        }
    }
    if let Some(detail) = address.detail.as_deref().filter(|d| !d.trim().is_empty()) {
        let prefix = crate::domain::order_index::address_key(address.town.as_deref(), detail);
        for id in super::index::between(tx, &prefix, Some(since), None, 0, SAME_ADDRESS)? {
            candidates.push((id, "same_address"));
        }
    }
    candidates.extend(similar.iter().map(|id| (*id, "similar_content")));
    let mut scored: Vec<(f64, &'static str, OrderGist)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mine = Bigrams::of(content);
    for (id, why) in candidates {
        if Some(id) == exclude || !seen.insert(id) {
            continue;
        }
        let Some(o) = gists::get(tx, id)? else {
            continue;
        };
        if o.created_at < since {
            continue;
        }
        let sim = mine.similarity_to(&o.content);
        let score = match why {
            "same_caller" => 0.5 + 0.5 * sim,
            "same_address" => 0.5 + 0.5 * sim,
            _ => sim,
        };
        if score >= 0.45 {
            scored.push((score, why, o));
        }
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let dups: Vec<Value> = scored
        .iter()
        .filter(|(s, _, _)| *s >= 0.5)
        .take(5)
        .map(|(s, why, o)| {
            json!({
                "id": o.id.0,
                "number": o.number,
                "title": o.title,
                "state": o.state,
                "created_at": o.created_at.rfc3339_cst(),
                "channel": o.channel.code(),
                "score": (s * 100.0).round() / 100.0,
                "reason": why,
            })
        })
        .collect();
    if !dups.is_empty() {
        warnings.push(json!({
            "code": "possible_duplicate",
            "order_ids": dups.iter().map(|d| d["id"].clone()).collect::<Vec<_>>(),
            "orders": dups,
        }));
    }
    Ok(warnings)
}

/// Intake hints for the live form (no order yet).
pub fn live_hints(
    app: &App,
    actor: &Actor,
    phone: Option<&str>,
    content: &str,
    address: &Address,
) -> Result<Value, AppError> {
    actor.require(Permission::OrdersCreate)?;
    let now = app.now();
    let near = similar(app, content);
    app.store.read(|tx| -> Result<Value, AppError> {
        let emergency = crate::service::screening_settings::emergency_words(tx)?;
        let phone = phone.and_then(normalize_phone);
        let warnings = hints(tx, &emergency, now, phone.as_deref(), content, address, None, &near)?;
        let history: Vec<Value> = match &phone {
            Some(p) => super::index::newest(tx, &Key::new(Kind::ByPhone).str(p), 0, 20)?
                .into_iter()
                .filter_map(|id| orders::row(tx, id).ok().flatten())
                .map(|o| {
                    json!({"id": o.id.0, "number": o.number, "title": o.title, "state": o.state,
                           "state_label": o.state.label(), "created_at": o.created_at.display_cst(), "unit": o.unit.map(|u| u.0)})
                })
                .collect(),
            None => Vec::new(),
        };
        let today = now.cst_day();
        let articles: Vec<Value> = crate::service::knowledge::search_in(tx, content, &today, true, 3)?
            .into_iter()
            .filter(|(score, _)| *score >= 0.15)
            .map(|(_, a)| json!({"id": a.id, "version": a.version, "title": a.title, "body": a.body, "doc_no": a.doc_no}))
            .collect();
        Ok(json!({"phone_valid": phone.is_some(), "history": history, "warnings": warnings, "articles": articles}))
    })
}
