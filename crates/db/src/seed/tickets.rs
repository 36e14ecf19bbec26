//! Support tickets: `max(2, ⌈N/10⌉)` per tenant, ticket `t` for customer `((t - 1)·10 mod N) + 1`,
//! two notes each, a link from every third ticket to the one before it, and the per-year
//! counter the numbering trigger continues from. Ticket numbers are supplied (TICKET-2025-…),
//! so the trigger leaves them alone and the seed stays independent of the current year.

use super::people::customer_join;
use super::plan::{TenantPlan, Volumes};
use super::sql::{customer_created, handler, id, iso, pick, user_id};
use super::{insert, insert_chunked, Counts};
use crate::{DbError, TenantTx};

/// (subject, category, subcategory).
const SUBJECTS: &[(&str, &str, &str)] = &[
    (
        "Wrong appointment time in the confirmation SMS",
        "technical_support",
        "sms",
    ),
    ("Charged twice for one booking", "billing", "payments"),
    (
        "The voice assistant did not understand my request",
        "bug_report",
        "voice",
    ),
    (
        "Please move my booking to another day",
        "general_inquiry",
        "booking",
    ),
    ("Invoice needed for my company", "billing", "invoices"),
    (
        "Cannot cancel my booking by SMS",
        "technical_support",
        "sms",
    ),
    ("Long wait despite having a booking", "complaint", "service"),
    ("Do you sell gift vouchers?", "product_inquiry", "vouchers"),
    (
        "Please add online payment to bookings",
        "feature_request",
        "payments",
    ),
    ("Something else", "other", "general"),
];

