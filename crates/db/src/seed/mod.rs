//! Deterministic demo and benchmark data (`frontdesk seed`, and the embedded server's demo
//! tenant).
//!
//! Every row is generated inside PostgreSQL by set-based `INSERT … SELECT … FROM
//! generate_series(…)` statements in one tenant-scoped transaction ([`Db::begin_tenant`]) per
//! tenant, one tenant per CPU core at a time. Rows are pure functions of (tenant, row index):
//! ids encode the tenant index, the table and the row index (`sql::id`), children compute their
//! parents' ids from their own index, values come from fixed vocabularies picked by arithmetic,
//! and timestamps are offsets from a fixed epoch (2025-01-01 UTC; the data's "now" is
//! 2026-01-01). The same [`SeedSpec`] always gives the same rows; only `updated_at` of rows whose
//! counters are set after insertion (customers, conversations, memberships) is the run's time.
//!
//! Speed comes from the shape of the SQL: the customer graph is generated top-down (each
//! customer's, booking's and call's facts computed once, children nested below them, no joins),
//! ids ascend with the row index so every id-keyed index is appended to, and the big tables are
//! written in statements of about `CHUNK_ROWS` rows. What remains is what the schema asks of
//! every row: generated `tsvector`s, GIN and B-tree entries, composite foreign-key checks.
//!
//! The audit trail (migration 0022) gets one `created` entry per inserted row either way. With
//! [`run`] the `audit_row` trigger writes them, a PL/pgSQL call and a one-row insert per row,
//! which used to be most of the seed's time. [`run_setwise`] (what `frontdesk seed` uses) has
//! the owner register each tenant's transaction (migration 0030) and wraps every insert into an
//! audited table as `WITH written AS (INSERT … RETURNING *) SELECT app.audit_created(…)`,
//! which writes the same entries set-wise in the same statement while the trigger skips its
//! INSERT entries in that transaction (UPDATE and DELETE entries stay the trigger's).
//!
//! Re-running is safe: each tenant's transaction first deletes what an earlier run left (the
//! seeded users, then the tenant row, whose deletion cascades to its data), so a failed run
//! leaves the previous data intact.
//!
//! Volumes per tenant for `N` customers, `B` bookings per customer, `C` calls per booking and
//! `S` SMS per call: customers `N`; bookings `N·B`; calls `N·B·C`; SMS `N·B·C·S`;
//! conversations `⌈N/2⌉` with 4 messages each, a note on every other one, a read marker each and
//! an OpenAI thread on every third; leads `⌈N/5⌉`; demo requests `max(2, ⌈N/20⌉)` with a note
//! each; tickets `max(2, ⌈N/10⌉)` with 2 notes each and a link on every third; audit entries
//! `10 + ⌈N/4⌉`; and fixed per tenant: 10 staff users and memberships, 3 assistants, 3 system
//! prompts, 20 FAQs, 4 integrations, 8 settings, 1 ticket counter, 2 auth accounts, 2 auth
//! sessions and 1 verification token. `platform_demo_data` is global reference data the
//! runtime role may only read, so the seed leaves it alone.

mod calls;
mod config;
mod counters;
mod crm;
mod graph;
mod identity;
mod inbox;
mod people;
mod plan;
mod profile;
mod sql;
mod tickets;

use std::fmt;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use sqlx::postgres::PgArguments;
use sqlx::{PgPool, Postgres, Row};
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::{Db, DbError, TenantCtx, TenantTx};
use plan::TenantPlan;

/// The demo tenant's fixed id, so development tokens and docs can name it.
pub const DEMO_TENANT_ID: Uuid = Uuid::from_u128(0x0000_0000_0000_4000_8000_0000_0000_d311);

