//! Live inbox subscriptions end to end, on real WebSockets against real servers: delivery
//! across server processes, exactly-once in commit order through a killed listener
//! connection, resume by cursor, tenant isolation, and the connection's auth and limits.

use std::collections::HashSet;
use std::time::Duration;

use frontdesk_db::sqlx;
use frontdesk_e2e::process::spawn_process;
use frontdesk_e2e::ws::{Frame, WsClient, LEGACY_WS};
use frontdesk_e2e::{error_code, spawn_app, Principal, Role, SeedSpec, TestApp};
use serde_json::{json, Value};
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(20);

const MESSAGES: &str = "subscription($c: ID, $after: String) {
  messageAdded(conversationId: $c, after: $after) { cursor message { id: rowId content conversationId } }
}";

const CONVERSATIONS: &str = "subscription($f: ConversationWatchFilter, $after: String) {
  conversationUpdated(filter: $f, after: $after) { cursor conversation { id: rowId status } }
}";

fn small() -> SeedSpec {
    SeedSpec {
        tenants: 2,
        customers_per_tenant: 6,
        bookings_per_customer: 1,
        calls_per_booking: 1,
        sms_per_call: 1,
    }
}

fn tenant(i: u32) -> Uuid {
    SeedSpec::tenant_id(i)
}

async fn seeded() -> anyhow::Result<TestApp> {
    let app = spawn_app().await?;
    app.seed(&small()).await?;
    Ok(app)
}

/// The tenant's seeded conversations, oldest first.
async fn conversations(app: &TestApp, tenant: Uuid) -> anyhow::Result<Vec<Uuid>> {
    let mut tx = app.db.db.begin_tenant(ctx(tenant)).await?;
    Ok(
        sqlx::query_scalar("SELECT id FROM app.conversations ORDER BY created_at, id")
            .fetch_all(tx.conn())
            .await?,
    )
}

fn ctx(tenant: Uuid) -> frontdesk_db::TenantCtx {
    frontdesk_db::TenantCtx {
        tenant_id: tenant,
        user_id: None,
    }
}

/// The message ids of a tenant in commit order.
async fn commit_order(app: &TestApp, tenant: Uuid) -> anyhow::Result<Vec<Uuid>> {
    let mut tx = app.db.db.begin_tenant(ctx(tenant)).await?;
    Ok(
        sqlx::query_scalar("SELECT id FROM app.messages WHERE seq IS NOT NULL ORDER BY seq")
            .fetch_all(tx.conn())
            .await?,
    )
}

fn message_id(payload: &Value) -> Uuid {
    let id = &payload["data"]["messageAdded"]["message"]["id"];
    id.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no message id: rowId in {payload}"))
}

/// Receives `n` messageAdded payloads.
async fn receive(client: &mut WsClient, n: usize) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let (_, payload) = client.next_payload(WAIT).await?;
        anyhow::ensure!(payload.get("errors").is_none(), "error event: {payload}");
        out.push(payload);
    }
    Ok(out)
}

#[tokio::test]
async fn a_subscriber_on_one_server_process_receives_what_is_written_through_another(
) -> anyhow::Result<()> {
    let app = seeded().await?;
    let a = spawn_process(&app.db).await?;
    let b = spawn_process(&app.db).await?;
    let token = app.token(tenant(0), Role::Agent).await?;
    let conv = conversations(&app, tenant(0)).await?[0];

    let mut sub = WsClient::connect(a.addr, &token).await?;
    sub.subscribe("1", MESSAGES, json!({ "c": conv })).await?;
    // Subscriptions start with the next commit; give the server a moment to register.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let body: Value = app
        .client
        .post(format!("http://{}/graphql", b.addr))
        .bearer_auth(&token)
        .json(&json!({
            "query": "mutation($c: ID!) { postMessage(input: { conversationId: $c, content: \"from replica b\" }) { id: rowId } }",
            "variables": { "c": conv },
        }))
        .send()
        .await?
        .json()
        .await?;
    assert!(body.get("errors").is_none(), "{body}");
    let (id, payload) = sub.next_payload(WAIT).await?;
    assert_eq!(id, "1");
    let message = &payload["data"]["messageAdded"]["message"];
    assert_eq!(message["content"], "from replica b", "{payload}");
    assert_eq!(message["id"], body["data"]["postMessage"]["id"]);
    Ok(())
}

