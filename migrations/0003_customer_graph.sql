-- 0003 customer graph
--
-- The relational core dashboards walk: customer -> bookings -> calls -> SMS (004 tables merged with
-- 000 bookings/voice_calls, 001 call records and assistants, 003 customers). Seed 004 joined these by
-- phone number only; here they carry real composite foreign keys (tenant_id, ...), so a row can never
-- point into another tenant and the graph can be fetched level by level with one query per level.
--
-- Rule applied to the 004 columns: names, types, CHECK lists and defaults are kept; a column that had
-- a DEFAULT in 004 becomes NOT NULL as well (a NULL there was never meant), columns without one keep
-- their nullability. Money moves from DECIMAL(10,2) to numeric(12,2); per-unit provider costs (a call,
-- an SMS, an LLM request) to numeric(14,4), because they are routinely fractions of a cent.
-- Search columns cap their input with left(): a tsvector over ~1 MB raises an error, and one huge
-- transcript must not make an insert fail.

-- ---------------------------------------------------------------------------------------------------
-- customers (004 customers + 003 Customer)
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE app.customers (
  tenant_id             uuid NOT NULL DEFAULT app.current_tenant_id() REFERENCES app.tenants (id) ON DELETE CASCADE,
  id                    uuid NOT NULL DEFAULT gen_random_uuid(),
  name                  text NOT NULL,
  phone                 text NOT NULL,
  email                 text,
  first_name            text,
  last_name             text,
  avatar                text,
  alternative_phones    text[] NOT NULL DEFAULT '{}',
  -- 004 keeps a one-line address; 003 a structured one. Both stay: the text is what voice/SMS flows
  -- capture, the document is what the CRM edits.
  address               text,
  address_details       jsonb CHECK (
                          jsonb_typeof(address_details) = 'object'
                          AND app.jsonb_field_is(address_details, 'street', 'string')
                          AND app.jsonb_field_is(address_details, 'city', 'string')
                          AND app.jsonb_field_is(address_details, 'state', 'string')
                          AND app.jsonb_field_is(address_details, 'country', 'string')
                          AND app.jsonb_field_is(address_details, 'postalCode', 'string')
                          AND app.jsonb_field_is(address_details, 'coordinates', 'object')
                          AND app.jsonb_field_between(address_details -> 'coordinates', 'latitude', -90, 90)
                          AND app.jsonb_field_between(address_details -> 'coordinates', 'longitude', -180, 180)),
  tags                  text[] NOT NULL DEFAULT '{}',
  segment               text NOT NULL DEFAULT 'new' CHECK (segment IN ('vip', 'regular', 'new', 'inactive')),
  -- 003 defaults to 'whatsapp', but customers here also arrive by voice and SMS: no default, NULL = unknown.
  source                text CHECK (source IN ('whatsapp', 'referral', 'website', 'social_media', 'other')),
  custom_fields         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(custom_fields) = 'object'),
  -- 003 preferences minus preferredAgent, which is a real foreign key below.
  preferences           jsonb NOT NULL DEFAULT '{}' CHECK (
                          jsonb_typeof(preferences) = 'object'
                          AND app.jsonb_field_is(preferences, 'language', 'string')
                          AND app.jsonb_field_is(preferences, 'communicationHours', 'object')
                          AND app.jsonb_field_is(preferences -> 'communicationHours', 'start', 'string')
                          AND app.jsonb_field_is(preferences -> 'communicationHours', 'end', 'string')),
  preferred_agent_id    uuid,
  status                text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive', 'blocked', 'vip')),
  -- 003 stores both; deriving the flag from status means they can never disagree.
  is_blocked            boolean GENERATED ALWAYS AS (status = 'blocked') STORED,
  block_reason          text,
  notes                 text,
  -- Denormalised counters (004 + 003 statistics), maintained by the writer; authoritative values
  -- derive from the child tables (docs/data-model.md).
  total_bookings        integer NOT NULL DEFAULT 0 CHECK (total_bookings >= 0),
  total_calls           integer NOT NULL DEFAULT 0 CHECK (total_calls >= 0),
  total_spent           numeric(12, 2) NOT NULL DEFAULT 0 CHECK (total_spent >= 0),
  total_conversations   integer NOT NULL DEFAULT 0 CHECK (total_conversations >= 0),
  total_messages        integer NOT NULL DEFAULT 0 CHECK (total_messages >= 0),
  total_tickets         integer NOT NULL DEFAULT 0 CHECK (total_tickets >= 0),
  average_response_time numeric(10, 2) CHECK (average_response_time >= 0),
  satisfaction_score    numeric(3, 2) CHECK (satisfaction_score BETWEEN 1 AND 5),
  first_contact         timestamptz,
  last_contact          timestamptz,
  last_interaction      timestamptz,
  last_message_at       timestamptz,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  search                tsvector GENERATED ALWAYS AS (to_tsvector('simple',
                          coalesce(name, '') || ' ' || coalesce(first_name, '') || ' ' || coalesce(last_name, '')
                          || ' ' || coalesce(phone, '') || ' ' || coalesce(email, ''))) STORED,
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT customers_tenant_id_phone_key UNIQUE (tenant_id, phone),
  CONSTRAINT customers_preferred_agent_fkey FOREIGN KEY (tenant_id, preferred_agent_id)
    REFERENCES app.memberships (tenant_id, user_id) ON DELETE SET NULL (preferred_agent_id)
);

