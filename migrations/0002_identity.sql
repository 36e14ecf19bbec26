-- 0002 identity
--
-- People are not tenant-owned: one login (001 av_users, 003 agents, 002 agency user) can work for many
-- tenants. app.users holds the person and platform-level account fields; app.memberships holds what is
-- per tenant (role, permissions, presence, preferences, statistics). The NextAuth tables (001) are
-- scoped to the user, not to a tenant, and so have no tenant_id.

CREATE TABLE app.users (
  id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email                 text NOT NULL CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
  -- argon2 PHC string for new hashes; bcrypt ($2a/$2b/$2y) is accepted so 003 agents can be imported
  -- and rehashed on their next login. NULL for OAuth-only users.
  password_hash         text CHECK (password_hash ~ '^\$(argon2(id|i|d)|2[aby])\$'),
  name                  text,
  first_name            text CHECK (char_length(first_name) <= 50),
  last_name             text CHECK (char_length(last_name) <= 50),
  -- Two pictures on purpose: `image` is what the OAuth provider reports (NextAuth overwrites it on
  -- sign-in, 001), `avatar` is the picture the person uploads (003).
  image                 text,
  avatar                text,
  phone                 text,
  company               text,
  platform_role         text NOT NULL DEFAULT 'free'
                          CHECK (platform_role IN ('free', 'essential', 'pro', 'enterprise', 'admin', 'super_admin', 'god_mode')),
  industry_type         text CHECK (industry_type IN ('medical', 'legal', 'sales', 'other')),
  account_status        text NOT NULL DEFAULT 'active' CHECK (account_status IN ('active', 'suspended', 'pending')),
  has_access            boolean NOT NULL DEFAULT false,
  stripe_customer_id    text,
  stripe_price_id       text,
  is_email_verified     boolean NOT NULL DEFAULT false,
  is_two_factor_enabled boolean NOT NULL DEFAULT false,
  last_login_at         timestamptz,
  login_count           integer NOT NULL DEFAULT 0 CHECK (login_count >= 0),
  preferences           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(preferences) = 'object'),
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now()
);

-- 001 and 003 both make email unique (003 lower-cases it): case-insensitive uniqueness without citext.
CREATE UNIQUE INDEX users_email_key ON app.users (lower(email));
CREATE INDEX users_stripe_customer_id_idx ON app.users (stripe_customer_id) WHERE stripe_customer_id IS NOT NULL;
CREATE INDEX users_platform_role_idx ON app.users (platform_role);
CREATE INDEX users_industry_type_idx ON app.users (industry_type);

CREATE TRIGGER set_updated_at BEFORE UPDATE ON app.users
  FOR EACH ROW EXECUTE FUNCTION app.set_updated_at();

-- 002: an agency user owns many client tenants.
ALTER TABLE app.tenants ADD COLUMN agency_user_id uuid REFERENCES app.users (id) ON DELETE SET NULL;
CREATE INDEX tenants_agency_user_id_status_idx ON app.tenants (agency_user_id, status);
CREATE INDEX tenants_agency_user_id_name_idx ON app.tenants (agency_user_id, name);

