-- ---------------------------------------------------------------------------------------------------
-- subscription_holds: the per-tenant subscription limit, exact across replicas, as one counted row
-- per (tenant, process) instead of one row per subscription (0025's subscription_leases).
--
-- Each server process ("holder", a random id per process) keeps one row per tenant it serves
-- subscriptions of: `held` is how many live subscriptions of the tenant it holds. Taking a slot
-- sums the tenant's unexpired rows (one per process, not one per subscription) under the
-- per-tenant advisory lock of 0025 and adds one to the process's row; ending a subscription
-- takes one off; and every few seconds each process renews its rows with one statement, setting
-- `held` to the live count it keeps in memory (so a release that failed is corrected there) and
-- deleting the rows whose count fell to 0. A row nobody renewed for its lifetime (its process
-- died, or lost the database) has expired and no longer counts.
--
-- Locked down like 0025's table: bookkeeping, not tenant data, exempt from the audit trail; the
-- runtime role has no privilege on the table and reaches it only through the SECURITY DEFINER
-- functions below. The tenant they are given comes from the caller's verified token.
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE app.subscription_holds (
  tenant_id  uuid NOT NULL DEFAULT app.current_tenant_id() REFERENCES app.tenants (id) ON DELETE CASCADE,
  holder     uuid NOT NULL,
  held       integer NOT NULL CHECK (held >= 0),
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, holder)
);

REVOKE ALL ON app.subscription_holds FROM frontdesk_app;
ALTER TABLE app.subscription_holds ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.subscription_holds FORCE ROW LEVEL SECURITY;
-- Row-level security binds the (non-superuser) owner too, and the functions below run as the
-- owner: this policy admits exactly them, and never applies to the runtime role.
DO $$
BEGIN
  EXECUTE format('CREATE POLICY owner_functions ON app.subscription_holds FOR ALL TO %I USING (true) WITH CHECK (true)',
                 current_user);
END $$;

-- Takes one slot of `tenant` for process `holder_id`, its row valid for `ttl`, unless the
-- tenant's unexpired holds add up to `max_held` already. Expired rows of the tenant are deleted
-- on the way. Whether it was taken.
CREATE FUNCTION app.subscription_hold_take(tenant uuid, holder_id uuid, ttl interval, max_held integer)
  RETURNS boolean
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  live bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('frontdesk.subscriptions.' || tenant::text, 0));
  -- clock_timestamp(), not now(): the lock may have been waited for.
  DELETE FROM app.subscription_holds h
   WHERE h.tenant_id = tenant AND h.expires_at <= clock_timestamp();
  SELECT coalesce(sum(h.held), 0) INTO live FROM app.subscription_holds h WHERE h.tenant_id = tenant;
  IF live >= max_held THEN
    RETURN false;
  END IF;
  INSERT INTO app.subscription_holds AS h (tenant_id, holder, held, expires_at)
    VALUES (tenant, holder_id, 1, clock_timestamp() + ttl)
  ON CONFLICT (tenant_id, holder)
    DO UPDATE SET held = h.held + 1, expires_at = EXCLUDED.expires_at;
  RETURN true;
END
$$;

-- Gives back `n` slots (one by default) of `tenant` held by `holder_id`: their subscriptions
-- ended. Never below 0; the row itself goes at the next renewal. The held count left.
CREATE FUNCTION app.subscription_hold_release(tenant uuid, holder_id uuid, n integer DEFAULT 1)
  RETURNS integer
  LANGUAGE sql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
  UPDATE app.subscription_holds h SET held = greatest(h.held - greatest(n, 0), 0)
   WHERE h.tenant_id = tenant AND h.holder = holder_id
  RETURNING h.held
$$;

-- Renews the rows of process `holder_id`: for each pair (`tenants[i]`, `counts[i]`), sets its
-- row of that tenant to the process's live count, valid for another `ttl`, or deletes it when
-- the count is 0. A row that had expired (or was deleted) is written again: its subscriptions
-- are live. Returns how many rows with a live count had expired or were gone.
CREATE FUNCTION app.subscription_holds_renew(holder_id uuid, tenants uuid[], counts integer[], ttl interval)
  RETURNS bigint
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  lost bigint;
BEGIN
  SELECT count(*) INTO lost
    FROM unnest(tenants, counts) AS k(tenant_id, held)
   WHERE k.held > 0
     AND NOT EXISTS (SELECT 1 FROM app.subscription_holds h
                      WHERE h.tenant_id = k.tenant_id AND h.holder = holder_id
                        AND h.expires_at > clock_timestamp());
  DELETE FROM app.subscription_holds h
   USING unnest(tenants, counts) AS k(tenant_id, held)
   WHERE h.tenant_id = k.tenant_id AND h.holder = holder_id AND k.held <= 0;
  INSERT INTO app.subscription_holds AS h (tenant_id, holder, held, expires_at)
    SELECT k.tenant_id, holder_id, k.held, clock_timestamp() + ttl
      FROM unnest(tenants, counts) AS k(tenant_id, held)
     WHERE k.held > 0
       -- A tenant deleted meanwhile has no row to keep (and would fail the foreign key).
       AND EXISTS (SELECT 1 FROM app.tenants t WHERE t.id = k.tenant_id)
  ON CONFLICT (tenant_id, holder)
    DO UPDATE SET held = EXCLUDED.held, expires_at = EXCLUDED.expires_at;
  RETURN lost;
END
$$;

REVOKE EXECUTE ON FUNCTION app.subscription_hold_take(uuid, uuid, interval, integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION app.subscription_hold_release(uuid, uuid, integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION app.subscription_holds_renew(uuid, uuid[], integer[], interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.subscription_hold_take(uuid, uuid, interval, integer) TO frontdesk_app;
GRANT EXECUTE ON FUNCTION app.subscription_hold_release(uuid, uuid, integer) TO frontdesk_app;
GRANT EXECUTE ON FUNCTION app.subscription_holds_renew(uuid, uuid[], integer[], interval) TO frontdesk_app;

-- 0025's per-subscription leases stay for now: during a rolling deploy the processes of the
-- previous release still take and renew them, and would refuse every subscription if they were
-- gone. Until those processes are replaced their subscriptions count in the old table only, so
-- the cap is briefly looser, never broken by errors. A later migration drops them.

CREATE OR REPLACE FUNCTION app.audit_exempt_tables() RETURNS text[]
  LANGUAGE sql IMMUTABLE
  AS $$ SELECT ARRAY['audit_log', 'inbox_events', 'event_counters', 'ticket_counters',
                     'conversation_reads', 'subscription_leases', 'subscription_holds'] $$;
