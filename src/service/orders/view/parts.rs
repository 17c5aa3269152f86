//! The pieces an order view is made of: caller, units, rounds, deadlines, timeline.

use super::*;

/// Remaining time in words, in working time for working-day limits.
pub fn left_text(cal: &Calendar, now: Timestamp, due: Timestamp) -> String {
    if now > due {
        let mins = (now.secs().saturating_sub(due.secs())) / 60;
        return if mins >= 24 * 60 {
            format!("已超期 {} 天", mins / (24 * 60))
        } else if mins >= 60 {
            format!("已超期 {} 小时", mins / 60)
        } else {
            format!("已超期 {} 分钟", mins.max(1))
        };
    }
    let days = cal.working_days_between(now, due);
    if days >= 1.0 {
        format!("剩 {} 个工作日", days.floor() as i64)
    } else {
        let mins = (due.secs().saturating_sub(now.secs())) / 60;
        if mins >= 60 {
            format!("剩 {} 小时 {} 分", mins / 60, mins % 60)
        } else {
            format!("剩 {mins} 分钟")
        }
    }
}

/// How long something has waited, in clock time: 已等待 2 天 3 小时 / 5 小时 20 分 / 12 分钟.
pub fn waited_text(since: Timestamp, now: Timestamp) -> String {
    let mins = now.secs().saturating_sub(since.secs()).max(0) / 60;
    if mins >= 24 * 60 {
        format!(
            "已等待 {} 天 {} 小时",
            mins / (24 * 60),
            mins % (24 * 60) / 60
        )
    } else if mins >= 60 {
        format!("已等待 {} 小时 {} 分", mins / 60, mins % 60)
    } else {
        format!("已等待 {mins} 分钟")
    }
}

pub fn due_view(cal: &Calendar, now: Timestamp, kind: &'static str, d: Deadline) -> DueView {
    DueView {
        kind,
        due: d.due.rfc3339_cst(),
        due_display: d.due.display_cst(),
        state: d.state(now),
        left: left_text(cal, now, d.due),
        waited: waited_text(d.start, now),
    }
}

pub(super) fn caller_view(o: &Order, role: Role) -> CallerView {
    let c = &o.caller;
    let gender = c.gender.map(|g| g.label());
    match role {
        Role::Unit if o.confidential => CallerView {
            hidden: true,
            ..CallerView::default()
        },
        Role::Unit => CallerView {
            hidden: false,
            name: Some(mask_name(&c.name)),
            phone: c.consent_phone.then(|| c.phone.clone()),
            phone_masked: false,
            id_number: None,
            gender,
            consent_phone: c.consent_phone,
            caller_type: c.caller_type.clone(),
        },
        Role::Operator | Role::ShiftLead | Role::Qa => CallerView {
            hidden: false,
            name: Some(c.name.clone()),
            phone: Some(c.phone.clone()),
            phone_masked: false,
            id_number: c.id_number.as_deref().map(mask_id),
            gender,
            consent_phone: c.consent_phone,
            caller_type: c.caller_type.clone(),
        },
        Role::Supervisor | Role::Admin => CallerView {
            hidden: false,
            name: Some(c.name.clone()),
            phone: Some(mask_phone(&c.phone)),
            phone_masked: true,
            id_number: c.id_number.as_deref().map(mask_id),
            gender,
            consent_phone: c.consent_phone,
            caller_type: c.caller_type.clone(),
        },
    }
}

pub(super) fn brief(units: &HashMap<UnitId, Unit>, id: UnitId) -> UnitBrief {
    match units.get(&id) {
        Some(u) => UnitBrief {
            id: id.0,
            code: u.code.clone(),
            name: u.name.clone(),
        },
        None => UnitBrief {
            id: id.0,
            code: String::new(),
            name: format!("单位 {}", id.0),
        },
    }
}

/// Free text as the audience may read it (units get it redacted).
type Text<'a> = &'a dyn Fn(&str) -> String;

pub(super) fn round_view(
    r: &Round,
    units: &HashMap<UnitId, Unit>,
    names: &dyn Fn(u64) -> String,
    text: Text,
) -> RoundView {
    use serde_json::json;
    let opt = |v: &Option<String>| v.as_deref().map(text);
    RoundView {
        no: r.no,
        unit: brief(units, r.unit),
        co_units: r.co_units.iter().map(|u| brief(units, *u)).collect(),
        dispatched_at: r.dispatched_at.rfc3339_cst(),
        sign_due: r.sign.due.rfc3339_cst(),
        handle_due: r.handle.map(|h| h.due.rfc3339_cst()),
        signed_at: r.signed_at.map(|t| t.rfc3339_cst()),
        extensions: r
            .extensions
            .iter()
            .map(|e| json!({"days": e.days, "reason": text(&e.reason), "requested_at": e.requested_at.rfc3339_cst(), "approved": e.approved, "note": opt(&e.note)}))
            .collect(),
        returns: r
            .returns
            .iter()
            .map(|x| json!({"reason": text(&x.reason), "basis": opt(&x.basis), "at": x.at.rfc3339_cst(), "approved": x.approved, "note": opt(&x.note)}))
            .collect(),
        replies: r
            .replies
            .iter()
            .map(|x| json!({
                "result": text(&x.result), "resolved": x.resolved, "contacted": x.contact.contacted,
                "contacted_at": opt(&x.contact.at), "contact_method": opt(&x.contact.how),
                "public_reply": opt(&x.public_reply), "at": x.at.rfc3339_cst(), "by": names(x.by.0),
                "on_behalf": x.on_behalf, "approved": x.approved, "review_note": opt(&x.review_note),
            }))
            .collect(),
        progress: r
            .progress
            .iter()
            .map(|(at, by, note)| json!({"at": at.rfc3339_cst(), "by": names(by.0), "note": text(note)}))
            .collect(),
        urges: r.urges,
        co_parts: r
            .co_units
            .iter()
            .map(|u| {
                let part = r.co_part(*u);
                json!({
                    "unit": brief(units, *u),
                    "signed_at": part.and_then(|p| p.signed_at).map(|t| t.rfc3339_cst()),
                    "due": part.and_then(|p| p.due).map(|d| d.due.rfc3339_cst()),
                    "opinions": part.map(|p| p.opinions.iter().map(|o| json!({
                        "at": o.at.rfc3339_cst(), "by": names(o.by.0), "text": text(&o.text),
                    })).collect::<Vec<_>>()).unwrap_or_default(),
                })
            })
            .collect(),
    }
}

