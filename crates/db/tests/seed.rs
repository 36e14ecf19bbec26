//! The seed generator: deterministic, re-runnable, consistent (counters equal the facts, the
//! graph's foreign keys agree with each other), sized by the spec, and it gives the demo tenant
//! an owner `frontdesk serve` can mint a token for.

mod common;

use common::{ctx, RUNTIME_TENANT_TABLES_SQL};
use frontdesk_db::seed::{self, SeedReport, SeedSpec, DEMO_PASSWORD, DEMO_TENANT_ID};
use frontdesk_db::testing::TestDb;
use frontdesk_db::{identity, sqlx, Db};
use uuid::Uuid;

const SPEC: SeedSpec = SeedSpec {
    tenants: 2,
    customers_per_tenant: 30,
    bookings_per_customer: 2,
    calls_per_booking: 2,
    sms_per_call: 3,
};

/// The rows of `table` the seed writes itself. The audit triggers (migration 0022) also record
/// every row the seed inserts, with ids and times of their own; those entries (their
/// `metadata.operation` names the row operation) are not the seed's.
fn seeded(table: &str) -> String {
    if table == "audit_log" {
        "app.audit_log WHERE NOT (metadata ? 'operation')".to_owned()
    } else {
        format!("app.{table}")
    }
}

/// Tables whose ids and contents are compared between runs.
const FINGERPRINTED: &[(&str, &str)] = &[
    (
        "customers",
        "name || phone || coalesce(email, '') || total_bookings || total_spent",
    ),
    (
        "bookings",
        "customer_id::text || service_type || appointment_date || status",
    ),
    (
        "calls",
        "booking_id::text || customer_id::text || coalesce(transcript, '') || cost",
    ),
    (
        "sms_messages",
        "call_id::text || booking_id::text || message_body || created_at",
    ),
    (
        "conversations",
        "customer_id::text || channel || message_count || coalesce(last_message::text, '')",
    ),
    ("messages", "conversation_id::text || content || sent_at"),
    ("tickets", "ticket_number || customer_id::text || subject"),
    ("leads", "coalesce(email, '') || status"),
    (
        "audit_log",
        "action || coalesce(entity_id, '') || occurred_at",
    ),
];

/// Per tenant and table: row count, a hash of the ids and a hash of some content.
async fn fingerprint(db: &Db, spec: &SeedSpec) -> anyhow::Result<Vec<(Uuid, String, i64, String)>> {
    let mut out = vec![];
    for i in 0..spec.tenants {
        let tenant = SeedSpec::tenant_id(i);
        let mut tx = db.begin_tenant(ctx(tenant)).await?;
        for (table, content) in FINGERPRINTED {
            let (n, hash): (i64, String) = sqlx::query_as(&format!(
                "SELECT count(*), md5(coalesce(string_agg(id::text, ',' ORDER BY id), ''))
                   || md5(coalesce(string_agg({content}, ',' ORDER BY id), '')) FROM {}",
                seeded(table)
            ))
            .fetch_one(tx.conn())
            .await?;
            out.push((tenant, (*table).to_owned(), n, hash));
        }
        tx.commit().await?;
    }
    Ok(out)
}

fn counts(report: &SeedReport) -> Vec<(&'static str, u64)> {
    let mut tables = report.tables.clone();
    tables.sort();
    tables
}

#[tokio::test]
async fn the_same_spec_gives_the_same_rows_on_another_database() -> anyhow::Result<()> {
    let (a, b) = (TestDb::new().await?, TestDb::new().await?);
    let ra = seed::run(&a.db, &SPEC).await?;
    let rb = seed::run(&b.db, &SPEC).await?;
    assert_eq!(counts(&ra), counts(&rb));
    let fa = fingerprint(&a.db, &SPEC).await?;
    assert!(fa.iter().all(|(_, _, n, _)| *n > 0), "{fa:?}");
    assert_eq!(fa, fingerprint(&b.db, &SPEC).await?);
    Ok(())
}

#[tokio::test]
async fn a_second_run_replaces_the_first_with_the_same_rows() -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let first = seed::run(&t.db, &SPEC).await?;
    let before = fingerprint(&t.db, &SPEC).await?;
    let second = seed::run(&t.db, &SPEC).await?;
    assert_eq!(counts(&first), counts(&second));
    assert_eq!(before, fingerprint(&t.db, &SPEC).await?);
    // Every table's contents equal what the run reports writing (nothing left over).
    assert_eq!(table_totals(&t, &SPEC, &second).await?, vec![]);
    Ok(())
}

