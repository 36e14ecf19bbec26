//! The inbox write path (migration 0031), as the runtime role: a message's commit-time number
//! (`seq`) is bookkeeping, so a written message has one audit entry, `created`, and no second
//! one for the numbering's stamp, while a real change still has its `updated` entry; and the
//! document checks, which now pass NULL and empty documents without calling their helpers,
//! refuse exactly what they refused before.

mod common;

use common::{create_conversation, create_tenant, ctx, sqlstate};
use frontdesk_db::testing::TestDb;
use frontdesk_db::{sqlx, Db};
use uuid::Uuid;

/// The audit entries of one message, oldest first: (action, the `changes` listed).
async fn entries(db: &Db, tenant: Uuid, message: Uuid) -> anyhow::Result<Vec<(String, String)>> {
    let mut tx = db.begin_tenant(ctx(tenant)).await?;
    Ok(sqlx::query_as(
        "SELECT action, coalesce(details -> 'changes', 'null')::text FROM app.audit_log
          WHERE entity_type = 'messages' AND entity_id = $1::text
          ORDER BY occurred_at, action",
    )
    .bind(message)
    .fetch_all(tx.conn())
    .await?)
}

#[tokio::test]
async fn a_written_message_has_one_created_entry_and_its_number_adds_none() -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let tenant = create_tenant(&t.db, "A").await?;
    let conv = create_conversation(&t.db, tenant).await?;

    let mut tx = t.db.begin_tenant(ctx(tenant)).await?;
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO app.messages (conversation_id, content, direction, sender)
         VALUES ($1, 'hello', 'inbound', 'customer') RETURNING id",
    )
    .bind(conv)
    .fetch_one(tx.conn())
    .await?;
    tx.commit().await?;

    // The numbering stamped it at COMMIT…
    let mut tx = t.db.begin_tenant(ctx(tenant)).await?;
    let seq: Option<i64> = sqlx::query_scalar("SELECT seq FROM app.messages WHERE id = $1")
        .bind(id)
        .fetch_one(tx.conn())
        .await?;
    drop(tx);
    assert!(seq.is_some(), "the message was not numbered");
    // …and that stamp is no entry of its own.
    assert_eq!(
        entries(&t.db, tenant, id).await?,
        vec![("created".to_owned(), "null".to_owned())]
    );

    // A change of the message itself is still recorded, naming what changed.
    let mut tx = t.db.begin_tenant(ctx(tenant)).await?;
    sqlx::query("UPDATE app.messages SET status = 'read' WHERE id = $1")
        .bind(id)
        .execute(tx.conn())
        .await?;
    tx.commit().await?;
    assert_eq!(
        entries(&t.db, tenant, id).await?,
        vec![
            ("created".to_owned(), "null".to_owned()),
            ("updated".to_owned(), r#"["status"]"#.to_owned()),
        ]
    );
    Ok(())
}

/// Inserts a message with these documents (JSON text, `None` for SQL NULL) and returns the
/// violated constraint's name, or `None` when the row was accepted. Rolled back either way.
async fn message_verdict(
    db: &Db,
    tenant: Uuid,
    conv: Uuid,
    column: &str,
    doc: Option<&str>,
) -> anyhow::Result<Option<String>> {
    let mut tx = db.begin_tenant(ctx(tenant)).await?;
    let sql = format!(
        "INSERT INTO app.messages (conversation_id, content, direction, sender, {column})
         VALUES ($1, 'x', 'inbound', 'customer', $2::jsonb)"
    );
    let result = sqlx::query(&sql)
        .bind(conv)
        .bind(doc)
        .execute(tx.conn())
        .await;
    verdict(result)
}

fn verdict<T>(result: Result<T, sqlx::Error>) -> anyhow::Result<Option<String>> {
    match result {
        Ok(_) => Ok(None),
        Err(e) if sqlstate(&e).as_deref() == Some("23514") => match e {
            sqlx::Error::Database(d) => Ok(d.constraint().map(str::to_owned)),
            _ => unreachable!(),
        },
        Err(e) => Err(e.into()),
    }
}

