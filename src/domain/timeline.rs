//! The timeline (流转记录) of an order: one entry per event, stored as an action code with
//! typed parameters and the words the user typed — never prose the program wrote. The
//! Chinese sentence of an entry is made only where it is shown (the templates), so reports
//! count events by their parameters and a wording change never needs a migration.
//!
//! Orders stored before the parameters existed carry their entries as prose; `upgrade`
//! turns them into codes and parameters (from the order's own records where they hold the
//! value, from the prose where only it does) and keeps the user's words as the note.

use serde::{Deserialize, Serialize};

use super::order::{Channel, Kind, Order, Resolved, Round, Satisfaction};
use super::order_state::State;
use super::role::Role;
use super::time::Timestamp;
use super::unit::UnitId;
use super::user::UserId;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at: Timestamp,
    pub user: UserId,
    pub user_name: String,
    pub role: Role,
    /// An action code (SPEC §4) or one of `register`, `auto_urge`, `repeat_call`, `attach`,
    /// `merged_in`, `merged_reply`.
    pub action: String,
    /// The typed parameters; `None` only on an entry stored before they existed (the
    /// migration to schema 16 upgrades every one).
    #[serde(default, rename = "p")]
    pub params: Option<Params>,
    /// What the user typed (a reason, a note, a reply); empty when nothing was.
    pub note: String,
}

impl TimelineEntry {
    pub fn params(&self) -> &Params {
        static NONE: Params = Params::EMPTY;
        self.params.as_ref().unwrap_or(&NONE)
    }
}

/// What an event was about. Each action fills the fields it has (see `Params::of`'s
/// callers); the rest stay empty and are not stored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Params {
    /// The unit: dispatched to (`dispatch`, `reopen`), or holding the round when urged or
    /// supervised.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<UnitId>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub co_units: Vec<UnitId>,
    /// The round the event started (`dispatch`, `reopen`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub round: Option<u32>,
    /// A deadline: to sign (`dispatch`, `reopen`), to handle (`sign`, a granted extension),
    /// for the co-unit's opinion (`co_sign`), for the callback (an approved reply), or the
    /// deadline that had passed (`auto_urge`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due: Option<Timestamp>,
    /// Working days (`request_extension`, `decide_extension`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
    /// A decision (`decide_return`, `decide_extension`, `review_reply`, `decide_reopen`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approve: Option<bool>,
    /// The exclusion code of a rejection (1–10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<u8>,
    /// The emergency number a code-3 rejection was handed to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub satisfaction: Option<Satisfaction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved: Option<Resolved>,
    /// Which attempt or time: an unreachable callback's attempt, a repeat call's count, a
    /// reopen's count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// The supervision level (`supervise`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// The other order's number (`merge`, `merged_in`, `merged_reply`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
    /// The state the order was in: what an automatic urge was about (dispatched: signing,
    /// in progress: handling).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<State>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// An attachment's file name (`attach`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// A reply the shift lead entered for the unit (代录).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub on_behalf: bool,
    /// A granted extension held to the platform's own deadline.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub capped: bool,
    /// A sample callback on an order already closed (it changes no state).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub sample: bool,
}

impl Params {
    pub const EMPTY: Params = Params {
        unit: None,
        co_units: Vec::new(),
        round: None,
        due: None,
        days: None,
        approve: None,
        reason_code: None,
        transfer: None,
        satisfaction: None,
        resolved: None,
        count: None,
        level: None,
        order: None,
        stage: None,
        kind: None,
        channel: None,
        file: None,
        on_behalf: false,
        capped: false,
        sample: false,
    };

    /// The parameters of a dispatch or reopen that started `r`.
    pub fn round_start(r: &Round) -> Params {
        Params {
            unit: Some(r.unit),
            co_units: r.co_units.clone(),
            round: Some(r.no),
            due: Some(r.sign.due),
            ..Params::default()
        }
    }

