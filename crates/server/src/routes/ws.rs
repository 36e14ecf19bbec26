//! GraphQL over WebSocket on `/graphql`: `graphql-transport-ws`, and the legacy `graphql-ws`
//! (subscriptions-transport-ws) for older clients.
//!
//! async-graphql speaks both protocols; this module adds what a public endpoint needs around
//! it. The caller authenticates in `connection_init` (browsers cannot set headers on a
//! WebSocket): `{"Authorization": "Bearer <token>"}` (also `authorization`, `token` or
//! `authToken`). A bad or expired token is refused with close code 4403; a client that does
//! not initialise within [`INIT_TIMEOUT`] is closed with 4408; the socket is closed with 4401
//! when the token expires, so a revoked-by-expiry token cannot keep a stream open. The number
//! of subscriptions per connection is limited in the schema crate.
//!
//! Keep-alive: every `AppState::ws_keepalive` the server sends a WebSocket ping frame and,
//! once the connection is initialised, the protocol's own keep-alive (`{"type":"ping"}` in
//! graphql-transport-ws, `{"type":"ka"}` in the legacy protocol), so proxies that drop idle
//! sockets see traffic. A peer from which nothing at all (a pong frame, a `pong` message,
//! anything) arrived between one ping and the next, or that does not take a frame within
//! the interval, is gone or stuck: it is closed with 1001 and its subscriptions end.
//! async-graphql's own `keepalive_timeout` is not used: it sends no pings and only closes
//! connections on which the client said nothing for a while.
//!
//! Memory: one process holds tens of thousands of mostly idle sockets, so what a connection
//! keeps between frames is kept small (`just bench-inbox` reports it per idle subscriber): tungstenite's
//! buffers are sized for this protocol's small frames, everything the connection's operations
//! share is one [`Connection`] allocation, and the token keys needed only to check
//! `connection_init` are dropped once it has been answered.

use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::http::{WebSocket as GraphQLSocket, WebSocketProtocols, WsMessage};
use async_graphql::{Data, Executor, Request, Response};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response as HttpResponse};
use chrono::{DateTime, Utc};
use frontdesk_db::Db;
use frontdesk_graphql::{AppSchema, ConnectionSubscriptions, Principal, RequestCtx, TokenKeys};
use futures::stream::{BoxStream, SplitSink, SplitStream};
use futures::{FutureExt, SinkExt, StreamExt};
use serde_json::Value;
use tokio::time::Instant;

use crate::AppState;

/// How long a client may take to send `connection_init`.
pub(crate) const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// Subprotocols, preferred first.
const PROTOCOLS: [&str; 2] = ["graphql-transport-ws", "graphql-ws"];
/// The read buffer, allocated up front for every socket and kept for its life (tungstenite's
/// default is 128 KiB). What a client sends here is small — `connection_init` with a token
/// (about 350 bytes), `subscribe` with one document, `pong`, `complete` — and tungstenite
/// reserves a frame's whole length again on top of what it has read of it, so a frame fits
/// without the buffer growing when it is at most half the buffer: 1 KiB takes the usual frame.
/// A larger one is not refused: once its header is read, the buffer grows to hold it.
const READ_BUFFER: usize = 1024;
/// Not an allocation but how much tungstenite collects before writing to the socket. Every
/// frame here is flushed as it is sent, so each is written through at once.
const WRITE_BUFFER: usize = 0;
/// Largest client message (a subscribe message carries one GraphQL document).
const MAX_MESSAGE: usize = 64 * 1024;
/// Largest client frame: no larger than a message, so a frame header cannot make the buffer
/// grow beyond what a message may be (tungstenite's default is 16 MiB).
const MAX_FRAME: usize = MAX_MESSAGE;

/// Whether the request asks to become a WebSocket.
pub(crate) fn is_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Accepts the upgrade when the client offers one of our subprotocols.
pub(crate) fn upgrade(
    state: AppState,
    ws: WebSocketUpgrade,
    headers: &HeaderMap,
    request_id: String,
    client_addr: Option<IpAddr>,
) -> HttpResponse {
    let user_agent = super::graphql::user_agent(headers);
    let offered = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(protocol) = offered
        .split(',')
        .map(str::trim)
        .find_map(|p| p.parse::<WebSocketProtocols>().ok())
    else {
        return (
            StatusCode::BAD_REQUEST,
            "offer the subprotocol graphql-transport-ws (or the legacy graphql-ws)",
        )
            .into_response();
    };
    let every = state.ws_keepalive;
    // The keys check `connection_init` only: boxed, they take no room in the connection's
    // future, and they are dropped once it has been answered.
    let keys = Box::new(state.keys);
    let connection = Arc::new(Connection {
        schema: state.schema,
        db: state.db,
        request_id,
        client_addr,
        user_agent,
        subscriptions: Arc::default(),
        init: Mutex::default(),
        heard: Mutex::new(Instant::now()),
    });
    ws.protocols(PROTOCOLS)
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_FRAME)
        .on_upgrade(move |socket| {
            let (sink, source) = socket.split();
            serve(connection, keys, sink, source, protocol, every)
        })
}

