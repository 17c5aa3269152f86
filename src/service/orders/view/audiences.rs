//! The whole view for each audience: centre staff, and a unit.

use super::parts::*;
use super::*;

pub(super) fn staff_view(
    o: &Order,
    actor: &Actor,
    role: Role,
    cfg: &OrderConfig,
    units: &HashMap<UnitId, Unit>,
    now: Timestamp,
) -> OrderView {
    let names = names_of(o);
    let red = Redactor::for_role(o, role);
    let text = |s: &str| red.apply(s);
    OrderView {
        id: o.id.0,
        number: o.number.clone(),
        query_code: Some(o.query_code.clone()),
        call: o.call.as_ref().map(CallView::of),
        version: o.version,
        state: o.state,
        state_label: o.state.label(),
        channel: o.channel.code(),
        channel_label: o.channel.label(),
        external_id: o.external_id.clone(),
        external_due: o.external_due.map(|t| t.rfc3339_cst()),
        line: o.line.code(),
        line_label: o.line.label(),
        kind: o.kind.code(),
        kind_label: o.kind.label(),
        urgency: o.urgency.code(),
        urgency_label: o.urgency.label(),
        category: o.category.clone(),
        category_path: o.category.as_deref().map(|c| cfg.categories.path(c)),
        title: text(&o.title),
        content: text(&o.content),
        caller: caller_view(o, role),
        confidential: o.confidential,
        address: Address {
            town: o.address.town.clone(),
            village: o.address.village.clone(),
            detail: red.opt(&o.address.detail),
        },
        risk_tags: o.risk_tags.iter().map(|t| t.label()).collect(),
        enterprise: o.enterprise.clone(),
        deputy: o.deputy.clone(),
        rounds: o
            .rounds
            .iter()
            .map(|r| round_view(r, units, &names, &text))
            .collect(),
        callbacks: o
            .callbacks
            .iter()
            .map(|c| serde_json::json!({"satisfaction": c.satisfaction, "resolved": c.resolved, "note": red.opt(&c.note), "at": c.at.rfc3339_cst(), "round": c.round}))
            .collect(),
        timeline: o
            .timeline
            .iter()
            .map(|t| timeline_view(t, units, &text, false))
            .collect(),
        flags: FlagsView {
            supervised: o.flags.supervised.clone(),
            reopen_count: o.flags.reopen_count,
            urge_count: o.flags.urge_count,
            repeat_calls: o.flags.repeat_calls,
            merged_into: o.flags.merged_into.map(|i| i.0),
            merged_from: o.flags.merged_from.iter().map(|i| i.0).collect(),
            callback_pending: o.flags.callback_pending,
            reopen_proposal: o.flags.reopen_proposal.as_ref().map(|p| {
                serde_json::json!({"reason": red.apply(&p.reason), "by": p.by_name, "at": p.at.rfc3339_cst()})
            }),
        },
        reject_code: o.reject_code,
        reject_transfer: o.reject_transfer.clone(),
        reject_told: o.reject_told.clone(),
        answer: red.opt(&o.answer),
        merged_reply: red.opt(&o.merged_reply),
        cited: o.cited.clone(),
        closure: o.closure,
        created_at: o.created_at.rfc3339_cst(),
        created_display: o.created_at.display_cst(),
        updated_at: o.updated_at.rfc3339_cst(),
        closed_at: o.closed_at.map(|t| t.rfc3339_cst()),
        due: running_due(o, cfg, now),
        actions: actions_for(o, actor, cfg, now),
        callback_attempts: Some(o.callback_attempts()),
        // The deadline a pending extension would give, for the one who decides it.
        extension_if_granted: o.rounds.last().and_then(|r| {
            let e = r.extensions.last().filter(|e| e.approved.is_none())?;
            let h = r.handle?;
            Some(
                cfg.calendar
                    .extend(h, e.days)
                    .bounded(o.external_due)
                    .due
                    .display_cst(),
            )
        }),
        attachments: o.attachments.clone(),
        part_ended: false,
    }
}

