-- 0006 analytics
--
-- 004 `analytics` and 000 `analytics` were tables somebody had to keep in step with the facts; here
-- the daily figures are computed from the facts themselves, so they cannot drift and need no job.
-- security_invoker makes the view run with the caller's rights: the caller's RLS on calls, bookings,
-- ... applies, so a tenant only ever aggregates its own rows (a definer view would bypass RLS).
-- Days are cut in the tenant's time zone (tenants.timezone). Every figure is per tenant per local day;
-- a row exists for a day on which at least one fact happened.
--
-- Cost note: each read aggregates the tenant's facts (through tenant-leading indexes). Should that get
-- slow for large tenants, a rollup table refreshed from this same query can replace it behind the
-- same name and columns.

CREATE VIEW app.daily_analytics WITH (security_invoker = true) AS
WITH
zones AS (
  SELECT id AS tenant_id, timezone FROM app.tenants
),
call_days AS (
  SELECT c.tenant_id,
         (coalesce(c.started_at, c.created_at) AT TIME ZONE z.timezone)::date AS date,
         count(*) AS total_calls,
         count(*) FILTER (WHERE c.status IN ('completed', 'ended')) AS successful_calls,
         count(*) FILTER (WHERE c.status IN ('failed', 'no-answer', 'busy')) AS failed_calls,
         count(*) FILTER (WHERE c.booking_id IS NOT NULL) AS calls_with_booking,
         sum(c.duration) AS call_seconds,
         sum(c.cost) AS call_cost,
         sum(c.tokens_used) AS call_tokens,
         count(c.sentiment) AS sentiments,
         sum(CASE c.sentiment WHEN 'positive' THEN 1 WHEN 'neutral' THEN 0.5 WHEN 'negative' THEN 0 END) AS sentiment_sum,
         count(*) FILTER (WHERE c.sentiment = 'positive') AS positive,
         count(*) FILTER (WHERE c.sentiment = 'negative') AS negative
  FROM app.calls c JOIN zones z USING (tenant_id)
  GROUP BY 1, 2
),
booking_days AS (
  SELECT b.tenant_id,
         (b.created_at AT TIME ZONE z.timezone)::date AS date,
         count(*) AS total_bookings,
         count(*) FILTER (WHERE b.status = 'cancelled') AS cancelled_bookings,
         sum(b.payment_amount) FILTER (WHERE b.payment_status = 'paid') AS booking_revenue
  FROM app.bookings b JOIN zones z USING (tenant_id)
  GROUP BY 1, 2
),
sms_days AS (
  SELECT s.tenant_id,
         (s.created_at AT TIME ZONE z.timezone)::date AS date,
         count(*) AS total_sms,
         count(*) FILTER (WHERE s.direction = 'outbound') AS sms_sent,
         sum(s.cost) AS sms_cost
  FROM app.sms_messages s JOIN zones z USING (tenant_id)
  GROUP BY 1, 2
),
conversation_days AS (
  SELECT v.tenant_id,
         (v.created_at AT TIME ZONE z.timezone)::date AS date,
         count(*) AS total_conversations,
         count(*) FILTER (WHERE v.type = 'voice' OR v.channel = 'phone') AS voice_conversations,
         -- Voice: the call duration 000 recorded; text: first to last message.
         avg(CASE
               WHEN jsonb_typeof(v.call_data -> 'duration') = 'number' THEN (v.call_data ->> 'duration')::numeric
               ELSE extract(epoch FROM coalesce(v.closed_at, v.last_message_at) - v.created_at)
             END) AS avg_duration_seconds,
         avg(v.first_response_time) * 60 AS avg_response_seconds,
         count(*) FILTER (WHERE v.resolved) AS resolved,
         count(*) FILTER (WHERE v.escalated_to_human OR v.outcome = 'escalated') AS escalated,
         count(*) FILTER (WHERE v.outcome = 'sale') AS sales,
         sum(v.sale_amount) AS sales_revenue
  FROM app.conversations v JOIN zones z USING (tenant_id)
  GROUP BY 1, 2
),
message_days AS (
  SELECT m.tenant_id,
         (m.sent_at AT TIME ZONE z.timezone)::date AS date,
         sum(m.tokens_used) AS message_tokens,
         sum(m.cost) AS ai_cost,
         -- Customer utterances the AI scored (003 aiResponse.sentiment).
         count(*) FILTER (WHERE m.direction = 'inbound' AND m.ai_response ->> 'sentiment' IS NOT NULL) AS sentiments,
         sum(CASE WHEN m.direction = 'inbound' THEN
               CASE m.ai_response ->> 'sentiment' WHEN 'positive' THEN 1 WHEN 'neutral' THEN 0.5 WHEN 'negative' THEN 0 END
             END) AS sentiment_sum,
         count(*) FILTER (WHERE m.direction = 'inbound' AND m.ai_response ->> 'sentiment' = 'positive') AS positive,
         count(*) FILTER (WHERE m.direction = 'inbound' AND m.ai_response ->> 'sentiment' = 'negative') AS negative
  FROM app.messages m JOIN zones z USING (tenant_id)
  GROUP BY 1, 2
),
lead_days AS (
  SELECT l.tenant_id,
         (l.created_at AT TIME ZONE z.timezone)::date AS date,
         count(*) AS new_leads,
         count(*) FILTER (WHERE l.priority = 'hot') AS hot_leads,
         count(*) FILTER (WHERE l.converted) AS new_leads_converted
  FROM app.leads l JOIN zones z USING (tenant_id)
  GROUP BY 1, 2
),
lead_conversion_days AS (
  SELECT l.tenant_id,
         (l.converted_at AT TIME ZONE z.timezone)::date AS date,
         count(*) AS leads_converted,
         sum(l.deal_value) AS deal_revenue
  FROM app.leads l JOIN zones z USING (tenant_id)
  WHERE l.converted_at IS NOT NULL
  GROUP BY 1, 2
),
days AS (
  SELECT tenant_id, date FROM call_days
  UNION SELECT tenant_id, date FROM booking_days
  UNION SELECT tenant_id, date FROM sms_days
  UNION SELECT tenant_id, date FROM conversation_days
  UNION SELECT tenant_id, date FROM message_days
  UNION SELECT tenant_id, date FROM lead_days
  UNION SELECT tenant_id, date FROM lead_conversion_days
)
SELECT
  d.tenant_id,
  d.date,
  -- calls (004, 000 voice)
  coalesce(c.total_calls, 0)::integer                                      AS total_calls,
  coalesce(c.successful_calls, 0)::integer                                 AS successful_calls,
  coalesce(c.failed_calls, 0)::integer                                     AS failed_calls,
  coalesce(c.calls_with_booking, 0)::integer                               AS calls_with_booking,
  -- 004 conversion_rate, as a 0-1 ratio: share of the day's calls that led to a booking.
  coalesce(round(c.calls_with_booking::numeric / nullif(c.total_calls, 0), 4), 0)::numeric(5, 4) AS conversion_rate,
  round(coalesce(c.call_seconds, 0) / 60.0, 2)::numeric(12, 2)            AS voice_minutes_used,
  -- bookings (004 total_bookings = 000 bookingsMade)
  coalesce(b.total_bookings, 0)::integer                                   AS total_bookings,
  coalesce(b.cancelled_bookings, 0)::integer                               AS cancelled_bookings,
  -- sms (004 total_sms, 000 smsMessagesSent)
  coalesce(s.total_sms, 0)::integer                                        AS total_sms,
  coalesce(s.sms_sent, 0)::integer                                         AS sms_messages_sent,
  -- conversations (000)
  coalesce(v.total_conversations, 0)::integer                              AS total_conversations,
  coalesce(v.total_conversations - v.voice_conversations, 0)::integer      AS chat_conversations,
  coalesce(v.voice_conversations, 0)::integer                              AS voice_conversations,
  round(v.avg_duration_seconds, 2)::numeric(12, 2)                         AS avg_conversation_duration,
  round(v.avg_response_seconds, 2)::numeric(12, 2)                         AS avg_response_time,
  coalesce(round(v.resolved::numeric / nullif(v.total_conversations, 0), 4), 0)::numeric(5, 4)  AS resolution_rate,
  coalesce(round(v.escalated::numeric / nullif(v.total_conversations, 0), 4), 0)::numeric(5, 4) AS escalation_rate,
  -- business (000)
  coalesce(v.sales, 0)::integer                                            AS sales_generated,
  coalesce(b.booking_revenue, 0)::numeric(14, 2)                           AS booking_revenue,
  coalesce(v.sales_revenue, 0)::numeric(14, 2)                             AS sales_revenue,
  (coalesce(b.booking_revenue, 0) + coalesce(v.sales_revenue, 0))::numeric(14, 2) AS total_revenue,
  -- leads (000)
  coalesce(l.new_leads, 0)::integer                                        AS new_leads,
  coalesce(l.hot_leads, 0)::integer                                        AS hot_leads,
  coalesce(lc.leads_converted, 0)::integer                                 AS leads_converted,
  coalesce(lc.deal_revenue, 0)::numeric(14, 2)                             AS deal_revenue,
  -- Cohort rate, always 0-1: of the leads created this day, the share converted so far.
  coalesce(round(l.new_leads_converted::numeric / nullif(l.new_leads, 0), 4), 0)::numeric(5, 4) AS lead_conversion_rate,
  -- satisfaction (000): positive = 1, neutral = 0.5, negative = 0 over scored calls and customer messages
  round((coalesce(c.sentiment_sum, 0) + coalesce(m.sentiment_sum, 0))
        / nullif(coalesce(c.sentiments, 0) + coalesce(m.sentiments, 0), 0), 4)::numeric(5, 4) AS avg_sentiment,
  (coalesce(c.positive, 0) + coalesce(m.positive, 0))::integer             AS positive_interactions,
  (coalesce(c.negative, 0) + coalesce(m.negative, 0))::integer             AS negative_interactions,
  -- usage and cost (000 tokensUsed, 004 total_cost)
  (coalesce(c.call_tokens, 0) + coalesce(m.message_tokens, 0))::bigint     AS tokens_used,
  coalesce(c.call_cost, 0)::numeric(14, 4)                                 AS call_cost,
  coalesce(s.sms_cost, 0)::numeric(14, 4)                                  AS sms_cost,
  coalesce(m.ai_cost, 0)::numeric(14, 4)                                   AS ai_cost,
  (coalesce(c.call_cost, 0) + coalesce(s.sms_cost, 0) + coalesce(m.ai_cost, 0))::numeric(14, 4) AS total_cost
FROM days d
LEFT JOIN call_days c             ON c.tenant_id = d.tenant_id  AND c.date = d.date
LEFT JOIN booking_days b          ON b.tenant_id = d.tenant_id  AND b.date = d.date
LEFT JOIN sms_days s              ON s.tenant_id = d.tenant_id  AND s.date = d.date
LEFT JOIN conversation_days v     ON v.tenant_id = d.tenant_id  AND v.date = d.date
LEFT JOIN message_days m          ON m.tenant_id = d.tenant_id  AND m.date = d.date
LEFT JOIN lead_days l             ON l.tenant_id = d.tenant_id  AND l.date = d.date
LEFT JOIN lead_conversion_days lc ON lc.tenant_id = d.tenant_id AND lc.date = d.date;

-- Default privileges granted DML on it like on a table; a computed view is read-only.
REVOKE ALL ON app.daily_analytics FROM frontdesk_app;
GRANT SELECT ON app.daily_analytics TO frontdesk_app;
