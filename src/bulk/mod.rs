//! Loading a county's history in bulk, straight through the store's one write path in large
//! transactions: for the benchmark (up to millions of orders) and the scale tests. The
//! orders look like 衡东's: every channel and kind, direct answers, rejections, withdrawals
//! and dispatches, returns and redispatches, late signing, extensions, urges, supervision,
//! late replies, callbacks, reopens, Chinese text.

use crate::demo::{BUREAUS, ENTERPRISES, GIVEN, MATTERS, NAMES, PLATFORM_CHANNELS, Rng, TOWNS};
use crate::domain::calendar::{Calendar, Deadline};
use crate::domain::order::{
    Address, Caller, Channel, Event, Flags, Gender, Kind, Line, Order, OrderId, Params, Urgency,
};
use crate::domain::order_state::State;
use crate::domain::role::Role;
use crate::domain::time::Timestamp;
use crate::domain::unit::{League, Unit, UnitId};
use crate::domain::user::{User, UserId};
use crate::store::{Store, StoreError, WriteTx, orders, units, users};

mod life;

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
    /// A reopen at this time: the next dispatch is recorded as it.
    reopen_at: Option<Timestamp>,
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
        reopen_at: None,
    };
    let registered = Event::of(Params {
        kind: Some(d.o.kind),
        channel: Some(d.o.channel),
        ..Params::default()
    });
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
        // Some callers name the place first, as operators write it down.
        title: if rng.chance(30) {
            format!("{town}{title}")
        } else {
            title.to_string()
        },
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
        call: None,
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
