-- 0022 audit trail: every change to a tenant's rows, sign-ins and refused tokens, append-only.
--
-- What writes `audit_log` (0005, which had no writer):
--
-- * One generic AFTER ROW trigger function, `app.audit_row`, attached by `app.audit_table(t)` to
--   every table of `app` that has a `tenant_id` (and to `tenants`, whose `id` is the tenant),
--   except the bookkeeping listed in `app.audit_exempt_tables()`. An entry is written in the same
--   transaction as the change, so a rolled-back change leaves no entry and a committed one
--   always has one. `tests/audit.rs` checks the catalog: a table that has `tenant_id` and neither
--   the trigger nor an exemption fails the suite, so a new table cannot silently escape.
-- * `app.audit_auth_event` and `app.audit_login_failure` (SECURITY DEFINER): sign-ins, failed
--   sign-ins and refused tokens, category `auth`.
-- * Writers of their own (the GDPR erasure's `customer.erased` entry).
--
-- An entry of the trigger maps the change onto the 0005 columns and 003's ActivityLog shape:
--   entity_type    the bare table name (`customers`), entity_id the row id as text — the key
--                  the GDPR export and erasure (0019, crates/db/src/privacy) look entries up by
--   action         003's vocabulary: `created`, `updated`, `deleted`
--   details        {before, after, changes}: the row before and after as JSON (`before` absent
--                  on INSERT, `after` on DELETE), `changes` the columns whose value differs
--                  (UPDATE only). Generated columns (full-text `search`) are left out; secret
--                  columns are shown as "[redacted]" (NULL stays NULL, so whether a secret is
--                  set stays visible, and a changed secret is still named in `changes`)
--   metadata       {actorRole, operation}: the acting member's role as the scope read it
--   performed_by, correlation_id (the request id), ip_address, user_agent: from the
--                  transaction-local settings `app.begin_scope` makes (0017, extended here)
--   category       per table (below); severity low, medium for deletes, high for changes and
--                  deletes of memberships, invitations, integrations and tenants
-- An UPDATE that changes nothing but `updated_at` (which `set_updated_at` bumps on every
-- UPDATE) writes no entry.

-- ---------------------------------------------------------------------------------------------------
-- The request scope carries the request's id, client address and user agent, and the acting
-- member's role. Still one statement per scope (tests/statement_count.rs): the same function
-- with three more arguments (empty by default: work no request started has none).
-- ---------------------------------------------------------------------------------------------------
DROP FUNCTION app.begin_scope(text, text, text);
CREATE FUNCTION app.begin_scope(tenant text, member text, login_email text,
                                request_id text DEFAULT '', client_addr text DEFAULT '',
                                user_agent text DEFAULT '')
  RETURNS TABLE (role text, permissions text[], is_active boolean)
  LANGUAGE plpgsql VOLATILE
  AS $$
DECLARE
  m record;
BEGIN
  PERFORM set_config('frontdesk.tenant_id', tenant, true),
          set_config('frontdesk.user_id', member, true),
          set_config('frontdesk.login_email', login_email, true),
          set_config('frontdesk.request_id', request_id, true),
          set_config('frontdesk.client_addr', client_addr, true),
          set_config('frontdesk.user_agent', user_agent, true),
          set_config('frontdesk.role', '', true);
  IF tenant <> '' AND member <> '' THEN
    SELECT ms.role, ms.permissions, ms.is_active INTO m
      FROM app.memberships ms
     WHERE ms.tenant_id = tenant::uuid AND ms.user_id = member::uuid;
    IF FOUND THEN
      PERFORM set_config('frontdesk.role', m.role, true);
      role := m.role;
      permissions := m.permissions;
      is_active := m.is_active;
      RETURN NEXT;
    END IF;
  END IF;
END
$$;

-- ---------------------------------------------------------------------------------------------------
-- The entry's shape. Category gains `data` for the business rows (customers, bookings, the
-- inbox, tickets, leads…), which fit none of 001's categories.
-- ---------------------------------------------------------------------------------------------------
ALTER TABLE app.audit_log DROP CONSTRAINT audit_log_category_check;
ALTER TABLE app.audit_log ADD CONSTRAINT audit_log_category_check
  CHECK (category IN ('auth', 'user_mgmt', 'assistant', 'call', 'billing', 'system', 'security', 'data'));