COMMENT ON COLUMN app.customers.average_response_time IS 'minutes: the customer''s own average reply time (003 statistics)';

CREATE INDEX customers_email_idx ON app.customers (tenant_id, email);
CREATE INDEX customers_name_idx ON app.customers (tenant_id, name);
CREATE INDEX customers_segment_idx ON app.customers (tenant_id, segment);
CREATE INDEX customers_status_idx ON app.customers (tenant_id, status);
CREATE INDEX customers_last_interaction_idx ON app.customers (tenant_id, last_interaction DESC);
CREATE INDEX customers_created_at_idx ON app.customers (tenant_id, created_at DESC, id);
CREATE INDEX customers_preferred_agent_idx ON app.customers (tenant_id, preferred_agent_id) WHERE preferred_agent_id IS NOT NULL;
-- GIN cannot lead with tenant_id without btree_gin; the tenant predicate is applied on the heap
-- rows the GIN scan returns (BitmapAnd with the tenant btree when that is cheaper).
CREATE INDEX customers_tags_idx ON app.customers USING gin (tags);
CREATE INDEX customers_custom_fields_idx ON app.customers USING gin (custom_fields jsonb_path_ops);
CREATE INDEX customers_search_idx ON app.customers USING gin (search);

CREATE TRIGGER set_updated_at BEFORE UPDATE ON app.customers
  FOR EACH ROW EXECUTE FUNCTION app.set_updated_at();

