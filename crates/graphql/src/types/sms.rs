//! `SmsMessage`: a text message to or from a customer (seed 004).

use async_graphql::{ComplexObject, Context, SelectionField, SimpleObject};
use chrono::{DateTime, Utc};
use frontdesk_db::query::Table;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::enums::{Direction, SmsStatus};
use super::{Booking, Call, Customer};
use crate::list::filter::{
    entity_filter, text_search, DateTimeFilter, DecimalFilter, EnumFilter, StringFilter, UuidFilter,
};
use crate::list::order::entity_order;
use crate::list::Node;
use crate::prefetch;
use crate::query::Resolve;

/// A text message.
// `sqlx(default)`: lists read only the columns a query selects (plus ids and links).
#[derive(Debug, Clone, Default, SimpleObject, sqlx::FromRow)]
#[sqlx(default)]
#[graphql(complex)]
pub struct SmsMessage {
    /// Id.
    pub id: Uuid,
    /// The customer, when known.
    pub customer_id: Option<Uuid>,
    /// The booking it is about.
    pub booking_id: Option<Uuid>,
    /// The call that produced it.
    pub call_id: Option<Uuid>,
    /// The conversation it belongs to.
    pub conversation_id: Option<Uuid>,
    /// The customer's number (E.164).
    pub phone_number: String,
    /// Inbound or outbound.
    pub direction: Option<Direction>,
    /// Text.
    pub message_body: String,
    /// Delivery state.
    pub status: Option<SmsStatus>,
    /// Cost.
    pub cost: Decimal,
    /// The carrier's message id.
    pub provider_message_id: Option<String>,
    /// Delivery error, if any.
    pub error: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

pub(crate) static SMS_MESSAGES: Table = Table {
    name: "app.sms_messages",
    columns: "t.id, t.customer_id, t.booking_id, t.call_id, t.conversation_id, t.phone_number, \
              t.direction, t.message_body, t.status, t.cost, t.provider_message_id, t.error, \
              t.created_at, t.updated_at",
};

entity_filter! {
    /// Which messages; fields combine with AND.
    SmsMessageFilter {
        id: UuidFilter => "t.id",
        customer_id: UuidFilter => "t.customer_id",
        booking_id: UuidFilter => "t.booking_id",
        call_id: UuidFilter => "t.call_id",
        conversation_id: UuidFilter => "t.conversation_id",
        phone_number: StringFilter => "t.phone_number",
        direction: EnumFilter<Direction> => "t.direction",
        status: EnumFilter<SmsStatus> => "t.status",
        message_body: StringFilter => "t.message_body",
        cost: DecimalFilter => "t.cost",
        provider_message_id: StringFilter => "t.provider_message_id",
        created_at: DateTimeFilter => "t.created_at",
        updated_at: DateTimeFilter => "t.updated_at",
    }
    /// Words in the message body (web-search syntax).
    search => text_search("t.search")
}

entity_order! {
    /// A message sort key.
    SmsMessageOrder, SmsMessageOrderField {
        /// Creation time.
        CreatedAt => ("t.created_at", "timestamptz"),
        /// Last change.
        UpdatedAt => ("t.updated_at", "timestamptz"),
        /// Number.
        PhoneNumber => ("t.phone_number", "text"),
        /// Cost.
        Cost => ("t.cost", "numeric"),
    }
}

impl Node for SmsMessage {
    const NAME: &'static str = "SmsMessage";
    const TABLE: &'static Table = &SMS_MESSAGES;
    type Filter = SmsMessageFilter;
    type Order = SmsMessageOrder;
    fn id(&self) -> Uuid {
        self.id
    }

    fn prefetch<'a>(
        r: &'a Resolve<'a>,
        field: SelectionField<'a>,
        path: String,
        rows: &[&Self],
    ) -> Option<prefetch::Task<'a>> {
        Some(match field.name() {
            "customer" => prefetch::linked::<Customer>(
                r,
                field,
                path,
                rows.iter().filter_map(|s| s.customer_id).collect(),
            ),
            "booking" => prefetch::linked::<Booking>(
                r,
                field,
                path,
                rows.iter().filter_map(|s| s.booking_id).collect(),
            ),
            "call" => prefetch::linked::<Call>(
                r,
                field,
                path,
                rows.iter().filter_map(|s| s.call_id).collect(),
            ),
            _ => return None,
        })
    }
}

#[ComplexObject]
impl SmsMessage {
    /// The customer, when known.
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        let Some(id) = self.customer_id else {
            return Ok(None);
        };
        let r = Resolve::new(ctx)?;
        r.run(r.loaders.load_by_id::<Customer>(id)).await
    }

    /// The booking it is about.
    async fn booking(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Booking>> {
        let Some(id) = self.booking_id else {
            return Ok(None);
        };
        let r = Resolve::new(ctx)?;
        r.run(r.loaders.load_by_id::<Booking>(id)).await
    }

    /// The call that produced it.
    async fn call(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Call>> {
        let Some(id) = self.call_id else {
            return Ok(None);
        };
        let r = Resolve::new(ctx)?;
        r.run(r.loaders.load_by_id::<Call>(id)).await
    }
}
