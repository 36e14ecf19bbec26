//! WebSocket frame sizes: the server reads into a small per-socket buffer (it holds tens of
//! thousands of sockets), which must still take a frame many times its size whole, while a
//! frame over the message limit ends the connection before it is buffered.

use std::time::Duration;

use frontdesk_db::sqlx;
use frontdesk_e2e::ws::{Frame, WsClient};
use frontdesk_e2e::{spawn_app, Role, SeedSpec};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test]
async fn a_subscribe_frame_many_times_the_read_buffer_is_read_whole() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    app.seed(&SeedSpec {
        tenants: 1,
        customers_per_tenant: 2,
        bookings_per_customer: 0,
        calls_per_booking: 0,
        sms_per_call: 0,
    })
    .await?;
    let tenant = SeedSpec::tenant_id(0);
    let token = app.token(tenant, Role::Agent).await?;
    let ctx = frontdesk_db::TenantCtx {
        tenant_id: tenant,
        user_id: None,
    };
    let mut tx = app.db.db.begin_tenant(ctx).await?;
    let conversation: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM app.conversations ORDER BY created_at, id LIMIT 1")
            .fetch_one(tx.conn())
            .await?;
    drop(tx);

    // A document of 24 KiB (within the query size limit): dozens of reads of the buffer.
    let padding = format!("# {}\n", "x".repeat(24 * 1024));
    let document = format!(
        "{padding}subscription($c: ID) {{ messageAdded(conversationId: $c) {{ message {{ content }} }} }}"
    );
    let mut client = WsClient::connect(app.addr, &token).await?;
    client
        .subscribe("big", &document, json!({ "c": conversation }))
        .await?;
    // Subscriptions start with the next commit; give the server a moment to register.
    tokio::time::sleep(Duration::from_millis(300)).await;

    app.insert_message(ctx.tenant_id, conversation, "after a large frame")
        .await?;

    let (id, payload) = client.next_payload(WAIT).await?;
    assert_eq!(id, "big");
    assert_eq!(
        payload["data"]["messageAdded"]["message"]["content"],
        Value::from("after a large frame"),
        "{payload}"
    );
    Ok(())
}

#[tokio::test]
async fn a_frame_over_the_message_limit_ends_the_connection() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let token = app.token(uuid::Uuid::new_v4(), Role::Agent).await?;
    let mut client = WsClient::connect(app.addr, &token).await?;
    // 128 KiB: over the 64 KiB a client message may be.
    // The server may end the connection while the frame is still being written.
    let _ = client
        .send(json!({ "type": "ping", "payload": { "pad": "x".repeat(128 * 1024) } }))
        .await;
    match client.next(WAIT).await? {
        Frame::Closed(..) => Ok(()),
        other => anyhow::bail!("expected the connection to end, got {other:?}"),
    }
}
