-- 0026 Citus-ready: the schema no longer needs anything that a database distributed by
-- `tenant_id` (Citus 13, see docs/scaling.md) refuses or silently gets wrong, and behaves the same
-- on a single PostgreSQL server. Each change below removes one blocker found by distributing the
-- schema on a real cluster; crates/db/tests/catalog_lint.rs turns each into a rule.
--
-- 1. Foreign keys `ON DELETE SET NULL (col)` become `NO ACTION`, and one generic trigger function
--    does the nulling (Citus refuses SET NULL/SET DEFAULT when the key holds the distribution
--    column, which every tenant foreign key does).
-- 2. The `users` select policy calls a function instead of holding a subquery (Citus refuses
--    subqueries in policies).
-- 3. `tenants.slug` is unique through a table of its own (`tenant_slugs`), not through a unique
--    constraint on `tenants`, which is distributed by `id` and cannot enforce uniqueness of a
--    column that is not its distribution column.
-- 4. The event sources are row-level triggers (statement-level triggers reading transition tables
--    fail on shards: "executor could not find named tuplestore").
-- 5. `inbox_events.txid` is set by a BEFORE INSERT trigger instead of a column default (a default
--    is evaluated on the coordinator, the commit-time trigger compares it on the worker: events
--    were never numbered).
-- 6. The commit-time numbering stamps `committed_at` from a variable (Citus refuses volatile
--    functions in an UPDATE of a distributed table).
-- 7. `app.refresh_customer_counters` holds the tenant in a variable, so its `FOR NO KEY UPDATE`
--    is a single-shard query Citus can route (and 9: the same for the retention purge).
-- 8. `app.unread_count` stays (tests and operators use it), but the application no longer calls
--    it per row: crates/db inlines it as a LATERAL subquery (Citus cannot run a per-row SQL
--    function that reads another distributed table).
--
-- What stays, and why: the commit-time numbering still sends its NOTIFY from the trigger. On a
-- single server that is what makes the notification exact (sent iff the numbering commits).
-- docs/scaling.md gives the plan for Citus, where the trigger runs on a worker.

