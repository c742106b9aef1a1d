//! Limits on guessing passwords, kept in memory (a restart forgets them; several
//! cloud processes would each count their own).
//!
//! - Per account (the normalized email, whether or not it has an account):
//!   after `account_failures` failed logins (or sign-ups of a taken email) within
//!   `account_window`, further attempts are refused until the oldest failure ages
//!   out. A successful login clears the count.
//! - Per client address (IPv6 by its /64): at most `address_attempts` sign-ups and
//!   logins, successful or not, within `address_window`.
//!
//! - Per client address, separately: at most `open_attempts` share-link opens
//!   (`POST /v1/shares/{id}/open`, whatever the outcome) within `open_window`.
//!
//! Refusals say when to come back (`Retry-After`). Both are sliding windows over
//! the timestamps of the attempts, at most the limit of them per key.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys tracked before expired ones are swept out.
const SWEEP_AT: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    pub account_failures: usize,
    pub account_window: Duration,
    pub address_attempts: usize,
    pub address_window: Duration,
    pub open_attempts: usize,
    pub open_window: Duration,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            account_failures: 5,
            account_window: Duration::from_secs(15 * 60),
            address_attempts: 20,
            address_window: Duration::from_secs(60),
            open_attempts: 60,
            open_window: Duration::from_secs(60),
        }
    }
}

/// Refused; try again in this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub u64);

#[derive(Debug)]
pub struct RateLimiter {
    limits: RateLimits,
    accounts: Mutex<Windows<String>>,
    addresses: Mutex<Windows<IpAddr>>,
    opens: Mutex<Windows<IpAddr>>,
}

impl RateLimiter {
    pub fn new(limits: RateLimits) -> Self {
        RateLimiter {
            limits,
            accounts: Mutex::new(Windows::default()),
            addresses: Mutex::new(Windows::default()),
            opens: Mutex::new(Windows::default()),
        }
    }

    /// Counts an attempt from `ip`, or refuses it.
    pub fn attempt_from(&self, ip: IpAddr) -> Result<(), RetryAfter> {
        let RateLimits {
            address_attempts,
            address_window,
            ..
        } = self.limits;
        let mut windows = lock(&self.addresses);
        let key = address_key(ip);
        windows.check(&key, address_attempts, address_window, Instant::now())?;
        windows.record(key, address_attempts, address_window, Instant::now());
        Ok(())
    }

    /// Counts an attempt to open a share link from `ip`, or refuses it.
    pub fn open_from(&self, ip: IpAddr) -> Result<(), RetryAfter> {
        let RateLimits {
            open_attempts,
            open_window,
            ..
        } = self.limits;
        let mut windows = lock(&self.opens);
        let key = address_key(ip);
        windows.check(&key, open_attempts, open_window, Instant::now())?;
        windows.record(key, open_attempts, open_window, Instant::now());
        Ok(())
    }

    /// Refuses an attempt on an account that failed too often lately.
    pub fn check_account(&self, email: &str) -> Result<(), RetryAfter> {
        let RateLimits {
            account_failures,
            account_window,
            ..
        } = self.limits;
        lock(&self.accounts).check(email, account_failures, account_window, Instant::now())
    }

    pub fn failed(&self, email: &str) {
        let RateLimits {
            account_failures,
            account_window,
            ..
        } = self.limits;
        lock(&self.accounts).record(email.to_owned(), account_failures, account_window, Instant::now());
    }

    pub fn succeeded(&self, email: &str) {
        lock(&self.accounts).entries.remove(email);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The windows are plain counters: one a panic left half-updated is still usable.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// IPv6 clients usually hold a whole /64: count it as one address.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

#[derive(Debug)]
struct Windows<K> {
    entries: HashMap<K, VecDeque<Instant>>,
}

impl<K> Default for Windows<K> {
    fn default() -> Self {
        Windows {
            entries: HashMap::new(),
        }
    }
}

impl<K: Eq + Hash> Windows<K> {
    fn check<Q>(&mut self, key: &Q, limit: usize, window: Duration, now: Instant) -> Result<(), RetryAfter>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let Some(times) = self.entries.get_mut(key) else {
            return Ok(());
        };
        while times.front().is_some_and(|t| now.duration_since(*t) >= window) {
            times.pop_front();
        }
        match times.front() {
            Some(oldest) if times.len() >= limit => {
                let wait = window.saturating_sub(now.duration_since(*oldest));
                Err(RetryAfter(wait.as_secs() + u64::from(wait.subsec_nanos() > 0)))
            }
            _ => Ok(()),
        }
    }

    fn record(&mut self, key: K, limit: usize, window: Duration, now: Instant) {
        if self.entries.len() >= SWEEP_AT {
            self.entries
                .retain(|_, times| times.back().is_some_and(|t| now.duration_since(*t) < window));
        }
        let times = self.entries.entry(key).or_default();
        times.push_back(now);
        while times.len() > limit {
            times.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_refused_after_its_failures_until_the_oldest_ages_out() {
        let mut windows = Windows::<String>::default();
        let start = Instant::now();
        let window = Duration::from_secs(900);
        for i in 0..5 {
            assert!(windows.check("a@x.io", 5, window, start).is_ok());
            windows.record("a@x.io".into(), 5, window, start + Duration::from_secs(i));
        }
        let refused = windows.check("a@x.io", 5, window, start + Duration::from_secs(10));
        assert_eq!(refused, Err(RetryAfter(890)));
        assert!(windows.check("b@x.io", 5, window, start).is_ok());
        assert!(windows.check("a@x.io", 5, window, start + window).is_ok());
    }

    #[test]
    fn success_clears_an_account_and_addresses_count_every_attempt() {
        let limiter = RateLimiter::new(RateLimits {
            address_attempts: 3,
            ..RateLimits::default()
        });
        for _ in 0..5 {
            limiter.failed("a@x.io");
        }
        assert!(limiter.check_account("a@x.io").is_err());
        limiter.succeeded("a@x.io");
        assert!(limiter.check_account("a@x.io").is_ok());

        let ip: IpAddr = "2001:db8::1".parse().unwrap();
        let neighbour: IpAddr = "2001:db8::ffff".parse().unwrap();
        assert!(limiter.attempt_from(ip).is_ok());
        assert!(limiter.attempt_from(neighbour).is_ok());
        assert!(limiter.attempt_from(ip).is_ok());
        let RetryAfter(seconds) = limiter.attempt_from(neighbour).unwrap_err();
        assert!((59..=60).contains(&seconds));
        assert!(limiter.attempt_from("2001:db9::1".parse().unwrap()).is_ok());
    }
}
