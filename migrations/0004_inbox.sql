-- 0004 inbox
--
-- Conversations from three systems in one table: 000 (AI receptionist: type/channel, intent, lead
-- score, outcome, embedded messages), 002 (agency chatbot: owner user, external UUID, lifecycle,
-- 90-day retention) and 003 (WhatsApp CRM: assignment, priority, SLA, satisfaction, internal notes).
-- Embedded Mongo message arrays become rows of app.messages, because many writers append to them
-- concurrently (webhooks, agents, the AI) and the inbox pages through them.
--
-- Status merge: 003's status is a workflow (open -> assigned -> waiting -> resolved -> closed); 002's
-- active/archived/deleted is visibility/retention. They are orthogonal (a closed conversation can be
-- active or archived), so they are two columns, `status` and `lifecycle`, instead of one union enum
-- that could only ever hold one of the two facts.

CREATE TABLE app.conversations (
  tenant_id               uuid NOT NULL DEFAULT app.current_tenant_id() REFERENCES app.tenants (id) ON DELETE CASCADE,
  id                      uuid NOT NULL DEFAULT gen_random_uuid(),
  -- 002 conversationId: the client-generated UUID the chat widget addresses the conversation by.
  conversation_key        text,
  -- 002 owner (the agency user chatting about this client).
  user_id                 uuid,
  -- 003 customer (required there; 002 chats about analytics and 000 anonymous contacts have none).
  customer_id             uuid,
  title                   text,
  type                    text CHECK (type IN ('chat', 'voice', 'email', 'whatsapp', 'instagram')),
  channel                 text NOT NULL DEFAULT 'web'
                            CHECK (channel IN ('web', 'whatsapp', 'telegram', 'phone', 'mobile_app', 'sms', 'email', 'instagram')),
  session_id              text,
  source                  text,
  -- 000 contact captured before (or instead of) a customer row.
  client_phone            text,
  client_email            text,
  client_name             text,
  status                  text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'assigned', 'waiting', 'resolved', 'closed')),
  lifecycle               text NOT NULL DEFAULT 'active' CHECK (lifecycle IN ('active', 'archived', 'deleted')),
  priority                text NOT NULL DEFAULT 'medium' CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
  category                text NOT NULL DEFAULT 'support'
                            CHECK (category IN ('support', 'sales', 'billing', 'technical', 'complaint', 'other')),
  tags                    text[] NOT NULL DEFAULT '{}',
  -- Assignment references the membership, so only an agent of this tenant can be assigned.
  assigned_agent_id       uuid,
  assigned_at             timestamptz,
  assigned_by             uuid,
  is_ai_enabled           boolean NOT NULL DEFAULT true,
  ai_model                text NOT NULL DEFAULT 'gpt-4',
  auto_responses          boolean NOT NULL DEFAULT true,
  -- 000 voice data of a conversation that was a call (the call row itself, if any, is in app.calls).
  call_data               jsonb CHECK (
                            jsonb_typeof(call_data) = 'object'
                            AND app.jsonb_field_between(call_data, 'duration', 0, 1e9)
                            AND app.jsonb_field_in(call_data, 'voiceGender', 'female', 'male')
                            AND app.jsonb_field_is(call_data, 'recordingUrl', 'string')
                            AND app.jsonb_field_is(call_data, 'transcription', 'string')
                            AND app.jsonb_field_in(call_data, 'sentiment', 'positive', 'neutral', 'negative')),
  intent                  text CHECK (intent IN ('booking', 'question', 'complaint', 'sale')),
  lead_score              smallint CHECK (lead_score BETWEEN 0 AND 100),
  conversion_probability  numeric(5, 4) CHECK (conversion_probability BETWEEN 0 AND 1),
  outcome                 text CHECK (outcome IN ('booking_made', 'info_provided', 'escalated', 'sale')),
  booking_details         jsonb CHECK (
                            jsonb_typeof(booking_details) = 'object'
                            AND app.jsonb_field_is(booking_details, 'service', 'string')
                            AND app.jsonb_field_is(booking_details, 'date', 'string')
                            AND app.jsonb_field_is(booking_details, 'time', 'string')
                            AND app.jsonb_field_between(booking_details, 'price', 0, 1e10)),
  sale_amount             numeric(12, 2) CHECK (sale_amount >= 0),
  -- 000 `resolved` is the 003 workflow seen as a flag; deriving it keeps the two from disagreeing.
  resolved                boolean GENERATED ALWAYS AS (status IN ('resolved', 'closed')) STORED,
  escalated_to_human      boolean NOT NULL DEFAULT false,
  -- Inbox read model (002 messageCount/lastMessageAt, 003 counters and lastMessage): denormalised,
  -- updated by the message writer in the same transaction; exact per-agent unread counts come from
  -- app.conversation_reads.
  message_count           integer NOT NULL DEFAULT 0 CHECK (message_count >= 0),
  unread_count            integer NOT NULL DEFAULT 0 CHECK (unread_count >= 0),
  last_message            jsonb CHECK (
                            jsonb_typeof(last_message) = 'object'
                            AND app.jsonb_field_is(last_message, 'content', 'string')
                            AND app.jsonb_field_is(last_message, 'timestamp', 'string')
                            AND app.jsonb_field_in(last_message, 'from', 'customer', 'agent', 'system')
                            AND app.jsonb_field_in(last_message, 'type', 'text', 'image', 'location', 'document', 'template')),
  last_message_at         timestamptz,
  first_response_time     numeric(10, 2) CHECK (first_response_time >= 0),
  average_response_time   numeric(10, 2) CHECK (average_response_time >= 0),
  last_agent_response     timestamptz,
  last_customer_message   timestamptz,
  resolved_at             timestamptz,
  resolved_by             uuid,
  resolution_notes        text,
  customer_satisfaction   jsonb CHECK (
                            jsonb_typeof(customer_satisfaction) = 'object'
                            AND app.jsonb_field_between(customer_satisfaction, 'rating', 1, 5)
                            AND app.jsonb_field_is(customer_satisfaction, 'comment', 'string')
                            AND app.jsonb_field_is(customer_satisfaction, 'submittedAt', 'string')),
  whatsapp_data           jsonb CHECK (
                            jsonb_typeof(whatsapp_data) = 'object'
                            AND app.jsonb_field_is(whatsapp_data, 'phoneNumberId', 'string')
                            AND app.jsonb_field_is(whatsapp_data, 'businessAccountId', 'string')),
  metadata                jsonb NOT NULL DEFAULT '{}' CHECK (
                            jsonb_typeof(metadata) = 'object'
                            AND app.jsonb_field_is(metadata, 'platformsQueried', 'array')
                            AND app.jsonb_field_is(metadata, 'totalTokensUsed', 'number')),
  -- 002 retention: set to created_at + 90 days for chatbot conversations, NULL = kept. The purge
  -- job is not part of the schema (docs/data-model.md).
  expires_at              timestamptz,
  closed_at               timestamptz,
  created_at              timestamptz NOT NULL DEFAULT now(),
  updated_at              timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT conversations_tenant_id_conversation_key_key UNIQUE (tenant_id, conversation_key),
  CONSTRAINT conversations_customer_fkey FOREIGN KEY (tenant_id, customer_id)
    REFERENCES app.customers (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT conversations_user_fkey FOREIGN KEY (tenant_id, user_id)
    REFERENCES app.memberships (tenant_id, user_id) ON DELETE SET NULL (user_id),
  CONSTRAINT conversations_assigned_agent_fkey FOREIGN KEY (tenant_id, assigned_agent_id)
    REFERENCES app.memberships (tenant_id, user_id) ON DELETE SET NULL (assigned_agent_id),
  CONSTRAINT conversations_assigned_by_fkey FOREIGN KEY (tenant_id, assigned_by)
    REFERENCES app.memberships (tenant_id, user_id) ON DELETE SET NULL (assigned_by),
  CONSTRAINT conversations_resolved_by_fkey FOREIGN KEY (tenant_id, resolved_by)
    REFERENCES app.memberships (tenant_id, user_id) ON DELETE SET NULL (resolved_by)
);

