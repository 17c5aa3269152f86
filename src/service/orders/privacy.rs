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

/// The round number (1-based) each timeline entry belongs to; 0 before the first dispatch.
pub fn timeline_rounds(o: &Order) -> Vec<u32> {
    let mut round = 0u32;
    o.timeline
        .iter()
        .map(|t| {
            if Action::parse(&t.action).is_some_and(Action::starts_round) {
                round += 1;
            }
            round
        })
        .collect()
}

/// How a unit sees one kind of timeline entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnitNote {
    /// The entry with its note: the unit's own work and what was said to it.
    Full,
    /// The entry, with a fixed neutral note instead of the centre's words.
    Plain(&'static str),
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
        "register" => UnitNote::Plain("受理登记"),
        "close" => UnitNote::Plain("工单已审结"),
        "withdraw" => UnitNote::Plain("工单已撤销"),
        "repeat_call" => UnitNote::Plain("来电人再次来电反映此事"),
        "merged_in" => UnitNote::Plain("有同一事项的来电并入本工单"),
        _ => UnitNote::Hidden,
    }
}

/// Masks what identifies the caller in free text (content, notes, replies) for an audience
/// that may not see it in the caller fields: typed into the text, a number or a name would
/// otherwise pass around the masking.
pub struct Redactor {
    /// (text to find, replacement), longest first.
    words: Vec<(String, String)>,
    /// Mask every mobile-looking number, not only the caller's.
    mobiles: bool,
}

impl Redactor {
    /// For `role` reading `o`. Operators, shift leads and QA see the caller's number but
    /// not the identity number; supervisor and admin see neither; a unit sees the name
    /// masked, the number only with consent, and nothing of a confidential caller.
    pub fn for_role(o: &Order, role: Role) -> Redactor {
        let c = &o.caller;
        let mut words: Vec<(String, String)> = Vec::new();
        if let Some(id) = &c.id_number {
            words.push((id.clone(), mask_id(id)));
            words.push((id.to_ascii_lowercase(), mask_id(id)));
        }
        let unit = role == Role::Unit;
        let hide_phone = match role {
            Role::Operator | Role::ShiftLead | Role::Qa => false,
            Role::Supervisor | Role::Admin => true,
            Role::Unit => o.confidential || !c.consent_phone,
        };
        if hide_phone {
            let masked = mask_phone(&c.phone);
            words.push((c.phone.clone(), masked.clone()));
            if let Some((area, local)) = c.phone.split_once('-') {
                words.push((format!("{area}{local}"), masked.clone()));
                if local.len() >= 7 {
                    words.push((local.to_string(), masked));
                }
            }
        }
        if unit {
            let name = c.name.trim();
            if name.chars().count() >= 2 {
                let masked = if o.confidential {
                    "来电人".to_string()
                } else {
                    mask_name(name)
                };
                words.push((name.to_string(), masked));
            }
            if o.confidential {
                if let Some(e) = &o.enterprise {
                    words.push((e.name.clone(), "（企业）".to_string()));
                    words.push((e.credit_code.clone(), "****".to_string()));
                }
                if let Some(d) = &o.deputy {
                    words.push((d.name.clone(), "（代表）".to_string()));
                }
            }
        }
        words.retain(|(w, _)| w.chars().count() >= 2);
        words.sort_by_key(|(w, _)| std::cmp::Reverse(w.len()));
        Redactor {
            words,
            mobiles: hide_phone,
        }
    }

    pub fn apply(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (w, r) in &self.words {
            if out.contains(w.as_str()) {
                out = out.replace(w.as_str(), r);
            }
        }
        mask_number_runs(&out, self.mobiles)
    }

    pub fn opt(&self, text: &Option<String>) -> Option<String> {
        text.as_deref().map(|t| self.apply(t))
    }
}

/// Masks digit runs that look like an identity number (17 digits and a check character)
/// and, with `mobiles`, a mobile number (11 digits from 1[3-9]); other numbers (dates,
/// order numbers) stay.
pub fn mask_number_runs(text: &str, mobiles: bool) -> String {
    if !text.bytes().any(|b| b.is_ascii_digit()) {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        let mut end = i;
        // An identity number may end in X.
        if end - start == 17 && chars.get(end).is_some_and(|c| matches!(c, 'X' | 'x')) {
            end += 1;
            i = end;
        }
        let run: String = chars[start..end].iter().collect();
        let bytes = run.as_bytes();
        let mobile =
            mobiles && bytes.len() == 11 && bytes[0] == b'1' && (b'3'..=b'9').contains(&bytes[1]);
        let identity = bytes.len() == 18;
        if mobile {
            out.push_str(&mask_phone(&run));
        } else if identity {
            out.push_str(&mask_id(&run));
        } else {
            out.push_str(&run);
        }
    }
    out
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