-- ---------------------------------------------------------------------------------------------------
-- 1. SET NULL without SET NULL.
--
-- `app.null_references()` is a row trigger on the referenced (parent) table, one per former SET
-- NULL foreign key, attached by `app.set_null_on_delete(child, fk)` from the catalog: its only
-- argument is the UPDATE that nulls the child's link columns (every key column but tenant_id,
-- which is what `SET NULL (col)` named), precomputed so the per-row work reads no catalog.
--
-- When it fires. BEFORE DELETE, so a link is cleared before its target disappears: the built-in
-- action ran its UPDATE with the foreign-key checks queued to the end of the statement, which
-- tolerated a row whose other parent was already gone; a trigger's UPDATE checks at once, so
-- no link may point at a deleted row at any moment (deleting customers deletes their bookings
-- and conversations while calls still point at both). Self-references (messages.reply_to_id,
-- tickets.parent_ticket_id) are the exception: a BEFORE trigger that updates a row the same
-- DELETE deletes later makes PostgreSQL fail the DELETE ("tuple to be deleted was already
-- modified by an operation triggered by the current command"), which deleting a conversation
-- (its messages reply to each other) would do. For those the trigger is AFTER DELETE, which runs
-- at the end of the statement like the built-in action, named `FK_<constraint>`: AFTER
-- triggers of one event fire in name order (C collation) and the key's own NO ACTION check is
-- `RI_ConstraintTrigger_a_…`, so `FK_` clears the links before the check looks. Lint rules pin
-- both. While the tenant itself is being deleted, nothing is nulled: every row of the tenant is
-- deleted by the tenant's cascades, which all run before any check of a second-level deletion.
--
-- The built-in action ignored row-level security; this trigger acts in the deleted row's tenant
-- (SECURITY DEFINER, with the tenant setting switched for the duration when it differs, e.g. a
-- user deleted outside any tenant context cascades to memberships in many tenants). Events are
-- suppressed while switched, exactly as the event sources ignored rows of another tenant before
-- (0008's header); in the acting tenant the UPDATE emits as the built-in action's did.
-- ---------------------------------------------------------------------------------------------------
CREATE FUNCTION app.null_references() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  tenant   text := to_jsonb(OLD) ->> 'tenant_id';
  acting   text := coalesce(current_setting('frontdesk.tenant_id', true), '');
  suppress text := coalesce(current_setting('frontdesk.suppress_events', true), '');
  switched boolean := tenant IS DISTINCT FROM acting;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM app.tenants t WHERE t.id = tenant::uuid) THEN
    RETURN OLD;  -- ignored for AFTER triggers; lets a BEFORE trigger's DELETE proceed
  END IF;
  IF switched THEN
    PERFORM set_config('frontdesk.tenant_id', tenant, true),
            set_config('frontdesk.suppress_events', 'on', true);
  END IF;
  EXECUTE TG_ARGV[0] USING OLD;
  IF switched THEN
    PERFORM set_config('frontdesk.tenant_id', acting, true),
            set_config('frontdesk.suppress_events', suppress, true);
  END IF;
  RETURN OLD;
END
$$;

-- Attaches the nulling of `fk` (a NO ACTION foreign key of `child` that includes tenant_id) to
-- its parent table. Idempotent.
CREATE FUNCTION app.set_null_on_delete(child regclass, fk name) RETURNS void
  LANGUAGE plpgsql
  AS $$
DECLARE
  con  pg_constraint;
  sets text;
  keys text;
BEGIN
  SELECT * INTO con FROM pg_constraint c WHERE c.conrelid = child AND c.conname = fk AND c.contype = 'f';
  IF NOT FOUND OR con.confdeltype <> 'a' THEN
    RAISE EXCEPTION 'set_null_on_delete: % on % is not a NO ACTION foreign key', fk, child;
  END IF;
  SELECT string_agg(format('%I = NULL', a.attname), ', ' ORDER BY k.i) FILTER (WHERE a.attname <> 'tenant_id'),
         string_agg(format('%I = ($1).%I', a.attname, p.attname), ' AND ' ORDER BY k.i)
    INTO sets, keys
    FROM unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(c, f, i)
    JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.c
    JOIN pg_attribute p ON p.attrelid = con.confrelid AND p.attnum = k.f;
  IF sets IS NULL OR keys NOT LIKE '%tenant_id = ($1).tenant_id%' THEN
    RAISE EXCEPTION 'set_null_on_delete: % on % must pair tenant_id and link another column', fk, child;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = con.confrelid AND t.tgname = 'FK_' || fk) THEN
    EXECUTE format('DROP TRIGGER %I ON %s', 'FK_' || fk, con.confrelid::regclass);
  END IF;
  EXECUTE format('CREATE TRIGGER %I %s DELETE ON %s FOR EACH ROW EXECUTE FUNCTION app.null_references(%L)',
                 'FK_' || fk,
                 CASE WHEN con.conrelid = con.confrelid THEN 'AFTER' ELSE 'BEFORE' END,
                 con.confrelid::regclass,
                 format('UPDATE %s SET %s WHERE %s', child, sets, keys));
END
$$;
REVOKE EXECUTE ON FUNCTION app.set_null_on_delete(regclass, name) FROM PUBLIC, frontdesk_app;
REVOKE EXECUTE ON FUNCTION app.null_references() FROM PUBLIC, frontdesk_app;

-- Every SET NULL foreign key that includes tenant_id: same name, same columns, NO ACTION, and the
-- trigger. (tenants.agency_user_id → users keeps its SET NULL: it does not hold the distribution
-- column, `users` is a reference table, and Citus accepts it; the lint rule says the same.)
DO $$
DECLARE
  fk record;
