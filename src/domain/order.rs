//! The work order (工单): its codes, fields, dispatch rounds and timeline.

use serde::{Deserialize, Serialize};

use super::calendar::Deadline;
use super::order_state::State;
use super::role::Role;
use super::time::Timestamp;
use super::unit::UnitId;
use super::user::UserId;

pub use super::timeline::{Event, Params, TimelineEntry};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrderId(pub u64);

macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $code:literal / $label:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $code)] $variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),* }
            }
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),* }
            }
            pub fn parse(code: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|v| v.code() == code)
            }
        }
    };
}

code_enum!(
    /// Where an order came from (SPEC §2).
    Channel {
        Phone = "phone" / "12345热线电话",
        GovPlatform = "gov_platform" / "国家政务服务平台",
        GovCn = "gov_cn" / "中国政府网留言",
        GovernorMailbox = "governor_mailbox" / "省长信箱",
        Province12345 = "province_12345" / "省12345指挥监管平台",
        PeopleCn = "people_cn" / "人民网留言板",
        CountyMailbox = "county_mailbox" / "书记县长信箱",
        CityMailbox = "city_mailbox" / "书记市长信箱",
        CppccCloud = "cppcc_cloud" / "政协云",
        City12345 = "city_12345" / "市12345热线平台",
        ZqtPlatform = "zqt_platform" / "政企通平台",
        Wechat = "wechat" / "微信公众号",
        Xiangyiban = "xiangyiban" / "湘易办",
        Other = "other" / "其他",
    }
);

code_enum!(
    /// The seat line with its own queue (SPEC §2).
    Line {
        General = "general" / "普通",
        Enterprise = "enterprise" / "政企通专席",
        Npc = "npc" / "人大专席",
    }
);

code_enum!(
    /// 诉求类型.
    Kind {
        Inquiry = "inquiry" / "咨询",
        Help = "help" / "求助",
        Complaint = "complaint" / "投诉",
        Report = "report" / "举报",
        Suggestion = "suggestion" / "建议",
        Praise = "praise" / "表扬",
    }
);

code_enum!(
    Urgency {
        Normal = "normal" / "一般",
        Urgent = "urgent" / "紧急",
        Critical = "critical" / "特急",
    }
);

code_enum!(
    /// 风险标签.
    RiskTag {
        Stability = "stability" / "涉稳",
        Threat = "threat" / "扬言",
        Group = "group" / "群体性",
        PublicOpinion = "public_opinion" / "舆情",
    }
);

code_enum!(
    Gender {
        Male = "male" / "男",
        Female = "female" / "女",
        Unknown = "unknown" / "未知",
    }
);

code_enum!(
    /// Whether the matter was solved, as the unit or the caller says.
    Resolved {
        Yes = "yes" / "已解决",
        Partly = "partly" / "部分解决",
        No = "no" / "未解决",
    }
);

code_enum!(
    Satisfaction {
        VerySatisfied = "very_satisfied" / "非常满意",
        Satisfied = "satisfied" / "满意",
        BasicallySatisfied = "basically_satisfied" / "基本满意",
        Unsatisfied = "unsatisfied" / "不满意",
        VeryUnsatisfied = "very_unsatisfied" / "非常不满意",
        Unreachable = "unreachable" / "无法联系",
    }
);