-- ---------------------------------------------------------------------------------------------------
-- memberships: a user's place in one tenant (003 agent fields that are per business).
-- Other tables reference agents through (tenant_id, user_id) here rather than app.users(id), so an
-- assignment can only ever point at someone who belongs to the same tenant.
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE app.memberships (
  tenant_id                    uuid NOT NULL DEFAULT app.current_tenant_id() REFERENCES app.tenants (id) ON DELETE CASCADE,
  id                           uuid NOT NULL DEFAULT gen_random_uuid(),
  user_id                      uuid NOT NULL REFERENCES app.users (id) ON DELETE CASCADE,
  role                         text NOT NULL DEFAULT 'agent'
                                 CHECK (role IN ('owner', 'admin', 'supervisor', 'agent', 'viewer')),
  permissions                  text[] NOT NULL DEFAULT '{}' CHECK (permissions <@ ARRAY[
                                 'read:conversations', 'write:messages', 'assign:conversations',
                                 'manage:customers', 'manage:tickets', 'view:analytics',
                                 'manage:agents', 'system:admin']::text[]),
  status                       text NOT NULL DEFAULT 'offline' CHECK (status IN ('online', 'offline', 'busy', 'away')),
  department                   text,
  is_active                    boolean NOT NULL DEFAULT true,
  -- 003 defaults (es, America/Mexico_City, all notifications on, autoAssignment on) are one
  -- deployment's choices; the API applies them on read instead of baking them into every row.
  preferences                  jsonb NOT NULL DEFAULT '{}' CHECK (
                                 jsonb_typeof(preferences) = 'object'
                                 AND app.jsonb_field_is(preferences, 'language', 'string')
                                 AND app.jsonb_field_is(preferences, 'timezone', 'string')
                                 AND app.jsonb_field_is(preferences, 'notifications', 'object')
                                 AND app.jsonb_field_is(preferences -> 'notifications', 'email', 'boolean')
                                 AND app.jsonb_field_is(preferences -> 'notifications', 'push', 'boolean')
                                 AND app.jsonb_field_is(preferences -> 'notifications', 'sound', 'boolean')
                                 AND app.jsonb_field_is(preferences, 'autoAssignment', 'boolean')),
  -- 003 agent statistics: denormalised counters kept by the writer (they are read on every inbox
  -- render); the authoritative values derive from conversations (see docs/data-model.md).
  total_conversations          integer NOT NULL DEFAULT 0 CHECK (total_conversations >= 0),
  resolved_conversations       integer NOT NULL DEFAULT 0 CHECK (resolved_conversations >= 0),
  average_response_time        numeric(10, 2) NOT NULL DEFAULT 0 CHECK (average_response_time >= 0),
  current_active_conversations integer NOT NULL DEFAULT 0 CHECK (current_active_conversations >= 0),
  -- 002 User.chatbot extension (totals derive from conversations.user_id).
  chatbot_preferences          jsonb NOT NULL DEFAULT '{}' CHECK (
                                 jsonb_typeof(chatbot_preferences) = 'object'
                                 AND app.jsonb_field_is(chatbot_preferences, 'quickReplies', 'array')
                                 AND app.jsonb_field_is(chatbot_preferences, 'notifications', 'boolean')),
  last_chat_at                 timestamptz,
  last_login_at                timestamptz,
  last_activity_at             timestamptz,
  created_at                   timestamptz NOT NULL DEFAULT now(),
  updated_at                   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT memberships_tenant_id_user_id_key UNIQUE (tenant_id, user_id)
);

COMMENT ON COLUMN app.memberships.average_response_time IS 'minutes (003 agent statistics)';

-- The one index on a tenant table keyed by something other than tenant_id, deliberately: the
-- policy below ORs `user_id = app.current_user_id()` into every read (list my tenants), and ON DELETE
-- CASCADE from app.users deletes by user_id. Without it each memberships read is a full-table scan
-- (the planner needs an index on both OR arms for a BitmapOr). Hash, not btree: both uses are pure
-- equality, and btree stays reserved for tenant-leading keys (crates/db/tests/catalog_lint.rs).
CREATE INDEX memberships_user_id_idx ON app.memberships USING hash (user_id);
CREATE INDEX memberships_status_idx ON app.memberships (tenant_id, status);
CREATE INDEX memberships_role_idx ON app.memberships (tenant_id, role);
CREATE INDEX memberships_is_active_idx ON app.memberships (tenant_id, is_active);

CREATE TRIGGER set_updated_at BEFORE UPDATE ON app.memberships
  FOR EACH ROW EXECUTE FUNCTION app.set_updated_at();