/// The password of every seeded user (hashed once with argon2id; the PHC string is reused).
/// The demo tenant's owner is `klara.dvorakova@salon-bella.example`.
pub const DEMO_PASSWORD: &str = "frontdesk-demo";

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

    /// The id tenant `index` of a seed gets (`DEMO_TENANT_ID` for 0).
    pub fn tenant_id(index: u32) -> Uuid {
        plan::tenant_id(index)
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

    /// Rows written to `table` (0 when it was not written).
    pub fn rows_of(&self, table: &str) -> u64 {
        self.tables
            .iter()
            .find(|(t, _)| *t == table)
            .map_or(0, |(_, n)| *n)
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

/// Rows written per table, in the order tables were first written.
#[derive(Debug, Default)]
struct Counts(Vec<(&'static str, u64)>);

impl Counts {
    fn add(&mut self, table: &'static str, rows: u64) {
        match self.0.iter_mut().find(|(t, _)| *t == table) {
            Some((_, n)) => *n += rows,
            None => self.0.push((table, rows)),
        }
    }

    fn merge(&mut self, other: Counts) {
        for (table, rows) in other.0 {
            self.add(table, rows);
        }
    }
}

type Query<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

impl TenantPlan {
    /// `sql` with the parameters every seed statement receives bound (see `sql::PARAMS`);
    /// statement-specific parameters follow from `$22`.
    fn query<'q>(&self, sql: &'q str) -> Query<'q> {
        let spec = &self.spec;
        let p = self.profile;
        sqlx::query(sql)
            .bind(self.id)
            .bind(i64::from(spec.customers_per_tenant))
            .bind(i64::from(spec.bookings_per_customer))
            .bind(i64::from(spec.calls_per_booking))
            .bind(i64::from(spec.sms_per_call))
            .bind(p.nationality())
            .bind(p.services.iter().map(|s| s.0).collect::<Vec<_>>())
            .bind(p.services.iter().map(|s| s.1).collect::<Vec<_>>())
            .bind(p.services.iter().map(|s| s.2).collect::<Vec<_>>())
            .bind(p.currency)
            .bind(p.timezone)
            .bind(self.name.clone())
            .bind(self.domain.clone())
            .bind(self.password_hash.clone())
            .bind(i64::from(self.index))
            .bind(p.city)
            .bind(p.country)
            .bind(p.language)
            .bind(p.assistant_industry == "medical")
            .bind(p.latitude)
            .bind(p.longitude)
    }
}

/// Runs one seed statement, `sql` with the common parameters and those `bind` adds, and counts
/// its rows under `table`. An insert into an audited table also writes the rows' `created`
/// entries when the tenant's transaction audits set-wise (see [`audited`]).
async fn insert<F>(
    tx: &mut TenantTx,
    plan: &TenantPlan,
    counts: &mut Counts,
    table: &'static str,
    sql: &str,
    bind: F,
) -> Result<(), DbError>
where
    F: for<'q> FnOnce(Query<'q>) -> Query<'q>,
{
    let wrapped = audited(plan, table, sql);
    let rows = match &wrapped {
        Some(sql) => execute_counted(tx, table, bind(plan.query(sql))).await?,
        None => execute(tx, table, bind(plan.query(sql))).await?,
    };
    counts.add(table, rows);
    Ok(())
}

/// `sql`, an `INSERT` into `app.{table}` without `RETURNING`, as the statement that also writes
/// the `created` audit entries of the rows it inserts (`app.audit_created`, migration 0030) and
/// returns their number (one per row) — when the tenant's transaction audits set-wise and the
/// table is audited. `None`: run `sql` as it is (the trigger writes the entries, if any).
fn audited(plan: &TenantPlan, table: &str, sql: &str) -> Option<String> {
    plan.setwise.iter().any(|t| t == table).then(|| {
        format!(
            "WITH written AS ({sql}\n RETURNING *)
             SELECT app.audit_created('app.{table}', array_agg(to_jsonb(w))) FROM written w"
        )
    })
}

/// Runs one seed statement (`what` names it in the log) and returns the rows it affected.
async fn execute(tx: &mut TenantTx, what: &'static str, query: Query<'_>) -> Result<u64, DbError> {
    let started = Instant::now();
    match query.execute(tx.conn()).await {
        Ok(done) => {
            let rows = done.rows_affected();
            let elapsed_ms = started.elapsed().as_millis() as u64;
            tracing::debug!(what, rows, elapsed_ms, "seed statement");
            Ok(rows)
        }
        Err(e) => {
            tracing::error!(what, error = %e, "a seed statement failed");
            Err(e.into())
        }
    }
}

/// Runs one statement built by [`audited`] and returns the rows it inserted (the count it
/// returns).
async fn execute_counted(
    tx: &mut TenantTx,
    what: &'static str,
    query: Query<'_>,
) -> Result<u64, DbError> {
    let started = Instant::now();
    let counted = match query.fetch_one(tx.conn()).await {
        Ok(row) => row.try_get::<i64, _>(0),
        Err(e) => Err(e),
    };
    match counted {
        Ok(rows) => {
            let elapsed_ms = started.elapsed().as_millis() as u64;
            tracing::debug!(what, rows, elapsed_ms, "seed statement (set-wise audit)");
            Ok(u64::try_from(rows).unwrap_or_default())
        }
        Err(e) => {
            tracing::error!(what, error = %e, "a seed statement failed");
            Err(e.into())
        }
    }
}

/// Rows a chunked statement aims to write: enough to amortise planning (a millisecond or two),
/// few enough that no statement runs long (the driver logs statements over a second in full,
/// and a huge spec must not build one giant statement).
const CHUNK_ROWS: u64 = 2_000;

/// Runs `sql` over the top-level indexes `1..=total` in chunks, binding each chunk's first and
/// last index as `$22` and `$23`; one top-level index touches about `rows_each` rows. Returns
/// the rows affected (`counted`: the count each chunk's statement returns, see [`audited`]).
async fn execute_chunked(
    tx: &mut TenantTx,
    plan: &TenantPlan,
    what: &'static str,
    sql: &str,
    total: u64,
    rows_each: u64,
    counted: bool,
) -> Result<u64, DbError> {
    if rows_each == 0 {
        return Ok(0);
    }
    let step = (CHUNK_ROWS / rows_each).max(1);
    let (mut lo, mut rows) = (1, 0);
    while lo <= total {
        let hi = (lo + step - 1).min(total);
        // The spec's u32 factors keep every index far below i64::MAX.
        let first = i64::try_from(lo).unwrap_or(i64::MAX);
        let last = i64::try_from(hi).unwrap_or(i64::MAX);
        let query = plan.query(sql).bind(first).bind(last);
        rows += if counted {
            execute_counted(tx, what, query).await?
        } else {
            execute(tx, what, query).await?
        };
        lo = hi + 1;
    }
    Ok(rows)
}

/// [`execute_chunked`] for an insert, counting its rows under `table` (and writing their
/// `created` entries set-wise when the transaction does, see [`audited`]).
async fn insert_chunked(
    tx: &mut TenantTx,
    plan: &TenantPlan,
    counts: &mut Counts,
    table: &'static str,
    sql: &str,
    total: u64,
    rows_each: u64,
) -> Result<(), DbError> {
    let rows = match audited(plan, table, sql) {
        Some(sql) => execute_chunked(tx, plan, table, &sql, total, rows_each, true).await?,
        None => execute_chunked(tx, plan, table, sql, total, rows_each, false).await?,
    };
    counts.add(table, rows);
    Ok(())
}

/// Generates `spec`'s data, replacing what an earlier run with the same tenant indexes wrote.
/// The audit trigger writes the `created` entry of every inserted row, row by row.
pub async fn run(db: &Db, spec: &SeedSpec) -> Result<SeedReport, DbError> {
    run_with(db, None, spec).await
}

/// [`run`], with the `created` audit entries of each tenant's transaction written set-wise by
/// the inserting statements themselves (migration 0030), which is several times faster.
/// `owner` is a pool logged in as the database owner: only the owner can register a
/// transaction for that. On a distributed database (where the trigger runs on the worker
/// nodes, whose transaction ids differ from the coordinator's) this is [`run`].
pub async fn run_setwise(db: &Db, owner: &PgPool, spec: &SeedSpec) -> Result<SeedReport, DbError> {
    run_with(db, Some(owner), spec).await
}

async fn run_with(db: &Db, owner: Option<&PgPool>, spec: &SeedSpec) -> Result<SeedReport, DbError> {
    let started = Instant::now();
    let hash = demo_password_hash().await?;
    let owner = owner.filter(|_| !db.is_distributed()).cloned();
    // The work is in PostgreSQL: one tenant per server core at a time keeps every core busy.
    let lanes = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 8) as u32;
    let mut totals = Counts::default();
    let mut running = JoinSet::new();
    let mut next = 0;
    loop {
        while next < spec.tenants && (running.len() as u32) < lanes {
            let plan = TenantPlan::new(next, spec, &hash);
            let db = db.clone();
            let owner = owner.clone();
            running.spawn(async move { seed_tenant(&db, owner.as_ref(), plan).await });
            next += 1;
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        match joined {
            Ok(counts) => totals.merge(counts?),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => return Err(DbError::Sqlx(sqlx::Error::WorkerCrashed)),
        }
    }
    Ok(SeedReport {
        tables: totals.0,
        elapsed: started.elapsed(),
    })
}

/// Seeds the demo tenant when it does not exist yet; `None` when it already did.
pub async fn seed_demo_if_empty(db: &Db, spec: &SeedSpec) -> Result<Option<SeedReport>, DbError> {
    let mut tx = db
        .begin_tenant(TenantCtx {
            tenant_id: DEMO_TENANT_ID,
            user_id: None,
        })
        .await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM app.tenants WHERE id = $1)")
            .bind(DEMO_TENANT_ID)
            .fetch_one(tx.conn())
            .await?;
    tx.commit().await?;
    if exists {
        return Ok(None);
    }
    let spec = SeedSpec {
        tenants: 1,
        ..*spec
    };
    run(db, &spec).await.map(Some)
}

