//! Lead writes (`graph::leads`) against the real database, as the runtime role: create, update
//! and convert in a tenant; a second conversion is refused with the current status; another
//! tenant's lead behaves exactly like a missing one; and the table's unique e-mail and
//! contact rules surface as their constraint names.

mod common;

use chrono::{DateTime, Utc};
use common::{create_tenant, ctx};
use frontdesk_db::graph::leads::{self, LeadFields};
use frontdesk_db::graph::{Patch, Ref, WriteError};
use frontdesk_db::testing::TestDb;
use frontdesk_db::{sqlx, Db};
use rust_decimal::Decimal;
use uuid::Uuid;

/// A lead with a name and an e-mail.
fn named(name: &str, email: &str) -> LeadFields {
    LeadFields {
        name: Patch::Set(Some(name.to_owned())),
        email: Patch::Set(Some(email.to_owned())),
        ..LeadFields::default()
    }
}

/// Creates a lead in `tenant` and commits.
async fn create_lead(db: &Db, tenant: Uuid, fields: &LeadFields) -> anyhow::Result<Uuid> {
    let mut tx = db.begin_tenant(ctx(tenant)).await?;
    let id = leads::create(&mut tx, fields).await?;
    tx.commit().await?;
    Ok(id)
}

/// The columns a test looks at.
#[derive(Debug, sqlx::FromRow)]
struct Row {
    name: Option<String>,
    company: Option<String>,
    interest: Option<String>,
    lead_score: Option<i16>,
    status: String,
    follow_up_status: String,
    tags: Vec<String>,
    converted: bool,
    converted_at: Option<DateTime<Utc>>,
    deal_value: Option<Decimal>,
}

async fn read(db: &Db, tenant: Uuid, id: Uuid) -> anyhow::Result<Option<Row>> {
    let mut tx = db.begin_tenant(ctx(tenant)).await?;
    Ok(sqlx::query_as(
        "SELECT name, company, interest, lead_score, status, follow_up_status, tags, converted,
                converted_at, deal_value
         FROM app.leads WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(tx.conn())
    .await?)
}

/// The constraint a failed write violated, with its SQLSTATE.
fn violation(e: &WriteError) -> (Option<String>, Option<String>) {
    match e {
        WriteError::Db(db) => (db.sqlstate(), db.constraint().map(str::to_owned)),
        _ => (None, None),
    }
}

#[tokio::test]
async fn a_lead_is_created_updated_and_converted_once() -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let a = create_tenant(&t.db, "Tenant A").await?;
    let id = create_lead(
        &t.db,
        a,
        &LeadFields {
            interest: Patch::Set(Some("ai_assistant")),
            lead_score: Patch::Set(Some(72)),
            tags: Patch::Set(vec!["hot_lead".into()]),
            ..named("Jana Nováková", "jana@example.cz")
        },
    )
    .await?;
    let row = read(&t.db, a, id).await?.expect("the new lead is visible");
    assert_eq!(row.name.as_deref(), Some("Jana Nováková"));
    assert_eq!(row.interest.as_deref(), Some("ai_assistant"));
    assert_eq!(row.lead_score, Some(72));
    assert_eq!(row.tags, vec!["hot_lead".to_owned()]);
    assert_eq!(
        (row.status.as_str(), row.follow_up_status.as_str()),
        ("new", "pending")
    );
    assert!(!row.converted);

    let mut tx = t.db.begin_tenant(ctx(a)).await?;
    leads::update(
        &mut tx,
        id,
        &LeadFields {
            company: Patch::Set(Some("Nováková s.r.o.".into())),
            status: Patch::Set("qualified"),
            lead_score: Patch::Set(None),
            ..LeadFields::default()
        },
    )
    .await?;
    tx.commit().await?;
    let row = read(&t.db, a, id).await?.expect("the lead is visible");
    assert_eq!(row.company.as_deref(), Some("Nováková s.r.o."));
    assert_eq!(row.status, "qualified");
    assert_eq!(row.lead_score, None);
    assert_eq!(
        row.name.as_deref(),
        Some("Jana Nováková"),
        "a kept field changed"
    );

    let when: DateTime<Utc> = "2026-03-01T10:00:00Z".parse()?;
    let mut tx = t.db.begin_tenant(ctx(a)).await?;
    leads::convert(
        &mut tx,
        id,
        Some(Decimal::new(1_250_000, 2)),
        Some(when),
        None,
    )
    .await?;
    tx.commit().await?;
    let row = read(&t.db, a, id).await?.expect("the lead is visible");
    assert!(row.converted);
    assert_eq!(row.converted_at, Some(when));
    assert_eq!(row.deal_value, Some(Decimal::new(1_250_000, 2)));
    assert_eq!(
        (row.status.as_str(), row.follow_up_status.as_str()),
        ("converted", "converted")
    );

    let mut tx = t.db.begin_tenant(ctx(a)).await?;
    let again = leads::convert(&mut tx, id, Some(Decimal::ONE), None, None).await;
    assert!(
        matches!(&again, Err(WriteError::Status { current }) if current == "converted"),
        "{again:?}"
    );
    tx.commit().await?;
    let row = read(&t.db, a, id).await?.expect("the lead is visible");
    assert_eq!(
        row.converted_at,
        Some(when),
        "the second conversion changed the time"
    );
    assert_eq!(row.deal_value, Some(Decimal::new(1_250_000, 2)));
    Ok(())
}

