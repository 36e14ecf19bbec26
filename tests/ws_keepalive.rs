//! WebSocket keep-alive: the server pings every interval (`ping` in graphql-transport-ws,
//! `ka` in the legacy protocol, and a ping frame in both), keeps peers that answer, and
//! closes peers that stopped reading.

use std::time::Duration;

use frontdesk_db::testing::TestDb;
use frontdesk_e2e::ws::{LEGACY_WS, TRANSPORT_WS};
use frontdesk_e2e::{spawn_app_with, Principal, Role, TestApp};
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

const EVERY: Duration = Duration::from_millis(300);

async fn app() -> anyhow::Result<TestApp> {
    spawn_app_with(TestDb::new().await?, |state| state.with_ws_keepalive(EVERY)).await
}

/// A raw socket offering `protocol`, initialised with a token (the ack consumed).
async fn connect(app: &TestApp, protocol: &'static str) -> anyhow::Result<Socket> {
    let mut request = format!("ws://{}/graphql", app.addr).into_client_request()?;
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(protocol));
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
    let token = app.keys.mint(&Principal {
        user_id: Uuid::new_v4(),
        tenant_id: Uuid::new_v4(),
        role: Role::Owner,
    });
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } });
    socket.send(Message::text(init.to_string())).await?;
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), socket.next()).await?;
        if let Some(Ok(Message::Text(t))) = frame {
            let v: Value = serde_json::from_str(&t)?;
            if v["type"] == "connection_ack" {
                return Ok(socket);
            }
        } else {
            anyhow::bail!("no connection_ack: {frame:?}");
        }
    }
}

/// Reads for `period`, answering `ping` with `pong` when `answer` (tungstenite answers ping
/// frames itself while reading). Returns the protocol keep-alives seen, or the close code if
/// the server closed the socket.
async fn read(
    socket: &mut Socket,
    period: Duration,
    answer: bool,
) -> anyhow::Result<Result<usize, u16>> {
    let deadline = tokio::time::Instant::now() + period;
    let mut keepalives = 0;
    loop {
        let frame = match tokio::time::timeout_at(deadline, socket.next()).await {
            Err(_) => return Ok(Ok(keepalives)),
            Ok(frame) => frame,
        };
        match frame {
            Some(Ok(Message::Text(t))) => {
                let v: Value = serde_json::from_str(&t)?;
                match v["type"].as_str() {
                    Some("ping") => {
                        keepalives += 1;
                        if answer {
                            let pong = json!({ "type": "pong" }).to_string();
                            socket.send(Message::text(pong)).await?;
                        }
                    }
                    Some("ka") => keepalives += 1,
                    _ => {}
                }
            }
            Some(Ok(Message::Close(frame))) => {
                return Ok(Err(frame.map_or(1005, |f| u16::from(f.code))))
            }
            None | Some(Err(_)) => return Ok(Err(1006)),
            Some(Ok(_)) => {}
        }
    }
}

#[tokio::test]
async fn a_client_that_answers_pings_stays_connected_and_is_served() -> anyhow::Result<()> {
    let app = app().await?;
    let mut socket = connect(&app, TRANSPORT_WS).await?;
    let seen = read(&mut socket, EVERY * 8, true).await?;
    let pings = seen.map_err(|code| anyhow::anyhow!("closed with {code}"))?;
    assert!(pings >= 5, "expected a ping every {EVERY:?}, saw {pings}");

    let subscribe =
        json!({ "id": "1", "type": "subscribe", "payload": { "query": "{ __typename }" } });
    socket.send(Message::text(subscribe.to_string())).await?;
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), socket.next()).await?;
        let Some(Ok(Message::Text(t))) = frame else {
            continue;
        };
        let v: Value = serde_json::from_str(&t)?;
        if v["type"] == "next" {
            assert_eq!(v["payload"]["data"]["__typename"], "Query", "{v}");
            break;
        }
    }
    Ok(())
}

#[tokio::test]
async fn the_legacy_protocol_gets_ka_messages_and_stays_connected() -> anyhow::Result<()> {
    let app = app().await?;
    let mut socket = connect(&app, LEGACY_WS).await?;
    let seen = read(&mut socket, EVERY * 8, true).await?;
    let kas = seen.map_err(|code| anyhow::anyhow!("closed with {code}"))?;
    assert!(kas >= 5, "expected a ka every {EVERY:?}, saw {kas}");
    Ok(())
}

#[tokio::test]
async fn a_client_that_stops_reading_is_closed() -> anyhow::Result<()> {
    let app = app().await?;
    for protocol in [TRANSPORT_WS, LEGACY_WS] {
        let mut socket = connect(&app, protocol).await?;
        // Not reading: neither ping frames nor `ping` messages get an answer.
        tokio::time::sleep(EVERY * 5).await;
        // What the server sent meanwhile ends with its close frame (or the connection's end).
        let seen = read(&mut socket, Duration::from_secs(5), false).await?;
        match seen {
            Err(code) => assert!(
                code == 1001 || code == 1006,
                "{protocol}: closed with {code}"
            ),
            Ok(n) => panic!("{protocol}: still open after {n} keep-alives"),
        }
    }
    Ok(())
}