/// Everything for one tenant: one transaction for its data, then the user-scoped rows. With
/// `owner`, the transaction writes its `created` audit entries set-wise ([`register_setwise`]).
async fn seed_tenant(
    db: &Db,
    owner: Option<&PgPool>,
    mut plan: TenantPlan,
) -> Result<Counts, DbError> {
    let mut counts = Counts::default();
    identity::clear_users(db, &plan).await?;
    let mut tx = db
        .begin_tenant(TenantCtx {
            tenant_id: plan.id,
            user_id: None,
        })
        .await?;
    // Bulk statements outlast the request timeout; a seed needs no durable-on-return commit;
    // JIT compilation costs more than it saves on these one-pass statements; and memoizing the
    // per-row lateral subqueries (keyed by dozens of columns, almost never hit) only adds work.
    // Seeded history is not news: no inbox events (migration 0008) for it. The tenant's rows
    // are uncommitted, so the statistics hold its id only if an earlier run left it there: a
    // plan made for an id they lack estimates each of its lookups at one row and may scan all
    // of the tenant's rows per probe (an index led by `tenant_id` alone, filtered). Generic
    // plans estimate an average tenant instead.
    sqlx::query(
        "SELECT set_config('statement_timeout', '0', true),
                set_config('plan_cache_mode', 'force_generic_plan', true),
                set_config('frontdesk.suppress_events', 'on', true),
                set_config('synchronous_commit', 'off', true),
                set_config('jit', 'off', true),
                set_config('work_mem', '64MB', true),
                set_config('enable_memoize', 'off', true)",
    )
    .execute(tx.conn())
    .await?;
    let registered = match owner {
        Some(owner) => Some(register_setwise(&mut tx, owner, &mut plan).await?),
        None => None,
    };
    let written = match fill_tenant(&mut tx, db, &plan, &mut counts).await {
        Ok(staff) => tx.commit().await.map(|()| staff),
        Err(e) => Err(e),
    };
    if let (Some(owner), Some(xact)) = (owner, registered) {
        unregister_setwise(owner, &xact).await;
    }
    let staff = written?;
    identity::create_user_scoped(db, &plan, &staff, &mut counts).await?;
    Ok(counts)
}

