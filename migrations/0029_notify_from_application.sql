-- 0029 The inbox notification can come from the application (docs/scaling.md, "NOTIFY from the
-- application"). On a single server nothing changes: the commit-time numbering still notifies
-- `frontdesk_inbox` itself, exactly when the numbering commits. On Citus the numbering runs on a
-- worker, whose NOTIFY the coordinator's listeners never hear (and a transaction spanning nodes
-- cannot PREPARE after a NOTIFY), so there:
--
-- 1. the numbering notifies only where `frontdesk.notify_from_trigger` is not off (default on;
--    the distribution script turns it off on the workers);
-- 2. `app.notify_inbox_events(tenant)` is what the application calls on the coordinator before
--    COMMIT of a write scope (`crates/db/src/scope.rs`, on a distributed database): it notifies
--    when the transaction wrote events of that tenant, which are then still unnumbered (`seq IS
--    NULL`: rows of other transactions are either invisible or numbered). Transactional like the
--    trigger's: a rolled-back scope notifies nobody. A function, so that the NOTIFY runs where it
--    is called (the coordinator) while its one read routes to the tenant's shard; a plain
--    statement naming the shard's table would run there as a whole, NOTIFY included.
--
-- Where both notify (a single server with the application's notify on), PostgreSQL delivers the
-- two identical notifications of one transaction once.

CREATE OR REPLACE FUNCTION app.sequence_inbox_events() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
DECLARE
  pending bigint;
  base    bigint;
  stamp   timestamptz;
BEGIN
  -- The first firing of a transaction numbers all of its events; the others find none left.
  SELECT count(*) INTO pending FROM app.inbox_events
   WHERE tenant_id = NEW.tenant_id AND txid = pg_current_xact_id() AND seq IS NULL;
  IF pending = 0 THEN
    RETURN NULL;
  END IF;
  -- Locks the tenant's counter row until this transaction ends (see 0008's header).
  INSERT INTO app.event_counters AS c (tenant_id, last_seq) VALUES (NEW.tenant_id, pending)
  ON CONFLICT (tenant_id) DO UPDATE SET last_seq = c.last_seq + excluded.last_seq
  RETURNING c.last_seq - pending INTO base;
  -- Taken under the lock, so a later number never gets an earlier time.
  stamp := clock_timestamp();
  WITH numbered AS (
    SELECT id, base + row_number() OVER (ORDER BY id) AS seq
      FROM app.inbox_events
     WHERE tenant_id = NEW.tenant_id AND txid = pg_current_xact_id() AND seq IS NULL
  ), stamped AS (
    UPDATE app.inbox_events e SET seq = n.seq, committed_at = stamp
      FROM numbered n
     WHERE e.tenant_id = NEW.tenant_id AND e.id = n.id
    RETURNING e.kind, e.message_id, e.seq
  )
  UPDATE app.messages m SET seq = s.seq
    FROM stamped s
   WHERE s.kind = 'message_added' AND m.tenant_id = NEW.tenant_id AND m.id = s.message_id;
  -- Crossed a multiple of 512: purge what is past the retention.
  IF (base + pending) / 512 > base / 512 THEN
    PERFORM app.purge_inbox_events(now() - interval '30 days');
  END IF;
  -- Unset or anything but off: notify, as every server did before.
  IF coalesce(current_setting('frontdesk.notify_from_trigger', true), '') <> 'off' THEN
    PERFORM pg_notify('frontdesk_inbox', NEW.tenant_id::text);
  END IF;
  RETURN NULL;
END
$$;

CREATE FUNCTION app.notify_inbox_events(tenant uuid) RETURNS boolean
  LANGUAGE plpgsql VOLATILE SECURITY INVOKER
  AS $$
BEGIN
  -- Through inbox_events_pending_idx; row-level security shows only the acting tenant's rows,
  -- so no caller can notify for another tenant.
  IF EXISTS (SELECT 1 FROM app.inbox_events WHERE tenant_id = tenant AND seq IS NULL) THEN
    PERFORM pg_notify('frontdesk_inbox', tenant::text);
    RETURN true;
  END IF;
  RETURN false;
END
$$;
REVOKE EXECUTE ON FUNCTION app.notify_inbox_events(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.notify_inbox_events(uuid) TO frontdesk_app;