COMMENT ON COLUMN app.conversations.first_response_time IS 'minutes to first agent response (003)';
COMMENT ON COLUMN app.conversations.average_response_time IS 'minutes (003)';

-- 002: (userId, clientId, status), (userId, status), (clientId, lastMessageAt), (userId, lastMessageAt)
CREATE INDEX conversations_user_lifecycle_idx ON app.conversations (tenant_id, user_id, lifecycle);
CREATE INDEX conversations_user_last_message_idx ON app.conversations (tenant_id, user_id, last_message_at DESC);
CREATE INDEX conversations_last_message_at_idx ON app.conversations (tenant_id, last_message_at DESC, id);
CREATE INDEX conversations_expires_at_idx ON app.conversations (tenant_id, expires_at) WHERE expires_at IS NOT NULL;
-- 003: customerId, assignedAgent, status, priority, category, createdAt, updatedAt, (status, assignedAgent)
CREATE INDEX conversations_customer_idx ON app.conversations (tenant_id, customer_id, last_message_at DESC) WHERE customer_id IS NOT NULL;
CREATE INDEX conversations_assigned_agent_idx ON app.conversations (tenant_id, assigned_agent_id, status);
CREATE INDEX conversations_status_assigned_agent_idx ON app.conversations (tenant_id, status, assigned_agent_id);
CREATE INDEX conversations_priority_idx ON app.conversations (tenant_id, priority);
CREATE INDEX conversations_category_idx ON app.conversations (tenant_id, category);
CREATE INDEX conversations_created_at_idx ON app.conversations (tenant_id, created_at DESC, id);
CREATE INDEX conversations_updated_at_idx ON app.conversations (tenant_id, updated_at DESC, id);
CREATE INDEX conversations_session_id_idx ON app.conversations (tenant_id, session_id) WHERE session_id IS NOT NULL;
CREATE INDEX conversations_tags_idx ON app.conversations USING gin (tags);

