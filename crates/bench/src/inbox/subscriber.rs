//! The subscribers: `messageAdded` subscriptions (one conversation, or the whole tenant), one
//! or more on each WebSocket (`graphql-transport-ws`), one tokio task per socket, opened at a
//! bounded concurrency so the server is not stormed. Several on one socket is how a browser
//! tab watching a few views multiplexes them, and how a run gets past the open-file limit.
//!
//! A task does as little as it can while measuring, so that the client's share of the shared
//! cores stays small: on each frame it takes the receipt `Instant`, reads the frame's `type`
//! and the message id (borrowed, typed deserialisation; the cursor is skipped) and appends
//! `(id, instant)` to its own vector. Everything else — latency, losses, order — is worked out
//! after the run from those vectors.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::json;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// One conversation's messages.
pub const CONVERSATION_QUERY: &str =
    "subscription($c: UUID!) { messageAdded(conversationId: $c) { cursor message { id: rowId } } }";
/// Every message of the caller's tenant.
pub const TENANT_QUERY: &str = "subscription { messageAdded { cursor message { id: rowId } } }";

/// How long the server may take to acknowledge `connection_init`.
const ACK_TIMEOUT: Duration = Duration::from_secs(60);
/// Per-socket buffers: frames here are a few hundred bytes, and tungstenite's 128 KiB default
/// read buffer would cost over a gigabyte of client memory for ten thousand sockets.
const BUFFER: usize = 4 * 1024;

/// What one socket's subscribers watch.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Their tenant's access token.
    pub token: Arc<str>,
    /// One subscription each, in order (its id is its index): the conversation, or `None` for
    /// the whole tenant.
    pub conversations: Vec<Option<Uuid>>,
    /// The local address to connect from (see [`super::source_addresses`]).
    pub source: IpAddr,
}

/// What one subscriber saw.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Message ids in the order their frames arrived, with the arrival instant.
    pub received: Vec<(Uuid, Instant)>,
    /// Why it never subscribed (connect, upgrade or `connection_init` failed).
    pub failed: Option<String>,
    /// `error` frames, `next` frames carrying errors, and unexpected `complete`s.
    pub errors: u64,
    pub first_error: Option<String>,
    /// How the socket ended before the run did, if it did.
    pub closed_early: Option<String>,
}

/// Live counts the run watches (connect progress, the drain).
#[derive(Debug, Default)]
pub struct Progress {
    pub subscribed: AtomicUsize,
    pub failed: AtomicUsize,
    pub closed: AtomicUsize,
    /// `next` frames received by all subscribers.
    pub frames: AtomicU64,
}

/// The frame's type, all that is read of most frames.
#[derive(Deserialize)]
struct Head<'a> {
    #[serde(rename = "type", borrow)]
    kind: &'a str,
}

/// `{"id": "3", "type": "next", "payload": {"data": {"messageAdded": {"message": {"id": …}}}}}`.
#[derive(Deserialize)]
struct Next<'a> {
    #[serde(borrow)]
    id: &'a str,
    payload: Payload,
}

#[derive(Deserialize)]
struct Payload {
    data: Option<Data>,
    #[serde(default)]
    errors: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(rename = "messageAdded")]
    message_added: Option<Event>,
}

#[derive(Deserialize)]
struct Event {
    message: Option<MessageId>,
}

#[derive(Deserialize)]
struct MessageId {
    id: Uuid,
}

