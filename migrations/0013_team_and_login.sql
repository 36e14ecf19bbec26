-- 0013 team and log-in
--
-- Two things the team API (invite, accept, manage members) and log-in need that 0002 does not
-- have: invitations, and a failed-log-in limiter shared by every server replica.

-- ---------------------------------------------------------------------------------------------------
-- invitations: a single-use, expiring link that turns an invited (inactive) membership into an
-- active one and, for a new person, sets their first password.
--
-- Only a SHA-256 hash of the token is stored: the raw token is shown once, to the inviter, and a
-- copy of this table (a backup, a replica, a log of a query) cannot be used to join a tenant.
-- The invitee is a membership of the same tenant (composite key), created inactive by the
-- invitation; deleting the membership deletes its invitations.
-- ---------------------------------------------------------------------------------------------------

-- The token hash of the invitation being accepted, for the narrow scope the accept flow opens
-- (`Db::begin_invitation`). Like the other context functions: transaction-local, unset = NULL.
CREATE FUNCTION app.current_invitation_hash() RETURNS bytea
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT decode(nullif(current_setting('frontdesk.invitation_hash', true), ''), 'hex') $$;

CREATE TABLE app.invitations (
  tenant_id   uuid NOT NULL DEFAULT app.current_tenant_id() REFERENCES app.tenants (id) ON DELETE CASCADE,
  id          uuid NOT NULL DEFAULT gen_random_uuid(),
  -- The invitee (a membership of this tenant, inactive until the invitation is accepted).
  user_id     uuid NOT NULL,
  token_hash  bytea NOT NULL CHECK (octet_length(token_hash) = 32),
  invited_by  uuid,
  expires_at  timestamptz NOT NULL,
  accepted_at timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT invitations_invitee_fkey FOREIGN KEY (tenant_id, user_id)
    REFERENCES app.memberships (tenant_id, user_id) ON DELETE CASCADE,
  CONSTRAINT invitations_invited_by_fkey FOREIGN KEY (tenant_id, invited_by)
    REFERENCES app.memberships (tenant_id, user_id) ON DELETE SET NULL (invited_by),
  CONSTRAINT invitations_period_check CHECK (expires_at > created_at)
);

-- One open invitation per invitee: inviting a pending invitee again replaces the open one.
CREATE UNIQUE INDEX invitations_open_key ON app.invitations (tenant_id, user_id) WHERE accepted_at IS NULL;
CREATE INDEX invitations_invitee_idx ON app.invitations (tenant_id, user_id, created_at);
CREATE INDEX invitations_invited_by_idx ON app.invitations (tenant_id, invited_by);
-- Accepting looks the invitation up by its hash alone (the caller has no tenant yet). Hash, not
-- btree: pure equality, and btree stays reserved for tenant-leading keys (catalog lint). No
-- uniqueness needed: two 256-bit random tokens do not collide.
CREATE INDEX invitations_token_hash_idx ON app.invitations USING hash (token_hash);

CALL app.isolate_by_tenant('app.invitations');

-- The accept flow's scope sets no tenant, only the hash of the token it was given: it then sees
-- the one invitation whose hash matches (and nothing else; every other policy fails closed). It
-- reads who was invited where, and the flow continues in that tenant as that invitee (see
-- crates/graphql/src/mutation/invitation.rs). Knowing a hash takes knowing the token. Read-only:
-- accepting (the UPDATE) happens in the invitee's tenant scope, under `tenant_isolation`. Outside
-- any tenant only, so inside a tenant nothing but `tenant_isolation` applies.
CREATE POLICY token_holder ON app.invitations FOR SELECT
  USING (app.current_tenant_id() IS NULL AND token_hash = app.current_invitation_hash());

