-- 0005 CRM and configuration
--
-- Sales and support records (000/001 leads, 001 demo requests, 003 tickets), AI configuration
-- (004 system prompts and FAQs), 002 marketing-platform connections, 003 system settings, and one
-- audit trail for 001 audit logs and 003 activity log.
-- 004's `client_id TEXT` on faqs/system_prompts was that system's tenant key; here tenant_id is it.

-- ---------------------------------------------------------------------------------------------------
-- leads (000 leads + 001 av_leads)
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE app.leads (
  tenant_id         uuid NOT NULL DEFAULT app.current_tenant_id() REFERENCES app.tenants (id) ON DELETE CASCADE,
  id                uuid NOT NULL DEFAULT gen_random_uuid(),
  conversation_id   uuid,
  name              text,
  first_name        text,
  last_name         text,
  phone             text,
  email             text,
  company           text,
  industry          text,
  -- 000 enumerates voice_call/chat/whatsapp, 001 takes any string for the same field: the union of a
  -- closed and an open set is open, so no CHECK (docs/data-model.md lists the known values).
  source            text,
  interest          text CHECK (interest IN ('ai_assistant', 'web_development', 'app_development')),
  budget            text CHECK (budget IN ('10k-50k', '50k-100k', '100k+')),
  timeline          text CHECK (timeline IN ('immediate', '1-3_months', '3-6_months')),
  -- 000 leadScore (0-100, AI calculated) and 001 score are the same measure.
  lead_score        smallint CHECK (lead_score BETWEEN 0 AND 100),
  priority          text CHECK (priority IN ('hot', 'warm', 'cold')),
  -- 001 pipeline stage and 000 follow-up state are different questions, so both stay.
  status            text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'qualified', 'converted', 'lost')),
  follow_up_date    timestamptz,
  follow_up_status  text NOT NULL DEFAULT 'pending' CHECK (follow_up_status IN ('pending', 'contacted', 'converted', 'lost')),
  notes             text,
  tags              text[] NOT NULL DEFAULT '{}',
  converted_at      timestamptz,
  -- 000 stores both flag and time; the flag is derived so they cannot disagree.
  converted         boolean GENERATED ALWAYS AS (converted_at IS NOT NULL) STORED,
  deal_value        numeric(12, 2) CHECK (deal_value >= 0),
  last_contacted_at timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT leads_contact_check CHECK (coalesce(name, first_name, last_name, email, phone) IS NOT NULL),
  CONSTRAINT leads_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
    REFERENCES app.conversations (tenant_id, id) ON DELETE SET NULL (conversation_id)
);

-- 001: email unique; 000: email optional.
CREATE UNIQUE INDEX leads_tenant_id_email_key ON app.leads (tenant_id, lower(email)) WHERE email IS NOT NULL;
CREATE INDEX leads_status_idx ON app.leads (tenant_id, status);
CREATE INDEX leads_industry_idx ON app.leads (tenant_id, industry);
CREATE INDEX leads_source_idx ON app.leads (tenant_id, source);
CREATE INDEX leads_priority_score_idx ON app.leads (tenant_id, priority, lead_score DESC);
CREATE INDEX leads_follow_up_idx ON app.leads (tenant_id, follow_up_status, follow_up_date);
CREATE INDEX leads_created_at_idx ON app.leads (tenant_id, created_at DESC, id);
CREATE INDEX leads_conversation_idx ON app.leads (tenant_id, conversation_id) WHERE conversation_id IS NOT NULL;
CREATE INDEX leads_tags_idx ON app.leads USING gin (tags);

CREATE TRIGGER set_updated_at BEFORE UPDATE ON app.leads
  FOR EACH ROW EXECUTE FUNCTION app.set_updated_at();