/// Tenant tables whose row count (summed over the seeded tenants) differs from the report.
async fn table_totals(
    t: &TestDb,
    spec: &SeedSpec,
    report: &SeedReport,
) -> anyhow::Result<Vec<(String, i64, u64)>> {
    let mut tables: Vec<String> = sqlx::query_scalar(RUNTIME_TENANT_TABLES_SQL)
        .fetch_all(t.owner())
        .await?;
    tables.push("tenants".into());
    tables.push("users".into());
    let mut wrong = vec![];
    for table in tables {
        let mut total = 0;
        for i in 0..spec.tenants {
            let mut tx = t.db.begin_tenant(ctx(SeedSpec::tenant_id(i))).await?;
            let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {}", seeded(&table)))
                .fetch_one(tx.conn())
                .await?;
            total += n;
        }
        let reported = report.rows_of(&table);
        if u64::try_from(total)? != reported {
            wrong.push((table, total, reported));
        }
    }
    Ok(wrong)
}

#[tokio::test]
async fn volumes_follow_the_spec_and_every_table_is_reported() -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let report = seed::run(&t.db, &SPEC).await?;
    let (n, tenants) = (
        u64::from(SPEC.customers_per_tenant),
        u64::from(SPEC.tenants),
    );
    assert_eq!(report.rows_of("tenants"), tenants);
    assert_eq!(report.rows_of("customers"), tenants * n);
    assert_eq!(report.rows_of("bookings"), tenants * n * 2);
    assert_eq!(report.rows_of("calls"), tenants * n * 2 * 2);
    assert_eq!(report.rows_of("sms_messages"), tenants * n * 2 * 2 * 3);
    assert_eq!(report.rows_of("conversations"), tenants * n.div_ceil(2));
    assert_eq!(report.rows_of("messages"), tenants * n.div_ceil(2) * 4);
    for table in [
        "users",
        "memberships",
        "auth_accounts",
        "auth_sessions",
        "verification_tokens",
    ] {
        assert!(report.rows_of(table) > 0, "{table} not written: {report:?}");
    }
    assert_eq!(table_totals(&t, &SPEC, &report).await?, vec![]);
    assert!(report.to_string().contains("rows/s"), "{report}");
    Ok(())
}

#[tokio::test]
async fn every_business_profile_seeds_even_with_tiny_and_empty_volumes() -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    // Seven tenants: each of the six profiles, then the first again under a new name.
    let spec = SeedSpec {
        tenants: 7,
        customers_per_tenant: 3,
        bookings_per_customer: 1,
        calls_per_booking: 3,
        sms_per_call: 1,
    };
    let report = seed::run(&t.db, &spec).await?;
    assert_eq!(report.rows_of("tenants"), 7);
    assert_eq!(report.rows_of("calls"), 7 * 3 * 3);
    assert_eq!(table_totals(&t, &spec, &report).await?, vec![]);
    // No bookings at all: the graph below customers is empty and nothing else breaks.
    let none = SeedSpec {
        tenants: 1,
        customers_per_tenant: 1,
        bookings_per_customer: 0,
        calls_per_booking: 2,
        sms_per_call: 2,
    };
    let report = seed::run(&t.db, &none).await?;
    assert_eq!(report.rows_of("customers"), 1);
    assert_eq!(
        report.rows_of("bookings") + report.rows_of("sms_messages"),
        0
    );
    assert!(report.rows_of("tickets") > 0 && report.rows_of("ticket_links") > 0);
    Ok(())
}

#[tokio::test]
async fn counters_and_links_agree_with_the_facts() -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    seed::run(&t.db, &SPEC).await?;
    consistent(&t, &SPEC).await
}

#[tokio::test]
async fn statements_split_into_chunks_leave_no_gaps_or_overlaps() -> anyhow::Result<()> {
    // 12 SMS per customer: the SMS statement covers 450 customers in more than one chunk.
    let spec = SeedSpec {
        tenants: 1,
        customers_per_tenant: 450,
        ..SeedSpec::demo()
    };
    let t = TestDb::new().await?;
    let report = seed::run(&t.db, &spec).await?;
    assert_eq!(report.rows_of("sms_messages"), 450 * 3 * 2 * 2);
    assert_eq!(table_totals(&t, &spec, &report).await?, vec![]);
    let mut tx = t.db.begin_tenant(ctx(DEMO_TENANT_ID)).await?;
    let distinct: i64 = sqlx::query_scalar("SELECT count(DISTINCT call_id) FROM app.sms_messages")
        .fetch_one(tx.conn())
        .await?;
    assert_eq!(distinct, 450 * 3 * 2);
    drop(tx);
    consistent(&t, &spec).await
}

