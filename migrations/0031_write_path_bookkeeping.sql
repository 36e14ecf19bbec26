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
--    other table's entries change. The numbering's own UPDATE is recognised before any row
--    document is built (the row is byte for byte the old one with the new `seq` and
--    `updated_at`); anything less identical takes the general comparison.
--
-- 2. CHECK constraints that cost more to set up than to evaluate. PostgreSQL evaluates every
--    CHECK of a table on every INSERT and on every UPDATE (the numbering's included), and for
--    each statement it first rebuilds each constraint's expression from its stored text and
--    plans it. The JSON-document checks of `messages` and `audit_log` (0004/0005) were large
--    expressions (VARIADIC arrays, a JSON path) calling the `app.jsonb_field_*` helpers, and
--    `NULL AND …` does not short-circuit: a message with no location, template, interactive
--    part or AI response, default metadata `{}` and no attachments `[]` made about twenty
--    PL/pgSQL calls per write, and the expressions' set-up was a good part of each statement.
--    Each check is now the trivially passing case OR one validator function holding the former
--    expression verbatim (IMMUTABLE PL/pgSQL, like the helpers), with the same verdict for
--    every value:
--      col IS NULL OR valid(col)        the former check of a NULL document is NULL (passes):
--                                       jsonb_typeof(NULL) is NULL and the helpers answer true
--      metadata = '{}' OR valid(…)      '{}' is an object without the checked fields: passes
--      attachments = '[]' OR valid(…)   an empty array: passes
--      details: an object, and valid(details) when it has `changes` or `reason` (the only
--               fields the former check looked into)
--    Constraint names are kept (errors map them to fields). crates/db/tests/write_path.rs
--    checks the verdicts.

-- ---------------------------------------------------------------------------------------------------
-- 1. The audit trigger: `messages.seq` is bookkeeping, like `updated_at`. As 0030's, but for the
--    numbering's stamp and the column list of an UPDATE's `changes`.
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
  stamped  record;
BEGIN
  -- A registered bulk writer writes this entry itself (`app.audit_created`). The setting is
  -- read first: an ordinary insert reads no table here.
  IF TG_OP = 'INSERT'
     AND current_setting('frontdesk.audit_setwise', true) = 'on'
     AND EXISTS (SELECT 1 FROM app.audit_setwise_xacts r WHERE r.xact = pg_current_xact_id()) THEN
    RETURN NULL;
  END IF;
  -- The numbering's stamp of a message (0031): when the row is, byte for byte, the old one
  -- with the new `seq` and `updated_at`, nothing else changed; no documents needed to see it.
  IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'messages' THEN
    stamped := OLD;
    stamped.seq := NEW.seq;
    stamped.updated_at := NEW.updated_at;
    IF NEW *= stamped THEN
      RETURN NULL;
    END IF;
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
-- 2. The document checks of the write path: the trivially passing case, else the former
--    expression, now in a validator function.
-- ---------------------------------------------------------------------------------------------------
-- The former check expressions, verbatim, with the column as `doc`.
CREATE FUNCTION app.message_location_valid(doc jsonb) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN jsonb_typeof(doc) = 'object'
    AND app.jsonb_field_between(doc, 'latitude', -90, 90)
    AND app.jsonb_field_between(doc, 'longitude', -180, 180)
    AND app.jsonb_field_is(doc, 'address', 'string')
    AND app.jsonb_field_is(doc, 'name', 'string');
END $$;
CREATE FUNCTION app.message_attachments_valid(doc jsonb) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN app.jsonb_is_object_array(doc)
    AND NOT jsonb_path_exists(doc, '$[*] ? (exists(@.type) && !(@.type == "image" || @.type == "document" || @.type == "audio" || @.type == "video"))');
END $$;
CREATE FUNCTION app.message_interactive_valid(doc jsonb) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN jsonb_typeof(doc) = 'object'
    AND app.jsonb_field_in(doc, 'type', 'button', 'list', 'quick_reply')
    AND app.jsonb_field_is(doc, 'buttons', 'array')
    AND app.jsonb_field_is(doc, 'listItems', 'array');
END $$;
CREATE FUNCTION app.message_ai_response_valid(doc jsonb) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN jsonb_typeof(doc) = 'object'
    AND app.jsonb_field_between(doc, 'confidence', 0, 1)
    AND app.jsonb_field_is(doc, 'intent', 'string')
    AND app.jsonb_field_is(doc, 'entities', 'array')
    AND app.jsonb_field_in(doc, 'sentiment', 'positive', 'neutral', 'negative');
END $$;
CREATE FUNCTION app.message_metadata_valid(doc jsonb) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN jsonb_typeof(doc) = 'object'
    AND app.jsonb_field_is(doc, 'model', 'string')
    AND app.jsonb_field_in(doc, 'feedbackRating', 'positive', 'negative');
END $$;
CREATE FUNCTION app.message_template_valid(doc jsonb) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN jsonb_typeof(doc) = 'object'
    AND app.jsonb_field_is(doc, 'name', 'string')
    AND app.jsonb_field_is(doc, 'language', 'string')
    AND app.jsonb_field_is(doc, 'parameters', 'array')
    AND app.jsonb_field_is(doc, 'category', 'string');
END $$;
CREATE FUNCTION app.audit_details_valid(doc jsonb) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN app.jsonb_field_is(doc, 'changes', 'array') AND app.jsonb_field_is(doc, 'reason', 'string');
END $$;
CREATE FUNCTION app.audit_location_valid(doc jsonb) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN jsonb_typeof(doc) = 'object'
    AND app.jsonb_field_is(doc, 'country', 'string')
    AND app.jsonb_field_is(doc, 'region', 'string')
    AND app.jsonb_field_is(doc, 'city', 'string');
END $$;

ALTER TABLE app.messages
  DROP CONSTRAINT messages_ai_response_check,
  ADD CONSTRAINT messages_ai_response_check CHECK (ai_response IS NULL OR app.message_ai_response_valid(ai_response)),
  DROP CONSTRAINT messages_attachments_check,
  ADD CONSTRAINT messages_attachments_check CHECK (attachments = '[]'::jsonb OR app.message_attachments_valid(attachments)),
  DROP CONSTRAINT messages_interactive_check,
  ADD CONSTRAINT messages_interactive_check CHECK (interactive IS NULL OR app.message_interactive_valid(interactive)),
  DROP CONSTRAINT messages_location_check,
  ADD CONSTRAINT messages_location_check CHECK (location IS NULL OR app.message_location_valid(location)),
  DROP CONSTRAINT messages_metadata_check,
  ADD CONSTRAINT messages_metadata_check CHECK (metadata = '{}'::jsonb OR app.message_metadata_valid(metadata)),
  DROP CONSTRAINT messages_template_check,
  ADD CONSTRAINT messages_template_check CHECK (template IS NULL OR app.message_template_valid(template));

ALTER TABLE app.audit_log
  DROP CONSTRAINT audit_log_details_check,
  ADD CONSTRAINT audit_log_details_check CHECK (jsonb_typeof(details) = 'object'
                                           AND (NOT details ?| ARRAY['changes', 'reason']
                                                OR app.audit_details_valid(details))),
  DROP CONSTRAINT audit_log_location_check,
  ADD CONSTRAINT audit_log_location_check CHECK (location IS NULL OR app.audit_location_valid(location));
