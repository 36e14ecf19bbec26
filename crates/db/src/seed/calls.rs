//! Calls (`C` per booking) and SMS (`S` per call), the bulk of the data. Each call carries its
//! booking's and customer's ids and each SMS its call's, booking's and customer's, all computed
//! from the row's own index. The first call of a booking is the inbound call that made it; the
//! others are reminders and questions. Texts are in the customer's language (cs, en, es).

use super::plan::{TenantPlan, Volumes};
use super::sql::{by_lang, graph, id, mix, pick, provider_hex, secs, spoken_date, text};
use super::{insert_chunked, Counts};
use crate::{DbError, TenantTx};

/// A call script: assistant, caller, assistant, caller, assistant.
type Script = [&'static str; 5];

const BOOKING: [Script; 3] = [
    [
        "{B}, dobrý den, jak mohu pomoci?",
        "Chtěl bych se objednat na {S}.",
        "Hodí se vám {D} v {T}?",
        "Ano, hodí.",
        "Hotovo, {F}. Potvrzení pošlu SMS.",
    ],
    [
        "{B}, how can I help?",
        "Hi, I'd like to book a {S}.",
        "Does {D} at {T} suit you?",
        "Yes, perfect.",
        "Booked, {F}. I'll text you the details.",
    ],
    [
        "{B}, ¿en qué puedo ayudarle?",
        "Quería reservar {S}.",
        "¿Le va bien el {D} a las {T}?",
        "Sí, perfecto.",
        "Hecho, {F}. Le enviaré un SMS.",
    ],
];

const REMINDER: [Script; 3] = [
    [
        "Dobrý den, {F}, tady {B}. Připomínáme termín {D} v {T}. Platí?",
        "Ano, přijdu.",
        "Děkujeme. Změnu stačí napsat do SMS.",
        "Dobře.",
        "Na shledanou!",
    ],
    [
        "Hi {F}, {B} here: a reminder of your visit on {D} at {T}. Still OK?",
        "Yes, I'll be there.",
        "Thanks. Reply to our text if anything changes.",
        "Will do.",
        "See you then!",
    ],
    [
        "Hola {F}, le llamamos de {B}: su cita es el {D} a las {T}. ¿Confirma?",
        "Sí, allí estaré.",
        "Gracias. Para cambios, responda al SMS.",
        "De acuerdo.",
        "¡Hasta entonces!",
    ],
];

const QUESTION: [Script; 3] = [
    [
        "{B}, dobrý den, jak mohu pomoci?",
        "Tady {F}. Dá se u vás parkovat? Jdu {D} na {S}.",
        "Ano, za budovou, první hodina zdarma.",
        "Skvělé, děkuji.",
        "Uvidíme se v {T}.",
    ],
    [
        "{B}, how can I help?",
        "It's {F}. Is there parking? I'm coming for a {S} on {D}.",
        "Yes, behind the building, first hour free.",
        "Great, thanks.",
        "See you at {T}.",
    ],
    [
        "{B}, ¿en qué puedo ayudarle?",
        "Soy {F}. ¿Hay aparcamiento? Tengo {S} el {D}.",
        "Sí, detrás del edificio, la primera hora gratis.",
        "Perfecto, gracias.",
        "Le esperamos a las {T}.",
    ],
];

/// SMS bodies: confirmation, follow-up, reminder, missed call (outbound), then the customer's
/// replies (inbound).
const SMS: [[&str; 4]; 3] = [
    [
        "Vaše rezervace ({S}) na {D} v {T} je potvrzena. {B}. Pro zrušení odpovězte C.",
        "Děkujeme za hovor, {F}. Těšíme se na vás {D} v {T}. {B}",
        "Připomínka: {S} v {B} dne {D} v {T}. Odpovězte C pro zrušení, R pro změnu termínu.",
        "Omlouváme se, nezastihli jsme vás, {F}. Zavolejte nám nebo odpovězte a potvrďte termín {D} ({S}). {B}",
    ],
    [
        "Your booking for {S} on {D} at {T} is confirmed. {B}. Reply C to cancel.",
        "Thanks for calling {B}, {F}. See you on {D} at {T}.",
        "Reminder: {S} at {B} on {D} at {T}. Reply C to cancel or R to reschedule.",
        "Sorry we missed you, {F}. Call {B} back or reply here to confirm your {S} on {D}.",
    ],
    [
        "Su reserva de {S} el {D} a las {T} está confirmada. {B}. Responda C para cancelar.",
        "Gracias por llamar a {B}, {F}. Le esperamos el {D} a las {T}.",
        "Recordatorio: {S} en {B} el {D} a las {T}. Responda C para cancelar o R para cambiar la cita.",
        "Sentimos no haber podido hablar con usted, {F}. Llame a {B} o responda para confirmar {S} el {D}.",
    ],
];

const REPLIES: [[&str; 3]; 3] = [
    [
        "Děkuji, budu tam.",
        "Super, díky!",
        "Můžu přijít o 15 minut později?",
    ],
    [
        "Thanks, see you then!",
        "Perfect, thank you.",
        "Can I come 15 minutes later?",
    ],
    [
        "¡Gracias, allí estaré!",
        "Perfecto, gracias.",
        "¿Puedo llegar 15 minutos más tarde?",
    ],
];

/// The variables every template may use: business, service, spoken date and time of the
/// appointment, and the customer's first name (`tv` comes from [`template_vars`]).
const VARS: [(&str, &str); 5] = [
    ("B", "$12"),
    ("S", "tv.s"),
    ("D", "tv.d"),
    ("T", "bk.appointment_time"),
    ("F", "cu.first_name"),
];

fn render(template: &str) -> String {
    text(template, &VARS)
}

/// Computes the template variables once per row (`OFFSET 0` keeps PostgreSQL from inlining
/// them into every template that uses them).
fn template_vars() -> String {
    format!(
        "CROSS JOIN LATERAL (SELECT {} AS d, ($7)[bk.svc] AS s OFFSET 0) tv",
        spoken_date("cu.lang", "bk.local_ts")
    )
}

/// Line `i` of the call's script, by kind (`kd.kind`) and language (`cu.lang`).
fn script_line(i: usize) -> String {
    let per_lang = |scripts: &[Script; 3]| {
        by_lang(
            "cu.lang",
            &render(scripts[0][i]),
            &render(scripts[1][i]),
            &render(scripts[2][i]),
        )
    };
    format!(
        "CASE kd.kind WHEN 'booking' THEN {} WHEN 'reminder' THEN {} ELSE {} END",
        per_lang(&BOOKING),
        per_lang(&REMINDER),
        per_lang(&QUESTION)
    )
}

pub(super) async fn create(
    tx: &mut TenantTx,
    plan: &TenantPlan,
    counts: &mut Counts,
) -> Result<(), DbError> {
    let lines: Vec<String> = (0..5).map(script_line).collect();
    let sentiment = mix("ck.k", 211);
    let calls = format!(
        "INSERT INTO app.calls (tenant_id, id, customer_id, booking_id, assistant_id, conversation_id,
           phone_number, customer_name, duration, status, call_type, recording_url, recording_size,
           transcript, transcription_confidence, summary, cost, notes, sentiment, voice_gender, language,
           started_at, ended_at, intent, entities, keywords, outcome, action_taken, provider,
           provider_call_id, provider_call_sid, ended_reason, messages, analysis, cost_breakdown,
           tokens_used, metadata, hipaa_compliant, created_at, updated_at)
         SELECT $1, {kid}, {cid}, {bid}, {aid},
           CASE WHEN bk.c % 2 = 1 AND bk.j = 0 AND ck.j = 0 THEN {vid} END,
           cu.phone, cu.name, cl.duration, cl.status, cl.call_type,
           CASE WHEN cl.answered THEN 'https://recordings.example.com/' || {kid} || '.mp3' END,
           CASE WHEN cl.answered THEN cl.duration * 16000 END,
           CASE WHEN cl.answered THEN 'AI: ' || ln.a1 || E'\\nUser: ' || ln.u1 || E'\\nAI: ' || ln.a2
             || E'\\nUser: ' || ln.u2 || E'\\nAI: ' || ln.a3 END,
           CASE WHEN cl.answered THEN round(0.85 + (ck.k % 140) / 1000.0, 4) END,
           CASE WHEN cl.answered THEN CASE kd.kind
             WHEN 'booking' THEN 'Booked ' || tv.s || '.'
             WHEN 'reminder' THEN 'Reminder: ' || tv.s || ' confirmed.'
             ELSE 'Asked about parking.' END END,
           co.total,
           CASE WHEN ck.j = 0 AND ck.k % 10 = 0 THEN 'Asked to be called back if an earlier slot frees up.' END,
           se.sentiment, 'female', cu.lang, cl.started_at, cl.ended_at,
           CASE kd.kind WHEN 'booking' THEN 'book_appointment' WHEN 'reminder' THEN 'appointment_reminder'
                        ELSE 'general_question' END,
           CASE WHEN cl.answered THEN jsonb_build_array(jsonb_build_object('type', 'service', 'value', tv.s))
             ELSE '[]'::jsonb END,
           CASE WHEN cl.answered THEN ARRAY[kd.kind, lower(tv.s)] ELSE '{{}}'::text[] END,
           CASE WHEN NOT cl.answered THEN 'no_contact' WHEN kd.kind = 'booking' THEN 'booked'
                WHEN kd.kind = 'reminder' THEN 'confirmed' ELSE 'answered' END,
           CASE WHEN NOT cl.answered THEN NULL WHEN kd.kind = 'booking' THEN 'booking_created'
                WHEN se.sentiment = 'negative' THEN 'escalated' ELSE 'info_sent' END,
           'vapi', ({vapi})::uuid::text, 'CA' || {sid},
           CASE cl.status WHEN 'no-answer' THEN 'customer-did-not-answer' WHEN 'busy' THEN 'customer-busy'
                          WHEN 'failed' THEN 'twilio-failed-to-connect-call'
                          ELSE CASE cl.call_type WHEN 'inbound' THEN 'customer-ended-call' ELSE 'assistant-ended-call' END END,
           CASE WHEN cl.answered THEN jsonb_build_array(
             jsonb_build_object('role', 'assistant', 'message', ln.a1),
             jsonb_build_object('role', 'user', 'message', ln.u1),
             jsonb_build_object('role', 'assistant', 'message', ln.a2),
             jsonb_build_object('role', 'user', 'message', ln.u2),
             jsonb_build_object('role', 'assistant', 'message', ln.a3))
             ELSE '[]'::jsonb END,
           CASE WHEN cl.answered THEN jsonb_build_object('sentiment', se.sentiment,
             'topics', jsonb_build_array(kd.kind),
             'actionItems', CASE kd.kind WHEN 'booking' THEN jsonb_build_array('Send SMS confirmation')
                                         WHEN 'reminder' THEN jsonb_build_array('Mark booking as confirmed')
                                         ELSE '[]'::jsonb END,
             'followUpRequired', se.sentiment = 'negative') ELSE '{{}}'::jsonb END,
           jsonb_build_object('callCost', co.call_cost, 'elevenLabsChars', co.chars, 'elevenLabsCost', co.tts_cost,
             'groqTokens', co.tokens, 'groqCost', co.llm_cost, 'totalCost', co.total),
           co.tokens,
           CASE WHEN ck.k % 5 = 0 THEN jsonb_build_object('afterHours', true, 'assistantVersion', 'v1.1.0')
                ELSE '{{}}'::jsonb END,
           $19, cl.started_at, cl.ended_at
         FROM {graph}
         {vars}
         CROSS JOIN LATERAL (SELECT CASE WHEN ck.j = 0 THEN 'booking' WHEN cl.call_type = 'outbound'
                                         THEN 'reminder' ELSE 'question' END AS kind OFFSET 0) kd
         CROSS JOIN LATERAL (SELECT CASE WHEN NOT cl.answered THEN NULL WHEN {sentiment} % 10 < 6 THEN 'positive'
                                         WHEN {sentiment} % 10 < 9 THEN 'neutral' ELSE 'negative' END AS sentiment
                             OFFSET 0) se
         CROSS JOIN LATERAL (SELECT {l0} AS a1, {l1} AS u1, {l2} AS a2, {l3} AS u2, {l4} AS a3 OFFSET 0) ln
         CROSS JOIN LATERAL (
           SELECT x.*, x.call_cost + x.tts_cost + x.llm_cost AS total
           FROM (SELECT round(cl.duration * 0.0013, 4) AS call_cost, y.chars, round(y.chars * 0.00018, 4) AS tts_cost,
                        y.tokens, round(y.tokens * 0.00000059, 4) AS llm_cost
                 FROM (SELECT CASE WHEN cl.answered THEN length(ln.a1) + length(ln.a2) + length(ln.a3) ELSE 0 END AS chars,
                              CASE WHEN cl.answered THEN 250 + cl.duration * 3 ELSE 0 END AS tokens OFFSET 0) y
                 OFFSET 0) x
           OFFSET 0
         ) co",
        graph = graph(3),
        vars = template_vars(),
        vapi = provider_hex(":vapi-call", "ck.k"),
        sid = provider_hex(":twilio-call", "ck.k"),
        kid = id("calls", "ck.k"),
        cid = id("customers", "bk.c"),
        bid = id("bookings", "bk.b"),
        aid = id("assistants", "CASE WHEN ck.k % 5 = 0 THEN 3 ELSE 1 END"),
        vid = id("conversations", "(bk.c + 1) / 2"),
        l0 = lines[0],
        l1 = lines[1],
        l2 = lines[2],
        l3 = lines[3],
        l4 = lines[4],
    );
    let v = Volumes::of(&plan.spec);
    insert_chunked(tx, plan, counts, "calls", &calls, v.customers, v.calls_each).await?;

    let body = |i: usize| {
        by_lang(
            "cu.lang",
            &render(SMS[0][i]),
            &render(SMS[1][i]),
            &render(SMS[2][i]),
        )
    };
    let reply = by_lang(
        "cu.lang",
        &pick(&REPLIES[0], "sk.s"),
        &pick(&REPLIES[1], "sk.s"),
        &pick(&REPLIES[2], "sk.s"),
    );
    let h = mix("sk.s", 307);
    let sms = format!(
        "INSERT INTO app.sms_messages (tenant_id, id, customer_id, booking_id, call_id, conversation_id,
           phone_number, direction, message_body, status, cost, provider_message_id, error, created_at,
           updated_at)
         SELECT $1, {sid}, {cid}, {bid}, {kid},
           CASE WHEN bk.c % 2 = 1 AND ((bk.c + 1) / 2) % 6 = 3 THEN {vid} END,
           cu.phone, m.direction, m.body, m.status,
           CASE WHEN m.status = 'failed' THEN 0 WHEN m.direction = 'inbound' THEN 0.0075
                ELSE (ARRAY[0.0550, 0.0463, 0.0832])[cu.nat + 1] END,
           'SM' || {twilio},
           CASE WHEN m.status = 'failed' THEN '30003: Unreachable destination handset' END,
           m.created_at, m.created_at + CASE WHEN m.direction = 'outbound' THEN interval '4 seconds' ELSE interval '0' END
         FROM {graph}
         {vars}
         CROSS JOIN LATERAL (
           SELECT CASE WHEN NOT cl.answered THEN CASE WHEN sk.j % 2 = 0 THEN 'missed' ELSE 'still_on' END
                       WHEN sk.j % 3 = 0 THEN CASE WHEN ck.j = 0 THEN 'confirmation' ELSE 'followup' END
                       WHEN sk.j % 3 = 1 THEN 'reminder' ELSE 'reply' END AS kind
           OFFSET 0
         ) kd
         CROSS JOIN LATERAL (
           SELECT CASE WHEN kd.kind IN ('reply', 'still_on') THEN 'inbound' ELSE 'outbound' END AS direction,
                  CASE kd.kind WHEN 'confirmation' THEN {b0} WHEN 'followup' THEN {b1} WHEN 'reminder' THEN {b2}
                               WHEN 'missed' THEN {b3} WHEN 'still_on' THEN {still_on} ELSE {reply} END AS body,
                  CASE WHEN kd.kind IN ('reply', 'still_on') THEN 'received' WHEN {h} % 100 < 3 THEN 'failed'
                       WHEN {h} % 100 < 10 THEN 'sent' ELSE 'delivered' END AS status,
                  cl.ended_at + {after} AS created_at
           OFFSET 0
         ) m",
        sid = id("sms", "sk.s"),
        cid = id("customers", "bk.c"),
        bid = id("bookings", "bk.b"),
        kid = id("calls", "ck.k"),
        vid = id("conversations", "(bk.c + 1) / 2"),
        graph = graph(4),
        vars = template_vars(),
        twilio = provider_hex(":twilio-sms", "sk.s"),
        b0 = body(0),
        b1 = body(1),
        b2 = body(2),
        b3 = body(3),
        still_on = by_lang(
            "cu.lang",
            "'Ano, termín platí.'",
            "'Yes, that still works.'",
            "'Sí, me sigue bien.'"
        ),
        after = secs("60 + sk.j * 2820 + (sk.s % 50)"),
    );
    insert_chunked(
        tx,
        plan,
        counts,
        "sms_messages",
        &sms,
        v.customers,
        v.sms_each,
    )
    .await
}
