//! Per-day facts of an order for the reports: what happened on which day (Beijing time) to
//! which unit, operator, channel, category and town — dispatched, signed late, returned,
//! extended, finished late, urged, reopened, called back with which satisfaction, closed.
//!
//! Like its index keys, an order's facts are one pure function of the order, so the write
//! path moves the stored sums by the difference between the old and the new version in the
//! same transaction, a check can rebuild them from the orders and compare, and a monthly
//! report reads about 30 days × values rows, never the orders. Registrations are not facts:
//! the per-day counters of the lists count them by day for every filter already.
//!
//! Key layout: dimension tag, day (u32 big-endian, days since the epoch in Beijing time),
//! the value (an id as u64 big-endian, a code as UTF-8 ended by 0, nothing for the centre),
//! the measure, a sub-code (satisfaction or resolution level, else 0). So all facts of one
//! dimension over a date range are one key range.

use std::collections::{BTreeMap, BTreeSet};

use super::order::{ClosureKind, Order, Resolved, Round, Satisfaction};
use super::order_index::cst_day;
use super::order_state::State;
use super::time::Timestamp;

/// What a fact is counted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Dim {
    /// The whole centre (no value).
    Centre = 1,
    /// A unit, by id.
    Unit = 2,
    /// A user of the centre (operator, shift lead, …), by id.
    Operator = 3,
    /// A channel, by code.
    Channel = 4,
    /// A category, by name.
    Category = 5,
    /// A town, by name.
    Town = 6,
    /// A word of the title (`domain::words`), for the hot words.
    Word = 7,
}

impl Dim {
    pub const ALL: [Dim; 7] = [
        Dim::Centre,
        Dim::Unit,
        Dim::Operator,
        Dim::Channel,
        Dim::Category,
        Dim::Town,
        Dim::Word,
    ];

    fn by_id(self) -> bool {
        matches!(self, Dim::Unit | Dim::Operator)
    }

    fn parse(tag: u8) -> Option<Dim> {
        Dim::ALL.into_iter().find(|d| *d as u8 == tag)
    }
}

/// What happened. `…Secs` measures are sums of seconds (divide by their count measure).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Measure {
    /// Answered on the spot and closed (直接办结), on the day it was closed.
    Answered = 1,
    /// Seconds from registration to the direct answer.
    AnswerSecs = 2,
    /// Not accepted (不予受理).
    Rejected = 3,
    /// A round dispatched to the unit as main unit.
    Dispatched = 10,
    /// A round dispatched with the unit as co-unit.
    CoDispatched = 11,
    /// Signed, and of those signed after the signing deadline.
    Signed = 12,
    SignedLate = 13,
    /// Returns asked, and returns approved (on the day decided).
    Returned = 14,
    ReturnApproved = 15,
    /// Extensions asked, and granted (on the day decided).
    ExtensionAsked = 16,
    ExtensionGranted = 17,
    /// A round finished by a reply that stands (not sent back), on the reply's day; and of
    /// those, finished after the handling deadline.
    Finished = 18,
    FinishedLate = 19,
    /// Seconds from dispatch to the standing reply.
    FinishSecs = 20,
    /// Urged (催办, by hand or automatically), against the unit of the round running then.
    Urged = 21,
    /// Put under supervision (督办).
    Supervised = 22,
    /// Sent back to be done again (发回重办), against the unit of the round before.
    Reopened = 23,
    /// A callback, sub-coded by satisfaction (index in `Satisfaction::ALL`).
    Callback = 24,
    /// A callback that recorded whether it was resolved, sub-coded by `Resolved::ALL` index.
    CallbackResolved = 25,
    /// Closed (办结/审结), on the day closed.
    Closed = 26,
    /// Registered with the word in its title (`Dim::Word` only), on the day registered.
    Mentioned = 30,
    /// The registering operator's after-call work (话后处理): their own first disposal of
    /// the order (dispatch, direct answer, rejection, merge) within `WRAP_UP_MAX_SECS` of
    /// registration, on the day of the disposal; and its seconds from registration.
    WrapUp = 31,
    WrapUpSecs = 32,
}

/// A disposal later than this after registration is not after-call work: the order waited
/// in the queue (a shift is eight hours).
pub const WRAP_UP_MAX_SECS: i64 = 8 * 3600;

