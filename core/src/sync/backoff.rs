//! When to try again after a failure: exponential backoff with full jitter (so
//! phones that lost the cloud together do not come back together), never sooner
//! than the cloud's `Retry-After`.

use std::time::Duration;

use rand::{Rng, RngExt};

#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Self {
        Backoff {
            base,
            max,
            attempt: 0,
        }
    }

    /// The wait before the next attempt: uniform in `[0, min(max, base * 2^attempt)]`,
    /// raised to `retry_after` when the cloud asked for more.
    pub fn next_delay<R: Rng + ?Sized>(&mut self, retry_after: Option<Duration>, rng: &mut R) -> Duration {
        let ceiling = self
            .base
            .checked_mul(1u32.checked_shl(self.attempt).unwrap_or(u32::MAX))
            .unwrap_or(self.max)
            .min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        let jittered = Duration::from_millis(rng.random_range(0..=millis));
        jittered.max(retry_after.unwrap_or_default())
    }

    /// After a success: the next failure starts from `base` again.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    #[test]
    fn delays_grow_exponentially_up_to_the_cap_with_jitter() {
        let mut rng = StdRng::seed_from_u64(7);
        let (base, max) = (Duration::from_millis(100), Duration::from_secs(2));
        let mut backoff = Backoff::new(base, max);
        let mut ceilings = Vec::new();
        for attempt in 0..8u32 {
            let delay = backoff.next_delay(None, &mut rng);
            let ceiling = (base * 2u32.pow(attempt)).min(max);
            assert!(delay <= ceiling, "attempt {attempt}: {delay:?} > {ceiling:?}");
            ceilings.push(ceiling);
        }
        assert_eq!(ceilings.last(), Some(&max));
        // Full jitter spreads the waits: not all at the ceiling.
        let mut backoff = Backoff::new(base, max);
        let spread: Vec<Duration> = (0..20)
            .map(|_| {
                backoff.reset();
                backoff.next_delay(None, &mut rng)
            })
            .collect();
        assert!(spread.iter().any(|d| *d < base / 2) && spread.iter().any(|d| *d > base / 2));
    }

    #[test]
    fn retry_after_is_a_floor_and_reset_starts_over() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut backoff = Backoff::new(Duration::from_millis(10), Duration::from_millis(50));
        let asked = Duration::from_secs(3);
        assert_eq!(backoff.next_delay(Some(asked), &mut rng), asked);
        for _ in 0..10 {
            backoff.next_delay(None, &mut rng);
        }
        backoff.reset();
        assert!(backoff.next_delay(None, &mut rng) <= Duration::from_millis(10));
    }
}
