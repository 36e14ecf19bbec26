//! Live subscriptions: the inbox (`messageAdded`, `conversationUpdated`), tickets
//! (`ticketUpdated`) and the team (`memberUpdated`).
//!
//! Events come from the commit-ordered log of migration 0008 (which 0016 extends to tickets and
//! members) through the process's [`Hub`]. Each carries a `cursor` (the event's position,
//! signed for the tenant like list cursors); a client that subscribes again with the last
//! cursor it saw receives every later event exactly once, in commit order, then the live
//! stream. Every subscription reads the same log, so a cursor is a position in the tenant's one
//! commit order, valid for any of them; each subscription keeps the kinds it serves and skips
//! the rest. Filters are evaluated in memory on the rows the feed read, so they are the simple,
//! exact ones a live screen needs.

/// Declares an event type of the log: its resumable `cursor`, `committedAt`, and the row it
/// carries under `$field`. Every subscription's events have this one shape, so a client handles
/// them all alike.
macro_rules! event_object {
    ($(#[$doc:meta])* $name:ident { $(#[$field_doc:meta])* $field:ident: $row:ty }) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name {
            seq: i64,
            tenant: uuid::Uuid,
            committed_at: Option<chrono::DateTime<chrono::Utc>>,
            $field: std::sync::Arc<$row>,
        }

        impl $name {
            /// The event `e` of the log, carrying `row`, as seen by `tenant`.
            fn new(e: &super::hub::Event, tenant: uuid::Uuid, row: &std::sync::Arc<$row>) -> Self {
                Self {
                    seq: e.seq,
                    tenant,
                    committed_at: e.committed_at,
                    $field: row.clone(),
                }
            }
        }

        #[async_graphql::Object]
        impl $name {
            /// Position of this event in the tenant's commit order: pass it as `after` to resume.
            async fn cursor(
                &self,
                ctx: &async_graphql::Context<'_>,
            ) -> async_graphql::Result<String> {
                Ok(super::event_cursor(
                    ctx.data::<crate::TokenKeys>()?,
                    self.tenant,
                    self.seq,
                ))
            }

            /// When the write committed.
            async fn committed_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
                self.committed_at
            }

            $(#[$field_doc])*
            async fn $field(&self) -> &$row {
                &self.$field
            }
        }
    };
}

mod hub;
mod inbox;
mod members;
mod tickets;
mod watch;

use std::any::Any;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::{Context, InputObject, MergedSubscription, Pos};
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use uuid::Uuid;

pub use hub::Hub;
use hub::{Event, Subject};
pub use inbox::{ConversationEvent, ConversationWatchFilter, InboxSubscription, MessageEvent};
pub use members::{MemberEvent, MemberSubscription};
pub use tickets::{TicketEvent, TicketSubscription, TicketWatchFilter};
use watch::Watcher;

use crate::entity::{authorize, Entity, Op};
use crate::list::cursor;
use crate::query::Resolve;
use crate::ratelimit::leases::Lease;
use crate::types::Member;
use crate::{ApiError, NodeRef, Principal, RequestCtx, TokenKeys};

/// What a cursor of the event log is bound to besides the tenant.
const EVENTS_FINGERPRINT: &str = "InboxEvents";
/// How long the event log keeps events (migration 0009), hence how old a resumable cursor
/// may be.
pub const EVENT_RETENTION_DAYS: u32 = 30;
/// Subscriptions one connection may hold at once.
pub const MAX_SUBSCRIPTIONS_PER_CONNECTION: usize = 100;

/// Subscription starts that may use the database at once, in this process.
///
/// A start takes a lease (when the tenant has a limit), checks the caller's read access and
/// positions its watcher: database work, though none after it until events arrive. When tens
/// of thousands of clients subscribe at once (every tab reconnecting after a deploy), starts
/// past this many wait their turn here, in memory, instead of in the pool's queue, whose
/// acquire timeout would refuse them as `SERVICE_UNAVAILABLE` and whose timeouts would also
/// starve queries and event reads. Half the default pool: the rest keeps serving requests.
static STARTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(8);

