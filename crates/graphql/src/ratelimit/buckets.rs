//! Keyed token buckets in process memory (governor's GCRA, which is a token bucket kept as
//! one timestamp per key), with idle keys evicted so memory stays bounded by the keys
//! active within one refill period.

use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

/// Charges between two sweeps of idle keys. A sweep walks every key, so it is amortised over
/// many charges; between sweeps the map grows by at most this many new keys.
const SWEEP_EVERY: u64 = 4096;

/// Why a charge was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The bucket will hold enough after this long.
    For(Duration),
    /// The charge is larger than the whole bucket: it can never be paid.
    Never,
}

/// One bucket per key, each holding up to `capacity` and refilled at `capacity` per `period`;
/// `None` capacity turns the buckets off.
pub(crate) struct Buckets<K: Hash + Eq + Clone> {
    limiter: Option<DefaultKeyedRateLimiter<K>>,
    charges: AtomicU64,
}

impl<K: Hash + Eq + Clone> Buckets<K> {
    /// Buckets holding `capacity` (0 = off) refilled over `period`.
    pub(crate) fn new(capacity: u32, period: Duration) -> Self {
        let limiter = NonZeroU32::new(capacity).and_then(|cap| {
            let quota = Quota::with_period(period / cap.get())?.allow_burst(cap);
            Some(DefaultKeyedRateLimiter::dashmap(quota))
        });
        Self {
            limiter,
            charges: AtomicU64::new(0),
        }
    }

    /// Whether the buckets are on.
    #[cfg(test)]
    pub(crate) fn is_on(&self) -> bool {
        self.limiter.is_some()
    }

    /// Takes `n` from `key`'s bucket, or says how long until it holds `n` (taking nothing).
    pub(crate) fn charge(&self, key: &K, n: u32) -> Result<(), Refused> {
        let (Some(limiter), Some(n)) = (&self.limiter, NonZeroU32::new(n)) else {
            return Ok(());
        };
        if self.charges.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        match limiter.check_key_n(key, n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(Refused::For(
                not_until.wait_time_from(DefaultClock::default().now()),
            )),
            Err(_) => Err(Refused::Never),
        }
    }

    /// Keys held (after the last sweep; a key that refilled completely may still be counted).
    #[cfg(test)]
    pub(crate) fn keys(&self) -> usize {
        self.limiter.as_ref().map_or(0, |l| {
            l.retain_recent();
            l.len()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_refuses_once_empty_and_says_how_long_to_wait() {
        let buckets = Buckets::new(3, Duration::from_secs(1));
        for _ in 0..3 {
            assert_eq!(buckets.charge(&1, 1), Ok(()));
        }
        match buckets.charge(&1, 1) {
            Err(Refused::For(wait)) => assert!(wait <= Duration::from_millis(334), "{wait:?}"),
            other => panic!("{other:?}"),
        }
        // Another key has a bucket of its own.
        assert_eq!(buckets.charge(&2, 3), Ok(()));
    }

    #[test]
    fn a_charge_larger_than_the_bucket_can_never_be_paid() {
        let buckets = Buckets::new(10, Duration::from_secs(60));
        assert_eq!(buckets.charge(&1, 11), Err(Refused::Never));
        assert_eq!(buckets.charge(&1, 10), Ok(()));
    }

    #[test]
    fn zero_capacity_turns_the_buckets_off() {
        let buckets = Buckets::new(0, Duration::from_secs(1));
        assert!(!buckets.is_on());
        for _ in 0..100 {
            assert_eq!(buckets.charge(&1, 1_000), Ok(()));
        }
    }

    #[test]
    fn idle_keys_are_evicted() {
        let buckets = Buckets::new(1_000, Duration::from_millis(10));
        for key in 0..100 {
            assert_eq!(buckets.charge(&key, 1), Ok(()));
        }
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(buckets.keys(), 0);
    }
}
