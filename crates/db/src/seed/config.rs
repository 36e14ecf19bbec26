//! A tenant's configuration: three voice/SMS assistants, system prompts, twenty FAQs, the four
//! marketing-platform integrations and the system settings. Fixed sizes, whatever the spec.

use sqlx::Row;

use super::plan::TenantPlan;
use super::sql::{id, user_id, EPOCH};
use super::{insert, Counts};
use crate::crypto::sealed::{INTEGRATION_ACCESS_TOKEN, INTEGRATION_REFRESH_TOKEN};
use crate::crypto::Keyring;
use crate::{DbError, TenantTx};

/// (category, question, answer, keywords). `{B}` is the business, `{C}` its city, `{M}` its
/// currency.
const FAQS: &[(&str, &str, &str, &str)] = &[
    ("hours", "What are your opening hours?", "{B} is open Monday to Friday from 9:00 to 18:00 (Thursdays until 20:00) and on Saturdays from 10:00 to 14:00.", "hours,open,opening"),
    ("hours", "Are you open on public holidays?", "We are closed on public holidays. The assistant still takes bookings for the following days.", "holiday,closed"),
    ("booking", "How do I book an appointment?", "Call us, send an SMS or write on WhatsApp; our assistant books you in right away and texts a confirmation.", "book,appointment,reservation"),
    ("booking", "Can I book for someone else?", "Yes. Give us their name and phone number so we can send them the confirmation and reminder.", "book,someone,else"),
    ("booking", "How far ahead can I book?", "Up to three months ahead. Popular evening slots fill about two weeks in advance.", "advance,ahead,calendar"),
    ("cancellation", "How do I cancel or reschedule?", "Reply C to your confirmation SMS to cancel, R to reschedule, or call us at least 24 hours before the appointment.", "cancel,reschedule,change"),
    ("cancellation", "Is there a late cancellation fee?", "Cancellations less than 24 hours ahead and no-shows are charged 50 % of the service price.", "fee,late,no-show"),
    ("payment", "Which payment methods do you accept?", "Cash, all major cards, Apple Pay and Google Pay. Prices are in {M}.", "payment,card,cash"),
    ("payment", "Can I get an invoice for my company?", "Yes. Give us your company's name and tax number when booking and we will email the invoice.", "invoice,company,vat"),
    ("payment", "Do you sell gift vouchers?", "Gift vouchers for any amount are available at the front desk and by phone; they are valid for 12 months.", "voucher,gift"),
    ("location", "Where are you located?", "{B} is in the centre of {C}, a five-minute walk from the nearest metro or tram stop.", "address,where,location"),
    ("location", "Is there parking nearby?", "There is a public car park behind the building; the first hour is free for our customers.", "parking,car"),
    ("location", "Is the building wheelchair accessible?", "Yes, the entrance is step-free and there is an accessible toilet.", "wheelchair,accessible"),
    ("services", "How long does a visit take?", "Most services take 30 to 90 minutes. The confirmation SMS tells you the exact length.", "duration,long,time"),
    ("services", "Do you have a price list?", "The current price list is on our website and the assistant can read out any price over the phone.", "price,list,cost"),
    ("services", "Can I request a specific staff member?", "Of course. Tell the assistant who you would like and it will only offer their free slots.", "staff,specific,request"),
    ("assistant", "Am I talking to a real person?", "You are talking to our AI assistant. Say 'operator' at any time and we will transfer you to a colleague.", "ai,robot,human,operator"),
    ("assistant", "Do you record calls?", "Calls are recorded for quality and to confirm bookings. Recordings are deleted after 90 days.", "record,recording,privacy"),
    ("privacy", "How do you use my phone number?", "Only for booking confirmations and reminders. Reply STOP to any message to opt out of reminders.", "privacy,phone,gdpr"),
    ("contact", "How do I reach a manager?", "Ask the assistant to escalate your request; a manager calls you back within one working day.", "manager,complaint,escalate"),
];

