-- 0008 live inbox: commit-ordered events for subscriptions, per-agent read markers, and the links
-- that put SMS and calls into conversations.
--
-- Why a per-tenant counter taken at commit, and not a sequence or serial id: a sequence hands out
-- numbers when a row is inserted, and transactions commit in a different order than they insert.
-- A subscriber that has seen event 12 may never see 11 if 11 commits after 12 was read. Here every
-- event row is inserted with `seq` NULL; a deferred constraint trigger runs at COMMIT, takes the
-- tenant's row in app.event_counters FOR UPDATE (by updating it), numbers the transaction's events
-- and keeps the row lock until the commit is visible. The next writer of the tenant waits for that
-- lock, so it can only take a higher number after this one is visible: within a tenant, `seq`
-- order is commit order, and "read every event with seq > my cursor" never skips one. The lock is
-- held only from the commit-time trigger to the end of the commit, not for the transaction.
--
-- The notification on channel `frontdesk_inbox` carries only the tenant id: listeners read the
-- events themselves under that tenant's context (row-level security), so nothing of the content
-- passes through NOTIFY, and a missed notification loses nothing (the next read catches up).
--
-- Events come from statement-level triggers on the tables the inbox shows, so every writer (API,
-- webhooks, another replica, a future job) produces them without having to remember to. The bulk
-- seed sets `frontdesk.suppress_events` for its own transactions: seeded history is not "new".
-- Only rows of the current tenant emit: foreign-key actions (ON DELETE SET NULL when an identity
-- is removed outside any tenant context) bypass row-level security and may touch other tenants'
-- rows; they change no inbox state a watcher acts on, and must not fail the deletion.

-- ---------------------------------------------------------------------------------------------------
-- Links: the message that mirrors an SMS or a call in the customer's conversation on that channel.
-- At most one message per SMS and per call, so recording the same SMS or call again never adds a
-- second message. `seq` is the commit-order number of the message's `message_added` event (NULL
-- for seeded history), which is what per-agent read markers compare against.
-- ---------------------------------------------------------------------------------------------------
ALTER TABLE app.messages
  ADD COLUMN seq bigint,
  ADD COLUMN call_id uuid,
  ADD COLUMN sms_message_id uuid,
  ADD CONSTRAINT messages_call_fkey FOREIGN KEY (tenant_id, call_id)
    REFERENCES app.calls (tenant_id, id) ON DELETE SET NULL (call_id),
  ADD CONSTRAINT messages_sms_message_fkey FOREIGN KEY (tenant_id, sms_message_id)
    REFERENCES app.sms_messages (tenant_id, id) ON DELETE SET NULL (sms_message_id);
CREATE UNIQUE INDEX messages_call_key ON app.messages (tenant_id, call_id) WHERE call_id IS NOT NULL;
CREATE UNIQUE INDEX messages_sms_message_key ON app.messages (tenant_id, sms_message_id) WHERE sms_message_id IS NOT NULL;

-- Per-agent read marker in commit order: every message with seq <= last_read_seq is read.
ALTER TABLE app.conversation_reads ADD COLUMN last_read_seq bigint CHECK (last_read_seq >= 0);

-- Unread inbound messages of one conversation for one member: exact, not capped. Live messages
-- compare their commit-order `seq` with the marker; seeded history (no seq) compares times.
CREATE FUNCTION app.unread_count(conversation uuid, member uuid) RETURNS bigint
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$
  SELECT count(*)
    FROM app.messages m
    LEFT JOIN app.conversation_reads r
      ON r.tenant_id = app.current_tenant_id() AND r.conversation_id = conversation AND r.user_id = member
   WHERE m.tenant_id = app.current_tenant_id()
     AND m.conversation_id = conversation
     AND m.direction = 'inbound'
     AND NOT coalesce(CASE WHEN m.seq IS NOT NULL THEN m.seq <= r.last_read_seq
                           ELSE m.sent_at <= r.last_read_at END, false)
$$;

-- ---------------------------------------------------------------------------------------------------
-- The event log and the per-tenant counter.
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE app.event_counters (
  tenant_id uuid NOT NULL DEFAULT app.current_tenant_id() REFERENCES app.tenants (id) ON DELETE CASCADE,
  last_seq  bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
  PRIMARY KEY (tenant_id)
);