BEGIN
  FOR fk IN
    SELECT c.conrelid::regclass AS child, c.conname,
           regexp_replace(pg_get_constraintdef(c.oid), ' ON DELETE SET NULL( \([^)]*\))?', '') AS def
      FROM pg_constraint c
     WHERE c.contype = 'f' AND c.connamespace = 'app'::regnamespace AND c.confdeltype = 'n'
       AND EXISTS (SELECT 1 FROM pg_attribute a
                    WHERE a.attrelid = c.conrelid AND a.attname = 'tenant_id' AND a.attnum = ANY (c.conkey))
     ORDER BY 1, 2
  LOOP
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I, ADD CONSTRAINT %I %s',
                   fk.child, fk.conname, fk.conname, fk.def);
    PERFORM app.set_null_on_delete(fk.child, fk.conname);
  END LOOP;
END $$;

-- ---------------------------------------------------------------------------------------------------
-- 2. The users policy without a subquery. The membership test moves into a STABLE function; the
--    policy keeps its three branches and admits exactly the rows it admitted.
-- ---------------------------------------------------------------------------------------------------
CREATE FUNCTION app.is_current_tenant_member(member uuid) RETURNS boolean
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT EXISTS (SELECT 1 FROM app.memberships m
                        WHERE m.tenant_id = app.current_tenant_id() AND m.user_id = member) $$;

ALTER POLICY users_select ON app.users
  USING (id = app.current_user_id()
         OR lower(email) = lower(app.current_login_email())
         OR app.is_current_tenant_member(id));

-- ---------------------------------------------------------------------------------------------------
-- 3. Tenant slugs: unique in `tenant_slugs` (slug → the tenant holding it), kept by triggers on
--    `tenants`, so every writer of a slug (today the seed) needs no change. On Citus this is a
--    reference table next to `tenants` distributed by id. A slug taken by another tenant fails
--    the insert with the primary key's unique violation, as `tenants_slug_key` did. RLS: a tenant
--    sees and writes only its own slug (the uniqueness check itself sees every row).
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE app.tenant_slugs (
  slug    text PRIMARY KEY,
  held_by uuid NOT NULL UNIQUE
);
ALTER TABLE app.tenant_slugs ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.tenant_slugs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON app.tenant_slugs
  USING (held_by = app.current_tenant_id())
  WITH CHECK (held_by = app.current_tenant_id());
INSERT INTO app.tenant_slugs (slug, held_by) SELECT slug, id FROM app.tenants WHERE slug IS NOT NULL;
ALTER TABLE app.tenants DROP CONSTRAINT tenants_slug_key;

CREATE FUNCTION app.keep_tenant_slug() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  IF TG_OP <> 'INSERT' AND OLD.slug IS NOT NULL
     AND (TG_OP = 'DELETE' OR NEW.slug IS DISTINCT FROM OLD.slug) THEN
    DELETE FROM app.tenant_slugs WHERE slug = OLD.slug AND held_by = OLD.id;
  END IF;
  IF TG_OP <> 'DELETE' AND NEW.slug IS NOT NULL
     AND (TG_OP = 'INSERT' OR NEW.slug IS DISTINCT FROM OLD.slug) THEN
    INSERT INTO app.tenant_slugs (slug, held_by) VALUES (NEW.slug, NEW.id);
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER keep_slug AFTER INSERT OR UPDATE OF slug OR DELETE ON app.tenants
  FOR EACH ROW EXECUTE FUNCTION app.keep_tenant_slug();

