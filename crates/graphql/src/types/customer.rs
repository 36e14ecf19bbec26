//! `Customer`: a person the business talks to (seeds 004 + 003), with the graph below it.

use async_graphql::{ComplexObject, Context, SelectionField, SimpleObject};
use chrono::{DateTime, Utc};
use frontdesk_db::query::Table;
use rust_decimal::Decimal;
use sqlx::types::Json;
use uuid::Uuid;

use super::docs::{Address, CustomerPreferences};
use super::enums::{CustomerSegment, CustomerSource, CustomerStatus};
use super::{Booking, BookingFilter, BookingOrder, Call, CallFilter, CallOrder};
use super::{Conversation, ConversationFilter, ConversationOrder};
use super::{SmsMessage, SmsMessageFilter, SmsMessageOrder};
use crate::list::filter::{
    entity_filter, text_search, DateTimeFilter, DecimalFilter, EnumFilter, IntFilter, JsonFilter,
    StringFilter, TagsFilter, UuidFilter,
};
use crate::list::order::entity_order;
use crate::list::{children, Connection, ListArgs, Node};
use crate::prefetch;
use crate::query::Resolve;

/// A customer of the tenant.
// `sqlx(default)`: lists read only the columns a query selects (plus ids and links).
#[derive(Debug, Clone, Default, SimpleObject, sqlx::FromRow)]
#[sqlx(default)]
#[graphql(complex)]
pub struct Customer {
    /// Id.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// Phone number, E.164; unique within the tenant.
    pub phone: String,
    /// E-mail address.
    pub email: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Picture URL.
    pub avatar: Option<String>,
    /// Other numbers the customer calls from.
    pub alternative_phones: Vec<String>,
    /// One-line address, as captured by voice or SMS.
    pub address: Option<String>,
    /// Structured address, as edited in the CRM.
    #[sqlx(json(nullable))]
    pub address_details: Option<Address>,
    /// Free labels.
    pub tags: Vec<String>,
    /// Value segment.
    pub segment: CustomerSegment,
    /// Acquisition channel, when known.
    pub source: Option<CustomerSource>,
    /// Tenant-defined fields.
    pub custom_fields: serde_json::Value,
    /// Contact preferences.
    #[graphql(skip)]
    pub preferences: Json<CustomerPreferences>,
    /// The member who usually serves this customer.
    pub preferred_agent_id: Option<Uuid>,
    /// Standing.
    pub status: CustomerStatus,
    /// Blocked customers are not served (derived from `status`).
    pub is_blocked: bool,
    /// Why the customer was blocked.
    pub block_reason: Option<String>,
    /// Staff notes.
    pub notes: Option<String>,
    /// Bookings made (kept equal to the bookings).
    pub total_bookings: i32,
    /// Calls recorded (kept equal to the calls).
    pub total_calls: i32,
    /// Sum of paid bookings.
    pub total_spent: Decimal,
    /// Conversations held.
    pub total_conversations: i32,
    /// Chat messages exchanged.
    pub total_messages: i32,
    /// Support tickets opened.
    pub total_tickets: i32,
    /// The customer's own average reply time, minutes.
    pub average_response_time: Option<Decimal>,
    /// Average satisfaction rating, 1–5.
    pub satisfaction_score: Option<Decimal>,
    /// First contact of any kind.
    pub first_contact: Option<DateTime<Utc>>,
    /// Latest call, SMS or chat message.
    pub last_contact: Option<DateTime<Utc>>,
    /// Latest activity of any kind, bookings included.
    pub last_interaction: Option<DateTime<Utc>>,
    /// Latest chat message.
    pub last_message_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

pub(crate) static CUSTOMERS: Table = Table {
    name: "app.customers",
    columns: "t.id, t.name, t.phone, t.email, t.first_name, t.last_name, t.avatar, \
              t.alternative_phones, t.address, t.address_details, t.tags, t.segment, t.source, \
              t.custom_fields, t.preferences, t.preferred_agent_id, t.status, t.is_blocked, \
              t.block_reason, t.notes, t.total_bookings, t.total_calls, t.total_spent, \
              t.total_conversations, t.total_messages, t.total_tickets, t.average_response_time, \
              t.satisfaction_score, t.first_contact, t.last_contact, t.last_interaction, \
              t.last_message_at, t.created_at, t.updated_at",
};

entity_filter! {
    /// Which customers; fields combine with AND.
    CustomerFilter {
        id: UuidFilter => "t.id",
        name: StringFilter => "t.name",
        phone: StringFilter => "t.phone",
        email: StringFilter => "t.email",
        first_name: StringFilter => "t.first_name",
        last_name: StringFilter => "t.last_name",
        tags: TagsFilter => "t.tags",
        alternative_phones: TagsFilter => "t.alternative_phones",
        segment: EnumFilter<CustomerSegment> => "t.segment",
        source: EnumFilter<CustomerSource> => "t.source",
        status: EnumFilter<CustomerStatus> => "t.status",
        custom_fields: JsonFilter => "t.custom_fields",
        address_details: JsonFilter => "t.address_details",
        preferences: JsonFilter => "t.preferences",
        preferred_agent_id: UuidFilter => "t.preferred_agent_id",
        total_bookings: IntFilter => "t.total_bookings",
        total_calls: IntFilter => "t.total_calls",
        total_spent: DecimalFilter => "t.total_spent",
        last_contact: DateTimeFilter => "t.last_contact",
        last_interaction: DateTimeFilter => "t.last_interaction",
        created_at: DateTimeFilter => "t.created_at",
        updated_at: DateTimeFilter => "t.updated_at",
    }
    /// Words in the name, phone or e-mail (web-search syntax: `"exact phrase"`, `-excluded`, `or`).
    search => text_search("t.search")
}

entity_order! {
    /// A customer sort key.
    CustomerOrder, CustomerOrderField {
        /// Creation time.
        CreatedAt => ("t.created_at", "timestamptz"),
        /// Last change.
        UpdatedAt => ("t.updated_at", "timestamptz"),
        /// Display name.
        Name => ("t.name", "text"),
        /// Phone number.
        Phone => ("t.phone", "text"),
        /// Latest activity (never-active customers first when ascending).
        LastInteraction => ("coalesce(t.last_interaction, '-infinity')", "timestamptz"),
        /// Latest contact (never-contacted first when ascending).
        LastContact => ("coalesce(t.last_contact, '-infinity')", "timestamptz"),
        /// Bookings made.
        TotalBookings => ("t.total_bookings", "integer"),
        /// Money spent.
        TotalSpent => ("t.total_spent", "numeric"),
    }
}

impl Node for Customer {
    const NAME: &'static str = "Customer";
    const TABLE: &'static Table = &CUSTOMERS;
    type Filter = CustomerFilter;
    type Order = CustomerOrder;
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
        Some(match field.name() {
            "bookings" => prefetch::children::<Booking>(r, field, path, "customer_id", ids()),
            "calls" => prefetch::children::<Call>(r, field, path, "customer_id", ids()),
            "smsMessages" => prefetch::children::<SmsMessage>(r, field, path, "customer_id", ids()),
            "conversations" => {
                prefetch::children::<Conversation>(r, field, path, "customer_id", ids())
            }
            _ => return None,
        })
    }
}

