//! Catalog lint: the tenancy invariants of DESIGN.md, checked against the migrated schema
//! itself, so a new table that forgets one fails here rather than in production.

mod common;

use frontdesk_db::sqlx;
use frontdesk_db::testing::TestDb;

/// Runs a query that lists offenders and asserts it lists none.
async fn assert_none(db: &TestDb, what: &str, sql: &str) -> anyhow::Result<()> {
    let offenders: Vec<String> = sqlx::query_scalar(sql).fetch_all(db.owner()).await?;
    assert!(offenders.is_empty(), "{what}: {offenders:?}");
    Ok(())
}

#[tokio::test]
async fn the_schema_has_the_tables_of_the_data_model() -> anyhow::Result<()> {
    let db = TestDb::new().await?;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT relname::text FROM pg_class WHERE relnamespace = 'app'::regnamespace AND relkind = 'r'",
    )
    .fetch_all(db.owner())
    .await?;
    for t in [
        "tenants",
        "users",
        "memberships",
        "auth_accounts",
        "auth_sessions",
        "verification_tokens",
        "customers",
        "bookings",
        "calls",
        "sms_messages",
        "conversations",
        "messages",
        "conversation_notes",
        "leads",
        "demo_requests",
        "tickets",
        "ticket_notes",
        "ticket_links",
        "assistants",
        "system_prompts",
        "faqs",
        "integrations",
        "tenant_settings",
        "audit_log",
    ] {
        assert!(tables.iter().any(|x| x == t), "missing table app.{t}");
    }
    Ok(())
}

#[tokio::test]
async fn every_table_has_rls_enabled_and_forced_and_a_policy() -> anyhow::Result<()> {
    let db = TestDb::new().await?;
    assert_none(
        &db,
        "tables without enabled+forced RLS or without a policy",
        "SELECT c.relname::text FROM pg_class c
         WHERE c.relnamespace = 'app'::regnamespace AND c.relkind IN ('r', 'p')
           AND (NOT c.relrowsecurity OR NOT c.relforcerowsecurity
                OR NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid))",
    )
    .await
}

#[tokio::test]
async fn every_tenant_table_policy_filters_on_the_current_tenant() -> anyhow::Result<()> {
    let db = TestDb::new().await?;
    assert_none(
        &db,
        "tenant tables with a policy that does not mention app.current_tenant_id()",
        // Policies `TO` the migrating owner only (0019, 0022: what its SECURITY DEFINER
        // functions need) never apply to the runtime role; every other one must filter.
        "SELECT c.relname || '.' || p.polname FROM pg_policy p
         JOIN pg_class c ON c.oid = p.polrelid
         WHERE c.relnamespace = 'app'::regnamespace
           AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id')
           AND (0 = ANY (p.polroles) OR 'frontdesk_app'::regrole = ANY (p.polroles))
           AND coalesce(pg_get_expr(p.polqual, p.polrelid), '') NOT LIKE '%current_tenant_id()%'",
    )
    .await
}

#[tokio::test]
async fn the_runtime_role_is_not_superuser_owner_or_rls_bypassing() -> anyhow::Result<()> {
    let db = TestDb::new().await?;
    let (sup, bypass, createrole, createdb): (bool, bool, bool, bool) = sqlx::query_as(
        "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = 'frontdesk_app'",
    )
    .fetch_one(db.owner())
    .await?;
    assert!(!sup && !bypass && !createrole && !createdb);
    assert_none(
        &db,
        "app objects owned by (or by a role granted to) frontdesk_app",
        "SELECT c.relname::text FROM pg_class c
         WHERE c.relnamespace = 'app'::regnamespace
           AND pg_has_role('frontdesk_app', c.relowner, 'MEMBER')",
    )
    .await?;
    // And the runtime login really is that role.
    let mut conn = db.runtime_connection().await?;
    let who: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(&mut conn)
        .await?;
    assert_eq!(who, "frontdesk_app");
    Ok(())
}

#[tokio::test]
async fn every_unique_key_on_a_tenant_table_includes_tenant_id() -> anyhow::Result<()> {
    let db = TestDb::new().await?;
    assert_none(
        &db,
        "unique indexes (and primary keys) without tenant_id",
        "SELECT i.indexrelid::regclass::text FROM pg_index i
         JOIN pg_class c ON c.oid = i.indrelid
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id'
         WHERE c.relnamespace = 'app'::regnamespace AND i.indisunique
           AND NOT a.attnum = ANY (i.indkey::int2[])",
    )
    .await
}

