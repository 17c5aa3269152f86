//! The order lifecycle (SPEC §4) as data: which role may take which action in which state,
//! and where it leads. One exhaustive function; no catch-all arm.

use serde::{Deserialize, Serialize};

use super::role::Role;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Registered,
    Dispatched,
    InProgress,
    ReturnReview,
    ReplyReview,
    CallbackPending,
    FinalReview,
    Closed,
    Rejected,
    Merged,
    Withdrawn,
}

impl State {
    pub const ALL: [State; 11] = [
        State::Registered,
        State::Dispatched,
        State::InProgress,
        State::ReturnReview,
        State::ReplyReview,
        State::CallbackPending,
        State::FinalReview,
        State::Closed,
        State::Rejected,
        State::Merged,
        State::Withdrawn,
    ];

    pub fn code(self) -> &'static str {
        match self {
            State::Registered => "registered",
            State::Dispatched => "dispatched",
            State::InProgress => "in_progress",
            State::ReturnReview => "return_review",
            State::ReplyReview => "reply_review",
            State::CallbackPending => "callback_pending",
            State::FinalReview => "final_review",
            State::Closed => "closed",
            State::Rejected => "rejected",
            State::Merged => "merged",
            State::Withdrawn => "withdrawn",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            State::Registered => "待派单",
            State::Dispatched => "待签收",
            State::InProgress => "办理中",
            State::ReturnReview => "退单审核中",
            State::ReplyReview => "已答复待审核",
            State::CallbackPending => "待回访",
            State::FinalReview => "待审结",
            State::Closed => "已办结",
            State::Rejected => "不予受理",
            State::Merged => "已并单",
            State::Withdrawn => "已撤单",
        }
    }

    pub fn parse(code: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn is_open(self) -> bool {
        !matches!(
            self,
            State::Closed | State::Rejected | State::Merged | State::Withdrawn
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Reject,
    Answer,
    Dispatch,
    Sign,
    Return,
    DecideReturn,
    RequestExtension,
    DecideExtension,
    Progress,
    Reply,
    ReviewReply,
    Callback,
    Reopen,
    Close,
    Urge,
    Supervise,
    Merge,
    Withdraw,
    CoSign,
    CoOpinion,
    ProposeReopen,
    DecideReopen,
}

impl Action {
    pub const ALL: [Action; 22] = [
        Action::Reject,
        Action::Answer,
        Action::Dispatch,
        Action::Sign,
        Action::Return,
        Action::DecideReturn,
        Action::RequestExtension,
        Action::DecideExtension,
        Action::Progress,
        Action::Reply,
        Action::ReviewReply,
        Action::Callback,
        Action::Reopen,
        Action::Close,
        Action::Urge,
        Action::Supervise,
        Action::Merge,
        Action::Withdraw,
        Action::CoSign,
        Action::CoOpinion,
        Action::ProposeReopen,
        Action::DecideReopen,
    ];

    /// Whether taking the action opens a new dispatch round (办理轮次). An approved
    /// `decide_reopen` is written to the timeline as `reopen`.
    pub fn starts_round(self) -> bool {
        matches!(self, Action::Dispatch | Action::Reopen)
    }

    pub fn code(self) -> &'static str {
        match self {
            Action::Reject => "reject",
            Action::Answer => "answer",
            Action::Dispatch => "dispatch",
            Action::Sign => "sign",
            Action::Return => "return",
            Action::DecideReturn => "decide_return",
            Action::RequestExtension => "request_extension",
            Action::DecideExtension => "decide_extension",
            Action::Progress => "progress",
            Action::Reply => "reply",
            Action::ReviewReply => "review_reply",
            Action::Callback => "callback",
            Action::Reopen => "reopen",
            Action::Close => "close",
            Action::Urge => "urge",
            Action::Supervise => "supervise",
            Action::Merge => "merge",
            Action::Withdraw => "withdraw",
            Action::CoSign => "co_sign",
            Action::CoOpinion => "co_opinion",
            Action::ProposeReopen => "propose_reopen",
            Action::DecideReopen => "decide_reopen",
        }
    }

    /// The verb on the button.
    pub fn label(self) -> &'static str {
        match self {
            Action::Reject => "不予受理",
            Action::Answer => "直接办结",
            Action::Dispatch => "派单",
            Action::Sign => "签收",
            Action::Return => "退单",
            Action::DecideReturn => "退单审核",
            Action::RequestExtension => "申请延期",
            Action::DecideExtension => "延期审核",
            Action::Progress => "中途汇报",
            Action::Reply => "答复",
            Action::ReviewReply => "答复审核",
            Action::Callback => "回访",
            Action::Reopen => "发回重办",
            Action::Close => "审结",
            Action::Urge => "催办",
            Action::Supervise => "督办",
            Action::Merge => "并单",
            Action::Withdraw => "撤单",
            Action::CoSign => "协办签收",
            Action::CoOpinion => "协办意见",
            Action::ProposeReopen => "建议重办",
            Action::DecideReopen => "重办建议审核",
        }
    }

    pub fn parse(code: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.code() == code)
    }
}

