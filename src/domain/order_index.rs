//! What an order is found by: every index key and counter an order has, derived by one pure
//! function of the order, and its compact list row.
//!
//! The store keeps one sorted key table of all of them. Writing an order removes the keys
//! its old version had and the new one has not, and adds the new ones; the same difference
//! moves the counters. So every list is a key range read one page at a time, every total is a
//! counter, and a new list is a new key kind here (a test rebuilds all keys from the orders
//! and compares).
//!
//! Key layout: one tag byte for the kind, then the parts: strings as UTF-8 ended by a 0
//! byte, numbers big-endian (signed ones with the sign bit flipped so they sort), the order
//! id last. Lists newest first read a range backwards.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::calendar::Deadline;
use super::order::{Order, OrderId};
use super::order_state::State;
use super::time::Timestamp;
use super::unit::UnitId;

/// The kinds of key; the tag byte is the first byte of every key (and counter) of a kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// Every order by registration time.
    Created = 1,
    ByState = 2,
    ByKind = 3,
    ByChannel = 4,
    ByLine = 5,
    /// Every unit that took part in any round, main or co-unit.
    ByUnit = 6,
    ByPhone = 7,
    ByTown = 8,
    ByCategory = 9,
    /// The operator who registered it.
    ByOperator = 10,
    /// Open orders of a state by the deadline running now (or by when they entered it).
    StateDue = 11,
    /// A unit's work lists (to sign, in progress, replied, co-work, done) by its own deadline.
    UnitQueue = 12,
    /// Callbacks waiting (orders awaiting callback, and merged callers), by callback due.
    Callback = 13,
    /// Orders with an extension request awaiting a decision.
    ExtensionPending = 14,
    /// Orders with QA's reopen proposal awaiting the shift lead.
    ReopenProposal = 15,
    /// Open orders under supervision (督办).
    Supervised = 16,
    /// Open orders urged, most urged first.
    Urged = 17,
    /// Running deadlines by when they turn due-soon.
    SoonAt = 18,
    /// Running deadlines not yet urged automatically, by due time (the overdue job's queue).
    AutoUrge = 19,
    /// Orders by their address (town and detail), for duplicates at intake.
    ByAddress = 20,
    /// Orders by two list filters at once (state, kind, channel, line, unit: each pair), so
    /// a list with two filters is one key range and its total one counter.
    Pair = 21,
    /// Each counted event of a unit (`order_facts::unit_events`) by unit, measure, sub-code
    /// and time: the orders behind each assessment figure. No counters (the facts count).
    UnitEvent = 22,
    /// Orders by the last four digits of the caller's number, for staff who remember only
    /// those (`phone_tail`). No counters: a tail holds one order in ten thousand, read and
    /// checked row by row.
    ByPhoneTail = 23,
    /// Orders by their 查询码 (the caller's short code), for a platform's lookup and staff
    /// who are told one. No counters: a code is unique among the last year's orders.
    ByQueryCode = 24,
}

/// The orders filed under one 查询码.
pub fn query_code_key(code: &str) -> Key {
    Key::new(Kind::ByQueryCode).str(code)
}

/// Whether a text is a 查询码 as told to callers: six digits.
pub fn is_query_code(s: &str) -> bool {
    s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The digits of a caller's number the tail index files it by: its last four, when they
/// are digits.
pub fn phone_tail(phone: &str) -> Option<&str> {
    let tail = phone.get(phone.len().checked_sub(4)?..)?;
    tail.bytes().all(|b| b.is_ascii_digit()).then_some(tail)
}

/// The filter kinds that have per-day counters (registration day, Beijing time).
pub const DAILY: &[Kind] = &[
    Kind::Created,
    Kind::ByState,
    Kind::ByKind,
    Kind::ByChannel,
    Kind::ByLine,
    Kind::ByUnit,
    Kind::ByTown,
    Kind::ByCategory,
    Kind::ByOperator,
    Kind::Pair,
];

/// Per-day counters carry this bit on their tag. Their key is the tag, the day, then the
/// filter value (`day_counter`): a day's counters of one kind sit together, so the orders of
/// a batch move a few leaves of the counter table instead of one leaf per value.
pub const DAY_BIT: u8 = 0x80;

/// The per-day counter of the list `head` (a filter key: kind, then value) on `day`.
pub fn day_counter(head: &[u8], day: u32) -> Vec<u8> {
    let mut k = Vec::with_capacity(head.len() + 4);
    k.push(head.first().copied().unwrap_or(0) | DAY_BIT);
    k.extend_from_slice(&day.to_be_bytes());
    k.extend_from_slice(head.get(1..).unwrap_or(&[]));
    k
}

/// A unit's work lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum UnitList {
    ToSign = 1,
    InProgress = 2,
    Replied = 3,
    CoWork = 4,
    Done = 5,
}