#[tokio::test]
async fn converting_without_a_time_or_value_uses_now_and_keeps_the_deal_value() -> anyhow::Result<()>
{
    let t = TestDb::new().await?;
    let a = create_tenant(&t.db, "Tenant A").await?;
    let id = create_lead(
        &t.db,
        a,
        &LeadFields {
            phone: Patch::Set(Some("+420601000001".into())),
            deal_value: Patch::Set(Some(Decimal::new(5_000, 0))),
            ..LeadFields::default()
        },
    )
    .await?;
    let mut tx = t.db.begin_tenant(ctx(a)).await?;
    let now: DateTime<Utc> = sqlx::query_scalar("SELECT now()")
        .fetch_one(tx.conn())
        .await?;
    leads::convert(&mut tx, id, None, None, None).await?;
    tx.commit().await?;
    let row = read(&t.db, a, id).await?.expect("the lead is visible");
    assert_eq!(row.converted_at, Some(now));
    assert_eq!(row.deal_value, Some(Decimal::new(5_000, 0)));
    assert_eq!(row.status, "converted");
    Ok(())
}

#[tokio::test]
async fn a_lead_with_a_conversion_time_but_another_status_is_already_converted(
) -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let a = create_tenant(&t.db, "Tenant A").await?;
    let when: DateTime<Utc> = "2026-01-15T08:30:00Z".parse()?;
    let id = create_lead(
        &t.db,
        a,
        &LeadFields {
            converted_at: Patch::Set(Some(when)),
            status: Patch::Set("qualified"),
            ..named("Imported", "imported@example.com")
        },
    )
    .await?;
    let mut tx = t.db.begin_tenant(ctx(a)).await?;
    let result = leads::convert(&mut tx, id, None, None, None).await;
    assert!(
        matches!(&result, Err(WriteError::Status { current }) if current == "qualified"),
        "{result:?}"
    );
    drop(tx);
    let row = read(&t.db, a, id).await?.expect("the lead is visible");
    assert_eq!(row.converted_at, Some(when));
    Ok(())
}

#[tokio::test]
async fn another_tenant_cannot_update_delete_or_convert_a_lead() -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let a = create_tenant(&t.db, "Tenant A").await?;
    let b = create_tenant(&t.db, "Tenant B").await?;
    let id = create_lead(&t.db, a, &named("Jana", "jana@example.cz")).await?;

    let mut tx = t.db.begin_tenant(ctx(b)).await?;
    let update = leads::update(
        &mut tx,
        id,
        &LeadFields {
            name: Patch::Set(Some("hijacked".into())),
            ..LeadFields::default()
        },
    )
    .await;
    assert!(matches!(update, Err(WriteError::NotFound)), "{update:?}");
    let empty_update = leads::update(&mut tx, id, &LeadFields::default()).await;
    assert!(
        matches!(empty_update, Err(WriteError::NotFound)),
        "{empty_update:?}"
    );
    let convert = leads::convert(&mut tx, id, None, None, None).await;
    assert!(matches!(convert, Err(WriteError::NotFound)), "{convert:?}");
    let delete = leads::delete(&mut tx, id).await;
    assert!(matches!(delete, Err(WriteError::NotFound)), "{delete:?}");
    // The same outcomes as for an id that exists nowhere.
    let missing = leads::delete(&mut tx, Uuid::new_v4()).await;
    assert!(matches!(missing, Err(WriteError::NotFound)), "{missing:?}");
    tx.commit().await?;

    let row = read(&t.db, a, id).await?.expect("A's lead survived");
    assert_eq!(row.name.as_deref(), Some("Jana"));
    assert_eq!(row.status, "new");
    assert!(!row.converted);

    let mut tx = t.db.begin_tenant(ctx(a)).await?;
    leads::delete(&mut tx, id).await?;
    tx.commit().await?;
    assert!(read(&t.db, a, id).await?.is_none());
    Ok(())
}