-- ---------------------------------------------------------------------------------------------------
-- assistants (001 av_vapi_assistants). Created before calls because a call names its assistant.
-- 001 userId is the account that owns the assistant, i.e. the tenant.
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE app.assistants (
  tenant_id                        uuid NOT NULL DEFAULT app.current_tenant_id() REFERENCES app.tenants (id) ON DELETE CASCADE,
  id                               uuid NOT NULL DEFAULT gen_random_uuid(),
  name                             text NOT NULL,
  description                      text,
  provider_assistant_id            text,
  status                           text NOT NULL DEFAULT 'inactive' CHECK (status IN ('active', 'inactive', 'training', 'error')),
  industry                         text CHECK (industry IN ('medical', 'legal', 'sales', 'general')),
  voice                            jsonb NOT NULL DEFAULT '{}' CHECK (
                                     jsonb_typeof(voice) = 'object'
                                     AND app.jsonb_field_is(voice, 'provider', 'string')
                                     AND app.jsonb_field_is(voice, 'voiceId', 'string')
                                     AND app.jsonb_field_is(voice, 'speed', 'number')
                                     AND app.jsonb_field_is(voice, 'pitch', 'number')),
  model                            jsonb NOT NULL DEFAULT '{}' CHECK (
                                     jsonb_typeof(model) = 'object'
                                     AND app.jsonb_field_is(model, 'provider', 'string')
                                     AND app.jsonb_field_is(model, 'model', 'string')
                                     AND app.jsonb_field_between(model, 'temperature', 0, 2)
                                     AND app.jsonb_field_between(model, 'maxTokens', 1, 2147483647)
                                     AND app.jsonb_field_is(model, 'systemPrompt', 'string')),
  transcriber                      jsonb NOT NULL DEFAULT '{}' CHECK (
                                     jsonb_typeof(transcriber) = 'object'
                                     AND app.jsonb_field_is(transcriber, 'provider', 'string')
                                     AND app.jsonb_field_is(transcriber, 'model', 'string')
                                     AND app.jsonb_field_is(transcriber, 'language', 'string')),
  functions                        jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(functions) = 'array'),
  server_url                       text,
  -- Webhook secret, encrypted by the application (never stored or returned in clear).
  server_url_secret_ciphertext     bytea,
  end_call_function_enabled        boolean NOT NULL DEFAULT false,
  dial_keypad_function_enabled     boolean NOT NULL DEFAULT false,
  fillers_enabled                  boolean NOT NULL DEFAULT false,
  silence_timeout_seconds          integer CHECK (silence_timeout_seconds > 0),
  max_duration_seconds             integer CHECK (max_duration_seconds > 0),
  background_sound                 text,
  backchanneling_enabled           boolean NOT NULL DEFAULT false,
  background_denoising_enabled     boolean NOT NULL DEFAULT false,
  model_output_in_messages_enabled boolean NOT NULL DEFAULT false,
  -- 001 lists name/provider/timeout/record/recordingChannels right after transportConfigurations:
  -- they are the fields of each transport configuration (as in Vapi's API), so they live in its elements.
  transport_configurations         jsonb NOT NULL DEFAULT '[]' CHECK (
                                     app.jsonb_is_object_array(transport_configurations)
                                     AND NOT jsonb_path_exists(transport_configurations,
                                       '$[*] ? ((exists(@.timeout) && @.timeout.type() != "number")
                                             || (exists(@.record) && @.record.type() != "boolean"))')),
  hipaa_enabled                    boolean NOT NULL DEFAULT false,
  analysis_enabled                 boolean NOT NULL DEFAULT false,
  artifact_plan                    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(artifact_plan) = 'object'),
  message_plan                     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(message_plan) = 'object'),
  start_speaking_plan              jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(start_speaking_plan) = 'object'),
  stop_speaking_plan               jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(stop_speaking_plan) = 'object'),
  monitor_plan                     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(monitor_plan) = 'object'),
  metadata                         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
  created_at                       timestamptz NOT NULL DEFAULT now(),
  updated_at                       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT assistants_tenant_id_provider_assistant_id_key UNIQUE (tenant_id, provider_assistant_id)
);

CREATE INDEX assistants_status_idx ON app.assistants (tenant_id, status);
CREATE INDEX assistants_industry_idx ON app.assistants (tenant_id, industry);
CREATE INDEX assistants_created_at_idx ON app.assistants (tenant_id, created_at DESC, id);

CREATE TRIGGER set_updated_at BEFORE UPDATE ON app.assistants
  FOR EACH ROW EXECUTE FUNCTION app.set_updated_at();

