-- 0031 The inbox write path pays for what it writes, not for bookkeeping around it.
--
-- Measured per message of the live-inbox writer (a plain INSERT into `messages` in a tenant
-- scope; the triggers of 0008/0016/0022/0029 do the rest), as the runtime role: roughly a third
-- of PostgreSQL's time went to two kinds of waste, both repeated for every message.
--
-- 1. The `updated` audit entry of the commit-time numbering. The numbering (0008/0029) stamps
--    `messages.seq` with an UPDATE of the row the same transaction has just inserted. The audit
--    trigger (0022) saw a change of `seq` and wrote a second entry per message ("updated",
--    changes: [seq]), with both row documents — and with it the entry's eight index entries, its
--    foreign-key check and its CHECK constraints. `seq` is the message's position in the
--    tenant's event log, assigned by the database at COMMIT, like `updated_at` (which
--    `set_updated_at` bumps on every UPDATE): an UPDATE that changes nothing of a message but
--    `seq` and `updated_at` now writes no entry. The `created` entry is unchanged, and so is
--    every entry of an UPDATE that changes anything else (its documents still show `seq`). No
--    other table's entries change.
--
-- 2. CHECK constraints that call PL/pgSQL for values that cannot fail them. The JSON-document
--    checks of `messages` and `audit_log` (0004/0005) call the `app.jsonb_field_*` helpers, which
--    accept a NULL document or a missing field; PostgreSQL evaluates a CHECK on every INSERT and
--    on every UPDATE (the numbering's included), and `NULL AND …` does not short-circuit, so a
--    message with no location, template, interactive part or AI response, default metadata
--    `{}` and no attachments `[]` made about twenty PL/pgSQL calls per write, each with its
--    per-transaction set-up. Each check now starts with the case that passes trivially (the
--    column NULL, or the empty default), with the same verdict for every value:
--      col IS NULL OR (check)     the check of a NULL column is NULL (passes): the helpers answer
--                                 true for a NULL document and jsonb_typeof(NULL) is NULL
--      metadata = '{}' OR (check) '{}' is an object without the checked fields: passes
--      attachments = '[]' OR (check) an empty array: passes
--      details: an object without `changes` or `reason` passes the field checks
--    Names are kept (errors map constraint names to fields).

-- ---------------------------------------------------------------------------------------------------
-- 1. The audit trigger: `messages.seq` is bookkeeping, like `updated_at`. As 0030's, but for the
--    column list of an UPDATE's `changes`.
-- ---------------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION app.audit_row() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  category text := nullif(TG_ARGV[0], '');
  secrets  text[] := TG_ARGV[1]::text[];
  skipped  text[] := TG_ARGV[2]::text[];
  sensitive boolean := TG_ARGV[3]::boolean;
  old_doc  jsonb;
  new_doc  jsonb;
  changed  text[];
  doc      jsonb;
  tenant   uuid;
  details  jsonb;
BEGIN
  -- A registered bulk writer writes this entry itself (`app.audit_created`). The setting is
  -- read first: an ordinary insert reads no table here.
  IF TG_OP = 'INSERT'
     AND current_setting('frontdesk.audit_setwise', true) = 'on'
     AND EXISTS (SELECT 1 FROM app.audit_setwise_xacts r WHERE r.xact = pg_current_xact_id()) THEN
    RETURN NULL;
  END IF;
  IF TG_OP <> 'INSERT' THEN old_doc := to_jsonb(OLD) - skipped; END IF;
  IF TG_OP <> 'DELETE' THEN new_doc := to_jsonb(NEW) - skipped; END IF;
  IF TG_OP = 'UPDATE' THEN
    SELECT array_agg(n.key ORDER BY n.key) INTO changed
      FROM jsonb_each(new_doc) n
     WHERE n.key <> 'updated_at'
       -- The commit-time event number of a message (0008): bookkeeping, see the header.
       AND NOT (n.key = 'seq' AND TG_TABLE_NAME = 'messages')
       AND n.value IS DISTINCT FROM old_doc -> n.key;
    IF changed IS NULL THEN
      RETURN NULL;
    END IF;
  END IF;
  doc := coalesce(new_doc, old_doc);
  tenant := CASE WHEN TG_TABLE_NAME = 'tenants' THEN doc ->> 'id' ELSE doc ->> 'tenant_id' END;
  -- A tenant's deletion cascades to all its rows (deleting them, or first clearing links with
  -- SET NULL): their entries would name a tenant that is gone, and its trail goes with it.
  IF TG_OP <> 'INSERT' AND NOT EXISTS (SELECT 1 FROM app.tenants t WHERE t.id = tenant) THEN
    RETURN NULL;
  END IF;
  IF secrets <> '{}' THEN
    old_doc := app.audit_redact(old_doc, secrets);
    new_doc := app.audit_redact(new_doc, secrets);
  END IF;
  details := CASE TG_OP
    WHEN 'INSERT' THEN jsonb_build_object('after', new_doc)
    WHEN 'DELETE' THEN jsonb_build_object('before', old_doc)
    ELSE jsonb_build_object('before', old_doc, 'after', new_doc, 'changes', to_jsonb(changed))
  END;
  INSERT INTO app.audit_log (tenant_id, entity_type, entity_id, action, performed_by, details,
                             metadata, ip_address, user_agent, severity, category, correlation_id)
  VALUES (tenant, TG_TABLE_NAME, doc ->> 'id',
          CASE TG_OP WHEN 'INSERT' THEN 'created' WHEN 'UPDATE' THEN 'updated' ELSE 'deleted' END,
          nullif(current_setting('frontdesk.user_id', true), '')::uuid,
          details,
          jsonb_build_object('operation', TG_OP,
                             'actorRole', nullif(current_setting('frontdesk.role', true), '')),
          nullif(current_setting('frontdesk.client_addr', true), '')::inet,
          nullif(current_setting('frontdesk.user_agent', true), ''),
          CASE WHEN sensitive AND TG_OP <> 'INSERT' THEN 'high'
               WHEN TG_OP = 'DELETE' THEN 'medium'
               ELSE 'low' END,
          category,
          nullif(current_setting('frontdesk.request_id', true), ''));
  RETURN NULL;
