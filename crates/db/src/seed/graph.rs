//! The top of the customer graph: customers (`N` per tenant) and their bookings (`B` each).
//! Calls and SMS hang below them (`calls.rs`); the counters on customers are set from the
//! inserted facts afterwards (`counters.rs`).

use super::people::customer_join;
use super::plan::{TenantPlan, Volumes};
use super::sql::{by_lang, customer_created, graph, handler, id, pick, price, secs, NOW};
use super::{insert_chunked, Counts};
use crate::{DbError, TenantTx};

const TAGS: &[&str] = &[
    "returning",
    "newsletter",
    "prefers-sms",
    "mornings",
    "afternoons",
    "referral",
    "corporate",
    "student",
];

const CUSTOMER_NOTES: &[&str] = &[
    "Prefers to be called after 17:00.",
    "Usually books for the whole family.",
    "Asked for invoices to be addressed to the company.",
    "Allergic to latex.",
    "Hard of hearing: prefers SMS to calls.",
];

pub(super) async fn create_customers(
    tx: &mut TenantTx,
    plan: &TenantPlan,
    counts: &mut Counts,
) -> Result<(), DbError> {
    let street = by_lang(
        "$18",
        &pick(
            &[
                "Vinohradská",
                "Korunní",
                "Národní",
                "Dlouhá",
                "Husova",
                "Palackého",
            ],
            "cu.c / 7",
        ),
        &pick(
            &[
                "High Street",
                "Station Road",
                "Church Lane",
                "Park Avenue",
                "Victoria Road",
                "Mill Lane",
            ],
            "cu.c / 7",
        ),
        &pick(
            &[
                "Calle Mayor",
                "Gran Vía",
                "Calle de Alcalá",
                "Calle Serrano",
                "Calle Colón",
                "Avenida del Puerto",
            ],
            "cu.c / 7",
        ),
    );
    let sql = format!(
        "INSERT INTO app.customers (tenant_id, id, name, phone, email, first_name, last_name, avatar,
           alternative_phones, address, address_details, tags, segment, source, custom_fields, preferences,
           preferred_agent_id, status, block_reason, notes, average_response_time, created_at, updated_at)
         SELECT $1, {cid}, cu.name, cu.phone, cu.email, cu.first_name, cu.last_name,
           CASE WHEN cu.c % 3 = 0 THEN 'https://avatars.example.com/customers/' || md5($1::text || ':avatar:' || cu.c) || '.jpg' END,
           CASE WHEN cu.c % 10 = 0 THEN ARRAY[left(cu.phone, length(cu.phone) - 8)
                                               || lpad(((cu.c * 104729 + 7) % 100000000)::text, 8, '0')]
                ELSE '{{}}'::text[] END,
           ad.street || ', ' || ad.postal || ' ' || $16,
           jsonb_build_object('street', ad.street, 'city', $16, 'country', $17, 'postalCode', ad.postal,
             'coordinates', jsonb_build_object('latitude', round(($20 + ((cu.c * 37) % 200 - 100) / 2000.0)::numeric, 5),
                                               'longitude', round(($21 + ((cu.c * 53) % 200 - 100) / 1500.0)::numeric, 5))),
           CASE cu.c % 4 WHEN 0 THEN '{{}}'::text[]
                         WHEN 1 THEN ARRAY[{tag1}]
                         ELSE ARRAY[{tag1}, {tag2}] END,
           sg.segment,
           {source},
           jsonb_build_object('loyaltyId', 'LY-' || lpad(cu.c::text, 6, '0'),
                              'preferredService', ($7)[(1 + cu.c % array_length($7, 1))::int],
                              'marketingConsent', cu.c % 3 <> 1),
           jsonb_build_object('language', cu.lang,
                              'communicationHours', jsonb_build_object('start', CASE WHEN cu.c % 2 = 0 THEN '08:00' ELSE '12:00' END,
                                                                        'end', CASE WHEN cu.c % 2 = 0 THEN '17:00' ELSE '20:00' END)),
           CASE WHEN cu.c % 4 = 0 THEN {agent} END,
           sg.status,
           CASE WHEN sg.status = 'blocked' THEN 'Repeated no-shows and abusive messages.' END,
           CASE WHEN cu.c % 7 = 0 THEN {note} END,
           round(1 + (cu.c % 120) / 10.0, 2),
           {created}, {created}
         FROM generate_series($22, $23) g
         {customer}
         CROSS JOIN LATERAL (
           SELECT {street} || ' ' || (1 + cu.c % 120) AS street,
                  lpad((10000 + (cu.c * 7) % 89999)::text, 5, '0') AS postal
         ) ad
         CROSS JOIN LATERAL (
           SELECT x.segment,
                  CASE WHEN cu.c % 50 = 0 THEN 'blocked' WHEN x.segment = 'vip' THEN 'vip'
                       WHEN x.segment = 'inactive' THEN 'inactive' ELSE 'active' END AS status
           FROM (SELECT CASE WHEN (cu.c * 13) % 20 < 3 THEN 'vip' WHEN (cu.c * 13) % 20 < 12 THEN 'regular'
                             WHEN (cu.c * 13) % 20 < 17 THEN 'new' ELSE 'inactive' END AS segment) x
         ) sg",
        cid = id("customers", "cu.c"),
        customer = customer_join("g", "cu"),
        tag1 = pick(TAGS, "cu.c"),
        tag2 = pick(TAGS, "cu.c + 1 + (cu.c / 8) % 7"),
        source = pick(
            &["whatsapp", "referral", "website", "social_media", "other", "website"],
            "cu.c / 2"
        ),
        agent = handler("cu.c / 4"),
        note = pick(CUSTOMER_NOTES, "cu.c / 7"),
        created = customer_created("cu.c"),
    );
    let v = Volumes::of(&plan.spec);
    insert_chunked(tx, plan, counts, "customers", &sql, v.customers, 1).await
}