-- Whether PostgreSQL knows `zone` (a member's preferred time zone is checked on write, the same
-- way 0001 checks a tenant's). pg_timezone_names would tell too, but reads the zone files on
-- every query (~100 ms); converting a time costs microseconds.
CREATE FUNCTION app.is_time_zone(zone text) RETURNS boolean
  LANGUAGE plpgsql STABLE
  AS $$
BEGIN
  PERFORM now() AT TIME ZONE zone;
  RETURN true;
EXCEPTION WHEN invalid_parameter_value THEN
  RETURN false;
END
$$;

-- ---------------------------------------------------------------------------------------------------
-- login_attempts: the failed-log-in limiter.
--
-- Not tenant-scoped, on purpose: log-in happens before any tenant is known (one person, one
-- password, many tenants), and what is limited is guessing at an e-mail address or from a
-- client address, whatever tenants they belong to. Keeping the state here rather than in
-- process memory makes the limit hold across every server replica.
--
-- Locked down: the runtime role has no privilege on the table and its policy excludes that role
-- too; it reaches the table only through the two SECURITY DEFINER functions below, which record
-- and count attempts and nothing else. Keys are SHA-256 hashes of the lower-cased e-mail address
-- and of the client address, so the table holds no address in clear.
--
-- Every attempt is recorded *before* the password is checked and deleted again when it succeeds,
-- so concurrent guesses cannot all slip in under the limit before any of them is counted.
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE app.login_attempts (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email_hash   bytea NOT NULL CHECK (octet_length(email_hash) = 32),
  address_hash bytea CHECK (octet_length(address_hash) = 32),
  attempted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_attempts_email_idx ON app.login_attempts (email_hash, attempted_at);
CREATE INDEX login_attempts_address_idx ON app.login_attempts (address_hash, attempted_at)
  WHERE address_hash IS NOT NULL;
CREATE INDEX login_attempts_attempted_at_idx ON app.login_attempts (attempted_at);

REVOKE ALL ON app.login_attempts FROM frontdesk_app;
REVOKE ALL ON SEQUENCE app.login_attempts_id_seq FROM frontdesk_app;
ALTER TABLE app.login_attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.login_attempts FORCE ROW LEVEL SECURITY;
-- Row-level security binds the (non-superuser) owner too, and the functions below run as the
-- owner: this policy admits them and still shuts out the runtime role, should a privilege ever
-- be granted by mistake.
CREATE POLICY limiter_functions_only ON app.login_attempts
  USING (current_user <> 'frontdesk_app')
  WITH CHECK (current_user <> 'frontdesk_app');

-- Records a log-in attempt for `email` from `address` unless either has `limit` attempts within
-- `window` already. Returns the attempt's id and 0, or (NULL, seconds until the next attempt is
-- allowed). Attempts on one e-mail address (and one client address) are serialised by advisory
-- locks, e-mail first, so replicas count exactly. Each call also deletes up to 100 attempts that
-- no window counts any more, so the table stays as small as the traffic of one window.
CREATE FUNCTION app.login_attempt_begin(
  email text, address inet, time_window interval, email_limit integer, address_limit integer)
  RETURNS TABLE (attempt_id bigint, retry_after_seconds integer)
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  e_hash bytea := sha256(convert_to(lower(email), 'UTF8'));
  a_hash bytea := CASE WHEN address IS NULL THEN NULL ELSE sha256(convert_to(host(address), 'UTF8')) END;
  since  timestamptz := now() - time_window;
  oldest timestamptz;
  wait   interval := interval '0';
  new_id bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('frontdesk.login.email.' || encode(e_hash, 'hex'), 0));
  IF a_hash IS NOT NULL THEN
    PERFORM pg_advisory_xact_lock(hashtextextended('frontdesk.login.address.' || encode(a_hash, 'hex'), 0));
  END IF;

  DELETE FROM app.login_attempts WHERE id IN (
    SELECT la.id FROM app.login_attempts la
     WHERE la.attempted_at < now() - greatest(time_window, interval '1 hour')
     ORDER BY la.attempted_at LIMIT 100);

  -- The limit-th newest attempt in the window: once it leaves the window, one more is allowed.
  SELECT la.attempted_at INTO oldest FROM app.login_attempts la
   WHERE la.email_hash = e_hash AND la.attempted_at > since
   ORDER BY la.attempted_at DESC OFFSET greatest(email_limit, 1) - 1 LIMIT 1;
  IF oldest IS NOT NULL THEN
    wait := greatest(wait, oldest + time_window - now());
  END IF;
  IF a_hash IS NOT NULL THEN
    oldest := NULL;
    SELECT la.attempted_at INTO oldest FROM app.login_attempts la
     WHERE la.address_hash = a_hash AND la.attempted_at > since
     ORDER BY la.attempted_at DESC OFFSET greatest(address_limit, 1) - 1 LIMIT 1;
    IF oldest IS NOT NULL THEN
      wait := greatest(wait, oldest + time_window - now());
    END IF;
  END IF;
  IF wait > interval '0' THEN
    RETURN QUERY SELECT NULL::bigint, greatest(ceil(extract(epoch FROM wait)), 1)::integer;
    RETURN;
  END IF;

  INSERT INTO app.login_attempts (email_hash, address_hash) VALUES (e_hash, a_hash)
    RETURNING id INTO new_id;
  RETURN QUERY SELECT new_id, 0;
END
$$;

-- A successful log-in for `email`: its attempts (this one and earlier failures) stop counting,
-- against the e-mail address and against the client addresses they came from.
CREATE FUNCTION app.login_succeeded(email text) RETURNS void
  LANGUAGE sql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$ DELETE FROM app.login_attempts WHERE email_hash = sha256(convert_to(lower(email), 'UTF8')) $$;

REVOKE EXECUTE ON FUNCTION app.login_attempt_begin(text, inet, interval, integer, integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION app.login_succeeded(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.login_attempt_begin(text, inet, interval, integer, integer) TO frontdesk_app;
GRANT EXECUTE ON FUNCTION app.login_succeeded(text) TO frontdesk_app;
