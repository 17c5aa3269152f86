//! Default time limits (SPEC §4), editable by the admin.

use serde::{Deserialize, Serialize};

use super::calendar::Span;
use super::order::{Kind, Line, Urgency};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    pub sign_critical: Span,
    pub sign_urgent: Span,
    pub sign_normal: Span,
    pub handle_critical: Span,
    pub handle_urgent: Span,
    pub handle_inquiry: Span,
    pub handle_help: Span,
    pub handle_complaint: Span,
    pub handle_report: Span,
    pub handle_suggestion: Span,
    pub handle_praise: Span,
    pub handle_npc: Span,
    /// Longest extension a unit may ask for, in working days.
    pub max_extension_days: u32,
    /// Extension requests a unit may make in one round (延期次数).
    pub max_extensions_per_round: u32,
    /// A unit may return an order within this many working days of dispatch.
    pub return_window_days: u32,
    /// Callback is due by the end of this many working days after reply approval.
    pub callback_days: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            sign_critical: Span::Minutes(30),
            sign_urgent: Span::Minutes(120),
            sign_normal: Span::WorkingDays(1),
            handle_critical: Span::Minutes(24 * 60),
            handle_urgent: Span::WorkingDays(1),
            handle_inquiry: Span::WorkingDays(3),
            handle_help: Span::WorkingDays(5),
            handle_complaint: Span::WorkingDays(5),
            handle_report: Span::WorkingDays(5),
            handle_suggestion: Span::WorkingDays(10),
            handle_praise: Span::WorkingDays(3),
            handle_npc: Span::WorkingDays(5),
            max_extension_days: 10,
            max_extensions_per_round: 2,
            return_window_days: 2,
            callback_days: 1,
        }
    }
}

impl Limits {
    pub fn sign(&self, urgency: Urgency) -> Span {
        match urgency {
            Urgency::Critical => self.sign_critical,
            Urgency::Urgent => self.sign_urgent,
            Urgency::Normal => self.sign_normal,
        }
    }

    /// The handling limit, counted from signing: urgency first, then the NPC line, then kind.
    pub fn handle(&self, kind: Kind, urgency: Urgency, line: Line) -> Span {
        match (urgency, line) {
            (Urgency::Critical, _) => self.handle_critical,
            (Urgency::Urgent, _) => self.handle_urgent,
            (Urgency::Normal, Line::Npc) => self.handle_npc,
            (Urgency::Normal, _) => match kind {
                Kind::Inquiry => self.handle_inquiry,
                Kind::Help => self.handle_help,
                Kind::Complaint => self.handle_complaint,
                Kind::Report => self.handle_report,
                Kind::Suggestion => self.handle_suggestion,
                Kind::Praise => self.handle_praise,
            },
        }
    }
}

/// A time limit in words: `30 分钟`, `4 小时`, `5 个工作日`.
pub fn span_words(s: Span) -> String {
    match s {
        Span::Minutes(m) if m % 60 == 0 && m >= 60 => format!("{} 小时", m / 60),
        Span::Minutes(m) => format!("{m} 分钟"),
        Span::WorkingDays(d) => format!("{d} 个工作日"),
    }
}

/// One row of the limits table: a kind, and for each urgency × line (`Limits::columns`) the
/// signing and the handling limit in words.
#[derive(Clone, Debug, Serialize)]
pub struct MatrixRow {
    pub kind: &'static str,
    pub cells: Vec<(String, String)>,
}

impl Limits {
    /// The columns of the limits table: every urgency for every line, in order.
    pub fn columns() -> Vec<(Urgency, Line)> {
        Line::ALL
            .iter()
            .flat_map(|l| Urgency::ALL.iter().map(move |u| (*u, *l)))
            .collect()
    }

    /// The limits as the table people read: kind × urgency × line, each cell the signing
    /// and the handling limit that the rules give.
    pub fn matrix(&self) -> Vec<MatrixRow> {
        Kind::ALL
            .iter()
            .map(|k| MatrixRow {
                kind: k.label(),
                cells: Limits::columns()
                    .into_iter()
                    .map(|(u, l)| (span_words(self.sign(u)), span_words(self.handle(*k, u, l))))
                    .collect(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_spec() {
        let l = Limits::default();
        assert_eq!(l.sign(Urgency::Critical), Span::Minutes(30));
        assert_eq!(l.sign(Urgency::Normal), Span::WorkingDays(1));
        assert_eq!(
            l.handle(Kind::Suggestion, Urgency::Normal, Line::General),
            Span::WorkingDays(10)
        );
        assert_eq!(
            l.handle(Kind::Suggestion, Urgency::Normal, Line::Npc),
            Span::WorkingDays(5)
        );
        assert_eq!(
            l.handle(Kind::Inquiry, Urgency::Urgent, Line::General),
            Span::WorkingDays(1)
        );
        assert_eq!(
            l.handle(Kind::Help, Urgency::Critical, Line::Npc),
            Span::Minutes(1440)
        );
    }
}
