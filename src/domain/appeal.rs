//! Unit appeals against the assessment (考核申诉): a unit contests one order's place in an
//! overdue or unsatisfied figure; the supervisor upholds or rejects; an upheld appeal takes
//! the order out of that figure for the day the counted event fell on.

use serde::{Deserialize, Serialize};

use super::order::{Order, OrderId, Satisfaction};
use super::order_facts::standing_reply;
use super::time::Timestamp;
use super::unit::UnitId;
use super::user::UserId;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Figure {
    /// 超期办结: a reply after the handling deadline.
    Overdue,
    /// 回访不满意: a callback with a level the rules do not count as satisfied.
    Unsatisfied,
}

impl Figure {
    pub const ALL: [Figure; 2] = [Figure::Overdue, Figure::Unsatisfied];

    pub fn code(self) -> &'static str {
        match self {
            Figure::Overdue => "overdue",
            Figure::Unsatisfied => "unsatisfied",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Figure::Overdue => "超期办结",
            Figure::Unsatisfied => "回访不满意",
        }
    }

    pub fn parse(code: &str) -> Option<Figure> {
        Figure::ALL.into_iter().find(|f| f.code() == code)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppealState {
    Pending,
    Upheld,
    Rejected,
}

impl AppealState {
    pub const ALL: [AppealState; 3] = [
        AppealState::Pending,
        AppealState::Upheld,
        AppealState::Rejected,
    ];

    pub fn code(self) -> &'static str {
        match self {
            AppealState::Pending => "pending",
            AppealState::Upheld => "upheld",
            AppealState::Rejected => "rejected",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AppealState::Pending => "待审核",
            AppealState::Upheld => "申诉成立",
            AppealState::Rejected => "申诉不成立",
        }
    }

    pub fn parse(code: &str) -> Option<AppealState> {
        AppealState::ALL.into_iter().find(|s| s.code() == code)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appeal {
    pub id: u64,
    pub order: OrderId,
    pub number: String,
    pub unit: UnitId,
    /// The round whose result is contested, and when the counted event happened (the late
    /// reply, the unsatisfied callback): the day the figure counted it.
    pub round: u32,
    pub figure: Figure,
    pub event_at: Timestamp,
    pub reason: String,
    /// Hashes of the order's attachments the unit offers as evidence.
    pub attachments: Vec<String>,
    pub filed_by: UserId,
    pub filed_by_name: String,
    pub filed_at: Timestamp,
    pub state: AppealState,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub note: Option<String>,
}

/// Whether the order counts against `unit` in `figure` now: the round and the time of the
/// counted event (the latest one), as the per-day facts count it.
pub fn contestable(
    o: &Order,
    unit: UnitId,
    figure: Figure,
    satisfied: &[Satisfaction],
) -> Option<(u32, Timestamp)> {
    match figure {
        Figure::Overdue => o.rounds.iter().rev().find_map(|r| {
            let reply = standing_reply(r)?;
            (r.unit == unit && r.handle.is_some_and(|h| reply.at > h.due))
                .then_some((r.no, reply.at))
        }),
        Figure::Unsatisfied => o.callbacks.iter().rev().find_map(|c| {
            let r = o.rounds.get((c.round as usize).checked_sub(1)?)?;
            let unhappy =
                c.satisfaction != Satisfaction::Unreachable && !satisfied.contains(&c.satisfaction);
            (r.unit == unit && unhappy).then_some((c.round, c.at))
        }),
    }
}