pub(super) async fn create_bookings(
    tx: &mut TenantTx,
    plan: &TenantPlan,
    counts: &mut Counts,
) -> Result<(), DbError> {
    let sql = format!(
        "INSERT INTO app.bookings (tenant_id, id, customer_id, conversation_id, customer_name,
           customer_phone, customer_email, service_type, appointment_date, appointment_time, status,
           source, notes, ai_notes, reminder_sent, confirmation_sent, title, scheduled_at,
           duration_minutes, payment_amount, payment_currency, payment_status, cancelled_at,
           cancel_reason, created_at, updated_at)
         SELECT $1, {bid}, {cid}, CASE WHEN bk.c % 2 = 1 AND bk.j = 0 THEN {vid} END,
           cu.name, cu.phone, cu.email, ($7)[bk.svc], bk.appointment_date, bk.appointment_time, bk.status,
           CASE WHEN $4 > 0 THEN 'voice' WHEN bk.b % 2 = 0 THEN 'sms' ELSE 'manual' END,
           CASE WHEN bk.b % 9 = 0 THEN {note} END,
           CASE WHEN $4 > 0 THEN 'Booked by the voice assistant; the caller confirmed '
                 || ($7)[bk.svc] || ' on ' || bk.appointment_date || ' at ' || bk.appointment_time || '.' END,
           bk.status <> 'cancelled' AND bk.scheduled_at - interval '1 day' < {NOW},
           bk.status <> 'pending',
           ($7)[bk.svc] || ' – ' || cu.name,
           bk.scheduled_at, ($9)[bk.svc], {price}, $10,
           CASE bk.status WHEN 'completed' THEN CASE WHEN bk.b % 20 = 0 THEN 'failed' ELSE 'paid' END
                          WHEN 'cancelled' THEN NULL ELSE 'pending' END,
           CASE WHEN bk.status = 'cancelled' THEN bk.created_at + (bk.scheduled_at - bk.created_at) / 2 END,
           CASE WHEN bk.status = 'cancelled' THEN {reason} END,
           bk.created_at, bk.created_at + {settled}
         FROM {graph}",
        bid = id("bookings", "bk.b"),
        cid = id("customers", "bk.c"),
        vid = id("conversations", "(bk.c + 1) / 2"),
        note = pick(
            &[
                "Customer will arrive 10 minutes early.",
                "Asked for a reminder call the day before.",
                "Will pay by card.",
                "First visit: allow extra time.",
            ],
            "bk.b / 9"
        ),
        reason = pick(
            &[
                "Customer is ill",
                "Schedule conflict",
                "Booked elsewhere",
                "Cancelled by SMS reply C",
            ],
            "bk.b"
        ),
        price = price("bk.svc"),
        settled = secs("(bk.b % 7) * 60"),
        graph = graph(2),
    );
    let v = Volumes::of(&plan.spec);
    insert_chunked(
        tx,
        plan,
        counts,
        "bookings",
        &sql,
        v.customers,
        v.bookings_each,
    )
    .await
}
