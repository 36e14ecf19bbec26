-- 0024 dashboard range indexes
--
-- The `analytics` dashboard (crates/db/src/dashboards) reads each fact table once per request,
-- for one tenant and one time range, and groups it by period. Bookings, SMS, conversations,
-- messages and new leads already have tenant-leading indexes on the time they are bucketed by
-- (created_at, sent_at). Calls are bucketed by when they started, else when they were recorded
-- (coalesce(started_at, created_at), as daily_analytics does), which no index held, so every
-- dashboard read the tenant's whole call history; lead conversions are bucketed by
-- converted_at, which no index held either.

CREATE INDEX calls_analytics_at_idx ON app.calls (tenant_id, (coalesce(started_at, created_at)));
CREATE INDEX leads_converted_at_idx ON app.leads (tenant_id, converted_at) WHERE converted_at IS NOT NULL;