/// The caller; phone and ID number are stored whole and masked on the way out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caller {
    pub name: String,
    pub phone: String,
    pub id_number: Option<String>,
    pub gender: Option<Gender>,
    /// The caller agrees that the unit may see the phone number.
    pub consent_phone: bool,
    /// 个人 / 企业 / 人大代表 / …
    pub caller_type: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub town: Option<String>,
    pub village: Option<String>,
    pub detail: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enterprise {
    pub name: String,
    pub credit_code: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deputy {
    pub name: String,
    pub level: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    pub days: u32,
    pub reason: String,
    pub requested_at: Timestamp,
    pub requested_by: UserId,
    /// `None` while waiting for a decision.
    pub approved: Option<bool>,
    pub decided_at: Option<Timestamp>,
    pub decided_by: Option<UserId>,
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Return {
    pub reason: String,
    pub basis: Option<String>,
    pub at: Timestamp,
    pub by: UserId,
    /// The state the order was in, to go back to when the return is denied.
    pub from_state: State,
    pub approved: Option<bool>,
    pub decided_at: Option<Timestamp>,
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub contacted: bool,
    pub at: Option<String>,
    pub how: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub result: String,
    pub resolved: Resolved,
    pub contact: Contact,
    pub public_reply: Option<String>,
    pub at: Timestamp,
    pub by: UserId,
    /// Entered by a shift lead on the unit's behalf (代录).
    pub on_behalf: bool,
    pub approved: Option<bool>,
    pub review_note: Option<String>,
}

/// A co-unit's (协办单位) part in a round: it signs, and gives its opinion (协办意见) to
/// the main unit before its own deadline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoPart {
    pub unit: UnitId,
    pub signed_at: Option<Timestamp>,
    /// Its opinion is due by then, set when it signs.
    pub due: Option<Deadline>,
    pub opinions: Vec<CoOpinion>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoOpinion {
    pub at: Timestamp,
    pub by: UserId,
    pub text: String,
}

/// QA's proposal to reopen an order, for the shift lead to decide (建议重办).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReopenProposal {
    pub reason: String,
    pub by: UserId,
    pub by_name: String,
    pub at: Timestamp,
}

/// One dispatch to a unit (办理轮次); reopening starts a new one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Round {
    pub no: u32,
    pub unit: UnitId,
    pub co_units: Vec<UnitId>,
    pub dispatched_at: Timestamp,
    pub dispatched_by: UserId,
    pub sign: Deadline,
    /// Working days to handle, counted from signing (or calendar minutes for critical).
    pub handle_span: super::calendar::Span,
    pub handle: Option<Deadline>,
    pub signed_at: Option<Timestamp>,
    pub extensions: Vec<Extension>,
    pub returns: Vec<Return>,
    pub replies: Vec<Reply>,
    pub progress: Vec<(Timestamp, UserId, String)>,
    pub urges: u32,
    pub finished_at: Option<Timestamp>,
    /// The co-units' parts (older rounds have none recorded: made when first needed).
    #[serde(default)]
    pub co_parts: Vec<CoPart>,
}

impl Round {
    /// The part of a co-unit of this round, made on first use.
    pub fn co_part_mut(&mut self, unit: UnitId) -> Option<&mut CoPart> {
        if !self.co_units.contains(&unit) {
            return None;
        }
        if !self.co_parts.iter().any(|p| p.unit == unit) {
            self.co_parts.push(CoPart {
                unit,
                signed_at: None,
                due: None,
                opinions: Vec::new(),
            });
        }
        self.co_parts.iter_mut().find(|p| p.unit == unit)
    }

    pub fn co_part(&self, unit: UnitId) -> Option<&CoPart> {
        self.co_parts.iter().find(|p| p.unit == unit)
    }

