//! The inbox subscriptions, `messageAdded` and `conversationUpdated`: the conversation and
//! message events of the log, filtered the way an inbox screen needs.

use async_graphql::{Context, InputObject, Subscription};
use futures::stream::BoxStream;
use uuid::Uuid;

use super::hub::{Kind, Subject};
use super::{subscribe, within, AssigneeWatch};
use crate::types::enums::{
    Channel, ConversationCategory, ConversationPriority, ConversationStatus,
};
use crate::types::{Conversation, Customer, Message};
use crate::NodeRef;

/// The inbox's live updates.
#[derive(Debug, Default, Clone, Copy)]
pub struct InboxSubscription;

event_object! {
/// A message was added to a conversation.
    MessageEvent {
        /// The message, as it was when the event was read.
        message: Message
    }
}

event_object! {
/// A conversation was created or changed (status, assignment, unread counts, last message,
/// notes, …).
    ConversationEvent {
        /// The conversation, as it was when the event was read.
        conversation: Conversation
    }
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
            && self
                .assignee
                .as_ref()
                .is_none_or(|a| a.matches(c.assigned_agent_id, me))
    }
}

#[Subscription]
impl InboxSubscription {
    /// Messages as they are committed: of one conversation, or of every conversation on the
    /// given channels (all channels when absent). With `after` (a cursor of an earlier event),
    /// first every later message in commit order, then the live stream.
    async fn message_added(
        &self,
        ctx: &Context<'_>,
        conversation_id: Option<NodeRef<Conversation>>,
        channels: Option<Vec<Channel>>,
        after: Option<String>,
    ) -> async_graphql::Result<BoxStream<'static, MessageEvent>> {
        let subject = conversation_id.map(|c| Subject::Conversation(c.row()));
        subscribe::<Message, _>(ctx, subject, after, move |e, principal| {
            let keep =
                e.kind == Kind::MessageAdded && e.channel.is_some_and(|ch| within(&channels, &ch));
            match (&e.message, keep) {
                (Some(m), true) => Some(MessageEvent::new(e, principal.tenant_id, m)),
                _ => None,
            }
        })
        .await
    }

    /// Conversations as they are created or changed (status, assignment, unread counts, last
    /// message, notes), filtered on their state after the change. With `after`, first every
    /// later change in commit order, then the live stream.
    async fn conversation_updated(
        &self,
        ctx: &Context<'_>,
        filter: Option<ConversationWatchFilter>,
        after: Option<String>,
    ) -> async_graphql::Result<BoxStream<'static, ConversationEvent>> {
        let filter = filter.unwrap_or_default();
        let one = filter
            .ids
            .as_ref()
            .filter(|ids| ids.len() == 1)
            .map(|ids| Subject::Conversation(ids[0].row()));
        subscribe::<Conversation, _>(ctx, one, after, move |e, principal| match &e.conversation {
            Some(c)
                if e.kind == Kind::ConversationUpdated && filter.matches(c, principal.user_id) =>
            {
                Some(ConversationEvent::new(e, principal.tenant_id, c))
            }
            _ => None,
        })
        .await
    }
}