#[tokio::test]
async fn killing_the_listener_connection_mid_burst_loses_and_duplicates_nothing(
) -> anyhow::Result<()> {
    let app = seeded().await?;
    let t = tenant(0);
    let token = app.token(t, Role::Agent).await?;
    let convs = conversations(&app, t).await?;

    // Three watchers: the whole inbox, one conversation, and the inbox on the legacy protocol.
    let mut everything = WsClient::connect(app.addr, &token).await?;
    everything.subscribe("all", MESSAGES, json!({})).await?;
    let mut one = WsClient::connect(app.addr, &token).await?;
    one.subscribe("one", MESSAGES, json!({ "c": convs[0] }))
        .await?;
    let mut legacy = WsClient::open(app.addr, LEGACY_WS).await?;
    legacy.init(&token).await?;
    legacy.subscribe("old", MESSAGES, json!({})).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;

    const WRITERS: usize = 4;
    const EACH: usize = 40;
    let mut writers = burst(&app, t, &convs, WRITERS, EACH, |_, _| false);
    // Mid-burst: terminate every LISTEN connection of the server.
    tokio::time::sleep(Duration::from_millis(60)).await;
    let killed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND query ILIKE 'LISTEN%') k",
    )
    .fetch_one(app.db.owner())
    .await?;
    assert_eq!(killed, 1, "one listener connection per server process");
    while let Some(done) = writers.join_next().await {
        done??;
    }

    let order = commit_order(&app, t).await?;
    assert_eq!(order.len(), WRITERS * EACH);
    let in_one: Vec<Uuid> = {
        let mut tx = app.db.db.begin_tenant(ctx(t)).await?;
        sqlx::query_scalar("SELECT id FROM app.messages WHERE conversation_id = $1 AND seq IS NOT NULL ORDER BY seq")
            .bind(convs[0])
            .fetch_all(tx.conn())
            .await?
    };
    for (client, expected) in [
        (&mut everything, &order),
        (&mut one, &in_one),
        (&mut legacy, &order),
    ] {
        receives_exactly(client, expected).await?;
    }
    Ok(())
}

#[tokio::test]
async fn resuming_with_the_last_cursor_delivers_the_rest_without_gap_or_duplicate(
) -> anyhow::Result<()> {
    let app = seeded().await?;
    let t = tenant(0);
    let token = app.token(t, Role::Agent).await?;
    let conv = conversations(&app, t).await?[1];

    let mut first = WsClient::connect(app.addr, &token).await?;
    first.subscribe("1", MESSAGES, json!({ "c": conv })).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut written = vec![];
    for i in 0..3 {
        written.push(app.insert_message(t, conv, &format!("before {i}")).await?);
    }
    let seen = receive(&mut first, 3).await?;
    let last_cursor = seen[2]["data"]["messageAdded"]["cursor"].clone();
    first.close().await?;

    // While disconnected: more messages, here and elsewhere in the tenant.
    let other = conversations(&app, t).await?[2];
    for i in 0..5 {
        written.push(
            app.insert_message(t, conv, &format!("while away {i}"))
                .await?,
        );
        app.insert_message(t, other, &format!("elsewhere {i}"))
            .await?;
    }
    let mut again = WsClient::connect(app.addr, &token).await?;
    again
        .subscribe("2", MESSAGES, json!({ "c": conv, "after": last_cursor }))
        .await?;
    let resumed: Vec<Uuid> = receive(&mut again, 5)
        .await?
        .iter()
        .map(message_id)
        .collect();
    assert_eq!(resumed, written[3..].to_vec());
    // Then live.
    let live = app.insert_message(t, conv, "live").await?;
    assert_eq!(message_id(&receive(&mut again, 1).await?[0]), live);
    again.expect_silence(Duration::from_millis(500)).await?;
    Ok(())
}

