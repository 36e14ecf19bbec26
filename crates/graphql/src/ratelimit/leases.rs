//! The process side of subscription holds ([`frontdesk_db::leases`]): the process is one
//! holder with a random id and keeps, per tenant, the number of its live subscriptions. A
//! subscription start takes a slot in the database (one statement on the tenant's row of this
//! process); the end of its stream decrements the count in memory and queues a release; one
//! background task per process sends the releases as they come and renews every row of the
//! process every [`RENEW_EVERY`] with the counts in memory.
//!
//! The database's count of a tenant's row is this process's live count plus the releases not
//! sent yet. A release that fails leaves it too high (stricter, never looser) until the next
//! renewal sets it right; the rows of a process that died expire within [`LEASE_TTL`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use frontdesk_db::{leases, Db, DbError};
use tokio::sync::{Notify, RwLock};
use uuid::Uuid;

/// How long a process's holds count without renewal: how long the subscriptions of a dead
/// process keep counting against their tenant.
pub const LEASE_TTL: Duration = Duration::from_secs(30);
/// How often the holds are renewed: three chances before they expire.
const RENEW_EVERY: Duration = Duration::from_secs(10);
/// Most tenants renewed by one statement.
const RENEW_CHUNK: usize = 5_000;

/// Subscription holds of one process, `max` per tenant (0 = no limit, and nothing is held).
pub(crate) struct TenantLeases {
    db: Db,
    max: u32,
    shared: Arc<Shared>,
    task: OnceLock<()>,
}

struct Shared {
    /// This process's id in `app.subscription_holds`.
    holder: Uuid,
    counts: Mutex<Counts>,
    /// Held shared by takes in flight, exclusively by a renewal: a renewal never reads the
    /// counts between a take's commit and its count in memory.
    renewal: RwLock<()>,
    wake: Notify,
}

#[derive(Default)]
struct Counts {
    /// Live subscriptions by tenant. A tenant stays (at 0) until a renewal deleted its row.
    live: HashMap<Uuid, u32>,
    /// Ended subscriptions by tenant whose release is not sent yet.
    released: HashMap<Uuid, u32>,
}

/// A held slot of a tenant's subscription limit, given back when dropped.
pub(crate) struct Lease {
    tenant: Uuid,
    shared: Arc<Shared>,
}

impl Drop for Lease {
    fn drop(&mut self) {
        {
            let mut c = lock(&self.shared.counts);
            if let Some(n) = c.live.get_mut(&self.tenant) {
                *n = n.saturating_sub(1);
            }
            *c.released.entry(self.tenant).or_default() += 1;
        }
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
            shared: Arc::new(Shared {
                holder: Uuid::new_v4(),
                counts: Mutex::default(),
                renewal: RwLock::new(()),
                wake: Notify::new(),
            }),
            task: OnceLock::new(),
        }
    }

    /// The tenant limit, when there is one.
    pub(crate) fn max(&self) -> Option<u32> {
        (self.max > 0).then_some(self.max)
    }

    /// A slot for a new subscription of `tenant`: `Ok(None)` without a limit, `Ok(Some)` when
    /// taken, `Err(None)` when the tenant holds the maximum already.
    pub(crate) async fn take(&self, tenant: Uuid) -> Result<Option<Lease>, Option<DbError>> {
        if self.max == 0 {
            return Ok(None);
        }
        self.task.get_or_init(|| {
            tokio::spawn(maintain(self.db.clone(), Arc::downgrade(&self.shared)));
        });
        let _taking = self.shared.renewal.read().await;
        let taken = leases::take(&self.db, tenant, self.shared.holder, LEASE_TTL, self.max).await;
        match taken {
            Ok(true) => {
                *lock(&self.shared.counts).live.entry(tenant).or_default() += 1;
                Ok(Some(Lease {
                    tenant,
                    shared: self.shared.clone(),
                }))
            }
            Ok(false) => Err(None),
            Err(e) => Err(Some(e)),
        }
    }
}

/// Sends the releases of ended subscriptions as soon as they end, and renews the process's
/// rows every [`RENEW_EVERY`]; stops once the process's holds are dropped (the schema is gone).
async fn maintain(db: Db, shared: Weak<Shared>) {
    let mut renewed_at = tokio::time::Instant::now();
    loop {
        let Some(s) = shared.upgrade() else { return };
        let _ = tokio::time::timeout(RENEW_EVERY, s.wake.notified()).await;
        if renewed_at.elapsed() >= RENEW_EVERY {
            renewed_at = tokio::time::Instant::now();
            renew(&db, &s).await;
            continue;
        }
        let released = std::mem::take(&mut lock(&s.counts).released);
        for (tenant, n) in released {
            if let Err(e) = leases::release(&db, tenant, s.holder, n).await {
                tracing::warn!(
                    error = %e,
                    "could not release subscription holds; the next renewal corrects them"
                );
            }
        }
    }
}

/// Sets every row of the process to its live count (which covers the releases not sent yet),
/// deleting the rows of tenants without live subscriptions.
async fn renew(db: &Db, s: &Shared) {
    let _renewing = s.renewal.write().await;
    let counts: Vec<(Uuid, u32)> = {
        let mut c = lock(&s.counts);
        c.released.clear();
        c.live.iter().map(|(t, n)| (*t, *n)).collect()
    };
    let mut renewed = true;
    for chunk in counts.chunks(RENEW_CHUNK) {
        match leases::renew(db, s.holder, chunk, LEASE_TTL).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(lost = n, "subscription holds expired before their renewal"),
            Err(e) => {
                renewed = false;
                tracing::warn!(error = %e, "could not renew subscription holds");
            }
        }
    }
    if renewed {
        // Rows deleted: forget their tenants, unless a subscription came or went since.
        let mut c = lock(&s.counts);
        for (tenant, n) in counts {
            if n == 0 && c.live.get(&tenant) == Some(&0) && !c.released.contains_key(&tenant) {
                c.live.remove(&tenant);
            }
        }
    }
}
