//! An order as a given user may see it: caller data masked per role (SPEC §3), deadlines
//! with the time left, and the actions this user may take now.

use std::collections::HashMap;

use serde::Serialize;

use super::OrderConfig;
use crate::domain::calendar::{Calendar, Deadline, DueState};
use crate::domain::order::{Order, Round};
use crate::domain::order_state::{State, allowed_actions};
use crate::domain::role::Role;
use crate::domain::time::Timestamp;
use crate::domain::unit::{Unit, UnitId};
use crate::domain::validate::{mask_id, mask_name, mask_phone};
use crate::service::Actor;

#[derive(Serialize, Default)]
pub struct CallerView {
    /// A confidential order hides the caller from the unit entirely.
    pub hidden: bool,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub phone_masked: bool,
    pub id_number: Option<String>,
    pub gender: Option<&'static str>,
    pub consent_phone: bool,
    #[serde(rename = "type")]
    pub caller_type: Option<String>,
}

#[derive(Serialize, Clone)]
pub struct UnitBrief {
    pub id: u64,
    pub code: String,
    pub name: String,
}

#[derive(Serialize)]
pub struct DueView {
    pub kind: &'static str,
    pub due: String,
    pub due_display: String,
    pub state: DueState,
    /// 剩 2 个工作日 / 已超期 5 小时.
    pub left: String,
}

#[derive(Serialize)]
pub struct RoundView {
    pub no: u32,
    pub unit: UnitBrief,
    pub co_units: Vec<UnitBrief>,
    pub dispatched_at: String,
    pub sign_due: String,
    pub handle_due: Option<String>,
    pub signed_at: Option<String>,
    pub extensions: Vec<serde_json::Value>,
    pub returns: Vec<serde_json::Value>,
    pub replies: Vec<serde_json::Value>,
    pub progress: Vec<serde_json::Value>,
    pub urges: u32,
}

#[derive(Serialize)]
pub struct TimelineView {
    pub at: String,
    pub at_display: String,
    pub user: String,
    pub role: Role,
    pub action: String,
    pub note: String,
}

#[derive(Serialize)]
pub struct OrderView {
    pub id: u64,
    pub number: String,
    pub query_code: Option<String>,
    pub version: u64,
    pub state: State,
    pub state_label: &'static str,
    pub channel: &'static str,
    pub channel_label: &'static str,
    pub external_id: Option<String>,
    pub external_due: Option<String>,
    pub line: &'static str,
    pub line_label: &'static str,
    pub kind: &'static str,
    pub kind_label: &'static str,
    pub urgency: &'static str,
    pub urgency_label: &'static str,
    pub category: Option<String>,
    pub category_path: Option<String>,
    pub title: String,
    pub content: String,
    pub caller: CallerView,
    pub confidential: bool,
    pub address: crate::domain::order::Address,
    pub risk_tags: Vec<&'static str>,
    pub enterprise: Option<crate::domain::order::Enterprise>,
    pub deputy: Option<crate::domain::order::Deputy>,
    pub rounds: Vec<RoundView>,
    pub callbacks: Vec<serde_json::Value>,
    pub timeline: Vec<TimelineView>,
    pub flags: crate::domain::order::Flags,
    pub reject_code: Option<u8>,
    pub answer: Option<String>,
    /// Knowledge articles the direct answer cited, with the version used.
    pub cited: Vec<(u64, u32)>,
    pub closure: Option<crate::domain::order::ClosureKind>,
    pub created_at: String,
    pub created_display: String,
    pub updated_at: String,
    pub closed_at: Option<String>,
    pub due: Option<DueView>,
    pub actions: Vec<&'static str>,
    /// Unreachable callback attempts in the current round (the third moves on).
    pub callback_attempts: usize,
    pub attachments: Vec<crate::domain::attachment::AttachmentRef>,
}

/// Remaining time in words, in working time for working-day limits.
pub fn left_text(cal: &Calendar, now: Timestamp, due: Timestamp) -> String {
    if now > due {
        let mins = (now.secs() - due.secs()) / 60;
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
        let mins = (due.secs() - now.secs()) / 60;
        if mins >= 60 {
            format!("剩 {} 小时 {} 分", mins / 60, mins % 60)
        } else {
            format!("剩 {mins} 分钟")
        }
    }
}

