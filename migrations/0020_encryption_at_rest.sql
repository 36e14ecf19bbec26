-- 0020 encryption at rest: sealed secret columns, NextAuth tokens out of clear text, the owner's
-- reach for key rotation, and the global demo data of seed 002.
--
-- Secrets are sealed by the application (AES-256-GCM, key outside the database, see
-- crates/db/src/crypto): integration tokens, the assistants' server URL secret and the NextAuth
-- OAuth tokens. A sealed value is self-describing: its first byte is the format version (1), the
-- next 8 the key id, then 12 of nonce, the ciphertext and a 16-byte tag, so it is at least 37
-- bytes. The CHECKs below keep anything else -- above all a secret written in clear by mistake --
-- out of these columns.
-- They are NOT VALID: they bind every write from now on without failing this migration on rows
-- an import left behind (key rotation reports such rows by id).

CREATE FUNCTION app.is_sealed(v bytea) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT v IS NULL OR (octet_length(v) >= 37 AND get_byte(v, 0) = 1) $$;

-- ---------------------------------------------------------------------------------------------------
-- integrations: sealed tokens, none on a disconnected platform, a property only on Google Analytics.
-- ---------------------------------------------------------------------------------------------------
ALTER TABLE app.integrations
  ADD CONSTRAINT integrations_access_token_sealed_check
    CHECK (app.is_sealed(access_token_ciphertext)) NOT VALID,
  ADD CONSTRAINT integrations_refresh_token_sealed_check
    CHECK (app.is_sealed(refresh_token_ciphertext)) NOT VALID,
  ADD CONSTRAINT integrations_disconnected_tokens_check
    CHECK (connected OR (access_token_ciphertext IS NULL AND refresh_token_ciphertext IS NULL)) NOT VALID,
  ADD CONSTRAINT integrations_property_check
    CHECK (property_id IS NULL OR platform = 'google_analytics') NOT VALID;

ALTER TABLE app.assistants
  ADD CONSTRAINT assistants_server_url_secret_sealed_check
    CHECK (app.is_sealed(server_url_secret_ciphertext)) NOT VALID;

-- ---------------------------------------------------------------------------------------------------
-- auth_accounts: NextAuth's access, refresh and id tokens were text columns in clear (0002). They
-- move to sealed columns. The key is not in the database, so this migration cannot seal what is
-- already stored: `frontdesk rotate-encryption-key` does (and clears the text), and until then the
-- NOT VALID CHECK refuses any new clear token while leaving the old rows readable. A later
-- migration drops the three text columns.
-- ---------------------------------------------------------------------------------------------------
ALTER TABLE app.auth_accounts
  ADD COLUMN access_token_ciphertext bytea
    CONSTRAINT auth_accounts_access_token_sealed_check CHECK (app.is_sealed(access_token_ciphertext)),
  ADD COLUMN refresh_token_ciphertext bytea
    CONSTRAINT auth_accounts_refresh_token_sealed_check CHECK (app.is_sealed(refresh_token_ciphertext)),
  ADD COLUMN id_token_ciphertext bytea
    CONSTRAINT auth_accounts_id_token_sealed_check CHECK (app.is_sealed(id_token_ciphertext)),
  ADD CONSTRAINT auth_accounts_no_clear_tokens_check
    CHECK (access_token IS NULL AND refresh_token IS NULL AND id_token IS NULL) NOT VALID;

COMMENT ON COLUMN app.auth_accounts.access_token IS
  'Before 0020 only: sealed into access_token_ciphertext and cleared by frontdesk rotate-encryption-key.';
COMMENT ON COLUMN app.auth_accounts.refresh_token IS
  'Before 0020 only: sealed into refresh_token_ciphertext and cleared by frontdesk rotate-encryption-key.';
COMMENT ON COLUMN app.auth_accounts.id_token IS
  'Before 0020 only: sealed into id_token_ciphertext and cleared by frontdesk rotate-encryption-key.';

-- ---------------------------------------------------------------------------------------------------
-- Key rotation runs as the owner, whom row-level security binds too (every table forces it). It
-- walks tenant tables tenant by tenant in each tenant's own context, so it only needs to list the
-- tenants (0019's `owner_functions` policy on app.tenants lets the owner); NextAuth rows belong to
-- users, not tenants, so it needs them all. This policy admits the migrating owner and nobody else
-- (the runtime role is not a member of it); tenant tables get no such policy.
-- ---------------------------------------------------------------------------------------------------
DO $$ BEGIN
  EXECUTE format('CREATE POLICY owner_maintenance ON app.auth_accounts FOR ALL TO %I'
                 ' USING (true) WITH CHECK (true)', current_user);
END $$;

-- ---------------------------------------------------------------------------------------------------
-- 002 DemoData: the sample figures `platformDemoData` serves to tenants that have not connected a
-- platform. Global reference data, read-only for the runtime role (0005); one row per platform,
-- shaped like the platform's own data in 002 Client.platforms.
-- ---------------------------------------------------------------------------------------------------
INSERT INTO app.platform_demo_data (platform, data) VALUES
  ('google_analytics', '{
     "metrics": {"sessions": 15234, "users": 12450, "pageviews": 45678, "bounceRate": 0.45,
                 "avgSessionDuration": 185},
     "dimensions": {
       "topSources": [{"source": "google / organic", "sessions": 8500},
                      {"source": "direct", "sessions": 3200},
                      {"source": "facebook / social", "sessions": 2100}],
       "devices": [{"device": "mobile", "percentage": 61.5}, {"device": "desktop", "percentage": 34.2},
                   {"device": "tablet", "percentage": 4.3}],
       "topPages": [{"page": "/", "views": 18230}, {"page": "/booking", "views": 9120},
                    {"page": "/prices", "views": 6410}]}}'),
  ('google_ads', '{
     "campaigns": [
       {"name": "Search - bookings", "spend": 1240.50, "clicks": 3120, "impressions": 88400,
        "ctr": 0.0353, "conversions": 214},
       {"name": "Brand", "spend": 310.20, "clicks": 1460, "impressions": 19800, "ctr": 0.0737,
        "conversions": 96}]}'),
  ('meta_ads', '{
     "campaigns": [
       {"name": "Instagram - new clients", "spend": 860.00, "impressions": 142000, "clicks": 2310,
        "cpm": 6.06, "roas": 3.4},
       {"name": "Facebook - retargeting", "spend": 240.00, "impressions": 51000, "clicks": 980,
        "cpm": 4.71, "roas": 5.1}]}'),
  ('linkedin_ads', '{
     "campaigns": [
       {"name": "Decision makers - demo", "spend": 1500.00, "impressions": 38000, "clicks": 410,
        "leads": 27}]}');