/// What a connection's operations share, in one allocation: who is calling from where, what
/// `connection_init` established, and when the peer was last heard from.
struct Connection {
    schema: AppSchema,
    db: Db,
    request_id: String,
    client_addr: Option<IpAddr>,
    user_agent: Option<String>,
    /// Subscriptions held (the schema crate limits them per connection).
    subscriptions: Arc<ConnectionSubscriptions>,
    init: Mutex<Init>,
    /// When the peer last sent anything, pongs included: the proof it is still there.
    heard: Mutex<Instant>,
}

impl Connection {
    fn init(&self) -> std::sync::MutexGuard<'_, Init> {
        self.init.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn heard(&self) -> std::sync::MutexGuard<'_, Instant> {
        self.heard.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Runs the protocol on an operation's behalf: the connection's caller and subscription count
/// travel in the connection data.
#[derive(Clone)]
struct SocketExecutor(Arc<Connection>);

impl Executor for SocketExecutor {
    async fn execute(&self, request: Request) -> Response {
        let conn = &self.0;
        let ctx = RequestCtx {
            principal: None,
            request_id: conn.request_id.clone(),
            client_addr: conn.client_addr,
            user_agent: conn.user_agent.clone(),
        };
        frontdesk_graphql::execute(&conn.schema, &conn.db, request, ctx).await
    }

    fn execute_stream(
        &self,
        request: Request,
        session: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let principal = session
            .as_ref()
            .and_then(|d| d.get(&std::any::TypeId::of::<Principal>()))
            .and_then(|p| p.downcast_ref::<Principal>())
            .copied();
        let conn = &self.0;
        let ctx = RequestCtx {
            principal,
            request_id: format!("{}/{}", conn.request_id, uuid::Uuid::new_v4().simple()),
            client_addr: conn.client_addr,
            user_agent: conn.user_agent.clone(),
        };
        frontdesk_graphql::execute_stream(
            &conn.schema,
            &conn.db,
            request,
            ctx,
            conn.subscriptions.clone(),
        )
    }
}

/// What `connection_init` established.
#[derive(Debug, Default)]
enum Init {
    #[default]
    Waiting,
    Accepted(DateTime<Utc>),
    Refused,
}

/// The token from a `connection_init` payload.
fn token_of(payload: &Value) -> Option<&str> {
    ["Authorization", "authorization"]
        .iter()
        .find_map(|k| payload.get(*k).and_then(Value::as_str))
        .map(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
                .unwrap_or(v)
        })
        .or_else(|| {
            ["token", "authToken"]
                .iter()
                .find_map(|k| payload.get(*k).and_then(Value::as_str))
        })
        .map(str::trim)
}

