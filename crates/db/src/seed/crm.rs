//! Sales and history: leads (`⌈N/5⌉`, prospects beyond the customer list), demo requests
//! (`max(2, ⌈N/20⌉)`, a note each) and the audit trail (a sign-in per staff member plus
//! `⌈N/4⌉` entries about customers, conversations, tickets, assistants, calls and billing).

use super::people::{ascii, customer_join};
use super::plan::{TenantPlan, Volumes};
use super::sql::{id, pick, provider_hex, secs, user_id, EPOCH, SPAN};
use super::{insert_chunked, Counts};
use crate::{DbError, TenantTx};

const COMPANIES: &[&str] = &[
    "Nová Praha a.s.",
    "Brightline Ltd",
    "Grupo Horizonte S.A.",
    "Kvetinářství Lípa",
    "Northgate Dental",
    "Consultoría Ibérica S.L.",
    "Pekárna U Mostu",
    "Hollis & Finch",
];

pub(super) async fn create(
    tx: &mut TenantTx,
    plan: &TenantPlan,
    counts: &mut Counts,
) -> Result<(), DbError> {
    let leads = format!(
        "INSERT INTO app.leads (tenant_id, id, conversation_id, name, first_name, last_name, phone, email,
           company, industry, source, interest, budget, timeline, lead_score, priority, status,
           follow_up_date, follow_up_status, notes, tags, converted_at, deal_value, last_contacted_at,
           created_at, updated_at)
         SELECT $1, {lid}, CASE WHEN g % 4 = 0 AND g <= ($2 + 1) / 2 THEN {vid} END,
           p.name, p.first_name, p.last_name, p.phone, p.email,
           CASE WHEN g % 3 = 0 THEN {company} END, {industry}, l.source, {interest}, {budget}, {timeline},
           l.score::smallint,
           CASE WHEN l.score >= 70 THEN 'hot' WHEN l.score >= 40 THEN 'warm' ELSE 'cold' END,
           l.status, l.created_at + interval '3 days',
           CASE l.status WHEN 'new' THEN 'pending' WHEN 'qualified' THEN 'contacted' ELSE l.status END,
           {note}, ARRAY[l.source],
           CASE WHEN l.status = 'converted' THEN l.created_at + interval '10 days' END,
           CASE WHEN l.status = 'converted' THEN 5000 + (g * 977) % 45000 END,
           CASE WHEN l.status <> 'new' THEN l.created_at + interval '2 days' END,
           l.created_at, l.created_at + interval '10 days'
         FROM generate_series($22, $23) g
         {person}
         CROSS JOIN LATERAL (
           SELECT {source} AS source, (g * 29) % 101 AS score, {status} AS status,
                  {EPOCH} + {offset} AS created_at
         ) l",
        lid = id("leads", "g"),
        vid = id("conversations", "g"),
        person = customer_join("$2 + g", "p"),
        company = pick(COMPANIES, "g / 3"),
        industry = pick(
            &["retail", "healthcare", "hospitality", "automotive", "legal", "beauty"],
            "g"
        ),
        interest = pick(
            &["ai_assistant", "ai_assistant", "web_development", "app_development"],
            "g / 2"
        ),
        budget = pick(&["10k-50k", "50k-100k", "100k+"], "g / 4"),
        timeline = pick(&["immediate", "1-3_months", "3-6_months"], "g / 5"),
        note = pick(
            &[
                "Called after hours; asked for a demo of the voice assistant.",
                "Wants WhatsApp bookings for two branches.",
                "Comparing us with a call centre; price sensitive.",
                "Referred by an existing customer.",
            ],
            "g"
        ),
        source = pick(
            &["voice_call", "chat", "whatsapp", "website", "referral"],
            "g"
        ),
        status = pick(&["new", "new", "qualified", "converted", "lost"], "g * 3"),
        offset = secs(&format!("(g - 1) * {} / (($2 + 4) / 5)", 2 * SPAN)),
    );
    let v = Volumes::of(&plan.spec);
    insert_chunked(tx, plan, counts, "leads", &leads, v.leads, 1).await?;

    // Every requester leaves an address; people without one in the derived data get this.
    let fallback_email = format!(
        "{} || '.' || {} || g || '@example.com'",
        ascii("p.first_name"),
        ascii("replace(p.last_name, ' ', '.')")
    );
    let demo_requests = format!(
        "INSERT INTO app.demo_requests (tenant_id, id, name, email, company, job_title, phone, industry,
           company_size, use_case, current_solution, timeline, budget, additional_info, status,
           assigned_to, scheduled_at, completed_at, source, utm_source, utm_medium, utm_campaign,
           created_at, updated_at)
         SELECT $1, {did}, p.name,
           coalesce(p.email, {fallback_email}),
           {company}, {job}, p.phone, {industry}, {size}, {use_case}, {solution},
           {timeline}, {budget},
           CASE WHEN g % 2 = 0 THEN 'We get most calls between 8 and 10 in the morning.' END,
           d.status,
           CASE WHEN d.status <> 'new' THEN {admin} END,
           CASE WHEN d.status IN ('scheduled', 'completed') THEN d.created_at + interval '5 days' END,
           CASE WHEN d.status = 'completed' THEN d.created_at + interval '6 days' END,
           'website', {utm_source}, {utm_medium}, 'ai-receptionist-2025',
           d.created_at, d.created_at + interval '1 day'
         FROM generate_series($22, $23) g
         {person}
         CROSS JOIN LATERAL (
           SELECT {status} AS status, {EPOCH} + {offset} AS created_at
         ) d",
        did = id("demo_requests", "g"),
        person = customer_join("3 * $2 + g", "p"),
        fallback_email = fallback_email,
        company = pick(COMPANIES, "g + 3"),
        job = pick(
            &["Owner", "Office manager", "Practice manager", "Operations director", "Head receptionist"],
            "g"
        ),
        industry = pick(&["medical", "legal", "sales", "other"], "g"),
        size = pick(&["1-10", "11-50", "51-200", "201-1000", "1000+"], "g / 2"),
        use_case = pick(
            &[
                "Answer booking calls when the front desk is busy",
                "After-hours phone line",
                "SMS reminders to cut no-shows",
                "WhatsApp bookings",
            ],
            "g"
        ),
        solution = pick(&["Human receptionist", "Voicemail", "Call centre", "None"], "g / 3"),
        timeline = pick(&["ASAP", "This quarter", "Next quarter"], "g"),
        budget = pick(&["< 500 USD/month", "500–2,000 USD/month", "> 2,000 USD/month"], "g / 2"),
        admin = user_id("2 + g % 2"),
        utm_source = pick(&["google", "linkedin", "newsletter", "partner"], "g"),
        utm_medium = pick(&["cpc", "social", "email", "referral"], "g"),
        status = pick(&["new", "contacted", "scheduled", "completed", "declined"], "g"),
        offset = secs(&format!("(g - 1) * {} / greatest(2, ($2 + 19) / 20)", 2 * SPAN)),
    );
    let n = v.demo_requests;
    insert_chunked(tx, plan, counts, "demo_requests", &demo_requests, n, 1).await?;

    let demo_notes = format!(
        "INSERT INTO app.demo_request_notes (tenant_id, id, demo_request_id, note, added_by, added_at,
           updated_at)
         SELECT $1, {nid}, {did}, {note}, {admin}, at, at
         FROM generate_series($22, $23) g
         CROSS JOIN LATERAL (SELECT {EPOCH} + {offset} + interval '1 day' AS at) n",
        nid = id("demo_request_notes", "g"),
        did = id("demo_requests", "g"),
        note = pick(
            &[
                "Left a voicemail, will try again tomorrow.",
                "Sent the pricing sheet and two case studies.",
                "Demo booked with the owner and the office manager.",
                "Interested, but waiting for next year's budget.",
            ],
            "g"
        ),
        admin = user_id("2 + g % 2"),
        offset = secs(&format!("(g - 1) * {} / greatest(2, ($2 + 19) / 20)", 2 * SPAN)),
    );
    insert_chunked(tx, plan, counts, "demo_request_notes", &demo_notes, n, 1).await?;

    // Sign-ins first (one per staff member), then activity on the tenant's records.
    let audit = format!(
        "INSERT INTO app.audit_log (tenant_id, id, entity_type, entity_id, action, performed_by, details,
           metadata, ip_address, user_agent, location, severity, category, status, session_id,
           correlation_id, hipaa_relevant, occurred_at, created_at)
         SELECT $1, {aid}, e.entity_type, e.entity_id, e.action, {actor},
           jsonb_build_object('reason', e.reason, 'changes', e.changes),
           jsonb_build_object('source', CASE WHEN g <= 10 THEN 'web' ELSE 'api' END),
           ('192.0.2.' || (1 + g % 254))::inet, {agent},
           jsonb_build_object('country', $17, 'region', $16, 'city', $16),
           e.severity, e.category, CASE WHEN g = 10 THEN 'failure' ELSE 'success' END,
           'sess_' || substr(md5($1::text || ':audit-session:' || (g % 40)), 1, 16),
           md5($1::text || ':correlation:' || g)::uuid::text,
           $19 AND e.category IS NOT DISTINCT FROM 'call',
           {EPOCH} + {offset}, {EPOCH} + {offset}
         FROM generate_series($22, $23) g
         CROSS JOIN LATERAL (
           SELECT CASE WHEN g <= 10 THEN 'user' ELSE (ARRAY['customer', 'conversation', 'ticket', 'assistant',
                    'call', 'subscription'])[1 + (g - 10) % 6] END AS entity_type,
                  CASE WHEN g <= 10 THEN {user}::text
                       WHEN (g - 10) % 6 = 0 THEN {customer}::text
                       WHEN (g - 10) % 6 = 1 THEN {conversation}::text
                       WHEN (g - 10) % 6 = 2 THEN {ticket}::text
                       WHEN (g - 10) % 6 = 3 THEN {assistant}::text
                       WHEN (g - 10) % 6 = 4 THEN ({vapi})::uuid::text
                       ELSE 'sub_' || substr(md5($1::text || ':subscription'), 1, 14) END AS entity_id,
                  CASE WHEN g = 10 THEN 'login_failed' WHEN g < 10 THEN 'login'
                       ELSE (ARRAY['updated', 'assigned', 'resolved', 'assistant.updated',
                                   'call.recording_accessed', 'invoice.paid'])[1 + (g - 10) % 6] END AS action,
                  CASE WHEN g = 10 THEN 'Email address not verified' WHEN g < 10 THEN 'Password sign-in'
                       ELSE (ARRAY['Customer asked to update their details', 'Auto-assignment',
                                   'Resolved after call back', 'Prompt tuned for shorter answers',
                                   'Quality review', 'Monthly subscription'])[1 + (g - 10) % 6] END AS reason,
                  CASE WHEN g > 10 AND (g - 10) % 6 IN (0, 3) THEN jsonb_build_array(jsonb_build_object(
                         'field', CASE WHEN (g - 10) % 6 = 0 THEN 'email' ELSE 'model.temperature' END,
                         'from', CASE WHEN (g - 10) % 6 = 0 THEN 'old@example.com' ELSE '0.7' END,
                         'to', CASE WHEN (g - 10) % 6 = 0 THEN 'new@example.com' ELSE '0.4' END))
                       ELSE '[]'::jsonb END AS changes,
                  CASE WHEN g = 10 THEN 'medium' WHEN g > 10 AND (g - 10) % 6 = 4 THEN 'high' ELSE 'low' END AS severity,
                  CASE WHEN g <= 10 THEN 'auth'
                       ELSE (ARRAY[NULL, NULL, NULL, 'assistant', 'call', 'billing'])[1 + (g - 10) % 6] END AS category
         ) e",
        aid = id("audit_log", "g"),
        actor = user_id("CASE WHEN g <= 10 THEN g ELSE 1 + g % 9 END"),
        agent = pick(
            &[
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 Version/18.1 Safari/605.1.15",
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
                "frontdesk-api/1.0",
            ],
            "g"
        ),
        user = user_id("g"),
        customer = id("customers", "1 + g % $2"),
        conversation = id("conversations", "1 + g % (($2 + 1) / 2)"),
        ticket = id("tickets", "1 + g % greatest(2, ($2 + 9) / 10)"),
        assistant = id("assistants", "1 + g % 3"),
        vapi = provider_hex(":vapi-call", "1 + g % greatest(1, $2 * $3 * $4)"),
        offset = secs(&format!("(g - 1) * {} / (10 + ($2 + 3) / 4)", 2 * SPAN)),
    );
    insert_chunked(tx, plan, counts, "audit_log", &audit, v.audit, 1).await
}
