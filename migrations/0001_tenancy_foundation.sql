-- 0001 tenancy foundation
--
-- Everything later migrations lean on: the `app` schema, the runtime role the server connects as,
-- the transaction-local context functions every RLS policy reads, shared trigger and CHECK helpers,
-- and the tenants table itself.
--
-- Why a dedicated role: requests must run as a role that is neither superuser, nor table owner, nor
-- BYPASSRLS -- any of those silently skips row-level security. Migrations run as the owner; the Rust
-- side gives `frontdesk_app` LOGIN and a password at deploy time, this file only makes sure it exists.

CREATE SCHEMA app;

-- Roles are cluster-wide but migrations run per database, and tests migrate several databases of one
-- cluster at the same time: the loser of the race sees duplicate_object (role already committed) or
-- unique_violation (the other transaction inserted it concurrently). Either way the role exists.
-- The existence test first lets an owner without CREATEROLE migrate when ops created the role
-- (CREATE ROLE checks the privilege before it notices the role exists).
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'frontdesk_app') THEN
    CREATE ROLE frontdesk_app NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOINHERIT;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;

-- Nobody but the owner creates objects: a runtime role able to CREATE could shadow functions or
-- tables that policies and triggers rely on. (A non-owner migrating role only gets a warning here.)
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON SCHEMA app FROM PUBLIC;
GRANT USAGE ON SCHEMA app TO frontdesk_app;

-- Default privileges, so every table of later migrations is usable by the runtime role without a
-- GRANT per table. Tables that must be read-only for it REVOKE explicitly after creation.
ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO frontdesk_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT USAGE, SELECT ON SEQUENCES TO frontdesk_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT EXECUTE ON FUNCTIONS TO frontdesk_app;

-- ---------------------------------------------------------------------------------------------------
-- Request context. The server sets these with set_config(name, value, true) inside each transaction,
-- so a pooled connection never carries one request's tenant into the next. Unset or empty means NULL,
-- and every policy compares with `=`, so no context means no rows (fail closed).
-- LANGUAGE sql + STABLE lets the planner inline them and evaluate once per statement, which keeps the
-- tenant predicate usable for index scans on the tenant-leading indexes.
-- ---------------------------------------------------------------------------------------------------
CREATE FUNCTION app.current_tenant_id() RETURNS uuid
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT nullif(current_setting('frontdesk.tenant_id', true), '')::uuid $$;

CREATE FUNCTION app.current_user_id() RETURNS uuid
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT nullif(current_setting('frontdesk.user_id', true), '')::uuid $$;

CREATE FUNCTION app.current_login_email() RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT nullif(current_setting('frontdesk.login_email', true), '') $$;

-- Every tenant-owned table gets exactly this protection: RLS enabled AND forced (so the owner is
-- bound too) and one policy that both filters and checks on the current tenant. One procedure
-- applies it, so no table can end up with a weaker hand-written copy; the catalog lint test
-- checks the result. Only the migrating owner calls it.
CREATE PROCEDURE app.isolate_by_tenant(tbl regclass)
  LANGUAGE plpgsql
  AS $$
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
  EXECUTE format('CREATE POLICY tenant_isolation ON %s USING (tenant_id = app.current_tenant_id())'
                 ' WITH CHECK (tenant_id = app.current_tenant_id())', tbl);
END
$$;
REVOKE EXECUTE ON PROCEDURE app.isolate_by_tenant(regclass) FROM PUBLIC, frontdesk_app;

CREATE FUNCTION app.set_updated_at() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  NEW.updated_at = now();
  RETURN NEW;
END
$$;

-- ---------------------------------------------------------------------------------------------------
-- JSONB shape helpers for CHECK constraints. The seeds spell several Mongo sub-documents out field by
-- field; these let a CHECK say "if the field is there, it has this type / value / range" in one line
-- instead of a page of jsonb_typeof() calls. Absent keys and JSON null pass: the documents are partial
-- by nature (Mongo never required them), the API validates completeness on write.
-- CASE (not AND) guards the numeric cast, because SQL does not promise left-to-right evaluation.
-- ---------------------------------------------------------------------------------------------------
CREATE FUNCTION app.jsonb_field_is(doc jsonb, field text, VARIADIC types text[]) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT coalesce(jsonb_typeof(doc -> field), 'null') = 'null'
              OR jsonb_typeof(doc -> field) = ANY (types) $$;