-- ---------------------------------------------------------------------------------------------------
-- 4. Event sources, row by row. Same rules as 0008/0014/0016: nothing while events are
--    suppressed, only rows of the acting tenant, at most one *_updated event per subject per
--    transaction (the ON CONFLICT on the pending keys), a visible change only (everything but
--    updated_at). Rows inserted by one statement are numbered in the order the statement inserted
--    them (the statement-level version ordered one statement's messages by sent_at, id, with
--    random ids; no writer inserts several live messages in one statement but the bulk tests).
-- ---------------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION app.emit_message_added() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  IF app.events_suppressed() OR NEW.tenant_id IS DISTINCT FROM app.current_tenant_id() THEN
    RETURN NULL;
  END IF;
  INSERT INTO app.inbox_events (tenant_id, kind, conversation_id, message_id, channel)
  SELECT NEW.tenant_id, 'message_added', NEW.conversation_id, NEW.id, c.channel
    FROM app.conversations c
   WHERE c.tenant_id = NEW.tenant_id AND c.id = NEW.conversation_id;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION app.emit_conversation_updated() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  IF app.events_suppressed() OR NEW.tenant_id IS DISTINCT FROM app.current_tenant_id()
     OR (TG_OP = 'UPDATE' AND to_jsonb(NEW) - 'updated_at' IS NOT DISTINCT FROM to_jsonb(OLD) - 'updated_at') THEN
    RETURN NULL;
  END IF;
  INSERT INTO app.inbox_events (tenant_id, kind, conversation_id, channel)
  VALUES (NEW.tenant_id, 'conversation_updated', NEW.id, NEW.channel)
  ON CONFLICT (tenant_id, txid, conversation_id) WHERE seq IS NULL AND kind = 'conversation_updated'
  DO NOTHING;
  RETURN NULL;
END
$$;

-- A read marker or an internal note added, changed or removed. The join keeps only conversations
-- that still exist, so rows deleted by their conversation's own deletion emit nothing.
CREATE OR REPLACE FUNCTION app.emit_child_conversation_updated() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
DECLARE
  tenant uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.tenant_id ELSE NEW.tenant_id END;
  conversation uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.conversation_id ELSE NEW.conversation_id END;
BEGIN
  IF app.events_suppressed() OR tenant IS DISTINCT FROM app.current_tenant_id() THEN
    RETURN NULL;
  END IF;
  INSERT INTO app.inbox_events (tenant_id, kind, conversation_id, channel)
  SELECT tenant, 'conversation_updated', c.id, c.channel
    FROM app.conversations c
   WHERE c.tenant_id = tenant AND c.id = conversation
  ON CONFLICT (tenant_id, txid, conversation_id) WHERE seq IS NULL AND kind = 'conversation_updated'
  DO NOTHING;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION app.emit_ticket_updated() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  IF app.events_suppressed() OR NEW.tenant_id IS DISTINCT FROM app.current_tenant_id()
     OR (TG_OP = 'UPDATE' AND to_jsonb(NEW) - 'updated_at' IS NOT DISTINCT FROM to_jsonb(OLD) - 'updated_at') THEN
    RETURN NULL;
  END IF;
  INSERT INTO app.inbox_events (tenant_id, kind, ticket_id)
  VALUES (NEW.tenant_id, 'ticket_updated', NEW.id)
  ON CONFLICT (tenant_id, txid, ticket_id) WHERE seq IS NULL AND kind = 'ticket_updated'
  DO NOTHING;
  RETURN NULL;
END
$$;

-- A ticket note added, edited or removed; notes deleted with their ticket find no ticket.
CREATE OR REPLACE FUNCTION app.emit_note_ticket_updated() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
DECLARE
  tenant uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.tenant_id ELSE NEW.tenant_id END;
  ticket uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.ticket_id ELSE NEW.ticket_id END;
BEGIN
  IF app.events_suppressed() OR tenant IS DISTINCT FROM app.current_tenant_id() THEN
    RETURN NULL;
  END IF;
  INSERT INTO app.inbox_events (tenant_id, kind, ticket_id)
  SELECT tenant, 'ticket_updated', t.id
    FROM app.tickets t
   WHERE t.tenant_id = tenant AND t.id = ticket
  ON CONFLICT (tenant_id, txid, ticket_id) WHERE seq IS NULL AND kind = 'ticket_updated'
  DO NOTHING;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION app.emit_member_updated() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  IF app.events_suppressed() OR NEW.tenant_id IS DISTINCT FROM app.current_tenant_id()
     OR (TG_OP = 'UPDATE'
         AND (NEW.status, NEW.current_active_conversations, NEW.total_conversations,
              NEW.resolved_conversations, NEW.role, NEW.is_active, NEW.user_id)
             IS NOT DISTINCT FROM
             (OLD.status, OLD.current_active_conversations, OLD.total_conversations,
              OLD.resolved_conversations, OLD.role, OLD.is_active, OLD.user_id)) THEN
    RETURN NULL;
  END IF;
  INSERT INTO app.inbox_events (tenant_id, kind, member_id)
  VALUES (NEW.tenant_id, 'member_updated', NEW.user_id)
  ON CONFLICT (tenant_id, txid, member_id) WHERE seq IS NULL AND kind = 'member_updated'
  DO NOTHING;
  RETURN NULL;