END
$$;

-- ---------------------------------------------------------------------------------------------------
-- 2. The document checks of the write path, short-circuited on the values that pass anyway.
-- ---------------------------------------------------------------------------------------------------
ALTER TABLE app.messages
  DROP CONSTRAINT messages_ai_response_check,
  ADD CONSTRAINT messages_ai_response_check CHECK (ai_response IS NULL OR (
    jsonb_typeof(ai_response) = 'object'
    AND app.jsonb_field_between(ai_response, 'confidence', 0, 1)
    AND app.jsonb_field_is(ai_response, 'intent', 'string')
    AND app.jsonb_field_is(ai_response, 'entities', 'array')
    AND app.jsonb_field_in(ai_response, 'sentiment', 'positive', 'neutral', 'negative'))),
  DROP CONSTRAINT messages_attachments_check,
  ADD CONSTRAINT messages_attachments_check CHECK (attachments = '[]'::jsonb OR (
    app.jsonb_is_object_array(attachments)
    AND NOT jsonb_path_exists(attachments, '$[*] ? (exists(@.type) && !(@.type == "image" || @.type == "document" || @.type == "audio" || @.type == "video"))'))),
  DROP CONSTRAINT messages_interactive_check,
  ADD CONSTRAINT messages_interactive_check CHECK (interactive IS NULL OR (
    jsonb_typeof(interactive) = 'object'
    AND app.jsonb_field_in(interactive, 'type', 'button', 'list', 'quick_reply')
    AND app.jsonb_field_is(interactive, 'buttons', 'array')
    AND app.jsonb_field_is(interactive, 'listItems', 'array'))),
  DROP CONSTRAINT messages_location_check,
  ADD CONSTRAINT messages_location_check CHECK (location IS NULL OR (
    jsonb_typeof(location) = 'object'
    AND app.jsonb_field_between(location, 'latitude', -90, 90)
    AND app.jsonb_field_between(location, 'longitude', -180, 180)
    AND app.jsonb_field_is(location, 'address', 'string')
    AND app.jsonb_field_is(location, 'name', 'string'))),
  DROP CONSTRAINT messages_metadata_check,
  ADD CONSTRAINT messages_metadata_check CHECK (metadata = '{}'::jsonb OR (
    jsonb_typeof(metadata) = 'object'
    AND app.jsonb_field_is(metadata, 'model', 'string')
    AND app.jsonb_field_in(metadata, 'feedbackRating', 'positive', 'negative'))),
  DROP CONSTRAINT messages_template_check,
  ADD CONSTRAINT messages_template_check CHECK (template IS NULL OR (
    jsonb_typeof(template) = 'object'
    AND app.jsonb_field_is(template, 'name', 'string')
    AND app.jsonb_field_is(template, 'language', 'string')
    AND app.jsonb_field_is(template, 'parameters', 'array')
    AND app.jsonb_field_is(template, 'category', 'string')));

ALTER TABLE app.audit_log
  DROP CONSTRAINT audit_log_details_check,
  ADD CONSTRAINT audit_log_details_check CHECK (
    jsonb_typeof(details) = 'object'
    AND (NOT details ?| ARRAY['changes', 'reason']
         OR (app.jsonb_field_is(details, 'changes', 'array')
             AND app.jsonb_field_is(details, 'reason', 'string')))),
  DROP CONSTRAINT audit_log_location_check,
  ADD CONSTRAINT audit_log_location_check CHECK (location IS NULL OR (
    jsonb_typeof(location) = 'object'
    AND app.jsonb_field_is(location, 'country', 'string')
    AND app.jsonb_field_is(location, 'region', 'string')
    AND app.jsonb_field_is(location, 'city', 'string')));