#[tokio::test]
async fn every_foreign_key_between_tenant_tables_includes_tenant_id() -> anyhow::Result<()> {
    let db = TestDb::new().await?;
    assert_none(
        &db,
        "foreign keys between tenant tables that do not pair tenant_id with tenant_id",
        "SELECT con.conname::text FROM pg_constraint con
         JOIN pg_attribute src ON src.attrelid = con.conrelid AND src.attname = 'tenant_id'
         JOIN pg_attribute dst ON dst.attrelid = con.confrelid AND dst.attname = 'tenant_id'
         WHERE con.contype = 'f' AND con.connamespace = 'app'::regnamespace
           AND NOT EXISTS (
             SELECT 1 FROM unnest(con.conkey, con.confkey) AS k(s, d)
             WHERE k.s = src.attnum AND k.d = dst.attnum)",
    )
    .await
}

#[tokio::test]
async fn every_btree_index_on_a_tenant_table_leads_with_tenant_id() -> anyhow::Result<()> {
    let db = TestDb::new().await?;
    assert_none(
        &db,
        "btree indexes on tenant tables whose first key is not tenant_id",
        "SELECT i.indexrelid::regclass::text FROM pg_index i
         JOIN pg_class c ON c.oid = i.indrelid
         JOIN pg_class ic ON ic.oid = i.indexrelid
         JOIN pg_am am ON am.oid = ic.relam
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id'
         WHERE c.relnamespace = 'app'::regnamespace AND am.amname = 'btree'
           AND i.indkey[0] <> a.attnum",
    )
    .await
}

#[tokio::test]
async fn every_view_is_security_invoker() -> anyhow::Result<()> {
    let db = TestDb::new().await?;
    assert_none(
        &db,
        "views that run with their owner's rights",
        "SELECT c.relname::text FROM pg_class c
         WHERE c.relnamespace = 'app'::regnamespace AND c.relkind = 'v'
           AND coalesce(array_to_string(c.reloptions, ','), '') !~ 'security_invoker=(true|on|1|yes)'",
    )
    .await
}

#[tokio::test]
async fn every_table_with_updated_at_keeps_it_current_with_a_trigger() -> anyhow::Result<()> {
    let db = TestDb::new().await?;
    assert_none(
        &db,
        "tables with updated_at but no BEFORE UPDATE trigger calling app.set_updated_at()",
        "SELECT c.relname::text FROM pg_class c
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'updated_at'
         WHERE c.relnamespace = 'app'::regnamespace AND c.relkind = 'r'
           AND NOT EXISTS (SELECT 1 FROM pg_trigger t
                           WHERE t.tgrelid = c.oid AND t.tgfoid = 'app.set_updated_at'::regproc)",
    )
    .await
}

