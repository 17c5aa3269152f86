//! Failed-login throttling: increasing delays per account and a cap per address.
//!
//! Kept in memory: a restart forgives, which is acceptable for a LAN appliance, and keeps
//! failed attempts from turning into disk writes an attacker controls.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;

use crate::domain::time::Timestamp;

/// Failures an account may have before delays start.
const FREE_FAILURES: u32 = 3;
/// Longest delay for one account.
const MAX_DELAY_SECS: i64 = 15 * 60;
/// Failures one address may have in the window before it is refused.
const IP_MAX_FAILURES: usize = 20;
const IP_WINDOW_SECS: i64 = 15 * 60;
/// Above this many tracked keys, old ones are pruned.
const PRUNE_ABOVE: usize = 10_000;

#[derive(Default)]
pub struct Throttle {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    accounts: HashMap<String, (u32, i64)>,
    ips: HashMap<IpAddr, VecDeque<i64>>,
}

fn account_delay(failures: u32) -> i64 {
    if failures < FREE_FAILURES {
        0
    } else {
        let exp = (failures - FREE_FAILURES + 1).min(20);
        (1i64 << exp).min(MAX_DELAY_SECS)
    }
}

impl Throttle {
    /// `Err(seconds)` when the attempt must wait.
    pub fn check(&self, account: &str, ip: Option<IpAddr>, now: Timestamp) -> Result<(), u64> {
        let now = now.secs();
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut wait = 0i64;
        if let Some((failures, last)) = inner.accounts.get(account) {
            wait = wait.max(last + account_delay(*failures) - now);
        }
        if let Some(ip) = ip
            && let Some(times) = inner.ips.get_mut(&ip)
        {
            while times.front().is_some_and(|t| *t <= now - IP_WINDOW_SECS) {
                times.pop_front();
            }
            if times.len() >= IP_MAX_FAILURES
                && let Some(oldest) = times.front()
            {
                wait = wait.max(oldest + IP_WINDOW_SECS - now);
            }
        }
        if wait > 0 { Err(wait as u64) } else { Ok(()) }
    }

    pub fn failure(&self, account: &str, ip: Option<IpAddr>, now: Timestamp) {
        let now = now.secs();
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.accounts.len() > PRUNE_ABOVE {
            inner
                .accounts
                .retain(|_, (f, last)| *last + account_delay(*f) + IP_WINDOW_SECS > now);
        }
        let entry = inner
            .accounts
            .entry(account.to_string())
            .or_insert((0, now));
        entry.0 = entry.0.saturating_add(1);
        entry.1 = now;
        if let Some(ip) = ip {
            if inner.ips.len() > PRUNE_ABOVE {
                inner
                    .ips
                    .retain(|_, t| t.back().is_some_and(|b| *b > now - IP_WINDOW_SECS));
            }
            let times = inner.ips.entry(ip).or_default();
            times.push_back(now);
            if times.len() > IP_MAX_FAILURES * 2 {
                times.pop_front();
            }
        }
    }

    /// Only the per-IP check, for endpoints without an account (the setup code).
    pub fn check_ip(&self, ip: Option<IpAddr>, now: Timestamp) -> Result<(), u64> {
        self.check("", ip, now)
    }

    pub fn success(&self, account: &str) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.accounts.remove(account);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_reset() {
        let t = Throttle::default();
        let now = Timestamp::from_secs(1000);
        for _ in 0..3 {
            assert!(t.check("a", None, now).is_ok());
            t.failure("a", None, now);
        }
        assert_eq!(t.check("a", None, now), Err(2));
        assert!(t.check("a", None, now.plus_secs(2)).is_ok());
        t.failure("a", None, now.plus_secs(2));
        assert_eq!(t.check("a", None, now.plus_secs(2)), Err(4));
        assert!(t.check("b", None, now).is_ok());
        t.success("a");
        assert!(t.check("a", None, now.plus_secs(2)).is_ok());
        assert_eq!(account_delay(100), MAX_DELAY_SECS);
    }

    #[test]
    fn per_ip_cap() {
        let t = Throttle::default();
        let ip: IpAddr = [10, 0, 0, 9].into();
        let now = Timestamp::from_secs(5000);
        for i in 0..IP_MAX_FAILURES {
            t.failure(&format!("user{i}"), Some(ip), now);
        }
        assert_eq!(t.check("fresh", Some(ip), now), Err(IP_WINDOW_SECS as u64));
        assert!(t.check("fresh", None, now).is_ok());
        assert!(
            t.check("fresh", Some(ip), now.plus_secs(IP_WINDOW_SECS))
                .is_ok()
        );
    }
}
