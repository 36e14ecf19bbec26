//! The inbox event log (migration 0008): numbers follow commit order within a tenant, so a
//! reader that repeatedly asks for "everything after the last number I saw" misses nothing,
//! however writers interleave; and tenants never see each other's events.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{create_conversation, create_tenant, ctx};
use frontdesk_db::events::{self, EventRow, Notice};
use frontdesk_db::testing::TestDb;
use frontdesk_db::{sqlx, Db, TenantTx};
use uuid::Uuid;

async fn insert_message(tx: &mut TenantTx, conversation: Uuid, text: &str) -> anyhow::Result<Uuid> {
    Ok(sqlx::query_scalar(
        "INSERT INTO app.messages (conversation_id, content, direction, sender)
         VALUES ($1, $2, 'inbound', 'customer') RETURNING id",
    )
    .bind(conversation)
    .bind(text)
    .fetch_one(tx.conn())
    .await?)
}

async fn read_after(db: &Db, tenant: Uuid, pos: i64) -> anyhow::Result<Vec<EventRow>> {
    let mut tx = db.begin_tenant(ctx(tenant)).await?;
    Ok(events::after(&mut tx, pos, 1000).await?)
}

#[tokio::test]
async fn a_transaction_that_commits_later_gets_the_later_number_even_if_it_wrote_first(
) -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let tenant = create_tenant(&t.db, "A").await?;
    let conv = create_conversation(&t.db, tenant).await?;
    let start = read_after(&t.db, tenant, 0)
        .await?
        .last()
        .map_or(0, |e| e.seq);

    let mut first = t.db.begin_tenant(ctx(tenant)).await?;
    let early = insert_message(&mut first, conv, "written first").await?;
    let mut second = t.db.begin_tenant(ctx(tenant)).await?;
    let late = insert_message(&mut second, conv, "written second").await?;
    // Neither is visible before it commits.
    assert!(read_after(&t.db, tenant, start).await?.is_empty());
    second.commit().await?;
    let seen = read_after(&t.db, tenant, start).await?;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].message_id, Some(late));
    first.commit().await?;
    let seen = read_after(&t.db, tenant, seen[0].seq).await?;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].message_id, Some(early));

    // The message rows carry their event's number; a rolled-back write leaves no number behind.
    let mut tx = t.db.begin_tenant(ctx(tenant)).await?;
    let seqs: Vec<(Uuid, Option<i64>)> =
        sqlx::query_as("SELECT id, seq FROM app.messages ORDER BY seq")
            .fetch_all(tx.conn())
            .await?;
    assert_eq!(seqs[0].0, late);
    assert_eq!(seqs[1].0, early);
    assert_eq!(seqs[1].1, Some(seqs[0].1.unwrap_or_default() + 1));
    insert_message(&mut tx, conv, "rolled back").await?;
    tx.rollback().await?;
    let mut tx = t.db.begin_tenant(ctx(tenant)).await?;
    insert_message(&mut tx, conv, "kept").await?;
    tx.commit().await?;
    let all = read_after(&t.db, tenant, start).await?;
    let numbers: Vec<i64> = all.iter().map(|e| e.seq).collect();
    let first_seq = numbers[0];
    assert_eq!(
        numbers,
        (first_seq..first_seq + numbers.len() as i64).collect::<Vec<_>>(),
        "numbers are dense: {all:?}"
    );
    Ok(())
}