END
$$;

-- The same triggers (names, tables, events), now FOR EACH ROW.
DO $$
DECLARE
  t record;
BEGIN
  FOR t IN
    SELECT tg.tgrelid::regclass AS tbl, tg.tgname, tg.tgfoid::regproc AS fn,
           CASE WHEN tg.tgtype & 4 <> 0 THEN 'INSERT'
                WHEN tg.tgtype & 8 <> 0 THEN 'DELETE'
                ELSE 'UPDATE' END AS event
      FROM pg_trigger tg
     WHERE tg.tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'app'::regnamespace)
       AND (tg.tgoldtable IS NOT NULL OR tg.tgnewtable IS NOT NULL)
     ORDER BY 1, 2
  LOOP
    EXECUTE format('DROP TRIGGER %I ON %s', t.tgname, t.tbl);
    EXECUTE format('CREATE TRIGGER %I AFTER %s ON %s FOR EACH ROW EXECUTE FUNCTION %s()',
                   t.tgname, t.event, t.tbl, t.fn);
  END LOOP;
END $$;

-- ---------------------------------------------------------------------------------------------------
-- 5. The transaction id of an event, taken where the row is written.
-- ---------------------------------------------------------------------------------------------------
CREATE FUNCTION app.stamp_event_txid() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  NEW.txid := pg_current_xact_id();
  RETURN NEW;
END
$$;
CREATE TRIGGER stamp_txid BEFORE INSERT ON app.inbox_events
  FOR EACH ROW EXECUTE FUNCTION app.stamp_event_txid();
ALTER TABLE app.inbox_events ALTER COLUMN txid DROP DEFAULT;

-- ---------------------------------------------------------------------------------------------------
-- 6. The numbering of 0008/0009, with the commit time taken once into a variable: every event of
--    the transaction gets the same `committed_at` (they commit together), and the UPDATE sees a
--    constant. Commit times still follow numbers, which 0009's purge relies on.
-- ---------------------------------------------------------------------------------------------------
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
  PERFORM pg_notify('frontdesk_inbox', NEW.tenant_id::text);
  RETURN NULL;
END
$$;

-- ---------------------------------------------------------------------------------------------------
-- 7. 0007's counters with the tenant held in a variable: every statement names its tenant as a
--    constant (a single-shard query on Citus, where FOR NO KEY UPDATE must be single-shard), and
--    without a tenant context nothing is read or changed, as before.
-- ---------------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION app.refresh_customer_counters(ids uuid[]) RETURNS integer
  LANGUAGE plpgsql VOLATILE SECURITY INVOKER
  AS $$
DECLARE
  tenant  uuid := app.current_tenant_id();
  changed integer;
