//! What each audience may learn of an order (SPEC §3): the one place that decides which
//! rounds, timeline entries and caller data a unit, a platform or a staff role is shown.
//!
//! A unit (承办单位) sees an order only through its own part: the rounds it held (main or
//! co-unit), the timeline of those rounds with internal entries (callbacks, QA, screening)
//! left out, and the caller masked — or not at all on a confidential order. Free text shown
//! to a unit is redacted too, so a caller's number typed into the content or a note does not
//! reach the unit either.

use crate::domain::order::{Order, Round};
use crate::domain::order_state::Action;
use crate::domain::role::Role;
use crate::domain::unit::UnitId;
use crate::domain::validate::{mask_id, mask_name, mask_phone};
use crate::service::Actor;

/// Who is looking, as far as caller data goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// Centre staff of this role.
    Staff(Role),
    /// A unit user of this unit (a unit user without a unit sees nothing).
    Unit(Option<UnitId>),
    /// An integration token of a platform: status and the public reply only.
    Platform,
}

impl Audience {
    pub fn of(actor: &Actor) -> Audience {
        if actor.channel.is_some() {
            Audience::Platform
        } else if actor.role == Role::Unit {
            Audience::Unit(actor.unit)
        } else {
            Audience::Staff(actor.role)
        }
    }
}

/// Whether a view of `o` for this audience carries caller data (a name, masked or not).
pub fn shows_caller(o: &Order, audience: Audience) -> bool {
    match audience {
        Audience::Staff(_) => true,
        Audience::Unit(_) => !o.confidential,
        Audience::Platform => false,
    }
}

/// The intake warnings a platform may hear: emergencies, and likely duplicates among its own
/// channel's orders (by number only). The blacklist, its reasons and other channels' orders
/// are the centre's.
pub fn platform_warnings(
    warnings: Vec<serde_json::Value>,
    channel: crate::domain::order::Channel,
) -> Vec<serde_json::Value> {
    use serde_json::{Value, json};
    warnings
        .into_iter()
        .filter_map(|w| match w["code"].as_str() {
            Some("emergency") => Some(w),
            Some("possible_duplicate") => {
                let own: Vec<Value> = w["orders"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter(|o| o["channel"] == channel.code())
                            .map(|o| json!({"id": o["id"], "number": o["number"], "score": o["score"]}))
                            .collect()
                    })
                    .unwrap_or_default();
                (!own.is_empty()).then(|| {
                    json!({
                        "code": "possible_duplicate",
                        "order_ids": own.iter().map(|o| o["id"].clone()).collect::<Vec<_>>(),
                        "orders": own,
                    })
                })
            }
            _ => None,
        })
        .collect()
}

/// Whether a platform's search words match what it may read of the order: the number, what
/// it submitted (title and content) and the public reply.
pub fn platform_sees_words(o: &Order, q: &str) -> bool {
    let mut text = format!("{} {} {}", o.number, o.title, o.content);
    if let Some(r) = super::platform::public_reply(o) {
        text.push(' ');
        text.push_str(&r);
    }
    let seen: std::collections::HashSet<String> = crate::search::tokens(&text)
        .into_iter()
        .map(|(_, _, t)| t)
        .collect();
    crate::search::tokens(q)
        .into_iter()
        .all(|(_, _, t)| seen.contains(&t))
}

/// Whether `unit` took part in the round (as main or co-unit).
pub fn in_round(r: &Round, unit: UnitId) -> bool {
    r.unit == unit || r.co_units.contains(&unit)
}

/// The rounds a unit took part in, by index; empty when it never held one.
pub fn unit_rounds(o: &Order, unit: UnitId) -> Vec<usize> {
    o.rounds
        .iter()
        .enumerate()
        .filter(|(_, r)| in_round(r, unit))
        .map(|(i, _)| i)
        .collect()
}

/// Whether the unit holds the current round now (its part has not been handed on).
pub fn holds_now(o: &Order, unit: UnitId) -> bool {
    o.current_round().is_some_and(|r| in_round(r, unit))
}

