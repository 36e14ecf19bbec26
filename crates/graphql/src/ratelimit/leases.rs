//! The process side of subscription leases ([`frontdesk_db::leases`]): takes one per
//! subscription, ends it when the subscription's stream is dropped, and renews the live ones
//! from one background task per process.
//!
//! A lease that could not be ended (the database was unreachable) is no longer renewed, so it
//! expires within [`LEASE_TTL`] anyway; so do the leases of a process that died.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use frontdesk_db::{leases, Db, DbError};
use tokio::sync::Notify;
use uuid::Uuid;

/// How long a lease counts without renewal: how long the subscriptions of a dead process
/// keep counting against their tenant.
pub const LEASE_TTL: Duration = Duration::from_secs(30);
/// How often live leases are renewed: three chances before they expire.
const RENEW_EVERY: Duration = Duration::from_secs(10);
/// Most leases renewed by one statement.
const RENEW_CHUNK: usize = 5_000;

/// Leases of one process, `max` per tenant (0 = no limit, and no lease is taken).
pub(crate) struct TenantLeases {
    db: Db,
    max: u32,
    shared: Arc<Shared>,
    task: OnceLock<()>,
}

#[derive(Default)]
struct Shared {
    /// Live leases: id → tenant.
    live: Mutex<HashMap<Uuid, Uuid>>,
    /// Leases whose subscription ended, to be ended in the database.
    ended: Mutex<Vec<(Uuid, Uuid)>>,
    wake: Notify,
}

/// A held lease, ended when dropped.
pub(crate) struct Lease {
    tenant: Uuid,
    id: Uuid,
    shared: Arc<Shared>,
}

impl Drop for Lease {
    fn drop(&mut self) {
        lock(&self.shared.live).remove(&self.id);
        lock(&self.shared.ended).push((self.tenant, self.id));
        self.shared.wake.notify_one();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl TenantLeases {
    pub(crate) fn new(db: Db, max: u32) -> Self {
        Self {
            db,
            max,
            shared: Arc::default(),
            task: OnceLock::new(),
        }
    }

    /// The tenant limit, when there is one.
    pub(crate) fn max(&self) -> Option<u32> {
        (self.max > 0).then_some(self.max)
    }

    /// A lease for a new subscription of `tenant`: `Ok(None)` without a limit, `Ok(Some)`
    /// when taken, `Err(None)` when the tenant holds the maximum already.
    pub(crate) async fn take(&self, tenant: Uuid) -> Result<Option<Lease>, Option<DbError>> {
        if self.max == 0 {
            return Ok(None);
        }
        self.task.get_or_init(|| {
            tokio::spawn(maintain(self.db.clone(), Arc::downgrade(&self.shared)));
        });
        let id = Uuid::new_v4();
        // Live before it is taken, so a renewal running meanwhile does not miss it.
        lock(&self.shared.live).insert(id, tenant);
        let taken = leases::take(&self.db, tenant, id, LEASE_TTL, self.max).await;
        if !matches!(taken, Ok(true)) {
            // Nothing to end in the database.
            lock(&self.shared.live).remove(&id);
        }
        match taken {
            Ok(true) => Ok(Some(Lease {
                tenant,
                id,
                shared: self.shared.clone(),
            })),
            Ok(false) => Err(None),
            Err(e) => Err(Some(e)),
        }
    }
}

/// Ends the leases of ended subscriptions as soon as they end, and renews the live ones every
/// [`RENEW_EVERY`]; stops once the process's leases are dropped (the schema is gone).
async fn maintain(db: Db, shared: Weak<Shared>) {
    let mut renewed_at = tokio::time::Instant::now();
    loop {
        let Some(s) = shared.upgrade() else { return };
        let _ = tokio::time::timeout(RENEW_EVERY, s.wake.notified()).await;
        let ended = std::mem::take(&mut *lock(&s.ended));
        for (tenant, lease) in ended {
            if let Err(e) = leases::end(&db, tenant, lease).await {
                tracing::warn!(error = %e, "could not end a subscription lease; it expires");
            }
        }
        if renewed_at.elapsed() < RENEW_EVERY {
            continue;
        }
        renewed_at = tokio::time::Instant::now();
        let live: Vec<(Uuid, Uuid)> = lock(&s.live).iter().map(|(l, t)| (*t, *l)).collect();
        drop(s);
        for chunk in live.chunks(RENEW_CHUNK) {
            match leases::renew(&db, chunk, LEASE_TTL).await {
                Ok(n) if n < chunk.len() as u64 => {
                    tracing::warn!(
                        lost = chunk.len() as u64 - n,
                        "subscription leases expired before their renewal"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not renew subscription leases"),
            }
        }
    }
}
