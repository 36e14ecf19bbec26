-- 0009 inbox event retention
--
-- The event log (0008) exists so that a subscriber can resume where it left off; it does not
-- need to hold a tenant's whole history (the messages and conversations themselves do). Events
-- older than 30 days are deleted, and the tenant's counter row remembers the highest number
-- deleted (`purged_through`), so that a client resuming from an older cursor is told its cursor
-- has expired instead of silently missing what was deleted.
--
-- Where it runs: inside the commit-time numbering, once every 512 numbers a tenant takes. That
-- transaction already holds the tenant's counter row and acts in the tenant's context, so the
-- purge needs no privileged job that would have to see every tenant (every table forces
-- row-level security, the owner included). Each pass deletes at most 2,048 of the oldest
-- events, which is more than the 512 numbered since the previous pass, so the log cannot
-- outgrow the retention however busy the tenant is; the pass costs an index range scan.

ALTER TABLE app.event_counters
  ADD COLUMN purged_through bigint NOT NULL DEFAULT 0 CHECK (purged_through >= 0);

CREATE INDEX inbox_events_committed_at_idx ON app.inbox_events (tenant_id, committed_at)
  WHERE seq IS NOT NULL;

-- Deletes up to `batch` of the current tenant's events committed before `older_than`, oldest
-- first (through the committed_at index, so a pass with nothing to delete reads nothing), and
-- records the highest number deleted. Commit times follow numbers (both are taken under the
-- counter lock), so "every number up to the highest old one" is exactly the old events.
-- Returns how many were deleted.
CREATE FUNCTION app.purge_inbox_events(older_than timestamptz, batch integer DEFAULT 2048)
  RETURNS bigint
  LANGUAGE plpgsql
  AS $$
DECLARE
  upto bigint;
  deleted bigint;
BEGIN
  SELECT max(seq) INTO upto FROM (
    SELECT seq FROM app.inbox_events
     WHERE tenant_id = app.current_tenant_id() AND seq IS NOT NULL AND committed_at < older_than
     ORDER BY committed_at
     LIMIT batch
  ) oldest;
  IF upto IS NULL THEN
    RETURN 0;
  END IF;
  UPDATE app.event_counters SET purged_through = greatest(purged_through, upto)
   WHERE tenant_id = app.current_tenant_id();
  DELETE FROM app.inbox_events
   WHERE tenant_id = app.current_tenant_id() AND seq <= upto;
  GET DIAGNOSTICS deleted = ROW_COUNT;
  RETURN deleted;
END
$$;

-- 0008's numbering, plus the periodic purge.
CREATE OR REPLACE FUNCTION app.sequence_inbox_events() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
DECLARE
  pending bigint;
  base    bigint;
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
  WITH numbered AS (
    SELECT id, base + row_number() OVER (ORDER BY id) AS seq
      FROM app.inbox_events
     WHERE tenant_id = NEW.tenant_id AND txid = pg_current_xact_id() AND seq IS NULL
  ), stamped AS (
    UPDATE app.inbox_events e SET seq = n.seq, committed_at = clock_timestamp()
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
  PERFORM pg_notify('frontdesk_inbox', NEW.tenant_id::text);
  RETURN NULL;
END
$$;
