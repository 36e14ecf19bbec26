//! The dashboards of seeds 000, 003 and 004, computed from the facts: `analytics` (time
//! buckets), member statistics and ticket statistics. Each is one statement in the request's
//! tenant-scoped transaction, so row-level security decides what is aggregated; nothing is
//! stored or kept in step.
//!
//! Range and bucket limits are checked by the API before anything runs; the helpers here
//! ([`Bucket::count`], [`is_time_zone`]) are what it checks with.

mod analytics;
mod members;
mod tickets;

use chrono::{DateTime, Datelike, Utc};
use sqlx::Connection;

pub use analytics::{analytics, analytics_params, AnalyticsRow, ANALYTICS_SQL};
pub use members::{member_statistics, MemberStatisticsRow};
pub use tickets::{ticket_statistics, TicketStatisticsRow};

use crate::{DbError, TenantTx};

/// The size of an `analytics` period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// An hour (local hours: a DST change gives a 23- or 25-hour day).
    Hour,
    /// A local calendar day.
    Day,
    /// A local ISO week, Monday to Sunday.
    Week,
    /// A local calendar month.
    Month,
}

impl Bucket {
    /// Its `date_trunc` unit.
    pub fn unit(self) -> &'static str {
        match self {
            Bucket::Hour => "hour",
            Bucket::Day => "day",
            Bucket::Week => "week",
            Bucket::Month => "month",
        }
    }

    /// The step between bucket starts, as an interval literal.
    pub fn step(self) -> &'static str {
        match self {
            Bucket::Hour => "1 hour",
            Bucket::Day => "1 day",
            Bucket::Week => "7 days",
            Bucket::Month => "1 month",
        }
    }

    /// How many buckets `[from, to)` touches, counted in UTC (a zone moves the cuts, not
    /// their number, except by one at a DST change). Exact for UTC; the limit it is checked
    /// against is far from where one bucket matters.
    pub fn count(self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        if to <= from {
            return 0;
        }
        let last = to - chrono::Duration::microseconds(1);
        match self {
            Bucket::Hour => {
                last.timestamp().div_euclid(3600) - from.timestamp().div_euclid(3600) + 1
            }
            Bucket::Day => {
                i64::from(
                    last.date_naive().num_days_from_ce() - from.date_naive().num_days_from_ce(),
                ) + 1
            }
            Bucket::Week => {
                let monday = |d: DateTime<Utc>| {
                    i64::from(d.date_naive().num_days_from_ce())
                        - i64::from(d.weekday().num_days_from_monday())
                };
                (monday(last) - monday(from)) / 7 + 1
            }
            Bucket::Month => {
                let months = |d: DateTime<Utc>| i64::from(d.year()) * 12 + i64::from(d.month0());
                months(last) - months(from) + 1
            }
        }
    }
}

/// Whether PostgreSQL knows `zone` (an IANA name such as `Europe/Prague`, an abbreviation, or
/// a POSIX offset): it is tried in a savepoint, so an unknown one leaves the request's
/// transaction usable.
pub async fn is_time_zone(tx: &mut TenantTx, zone: &str) -> Result<bool, DbError> {
    let mut sp = tx.conn().begin().await?;
    let tried = sqlx::query("SELECT now() AT TIME ZONE $1")
        .bind(zone)
        .execute(&mut *sp)
        .await;
    match tried {
        Ok(_) => {
            sp.commit().await?;
            Ok(true)
        }
        // invalid_parameter_value: "time zone … not recognized"
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("22023") => {
            sp.rollback().await?;
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
            .single()
            .expect("valid")
    }

    #[test]
    fn bucket_counts_include_partial_buckets_at_both_ends() {
        assert_eq!(Bucket::Day.count(at(2025, 1, 1, 0), at(2025, 1, 2, 0)), 1);
        assert_eq!(Bucket::Day.count(at(2025, 1, 1, 12), at(2025, 1, 2, 1)), 2);
        assert_eq!(Bucket::Day.count(at(2025, 1, 1, 0), at(2025, 4, 1, 0)), 90);
        assert_eq!(Bucket::Hour.count(at(2025, 1, 1, 0), at(2025, 1, 2, 0)), 24);
        // 2025-01-01 is a Wednesday: its week and the next two.
        assert_eq!(Bucket::Week.count(at(2025, 1, 1, 0), at(2025, 1, 15, 0)), 3);
        assert_eq!(
            Bucket::Month.count(at(2025, 1, 31, 0), at(2025, 3, 1, 0)),
            2
        );
        assert_eq!(Bucket::Month.count(at(2025, 1, 1, 0), at(2025, 1, 1, 0)), 0);
    }
}