-- ---------------------------------------------------------------------------------------------------
-- demo_requests (001 av_demo_requests), owned by the business that receives them.
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE app.demo_requests (
  tenant_id        uuid NOT NULL DEFAULT app.current_tenant_id() REFERENCES app.tenants (id) ON DELETE CASCADE,
  id               uuid NOT NULL DEFAULT gen_random_uuid(),
  name             text NOT NULL,
  email            text NOT NULL,
  company          text,
  -- 001 `role` (the requester's job title), renamed so it is not mistaken for an access role.
  job_title        text,
  phone            text,
  industry         text CHECK (industry IN ('medical', 'legal', 'sales', 'other')),
  company_size     text CHECK (company_size IN ('1-10', '11-50', '51-200', '201-1000', '1000+')),
  use_case         text,
  current_solution text,
  timeline         text,
  budget           text,
  additional_info  text,
  status           text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'contacted', 'scheduled', 'completed', 'declined')),
  assigned_to      uuid,
  scheduled_at     timestamptz,
  completed_at     timestamptz,
  source           text,
  utm_source       text,
  utm_medium       text,
  utm_campaign     text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT demo_requests_assigned_to_fkey FOREIGN KEY (tenant_id, assigned_to)
    REFERENCES app.memberships (tenant_id, user_id) ON DELETE SET NULL (assigned_to)
);
CREATE INDEX demo_requests_email_idx ON app.demo_requests (tenant_id, lower(email));
CREATE INDEX demo_requests_status_idx ON app.demo_requests (tenant_id, status);
CREATE INDEX demo_requests_industry_idx ON app.demo_requests (tenant_id, industry);
CREATE INDEX demo_requests_assigned_to_idx ON app.demo_requests (tenant_id, assigned_to) WHERE assigned_to IS NOT NULL;
CREATE INDEX demo_requests_created_at_idx ON app.demo_requests (tenant_id, created_at DESC, id);
CREATE TRIGGER set_updated_at BEFORE UPDATE ON app.demo_requests
  FOR EACH ROW EXECUTE FUNCTION app.set_updated_at();