#[tokio::test]
async fn a_tenant_never_receives_another_tenants_events_or_accepts_its_cursors(
) -> anyhow::Result<()> {
    let app = seeded().await?;
    let (a, b) = (tenant(0), tenant(1));
    let a_conv = conversations(&app, a).await?[0];
    let mut b_all = WsClient::connect(app.addr, &app.token(b, Role::Owner).await?).await?;
    b_all.subscribe("all", MESSAGES, json!({})).await?;
    b_all
        .subscribe("theirs", MESSAGES, json!({ "c": a_conv }))
        .await?;
    b_all.subscribe("convs", CONVERSATIONS, json!({})).await?;
    let mut a_all = WsClient::connect(app.addr, &app.token(a, Role::Agent).await?).await?;
    a_all.subscribe("all", MESSAGES, json!({})).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;

    app.insert_message(a, a_conv, "for tenant A only").await?;
    let got = receive(&mut a_all, 1).await?;
    b_all.expect_silence(Duration::from_millis(1500)).await?;

    // A's cursor is refused for B, before anything is read.
    let cursor = got[0]["data"]["messageAdded"]["cursor"].clone();
    b_all
        .subscribe("stolen", MESSAGES, json!({ "after": cursor }))
        .await?;
    let (id, payload) = b_all.next_payload(WAIT).await?;
    assert_eq!(id, "stolen");
    assert_eq!(error_code(&payload), Some("BAD_USER_INPUT"), "{payload}");
    assert_eq!(payload["errors"][0]["extensions"]["field"], "after");
    Ok(())
}

#[tokio::test]
async fn conversation_updates_arrive_filtered_on_the_state_after_the_change() -> anyhow::Result<()>
{
    let app = seeded().await?;
    let t = tenant(0);
    let token = app.token(t, Role::Agent).await?;
    let convs: Vec<Uuid> = {
        let mut tx = app.db.db.begin_tenant(ctx(t)).await?;
        sqlx::query_scalar(
            "SELECT id FROM app.conversations WHERE status NOT IN ('waiting', 'resolved')
              ORDER BY created_at, id",
        )
        .fetch_all(tx.conn())
        .await?
    };
    let mut resolved = WsClient::connect(app.addr, &token).await?;
    resolved
        .subscribe(
            "r",
            CONVERSATIONS,
            json!({ "f": { "status": ["RESOLVED"] } }),
        )
        .await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut tx = app.db.db.begin_tenant(ctx(t)).await?;
    sqlx::query("UPDATE app.conversations SET status = 'waiting' WHERE id = $1")
        .bind(convs[0])
        .execute(tx.conn())
        .await?;
    sqlx::query("UPDATE app.conversations SET status = 'resolved' WHERE id = $1")
        .bind(convs[1])
        .execute(tx.conn())
        .await?;
    tx.commit().await?;
    let (_, payload) = resolved.next_payload(WAIT).await?;
    let c = &payload["data"]["conversationUpdated"]["conversation"];
    assert_eq!(c["id"], json!(convs[1]), "{payload}");
    assert_eq!(c["status"], "RESOLVED");
    resolved.expect_silence(Duration::from_millis(500)).await?;
    Ok(())
}

