//! `Conversation`: one thread with a customer on one channel (seeds 000, 002, 003), the root of
//! the inbox. Its messages and internal notes are nested connections; `unreadCount` is the
//! caller's own count (`app.unread_count`), read for a whole page in one statement.

use async_graphql::{ComplexObject, Context, SelectionField, SimpleObject};
use chrono::{DateTime, Utc};
use frontdesk_db::query::{Cond, OrderKey, RawPart, Table, Value};
use frontdesk_db::{DbError, TenantTx};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::enums::{
    Channel, ConversationCategory, ConversationIntent, ConversationLifecycle, ConversationOutcome,
    ConversationPriority, ConversationStatus, ConversationType, MessageSender, MessageType,
    Sentiment, VoiceGender,
};
use super::message::link;
use super::{ConversationNote, Customer, Member, Message};
use super::{ConversationNoteFilter, ConversationNoteOrder, MessageFilter, MessageOrder};
use crate::list::filter::{
    contains_pattern, entity_filter, Budget, ColumnFilter, DateTimeFilter, EnumFilter, TagsFilter,
    UuidFilter,
};
use crate::list::order::entity_order;
use crate::list::{children, Connection, ListArgs, Node};
use crate::prefetch;
use crate::query::Resolve;
use crate::ApiError;

/// Reads a document's enum field by its stored spelling; an unknown value reads as null
/// (documents are lenient on read, see `docs.rs`).
macro_rules! lenient_enum {
    ($fn:ident, $enum:ty) => {
        pub(super) fn $fn<'de, D: serde::Deserializer<'de>>(
            d: D,
        ) -> Result<Option<$enum>, D::Error> {
            let s: Option<String> = serde::Deserialize::deserialize(d)?;
            Ok(s.as_deref().and_then(<$enum>::from_db))
        }
    };
}
pub(super) use lenient_enum;

lenient_enum!(sender, MessageSender);
lenient_enum!(message_type, MessageType);
lenient_enum!(sentiment, Sentiment);
lenient_enum!(voice_gender, VoiceGender);

/// An ISO 8601 time inside a document; anything else reads as null.
pub(super) fn iso_time<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    let s: Option<String> = Deserialize::deserialize(d)?;
    Ok(s.and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
        .map(|t| t.with_timezone(&Utc)))
}

/// The latest message as the inbox list shows it (003 `lastMessage`), kept by the writer.
#[derive(Debug, Clone, Default, SimpleObject, Serialize, Deserialize)]
pub struct LastMessagePreview {
    /// Text (or caption).
    pub content: Option<String>,
    /// When it was sent.
    #[serde(default, deserialize_with = "iso_time")]
    pub timestamp: Option<DateTime<Utc>>,
    /// Who wrote it.
    #[serde(default, deserialize_with = "sender")]
    pub from: Option<MessageSender>,
    /// Kind of content.
    #[graphql(name = "type")]
    #[serde(default, rename = "type", deserialize_with = "message_type")]
    pub kind: Option<MessageType>,
}

/// Voice data of a conversation that was a call (000).
#[derive(Debug, Clone, Default, SimpleObject, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationCallData {
    /// Length in seconds.
    pub duration: Option<f64>,
    /// The assistant's voice.
    #[serde(default, deserialize_with = "voice_gender")]
    pub voice_gender: Option<VoiceGender>,
    /// Recording location.
    pub recording_url: Option<String>,
    /// Transcript.
    pub transcription: Option<String>,
    /// Tone of the call.
    #[serde(default, deserialize_with = "sentiment")]
    pub sentiment: Option<Sentiment>,
}

/// What was booked in the conversation (000).
#[derive(Debug, Clone, Default, SimpleObject, Serialize, Deserialize)]
pub struct BookingDetails {
    /// Service name.
    pub service: Option<String>,
    /// Day, `YYYY-MM-DD`.
    pub date: Option<String>,
    /// Local time, `HH:MM`.
    pub time: Option<String>,
    /// Price quoted.
    pub price: Option<Decimal>,
}

