//! Ticket and member events (migration 0016) in the one commit-ordered log of 0008: which
//! writes emit, that one transaction emits one event per subject, that each row names exactly
//! one subject, that rows of other tenants and suppressed writes emit nothing, and that the
//! events follow their subject's deletion and the retention purge like every other event.

mod common;

use common::{create_customer, create_tenant, ctx, sqlstate};
use frontdesk_db::events::{self, EventRow};
use frontdesk_db::testing::TestDb;
use frontdesk_db::{sqlx, Db};
use uuid::Uuid;

/// Runs statements with uuid parameters in one transaction of the tenant, and commits.
async fn run(db: &Db, tenant: Uuid, statements: &[(&str, &[Uuid])]) -> anyhow::Result<()> {
    let mut tx = db.begin_tenant(ctx(tenant)).await?;
    for (sql, args) in statements {
        let mut q = sqlx::query(sql);
        for a in *args {
            q = q.bind(*a);
        }
        q.execute(tx.conn()).await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn read_after(db: &Db, tenant: Uuid, pos: i64) -> anyhow::Result<Vec<EventRow>> {
    let mut tx = db.begin_tenant(ctx(tenant)).await?;
    Ok(events::after(&mut tx, pos, 1000).await?)
}

async fn head(db: &Db, tenant: Uuid) -> anyhow::Result<i64> {
    let mut tx = db.begin_tenant(ctx(tenant)).await?;
    Ok(events::head(&mut tx).await?)
}

/// A user who is a member of `tenant`, created the way the API's sign-up does: the user row
/// by the owner, the membership in the tenant's scope (so it emits).
async fn create_member(t: &TestDb, tenant: Uuid) -> anyhow::Result<Uuid> {
    let user = Uuid::new_v4();
    sqlx::query("INSERT INTO app.users (id, email) VALUES ($1, $2)")
        .bind(user)
        .bind(format!("{user}@example.com"))
        .execute(t.owner())
        .await?;
    run(
        &t.db,
        tenant,
        &[("INSERT INTO app.memberships (user_id) VALUES ($1)", &[user])],
    )
    .await?;
    Ok(user)
}

async fn create_ticket(db: &Db, tenant: Uuid, customer: Uuid) -> anyhow::Result<Uuid> {
    let mut tx = db.begin_tenant(ctx(tenant)).await?;
    let id = sqlx::query_scalar(
        "INSERT INTO app.tickets (customer_id, subject, description, category)
         VALUES ($1, 'Broken', 'It broke', 'other') RETURNING id",
    )
    .bind(customer)
    .fetch_one(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(id)
}

fn subjects(events: &[EventRow]) -> Vec<(&str, Option<Uuid>)> {
    events
        .iter()
        .map(|e| {
            (
                e.kind.as_str(),
                e.ticket_id.or(e.member_id).or(e.conversation_id),
            )
        })
        .collect()
}

#[tokio::test]
async fn one_event_per_subject_per_transaction_in_the_tenants_one_numbering() -> anyhow::Result<()>
{
    let t = TestDb::new().await?;
    let tenant = create_tenant(&t.db, "A").await?;
    let customer = create_customer(&t.db, tenant, "+420601000001").await?;
    let agent = create_member(&t, tenant).await?;
    let ticket = create_ticket(&t.db, tenant, customer).await?;
    let start = head(&t.db, tenant).await?;

    run(
        &t.db,
        tenant,
        &[
            (
                "UPDATE app.tickets SET status = 'in_progress' WHERE id = $1",
                &[ticket],
            ),
            (
                "UPDATE app.tickets SET assigned_agent_id = $2 WHERE id = $1",
                &[ticket, agent],
            ),
            (
                "INSERT INTO app.ticket_notes (ticket_id, content) VALUES ($1, 'a')",
                &[ticket],
            ),
            (
                "INSERT INTO app.ticket_notes (ticket_id, content) VALUES ($1, 'b')",
                &[ticket],
            ),
            (
                "UPDATE app.memberships SET status = 'online' WHERE user_id = $1",
                &[agent],
            ),
            (
                "UPDATE app.memberships SET total_conversations = 4 WHERE user_id = $1",
                &[agent],
            ),
        ],
    )
    .await?;
    // Only updated_at, or only columns a roster does not show: nothing.
    run(
        &t.db,
        tenant,
        &[
            (
                "UPDATE app.tickets SET subject = subject WHERE id = $1",
                &[ticket],
            ),
            (
                "UPDATE app.memberships SET last_activity_at = now(), average_response_time = 2,
                        preferences = '{\"timezone\": \"UTC\"}' WHERE user_id = $1",
                &[agent],
            ),
        ],
    )
    .await?;
    // A note edited or removed changes its ticket too.
    run(
        &t.db,
        tenant,
        &[(
            "UPDATE app.ticket_notes SET content = 'edited' WHERE content = 'a'",
            &[],
        )],
    )
    .await?;
    run(
        &t.db,
        tenant,
        &[("DELETE FROM app.ticket_notes WHERE content = 'b'", &[])],
    )
    .await?;

    let seen = read_after(&t.db, tenant, start).await?;
    assert_eq!(
        subjects(&seen),
        vec![
            ("ticket_updated", Some(ticket)),
            ("member_updated", Some(agent)),
            ("ticket_updated", Some(ticket)),
            ("ticket_updated", Some(ticket)),
        ]
    );
    let numbers: Vec<i64> = seen.iter().map(|e| e.seq).collect();
    assert_eq!(
        numbers,
        (start + 1..=start + 4).collect::<Vec<_>>(),
        "dense"
    );
    assert!(seen
        .iter()
        .all(|e| e.channel.is_none() && e.message_id.is_none()));
    Ok(())
}

#[tokio::test]
async fn every_event_names_exactly_the_subject_of_its_kind() -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let tenant = create_tenant(&t.db, "A").await?;
    let customer = create_customer(&t.db, tenant, "+420601000002").await?;
    let ticket = create_ticket(&t.db, tenant, customer).await?;
    let agent = create_member(&t, tenant).await?;
    let mut tx = t.db.begin_tenant(ctx(tenant)).await?;
    let conversation: Uuid =
        sqlx::query_scalar("INSERT INTO app.conversations (channel) VALUES ('sms') RETURNING id")
            .fetch_one(tx.conn())
            .await?;
    tx.commit().await?;
    for (kind, conv, channel, ticket_id, member_id) in [
        ("ticket_updated", None, None, None, None),
        ("ticket_updated", None, None, Some(ticket), Some(agent)),
        (
            "ticket_updated",
            Some(conversation),
            Some("sms"),
            Some(ticket),
            None,
        ),
        ("member_updated", None, None, Some(ticket), None),
        ("conversation_updated", Some(conversation), None, None, None),
        (
            "conversation_updated",
            Some(conversation),
            Some("sms"),
            None,
            Some(agent),
        ),
        ("something_else", None, None, Some(ticket), None),
    ] {
        let mut tx = t.db.begin_tenant(ctx(tenant)).await?;
        let err = sqlx::query(
            "INSERT INTO app.inbox_events (kind, conversation_id, channel, ticket_id, member_id)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(kind)
        .bind(conv)
        .bind(channel)
        .bind(ticket_id)
        .bind(member_id)
        .execute(tx.conn())
        .await
        .expect_err(kind);
        assert_eq!(sqlstate(&err).as_deref(), Some("23514"), "{kind}: {err}");
    }
    Ok(())
}

#[tokio::test]
async fn suppressed_writes_and_other_tenants_rows_emit_nothing_and_never_fail_the_write(
) -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let (a, b) = (
        create_tenant(&t.db, "A").await?,
        create_tenant(&t.db, "B").await?,
    );
    let customer = create_customer(&t.db, b, "+420601000003").await?;
    // One person in both tenants, assigned a ticket in B.
    let shared = create_member(&t, a).await?;
    run(
        &t.db,
        b,
        &[(
            "INSERT INTO app.memberships (user_id) VALUES ($1)",
            &[shared],
        )],
    )
    .await?;
    let ticket = create_ticket(&t.db, b, customer).await?;
    run(
        &t.db,
        b,
        &[(
            "UPDATE app.tickets SET assigned_agent_id = $2 WHERE id = $1",
            &[ticket, shared],
        )],
    )
    .await?;
    let b_head = head(&t.db, b).await?;

    // The seed's switch.
    let mut tx = t.db.begin_tenant(ctx(b)).await?;
    sqlx::query("SELECT set_config('frontdesk.suppress_events', 'on', true)")
        .execute(tx.conn())
        .await?;
    sqlx::query("UPDATE app.tickets SET status = 'closed' WHERE id = $1")
        .bind(ticket)
        .execute(tx.conn())
        .await?;
    sqlx::query("UPDATE app.memberships SET status = 'busy' WHERE user_id = $1")
        .bind(shared)
        .execute(tx.conn())
        .await?;
    tx.commit().await?;
    assert!(read_after(&t.db, b, b_head).await?.is_empty());

    // The person deletes their account, outside any tenant: the memberships go in both
    // tenants, B's ticket is unassigned by the foreign key's action — no event may be written
    // for a tenant that is not the current one, and the deletion goes through.
    let mut tx = t.db.begin_user(shared).await?;
    sqlx::query("DELETE FROM app.users WHERE id = $1")
        .bind(shared)
        .execute(tx.conn())
        .await?;
    tx.commit().await?;
    assert!(read_after(&t.db, b, b_head).await?.is_empty());
    let mut tx = t.db.begin_tenant(ctx(b)).await?;
    let assignee: Option<Uuid> =
        sqlx::query_scalar("SELECT assigned_agent_id FROM app.tickets WHERE id = $1")
            .bind(ticket)
            .fetch_one(tx.conn())
            .await?;
    assert_eq!(assignee, None);
    // The member's events went with the membership.
    let left: i64 =
        sqlx::query_scalar("SELECT count(*) FROM app.inbox_events WHERE member_id IS NOT NULL")
            .fetch_one(tx.conn())
            .await?;
    assert_eq!(left, 0);
    Ok(())
}

#[tokio::test]
async fn ticket_events_go_with_their_ticket_and_with_the_retention() -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let tenant = create_tenant(&t.db, "A").await?;
    let customer = create_customer(&t.db, tenant, "+420601000004").await?;
    let gone = create_ticket(&t.db, tenant, customer).await?;
    let kept = create_ticket(&t.db, tenant, customer).await?;
    let member = create_member(&t, tenant).await?;
    run(
        &t.db,
        tenant,
        &[(
            "INSERT INTO app.ticket_notes (ticket_id, content) VALUES ($1, 'n')",
            &[gone],
        )],
    )
    .await?;
    // Deleting a ticket (its notes cascade, emitting nothing for it) deletes its events.
    run(
        &t.db,
        tenant,
        &[("DELETE FROM app.tickets WHERE id = $1", &[gone])],
    )
    .await?;
    let all = read_after(&t.db, tenant, 0).await?;
    assert_eq!(
        subjects(&all),
        vec![
            ("ticket_updated", Some(kept)),
            ("member_updated", Some(member)),
        ]
    );

    // The retention purge deletes by number, whatever the kind.
    let mut tx = t.db.begin_tenant(ctx(tenant)).await?;
    sqlx::query("UPDATE app.inbox_events SET committed_at = now() - interval '40 days'")
        .execute(tx.conn())
        .await?;
    let deleted: i64 =
        sqlx::query_scalar("SELECT app.purge_inbox_events(now() - interval '30 days')")
            .fetch_one(tx.conn())
            .await?;
    assert_eq!(deleted, 2);
    assert_eq!(events::purged_through(&mut tx).await?, all[1].seq);
    tx.commit().await?;
    assert!(read_after(&t.db, tenant, 0).await?.is_empty());
    Ok(())
}

/// Deleting a tenant in its own scope cascades to its memberships, whose removal unassigns
/// tickets and conversations (updates that fire the event triggers) while the tenant row is
/// already gone: the deletion must still go through.
#[tokio::test]
async fn a_tenant_with_assigned_tickets_can_still_be_deleted() -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let tenant = create_tenant(&t.db, "A").await?;
    let customer = create_customer(&t.db, tenant, "+420601000005").await?;
    let member = create_member(&t, tenant).await?;
    let ticket = create_ticket(&t.db, tenant, customer).await?;
    run(
        &t.db,
        tenant,
        &[
            (
                "UPDATE app.tickets SET assigned_agent_id = $2 WHERE id = $1",
                &[ticket, member],
            ),
            (
                "INSERT INTO app.conversations (channel, assigned_agent_id) VALUES ('sms', $1)",
                &[member],
            ),
        ],
    )
    .await?;
    run(
        &t.db,
        tenant,
        &[("DELETE FROM app.tenants WHERE id = $1", &[tenant])],
    )
    .await?;
    let left: i64 =
        sqlx::query_scalar("SELECT count(*) FROM app.inbox_events WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_one(t.owner())
            .await?;
    assert_eq!(left, 0);
    Ok(())
}
