-- 0030 set-wise `created` entries for bulk writers (`frontdesk seed`), issue 14.
--
-- The audit trigger of 0022 writes one entry per inserted row: a PL/pgSQL call and a one-row
-- INSERT into `audit_log` for each. For the seed, which writes hundreds of thousands of rows
-- with set-based statements, that is most of its time. A bulk writer may instead write the
-- `created` entries itself, set-wise, in the statement that inserts the rows
-- (`app.audit_created`), and the trigger then skips its INSERT entries — but only in a
-- transaction the database OWNER has registered for it:
--
-- * `app.audit_setwise_xacts` lists the registered transactions (by `pg_current_xact_id()`).
--   Only the owner can write it: the runtime role has no privilege on it, and forced row-level
--   security admits the owner alone. The owner registers a transaction of the runtime role with
--   `app.register_setwise_audit(xact)`, committed before that transaction writes, and removes it
--   with `app.unregister_setwise_audit(xact)` afterwards; registering also removes the rows of
--   transactions that have ended (a writer that died before unregistering).
-- * The trigger skips an INSERT entry when the transaction-local setting
--   `frontdesk.audit_setwise` is 'on' AND the current transaction is registered. The setting
--   alone (which anyone can make) changes nothing; it keeps the check off every ordinary
--   insert, which reads one setting and no table. UPDATE and DELETE entries are never skipped.
-- * `app.audit_created(t, docs)` writes the entries the trigger would have written for `docs`
--   (the inserted rows of table `t` as `to_jsonb`), with the trigger's own arguments (category,
--   secret and generated columns, read from the table's `audit_row` trigger). It runs as the
--   caller and refuses to run outside a registered transaction, so it writes only what the
--   runtime role could already append by hand (entries of its own tenant), and never next to
--   the trigger's entries.
--
-- Nothing here reads a transition table (the Citus rule of 0026): the writer passes its rows.
-- On a distributed database the trigger runs on the workers, whose transaction ids are not the
-- coordinator's, so a registration never matches there; writers do not use this mode there.

