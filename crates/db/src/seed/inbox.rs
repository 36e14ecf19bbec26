//! The inbox: a conversation for every other customer (`⌈N/2⌉`, customer `2v - 1` for
//! conversation `v`) over web chat, WhatsApp, phone, SMS, e-mail and social channels, four
//! messages each, an internal note on every other one, a read marker each and an OpenAI
//! thread on every WhatsApp one. Inbox counters are set from the messages in `counters.rs`.

use super::people::customer_join;
use super::plan::{TenantPlan, Volumes};
use super::sql::{
    by_lang, customer_created, handler, id, iso, pick, price, provider_hex, secs, text, user_id,
};
use super::{insert_chunked, Counts};
use crate::{DbError, TenantTx};

/// A `CROSS JOIN LATERAL` naming conversation `v` as `cv`: `v`, its customer `c`, `channel`,
/// `type`, `status`, `assigned`, `created_at`, `gap` (minutes between turns), `svc`, `intent`.
fn conversation_join(v: &str) -> String {
    format!(
        "CROSS JOIN LATERAL (
           SELECT x.*, x.status <> 'open' AS assigned,
                  CASE x.channel WHEN 'web' THEN 'chat' WHEN 'whatsapp' THEN 'whatsapp' WHEN 'phone' THEN 'voice'
                                 WHEN 'email' THEN 'email' WHEN 'instagram' THEN 'instagram' ELSE 'chat' END AS type
           FROM (
             SELECT ({v})::bigint AS v, 2 * ({v}) - 1 AS c,
                    CASE ({v}) % 6 WHEN 0 THEN 'web' WHEN 1 THEN 'whatsapp' WHEN 2 THEN 'phone' WHEN 3 THEN 'sms'
                                   WHEN 4 THEN 'whatsapp' ELSE {other} END AS channel,
                    CASE WHEN (({v}) * 7) % 20 < 4 THEN 'open' WHEN (({v}) * 7) % 20 < 10 THEN 'assigned'
                         WHEN (({v}) * 7) % 20 < 12 THEN 'waiting' WHEN (({v}) * 7) % 20 < 17 THEN 'resolved'
                         ELSE 'closed' END AS status,
                    {created} + interval '2 days' + {offset} AS created_at,
                    (3 + ({v}) % 7)::int AS gap,
                    (1 + (({v}) * 5) % array_length($7, 1))::int AS svc,
                    {intent} AS intent
             OFFSET 0
           ) x
           OFFSET 0
         ) cv",
        other = pick(&["email", "instagram", "telegram", "mobile_app"], &format!("({v}) / 6")),
        created = customer_created(&format!("2 * ({v}) - 1")),
        offset = secs(&format!("(({v}) * 3571) % 86400")),
        intent = pick(&["booking", "booking", "question", "complaint", "sale"], v),
    )
}

/// The member handling conversation `cv`: its assignee, or the first supervisor.
fn handling_agent() -> String {
    format!(
        "CASE WHEN cv.assigned THEN {} ELSE {} END",
        handler("cv.v"),
        user_id("4")
    )
}

/// Chat turns per language: customer, AI, customer, agent/AI; then the location and photo
/// variants of the customer's turns.
const TURNS: [[&str; 6]; 3] = [
    [
        "Dobrý den, chtěla bych se objednat na {S}. Máte volno příští týden?",
        "Dobrý den, {F}! Na {S} máme volno ve středu v 10:00 nebo ve čtvrtek v 15:30. Který termín vám vyhovuje?",
        "Čtvrtek v 15:30 prosím.",
        "Hotovo, rezervace na čtvrtek 15:30 je potvrzená. Těšíme se na vás!",
        "Posílám svou polohu, jak daleko je to k vám?",
        "Posílám fotku, ať víte, co přesně potřebuji.",
    ],
    [
        "Hi! I'd like to book a {S}. Do you have anything next week?",
        "Hi {F}! For a {S} we have Wednesday at 10:00 or Thursday at 15:30. Which works better?",
        "Thursday at 15:30, please.",
        "Done – you're booked for Thursday at 15:30. See you then!",
        "Sending my location – how far is it to you?",
        "Here's a photo so you can see what I mean.",
    ],
    [
        "¡Hola! Quería reservar {S}. ¿Tienen hueco la semana que viene?",
        "¡Hola {F}! Para {S} tenemos el miércoles a las 10:00 o el jueves a las 15:30. ¿Qué le viene mejor?",
        "El jueves a las 15:30, por favor.",
        "Listo, su reserva para el jueves a las 15:30 está confirmada. ¡Hasta pronto!",
        "Le envío mi ubicación, ¿a qué distancia están?",
        "Le mando una foto para que vea lo que necesito.",
    ],
];