-- ---------------------------------------------------------------------------------------------------
-- bookings (004 bookings + 000 bookings). conversation_id arrives in 0004 with the inbox.
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE app.bookings (
  tenant_id         uuid NOT NULL DEFAULT app.current_tenant_id() REFERENCES app.tenants (id) ON DELETE CASCADE,
  id                uuid NOT NULL DEFAULT gen_random_uuid(),
  -- Every booking is somebody's: the customer row is found or created by phone before booking.
  customer_id       uuid NOT NULL,
  -- 004/000 snapshot of who booked, as given at booking time (the customer row may change later).
  customer_name     text NOT NULL,
  customer_phone    text NOT NULL,
  customer_email    text,
  service_type      text NOT NULL,
  -- 004 keeps date and time as text (the voice agent writes what it heard); scheduled_at is the
  -- resolved instant that sorting and reminders use.
  appointment_date  text NOT NULL CHECK (appointment_date ~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$'),
  appointment_time  text NOT NULL,
  status            text NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'confirmed', 'cancelled', 'completed', 'no-show', 'scheduled')),
  source            text CHECK (source IN ('voice', 'sms', 'manual')),
  notes             text,
  ai_notes          text,
  reminder_sent     boolean NOT NULL DEFAULT false,
  confirmation_sent boolean NOT NULL DEFAULT false,
  title             text,
  scheduled_at      timestamptz,
  duration_minutes  integer CHECK (duration_minutes > 0),
  pickup_address    text,
  payment_amount    numeric(12, 2) CHECK (payment_amount >= 0),
  payment_currency  text NOT NULL DEFAULT 'USD' CHECK (payment_currency ~ '^[A-Z]{3}$'),
  payment_status    text CHECK (payment_status IN ('pending', 'paid', 'failed')),
  number_of_loads   integer CHECK (number_of_loads >= 0),
  cancelled_at      timestamptz,
  cancel_reason     text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT bookings_customer_fkey FOREIGN KEY (tenant_id, customer_id)
    REFERENCES app.customers (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX bookings_customer_phone_idx ON app.bookings (tenant_id, customer_phone);
CREATE INDEX bookings_status_idx ON app.bookings (tenant_id, status);
CREATE INDEX bookings_appointment_date_idx ON app.bookings (tenant_id, appointment_date);
CREATE INDEX bookings_created_at_idx ON app.bookings (tenant_id, created_at DESC, id);
CREATE INDEX bookings_customer_idx ON app.bookings (tenant_id, customer_id, created_at DESC, id);
CREATE INDEX bookings_scheduled_at_idx ON app.bookings (tenant_id, scheduled_at) WHERE scheduled_at IS NOT NULL;

CREATE TRIGGER set_updated_at BEFORE UPDATE ON app.bookings
  FOR EACH ROW EXECUTE FUNCTION app.set_updated_at();

-- ---------------------------------------------------------------------------------------------------
-- calls (004 calls + 000 voice_calls + 001 av_call_records)
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE app.calls (
  tenant_id                uuid NOT NULL DEFAULT app.current_tenant_id() REFERENCES app.tenants (id) ON DELETE CASCADE,
  id                       uuid NOT NULL DEFAULT gen_random_uuid(),
  -- Unknown callers are calls without a customer, so SET NULL rather than CASCADE.
  customer_id              uuid,
  booking_id               uuid,
  assistant_id             uuid,
  phone_number             text NOT NULL,
  customer_name            text,
  duration                 integer NOT NULL DEFAULT 0 CHECK (duration >= 0),
  -- Union of 004, 000 voice_calls and 001 call records in 004's spelling (see docs/data-model.md).
  status                   text CHECK (status IN ('queued', 'ringing', 'in-progress', 'forwarding', 'ended',
                                                  'completed', 'failed', 'no-answer', 'busy')),
  call_type                text CHECK (call_type IN ('inbound', 'outbound')),
  recording_url            text,
  recording_size           bigint CHECK (recording_size >= 0),
  transcript               text,
  transcription_confidence numeric(5, 4) CHECK (transcription_confidence BETWEEN 0 AND 1),
  summary                  text,
  cost                     numeric(14, 4) NOT NULL DEFAULT 0 CHECK (cost >= 0),
  notes                    text,
  sentiment                text CHECK (sentiment IN ('positive', 'neutral', 'negative')),
  voice_gender             text CHECK (voice_gender IN ('female', 'male')),
  language                 text,
  started_at               timestamptz,
  ended_at                 timestamptz,
  intent                   text,
  entities                 jsonb NOT NULL DEFAULT '[]' CHECK (app.jsonb_is_object_array(entities)),
  keywords                 text[] NOT NULL DEFAULT '{}',
  outcome                  text,
  action_taken             text CHECK (action_taken IN ('booking_created', 'info_sent', 'escalated')),
  -- Voice-AI platform and its call id (001 vapiCallId): the webhook idempotency key.
  provider                 text,
  provider_call_id         text,
  -- Carrier call SID (000 twilioCallSid); a Vapi call carried by Twilio has both ids.
  provider_call_sid        text,
  ended_reason             text,
  -- 001 transcript turns: written once when the call ends, read whole, so a document, not a table.
  messages                 jsonb NOT NULL DEFAULT '[]' CHECK (
                             app.jsonb_is_object_array(messages)
                             AND NOT jsonb_path_exists(messages,
                               '$[*] ? (exists(@.role) && !(@.role == "user" || @.role == "assistant" || @.role == "system"))')),
  analysis                 jsonb NOT NULL DEFAULT '{}' CHECK (
                             jsonb_typeof(analysis) = 'object'
                             AND app.jsonb_field_is(analysis, 'sentiment', 'string')
                             AND app.jsonb_field_is(analysis, 'topics', 'array')
                             AND app.jsonb_field_is(analysis, 'keywords', 'array')
                             AND app.jsonb_field_is(analysis, 'actionItems', 'array')
                             AND app.jsonb_field_is(analysis, 'followUpRequired', 'boolean')),
  -- 000 per-provider costs. The call's own total stays in `cost` (the 004 column the analytics sum).
  cost_breakdown           jsonb NOT NULL DEFAULT '{}' CHECK (
                             jsonb_typeof(cost_breakdown) = 'object'
                             AND app.jsonb_field_between(cost_breakdown, 'callCost', 0, 1e9)
                             AND app.jsonb_field_between(cost_breakdown, 'elevenLabsChars', 0, 1e12)
                             AND app.jsonb_field_between(cost_breakdown, 'elevenLabsCost', 0, 1e9)
                             AND app.jsonb_field_between(cost_breakdown, 'groqTokens', 0, 1e12)
                             AND app.jsonb_field_between(cost_breakdown, 'groqCost', 0, 1e9)
                             AND app.jsonb_field_between(cost_breakdown, 'totalCost', 0, 1e9)),
  -- LLM tokens of the call across providers: the fact 000 analytics.tokensUsed sums.
  tokens_used              integer NOT NULL DEFAULT 0 CHECK (tokens_used >= 0),
  metadata                 jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
  hipaa_compliant          boolean NOT NULL DEFAULT false,
  created_at               timestamptz NOT NULL DEFAULT now(),
  updated_at               timestamptz NOT NULL DEFAULT now(),
  search                   tsvector GENERATED ALWAYS AS (to_tsvector('simple',
                             left(coalesce(transcript, ''), 200000) || ' ' || left(coalesce(summary, ''), 20000))) STORED,
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT calls_period_check CHECK (ended_at IS NULL OR started_at IS NULL OR ended_at >= started_at),
  CONSTRAINT calls_provider_call_id_check CHECK (provider_call_id IS NULL OR provider IS NOT NULL),
  CONSTRAINT calls_tenant_id_provider_provider_call_id_key UNIQUE (tenant_id, provider, provider_call_id),
  CONSTRAINT calls_customer_fkey FOREIGN KEY (tenant_id, customer_id)
    REFERENCES app.customers (tenant_id, id) ON DELETE SET NULL (customer_id),
  CONSTRAINT calls_booking_fkey FOREIGN KEY (tenant_id, booking_id)
    REFERENCES app.bookings (tenant_id, id) ON DELETE SET NULL (booking_id),
  CONSTRAINT calls_assistant_fkey FOREIGN KEY (tenant_id, assistant_id)
    REFERENCES app.assistants (tenant_id, id) ON DELETE SET NULL (assistant_id)
);

COMMENT ON COLUMN app.calls.duration IS 'seconds';
COMMENT ON COLUMN app.calls.recording_size IS 'bytes';

-- Twilio status callbacks upsert by SID; partial, because most sources have none.
CREATE UNIQUE INDEX calls_tenant_id_provider_call_sid_key ON app.calls (tenant_id, provider_call_sid)
  WHERE provider_call_sid IS NOT NULL;
CREATE INDEX calls_phone_number_idx ON app.calls (tenant_id, phone_number);
CREATE INDEX calls_status_idx ON app.calls (tenant_id, status);
CREATE INDEX calls_created_at_idx ON app.calls (tenant_id, created_at DESC, id);
CREATE INDEX calls_started_at_idx ON app.calls (tenant_id, started_at DESC);
CREATE INDEX calls_booking_idx ON app.calls (tenant_id, booking_id, created_at DESC, id) WHERE booking_id IS NOT NULL;
CREATE INDEX calls_customer_idx ON app.calls (tenant_id, customer_id, created_at DESC, id) WHERE customer_id IS NOT NULL;
CREATE INDEX calls_assistant_idx ON app.calls (tenant_id, assistant_id) WHERE assistant_id IS NOT NULL;
CREATE INDEX calls_metadata_idx ON app.calls USING gin (metadata jsonb_path_ops);
CREATE INDEX calls_search_idx ON app.calls USING gin (search);

CREATE TRIGGER set_updated_at BEFORE UPDATE ON app.calls
  FOR EACH ROW EXECUTE FUNCTION app.set_updated_at();

-- ---------------------------------------------------------------------------------------------------
-- sms_messages (004). call_id: the call that produced the message (confirmation or follow-up after a
-- voice booking), so Call.smsMessages is a real relation. conversation_id arrives in 0004.
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE app.sms_messages (
  tenant_id           uuid NOT NULL DEFAULT app.current_tenant_id() REFERENCES app.tenants (id) ON DELETE CASCADE,
  id                  uuid NOT NULL DEFAULT gen_random_uuid(),
  customer_id         uuid,
  booking_id          uuid,
  call_id             uuid,
  phone_number        text NOT NULL,
  direction           text CHECK (direction IN ('inbound', 'outbound')),
  message_body        text NOT NULL,
  status              text CHECK (status IN ('sent', 'delivered', 'failed', 'received')),
  cost                numeric(14, 4) NOT NULL DEFAULT 0 CHECK (cost >= 0),
  -- Carrier message id: delivery callbacks upsert by it.
  provider_message_id text,
  error               text,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  search              tsvector GENERATED ALWAYS AS (to_tsvector('simple', left(message_body, 20000))) STORED,
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT sms_messages_tenant_id_provider_message_id_key UNIQUE (tenant_id, provider_message_id),
  CONSTRAINT sms_messages_customer_fkey FOREIGN KEY (tenant_id, customer_id)
    REFERENCES app.customers (tenant_id, id) ON DELETE SET NULL (customer_id),
  CONSTRAINT sms_messages_booking_fkey FOREIGN KEY (tenant_id, booking_id)
    REFERENCES app.bookings (tenant_id, id) ON DELETE SET NULL (booking_id),
  CONSTRAINT sms_messages_call_fkey FOREIGN KEY (tenant_id, call_id)
    REFERENCES app.calls (tenant_id, id) ON DELETE SET NULL (call_id)
);

CREATE INDEX sms_messages_phone_number_idx ON app.sms_messages (tenant_id, phone_number);
CREATE INDEX sms_messages_created_at_idx ON app.sms_messages (tenant_id, created_at DESC, id);
CREATE INDEX sms_messages_booking_idx ON app.sms_messages (tenant_id, booking_id, created_at DESC, id) WHERE booking_id IS NOT NULL;
CREATE INDEX sms_messages_call_idx ON app.sms_messages (tenant_id, call_id, created_at DESC, id) WHERE call_id IS NOT NULL;
CREATE INDEX sms_messages_customer_idx ON app.sms_messages (tenant_id, customer_id, created_at DESC, id) WHERE customer_id IS NOT NULL;
CREATE INDEX sms_messages_search_idx ON app.sms_messages USING gin (search);

CREATE TRIGGER set_updated_at BEFORE UPDATE ON app.sms_messages
  FOR EACH ROW EXECUTE FUNCTION app.set_updated_at();

-- ---------------------------------------------------------------------------------------------------
-- Row-level security
-- ---------------------------------------------------------------------------------------------------
CALL app.isolate_by_tenant('app.customers');

CALL app.isolate_by_tenant('app.assistants');

CALL app.isolate_by_tenant('app.bookings');

CALL app.isolate_by_tenant('app.calls');

CALL app.isolate_by_tenant('app.sms_messages');