CREATE TABLE app.audit_setwise_xacts (
  xact          xid8 PRIMARY KEY,
  registered_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON app.audit_setwise_xacts FROM PUBLIC, frontdesk_app;
ALTER TABLE app.audit_setwise_xacts ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.audit_setwise_xacts FORCE ROW LEVEL SECURITY;
-- Row-level security binds the (non-superuser) owner too: this policy admits exactly the owner
-- (and the SECURITY DEFINER trigger running as it), never the runtime role.
DO $$
BEGIN
  EXECUTE format('CREATE POLICY owner_only ON app.audit_setwise_xacts FOR ALL TO %I USING (true) WITH CHECK (true)',
                 current_user);
END $$;

-- Registers `xact` (a transaction in progress) for set-wise `created` entries, and forgets the
-- registrations of transactions that have ended. Owner only.
CREATE FUNCTION app.register_setwise_audit(xact xid8) RETURNS void
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  IF pg_xact_status(xact) IS DISTINCT FROM 'in progress' THEN
    RAISE EXCEPTION 'transaction % is not in progress', xact USING ERRCODE = '22023';
  END IF;
  DELETE FROM app.audit_setwise_xacts r
   WHERE pg_xact_status(r.xact) IS DISTINCT FROM 'in progress';
  INSERT INTO app.audit_setwise_xacts (xact) VALUES (xact) ON CONFLICT DO NOTHING;
END
$$;

CREATE FUNCTION app.unregister_setwise_audit(xact xid8) RETURNS void
  LANGUAGE sql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $$ DELETE FROM app.audit_setwise_xacts r WHERE r.xact = unregister_setwise_audit.xact $$;

-- Whether the current transaction writes its `created` entries set-wise: the setting is on and
-- the owner registered the transaction. Read by the runtime role through `audit_created`.
CREATE FUNCTION app.audit_setwise_active() RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT coalesce(current_setting('frontdesk.audit_setwise', true), '') = 'on'
               AND EXISTS (SELECT 1 FROM app.audit_setwise_xacts r
                            WHERE r.xact = pg_current_xact_id()) $$;

-- ---------------------------------------------------------------------------------------------------
-- The trigger of 0022 with the skip in front; the rest is unchanged.
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
     WHERE n.key <> 'updated_at' AND n.value IS DISTINCT FROM old_doc -> n.key;
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
-- The set-wise writer: the `created` entries of `docs` (each `to_jsonb` of a row just inserted
-- into `t`, e.g. `WITH w AS (INSERT … RETURNING *) SELECT app.audit_created('app.x',
-- array_agg(to_jsonb(w))) FROM w`), exactly as the trigger writes them for an INSERT. Returns
-- how many it wrote; none for a table without the trigger (the exempt bookkeeping).
-- SECURITY INVOKER: the entries pass the caller's own policies on `audit_log`.
-- ---------------------------------------------------------------------------------------------------
CREATE FUNCTION app.audit_created(t regclass, docs jsonb[]) RETURNS bigint
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  name      text;
  args      text[];
  category  text;
  secrets   text[];
  skipped   text[];
  written   bigint;
BEGIN
  IF NOT app.audit_setwise_active() THEN
    RAISE EXCEPTION 'audit_created needs a transaction registered for set-wise auditing'
      USING ERRCODE = '55000';
  END IF;
  -- The trigger's arguments as `app.audit_table` fixed them (NUL-separated in `tgargs`).
  SELECT c.relname, string_to_array(encode(tg.tgargs, 'escape'), '\000')
    INTO name, args
    FROM pg_trigger tg
    JOIN pg_class c ON c.oid = tg.tgrelid
   WHERE tg.tgrelid = t AND tg.tgname = 'audit_row' AND tg.tgenabled <> 'D';
  IF NOT FOUND OR docs IS NULL THEN
    RETURN 0;
  END IF;
  category := nullif(args[1], '');
  secrets := args[2]::text[];
  skipped := args[3]::text[];
  INSERT INTO app.audit_log (tenant_id, entity_type, entity_id, action, performed_by, details,
                             metadata, ip_address, user_agent, severity, category, correlation_id)
  SELECT (CASE WHEN name = 'tenants' THEN d.doc ->> 'id' ELSE d.doc ->> 'tenant_id' END)::uuid,
         name, d.doc ->> 'id', 'created',
         nullif(current_setting('frontdesk.user_id', true), '')::uuid,
         jsonb_build_object('after', CASE WHEN secrets <> '{}' THEN app.audit_redact(d.doc, secrets)
                                          ELSE d.doc END),
         jsonb_build_object('operation', 'INSERT',
                            'actorRole', nullif(current_setting('frontdesk.role', true), '')),
         nullif(current_setting('frontdesk.client_addr', true), '')::inet,
         nullif(current_setting('frontdesk.user_agent', true), ''),
         'low', category,
         nullif(current_setting('frontdesk.request_id', true), '')
    FROM (SELECT r - skipped AS doc FROM unnest(docs) r) d;
  GET DIAGNOSTICS written = ROW_COUNT;
  RETURN written;
END
$$;

REVOKE EXECUTE ON FUNCTION app.register_setwise_audit(xid8) FROM PUBLIC, frontdesk_app;
REVOKE EXECUTE ON FUNCTION app.unregister_setwise_audit(xid8) FROM PUBLIC, frontdesk_app;
REVOKE EXECUTE ON FUNCTION app.audit_setwise_active() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION app.audit_created(regclass, jsonb[]) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION app.audit_row() FROM PUBLIC, frontdesk_app;
GRANT EXECUTE ON FUNCTION app.audit_setwise_active() TO frontdesk_app;
GRANT EXECUTE ON FUNCTION app.audit_created(regclass, jsonb[]) TO frontdesk_app;
