//! Results going back to the platforms an order came from (回传): what is sent, when it is
//! tried again, and how it is signed.

use serde::{Deserialize, Serialize};

use super::order::OrderId;
use super::time::Timestamp;

/// What a platform is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutEvent {
    /// 受理: the order passed screening (dispatched or answered).
    Accepted,
    /// 不予受理, with the reason.
    Rejected,
    /// 办结: the matter is finished, with the public reply.
    Finished,
    /// 回访结果: the caller's satisfaction.
    CallbackResult,
}

impl OutEvent {
    pub fn code(self) -> &'static str {
        match self {
            OutEvent::Accepted => "accepted",
            OutEvent::Rejected => "rejected",
            OutEvent::Finished => "finished",
            OutEvent::CallbackResult => "callback_result",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            OutEvent::Accepted => "受理",
            OutEvent::Rejected => "不予受理",
            OutEvent::Finished => "办结",
            OutEvent::CallbackResult => "回访结果",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its first try or its next one.
    Pending = 1,
    /// Tried `GIVE_UP_AFTER` times without success: still tried every `SLOW_RETRY_SECS`,
    /// and shown to the admin, who can send it again at once.
    Failed = 2,
    Delivered = 3,
}

impl DeliveryState {
    pub fn label(self) -> &'static str {
        match self {
            DeliveryState::Pending => "待发送",
            DeliveryState::Failed => "发送失败",
            DeliveryState::Delivered => "已送达",
        }
    }
    pub fn parse(s: &str) -> Option<DeliveryState> {
        match s {
            "pending" => Some(DeliveryState::Pending),
            "failed" => Some(DeliveryState::Failed),
            "delivered" => Some(DeliveryState::Delivered),
            _ => None,
        }
    }
}

/// One result for one platform.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: u64,
    pub order: OrderId,
    pub number: String,
    /// The platform token whose callback URL and key it goes with.
    pub token: u64,
    pub event: OutEvent,
    /// The same on every try: the platform drops a repeat (`Idempotency-Key`).
    pub key: String,
    /// The JSON body, fixed when queued.
    pub body: String,
    pub state: DeliveryState,
    pub attempts: u32,
    pub next_at: Timestamp,
    pub created_at: Timestamp,
    #[serde(default)]
    pub delivered_at: Option<Timestamp>,
    #[serde(default)]
    pub last_error: Option<String>,
}

impl crate::store::codec::Record for Delivery {
    const KIND: &'static str = "delivery";
    const VERSION: u8 = 1;
}

/// Failed tries after which a delivery shows as failed.
pub const GIVE_UP_AFTER: u32 = 10;
/// How often a failed delivery is still tried.
pub const SLOW_RETRY_SECS: i64 = 6 * 3600;
/// The first retry's wait; each next one doubles it.
pub const FIRST_RETRY_SECS: i64 = 30;

/// When to try again after `attempts` failed tries: 30 s, 1 min, 2 min, … (about 4 h 16 min
/// before the tenth), then every six hours.
pub fn retry_after_secs(attempts: u32) -> i64 {
    if attempts >= GIVE_UP_AFTER {
        return SLOW_RETRY_SECS;
    }
    (FIRST_RETRY_SECS << attempts.saturating_sub(1).min(20)).min(SLOW_RETRY_SECS)
}

/// The signature header's value: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`
/// (the timestamp inside the signed text, so a captured request cannot be replayed later
/// with another time).
pub fn signature(secret: &str, at_secs: i64, body: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let tag = ring::hmac::sign(&key, format!("{at_secs}.{body}").as_bytes());
    format!("t={at_secs},v1={}", super::audit::hex(tag.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_and_then_go_slow() {
        assert_eq!(retry_after_secs(1), 30);
        assert_eq!(retry_after_secs(2), 60);
        assert_eq!(retry_after_secs(3), 120);
        assert_eq!(retry_after_secs(9), 7680);
        assert_eq!(retry_after_secs(10), SLOW_RETRY_SECS);
        assert_eq!(retry_after_secs(u32::MAX), SLOW_RETRY_SECS);
    }

    #[test]
    fn signature_is_rfc_4231_hmac_sha256() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"Jefe");
        let tag = ring::hmac::sign(&key, b"what do ya want for nothing?");
        assert_eq!(
            crate::domain::audit::hex(tag.as_ref()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let s = signature("k", 1_700_000_000, "{}");
        assert!(s.starts_with("t=1700000000,v1="));
        assert_eq!(s.len(), "t=1700000000,v1=".len() + 64);
    }
}
