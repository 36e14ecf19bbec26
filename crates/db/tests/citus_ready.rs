//! What migration 0026 changed to make the schema distributable (docs/scaling.md) behaves on a
//! single server as the constructs it replaced did: links to a deleted row are cleared (the
//! former `ON DELETE SET NULL`), in the acting tenant with its events and in other tenants
//! without, and a tenant slug is held by one tenant at a time (the former unique constraint).

mod common;

use common::{create_tenant, ctx, sqlstate};
use frontdesk_db::testing::TestDb;
use frontdesk_db::{events, sqlx, Db};
use uuid::Uuid;

/// A user who is a member of each of `tenants` (set up as the owner, as fixtures do).
async fn member_of(t: &TestDb, tenants: &[Uuid]) -> anyhow::Result<Uuid> {
    let user = Uuid::new_v4();
    sqlx::query("INSERT INTO app.users (id, email) VALUES ($1, $1::text || '@example.test')")
        .bind(user)
        .execute(t.owner())
        .await?;
    for tenant in tenants {
        sqlx::query("INSERT INTO app.memberships (tenant_id, user_id) VALUES ($1, $2)")
            .bind(tenant)
            .bind(user)
            .execute(t.owner())
            .await?;
    }
    Ok(user)
}

/// A conversation of `tenant` assigned to `agent`.
async fn assigned_conversation(db: &Db, tenant: Uuid, agent: Uuid) -> anyhow::Result<Uuid> {
    let mut tx = db.begin_tenant(ctx(tenant)).await?;
    let id = sqlx::query_scalar(
        "INSERT INTO app.conversations (channel, assigned_agent_id) VALUES ('sms', $1) RETURNING id",
    )
    .bind(agent)
    .fetch_one(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(id)
}

async fn assignee(db: &Db, tenant: Uuid, conversation: Uuid) -> anyhow::Result<Option<Uuid>> {
    let mut tx = db.begin_tenant(ctx(tenant)).await?;
    Ok(
        sqlx::query_scalar("SELECT assigned_agent_id FROM app.conversations WHERE id = $1")
            .bind(conversation)
            .fetch_one(tx.conn())
            .await?,
    )
}

#[tokio::test]
async fn removing_a_member_unassigns_their_conversations_and_watchers_hear_it() -> anyhow::Result<()>
{
    let t = TestDb::new().await?;
    let tenant = create_tenant(&t.db, "A").await?;
    let agent = member_of(&t, &[tenant]).await?;
    let conversation = assigned_conversation(&t.db, tenant, agent).await?;
    let mut tx = t.db.begin_tenant(ctx(tenant)).await?;
    let head = events::head(&mut tx).await?;
    sqlx::query("DELETE FROM app.memberships WHERE user_id = $1")
        .bind(agent)
        .execute(tx.conn())
        .await?;
    tx.commit().await?;

    assert_eq!(assignee(&t.db, tenant, conversation).await?, None);
    let mut tx = t.db.begin_tenant(ctx(tenant)).await?;
    let heard = events::after(&mut tx, head, 10).await?;
    assert_eq!(heard.len(), 1, "{heard:?}");
    assert_eq!(heard[0].kind, "conversation_updated");
    assert_eq!(heard[0].conversation_id, Some(conversation));
    Ok(())
}

#[tokio::test]
async fn deleting_a_user_outside_any_tenant_clears_their_links_in_every_tenant_silently(
) -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let (a, b) = (
        create_tenant(&t.db, "A").await?,
        create_tenant(&t.db, "B").await?,
    );
    let agent = member_of(&t, &[a, b]).await?;
    let in_a = assigned_conversation(&t.db, a, agent).await?;
    let in_b = assigned_conversation(&t.db, b, agent).await?;

    sqlx::query("DELETE FROM app.users WHERE id = $1")
        .bind(agent)
        .execute(t.owner())
        .await?;

    assert_eq!(assignee(&t.db, a, in_a).await?, None);
    assert_eq!(assignee(&t.db, b, in_b).await?, None);
    // Rows of a tenant nobody acted in emit nothing (0008), so nothing waits to be numbered.
    let unnumbered: i64 =
        sqlx::query_scalar("SELECT count(*) FROM app.inbox_events WHERE seq IS NULL")
            .fetch_one(t.owner())
            .await?;
    assert_eq!(unnumbered, 0);
    Ok(())
}

#[tokio::test]
async fn deleting_a_conversation_deletes_messages_that_reply_to_each_other() -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let tenant = create_tenant(&t.db, "A").await?;
    let agent = member_of(&t, &[tenant]).await?;
    let conversation = assigned_conversation(&t.db, tenant, agent).await?;
    let mut tx = t.db.begin_tenant(ctx(tenant)).await?;
    let mut previous: Option<Uuid> = None;
    for text in ["question", "answer", "follow-up", "thanks"] {
        previous = Some(
            sqlx::query_scalar(
                "INSERT INTO app.messages (conversation_id, content, direction, sender, reply_to_id)
                 VALUES ($1, $2, 'inbound', 'customer', $3) RETURNING id",
            )
            .bind(conversation)
            .bind(text)
            .bind(previous)
            .fetch_one(tx.conn())
            .await?,
        );
    }
    // One reply loses its parent: the link is cleared, the reply stays.
    sqlx::query("DELETE FROM app.messages WHERE content = 'answer'")
        .execute(tx.conn())
        .await?;
    let orphan: Option<Uuid> =
        sqlx::query_scalar("SELECT reply_to_id FROM app.messages WHERE content = 'follow-up'")
            .fetch_one(tx.conn())
            .await?;
    assert_eq!(orphan, None);
    // The conversation's deletion deletes the chain in one cascade.
    sqlx::query("DELETE FROM app.conversations WHERE id = $1")
        .bind(conversation)
        .execute(tx.conn())
        .await?;
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM app.messages")
        .fetch_one(tx.conn())
        .await?;
    assert_eq!(left, 0);
    tx.commit().await?;
    Ok(())
}

async fn set_slug(db: &Db, tenant: Uuid, slug: &str) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_tenant(ctx(tenant)).await.expect("scope");
    sqlx::query("UPDATE app.tenants SET slug = $2 WHERE id = $1")
        .bind(tenant)
        .bind(slug)
        .execute(tx.conn())
        .await?;
    tx.commit().await.expect("commit");
    Ok(())
}

#[tokio::test]
async fn a_slug_is_held_by_one_tenant_at_a_time() -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let (a, b) = (
        create_tenant(&t.db, "A").await?,
        create_tenant(&t.db, "B").await?,
    );
    set_slug(&t.db, a, "alpha").await?;
    let taken = set_slug(&t.db, b, "alpha")
        .await
        .expect_err("a slug another tenant holds is refused");
    assert_eq!(sqlstate(&taken).as_deref(), Some("23505"));

    // Renaming frees the old slug; deleting the tenant frees its slug.
    set_slug(&t.db, a, "alpha-2").await?;
    set_slug(&t.db, b, "alpha").await?;
    let mut tx = t.db.begin_tenant(ctx(a)).await?;
    sqlx::query("DELETE FROM app.tenants WHERE id = $1")
        .bind(a)
        .execute(tx.conn())
        .await?;
    tx.commit().await?;
    set_slug(&t.db, b, "alpha-2").await?;

    let held: Vec<(String, Uuid)> =
        sqlx::query_as("SELECT slug, held_by FROM app.tenant_slugs ORDER BY slug")
            .fetch_all(t.owner())
            .await?;
    assert_eq!(held, vec![("alpha-2".to_owned(), b)]);
    Ok(())
}