/// Builds one key.
#[derive(Clone, Debug, Default)]
pub struct Key(Vec<u8>);

impl Key {
    pub fn new(kind: Kind) -> Key {
        Key(vec![kind as u8])
    }
    /// A key of another table that uses the same layout, starting with `tag`.
    pub fn new_raw(tag: u8) -> Key {
        Key(vec![tag])
    }
    pub fn str(mut self, s: &str) -> Key {
        self.0.extend(s.bytes().filter(|b| *b != 0));
        self.0.push(0);
        self
    }
    pub fn u8(mut self, v: u8) -> Key {
        self.0.push(v);
        self
    }
    pub fn u64(mut self, v: u64) -> Key {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn i64(mut self, v: i64) -> Key {
        self.0
            .extend_from_slice(&((v as u64) ^ (1u64 << 63)).to_be_bytes());
        self
    }
    pub fn time(self, t: Timestamp) -> Key {
        self.i64(t.0)
    }
    pub fn bytes(self) -> Vec<u8> {
        self.0
    }
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }
}

/// The order id at the end of every key.
pub fn id_of(key: &[u8]) -> Option<OrderId> {
    let tail: [u8; 8] = key.get(key.len().checked_sub(8)?..)?.try_into().ok()?;
    Some(OrderId(u64::from_be_bytes(tail)))
}

/// The time sorting a key, just before the id (every key kind ends with time, id).
pub fn time_of(key: &[u8]) -> Option<Timestamp> {
    let n = key.len().checked_sub(16)?;
    let raw: [u8; 8] = key.get(n..n + 8)?.try_into().ok()?;
    Some(Timestamp((u64::from_be_bytes(raw) ^ (1u64 << 63)) as i64))
}

/// Days since the epoch in Beijing time (the day counters' unit).
pub fn cst_day(t: Timestamp) -> u32 {
    u32::try_from((t.0 + 8 * 3_600_000).div_euclid(86_400_000)).unwrap_or(0)
}

/// The prefix of the orders at one address.
pub fn address_key(town: Option<&str>, detail: &str) -> Key {
    Key::new(Kind::ByAddress)
        .str(town.unwrap_or(""))
        .str(detail.trim())
}

/// One value of a list filter that pairs with the others (`Kind::Pair`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Facet {
    State(State),
    Kind(super::order::Kind),
    Channel(super::order::Channel),
    Line(super::order::Line),
    Unit(UnitId),
}

impl Facet {
    fn tag(self) -> u8 {
        match self {
            Facet::State(_) => 1,
            Facet::Kind(_) => 2,
            Facet::Channel(_) => 3,
            Facet::Line(_) => 4,
            Facet::Unit(_) => 5,
        }
    }

    fn append(self, k: Key) -> Key {
        let k = k.u8(self.tag());
        match self {
            Facet::State(s) => k.str(s.code()),
            Facet::Kind(v) => k.str(v.code()),
            Facet::Channel(v) => k.str(v.code()),
            Facet::Line(v) => k.str(v.code()),
            Facet::Unit(u) => k.u64(u.0),
        }
    }

    /// The word the full-text index files the order under for this filter value (so a
    /// search with filters is answered by the index alone).
    pub fn token(self) -> String {
        match self {
            Facet::State(s) => format!("s:{}", s.code()),
            Facet::Kind(v) => format!("k:{}", v.code()),
            Facet::Channel(v) => format!("c:{}", v.code()),
            Facet::Line(v) => format!("l:{}", v.code()),
            Facet::Unit(u) => format!("u:{}", u.0),
        }
    }