#[tokio::test]
async fn a_bad_or_expired_token_is_refused_at_init_and_a_silent_client_is_closed(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let expired = app.keys.mint_with_ttl(
        &Principal {
            user_id: Uuid::new_v4(),
            tenant_id: tenant(0),
            role: Role::Agent,
        },
        chrono::Duration::seconds(-5),
    );
    for token in ["not-a-token", expired.as_str()] {
        let mut client = WsClient::open(app.addr, frontdesk_e2e::ws::TRANSPORT_WS).await?;
        client
            .send(json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}}))
            .await?;
        match client.next(WAIT).await? {
            Frame::Closed(code, _) => assert_eq!(code, 4403, "{token}"),
            other => panic!("expected a 4403 close, got {other:?}"),
        }
    }
    // No connection_init at all: a subscribe is refused and the socket closed at the deadline.
    let mut silent = WsClient::open(app.addr, frontdesk_e2e::ws::TRANSPORT_WS).await?;
    match silent.next(Duration::from_secs(15)).await? {
        Frame::Closed(code, _) => assert_eq!(code, 4408),
        other => panic!("expected a 4408 close, got {other:?}"),
    }
    Ok(())
}

#[tokio::test]
async fn the_socket_is_closed_when_its_token_expires() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Expiring").await?;
    let (user, _) = app.new_member(tenant, Role::Agent).await?;
    let short = app.keys.mint_with_ttl(
        &Principal {
            user_id: user,
            tenant_id: tenant,
            role: Role::Agent,
        },
        chrono::Duration::seconds(3),
    );
    let mut client = WsClient::connect(app.addr, &short).await?;
    client.subscribe("1", MESSAGES, json!({})).await?;
    match client.next(Duration::from_secs(10)).await? {
        Frame::Closed(code, _) => assert_eq!(code, 4401),
        other => panic!("expected a 4401 close, got {other:?}"),
    }
    Ok(())
}

#[tokio::test]
async fn a_connection_may_hold_a_limited_number_of_subscriptions() -> anyhow::Result<()> {
    let app = seeded().await?;
    let limit = frontdesk_graphql::subscription::MAX_SUBSCRIPTIONS_PER_CONNECTION;
    let mut client = WsClient::connect(app.addr, &app.token(tenant(0), Role::Agent).await?).await?;
    for i in 0..=limit {
        client
            .subscribe(&format!("s{i}"), MESSAGES, json!({}))
            .await?;
    }
    let (id, payload) = client.next_payload(WAIT).await?;
    assert_eq!(id, format!("s{limit}"));
    assert_eq!(error_code(&payload), Some("RATE_LIMITED"), "{payload}");
    // The others are live. They start a few at a time (a process lets only a few starts use
    // the database at once), and a subscription hears the commits after its start: messages
    // keep coming until every one of them has heard one.
    let conv = conversations(&app, tenant(0)).await?[0];
    let mut ids = HashSet::new();
    for round in 0..50 {
        if ids.len() >= limit {
            break;
        }
        app.insert_message(tenant(0), conv, &format!("to all of them, {round}"))
            .await?;
        while let Ok((id, payload)) = client.next_payload(Duration::from_millis(300)).await {
            if payload["data"]["messageAdded"].is_object() {
                ids.insert(id);
            }
        }
    }
    assert_eq!(ids.len(), limit, "{ids:?}");
    assert!(!ids.contains(&format!("s{limit}")));
    Ok(())
}