BEGIN
  IF tenant IS NULL THEN
    RETURN 0;
  END IF;
  PERFORM 1 FROM app.customers
    WHERE tenant_id = tenant AND id = ANY (ids)
    ORDER BY id
    FOR NO KEY UPDATE;

  UPDATE app.customers cu SET
    total_bookings      = f.total_bookings,
    total_spent         = f.total_spent,
    total_calls         = f.total_calls,
    total_conversations = f.total_conversations,
    total_messages      = f.total_messages,
    total_tickets       = f.total_tickets,
    satisfaction_score  = f.satisfaction_score,
    first_contact       = f.first_contact,
    last_contact        = f.last_contact,
    last_interaction    = f.last_interaction,
    last_message_at     = f.last_message_at
  FROM (
    SELECT c0.id,
           b.n::integer AS total_bookings,
           b.spent AS total_spent,
           ca.n::integer AS total_calls,
           v.n::integer AS total_conversations,
           m.n::integer AS total_messages,
           t.n::integer AS total_tickets,
           v.rating AS satisfaction_score,
           least(c0.created_at, ca.first, m.first) AS first_contact,
           greatest(ca.last, s.last, m.last) AS last_contact,
           greatest(ca.last, s.last, m.last, b.last) AS last_interaction,
           m.last AS last_message_at
    FROM app.customers c0
    CROSS JOIN LATERAL (SELECT count(*) AS n, max(created_at) AS last,
                               coalesce(sum(payment_amount) FILTER (WHERE payment_status = 'paid'), 0) AS spent
                        FROM app.bookings
                        WHERE tenant_id = tenant AND customer_id = c0.id) b
    CROSS JOIN LATERAL (SELECT count(*) AS n, min(started_at) AS first, max(started_at) AS last
                        FROM app.calls
                        WHERE tenant_id = tenant AND customer_id = c0.id) ca
    CROSS JOIN LATERAL (SELECT max(created_at) AS last
                        FROM app.sms_messages
                        WHERE tenant_id = tenant AND customer_id = c0.id) s
    CROSS JOIN LATERAL (SELECT count(*) AS n,
                               round(avg((customer_satisfaction ->> 'rating')::numeric), 2) AS rating
                        FROM app.conversations
                        WHERE tenant_id = tenant AND customer_id = c0.id) v
    CROSS JOIN LATERAL (SELECT count(*) AS n, min(sent_at) AS first, max(sent_at) AS last
                        FROM app.messages
                        WHERE tenant_id = tenant AND customer_id = c0.id) m
    CROSS JOIN LATERAL (SELECT count(*) AS n
                        FROM app.tickets
                        WHERE tenant_id = tenant AND customer_id = c0.id) t
    WHERE c0.tenant_id = tenant AND c0.id = ANY (ids)
  ) f
  WHERE cu.tenant_id = tenant AND cu.id = f.id
    AND (cu.total_bookings, cu.total_spent, cu.total_calls, cu.total_conversations,
         cu.total_messages, cu.total_tickets, cu.satisfaction_score, cu.first_contact,
         cu.last_contact, cu.last_interaction, cu.last_message_at)
        IS DISTINCT FROM
        (f.total_bookings, f.total_spent, f.total_calls, f.total_conversations,
         f.total_messages, f.total_tickets, f.satisfaction_score, f.first_contact,
         f.last_contact, f.last_interaction, f.last_message_at);

  GET DIAGNOSTICS changed = ROW_COUNT;
  RETURN changed;
END
$$;

-- ---------------------------------------------------------------------------------------------------
-- 8. unread_count: unchanged, no longer called per row by the application.
-- ---------------------------------------------------------------------------------------------------
COMMENT ON FUNCTION app.unread_count(uuid, uuid) IS
  'Unread inbound messages of one conversation for one member. For tests and operators: the application inlines the same count as a LATERAL subquery (crates/db/src/exprs.rs), which a distributed (Citus) plan can push down.';

-- ---------------------------------------------------------------------------------------------------
-- 9. 0009's purge with the tenant held in a variable, like 7 (it runs inside the numbering).
-- ---------------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION app.purge_inbox_events(older_than timestamptz, batch integer DEFAULT 2048)
  RETURNS bigint
  LANGUAGE plpgsql
  AS $$
DECLARE
  tenant  uuid := app.current_tenant_id();
  upto    bigint;
  deleted bigint;
BEGIN
  SELECT max(seq) INTO upto FROM (
    SELECT seq FROM app.inbox_events
     WHERE tenant_id = tenant AND seq IS NOT NULL AND committed_at < older_than
     ORDER BY committed_at
     LIMIT batch
  ) oldest;
  IF upto IS NULL THEN
    RETURN 0;
  END IF;
  UPDATE app.event_counters SET purged_through = greatest(purged_through, upto)
   WHERE tenant_id = tenant;
  DELETE FROM app.inbox_events
   WHERE tenant_id = tenant AND seq <= upto;
  GET DIAGNOSTICS deleted = ROW_COUNT;
  RETURN deleted;
END
$$;