impl Measure {
    pub const ALL: [Measure; 23] = [
        Measure::Answered,
        Measure::AnswerSecs,
        Measure::Rejected,
        Measure::Dispatched,
        Measure::CoDispatched,
        Measure::Signed,
        Measure::SignedLate,
        Measure::Returned,
        Measure::ReturnApproved,
        Measure::ExtensionAsked,
        Measure::ExtensionGranted,
        Measure::Finished,
        Measure::FinishedLate,
        Measure::FinishSecs,
        Measure::Urged,
        Measure::Supervised,
        Measure::Reopened,
        Measure::Callback,
        Measure::CallbackResolved,
        Measure::Closed,
        Measure::Mentioned,
        Measure::WrapUp,
        Measure::WrapUpSecs,
    ];

    fn parse(tag: u8) -> Option<Measure> {
        Measure::ALL.into_iter().find(|m| *m as u8 == tag)
    }
}

/// The value of a dimension.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Value {
    None,
    Id(u64),
    Code(String),
}

/// One fact key, decoded.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Fact {
    pub dim: Dim,
    pub day: u32,
    pub value: Value,
    pub measure: Measure,
    pub sub: u8,
}

impl Fact {
    pub fn key(&self) -> Vec<u8> {
        let mut k = vec![self.dim as u8];
        k.extend_from_slice(&self.day.to_be_bytes());
        match &self.value {
            Value::None => {}
            Value::Id(id) => k.extend_from_slice(&id.to_be_bytes()),
            Value::Code(s) => {
                k.extend(s.bytes().filter(|b| *b != 0));
                k.push(0);
            }
        }
        k.push(self.measure as u8);
        k.push(self.sub);
        k
    }

    pub fn decode(key: &[u8]) -> Option<Fact> {
        let dim = Dim::parse(*key.first()?)?;
        let day = u32::from_be_bytes(key.get(1..5)?.try_into().ok()?);
        let rest = key.get(5..)?;
        let (value, rest) = match dim {
            Dim::Centre => (Value::None, rest),
            d if d.by_id() => (
                Value::Id(u64::from_be_bytes(rest.get(..8)?.try_into().ok()?)),
                rest.get(8..)?,
            ),
            _ => {
                let end = rest.iter().position(|b| *b == 0)?;
                (
                    Value::Code(String::from_utf8(rest[..end].to_vec()).ok()?),
                    &rest[end + 1..],
                )
            }
        };
        let [measure, sub] = rest else {
            return None;
        };
        Some(Fact {
            dim,
            day,
            value,
            measure: Measure::parse(*measure)?,
            sub: *sub,
        })
    }
}

/// The key range of one dimension's facts from day `from` to day `to`, both included.
pub fn range(dim: Dim, from: u32, to: u32) -> (Vec<u8>, Vec<u8>) {
    let mut lo = vec![dim as u8];
    lo.extend_from_slice(&from.to_be_bytes());
    let mut hi = vec![dim as u8];
    hi.extend_from_slice(&to.saturating_add(1).to_be_bytes());
    (lo, hi)
}

/// One counted event of a unit: (unit id, measure, sub-code, when). The index keeps one key
/// per event (`order_index::Kind::UnitEvent`) so every assessment figure lists the orders
/// behind it.
pub type UnitEvent = (u64, Measure, u8, Timestamp);

/// Collects the facts of one order.
struct Facts<'a> {
    o: &'a Order,
    out: BTreeMap<Vec<u8>, i64>,
    events: BTreeSet<UnitEvent>,
}

impl Facts<'_> {
    fn add(&mut self, dim: Dim, value: Value, at: Timestamp, measure: Measure, sub: u8, n: i64) {
        if n == 0 {
            return;
        }
        let key = Fact {
            dim,
            day: cst_day(at),
            value,
            measure,
            sub,
        }
        .key();
        *self.out.entry(key).or_default() += n;
    }

    /// The fact for the centre and for each of `dims` the order has a value of.
    fn count(&mut self, dims: &[Dim], at: Timestamp, measure: Measure, sub: u8, n: i64) {
        self.add(Dim::Centre, Value::None, at, measure, sub, n);
        for d in dims {
            let value = match d {
                Dim::Channel => Value::Code(self.o.channel.code().to_string()),
                Dim::Category => match self.o.category.as_deref().filter(|c| !c.is_empty()) {
                    Some(c) => Value::Code(c.to_string()),
                    None => continue,
                },
                Dim::Town => match self.o.address.town.as_deref().filter(|t| !t.is_empty()) {
                    Some(t) => Value::Code(t.to_string()),
                    None => continue,
                },
                _ => continue,
            };
            self.add(*d, value, at, measure, sub, n);
        }
    }

    fn unit(&mut self, r: &Round, at: Timestamp, measure: Measure, sub: u8, n: i64) {
        self.unit_id(r.unit.0, at, measure, sub, n);
    }

    fn unit_id(&mut self, unit: u64, at: Timestamp, measure: Measure, sub: u8, n: i64) {
        self.add(Dim::Unit, Value::Id(unit), at, measure, sub, n);
        if measure != Measure::FinishSecs && n != 0 {
            self.events.insert((unit, measure, sub, at));
        }
    }

    fn operator(&mut self, user: u64, at: Timestamp, measure: Measure, n: i64) {
        self.add(Dim::Operator, Value::Id(user), at, measure, 0, n);
    }
}

