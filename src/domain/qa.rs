//! Quality inspection (质检) of the operators' work: the admin's rubric (SPEC §5's default:
//! 100 points in five items, and four veto items that score the order 0), the daily sample
//! rule, and one inspection's score.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::order::{Kind, OrderId};
use super::time::Timestamp;
use super::user::UserId;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RubricItem {
    /// A short code (`a-z`, `0-9`, `_`), stable across renames.
    pub code: String,
    pub name: String,
    /// Points of a scored item; 0 for a veto item.
    pub points: u32,
    /// A veto item: when found, the whole order scores 0.
    pub veto: bool,
}

/// The rubric and the sampling rules the admin sets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct QaRules {
    pub items: Vec<RubricItem>,
    /// Share of each operator's registrations sampled every day, in percent.
    pub sample_percent: u32,
    /// Days an operator has to appeal a score.
    pub appeal_days: u32,
}

fn item(code: &str, name: &str, points: u32, veto: bool) -> RubricItem {
    RubricItem {
        code: code.into(),
        name: name.into(),
        points,
        veto,
    }
}

impl Default for QaRules {
    fn default() -> Self {
        QaRules {
            items: vec![
                item("norms", "服务规范", 20, false),
                item("attitude", "服务态度", 15, false),
                item("competence", "业务能力", 25, false),
                item("record", "工单记录", 25, false),
                item("handling", "派单处置", 15, false),
                item("leak", "泄露来电人信息", 0, true),
                item("abuse", "辱骂", 0, true),
                item("fabrication", "编造内容", 0, true),
                item("missed_emergency", "漏报紧急事项", 0, true),
            ],
            sample_percent: 5,
            appeal_days: 3,
        }
    }
}

impl QaRules {
    /// Why the rules cannot be saved, if they cannot: (field, message).
    pub fn invalid(&self) -> Option<(&'static str, String)> {
        let scored: Vec<&RubricItem> = self.items.iter().filter(|i| !i.veto).collect();
        if scored.is_empty() || self.items.len() > 30 {
            return Some(("items", "评分项须有 1–30 项（含否决项）".into()));
        }
        let mut seen = std::collections::HashSet::new();
        for i in &self.items {
            let code_ok = !i.code.is_empty()
                && i.code.len() <= 32
                && i.code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !code_ok || !seen.insert(i.code.as_str()) {
                return Some((
                    "items",
                    format!("评分项代码「{}」须为不重复的小写字母、数字或下划线", i.code),
                ));
            }
            if !(1..=32).contains(&i.name.trim().chars().count()) {
                return Some(("items", "评分项名称须为 1–32 个字".into()));
            }
            if i.veto && i.points != 0 {
                return Some(("items", format!("否决项「{}」不计分，分值须为 0", i.name)));
            }
        }
        let total: u32 = scored.iter().map(|i| i.points).sum();
        if total != 100 {
            return Some(("items", format!("各评分项分值之和须为 100（现为 {total}）")));
        }
        if !(0..=100).contains(&self.sample_percent) {
            return Some(("sample_percent", "抽检比例须为 0–100%".into()));
        }
        if !(1..=30).contains(&self.appeal_days) {
            return Some(("appeal_days", "申诉期限须为 1–30 天".into()));
        }
        None
    }

    /// The score of an inspection: each scored item's points (capped at the item's), 0 when
    /// a veto item was found. Errors name the item.
    pub fn score(
        &self,
        scores: &BTreeMap<String, u32>,
        vetoes: &[String],
    ) -> Result<u32, (&'static str, String)> {
        for code in scores.keys().chain(vetoes) {
            if !self.items.iter().any(|i| &i.code == code) {
                return Err(("scores", format!("没有评分项「{code}」")));
            }
        }
        for v in vetoes {
            if !self.items.iter().any(|i| &i.code == v && i.veto) {
                return Err(("veto", format!("「{v}」不是否决项")));
            }
        }
        let mut total = 0;
        for i in self.items.iter().filter(|i| !i.veto) {
            let got = *scores
                .get(&i.code)
                .ok_or_else(|| ("scores", format!("请给「{}」打分", i.name)))?;
            if got > i.points {
                return Err(("scores", format!("「{}」最多 {} 分", i.name, i.points)));
            }
            total += got;
        }
        Ok(if vetoes.is_empty() { total } else { 0 })
    }
}