CREATE TRIGGER set_updated_at BEFORE UPDATE ON app.conversations
  FOR EACH ROW EXECUTE FUNCTION app.set_updated_at();

-- ---------------------------------------------------------------------------------------------------
-- messages: 003 Message + the embedded messages of 000/002 conversations.
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE app.messages (
  tenant_id           uuid NOT NULL DEFAULT app.current_tenant_id() REFERENCES app.tenants (id) ON DELETE CASCADE,
  id                  uuid NOT NULL DEFAULT gen_random_uuid(),
  conversation_id     uuid NOT NULL,
  customer_id         uuid,
  -- 000/002 chat-completion role, kept for rebuilding LLM context; `sender` is who spoke.
  role                text CHECK (role IN ('user', 'assistant', 'system')),
  content             text NOT NULL,
  type                text NOT NULL DEFAULT 'text'
                        CHECK (type IN ('text', 'image', 'audio', 'video', 'document', 'location', 'contact', 'template', 'interactive')),
  direction           text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
  sender              text NOT NULL CHECK (sender IN ('customer', 'agent', 'system', 'ai')),
  agent_id            uuid,
  -- Channel provider's message id (003 whatsappMessageId): delivery webhooks upsert by it.
  provider_message_id text,
  provider_status     text CHECK (provider_status IN ('sent', 'delivered', 'read', 'failed')),
  provider_timestamp  timestamptz,
  provider_error      text,
  status              text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'delivered', 'read', 'failed')),
  attachments         jsonb NOT NULL DEFAULT '[]' CHECK (
                        app.jsonb_is_object_array(attachments)
                        AND NOT jsonb_path_exists(attachments,
                          '$[*] ? (exists(@.type) && !(@.type == "image" || @.type == "document" || @.type == "audio" || @.type == "video"))')),
  location            jsonb CHECK (
                        jsonb_typeof(location) = 'object'
                        AND app.jsonb_field_between(location, 'latitude', -90, 90)
                        AND app.jsonb_field_between(location, 'longitude', -180, 180)
                        AND app.jsonb_field_is(location, 'address', 'string')
                        AND app.jsonb_field_is(location, 'name', 'string')),
  template            jsonb CHECK (
                        jsonb_typeof(template) = 'object'
                        AND app.jsonb_field_is(template, 'name', 'string')
                        AND app.jsonb_field_is(template, 'language', 'string')
                        AND app.jsonb_field_is(template, 'parameters', 'array')
                        AND app.jsonb_field_is(template, 'category', 'string')),
  interactive         jsonb CHECK (
                        jsonb_typeof(interactive) = 'object'
                        AND app.jsonb_field_in(interactive, 'type', 'button', 'list', 'quick_reply')
                        AND app.jsonb_field_is(interactive, 'buttons', 'array')
                        AND app.jsonb_field_is(interactive, 'listItems', 'array')),
  ai_processed        boolean NOT NULL DEFAULT false,
  ai_response         jsonb CHECK (
                        jsonb_typeof(ai_response) = 'object'
                        AND app.jsonb_field_between(ai_response, 'confidence', 0, 1)
                        AND app.jsonb_field_is(ai_response, 'intent', 'string')
                        AND app.jsonb_field_is(ai_response, 'entities', 'array')
                        AND app.jsonb_field_in(ai_response, 'sentiment', 'positive', 'neutral', 'negative')),
  reply_to_id         uuid,
  is_forwarded        boolean NOT NULL DEFAULT false,
  forwarded_from      text,
  -- 002 per-message model and thumbs feedback stay in metadata; tokensUsed and cost are lifted into
  -- columns below because analytics sums them.
  metadata            jsonb NOT NULL DEFAULT '{}' CHECK (
                        jsonb_typeof(metadata) = 'object'
                        AND app.jsonb_field_is(metadata, 'model', 'string')
                        AND app.jsonb_field_in(metadata, 'feedbackRating', 'positive', 'negative')),
  tokens_used         integer NOT NULL DEFAULT 0 CHECK (tokens_used >= 0),
  cost                numeric(14, 4) NOT NULL DEFAULT 0 CHECK (cost >= 0),
  -- 003 `timestamp` / 000-002 message timestamp: when the message was sent or received.
  sent_at             timestamptz NOT NULL DEFAULT now(),
  delivered_at        timestamptz,
  read_at             timestamptz,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  search              tsvector GENERATED ALWAYS AS (to_tsvector('simple', left(content, 100000))) STORED,
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT messages_tenant_id_provider_message_id_key UNIQUE (tenant_id, provider_message_id),
  CONSTRAINT messages_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
    REFERENCES app.conversations (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT messages_customer_fkey FOREIGN KEY (tenant_id, customer_id)
    REFERENCES app.customers (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT messages_agent_fkey FOREIGN KEY (tenant_id, agent_id)
    REFERENCES app.memberships (tenant_id, user_id) ON DELETE SET NULL (agent_id),
  CONSTRAINT messages_reply_to_fkey FOREIGN KEY (tenant_id, reply_to_id)
    REFERENCES app.messages (tenant_id, id) ON DELETE SET NULL (reply_to_id)
);

CREATE INDEX messages_conversation_sent_at_idx ON app.messages (tenant_id, conversation_id, sent_at DESC, id);
CREATE INDEX messages_customer_sent_at_idx ON app.messages (tenant_id, customer_id, sent_at DESC) WHERE customer_id IS NOT NULL;
CREATE INDEX messages_direction_sent_at_idx ON app.messages (tenant_id, direction, sent_at DESC);
CREATE INDEX messages_sent_at_idx ON app.messages (tenant_id, sent_at DESC, id);
CREATE INDEX messages_status_idx ON app.messages (tenant_id, status);
CREATE INDEX messages_type_idx ON app.messages (tenant_id, type);
CREATE INDEX messages_reply_to_idx ON app.messages (tenant_id, reply_to_id) WHERE reply_to_id IS NOT NULL;
CREATE INDEX messages_search_idx ON app.messages USING gin (search);

CREATE TRIGGER set_updated_at BEFORE UPDATE ON app.messages
  FOR EACH ROW EXECUTE FUNCTION app.set_updated_at();

-- ---------------------------------------------------------------------------------------------------
-- conversation_notes: 003 internalNotes. A child table because several agents append concurrently
-- (an array in the parent row would make every note a read-modify-write of the conversation).
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE app.conversation_notes (
  tenant_id       uuid NOT NULL DEFAULT app.current_tenant_id() REFERENCES app.tenants (id) ON DELETE CASCADE,
  id              uuid NOT NULL DEFAULT gen_random_uuid(),
  conversation_id uuid NOT NULL,
  agent_id        uuid,
  content         text NOT NULL,
  is_visible      boolean NOT NULL DEFAULT false,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT conversation_notes_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
    REFERENCES app.conversations (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT conversation_notes_agent_fkey FOREIGN KEY (tenant_id, agent_id)
    REFERENCES app.memberships (tenant_id, user_id) ON DELETE SET NULL (agent_id)
);
CREATE INDEX conversation_notes_conversation_idx ON app.conversation_notes (tenant_id, conversation_id, created_at, id);
CREATE TRIGGER set_updated_at BEFORE UPDATE ON app.conversation_notes
  FOR EACH ROW EXECUTE FUNCTION app.set_updated_at();

-- ---------------------------------------------------------------------------------------------------
-- conversation_threads: 003 UserThread renamed ConversationThread (the OpenAI thread behind a
-- WhatsApp conversation). A conversation may rotate threads (lastCleanup); one is active at a time.
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE app.conversation_threads (
  tenant_id        uuid NOT NULL DEFAULT app.current_tenant_id() REFERENCES app.tenants (id) ON DELETE CASCADE,
  id               uuid NOT NULL DEFAULT gen_random_uuid(),
  conversation_id  uuid,
  customer_id      uuid,
  -- 003 `userId`: the WhatsApp phone number the legacy bot keyed threads by.
  phone_number     text NOT NULL,
  thread_id        text NOT NULL,
  message_count    integer NOT NULL DEFAULT 0 CHECK (message_count >= 0),
  last_interaction timestamptz,
  last_cleanup     timestamptz,
  is_active        boolean NOT NULL DEFAULT true,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT conversation_threads_tenant_id_thread_id_key UNIQUE (tenant_id, thread_id),
  CONSTRAINT conversation_threads_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
    REFERENCES app.conversations (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT conversation_threads_customer_fkey FOREIGN KEY (tenant_id, customer_id)
    REFERENCES app.customers (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX conversation_threads_active_key ON app.conversation_threads (tenant_id, conversation_id)
  WHERE is_active AND conversation_id IS NOT NULL;
CREATE INDEX conversation_threads_phone_number_idx ON app.conversation_threads (tenant_id, phone_number);
CREATE INDEX conversation_threads_customer_idx ON app.conversation_threads (tenant_id, customer_id) WHERE customer_id IS NOT NULL;
CREATE TRIGGER set_updated_at BEFORE UPDATE ON app.conversation_threads
  FOR EACH ROW EXECUTE FUNCTION app.set_updated_at();

-- ---------------------------------------------------------------------------------------------------
-- conversation_reads: per-agent read marker. 003's single unreadCount cannot say who has read what
-- when several agents watch one inbox; unread for an agent = messages after last_read_at.
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE app.conversation_reads (
  tenant_id            uuid NOT NULL DEFAULT app.current_tenant_id() REFERENCES app.tenants (id) ON DELETE CASCADE,
  id                   uuid NOT NULL DEFAULT gen_random_uuid(),
  conversation_id      uuid NOT NULL,
  user_id              uuid NOT NULL,
  last_read_at         timestamptz NOT NULL DEFAULT now(),
  last_read_message_id uuid,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT conversation_reads_tenant_id_conversation_id_user_id_key UNIQUE (tenant_id, conversation_id, user_id),
  CONSTRAINT conversation_reads_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
    REFERENCES app.conversations (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT conversation_reads_user_fkey FOREIGN KEY (tenant_id, user_id)
    REFERENCES app.memberships (tenant_id, user_id) ON DELETE CASCADE,
  CONSTRAINT conversation_reads_last_read_message_fkey FOREIGN KEY (tenant_id, last_read_message_id)
    REFERENCES app.messages (tenant_id, id) ON DELETE SET NULL (last_read_message_id)
);
CREATE INDEX conversation_reads_user_idx ON app.conversation_reads (tenant_id, user_id);
CREATE TRIGGER set_updated_at BEFORE UPDATE ON app.conversation_reads
  FOR EACH ROW EXECUTE FUNCTION app.set_updated_at();

-- ---------------------------------------------------------------------------------------------------
-- Link the 0003 facts to the conversation they came from (000 bookings.conversationId,
-- voice_calls.conversationId; the SMS thread a text belongs to).
-- ---------------------------------------------------------------------------------------------------
ALTER TABLE app.bookings ADD COLUMN conversation_id uuid,
  ADD CONSTRAINT bookings_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
    REFERENCES app.conversations (tenant_id, id) ON DELETE SET NULL (conversation_id);
CREATE INDEX bookings_conversation_idx ON app.bookings (tenant_id, conversation_id) WHERE conversation_id IS NOT NULL;

ALTER TABLE app.calls ADD COLUMN conversation_id uuid,
  ADD CONSTRAINT calls_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
    REFERENCES app.conversations (tenant_id, id) ON DELETE SET NULL (conversation_id);
CREATE INDEX calls_conversation_idx ON app.calls (tenant_id, conversation_id) WHERE conversation_id IS NOT NULL;

ALTER TABLE app.sms_messages ADD COLUMN conversation_id uuid,
  ADD CONSTRAINT sms_messages_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
    REFERENCES app.conversations (tenant_id, id) ON DELETE SET NULL (conversation_id);
CREATE INDEX sms_messages_conversation_idx ON app.sms_messages (tenant_id, conversation_id, created_at, id) WHERE conversation_id IS NOT NULL;

-- ---------------------------------------------------------------------------------------------------
-- Row-level security
-- ---------------------------------------------------------------------------------------------------
CALL app.isolate_by_tenant('app.conversations');

CALL app.isolate_by_tenant('app.messages');

CALL app.isolate_by_tenant('app.conversation_notes');

CALL app.isolate_by_tenant('app.conversation_threads');

CALL app.isolate_by_tenant('app.conversation_reads');