/// The tenant's data, in its transaction; returns the staff's user ids.
async fn fill_tenant(
    tx: &mut TenantTx,
    db: &Db,
    plan: &TenantPlan,
    counts: &mut Counts,
) -> Result<Vec<Uuid>, DbError> {
    identity::clear(tx, plan).await?;
    let staff = identity::create(tx, plan, counts).await?;
    config::create(tx, plan, db.keyring()?, counts).await?;
    graph::create_customers(tx, plan, counts).await?;
    inbox::create(tx, plan, counts).await?;
    graph::create_bookings(tx, plan, counts).await?;
    calls::create(tx, plan, counts).await?;
    crm::create(tx, plan, counts).await?;
    tickets::create(tx, plan, counts).await?;
    counters::refresh(tx, plan).await?;
    announce_conversations(tx, counts).await?;
    Ok(staff)
}

/// Registers the tenant's transaction for set-wise `created` entries (migration 0030) through
/// the owner's pool, committed before the transaction inserts anything, and turns the mode on
/// in it; `plan.setwise` becomes the audited tables, whose inserts then write their entries
/// themselves ([`audited`]). Returns the transaction id, to unregister it afterwards.
async fn register_setwise(
    tx: &mut TenantTx,
    owner: &PgPool,
    plan: &mut TenantPlan,
) -> Result<String, DbError> {
    let (xact, tables): (String, Vec<String>) = sqlx::query_as(
        "SELECT pg_current_xact_id()::text,
                coalesce(array_agg(c.relname::text ORDER BY c.relname), '{}')
           FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
          WHERE c.relnamespace = 'app'::regnamespace AND t.tgname = 'audit_row'
            AND t.tgenabled <> 'D'",
    )
    .fetch_one(tx.conn())
    .await?;
    sqlx::query("SELECT app.register_setwise_audit($1::xid8)")
        .bind(&xact)
        .execute(owner)
        .await?;
    sqlx::query("SELECT set_config('frontdesk.audit_setwise', 'on', true)")
        .execute(tx.conn())
        .await?;
    plan.setwise = tables;
    Ok(xact)
}

