//! A GraphQL-over-WebSocket test client (both subprotocols) on a real socket.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{bail, Context as _};
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// `graphql-transport-ws`.
pub const TRANSPORT_WS: &str = "graphql-transport-ws";
/// The legacy `graphql-ws` (subscriptions-transport-ws).
pub const LEGACY_WS: &str = "graphql-ws";

/// What the server sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// A protocol message.
    Json(Value),
    /// The server closed the socket with this code and reason.
    Closed(u16, String),
}

/// One WebSocket connection to `/graphql`.
#[derive(Debug)]
pub struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    protocol: &'static str,
}

impl WsClient {
    /// Opens the socket offering `protocol`; sends nothing yet.
    pub async fn open(addr: SocketAddr, protocol: &'static str) -> anyhow::Result<Self> {
        let mut request = format!("ws://{addr}/graphql").into_client_request()?;
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(protocol));
        let (socket, response) = tokio_tungstenite::connect_async(request).await?;
        let chosen = response
            .headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|v| v.to_str().ok());
        if chosen != Some(protocol) {
            bail!("server chose subprotocol {chosen:?}, not {protocol}");
        }
        Ok(Self { socket, protocol })
    }

    /// Opens a `graphql-transport-ws` socket and initialises it with `token`.
    pub async fn connect(addr: SocketAddr, token: &str) -> anyhow::Result<Self> {
        let mut client = Self::open(addr, TRANSPORT_WS).await?;
        client.init(token).await?;
        Ok(client)
    }

    /// Sends `connection_init` with the token and waits for the acknowledgement.
    pub async fn init(&mut self, token: &str) -> anyhow::Result<()> {
        self.send(json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}}))
            .await?;
        match self.next(Duration::from_secs(10)).await? {
            Frame::Json(v) if v["type"] == "connection_ack" => Ok(()),
            other => bail!("expected connection_ack, got {other:?}"),
        }
    }

    /// Sends a protocol message.
    pub async fn send(&mut self, message: Value) -> anyhow::Result<()> {
        self.socket.send(Message::text(message.to_string())).await?;
        Ok(())
    }

    /// Starts operation `id` (`subscribe`, or `start` on the legacy protocol).
    pub async fn subscribe(
        &mut self,
        id: &str,
        query: &str,
        variables: Value,
    ) -> anyhow::Result<()> {
        let kind = if self.protocol == LEGACY_WS {
            "start"
        } else {
            "subscribe"
        };
        self.send(
            json!({"id": id, "type": kind, "payload": {"query": query, "variables": variables}}),
        )
        .await
    }

    /// The next frame, answering pings; fails after `timeout`.
    pub async fn next(&mut self, timeout: Duration) -> anyhow::Result<Frame> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .context("timed out waiting for a frame")?;
            match msg {
                None => return Ok(Frame::Closed(1006, "stream ended".into())),
                Some(Err(e)) => return Ok(Frame::Closed(1006, e.to_string())),
                Some(Ok(Message::Text(t))) => {
                    let v: Value = serde_json::from_str(&t)?;
                    match v["type"].as_str() {
                        Some("ping") => self.send(json!({"type": "pong"})).await?,
                        Some("ka") => {}
                        _ => return Ok(Frame::Json(v)),
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    return Ok(match frame {
                        Some(f) => Frame::Closed(u16::from(f.code), f.reason.to_string()),
                        None => Frame::Closed(u16::from(CloseCode::Status), String::new()),
                    })
                }
                Some(Ok(_)) => {}
            }
        }
    }

    /// The payload of the next `next`/`data` message for any operation: `(id, payload)`
    /// (skipping `complete` messages).
    pub async fn next_payload(&mut self, timeout: Duration) -> anyhow::Result<(String, Value)> {
        loop {
            match self.next(timeout).await? {
                Frame::Json(v) if v["type"] == "next" || v["type"] == "data" => {
                    return Ok((
                        v["id"].as_str().unwrap_or_default().to_owned(),
                        v["payload"].clone(),
                    ))
                }
                Frame::Json(v) if v["type"] == "complete" => {}
                other => bail!("expected an operation result, got {other:?}"),
            }
        }
    }

    /// Asserts nothing arrives for `quiet`.
    pub async fn expect_silence(&mut self, quiet: Duration) -> anyhow::Result<()> {
        match tokio::time::timeout(quiet, self.socket.next()).await {
            Err(_) => Ok(()),
            Ok(other) => bail!("expected silence, got {other:?}"),
        }
    }

    /// Closes the socket.
    pub async fn close(mut self) -> anyhow::Result<()> {
        let _ = self.socket.close(None).await;
        Ok(())
    }
}