/// Where an allowed action leads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    To(State),
    /// The order stays where it is (a note, an urge, a sample callback…).
    Stay,
    /// A decision: `yes` when approved (or recorded), `no` otherwise.
    Branch {
        yes: Target,
        no: Target,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    State(State),
    Stay,
    /// Back to the state recorded when the matter went to review.
    Previous,
}

/// Why an action is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The role never takes this action (403).
    Role,
    /// Not in this state (409).
    State,
}

/// The roles that may take an action at all.
pub fn roles_for(action: Action) -> &'static [Role] {
    use Role::*;
    match action {
        Action::Reject | Action::Answer | Action::Dispatch | Action::Merge | Action::Withdraw => {
            &[Operator, ShiftLead]
        }
        Action::Sign
        | Action::Return
        | Action::RequestExtension
        | Action::Progress
        | Action::CoSign
        | Action::CoOpinion => &[Unit],
        Action::Reply => &[Unit, ShiftLead],
        Action::DecideReturn | Action::Close | Action::DecideReopen => &[ShiftLead],
        Action::DecideExtension | Action::ReviewReply | Action::Reopen => &[ShiftLead, Supervisor],
        Action::Callback | Action::ProposeReopen => &[Qa],
        Action::Urge => &[Supervisor, ShiftLead],
        Action::Supervise => &[Supervisor],
    }
}

/// The one table: (state, action, role) → next.
pub fn transition(state: State, action: Action, role: Role) -> Result<Next, Refusal> {
    use State::*;
    if !roles_for(action).contains(&role) {
        return Err(Refusal::Role);
    }
    let next = match action {
        Action::Reject => matches!(state, Registered).then_some(Next::To(Rejected)),
        Action::Answer => matches!(state, Registered).then_some(Next::To(Closed)),
        Action::Dispatch => matches!(state, Registered).then_some(Next::To(Dispatched)),
        Action::Merge => matches!(state, Registered).then_some(Next::To(Merged)),
        Action::Sign => matches!(state, Dispatched).then_some(Next::To(InProgress)),
        Action::Return => {
            matches!(state, Dispatched | InProgress).then_some(Next::To(ReturnReview))
        }
        Action::DecideReturn => matches!(state, ReturnReview).then_some(Next::Branch {
            yes: Target::State(Registered),
            no: Target::Previous,
        }),
        Action::RequestExtension | Action::DecideExtension | Action::Progress => {
            matches!(state, InProgress).then_some(Next::Stay)
        }
        Action::Reply => matches!(state, InProgress).then_some(Next::To(ReplyReview)),
        Action::ReviewReply => matches!(state, ReplyReview).then_some(Next::Branch {
            yes: Target::State(CallbackPending),
            no: Target::State(InProgress),
        }),
        Action::Callback => match state {
            CallbackPending => Some(Next::Branch {
                yes: Target::State(FinalReview),
                no: Target::Stay,
            }),
            // A sample callback on a direct answer, or the callback of a caller whose order
            // was merged into one now answered; the service checks which.
            Closed | Merged => Some(Next::Stay),
            _ => None,
        },
        // A co-unit (协办单位) signs and gives its opinion while the round runs.
        Action::CoSign | Action::CoOpinion => {
            matches!(state, Dispatched | InProgress).then_some(Next::Stay)
        }
        Action::ProposeReopen => matches!(state, FinalReview).then_some(Next::Stay),
        Action::DecideReopen => matches!(state, FinalReview).then_some(Next::Branch {
            yes: Target::State(Dispatched),
            no: Target::Stay,
        }),
        Action::Reopen => matches!(state, FinalReview).then_some(Next::To(Dispatched)),
        Action::Close => matches!(state, FinalReview).then_some(Next::To(Closed)),
        Action::Urge => matches!(state, Dispatched | InProgress).then_some(Next::Stay),
        Action::Supervise => state.is_open().then_some(Next::Stay),
        Action::Withdraw => state.is_open().then_some(Next::To(Withdrawn)),
    };
    next.ok_or(Refusal::State)
}