/// Which round each timeline entry belongs to: `Some(0)` before the first dispatch (the
/// registration every unit sees), `Some(n)` during round n, and `None` between a round that
/// ended with an approved return and the next dispatch (the centre's own work then).
pub fn timeline_rounds(o: &Order) -> Vec<Option<u32>> {
    let mut round = 0u32;
    let mut open = true;
    o.timeline
        .iter()
        .map(|t| {
            if Action::parse(&t.action).is_some_and(Action::starts_round) {
                round += 1;
                open = true;
                return Some(round);
            }
            let here = open.then_some(round);
            // The decision that approved the round's return is its last entry.
            if t.action == "decide_return"
                && o.rounds
                    .get(round.saturating_sub(1) as usize)
                    .is_some_and(|r| {
                        r.returns
                            .iter()
                            .any(|x| x.approved == Some(true) && x.decided_at == Some(t.at))
                    })
            {
                open = false;
            }
            here
        })
        .collect()
}

/// Whether a unit may see an attachment: material from before its first round (what the
/// centre registered) and what was added during its own rounds, not another unit's.
pub fn unit_sees_attachment(o: &Order, unit: UnitId, at: crate::domain::time::Timestamp) -> bool {
    let mine = unit_rounds(o, unit);
    let Some(first) = mine.first().and_then(|i| o.rounds.get(*i)) else {
        return false;
    };
    if at < first.dispatched_at {
        return true;
    }
    mine.iter().any(|i| {
        let Some(r) = o.rounds.get(*i) else {
            return false;
        };
        let end = o.rounds.get(i + 1).map(|n| n.dispatched_at).or_else(|| {
            r.returns
                .iter()
                .find(|x| x.approved == Some(true))
                .and_then(|x| x.decided_at)
        });
        at >= r.dispatched_at && end.is_none_or(|e| at < e)
    })
}

/// How a unit sees one kind of timeline entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnitNote {
    /// The entry with its note: the unit's own work and what was said to it.
    Full,
    /// The action alone, without its parameters or the centre's words (the template words it
    /// neutrally).
    Plain,
    /// Not shown: internal work of the centre (screening, callbacks, QA, views).
    Hidden,
}

/// The rule per timeline action; anything not listed is hidden (an allow-list, so a new
/// kind of entry never reaches a unit by default).
pub fn unit_note(action: &str) -> UnitNote {
    match action {
        "dispatch" | "sign" | "return" | "decide_return" | "request_extension"
        | "decide_extension" | "progress" | "reply" | "review_reply" | "reopen" | "urge"
        | "auto_urge" | "supervise" | "attach" | "co_sign" | "co_opinion" => UnitNote::Full,
        "register" => UnitNote::Plain,
        "close" => UnitNote::Plain,
        "withdraw" => UnitNote::Plain,
        "repeat_call" => UnitNote::Plain,
        "merged_in" => UnitNote::Plain,
        _ => UnitNote::Hidden,
    }
}

/// Masks what identifies the caller in free text (content, notes, replies) for an audience
/// that may not see it in the caller fields: typed into the text, a number or a name would
/// otherwise pass around the masking.
///
/// Numbers are found however they are written (spaces, hyphens, dots, full-width digits, a
/// `+86` in front): the caller's own number and identity number, any identity number, and
/// (where the audience may not see numbers) any mobile number. On a confidential order a
/// unit loses the caller entirely: the caller's numbers go whole, and the name goes also as
/// its given name alone, as surname plus a form of address (赵先生), and every longer part of
/// the enterprise's or deputy's name.
pub struct Redactor {
    /// (text to find, replacement), longest first.
    words: Vec<(String, String)>,
    /// Parts of names to drop wherever they stand (confidential orders, for units).
    fragments: Vec<String>,
    /// The caller's numbers as digits (phone, its local part, identity number).
    caller_numbers: Vec<String>,
    /// Replace the caller's numbers whole (a confidential order, for a unit).
    caller_numbers_whole: bool,
    /// Mask the caller's phone number (it is masked in the caller fields too).
    hide_phone: bool,
    /// Mask every mobile-looking number, not only the caller's.
    mobiles: bool,
}

/// Forms of address after a surname that point at one person.
const ADDRESSES: &[&str] = &[
    "先生", "女士", "小姐", "师傅", "老师", "同志", "大爷", "大妈", "阿姨", "大姐", "大哥", "老板",
    "主任", "经理", "书记", "代表", "某",
];

