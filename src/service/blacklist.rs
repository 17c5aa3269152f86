//! Screening callers: harassment incidents, the repeat-harasser threshold and the blacklist.

use serde::Serialize;
use serde_json::{Value, json};

use super::{Actor, App};
use crate::domain::blacklist::{BlacklistEntry, HarassPolicy};
use crate::domain::role::Permission;
use crate::domain::time::Timestamp;
use crate::domain::validate::normalize_phone;
use crate::error::AppError;
use crate::store::{Tx, audit, blacklist, meta, orders};

pub fn policy(tx: &impl Tx) -> Result<HarassPolicy, AppError> {
    Ok(meta::get(tx, "harass_policy")?.unwrap_or_default())
}

/// The warnings a number earns: `blacklisted` and `repeat_harasser`.
pub fn warnings(tx: &impl Tx, phone: &str, now: Timestamp) -> Result<Vec<Value>, AppError> {
    let mut out = Vec::new();
    if let Some(e) = blacklist::get(tx, phone)?.filter(|e| e.active) {
        out.push(json!({"code": "blacklisted", "reason": e.reason, "review_date": e.review_date}));
    }
    let p = policy(tx)?;
    let since = now.plus_secs(-(i64::from(p.days) * 86400));
    let n = blacklist::incidents(tx, phone, since)?.len();
    if p.is_repeat(n) {
        out.push(json!({"code": "repeat_harasser", "incidents": n, "days": p.days}));
    }
    Ok(out)
}

fn phone_of(raw: &str) -> Result<String, AppError> {
    normalize_phone(raw).ok_or_else(|| AppError::invalid("phone", "电话号码格式不正确"))
}

pub fn add(
    app: &App,
    actor: &Actor,
    phone: &str,
    reason: &str,
    review_date: &str,
) -> Result<BlacklistEntry, AppError> {
    actor.require(Permission::BlacklistManage)?;
    let phone = phone_of(phone)?;
    let reason = reason.trim();
    if reason.chars().count() < 2 || reason.chars().count() > 500 {
        return Err(AppError::invalid(
            "reason",
            "请写明列入黑名单的理由（2–500 字）",
        ));
    }
    let review = Timestamp::parse_cst_date(review_date).ok_or_else(|| {
        AppError::invalid(
            "review_date",
            "复核日期应为 YYYY-MM-DD 的真实日期（2000—2099 年）",
        )
    })?;
    let now = app.now();
    if review <= now {
        return Err(AppError::invalid("review_date", "复核日期应晚于今天"));
    }
    let entry = BlacklistEntry {
        phone: phone.clone(),
        reason: reason.to_string(),
        review_date: review_date.trim().to_string(),
        added_at: now,
        added_by: actor.display_name.clone(),
        active: true,
        lifted_at: None,
        lifted_by: None,
    };
    app.store.write(|tx| -> Result<(), AppError> {
        blacklist::put(tx, &entry)?;
        audit::append(
            tx,
            now,
            actor.event(
                "blacklist.add",
                Some("phone".into()),
                format!("号码列入黑名单，复核日期 {}", entry.review_date),
            ),
        )?;
        Ok(())
    })?;
    Ok(entry)
}

pub fn lift(app: &App, actor: &Actor, phone: &str) -> Result<BlacklistEntry, AppError> {
    actor.require(Permission::BlacklistManage)?;
    let phone = phone_of(phone)?;
    let now = app.now();
    app.store.write(|tx| -> Result<BlacklistEntry, AppError> {
        let mut e = blacklist::get(tx, &phone)?
            .filter(|e| e.active)
            .ok_or(AppError::NotFound)?;
        e.active = false;
        e.lifted_at = Some(now);
        e.lifted_by = Some(actor.display_name.clone());
        blacklist::put(tx, &e)?;
        audit::append(
            tx,
            now,
            actor.event(
                "blacklist.lift",
                Some("phone".into()),
                "号码移出黑名单".into(),
            ),
        )?;
        Ok(e)
    })
}

#[derive(Serialize)]
pub struct EntryView {
    pub phone: String,
    pub reason: String,
    pub review_date: String,
    pub added_at: String,
    pub added_by: String,
    pub active: bool,
    pub review_due: bool,
}

pub fn list(app: &App, actor: &Actor) -> Result<Vec<EntryView>, AppError> {
    actor.require(Permission::BlacklistRead)?;
    let today = app.now().cst_day();
    let mut v: Vec<EntryView> = app
        .store
        .read(blacklist::list)?
        .into_iter()
        .map(|e| EntryView {
            review_due: e.active && e.review_date <= today,
            phone: e.phone,
            reason: e.reason,
            review_date: e.review_date,
            added_at: e.added_at.display_cst(),
            added_by: e.added_by,
            active: e.active,
        })
        .collect();
    v.sort_by(|a, b| {
        b.active
            .cmp(&a.active)
            .then(a.review_date.cmp(&b.review_date))
    });
    Ok(v)
}

/// A number's record for a police report: blacklist state, every incident, every order.
pub fn record(app: &App, actor: &Actor, phone: &str) -> Result<Value, AppError> {
    actor.require(Permission::BlacklistRead)?;
    let phone = phone_of(phone)?;
    let now = app.now();
    app.store.read(|tx| -> Result<Value, AppError> {
        let entry = blacklist::get(tx, &phone)?;
        let incidents: Vec<Value> = blacklist::incidents(tx, &phone, Timestamp(i64::MIN))?
            .into_iter()
            .map(|(at, id)| {
                let o = orders::get(tx, id).ok().flatten();
                json!({
                    "at": at.display_cst(),
                    "order_id": id.0,
                    "number": o.as_ref().map(|o| o.number.clone()),
                    "content": o.as_ref().map(|o| o.content.clone()),
                })
            })
            .collect();
        let prefix = crate::domain::order_index::Key::new(crate::domain::order_index::Kind::ByPhone)
            .str(&phone);
        let calls: Vec<Value> = crate::service::orders::index::newest(tx, &prefix, 0, 200)?
            .into_iter()
            .filter_map(|id| orders::get(tx, id).ok().flatten())
            .map(|o| json!({"id": o.id.0, "number": o.number, "at": o.created_at.display_cst(), "title": o.title, "state": o.state.label()}))
            .collect();
        let p = policy(tx)?;
        Ok(json!({
            "phone": phone,
            "entry": entry.map(|e| json!({"reason": e.reason, "review_date": e.review_date, "added_at": e.added_at.display_cst(), "added_by": e.added_by, "active": e.active})),
            "incidents": incidents,
            "calls": calls,
            "warnings": warnings(tx, &phone, now)?,
            "policy": {"count": p.count, "days": p.days},
            "printed_at": now.display_cst(),
        }))
    })
}