/// The actions a role may take in a state: what the order page offers as buttons.
pub fn allowed_actions(state: State, role: Role) -> Vec<Action> {
    Action::ALL
        .into_iter()
        .filter(|a| transition(state, *a, role).is_ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for s in State::ALL {
            assert_eq!(State::parse(s.code()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.code())
            );
        }
        for a in Action::ALL {
            assert_eq!(Action::parse(a.code()), Some(a));
            assert_eq!(
                serde_json::to_string(&a).unwrap(),
                format!("\"{}\"", a.code())
            );
        }
    }

    /// Every (state, action, role): the refusal kind is right, terminal states are final,
    /// and every allowed transition lands in a state the SPEC names for it.
    #[test]
    fn every_state_action_role() {
        let mut allowed = 0;
        for s in State::ALL {
            for a in Action::ALL {
                for r in Role::ALL {
                    let res = transition(s, a, r);
                    if !roles_for(a).contains(&r) {
                        assert_eq!(res, Err(Refusal::Role), "{s:?} {a:?} {r:?}");
                        continue;
                    }
                    if !s.is_open() {
                        let callback =
                            matches!(s, State::Closed | State::Merged) && a == Action::Callback;
                        assert_eq!(res.is_ok(), callback, "{s:?} {a:?} {r:?}");
                    }
                    if let Ok(next) = res {
                        allowed += 1;
                        if let Next::To(t) = next {
                            assert_ne!(t, s, "a move that stays should be Stay");
                        }
                    }
                    // The role never matters for the state check.
                    for r2 in roles_for(a) {
                        assert_eq!(res.is_ok(), transition(s, a, *r2).is_ok());
                    }
                }
            }
        }
        // The count pins the table: a change to it must be deliberate.
        assert_eq!(allowed, 57);
        // Nobody acts on a rejected or withdrawn order; a merged one only gets its callback.
        for s in [State::Rejected, State::Withdrawn] {
            for r in Role::ALL {
                assert!(allowed_actions(s, r).is_empty());
            }
        }
        for r in Role::ALL {
            let expected: Vec<Action> = if r == Role::Qa {
                vec![Action::Callback]
            } else {
                vec![]
            };
            assert_eq!(allowed_actions(State::Merged, r), expected);
        }
        assert_eq!(allowed_actions(State::Registered, Role::Unit), vec![]);
        assert_eq!(
            allowed_actions(State::Registered, Role::Operator),
            vec![
                Action::Reject,
                Action::Answer,
                Action::Dispatch,
                Action::Merge,
                Action::Withdraw
            ]
        );
        assert_eq!(
            allowed_actions(State::InProgress, Role::Unit),
            vec![
                Action::Return,
                Action::RequestExtension,
                Action::Progress,
                Action::Reply,
                Action::CoSign,
                Action::CoOpinion
            ]
        );
        assert_eq!(
            transition(State::Closed, Action::Close, Role::ShiftLead),
            Err(Refusal::State)
        );
        assert_eq!(
            transition(State::FinalReview, Action::Close, Role::Operator),
            Err(Refusal::Role)
        );
    }

    #[test]
    fn print_the_table() {
        for s in State::ALL {
            let row: Vec<String> = Role::ALL
                .iter()
                .map(|r| {
                    let acts: Vec<&str> = allowed_actions(s, *r).iter().map(|a| a.code()).collect();
                    format!("{}: {}", r.code(), acts.join(","))
                })
                .collect();
            println!("{:16} {}", s.code(), row.join(" | "));
        }
    }
}