/// Runs one connection: the protocol's frames out, keep-alive, and the deadlines.
///
/// It takes the socket already split: an `async fn` keeps room for its arguments for as long
/// as it runs, and a whole `WebSocket` there would be hundreds of bytes per connection held
/// for nothing. One timer serves both the keep-alive and the deadline (initialisation, then
/// the token's expiry), whichever comes first.
async fn serve(
    conn: Arc<Connection>,
    keys: Box<TokenKeys>,
    mut sink: SplitSink<WebSocket, Message>,
    source: SplitStream<WebSocket>,
    protocol: WebSocketProtocols,
    every: Duration,
) {
    let open = metrics::gauge!("frontdesk_ws_connections");
    open.increment(1.0);
    let heard = conn.clone();
    // Client frames: text or binary JSON; anything unreadable ends the connection (async-graphql
    // answers a protocol error itself for malformed JSON).
    let incoming = source
        .inspect(move |m| {
            if m.is_ok() {
                *heard.heard() = Instant::now();
            }
        })
        .take_while(|m| {
            futures::future::ready(matches!(m, Ok(m) if !matches!(m, Message::Close(_))))
        })
        .filter_map(|m| {
            futures::future::ready(match m {
                Ok(Message::Text(t)) => Some(t.as_bytes().to_vec()),
                Ok(Message::Binary(b)) => Some(b.to_vec()),
                _ => None,
            })
        });
    let init_conn = conn.clone();
    let mut protocol_stream = GraphQLSocket::new(SocketExecutor(conn.clone()), incoming, protocol)
        .on_connection_init(move |payload: Value| async move {
            let verified = token_of(&payload)
                .ok_or_else(|| {
                    "connection_init must carry {\"Authorization\": \"Bearer <token>\"}".to_owned()
                })
                .and_then(|t| keys.verify_until(t).map_err(|e| e.to_string()));
            let mut init = init_conn.init();
            match verified {
                Ok((principal, expires)) => {
                    *init = Init::Accepted(expires);
                    let mut data = Data::default();
                    data.insert(principal);
                    Ok(data)
                }
                Err(why) => {
                    *init = Init::Refused;
                    Err(async_graphql::Error::new(format!("UNAUTHENTICATED: {why}")))
                }
            }
        });

    let opened = Instant::now();
    let mut next_ping = opened + every;
    // When the last ping went out: the peer must be heard from before the next one.
    let mut pinged: Option<Instant> = None;
    let timer = tokio::time::sleep_until(next_ping);
    tokio::pin!(timer);
    loop {
        let (deadline, expiry_close) = match &*conn.init() {
            Init::Accepted(expires) => {
                let left = (*expires - Utc::now()).to_std().unwrap_or_default();
                (Instant::now() + left, (4401, "the access token expired"))
            }
            _ => (
                opened + INIT_TIMEOUT,
                (4408, "connection initialisation timeout"),
            ),
        };
        timer.as_mut().reset(next_ping.min(deadline));
        let next = tokio::select! {
            next = protocol_stream.next() => next,
            () = &mut timer => {
                let now = Instant::now();
                if now >= deadline {
                    let (code, reason) = expiry_close;
                    let _ = send(&mut sink, close(code, reason), every).await;
                    break;
                }
                if now < next_ping {
                    continue;
                }
                next_ping = now + every;
                let silent = pinged.is_some_and(|at| *conn.heard() < at);
                if silent {
                    let _ = send(&mut sink, close(1001, "keep-alive timeout: no answer to ping"), every).await;
                    break;
                }
                pinged = Some(now);
                let accepted = matches!(*conn.init(), Init::Accepted(_));
                let keepalive = match protocol {
                    _ if !accepted => None,
                    WebSocketProtocols::GraphQLWS => Some(r#"{"type":"ping"}"#),
                    WebSocketProtocols::SubscriptionsTransportWS => Some(r#"{"type":"ka"}"#),
                };
                let mut sent = send(&mut sink, Message::Ping(Vec::new().into()), every).await;
                if let (true, Some(text)) = (sent, keepalive) {
                    sent = send(&mut sink, Message::Text(text.into()), every).await;
                }
                if !sent {
                    break;
                }
                continue;
            }
        };
        let outgoing = match next {
            None => break,
            Some(WsMessage::Text(text)) => Message::Text(text.into()),
            Some(WsMessage::Close(code, reason)) => {
                // An init refusal is 4403 Forbidden in graphql-transport-ws.
                let refused = matches!(*conn.init(), Init::Refused);
                let code = if refused { 4403 } else { code };
                let _ = send(&mut sink, close(code, &reason), every).await;
                break;
            }
        };
        if !send(&mut sink, outgoing, every).await {
            break;
        }
    }
    let _ = tokio::time::timeout(every, sink.close()).await;
    open.decrement(1.0);
}

/// Sends a frame, giving up when the peer has not taken it within `patience` (a client that
/// stopped reading fills the buffers, and must not hold the connection forever). Resolves to
/// whether it was sent. A plain function returning the future, so that the connection's future
/// holds the send and its timer once rather than also the arguments of an `async fn`.
fn send<'a, S>(
    sink: &'a mut S,
    message: Message,
    patience: Duration,
) -> impl Future<Output = bool> + 'a
where
    S: futures::Sink<Message> + Unpin,
{
    tokio::time::timeout(patience, sink.send(message)).map(|sent| matches!(sent, Ok(Ok(()))))
}

fn close(code: u16, reason: &str) -> Message {
    // Close reasons are limited to 123 bytes.
    let mut reason = reason.to_owned();
    while reason.len() > 123 {
        reason.pop();
    }
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}
