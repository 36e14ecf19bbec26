//! `SmsMessage`: a text message to or from a customer (seed 004).

use chrono::{DateTime, Utc};
use frontdesk_db::query::search::full_text;
use frontdesk_db::{col, sort, table};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::enums::{Direction, DirectionFilter, SmsStatus, SmsStatusFilter};
use super::{Booking, Call, Conversation, Customer};
use crate::entity::entity;
use crate::list::filter::{DateTimeFilter, DecimalFilter, IdFilter, StringFilter};

entity! {
    /// A text message.
    SmsMessage in table!(sms_messages) => {
    /// The customer, when known.
    customer_id: Option<Uuid>,
    /// The booking it is about.
    booking_id: Option<Uuid>,
    /// The call that produced it.
    call_id: Option<Uuid>,
    /// The conversation it belongs to.
    conversation_id: Option<Uuid>,
    /// The customer's number (E.164).
    phone_number: String,
    /// Inbound or outbound.
    direction: Option<Direction>,
    /// Text.
    message_body: String,
    /// Delivery state.
    status: Option<SmsStatus>,
    /// Cost.
    cost: Decimal,
    /// The carrier's message id.
    provider_message_id: Option<String>,
    /// Delivery error, if any.
    error: Option<String>,
    /// Created.
    created_at: DateTime<Utc>,
    /// Last changed.
    updated_at: DateTime<Utc>,
    }
    filter SmsMessageFilter {
        id: IdFilter [SmsMessage],
        customer_id: IdFilter [Customer],
        booking_id: IdFilter [Booking],
        call_id: IdFilter [Call],
        conversation_id: IdFilter [Conversation],
        phone_number: StringFilter,
        direction: DirectionFilter,
        status: SmsStatusFilter,
        message_body: StringFilter,
        cost: DecimalFilter,
        provider_message_id: StringFilter,
        created_at: DateTimeFilter,
        updated_at: DateTimeFilter,
    }
    /// Words in the message body (web-search syntax).
    search: full_text(col!(search));
    order SmsMessageOrder, SmsMessageOrderField {
        /// Creation time.
        CreatedAt => sort!(created_at: timestamptz),
        /// Last change.
        UpdatedAt => sort!(updated_at: timestamptz),
        /// Number.
        PhoneNumber => sort!(phone_number: text),
        /// Cost.
        Cost => sort!(cost: numeric),
    }
    default_order: [CreatedAt desc];
    relations {
        /// The customer, when known.
        customer: one Customer via customer_id,
        /// The booking it is about.
        booking: one Booking via booking_id,
        /// The call that produced it.
        call: one Call via call_id,
        /// The conversation it belongs to, if any.
        conversation: one Conversation via conversation_id,
    }
    root: SmsMessageQuery { sms_message, sms_messages };
    access: { read: Viewer + ReadConversations, write: Agent + WriteMessages, delete: Supervisor + WriteMessages };
    constraints {
        "sms_messages_customer_fkey" => "input.customerId": NotFound("Customer"),
        "sms_messages_booking_fkey" => "input.bookingId": NotFound("Booking"),
        "sms_messages_call_fkey" => "input.callId": NotFound("Call"),
        "sms_messages_tenant_id_provider_message_id_key" => "input.providerMessageId":
            Conflict("another message already has this provider message id"),
    }
    fields {}
}
