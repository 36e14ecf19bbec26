-- 0007 customer counters
--
-- customers carries denormalised counters (total_bookings, total_calls, total_spent, contact
-- times, ...) that dashboards read on every render. Their authoritative values derive from the
-- facts (bookings, calls, SMS, chat messages, conversations, tickets); the seed sets them with
-- set-based UPDATEs (crates/db/src/seed/counters.rs), and every API write that touches the facts
-- calls this function for the customers it touched (old and new owner when a row moves).
--
-- Why a function the writer calls and not row triggers: the seed bulk-inserts millions of fact
-- rows, and a per-row trigger would turn each of those inserts into a customer UPDATE. One call at
-- the end of a mutation recomputes the few customers it touched, from the facts, so the counters
-- cannot drift however the facts changed (insert, move, delete, payment status change).
--
-- The definitions are the seed's, column for column:
--   total_bookings   bookings of the customer
--   total_spent      sum of payment_amount over bookings with payment_status = 'paid'
--   total_calls      calls of the customer
--   total_conversations, total_messages, total_tickets, satisfaction_score (average rating of
--                    the customer's conversations), last_message_at (latest chat message)
--   first_contact    earliest of: the customer's creation, first call start, first chat message
--   last_contact     latest call start, SMS or chat message
--   last_interaction latest of last_contact's facts and the latest booking's creation
--
-- SECURITY INVOKER (the default, spelled out): the function runs with the caller's rights, so
-- row-level security applies to every table it reads and to the UPDATE; it can only ever see and
-- change the current tenant's rows. The explicit `tenant_id = app.current_tenant_id()` predicates
-- repeat what the policies enforce so that the planner uses the tenant-leading indexes, and make
-- a call without a tenant context (e.g. a superuser session) update nothing.
--
-- Concurrency: two transactions adding facts to the same customer must not overwrite each other's
-- counts. A single UPDATE cannot guarantee that under READ COMMITTED: if it waits for another
-- transaction's lock on the customer row, it re-checks only that row and keeps the aggregates it
-- computed from its older snapshot. So the function first locks the customers (FOR NO KEY UPDATE,
-- in id order so two refreshes of overlapping sets cannot deadlock; NO KEY so it does not conflict
-- with the KEY SHARE locks that foreign-key checks of concurrent fact inserts hold), and only then
-- runs the UPDATE: in PL/pgSQL each statement of a volatile function takes a fresh snapshot, which
-- now includes every fact committed by whoever held the lock before. Rows whose counters already
-- hold the right values are not rewritten (no dead tuples, no updated_at churn).

CREATE FUNCTION app.refresh_customer_counters(ids uuid[]) RETURNS integer
  LANGUAGE plpgsql VOLATILE SECURITY INVOKER
  AS $$
DECLARE
  changed integer;
BEGIN
  PERFORM 1 FROM app.customers
    WHERE tenant_id = app.current_tenant_id() AND id = ANY (ids)
    ORDER BY id
    FOR NO KEY UPDATE;

  UPDATE app.customers cu SET
    total_bookings      = f.total_bookings,
    total_spent         = f.total_spent,
    total_calls         = f.total_calls,
    total_conversations = f.total_conversations,
    total_messages      = f.total_messages,
    total_tickets       = f.total_tickets,
    satisfaction_score  = f.satisfaction_score,
    first_contact       = f.first_contact,
    last_contact        = f.last_contact,
    last_interaction    = f.last_interaction,
    last_message_at     = f.last_message_at
  FROM (
    SELECT c0.id,
           b.n::integer AS total_bookings,
           b.spent AS total_spent,
           ca.n::integer AS total_calls,
           v.n::integer AS total_conversations,
           m.n::integer AS total_messages,
           t.n::integer AS total_tickets,
           v.rating AS satisfaction_score,
           least(c0.created_at, ca.first, m.first) AS first_contact,
           greatest(ca.last, s.last, m.last) AS last_contact,
           greatest(ca.last, s.last, m.last, b.last) AS last_interaction,
           m.last AS last_message_at
    FROM app.customers c0
    CROSS JOIN LATERAL (SELECT count(*) AS n, max(created_at) AS last,
                               coalesce(sum(payment_amount) FILTER (WHERE payment_status = 'paid'), 0) AS spent
                        FROM app.bookings
                        WHERE tenant_id = app.current_tenant_id() AND customer_id = c0.id) b
    CROSS JOIN LATERAL (SELECT count(*) AS n, min(started_at) AS first, max(started_at) AS last
                        FROM app.calls
                        WHERE tenant_id = app.current_tenant_id() AND customer_id = c0.id) ca
    CROSS JOIN LATERAL (SELECT max(created_at) AS last
                        FROM app.sms_messages
                        WHERE tenant_id = app.current_tenant_id() AND customer_id = c0.id) s
    CROSS JOIN LATERAL (SELECT count(*) AS n,
                               round(avg((customer_satisfaction ->> 'rating')::numeric), 2) AS rating
                        FROM app.conversations
                        WHERE tenant_id = app.current_tenant_id() AND customer_id = c0.id) v
    CROSS JOIN LATERAL (SELECT count(*) AS n, min(sent_at) AS first, max(sent_at) AS last
                        FROM app.messages
                        WHERE tenant_id = app.current_tenant_id() AND customer_id = c0.id) m
    CROSS JOIN LATERAL (SELECT count(*) AS n
                        FROM app.tickets
                        WHERE tenant_id = app.current_tenant_id() AND customer_id = c0.id) t
    WHERE c0.tenant_id = app.current_tenant_id() AND c0.id = ANY (ids)
  ) f
  WHERE cu.tenant_id = app.current_tenant_id() AND cu.id = f.id
    AND (cu.total_bookings, cu.total_spent, cu.total_calls, cu.total_conversations,
         cu.total_messages, cu.total_tickets, cu.satisfaction_score, cu.first_contact,
         cu.last_contact, cu.last_interaction, cu.last_message_at)
        IS DISTINCT FROM
        (f.total_bookings, f.total_spent, f.total_calls, f.total_conversations,
         f.total_messages, f.total_tickets, f.satisfaction_score, f.first_contact,
         f.last_contact, f.last_interaction, f.last_message_at);

  GET DIAGNOSTICS changed = ROW_COUNT;
  RETURN changed;
END
$$;

COMMENT ON FUNCTION app.refresh_customer_counters(uuid[]) IS
  'Recomputes the denormalised counters of the given customers of the current tenant from the facts; returns how many rows changed.';
