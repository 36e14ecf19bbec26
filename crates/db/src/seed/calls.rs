//! Calls (`C` per booking) and SMS (`S` per call), the bulk of the data. Each call carries its
//! booking's and customer's ids and each SMS its call's, booking's and customer's, all computed
//! from the row's own index. The first call of a booking is the inbound call that made it; the
//! others are reminders and questions. Texts are in the customer's language (cs, en, es).

use super::profile::TenantPlan;
use super::sql::{
    booking_join, by_lang, call_facts_join, call_index_join, customer_join, id, mix, pick, secs,
    spoken_date, text,
};
use super::{insert, Counts};
use crate::{DbError, TenantTx};

/// A call script: assistant, caller, assistant, caller, assistant.
type Script = [&'static str; 5];

const BOOKING: [Script; 3] = [
    [
        "Dobrý den, {B}, u telefonu virtuální asistentka. Jak vám mohu pomoci?",
        "Dobrý den, chtěl bych se objednat na {S}.",
        "Samozřejmě. Vyhovoval by vám {D} v {T}?",
        "Ano, to se mi hodí.",
        "Výborně, {F}, rezervaci jsem potvrdila a pošlu vám potvrzení SMS.",
    ],
    [
        "Hello, thank you for calling {B}. How can I help you today?",
        "Hi, I'd like to book a {S}.",
        "Of course. Would {D} at {T} work for you?",
        "Yes, that works.",
        "Great, {F}, you're booked in. I'll text you a confirmation.",
    ],
    [
        "Hola, gracias por llamar a {B}. ¿En qué puedo ayudarle?",
        "Hola, quería reservar {S}.",
        "Por supuesto. ¿Le viene bien el {D} a las {T}?",
        "Sí, perfecto.",
        "Estupendo, {F}, su reserva está confirmada. Le enviaré un SMS de confirmación.",
    ],
];

const REMINDER: [Script; 3] = [
    [
        "Dobrý den, {F}, tady {B}. Připomínáme vaši rezervaci ({S}) na {D} v {T}. Platí termín?",
        "Ano, přijdu.",
        "Děkujeme. Kdybyste potřebovali termín změnit, stačí odpovědět na SMS.",
        "Dobře, děkuji.",
        "Těšíme se na vás. Na shledanou!",
    ],
    [
        "Hi {F}, this is {B} calling to remind you of your {S} on {D} at {T}. Can you still make it?",
        "Yes, I'll be there.",
        "Thank you. If anything changes, just reply to our text message.",
        "Will do, thanks.",
        "See you then. Goodbye!",
    ],
    [
        "Hola {F}, le llamamos de {B} para recordarle su cita ({S}) el {D} a las {T}. ¿Podrá venir?",
        "Sí, allí estaré.",
        "Gracias. Si necesita cambiarla, responda a nuestro SMS.",
        "De acuerdo, gracias.",
        "Hasta entonces. ¡Adiós!",
    ],
];

const QUESTION: [Script; 3] = [
    [
        "{B}, dobrý den. Jak vám mohu pomoci?",
        "Dobrý den, tady {F}. Mám {D} v {T} objednáno {S}. Dá se u vás zaparkovat?",
        "Ano, hned za budovou je parkoviště a první hodina je pro naše zákazníky zdarma.",
        "Skvělé, děkuji.",
        "Rádo se stalo. Uvidíme se {D} v {T}.",
    ],
    [
        "{B}, how can I help?",
        "Hi, it's {F}. I have a {S} on {D} at {T}. Is there parking near you?",
        "Yes, there is a car park right behind the building and the first hour is free for our customers.",
        "Great, thank you.",
        "You're welcome. See you on {D} at {T}.",
    ],
    [
        "{B}, buenos días. ¿En qué puedo ayudarle?",
        "Hola, soy {F}. Tengo {S} el {D} a las {T}. ¿Hay aparcamiento cerca?",
        "Sí, hay un aparcamiento detrás del edificio y la primera hora es gratis para nuestros clientes.",
        "Perfecto, gracias.",
        "De nada. Le esperamos el {D} a las {T}.",
    ],
];

/// SMS bodies: confirmation, follow-up, reminder, missed call (outbound), then the customer's
/// replies (inbound).
const SMS: [[&str; 4]; 3] = [
    [
        "Vaše rezervace ({S}) na {D} v {T} je potvrzena. {B}. Pro zrušení odpovězte C.",
        "Děkujeme za hovor, {F}. Těšíme se na vás {D} v {T}. {B}",
        "Připomínka: {S} v {B} dne {D} v {T}. Odpovězte C pro zrušení, R pro změnu termínu.",
        "Omlouváme se, nezastihli jsme vás, {F}. Zavolejte nám nebo odpovězte a potvrďte {S} na {D}. {B}",
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

/// The variables every template may use, given the joined `bk` booking and `cu` customer.
fn vars(date: &str) -> [(&'static str, String); 5] {
    [
        ("B", "$12".to_owned()),
        ("S", "($7)[bk.svc]".to_owned()),
        ("D", date.to_owned()),
        ("T", "bk.appointment_time".to_owned()),
        ("F", "cu.first_name".to_owned()),
    ]
}

fn render(template: &str, date: &str) -> String {
    let owned = vars(date);
    let vars: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    text(template, &vars)
}

/// Line `i` of the call's script, by kind (`kd.kind`) and language (`cu.lang`).
fn script_line(i: usize, date: &str) -> String {
    let per_lang = |scripts: &[Script; 3]| {
        by_lang(
            "cu.lang",
            &render(scripts[0][i], date),
            &render(scripts[1][i], date),
            &render(scripts[2][i], date),
        )
    };
    format!(
        "CASE kd.kind WHEN 'booking' THEN {} WHEN 'reminder' THEN {} ELSE {} END",
        per_lang(&BOOKING),
        per_lang(&REMINDER),
        per_lang(&QUESTION)
    )
}

/// Call number `k` as `ck`, with its booking `bk`, customer `cu` and facts `cl`.
fn call_graph(k: &str) -> String {
    format!(
        "{}\n{}\n{}\n{}",
        call_index_join(k, "ck"),
        booking_join("ck.b", "bk"),
        customer_join("bk.c", "cu"),
        call_facts_join("ck", "bk", "cl"),
    )
}

pub(super) async fn create(
    tx: &mut TenantTx,
    plan: &TenantPlan,
    counts: &mut Counts,
) -> Result<(), DbError> {
    let date = spoken_date("cu.lang", "bk.local_ts");
    let lines: Vec<String> = (0..5).map(|i| script_line(i, &date)).collect();
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
           CASE WHEN cl.answered THEN 'https://recordings.example.com/' || $1 || '/' || {kid} || '.mp3' END,
           CASE WHEN cl.answered THEN cl.duration * 16000 END,
           CASE WHEN cl.answered THEN concat_ws(E'\\n', ln.ai || ': ' || ln.a1, ln.caller || ': ' || ln.u1,
             ln.ai || ': ' || ln.a2, ln.caller || ': ' || ln.u2, ln.ai || ': ' || ln.a3) END,
           CASE WHEN cl.answered THEN round(0.85 + (ck.k % 140) / 1000.0, 4) END,
           CASE WHEN cl.answered THEN CASE kd.kind
             WHEN 'booking' THEN 'Caller booked ' || ($7)[bk.svc] || ' for ' || bk.appointment_date || ' at ' || bk.appointment_time || '.'
             WHEN 'reminder' THEN 'Reminder call: the customer confirmed the ' || ($7)[bk.svc] || ' appointment on ' || bk.appointment_date || '.'
             ELSE 'The customer asked about parking before the ' || ($7)[bk.svc] || ' appointment on ' || bk.appointment_date || '.' END END,
           co.total,
           CASE WHEN ck.j = 0 AND ck.k % 10 = 0 THEN 'Asked to be called back if an earlier slot frees up.' END,
           se.sentiment, 'female', cu.lang, cl.started_at, cl.ended_at,
           CASE kd.kind WHEN 'booking' THEN 'book_appointment' WHEN 'reminder' THEN 'appointment_reminder'
                        ELSE 'general_question' END,
           CASE WHEN cl.answered THEN jsonb_build_array(
             jsonb_build_object('type', 'service', 'value', ($7)[bk.svc]),
             jsonb_build_object('type', 'date', 'value', bk.appointment_date),
             jsonb_build_object('type', 'time', 'value', bk.appointment_time)) ELSE '[]'::jsonb END,
           CASE WHEN cl.answered THEN ARRAY[kd.kind, lower(($7)[bk.svc])] ELSE '{{}}'::text[] END,
           CASE WHEN NOT cl.answered THEN 'no_contact' WHEN kd.kind = 'booking' THEN 'booked'
                WHEN kd.kind = 'reminder' THEN 'confirmed' ELSE 'answered' END,
           CASE WHEN NOT cl.answered THEN NULL WHEN kd.kind = 'booking' THEN 'booking_created'
                WHEN se.sentiment = 'negative' THEN 'escalated' ELSE 'info_sent' END,
           'vapi', md5($1::text || ':vapi-call:' || ck.k)::uuid::text, 'CA' || md5($1::text || ':twilio-call:' || ck.k),
           CASE cl.status WHEN 'no-answer' THEN 'customer-did-not-answer' WHEN 'busy' THEN 'customer-busy'
                          WHEN 'failed' THEN 'twilio-failed-to-connect-call'
                          ELSE CASE cl.call_type WHEN 'inbound' THEN 'customer-ended-call' ELSE 'assistant-ended-call' END END,
           CASE WHEN cl.answered THEN jsonb_build_array(
             jsonb_build_object('role', 'assistant', 'message', ln.a1, 'secondsFromStart', 0),
             jsonb_build_object('role', 'user', 'message', ln.u1, 'secondsFromStart', round(cl.duration * 0.2, 1)),
             jsonb_build_object('role', 'assistant', 'message', ln.a2, 'secondsFromStart', round(cl.duration * 0.4, 1)),
             jsonb_build_object('role', 'user', 'message', ln.u2, 'secondsFromStart', round(cl.duration * 0.6, 1)),
             jsonb_build_object('role', 'assistant', 'message', ln.a3, 'secondsFromStart', round(cl.duration * 0.8, 1)))
             ELSE '[]'::jsonb END,
           CASE WHEN cl.answered THEN jsonb_build_object('sentiment', se.sentiment,
             'topics', jsonb_build_array(kd.kind, ($7)[bk.svc]),
             'keywords', jsonb_build_array(kd.kind, lower(($7)[bk.svc])),
             'actionItems', CASE kd.kind WHEN 'booking' THEN jsonb_build_array('Send SMS confirmation')
                                         WHEN 'reminder' THEN jsonb_build_array('Mark booking as confirmed')
                                         ELSE '[]'::jsonb END,
             'followUpRequired', se.sentiment = 'negative') ELSE '{{}}'::jsonb END,
           jsonb_build_object('callCost', co.call_cost, 'elevenLabsChars', co.chars, 'elevenLabsCost', co.tts_cost,
             'groqTokens', co.tokens, 'groqCost', co.llm_cost, 'totalCost', co.total),
           co.tokens,
           jsonb_build_object('assistantVersion', 'v1.1.0', 'callerCountry', (ARRAY['CZ', 'GB', 'ES'])[cu.nat + 1]),
           $19, cl.started_at, cl.ended_at
         FROM generate_series(1, $2 * $3 * $4) g
         {graph}
         CROSS JOIN LATERAL (SELECT CASE WHEN ck.j = 0 THEN 'booking' WHEN cl.call_type = 'outbound'
                                         THEN 'reminder' ELSE 'question' END AS kind) kd
         CROSS JOIN LATERAL (SELECT CASE WHEN NOT cl.answered THEN NULL WHEN {sentiment} % 10 < 6 THEN 'positive'
                                         WHEN {sentiment} % 10 < 9 THEN 'neutral' ELSE 'negative' END AS sentiment) se
         CROSS JOIN LATERAL (SELECT {ai} AS ai, {caller} AS caller,
                                    {l0} AS a1, {l1} AS u1, {l2} AS a2, {l3} AS u2, {l4} AS a3) ln
         CROSS JOIN LATERAL (
           SELECT x.*, x.call_cost + x.tts_cost + x.llm_cost AS total
           FROM (SELECT round(cl.duration * 0.0013, 4) AS call_cost, y.chars, round(y.chars * 0.00018, 4) AS tts_cost,
                        y.tokens, round(y.tokens * 0.00000059, 4) AS llm_cost
                 FROM (SELECT CASE WHEN cl.answered THEN length(ln.a1) + length(ln.a2) + length(ln.a3) ELSE 0 END AS chars,
                              CASE WHEN cl.answered THEN 250 + cl.duration * 3 ELSE 0 END AS tokens) y) x
         ) co",
        graph = call_graph("g"),
        kid = id("calls", "ck.k"),
        cid = id("customers", "bk.c"),
        bid = id("bookings", "bk.b"),
        aid = id("assistants", "CASE WHEN ck.k % 5 = 0 THEN 3 ELSE 1 END"),
        vid = id("conversations", "(bk.c + 1) / 2"),
        ai = by_lang("cu.lang", "'AI'", "'AI'", "'IA'"),
        caller = by_lang("cu.lang", "'Zákazník'", "'Customer'", "'Cliente'"),
        l0 = lines[0],
        l1 = lines[1],
        l2 = lines[2],
        l3 = lines[3],
        l4 = lines[4],
    );
    insert(tx, counts, "calls", plan.query(&calls)).await?;

    let body = |i: usize| {
        by_lang(
            "cu.lang",
            &render(SMS[0][i], &date),
            &render(SMS[1][i], &date),
            &render(SMS[2][i], &date),
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
           'SM' || md5($1::text || ':twilio-sms:' || sk.s),
           CASE WHEN m.status = 'failed' THEN '30003: Unreachable destination handset' END,
           m.created_at, m.created_at + CASE WHEN m.direction = 'outbound' THEN interval '4 seconds' ELSE interval '0' END
         FROM generate_series(1, $2 * $3 * $4 * $5) g
         CROSS JOIN LATERAL (SELECT g AS s, (g - 1) / $5 + 1 AS k, (g - 1) % $5 AS j) sk
         {graph}
         CROSS JOIN LATERAL (
           SELECT CASE WHEN NOT cl.answered THEN CASE WHEN sk.j % 2 = 0 THEN 'missed' ELSE 'reply' END
                       WHEN sk.j % 3 = 0 THEN CASE WHEN ck.j = 0 THEN 'confirmation' ELSE 'followup' END
                       WHEN sk.j % 3 = 1 THEN 'reminder' ELSE 'reply' END AS kind
         ) kd
         CROSS JOIN LATERAL (
           SELECT CASE WHEN kd.kind = 'reply' THEN 'inbound' ELSE 'outbound' END AS direction,
                  CASE kd.kind WHEN 'confirmation' THEN {b0} WHEN 'followup' THEN {b1} WHEN 'reminder' THEN {b2}
                               WHEN 'missed' THEN {b3} ELSE {reply} END AS body,
                  CASE WHEN kd.kind = 'reply' THEN 'received' WHEN {h} % 100 < 3 THEN 'failed'
                       WHEN {h} % 100 < 10 THEN 'sent' ELSE 'delivered' END AS status,
                  cl.ended_at + {after} AS created_at
         ) m",
        sid = id("sms", "sk.s"),
        cid = id("customers", "bk.c"),
        bid = id("bookings", "bk.b"),
        kid = id("calls", "ck.k"),
        vid = id("conversations", "(bk.c + 1) / 2"),
        graph = call_graph("sk.k"),
        b0 = body(0),
        b1 = body(1),
        b2 = body(2),
        b3 = body(3),
        after = secs("60 + sk.j * 2820 + (sk.s % 50)"),
    );
    insert(tx, counts, "sms_messages", plan.query(&sms)).await
}