#[tokio::test]
async fn an_events_nested_fields_are_read_fresh_for_each_event_in_the_subscribers_tenant(
) -> anyhow::Result<()> {
    let app = seeded().await?;
    let t = tenant(0);
    let token = app.token(t, Role::Agent).await?;
    let conv: Uuid = {
        let mut tx = app.db.db.begin_tenant(ctx(t)).await?;
        sqlx::query_scalar(
            "SELECT id FROM app.conversations WHERE channel = 'whatsapp' AND status <> 'closed'
              ORDER BY created_at, id LIMIT 1",
        )
        .fetch_one(tx.conn())
        .await?
    };
    let mut client = WsClient::connect(app.addr, &token).await?;
    client
        .subscribe(
            "n",
            "subscription($c: ID) { messageAdded(conversationId: $c) {
               message { content conversation { id: rowId messageCount unreadCount customer { id: rowId }
                 messages(first: 1) { totalCount nodes { content } } } } } }",
            json!({ "c": conv }),
        )
        .await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut counts = vec![];
    for i in 0..2 {
        let (_, body) = app
            .graphql(
                Some(&token),
                "mutation($c: ID!, $p: String!) { recordInboundMessage(input: {
                   conversationId: $c, channel: WHATSAPP, providerMessageId: $p, content: \"hi\" }) { id: rowId } }",
                json!({ "c": conv, "p": format!("wamid.nested-{i}") }),
            )
            .await?;
        assert!(body.get("errors").is_none(), "{body}");
        let (_, payload) = client.next_payload(WAIT).await?;
        assert!(payload.get("errors").is_none(), "{payload}");
        let c = &payload["data"]["messageAdded"]["message"]["conversation"];
        assert_eq!(c["id"], json!(conv));
        counts.push((
            c["messageCount"].as_i64(),
            c["unreadCount"].as_i64(),
            c["messages"]["totalCount"].as_i64(),
        ));
    }
    let (m0, u0, t0) = counts[0];
    assert_eq!(
        counts[1],
        (m0.map(|m| m + 1), u0.map(|u| u + 1), t0.map(|t| t + 1)),
        "a nested list is read afresh for every event too: {counts:?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_subscriber_left_behind_the_servers_buffer_catches_up_from_the_database_in_order(
) -> anyhow::Result<()> {
    let app = seeded().await?;
    let t = tenant(0);
    let token = app.token(t, Role::Agent).await?;
    let conv = conversations(&app, t).await?[2];
    let mut client = WsClient::connect(app.addr, &token).await?;
    client.subscribe("lag", MESSAGES, json!({})).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // One commit of more events than the feed keeps in memory (4,096): a subscriber that was
    // before it can only be served from the database.
    const BURST: i64 = 5_000;
    let mut tx = app.db.db.begin_tenant(ctx(t)).await?;
    sqlx::query(
        "INSERT INTO app.messages (conversation_id, content, direction, sender)
         SELECT $1, 'bulk ' || g, 'inbound', 'customer' FROM generate_series(1, $2) g",
    )
    .bind(conv)
    .bind(BURST)
    .execute(tx.conn())
    .await?;
    tx.commit().await?;

    let expected = commit_order(&app, t).await?;
    assert_eq!(expected.len() as i64, BURST);
    let got: Vec<Uuid> = receive(&mut client, expected.len())
        .await?
        .iter()
        .map(message_id)
        .collect();
    assert_eq!(got, expected);
    client.expect_silence(Duration::from_millis(500)).await?;
    Ok(())
}

#[tokio::test]
async fn a_cursor_older_than_the_event_retention_is_refused_rather_than_resumed_with_a_gap(
) -> anyhow::Result<()> {
    let app = seeded().await?;
    let t = tenant(0);
    let token = app.token(t, Role::Agent).await?;
    let conv = conversations(&app, t).await?[0];
    let mut client = WsClient::connect(app.addr, &token).await?;
    client
        .subscribe("1", MESSAGES, json!({ "c": conv }))
        .await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.insert_message(t, conv, "soon forgotten").await?;
    let old = receive(&mut client, 1).await?[0]["data"]["messageAdded"]["cursor"].clone();
    app.insert_message(t, conv, "kept").await?;
    let kept = receive(&mut client, 1).await?[0]["data"]["messageAdded"]["cursor"].clone();

    // Everything up to the second message ages past the retention and is purged: resuming
    // after the first would skip the second, resuming after the second misses nothing.
    let mut tx = app.db.db.begin_tenant(ctx(t)).await?;
    sqlx::query(
        "UPDATE app.inbox_events SET committed_at = now() - interval '40 days'
          WHERE seq <= (SELECT seq FROM app.messages WHERE content = 'kept')",
    )
    .execute(tx.conn())
    .await?;
    sqlx::query("SELECT app.purge_inbox_events(now() - interval '30 days')")
        .execute(tx.conn())
        .await?;
    tx.commit().await?;

    client
        .subscribe("old", MESSAGES, json!({ "c": conv, "after": old }))
        .await?;
    let (id, payload) = client.next_payload(WAIT).await?;
    assert_eq!(id, "old");
    assert_eq!(error_code(&payload), Some("BAD_USER_INPUT"), "{payload}");
    assert_eq!(payload["errors"][0]["extensions"]["field"], "after");
    // The cursor of the last purged event still resumes.
    client
        .subscribe("kept", MESSAGES, json!({ "c": conv, "after": kept }))
        .await?;
    let live = app.insert_message(t, conv, "after resume").await?;
    loop {
        let (id, payload) = client.next_payload(WAIT).await?;
        if id == "kept" {
            assert_eq!(message_id(&payload), live);
            break;
        }
    }
    Ok(())
}

