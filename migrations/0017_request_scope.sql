-- 0017 request scope: one statement opens a request's context and reports the caller's membership.
--
-- Every scoped transaction starts by storing who acts in transaction-local settings. For a member
-- acting in a tenant, the API also needs the membership's current role, permissions and active
-- flag: the access token says who the caller is, but a demotion, a revoked permission or a
-- deactivation must take effect on the next request, not when the token expires. Doing both in
-- one function keeps it one round trip (statements per request do not grow), and the function
-- runs as the caller, so the membership is read under the memberships policy with the settings it
-- has just made.
CREATE FUNCTION app.begin_scope(tenant text, member text, login_email text)
  RETURNS TABLE (role text, permissions text[], is_active boolean)
  LANGUAGE plpgsql VOLATILE
  AS $$
BEGIN
  PERFORM set_config('frontdesk.tenant_id', tenant, true),
          set_config('frontdesk.user_id', member, true),
          set_config('frontdesk.login_email', login_email, true);
  IF tenant <> '' AND member <> '' THEN
    RETURN QUERY
      SELECT m.role, m.permissions, m.is_active
        FROM app.memberships m
       WHERE m.tenant_id = tenant::uuid AND m.user_id = member::uuid;
  END IF;
END
$$;
