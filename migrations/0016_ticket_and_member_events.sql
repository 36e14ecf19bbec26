-- 0016 ticket and member events: the commit-ordered event log of 0008 also records tickets and
-- team members, for the `ticketUpdated` and `memberUpdated` subscriptions.
--
-- One log, not a second one: a subscriber's cursor is a position in its tenant's commit order,
-- and every kind of event takes its number from the same counter row under the same commit-time
-- lock (0008's `sequence_inbox_events`, with 0009's retention). So a cursor stays valid whatever
-- kinds its subscription watches, the process keeps its one LISTEN connection and one read per
-- tenant and commit, and the retention purge (which deletes by number) covers the new rows
-- without change. Each event row now names exactly one subject: a conversation (with its
-- channel; message_added also names the message), a ticket, or a member (by user id, which is
-- what assignments reference and how the API keys a Member). CHECKs tie each kind to its
-- subject column, and deleting the subject deletes its events, as for conversations.
--
-- The sources follow 0008's rules: statement-level triggers, so every writer emits; nothing
-- while `frontdesk.suppress_events` is on (the bulk seed); only rows of the current tenant
-- (foreign-key actions bypass row-level security and may touch other tenants' rows, e.g. a
-- ticket's assignee set to NULL when a user is deleted outside any tenant context); at most one
-- event per subject per transaction, however many statements changed it.

-- ---------------------------------------------------------------------------------------------------
-- The log: a subject column per kind.
-- ---------------------------------------------------------------------------------------------------
ALTER TABLE app.inbox_events
  ALTER COLUMN conversation_id DROP NOT NULL,
  ALTER COLUMN channel DROP NOT NULL,
  ADD COLUMN ticket_id uuid,
  ADD COLUMN member_id uuid,
  DROP CONSTRAINT inbox_events_kind_check,
  ADD CONSTRAINT inbox_events_kind_check
    CHECK (kind IN ('message_added', 'conversation_updated', 'ticket_updated', 'member_updated')),
  ADD CONSTRAINT inbox_events_kind_conversation
    CHECK ((kind IN ('message_added', 'conversation_updated')) = (conversation_id IS NOT NULL)
           AND (conversation_id IS NULL) = (channel IS NULL)),
  ADD CONSTRAINT inbox_events_kind_ticket CHECK ((kind = 'ticket_updated') = (ticket_id IS NOT NULL)),
  ADD CONSTRAINT inbox_events_kind_member CHECK ((kind = 'member_updated') = (member_id IS NOT NULL)),
  ADD CONSTRAINT inbox_events_ticket_fkey FOREIGN KEY (tenant_id, ticket_id)
    REFERENCES app.tickets (tenant_id, id) ON DELETE CASCADE,
  ADD CONSTRAINT inbox_events_member_fkey FOREIGN KEY (tenant_id, member_id)
    REFERENCES app.memberships (tenant_id, user_id) ON DELETE CASCADE;

-- Behind the foreign keys (a deleted ticket or membership finds its events), partial like 0010's.
CREATE INDEX inbox_events_ticket_idx ON app.inbox_events (tenant_id, ticket_id, seq)
  WHERE ticket_id IS NOT NULL;
CREATE INDEX inbox_events_member_idx ON app.inbox_events (tenant_id, member_id, seq)
  WHERE member_id IS NOT NULL;
-- One ticket_updated per ticket and one member_updated per member per transaction (0008's
-- inbox_events_pending_update_key does the same for conversations).
CREATE UNIQUE INDEX inbox_events_pending_ticket_key ON app.inbox_events (tenant_id, txid, ticket_id)
  WHERE seq IS NULL AND kind = 'ticket_updated';
CREATE UNIQUE INDEX inbox_events_pending_member_key ON app.inbox_events (tenant_id, txid, member_id)
  WHERE seq IS NULL AND kind = 'member_updated';

-- ---------------------------------------------------------------------------------------------------
-- Tickets: a new ticket, or any visible change to one (everything but updated_at).
-- ---------------------------------------------------------------------------------------------------
CREATE FUNCTION app.emit_ticket_updated() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  IF app.events_suppressed() THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO app.inbox_events (tenant_id, kind, ticket_id)
    SELECT n.tenant_id, 'ticket_updated', n.id FROM new_rows n
     WHERE n.tenant_id = app.current_tenant_id()
    ON CONFLICT (tenant_id, txid, ticket_id) WHERE seq IS NULL AND kind = 'ticket_updated'
    DO NOTHING;
  ELSE
    INSERT INTO app.inbox_events (tenant_id, kind, ticket_id)
    SELECT n.tenant_id, 'ticket_updated', n.id
      FROM new_rows n
      JOIN old_rows o ON o.tenant_id = n.tenant_id AND o.id = n.id
     WHERE n.tenant_id = app.current_tenant_id()
       AND to_jsonb(n) - 'updated_at' IS DISTINCT FROM to_jsonb(o) - 'updated_at'
    ON CONFLICT (tenant_id, txid, ticket_id) WHERE seq IS NULL AND kind = 'ticket_updated'
    DO NOTHING;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER emit_events_insert AFTER INSERT ON app.tickets
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION app.emit_ticket_updated();
CREATE TRIGGER emit_events_update AFTER UPDATE ON app.tickets
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION app.emit_ticket_updated();

-- A note added, edited or removed: its ticket's notes changed. The join keeps only tickets that
-- still exist, so notes deleted by their ticket's own deletion (a cascade) emit nothing.
CREATE FUNCTION app.emit_note_ticket_updated() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  IF app.events_suppressed() THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'DELETE' THEN
    INSERT INTO app.inbox_events (tenant_id, kind, ticket_id)
    SELECT DISTINCT o.tenant_id, 'ticket_updated', o.ticket_id
      FROM old_rows o
      JOIN app.tickets t ON t.tenant_id = o.tenant_id AND t.id = o.ticket_id
     WHERE o.tenant_id = app.current_tenant_id()
    ON CONFLICT (tenant_id, txid, ticket_id) WHERE seq IS NULL AND kind = 'ticket_updated'
    DO NOTHING;
  ELSE
    INSERT INTO app.inbox_events (tenant_id, kind, ticket_id)
    SELECT DISTINCT n.tenant_id, 'ticket_updated', n.ticket_id
      FROM new_rows n
      JOIN app.tickets t ON t.tenant_id = n.tenant_id AND t.id = n.ticket_id
     WHERE n.tenant_id = app.current_tenant_id()
    ON CONFLICT (tenant_id, txid, ticket_id) WHERE seq IS NULL AND kind = 'ticket_updated'
    DO NOTHING;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER emit_events_insert AFTER INSERT ON app.ticket_notes
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION app.emit_note_ticket_updated();
CREATE TRIGGER emit_events_update AFTER UPDATE ON app.ticket_notes
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION app.emit_note_ticket_updated();
CREATE TRIGGER emit_events_delete AFTER DELETE ON app.ticket_notes
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION app.emit_note_ticket_updated();

-- ---------------------------------------------------------------------------------------------------
-- Members: a new membership, or a change to what a team roster shows live — presence, the
-- assignment counters, role, active flag. Not on everything else (last_activity_at and
-- last_login_at move on every request or sign-in; preferences are the member's own business):
-- an event there would wake every roster of the tenant for nothing.
-- ---------------------------------------------------------------------------------------------------
CREATE FUNCTION app.emit_member_updated() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  IF app.events_suppressed() THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO app.inbox_events (tenant_id, kind, member_id)
    SELECT n.tenant_id, 'member_updated', n.user_id FROM new_rows n
     WHERE n.tenant_id = app.current_tenant_id()
    ON CONFLICT (tenant_id, txid, member_id) WHERE seq IS NULL AND kind = 'member_updated'
    DO NOTHING;
  ELSE
    INSERT INTO app.inbox_events (tenant_id, kind, member_id)
    SELECT n.tenant_id, 'member_updated', n.user_id
      FROM new_rows n
      JOIN old_rows o ON o.tenant_id = n.tenant_id AND o.id = n.id
     WHERE n.tenant_id = app.current_tenant_id()
       AND (n.status, n.current_active_conversations, n.total_conversations,
            n.resolved_conversations, n.role, n.is_active, n.user_id)
           IS DISTINCT FROM
           (o.status, o.current_active_conversations, o.total_conversations,
            o.resolved_conversations, o.role, o.is_active, o.user_id)
    ON CONFLICT (tenant_id, txid, member_id) WHERE seq IS NULL AND kind = 'member_updated'
    DO NOTHING;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER emit_events_insert AFTER INSERT ON app.memberships
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION app.emit_member_updated();
CREATE TRIGGER emit_events_update AFTER UPDATE ON app.memberships
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION app.emit_member_updated();
