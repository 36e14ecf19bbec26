//! Deterministic demo and benchmark data. (Being written: see the seed generator.)

use std::fmt;
use std::time::Duration;

use uuid::Uuid;

use crate::{Db, DbError};

/// The demo tenant's fixed id, so development tokens and docs can name it.
pub const DEMO_TENANT_ID: Uuid = Uuid::from_u128(0x0000_0000_0000_4000_8000_0000_0000_d311);

/// How much to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedSpec {
    /// Number of tenants (the first is the demo tenant).
    pub tenants: u32,
    /// Customers per tenant.
    pub customers_per_tenant: u32,
    /// Bookings per customer.
    pub bookings_per_customer: u32,
    /// Calls per booking.
    pub calls_per_booking: u32,
    /// SMS messages per call.
    pub sms_per_call: u32,
}

impl SeedSpec {
    /// A small data set for the embedded development server.
    pub fn demo() -> Self {
        Self {
            tenants: 1,
            customers_per_tenant: 50,
            bookings_per_customer: 3,
            calls_per_booking: 2,
            sms_per_call: 2,
        }
    }
}

/// What a seed run wrote and how fast.
#[derive(Debug, Clone)]
pub struct SeedReport {
    /// Rows written per table.
    pub tables: Vec<(&'static str, u64)>,
    /// Wall time of the whole run.
    pub elapsed: Duration,
}

impl SeedReport {
    /// Total rows written.
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|(_, n)| n).sum()
    }
}

impl fmt::Display for SeedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        write!(
            f,
            "seeded {} rows in {:.2}s ({:.0} rows/s)",
            self.rows(),
            secs,
            self.rows() as f64 / secs
        )
    }
}

/// Generates `spec`'s data.
pub async fn run(_db: &Db, _spec: &SeedSpec) -> Result<SeedReport, DbError> {
    Ok(SeedReport {
        tables: vec![],
        elapsed: Duration::ZERO,
    })
}

/// Seeds the demo tenant when it does not exist yet; `None` when it already did.
pub async fn seed_demo_if_empty(_db: &Db, _spec: &SeedSpec) -> Result<Option<SeedReport>, DbError> {
    Ok(None)
}
