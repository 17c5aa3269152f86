//! Password-guess throttling, so guessing stays slow and nobody can lock a user out.
//!
//! Failures are counted per (account, address) — increasing delays there, so an attacker
//! who knows a username slows only their own guesses while the owner signs in from their
//! own PC — and per address, at most `IP_PER_MINUTE` a minute. An account guessed from many
//! addresses is not locked (that would hand out a lock-out) but raised as an alert on the
//! admin's home. The same applies to old-password checks when a password is changed.
//!
//! Kept in memory: a restart forgives, which is acceptable for a LAN appliance, and keeps
//! failed attempts from turning into disk writes an attacker controls.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;

use serde::Serialize;

use crate::domain::time::Timestamp;

/// Failures an (account, address) pair may have before delays start.
const FREE_FAILURES: u32 = 3;
/// Longest delay for one (account, address).
const MAX_DELAY_SECS: i64 = 15 * 60;
/// Failures one address may have in a minute.
pub const IP_PER_MINUTE: usize = 10;
/// Distinct addresses failing on one account within the alert window that raise an alert.
pub const ALERT_ADDRESSES: usize = 5;
const ALERT_WINDOW_SECS: i64 = 3600;
/// Above this many tracked keys, old ones are pruned (memory stays bounded).
const PRUNE_ABOVE: usize = 10_000;

#[derive(Default)]
pub struct Throttle {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// (account, address) → (failures, last failure).
    pairs: HashMap<(String, Option<IpAddr>), (u32, i64)>,
    /// Address → failure times in the last minute.
    ips: HashMap<IpAddr, VecDeque<i64>>,
    /// Account → (time, address) of recent failures, for the many-addresses alert.
    accounts: HashMap<String, VecDeque<(i64, Option<IpAddr>)>>,
}

/// An account guessed at from many addresses (for the admin's home).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct GuessAlert {
    pub account: String,
    pub addresses: usize,
    pub failures: usize,
    pub last: Timestamp,
}

fn pair_delay(failures: u32) -> i64 {
    if failures < FREE_FAILURES {
        0
    } else {
        let exp = (failures - FREE_FAILURES + 1).min(20);
        (1i64 << exp).min(MAX_DELAY_SECS)
    }
}

impl Inner {
    fn prune(&mut self, now: i64) {
        if self.pairs.len() > PRUNE_ABOVE {
            self.pairs
                .retain(|_, (f, last)| *last + pair_delay(*f) + ALERT_WINDOW_SECS > now);
        }
        if self.ips.len() > PRUNE_ABOVE {
            self.ips
                .retain(|_, t| t.back().is_some_and(|b| *b > now - 60));
        }
        if self.accounts.len() > PRUNE_ABOVE {
            self.accounts
                .retain(|_, t| t.back().is_some_and(|b| b.0 > now - ALERT_WINDOW_SECS));
        }
    }
}

impl Throttle {
    /// `Err(seconds)` when the attempt must wait.
    pub fn check(&self, account: &str, ip: Option<IpAddr>, now: Timestamp) -> Result<(), u64> {
        let now = now.secs();
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut wait = 0i64;
        if let Some((failures, last)) = inner.pairs.get(&(account.to_string(), ip)) {
            wait = wait.max(last + pair_delay(*failures) - now);
        }
        if let Some(ip) = ip
            && let Some(times) = inner.ips.get_mut(&ip)
        {
            while times.front().is_some_and(|t| *t <= now - 60) {
                times.pop_front();
            }
            if times.len() >= IP_PER_MINUTE
                && let Some(oldest) = times.front()
            {
                wait = wait.max(oldest + 60 - now);
            }
        }
        if wait > 0 { Err(wait as u64) } else { Ok(()) }
    }

    pub fn failure(&self, account: &str, ip: Option<IpAddr>, now: Timestamp) {
        let now = now.secs();
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.prune(now);
        let entry = inner
            .pairs
            .entry((account.to_string(), ip))
            .or_insert((0, now));
        entry.0 = entry.0.saturating_add(1);
        entry.1 = now;
        if let Some(ip) = ip {
            let times = inner.ips.entry(ip).or_default();
            times.push_back(now);
            while times.len() > IP_PER_MINUTE * 2 {
                times.pop_front();
            }
        }
        if !account.is_empty() {
            let seen = inner.accounts.entry(account.to_string()).or_default();
            seen.push_back((now, ip));
            while seen
                .front()
                .is_some_and(|(t, _)| *t <= now - ALERT_WINDOW_SECS)
                || seen.len() > 1000
            {
                seen.pop_front();
            }
        }
    }

