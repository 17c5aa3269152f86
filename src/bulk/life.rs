//! A bulk order's life after registration: dispatch, signing, returns, extensions, urges,
//! replies, callbacks, reopens and closing, written straight into the order.

use super::{Draft, deadline, unit_of};
use crate::demo::{BUREAUS, TOWNS};
use crate::domain::calendar::Span;
use crate::domain::order::{
    Callback, ClosureKind, Contact, Event, Extension, Kind, Params, Reply, Resolved, Return, Round,
    Satisfaction,
};
use crate::domain::order_state::State;
use crate::domain::role::Role;
use crate::domain::time::Timestamp;
use crate::domain::unit::UnitId;
use crate::domain::user::UserId;

impl Draft<'_> {
    pub(super) fn note(&mut self, t: Timestamp, role: Role, action: &str, event: Event) {
        let (user, who) = match role {
            Role::Operator => (self.op.0, self.op.1.as_str()),
            Role::Unit => (UserId(0), "承办单位经办人"),
            Role::ShiftLead => (UserId(0), "值班长"),
            Role::Qa => (UserId(0), "质检回访员"),
            Role::Supervisor => (UserId(0), "督办员"),
            Role::Admin => (UserId(0), "系统"),
        };
        let who = who.to_string();
        self.o.push_timeline(t, user, &who, role, action, event);
        self.o.updated_at = t;
    }

    pub(super) fn answer(&mut self, at: Timestamp) {
        let title = self.o.title.clone();
        self.o.answer = Some(format!("已答复：{title}的办理途径和所需材料已告知来电人。"));
        self.o.closure = Some(ClosureKind::Direct);
        self.o.state = State::Closed;
        self.o.closed_at = Some(at);
        let answer = self.o.answer.clone().unwrap_or_default();
        self.note(at, Role::Operator, "answer", Event::note(answer));
    }

    pub(super) fn reject(&mut self, at: Timestamp) {
        self.o.reject_code = Some(1 + self.rng.below(10) as u8);
        self.o.reject_told = Some("已告知来电人相关途径".into());
        self.o.state = State::Rejected;
        self.o.closed_at = Some(at);
        let params = Params {
            reason_code: self.o.reject_code,
            ..Params::default()
        };
        self.note(at, Role::Operator, "reject", Event::of(params));
    }

    pub(super) fn withdraw(&mut self, at: Timestamp) {
        self.o.state = State::Withdrawn;
        self.o.closed_at = Some(at);
        self.note(
            at,
            Role::ShiftLead,
            "withdraw",
            Event::note("来电人撤回诉求"),
        );
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
            // The reopen starts the next round: its entry is the dispatch `work` notes.
            self.reopen_at = Some(again);
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
        self.o.state = State::Dispatched;
        let round = Round {
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
        };
        let mut params = Params::round_start(&round);
        if self.reopen_at.take() == Some(at) {
            params.count = Some(self.o.flags.reopen_count);
            let note = Event::new(params, "来电人不满意，发回重办");
            self.note(at, Role::ShiftLead, "reopen", note);
        } else {
            self.note(at, Role::Operator, "dispatch", Event::of(params));
        }
        round
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
        let asked = Event::note("不属于本单位职责");
        self.note(at.plus_secs(3600), Role::Unit, "return", asked);
        let approved = Event::of(Params {
            approve: Some(true),
            ..Params::default()
        });
        self.note(
            at.plus_secs(7200),
            Role::ShiftLead,
            "decide_return",
            approved,
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
        let due = round.handle.map(|h| h.due);
        self.note(
            signed,
            Role::Unit,
            "sign",
            Event::of(Params {
                due,
                ..Params::default()
            }),
        );
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
        let days = Params {
            days: Some(3),
            ..Params::default()
        };
        let asked_for = Event::new(days.clone(), "需协调相关部门");
        self.note(asked, Role::Unit, "request_extension", asked_for);
        if !pending {
            let moved = self.cal.extend(handle, 3);
            round.handle = Some(moved);
            let at = asked.plus_secs(3600);
            let granted = Params {
                approve: Some(true),
                due: Some(moved.due),
                ..days
            };
            self.note(at, Role::Supervisor, "decide_extension", Event::of(granted));
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
        let unit = Params::unit(Some(round.unit));
        let urged = Event::new(unit.clone(), "请抓紧办理并按时答复");
        self.note(at, Role::Supervisor, "urge", urged);
        if self.rng.chance(10) {
            self.o.flags.supervised = Some("一般督办".into());
            let level = Params {
                level: Some("一般督办".into()),
                ..unit
            };
            let supervised = Event::new(level, "群众反映强烈，请重点督办");
            self.note(at, Role::Supervisor, "supervise", supervised);
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
        let result = format!("已组织人员现场核实处理{title}一事，并向来电人说明情况。");
        let resolved = if self.rng.chance(85) {
            Resolved::Yes
        } else {
            Resolved::Partly
        };
        round.replies.push(Reply {
            result: result.clone(),
            resolved,
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
        let params = Params {
            resolved: Some(resolved),
            ..Params::default()
        };
        self.note(replied, Role::Unit, "reply", Event::new(params, result));
        self.o.state = State::ReplyReview;
    }

    /// The reply approved; unless `pending`, the caller called back: when and how satisfied.
    fn review_and_call_back(&mut self, pending: bool) -> Option<(Timestamp, Satisfaction)> {
        let replied = self.o.updated_at;
        let approved = replied.plus_secs(4 * 3600);
        let due = self.cal.end_of_working_day_after(approved, 1);
        self.o.callback_due = Some(deadline(approved, due));
        let params = Params {
            approve: Some(true),
            due: Some(due),
            ..Params::default()
        };
        self.note(approved, Role::ShiftLead, "review_reply", Event::of(params));
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
        let params = Params {
            satisfaction: Some(sat),
            resolved: (sat != Satisfaction::Unreachable).then_some(resolved),
            count: (sat == Satisfaction::Unreachable).then_some(1),
            ..Params::default()
        };
        self.note(called, Role::Qa, "callback", Event::of(params));
        self.o.state = State::FinalReview;
        Some((called, sat))
    }

    fn close(&mut self, at: Timestamp) {
        self.o.closure = Some(ClosureKind::Reviewed);
        self.o.closed_at = Some(at);
        self.note(at, Role::ShiftLead, "close", Event::default());
        self.o.state = State::Closed;
    }
}
