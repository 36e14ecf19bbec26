//! `Conversation`: one thread with a customer on one channel (seeds 000, 002, 003), the root of
//! the inbox. Its messages and internal notes are nested connections; `unreadCount` is the
//! caller's own count (`app.unread_count`), read for a whole page in one statement. A chat of
//! seed 002 is a conversation too: owned by a member (`owner`), addressed by its
//! `conversationKey`, without a customer. Its documents are in `conversation_docs.rs`.

use async_graphql::{Context, SelectionField, SimpleObject};
use chrono::{DateTime, Utc};
use frontdesk_db::exprs::conversations;
use frontdesk_db::query::Cond;
use frontdesk_db::{exprs, sort, table};
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

pub use super::conversation_docs::{
    BookingDetails, ConversationCallData, CustomerSatisfaction, LastMessagePreview, WhatsappData,
};
use super::enums::{
    Channel, ChannelFilter, ConversationCategory, ConversationCategoryFilter, ConversationIntent,
    ConversationLifecycle, ConversationLifecycleFilter, ConversationOutcome, ConversationPriority,
    ConversationPriorityFilter, ConversationStatus, ConversationStatusFilter, ConversationType,
    ConversationTypeFilter,
};
// The lenient document readers, where the ticket documents have always found them.
pub(super) use super::lenient::{lenient_enum, time as iso_time};
use super::{
    Booking, Call, ConversationNote, ConversationThread, Customer, Lead, Member, Message,
    SmsMessage, Ticket,
};
use crate::entity::entity;
use crate::entity::read_ahead::{self, Task};
use crate::list::filter::{
    Budget, ColumnFilter, DateTimeFilter, IdFilter, StringFilter, TagsFilter,
};
use crate::list::{first_child, ListArgs};
use crate::query::Resolve;
use crate::ApiError;