/// Counters equal the facts and the graph's links agree with each other, in every tenant.
async fn consistent(t: &TestDb, spec: &SeedSpec) -> anyhow::Result<()> {
    let checks = [
        // Customer counters.
        "SELECT count(*) FROM app.customers c WHERE
           total_bookings <> (SELECT count(*) FROM app.bookings b WHERE b.customer_id = c.id)
           OR total_calls <> (SELECT count(*) FROM app.calls x WHERE x.customer_id = c.id)
           OR total_spent <> (SELECT coalesce(sum(payment_amount), 0) FROM app.bookings b
                              WHERE b.customer_id = c.id AND b.payment_status = 'paid')
           OR total_conversations <> (SELECT count(*) FROM app.conversations v WHERE v.customer_id = c.id)
           OR total_messages <> (SELECT count(*) FROM app.messages m WHERE m.customer_id = c.id)
           OR total_tickets <> (SELECT count(*) FROM app.tickets k WHERE k.customer_id = c.id)
           OR last_contact IS DISTINCT FROM greatest(
                (SELECT max(started_at) FROM app.calls x WHERE x.customer_id = c.id),
                (SELECT max(created_at) FROM app.sms_messages s WHERE s.customer_id = c.id),
                (SELECT max(sent_at) FROM app.messages m WHERE m.customer_id = c.id))",
        // Conversation counters.
        "SELECT count(*) FROM app.conversations v WHERE
           message_count <> (SELECT count(*) FROM app.messages m WHERE m.conversation_id = v.id)
           OR last_message_at IS DISTINCT FROM (SELECT max(sent_at) FROM app.messages m WHERE m.conversation_id = v.id)
           OR last_message IS NULL",
        // Member statistics.
        "SELECT count(*) FROM app.memberships mb WHERE total_conversations <>
           (SELECT count(*) FROM app.conversations v WHERE v.assigned_agent_id = mb.user_id)",
        // A call's customer is its booking's; an SMS's booking and customer are its call's.
        "SELECT count(*) FROM app.calls c JOIN app.bookings b ON b.id = c.booking_id
           WHERE b.customer_id <> c.customer_id OR c.phone_number <> b.customer_phone",
        "SELECT count(*) FROM app.sms_messages s JOIN app.calls c ON c.id = s.call_id
           WHERE s.booking_id IS DISTINCT FROM c.booking_id OR s.customer_id IS DISTINCT FROM c.customer_id
              OR s.phone_number <> c.phone_number",
        // Every graph row is linked.
        "SELECT (SELECT count(*) FROM app.calls WHERE booking_id IS NULL OR customer_id IS NULL)
              + (SELECT count(*) FROM app.sms_messages WHERE call_id IS NULL OR booking_id IS NULL OR customer_id IS NULL)",
        // Phones are unique per tenant (the constraint) and look like E.164 numbers.
        "SELECT count(*) FROM app.customers WHERE phone !~ '^\\+[1-9][0-9]{7,14}$'",
    ];
    for i in 0..spec.tenants {
        let mut tx = t.db.begin_tenant(ctx(SeedSpec::tenant_id(i))).await?;
        for check in checks {
            let bad: i64 = sqlx::query_scalar(check).fetch_one(tx.conn()).await?;
            assert_eq!(bad, 0, "tenant {i}: {check}");
        }
    }
    Ok(())
}

#[tokio::test]
async fn the_demo_tenant_has_an_owner_who_can_sign_in() -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    seed::run(&t.db, &SPEC).await?;
    let owner = identity::member_with_role(&t.db, DEMO_TENANT_ID, "owner")
        .await?
        .expect("an owner");
    let mut tx = t.db.begin_tenant(ctx(DEMO_TENANT_ID)).await?;
    let profile = identity::user_profile(&mut tx, owner)
        .await?
        .expect("visible");
    let roles: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT role FROM app.memberships ORDER BY role")
            .fetch_all(tx.conn())
            .await?;
    tx.commit().await?;
    assert!(profile.email.contains('@'), "{profile:?}");
    assert!(profile.name.is_some(), "{profile:?}");
    assert_eq!(roles, ["admin", "agent", "owner", "supervisor", "viewer"]);

    // The documented demo password verifies against the stored hash.
    let mut login = t.db.begin_login(&profile.email).await?;
    let phc: String = sqlx::query_scalar("SELECT password_hash FROM app.users WHERE id = $1")
        .bind(owner)
        .fetch_one(login.conn())
        .await?;
    login.commit().await?;
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    let parsed = PasswordHash::new(&phc).map_err(|e| anyhow::anyhow!("{e}"))?;
    assert!(argon2::Argon2::default()
        .verify_password(DEMO_PASSWORD.as_bytes(), &parsed)
        .is_ok());
    Ok(())
}