-- ---------------------------------------------------------------------------------------------------
-- NextAuth collections (001 av_accounts, av_sessions, av_verification_tokens).
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE app.auth_accounts (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id             uuid NOT NULL REFERENCES app.users (id) ON DELETE CASCADE,
  type                text NOT NULL CHECK (type IN ('oauth', 'oidc', 'email', 'credentials', 'webauthn')),
  provider            text NOT NULL,
  provider_account_id text NOT NULL,
  refresh_token       text,
  access_token        text,
  -- NextAuth keeps epoch seconds; stored as an instant like every other point in time here.
  expires_at          timestamptz,
  token_type          text,
  scope               text,
  id_token            text,
  session_state       text,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT auth_accounts_provider_provider_account_id_key UNIQUE (provider, provider_account_id)
);
CREATE INDEX auth_accounts_user_id_idx ON app.auth_accounts (user_id);
CREATE TRIGGER set_updated_at BEFORE UPDATE ON app.auth_accounts
  FOR EACH ROW EXECUTE FUNCTION app.set_updated_at();

CREATE TABLE app.auth_sessions (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  session_token text NOT NULL UNIQUE,
  user_id       uuid NOT NULL REFERENCES app.users (id) ON DELETE CASCADE,
  expires       timestamptz NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX auth_sessions_user_id_idx ON app.auth_sessions (user_id);
CREATE INDEX auth_sessions_expires_idx ON app.auth_sessions (expires);

CREATE TABLE app.verification_tokens (
  identifier text NOT NULL,
  token      text NOT NULL UNIQUE,
  expires    timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (identifier, token)
);
CREATE INDEX verification_tokens_expires_idx ON app.verification_tokens (expires);

-- ---------------------------------------------------------------------------------------------------
-- Row-level security
-- ---------------------------------------------------------------------------------------------------

-- users: a person sees themself (by id once signed in, by login email while signing in) and the
-- people who share the current tenant. INSERT is open because sign-up happens before any identity
-- exists; RETURNING still needs the new row to be visible, i.e. login_email set to the new address.
ALTER TABLE app.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.users FORCE ROW LEVEL SECURITY;
CREATE POLICY users_select ON app.users FOR SELECT
  USING (id = app.current_user_id()
         OR lower(email) = lower(app.current_login_email())
         OR EXISTS (SELECT 1 FROM app.memberships m
                    WHERE m.user_id = users.id AND m.tenant_id = app.current_tenant_id()));
-- Changing or deleting an identity is the user's own act (or the log-in flow's, e.g. last_login_at):
-- the row is shared by every tenant the user belongs to, so one tenant's admin must not rewrite
-- what another tenant sees.
CREATE POLICY users_update ON app.users FOR UPDATE
  USING (id = app.current_user_id() OR lower(email) = lower(app.current_login_email()))
  WITH CHECK (id = app.current_user_id() OR lower(email) = lower(app.current_login_email()));
CREATE POLICY users_delete ON app.users FOR DELETE
  USING (id = app.current_user_id());
CREATE POLICY users_insert ON app.users FOR INSERT
  WITH CHECK (true);

-- memberships: visible within the current tenant, plus the acting user's own memberships everywhere
-- (to list and switch tenants); written only inside the current tenant.
ALTER TABLE app.memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.memberships FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON app.memberships
  USING (tenant_id = app.current_tenant_id() OR user_id = app.current_user_id())
  WITH CHECK (tenant_id = app.current_tenant_id());

ALTER TABLE app.auth_accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.auth_accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY user_isolation ON app.auth_accounts
  USING (user_id = app.current_user_id())
  WITH CHECK (user_id = app.current_user_id());

ALTER TABLE app.auth_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.auth_sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY user_isolation ON app.auth_sessions
  USING (user_id = app.current_user_id())
  WITH CHECK (user_id = app.current_user_id());

ALTER TABLE app.verification_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.verification_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY login_email_isolation ON app.verification_tokens
  USING (identifier = app.current_login_email())
  WITH CHECK (identifier = app.current_login_email());