/// Removes a registration once its transaction has ended. A failure only leaves a row that the
/// next registration removes (it names a transaction that can never run again).
async fn unregister_setwise(owner: &PgPool, xact: &str) {
    if let Err(e) = sqlx::query("SELECT app.unregister_setwise_audit($1::xid8)")
        .bind(xact)
        .execute(owner)
        .await
    {
        tracing::warn!(error = %e, "could not unregister the seed's transaction (harmless)");
    }
}

/// Emits one `conversation_updated` event per seeded conversation (most recent activity last),
/// so the event log starts with the inbox as seeded: a client that subscribes from the very
/// beginning learns every conversation once. Messages stay without events (their history is
/// read through `Conversation.messages`).
async fn announce_conversations(tx: &mut TenantTx, counts: &mut Counts) -> Result<(), DbError> {
    sqlx::query("SELECT set_config('frontdesk.suppress_events', 'off', true)")
        .execute(tx.conn())
        .await?;
    let events = sqlx::query(
        "INSERT INTO app.inbox_events (kind, conversation_id, channel)
         SELECT 'conversation_updated', id, channel FROM app.conversations
          ORDER BY coalesce(last_message_at, created_at), id",
    )
    .execute(tx.conn())
    .await?
    .rows_affected();
    counts.add("inbox_events", events);
    // The commit numbers them through the tenant's counter row.
    counts.add("event_counters", u64::from(events > 0));
    Ok(())
}

static DEMO_PASSWORD_HASH: OnceLock<String> = OnceLock::new();

/// The PHC string of [`DEMO_PASSWORD`], computed once per process (off the async threads).
/// The salt is fixed so that the seeded users are reproducible too; the password is public.
async fn demo_password_hash() -> Result<String, DbError> {
    if let Some(hash) = DEMO_PASSWORD_HASH.get() {
        return Ok(hash.clone());
    }
    let hash = tokio::task::spawn_blocking(hash_demo_password)
        .await
        .map_err(|_| DbError::Sqlx(sqlx::Error::WorkerCrashed))??;
    Ok(DEMO_PASSWORD_HASH.get_or_init(|| hash).clone())
}

fn hash_demo_password() -> Result<String, DbError> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let encode = |e: argon2::password_hash::Error| DbError::Sqlx(sqlx::Error::Encode(e.into()));
    let salt = SaltString::encode_b64(b"frontdesk-demo-seed").map_err(encode)?;
    let hash = argon2::Argon2::default()
        .hash_password(DEMO_PASSWORD.as_bytes(), &salt)
        .map_err(encode)?;
    Ok(hash.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_password_verifies_against_its_hash() {
        use argon2::password_hash::{PasswordHash, PasswordVerifier};
        let phc = hash_demo_password().expect("hash");
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        let parsed = PasswordHash::new(&phc).expect("parse");
        assert!(argon2::Argon2::default()
            .verify_password(DEMO_PASSWORD.as_bytes(), &parsed)
            .is_ok());
        assert_eq!(phc, hash_demo_password().expect("hash again"));
    }

    #[test]
    fn tenant_ids_start_at_the_demo_tenant() {
        assert_eq!(SeedSpec::tenant_id(0), DEMO_TENANT_ID);
        assert_ne!(SeedSpec::tenant_id(1), DEMO_TENANT_ID);
    }
}