pub fn due_view(cal: &Calendar, now: Timestamp, kind: &'static str, d: Deadline) -> DueView {
    DueView {
        kind,
        due: d.due.rfc3339_cst(),
        due_display: d.due.display_cst(),
        state: d.state(now),
        left: left_text(cal, now, d.due),
    }
}

fn caller_view(o: &Order, role: Role) -> CallerView {
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

fn brief(units: &HashMap<UnitId, Unit>, id: UnitId) -> UnitBrief {
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

fn round_view(
    r: &Round,
    units: &HashMap<UnitId, Unit>,
    names: &dyn Fn(u64) -> String,
) -> RoundView {
    use serde_json::json;
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
            .map(|e| json!({"days": e.days, "reason": e.reason, "requested_at": e.requested_at.rfc3339_cst(), "approved": e.approved, "note": e.note}))
            .collect(),
        returns: r
            .returns
            .iter()
            .map(|x| json!({"reason": x.reason, "basis": x.basis, "at": x.at.rfc3339_cst(), "approved": x.approved, "note": x.note}))
            .collect(),
        replies: r
            .replies
            .iter()
            .map(|x| json!({
                "result": x.result, "resolved": x.resolved, "contacted": x.contact.contacted,
                "contacted_at": x.contact.at, "contact_method": x.contact.how,
                "public_reply": x.public_reply, "at": x.at.rfc3339_cst(), "by": names(x.by.0),
                "on_behalf": x.on_behalf, "approved": x.approved, "review_note": x.review_note,
            }))
            .collect(),
        progress: r
            .progress
            .iter()
            .map(|(at, by, note)| json!({"at": at.rfc3339_cst(), "by": names(by.0), "note": note}))
            .collect(),
        urges: r.urges,
    }
}

pub fn build(
    o: &Order,
    actor: &Actor,
    cfg: &OrderConfig,
    units: &HashMap<UnitId, Unit>,
    now: Timestamp,
) -> OrderView {
    let role = actor.role;
    let staff = role != Role::Unit;
    let names = |id: u64| {
        o.timeline
            .iter()
            .find(|t| t.user.0 == id)
            .map(|t| t.user_name.clone())
            .unwrap_or_default()
    };
    let mut actions: Vec<&'static str> = allowed_actions(o.state, role)
        .into_iter()
        .filter(|a| super::actions::applies(o, actor, *a))
        .map(|a| a.code())
        .collect();
    actions.dedup();
    let due = match o.state {
        State::Dispatched => o
            .current_round()
            .map(|r| due_view(&cfg.calendar, now, "sign", r.sign)),
        State::InProgress => o
            .current_round()
            .and_then(|r| r.handle)
            .map(|h| due_view(&cfg.calendar, now, "handle", h)),
        _ => None,
    };
    OrderView {
        id: o.id.0,
        number: o.number.clone(),
        query_code: staff.then(|| o.query_code.clone()),
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
        title: o.title.clone(),
        content: o.content.clone(),
        caller: caller_view(o, role),
        confidential: o.confidential,
        address: o.address.clone(),
        risk_tags: o.risk_tags.iter().map(|t| t.label()).collect(),
        enterprise: o.enterprise.clone(),
        deputy: o.deputy.clone(),
        rounds: o
            .rounds
            .iter()
            .map(|r| round_view(r, units, &names))
            .collect(),
        callbacks: if staff {
            o.callbacks
                .iter()
                .map(|c| serde_json::json!({"satisfaction": c.satisfaction, "resolved": c.resolved, "note": c.note, "at": c.at.rfc3339_cst(), "round": c.round}))
                .collect()
        } else {
            Vec::new()
        },
        timeline: o
            .timeline
            .iter()
            .map(|t| TimelineView {
                at: t.at.rfc3339_cst(),
                at_display: t.at.display_cst(),
                user: t.user_name.clone(),
                role: t.role,
                action: t.action.clone(),
                note: t.note.clone(),
            })
            .collect(),
        flags: o.flags.clone(),
        reject_code: o.reject_code,
        answer: o.answer.clone(),
        cited: o.cited.clone(),
        closure: o.closure,
        created_at: o.created_at.rfc3339_cst(),
        created_display: o.created_at.display_cst(),
        updated_at: o.updated_at.rfc3339_cst(),
        closed_at: o.closed_at.map(|t| t.rfc3339_cst()),
        due,
        actions,
        callback_attempts: o.callback_attempts(),
        attachments: o.attachments.clone(),
    }
}