#[ComplexObject]
impl Customer {
    /// Contact preferences.
    async fn preferences(&self) -> &CustomerPreferences {
        &self.preferences
    }

    /// The customer's bookings (newest first unless ordered).
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::list::cost(first, last, child_complexity)")]
    async fn bookings(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<BookingFilter>,
        order_by: Option<Vec<BookingOrder>>,
    ) -> async_graphql::Result<Connection<Booking>> {
        let args = ListArgs {
            first,
            after,
            last,
            before,
            filter,
            order_by,
        };
        let r = Resolve::new(ctx)?;
        r.run(children(ctx, &r, "customer_id", self.id, args)).await
    }

    /// The customer's calls (newest first unless ordered).
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::list::cost(first, last, child_complexity)")]
    async fn calls(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<CallFilter>,
        order_by: Option<Vec<CallOrder>>,
    ) -> async_graphql::Result<Connection<Call>> {
        let args = ListArgs {
            first,
            after,
            last,
            before,
            filter,
            order_by,
        };
        let r = Resolve::new(ctx)?;
        r.run(children(ctx, &r, "customer_id", self.id, args)).await
    }

    /// The customer's text messages (newest first unless ordered).
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::list::cost(first, last, child_complexity)")]
    async fn sms_messages(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<SmsMessageFilter>,
        order_by: Option<Vec<SmsMessageOrder>>,
    ) -> async_graphql::Result<Connection<SmsMessage>> {
        let args = ListArgs {
            first,
            after,
            last,
            before,
            filter,
            order_by,
        };
        let r = Resolve::new(ctx)?;
        r.run(children(ctx, &r, "customer_id", self.id, args)).await
    }

    /// The customer's conversations (latest activity first unless ordered).
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::list::cost(first, last, child_complexity)")]
    async fn conversations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<ConversationFilter>,
        order_by: Option<Vec<ConversationOrder>>,
    ) -> async_graphql::Result<Connection<Conversation>> {
        let args = ListArgs {
            first,
            after,
            last,
            before,
            filter,
            order_by,
        };
        let r = Resolve::new(ctx)?;
        r.run(children(ctx, &r, "customer_id", self.id, args)).await
    }
}
