//! Loading a county's history in bulk, straight through the store's one write path in large
//! transactions: for the benchmark (up to millions of orders) and the scale tests. The
//! orders look like 衡东's: every channel and kind, direct answers, rejections, withdrawals
//! and dispatches, returns and redispatches, late signing, extensions, urges, supervision,
//! late replies, callbacks, reopens, Chinese text.

use crate::demo::{BUREAUS, ENTERPRISES, GIVEN, MATTERS, NAMES, PLATFORM_CHANNELS, Rng, TOWNS};
use crate::domain::calendar::{Calendar, Deadline, Span};
use crate::domain::order::{
    Address, Callback, Caller, Channel, ClosureKind, Contact, Extension, Flags, Gender, Kind, Line,
    Order, OrderId, Reply, Resolved, Return, Round, Satisfaction, Urgency,
};
use crate::domain::order_state::State;
use crate::domain::role::Role;
use crate::domain::time::Timestamp;
use crate::domain::unit::{League, Unit, UnitId};
use crate::domain::user::{User, UserId};
use crate::store::{Store, StoreError, WriteTx, orders, units, users};

/// Orders per transaction.
const BATCH: usize = 1000;

/// What was loaded.
pub struct Loaded {
    pub orders: usize,
    pub first: Timestamp,
    pub last: Timestamp,
}

/// Units from the demo county, created when missing; their ids by code.
fn ensure_units(store: &Store, now: Timestamp) -> Result<Vec<(String, UnitId)>, StoreError> {
    store.write(|tx| {
        let mut out = Vec::new();
        for (list, league) in [
            (TOWNS, League::Township),
            (BUREAUS, League::County),
            (ENTERPRISES, League::Enterprise),
        ] {
            for (code, name) in list {
                let id = match units::id_by_code(tx, code)? {
                    Some(id) => id,
                    None => {
                        let id = units::next_id(tx)?;
                        units::put(
                            tx,
                            &Unit {
                                id,
                                code: (*code).to_string(),
                                name: (*name).to_string(),
                                league,
                                disabled: false,
                                created_at: now,
                            },
                        )?;
                        id
                    }
                };
                out.push(((*code).to_string(), id));
            }
        }
        Ok(out)
    })
}

/// The operators who register orders (twelve, as the centre has), created when missing with
/// `password_hash` (one hash for all: nobody signs in as them in a benchmark).
fn ensure_operators(
    store: &Store,
    now: Timestamp,
    password_hash: &str,
) -> Result<Vec<(UserId, String)>, StoreError> {
    store.write(|tx| {
        let mut out = Vec::new();
        for i in 1..=12 {
            let name = format!("话务员{i:02}");
            let mut user = staff(
                &format!("bulkop{i:02}"),
                Role::Operator,
                None,
                password_hash,
            );
            user.display_name = name.clone();
            user.must_change_password = true;
            user.created_at = now;
            user.password_changed_at = now;
            out.push((ensure_user(tx, user)?, name));
        }
        Ok(out)
    })
}

/// A signed-in-ready user of `role` named `username` (for loaders, benchmarks and tests).
pub fn staff(username: &str, role: Role, unit: Option<UnitId>, password_hash: &str) -> User {
    User {
        id: UserId(0),
        username: username.into(),
        display_name: username.into(),
        role,
        unit,
        password_hash: password_hash.into(),
        must_change_password: false,
        disabled: false,
        created_at: Timestamp(0),
        password_changed_at: Timestamp(0),
    }
}

/// Stores `user` under a new id unless one of that username exists; either id. Straight into
/// the store: no checks and no audit entry (for loaders, benchmarks and tests).
pub fn ensure_user(tx: &WriteTx, mut user: User) -> Result<UserId, StoreError> {
    if let Some(u) = users::by_username(tx, &user.username)? {
        return Ok(u.id);
    }
    user.id = users::next_id(tx)?;
    users::put(tx, &user)?;
    Ok(user.id)
}

