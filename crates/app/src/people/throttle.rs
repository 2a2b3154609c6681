//! Rate limits kept in this process's memory: a token bucket per key (an API key, a source
//! address). Several servers each keep their own buckets, so a client spread over them gets each
//! server's share.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Buckets this many keys before the idle ones are dropped (an idle bucket is full again, which
/// is what a missing one means).
const PRUNE_AT: usize = 4096;

struct Bucket {
    tokens: f64,
    last: Instant,
    period: Duration,
}

/// A token bucket per key: `capacity` requests at once, refilled at `capacity` per `period`.
pub struct Buckets<K>(Arc<Mutex<HashMap<K, Bucket>>>);

impl<K> Clone for Buckets<K> {
    fn clone(&self) -> Self {
        Buckets(self.0.clone())
    }
}

impl<K> Default for Buckets<K> {
    fn default() -> Self {
        Buckets(Arc::default())
    }
}

impl<K: Hash + Eq> Buckets<K> {
    /// Takes one token from `key`'s bucket; `Err(seconds)` to wait when it is empty. A capacity
    /// of 0 or less is no limit.
    pub fn take(&self, key: K, capacity: i64, period: Duration, now: Instant) -> Result<(), u64> {
        if capacity <= 0 {
            return Ok(());
        }
        let capacity = capacity as f64;
        let per_second = capacity / period.as_secs_f64().max(1.0);
        let mut buckets = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= PRUNE_AT && !buckets.contains_key(&key) {
            buckets.retain(|_, b| now.saturating_duration_since(b.last) < b.period);
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: capacity,
            last: now,
            period,
        });
        let refilled =
            (bucket.tokens + now.saturating_duration_since(bucket.last).as_secs_f64() * per_second).min(capacity);
        bucket.last = now;
        bucket.period = period;
        if refilled >= 1.0 {
            bucket.tokens = refilled - 1.0;
            Ok(())
        } else {
            bucket.tokens = refilled;
            Err(((1.0 - refilled) / per_second).ceil() as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_empties_then_refills_at_its_rate() {
        let buckets = Buckets::default();
        let t0 = Instant::now();
        let minute = Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(buckets.take("a", 3, minute, t0), Ok(()));
        }
        assert_eq!(buckets.take("a", 3, minute, t0), Err(20), "one token every 20 s");
        assert_eq!(buckets.take("b", 3, minute, t0), Ok(()), "each key its own bucket");
        assert_eq!(buckets.take("a", 3, minute, t0 + Duration::from_secs(20)), Ok(()));
        assert_eq!(buckets.take("a", 0, minute, t0), Ok(()), "0: no limit");
    }

    #[test]
    fn idle_buckets_are_dropped_when_there_are_many() {
        let buckets = Buckets::default();
        let t0 = Instant::now();
        let minute = Duration::from_secs(60);
        for i in 0..PRUNE_AT {
            buckets.take(i, 1, minute, t0).unwrap();
        }
        assert_eq!(buckets.take(0, 1, minute, t0), Err(60));
        buckets.take(PRUNE_AT, 1, minute, t0 + minute).unwrap();
        assert_eq!(buckets.0.lock().unwrap().len(), 1, "only the new key is left");
        assert_eq!(buckets.take(0, 1, minute, t0 + minute), Ok(()));
    }
}