/// A cascade or `SET NULL` on delete looks up the referencing rows by the foreign key's
/// columns; without an index that leads with them, each deleted row scans the whole table
/// (deleting a conversation of a few thousand messages took minutes before migration 0010).
#[tokio::test]
async fn every_foreign_key_has_an_index_leading_with_its_columns() -> anyhow::Result<()> {
    let db = TestDb::new().await?;
    assert_none(
        &db,
        "foreign keys without an index leading with their columns",
        "SELECT c.conrelid::regclass::text || '.' || c.conname
           FROM pg_constraint c
          WHERE c.contype = 'f' AND c.connamespace = 'app'::regnamespace
            AND NOT EXISTS (
              SELECT 1 FROM pg_index i
               WHERE i.indrelid = c.conrelid
                 AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey
                 AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] <@ c.conkey)",
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Citus-ready (migration 0026, docs/scaling.md): what a database distributed by `tenant_id`
// refuses or silently gets wrong. The distribution column is `tenant_id`, and `id` for
// `tenants` itself; the tables without either (`users` and the other identity tables,
// `tenant_slugs`) become reference tables.
// ---------------------------------------------------------------------------------------------

/// The distribution column of each distributed table, as the rules below read it.
const DISTRIBUTION_COLUMNS_SQL: &str = "
    SELECT c.oid AS relid, a.attnum AS col FROM pg_class c
    JOIN pg_attribute a ON a.attrelid = c.oid AND NOT a.attisdropped
     AND a.attname = CASE WHEN c.relname = 'tenants' THEN 'id' ELSE 'tenant_id' END
    WHERE c.relnamespace = 'app'::regnamespace AND c.relkind IN ('r', 'p')";

/// Citus refuses `SET NULL`/`SET DEFAULT` when the foreign key holds the distribution column
/// (it would null or reset the tenant itself); `app.set_null_on_delete` does the nulling.
#[tokio::test]
async fn no_foreign_key_holding_the_distribution_column_sets_null_or_default() -> anyhow::Result<()>
{
    let db = TestDb::new().await?;
    assert_none(
        &db,
        "foreign keys with ON DELETE/UPDATE SET NULL or SET DEFAULT over the distribution column \
         (declare them NO ACTION and call app.set_null_on_delete)",
        &format!(
            "WITH dist AS ({DISTRIBUTION_COLUMNS_SQL})
             SELECT con.conrelid::regclass::text || '.' || con.conname FROM pg_constraint con
             JOIN dist ON dist.relid = con.conrelid AND dist.col = ANY (con.conkey)
             WHERE con.contype = 'f' AND con.connamespace = 'app'::regnamespace
               AND (con.confdeltype IN ('n', 'd') OR con.confupdtype IN ('n', 'd'))"
        ),
    )
    .await
}

/// `app.null_references` must clear a link before its target is gone: BEFORE DELETE, except
/// for self-references, where it is AFTER DELETE and fires before the foreign key's own check
/// only because `FK_…` sorts before `RI_ConstraintTrigger_…` (migration 0026).
#[tokio::test]
async fn every_nulling_trigger_clears_links_before_the_foreign_key_check() -> anyhow::Result<()> {
    let db = TestDb::new().await?;
    assert_none(
        &db,
        "app.null_references triggers that are not named FK_<constraint> of an existing NO ACTION \
         foreign key, BEFORE DELETE (or, for a self-reference, AFTER DELETE sorting before RI_)",
        "SELECT t.tgrelid::regclass::text || '.' || t.tgname FROM pg_trigger t
         WHERE t.tgfoid = 'app.null_references'::regproc
           AND NOT EXISTS (
             SELECT 1 FROM pg_constraint c
              WHERE c.contype = 'f' AND c.confrelid = t.tgrelid AND c.confdeltype = 'a'
                AND 'FK_' || c.conname = t.tgname
                AND CASE WHEN c.conrelid = c.confrelid
                         THEN t.tgtype = (1 | 8) AND (t.tgname COLLATE \"C\") < 'RI_'
                         ELSE t.tgtype = (1 | 2 | 8) END)",
    )
    .await
}

/// Citus refuses subqueries in policies on distributed (and reference) tables.
#[tokio::test]
async fn no_policy_holds_a_subquery() -> anyhow::Result<()> {
    let db = TestDb::new().await?;
    assert_none(
        &db,
        "policies with a subquery (move it into a STABLE function)",
        "SELECT p.polrelid::regclass::text || '.' || p.polname FROM pg_policy p
         WHERE p.polrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'app'::regnamespace)
           AND (coalesce(p.polqual::text, '') LIKE '%{SUBLINK %'
                OR coalesce(p.polwithcheck::text, '') LIKE '%{SUBLINK %')",
    )
    .await
}

/// A distributed table can enforce uniqueness only of keys that hold its distribution column;
/// for `tenant_id` tables the rule above says so, this one covers `tenants` (by `id`) too.
#[tokio::test]
async fn every_unique_key_of_a_distributed_table_holds_its_distribution_column(
) -> anyhow::Result<()> {
    let db = TestDb::new().await?;
    assert_none(
        &db,
        "unique indexes of distributed tables without the distribution column \
         (keep global uniqueness in a reference table, like app.tenant_slugs)",
        &format!(
            "WITH dist AS ({DISTRIBUTION_COLUMNS_SQL})
             SELECT i.indexrelid::regclass::text FROM pg_index i
             JOIN dist ON dist.relid = i.indrelid
             WHERE i.indisunique AND NOT dist.col = ANY (i.indkey::int2[])"
        ),
    )
    .await
}

/// Statement-level triggers that read transition tables fail on Citus shards ("executor could
/// not find named tuplestore"); row-level triggers work.
#[tokio::test]
async fn no_trigger_reads_transition_tables() -> anyhow::Result<()> {
    let db = TestDb::new().await?;
    assert_none(
        &db,
        "triggers with REFERENCING OLD/NEW TABLE (write them FOR EACH ROW)",
        "SELECT t.tgrelid::regclass::text || '.' || t.tgname FROM pg_trigger t
         JOIN pg_class c ON c.oid = t.tgrelid
         WHERE c.relnamespace = 'app'::regnamespace
           AND (t.tgoldtable IS NOT NULL OR t.tgnewtable IS NOT NULL)",
    )
    .await
}

/// A column default is evaluated where the statement is planned — on Citus the coordinator —
/// while triggers run on the worker holding the shard. A default whose value depends on the
/// transaction or the node that must agree with what a trigger computes there
/// (`inbox_events.txid = pg_current_xact_id()` at commit) silently never matches; such values
/// are set by a BEFORE INSERT trigger. Allowed besides immutable functions: random ids and
/// sequence numbers (they agree with nothing), the transaction's start time, and the request
/// context the coordinator sends along (`app.current_tenant_id()`, `app.current_user_id()`).
#[tokio::test]
async fn no_column_default_depends_on_the_transaction_or_node_evaluating_it() -> anyhow::Result<()>
{
    let db = TestDb::new().await?;
    assert_none(
        &db,
        "column defaults calling non-immutable functions outside the allowed few \
         (set the value in a BEFORE INSERT trigger)",
        "SELECT d.adrelid::regclass::text || '.' || a.attname || ': ' || p.oid::regproc::text
         FROM pg_attrdef d
         JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
         CROSS JOIN LATERAL regexp_matches(d.adbin::text, ':funcid (\\d+)', 'g') AS f(m)
         JOIN pg_proc p ON p.oid = f.m[1]::oid
         WHERE d.adrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'app'::regnamespace)
           AND p.provolatile <> 'i'
           AND p.oid::regproc::text NOT IN ('gen_random_uuid', 'nextval', 'now',
                                            'transaction_timestamp', 'app.current_tenant_id',
                                            'app.current_user_id')",
    )
    .await
}