/// Loads `n` orders registered over the `days` before `end`, oldest first, in batches.
pub fn history(
    store: &Store,
    n: usize,
    end: Timestamp,
    days: u32,
    seed: u64,
    password_hash: &str,
) -> Result<Loaded, StoreError> {
    let units = ensure_units(store, end)?;
    let operators = ensure_operators(store, end, password_hash)?;
    let cal = Calendar::default();
    let mut rng = Rng(seed | 1);
    let span_ms = i64::from(days.max(1)) * 86_400_000;
    let start = Timestamp(end.0 - span_ms);
    let step = (span_ms / n.max(1) as i64).max(1);
    let mut made = 0;
    while made < n {
        let batch = BATCH.min(n - made);
        store.write(|tx| -> Result<(), StoreError> {
            let first = orders::next_id(tx)?.0;
            for (id, k) in (first..).zip(0..batch) {
                let jitter = (rng.next() % step as u64) as i64;
                let at = Timestamp(start.0 + (made + k) as i64 * step + jitter);
                let day = at.cst_digits()[..8].to_string();
                let serial = orders::next_serial(tx, &day)?;
                let o = order(
                    &mut rng,
                    OrderId(id),
                    serial,
                    at,
                    end,
                    &units,
                    &operators,
                    &cal,
                );
                orders::put(tx, None, &o)?;
            }
            Ok(())
        })?;
        made += batch;
    }
    Ok(Loaded {
        orders: n,
        first: start,
        last: end,
    })
}

fn unit_of(units: &[(String, UnitId)], code: &str) -> UnitId {
    units
        .iter()
        .find(|(c, _)| c == code)
        .map(|(_, id)| *id)
        .unwrap_or(UnitId(1))
}

fn deadline(start: Timestamp, due: Timestamp) -> Deadline {
    Deadline {
        start,
        soon_at: Timestamp(start.0 + (due.0 - start.0) * 3 / 4),
        due,
    }
}

/// An order being made up, with what its story needs.
struct Draft<'a> {
    o: Order,
    rng: &'a mut Rng,
    units: &'a [(String, UnitId)],
    cal: &'a Calendar,
    /// The operator who registered it.
    op: (UserId, String),
    /// The unit whose duty the matter is.
    duty: &'static str,
}

/// One realistic order registered at `at`, as it stands at `now`: 56 % answered on the spot,
/// a few rejected or withdrawn, the rest dispatched and as far along as its age allows —
/// returned and redispatched, signed or signed late, extended, urged, supervised, replied
/// (some late), called back, reopened when the caller was not satisfied, closed.
#[allow(clippy::too_many_arguments)]
fn order(
    rng: &mut Rng,
    id: OrderId,
    serial: u32,
    at: Timestamp,
    now: Timestamp,
    units: &[(String, UnitId)],
    operators: &[(UserId, String)],
    cal: &Calendar,
) -> Order {
    let op = rng.pick(operators).clone();
    let (o, duty) = registered(rng, id, serial, at, op.0);
    let mut d = Draft {
        o,
        rng,
        units,
        cal,
        op,
        duty,
    };
    let registered = format!("{}登记，渠道：{}", d.o.kind.label(), d.o.channel.label());
    d.note(at, Role::Operator, "register", registered);
    let roll = d.rng.below(1000);
    if roll < 560 && d.o.kind != Kind::Complaint {
        d.answer(at.plus_secs(300));
    } else if roll < 580 {
        d.reject(at.plus_secs(200));
    } else if roll < 584 {
        d.withdraw(at.plus_secs(900));
    } else {
        let age_days = (now.0 - at.0) / 86_400_000;
        // The newest wait a while to be dispatched; the older are as far as their age allows.
        if age_days < 2 && d.rng.chance(20) {
            return d.o;
        }
        let stage = if age_days > 20 { 99 } else { d.rng.below(6) };
        d.work(at.plus_secs(600), stage, true);
    }
    d.o
}