/// Whether the daily sample draws this order: every complaint and report, every order with
/// a risk tag, and a share of the rest chosen by a hash of the order and the day (stable:
/// the same day shows the same sample).
pub fn sampled(
    id: OrderId,
    day: u32,
    kind: Kind,
    risky: bool,
    percent: u32,
) -> Option<&'static str> {
    if matches!(kind, Kind::Complaint | Kind::Report) || risky {
        return Some("risk");
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.0.to_le_bytes().into_iter().chain(day.to_le_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % 100 < u64::from(percent)).then_some("share")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppealOutcome {
    /// The score stands.
    Upheld,
    /// The inspection is set aside (not counted).
    Annulled,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreAppeal {
    pub reason: String,
    pub at: Timestamp,
    pub outcome: Option<AppealOutcome>,
    pub note: Option<String>,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<Timestamp>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inspection {
    pub id: u64,
    pub order: OrderId,
    pub number: String,
    /// The operator who registered the order.
    pub operator: UserId,
    pub operator_name: String,
    pub by: UserId,
    pub by_name: String,
    pub at: Timestamp,
    pub scores: BTreeMap<String, u32>,
    pub vetoes: Vec<String>,
    pub total: u32,
    pub comment: String,
    pub appeal: Option<ScoreAppeal>,
}

impl Inspection {
    /// Whether the score counts in the operator's figures (not set aside on appeal).
    pub fn counts(&self) -> bool {
        self.appeal
            .as_ref()
            .is_none_or(|a| a.outcome != Some(AppealOutcome::Annulled))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_rubric_scores_100_and_a_veto_scores_0() {
        let r = QaRules::default();
        assert_eq!(r.invalid(), None);
        let full: BTreeMap<String, u32> = r
            .items
            .iter()
            .filter(|i| !i.veto)
            .map(|i| (i.code.clone(), i.points))
            .collect();
        assert_eq!(r.score(&full, &[]), Ok(100));
        let mut less = full.clone();
        less.insert("attitude".into(), 10);
        less.insert("record".into(), 20);
        assert_eq!(r.score(&less, &[]), Ok(90));
        assert_eq!(r.score(&less, &["abuse".into()]), Ok(0));
        assert!(
            r.score(&less, &["attitude".into()]).is_err(),
            "not a veto item"
        );
        less.insert("norms".into(), 21);
        assert!(r.score(&less, &[]).is_err(), "over the item's points");
        less.remove("norms");
        assert!(r.score(&less, &[]).is_err(), "an item left out");
        let mut bad = r.clone();
        bad.items[0].points = 25;
        assert_eq!(bad.invalid().map(|e| e.0), Some("items"));
    }

    #[test]
    fn the_sample_takes_every_risk_and_a_stable_share() {
        assert_eq!(
            sampled(OrderId(1), 20_000, Kind::Complaint, false, 0),
            Some("risk")
        );
        assert_eq!(
            sampled(OrderId(1), 20_000, Kind::Help, true, 0),
            Some("risk")
        );
        let drawn = (1..=10_000u64)
            .filter(|i| sampled(OrderId(*i), 20_000, Kind::Help, false, 5).is_some())
            .count();
        assert!((400..=600).contains(&drawn), "about 5 %: {drawn}");
        let again = (1..=10_000u64)
            .filter(|i| sampled(OrderId(*i), 20_000, Kind::Help, false, 5).is_some())
            .count();
        assert_eq!(drawn, again);
        assert_eq!(
            sampled(OrderId(7), 20_000, Kind::Help, false, 100),
            Some("share")
        );
    }
}
