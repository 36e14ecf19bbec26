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
