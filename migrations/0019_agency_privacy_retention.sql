-- 0019 agency, privacy and retention: the few privileged doors three features need.
--
-- Everything else these features do runs as the runtime role in a scoped transaction, under the
-- ordinary policies: the agency switcher lists the caller's own memberships, the GDPR export and
-- erasure read and change one tenant's rows, and the retention job works one tenant at a time in
-- that tenant's context (so the inbox events its changes emit are numbered at commit like any
-- request's). What cannot be done from inside one tenant or one user is done by the SECURITY
-- DEFINER functions below. Each runs as the migrating owner, with a fixed search_path, does one
-- narrow thing, and is executable by the runtime role only.
--
-- FORCE ROW LEVEL SECURITY binds the owner too unless it is a superuser (0001), so a definer
-- function that must see across tenants or users needs a policy admitting the owner. These are
-- created `TO` the migrating role (as 0005 does for `platform_demo_data`), so they never apply to
-- the runtime role: it still sees one tenant, one user, one log-in address.

DO $$ BEGIN
  EXECUTE format('CREATE POLICY owner_functions ON app.tenants FOR SELECT TO %I USING (true)',
                 current_user);
  EXECUTE format('CREATE POLICY owner_functions ON app.auth_sessions FOR ALL TO %I USING (true) WITH CHECK (true)',
                 current_user);
  EXECUTE format('CREATE POLICY owner_functions ON app.verification_tokens FOR ALL TO %I USING (true) WITH CHECK (true)',
                 current_user);
END $$;

-- ---------------------------------------------------------------------------------------------------
-- Agency (seed 002): `me.memberships` and `switchTenant`.
--
-- A user's memberships are visible to them in any scope (the memberships policy ORs
-- `user_id = app.current_user_id()`), but the tenants they name are not: the tenants policy shows
-- the current tenant only. Rather than widen that policy (every statement reading `app.tenants`
-- would then see several rows), this function returns the one thing the switcher needs about
-- each of the caller's tenants, its name, with the membership's role and active flag. It reads
-- the caller from the transaction's context, never from an argument, so it cannot list anybody
-- else's tenants. Deactivated memberships and invitations not yet accepted are listed too, with
-- `is_active = false`.
-- ---------------------------------------------------------------------------------------------------
CREATE FUNCTION app.user_memberships()
  RETURNS TABLE (tenant_id uuid, tenant_name text, role text, is_active boolean)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT m.tenant_id, t.name, m.role, m.is_active
      FROM app.memberships m
      JOIN app.tenants t ON t.id = m.tenant_id
     WHERE m.user_id = app.current_user_id()
     ORDER BY lower(t.name), m.tenant_id
  $$;

-- ---------------------------------------------------------------------------------------------------
-- GDPR erasure (seed 000): audit entries about erased rows.
--
-- Audit entries keep before/after documents of the rows they describe, so after a person's rows
-- are deleted or anonymised their old values still sit in `audit_log`, which the runtime role may
-- not change (0005: append-only). This function is the one exception: it deletes the entries of
-- the current tenant about the rows `ids` of table `kind` (entity_type = table name, entity_id =
-- the row id as text), and nothing else. The erasure calls it last, after its own changes (the
-- audit triggers write entries for those too), and then records one entry of its own that holds
-- no personal data (who, which customer id, the mode and the counts). It refuses to run without a
-- tenant, so it can never reach another tenant's trail.
-- ---------------------------------------------------------------------------------------------------
CREATE FUNCTION app.erase_audit_entries(kind text, ids text[]) RETURNS bigint
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  tenant  uuid := app.current_tenant_id();
  removed bigint;
BEGIN
  IF tenant IS NULL THEN
    RAISE EXCEPTION 'erase_audit_entries needs a tenant context' USING ERRCODE = '42501';
  END IF;
  DELETE FROM app.audit_log a
   WHERE a.tenant_id = tenant AND a.entity_type = kind AND a.entity_id = ANY (ids);
  GET DIAGNOSTICS removed = ROW_COUNT;
  RETURN removed;
END
$$;

-- Anonymising keeps the parts of a document analytics need (a rating, a duration, a sentiment)
-- and drops the rest: `doc` with only the top-level `keys` (NULL stays NULL; an object without
-- any of them becomes `{}`, which every object CHECK accepts).
CREATE FUNCTION app.jsonb_keep(doc jsonb, keys text[]) RETURNS jsonb
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT CASE WHEN doc IS NULL THEN NULL
                    WHEN jsonb_typeof(doc) <> 'object' THEN '{}'::jsonb
                    ELSE coalesce((SELECT jsonb_object_agg(e.key, e.value)
                                     FROM jsonb_each(doc) e WHERE e.key = ANY (keys)), '{}'::jsonb)
               END $$;

-- ---------------------------------------------------------------------------------------------------
-- Retention (seeds 002, 003): the maintenance job (`frontdesk maintenance`, and on a timer in
-- `frontdesk serve`).
--
-- The job works tenant by tenant in each tenant's own scope (conversations, invitations), so it
-- needs only two things from outside any tenant: the list of tenants, and the expired rows of the
-- user-scoped NextAuth tables. Tenant ids are all the first function tells; the second deletes
-- what expired and reports how many rows went.
-- ---------------------------------------------------------------------------------------------------
CREATE FUNCTION app.maintenance_tenants() RETURNS SETOF uuid
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT id FROM app.tenants ORDER BY id $$;

CREATE FUNCTION app.purge_expired_identity_tokens(OUT sessions bigint, OUT verification_tokens bigint)
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  DELETE FROM app.auth_sessions s WHERE s.expires < now();
  GET DIAGNOSTICS sessions = ROW_COUNT;
  DELETE FROM app.verification_tokens v WHERE v.expires < now();
  GET DIAGNOSTICS verification_tokens = ROW_COUNT;
END
$$;

-- No index is added for the job: its scans use the inbox's own (tenant_id, updated_at) and
-- (tenant_id, last_message_at) / (tenant_id, created_at) indexes once per tenant per run, while an
-- index of its own would cost every message written (each one changes its conversation's row).

REVOKE EXECUTE ON FUNCTION app.user_memberships() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION app.erase_audit_entries(text, text[]) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION app.maintenance_tenants() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION app.purge_expired_identity_tokens() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.user_memberships() TO frontdesk_app;
GRANT EXECUTE ON FUNCTION app.erase_audit_entries(text, text[]) TO frontdesk_app;
GRANT EXECUTE ON FUNCTION app.maintenance_tenants() TO frontdesk_app;
GRANT EXECUTE ON FUNCTION app.purge_expired_identity_tokens() TO frontdesk_app;
