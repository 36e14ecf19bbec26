//! Live inbox subscriptions: `messageAdded` and `conversationUpdated`.
//!
//! Events come from the commit-ordered log of migration 0008 through the process's [`Hub`].
//! Each carries a `cursor` (the event's position, signed for the tenant like list cursors); a
//! client that subscribes again with the last cursor it saw receives every later event
//! exactly once, in commit order, then the live stream. Filters here are evaluated in memory
//! on the rows the feed read, so they are the simple, exact ones an inbox screen needs.

mod hub;
mod watch;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_graphql::{Context, InputObject, Object, Subscription as SubscriptionRoot};
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use uuid::Uuid;

pub use hub::Hub;
use hub::{Event, Kind};
use watch::Watcher;

use crate::list::cursor;
use crate::types::enums::{
    Channel, ConversationCategory, ConversationPriority, ConversationStatus,
};
use crate::types::{Conversation, Customer, Member, Message};
use crate::{ApiError, NodeRef, Principal, RequestCtx, TokenKeys};

/// What a cursor of the event log is bound to besides the tenant.
const EVENTS_FINGERPRINT: &str = "InboxEvents";
/// How long the event log keeps events (migration 0009), hence how old a resumable cursor
/// may be.
pub const EVENT_RETENTION_DAYS: u32 = 30;
/// Subscriptions one connection may hold at once.
pub const MAX_SUBSCRIPTIONS_PER_CONNECTION: usize = 100;

/// Live updates.
#[derive(Debug, Default, Clone, Copy)]
pub struct Subscription;

/// A message was added to a conversation.
#[derive(Debug)]
pub struct MessageEvent {
    seq: i64,
    tenant: Uuid,
    committed_at: Option<DateTime<Utc>>,
    message: Arc<Message>,
}

#[Object]
impl MessageEvent {
    /// Position of this event in the tenant's commit order: pass it as `after` to resume.
    async fn cursor(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        Ok(event_cursor(
            ctx.data::<TokenKeys>()?,
            self.tenant,
            self.seq,
        ))
    }

    /// When the write committed.
    async fn committed_at(&self) -> Option<DateTime<Utc>> {
        self.committed_at
    }

    /// The message, as it was when the event was read.
    async fn message(&self) -> &Message {
        &self.message
    }
}

/// A conversation was created or changed (status, assignment, unread counts, last message,
/// notes, …).
#[derive(Debug)]
pub struct ConversationEvent {
    seq: i64,
    tenant: Uuid,
    committed_at: Option<DateTime<Utc>>,
    conversation: Arc<Conversation>,
}

#[Object]
impl ConversationEvent {
    /// Position of this event in the tenant's commit order: pass it as `after` to resume.
    async fn cursor(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        Ok(event_cursor(
            ctx.data::<TokenKeys>()?,
            self.tenant,
            self.seq,
        ))
    }

    /// When the write committed.
    async fn committed_at(&self) -> Option<DateTime<Utc>> {
        self.committed_at
    }

    /// The conversation, as it was when the event was read.
    async fn conversation(&self) -> &Conversation {
        &self.conversation
    }
}

/// Who a watched conversation is assigned to; the given parts are alternatives.
#[derive(Debug, Clone, Default, InputObject)]
pub struct AssigneeWatch {
    /// Assigned to the caller.
    pub me: Option<bool>,
    /// Assigned to nobody.
    pub unassigned: Option<bool>,
    /// Assigned to one of these members.
    pub agent_ids: Option<Vec<NodeRef<Member>>>,
}

/// Which conversations to watch; given fields combine with AND, list values with OR.
#[derive(Debug, Clone, Default, InputObject)]
pub struct ConversationWatchFilter {
    /// These conversations only.
    pub ids: Option<Vec<NodeRef<Conversation>>>,
    /// In one of these statuses (after the change).
    pub status: Option<Vec<ConversationStatus>>,
    /// On one of these channels.
    pub channels: Option<Vec<Channel>>,
    /// With one of these priorities.
    pub priority: Option<Vec<ConversationPriority>>,
    /// In one of these categories.
    pub category: Option<Vec<ConversationCategory>>,
    /// Of this customer.
    pub customer_id: Option<NodeRef<Customer>>,
    /// Assigned as given.
    pub assignee: Option<AssigneeWatch>,
}