CREATE TABLE app.demo_request_notes (
  tenant_id       uuid NOT NULL DEFAULT app.current_tenant_id() REFERENCES app.tenants (id) ON DELETE CASCADE,
  id              uuid NOT NULL DEFAULT gen_random_uuid(),
  demo_request_id uuid NOT NULL,
  note            text NOT NULL,
  added_by        uuid,
  added_at        timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT demo_request_notes_demo_request_fkey FOREIGN KEY (tenant_id, demo_request_id)
    REFERENCES app.demo_requests (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT demo_request_notes_added_by_fkey FOREIGN KEY (tenant_id, added_by)
    REFERENCES app.memberships (tenant_id, user_id) ON DELETE SET NULL (added_by)
);
CREATE INDEX demo_request_notes_demo_request_idx ON app.demo_request_notes (tenant_id, demo_request_id, added_at, id);
CREATE TRIGGER set_updated_at BEFORE UPDATE ON app.demo_request_notes
  FOR EACH ROW EXECUTE FUNCTION app.set_updated_at();

-- ---------------------------------------------------------------------------------------------------
-- tickets (003 Ticket)
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE app.tickets (
  tenant_id            uuid NOT NULL DEFAULT app.current_tenant_id() REFERENCES app.tenants (id) ON DELETE CASCADE,
  id                   uuid NOT NULL DEFAULT gen_random_uuid(),
  -- 003 ticketId; assigned by trigger when not supplied (imports keep their numbers).
  ticket_number        text NOT NULL CHECK (ticket_number ~ '^TICKET-[0-9]{4}-[0-9]{6,}$'),
  customer_id          uuid NOT NULL,
  conversation_id      uuid,
  assigned_agent_id    uuid,
  subject              text NOT NULL CHECK (char_length(subject) <= 200),
  description          text NOT NULL,
  category             text NOT NULL CHECK (category IN ('technical_support', 'billing', 'product_inquiry', 'complaint',
                                                         'feature_request', 'bug_report', 'general_inquiry', 'other')),
  subcategory          text,
  priority             text NOT NULL DEFAULT 'medium' CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
  status               text NOT NULL DEFAULT 'open'
                         CHECK (status IN ('open', 'in_progress', 'waiting_customer', 'waiting_internal', 'resolved', 'closed')),
  sla_level            text NOT NULL DEFAULT 'standard' CHECK (sla_level IN ('standard', 'priority', 'vip')),
  estimated_resolution timestamptz,
  first_response_time  numeric(10, 2) CHECK (first_response_time >= 0),
  resolution_time      numeric(10, 2) CHECK (resolution_time >= 0),
  attachments          jsonb NOT NULL DEFAULT '[]' CHECK (
                         app.jsonb_is_object_array(attachments)
                         AND NOT jsonb_path_exists(attachments,
                           '$[*] ? (exists(@.type) && !(@.type == "image" || @.type == "document" || @.type == "audio" || @.type == "video"))')),
  location             jsonb CHECK (
                         jsonb_typeof(location) = 'object'
                         AND app.jsonb_field_between(location, 'latitude', -90, 90)
                         AND app.jsonb_field_between(location, 'longitude', -180, 180)
                         AND app.jsonb_field_is(location, 'address', 'string')
                         AND app.jsonb_field_is(location, 'formattedAddress', 'string')
                         AND app.jsonb_field_is(location, 'isServiceLocation', 'boolean')),
  resolution           jsonb CHECK (
                         jsonb_typeof(resolution) = 'object'
                         AND app.jsonb_field_is(resolution, 'summary', 'string')
                         AND app.jsonb_field_is(resolution, 'steps', 'array')
                         AND app.jsonb_field_is(resolution, 'resolvedBy', 'string')
                         AND app.jsonb_field_is(resolution, 'resolvedAt', 'string')
                         AND app.jsonb_field_in(resolution, 'resolutionCategory', 'solved', 'workaround', 'duplicate', 'invalid', 'wont_fix')),
  customer_feedback    jsonb CHECK (
                         jsonb_typeof(customer_feedback) = 'object'
                         AND app.jsonb_field_between(customer_feedback, 'rating', 1, 5)
                         AND app.jsonb_field_is(customer_feedback, 'comment', 'string')
                         AND app.jsonb_field_is(customer_feedback, 'submittedAt', 'string')
                         AND app.jsonb_field_is(customer_feedback, 'followUpNeeded', 'boolean')),
  tags                 text[] NOT NULL DEFAULT '{}',
  labels               jsonb NOT NULL DEFAULT '[]' CHECK (
                         app.jsonb_is_object_array(labels)
                         AND NOT jsonb_path_exists(labels, '$[*] ? (exists(@.color) && !(@.color like_regex "^#[0-9A-Fa-f]{3}([0-9A-Fa-f]{3})?$"))')),
  escalated            boolean NOT NULL DEFAULT false,
  escalated_to         uuid,
  escalated_at         timestamptz,
  escalation_reason    text,
  parent_ticket_id     uuid,
  external_id          text,
  external_url         text,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  closed_at            timestamptz,
  last_activity_at     timestamptz NOT NULL DEFAULT now(),
  search               tsvector GENERATED ALWAYS AS (to_tsvector('simple',
                         coalesce(subject, '') || ' ' || left(coalesce(description, ''), 100000))) STORED,
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT tickets_tenant_id_ticket_number_key UNIQUE (tenant_id, ticket_number),
  CONSTRAINT tickets_parent_check CHECK (parent_ticket_id IS DISTINCT FROM id),
  CONSTRAINT tickets_customer_fkey FOREIGN KEY (tenant_id, customer_id)
    REFERENCES app.customers (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT tickets_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
    REFERENCES app.conversations (tenant_id, id) ON DELETE SET NULL (conversation_id),
  CONSTRAINT tickets_assigned_agent_fkey FOREIGN KEY (tenant_id, assigned_agent_id)
    REFERENCES app.memberships (tenant_id, user_id) ON DELETE SET NULL (assigned_agent_id),
  CONSTRAINT tickets_escalated_to_fkey FOREIGN KEY (tenant_id, escalated_to)
    REFERENCES app.memberships (tenant_id, user_id) ON DELETE SET NULL (escalated_to),
  CONSTRAINT tickets_parent_ticket_fkey FOREIGN KEY (tenant_id, parent_ticket_id)
    REFERENCES app.tickets (tenant_id, id) ON DELETE SET NULL (parent_ticket_id)
);

COMMENT ON COLUMN app.tickets.first_response_time IS 'minutes (003)';
COMMENT ON COLUMN app.tickets.resolution_time IS 'minutes (003)';

CREATE INDEX tickets_customer_created_at_idx ON app.tickets (tenant_id, customer_id, created_at DESC, id);
CREATE INDEX tickets_assigned_agent_status_idx ON app.tickets (tenant_id, assigned_agent_id, status);
CREATE INDEX tickets_category_status_idx ON app.tickets (tenant_id, category, status);
CREATE INDEX tickets_priority_status_idx ON app.tickets (tenant_id, priority, status);
CREATE INDEX tickets_created_at_idx ON app.tickets (tenant_id, created_at DESC, id);
CREATE INDEX tickets_status_updated_at_idx ON app.tickets (tenant_id, status, updated_at DESC);
CREATE INDEX tickets_conversation_idx ON app.tickets (tenant_id, conversation_id) WHERE conversation_id IS NOT NULL;
CREATE INDEX tickets_parent_ticket_idx ON app.tickets (tenant_id, parent_ticket_id) WHERE parent_ticket_id IS NOT NULL;
CREATE INDEX tickets_tags_idx ON app.tickets USING gin (tags);
CREATE INDEX tickets_search_idx ON app.tickets USING gin (search);

CREATE TRIGGER set_updated_at BEFORE UPDATE ON app.tickets
  FOR EACH ROW EXECUTE FUNCTION app.set_updated_at();

-- Ticket numbers are gap-free per tenant per year (TICKET-2025-000001, ...). A sequence cannot do
-- that (it is shared, non-transactional and leaks numbers on rollback); a counter row updated in the
-- inserting transaction can: a rolled-back insert rolls its increment back too. The price is that
-- ticket inserts of one tenant serialise on its counter row until commit, which at helpdesk volumes
-- is nothing. One row per (tenant, year) rather than one per tenant, so a transaction that started
-- on 31 December and commits after one that started on 1 January still numbers in its own year.
CREATE TABLE app.ticket_counters (
  tenant_id  uuid NOT NULL DEFAULT app.current_tenant_id() REFERENCES app.tenants (id) ON DELETE CASCADE,
  year       integer NOT NULL CHECK (year BETWEEN 2000 AND 9999),
  last_value bigint NOT NULL CHECK (last_value >= 0),
  PRIMARY KEY (tenant_id, year)
);

CREATE FUNCTION app.assign_ticket_number() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
DECLARE
  ticket_year integer := extract(year FROM now() AT TIME ZONE 'UTC');
  next_value  bigint;
BEGIN
  IF NEW.ticket_number IS NULL THEN
    INSERT INTO app.ticket_counters AS c (tenant_id, year, last_value)
    VALUES (NEW.tenant_id, ticket_year, 1)
    ON CONFLICT (tenant_id, year) DO UPDATE SET last_value = c.last_value + 1
    RETURNING c.last_value INTO next_value;
    NEW.ticket_number := format('TICKET-%s-%s', ticket_year, lpad(next_value::text, 6, '0'));
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER assign_ticket_number BEFORE INSERT ON app.tickets
  FOR EACH ROW EXECUTE FUNCTION app.assign_ticket_number();

-- 003 ticket notes: appended by many agents, so a child table.
CREATE TABLE app.ticket_notes (
  tenant_id   uuid NOT NULL DEFAULT app.current_tenant_id() REFERENCES app.tenants (id) ON DELETE CASCADE,
  id          uuid NOT NULL DEFAULT gen_random_uuid(),
  ticket_id   uuid NOT NULL,
  -- Required on write (003); SET NULL only so removing a membership keeps the ticket history.
  agent_id    uuid,
  content     text NOT NULL,
  is_internal boolean NOT NULL DEFAULT true,
  attachments text[] NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT ticket_notes_ticket_fkey FOREIGN KEY (tenant_id, ticket_id)
    REFERENCES app.tickets (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT ticket_notes_agent_fkey FOREIGN KEY (tenant_id, agent_id)
    REFERENCES app.memberships (tenant_id, user_id) ON DELETE SET NULL (agent_id)
);
CREATE INDEX ticket_notes_ticket_idx ON app.ticket_notes (tenant_id, ticket_id, created_at, id);
CREATE TRIGGER set_updated_at BEFORE UPDATE ON app.ticket_notes
  FOR EACH ROW EXECUTE FUNCTION app.set_updated_at();

-- 003 relatedTickets: a directed link per array entry; readers treat a link as going both ways.
CREATE TABLE app.ticket_links (
  tenant_id         uuid NOT NULL DEFAULT app.current_tenant_id() REFERENCES app.tenants (id) ON DELETE CASCADE,
  id                uuid NOT NULL DEFAULT gen_random_uuid(),
  ticket_id         uuid NOT NULL,
  related_ticket_id uuid NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT ticket_links_tenant_id_ticket_id_related_ticket_id_key UNIQUE (tenant_id, ticket_id, related_ticket_id),
  CONSTRAINT ticket_links_not_self_check CHECK (ticket_id <> related_ticket_id),
  CONSTRAINT ticket_links_ticket_fkey FOREIGN KEY (tenant_id, ticket_id)
    REFERENCES app.tickets (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT ticket_links_related_ticket_fkey FOREIGN KEY (tenant_id, related_ticket_id)
    REFERENCES app.tickets (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX ticket_links_related_ticket_idx ON app.ticket_links (tenant_id, related_ticket_id);

-- ---------------------------------------------------------------------------------------------------
-- system_prompts, faqs (004)
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE app.system_prompts (
  tenant_id      uuid NOT NULL DEFAULT app.current_tenant_id() REFERENCES app.tenants (id) ON DELETE CASCADE,
  id             uuid NOT NULL DEFAULT gen_random_uuid(),
  prompt_type    text NOT NULL CHECK (prompt_type IN ('voice', 'sms')),
  system_prompt  text NOT NULL,
  prompt_version text NOT NULL DEFAULT 'v1.0.0',
  is_active      boolean NOT NULL DEFAULT true,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX system_prompts_prompt_type_idx ON app.system_prompts (tenant_id, prompt_type);
CREATE INDEX system_prompts_is_active_idx ON app.system_prompts (tenant_id, is_active);
CREATE TRIGGER set_updated_at BEFORE UPDATE ON app.system_prompts
  FOR EACH ROW EXECUTE FUNCTION app.set_updated_at();

CREATE TABLE app.faqs (
  tenant_id     uuid NOT NULL DEFAULT app.current_tenant_id() REFERENCES app.tenants (id) ON DELETE CASCADE,
  id            uuid NOT NULL DEFAULT gen_random_uuid(),
  category      text NOT NULL,
  question      text NOT NULL,
  answer        text NOT NULL,
  keywords      text[] NOT NULL DEFAULT '{}',
  is_active     boolean NOT NULL DEFAULT true,
  display_order integer NOT NULL DEFAULT 0,
  usage_count   integer NOT NULL DEFAULT 0 CHECK (usage_count >= 0),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  search        tsvector GENERATED ALWAYS AS (to_tsvector('simple',
                  coalesce(question, '') || ' ' || left(coalesce(answer, ''), 100000))) STORED,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX faqs_category_idx ON app.faqs (tenant_id, category);
CREATE INDEX faqs_is_active_idx ON app.faqs (tenant_id, is_active, display_order);
CREATE INDEX faqs_keywords_idx ON app.faqs USING gin (keywords);
CREATE INDEX faqs_search_idx ON app.faqs USING gin (search);
CREATE TRIGGER set_updated_at BEFORE UPDATE ON app.faqs
  FOR EACH ROW EXECUTE FUNCTION app.set_updated_at();

-- ---------------------------------------------------------------------------------------------------
-- integrations: 002 Client.platforms, one row per (tenant, platform) instead of four optional
-- sub-documents, so a new platform is a new CHECK value rather than a new column family.
-- Tokens are ciphertext produced by the application (key outside the database); the API never
-- returns them.
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE app.integrations (
  tenant_id                uuid NOT NULL DEFAULT app.current_tenant_id() REFERENCES app.tenants (id) ON DELETE CASCADE,
  id                       uuid NOT NULL DEFAULT gen_random_uuid(),
  platform                 text NOT NULL CHECK (platform IN ('google_analytics', 'google_ads', 'meta_ads', 'linkedin_ads')),
  connected                boolean NOT NULL DEFAULT false,
  -- The platform's account handle: GA accountId, Google Ads customerId, Meta adAccountId, LinkedIn accountId.
  account_id               text,
  -- GA propertyId (the only platform with a second level).
  property_id              text,
  access_token_ciphertext  bytea,
  refresh_token_ciphertext bytea,
  expires_at               timestamptz,
  last_sync_at             timestamptz,
  status                   text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'expired', 'error')),
  metrics                  jsonb NOT NULL DEFAULT '{}' CHECK (
                             jsonb_typeof(metrics) = 'object'
                             AND app.jsonb_field_is(metrics, 'sessions', 'number')
                             AND app.jsonb_field_is(metrics, 'users', 'number')
                             AND app.jsonb_field_is(metrics, 'pageviews', 'number')
                             AND app.jsonb_field_between(metrics, 'bounceRate', 0, 1)
                             AND app.jsonb_field_is(metrics, 'avgSessionDuration', 'number')),
  dimensions               jsonb NOT NULL DEFAULT '{}' CHECK (
                             jsonb_typeof(dimensions) = 'object'
                             AND app.jsonb_field_is(dimensions, 'topSources', 'array')
                             AND app.jsonb_field_is(dimensions, 'devices', 'array')
                             AND app.jsonb_field_is(dimensions, 'topPages', 'array')),
  campaigns                jsonb NOT NULL DEFAULT '[]' CHECK (app.jsonb_is_object_array(campaigns)),
  created_at               timestamptz NOT NULL DEFAULT now(),
  updated_at               timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT integrations_tenant_id_platform_key UNIQUE (tenant_id, platform)
);
CREATE INDEX integrations_status_idx ON app.integrations (tenant_id, status);
CREATE TRIGGER set_updated_at BEFORE UPDATE ON app.integrations
  FOR EACH ROW EXECUTE FUNCTION app.set_updated_at();

-- 002 DemoData: global sample metrics shown to tenants without a connection. Read by everyone,
-- written only by the owner (seed/ops).
CREATE TABLE app.platform_demo_data (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  platform   text NOT NULL CHECK (platform IN ('google_analytics', 'google_ads', 'meta_ads', 'linkedin_ads')),
  data       jsonb NOT NULL CHECK (jsonb_typeof(data) = 'object'),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX platform_demo_data_platform_idx ON app.platform_demo_data (platform, created_at DESC);

-- ---------------------------------------------------------------------------------------------------
-- tenant_settings: 003 SystemSettings, keyed per tenant.
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE app.tenant_settings (
  tenant_id   uuid NOT NULL DEFAULT app.current_tenant_id() REFERENCES app.tenants (id) ON DELETE CASCADE,
  id          uuid NOT NULL DEFAULT gen_random_uuid(),
  key         text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_.]*$'),
  value       jsonb NOT NULL,
  description text,
  category    text NOT NULL DEFAULT 'general'
                CHECK (category IN ('general', 'whatsapp', 'ai', 'notifications', 'security', 'business')),
  is_editable boolean NOT NULL DEFAULT true,
  updated_by  uuid,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT tenant_settings_tenant_id_key_key UNIQUE (tenant_id, key),
  CONSTRAINT tenant_settings_updated_by_fkey FOREIGN KEY (tenant_id, updated_by)
    REFERENCES app.memberships (tenant_id, user_id) ON DELETE SET NULL (updated_by)
);
CREATE INDEX tenant_settings_category_idx ON app.tenant_settings (tenant_id, category);
CREATE TRIGGER set_updated_at BEFORE UPDATE ON app.tenant_settings
  FOR EACH ROW EXECUTE FUNCTION app.set_updated_at();

-- ---------------------------------------------------------------------------------------------------
-- audit_log: 001 av_audit_logs + 003 ActivityLog. Append-only history, so deliberately no foreign
-- keys: an entry must outlive the user, ticket or conversation it mentions, and nothing may rewrite
-- it by cascading. entity_id is text because 001 resourceId can name external objects (Vapi ids).
-- 001's action is free text and 003's an enum for the same field: the union is open, so no CHECK
-- on action/entity_type (docs/data-model.md lists the 003 vocabulary).
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE app.audit_log (
  tenant_id      uuid NOT NULL DEFAULT app.current_tenant_id() REFERENCES app.tenants (id) ON DELETE CASCADE,
  id             uuid NOT NULL DEFAULT gen_random_uuid(),
  entity_type    text,
  entity_id      text,
  action         text NOT NULL,
  performed_by   uuid,
  details        jsonb NOT NULL DEFAULT '{}' CHECK (
                   jsonb_typeof(details) = 'object'
                   AND app.jsonb_field_is(details, 'changes', 'array')
                   AND app.jsonb_field_is(details, 'reason', 'string')),
  metadata       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
  ip_address     inet,
  user_agent     text,
  location       jsonb CHECK (
                   jsonb_typeof(location) = 'object'
                   AND app.jsonb_field_is(location, 'country', 'string')
                   AND app.jsonb_field_is(location, 'region', 'string')
                   AND app.jsonb_field_is(location, 'city', 'string')),
  severity       text NOT NULL DEFAULT 'low' CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  category       text CHECK (category IN ('auth', 'user_mgmt', 'assistant', 'call', 'billing', 'system', 'security')),
  status         text NOT NULL DEFAULT 'success' CHECK (status IN ('success', 'failure', 'warning')),
  session_id     text,
  correlation_id text,
  hipaa_relevant boolean NOT NULL DEFAULT false,
  occurred_at    timestamptz NOT NULL DEFAULT now(),
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX audit_log_occurred_at_idx ON app.audit_log (tenant_id, occurred_at DESC, id);
CREATE INDEX audit_log_entity_idx ON app.audit_log (tenant_id, entity_type, entity_id, occurred_at DESC);
CREATE INDEX audit_log_performed_by_idx ON app.audit_log (tenant_id, performed_by, occurred_at DESC);
CREATE INDEX audit_log_action_idx ON app.audit_log (tenant_id, action, occurred_at DESC);
CREATE INDEX audit_log_severity_idx ON app.audit_log (tenant_id, severity, occurred_at DESC);
CREATE INDEX audit_log_category_idx ON app.audit_log (tenant_id, category, occurred_at DESC);
CREATE INDEX audit_log_correlation_id_idx ON app.audit_log (tenant_id, correlation_id) WHERE correlation_id IS NOT NULL;

-- ---------------------------------------------------------------------------------------------------
-- Privileges beyond the defaults
-- ---------------------------------------------------------------------------------------------------
-- The runtime role appends to the audit trail but cannot edit or delete it. (Tenant deletion still
-- cascades: referential actions run with the owner's rights.)
REVOKE UPDATE, DELETE ON app.audit_log FROM frontdesk_app;
-- Global reference data: read-only at runtime.
REVOKE INSERT, UPDATE, DELETE ON app.platform_demo_data FROM frontdesk_app;

-- ---------------------------------------------------------------------------------------------------
-- Row-level security
-- ---------------------------------------------------------------------------------------------------
CALL app.isolate_by_tenant('app.leads');

CALL app.isolate_by_tenant('app.demo_requests');

CALL app.isolate_by_tenant('app.demo_request_notes');

CALL app.isolate_by_tenant('app.tickets');

CALL app.isolate_by_tenant('app.ticket_counters');

CALL app.isolate_by_tenant('app.ticket_notes');

CALL app.isolate_by_tenant('app.ticket_links');

CALL app.isolate_by_tenant('app.system_prompts');

CALL app.isolate_by_tenant('app.faqs');

CALL app.isolate_by_tenant('app.integrations');

CALL app.isolate_by_tenant('app.tenant_settings');

CALL app.isolate_by_tenant('app.audit_log');

-- Everyone may read the demo data; FORCE means even the owner goes through policies, so the owner
-- (the role running this migration) gets an explicit write policy. The runtime role has no write
-- privilege, so the read policy is all it can use.
ALTER TABLE app.platform_demo_data ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.platform_demo_data FORCE ROW LEVEL SECURITY;
CREATE POLICY public_read ON app.platform_demo_data FOR SELECT USING (true);
DO $$ BEGIN
  EXECUTE format('CREATE POLICY owner_write ON app.platform_demo_data FOR ALL TO %I USING (true) WITH CHECK (true)',
                 current_user);
END $$;