/// The customer's rating of the conversation (003).
#[derive(Debug, Clone, Default, SimpleObject, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerSatisfaction {
    /// 1–5.
    pub rating: Option<f64>,
    /// Free comment.
    pub comment: Option<String>,
    /// When it was given.
    #[serde(default, deserialize_with = "iso_time")]
    pub submitted_at: Option<DateTime<Utc>>,
}

/// The WhatsApp Business number the conversation runs on (003).
#[derive(Debug, Clone, Default, SimpleObject, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WhatsappData {
    /// WhatsApp phone number id.
    pub phone_number_id: Option<String>,
    /// WhatsApp Business account id.
    pub business_account_id: Option<String>,
}

/// A conversation in the inbox.
// `sqlx(default)`: lists read only the columns a query selects (plus ids and links).
#[derive(Debug, Clone, Default, SimpleObject, sqlx::FromRow)]
#[sqlx(default)]
#[graphql(complex)]
pub struct Conversation {
    /// Id.
    pub id: Uuid,
    /// The chat widget's own id for the conversation (002), unique in the tenant.
    pub conversation_key: Option<String>,
    /// The member who owns a chatbot conversation (002).
    pub user_id: Option<Uuid>,
    /// The customer, when known.
    pub customer_id: Option<Uuid>,
    /// Title.
    pub title: Option<String>,
    /// The medium as the AI receptionist saw it (000).
    pub r#type: Option<ConversationType>,
    /// Where it happens.
    pub channel: Channel,
    /// The chat widget's session.
    pub session_id: Option<String>,
    /// Where it started (`website_widget`, `inbound_call`, …).
    pub source: Option<String>,
    /// The contact's number as captured (before or without a customer).
    pub client_phone: Option<String>,
    /// The contact's e-mail as captured.
    pub client_email: Option<String>,
    /// The contact's name as captured.
    pub client_name: Option<String>,
    /// Workflow state.
    pub status: ConversationStatus,
    /// Visibility and retention.
    pub lifecycle: ConversationLifecycle,
    /// Urgency.
    pub priority: ConversationPriority,
    /// Topic.
    pub category: ConversationCategory,
    /// Free labels.
    pub tags: Vec<String>,
    /// The member handling it.
    pub assigned_agent_id: Option<Uuid>,
    /// When it was assigned.
    pub assigned_at: Option<DateTime<Utc>>,
    /// The member who assigned it.
    pub assigned_by_id: Option<Uuid>,
    /// The AI may answer.
    pub is_ai_enabled: bool,
    /// The model the AI answers with.
    pub ai_model: String,
    /// Automatic replies are on.
    pub auto_responses: bool,
    /// Voice data, when the conversation was a call.
    #[sqlx(json(nullable))]
    pub call_data: Option<ConversationCallData>,
    /// What the customer wanted.
    pub intent: Option<ConversationIntent>,
    /// Lead score, 0–100.
    pub lead_score: Option<i16>,
    /// Chance of conversion, 0–1.
    pub conversion_probability: Option<Decimal>,
    /// How it ended.
    pub outcome: Option<ConversationOutcome>,
    /// What was booked.
    #[sqlx(json(nullable))]
    pub booking_details: Option<BookingDetails>,
    /// Sale value.
    pub sale_amount: Option<Decimal>,
    /// Resolved or closed (derived from `status`).
    pub resolved: bool,
    /// Handed to a person.
    pub escalated_to_human: bool,
    /// Messages in the conversation.
    pub message_count: i32,
    /// The latest message as the list shows it.
    #[sqlx(json(nullable))]
    pub last_message_preview: Option<LastMessagePreview>,
    /// When the latest message was sent.
    pub last_message_at: Option<DateTime<Utc>>,
    /// Minutes to the first agent response.
    pub first_response_time: Option<Decimal>,
    /// Average agent response time, minutes.
    pub average_response_time: Option<Decimal>,
    /// The latest agent reply.
    pub last_agent_response: Option<DateTime<Utc>>,
    /// The latest customer message.
    pub last_customer_message: Option<DateTime<Utc>>,
    /// When it was resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Minutes from creation to resolution (derived from `resolvedAt`).
    pub resolution_time: Option<Decimal>,
    /// The member who resolved it.
    pub resolved_by_id: Option<Uuid>,
    /// How it was resolved.
    pub resolution_notes: Option<String>,
    /// The customer's rating.
    #[sqlx(json(nullable))]
    pub customer_satisfaction: Option<CustomerSatisfaction>,
    /// The WhatsApp number it runs on.
    #[sqlx(json(nullable))]
    pub whatsapp_data: Option<WhatsappData>,
    /// Free-form data (`platformsQueried`, `totalTokensUsed`, …).
    pub metadata: serde_json::Value,
    /// When it will be purged (002 retention), if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

// The stored `unread_count` (003's single counter) is not read: `unreadCount` is per member.
pub(crate) static CONVERSATIONS: Table = Table {
    name: "app.conversations",
    columns: "t.id, t.conversation_key, t.user_id, t.customer_id, t.title, t.type, t.channel, \
              t.session_id, t.source, t.client_phone, t.client_email, t.client_name, t.status, \
              t.lifecycle, t.priority, t.category, t.tags, t.assigned_agent_id, t.assigned_at, \
              t.assigned_by AS assigned_by_id, t.is_ai_enabled, t.ai_model, t.auto_responses, \
              t.call_data, t.intent, t.lead_score, t.conversion_probability, t.outcome, \
              t.booking_details, t.sale_amount, t.resolved, t.escalated_to_human, \
              t.message_count, t.last_message AS last_message_preview, t.last_message_at, \
              t.first_response_time, t.average_response_time, t.last_agent_response, \
              t.last_customer_message, t.resolved_at, \
              round(extract(epoch FROM t.resolved_at - t.created_at) / 60, 2) AS resolution_time, \
              t.resolved_by AS resolved_by_id, t.resolution_notes, t.customer_satisfaction, \
              t.whatsapp_data, t.metadata, t.expires_at, t.closed_at, t.created_at, t.updated_at",
};

/// Who a conversation is assigned to; the parts given are OR'ed.
#[derive(async_graphql::InputObject, Debug, Clone, Default, Serialize)]
pub struct AssigneeFilter {
    /// Assigned to the caller.
    pub me: Option<bool>,
    /// Assigned to nobody.
    pub unassigned: Option<bool>,
    /// Assigned to one of these members.
    pub agent_ids: Option<Vec<Uuid>>,
}

impl ColumnFilter for AssigneeFilter {
    fn lower(
        &self,
        col: &'static str,
        out: &mut Vec<Cond>,
        budget: &mut Budget,
    ) -> Result<(), ApiError> {
        let mut any = Vec::new();
        if let Some(me) = self.me {
            let mine = Cond::Raw(vec![
                RawPart::Sql(col),
                RawPart::Sql(" = app.current_user_id()"),
            ]);
            any.push(if me { mine } else { Cond::Not(Box::new(mine)) });
        }
        if let Some(unassigned) = self.unassigned {
            any.push(Cond::IsNull(col, unassigned));
        }
        if let Some(ids) = &self.agent_ids {
            budget.spend(ids.len())?;
            any.push(Cond::In(
                col,
                ids.iter().copied().map(Value::Uuid).collect(),
                false,
            ));
        }
        if !any.is_empty() {
            out.push(Cond::Or(any));
        }
        Ok(())
    }
}

/// Conversations whose messages match `q` in full text (`app.messages.search`, GIN-indexed),
/// or whose title or contact name contains it. Message text is where the words are; the title
/// and name are short, so a substring match finds partial names ("ann" in "Anna") too.
fn search(q: &str) -> Cond {
    let pattern = Value::Text(contains_pattern(q.trim()));
    Cond::Raw(vec![
        RawPart::Sql(
            "EXISTS (SELECT 1 FROM app.messages m WHERE m.tenant_id = t.tenant_id \
             AND m.conversation_id = t.id AND m.search @@ websearch_to_tsquery('simple', ",
        ),
        RawPart::Bind(Value::Text(q.to_owned())),
        RawPart::Sql(")) OR t.title ILIKE "),
        RawPart::Bind(pattern.clone()),
        RawPart::Sql(" OR t.client_name ILIKE "),
        RawPart::Bind(pattern),
    ])
}

entity_filter! {
    /// Which conversations; fields combine with AND.
    ConversationFilter {
        id: UuidFilter => "t.id",
        status: EnumFilter<ConversationStatus> => "t.status",
        channel: EnumFilter<Channel> => "t.channel",
        r#type: EnumFilter<ConversationType> => "t.type",
        priority: EnumFilter<ConversationPriority> => "t.priority",
        category: EnumFilter<ConversationCategory> => "t.category",
        lifecycle: EnumFilter<ConversationLifecycle> => "t.lifecycle",
        tags: TagsFilter => "t.tags",
        customer_id: UuidFilter => "t.customer_id",
        created_at: DateTimeFilter => "t.created_at",
        updated_at: DateTimeFilter => "t.updated_at",
        last_message_at: DateTimeFilter => "t.last_message_at",
        /// Who it is assigned to.
        assignee: AssigneeFilter => "t.assigned_agent_id",
        /// The caller has (true) or has not (false) unread messages in it.
        has_unread: bool => "(app.unread_count(t.id, app.current_user_id()) > 0)",
    }
    /// Words in its messages (web-search syntax), or text in its title or contact name.
    search => search
}

/// Latest activity: the last message, or creation for a conversation without messages.
const LAST_ACTIVITY: &str = "coalesce(t.last_message_at, t.created_at)";

entity_order! {
    /// A conversation sort key.
    ConversationOrder, ConversationOrderField {
        /// Latest message, or creation when there is none.
        LastActivity => ("coalesce(t.last_message_at, t.created_at)", "timestamptz"),
        /// Creation time.
        CreatedAt => ("t.created_at", "timestamptz"),
        /// Last change.
        UpdatedAt => ("t.updated_at", "timestamptz"),
        /// Urgency (low < medium < high < urgent).
        Priority => ("CASE t.priority WHEN 'urgent' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END", "integer"),
    }
}

impl Node for Conversation {
    const NAME: &'static str = "Conversation";
    const TABLE: &'static Table = &CONVERSATIONS;
    const DEFAULT_ORDER: &'static [OrderKey] = &[OrderKey {
        expr: LAST_ACTIVITY,
        sql_type: "timestamptz",
        desc: true,
    }];
    type Filter = ConversationFilter;
    type Order = ConversationOrder;
    fn id(&self) -> Uuid {
        self.id
    }

    fn prefetch<'a>(
        r: &'a Resolve<'a>,
        field: SelectionField<'a>,
        path: String,
        rows: &[&Self],
    ) -> Option<prefetch::Task<'a>> {
        let ids = || rows.iter().map(|c| c.id).collect();
        let links =
            |f: fn(&Conversation) -> Option<Uuid>| rows.iter().filter_map(|c| f(c)).collect();
        Some(match field.name() {
            "customer" => prefetch::linked::<Customer>(r, field, path, links(|c| c.customer_id)),
            "assignedAgent" => {
                prefetch::linked::<Member>(r, field, path, links(|c| c.assigned_agent_id))
            }
            "assignedBy" => prefetch::linked::<Member>(r, field, path, links(|c| c.assigned_by_id)),
            "resolvedBy" => prefetch::linked::<Member>(r, field, path, links(|c| c.resolved_by_id)),
            "owner" => prefetch::linked::<Member>(r, field, path, links(|c| c.user_id)),
            "messages" => prefetch::children::<Message>(r, field, path, "conversation_id", ids()),
            "notes" => {
                prefetch::children::<ConversationNote>(r, field, path, "conversation_id", ids())
            }
            "lastMessage" => {
                prefetch::latest::<Message>(r, field, path, "conversation_id", ids(), latest_args())
            }
            "unreadCount" => prefetch::unread_counts(r, ids()),
            _ => return None,
        })
    }
}