fn within<T: PartialEq>(allowed: &Option<Vec<T>>, value: &T) -> bool {
    allowed.as_ref().is_none_or(|a| a.contains(value))
}

impl ConversationWatchFilter {
    fn matches(&self, c: &Conversation, me: Uuid) -> bool {
        within(&self.ids, &NodeRef::new(c.id))
            && within(&self.status, &c.status)
            && within(&self.channels, &c.channel)
            && within(&self.priority, &c.priority)
            && within(&self.category, &c.category)
            && self
                .customer_id
                .is_none_or(|id| c.customer_id == Some(id.row()))
            && self.assignee.as_ref().is_none_or(|a| {
                let agent = c.assigned_agent_id;
                (a.me == Some(true) && agent == Some(me))
                    || (a.unassigned == Some(true) && agent.is_none())
                    || a.agent_ids
                        .as_ref()
                        .is_some_and(|ids| agent.is_some_and(|x| ids.contains(&NodeRef::new(x))))
            })
    }
}

/// The start of a subscription: the caller, and a watcher at the right position.
async fn watch(
    ctx: &Context<'_>,
    conversation: Option<Uuid>,
    after: Option<String>,
) -> Result<(Principal, impl Stream<Item = Arc<Event>>), ApiError> {
    let req = ctx
        .data::<RequestCtx>()
        .map_err(|_| ApiError::Internal("no request context".into()))?;
    let principal = req.principal.ok_or_else(|| {
        ApiError::Unauthenticated("an access token is required in connection_init".into())
    })?;
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
            let mut tx = hub.db().begin_tenant(principal.tenant_ctx()).await?;
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
    let watcher = Watcher::new(
        feed,
        hub.db().clone(),
        principal.tenant_ctx(),
        conversation,
        pos,
    );
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

#[SubscriptionRoot]
impl Subscription {
    /// Messages as they are committed: of one conversation, or of every conversation on the
    /// given channels (all channels when absent). With `after` (a cursor of an earlier event),
    /// first every later message in commit order, then the live stream.
    async fn message_added(
        &self,
        ctx: &Context<'_>,
        conversation_id: Option<NodeRef<Conversation>>,
        channels: Option<Vec<Channel>>,
        after: Option<String>,
    ) -> async_graphql::Result<impl Stream<Item = MessageEvent>> {
        let (principal, events) = coded(
            ctx,
            watch(ctx, conversation_id.map(|c| c.row()), after).await,
        )?;
        Ok(events.filter_map(move |e| {
            let keep =
                e.kind == Kind::MessageAdded && e.channel.is_some_and(|ch| within(&channels, &ch));
            let event = match (&e.message, keep) {
                (Some(m), true) => Some(MessageEvent {
                    seq: e.seq,
                    tenant: principal.tenant_id,
                    committed_at: e.committed_at,
                    message: m.clone(),
                }),
                _ => None,
            };
            futures::future::ready(event)
        }))
    }

    /// Conversations as they are created or changed (status, assignment, unread counts, last
    /// message, notes), filtered on their state after the change. With `after`, first every
    /// later change in commit order, then the live stream.
    async fn conversation_updated(
        &self,
        ctx: &Context<'_>,
        filter: Option<ConversationWatchFilter>,
        after: Option<String>,
    ) -> async_graphql::Result<impl Stream<Item = ConversationEvent>> {
        let filter = filter.unwrap_or_default();
        let one = filter
            .ids
            .as_ref()
            .filter(|ids| ids.len() == 1)
            .map(|ids| ids[0].row());
        let (principal, events) = coded(ctx, watch(ctx, one, after).await)?;
        Ok(events.filter_map(move |e| {
            let event = match &e.conversation {
                Some(c)
                    if e.kind == Kind::ConversationUpdated
                        && filter.matches(c, principal.user_id) =>
                {
                    Some(ConversationEvent {
                        seq: e.seq,
                        tenant: principal.tenant_id,
                        committed_at: e.committed_at,
                        conversation: c.clone(),
                    })
                }
                _ => None,
            };
            futures::future::ready(event)
        }))
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