/// An app on a database where only the application notifies (docs/scaling.md, migration
/// 0029): the commit-time numbering's own NOTIFY is off, as on a Citus worker, and the server
/// runs as on a distributed database, each write scope notifying before it commits. Also
/// returns a handle on the same database that does not notify, as a writer outside the
/// application would not.
async fn notified_by_the_application() -> anyhow::Result<(TestApp, frontdesk_db::Db)> {
    let mut db = frontdesk_db::testing::TestDb::new().await?;
    sqlx::query(&format!(
        "ALTER DATABASE {} SET frontdesk.notify_from_trigger = off",
        db.name
    ))
    .execute(db.owner())
    .await?;
    // New pools, so every connection starts with the database's new setting.
    let connect = |distributed| frontdesk_db::DbConfig {
        distributed,
        ..db.config.clone()
    };
    let mut distributed = frontdesk_db::Db::connect(&connect(true)).await?;
    distributed.set_keyring(frontdesk_db::testing::test_keyring());
    let silent = frontdesk_db::Db::connect(&connect(false)).await?;
    db.db = distributed;
    let app = frontdesk_e2e::spawn_app_on(db).await?;
    app.seed(&small()).await?;
    Ok((app, silent))
}

#[tokio::test]
async fn with_the_triggers_notify_off_the_applications_notify_delivers_every_event_once(
) -> anyhow::Result<()> {
    let (app, silent) = notified_by_the_application().await?;
    let t = tenant(0);
    let convs = conversations(&app, t).await?;

    // The trigger is silent: a commit that does not notify itself is not heard...
    let mut listener = app.db.db.inbox_listener().await?;
    let mut tx = silent.begin_tenant(ctx(t)).await?;
    sqlx::query(
        "INSERT INTO app.messages (conversation_id, content, direction, sender)
         VALUES ($1, 'unheard', 'inbound', 'customer')",
    )
    .bind(convs[0])
    .execute(tx.conn())
    .await?;
    tx.commit().await?;
    let heard = tokio::time::timeout(Duration::from_millis(500), listener.recv()).await;
    assert!(heard.is_err(), "the trigger notified: {heard:?}");
    // ...and neither is a scope that wrote no event, nor one that rolled back.
    let mut tx = app.db.db.begin_tenant(ctx(t)).await?;
    sqlx::query("SELECT count(*) FROM app.messages")
        .execute(tx.conn())
        .await?;
    tx.commit().await?;
    insert_rolled_back(&app, t, convs[0]).await?;
    let heard = tokio::time::timeout(Duration::from_millis(300), listener.recv()).await;
    assert!(heard.is_err(), "notified without events: {heard:?}");
    // The application's scope is heard.
    app.insert_message(t, convs[0], "heard").await?;
    let heard = tokio::time::timeout(WAIT, listener.recv()).await?;
    assert_eq!(heard, frontdesk_db::events::Notice::Tenant(t));
    drop(listener);

    let token = app.token(t, Role::Agent).await?;
    let mut everything = WsClient::connect(app.addr, &token).await?;
    everything.subscribe("all", MESSAGES, json!({})).await?;
    let mut one = WsClient::connect(app.addr, &token).await?;
    one.subscribe("one", MESSAGES, json!({ "c": convs[0] }))
        .await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = commit_order(&app, t).await?.len();

    // Concurrent writers through the application's scopes, one of them rolling back every
    // third write, and one write through the API.
    const WRITERS: usize = 3;
    const EACH: usize = 20;
    let mut writers = burst(&app, t, &convs, WRITERS, EACH, |w, i| w == 0 && i % 3 == 0);
    let body = app
        .graphql(
            Some(&token),
            "mutation($c: ID!) { postMessage(input: { conversationId: $c, content: \"via the API\" }) { id: rowId } }",
            json!({ "c": convs[0] }),
        )
        .await?
        .1;
    assert!(body.get("errors").is_none(), "{body}");
    while let Some(done) = writers.join_next().await {
        done??;
    }

    let order: Vec<Uuid> = commit_order(&app, t).await?[before..].to_vec();
    assert_eq!(order.len(), WRITERS * EACH - EACH.div_ceil(3) + 1);
    let in_one: Vec<Uuid> = {
        let mut tx = app.db.db.begin_tenant(ctx(t)).await?;
        sqlx::query_scalar(
            "SELECT id FROM app.messages WHERE conversation_id = $1 AND seq IS NOT NULL
              ORDER BY seq",
        )
        .bind(convs[0])
        .fetch_all(tx.conn())
        .await?
    };
    let in_one: Vec<Uuid> = in_one.into_iter().filter(|id| order.contains(id)).collect();
    for (client, expected) in [(&mut everything, &order), (&mut one, &in_one)] {
        receives_exactly(client, expected).await?;
    }
    Ok(())
}

