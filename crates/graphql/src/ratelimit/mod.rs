//! Rate limits: requests per second and a complexity budget per minute, per token and per
//! tenant, and live subscriptions per tenant. Refusals are `RATE_LIMITED` with
//! `extensions.retryAfter` (the HTTP layer adds 429 and `Retry-After`).
//!
//! Where the state lives, and why:
//! - Requests per second and complexity per minute are token buckets in each process's
//!   memory ([`buckets`]). Across N replicas behind a balancer a caller gets up to N times the
//!   configured rate in the worst case, about the configured rate when the balancer spreads
//!   them evenly. That is fine for what these limits are for (stopping one caller from
//!   swamping the service), and exactness would cost a database round trip on every request,
//!   the very load they protect against. Set them per replica accordingly.
//! - Subscriptions per tenant must be exact: a subscription holds resources for hours, and a
//!   tenant's plan allows so many. The count lives in PostgreSQL as one counted row per
//!   process and tenant ([`leases`], migration 0028), taken once per subscription start, so
//!   the cost is one statement per subscribe, not per request; a dead replica's holds expire.
//!
//! "Per token" is per principal (the user a token acts as, in its tenant): every token of one
//! member shares a bucket, so signing in again does not refill it. "Per tenant" adds up all of
//! a tenant's members. A request pays the member's bucket first, then the tenant's: a refusal
//! by the member's own bucket costs the rest of the tenant nothing. Anonymous requests are not
//! limited here (they reach only sign-in, which limits its attempts itself).
//!
//! Requests are charged when their document is parsed, complexity once it is validated (the
//! validated complexity async-graphql computes for `limit_complexity`): both before any
//! resolver runs, so a refused request costs no SQL.

mod buckets;
pub mod leases;

use std::time::Duration;

use frontdesk_db::Db;
use uuid::Uuid;

use crate::{ApiError, Principal};
use buckets::{Buckets, Refused};

/// The configured limits; 0 turns a limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Requests (operations: each one of a batch counts) per second of one member's tokens.
    pub token_requests_per_second: u32,
    /// Requests per second of all of a tenant's members.
    pub tenant_requests_per_second: u32,
    /// Query complexity per minute of one member's tokens.
    pub token_complexity_per_minute: u32,
    /// Query complexity per minute of all of a tenant's members.
    pub tenant_complexity_per_minute: u32,
    /// Live subscriptions of a tenant, across every replica.
    pub tenant_subscriptions: u32,
}

impl Default for RateLimits {
    /// Generous: well above what one screen, one integration or the benchmarks need, so only
    /// a runaway client meets them. Complexity budgets are off: a useful budget depends on
    /// the plan, and any fixed one would throttle the nested-read benchmark (one token).
    fn default() -> Self {
        Self {
            token_requests_per_second: 5_000,
            tenant_requests_per_second: 20_000,
            token_complexity_per_minute: 0,
            tenant_complexity_per_minute: 0,
            tenant_subscriptions: 20_000,
        }
    }
}

impl RateLimits {
    /// Every limit off.
    pub fn off() -> Self {
        Self {
            token_requests_per_second: 0,
            tenant_requests_per_second: 0,
            token_complexity_per_minute: 0,
            tenant_complexity_per_minute: 0,
            tenant_subscriptions: 0,
        }
    }
}

/// A member: the key of "per token" buckets.
type Member = (Uuid, Uuid);

/// The limits' state in this process.
pub(crate) struct Limiter {
    token_requests: Buckets<Member>,
    tenant_requests: Buckets<Uuid>,
    token_complexity: Buckets<Member>,
    tenant_complexity: Buckets<Uuid>,
    pub(crate) subscriptions: leases::TenantLeases,
}

/// How long a client is told to wait for a subscription slot: none frees at a known time.
const SUBSCRIPTION_RETRY_AFTER: u32 = 5;

impl Limiter {
    pub(crate) fn new(limits: RateLimits, db: Db) -> Self {
        let second = Duration::from_secs(1);
        let minute = Duration::from_secs(60);
        Self {
            token_requests: Buckets::new(limits.token_requests_per_second, second),
            tenant_requests: Buckets::new(limits.tenant_requests_per_second, second),
            token_complexity: Buckets::new(limits.token_complexity_per_minute, minute),
            tenant_complexity: Buckets::new(limits.tenant_complexity_per_minute, minute),
            subscriptions: leases::TenantLeases::new(db, limits.tenant_subscriptions),
        }
    }

    /// Charges one request to the caller and their tenant.
    pub(crate) fn request(&self, p: &Principal) -> Result<(), ApiError> {
        pay(&self.token_requests, &self.tenant_requests, p, 1).map_err(|(whose, r)| {
            refusal(r, format!("too many requests for this {whose}; slow down"))
        })
    }

    /// Charges an operation's validated complexity to the caller and their tenant.
    pub(crate) fn complexity(&self, p: &Principal, cost: usize) -> Result<(), ApiError> {
        let cost = u32::try_from(cost).unwrap_or(u32::MAX);
        pay(&self.token_complexity, &self.tenant_complexity, p, cost).map_err(|(whose, r)| {
            let message = match r {
                Refused::Never => format!(
                    "the operation's complexity ({cost}) is more than the per-minute budget of \
                     this {whose}; ask for less (smaller pages, fewer nested lists)"
                ),
                Refused::For(_) => format!(
                    "this {whose} has used its query complexity budget for now (the operation \
                     costs {cost})"
                ),
            };
            refusal(r, message)
        })
    }

    /// Refusal of a subscription of a tenant at its limit.
    pub(crate) fn subscriptions_full(max: u32) -> ApiError {
        ApiError::RetryLater {
            message: format!(
                "the tenant has {max} live subscriptions, its limit; complete one first"
            ),
            retry_after: SUBSCRIPTION_RETRY_AFTER,
        }
    }
}

/// Pays `n` from the member's bucket, then the tenant's; which refused, and how.
fn pay(
    member: &Buckets<Member>,
    tenant: &Buckets<Uuid>,
    p: &Principal,
    n: u32,
) -> Result<(), (&'static str, Refused)> {
    member
        .charge(&(p.tenant_id, p.user_id), n)
        .map_err(|r| ("token", r))?;
    tenant.charge(&p.tenant_id, n).map_err(|r| ("tenant", r))
}

fn refusal(refused: Refused, message: String) -> ApiError {
    let retry_after = match refused {
        // A charge larger than the bucket waits for a full bucket at least.
        Refused::Never => 60,
        Refused::For(wait) => u32::try_from(wait.as_secs_f64().ceil() as u64)
            .unwrap_or(u32::MAX)
            .max(1),
    };
    ApiError::RetryLater {
        message,
        retry_after,
    }
}