    /// The list of this one filter.
    pub fn single(self) -> Key {
        match self {
            Facet::State(s) => Key::new(Kind::ByState).str(s.code()),
            Facet::Kind(v) => Key::new(Kind::ByKind).str(v.code()),
            Facet::Channel(v) => Key::new(Kind::ByChannel).str(v.code()),
            Facet::Line(v) => Key::new(Kind::ByLine).str(v.code()),
            Facet::Unit(u) => Key::new(Kind::ByUnit).u64(u.0),
        }
    }

    /// The list of two filters of different kinds (in either order), or `None` for two of
    /// the same kind.
    pub fn pair(a: Facet, b: Facet) -> Option<Key> {
        let (a, b) = match a.tag().cmp(&b.tag()) {
            std::cmp::Ordering::Less => (a, b),
            std::cmp::Ordering::Greater => (b, a),
            std::cmp::Ordering::Equal => return None,
        };
        Some(b.append(a.append(Key::new(Kind::Pair))))
    }

    /// The filter values an order has (one per unit that took part).
    pub fn of(o: &Order) -> Vec<Facet> {
        let mut v = vec![
            Facet::State(o.state),
            Facet::Kind(o.kind),
            Facet::Channel(o.channel),
            Facet::Line(o.line),
        ];
        v.extend(units_of(o).into_iter().map(|u| Facet::Unit(UnitId(u))));
        v
    }
}

/// Every unit that took part in any round, main or co-unit.
fn units_of(o: &Order) -> BTreeSet<u64> {
    let mut units = BTreeSet::new();
    for r in &o.rounds {
        units.insert(r.unit.0);
        units.extend(r.co_units.iter().map(|u| u.0));
    }
    units
}

/// A key and the counters it moves: the total of its list and, for filters by
/// registration time, that day's count.
pub struct Entry {
    pub key: Vec<u8>,
    pub counters: Vec<Vec<u8>>,
}

/// The deadline an order's main unit works to now, and what it is.
pub fn running(o: &Order) -> Option<Deadline> {
    let r = o.current_round()?;
    match o.state {
        State::Dispatched => Some(r.sign),
        State::InProgress => r.handle,
        _ => None,
    }
}

fn unit_list(o: &Order, unit: UnitId) -> (UnitList, Timestamp) {
    let updated = o.updated_at;
    let Some(r) = o.current_round() else {
        return (UnitList::Done, updated);
    };
    if r.unit == unit {
        return match o.state {
            State::Dispatched => (UnitList::ToSign, r.sign.due),
            State::InProgress => (
                UnitList::InProgress,
                r.handle.map(|h| h.due).unwrap_or(updated),
            ),
            State::ReplyReview | State::CallbackPending | State::FinalReview => {
                (UnitList::Replied, updated)
            }
            _ => (UnitList::Done, updated),
        };
    }
    if r.co_units.contains(&unit) && matches!(o.state, State::Dispatched | State::InProgress) {
        let due = r
            .co_deadline(unit)
            .map(|d| d.due)
            .unwrap_or(Timestamp(i64::MAX));
        return (UnitList::CoWork, due);
    }
    (UnitList::Done, updated)
}

/// Every key of the order, each with the counters it moves.
pub fn entries(o: &Order) -> Vec<Entry> {
    let mut out = Vec::new();
    filter_entries(o, &mut out);
    queue_entries(o, &mut out);
    for (unit, measure, sub, at) in super::order_facts::unit_events(o) {
        out.push(Entry {
            key: unit_event(UnitId(unit), measure, sub)
                .time(at)
                .u64(o.id.0)
                .bytes(),
            counters: Vec::new(),
        });
    }
    out
}

/// The prefix of a unit's events of one measure and sub-code.
pub fn unit_event(unit: UnitId, measure: super::order_facts::Measure, sub: u8) -> Key {
    Key::new(Kind::UnitEvent)
        .u64(unit.0)
        .u8(measure as u8)
        .u8(sub)
}

