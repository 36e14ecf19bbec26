-- ---------------------------------------------------------------------------------------------------
-- subscription_leases: the per-tenant subscription limit, exact across replicas.
--
-- Each live subscription of a tenant that has a limit holds one lease. A replica takes a lease
-- before a subscription starts, ends it when the subscription ends, and renews the leases it
-- holds every few seconds; a lease nobody renewed for its lifetime (its replica died, or lost
-- the database) has expired and no longer counts. Takes of one tenant are serialised by an
-- advisory lock, so concurrent subscribes on different replicas count exactly.
--
-- Bookkeeping, not tenant data: exempt from the audit trail (a row per subscribe and renewal
-- would bury the real entries), and locked down like app.login_attempts (0013): the runtime role
-- has no privilege on the table and reaches it only through the SECURITY DEFINER functions
-- below. The tenant they are given comes from the caller's verified token.
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE app.subscription_leases (
  tenant_id  uuid NOT NULL DEFAULT app.current_tenant_id() REFERENCES app.tenants (id) ON DELETE CASCADE,
  id         uuid NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX subscription_leases_expiry_idx ON app.subscription_leases (tenant_id, expires_at);

REVOKE ALL ON app.subscription_leases FROM frontdesk_app;
ALTER TABLE app.subscription_leases ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.subscription_leases FORCE ROW LEVEL SECURITY;
-- Row-level security binds the (non-superuser) owner too, and the functions below run as the
-- owner: this policy admits exactly them, and never applies to the runtime role.
DO $$
BEGIN
  EXECUTE format('CREATE POLICY owner_functions ON app.subscription_leases FOR ALL TO %I USING (true) WITH CHECK (true)',
                 current_user);
END $$;

CREATE OR REPLACE FUNCTION app.audit_exempt_tables() RETURNS text[]
  LANGUAGE sql IMMUTABLE
  AS $$ SELECT ARRAY['audit_log', 'inbox_events', 'event_counters', 'ticket_counters',
                     'conversation_reads', 'subscription_leases'] $$;

-- Takes lease `lease` for `tenant`, valid for `ttl`, unless the tenant holds `max_leases` live
-- leases already. Expired leases of the tenant are deleted on the way. Whether it was taken.
CREATE FUNCTION app.subscription_lease_take(tenant uuid, lease uuid, ttl interval, max_leases integer)
  RETURNS boolean
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  live integer;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('frontdesk.subscriptions.' || tenant::text, 0));
  -- clock_timestamp(), not now(): the lock may have been waited for.
  DELETE FROM app.subscription_leases l
   WHERE l.tenant_id = tenant AND l.expires_at <= clock_timestamp();
  SELECT count(*) INTO live FROM app.subscription_leases l WHERE l.tenant_id = tenant;
  IF live >= max_leases THEN
    RETURN false;
  END IF;
  INSERT INTO app.subscription_leases (tenant_id, id, expires_at)
    VALUES (tenant, lease, clock_timestamp() + ttl);
  RETURN true;
END
$$;

-- Ends a lease (its subscription ended).
CREATE FUNCTION app.subscription_lease_end(tenant uuid, lease uuid) RETURNS void
  LANGUAGE sql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$ DELETE FROM app.subscription_leases WHERE tenant_id = tenant AND id = lease $$;

-- Renews the leases a replica holds (pairs of `tenants[i]`, `leases[i]`) for another `ttl`.
-- Returns how many still existed: one that expired before its renewal is gone.
CREATE FUNCTION app.subscription_leases_renew(tenants uuid[], leases uuid[], ttl interval)
  RETURNS bigint
  LANGUAGE sql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
  WITH renewed AS (
    UPDATE app.subscription_leases l SET expires_at = clock_timestamp() + ttl
      FROM unnest(tenants, leases) AS k(tenant_id, lease_id)
     WHERE l.tenant_id = k.tenant_id AND l.id = k.lease_id
    RETURNING 1)
  SELECT count(*) FROM renewed
$$;

REVOKE EXECUTE ON FUNCTION app.subscription_lease_take(uuid, uuid, interval, integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION app.subscription_lease_end(uuid, uuid) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION app.subscription_leases_renew(uuid[], uuid[], interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.subscription_lease_take(uuid, uuid, interval, integer) TO frontdesk_app;
GRANT EXECUTE ON FUNCTION app.subscription_lease_end(uuid, uuid) TO frontdesk_app;
GRANT EXECUTE ON FUNCTION app.subscription_leases_renew(uuid[], uuid[], interval) TO frontdesk_app;
