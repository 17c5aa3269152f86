//! A bulk order's life after registration: dispatch, signing, returns, extensions, urges,
//! replies, callbacks, reopens and closing, written straight into the order.

use super::{Draft, deadline, unit_of};
use crate::demo::{BUREAUS, TOWNS};
use crate::domain::calendar::Span;
use crate::domain::order::{
    Callback, ClosureKind, Contact, Extension, Kind, Reply, Resolved, Return, Round, Satisfaction,
};
use crate::domain::order_state::State;
use crate::domain::role::Role;
use crate::domain::time::Timestamp;
use crate::domain::unit::UnitId;
use crate::domain::user::UserId;

impl Draft<'_> {
    pub(super) fn note(&mut self, t: Timestamp, role: Role, action: &str, text: impl Into<String>) {
        let (user, who) = match role {
            Role::Operator => (self.op.0, self.op.1.as_str()),
            Role::Unit => (UserId(0), "承办单位经办人"),
            Role::ShiftLead => (UserId(0), "值班长"),
            Role::Qa => (UserId(0), "质检回访员"),
            Role::Supervisor => (UserId(0), "督办员"),
            Role::Admin => (UserId(0), "系统"),
        };
        let who = who.to_string();
        self.o
            .push_timeline(t, user, &who, role, action, text.into());
        self.o.updated_at = t;
    }

    pub(super) fn answer(&mut self, at: Timestamp) {
        let title = self.o.title.clone();
        self.o.answer = Some(format!("已答复：{title}的办理途径和所需材料已告知来电人。"));
        self.o.closure = Some(ClosureKind::Direct);
        self.o.state = State::Closed;
        self.o.closed_at = Some(at);
        self.note(at, Role::Operator, "answer", "直接答复");
    }

    pub(super) fn reject(&mut self, at: Timestamp) {
        self.o.reject_code = Some(1 + self.rng.below(10) as u8);
        self.o.reject_told = Some("已告知来电人相关途径".into());
        self.o.state = State::Rejected;
        self.o.closed_at = Some(at);
        self.note(at, Role::Operator, "reject", "不予受理");
    }

    pub(super) fn withdraw(&mut self, at: Timestamp) {
        self.o.state = State::Withdrawn;
        self.o.closed_at = Some(at);
        self.note(at, Role::ShiftLead, "withdraw", "来电人撤回诉求");
    }

    /// A round from its dispatch at `at` to the point `stage` allows (99: to the end); only
    /// the `first` may be reopened.
    pub(super) fn work(&mut self, at: Timestamp, stage: usize, first: bool) {
        let unit = match self.o.rounds.last() {
            Some(r) => r.unit,
            None => unit_of(self.units, self.duty),
        };
        let mut round = self.dispatch(at, unit);
        if stage == 0 {
            self.o.rounds.push(round);
            return;
        }
        if first && self.rng.chance(4) {
            round = self.redispatch(round);
        }
        let late = self.rng.chance(7);
        self.sign(&mut round);
        self.extend(&mut round, stage == 1);
        if late || self.rng.chance(3) {
            self.urge(&mut round);
        }
        if stage == 1 {
            self.o.rounds.push(round);
            return;
        }
        self.reply(&mut round, late, stage == 2);
        self.o.rounds.push(round);
        if stage == 2 {
            return;
        }
        let called = self.review_and_call_back(stage == 3);
        let Some((called, sat)) = called else {
            return;
        };
        if stage == 4 {
            return;
        }
        let unhappy = matches!(
            sat,
            Satisfaction::Unsatisfied | Satisfaction::VeryUnsatisfied
        );
        if unhappy && first && self.rng.chance(70) {
            let again = called.plus_secs(2 * 3600);
            self.o.flags.reopen_count += 1;
            self.note(again, Role::ShiftLead, "reopen", "来电人不满意，发回重办");
            self.work(again, 99, false);
            return;
        }
        self.close(called.plus_secs(3600));
    }

    fn dispatch(&mut self, at: Timestamp, unit: UnitId) -> Round {
        let no = self.o.rounds.len() as u32 + 1;
        let co_units = if no == 1 && self.rng.chance(8) {
            vec![unit_of(self.units, self.rng.pick(TOWNS).0)]
        } else {
            Vec::new()
        };
        let sign = self.cal.deadline(at, Span::WorkingDays(1));
        let handle_span = Span::WorkingDays(match self.o.kind {
            Kind::Inquiry | Kind::Praise => 3,
            Kind::Suggestion => 10,
            _ => 5,
        });
        let due = sign.due.display_cst();
        self.note(
            at,
            Role::Operator,
            "dispatch",
            format!("派单，签收时限 {due}"),
        );
        self.o.state = State::Dispatched;
        Round {
            no,
            unit,
            co_units,
            dispatched_at: at,
            dispatched_by: self.op.0,
            sign,
            handle_span,
            handle: None,
            signed_at: None,
            extensions: Vec::new(),
            returns: Vec::new(),
            replies: Vec::new(),
            progress: Vec::new(),
            urges: 0,
            finished_at: None,
            co_parts: Vec::new(),
        }
    }

    /// A return, approved, and a bureau takes the order in the next round.
    fn redispatch(&mut self, mut round: Round) -> Round {
        let at = round.dispatched_at;
        round.returns.push(Return {
            reason: "不属于本单位职责".into(),
            basis: Some("三定方案".into()),
            at: at.plus_secs(3600),
            by: UserId(0),
            from_state: State::Dispatched,
            approved: Some(true),
            decided_at: Some(at.plus_secs(7200)),
            note: None,
        });
        round.finished_at = Some(at.plus_secs(7200));
        self.note(
            at.plus_secs(3600),
            Role::Unit,
            "return",
            "申请退单：不属于本单位职责",
        );
        self.note(
            at.plus_secs(7200),
            Role::ShiftLead,
            "decide_return",
            "同意退单，工单回到待派单",
        );
        self.o.rounds.push(round);
        let unit = unit_of(self.units, self.rng.pick(BUREAUS).0);
        self.dispatch(at.plus_secs(9000), unit)
    }

    /// Signed within three hours, or now and then the morning after the deadline.
    fn sign(&mut self, round: &mut Round) {
        let signed = if self.rng.chance(5) {
            round.sign.due.plus_secs(2 * 3600)
        } else {
            round.dispatched_at.plus_secs(3 * 3600)
        };
        round.signed_at = Some(signed);
        round.handle = Some(self.cal.deadline(signed, round.handle_span));
        self.note(signed, Role::Unit, "sign", "已签收");
        self.o.state = State::InProgress;
    }

    fn extend(&mut self, round: &mut Round, pending: bool) {
        let (Some(signed), Some(handle)) = (round.signed_at, round.handle) else {
            return;
        };
        if !self.rng.chance(10) {
            return;
        }
        let asked = signed.plus_secs(86_400);
        round.extensions.push(Extension {
            days: 3,
            reason: "需协调相关部门".into(),
            requested_at: asked,
            requested_by: UserId(0),
            approved: (!pending).then_some(true),
            decided_at: (!pending).then(|| asked.plus_secs(3600)),
            decided_by: None,
            note: None,
        });
        self.note(
            asked,
            Role::Unit,
            "request_extension",
            "申请延期 3 个工作日",
        );
        if !pending {
            round.handle = Some(self.cal.extend(handle, 3));
            let at = asked.plus_secs(3600);
            self.note(at, Role::Supervisor, "decide_extension", "同意延期");
        }
    }

    /// Urged by the supervisor a day after signing; one in ten put under supervision too.
    fn urge(&mut self, round: &mut Round) {
        let at = round
            .signed_at
            .unwrap_or(round.dispatched_at)
            .plus_secs(86_400);
        round.urges += 1;
        self.o.flags.urge_count += 1;
        self.note(at, Role::Supervisor, "urge", "请抓紧办理并按时答复");
        if self.rng.chance(10) {
            self.o.flags.supervised = Some("群众反映强烈，请重点督办".into());
            self.note(at, Role::Supervisor, "supervise", "列入督办");
        }
    }

    /// Replied two days after signing, or (when `late`) a day after the deadline.
    fn reply(&mut self, round: &mut Round, late: bool, pending: bool) {
        let signed = round.signed_at.unwrap_or(round.dispatched_at);
        let replied = match round.handle {
            Some(h) if late => h.due.plus_secs(86_400),
            _ => signed.plus_secs(2 * 86_400),
        };
        let title = self.o.title.clone();
        round.replies.push(Reply {
            result: format!("已组织人员现场核实处理{title}一事，并向来电人说明情况。"),
            resolved: if self.rng.chance(85) {
                Resolved::Yes
            } else {
                Resolved::Partly
            },
            contact: Contact {
                contacted: true,
                at: Some(replied.display_cst().chars().take(16).collect()),
                how: Some("电话".into()),
            },
            public_reply: Some("已处理。".into()),
            at: replied,
            by: UserId(0),
            on_behalf: false,
            approved: (!pending).then_some(true),
            review_note: None,
        });
        round.finished_at = Some(replied);
        self.note(replied, Role::Unit, "reply", "答复");
        self.o.state = State::ReplyReview;
    }

    /// The reply approved; unless `pending`, the caller called back: when and how satisfied.
    fn review_and_call_back(&mut self, pending: bool) -> Option<(Timestamp, Satisfaction)> {
        let replied = self.o.updated_at;
        let approved = replied.plus_secs(4 * 3600);
        let due = self.cal.end_of_working_day_after(approved, 1);
        self.o.callback_due = Some(deadline(approved, due));
        self.note(approved, Role::ShiftLead, "review_reply", "答复审核通过");
        self.o.state = State::CallbackPending;
        if pending {
            return None;
        }
        let called = approved.plus_secs(20 * 3600);
        let sat = match self.rng.below(100) {
            0..=54 => Satisfaction::Satisfied,
            55..=79 => Satisfaction::VerySatisfied,
            80..=89 => Satisfaction::BasicallySatisfied,
            90..=95 => Satisfaction::Unsatisfied,
            _ => Satisfaction::Unreachable,
        };
        let resolved = match sat {
            Satisfaction::Unsatisfied => Resolved::No,
            _ => Resolved::Yes,
        };
        let round = self.o.rounds.len() as u32;
        self.o.callbacks.push(Callback {
            satisfaction: sat,
            resolved: (sat != Satisfaction::Unreachable).then_some(resolved),
            note: None,
            at: called,
            by: UserId(0),
            round,
        });
        self.note(
            called,
            Role::Qa,
            "callback",
            format!("回访：{}", sat.label()),
        );
        self.o.state = State::FinalReview;
        Some((called, sat))
    }

    fn close(&mut self, at: Timestamp) {
        self.o.closure = Some(ClosureKind::Reviewed);
        self.o.closed_at = Some(at);
        self.note(at, Role::ShiftLead, "close", "审结");
        self.o.state = State::Closed;
    }
}