const WHERE: [Dim; 3] = [Dim::Channel, Dim::Category, Dim::Town];

/// The round running at `at`: the last dispatched at or before it (strictly before when
/// `strict`, for a reopen that starts the next round at the same moment).
fn round_at(o: &Order, at: Timestamp, strict: bool) -> Option<&Round> {
    o.rounds
        .iter()
        .rev()
        .find(|r| r.dispatched_at < at || (!strict && r.dispatched_at == at))
}

fn secs(from: Timestamp, to: Timestamp) -> i64 {
    (to.0 - from.0).max(0) / 1000
}

/// The reply a round stands on: the last one not sent back by review.
pub fn standing_reply(r: &Round) -> Option<&super::order::Reply> {
    r.replies.iter().rev().find(|x| x.approved != Some(false))
}

/// Whether a fact key is one schema 21 added (the words, the operators' after-call work).
pub fn new_in_schema_21(key: &[u8]) -> bool {
    Fact::decode(key).is_some_and(|f| {
        f.dim == Dim::Word || matches!(f.measure, Measure::WrapUp | Measure::WrapUpSecs)
    })
}

/// Every fact of the order with its weight (a count, or seconds for `…Secs`).
pub fn facts(o: &Order) -> BTreeMap<Vec<u8>, i64> {
    let mut out = collect(o).out;
    out.extend(word_facts(o));
    out
}

/// The words of the order's title, each once, on the day it was registered.
pub fn word_facts(o: &Order) -> impl Iterator<Item = (Vec<u8>, i64)> {
    let day = cst_day(o.created_at);
    super::words::words(&o.title).into_iter().map(move |w| {
        let key = Fact {
            dim: Dim::Word,
            day,
            value: Value::Code(w),
            measure: Measure::Mentioned,
            sub: 0,
        }
        .key();
        (key, 1)
    })
}

/// Every counted event of a unit in the order (the orders behind each unit figure).
pub fn unit_events(o: &Order) -> BTreeSet<UnitEvent> {
    collect(o).events
}

fn collect(o: &Order) -> Facts<'_> {
    let mut f = Facts {
        o,
        out: BTreeMap::new(),
        events: BTreeSet::new(),
    };
    let acted_by = |code: &str| {
        o.timeline
            .iter()
            .rev()
            .find(|e| e.action == code)
            .map(|e| e.user.0)
    };
    if let Some(closed) = o.closed_at {
        if o.state == State::Closed && o.closure == Some(ClosureKind::Direct) {
            let by = acted_by("answer").unwrap_or(o.created_by.0);
            f.count(&WHERE, closed, Measure::Answered, 0, 1);
            f.operator(by, closed, Measure::Answered, 1);
            let s = secs(o.created_at, closed);
            f.count(&[], closed, Measure::AnswerSecs, 0, s);
            f.operator(by, closed, Measure::AnswerSecs, s);
        }
        if o.state == State::Rejected {
            let by = acted_by("reject").unwrap_or(o.created_by.0);
            f.count(&WHERE, closed, Measure::Rejected, 0, 1);
            f.operator(by, closed, Measure::Rejected, 1);
        }
        if o.state == State::Closed {
            f.count(&WHERE, closed, Measure::Closed, 0, 1);
            if let Some(r) = o.rounds.last() {
                f.unit(r, closed, Measure::Closed, 0, 1);
            }
        }
    }
    // After-call work: the registering operator's own first disposal, if soon enough.
    if let Some(e) = o.timeline.iter().find(|e| {
        matches!(
            e.action.as_str(),
            "dispatch" | "answer" | "reject" | "merge"
        )
    }) && e.user == o.created_by
    {
        let s = secs(o.created_at, e.at);
        if s <= WRAP_UP_MAX_SECS {
            f.operator(e.user.0, e.at, Measure::WrapUp, 1);
            f.operator(e.user.0, e.at, Measure::WrapUpSecs, s);
        }
    }
    for r in &o.rounds {
        round_facts(&mut f, r);
    }
    for e in &o.timeline {
        let (measure, strict) = match e.action.as_str() {
            "urge" | "auto_urge" => (Measure::Urged, false),
            "supervise" => (Measure::Supervised, false),
            "reopen" => (Measure::Reopened, true),
            _ => continue,
        };
        if let Some(r) = round_at(o, e.at, strict) {
            f.unit(r, e.at, measure, 0, 1);
        }
        if measure == Measure::Reopened {
            f.count(&WHERE, e.at, measure, 0, 1);
        }
    }
    for c in &o.callbacks {
        let sat = Satisfaction::ALL
            .iter()
            .position(|s| *s == c.satisfaction)
            .unwrap_or(0) as u8;
        let resolved = c
            .resolved
            .and_then(|x| Resolved::ALL.iter().position(|v| *v == x));
        f.count(&WHERE, c.at, Measure::Callback, sat, 1);
        if let Some(x) = resolved {
            f.count(&WHERE, c.at, Measure::CallbackResolved, x as u8, 1);
        }
        let round = (c.round as usize)
            .checked_sub(1)
            .and_then(|i| o.rounds.get(i));
        match round {
            Some(r) => {
                f.unit(r, c.at, Measure::Callback, sat, 1);
                if let Some(x) = resolved {
                    f.unit(r, c.at, Measure::CallbackResolved, x as u8, 1);
                }
            }
            // A direct answer's callback is the operator's.
            None => f.add(
                Dim::Operator,
                Value::Id(o.created_by.0),
                c.at,
                Measure::Callback,
                sat,
                1,
            ),
        }
    }
    f
}

