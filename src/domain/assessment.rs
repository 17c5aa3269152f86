//! Unit assessment (考核): each unit's figures over a date range from its per-day facts, a
//! weighted 100-point score, a grade and its rank in the league — pure functions of the sums
//! and the admin's rules, so a test computes every figure by hand.
//!
//! Formulas (each written on the report page, `FIGURES`):
//! - 签收及时率 = (签收 − 超时签收) ÷ 签收
//! - 按时办结率 = (办结 − 超期办结) ÷ 办结
//! - 退单率 = 退单申请 ÷ 派单;  延期率 = 延期申请 ÷ 派单;  重办率 = 发回重办 ÷ 办结
//! - 回访率 = 回访接通 ÷ 办结
//! - 满意率 = 计入满意的回访 ÷ 回访接通 (+ 无法联系, when the rules say it counts)
//! - 解决率 = 回访认定已解决 ÷ 回访记录了是否解决
//! - score = Σ weight × figure (退单、延期、重办 count as 100 − rate) ÷ Σ weight of the
//!   figures that have a denominator, × 100 ÷ 100; none below the minimum sample of 派单.
//!
//! An upheld unit appeal (考核申诉) takes its order out of the figure it contested:
//! `overdue` out of 超期办结 (it counts as finished on time), `unsatisfied` out of the
//! callbacks the satisfaction rate counts.

use serde::{Deserialize, Serialize};

use super::order::Satisfaction;
use super::order_facts::Measure;

/// The rules the admin sets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Rules {
    pub weights: Weights,
    /// Below this many dispatched orders in the range a unit gets no score (样本不足).
    pub min_sample: u32,
    /// The satisfaction levels that count as satisfied.
    pub satisfied: Vec<Satisfaction>,
    /// Whether callbacks that never reached the caller stay in the satisfaction denominator.
    pub unreachable_counts: bool,
    /// The lowest score of grades A, B and C (D below).
    pub grade_floors: [u32; 3],
}

/// Points of each figure; they add up to 100.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Weights {
    pub signed_on_time: u32,
    pub finished_on_time: u32,
    pub satisfaction: u32,
    pub resolved: u32,
    pub returns: u32,
    pub extensions: u32,
    pub reopens: u32,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            signed_on_time: 10,
            finished_on_time: 25,
            satisfaction: 30,
            resolved: 15,
            returns: 5,
            extensions: 5,
            reopens: 10,
        }
    }
}

impl Weights {
    pub fn total(&self) -> u32 {
        self.signed_on_time
            + self.finished_on_time
            + self.satisfaction
            + self.resolved
            + self.returns
            + self.extensions
            + self.reopens
    }
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            weights: Weights::default(),
            min_sample: 5,
            satisfied: vec![
                Satisfaction::VerySatisfied,
                Satisfaction::Satisfied,
                Satisfaction::BasicallySatisfied,
            ],
            unreachable_counts: false,
            grade_floors: [90, 80, 60],
        }
    }
}

impl Rules {
    /// Why the rules cannot be saved, if they cannot.
    pub fn invalid(&self) -> Option<(&'static str, String)> {
        if self.weights.total() != 100 {
            return Some((
                "weights",
                format!("各项权重之和须为 100（现为 {}）", self.weights.total()),
            ));
        }
        if !(1..=1000).contains(&self.min_sample) {
            return Some(("min_sample", "最低样本量须为 1–1000 件".into()));
        }
        if self.satisfied.is_empty() || self.satisfied.contains(&Satisfaction::Unreachable) {
            return Some((
                "satisfied",
                "请至少选择一个计入满意的等级（“无法联系”不能计入满意）".into(),
            ));
        }
        let [a, b, c] = self.grade_floors;
        if !(a <= 100 && a > b && b > c && c > 0) {
            return Some((
                "grade_floors",
                "等级分数线须满足 100 ≥ A > B > C > 0".into(),
            ));
        }
        None
    }
}

/// The sums one unit's facts give over the range (and what appeals took out).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Sums {
    pub dispatched: u64,
    pub co_dispatched: u64,
    pub signed: u64,
    pub signed_late: u64,
    pub finished: u64,
    pub finished_late: u64,
    pub returned: u64,
    pub extensions: u64,
    pub reopened: u64,
    pub urged: u64,
    /// Callbacks by satisfaction level (index in `Satisfaction::ALL`).
    pub callbacks: [u64; 6],
    /// Callbacks that recorded resolution, by `Resolved::ALL` index.
    pub resolved: [u64; 3],
    /// Orders still open whose deadline passed within the range.
    pub overdue_open: u64,
    /// Upheld appeals: overdue finishes and unsatisfied callbacks taken out.
    pub appealed_overdue: u64,
    pub appealed_unsatisfied: u64,
}