pub(super) async fn create(
    tx: &mut TenantTx,
    plan: &TenantPlan,
    counts: &mut Counts,
) -> Result<(), DbError> {
    let subject = |field: usize, t: &str| {
        let items: Vec<&str> = SUBJECTS
            .iter()
            .map(|s| match field {
                0 => s.0,
                1 => s.1,
                _ => s.2,
            })
            .collect();
        pick(&items, t)
    };
    let tickets = format!(
        "INSERT INTO app.tickets (tenant_id, id, ticket_number, customer_id, conversation_id,
           assigned_agent_id, subject, description, category, subcategory, priority, status, sla_level,
           estimated_resolution, first_response_time, resolution_time, attachments, location, resolution,
           customer_feedback, tags, labels, escalated, escalated_to, escalated_at, escalation_reason,
           parent_ticket_id, external_id, external_url, created_at, updated_at, closed_at, last_activity_at)
         SELECT $1, {tid}, 'TICKET-2025-' || lpad(t.t::text, greatest(6, length(t.t::text)), '0'),
           {cid}, CASE WHEN t.c % 2 = 1 THEN {vid} END, {agent},
           t.subject,
           cu.name || ' (' || cu.phone || ') writes: ' || t.subject || '. '
             || 'The request came in through the assistant and needs a reply from staff.',
           t.category, {subcategory}, t.priority, t.status,
           {sla}, t.created_at + interval '2 days', 5 + t.t % 55,
           CASE WHEN t.status IN ('resolved', 'closed') THEN 120 + (t.t * 53) % 2000 END,
           CASE WHEN t.t % 4 = 0 THEN jsonb_build_array(jsonb_build_object('type', 'image',
             'url', 'https://media.example.com/tickets/' || {tid} || '.png', 'publicId', 'tickets/' || {tid},
             'filename', 'screenshot.png', 'size', 24000 + (t.t * 7919) % 90000,
             'uploadedBy', {agent}::text, 'uploadedAt', {created_iso})) ELSE '[]'::jsonb END,
           CASE WHEN t.t % 6 = 0 THEN jsonb_build_object('latitude', $20, 'longitude', $21,
             'address', $16, 'formattedAddress', $12 || ', ' || $16 || ', ' || $17, 'isServiceLocation', true) END,
           CASE WHEN t.status IN ('resolved', 'closed') THEN jsonb_build_object(
             'summary', 'Explained the fix to the customer and confirmed by SMS.',
             'steps', jsonb_build_array('Checked the booking history', 'Corrected the record', 'Called the customer back'),
             'resolvedBy', {agent}::text, 'resolvedAt', {resolved_iso},
             'resolutionCategory', {resolution_category}) END,
           CASE WHEN t.status = 'closed' THEN jsonb_build_object('rating', 3 + t.t % 3,
             'comment', 'Sorted out quickly, thank you.', 'submittedAt', {resolved_iso}, 'followUpNeeded', false) END,
           ARRAY[t.category, {subcategory}],
           jsonb_build_array(jsonb_build_object('name', t.priority,
             'color', CASE t.priority WHEN 'urgent' THEN '#e11d48' WHEN 'high' THEN '#f59e0b'
                                      WHEN 'medium' THEN '#3b82f6' ELSE '#10b981' END)),
           t.priority = 'urgent',
           CASE WHEN t.priority = 'urgent' THEN {admin} END,
           CASE WHEN t.priority = 'urgent' THEN t.created_at + interval '1 hour' END,
           CASE WHEN t.priority = 'urgent' THEN 'SLA at risk' END,
           CASE WHEN t.t % 10 = 0 THEN {parent} END,
           CASE WHEN t.t % 5 = 0 THEN 'JIRA-' || (1000 + t.t) END,
           CASE WHEN t.t % 5 = 0 THEN 'https://jira.example.com/browse/JIRA-' || (1000 + t.t) END,
           t.created_at, t.created_at + interval '1 day',
           CASE WHEN t.status = 'closed' THEN t.created_at + interval '3 days' END,
           t.created_at + interval '1 day'
         FROM generate_series($22, $23) g
         CROSS JOIN LATERAL (
           SELECT x.*, {subject} AS subject, {category} AS category,
                  {priority} AS priority, {status} AS status,
                  {created} + interval '5 days' + ((x.t * 6151) % 86400) * interval '1 second' AS created_at
           FROM (SELECT g AS t, ((g - 1) * 10) % $2 + 1 AS c) x
         ) t
         {customer}",
        tid = id("tickets", "t.t"),
        cid = id("customers", "t.c"),
        vid = id("conversations", "(t.c + 1) / 2"),
        agent = handler("t.t"),
        admin = user_id("2"),
        parent = id("tickets", "t.t - 1"),
        subject = subject(0, "x.t"),
        category = subject(1, "x.t"),
        subcategory = subject(2, "t.t"),
        sla = pick(&["standard", "standard", "priority", "vip"], "t.t / 2"),
        priority = pick(&["low", "medium", "medium", "high", "urgent"], "x.t"),
        status = pick(
            &["open", "in_progress", "waiting_customer", "waiting_internal", "resolved", "closed"],
            "x.t * 7"
        ),
        resolution_category = pick(&["solved", "solved", "workaround", "duplicate"], "t.t"),
        created = customer_created("x.c"),
        created_iso = iso("t.created_at"),
        resolved_iso = iso("t.created_at + interval '20 hours'"),
        customer = customer_join("t.c", "cu"),
    );
    let t = Volumes::of(&plan.spec).tickets;
    insert_chunked(tx, plan, counts, "tickets", &tickets, t, 1).await?;

    let ticket_counters = "INSERT INTO app.ticket_counters (tenant_id, year, last_value)
         SELECT $1, split_part(ticket_number, '-', 2)::int, max(split_part(ticket_number, '-', 3)::bigint)
         FROM app.tickets WHERE tenant_id = $1 GROUP BY 2";
    insert(tx, plan, counts, "ticket_counters", ticket_counters, |q| q).await?;

    let notes = format!(
        "INSERT INTO app.ticket_notes (tenant_id, id, ticket_id, agent_id, content, is_internal, attachments,
           created_at, updated_at)
         SELECT $1, {nid}, {tid}, {agent},
           CASE WHEN n.j = 0 THEN {internal} ELSE {reply} END,
           n.j = 0,
           CASE WHEN n.j = 0 AND n.t % 4 = 0 THEN ARRAY['https://media.example.com/tickets/' || {tid} || '.png']
                ELSE '{{}}'::text[] END,
           n.at, n.at
         FROM generate_series($22, $23) g
         CROSS JOIN LATERAL (
           SELECT x.*, {created} + interval '5 days' + ((x.t * 6151) % 86400) * interval '1 second'
                    + CASE WHEN x.j = 0 THEN interval '2 hours' ELSE interval '1 day' END AS at
           FROM (SELECT (g - 1) / 2 + 1 AS t, (g - 1) % 2 AS j, (((g - 1) / 2) * 10) % $2 + 1 AS c) x
         ) n",
        nid = id("ticket_notes", "g"),
        tid = id("tickets", "n.t"),
        agent = handler("n.t"),
        created = customer_created("x.c"),
        internal = pick(
            &[
                "Checked the call recording; the assistant heard the wrong day.",
                "Payment provider confirms a duplicate authorisation, refund requested.",
                "Escalated to the owner.",
                "Customer is a regular, be generous.",
            ],
            "n.t"
        ),
        reply = pick(
            &[
                "Thank you for letting us know, it is fixed now.",
                "We have refunded the duplicate payment; it takes 3–5 working days.",
                "Your booking has been moved, see the new confirmation SMS.",
            ],
            "n.t"
        ),
    );
    insert_chunked(tx, plan, counts, "ticket_notes", &notes, 2 * t, 1).await?;

    let links = format!(
        "INSERT INTO app.ticket_links (tenant_id, id, ticket_id, related_ticket_id, created_at)
         SELECT $1, {lid}, {tid}, {related}, timestamptz '2025-12-01 00:00:00+00' + g * interval '1 minute'
         FROM generate_series(greatest(2, $22), $23) g
         WHERE g % 3 = 2",
        lid = id("ticket_links", "g"),
        tid = id("tickets", "g"),
        related = id("tickets", "g - 1"),
    );
    insert_chunked(tx, plan, counts, "ticket_links", &links, t, 1).await
}