entity! {
    /// A conversation in the inbox.
    // The stored `unread_count` (003's single counter) is not read: `unreadCount` is per member.
    Conversation in table!(conversations) => {
    /// The chat widget's own id for the conversation (002), unique in the tenant.
    conversation_key: Option<String>,
    /// The member who owns a chatbot conversation (002).
    user_id: Option<Uuid>,
    /// The customer, when known.
    customer_id: Option<Uuid>,
    /// Title.
    title: Option<String>,
    /// The medium as the AI receptionist saw it (000).
    r#type: Option<ConversationType>,
    /// Where it happens.
    channel: Channel,
    /// The chat widget's session.
    session_id: Option<String>,
    /// Where it started (`website_widget`, `inbound_call`, …).
    source: Option<String>,
    /// The contact's number as captured (before or without a customer).
    client_phone: Option<String>,
    /// The contact's e-mail as captured.
    client_email: Option<String>,
    /// The contact's name as captured.
    client_name: Option<String>,
    /// Workflow state.
    status: ConversationStatus,
    /// Visibility and retention.
    lifecycle: ConversationLifecycle,
    /// Urgency.
    priority: ConversationPriority,
    /// Topic.
    category: ConversationCategory,
    /// Free labels.
    tags: Vec<String>,
    /// The member handling it.
    assigned_agent_id: Option<Uuid>,
    /// When it was assigned.
    assigned_at: Option<DateTime<Utc>>,
    /// The member who assigned it.
    assigned_by_id: Option<Uuid> = exprs::conversations::ASSIGNED_BY,
    /// The AI may answer.
    is_ai_enabled: bool,
    /// The model the AI answers with.
    ai_model: String,
    /// Automatic replies are on.
    auto_responses: bool,
    /// Voice data, when the conversation was a call.
    #[sqlx(json(nullable))]
    call_data: Option<ConversationCallData>,
    /// What the customer wanted.
    intent: Option<ConversationIntent>,
    /// Lead score, 0–100.
    lead_score: Option<i16>,
    /// Chance of conversion, 0–1.
    conversion_probability: Option<Decimal>,
    /// How it ended.
    outcome: Option<ConversationOutcome>,
    /// What was booked.
    #[sqlx(json(nullable))]
    booking_details: Option<BookingDetails>,
    /// Sale value.
    sale_amount: Option<Decimal>,
    /// Resolved or closed (derived from `status`).
    resolved: bool,
    /// Handed to a person.
    escalated_to_human: bool,
    /// Messages in the conversation.
    message_count: i32,
    /// The latest message as the list shows it.
    #[sqlx(json(nullable))]
    last_message_preview: Option<LastMessagePreview> = exprs::conversations::LAST_MESSAGE,
    /// When the latest message was sent.
    last_message_at: Option<DateTime<Utc>>,
    /// Minutes to the first agent response.
    first_response_time: Option<Decimal>,
    /// Average agent response time, minutes.
    average_response_time: Option<Decimal>,
    /// The latest agent reply.
    last_agent_response: Option<DateTime<Utc>>,
    /// The latest customer message.
    last_customer_message: Option<DateTime<Utc>>,
    /// When it was resolved.
    resolved_at: Option<DateTime<Utc>>,
    /// Minutes from creation to resolution (derived from `resolvedAt`).
    resolution_time: Option<Decimal> = exprs::conversations::RESOLUTION_TIME,
    /// The member who resolved it.
    resolved_by_id: Option<Uuid> = exprs::conversations::RESOLVED_BY,
    /// How it was resolved.
    resolution_notes: Option<String>,
    /// The customer's rating.
    #[sqlx(json(nullable))]
    customer_satisfaction: Option<CustomerSatisfaction>,
    /// The WhatsApp number it runs on.
    #[sqlx(json(nullable))]
    whatsapp_data: Option<WhatsappData>,
    /// Free-form data (`platformsQueried`, `totalTokensUsed`, …).
    metadata: serde_json::Value,
    /// When it will be purged (002 retention), if ever.
    expires_at: Option<DateTime<Utc>>,
    /// When it was closed.
    closed_at: Option<DateTime<Utc>>,
    /// Created.
    created_at: DateTime<Utc>,
    /// Last changed.
    updated_at: DateTime<Utc>,
    }
    filter ConversationFilter {
        id: IdFilter [Conversation],
        status: ConversationStatusFilter,
        channel: ChannelFilter,
        r#type: ConversationTypeFilter,
        priority: ConversationPriorityFilter,
        category: ConversationCategoryFilter,
        lifecycle: ConversationLifecycleFilter,
        tags: TagsFilter,
        customer_id: IdFilter [Customer],
        /// The chat widget's key (002 `conversationId`).
        conversation_key: StringFilter,
        /// The member who owns a chat (002 `userId`).
        user_id: IdFilter [Member],
        created_at: DateTimeFilter,
        updated_at: DateTimeFilter,
        last_message_at: DateTimeFilter,
        /// Who it is assigned to.
        assignee: AssigneeFilter = frontdesk_db::col!(assigned_agent_id),
        /// The caller has (true) or has not (false) unread messages in it.
        has_unread: bool = conversations::HAS_UNREAD,
    }
    /// Words in its messages (web-search syntax), or text in its title or contact name.
    search: conversations::search;
    order ConversationOrder, ConversationOrderField {
        /// Latest message, or creation when there is none.
        LastActivity => conversations::LAST_ACTIVITY,
        /// Creation time.
        CreatedAt => sort!(created_at: timestamptz),
        /// Last change.
        UpdatedAt => sort!(updated_at: timestamptz),
        /// Urgency (low < medium < high < urgent).
        Priority => exprs::PRIORITY_RANK,
    }
    default_order: [LastActivity desc];
    relations {
        /// The customer, when known.
        customer: one Customer via customer_id,
        /// The member handling it.
        assigned_agent: one Member via assigned_agent_id,
        /// The member who assigned it.
        assigned_by: one Member via assigned_by_id,
        /// The member who resolved it.
        resolved_by: one Member via resolved_by_id,
        /// The member who owns a chatbot conversation (002 `userId`).
        owner: one Member via user_id,
        /// Messages, newest first unless ordered: `first: 20` is the latest page and
        /// `after: endCursor` scrolls back in time.
        messages: many Message via conversation_id,
        /// Internal notes, oldest first unless ordered.
        notes: many ConversationNote via conversation_id,
        /// Bookings made in it (newest first unless ordered).
        bookings: many Booking via conversation_id,
        /// Calls that are part of it (newest first unless ordered).
        calls: many Call via conversation_id,
        /// Text messages that are part of it (newest first unless ordered).
        sms_messages: many SmsMessage via conversation_id,
        /// Leads captured in it (newest first unless ordered).
        leads: many Lead via conversation_id,
        /// Support tickets opened from it (newest first unless ordered).
        tickets: many Ticket via conversation_id,
        /// The AI provider's threads behind it, the active one among them (newest first
        /// unless ordered).
        threads: many ConversationThread via conversation_id,
    }
    root: ConversationQuery { conversation, conversations };
    access: {
        read: Viewer + ReadConversations,
        write: Agent + WriteMessages,
        delete: Supervisor + WriteMessages,
        assign: Agent + AssignConversations,
        // Writing the AI's analysis (`recordConversationAnalysis`): what the AI provider's
        // integration member does, the same floor as any other change today; named so it can
        // be tightened on its own.
        analyze: Agent + WriteMessages,
    };
    // The per-member read markers (`conversation_reads`) are part of the conversation.
    constraints {
        "conversations_customer_fkey" => "input.customerId": NotFound("Customer"),
        "conversations_assigned_agent_fkey" => "agentId": NotFound("Member"),
        "conversations_tenant_id_conversation_key_key" => "input.conversationKey":
            Conflict("another conversation already has this conversation key"),
        "conversation_reads_conversation_fkey" => "id": NotFound("Conversation"),
        "conversation_reads_last_read_message_fkey" => "upTo": NotFound("Message"),
    }
    read_ahead: read_ahead_field;
    fields {
        /// Inbound messages the caller has not read (exact, `app.unread_count`).
        async fn unread_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
            let r = Resolve::new(ctx)?;
            r.run(r.loaders.load_unread(self.id)).await
        }

        /// The newest message, if any.
        async fn last_message(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Message>> {
            let r = Resolve::new(ctx)?;
            r.run(first_child(ctx, &r, "conversation_id", self.id, latest_args()))
                .await
        }
    }
}