/// A unit's view: its own rounds and their timeline, the caller masked or hidden, every
/// free text redacted. Built field by field rather than from the staff view on purpose: a
/// field added to orders later reaches a unit only when it is written here. A unit that never
/// held a round of the order gets nothing (the caller of `build` has refused it already; this
/// stays safe regardless).
pub(super) fn unit_view(
    o: &Order,
    actor: &Actor,
    unit: Option<UnitId>,
    cfg: &OrderConfig,
    units: &HashMap<UnitId, Unit>,
    now: Timestamp,
) -> OrderView {
    let mine: Vec<usize> = unit.map(|u| privacy::unit_rounds(o, u)).unwrap_or_default();
    let holds = unit.is_some_and(|u| privacy::holds_now(o, u));
    let red = Redactor::for_role(o, Role::Unit);
    let text = |s: &str| red.apply(s);
    let names = names_of(o);
    let timeline = unit_timeline(o, &mine, &red, units);
    let caller = caller_view(o, Role::Unit);
    OrderView {
        id: o.id.0,
        number: o.number.clone(),
        query_code: None,
        call: None,
        version: o.version,
        state: o.state,
        state_label: o.state.label(),
        channel: o.channel.code(),
        channel_label: o.channel.label(),
        external_id: None,
        external_due: o.external_due.map(|t| t.rfc3339_cst()),
        line: o.line.code(),
        line_label: o.line.label(),
        kind: o.kind.code(),
        kind_label: o.kind.label(),
        urgency: o.urgency.code(),
        urgency_label: o.urgency.label(),
        category: o.category.clone(),
        category_path: o.category.as_deref().map(|c| cfg.categories.path(c)),
        title: text(&o.title),
        content: text(&o.content),
        caller,
        confidential: o.confidential,
        address: Address {
            town: o.address.town.clone(),
            village: o.address.village.clone(),
            detail: red.opt(&o.address.detail),
        },
        risk_tags: o.risk_tags.iter().map(|t| t.label()).collect(),
        enterprise: (!o.confidential).then(|| o.enterprise.clone()).flatten(),
        // A deputy's name is masked like the caller's (they are often the same person).
        deputy: (!o.confidential)
            .then(|| {
                o.deputy.as_ref().map(|d| Deputy {
                    name: mask_name(&d.name),
                    level: d.level.clone(),
                })
            })
            .flatten(),
        rounds: mine
            .iter()
            .filter_map(|i| o.rounds.get(*i))
            .map(|r| round_view(r, units, &names, &text))
            .collect(),
        callbacks: Vec::new(),
        timeline,
        flags: unit_flags(o, holds),
        reject_code: None,
        reject_transfer: None,
        reject_told: None,
        answer: None,
        merged_reply: None,
        cited: Vec::new(),
        closure: None,
        created_at: o.created_at.rfc3339_cst(),
        created_display: o.created_at.display_cst(),
        updated_at: o.updated_at.rfc3339_cst(),
        closed_at: o.closed_at.map(|t| t.rfc3339_cst()),
        due: match unit {
            Some(u) if holds => unit_due(o, u, cfg, now),
            _ => None,
        },
        actions: if holds {
            actions_for(o, actor, cfg, now)
        } else {
            Vec::new()
        },
        callback_attempts: None,
        extension_if_granted: None,
        attachments: o
            .attachments
            .iter()
            .filter(|a| unit.is_some_and(|u| privacy::unit_sees_attachment(o, u, a.at)))
            .map(|a| crate::domain::attachment::AttachmentRef {
                name: red.apply(&a.name),
                ..a.clone()
            })
            .collect(),
        part_ended: !holds,
    }
}

/// The timeline entries of the unit's own rounds (and of registration), each note as
/// `privacy::unit_note` allows.
fn unit_timeline(
    o: &Order,
    mine: &[usize],
    red: &Redactor,
    units: &HashMap<UnitId, Unit>,
) -> Vec<TimelineView> {
    let text = |s: &str| red.apply(s);
    let visible_round = |n: Option<u32>| match n {
        Some(0) => true,
        Some(n) => mine.contains(&(n as usize - 1)),
        None => false,
    };
    o.timeline
        .iter()
        .zip(privacy::timeline_rounds(o))
        .filter(|(_, n)| visible_round(*n))
        .filter_map(|(t, _)| match privacy::unit_note(&t.action) {
            UnitNote::Full => Some(timeline_view(t, units, &text, false)),
            UnitNote::Plain => Some(timeline_view(t, units, &text, true)),
            UnitNote::Hidden => None,
        })
        .collect()
}

/// The flags a unit sees: counts, and the supervision only while it holds the order.
fn unit_flags(o: &Order, holds: bool) -> FlagsView {
    FlagsView {
        supervised: o.flags.supervised.clone().filter(|_| holds),
        reopen_count: o.flags.reopen_count,
        urge_count: o.flags.urge_count,
        repeat_calls: o.flags.repeat_calls,
        merged_into: None,
        merged_from: Vec::new(),
        callback_pending: false,
        reopen_proposal: None,
    }
}