fn round_facts(f: &mut Facts, r: &Round) {
    let at = r.dispatched_at;
    f.count(&[Dim::Category, Dim::Town], at, Measure::Dispatched, 0, 1);
    f.unit(r, at, Measure::Dispatched, 0, 1);
    f.operator(r.dispatched_by.0, at, Measure::Dispatched, 1);
    for u in &r.co_units {
        f.unit_id(u.0, at, Measure::CoDispatched, 0, 1);
    }
    if let Some(signed) = r.signed_at {
        f.unit(r, signed, Measure::Signed, 0, 1);
        if signed > r.sign.due {
            f.unit(r, signed, Measure::SignedLate, 0, 1);
        }
    }
    for x in &r.returns {
        f.unit(r, x.at, Measure::Returned, 0, 1);
        if let (Some(true), Some(d)) = (x.approved, x.decided_at) {
            f.unit(r, d, Measure::ReturnApproved, 0, 1);
        }
    }
    for e in &r.extensions {
        f.unit(r, e.requested_at, Measure::ExtensionAsked, 0, 1);
        if let (Some(true), Some(d)) = (e.approved, e.decided_at) {
            f.unit(r, d, Measure::ExtensionGranted, 0, 1);
        }
    }
    if let Some(reply) = standing_reply(r) {
        f.count(&[], reply.at, Measure::Finished, 0, 1);
        f.unit(r, reply.at, Measure::Finished, 0, 1);
        if r.handle.is_some_and(|h| reply.at > h.due) {
            f.count(&[], reply.at, Measure::FinishedLate, 0, 1);
            f.unit(r, reply.at, Measure::FinishedLate, 0, 1);
        }
        f.unit(r, reply.at, Measure::FinishSecs, 0, secs(at, reply.at));
    }
}

/// What moves when an order changes from `old` to `new`: each fact key with its change.
pub fn diff(old: Option<&Order>, new: &Order) -> Vec<(Vec<u8>, i64)> {
    let mut moves = facts(new);
    if let Some(old) = old {
        for (k, n) in facts(old) {
            *moves.entry(k).or_default() -= n;
        }
    }
    moves.into_iter().filter(|(_, n)| *n != 0).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_decode_to_what_made_them_and_ranges_hold_their_days() {
        for (dim, value) in [
            (Dim::Centre, Value::None),
            (Dim::Unit, Value::Id(7)),
            (Dim::Operator, Value::Id(u64::MAX)),
            (Dim::Category, Value::Code("城乡建设/物业".into())),
            (Dim::Town, Value::Code(String::new())),
        ] {
            for measure in Measure::ALL {
                let f = Fact {
                    dim,
                    day: 20_700,
                    value: value.clone(),
                    measure,
                    sub: 3,
                };
                assert_eq!(Fact::decode(&f.key()), Some(f.clone()));
                let (lo, hi) = range(dim, 20_700, 20_700);
                assert!(lo <= f.key() && f.key() < hi);
                let (lo, hi) = range(dim, 20_701, 20_731);
                assert!(!(lo <= f.key() && f.key() < hi));
            }
        }
        assert_eq!(Fact::decode(&[9, 0, 0]), None);
        assert_eq!(Fact::decode(&[1, 0, 0, 0, 1, 10]), None);
    }
}