/// The lists by registration time: every filter value, each pair, a caller's history, the
/// address.
fn filter_entries(o: &Order, out: &mut Vec<Entry>) {
    let id = o.id.0;
    let day = cst_day(o.created_at);
    // Filters by registration time: the total per value and the count per day.
    let mut filter = |kind: Kind, value: Option<Key>| {
        let head = match value {
            Some(v) => v,
            None => Key::new(kind),
        };
        let day_key = day_counter(head.as_slice(), day);
        out.push(Entry {
            key: head.clone().time(o.created_at).u64(id).bytes(),
            counters: vec![head.bytes(), day_key],
        });
    };
    filter(Kind::Created, None);
    filter(
        Kind::ByState,
        Some(Key::new(Kind::ByState).str(o.state.code())),
    );
    filter(
        Kind::ByKind,
        Some(Key::new(Kind::ByKind).str(o.kind.code())),
    );
    filter(
        Kind::ByChannel,
        Some(Key::new(Kind::ByChannel).str(o.channel.code())),
    );
    filter(
        Kind::ByLine,
        Some(Key::new(Kind::ByLine).str(o.line.code())),
    );
    let units = units_of(o);
    for u in &units {
        filter(Kind::ByUnit, Some(Key::new(Kind::ByUnit).u64(*u)));
    }
    let facets = Facet::of(o);
    for (i, a) in facets.iter().enumerate() {
        for b in &facets[i + 1..] {
            if let Some(k) = Facet::pair(*a, *b) {
                filter(Kind::Pair, Some(k));
            }
        }
    }
    if let Some(t) = o.address.town.as_deref().filter(|t| !t.is_empty()) {
        filter(Kind::ByTown, Some(Key::new(Kind::ByTown).str(t)));
    }
    if let Some(c) = o.category.as_deref().filter(|c| !c.is_empty()) {
        filter(Kind::ByCategory, Some(Key::new(Kind::ByCategory).str(c)));
    }
    filter(
        Kind::ByOperator,
        Some(Key::new(Kind::ByOperator).u64(o.created_by.0)),
    );
    // A caller's history: counted per number, no day counts (nobody sums those).
    let phone = Key::new(Kind::ByPhone).str(&o.caller.phone);
    out.push(Entry {
        key: phone.clone().time(o.created_at).u64(id).bytes(),
        counters: vec![phone.bytes()],
    });
    if is_query_code(&o.query_code) {
        out.push(Entry {
            key: query_code_key(&o.query_code)
                .time(o.created_at)
                .u64(id)
                .bytes(),
            counters: Vec::new(),
        });
    }
    if let Some(tail) = phone_tail(&o.caller.phone) {
        out.push(Entry {
            key: Key::new(Kind::ByPhoneTail)
                .str(tail)
                .time(o.created_at)
                .u64(id)
                .bytes(),
            counters: Vec::new(),
        });
    }
    if let Some(detail) = o.address.detail.as_deref().filter(|d| !d.is_empty()) {
        out.push(Entry {
            key: address_key(o.address.town.as_deref(), detail)
                .time(o.created_at)
                .u64(id)
                .bytes(),
            counters: Vec::new(),
        });
    }
}