    /// Only the per-address check, for endpoints without an account (the setup code).
    pub fn check_ip(&self, ip: Option<IpAddr>, now: Timestamp) -> Result<(), u64> {
        self.check("", ip, now)
    }

    /// The right password from this address: its delays end (other addresses keep theirs).
    pub fn success(&self, account: &str, ip: Option<IpAddr>) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.pairs.remove(&(account.to_string(), ip));
    }

    /// Accounts that failed from `ALERT_ADDRESSES` or more addresses in the last hour.
    pub fn alerts(&self, now: Timestamp) -> Vec<GuessAlert> {
        let now_s = now.secs();
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<GuessAlert> = inner
            .accounts
            .iter()
            .filter_map(|(account, seen)| {
                let recent: Vec<&(i64, Option<IpAddr>)> = seen
                    .iter()
                    .filter(|(t, _)| *t > now_s - ALERT_WINDOW_SECS)
                    .collect();
                let addresses: BTreeSet<Option<IpAddr>> =
                    recent.iter().map(|(_, ip)| *ip).collect();
                (addresses.len() >= ALERT_ADDRESSES).then(|| GuessAlert {
                    account: account.clone(),
                    addresses: addresses.len(),
                    failures: recent.len(),
                    last: Timestamp::from_secs(recent.last().map(|r| r.0).unwrap_or(now_s)),
                })
            })
            .collect();
        out.sort_by(|a, b| {
            b.addresses
                .cmp(&a.addresses)
                .then(a.account.cmp(&b.account))
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> Option<IpAddr> {
        Some(IpAddr::from([10, 0, 0, n]))
    }

    #[test]
    fn delays_grow_per_account_and_address_and_reset() {
        let t = Throttle::default();
        let now = Timestamp::from_secs(1000);
        for _ in 0..3 {
            assert!(t.check("a", ip(1), now).is_ok());
            t.failure("a", ip(1), now);
        }
        assert_eq!(t.check("a", ip(1), now), Err(2));
        // The owner at another address is not held up.
        assert!(t.check("a", ip(2), now).is_ok());
        assert!(t.check("a", ip(1), now.plus_secs(2)).is_ok());
        t.failure("a", ip(1), now.plus_secs(2));
        assert_eq!(t.check("a", ip(1), now.plus_secs(2)), Err(4));
        t.success("a", ip(1));
        assert!(t.check("a", ip(1), now.plus_secs(2)).is_ok());
        assert_eq!(pair_delay(100), MAX_DELAY_SECS);
    }

    #[test]
    fn an_address_guesses_at_most_ten_a_minute() {
        let t = Throttle::default();
        let now = Timestamp::from_secs(5000);
        for i in 0..IP_PER_MINUTE {
            assert!(t.check(&format!("user{i}"), ip(9), now).is_ok());
            t.failure(&format!("user{i}"), ip(9), now);
        }
        assert_eq!(t.check("fresh", ip(9), now), Err(60));
        assert!(t.check("fresh", ip(8), now).is_ok());
        assert!(t.check("fresh", ip(9), now.plus_secs(60)).is_ok());
    }

    #[test]
    fn many_addresses_on_one_account_raise_an_alert() {
        let t = Throttle::default();
        let now = Timestamp::from_secs(9000);
        for n in 0..ALERT_ADDRESSES as u8 {
            assert!(t.alerts(now).is_empty());
            t.failure("zhang", ip(n), now);
        }
        let a = t.alerts(now);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].account, "zhang");
        assert_eq!(a[0].addresses, ALERT_ADDRESSES);
        assert!(t.alerts(now.plus_secs(ALERT_WINDOW_SECS + 1)).is_empty());
    }
}

/// A plain rate limit: at most `per_minute` calls a key in any minute (lookups by a guessable
/// code). In memory, bounded like the throttle above.
#[derive(Default)]
pub struct Rate {
    calls: Mutex<HashMap<String, VecDeque<i64>>>,
}

impl Rate {
    /// `Err(seconds)` when the key has had its calls this minute; otherwise the call counts.
    pub fn take(&self, key: &str, per_minute: usize, now: Timestamp) -> Result<(), u64> {
        let now = now.0;
        let mut calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        if calls.len() > PRUNE_ABOVE {
            calls.retain(|_, t| t.back().is_some_and(|b| *b > now - 60_000));
        }
        let times = calls.entry(key.to_string()).or_default();
        while times.front().is_some_and(|t| *t <= now - 60_000) {
            times.pop_front();
        }
        if times.len() >= per_minute {
            let oldest = times.front().copied().unwrap_or(now);
            return Err(u64::try_from((oldest + 60_000 - now) / 1000 + 1).unwrap_or(60));
        }
        times.push_back(now);
        Ok(())
    }
}