/// Waits for a turn to start a subscription (see [`STARTS`]); the turn ends when the permit
/// is dropped. (The gate is never closed; if it were, there would just be no gate.)
pub(crate) async fn start_turn() -> Option<tokio::sync::SemaphorePermit<'static>> {
    STARTS.acquire().await.ok()
}

/// Live updates.
#[derive(Debug, Default, MergedSubscription)]
pub struct Subscription(InboxSubscription, TicketSubscription, MemberSubscription);

/// Who a watched conversation or ticket is assigned to; the given parts are alternatives.
#[derive(Debug, Clone, Default, InputObject)]
pub struct AssigneeWatch {
    /// Assigned to the caller.
    pub me: Option<bool>,
    /// Assigned to nobody.
    pub unassigned: Option<bool>,
    /// Assigned to one of these members.
    pub agent_ids: Option<Vec<NodeRef<Member>>>,
}

impl AssigneeWatch {
    /// Whether a row assigned to `agent` matches, for the caller `me`.
    fn matches(&self, agent: Option<Uuid>, me: Uuid) -> bool {
        (self.me == Some(true) && agent == Some(me))
            || (self.unassigned == Some(true) && agent.is_none())
            || self
                .agent_ids
                .as_ref()
                .is_some_and(|ids| agent.is_some_and(|x| ids.contains(&NodeRef::new(x))))
    }
}

fn within<T: PartialEq>(allowed: &Option<Vec<T>>, value: &T) -> bool {
    allowed.as_ref().is_none_or(|a| a.contains(value))
}

/// The caller, or `UNAUTHENTICATED`.
fn caller(ctx: &Context<'_>) -> Result<Principal, ApiError> {
    let req = ctx
        .data::<RequestCtx>()
        .map_err(|_| ApiError::Internal("no request context".into()))?;
    req.principal.ok_or_else(|| {
        ApiError::Unauthenticated("an access token is required in connection_init".into())
    })
}

/// The start of a subscription to `T`'s events: the caller may read `T` (see [`readable`]), and
/// a watcher at the right position (see [`watch`]).
///
/// Boxed: async-graphql keeps a subscription resolver's future inside the stream it builds
/// from it for as long as the subscription lives, so the transactions opened here would
/// otherwise reserve their state (kilobytes) in every subscriber; boxed, it is freed once the
/// watch has started.
async fn start<T: Entity>(
    ctx: &Context<'_>,
    subject: Option<Subject>,
    after: Option<String>,
) -> async_graphql::Result<(Principal, impl Stream<Item = Arc<Event>>)> {
    Box::pin(async {
        let _turn = start_turn().await;
        coded(ctx, readable::<T>(ctx).await)?;
        coded(ctx, watch(ctx, subject, after).await)
    })
    .await
}

/// What a subscription field returns, the one protocol every field follows: in a delivery
/// ([`Deliver`]) its event; otherwise, once the access check and the watcher's start
/// ([`start`]) have passed, the events `keep` turns into the field's type (given the caller),
/// handed to [`crate::execute_stream`] ([`Handoff`]) or, for a schema executed directly,
/// returned.
async fn subscribe<T: Entity, E: Send + 'static>(
    ctx: &Context<'_>,
    subject: Option<Subject>,
    after: Option<String>,
    keep: impl Fn(&Event, &Principal) -> Option<E> + Send + 'static,
) -> async_graphql::Result<BoxStream<'static, E>> {
    if let Some(event) = delivered(ctx) {
        return Ok(event);
    }
    let (principal, events) = start::<T>(ctx, subject, after).await?;
    let events = events.filter_map(move |e| futures::future::ready(keep(&e, &principal)));
    Ok(hand_off(ctx, events))
}

