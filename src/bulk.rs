//! Loading a county's history in bulk, straight through the store's one write path in large
//! transactions: for the benchmark (up to millions of orders) and the scale tests. The
//! orders look like 衡东's: every channel, kind and state, direct answers and dispatches,
//! extensions, returns and redispatches, callbacks, reopens, Chinese text.

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

/// One realistic order registered at `at`, as it stands at `now`.
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
    let (category, kind, title, content, unit_code) = *rng.pick(MATTERS);
    let kind = Kind::parse(kind).unwrap_or(Kind::Help);
    let channel = if rng.chance(97) {
        Channel::Phone
    } else {
        let code: &&str = rng.pick(PLATFORM_CHANNELS);
        Channel::parse(code).unwrap_or(Channel::Other)
    };
    let (op_id, op_name) = rng.pick(operators).clone();
    let town = rng.pick(TOWNS).1;
    let name = format!("{}{}", rng.pick(NAMES), rng.pick(GIVEN));
    let phone = format!("1{}{:09}", 3 + rng.below(7), rng.next() % 1_000_000_000);
    let id_number =
        matches!(kind, Kind::Complaint | Kind::Report).then(|| crate::demo::demo_id(rng));
    let number = format!("HD{}{serial:05}", &at.cst_digits()[..8]);
    let mut o = Order {
        id,
        number,
        query_code: format!("{:06}", rng.next() % 1_000_000),
        version: 1,
        state: State::Registered,
        channel,
        external_id: (channel != Channel::Phone).then(|| format!("EXT{}", id.0)),
        external_due: None,
        line: if rng.chance(3) {
            Line::Npc
        } else {
            Line::General
        },
        kind,
        urgency: if rng.chance(5) {
            Urgency::Urgent
        } else {
            Urgency::Normal
        },
        category: Some(category.to_string()),
        title: title.to_string(),
        content: format!("{content}（{town}）"),
        caller: Caller {
            name,
            phone,
            id_number,
            gender: Some(if rng.chance(50) {
                Gender::Male
            } else {
                Gender::Female
            }),
            consent_phone: rng.chance(40),
            caller_type: Some("个人".into()),
        },
        confidential: rng.chance(2),
        address: Address {
            town: Some(town.to_string()),
            village: None,
            detail: Some(format!("{town}{}号", 1 + rng.below(300))),
        },
        risk_tags: Vec::new(),
        enterprise: None,
        deputy: None,
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
        created_by: op_id,
        updated_at: at,
        closed_at: None,
    };
    if o.line == Line::Npc {
        o.deputy = Some(crate::domain::order::Deputy {
            name: format!("{}{}", rng.pick(NAMES), rng.pick(GIVEN)),
            level: "县级".into(),
        });
    }
    let note = |o: &mut Order,
                t: Timestamp,
                user: UserId,
                who: &str,
                role: Role,
                action: &str,
                text: String| {
        o.push_timeline(t, user, who, role, action, text);
        o.updated_at = t;
    };
    let registered = format!("{}登记，渠道：{}", o.kind.label(), o.channel.label());
    note(
        &mut o,
        at,
        op_id,
        &op_name,
        Role::Operator,
        "register",
        registered,
    );
    let age_days = (now.0 - at.0) / 86_400_000;
    let roll = rng.below(1000);
    // 56 % answered on the spot; a few rejected, merged or withdrawn; the rest dispatched.
    if roll < 560 && kind != Kind::Complaint {
        o.answer = Some(format!("已答复：{title}的办理途径和所需材料已告知来电人。"));
        o.closure = Some(ClosureKind::Direct);
        o.state = State::Closed;
        o.closed_at = Some(at.plus_secs(300));
        note(
            &mut o,
            at.plus_secs(300),
            op_id,
            &op_name,
            Role::Operator,
            "answer",
            "直接答复".into(),
        );
        return o;
    }
    if roll < 580 {
        o.reject_code = Some(1 + rng.below(10) as u8);
        o.reject_told = Some("已告知来电人相关途径".into());
        o.state = State::Rejected;
        o.closed_at = Some(at.plus_secs(200));
        note(
            &mut o,
            at.plus_secs(200),
            op_id,
            &op_name,
            Role::Operator,
            "reject",
            "不予受理".into(),
        );
        return o;
    }
    // Dispatched: how far it got depends on its age.
    let unit = unit_of(units, unit_code);
    let co: Vec<UnitId> = if rng.chance(8) {
        vec![unit_of(units, rng.pick(TOWNS).0)]
    } else {
        Vec::new()
    };
    let dispatched = at.plus_secs(600);
    let sign = cal.deadline(dispatched, Span::WorkingDays(1));
    let handle_span = Span::WorkingDays(match kind {
        Kind::Inquiry | Kind::Praise => 3,
        Kind::Suggestion => 10,
        _ => 5,
    });
    let mut round = Round {
        no: 1,
        unit,
        co_units: co,
        dispatched_at: dispatched,
        dispatched_by: op_id,
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
    note(
        &mut o,
        dispatched,
        op_id,
        &op_name,
        Role::Operator,
        "dispatch",
        format!("派单，签收时限 {}", sign.due.display_cst()),
    );
    o.state = State::Dispatched;
    let stage = if age_days > 20 {
        99
    } else {
        rng.below(6) as u64
    };
    if stage == 0 {
        o.rounds.push(round);
        return o;
    }
    // A return now and then, approved, and a second unit takes it.
    if rng.chance(4) {
        round.returns.push(Return {
            reason: "不属于本单位职责".into(),
            basis: Some("三定方案".into()),
            at: dispatched.plus_secs(3600),
            by: UserId(0),
            from_state: State::Dispatched,
            approved: Some(true),
            decided_at: Some(dispatched.plus_secs(7200)),
            note: None,
        });
        round.finished_at = Some(dispatched.plus_secs(7200));
        note(
            &mut o,
            dispatched.plus_secs(3600),
            UserId(0),
            "承办单位",
            Role::Unit,
            "return",
            "申请退单：不属于本单位职责".into(),
        );
        note(
            &mut o,
            dispatched.plus_secs(7200),
            UserId(0),
            "值班长",
            Role::ShiftLead,
            "decide_return",
            "同意退单，工单回到待派单".into(),
        );
        o.rounds.push(round.clone());
        let again = dispatched.plus_secs(9000);
        round = Round {
            no: 2,
            unit: unit_of(units, rng.pick(BUREAUS).0),
            co_units: Vec::new(),
            dispatched_at: again,
            sign: cal.deadline(again, Span::WorkingDays(1)),
            returns: Vec::new(),
            finished_at: None,
            ..round
        };
        note(
            &mut o,
            again,
            op_id,
            &op_name,
            Role::Operator,
            "dispatch",
            "重新派单".into(),
        );
    }
    let signed = round.dispatched_at.plus_secs(3 * 3600);
    round.signed_at = Some(signed);
    let handle = cal.deadline(signed, handle_span);
    round.handle = Some(handle);
    note(
        &mut o,
        signed,
        UserId(0),
        "承办单位经办人",
        Role::Unit,
        "sign",
        "已签收".into(),
    );
    o.state = State::InProgress;
    if rng.chance(10) {
        let asked = signed.plus_secs(86_400);
        round.extensions.push(Extension {
            days: 3,
            reason: "需协调相关部门".into(),
            requested_at: asked,
            requested_by: UserId(0),
            approved: if stage == 1 { None } else { Some(true) },
            decided_at: (stage != 1).then(|| asked.plus_secs(3600)),
            decided_by: None,
            note: None,
        });
        if stage != 1 {
            round.handle = Some(cal.extend(handle, 3));
        }
    }
    if stage == 1 {
        o.rounds.push(round);
        return o;
    }
    let replied = signed.plus_secs(2 * 86_400);
    round.replies.push(Reply {
        result: format!("已组织人员现场核实处理{title}一事，并向来电人说明情况。"),
        resolved: if rng.chance(85) {
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
        approved: if stage == 2 { None } else { Some(true) },
        review_note: None,
    });
    round.finished_at = Some(replied);
    note(
        &mut o,
        replied,
        UserId(0),
        "承办单位经办人",
        Role::Unit,
        "reply",
        "答复".into(),
    );
    o.state = State::ReplyReview;
    o.rounds.push(round);
    if stage == 2 {
        return o;
    }
    let approved = replied.plus_secs(4 * 3600);
    o.callback_due = Some(deadline(
        approved,
        cal.end_of_working_day_after(approved, 1),
    ));
    note(
        &mut o,
        approved,
        UserId(0),
        "值班长",
        Role::ShiftLead,
        "review_reply",
        "答复审核通过".into(),
    );
    o.state = State::CallbackPending;
    if stage == 3 {
        return o;
    }
    let called = approved.plus_secs(20 * 3600);
    let sat = match rng.below(100) {
        0..=54 => Satisfaction::Satisfied,
        55..=79 => Satisfaction::VerySatisfied,
        80..=89 => Satisfaction::BasicallySatisfied,
        90..=95 => Satisfaction::Unsatisfied,
        _ => Satisfaction::Unreachable,
    };
    o.callbacks.push(Callback {
        satisfaction: sat,
        resolved: Some(Resolved::Yes),
        note: None,
        at: called,
        by: UserId(0),
        round: o.rounds.len() as u32,
    });
    note(
        &mut o,
        called,
        UserId(0),
        "质检回访员",
        Role::Qa,
        "callback",
        format!("回访：{}", sat.label()),
    );
    o.state = State::FinalReview;
    if stage == 4 {
        return o;
    }
    let closed = called.plus_secs(3600);
    o.closure = Some(ClosureKind::Reviewed);
    o.closed_at = Some(closed);
    note(
        &mut o,
        closed,
        UserId(0),
        "值班长",
        Role::ShiftLead,
        "close",
        "审结".into(),
    );
    o.state = State::Closed;
    o
}