pub(super) async fn create(
    tx: &mut TenantTx,
    plan: &TenantPlan,
    keyring: &Keyring,
    counts: &mut Counts,
) -> Result<(), DbError> {
    let assistants = format!(
        "INSERT INTO app.assistants (tenant_id, id, name, description, provider_assistant_id, status,
           industry, voice, model, transcriber, functions, server_url, end_call_function_enabled,
           dial_keypad_function_enabled, fillers_enabled, silence_timeout_seconds, max_duration_seconds,
           background_sound, backchanneling_enabled, background_denoising_enabled,
           model_output_in_messages_enabled, transport_configurations, hipaa_enabled, analysis_enabled,
           artifact_plan, message_plan, start_speaking_plan, stop_speaking_plan, monitor_plan, metadata,
           created_at, updated_at)
         SELECT $1, {aid}, $12 || ' ' || (ARRAY['Receptionist', 'SMS Concierge', 'After-hours Line'])[a],
           (ARRAY['Answers calls, books appointments and answers questions.',
                  'Confirms bookings and answers customers by SMS.',
                  'Takes messages and bookings outside opening hours.'])[a],
           md5($1::text || ':vapi-assistant:' || a)::uuid::text,
           (ARRAY['active', 'training', 'active'])[a], $22,
           jsonb_build_object('provider', '11labs', 'voiceId', (ARRAY['rachel', 'bella', 'domi'])[a],
                              'speed', 1.0, 'pitch', 1.0),
           jsonb_build_object('provider', 'openai', 'model', 'gpt-4o-mini', 'temperature', 0.4,
                              'maxTokens', 400, 'systemPrompt',
                              'You are the friendly receptionist of ' || $12 || ' in ' || $16
                              || '. Book appointments, answer questions from the FAQ and hand over to staff when asked.'),
           jsonb_build_object('provider', 'deepgram', 'model', 'nova-2', 'language', $18),
           jsonb_build_array(
             jsonb_build_object('name', 'check_availability', 'description', 'Free slots for a service and day',
               'parameters', jsonb_build_object('type', 'object', 'required', jsonb_build_array('service', 'date'))),
             jsonb_build_object('name', 'create_booking', 'description', 'Book a slot for the caller',
               'parameters', jsonb_build_object('type', 'object',
                 'required', jsonb_build_array('service', 'date', 'time', 'name')))),
           'https://hooks.' || $13 || '/vapi', true, a = 1, true, 30, 900,
           CASE WHEN a = 1 THEN 'office' END, a <> 2, true, false,
           jsonb_build_array(jsonb_build_object('provider', 'twilio', 'timeout', 60, 'record', true,
                                                'recordingChannels', 'dual')),
           $19, true,
           jsonb_build_object('recordingEnabled', true, 'transcriptPlan', jsonb_build_object('enabled', true)),
           jsonb_build_object('idleMessages', jsonb_build_array('Are you still there?'), 'idleTimeoutSeconds', 8),
           jsonb_build_object('waitSeconds', 0.4, 'smartEndpointingEnabled', true),
           jsonb_build_object('numWords', 2, 'voiceSeconds', 0.2, 'backoffSeconds', 1),
           jsonb_build_object('listenEnabled', false, 'controlEnabled', false),
           jsonb_build_object('createdBy', 'seed', 'locale', $18),
           {EPOCH} - interval '20 days' + a * interval '1 hour',
           {EPOCH} - interval '20 days' + a * interval '1 hour'
         FROM generate_series(1, 3) a",
        aid = id("assistants", "a"),
    );
    insert(tx, plan, counts, "assistants", &assistants, |q| {
        q.bind(plan.profile.assistant_industry)
    })
    .await?;

    let prompts = format!(
        "INSERT INTO app.system_prompts (tenant_id, id, prompt_type, system_prompt, prompt_version,
           is_active, created_at, updated_at)
         SELECT $1, {pid}, p.kind,
           CASE p.kind
             WHEN 'voice' THEN 'You are the phone receptionist of ' || $12 || ' in ' || $16 || '. Greet callers, '
               || 'find a free slot with check_availability, confirm service, date and time, then call '
               || 'create_booking. Speak ' || $18 || ' unless the caller prefers another language. '
               || CASE WHEN p.n = 2 THEN 'Keep answers under two sentences. ' ELSE '' END
               || 'Never give medical or legal advice; offer a call back from staff instead.'
             ELSE 'You answer SMS for ' || $12 || '. Reply in at most 160 characters, confirm bookings, '
               || 'handle C (cancel) and R (reschedule) replies, and escalate complaints to staff.'
           END,
           p.version, p.active, {EPOCH} - interval '20 days' + p.n * interval '7 days',
           {EPOCH} - interval '20 days' + p.n * interval '7 days'
         FROM (VALUES (1, 'voice', 'v1.0.0', false), (2, 'voice', 'v1.1.0', true),
                      (3, 'sms', 'v1.0.0', true)) AS p(n, kind, version, active)",
        pid = id("system_prompts", "p.n"),
    );
    insert(tx, plan, counts, "system_prompts", &prompts, |q| q).await?;

    let faqs = format!(
        "INSERT INTO app.faqs (tenant_id, id, category, question, answer, keywords, is_active,
           display_order, usage_count, created_at, updated_at)
         SELECT $1, {fid}, f.category, f.question,
           replace(replace(replace(f.answer, '{{B}}', $12), '{{C}}', $16), '{{M}}', $10),
           string_to_array(f.keywords, ','), f.n <> 20, f.n::int, ((f.n * 37 + $15) % 200)::int,
           {EPOCH} - interval '19 days', {EPOCH} - interval '19 days'
         FROM unnest($22::text[], $23::text[], $24::text[], $25::text[]) WITH ORDINALITY
              AS f(category, question, answer, keywords, n)",
        fid = id("faqs", "f.n"),
    );
    insert(tx, plan, counts, "faqs", &faqs, |q| {
        q.bind(FAQS.iter().map(|f| f.0).collect::<Vec<_>>())
            .bind(FAQS.iter().map(|f| f.1).collect::<Vec<_>>())
            .bind(FAQS.iter().map(|f| f.2).collect::<Vec<_>>())
            .bind(FAQS.iter().map(|f| f.3).collect::<Vec<_>>())
    })
    .await?;

    // The three connected platforms hold (made-up) tokens, sealed for their rows like the
    // API seals real ones; Google Ads and Analytics also a refresh token.
    let ids = plan
        .query(&format!(
            "SELECT {iid} FROM generate_series(1, 3) AS p(n) ORDER BY p.n",
            iid = id("integrations", "p.n")
        ))
        .fetch_all(tx.conn())
        .await?;
    let (mut access, mut refresh) = (Vec::new(), Vec::new());
    for (n, row) in ids.iter().enumerate() {
        let row: uuid::Uuid = row.try_get(0)?;
        let token = format!("seed-access-{}", row.simple());
        access.push(INTEGRATION_ACCESS_TOKEN.seal(keyring, plan.id, row, &token)?);
        refresh.push(if n < 2 {
            let token = format!("seed-refresh-{}", row.simple());
            Some(INTEGRATION_REFRESH_TOKEN.seal(keyring, plan.id, row, &token)?)
        } else {
            None
        });
    }
    let integrations = format!(
        "INSERT INTO app.integrations (tenant_id, id, platform, connected, account_id, property_id,
           access_token_ciphertext, refresh_token_ciphertext,
           expires_at, last_sync_at, status, metrics, dimensions, campaigns, created_at, updated_at)
         SELECT $1, {iid}, p.platform, p.n <= 3,
           CASE WHEN p.n <= 3 THEN (ARRAY['UA-', '', 'act_'])[p.n] || (100000000 + ($15 * 7919 + p.n * 104729) % 900000000) END,
           CASE WHEN p.n = 1 THEN 'properties/' || (300000000 + $15 * 13 + 1) END,
           ($22::bytea[])[p.n], ($23::bytea[])[p.n],
           CASE WHEN p.n <= 3 THEN timestamptz '2026-01-01 00:00:00+00' + (p.n - 2) * interval '30 days' END,
           CASE WHEN p.n <= 2 THEN timestamptz '2025-12-31 06:00:00+00' END,
           (ARRAY['active', 'active', 'expired', 'error'])[p.n],
           CASE WHEN p.n = 1 THEN jsonb_build_object('sessions', 18240 + $15 * 17, 'users', 12115 + $15 * 11,
             'pageviews', 51230 + $15 * 31, 'bounceRate', 0.42, 'avgSessionDuration', 95.3)
             ELSE '{{}}'::jsonb END,
           CASE WHEN p.n = 1 THEN jsonb_build_object(
             'topSources', jsonb_build_array(jsonb_build_object('source', 'google', 'sessions', 9120),
                                             jsonb_build_object('source', 'direct', 'sessions', 4870)),
             'devices', jsonb_build_array(jsonb_build_object('device', 'mobile', 'percentage', 64),
                                          jsonb_build_object('device', 'desktop', 'percentage', 36)),
             'topPages', jsonb_build_array(jsonb_build_object('page', '/', 'views', 20410),
                                           jsonb_build_object('page', '/booking', 'views', 11230),
                                           jsonb_build_object('page', '/prices', 'views', 7120)))
             ELSE '{{}}'::jsonb END,
           CASE WHEN p.n IN (2, 3) THEN jsonb_build_array(
             jsonb_build_object('id', 'cmp-' || p.n || '01', 'name', $12 || ' – bookings', 'status', 'active',
                                'spend', 412.50, 'clicks', 1840, 'impressions', 52300),
             jsonb_build_object('id', 'cmp-' || p.n || '02', 'name', $12 || ' – brand', 'status', 'paused',
                                'spend', 96.20, 'clicks', 410, 'impressions', 11800))
             ELSE '[]'::jsonb END,
           {EPOCH} - interval '18 days', {EPOCH} - interval '18 days'
         FROM unnest(ARRAY['google_analytics', 'google_ads', 'meta_ads', 'linkedin_ads']) WITH ORDINALITY
              AS p(platform, n)",
        iid = id("integrations", "p.n"),
    );
    insert(tx, plan, counts, "integrations", &integrations, |q| {
        q.bind(access).bind(refresh)
    })
    .await?;

    let settings = format!(
        "INSERT INTO app.tenant_settings (tenant_id, id, key, value, description, category, is_editable,
           updated_by, created_at, updated_at)
         SELECT $1, {sid}, s.key, s.value, s.description, s.category, s.key <> 'security.audit_retention_days',
           {owner}, {EPOCH} - interval '17 days', {EPOCH} - interval '17 days'
         FROM (VALUES
           (1, 'business_hours', jsonb_build_object('timezone', $11, 'weekdays', jsonb_build_object('open', '09:00', 'close', '18:00'),
               'saturday', jsonb_build_object('open', '10:00', 'close', '14:00')), 'When the front desk is staffed', 'business'),
           (2, 'auto_assignment_enabled', 'true'::jsonb, 'Assign new conversations to free agents', 'general'),
           (3, 'max_conversations_per_agent', '8'::jsonb, 'Open conversations per agent before auto-assignment skips them', 'general'),
           (4, 'ai_response_enabled', 'true'::jsonb, 'Let the AI answer customers first', 'ai'),
           (5, 'ai.escalation_keywords', '[\"manager\", \"complaint\", \"refund\", \"operator\"]'::jsonb, 'Words that hand a conversation to staff', 'ai'),
           (6, 'notifications.daily_digest', '{{\"enabled\": true, \"hour\": 8}}'::jsonb, 'Morning summary e-mail to admins', 'notifications'),
           (7, 'security.audit_retention_days', '365'::jsonb, 'How long audit entries are kept', 'security'),
           (8, 'whatsapp.business_number', to_jsonb($22::text), 'The WhatsApp Business sender', 'whatsapp'),
           (9, 'retention.conversation_days', '3650'::jsonb, 'Days before idle conversations are archived and deleted ones purged (the demo keeps its dated history)', 'general')
         ) AS s(n, key, value, description, category)",
        sid = id("tenant_settings", "s.n"),
        owner = user_id("1"),
    );
    insert(tx, plan, counts, "tenant_settings", &settings, |q| {
        q.bind(plan.profile.phone)
    })
    .await?;
    Ok(())
}