impl Redactor {
    /// For `role` reading `o`. Operators, shift leads and QA see the caller's number but
    /// not the identity number; supervisor and admin see neither; a unit sees the name
    /// masked, the number only with consent, and nothing of a confidential caller.
    pub fn for_role(o: &Order, role: Role) -> Redactor {
        let c = &o.caller;
        let unit = role == Role::Unit;
        let hide_phone = match role {
            Role::Operator | Role::ShiftLead | Role::Qa => false,
            Role::Supervisor | Role::Admin => true,
            Role::Unit => o.confidential || !c.consent_phone,
        };
        let mut words: Vec<(String, String)> = Vec::new();
        let mut fragments: Vec<String> = Vec::new();
        let hidden = unit && o.confidential;
        if unit {
            let name = c.name.trim();
            if name.chars().count() >= 2 {
                let masked = if hidden {
                    "来电人".to_string()
                } else {
                    mask_name(name)
                };
                words.push((name.to_string(), masked));
            }
            if hidden {
                let mut chars = name.chars();
                if let Some(surname) = chars.next() {
                    let given: String = chars.collect();
                    if given.chars().count() >= 2 {
                        fragments.push(given);
                    }
                    for a in ADDRESSES {
                        words.push((format!("{surname}{a}"), "来电人".to_string()));
                    }
                }
                if let Some(e) = &o.enterprise {
                    words.push((e.credit_code.clone(), "****".to_string()));
                    fragments.extend(parts_of(&e.name, 4));
                }
                if let Some(d) = &o.deputy {
                    fragments.extend(parts_of(&d.name, 2));
                }
            } else if let Some(d) = &o.deputy {
                // A deputy's name is masked like the caller's (often they are the same).
                if d.name.trim().chars().count() >= 2 {
                    words.push((d.name.trim().to_string(), mask_name(d.name.trim())));
                }
            }
        }
        words.retain(|(w, _)| w.chars().count() >= 2);
        words.sort_by_key(|(w, _)| std::cmp::Reverse(w.chars().count()));
        fragments.sort_by_key(|f| std::cmp::Reverse(f.chars().count()));
        fragments.dedup();
        let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
        let mut caller_numbers = vec![digits(&c.phone)];
        if let Some((_, local)) = c.phone.split_once('-')
            && local.len() >= 7
        {
            caller_numbers.push(local.to_string());
        }
        if let Some(id) = &c.id_number {
            caller_numbers.push(id.to_ascii_uppercase());
        }
        caller_numbers.retain(|n| n.len() >= 7);
        Redactor {
            words,
            fragments,
            caller_numbers,
            caller_numbers_whole: hidden,
            hide_phone,
            mobiles: hide_phone,
        }
    }

    pub fn apply(&self, text: &str) -> String {
        let mut out = self.numbers(text);
        for (w, r) in &self.words {
            if out.contains(w.as_str()) {
                out = out.replace(w.as_str(), r);
            }
        }
        for f in &self.fragments {
            if out.contains(f.as_str()) {
                out = out.replace(f.as_str(), "**");
            }
        }
        out
    }

    pub fn opt(&self, text: &Option<String>) -> Option<String> {
        text.as_deref().map(|t| self.apply(t))
    }

    /// Finds every number however written and decides how it reads.
    fn numbers(&self, text: &str) -> String {
        if !text
            .chars()
            .any(|c| c.is_ascii_digit() || ('０'..='９').contains(&c))
        {
            return text.to_string();
        }
        let chars: Vec<char> = text.chars().collect();
        let digit = |c: char| -> Option<char> {
            match c {
                '0'..='9' => Some(c),
                '０'..='９' => char::from_u32(u32::from(c) - u32::from('０') + u32::from('0')),
                _ => None,
            }
        };
        let sep = |c: char| matches!(c, ' ' | '-' | '.' | '－' | '—' | '\u{3000}' | '·');
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        while i < chars.len() {
            let Some(first) = digit(chars[i]) else {
                out.push(chars[i]);
                i += 1;
                continue;
            };
            // A run of digits with single separators between them.
            let start = i;
            let mut ds = String::from(first);
            let mut end = i + 1;
            let mut j = i + 1;
            while j < chars.len() {
                if let Some(d) = digit(chars[j]) {
                    ds.push(d);
                    j += 1;
                    end = j;
                } else if sep(chars[j]) && chars.get(j + 1).and_then(|c| digit(*c)).is_some() {
                    j += 1;
                } else {
                    break;
                }
            }
            // An identity number may end in X.
            if ds.len() == 17
                && chars
                    .get(end)
                    .is_some_and(|c| matches!(c, 'X' | 'x' | 'Ｘ'))
            {
                ds.push('X');
                end += 1;
            }
            let original: String = chars[start..end].iter().collect();
            out.push_str(&self.number(&ds).unwrap_or(original));
            i = end;
        }
        out
    }