/// The operator's distribution script (docs/scaling.md) places every table, each the way its
/// columns demand: `tenants` by `id`, tables with `tenant_id` by it, the others as reference or
/// coordinator-local tables. A new table fails here until the script names it.
#[tokio::test]
async fn the_distribution_script_places_every_table_by_its_distribution_column(
) -> anyhow::Result<()> {
    const SCRIPT: &str = include_str!("../../../docs/citus/distribute.sql");
    let placed: std::collections::BTreeMap<String, String> = SCRIPT
        .lines()
        .filter_map(|l| l.trim().strip_prefix("SELECT pg_temp.place('app."))
        .filter_map(|rest| {
            let (table, rest) = rest.split_once("', '")?;
            let (how, _) = rest.split_once('\'')?;
            Some((table.to_owned(), how.to_owned()))
        })
        .collect();
    let db = TestDb::new().await?;
    let tables: Vec<(String, bool)> = sqlx::query_as(
        "SELECT c.relname::text, EXISTS (SELECT 1 FROM pg_attribute a
                                          WHERE a.attrelid = c.oid AND a.attname = 'tenant_id')
         FROM pg_class c WHERE c.relnamespace = 'app'::regnamespace AND c.relkind IN ('r', 'p')",
    )
    .fetch_all(db.owner())
    .await?;
    for (table, has_tenant) in tables {
        let how = placed.get(&table).map(String::as_str);
        let fits = match (table.as_str(), has_tenant) {
            ("tenants", _) => how == Some("tenants"),
            (_, true) => how == Some("tenant_id"),
            (_, false) => matches!(how, Some("reference" | "coordinator")),
        };
        assert!(
            fits,
            "docs/citus/distribute.sql places app.{table} as {how:?}"
        );
    }
    Ok(())
}