CREATE FUNCTION app.jsonb_field_in(doc jsonb, field text, VARIADIC allowed text[]) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT CASE coalesce(jsonb_typeof(doc -> field), 'null')
                 WHEN 'null' THEN true
                 WHEN 'string' THEN (doc ->> field) = ANY (allowed)
                 ELSE false
               END $$;

CREATE FUNCTION app.jsonb_field_between(doc jsonb, field text, lo numeric, hi numeric) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT CASE coalesce(jsonb_typeof(doc -> field), 'null')
                 WHEN 'null' THEN true
                 WHEN 'number' THEN (doc ->> field)::numeric BETWEEN lo AND hi
                 ELSE false
               END $$;

-- An array whose every element is an object (attachments, entities, transcript messages, ...).
CREATE FUNCTION app.jsonb_is_object_array(doc jsonb) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT jsonb_typeof(doc) = 'array'
              AND NOT jsonb_path_exists(doc, '$[*] ? (@.type() != "object")') $$;

-- ---------------------------------------------------------------------------------------------------
-- tenants: one row per business that owns data. Seed 000 "users" are business accounts (plan, AI
-- settings), seed 001 billing fields, seed 002 "clients" of an agency. The agency owner column
-- (agency_user_id) is added in 0002 once app.users exists.
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE app.tenants (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug               text UNIQUE CHECK (slug ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  name               text NOT NULL CHECK (btrim(name) <> ''),
  company            text,
  email              text,
  phone              text,
  logo               text,
  -- 000 lists industries as examples ("autoservis", "kosmeticka", ... "etc."), so free text.
  industry           text,
  -- 000 names cs/en/sk, 003 defaults to es: language codes are an open standard set, so the CHECK
  -- enforces the BCP 47 shape rather than a closed list.
  language           text CHECK (language ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$'),
  -- Not in the seeds: daily analytics and working hours are local-time concepts, so the tenant's
  -- IANA zone is needed to cut days correctly. Validated by trigger (zone names are not immutable).
  timezone           text NOT NULL DEFAULT 'UTC',
  voice_preference   text CHECK (voice_preference IN ('female', 'male')),
  plan               text NOT NULL DEFAULT 'start' CHECK (plan IN ('start', 'business', 'enterprise')),
  -- One lifecycle for 000 accounts (trial/active/paused/cancelled) and 002 clients (active/inactive/archived).
  status             text NOT NULL DEFAULT 'active'
                       CHECK (status IN ('trial', 'active', 'paused', 'cancelled', 'inactive', 'archived')),
  subscription_start timestamptz,
  subscription_end   timestamptz,
  has_access         boolean NOT NULL DEFAULT false,
  stripe_customer_id text,
  stripe_price_id    text,
  ai_settings        jsonb NOT NULL DEFAULT '{}' CHECK (
                       jsonb_typeof(ai_settings) = 'object'
                       AND app.jsonb_field_in(ai_settings, 'tone', 'friendly', 'professional', 'casual')
                       AND app.jsonb_field_is(ai_settings, 'autoReply', 'boolean')
                       AND app.jsonb_field_is(ai_settings, 'workingHours', 'object')
                       AND app.jsonb_field_between(ai_settings, 'maxCallDuration', 0, 86400)
                       AND app.jsonb_field_between(ai_settings, 'dailyMessageLimit', 0, 2147483647)),
  source             text CHECK (source IN ('website', 'referral', 'demo_call')),
  last_login_at      timestamptz,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT tenants_subscription_period_check
    CHECK (subscription_end IS NULL OR subscription_start IS NULL OR subscription_end >= subscription_start)
);

-- Stripe webhooks arrive without a tenant; the lookup runs as the owner, so a plain index is right.
CREATE INDEX tenants_stripe_customer_id_idx ON app.tenants (stripe_customer_id) WHERE stripe_customer_id IS NOT NULL;

CREATE FUNCTION app.check_tenant_timezone() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  -- Raises invalid_parameter_value for an unknown zone, so a bad value never reaches the analytics view.
  PERFORM now() AT TIME ZONE NEW.timezone;
  RETURN NEW;
END
$$;

CREATE TRIGGER check_timezone BEFORE INSERT OR UPDATE OF timezone ON app.tenants
  FOR EACH ROW EXECUTE FUNCTION app.check_tenant_timezone();
CREATE TRIGGER set_updated_at BEFORE UPDATE ON app.tenants
  FOR EACH ROW EXECUTE FUNCTION app.set_updated_at();

ALTER TABLE app.tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON app.tenants
  USING (id = app.current_tenant_id())
  WITH CHECK (id = app.current_tenant_id());