-- The definer functions below write entries for any tenant (the trigger writes the changed row's
-- tenant; a tenant's own deletion runs without one) and read the user's memberships for a failed
-- sign-in. FORCE ROW LEVEL SECURITY binds the owner too, so, as in 0019, policies admit the
-- migrating role only.
DO $$ BEGIN
  EXECUTE format('CREATE POLICY owner_functions ON app.audit_log FOR INSERT TO %I WITH CHECK (true)',
                 current_user);
  EXECUTE format('CREATE POLICY owner_functions ON app.users FOR SELECT TO %I USING (true)',
                 current_user);
  EXECUTE format('CREATE POLICY owner_functions ON app.memberships FOR SELECT TO %I USING (true)',
                 current_user);
END $$;

-- ---------------------------------------------------------------------------------------------------
-- The trigger. Arguments (fixed per table by `app.audit_table`): the category, the secret columns
-- and the generated columns, so the per-row work reads no catalog.
-- ---------------------------------------------------------------------------------------------------
CREATE FUNCTION app.audit_redact(doc jsonb, secrets text[]) RETURNS jsonb
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT CASE WHEN doc IS NULL THEN NULL
                    ELSE doc || coalesce((SELECT jsonb_object_agg(s, '"[redacted]"'::jsonb)
                                            FROM unnest(secrets) s
                                           WHERE jsonb_typeof(doc -> s) <> 'null'), '{}')
               END $$;

CREATE FUNCTION app.audit_row() RETURNS trigger
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

-- Bookkeeping that is not audited: the trail itself, the inbox's derived event feed and its
-- counters, ticket number counters and read markers (written on every read of a conversation).
-- Each is derived from or about audited rows, and auditing it would multiply the write path.
CREATE FUNCTION app.audit_exempt_tables() RETURNS text[]
  LANGUAGE sql IMMUTABLE
  AS $$ SELECT ARRAY['audit_log', 'inbox_events', 'event_counters', 'ticket_counters',
                     'conversation_reads'] $$;

-- Attaches the trigger to `t` (idempotent): the category from the table's name, the secret
-- columns from their names (every *_ciphertext, password_hash, token_hash, any *token or *secret
-- column), the generated columns from the catalog.
CREATE FUNCTION app.audit_table(t regclass) RETURNS void
  LANGUAGE plpgsql
  AS $$
DECLARE
  name      text;
  category  text;
  secrets   text[];
  generated text[];
  sensitive boolean;
BEGIN
  SELECT c.relname INTO name FROM pg_class c WHERE c.oid = t;
  category := CASE
    WHEN name IN ('memberships', 'invitations') THEN 'user_mgmt'
    WHEN name IN ('assistants', 'system_prompts', 'faqs') THEN 'assistant'
    WHEN name = 'calls' THEN 'call'
    WHEN name = 'integrations' THEN 'security'
    WHEN name IN ('tenants', 'tenant_settings') THEN 'system'
    ELSE 'data' END;
  sensitive := name IN ('memberships', 'invitations', 'integrations', 'tenants');
  SELECT coalesce(array_agg(a.attname::text ORDER BY a.attnum)
                    FILTER (WHERE a.attname ~ '(ciphertext|password|secret)'
                               OR a.attname ~ '(^|_)token(_hash)?$'), '{}'),
         coalesce(array_agg(a.attname::text ORDER BY a.attnum) FILTER (WHERE a.attgenerated <> ''), '{}')
    INTO secrets, generated
    FROM pg_attribute a
   WHERE a.attrelid = t AND a.attnum > 0 AND NOT a.attisdropped;
  EXECUTE format('DROP TRIGGER IF EXISTS audit_row ON %s', t);
  EXECUTE format('CREATE TRIGGER audit_row AFTER INSERT OR UPDATE OR DELETE ON %s
                    FOR EACH ROW EXECUTE FUNCTION app.audit_row(%L, %L, %L, %L)',
                 t, category, secrets, generated, sensitive);
END
$$;

-- Every tenant table of today, and `tenants`.
DO $$
DECLARE
  t regclass;
BEGIN
  FOR t IN
    SELECT c.oid::regclass
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'app' AND c.relkind IN ('r', 'p')
       AND c.relname <> ALL (app.audit_exempt_tables())
       AND (c.relname = 'tenants'
            OR EXISTS (SELECT 1 FROM pg_attribute a
                        WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped))
     ORDER BY c.relname
  LOOP
    PERFORM app.audit_table(t);
  END LOOP;
END $$;

-- ---------------------------------------------------------------------------------------------------
-- Auth events. Appended by definer functions because there is often no tenant scope to append
-- in (a failed sign-in, a refused token). Neither ever takes a password or a token. The runtime
-- role may append these as it may append any entry of its own tenant; it still cannot change or
-- remove one.
--
-- `audit_auth_event`: a sign-in (`login.succeeded`) or a refused token whose tenant is known
-- (`token.refused`: an expired token, whose signature proved its claims). A token whose
-- signature does not verify proves nothing about its tenant, so it is not recorded here (the
-- server logs it). Nothing is written when the tenant does not exist.
-- ---------------------------------------------------------------------------------------------------
CREATE FUNCTION app.audit_auth_event(tenant uuid, actor uuid, event text, outcome text,
                                     level text, why text, request text,
                                     address inet, agent text)
  RETURNS void
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  IF event NOT IN ('login.succeeded', 'login.failed', 'token.refused') THEN
    RAISE EXCEPTION 'audit_auth_event records sign-ins and refused tokens only'
      USING ERRCODE = '22023';
  END IF;
  INSERT INTO app.audit_log (tenant_id, entity_type, entity_id, action, performed_by, details,
                             metadata, ip_address, user_agent, severity, category, status,
                             correlation_id)
  SELECT t.id, 'users', actor::text, event, actor,
         CASE WHEN why IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('reason', why) END,
         '{}'::jsonb, address, agent, level, 'auth', outcome, nullif(request, '')
    FROM app.tenants t
   WHERE t.id = tenant;
END
$$;

-- `audit_login_failure`: a wrong password (or a refused account) for an address that belongs to a
-- user is recorded in every tenant the user is a member of, so each tenant's owners see attempts
-- on their members' accounts. An unknown address has no tenant and is not recorded (the log-in
-- limits of 0013 still count it). The address itself is not stored: the entry names the user.
CREATE FUNCTION app.audit_login_failure(login text, why text, request text, address inet,
                                        agent text)
  RETURNS void
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  INSERT INTO app.audit_log (tenant_id, entity_type, entity_id, action, performed_by, details,
                             metadata, ip_address, user_agent, severity, category, status,
                             correlation_id)
  SELECT m.tenant_id, 'users', u.id::text, 'login.failed', u.id,
         jsonb_build_object('reason', why), '{}'::jsonb, address, agent, 'medium',
         'auth', 'failure', nullif(request, '')
    FROM app.users u
    JOIN app.memberships m ON m.user_id = u.id
   WHERE lower(u.email) = lower(login);