/// A message written in the application's scope and rolled back.
async fn insert_rolled_back(app: &TestApp, tenant: Uuid, conversation: Uuid) -> anyhow::Result<()> {
    let mut tx = app.db.db.begin_tenant(ctx(tenant)).await?;
    sqlx::query(
        "INSERT INTO app.messages (conversation_id, content, direction, sender)
         VALUES ($1, 'rolled back', 'inbound', 'customer')",
    )
    .bind(conversation)
    .execute(tx.conn())
    .await?;
    tx.rollback().await?;
    Ok(())
}

/// `writers` concurrent writers of `each` messages into `convs` in turn, each in a transaction
/// of its own through the application's tenant scope, a few milliseconds apart; write `i` of
/// writer `w` rolls back where `rolls_back(w, i)`.
fn burst(
    app: &TestApp,
    t: Uuid,
    convs: &[Uuid],
    writers: usize,
    each: usize,
    rolls_back: fn(usize, usize) -> bool,
) -> tokio::task::JoinSet<anyhow::Result<()>> {
    let mut set = tokio::task::JoinSet::new();
    for w in 0..writers {
        let db = app.db.db.clone();
        let convs = convs.to_vec();
        set.spawn(async move {
            for i in 0..each {
                let mut tx = db.begin_tenant(ctx(t)).await?;
                sqlx::query(
                    "INSERT INTO app.messages (conversation_id, content, direction, sender)
                     VALUES ($1, $2, 'inbound', 'customer')",
                )
                .bind(convs[(w + i) % convs.len()])
                .bind(format!("burst {w}/{i}"))
                .execute(tx.conn())
                .await?;
                tokio::time::sleep(Duration::from_millis((i % 3) as u64)).await;
                if rolls_back(w, i) {
                    tx.rollback().await?;
                } else {
                    tx.commit().await?;
                }
            }
            anyhow::Ok(())
        });
    }
    set
}

/// The client receives exactly `expected`'s messages, each once, in that order, and then
/// nothing more.
async fn receives_exactly(client: &mut WsClient, expected: &[Uuid]) -> anyhow::Result<()> {
    let got: Vec<Uuid> = receive(client, expected.len())
        .await?
        .iter()
        .map(message_id)
        .collect();
    assert_eq!(got, expected, "every event once, in commit order");
    client.expect_silence(Duration::from_millis(500)).await
}
