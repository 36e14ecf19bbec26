//! Who wrote what recently: the commit position of each caller's latest write, so that the
//! caller's next reads go only to a standby that has replayed it.
//!
//! An entry is needed only until the lag bound itself implies it: once every eligible standby
//! must have replayed past the entry's position anyway (the *floor*, see
//! [`super::sampler`]), the entry is dropped. So entries live about as long as the lag bound,
//! and the map holds at most the callers who wrote within it. It is bounded all the same: when
//! it is full of live entries they are folded into one position that *every* read must wait
//! for, which is stricter than needed (reads go to the primary a little more often) but never
//! wrong.

use std::collections::HashMap;
use std::sync::Mutex;

use uuid::Uuid;

use super::Lsn;
use crate::TenantCtx;

/// The most callers remembered at once before entries are folded together.
const MAX_ENTRIES: usize = 100_000;

/// A caller: the tenant, and the user when a person acts.
type Caller = (Uuid, Option<Uuid>);

/// The latest write position per caller.
#[derive(Debug, Default)]
pub(super) struct RecentWrites {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    by_caller: HashMap<Caller, Lsn>,
    /// What every read must have replayed since the map last overflowed.
    everyone: Lsn,
}

fn caller(ctx: &TenantCtx) -> Caller {
    (ctx.tenant_id, ctx.user_id)
}

impl RecentWrites {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Remembers that `ctx` committed a write at `lsn` (entries only move forward).
    pub(super) fn record(&self, ctx: &TenantCtx, lsn: Lsn, floor: Option<Lsn>) {
        let mut inner = self.lock();
        let entry = inner.by_caller.entry(caller(ctx)).or_default();
        *entry = (*entry).max(lsn);
        if inner.by_caller.len() > MAX_ENTRIES {
            inner.prune(floor);
        }
        if inner.by_caller.len() > MAX_ENTRIES {
            let all = inner.by_caller.values().copied().max().unwrap_or_default();
            inner.everyone = inner.everyone.max(all);
            inner.by_caller.clear();
            tracing::warn!(
                "more than {MAX_ENTRIES} callers wrote within the replica lag bound: \
                 every read now waits for the newest of their writes"
            );
        }
    }

    /// The position a standby must have replayed before it may serve `ctx`.
    pub(super) fn needed_by(&self, ctx: &TenantCtx) -> Lsn {
        let inner = self.lock();
        let own = inner
            .by_caller
            .get(&caller(ctx))
            .copied()
            .unwrap_or_default();
        own.max(inner.everyone)
    }

    /// Drops the entries the lag bound already implies (`floor`: the position every eligible
    /// standby has replayed).
    pub(super) fn forget_below(&self, floor: Option<Lsn>) {
        self.lock().prune(floor);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().by_caller.len()
    }
}

impl Inner {
    fn prune(&mut self, floor: Option<Lsn>) {
        if let Some(floor) = floor {
            self.by_caller.retain(|_, lsn| *lsn > floor);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(n: u128) -> TenantCtx {
        TenantCtx {
            tenant_id: Uuid::from_u128(1),
            user_id: Some(Uuid::from_u128(n)),
        }
    }

    #[test]
    fn a_caller_needs_its_own_latest_write_and_others_need_nothing() {
        let w = RecentWrites::default();
        w.record(&ctx(1), Lsn(10), None);
        w.record(&ctx(1), Lsn(5), None);
        assert_eq!(w.needed_by(&ctx(1)), Lsn(10));
        assert_eq!(w.needed_by(&ctx(2)), Lsn(0));
    }

    #[test]
    fn entries_the_lag_bound_implies_are_forgotten() {
        let w = RecentWrites::default();
        w.record(&ctx(1), Lsn(10), None);
        w.record(&ctx(2), Lsn(20), None);
        w.forget_below(Some(Lsn(10)));
        assert_eq!(w.len(), 1);
        assert_eq!(w.needed_by(&ctx(2)), Lsn(20));
    }

    #[test]
    fn a_full_map_folds_into_a_position_every_read_waits_for() {
        let w = RecentWrites::default();
        for n in 0..=MAX_ENTRIES as u128 {
            w.record(&ctx(n), Lsn(100 + n as u64), None);
        }
        assert_eq!(w.len(), 0);
        let newest = Lsn(100 + MAX_ENTRIES as u64);
        assert_eq!(w.needed_by(&ctx(7)), newest);
        assert_eq!(w.needed_by(&ctx(u128::MAX)), newest);
    }
}
