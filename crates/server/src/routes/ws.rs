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

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::http::{WebSocket as GraphQLSocket, WsMessage};
use async_graphql::{Data, Executor, Request, Response};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response as HttpResponse};
use chrono::{DateTime, Utc};
use frontdesk_graphql::{ConnectionSubscriptions, Principal, RequestCtx};
use futures::stream::BoxStream;
use futures::{SinkExt, StreamExt};
use serde_json::Value;

use crate::AppState;

/// How long a client may take to send `connection_init`.
pub(crate) const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// Subprotocols, preferred first.
const PROTOCOLS: [&str; 2] = ["graphql-transport-ws", "graphql-ws"];
/// Per-socket buffers: subscription traffic is small frames, and ten thousand sockets with
/// tungstenite's 128 KiB default read buffer would cost over a gigabyte.
const READ_BUFFER: usize = 4 * 1024;
const WRITE_BUFFER: usize = 4 * 1024;
/// Largest client frame (a subscribe message carries one GraphQL document).
const MAX_MESSAGE: usize = 64 * 1024;

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
        .find_map(|p| p.parse::<async_graphql::http::WebSocketProtocols>().ok())
    else {
        return (
            StatusCode::BAD_REQUEST,
            "offer the subprotocol graphql-transport-ws (or the legacy graphql-ws)",
        )
            .into_response();
    };
    ws.protocols(PROTOCOLS)
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_message_size(MAX_MESSAGE)
        .on_upgrade(move |socket| {
            serve(state, socket, protocol, request_id, client_addr, user_agent)
        })
}

/// Runs the protocol on an operation's behalf: the connection's caller and subscription count
/// travel in the connection data.
#[derive(Clone)]
struct SocketExecutor {
    state: AppState,
    request_id: String,
    client_addr: Option<IpAddr>,
    user_agent: Option<String>,
    subscriptions: Arc<ConnectionSubscriptions>,
}

impl Executor for SocketExecutor {
    async fn execute(&self, request: Request) -> Response {
        let ctx = RequestCtx {
            principal: None,
            request_id: self.request_id.clone(),
            client_addr: self.client_addr,
            user_agent: self.user_agent.clone(),
        };
        frontdesk_graphql::execute(&self.state.schema, &self.state.db, request, ctx).await
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
        let ctx = RequestCtx {
            principal,
            request_id: format!("{}/{}", self.request_id, uuid::Uuid::new_v4().simple()),
            client_addr: self.client_addr,
            user_agent: self.user_agent.clone(),
        };
        frontdesk_graphql::execute_stream(
            &self.state.schema,
            &self.state.db,
            request,
            ctx,
            self.subscriptions.clone(),
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

async fn serve(
    state: AppState,
    socket: WebSocket,
    protocol: async_graphql::http::WebSocketProtocols,
    request_id: String,
    client_addr: Option<IpAddr>,
    user_agent: Option<String>,
) {
    let open = metrics::gauge!("frontdesk_ws_connections");
    open.increment(1.0);
    let every = state.ws_keepalive;
    let (mut sink, source) = socket.split();
    // When the peer last sent anything, pongs included: the proof it is still there.
    let heard = Arc::new(Mutex::new(tokio::time::Instant::now()));
    let heard_cell = heard.clone();
    // Client frames: text or binary JSON; anything unreadable ends the connection (async-graphql
    // answers a protocol error itself for malformed JSON).
    let incoming = source
        .inspect(move |m| {
            if m.is_ok() {
                *heard_cell.lock().unwrap_or_else(|p| p.into_inner()) = tokio::time::Instant::now();
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
    let init = Arc::new(Mutex::new(Init::Waiting));
    let keys = state.keys.clone();
    let executor = SocketExecutor {
        state,
        request_id,
        client_addr,
        user_agent,
        subscriptions: Arc::new(ConnectionSubscriptions::default()),
    };
    let init_cell = init.clone();
    let mut protocol_stream = GraphQLSocket::new(executor, incoming, protocol).on_connection_init(
        move |payload: Value| async move {
            let verified = token_of(&payload)
                .ok_or_else(|| {
                    "connection_init must carry {\"Authorization\": \"Bearer <token>\"}".to_owned()
                })
                .and_then(|t| keys.verify_until(t).map_err(|e| e.to_string()));
            let mut init = init_cell.lock().unwrap_or_else(|p| p.into_inner());
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
        },
    );

    let opened = tokio::time::Instant::now();
    let mut ticker = tokio::time::interval_at(opened + every, every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut pinged: Option<tokio::time::Instant> = None;
    loop {
        let (deadline, expiry_close) = match &*init.lock().unwrap_or_else(|p| p.into_inner()) {
            Init::Accepted(expires) => {
                let left = (*expires - Utc::now()).to_std().unwrap_or_default();
                (
                    tokio::time::Instant::now() + left,
                    (4401, "the access token expired"),
                )
            }
            _ => (
                opened + INIT_TIMEOUT,
                (4408, "connection initialisation timeout"),
            ),
        };
        let next = tokio::select! {
            next = tokio::time::timeout_at(deadline, protocol_stream.next()) => next,
            _ = ticker.tick() => {
                let silent = pinged.is_some_and(|at| *heard.lock().unwrap_or_else(|p| p.into_inner()) < at);
                if silent {
                    let _ = send(&mut sink, close(1001, "keep-alive timeout: no answer to ping"), every).await;
                    break;
                }
                pinged = Some(tokio::time::Instant::now());
                let accepted = matches!(*init.lock().unwrap_or_else(|p| p.into_inner()), Init::Accepted(_));
                let keepalive = match protocol {
                    _ if !accepted => None,
                    async_graphql::http::WebSocketProtocols::GraphQLWS => Some(r#"{"type":"ping"}"#),
                    async_graphql::http::WebSocketProtocols::SubscriptionsTransportWS => Some(r#"{"type":"ka"}"#),
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
            Err(_) => {
                let (code, reason) = expiry_close;
                let _ = send(&mut sink, close(code, reason), every).await;
                break;
            }
            Ok(None) => break,
            Ok(Some(WsMessage::Text(text))) => Message::Text(text.into()),
            Ok(Some(WsMessage::Close(code, reason))) => {
                // An init refusal is 4403 Forbidden in graphql-transport-ws.
                let refused = matches!(
                    *init.lock().unwrap_or_else(|p| p.into_inner()),
                    Init::Refused
                );
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
/// stopped reading fills the buffers, and must not hold the connection forever). Whether it
/// was sent.
async fn send<S>(sink: &mut S, message: Message, patience: Duration) -> bool
where
    S: futures::Sink<Message> + Unpin,
{
    matches!(
        tokio::time::timeout(patience, sink.send(message)).await,
        Ok(Ok(()))
    )
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