/// Who a conversation is assigned to; the parts given are OR'ed.
#[derive(async_graphql::InputObject, Debug, Clone, Default, Serialize)]
pub struct AssigneeFilter {
    /// Assigned to the caller.
    pub me: Option<bool>,
    /// Assigned to nobody.
    pub unassigned: Option<bool>,
    /// Assigned to one of these members (global ids or row UUIDs).
    pub agent_ids: Option<Vec<async_graphql::ID>>,
}

impl ColumnFilter for AssigneeFilter {
    fn check_refs(&self, _: &'static str, budget: &Budget) -> Result<(), ApiError> {
        IdFilter {
            in_: self.agent_ids.clone(),
            ..IdFilter::default()
        }
        .check_refs("Member", budget)
    }

    fn lower(
        &self,
        col: &'static str,
        out: &mut Vec<Cond>,
        budget: &mut Budget,
    ) -> Result<(), ApiError> {
        self.check_refs("Member", budget)?;
        let mut any = Vec::new();
        if let Some(me) = self.me {
            let mine = conversations::assigned_to_me();
            any.push(if me { mine } else { Cond::Not(Box::new(mine)) });
        }
        if let Some(unassigned) = self.unassigned {
            any.push(Cond::IsNull(col, unassigned));
        }
        if self.agent_ids.is_some() {
            let ids = IdFilter {
                in_: self.agent_ids.clone(),
                ..IdFilter::default()
            };
            let mut conds = Vec::new();
            ids.lower(col, &mut conds, budget)?;
            any.extend(conds);
        }
        if !any.is_empty() {
            out.push(Cond::Or(any));
        }
        Ok(())
    }
}

/// Read-ahead of the computed fields: the caller's unread counts of a page of conversations
/// in one statement, and their newest messages in another.
fn read_ahead_field<'a>(
    r: &'a Resolve<'a>,
    field: SelectionField<'a>,
    rows: &[&Conversation],
) -> Option<Task<'a>> {
    let ids = || rows.iter().map(|c| c.id).collect::<Vec<Uuid>>();
    match field.name() {
        "unreadCount" => Some(Box::pin(r.loaders.prefetch_unread(ids()))),
        "lastMessage" => Some(read_ahead::first_child::<Message>(
            r,
            field,
            "conversation_id",
            ids(),
            latest_args(),
        )),
        _ => None,
    }
}

/// The newest message of a conversation: the first row of its default (newest-first) order.
fn latest_args() -> ListArgs<Message> {
    ListArgs {
        first: Some(1),
        ..ListArgs::default()
    }
}

/// How many conversations there are in one status.
#[derive(Debug, Clone, SimpleObject)]
pub struct StatusCount {
    /// The status.
    pub status: ConversationStatus,
    /// Conversations in it.
    pub count: i64,
}

/// The inbox's badge counts, for the caller.
#[derive(Debug, Clone, SimpleObject)]
pub struct InboxCounts {
    /// Active conversations not yet resolved or closed.
    pub open: i64,
    /// Of those, assigned to the caller.
    pub mine: i64,
    /// Of those, assigned to nobody.
    pub unassigned: i64,
    /// Conversations waiting (on the customer or a third party).
    pub waiting: i64,
    /// Resolved conversations.
    pub resolved: i64,
    /// Closed conversations.
    pub closed: i64,
    /// Every conversation, whatever its status or lifecycle.
    pub total: i64,
    /// Conversations per status (every status, zeros included).
    pub by_status: Vec<StatusCount>,
    /// Conversations with messages the caller has not read.
    pub unread_for_me: i64,
}

impl From<frontdesk_db::inbox::InboxCounts> for InboxCounts {
    fn from(c: frontdesk_db::inbox::InboxCounts) -> Self {
        let by_status = [
            (ConversationStatus::Open, c.status_open),
            (ConversationStatus::Assigned, c.status_assigned),
            (ConversationStatus::Waiting, c.status_waiting),
            (ConversationStatus::Resolved, c.status_resolved),
            (ConversationStatus::Closed, c.status_closed),
        ]
        .into_iter()
        .map(|(status, count)| StatusCount { status, count })
        .collect();
        InboxCounts {
            open: c.open,
            mine: c.mine,
            unassigned: c.unassigned,
            waiting: c.status_waiting,
            resolved: c.status_resolved,
            closed: c.status_closed,
            total: c.total,
            by_status,
            unread_for_me: c.unread_for_me,
        }
    }
}