    /// The deadline a co-unit works to now: signing until it signs, then its opinion until
    /// it has given one; none after.
    pub fn co_deadline(&self, unit: UnitId) -> Option<Deadline> {
        if !self.co_units.contains(&unit) {
            return None;
        }
        match self.co_part(unit) {
            None => Some(self.sign),
            Some(p) if p.signed_at.is_none() => Some(self.sign),
            Some(p) if p.opinions.is_empty() => p.due,
            Some(_) => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Callback {
    pub satisfaction: Satisfaction,
    pub resolved: Option<Resolved>,
    pub note: Option<String>,
    pub at: Timestamp,
    pub by: UserId,
    pub round: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClosureKind {
    Direct,
    Reviewed,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flags {
    pub supervised: Option<String>,
    pub reopen_count: u32,
    pub urge_count: u32,
    pub repeat_calls: u32,
    pub merged_into: Option<OrderId>,
    pub merged_from: Vec<OrderId>,
    /// A merged order whose master's reply was approved: its caller awaits a callback.
    #[serde(default)]
    pub callback_pending: bool,
    #[serde(default)]
    pub reopen_proposal: Option<ReopenProposal>,
    /// The running deadline the overdue job last urged (it urges once per deadline).
    #[serde(default)]
    pub auto_urged_due: Option<Timestamp>,
}

/// The few fields of an order that duplicate hints read: stored apart for the recent orders
/// (`store::gists`), or decoded from the stored order with everything else skipped (no
/// timeline, rounds or caller built).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderGist {
    pub id: OrderId,
    pub number: String,
    pub state: State,
    pub channel: Channel,
    pub title: String,
    pub content: String,
    pub created_at: Timestamp,
}

impl OrderGist {
    pub fn of(o: &Order) -> OrderGist {
        OrderGist {
            id: o.id,
            number: o.number.clone(),
            state: o.state,
            channel: o.channel,
            title: o.title.clone(),
            content: o.content.clone(),
            created_at: o.created_at,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub id: OrderId,
    pub number: String,
    /// 查询码 given to the caller.
    pub query_code: String,
    pub version: u64,
    pub state: State,
    pub channel: Channel,
    pub external_id: Option<String>,
    pub external_due: Option<Timestamp>,
    pub line: Line,
    pub kind: Kind,
    pub urgency: Urgency,
    pub category: Option<String>,
    pub title: String,
    pub content: String,
    pub caller: Caller,
    pub confidential: bool,
    pub address: Address,
    pub risk_tags: Vec<RiskTag>,
    pub enterprise: Option<Enterprise>,
    pub deputy: Option<Deputy>,
    pub rounds: Vec<Round>,
    pub callbacks: Vec<Callback>,
    pub timeline: Vec<TimelineEntry>,
    pub flags: Flags,
    pub reject_code: Option<u8>,
    /// For a code-3 rejection: the emergency number that took the call.
    #[serde(default)]
    pub reject_transfer: Option<String>,
    /// What the caller was told when the order was rejected.
    #[serde(default)]
    pub reject_told: Option<String>,
    pub answer: Option<String>,
    pub articles: Vec<u64>,
    #[serde(default)]
    pub attachments: Vec<super::attachment::AttachmentRef>,
    /// (article id, version) the direct answer cited.
    #[serde(default)]
    pub cited: Vec<(u64, u32)>,
    pub closure: Option<ClosureKind>,
    /// The callback is due by then (the end of the next working day after the reply was
    /// approved); on a merged order, after its master's reply was.
    #[serde(default)]
    pub callback_due: Option<Deadline>,
    /// A merged order: the master's reply its caller is told at the callback.
    #[serde(default)]
    pub merged_reply: Option<String>,
    /// The phone call it was registered during (CTI), to find the recording.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<super::call::CallLink>,
    pub created_at: Timestamp,
    pub created_by: UserId,
    pub updated_at: Timestamp,
    pub closed_at: Option<Timestamp>,
}

impl Order {
    pub fn current_round(&self) -> Option<&Round> {
        self.rounds.last()
    }

    pub fn current_round_mut(&mut self) -> Option<&mut Round> {
        self.rounds.last_mut()
    }

    /// Whether the order was ever dispatched to the unit (as main or co-unit).
    pub fn involves_unit(&self, unit: UnitId) -> bool {
        self.rounds
            .iter()
            .any(|r| r.unit == unit || r.co_units.contains(&unit))
    }

    /// The deadline that runs now: signing while dispatched, handling while in progress.
    pub fn running_deadline(&self) -> Option<Deadline> {
        let r = self.current_round()?;
        match self.state {
            State::Dispatched => Some(r.sign),
            State::InProgress => r.handle,
            _ => None,
        }
    }

    pub fn callback_attempts(&self) -> usize {
        let round = self.rounds.len() as u32;
        self.callbacks
            .iter()
            .filter(|c| c.round == round && c.satisfaction == Satisfaction::Unreachable)
            .count()
    }

    /// Appends to the timeline; `action` is an action code or `register` / `auto_urge` /
    /// `repeat_call` / `attach` / `merged_in` / `merged_reply`.
    pub fn push_timeline(
        &mut self,
        at: Timestamp,
        user: UserId,
        user_name: &str,
        role: Role,
        action: &str,
        event: Event,
    ) {
        self.timeline.push(TimelineEntry {
            at,
            user,
            user_name: user_name.to_string(),
            role,
            action: action.to_string(),
            params: Some(event.params),
            note: event.note,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// serde must speak exactly the SPEC's codes (snake_case alone gets `province12345` wrong).
    #[test]
    fn serde_uses_the_spec_codes() {
        for c in Channel::ALL {
            assert_eq!(
                serde_json::to_string(c).unwrap(),
                format!("\"{}\"", c.code())
            );
            assert_eq!(
                serde_json::from_str::<Channel>(&format!("\"{}\"", c.code())).unwrap(),
                *c
            );
        }
        assert_eq!(
            serde_json::to_string(&Channel::Province12345).unwrap(),
            "\"province_12345\""
        );
        for k in Kind::ALL {
            assert_eq!(
                serde_json::to_string(k).unwrap(),
                format!("\"{}\"", k.code())
            );
        }
        for s in Satisfaction::ALL {
            assert_eq!(
                serde_json::to_string(s).unwrap(),
                format!("\"{}\"", s.code())
            );
        }
        for t in RiskTag::ALL {
            assert_eq!(
                serde_json::to_string(t).unwrap(),
                format!("\"{}\"", t.code())
            );
        }
    }
}