/// The queues: open work by the deadline running now, or by when the order last changed.
fn queue_entries(o: &Order, out: &mut Vec<Entry>) {
    let id = o.id.0;
    let queue = |kind: Key, at: Timestamp| Entry {
        key: kind.clone().time(at).u64(id).bytes(),
        counters: vec![kind.bytes()],
    };
    if o.state.is_open() {
        let at = match o.state {
            State::CallbackPending => o.callback_due.map(|d| d.due),
            _ => running(o).map(|d| d.due),
        }
        .unwrap_or(o.updated_at);
        out.push(queue(Key::new(Kind::StateDue).str(o.state.code()), at));
    }
    for u in &units_of(o) {
        let (list, at) = unit_list(o, UnitId(*u));
        out.push(queue(Key::new(Kind::UnitQueue).u64(*u).u8(list as u8), at));
    }
    let callback_waits =
        o.state == State::CallbackPending || (o.state == State::Merged && o.flags.callback_pending);
    if callback_waits {
        let at = o.callback_due.map(|d| d.due).unwrap_or(o.updated_at);
        out.push(queue(Key::new(Kind::Callback), at));
    }
    if o.state == State::InProgress
        && let Some(e) = o
            .current_round()
            .and_then(|r| r.extensions.iter().find(|e| e.approved.is_none()))
    {
        out.push(queue(Key::new(Kind::ExtensionPending), e.requested_at));
    }
    if o.state.is_open()
        && let Some(p) = &o.flags.reopen_proposal
    {
        out.push(queue(Key::new(Kind::ReopenProposal), p.at));
    }
    if o.state.is_open() && o.flags.supervised.is_some() {
        out.push(queue(Key::new(Kind::Supervised), o.updated_at));
    }
    if o.state.is_open() && o.flags.urge_count > 0 {
        // Most urged first when read backwards.
        out.push(queue(
            Key::new(Kind::Urged).u64(u64::from(o.flags.urge_count)),
            o.updated_at,
        ));
    }
    if let Some(d) = running(o) {
        out.push(queue(Key::new(Kind::SoonAt), d.soon_at));
        if o.flags.auto_urged_due != Some(d.due) {
            out.push(queue(Key::new(Kind::AutoUrge), d.due));
        }
    }
}

/// The compact row a list shows of an order: decoded instead of the whole order, so a list
/// page reads one page of rows. It holds the caller fields a view needs to mask titles.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub id: OrderId,
    pub number: String,
    pub title: String,
    pub state: State,
    pub kind: super::order::Kind,
    pub urgency: super::order::Urgency,
    pub channel: super::order::Channel,
    pub line: super::order::Line,
    pub confidential: bool,
    pub supervised: bool,
    pub reopen_count: u32,
    pub urge_count: u32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The current round's main unit and co-units.
    pub unit: Option<UnitId>,
    pub co_units: Vec<UnitId>,
    /// The deadline running now for the main unit (or the callback's).
    pub due: Option<Deadline>,
    pub caller_name: String,
    pub caller_phone: String,
    pub consent_phone: bool,
    pub town: Option<String>,
}

impl Row {
    pub fn of(o: &Order) -> Row {
        let r = o.current_round();
        Row {
            id: o.id,
            number: o.number.clone(),
            title: o.title.clone(),
            state: o.state,
            kind: o.kind,
            urgency: o.urgency,
            channel: o.channel,
            line: o.line,
            confidential: o.confidential,
            supervised: o.flags.supervised.is_some(),
            reopen_count: o.flags.reopen_count,
            urge_count: o.flags.urge_count,
            created_at: o.created_at,
            updated_at: o.updated_at,
            unit: r.map(|r| r.unit),
            co_units: r.map(|r| r.co_units.clone()).unwrap_or_default(),
            due: match o.state {
                State::CallbackPending => o.callback_due,
                State::Merged if o.flags.callback_pending => o.callback_due,
                _ => running(o),
            },
            caller_name: o.caller.name.clone(),
            caller_phone: o.caller.phone.clone(),
            consent_phone: o.caller.consent_phone,
            town: o.address.town.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_by_their_parts() {
        let a = Key::new(Kind::ByState).str("closed").i64(-5).u64(1).bytes();
        let b = Key::new(Kind::ByState).str("closed").i64(3).u64(0).bytes();
        let c = Key::new(Kind::ByState)
            .str("dispatched")
            .i64(-9)
            .u64(0)
            .bytes();
        assert!(a < b && b < c);
        assert_eq!(id_of(&a), Some(OrderId(1)));
        let t = Key::new(Kind::Created)
            .time(Timestamp(1_796_000_400_000))
            .u64(7)
            .bytes();
        assert_eq!(time_of(&t), Some(Timestamp(1_796_000_400_000)));
        assert_eq!(cst_day(Timestamp(0)), 0);
        assert_eq!(cst_day(Timestamp(16 * 3_600_000)), 1, "midnight Beijing");
    }
}
