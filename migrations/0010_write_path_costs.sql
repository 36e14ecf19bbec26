-- 0010 write-path costs found by the live-inbox benchmark
--
-- 1. The JSONB shape helpers of 0001 become PL/pgSQL. As `LANGUAGE sql` functions PostgreSQL
--    inlined them into every CHECK constraint that calls them, and it prepares a table's CHECK
--    expressions once per statement: every INSERT or UPDATE of a message (about fifteen helper
--    calls in its CHECKs) or a conversation (about twenty) re-parsed and re-planned every helper
--    body. A PL/pgSQL function is compiled once per session and never inlined, so preparing the
--    CHECKs becomes trivial and each call costs a cached-plan evaluation instead. Measured with
--    pgbench inserting single messages (8 clients, events on): 220–315 → 404–440 transactions/s
--    on the 2-core development machine. Same bodies, same results.
--
-- 2. Every foreign key gets an index that leads with its columns. Deleting a conversation
--    cascades to its messages, and each deleted message then looked for its events
--    (inbox_events.message_id) and read markers (conversation_reads.last_read_message_id) with a
--    sequential scan: quadratic, minutes for a conversation with a few thousand messages. The
--    references to members (agent, assigned_by, …) are only followed when a membership is
--    removed, but the same rule keeps that from scanning whole tables; those indexes are partial
--    (only rows that reference someone), so they cost nothing for rows that do not.

CREATE OR REPLACE FUNCTION app.jsonb_field_is(doc jsonb, field text, VARIADIC types text[])
  RETURNS boolean
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
  AS $$
BEGIN
  RETURN coalesce(jsonb_typeof(doc -> field), 'null') = 'null'
      OR jsonb_typeof(doc -> field) = ANY (types);
END
$$;

CREATE OR REPLACE FUNCTION app.jsonb_field_in(doc jsonb, field text, VARIADIC allowed text[])
  RETURNS boolean
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
  AS $$
BEGIN
  RETURN CASE coalesce(jsonb_typeof(doc -> field), 'null')
           WHEN 'null' THEN true
           WHEN 'string' THEN (doc ->> field) = ANY (allowed)
           ELSE false
         END;
END
$$;

CREATE OR REPLACE FUNCTION app.jsonb_field_between(doc jsonb, field text, lo numeric, hi numeric)
  RETURNS boolean
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
  AS $$
BEGIN
  RETURN CASE coalesce(jsonb_typeof(doc -> field), 'null')
           WHEN 'null' THEN true
           WHEN 'number' THEN (doc ->> field)::numeric BETWEEN lo AND hi
           ELSE false
         END;
END
$$;

CREATE OR REPLACE FUNCTION app.jsonb_is_object_array(doc jsonb) RETURNS boolean
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
  AS $$
BEGIN
  RETURN jsonb_typeof(doc) = 'array'
     AND NOT jsonb_path_exists(doc, '$[*] ? (@.type() != "object")');
END
$$;

CREATE INDEX inbox_events_message_idx ON app.inbox_events (tenant_id, message_id)
  WHERE message_id IS NOT NULL;
CREATE INDEX conversation_reads_last_read_message_idx
  ON app.conversation_reads (tenant_id, last_read_message_id) WHERE last_read_message_id IS NOT NULL;
CREATE INDEX messages_agent_idx ON app.messages (tenant_id, agent_id) WHERE agent_id IS NOT NULL;
CREATE INDEX conversation_notes_agent_idx ON app.conversation_notes (tenant_id, agent_id)
  WHERE agent_id IS NOT NULL;
CREATE INDEX conversations_assigned_by_idx ON app.conversations (tenant_id, assigned_by)
  WHERE assigned_by IS NOT NULL;
CREATE INDEX conversations_resolved_by_idx ON app.conversations (tenant_id, resolved_by)
  WHERE resolved_by IS NOT NULL;
CREATE INDEX demo_request_notes_added_by_idx ON app.demo_request_notes (tenant_id, added_by)
  WHERE added_by IS NOT NULL;
CREATE INDEX tenant_settings_updated_by_idx ON app.tenant_settings (tenant_id, updated_by)
  WHERE updated_by IS NOT NULL;
CREATE INDEX ticket_notes_agent_idx ON app.ticket_notes (tenant_id, agent_id)
  WHERE agent_id IS NOT NULL;
CREATE INDEX tickets_escalated_to_idx ON app.tickets (tenant_id, escalated_to)
  WHERE escalated_to IS NOT NULL;