#[tokio::test]
async fn the_message_document_checks_refuse_what_they_refused_and_pass_the_rest(
) -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let tenant = create_tenant(&t.db, "A").await?;
    let conv = create_conversation(&t.db, tenant).await?;
    // (column, document, refused by `messages_<column>_check`)
    let cases: &[(&str, Option<&str>, bool)] = &[
        ("location", None, false),
        (
            "location",
            Some(r#"{"latitude": 50.08, "longitude": 14.42}"#),
            false,
        ),
        ("location", Some(r#"{"latitude": 100}"#), true),
        ("location", Some(r#"{"name": 7}"#), true),
        ("location", Some(r#""Prague""#), true),
        ("location", Some("null"), true),
        ("attachments", Some("[]"), false),
        (
            "attachments",
            Some(r#"[{"type": "image", "url": "u"}]"#),
            false,
        ),
        ("attachments", Some(r#"[{"type": "gif"}]"#), true),
        ("attachments", Some("[1]"), true),
        ("attachments", Some("{}"), true),
        ("metadata", Some("{}"), false),
        ("metadata", Some(r#"{"feedbackRating": "positive"}"#), false),
        ("metadata", Some(r#"{"feedbackRating": "meh"}"#), true),
        ("metadata", Some("[]"), true),
        ("ai_response", None, false),
        (
            "ai_response",
            Some(r#"{"confidence": 0.5, "sentiment": "neutral"}"#),
            false,
        ),
        ("ai_response", Some(r#"{"confidence": 2}"#), true),
        ("ai_response", Some("[]"), true),
        ("template", None, false),
        (
            "template",
            Some(r#"{"name": "welcome", "parameters": []}"#),
            false,
        ),
        ("template", Some(r#"{"name": 1}"#), true),
        ("interactive", None, false),
        (
            "interactive",
            Some(r#"{"type": "list", "listItems": []}"#),
            false,
        ),
        ("interactive", Some(r#"{"type": "carousel"}"#), true),
        ("interactive", Some(r#"{"buttons": {}}"#), true),
    ];
    for (column, doc, refused) in cases {
        let got = message_verdict(&t.db, tenant, conv, column, *doc).await?;
        let expected = refused.then(|| format!("messages_{column}_check"));
        assert_eq!(got, expected, "{column} = {doc:?}");
    }
    Ok(())
}

#[tokio::test]
async fn the_audit_entry_document_checks_refuse_what_they_refused_and_pass_the_rest(
) -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let tenant = create_tenant(&t.db, "A").await?;
    // (details, location, the constraint that refuses them: `audit_log_<it>_check`)
    let cases: &[(&str, Option<&str>, Option<&str>)] = &[
        ("{}", None, None),
        (r#"{"after": {"id": 1}}"#, None, None),
        (r#"{"changes": ["name"], "reason": "asked"}"#, None, None),
        (r#"{"changes": "name"}"#, None, Some("details")),
        (r#"{"reason": 1}"#, None, Some("details")),
        ("[]", None, Some("details")),
        (r#"["changes"]"#, None, Some("details")),
        ("{}", Some(r#"{"city": "Prague"}"#), None),
        ("{}", Some(r#"{"city": 1}"#), Some("location")),
        ("{}", Some("[]"), Some("location")),
    ];
    for (details, location, expected) in cases {
        let mut tx = t.db.begin_tenant(ctx(tenant)).await?;
        let result = sqlx::query(
            "INSERT INTO app.audit_log (entity_type, action, details, location)
             VALUES ('test', 'created', $1::jsonb, $2::jsonb)",
        )
        .bind(details)
        .bind(location)
        .execute(tx.conn())
        .await;
        let got = verdict(result)?;
        let expected = expected.map(|c| format!("audit_log_{c}_check"));
        assert_eq!(got, expected, "details {details}, location {location:?}");
    }
    Ok(())
}