CREATE TABLE app.inbox_events (
  tenant_id       uuid NOT NULL DEFAULT app.current_tenant_id() REFERENCES app.tenants (id) ON DELETE CASCADE,
  -- Insertion order within a transaction (the order its events are numbered in); not an order
  -- across transactions.
  id              bigint GENERATED ALWAYS AS IDENTITY,
  -- Commit order within the tenant; NULL until the writing transaction commits.
  seq             bigint,
  txid            xid8 NOT NULL DEFAULT pg_current_xact_id(),
  kind            text NOT NULL CHECK (kind IN ('message_added', 'conversation_updated')),
  conversation_id uuid NOT NULL,
  message_id      uuid,
  -- The conversation's channel, so a subscriber's channel filter needs no join.
  channel         text NOT NULL,
  committed_at    timestamptz,
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT inbox_events_tenant_id_seq_key UNIQUE (tenant_id, seq),
  CONSTRAINT inbox_events_kind_message CHECK ((kind = 'message_added') = (message_id IS NOT NULL)),
  CONSTRAINT inbox_events_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
    REFERENCES app.conversations (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT inbox_events_message_fkey FOREIGN KEY (tenant_id, message_id)
    REFERENCES app.messages (tenant_id, id) ON DELETE CASCADE
);
-- The current transaction's unnumbered events.
CREATE INDEX inbox_events_pending_idx ON app.inbox_events (tenant_id, txid) WHERE seq IS NULL;
-- One conversation_updated event per conversation per transaction, however many rows changed it.
CREATE UNIQUE INDEX inbox_events_pending_update_key ON app.inbox_events (tenant_id, txid, conversation_id)
  WHERE seq IS NULL AND kind = 'conversation_updated';
CREATE INDEX inbox_events_conversation_idx ON app.inbox_events (tenant_id, conversation_id, seq);

CALL app.isolate_by_tenant('app.event_counters');
CALL app.isolate_by_tenant('app.inbox_events');

-- ---------------------------------------------------------------------------------------------------
-- Numbering at commit.
-- ---------------------------------------------------------------------------------------------------
CREATE FUNCTION app.sequence_inbox_events() RETURNS trigger
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
  -- Locks the tenant's counter row until this transaction ends (see the header).
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
  PERFORM pg_notify('frontdesk_inbox', NEW.tenant_id::text);
  RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER sequence_at_commit AFTER INSERT ON app.inbox_events
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION app.sequence_inbox_events();

-- ---------------------------------------------------------------------------------------------------
-- Event sources.
-- ---------------------------------------------------------------------------------------------------
CREATE FUNCTION app.events_suppressed() RETURNS boolean
  LANGUAGE sql STABLE
  AS $$ SELECT coalesce(current_setting('frontdesk.suppress_events', true), '') = 'on' $$;

-- A new message: message_added.
CREATE FUNCTION app.emit_message_added() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  IF app.events_suppressed() THEN
    RETURN NULL;
  END IF;
  INSERT INTO app.inbox_events (tenant_id, kind, conversation_id, message_id, channel)
  SELECT n.tenant_id, 'message_added', n.conversation_id, n.id, c.channel
    FROM new_rows n
    JOIN app.conversations c ON c.tenant_id = n.tenant_id AND c.id = n.conversation_id
   WHERE n.tenant_id = app.current_tenant_id()
   ORDER BY n.sent_at, n.id;
  RETURN NULL;
END
$$;

CREATE TRIGGER emit_events AFTER INSERT ON app.messages
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION app.emit_message_added();

-- A new conversation, or any visible change to one (everything but updated_at): conversation_updated.
CREATE FUNCTION app.emit_conversation_updated() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  IF app.events_suppressed() THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO app.inbox_events (tenant_id, kind, conversation_id, channel)
    SELECT n.tenant_id, 'conversation_updated', n.id, n.channel FROM new_rows n
     WHERE n.tenant_id = app.current_tenant_id()
    ON CONFLICT (tenant_id, txid, conversation_id) WHERE seq IS NULL AND kind = 'conversation_updated'
    DO NOTHING;
  ELSE
    INSERT INTO app.inbox_events (tenant_id, kind, conversation_id, channel)
    SELECT n.tenant_id, 'conversation_updated', n.id, n.channel
      FROM new_rows n
      JOIN old_rows o ON o.tenant_id = n.tenant_id AND o.id = n.id
     WHERE n.tenant_id = app.current_tenant_id()
       AND to_jsonb(n) - 'updated_at' IS DISTINCT FROM to_jsonb(o) - 'updated_at'
    ON CONFLICT (tenant_id, txid, conversation_id) WHERE seq IS NULL AND kind = 'conversation_updated'
    DO NOTHING;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER emit_events_insert AFTER INSERT ON app.conversations
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION app.emit_conversation_updated();
CREATE TRIGGER emit_events_update AFTER UPDATE ON app.conversations
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION app.emit_conversation_updated();

-- A read marker or an internal note changed: the conversation's unread counts or notes did, so
-- its watchers hear conversation_updated.
CREATE FUNCTION app.emit_child_conversation_updated() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  IF app.events_suppressed() THEN
    RETURN NULL;
  END IF;
  INSERT INTO app.inbox_events (tenant_id, kind, conversation_id, channel)
  SELECT DISTINCT n.tenant_id, 'conversation_updated', n.conversation_id, c.channel
    FROM new_rows n
    JOIN app.conversations c ON c.tenant_id = n.tenant_id AND c.id = n.conversation_id
   WHERE n.tenant_id = app.current_tenant_id()
  ON CONFLICT (tenant_id, txid, conversation_id) WHERE seq IS NULL AND kind = 'conversation_updated'
  DO NOTHING;
  RETURN NULL;
END
$$;

CREATE TRIGGER emit_events_insert AFTER INSERT ON app.conversation_reads
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION app.emit_child_conversation_updated();
CREATE TRIGGER emit_events_update AFTER UPDATE ON app.conversation_reads
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION app.emit_child_conversation_updated();
CREATE TRIGGER emit_events_insert AFTER INSERT ON app.conversation_notes
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION app.emit_child_conversation_updated();
