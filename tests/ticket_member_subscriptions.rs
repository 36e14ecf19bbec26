//! `ticketUpdated` and `memberUpdated` end to end, on real WebSockets: events in commit order
//! (not write order), resume by cursor without gap or duplicate — with cursors valid across
//! kinds, since every subscription reads the tenant's one event log — tenant isolation,
//! filters, and which membership changes count. Rows are written with direct SQL in the
//! tenant's scope, as any writer outside the API would; the triggers emit the events.

use std::time::Duration;

use frontdesk_db::{sqlx, TenantCtx, TenantTx};
use frontdesk_e2e::ws::WsClient;
use frontdesk_e2e::{error_code, spawn_app, Role, TestApp};
use serde_json::{json, Value};
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(20);
/// Subscriptions start with the next commit; give the server a moment to register.
const SETTLE: Duration = Duration::from_millis(300);
const QUIET: Duration = Duration::from_millis(700);

const TICKETS: &str = "subscription($f: TicketWatchFilter, $after: String) {
  ticketUpdated(filter: $f, after: $after) {
    cursor committedAt ticket { id: rowId status assignedAgentId notes(first: 5) { totalCount } }
  }
}";

const MEMBERS: &str = "subscription($after: String) {
  memberUpdated(after: $after) { cursor member { id: rowId status currentActiveConversations } }
}";

const INBOX: &str = "subscription {
  messageAdded { message { id: rowId } }
}";

const CONVERSATIONS: &str = "subscription {
  conversationUpdated { conversation { id: rowId } }
}";

async fn begin(app: &TestApp, tenant: Uuid) -> anyhow::Result<TenantTx> {
    Ok(app
        .db
        .db
        .begin_tenant(TenantCtx {
            tenant_id: tenant,
            user_id: None,
        })
        .await?)
}

/// Runs one statement with uuid parameters in the tenant's scope and commits.
async fn run(app: &TestApp, tenant: Uuid, sql: &str, args: &[Uuid]) -> anyhow::Result<()> {
    let mut tx = begin(app, tenant).await?;
    let mut q = sqlx::query(sql);
    for a in args {
        q = q.bind(*a);
    }
    q.execute(tx.conn()).await?;
    tx.commit().await?;
    Ok(())
}