impl Sums {
    /// Adds one fact's sum.
    pub fn add(&mut self, measure: Measure, sub: u8, n: u64) {
        let slot = match measure {
            Measure::Dispatched => &mut self.dispatched,
            Measure::CoDispatched => &mut self.co_dispatched,
            Measure::Signed => &mut self.signed,
            Measure::SignedLate => &mut self.signed_late,
            Measure::Finished => &mut self.finished,
            Measure::FinishedLate => &mut self.finished_late,
            Measure::Returned => &mut self.returned,
            Measure::ExtensionAsked => &mut self.extensions,
            Measure::Reopened => &mut self.reopened,
            Measure::Urged => &mut self.urged,
            Measure::Callback => match self.callbacks.get_mut(sub as usize) {
                Some(s) => s,
                None => return,
            },
            Measure::CallbackResolved => match self.resolved.get_mut(sub as usize) {
                Some(s) => s,
                None => return,
            },
            _ => return,
        };
        *slot += n;
    }
}

/// One unit's figures (rates are percentages, `None` without a denominator).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Figures {
    pub dispatched: u64,
    pub co_dispatched: u64,
    pub signed_on_time_rate: Option<f64>,
    pub finished_on_time_rate: Option<f64>,
    pub overdue_finished: u64,
    pub overdue_open: u64,
    pub return_rate: Option<f64>,
    pub extension_rate: Option<f64>,
    pub reopen_rate: Option<f64>,
    pub callback_rate: Option<f64>,
    pub satisfaction_rate: Option<f64>,
    pub resolved_rate: Option<f64>,
    pub urges: u64,
    /// Callbacks the satisfaction rate counts (its denominator) and of those satisfied.
    pub callbacks_counted: u64,
    pub callbacks_satisfied: u64,
    pub score: Option<f64>,
    pub grade: Option<&'static str>,
}

/// `n ÷ d` as a percentage rounded to 0.01, `None` when `d` is 0.
pub fn rate(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| round2(n.min(d) as f64 * 100.0 / d as f64))
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn index_of(s: Satisfaction) -> usize {
    Satisfaction::ALL.iter().position(|x| *x == s).unwrap_or(0)
}

/// The figures, score and grade of one unit's sums under the rules.
pub fn figures(s: &Sums, rules: &Rules) -> Figures {
    let unreachable = s.callbacks[index_of(Satisfaction::Unreachable)];
    let reached: u64 = s.callbacks.iter().sum::<u64>() - unreachable;
    let satisfied: u64 = rules
        .satisfied
        .iter()
        .filter(|l| **l != Satisfaction::Unreachable)
        .map(|l| s.callbacks[index_of(*l)])
        .sum();
    let counted = (reached
        + if rules.unreachable_counts {
            unreachable
        } else {
            0
        })
    .saturating_sub(s.appealed_unsatisfied);
    let overdue_finished = s.finished_late.saturating_sub(s.appealed_overdue);
    let resolved_total: u64 = s.resolved.iter().sum();
    let mut f = Figures {
        dispatched: s.dispatched,
        co_dispatched: s.co_dispatched,
        signed_on_time_rate: rate(s.signed.saturating_sub(s.signed_late), s.signed),
        finished_on_time_rate: rate(s.finished.saturating_sub(overdue_finished), s.finished),
        overdue_finished,
        overdue_open: s.overdue_open,
        return_rate: rate(s.returned, s.dispatched),
        extension_rate: rate(s.extensions, s.dispatched),
        reopen_rate: rate(s.reopened, s.finished),
        callback_rate: rate(reached, s.finished),
        satisfaction_rate: rate(satisfied, counted),
        resolved_rate: rate(s.resolved[0], resolved_total),
        urges: s.urged,
        callbacks_counted: counted,
        callbacks_satisfied: satisfied.min(counted),
        score: None,
        grade: None,
    };
    if s.dispatched >= u64::from(rules.min_sample) {
        f.score = score(&f, &rules.weights);
        f.grade = f.score.map(|x| grade(x, rules.grade_floors));
    }
    f
}