fn turn(i: usize) -> String {
    let vars = [("S", "($7)[cv.svc]"), ("F", "cu.first_name")];
    by_lang(
        "cu.lang",
        &text(TURNS[0][i], &vars),
        &text(TURNS[1][i], &vars),
        &text(TURNS[2][i], &vars),
    )
}

pub(super) async fn create(
    tx: &mut TenantTx,
    plan: &TenantPlan,
    counts: &mut Counts,
) -> Result<(), DbError> {
    let conversations = format!(
        "INSERT INTO app.conversations (tenant_id, id, conversation_key, user_id, customer_id, title, type,
           channel, session_id, source, client_phone, client_email, client_name, status, lifecycle, priority,
           category, tags, assigned_agent_id, assigned_at, assigned_by, is_ai_enabled, ai_model,
           auto_responses, call_data, intent, lead_score, conversion_probability, outcome, booking_details,
           sale_amount, escalated_to_human, first_response_time, average_response_time, resolved_at,
           resolved_by, resolution_notes, customer_satisfaction, whatsapp_data, metadata, expires_at,
           closed_at, created_at, updated_at)
         SELECT $1, {vid},
           CASE WHEN cv.channel IN ('web', 'mobile_app') THEN md5($1::text || ':widget:' || cv.v)::uuid::text END,
           CASE WHEN cv.channel = 'web' THEN {admin} END,
           {cid}, ($7)[cv.svc] || ' – ' || cu.name, cv.type, cv.channel,
           CASE WHEN cv.channel IN ('web', 'mobile_app') THEN 'sess_' || substr(md5($1::text || ':session:' || cv.v), 1, 20) END,
           CASE cv.channel WHEN 'web' THEN 'website_widget' WHEN 'phone' THEN 'inbound_call' ELSE cv.channel END,
           cu.phone, cu.email, cu.name, cv.status,
           CASE WHEN cv.status = 'closed' AND cv.v % 2 = 0 THEN 'archived' ELSE 'active' END,
           CASE WHEN cv.intent = 'complaint' THEN CASE WHEN cv.v % 4 = 0 THEN 'urgent' ELSE 'high' END
                ELSE {priority} END,
           CASE cv.intent WHEN 'booking' THEN 'support' WHEN 'complaint' THEN 'complaint' WHEN 'sale' THEN 'sales'
                          ELSE {category} END,
           ARRAY[cv.intent, cv.channel],
           CASE WHEN cv.assigned THEN {agent} END,
           CASE WHEN cv.assigned THEN cv.created_at + cv.gap * 2 * interval '1 minute' END,
           CASE WHEN cv.assigned THEN {supervisor} END,
           cv.v % 10 <> 0, 'gpt-4o-mini', true,
           CASE WHEN cv.type = 'voice' THEN jsonb_build_object('duration', 60 + cv.v % 300, 'voiceGender', 'female',
             'recordingUrl', 'https://recordings.example.com/' || $1 || '/conversation-' || cv.v || '.mp3',
             'transcription', {first_turn}, 'sentiment', {sentiment}) END,
           cv.intent, (20 + (cv.v * 37) % 81)::smallint, round((20 + (cv.v * 37) % 81) / 111.0, 4),
           CASE cv.intent WHEN 'booking' THEN 'booking_made' WHEN 'question' THEN 'info_provided'
                          WHEN 'complaint' THEN 'escalated' ELSE 'sale' END,
           CASE WHEN cv.intent = 'booking' THEN jsonb_build_object('service', ($7)[cv.svc],
             'date', to_char((cv.created_at + interval '3 days') AT TIME ZONE $11, 'YYYY-MM-DD'),
             'time', '15:30', 'price', {price}) END,
           CASE WHEN cv.intent = 'sale' THEN {price} * 2 END,
           cv.intent = 'complaint',
           cv.gap, cv.gap + 1.5,
           CASE WHEN cv.status IN ('resolved', 'closed') THEN cv.created_at + interval '1 day' END,
           CASE WHEN cv.status IN ('resolved', 'closed') THEN {agent} END,
           CASE WHEN cv.status IN ('resolved', 'closed') THEN {resolution} END,
           CASE WHEN cv.status IN ('resolved', 'closed') AND cv.v % 3 <> 0 THEN jsonb_build_object(
             'rating', 3 + cv.v % 3, 'comment', {comment},
             'submittedAt', {submitted}) END,
           CASE WHEN cv.channel = 'whatsapp' THEN jsonb_build_object(
             'phoneNumberId', (104000000000000 + $15 * 1000 + 1)::text,
             'businessAccountId', (201000000000000 + $15 * 1000 + 1)::text) END,
           jsonb_build_object('platformsQueried', CASE WHEN cv.intent = 'booking'
             THEN jsonb_build_array('calendar') ELSE '[]'::jsonb END, 'totalTokensUsed', 0),
           CASE WHEN cv.channel = 'web' THEN cv.created_at + interval '90 days' END,
           CASE WHEN cv.status = 'closed' THEN cv.created_at + interval '2 days' END,
           cv.created_at, cv.created_at
         FROM generate_series($22, $23) g
         {conversation}
         {customer}",
        vid = id("conversations", "cv.v"),
        cid = id("customers", "cv.c"),
        admin = user_id("2"),
        agent = handler("cv.v"),
        supervisor = user_id("4 + cv.v % 2"),
        priority = pick(&["low", "medium", "medium", "high"], "cv.v / 3"),
        category = pick(&["support", "billing", "technical"], "cv.v / 5"),
        first_turn = turn(0),
        sentiment = pick(&["positive", "positive", "neutral", "negative"], "cv.v"),
        price = price("cv.svc"),
        resolution = pick(
            &[
                "Booked the customer in and sent the confirmation.",
                "Answered from the FAQ; no booking needed.",
                "Apologised and offered a discount on the next visit.",
            ],
            "cv.v"
        ),
        comment = pick(&["Quick and friendly.", "Easy to book.", "Helpful, thanks!"], "cv.v"),
        submitted = iso("cv.created_at + interval '25 hours'"),
        conversation = conversation_join("g"),
        customer = customer_join("cv.c", "cu"),
    );
    let v = Volumes::of(&plan.spec);
    let n = v.conversations;
    insert_chunked(tx, plan, counts, "conversations", &conversations, n, 1).await?;

    let messages = format!(
        "INSERT INTO app.messages (tenant_id, id, conversation_id, customer_id, role, content, type,
           direction, sender, agent_id, provider_message_id, provider_status, provider_timestamp, status,
           attachments, location, template, interactive, ai_processed, ai_response, reply_to_id, metadata,
           tokens_used, cost, sent_at, delivered_at, read_at, created_at, updated_at)
         SELECT $1, {mid}, {vid}, {cid}, CASE WHEN mg.j % 2 = 0 THEN 'user' ELSE 'assistant' END,
           CASE mt.type WHEN 'location' THEN {t4} WHEN 'image' THEN {t5}
                        ELSE CASE mg.j WHEN 0 THEN {t0} WHEN 1 THEN {t1} WHEN 2 THEN {t2} ELSE {t3} END END,
           mt.type, ms.direction, ms.sender, CASE WHEN ms.sender = 'agent' THEN {agent} END,
           CASE WHEN cv.channel = 'whatsapp' THEN 'wamid.' || upper({wamid}) END,
           CASE WHEN cv.channel = 'whatsapp' AND ms.direction = 'outbound'
                THEN CASE WHEN mg.j = 1 THEN 'read' ELSE 'delivered' END END,
           CASE WHEN cv.channel = 'whatsapp' THEN ms.sent_at END,
           CASE WHEN ms.direction = 'inbound' OR mg.j = 1 THEN 'read' ELSE 'delivered' END,
           CASE WHEN mt.type = 'image' THEN jsonb_build_array(jsonb_build_object('type', 'image',
             'url', 'https://media.example.com/' || {mid} || '.jpg', 'filename', 'photo.jpg',
             'mimeType', 'image/jpeg', 'size', 180000 + (mg.m * 7919) % 200000)) ELSE '[]'::jsonb END,
           CASE WHEN mt.type = 'location' THEN jsonb_build_object(
             'latitude', round(($20 + ((mg.m * 37) % 200 - 100) / 2000.0)::numeric, 5),
             'longitude', round(($21 + ((mg.m * 53) % 200 - 100) / 1500.0)::numeric, 5),
             'address', $16, 'name', 'Shared location') END,
           CASE WHEN mt.type = 'template' THEN jsonb_build_object('name', 'booking_confirmation',
             'language', cu.lang, 'parameters', jsonb_build_array(($7)[cv.svc], '15:30'), 'category', 'UTILITY') END,
           CASE WHEN mt.type = 'interactive' THEN jsonb_build_object('type', 'button', 'buttons', jsonb_build_array(
             jsonb_build_object('id', 'slot_1', 'title', 'Wed 10:00'),
             jsonb_build_object('id', 'slot_2', 'title', 'Thu 15:30'))) END,
           ms.direction = 'inbound',
           CASE WHEN ms.direction = 'inbound' THEN jsonb_build_object(
             'confidence', round(0.7 + (mg.m % 30) / 100.0, 2), 'intent', cv.intent,
             'entities', jsonb_build_array(jsonb_build_object('type', 'service', 'value', ($7)[cv.svc])),
             'sentiment', CASE cv.intent WHEN 'complaint' THEN 'negative' WHEN 'question' THEN 'neutral'
                                         ELSE 'positive' END) END,
           CASE WHEN mg.j = 1 AND cv.v % 3 = 0 THEN {previous} END,
           CASE WHEN ms.sender = 'ai' THEN jsonb_build_object('model', 'gpt-4o-mini')
             || CASE WHEN cv.v % 4 = 0 THEN jsonb_build_object('feedbackRating', 'positive')
                     WHEN cv.v % 17 = 0 THEN jsonb_build_object('feedbackRating', 'negative')
                     ELSE '{{}}'::jsonb END
             ELSE '{{}}'::jsonb END,
           ms.tokens, CASE WHEN ms.tokens > 0 THEN round(ms.tokens * 0.0000025, 4) ELSE 0 END,
           ms.sent_at,
           CASE WHEN ms.direction = 'outbound' THEN ms.sent_at + interval '2 seconds' END,
           CASE WHEN mg.j = 1 THEN ms.sent_at + interval '1 minute' END,
           ms.sent_at, ms.sent_at
         FROM generate_series($22, $23) g
         {conversation}
         {customer}
         CROSS JOIN LATERAL generate_series(0, 3 + 0 * cv.v) mj(j)
         CROSS JOIN LATERAL (SELECT (cv.v - 1) * 4 + mj.j + 1 AS m, mj.j AS j OFFSET 0) mg
         CROSS JOIN LATERAL (
           SELECT x.*, CASE WHEN x.sender = 'customer' THEN 'inbound' ELSE 'outbound' END AS direction,
                  CASE WHEN x.sender = 'ai' THEN 120 + (mg.m * 37) % 380 ELSE 0 END AS tokens,
                  cv.created_at + mg.j * cv.gap * interval '1 minute' AS sent_at
           FROM (SELECT CASE WHEN mg.j % 2 = 0 THEN 'customer' WHEN mg.j = 3 AND cv.assigned THEN 'agent'
                             ELSE 'ai' END AS sender OFFSET 0) x
           OFFSET 0
         ) ms
         CROSS JOIN LATERAL (
           SELECT CASE WHEN mg.j = 0 AND cv.v % 7 = 0 THEN 'location' WHEN mg.j = 2 AND cv.v % 11 = 0 THEN 'image'
                       WHEN mg.j = 3 AND cv.channel = 'whatsapp' AND cv.v % 5 = 0 THEN 'template'
                       WHEN mg.j = 1 AND cv.v % 13 = 0 THEN 'interactive' ELSE 'text' END AS type
           OFFSET 0
         ) mt",
        mid = id("messages", "mg.m"),
        vid = id("conversations", "cv.v"),
        cid = id("customers", "cv.c"),
        agent = handler("cv.v"),
        previous = id("messages", "mg.m - 1"),
        wamid = provider_hex(":wamid", "mg.m"),
        t0 = turn(0),
        t1 = turn(1),
        t2 = turn(2),
        t3 = turn(3),
        t4 = turn(4),
        t5 = turn(5),
        conversation = conversation_join("g"),
        customer = customer_join("cv.c", "cu"),
    );
    insert_chunked(tx, plan, counts, "messages", &messages, n, 4).await?;

    let notes = format!(
        "INSERT INTO app.conversation_notes (tenant_id, id, conversation_id, agent_id, content, is_visible,
           created_at, updated_at)
         SELECT $1, {nid}, {vid}, {agent}, {content}, g % 4 = 0,
           cv.created_at + interval '30 minutes', cv.created_at + interval '30 minutes'
         FROM generate_series($22, $23) g
         {conversation}",
        nid = id("conversation_notes", "g"),
        vid = id("conversations", "cv.v"),
        agent = handling_agent(),
        content = pick(
            &[
                "Prefers afternoon slots; offer Thursdays first.",
                "Regular customer – mention the loyalty discount.",
                "Asked about gift vouchers; sent the price list.",
                "Follow up next week about the rescheduled appointment.",
                "Unhappy about the waiting time last visit; handle with care.",
            ],
            "g"
        ),
        conversation = conversation_join("2 * g - 1"),
    );
    let notes_n = v.conversation_notes;
    insert_chunked(tx, plan, counts, "conversation_notes", &notes, notes_n, 1).await?;

    let threads = format!(
        "INSERT INTO app.conversation_threads (tenant_id, id, conversation_id, customer_id, phone_number,
           thread_id, message_count, last_interaction, last_cleanup, is_active, created_at, updated_at)
         SELECT $1, {tid}, {vid}, {cid}, cu.phone,
           'thread_' || substr(md5($1::text || ':openai-thread:' || cv.v), 1, 24), 4,
           cv.created_at + 3 * cv.gap * interval '1 minute',
           CASE WHEN cv.v % 2 = 0 THEN cv.created_at + interval '30 days' END, true,
           cv.created_at, cv.created_at + 3 * cv.gap * interval '1 minute'
         FROM generate_series($22, $23) g
         {conversation}
         {customer}
         WHERE cv.channel = 'whatsapp'",
        tid = id("conversation_threads", "cv.v"),
        vid = id("conversations", "cv.v"),
        cid = id("customers", "cv.c"),
        conversation = conversation_join("g"),
        customer = customer_join("cv.c", "cu"),
    );
    insert_chunked(tx, plan, counts, "conversation_threads", &threads, n, 1).await?;

    // The handler has read up to the AI's reply (every third conversation) or the customer's
    // second message (the rest), so some conversations are unread.
    let reads = format!(
        "INSERT INTO app.conversation_reads (tenant_id, id, conversation_id, user_id, last_read_at,
           last_read_message_id, created_at, updated_at)
         SELECT $1, {rid}, {vid}, {agent}, r.at, {message}, r.at, r.at
         FROM generate_series($22, $23) g
         {conversation}
         CROSS JOIN LATERAL (
           SELECT CASE WHEN cv.v % 3 = 0 THEN 1 ELSE 2 END AS j,
                  cv.created_at + (CASE WHEN cv.v % 3 = 0 THEN 1 ELSE 2 END * cv.gap + 1) * interval '1 minute' AS at
         ) r",
        rid = id("conversation_reads", "cv.v"),
        vid = id("conversations", "cv.v"),
        agent = handling_agent(),
        message = id("messages", "(cv.v - 1) * 4 + r.j + 1"),
        conversation = conversation_join("g"),
    );
    insert_chunked(tx, plan, counts, "conversation_reads", &reads, n, 1).await
}