    /// How one number reads (`None`: as written).
    fn number(&self, ds: &str) -> Option<String> {
        // A country code in front of a mobile number.
        let national = ds
            .strip_prefix("0086")
            .or_else(|| ds.strip_prefix("86").filter(|r| r.len() == 11))
            .unwrap_or(ds);
        let callers = self
            .caller_numbers
            .iter()
            .any(|n| ds.contains(n.as_str()) || national == n);
        let identity = ds.len() == 18;
        let mobile = national.len() == 11
            && national.starts_with('1')
            && national
                .as_bytes()
                .get(1)
                .is_some_and(|d| (b'3'..=b'9').contains(d));
        if callers && self.caller_numbers_whole {
            return Some(
                if identity {
                    "[身份证号已隐去]"
                } else {
                    "[来电人电话已隐去]"
                }
                .into(),
            );
        }
        if identity {
            return Some(mask_id(ds));
        }
        if (callers && self.hide_phone) || (mobile && self.mobiles) {
            return Some(if mobile {
                mask_phone(national)
            } else {
                format!("****{}", &ds[ds.len().saturating_sub(4)..])
            });
        }
        None
    }
}

/// Every part of `name` at least `min` characters long, longest first.
fn parts_of(name: &str, min: usize) -> Vec<String> {
    let chars: Vec<char> = name.trim().chars().collect();
    let mut out = Vec::new();
    for len in (min..=chars.len()).rev() {
        for start in 0..=chars.len() - len {
            out.push(chars[start..start + len].iter().collect());
        }
    }
    out
}

/// Masks digit runs that look like an identity number (17 digits and a check character)
/// and, with `mobiles`, a mobile number; other numbers (dates, order numbers) stay.
pub fn mask_number_runs(text: &str, mobiles: bool) -> String {
    Redactor {
        words: Vec::new(),
        fragments: Vec::new(),
        caller_numbers: Vec::new(),
        caller_numbers_whole: false,
        hide_phone: false,
        mobiles,
    }
    .numbers(text)
}

/// Whether a unit's search words match the order as the unit sees it: every word and
/// character pair of the query must stand in the redacted text (number, title, content,
/// address, and the replies of its own rounds). The index matches the raw text; checking
/// against what the unit may read means a guessed name or number finds nothing, and no
/// match is dropped for any other reason (so a missing hit tells nothing either).
pub fn unit_sees_words(o: &Order, unit: UnitId, q: &str) -> bool {
    let red = Redactor::for_role(o, Role::Unit);
    let mut text = format!("{} {} {}", o.number, o.title, o.content);
    for part in [&o.address.town, &o.address.village, &o.address.detail]
        .into_iter()
        .flatten()
    {
        text.push(' ');
        text.push_str(part);
    }
    for i in unit_rounds(o, unit) {
        for reply in o.rounds.get(i).map(|r| r.replies.as_slice()).unwrap_or(&[]) {
            text.push(' ');
            text.push_str(&reply.result);
        }
    }
    let seen: std::collections::HashSet<String> = crate::search::tokens(&red.apply(&text))
        .into_iter()
        .map(|(_, _, t)| t)
        .collect();
    crate::search::tokens(q)
        .into_iter()
        .all(|(_, _, t)| seen.contains(&t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_runs_are_masked_and_other_numbers_kept() {
        assert_eq!(
            mask_number_runs("电话13812345678，请回电", true),
            "电话138****5678，请回电"
        );
        assert_eq!(
            mask_number_runs("身份证43042419900101123X", false),
            "身份证4304**********123X"
        );
        assert_eq!(
            mask_number_runs("HD2026113000001 于 2026-11-30", true),
            "HD2026113000001 于 2026-11-30"
        );
        assert_eq!(mask_number_runs("12800138000", true), "12800138000");
        assert_eq!(mask_number_runs("13812345678", false), "13812345678");
    }

    #[test]
    fn unknown_timeline_actions_are_hidden_from_units() {
        assert_eq!(unit_note("callback"), UnitNote::Hidden);
        assert_eq!(unit_note("propose_reopen"), UnitNote::Hidden);
        assert_eq!(unit_note("inspection"), UnitNote::Hidden);
        assert_eq!(unit_note("something_new"), UnitNote::Hidden);
        assert_eq!(unit_note("reply"), UnitNote::Full);
    }
}