#[tokio::test]
async fn a_conversation_the_tenant_cannot_see_is_a_missing_reference() -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let a = create_tenant(&t.db, "Tenant A").await?;
    let b = create_tenant(&t.db, "Tenant B").await?;
    let mut tx = t.db.begin_tenant(ctx(b)).await?;
    let b_conversation: Uuid =
        sqlx::query_scalar("INSERT INTO app.conversations (channel) VALUES ('web') RETURNING id")
            .fetch_one(tx.conn())
            .await?;
    tx.commit().await?;
    let mut tx = t.db.begin_tenant(ctx(a)).await?;
    let a_conversation: Uuid =
        sqlx::query_scalar("INSERT INTO app.conversations (channel) VALUES ('web') RETURNING id")
            .fetch_one(tx.conn())
            .await?;
    tx.commit().await?;

    for foreign in [b_conversation, Uuid::new_v4()] {
        let mut tx = t.db.begin_tenant(ctx(a)).await?;
        let created = leads::create(
            &mut tx,
            &LeadFields {
                conversation_id: Patch::Set(Some(foreign)),
                ..named("Jana", "jana@example.cz")
            },
        )
        .await;
        assert!(
            matches!(created, Err(WriteError::MissingRef(Ref::Conversation))),
            "{created:?}"
        );
    }
    let id = create_lead(
        &t.db,
        a,
        &LeadFields {
            conversation_id: Patch::Set(Some(a_conversation)),
            ..named("Jana", "jana@example.cz")
        },
    )
    .await?;
    let mut tx = t.db.begin_tenant(ctx(a)).await?;
    let moved = leads::update(
        &mut tx,
        id,
        &LeadFields {
            conversation_id: Patch::Set(Some(b_conversation)),
            ..LeadFields::default()
        },
    )
    .await;
    assert!(
        matches!(moved, Err(WriteError::MissingRef(Ref::Conversation))),
        "{moved:?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_duplicate_email_in_a_tenant_violates_the_unique_index_regardless_of_case(
) -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let a = create_tenant(&t.db, "Tenant A").await?;
    let b = create_tenant(&t.db, "Tenant B").await?;
    create_lead(&t.db, a, &named("Jana", "jana@example.cz")).await?;

    let mut tx = t.db.begin_tenant(ctx(a)).await?;
    let dup = leads::create(&mut tx, &named("Jana again", "JANA@Example.CZ"))
        .await
        .expect_err("a duplicate e-mail was accepted");
    assert_eq!(
        violation(&dup),
        (
            Some("23505".to_owned()),
            Some("leads_tenant_id_email_key".to_owned())
        ),
        "{dup:?}"
    );
    drop(tx);

    // An update onto another lead's address is the same violation.
    let other = create_lead(&t.db, a, &named("Petr", "petr@example.cz")).await?;
    let mut tx = t.db.begin_tenant(ctx(a)).await?;
    let dup = leads::update(
        &mut tx,
        other,
        &LeadFields {
            email: Patch::Set(Some("Jana@example.cz".into())),
            ..LeadFields::default()
        },
    )
    .await
    .expect_err("a duplicate e-mail was accepted");
    assert_eq!(
        violation(&dup).1.as_deref(),
        Some("leads_tenant_id_email_key")
    );
    drop(tx);

    // Another tenant may have the same address, and leads without one do not collide.
    create_lead(&t.db, b, &named("Jana", "jana@example.cz")).await?;
    for name in ["No e-mail 1", "No e-mail 2"] {
        create_lead(
            &t.db,
            a,
            &LeadFields {
                name: Patch::Set(Some(name.into())),
                ..LeadFields::default()
            },
        )
        .await?;
    }
    Ok(())
}

#[tokio::test]
async fn a_lead_without_any_name_email_or_phone_violates_the_contact_check() -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let a = create_tenant(&t.db, "Tenant A").await?;
    let mut tx = t.db.begin_tenant(ctx(a)).await?;
    let err = leads::create(
        &mut tx,
        &LeadFields {
            company: Patch::Set(Some("Anonymous s.r.o.".into())),
            notes: Patch::Set(Some("called, left no details".into())),
            ..LeadFields::default()
        },
    )
    .await
    .expect_err("a lead without a contact was accepted");
    assert_eq!(
        violation(&err),
        (
            Some("23514".to_owned()),
            Some("leads_contact_check".to_owned())
        ),
        "{err:?}"
    );
    drop(tx);

    // Clearing the only contact of an existing lead is refused the same way.
    let id = create_lead(&t.db, a, &named("Jana", "jana@example.cz")).await?;
    let mut tx = t.db.begin_tenant(ctx(a)).await?;
    let err = leads::update(
        &mut tx,
        id,
        &LeadFields {
            name: Patch::Set(None),
            email: Patch::Set(None),
            ..LeadFields::default()
        },
    )
    .await
    .expect_err("clearing the last contact was accepted");
    assert_eq!(violation(&err).1.as_deref(), Some("leads_contact_check"));
    Ok(())
}