/// The order as registered, and the code of the unit whose duty it is.
fn registered(
    rng: &mut Rng,
    id: OrderId,
    serial: u32,
    at: Timestamp,
    op: UserId,
) -> (Order, &'static str) {
    let (category, kind, title, content, unit_code) = *rng.pick(MATTERS);
    let kind = Kind::parse(kind).unwrap_or(Kind::Help);
    let channel = if rng.chance(97) {
        Channel::Phone
    } else {
        let code: &&str = rng.pick(PLATFORM_CHANNELS);
        Channel::parse(code).unwrap_or(Channel::Other)
    };
    let town = rng.pick(TOWNS).1;
    let line = if rng.chance(3) {
        Line::Npc
    } else {
        Line::General
    };
    let o = Order {
        id,
        number: format!("HD{}{serial:05}", &at.cst_digits()[..8]),
        query_code: format!("{:06}", rng.next() % 1_000_000),
        version: 1,
        state: State::Registered,
        channel,
        external_id: (channel != Channel::Phone).then(|| format!("EXT{}", id.0)),
        external_due: None,
        line,
        kind,
        urgency: if rng.chance(5) {
            Urgency::Urgent
        } else {
            Urgency::Normal
        },
        category: Some(category.to_string()),
        title: title.to_string(),
        content: format!("{content}（{town}）"),
        caller: caller(rng, kind),
        confidential: rng.chance(2),
        address: Address {
            town: Some(town.to_string()),
            village: None,
            detail: Some(format!("{town}{}号", 1 + rng.below(300))),
        },
        risk_tags: Vec::new(),
        enterprise: None,
        deputy: (line == Line::Npc).then(|| crate::domain::order::Deputy {
            name: format!("{}{}", rng.pick(NAMES), rng.pick(GIVEN)),
            level: "县级".into(),
        }),
        rounds: Vec::new(),
        callbacks: Vec::new(),
        timeline: Vec::new(),
        flags: Flags::default(),
        reject_code: None,
        reject_transfer: None,
        reject_told: None,
        answer: None,
        articles: Vec::new(),
        attachments: Vec::new(),
        cited: Vec::new(),
        closure: None,
        callback_due: None,
        merged_reply: None,
        created_at: at,
        created_by: op,
        updated_at: at,
        closed_at: None,
    };
    (o, unit_code)
}

fn caller(rng: &mut Rng, kind: Kind) -> Caller {
    Caller {
        name: format!("{}{}", rng.pick(NAMES), rng.pick(GIVEN)),
        phone: format!("1{}{:09}", 3 + rng.below(7), rng.next() % 1_000_000_000),
        id_number: matches!(kind, Kind::Complaint | Kind::Report)
            .then(|| crate::demo::demo_id(rng)),
        gender: Some(if rng.chance(50) {
            Gender::Male
        } else {
            Gender::Female
        }),
        consent_phone: rng.chance(40),
        caller_type: Some("个人".into()),
    }
}

impl Draft<'_> {
    fn note(&mut self, t: Timestamp, role: Role, action: &str, text: impl Into<String>) {
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

    fn answer(&mut self, at: Timestamp) {
        let title = self.o.title.clone();
        self.o.answer = Some(format!("已答复：{title}的办理途径和所需材料已告知来电人。"));
        self.o.closure = Some(ClosureKind::Direct);
        self.o.state = State::Closed;
        self.o.closed_at = Some(at);
        self.note(at, Role::Operator, "answer", "直接答复");
    }

    fn reject(&mut self, at: Timestamp) {
        self.o.reject_code = Some(1 + self.rng.below(10) as u8);
        self.o.reject_told = Some("已告知来电人相关途径".into());
        self.o.state = State::Rejected;
        self.o.closed_at = Some(at);
        self.note(at, Role::Operator, "reject", "不予受理");
    }

    fn withdraw(&mut self, at: Timestamp) {
        self.o.state = State::Withdrawn;
        self.o.closed_at = Some(at);
        self.note(at, Role::ShiftLead, "withdraw", "来电人撤回诉求");
    }

    /// A round from its dispatch at `at` to the point `stage` allows (99: to the end); only
    /// the `first` may be reopened.
    fn work(&mut self, at: Timestamp, stage: usize, first: bool) {
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