/// Runs one socket's subscribers until `stop` turns true: connects when `permits` allow,
/// subscribes, then records what arrives. One outcome per subscription, in `spec`'s order.
pub async fn run(
    addr: SocketAddr,
    spec: Spec,
    permits: Arc<Semaphore>,
    progress: Arc<Progress>,
    mut stop: watch::Receiver<bool>,
) -> Vec<Outcome> {
    let count = spec.conversations.len();
    let mut outs: Vec<Outcome> = (0..count).map(|_| Outcome::default()).collect();
    let opened = {
        let _permit = permits.acquire().await;
        open(addr, &spec).await
    };
    let mut socket = match opened {
        Ok(s) => s,
        Err(e) => {
            let why = format!("{e:#}");
            for out in &mut outs {
                out.failed = Some(why.clone());
            }
            progress.failed.fetch_add(count, Ordering::Relaxed);
            return outs;
        }
    };
    progress.subscribed.fetch_add(count, Ordering::Relaxed);
    // Socket-wide trouble (an unreadable frame, the end) is every subscription's.
    let mut closed_early: Option<String> = None;
    let mut socket_errors = Outcome::default();
    loop {
        let frame = tokio::select! {
            frame = socket.next() => frame,
            _ = stop.wait_for(|s| *s) => break,
        };
        let at = Instant::now();
        match frame {
            Some(Ok(Message::Text(text))) => {
                let kind = serde_json::from_str::<Head>(&text).map(|h| h.kind);
                match kind {
                    Ok("next") => {
                        progress.frames.fetch_add(1, Ordering::Relaxed);
                        match serde_json::from_str::<Next>(&text) {
                            Ok(Next {
                                id,
                                payload:
                                    Payload {
                                        data:
                                            Some(Data {
                                                message_added:
                                                    Some(Event {
                                                        message: Some(MessageId { id: message }),
                                                    }),
                                            }),
                                        errors: None,
                                    },
                            }) => match id.parse::<usize>().ok().and_then(|i| outs.get_mut(i)) {
                                Some(out) => out.received.push((message, at)),
                                None => socket_errors.error(&text),
                            },
                            _ => socket_errors.error(&text),
                        }
                    }
                    Ok("ping") => {
                        if socket
                            .send(Message::text(r#"{"type":"pong"}"#))
                            .await
                            .is_err()
                        {
                            closed_early = Some("could not answer a ping".into());
                            break;
                        }
                    }
                    Ok("pong") => {}
                    _ => socket_errors.error(&text),
                }
            }
            Some(Ok(Message::Close(frame))) => {
                closed_early = Some(match frame {
                    Some(f) => format!("closed by the server: {} {}", f.code, f.reason),
                    None => "closed by the server".into(),
                });
                break;
            }
            // WebSocket pings are answered by tungstenite itself.
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                closed_early = Some(format!("socket error: {e}"));
                break;
            }
            None => {
                closed_early = Some("the connection ended".into());
                break;
            }
        }
    }
    if closed_early.is_some() {
        progress.closed.fetch_add(count, Ordering::Relaxed);
    } else {
        // Polite, but the run does not wait for the server's answer.
        let _ = tokio::time::timeout(Duration::from_millis(200), socket.close(None)).await;
    }
    // Frames that name no subscription are counted against the socket's first.
    if let Some(first) = outs.first_mut() {
        first.errors += socket_errors.errors;
        first.first_error = first.first_error.take().or(socket_errors.first_error);
    }
    for out in &mut outs {
        out.closed_early.clone_from(&closed_early);
    }
    outs
}

impl Outcome {
    fn error(&mut self, frame: &str) {
        self.errors += 1;
        if self.first_error.is_none() {
            let mut text = frame.to_owned();
            text.truncate(400);
            self.first_error = Some(text);
        }
    }
}

/// Connects from `spec.source`, initialises with the token and subscribes.
async fn open(addr: SocketAddr, spec: &Spec) -> anyhow::Result<Socket> {
    let mut request = format!("ws://{addr}/graphql").into_client_request()?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let config = WebSocketConfig::default()
        .read_buffer_size(BUFFER)
        .write_buffer_size(BUFFER);
    let tcp = match spec.source {
        IpAddr::V4(_) => TcpSocket::new_v4(),
        IpAddr::V6(_) => TcpSocket::new_v6(),
    }
    .context("could not create a socket")?;
    // Bound to the source address, the socket takes its port from that address's own
    // ephemeral range.
    tcp.bind(SocketAddr::new(spec.source, 0))
        .with_context(|| format!("could not bind a local port on {}", spec.source))?;
    let stream = tcp
        .connect(addr)
        .await
        .with_context(|| format!("TCP connect from {} failed", spec.source))?;
    stream.set_nodelay(true)?;
    let (mut socket, _) = tokio_tungstenite::client_async_with_config(
        request,
        MaybeTlsStream::Plain(stream),
        Some(config),
    )
    .await
    .context("WebSocket handshake failed")?;
    let init = json!({
        "type": "connection_init",
        "payload": { "Authorization": format!("Bearer {}", spec.token) },
    });
    socket.send(Message::text(init.to_string())).await?;
    let deadline = tokio::time::Instant::now() + ACK_TIMEOUT;
    loop {
        let frame = tokio::time::timeout_at(deadline, socket.next())
            .await
            .context("no connection_ack in time")?;
        match frame {
            Some(Ok(Message::Text(text))) => match serde_json::from_str::<Head>(&text)?.kind {
                "connection_ack" => break,
                "ping" => socket.send(Message::text(r#"{"type":"pong"}"#)).await?,
                _ => bail!("expected connection_ack, got {text}"),
            },
            Some(Ok(Message::Close(f))) => bail!("closed during connection_init: {f:?}"),
            Some(Ok(_)) => {}
            Some(Err(e)) => bail!("socket error during connection_init: {e}"),
            None => bail!("the connection ended during connection_init"),
        }
    }
    for (id, conversation) in spec.conversations.iter().enumerate() {
        let subscribe = match conversation {
            Some(c) => json!({
                "id": id.to_string(), "type": "subscribe",
                "payload": { "query": CONVERSATION_QUERY, "variables": { "c": c } },
            }),
            None => json!({
                "id": id.to_string(), "type": "subscribe",
                "payload": { "query": TENANT_QUERY },
            }),
        };
        socket.send(Message::text(subscribe.to_string())).await?;
    }
    Ok(socket)
}