async fn create_customer(app: &TestApp, tenant: Uuid, phone: &str) -> anyhow::Result<Uuid> {
    let mut tx = begin(app, tenant).await?;
    let id = sqlx::query_scalar(
        "INSERT INTO app.customers (name, phone) VALUES ('Customer', $1) RETURNING id",
    )
    .bind(phone)
    .fetch_one(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(id)
}

async fn create_ticket(
    app: &TestApp,
    tenant: Uuid,
    customer: Uuid,
    assignee: Option<Uuid>,
) -> anyhow::Result<Uuid> {
    let mut tx = begin(app, tenant).await?;
    let id = sqlx::query_scalar(
        "INSERT INTO app.tickets (customer_id, assigned_agent_id, subject, description, category)
         VALUES ($1, $2, 'Printer on fire', 'Smoke everywhere', 'technical_support') RETURNING id",
    )
    .bind(customer)
    .bind(assignee)
    .fetch_one(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The subjects of the tenant's committed events of `kind`, in commit order.
async fn logged(app: &TestApp, tenant: Uuid, kind: &str) -> anyhow::Result<Vec<Uuid>> {
    let mut tx = begin(app, tenant).await?;
    Ok(sqlx::query_scalar(
        "SELECT coalesce(ticket_id, member_id, conversation_id) FROM app.inbox_events
          WHERE kind = $1 AND seq IS NOT NULL ORDER BY seq",
    )
    .bind(kind)
    .fetch_all(tx.conn())
    .await?)
}

/// The next `n` events of `field`, as (subject row id, event).
async fn receive(
    client: &mut WsClient,
    field: &str,
    n: usize,
) -> anyhow::Result<Vec<(Uuid, Value)>> {
    let object = if field == "ticketUpdated" {
        "ticket"
    } else {
        "member"
    };
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let (_, payload) = client.next_payload(WAIT).await?;
        anyhow::ensure!(payload.get("errors").is_none(), "error event: {payload}");
        let event = payload["data"][field].clone();
        let id = event[object]["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("no {object} id in {payload}"))?;
        out.push((id, event));
    }
    Ok(out)
}

fn ids(events: &[(Uuid, Value)]) -> Vec<Uuid> {
    events.iter().map(|(id, _)| *id).collect()
}

#[tokio::test]
async fn ticket_events_arrive_in_commit_order_and_resume_from_any_cursor_exactly_once(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let t = app.new_tenant("Desk").await?;
    let (me, token) = app.new_member(t, Role::Agent).await?;
    let customer = create_customer(&app, t, "+420601000001").await?;
    let mut client = WsClient::connect(app.addr, &token).await?;
    client.subscribe("t", TICKETS, json!({})).await?;
    tokio::time::sleep(SETTLE).await;

    let a = create_ticket(&app, t, customer, None).await?;
    let b = create_ticket(&app, t, customer, Some(me)).await?;
    // Written first, committed last: A's change comes after B's.
    let mut first = begin(&app, t).await?;
    sqlx::query("UPDATE app.tickets SET status = 'in_progress' WHERE id = $1")
        .bind(a)
        .execute(first.conn())
        .await?;
    run(
        &app,
        t,
        "UPDATE app.tickets SET escalated = true WHERE id = $1",
        &[b],
    )
    .await?;
    first.commit().await?;
    // A note is a change of its ticket; two notes and a status change in one transaction are
    // one event.
    let mut tx = begin(&app, t).await?;
    for text in ["first note", "second note"] {
        sqlx::query("INSERT INTO app.ticket_notes (ticket_id, content) VALUES ($1, $2)")
            .bind(b)
            .bind(text)
            .execute(tx.conn())
            .await?;
    }
    sqlx::query("UPDATE app.tickets SET status = 'waiting_customer' WHERE id = $1")
        .bind(b)
        .execute(tx.conn())
        .await?;
    tx.commit().await?;

    let order = logged(&app, t, "ticket_updated").await?;
    assert_eq!(
        order,
        vec![a, b, b, a, b],
        "commit order, one event per ticket per commit"
    );
    let got = receive(&mut client, "ticketUpdated", 5).await?;
    assert_eq!(ids(&got), order);
    let last = &got[4].1["ticket"];
    assert_eq!(last["status"], "WAITING_CUSTOMER");
    assert_eq!(last["notes"]["totalCount"], 2);
    assert_eq!(got[3].1["ticket"]["status"], "IN_PROGRESS");
    client.expect_silence(QUIET).await?;
    let cursor = got[1].1["cursor"].clone();
    client.close().await?;

    // While away: ticket changes interleaved with events of other kinds (a member's presence,
    // a conversation), which share the position space.
    run(
        &app,
        t,
        "UPDATE app.tickets SET priority = 'urgent' WHERE id = $1",
        &[a],
    )
    .await?;
    run(
        &app,
        t,
        "UPDATE app.memberships SET status = 'online' WHERE user_id = $1",
        &[me],
    )
    .await?;
    run(
        &app,
        t,
        "INSERT INTO app.conversations (channel) VALUES ('sms')",
        &[],
    )
    .await?;
    run(
        &app,
        t,
        "UPDATE app.tickets SET assigned_agent_id = $2 WHERE id = $1",
        &[a, me],
    )
    .await?;

    let mut again = WsClient::connect(app.addr, &token).await?;
    again
        .subscribe("t", TICKETS, json!({ "after": cursor }))
        .await?;
    let resumed = receive(&mut again, "ticketUpdated", 5).await?;
    assert_eq!(
        ids(&resumed),
        vec![b, a, b, a, a],
        "everything after the cursor, once"
    );
    assert_eq!(resumed[4].1["ticket"]["assignedAgentId"], json!(me));
    // A ticket cursor resumes memberUpdated too: one log, one position space.
    again
        .subscribe("m", MEMBERS, json!({ "after": cursor }))
        .await?;
    let (id, payload) = again.next_payload(WAIT).await?;
    assert_eq!(id, "m");
    assert_eq!(payload["data"]["memberUpdated"]["member"]["id"], json!(me));
    assert_eq!(
        payload["data"]["memberUpdated"]["member"]["status"],
        "ONLINE"
    );
    again.expect_silence(QUIET).await?;
    // Then live.
    let c = create_ticket(&app, t, customer, None).await?;
    assert_eq!(
        ids(&receive(&mut again, "ticketUpdated", 1).await?),
        vec![c]
    );
    again.expect_silence(QUIET).await?;
    Ok(())
}

#[tokio::test]
async fn another_tenants_tickets_and_members_never_arrive_and_inbox_watchers_skip_them(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (a, b) = (app.new_tenant("A").await?, app.new_tenant("B").await?);
    let (a_user, a_token) = app.new_member(a, Role::Agent).await?;
    let (_, b_token) = app.new_member(b, Role::Owner).await?;
    let a_customer = create_customer(&app, a, "+420601000002").await?;

    let mut b_client = WsClient::connect(app.addr, &b_token).await?;
    b_client.subscribe("t", TICKETS, json!({})).await?;
    b_client.subscribe("m", MEMBERS, json!({})).await?;
    let mut a_client = WsClient::connect(app.addr, &a_token).await?;
    a_client.subscribe("t", TICKETS, json!({})).await?;
    let mut a_inbox = WsClient::connect(app.addr, &a_token).await?;
    a_inbox.subscribe("msg", INBOX, json!({})).await?;
    a_inbox.subscribe("conv", CONVERSATIONS, json!({})).await?;
    tokio::time::sleep(SETTLE).await;

    let ticket = create_ticket(&app, a, a_customer, Some(a_user)).await?;
    run(
        &app,
        a,
        "UPDATE app.memberships SET status = 'busy' WHERE user_id = $1",
        &[a_user],
    )
    .await?;
    let got = receive(&mut a_client, "ticketUpdated", 1).await?;
    assert_eq!(ids(&got), vec![ticket]);
    b_client.expect_silence(Duration::from_millis(1500)).await?;
    // The inbox subscriptions of A skip the ticket and member events of their own tenant.
    a_inbox.expect_silence(QUIET).await?;

    // A's cursor is refused for B.
    b_client
        .subscribe("stolen", TICKETS, json!({ "after": got[0].1["cursor"] }))
        .await?;
    let (id, payload) = b_client.next_payload(WAIT).await?;
    assert_eq!(id, "stolen");
    assert_eq!(error_code(&payload), Some("BAD_USER_INPUT"), "{payload}");
    assert_eq!(payload["errors"][0]["extensions"]["field"], "after");
    Ok(())
}

#[tokio::test]
async fn a_ticket_filter_keeps_only_the_tickets_it_names() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let t = app.new_tenant("Desk").await?;
    let (me, token) = app.new_member(t, Role::Agent).await?;
    let (other, _) = app.new_member(t, Role::Agent).await?;
    let (c1, c2) = (
        create_customer(&app, t, "+420601000003").await?,
        create_customer(&app, t, "+420601000004").await?,
    );
    let mine = create_ticket(&app, t, c1, Some(me)).await?;
    let theirs = create_ticket(&app, t, c1, Some(other)).await?;
    let nobodys = create_ticket(&app, t, c2, None).await?;

    let mut client = WsClient::connect(app.addr, &token).await?;
    let filters = [
        ("me", json!({ "assignee": { "me": true } })),
        ("unassigned", json!({ "assignee": { "unassigned": true } })),
        ("agents", json!({ "assignee": { "agentIds": [other] } })),
        ("resolved", json!({ "status": ["RESOLVED"] })),
        ("customer", json!({ "customerId": c2 })),
        ("one", json!({ "ids": [theirs] })),
        ("ids", json!({ "ids": [mine, nobodys], "status": ["OPEN"] })),
    ];
    for (id, f) in &filters {
        client.subscribe(id, TICKETS, json!({ "f": f })).await?;
    }
    tokio::time::sleep(SETTLE).await;
    // One commit each, in this order: a note on mine, theirs resolved, nobody's touched.
    run(
        &app,
        t,
        "INSERT INTO app.ticket_notes (ticket_id, content) VALUES ($1, 'x')",
        &[mine],
    )
    .await?;
    run(
        &app,
        t,
        "UPDATE app.tickets SET status = 'resolved' WHERE id = $1",
        &[theirs],
    )
    .await?;
    run(
        &app,
        t,
        "UPDATE app.tickets SET priority = 'high' WHERE id = $1",
        &[nobodys],
    )
    .await?;

    let expected: [(&str, Uuid); 8] = [
        ("me", mine),
        ("ids", mine),
        ("agents", theirs),
        ("resolved", theirs),
        ("one", theirs),
        ("unassigned", nobodys),
        ("customer", nobodys),
        ("ids", nobodys),
    ];
    let mut got = vec![];
    for _ in 0..expected.len() {
        let (id, payload) = client.next_payload(WAIT).await?;
        assert!(payload.get("errors").is_none(), "{payload}");
        let ticket: Uuid = payload["data"]["ticketUpdated"]["ticket"]["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no ticket in {payload}"));
        got.push((id, ticket));
    }
    let mut want: Vec<(String, Uuid)> = expected.iter().map(|(f, t)| (f.to_string(), *t)).collect();
    // Subscriptions interleave; each one's own events are in commit order (checked by ticket
    // order within "ids"), so compare as sets plus that order.
    let in_ids: Vec<Uuid> = got
        .iter()
        .filter(|(f, _)| f == "ids")
        .map(|g| g.1)
        .collect();
    assert_eq!(in_ids, vec![mine, nobodys]);
    got.sort();
    want.sort();
    assert_eq!(got, want);
    client.expect_silence(QUIET).await?;
    Ok(())
}

#[tokio::test]
async fn member_updated_fires_on_presence_and_counters_but_not_on_unrelated_columns(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let t = app.new_tenant("Desk").await?;
    let (me, token) = app.new_member(t, Role::Viewer).await?;
    let (colleague, _) = app.new_member(t, Role::Agent).await?;
    let mut client = WsClient::connect(app.addr, &token).await?;
    client.subscribe("m", MEMBERS, json!({})).await?;
    tokio::time::sleep(SETTLE).await;

    // Activity stamps, preferences, department: a roster shows none of them live.
    run(
        &app,
        t,
        "UPDATE app.memberships SET last_activity_at = now(), last_login_at = now(),
                preferences = '{\"language\": \"en\"}', department = 'Support'
          WHERE user_id = $1",
        &[colleague],
    )
    .await?;
    // Setting the presence it already has is no change either.
    run(
        &app,
        t,
        "UPDATE app.memberships SET status = 'offline' WHERE user_id = $1",
        &[colleague],
    )
    .await?;
    client.expect_silence(QUIET).await?;

    run(
        &app,
        t,
        "UPDATE app.memberships SET status = 'online' WHERE user_id = $1",
        &[colleague],
    )
    .await?;
    run(
        &app,
        t,
        "UPDATE app.memberships SET current_active_conversations = 3 WHERE user_id = $1",
        &[colleague],
    )
    .await?;
    run(
        &app,
        t,
        "UPDATE app.memberships SET is_active = false WHERE user_id = $1",
        &[me],
    )
    .await?;
    let got = receive(&mut client, "memberUpdated", 3).await?;
    assert_eq!(ids(&got), vec![colleague, colleague, me]);
    assert_eq!(got[0].1["member"]["status"], "ONLINE");
    assert_eq!(got[1].1["member"]["currentActiveConversations"], 3);
    assert_eq!(ids(&got), logged(&app, t, "member_updated").await?);
    client.expect_silence(QUIET).await?;
    Ok(())
}