/// The newest message of a conversation: the first row of its default (newest-first) order.
fn latest_args() -> ListArgs<Message> {
    ListArgs {
        first: Some(1),
        after: None,
        last: None,
        before: None,
        filter: None,
        order_by: None,
    }
}

/// The caller's unread counts of `ids` in one statement (conversations not visible are absent).
pub(crate) async fn unread_counts(
    tx: &mut TenantTx,
    ids: &[Uuid],
) -> Result<Vec<(Uuid, i64)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT c.id, app.unread_count(c.id, app.current_user_id())
           FROM app.conversations c WHERE c.id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(tx.conn())
    .await?)
}

#[ComplexObject]
impl Conversation {
    /// The customer, when known.
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        link(ctx, self.customer_id).await
    }

    /// The member handling it.
    async fn assigned_agent(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Member>> {
        link(ctx, self.assigned_agent_id).await
    }

    /// The member who assigned it.
    async fn assigned_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Member>> {
        link(ctx, self.assigned_by_id).await
    }

    /// The member who resolved it.
    async fn resolved_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Member>> {
        link(ctx, self.resolved_by_id).await
    }

    /// The member who owns a chatbot conversation (002 `userId`).
    async fn owner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Member>> {
        link(ctx, self.user_id).await
    }

    /// Inbound messages the caller has not read (exact, `app.unread_count`).
    async fn unread_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        let r = Resolve::new(ctx)?;
        r.run(r.loaders.load_unread(self.id)).await
    }

    /// The newest message, if any.
    async fn last_message(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Message>> {
        let r = Resolve::new(ctx)?;
        r.run(async {
            let rows = children(ctx, &r, "conversation_id", self.id, latest_args()).await?;
            Ok(rows.first_node())
        })
        .await
    }

    /// Messages, newest first unless ordered: `first: 20` is the latest page and
    /// `after: endCursor` scrolls back in time.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::list::cost(first, last, child_complexity)")]
    async fn messages(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<MessageFilter>,
        order_by: Option<Vec<MessageOrder>>,
    ) -> async_graphql::Result<Connection<Message>> {
        let args = ListArgs {
            first,
            after,
            last,
            before,
            filter,
            order_by,
        };
        let r = Resolve::new(ctx)?;
        r.run(children(ctx, &r, "conversation_id", self.id, args))
            .await
    }

    /// Internal notes, oldest first unless ordered.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::list::cost(first, last, child_complexity)")]
    async fn notes(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<ConversationNoteFilter>,
        order_by: Option<Vec<ConversationNoteOrder>>,
    ) -> async_graphql::Result<Connection<ConversationNote>> {
        let args = ListArgs {
            first,
            after,
            last,
            before,
            filter,
            order_by,
        };
        let r = Resolve::new(ctx)?;
        r.run(children(ctx, &r, "conversation_id", self.id, args))
            .await
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

/// Every count in one pass over the tenant's conversations. `waiting`, `resolved`, `closed`
/// and `byStatus` count every lifecycle, so they add up to `total`.
pub(crate) async fn inbox_counts(tx: &mut TenantTx) -> Result<InboxCounts, DbError> {
    type Row = (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64);
    let (open, mine, unassigned, by_open, assigned, waiting, resolved, closed, total, unread): Row =
        sqlx::query_as(
            "SELECT count(*) FILTER (WHERE active),
                    count(*) FILTER (WHERE active AND assigned_agent_id = app.current_user_id()),
                    count(*) FILTER (WHERE active AND assigned_agent_id IS NULL),
                    count(*) FILTER (WHERE status = 'open'),
                    count(*) FILTER (WHERE status = 'assigned'),
                    count(*) FILTER (WHERE status = 'waiting'),
                    count(*) FILTER (WHERE status = 'resolved'),
                    count(*) FILTER (WHERE status = 'closed'),
                    count(*),
                    count(*) FILTER (WHERE app.unread_count(id, app.current_user_id()) > 0)
               FROM (SELECT c.*, c.status NOT IN ('resolved', 'closed') AND c.lifecycle = 'active'
                             AS active
                       FROM app.conversations c) c",
        )
        .fetch_one(tx.conn())
        .await?;
    let by_status = [
        (ConversationStatus::Open, by_open),
        (ConversationStatus::Assigned, assigned),
        (ConversationStatus::Waiting, waiting),
        (ConversationStatus::Resolved, resolved),
        (ConversationStatus::Closed, closed),
    ]
    .into_iter()
    .map(|(status, count)| StatusCount { status, count })
    .collect();
    Ok(InboxCounts {
        open,
        mine,
        unassigned,
        waiting,
        resolved,
        closed,
        total,
        by_status,
        unread_for_me: unread,
    })
}