    /// Only the unit (an urge or a supervision of the round running).
    pub fn unit(unit: Option<UnitId>) -> Params {
        Params {
            unit,
            ..Params::default()
        }
    }
}

/// What an action adds to the timeline: its parameters and the user's words.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Event {
    pub params: Params,
    pub note: String,
}

impl Event {
    pub fn new(params: Params, note: impl Into<String>) -> Event {
        Event {
            params,
            note: note.into(),
        }
    }

    /// Only the user's words (or nothing).
    pub fn note(note: impl Into<String>) -> Event {
        Event::new(Params::default(), note)
    }

    /// Only parameters.
    pub fn of(params: Params) -> Event {
        Event::new(params, "")
    }
}

/// Turns every entry stored as prose into a code with parameters; returns whether any was.
pub fn upgrade(o: &mut Order) -> bool {
    let rounds = entry_rounds(o);
    let mut changed = false;
    for (i, round) in rounds.into_iter().enumerate() {
        if o.timeline[i].params.is_some() {
            continue;
        }
        let round = round.and_then(|r| o.rounds.get(r));
        let (params, note) = legacy(o, round, &o.timeline[i]);
        let e = &mut o.timeline[i];
        e.params = Some(params);
        e.note = note;
        changed = true;
    }
    if changed {
        // Generated demo data wrote a reopen as `reopen` and `dispatch` at one time: one event.
        let mut last: Option<(String, Timestamp)> = None;
        o.timeline.retain(|e| {
            let twin = e.action == "dispatch" && last == Some(("reopen".to_string(), e.at));
            last = Some((e.action.clone(), e.at));
            !twin
        });
    }
    changed
}

/// The round (by index) running at each entry: rounds start with the timeline's `dispatch`
/// and `reopen` entries, in order (times alone cannot tell two rounds started in one
/// second apart). A `reopen` followed at the same time by a `dispatch` (how generated demo
/// data wrote a reopen) starts one round.
fn entry_rounds(o: &Order) -> Vec<Option<usize>> {
    let mut started = 0usize;
    let mut last: Option<(&str, Timestamp)> = None;
    o.timeline
        .iter()
        .map(|e| {
            let a = e.action.as_str();
            if matches!(a, "dispatch" | "reopen")
                && !(a == "dispatch" && last == Some(("reopen", e.at)))
            {
                started += 1;
            }
            last = Some((a, e.at));
            started.checked_sub(1)
        })
        .collect()
}

/// The text after `prefix` (trimmed), if the prose starts with it.
fn after<'a>(prose: &'a str, prefix: &str) -> Option<&'a str> {
    prose.strip_prefix(prefix).map(str::trim)
}

/// The text after the first full-width colon, or none.
fn after_colon(prose: &str) -> String {
    prose
        .split_once('：')
        .map(|(_, n)| n.trim().to_string())
        .unwrap_or_default()
}

/// The first `YYYY-MM-DD HH:MM:SS` in the prose, as written by `display_cst`.
fn time_in(prose: &str) -> Option<Timestamp> {
    let chars: Vec<char> = prose.chars().collect();
    (0..chars.len().saturating_sub(18)).find_map(|i| {
        let s: String = chars[i..i + 19].iter().collect();
        let shape = s.char_indices().all(|(j, c)| match j {
            4 | 7 => c == '-',
            10 => c == ' ',
            13 | 16 => c == ':',
            _ => c.is_ascii_digit(),
        });
        if shape {
            Timestamp::parse_local(&s)
        } else {
            None
        }
    })
}

/// The first number after `第 ` in the prose (`第 3 次`).
fn ordinal(prose: &str) -> Option<u32> {
    let rest = prose.split_once("第 ")?.1;
    rest.split(' ').next()?.parse().ok()
}

