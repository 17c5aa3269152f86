//! The hash-chained audit log: each entry commits to the one before it.

use ring::digest::{SHA256, digest};
use serde::{Deserialize, Serialize};

use super::time::Timestamp;

/// The hash that stands before the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What an audit entry says happened; the hash covers every field but `hash`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    pub at: Timestamp,
    /// User id of the actor; `None` for the system or the console.
    pub actor_id: Option<u64>,
    /// Username, `system` or `console`.
    pub actor: String,
    pub role: Option<String>,
    /// Remote address, for security events.
    pub ip: Option<String>,
    /// Dotted event code, e.g. `login.failure`, `user.create`.
    pub action: String,
    /// What was acted on, e.g. `user:3`.
    pub target: Option<String>,
    /// A short description with no personal data of callers.
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The fields of an entry as the caller supplies them.
#[derive(Clone, Debug, Default)]
pub struct AuditEvent {
    pub actor_id: Option<u64>,
    pub actor: String,
    pub role: Option<String>,
    pub ip: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub detail: String,
}

/// The hashed form; field order is fixed by this struct, so serialisation is canonical.
#[derive(Serialize)]
struct Hashed<'a> {
    seq: u64,
    at: i64,
    actor_id: Option<u64>,
    actor: &'a str,
    role: Option<&'a str>,
    ip: Option<&'a str>,
    action: &'a str,
    target: Option<&'a str>,
    detail: &'a str,
    prev_hash: &'a str,
}

pub fn compute_hash(e: &AuditEntry) -> String {
    let body = Hashed {
        seq: e.seq,
        at: e.at.0,
        actor_id: e.actor_id,
        actor: &e.actor,
        role: e.role.as_deref(),
        ip: e.ip.as_deref(),
        action: &e.action,
        target: e.target.as_deref(),
        detail: &e.detail,
        prev_hash: &e.prev_hash,
    };
    // Serialising plain strings and integers cannot fail.
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    hex(digest(&SHA256, &bytes).as_ref())
}

/// Builds the entry that follows `prev` (seq and hash), sealed with its own hash.
pub fn seal(event: AuditEvent, at: Timestamp, prev: Option<(u64, &str)>) -> AuditEntry {
    let (seq, prev_hash) = match prev {
        Some((s, h)) => (s + 1, h.to_string()),
        None => (1, GENESIS_HASH.to_string()),
    };
    let mut e = AuditEntry {
        seq,
        at,
        actor_id: event.actor_id,
        actor: event.actor,
        role: event.role,
        ip: event.ip,
        action: event.action,
        target: event.target,
        detail: event.detail,
        prev_hash,
        hash: String::new(),
    };
    e.hash = compute_hash(&e);
    e
}

/// Why an entry breaks the chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("entry {seq}: sequence gap (expected {expected})")]
    Gap { seq: u64, expected: u64 },
    #[error("entry {seq}: previous-hash link does not match entry {}", seq - 1)]
    Link { seq: u64 },
    #[error("entry {seq}: content does not match its hash (altered)")]
    Content { seq: u64 },
}

/// Walks entries in order and reports the first break.
pub struct ChainChecker {
    expected_seq: u64,
    prev_hash: String,
}

impl Default for ChainChecker {
    fn default() -> Self {
        Self {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_string(),
        }
    }
}

impl ChainChecker {
    pub fn check(&mut self, e: &AuditEntry) -> Result<(), ChainBreak> {
        if e.seq != self.expected_seq {
            return Err(ChainBreak::Gap {
                seq: e.seq,
                expected: self.expected_seq,
            });
        }
        if e.prev_hash != self.prev_hash {
            return Err(ChainBreak::Link { seq: e.seq });
        }
        if compute_hash(e) != e.hash {
            return Err(ChainBreak::Content { seq: e.seq });
        }
        self.expected_seq += 1;
        self.prev_hash = e.hash.clone();
        Ok(())
    }

    pub fn checked(&self) -> u64 {
        self.expected_seq - 1
    }
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(action: &str) -> AuditEvent {
        AuditEvent {
            actor: "admin".into(),
            action: action.into(),
            detail: "d".into(),
            ..AuditEvent::default()
        }
    }

    #[test]
    fn chain_detects_alteration_and_gaps() {
        let a = seal(ev("a"), Timestamp(1), None);
        let b = seal(ev("b"), Timestamp(2), Some((a.seq, &a.hash)));
        let c = seal(ev("c"), Timestamp(3), Some((b.seq, &b.hash)));
        let mut ok = ChainChecker::default();
        for e in [&a, &b, &c] {
            assert_eq!(ok.check(e), Ok(()));
        }
        assert_eq!(ok.checked(), 3);

        let mut altered = b.clone();
        altered.detail = "changed".into();
        let mut chk = ChainChecker::default();
        assert_eq!(chk.check(&a), Ok(()));
        assert_eq!(chk.check(&altered), Err(ChainBreak::Content { seq: 2 }));

        // Rehashing the altered entry moves the break to the link of the next one.
        altered.hash = compute_hash(&altered);
        let mut chk = ChainChecker::default();
        assert_eq!(chk.check(&a), Ok(()));
        assert_eq!(chk.check(&altered), Ok(()));
        assert_eq!(chk.check(&c), Err(ChainBreak::Link { seq: 3 }));

        let mut chk = ChainChecker::default();
        assert_eq!(chk.check(&a), Ok(()));
        assert_eq!(
            chk.check(&c),
            Err(ChainBreak::Gap {
                seq: 3,
                expected: 2
            })
        );
    }
}
