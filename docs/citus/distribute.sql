-- Distributes a migrated Frontdesk database on a Citus coordinator (docs/scaling.md).
--
-- Not a migration: `frontdesk migrate` never runs it, and a single-server deployment never
-- needs it. The operator runs it once, as the migrating owner (a role allowed to call the Citus
-- functions), on the coordinator, after `frontdesk migrate` has applied every migration up to
-- at least 0026 and after the worker nodes are added:
--
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f docs/citus/distribute.sql
--
-- Each statement runs in its own transaction (a failure leaves the tables distributed so far
-- distributed; fix the cause and run the file again: every step skips what is already done).
-- Distributing copies existing rows to the shards; on a large database run it in a maintenance
-- window, or distribute right after the first migrate while the tables are empty.

\set ON_ERROR_STOP on

-- 0. Preconditions: Citus is installed, and the schema has migration 0026 (without it the
--    distribution fails on the blockers 0026 removes, or worse, succeeds and numbers no event).
CREATE EXTENSION IF NOT EXISTS citus;
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM _sqlx_migrations WHERE version >= 26 AND success) THEN
    RAISE EXCEPTION 'run `frontdesk migrate` first: migration 0026 (Citus-ready) is missing';
  END IF;
END $$;

-- 1. Settings.
--    Row-level triggers on distributed tables (event sources, audit, nulling, numbering) run on
--    the shards; Citus asks for this switch to allow them.
ALTER DATABASE :"DBNAME" SET citus.enable_unsafe_triggers = on;
SET citus.enable_unsafe_triggers = on;
--    The request context travels as `SET LOCAL frontdesk.*` (docs/scaling.md, "Tenant
--    context"); this makes Citus send those to the workers inside the transaction.
ALTER ROLE frontdesk_app SET citus.propagate_set_commands = 'local';
--    The inbox notification comes from the application on the coordinator (migration 0029,
--    servers started with FRONTDESK_DATABASE_DISTRIBUTED=true): the commit-time numbering,
--    which runs on the workers, stops notifying there (its NOTIFY would reach no listener, and
--    a transaction spanning nodes cannot PREPARE after one). The coordinator keeps the default.
SELECT run_command_on_workers(
  format('ALTER DATABASE %I SET frontdesk.notify_from_trigger = off', current_database()));

-- Places one table, skipping it when it is already placed (so the file can be run again).
CREATE FUNCTION pg_temp.place(t regclass, how text) RETURNS text
  LANGUAGE plpgsql
  AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_dist_partition p WHERE p.logicalrelid = t) THEN
    RETURN t || ': already placed';
  END IF;
  CASE how
    WHEN 'reference' THEN PERFORM create_reference_table(t);
    WHEN 'coordinator' THEN PERFORM citus_add_local_table_to_metadata(t);
    WHEN 'tenants' THEN PERFORM create_distributed_table(t, 'id');
    WHEN 'tenant_id' THEN PERFORM create_distributed_table(t, 'tenant_id', colocate_with => 'app.tenants');
  END CASE;
  RETURN t || ': ' || how;
END
$$;

-- 2. Reference tables: the identity rows every tenant shares, copied to every node so that
--    joins from any shard (memberships → users) stay local. Small, read-mostly.
SELECT pg_temp.place('app.users', 'reference');
SELECT pg_temp.place('app.auth_accounts', 'reference');
SELECT pg_temp.place('app.auth_sessions', 'reference');
SELECT pg_temp.place('app.verification_tokens', 'reference');
SELECT pg_temp.place('app.tenant_slugs', 'reference');
SELECT pg_temp.place('app.platform_demo_data', 'reference');

-- Log-in throttling counts by e-mail and address hash across every tenant and is only ever read
-- by the log-in functions: it stays on the coordinator.
SELECT pg_temp.place('app.login_attempts', 'coordinator');
-- Registrations of set-wise audit writers (migration 0030): written by the owner, never on a
-- distributed database (the seed writes its entries row by row there), kept on the coordinator.
SELECT pg_temp.place('app.audit_setwise_xacts', 'coordinator');

-- 3. Distributed tables, all in one colocation group: `tenants` by `id`, every table with a
--    `tenant_id` by `tenant_id`, colocated with `tenants`, so a tenant's rows of every table
--    live on the same node and every foreign key (which always pairs tenant_id with
--    tenant_id, catalog lint) is checked locally on that node. Referenced tables first (a
--    referencing table cannot be distributed before its target); the levels are the depth in
--    the foreign-key graph.
SELECT pg_temp.place('app.tenants', 'tenants');
-- level 1: referencing tenants only
SELECT pg_temp.place('app.assistants', 'tenant_id');
SELECT pg_temp.place('app.audit_log', 'tenant_id');
SELECT pg_temp.place('app.event_counters', 'tenant_id');
SELECT pg_temp.place('app.faqs', 'tenant_id');
SELECT pg_temp.place('app.integrations', 'tenant_id');
SELECT pg_temp.place('app.memberships', 'tenant_id');
SELECT pg_temp.place('app.system_prompts', 'tenant_id');
SELECT pg_temp.place('app.ticket_counters', 'tenant_id');
SELECT pg_temp.place('app.subscription_leases', 'tenant_id');
SELECT pg_temp.place('app.subscription_holds', 'tenant_id');
-- level 2
SELECT pg_temp.place('app.customers', 'tenant_id');
SELECT pg_temp.place('app.demo_requests', 'tenant_id');
SELECT pg_temp.place('app.invitations', 'tenant_id');
SELECT pg_temp.place('app.tenant_settings', 'tenant_id');
-- level 3
SELECT pg_temp.place('app.conversations', 'tenant_id');
SELECT pg_temp.place('app.demo_request_notes', 'tenant_id');
-- level 4
SELECT pg_temp.place('app.bookings', 'tenant_id');
SELECT pg_temp.place('app.conversation_notes', 'tenant_id');
SELECT pg_temp.place('app.conversation_threads', 'tenant_id');
SELECT pg_temp.place('app.leads', 'tenant_id');
SELECT pg_temp.place('app.tickets', 'tenant_id');
-- level 5
SELECT pg_temp.place('app.calls', 'tenant_id');
SELECT pg_temp.place('app.ticket_links', 'tenant_id');
SELECT pg_temp.place('app.ticket_notes', 'tenant_id');
-- levels 6 to 8
SELECT pg_temp.place('app.sms_messages', 'tenant_id');
SELECT pg_temp.place('app.messages', 'tenant_id');
SELECT pg_temp.place('app.conversation_reads', 'tenant_id');
SELECT pg_temp.place('app.inbox_events', 'tenant_id');

-- 4. Every table of the schema is now placed; a table added by a later migration and not
--    listed above stops here instead of staying silently on the coordinator.
DO $$
DECLARE
  missing text;
BEGIN
  SELECT string_agg(c.oid::regclass::text, ', ') INTO missing
    FROM pg_class c
   WHERE c.relnamespace = 'app'::regnamespace AND c.relkind IN ('r', 'p')
     AND NOT EXISTS (SELECT 1 FROM pg_dist_partition p WHERE p.logicalrelid = c.oid);
  IF missing IS NOT NULL THEN
    RAISE EXCEPTION 'not distributed, not a reference table, not coordinator-local: %', missing;
  END IF;
END $$;