/// The weighted score of the figures that have a denominator, scaled to 100.
fn score(f: &Figures, w: &Weights) -> Option<f64> {
    let inverse = |r: Option<f64>| r.map(|x| (100.0 - x).max(0.0));
    let parts = [
        (w.signed_on_time, f.signed_on_time_rate),
        (w.finished_on_time, f.finished_on_time_rate),
        (w.satisfaction, f.satisfaction_rate),
        (w.resolved, f.resolved_rate),
        (w.returns, inverse(f.return_rate)),
        (w.extensions, inverse(f.extension_rate)),
        (w.reopens, inverse(f.reopen_rate)),
    ];
    let (mut points, mut weight) = (0.0, 0u32);
    for (wt, r) in parts {
        if let (Some(r), true) = (r, wt > 0) {
            points += f64::from(wt) * r;
            weight += wt;
        }
    }
    (weight > 0).then(|| round2(points / f64::from(weight)))
}

pub fn grade(score: f64, floors: [u32; 3]) -> &'static str {
    let [a, b, c] = floors.map(f64::from);
    if score >= a {
        "A"
    } else if score >= b {
        "B"
    } else if score >= c {
        "C"
    } else {
        "D"
    }
}

/// Ranks by score, highest first (equal scores share a rank; unscored units have none).
pub fn ranks(scores: &[Option<f64>]) -> Vec<Option<u32>> {
    scores
        .iter()
        .map(|s| {
            s.map(|mine| {
                1 + scores
                    .iter()
                    .filter(|o| o.is_some_and(|x| x > mine))
                    .count() as u32
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_score_and_grade_by_hand() {
        let mut s = Sums {
            dispatched: 10,
            signed: 10,
            signed_late: 1,
            finished: 8,
            finished_late: 2,
            returned: 1,
            extensions: 2,
            reopened: 1,
            urged: 3,
            ..Sums::default()
        };
        // 4 very satisfied, 2 satisfied, 1 unsatisfied, 1 unreachable.
        s.callbacks = [4, 2, 0, 1, 0, 1];
        s.resolved = [6, 0, 1];
        let rules = Rules::default();
        let f = figures(&s, &rules);
        assert_eq!(f.signed_on_time_rate, Some(90.0));
        assert_eq!(f.finished_on_time_rate, Some(75.0));
        assert_eq!(f.return_rate, Some(10.0));
        assert_eq!(f.extension_rate, Some(20.0));
        assert_eq!(f.reopen_rate, Some(12.5));
        assert_eq!(f.callback_rate, Some(87.5)); // 7 reached of 8 finished
        assert_eq!(f.satisfaction_rate, Some(85.71)); // 6 of 7
        assert_eq!(f.resolved_rate, Some(85.71)); // 6 of 7
        // (10×90 + 25×75 + 30×85.71 + 15×85.71 + 5×(100−10) + 5×(100−20) + 10×(100−12.5))
        // ÷ 100 = 8356.95 ÷ 100
        assert_eq!(f.score, Some(83.57));
        assert_eq!(f.grade, Some("B"));
        // Unreachable callbacks in the denominator: 6 of 8.
        let strict = Rules {
            unreachable_counts: true,
            ..Rules::default()
        };
        assert_eq!(figures(&s, &strict).satisfaction_rate, Some(75.0));
        // An upheld appeal: one overdue finish and the unsatisfied callback taken out.
        s.appealed_overdue = 1;
        s.appealed_unsatisfied = 1;
        let f = figures(&s, &rules);
        assert_eq!(f.overdue_finished, 1);
        assert_eq!(f.finished_on_time_rate, Some(87.5));
        assert_eq!(f.satisfaction_rate, Some(100.0));
        // Below the minimum sample: figures, no score.
        s.dispatched = 4;
        let f = figures(&s, &rules);
        assert_eq!((f.score, f.grade), (None, None));
        assert_eq!(f.return_rate, Some(25.0));
    }

    #[test]
    fn empty_units_have_no_rates_and_ranks_share_ties() {
        let f = figures(&Sums::default(), &Rules::default());
        assert_eq!(f.satisfaction_rate, None);
        assert_eq!(f.score, None);
        assert_eq!(
            ranks(&[Some(80.0), None, Some(92.5), Some(80.0), Some(70.0)]),
            vec![Some(2), None, Some(1), Some(2), Some(4)]
        );
        assert_eq!(grade(90.0, [90, 80, 60]), "A");
        assert_eq!(grade(59.99, [90, 80, 60]), "D");
        assert!(Rules::default().invalid().is_none());
        let mut bad = Rules::default();
        bad.weights.satisfaction = 31;
        assert_eq!(bad.invalid().map(|e| e.0), Some("weights"));
    }
}
