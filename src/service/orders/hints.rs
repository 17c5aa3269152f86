//! What the operator should know while registering: the caller's history, the blacklist,
//! emergencies, likely duplicates and knowledge articles.

use serde_json::{Value, json};

use crate::domain::intake::{Bigrams, EmergencyWord, emergency_hits};
use crate::domain::limits::span_words;
use crate::domain::order::{self, Address, Line, OrderGist, OrderId, Urgency};
use crate::domain::order_index::{Key, Kind};
use crate::domain::role::Permission;
use crate::domain::time::Timestamp;
use crate::domain::unit::UnitId;
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
    terms: Option<(order::Kind, Urgency, Line)>,
) -> Result<Value, AppError> {
    actor.require(Permission::OrdersCreate)?;
    let now = app.now();
    let near = similar(app, content);
    app.store.read(|tx| -> Result<Value, AppError> {
        let emergency = crate::service::screening_settings::emergency_words(tx)?;
        let phone = phone.and_then(normalize_phone);
        let mut warnings =
            hints(tx, &emergency, now, phone.as_deref(), content, address, None, &near)?;
        // The operator sees, for each likely duplicate, when it came, where it stands and
        // who handles it (staff only: a platform's warnings never carry these).
        for w in warnings.iter_mut().filter(|w| w["code"] == "possible_duplicate") {
            if let Some(list) = w.get_mut("orders").and_then(Value::as_array_mut) {
                for d in list {
                    let Some(id) = d["id"].as_u64() else { continue };
                    if let Some(row) = orders::row(tx, OrderId(id))? {
                        d["state_label"] = json!(row.state.label());
                        d["created_on"] = json!(row.created_at.cst_day());
                        d["unit_name"] = json!(unit_name(tx, row.unit)?);
                    }
                }
            }
        }
        let deadline = match terms {
            Some((kind, urgency, line)) => {
                let cfg = super::config(tx)?;
                let sign_span = cfg.limits.sign(urgency);
                let handle_span = cfg.limits.handle(kind, urgency, line);
                let sign = cfg.calendar.deadline(now, sign_span);
                let handle = cfg.calendar.deadline(sign.due, handle_span);
                json!({
                    "sign_span": span_words(sign_span),
                    "sign_due": sign.due.display_cst(),
                    "handle_span": span_words(handle_span),
                    "handle_due": handle.due.display_cst(),
                })
            }
            None => Value::Null,
        };
        let history: Vec<Value> = match &phone {
            Some(p) => super::index::newest(tx, &Key::new(Kind::ByPhone).str(p), 0, 20)?
                .into_iter()
                .filter_map(|id| orders::row(tx, id).ok().flatten())
                .map(|o| {
                    Ok(json!({"id": o.id.0, "number": o.number, "title": o.title, "state": o.state,
                           "state_label": o.state.label(), "created_at": o.created_at.display_cst(),
                           "unit": o.unit.map(|u| u.0), "unit_name": unit_name(tx, o.unit)?}))
                })
                .collect::<Result<_, AppError>>()?,
            None => Vec::new(),
        };
        let today = now.cst_day();
        let articles: Vec<Value> = crate::service::knowledge::search_in(tx, content, &today, true, 3)?
            .into_iter()
            .filter(|(score, _)| *score >= 0.15)
            .map(|(_, a)| json!({"id": a.id, "version": a.version, "title": a.title, "body": a.body, "doc_no": a.doc_no}))
            .collect();
        Ok(json!({"phone_valid": phone.is_some(), "history": history, "warnings": warnings,
                  "articles": articles, "deadline": deadline}))
    })
}

/// A unit's name for the operator's hints (empty before dispatch).
fn unit_name(tx: &impl Tx, unit: Option<UnitId>) -> Result<String, AppError> {
    Ok(match unit {
        Some(u) => crate::store::units::get(tx, u)?
            .map(|u| u.name)
            .unwrap_or_default(),
        None => String::new(),
    })
}

/// The intake form's check of one caller field as the operator leaves it (the same rules as
/// registering): `{"ok": true}` or `{"ok": false, "message": …}`. Nothing is stored or read.
pub fn check_field(app: &App, actor: &Actor, field: &str, value: &str) -> Result<Value, AppError> {
    actor.require(Permission::OrdersCreate)?;
    let value = value.trim();
    let problem = match field {
        "caller_phone" if value.is_empty() => Some("请填写来电号码".to_string()),
        "caller_phone" => normalize_phone(value)
            .is_none()
            .then(|| crate::domain::validate::PHONE_FORMAT.to_string()),
        "caller_id_number" if value.is_empty() => None,
        "caller_id_number" => {
            let today: u32 = app.now().cst_digits()[..8].parse().unwrap_or(u32::MAX);
            crate::domain::validate::check_id_number(&value.to_ascii_uppercase(), today)
                .err()
                .map(|p| p.message().to_string())
        }
        _ => return Err(AppError::invalid("field", "只能检查来电号码或身份证号码")),
    };
    Ok(match problem {
        Some(m) => json!({"ok": false, "message": m}),
        None => json!({"ok": true}),
    })
}