/// The parameters and the user's words of a prose entry: the prose stays the note where
/// it cannot be taken apart, so nothing that was shown is lost.
fn legacy(o: &Order, round: Option<&Round>, e: &TimelineEntry) -> (Params, String) {
    let prose = e.note.as_str();
    let at = e.at;
    let mut p = Params::default();
    let keep = || prose.to_string();
    let note = match e.action.as_str() {
        "register" => {
            p.kind = Some(o.kind);
            p.channel = Some(o.channel);
            String::new()
        }
        "dispatch" | "reopen" => {
            if let Some(r) = round {
                p = Params::round_start(r);
            }
            if e.action == "reopen" {
                p.count = ordinal(prose);
                prose
                    .split_once('：')
                    .map_or_else(keep, |(_, n)| n.trim().to_string())
            } else {
                // `派至…，签收时限 <time>。<note>`
                prose
                    .split_once("签收时限 ")
                    .and_then(|(_, rest)| rest.split_once('。'))
                    .map(|(_, n)| n.trim().to_string())
                    .unwrap_or_default()
            }
        }
        "sign" => {
            // The prose holds the deadline as set then (an extension moves the round's).
            p.due = time_in(prose).or_else(|| {
                round
                    .filter(|r| r.signed_at == Some(at))
                    .and_then(|r| r.handle.map(|h| h.due))
            });
            String::new()
        }
        "return" => after(prose, "申请退单：").map_or_else(keep, str::to_string),
        "request_extension" => {
            let x = round.and_then(|r| r.extensions.iter().find(|x| x.requested_at == at));
            p.days = x.map(|x| x.days);
            x.map_or_else(|| after_colon(prose), |x| x.reason.clone())
        }
        "decide_extension" => {
            let x = round.and_then(|r| r.extensions.iter().find(|x| x.decided_at == Some(at)));
            p.days = x.map(|x| x.days);
            p.approve = x
                .and_then(|x| x.approved)
                .or(Some(prose.starts_with("同意")));
            if p.approve == Some(true) {
                p.due = time_in(prose);
                p.capped = prose.contains("以平台规定的期限为限");
            }
            x.and_then(|x| x.note.clone()).unwrap_or_default()
        }
        "decide_return" => {
            let x = round.and_then(|r| r.returns.iter().find(|x| x.decided_at == Some(at)));
            p.approve = x
                .and_then(|x| x.approved)
                .or(Some(prose.starts_with("同意")));
            x.and_then(|x| x.note.clone()).unwrap_or_default()
        }
        "progress" => after(prose, "中途汇报：").map_or_else(keep, str::to_string),
        "reply" => {
            let x = round.and_then(|r| r.replies.iter().find(|x| x.at == at));
            p.resolved = x.map(|x| x.resolved);
            p.on_behalf = x.is_some_and(|x| x.on_behalf);
            x.map_or_else(|| after_colon(prose), |x| x.result.clone())
        }
        "review_reply" => {
            if let Some(n) = after(prose, "答复退回重新办理：") {
                p.approve = Some(false);
                n.to_string()
            } else {
                p.approve = Some(true);
                p.due = time_in(prose);
                String::new()
            }
        }
        "callback" => {
            let x = o.callbacks.iter().find(|c| c.at == at);
            p.satisfaction = x.map(|c| c.satisfaction);
            p.resolved = x.and_then(|c| c.resolved);
            p.sample = prose.starts_with("抽样回访");
            if x.is_some_and(|c| c.satisfaction == Satisfaction::Unreachable) {
                p.count = ordinal(prose);
            }
            x.and_then(|c| c.note.clone()).unwrap_or_default()
        }
        "close" => after(prose, "审结：").unwrap_or("").to_string(),
        "urge" => {
            p.unit = round.map(|r| r.unit);
            after(prose, "催办：").map_or_else(keep, str::to_string)
        }
        "auto_urge" => {
            p.unit = round.map(|r| r.unit);
            p.due = time_in(prose);
            p.stage = Some(if prose.contains("签收时限") {
                State::Dispatched
            } else {
                State::InProgress
            });
            String::new()
        }
        "supervise" => {
            p.unit = round.map(|r| r.unit);
            match prose.split_once('：') {
                Some((level, n)) => {
                    p.level = Some(level.trim().to_string());
                    n.trim().to_string()
                }
                None => keep(),
            }
        }
        "withdraw" => after(prose, "撤单：").map_or_else(keep, str::to_string),
        "reject" => {
            p.reason_code = o.reject_code;
            p.transfer = o.reject_transfer.clone();
            String::new()
        }
        "answer" => after(prose, "直接答复：").unwrap_or("").to_string(),
        "merge" => {
            p.order = after(prose, "并入主工单").map(str::to_string);
            String::new()
        }
        "merged_in" => {
            p.order = after(prose, "并入工单").map(str::to_string);
            String::new()
        }
        "merged_reply" => {
            p.order = prose
                .strip_prefix("主工单 ")
                .and_then(|r| r.split(' ').next())
                .map(str::to_string);
            String::new()
        }
        "repeat_call" => {
            p.count = ordinal(prose);
            after_colon(prose)
        }
        "attach" => {
            p.file = after(prose, "上传附件").map(str::to_string);
            String::new()
        }
        "propose_reopen" => after(prose, "建议发回重办：").map_or_else(keep, str::to_string),
        "decide_reopen" => {
            p.approve = Some(false);
            after(prose, "不采纳重办建议：").map_or_else(keep, str::to_string)
        }
        "co_sign" => {
            p.unit = round
                .and_then(|r| r.co_parts.iter().find(|c| c.signed_at == Some(at)))
                .map(|c| c.unit);
            p.due = time_in(prose);
            String::new()
        }
        "co_opinion" => {
            p.unit = round
                .and_then(|r| {
                    r.co_parts
                        .iter()
                        .find(|c| c.opinions.iter().any(|x| x.at == at))
                })
                .map(|c| c.unit);
            after(prose, "协办意见：").map_or_else(keep, str::to_string)
        }
        _ => keep(),
    };
    (p, note)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prose_parts_are_found_where_the_old_program_wrote_them() {
        let t =
            time_in("同意延期 2 个工作日，新办理时限 2026-12-04 17:30:00（以平台规定的期限为限）");
        assert_eq!(t, Timestamp::parse_local("2026-12-04 17:30:00"));
        assert_eq!(time_in("已签收"), None);
        assert_eq!(
            time_in("2026-12-04 17:30"),
            None,
            "seconds are always written"
        );
        assert_eq!(ordinal("回访无法联系（第 2 次）"), Some(2));
        assert_eq!(ordinal("发回重办（第 11 次）：不满意"), Some(11));
        assert_eq!(ordinal("第一次"), None);
        assert_eq!(after("撤单：重复登记", "撤单："), Some("重复登记"));
        assert_eq!(after("撤回", "撤单："), None);
        assert_eq!(after_colon("一般督办：请尽快"), "请尽快");
        assert_eq!(after_colon("无冒号"), "");
    }

    #[test]
    fn an_entry_with_parameters_reads_back_as_written_and_an_old_one_has_none() {
        let e = TimelineEntry {
            at: Timestamp(1_000),
            user: UserId(3),
            user_name: "王芳".into(),
            role: Role::Operator,
            action: "request_extension".into(),
            params: Some(Params {
                days: Some(3),
                ..Params::default()
            }),
            note: "等材料".into(),
        };
        let json = serde_json::to_string(&e).unwrap_or_default();
        assert!(json.contains(r#""p":{"days":3}"#), "{json}");
        let back: TimelineEntry = serde_json::from_str(&json).unwrap_or_else(|_| e.clone());
        assert_eq!(back, e);
        let old = r#"{"at":1000,"user":3,"user_name":"王芳","role":"operator","action":"urge","note":"催办：请尽快"}"#;
        let old: Option<TimelineEntry> = serde_json::from_str(old).ok();
        assert_eq!(old.map(|o| o.params), Some(None));
    }
}