/// The caller, and a watcher at the right position.
async fn watch(
    ctx: &Context<'_>,
    subject: Option<Subject>,
    after: Option<String>,
) -> Result<(Principal, impl Stream<Item = Arc<Event>>), ApiError> {
    let principal = caller(ctx)?;
    let keys = ctx
        .data::<TokenKeys>()
        .map_err(|_| ApiError::Internal("no token keys".into()))?;
    let hub = ctx
        .data::<Arc<Hub>>()
        .map_err(|_| ApiError::Internal("no subscription hub".into()))?
        .clone();
    let pos = match &after {
        None => None,
        Some(c) => {
            let values = cursor::decode(keys, principal.tenant_id, EVENTS_FINGERPRINT, "after", c)?;
            let seq = values
                .first()
                .and_then(|v| v.parse::<i64>().ok())
                .ok_or_else(|| ApiError::BadUserInput {
                    field: "after".into(),
                    message: "invalid cursor: malformed".into(),
                })?;
            let mut tx = hub
                .db()
                .begin_tenant_reading(principal.tenant_ctx())
                .await?;
            if seq < frontdesk_db::events::purged_through(&mut tx).await? {
                return Err(ApiError::BadUserInput {
                    field: "after".into(),
                    message: format!(
                        "the cursor has expired: events are kept for {EVENT_RETENTION_DAYS} days; \
                         load the inbox again and subscribe without `after`"
                    ),
                });
            }
            Some(seq)
        }
    };
    let feed = hub.feed(principal.tenant_id).await?;
    let watcher = Watcher::new(feed, hub.db().clone(), principal.tenant_ctx(), subject, pos);
    Ok((principal, watcher.into_stream()))
}

fn event_cursor(keys: &TokenKeys, tenant: Uuid, seq: i64) -> String {
    cursor::encode(keys, tenant, EVENTS_FINGERPRINT, &[seq.to_string()])
}

fn coded<T>(ctx: &Context<'_>, r: Result<T, ApiError>) -> async_graphql::Result<T> {
    r.map_err(|e| {
        let id = ctx
            .data::<RequestCtx>()
            .map(|r| r.request_id.clone())
            .unwrap_or_default();
        e.into_graphql(&id)
    })
}

/// `FORBIDDEN` unless the caller may read `T` (its declared access): the same check a query of
/// `T` makes. Any transaction the check opened is closed again, so none stays open while the
/// subscription waits.
async fn readable<T: Entity>(ctx: &Context<'_>) -> Result<(), ApiError> {
    caller(ctx)?;
    let r = Resolve::new(ctx).map_err(|_| ApiError::Internal("no request session".into()))?;
    let checked = authorize::<T>(&r, Op::Read).await.map(drop);
    r.session.finish(false).await?;
    checked
}

/// An event of one subscription field, on its way from the field's watcher to a delivery
/// ([`Deliver`]).
pub(crate) type Item = Box<dyn Any + Send>;

/// The events of a started operation's fields, each with its field (its position in the
/// document).
pub(crate) type Events = BoxStream<'static, (Pos, Item)>;

/// Where the subscription fields of an operation started by [`crate::execute_stream`] leave
/// their events instead of returning them to async-graphql.
///
/// async-graphql keeps everything an operation needs — the request, its parsed document, the
/// query environment, the extension, the resolver's and the field stream's futures — for as
/// long as the operation's stream lives, which for a subscription is as long as it is
/// watched: kilobytes per idle subscriber. So the execution that starts a subscription (access
/// checks, lease, watcher position, every error of it as today) ends once its fields have
/// left their event streams here, and `execute_stream` keeps only these streams (a watcher
/// and a filter each) and the request's text. Each event is then resolved by an execution
/// of its own ([`Deliver`]), which is dropped again once it has answered.
#[derive(Default)]
pub(crate) struct Handoff {
    started: Mutex<Vec<(Pos, BoxStream<'static, Item>)>>,
    /// The tenant's subscription lease, taken at validation, held until the subscription ends.
    lease: Mutex<Option<Lease>>,
}

impl Handoff {
    /// Keeps the lease for as long as the subscription's events are watched.
    pub(crate) fn hold(&self, lease: Option<Lease>) {
        *self.lease.lock().unwrap_or_else(PoisonError::into_inner) = lease;
    }