#[tokio::test]
async fn an_incremental_reader_sees_every_event_of_concurrent_writers_exactly_once(
) -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let tenant = create_tenant(&t.db, "A").await?;
    let other = create_tenant(&t.db, "B").await?;
    let conv = create_conversation(&t.db, tenant).await?;
    let other_conv = create_conversation(&t.db, other).await?;
    let start = read_after(&t.db, tenant, 0)
        .await?
        .last()
        .map_or(0, |e| e.seq);

    const WRITERS: usize = 6;
    const PER_WRITER: usize = 25;
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..WRITERS {
        let db = t.db.clone();
        writers.spawn(async move {
            let mut ids = vec![];
            for i in 0..PER_WRITER {
                let (tenant, conv) = if i % 5 == 4 {
                    (other, other_conv)
                } else {
                    (tenant, conv)
                };
                let mut tx = db.begin_tenant(ctx(tenant)).await?;
                let id = insert_message(&mut tx, conv, &format!("{w}/{i}")).await?;
                // Hold the transaction open a varying while, so commits interleave.
                tokio::time::sleep(Duration::from_millis(((w * 7 + i * 3) % 5) as u64)).await;
                tx.commit().await?;
                if i % 5 != 4 {
                    ids.push(id);
                }
            }
            anyhow::Ok(ids)
        });
    }

    // The reader polls concurrently and keeps its position, as a subscriber does.
    let reader = {
        let db = t.db.clone();
        tokio::spawn(async move {
            let mut pos = start;
            let mut seen = vec![];
            let expected = WRITERS * PER_WRITER * 4 / 5;
            while seen.len() < expected {
                for e in read_after(&db, tenant, pos).await? {
                    assert!(e.seq > pos, "out of order: {} after {pos}", e.seq);
                    pos = e.seq;
                    seen.push(e);
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            anyhow::Ok(seen)
        })
    };
    let mut written = BTreeSet::new();
    while let Some(ids) = writers.join_next().await {
        written.extend(ids??);
    }
    let seen = tokio::time::timeout(Duration::from_secs(60), reader).await???;
    let seen_ids: Vec<Uuid> = seen.iter().filter_map(|e| e.message_id).collect();
    assert_eq!(seen_ids.len(), written.len(), "duplicates or losses");
    assert_eq!(seen_ids.iter().copied().collect::<BTreeSet<_>>(), written);
    assert!(
        seen.iter().all(|e| e.conversation_id == Some(conv)),
        "another tenant's event leaked"
    );
    Ok(())
}

#[tokio::test]
async fn the_listener_names_the_tenant_and_resumes_after_its_connection_is_killed(
) -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let tenant = create_tenant(&t.db, "A").await?;
    let conv = create_conversation(&t.db, tenant).await?;
    let mut listener = t.db.inbox_listener().await?;

    let mut tx = t.db.begin_tenant(ctx(tenant)).await?;
    insert_message(&mut tx, conv, "hello").await?;
    tx.commit().await?;
    let notice = tokio::time::timeout(Duration::from_secs(10), listener.recv()).await?;
    assert_eq!(notice, Notice::Tenant(tenant));

    let killed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND query ILIKE 'LISTEN%') k",
    )
    .fetch_one(t.owner())
    .await?;
    assert_eq!(killed, 1);
    let notice = tokio::time::timeout(Duration::from_secs(10), listener.recv()).await?;
    assert_eq!(notice, Notice::Resumed);
    // Listening again: the next commit is heard.
    let mut tx = t.db.begin_tenant(ctx(tenant)).await?;
    insert_message(&mut tx, conv, "again").await?;
    tx.commit().await?;
    let notice = tokio::time::timeout(Duration::from_secs(10), listener.recv()).await?;
    assert_eq!(notice, Notice::Tenant(tenant));
    Ok(())
}

async fn age_events(db: &Db, tenant: Uuid, through: i64) -> anyhow::Result<()> {
    let mut tx = db.begin_tenant(ctx(tenant)).await?;
    sqlx::query(
        "UPDATE app.inbox_events SET committed_at = now() - interval '40 days' WHERE seq <= $1",
    )
    .bind(through)
    .execute(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn events_past_the_retention_are_purged_and_the_purge_is_remembered() -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let tenant = create_tenant(&t.db, "A").await?;
    let conv = create_conversation(&t.db, tenant).await?;
    for i in 0..3 {
        let mut tx = t.db.begin_tenant(ctx(tenant)).await?;
        insert_message(&mut tx, conv, &format!("m{i}")).await?;
        tx.commit().await?;
    }
    let all = read_after(&t.db, tenant, 0).await?;
    let old_upto = all[all.len() - 2].seq;
    age_events(&t.db, tenant, old_upto).await?;

    let mut tx = t.db.begin_tenant(ctx(tenant)).await?;
    let deleted: i64 =
        sqlx::query_scalar("SELECT app.purge_inbox_events(now() - interval '30 days')")
            .fetch_one(tx.conn())
            .await?;
    assert_eq!(deleted, all.len() as i64 - 1);
    assert_eq!(events::purged_through(&mut tx).await?, old_upto);
    tx.commit().await?;
    let left = read_after(&t.db, tenant, 0).await?;
    assert_eq!(left, all[all.len() - 1..].to_vec());

    // The numbering purges by itself every 512 numbers: age what is there, commit a batch
    // that crosses the next multiple of 512, and the aged events are gone.
    let head = left[0].seq;
    age_events(&t.db, tenant, head).await?;
    let mut tx = t.db.begin_tenant(ctx(tenant)).await?;
    sqlx::query(
        "INSERT INTO app.messages (conversation_id, content, direction, sender)
         SELECT $1, 'bulk', 'inbound', 'customer' FROM generate_series(1, 520)",
    )
    .bind(conv)
    .execute(tx.conn())
    .await?;
    tx.commit().await?;
    let now = read_after(&t.db, tenant, 0).await?;
    assert_eq!(now.len(), 520);
    assert!(now.iter().all(|e| e.seq > head));
    let mut tx = t.db.begin_tenant(ctx(tenant)).await?;
    assert_eq!(events::purged_through(&mut tx).await?, head);
    Ok(())
}