END
$$;

-- ---------------------------------------------------------------------------------------------------
-- Append-only, and the one exception narrowed. 0005 revoked UPDATE and DELETE from the runtime
-- role; `erase_audit_entries` (0019) was its only way to delete entries, and would delete the
-- entries of any row it was given. Now it deletes only entries about rows that are gone or that
-- the erasure has anonymised (the marks `[erased]`, or for conversations no contact details left),
-- and only of the tables a person's footprint spans: it cannot remove the history of a live row.
-- ---------------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION app.erase_audit_entries(kind text, ids text[]) RETURNS bigint
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  tenant   uuid := app.current_tenant_id();
  erased   text;
  erasable text[];
  removed  bigint;
BEGIN
  IF tenant IS NULL THEN
    RAISE EXCEPTION 'erase_audit_entries needs a tenant context' USING ERRCODE = '42501';
  END IF;
  -- The state ANONYMIZE (crates/db/src/privacy/erase.rs) leaves each table's rows in.
  erased := CASE kind
    WHEN 'customers' THEN $c$r.name = '[erased]'$c$
    WHEN 'bookings' THEN $c$r.customer_name = '[erased]'$c$
    WHEN 'calls' THEN $c$r.phone_number = '[erased]'$c$
    WHEN 'sms_messages' THEN $c$r.message_body = '[erased]'$c$
    WHEN 'conversations' THEN $c$r.client_phone IS NULL AND r.client_email IS NULL
      AND r.client_name IS NULL AND r.conversation_key IS NULL AND r.title IS NULL$c$
    WHEN 'messages' THEN $c$r.content = '[erased]'$c$
    WHEN 'conversation_notes' THEN $c$r.content = '[erased]'$c$
    WHEN 'conversation_threads' THEN $c$r.phone_number = '[erased]'$c$
    WHEN 'tickets' THEN $c$r.subject = '[erased]'$c$
    WHEN 'ticket_notes' THEN $c$r.content = '[erased]'$c$
    WHEN 'leads' THEN $c$r.name = '[erased]'$c$
    WHEN 'demo_requests' THEN $c$r.name = '[erased]'$c$
    WHEN 'demo_request_notes' THEN $c$r.note = '[erased]'$c$
  END;
  IF erased IS NULL THEN
    RAISE EXCEPTION 'erase_audit_entries erases entries about a person''s rows only, not %', kind
      USING ERRCODE = '42501';
  END IF;
  EXECUTE format(
    $q$SELECT coalesce(array_agg(i), '{}') FROM unnest($1) i
        WHERE NOT EXISTS (
          SELECT 1 FROM app.%I r
           WHERE r.tenant_id = $2
             AND r.id = CASE WHEN i ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                             THEN i::uuid END
             AND NOT (%s))$q$, kind, erased)
    INTO erasable USING ids, tenant;
  DELETE FROM app.audit_log a
   WHERE a.tenant_id = tenant AND a.entity_type = kind AND a.entity_id = ANY (erasable);
  GET DIAGNOSTICS removed = ROW_COUNT;
  RETURN removed;
END
$$;

REVOKE EXECUTE ON FUNCTION app.audit_auth_event(uuid, uuid, text, text, text, text, text, inet, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION app.audit_login_failure(text, text, text, inet, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION app.audit_table(regclass) FROM PUBLIC, frontdesk_app;
REVOKE EXECUTE ON FUNCTION app.audit_row() FROM PUBLIC, frontdesk_app;
GRANT EXECUTE ON FUNCTION app.audit_auth_event(uuid, uuid, text, text, text, text, text, inet, text) TO frontdesk_app;
GRANT EXECUTE ON FUNCTION app.audit_login_failure(text, text, text, inet, text) TO frontdesk_app;