/// The deadline running now: signing, handling, or the callback (also of a merged order).
pub(super) fn running_due(o: &Order, cfg: &OrderConfig, now: Timestamp) -> Option<DueView> {
    match o.state {
        State::Dispatched => o
            .current_round()
            .map(|r| due_view(&cfg.calendar, now, "sign", r.sign)),
        State::InProgress => o
            .current_round()
            .and_then(|r| r.handle)
            .map(|h| due_view(&cfg.calendar, now, "handle", h)),
        State::CallbackPending => o
            .callback_due
            .map(|d| due_view(&cfg.calendar, now, "callback", d)),
        State::Merged if o.flags.callback_pending => o
            .callback_due
            .map(|d| due_view(&cfg.calendar, now, "callback", d)),
        _ => None,
    }
}

/// A unit's own running deadline: the main unit's signing or handling, a co-unit's signing
/// or opinion.
pub(super) fn unit_due(
    o: &Order,
    unit: UnitId,
    cfg: &OrderConfig,
    now: Timestamp,
) -> Option<DueView> {
    let r = o.current_round()?;
    if r.unit == unit {
        return match o.state {
            State::Dispatched | State::InProgress => running_due(o, cfg, now),
            _ => None,
        };
    }
    if !o.state.is_open() || !matches!(o.state, State::Dispatched | State::InProgress) {
        return None;
    }
    let d = r.co_deadline(unit)?;
    let kind = if r.co_part(unit).is_some_and(|p| p.signed_at.is_some()) {
        "co_opinion"
    } else {
        "sign"
    };
    Some(due_view(&cfg.calendar, now, kind, d))
}

pub(super) fn names_of(o: &Order) -> impl Fn(u64) -> String + '_ {
    |id: u64| {
        o.timeline
            .iter()
            .find(|t| t.user.0 == id)
            .map(|t| t.user_name.clone())
            .unwrap_or_default()
    }
}

pub(super) fn actions_for(
    o: &Order,
    actor: &Actor,
    cfg: &OrderConfig,
    now: Timestamp,
) -> Vec<&'static str> {
    let mut actions: Vec<&'static str> = allowed_actions(o.state, actor.role)
        .into_iter()
        .filter(|a| crate::service::orders::actions::applies(o, actor, *a, cfg, now))
        .map(|a| a.code())
        .collect();
    actions.dedup();
    actions
}

/// A timeline entry for the eye, its words as the audience may read them (`text`); `bare`
/// shows the action alone (a unit's neutral view of the centre's own entries).
pub(super) fn timeline_view(
    t: &crate::domain::order::TimelineEntry,
    units: &HashMap<UnitId, Unit>,
    text: &dyn Fn(&str) -> String,
    bare: bool,
) -> TimelineView {
    let p = t.params();
    let p = if bare {
        EventView::default()
    } else {
        EventView {
            unit: p.unit.map(|u| brief(units, u)),
            co_units: p.co_units.iter().map(|u| brief(units, *u)).collect(),
            round: p.round,
            due: p.due.map(|d| d.display_cst()),
            days: p.days,
            approve: p.approve,
            reason_code: p.reason_code,
            transfer: p.transfer.clone(),
            satisfaction: p.satisfaction.map(|s| s.code()),
            resolved: p.resolved.map(|r| r.code()),
            count: p.count,
            level: p.level.as_deref().map(text),
            order: p.order.clone(),
            stage: p.stage.map(|s| s.code()),
            kind: p.kind.map(|k| k.code()),
            channel: p.channel.map(|c| c.code()),
            file: p.file.as_deref().map(text),
            on_behalf: p.on_behalf,
            capped: p.capped,
            sample: p.sample,
        }
    };
    TimelineView {
        at: t.at.rfc3339_cst(),
        at_display: t.at.display_cst(),
        user: t.user_name.clone(),
        role: t.role,
        action: t.action.clone(),
        p,
        note: if bare { String::new() } else { text(&t.note) },
    }
}
