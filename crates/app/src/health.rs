//! Whether the database takes writes: what `/readyz` answers besides "it answers reads".
//!
//! A write refused because the storage is unavailable (a full disk, a database server down)
//! marks the application not ready; the next write that succeeds marks it ready again. When no
//! write comes (a load balancer sends no traffic to a server that is not ready), the readiness
//! check itself tries a write that changes nothing, once the refusal is [`PROBE_AFTER`] old; it
//! does not probe sooner because on a full disk a one-page write can still fit where a real one
//! did not, and readiness would then flap.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long after a refused write the readiness check waits before probing with a write of its own.
pub const PROBE_AFTER: Duration = Duration::from_secs(5);

/// The storage's write health, shared by every clone of the application.
#[derive(Debug, Default)]
pub struct WriteHealth {
    /// When the last refused write happened, if none succeeded since.
    failing_since: Mutex<Option<Instant>>,
}

impl WriteHealth {
    /// A write was refused because the storage is unavailable.
    pub fn failed(&self) {
        *self.lock() = Some(Instant::now());
    }

    /// A write went through: the storage takes writes.
    pub fn worked(&self) {
        *self.lock() = None;
    }

    /// `None` when writes work; else how long ago the last one was refused.
    pub fn failing_for(&self) -> Option<Duration> {
        self.lock().map(|at| at.elapsed())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.failing_since.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_write_is_remembered_until_one_succeeds() {
        let health = WriteHealth::default();
        assert_eq!(health.failing_for(), None);
        health.failed();
        assert!(health.failing_for().is_some_and(|d| d < PROBE_AFTER));
        health.worked();
        assert_eq!(health.failing_for(), None);
    }
}