#[tokio::test]
async fn seed_demo_if_empty_seeds_the_demo_tenant_once() -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let spec = SeedSpec {
        tenants: 3,
        ..SeedSpec::demo()
    };
    let report = seed::seed_demo_if_empty(&t.db, &spec)
        .await?
        .expect("seeded");
    assert_eq!(report.rows_of("tenants"), 1, "only the demo tenant");
    assert_eq!(report.rows_of("customers"), 50);
    assert!(seed::seed_demo_if_empty(&t.db, &spec).await?.is_none());
    let mut tx = t.db.begin_tenant(ctx(SeedSpec::tenant_id(1))).await?;
    let others: i64 = sqlx::query_scalar("SELECT count(*) FROM app.tenants")
        .fetch_one(tx.conn())
        .await?;
    assert_eq!(others, 0);
    Ok(())
}

/// The `created` entries the audit trail holds for seeded rows (not the seed's own entries),
/// without what differs between two writes of the same row (entry id and times), sorted.
async fn created_entries(t: &TestDb) -> anyhow::Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT jsonb_build_object('tenant', tenant_id, 'type', entity_type, 'id', entity_id,
                  'by', performed_by, 'details', details, 'metadata', metadata, 'ip', ip_address,
                  'agent', user_agent, 'location', location, 'severity', severity,
                  'category', category, 'status', status, 'session', session_id,
                  'correlation', correlation_id, 'hipaa', hipaa_relevant)::text
           FROM app.audit_log WHERE action = 'created' AND metadata ? 'operation' ORDER BY 1",
    )
    .fetch_all(t.owner())
    .await?)
}

#[tokio::test]
async fn set_wise_audit_entries_are_the_triggers_one_per_seeded_row() -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let per_row = seed::run(&t.db, &SPEC).await?;
    let by_trigger = created_entries(&t).await?;
    // The same rows again (a re-run replaces the tenants, and their trail with them), with the
    // entries written by the seed's statements instead of the trigger.
    let setwise = seed::run_setwise(&t.db, t.owner(), &SPEC).await?;
    assert_eq!(counts(&per_row), counts(&setwise));
    let by_seed = created_entries(&t).await?;
    assert_eq!(by_trigger.len(), by_seed.len());
    if let Some((a, b)) = by_trigger.iter().zip(&by_seed).find(|(a, b)| a != b) {
        panic!("the trigger wrote\n{a}\nthe set-wise seed\n{b}");
    }

    // Exactly one `created` entry per row of every audited table, and every seeded row of them.
    let audited: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
          WHERE c.relnamespace = 'app'::regnamespace AND tg.tgname = 'audit_row' ORDER BY 1",
    )
    .fetch_all(t.owner())
    .await?;
    assert!(audited.len() > 20, "{audited:?}");
    let mut seeded_tables = 0;
    for table in &audited {
        let (rows, entries, distinct, unmatched): (i64, i64, i64, i64) = sqlx::query_as(&format!(
            "SELECT (SELECT count(*) FROM app.{table}),
                    count(*), count(DISTINCT entity_id),
                    (SELECT count(*) FROM app.{table} r WHERE NOT EXISTS (
                       SELECT 1 FROM app.audit_log a WHERE a.entity_type = '{table}'
                          AND a.action = 'created' AND a.entity_id = r.id::text))
               FROM app.audit_log WHERE entity_type = '{table}' AND action = 'created'
                AND metadata ? 'operation'"
        ))
        .fetch_one(t.owner())
        .await?;
        assert_eq!(
            (entries, distinct, unmatched),
            (rows, rows, 0),
            "{table}: {rows} rows"
        );
        seeded_tables += usize::from(rows > 0);
    }
    assert!(seeded_tables > 20, "{seeded_tables} of {audited:?}");
    // The registrations are gone with their transactions.
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM app.audit_setwise_xacts")
        .fetch_one(t.owner())
        .await?;
    assert_eq!(left, 0);
    Ok(())
}

#[tokio::test]
async fn a_set_wise_seed_is_consistent_and_replaces_a_per_row_one() -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let first = seed::run(&t.db, &SPEC).await?;
    let before = fingerprint(&t.db, &SPEC).await?;
    let second = seed::run_setwise(&t.db, t.owner(), &SPEC).await?;
    assert_eq!(counts(&first), counts(&second));
    assert_eq!(before, fingerprint(&t.db, &SPEC).await?);
    assert_eq!(table_totals(&t, &SPEC, &second).await?, vec![]);
    consistent(&t, &SPEC).await
}