    /// The fields' event streams, tagged with the field they belong to (the position of the
    /// field in the document), and the lease; `None` when no field started.
    pub(crate) fn take(&self) -> Option<(Events, Option<Lease>)> {
        let started =
            std::mem::take(&mut *self.started.lock().unwrap_or_else(PoisonError::into_inner));
        let lease = self
            .lease
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let tagged = started
            .into_iter()
            .map(|(pos, events)| events.map(move |e| (pos, e)).boxed());
        let mut streams: Vec<_> = tagged.collect();
        let events = match streams.len() {
            0 => return None,
            1 => streams.pop()?,
            _ => futures::stream::select_all(streams).boxed(),
        };
        Some((events, lease))
    }
}

/// The one event an execution delivers: only the field it came from (by position) yields it,
/// once; the others yield nothing.
pub(crate) struct Deliver {
    field: Pos,
    item: Mutex<Option<Item>>,
}

impl Deliver {
    pub(crate) fn new(field: Pos, item: Item) -> Self {
        Self {
            field,
            item: Mutex::new(Some(item)),
        }
    }
}

/// In a delivery ([`Deliver`]), what the field yields: its event, if the event is this
/// field's, else nothing. `None` outside a delivery.
fn delivered<E: Send + 'static>(ctx: &Context<'_>) -> Option<BoxStream<'static, E>> {
    let deliver = ctx.data_opt::<Deliver>()?;
    let item = (deliver.field == ctx.item.pos)
        .then(|| {
            deliver
                .item
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
        })
        .flatten()
        .and_then(|item| item.downcast::<E>().ok());
    Some(match item {
        Some(event) => futures::stream::once(futures::future::ready(*event)).boxed(),
        None => futures::stream::empty().boxed(),
    })
}

/// What a started field returns: nothing when [`crate::execute_stream`] takes its events
/// (see [`Handoff`]), else the events themselves (a schema executed directly).
fn hand_off<E: Send + 'static>(
    ctx: &Context<'_>,
    events: impl Stream<Item = E> + Send + 'static,
) -> BoxStream<'static, E> {
    match ctx.data_opt::<Arc<Handoff>>() {
        Some(handoff) => {
            let events = events.map(|e| Box::new(e) as Item).boxed();
            handoff
                .started
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push((ctx.item.pos, events));
            futures::stream::empty().boxed()
        }
        None => events.boxed(),
    }
}

/// Counts a connection's live subscriptions (see [`crate::execute_stream`]).
#[derive(Debug, Default)]
pub struct ConnectionSubscriptions(AtomicUsize);

impl ConnectionSubscriptions {
    /// Takes a slot, or refuses when the connection holds the maximum already.
    pub(crate) fn take(self: &Arc<Self>) -> Result<SubscriptionSlot, ApiError> {
        let held = self.0.fetch_add(1, Ordering::AcqRel);
        if held >= MAX_SUBSCRIPTIONS_PER_CONNECTION {
            self.0.fetch_sub(1, Ordering::AcqRel);
            return Err(ApiError::RateLimited(format!(
                "a connection may hold at most {MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions; \
                 complete one first"
            )));
        }
        Ok(SubscriptionSlot(self.clone()))
    }
}

/// A held subscription slot, given back when the subscription's stream is dropped.
#[derive(Debug)]
pub(crate) struct SubscriptionSlot(Arc<ConnectionSubscriptions>);

impl Drop for SubscriptionSlot {
    fn drop(&mut self) {
        self.0 .0.fetch_sub(1, Ordering::AcqRel);
    }
}
