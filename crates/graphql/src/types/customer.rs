//! `Customer`: a person the business talks to (seeds 004 + 003), with the graph below it.

use chrono::{DateTime, Utc};
use frontdesk_db::query::search::full_text;
use frontdesk_db::{col, sort, table};
use rust_decimal::Decimal;
use sqlx::types::Json;
use uuid::Uuid;

use super::docs::{Address, CustomerPreferences};
use super::enums::{
    CustomerSegment, CustomerSegmentFilter, CustomerSource, CustomerSourceFilter, CustomerStatus,
    CustomerStatusFilter,
};
use super::{Booking, Call, Conversation, Lead, Member, SmsMessage, Ticket};
use crate::entity::entity;
use crate::list::filter::{
    DateTimeFilter, DecimalFilter, IdFilter, IntFilter, JsonFilter, StringFilter, TagsFilter,
};

entity! {
    /// A customer of the tenant.
    Customer in table!(customers) => {
    /// Display name.
    name: String,
    /// Phone number, E.164; unique within the tenant.
    phone: String,
    /// E-mail address.
    email: Option<String>,
    /// Given name.
    first_name: Option<String>,
    /// Family name.
    last_name: Option<String>,
    /// Picture URL.
    avatar: Option<String>,
    /// Other numbers the customer calls from.
    alternative_phones: Vec<String>,
    /// One-line address, as captured by voice or SMS.
    address: Option<String>,
    /// Structured address, as edited in the CRM.
    #[sqlx(json(nullable))]
    address_details: Option<Address>,
    /// Free labels.
    tags: Vec<String>,
    /// Value segment.
    segment: CustomerSegment,
    /// Acquisition channel, when known.
    source: Option<CustomerSource>,
    /// Tenant-defined fields.
    custom_fields: serde_json::Value,
    /// Contact preferences.
    #[graphql(skip)]
    preferences: Json<CustomerPreferences>,
    /// The member who usually serves this customer.
    preferred_agent_id: Option<Uuid>,
    /// Standing.
    status: CustomerStatus,
    /// Blocked customers are not served (derived from `status`).
    is_blocked: bool,
    /// Why the customer was blocked.
    block_reason: Option<String>,
    /// Staff notes.
    notes: Option<String>,
    /// Bookings made (kept equal to the bookings).
    total_bookings: i32,
    /// Calls recorded (kept equal to the calls).
    total_calls: i32,
    /// Sum of paid bookings.
    total_spent: Decimal,
    /// Conversations held.
    total_conversations: i32,
    /// Chat messages exchanged.
    total_messages: i32,
    /// Support tickets opened.
    total_tickets: i32,
    /// The customer's own average reply time, minutes.
    average_response_time: Option<Decimal>,
    /// Average satisfaction rating, 1–5.
    satisfaction_score: Option<Decimal>,
    /// First contact of any kind.
    first_contact: Option<DateTime<Utc>>,
    /// Latest call, SMS or chat message.
    last_contact: Option<DateTime<Utc>>,
    /// Latest activity of any kind, bookings included.
    last_interaction: Option<DateTime<Utc>>,
    /// Latest chat message.
    last_message_at: Option<DateTime<Utc>>,
    /// Created.
    created_at: DateTime<Utc>,
    /// Last changed.
    updated_at: DateTime<Utc>,
    }
    filter CustomerFilter {
        id: IdFilter [Customer],
        name: StringFilter,
        phone: StringFilter,
        email: StringFilter,
        first_name: StringFilter,
        last_name: StringFilter,
        tags: TagsFilter,
        alternative_phones: TagsFilter,
        segment: CustomerSegmentFilter,
        source: CustomerSourceFilter,
        status: CustomerStatusFilter,
        custom_fields: JsonFilter,
        address_details: JsonFilter,
        preferences: JsonFilter,
        preferred_agent_id: IdFilter [Member],
        total_bookings: IntFilter,
        total_calls: IntFilter,
        total_spent: DecimalFilter,
        last_contact: DateTimeFilter,
        last_interaction: DateTimeFilter,
        created_at: DateTimeFilter,
        updated_at: DateTimeFilter,
    }
    /// Words in the name, phone or e-mail (web-search syntax: `"exact phrase"`, `-excluded`, `or`).
    search: full_text(col!(search));
    order CustomerOrder, CustomerOrderField {
        /// Creation time.
        CreatedAt => sort!(created_at: timestamptz),
        /// Last change.
        UpdatedAt => sort!(updated_at: timestamptz),
        /// Display name.
        Name => sort!(name: text),
        /// Phone number.
        Phone => sort!(phone: text),
        /// Latest activity (never-active customers first when ascending).
        LastInteraction => sort!(last_interaction: timestamptz, nulls_first),
        /// Latest contact (never-contacted first when ascending).
        LastContact => sort!(last_contact: timestamptz, nulls_first),
        /// Bookings made.
        TotalBookings => sort!(total_bookings: integer),
        /// Money spent.
        TotalSpent => sort!(total_spent: numeric),
    }
    default_order: [CreatedAt desc];
    relations {
        /// The customer's bookings (newest first unless ordered).
        bookings: many Booking via customer_id,
        /// The customer's calls (newest first unless ordered).
        calls: many Call via customer_id,
        /// The customer's text messages (newest first unless ordered).
        sms_messages: many SmsMessage via customer_id,
        /// The customer's conversations (latest activity first unless ordered).
        conversations: many Conversation via customer_id,
        /// Leads of this customer: prospects they were, or sales in progress (newest first
        /// unless ordered).
        leads: many Lead via customer_id,
        /// The customer's support tickets (newest first unless ordered).
        tickets: many Ticket via customer_id,
        /// The member who usually serves this customer.
        preferred_agent: one Member via preferred_agent_id,
    }
    root: CustomerQuery { customer, customers };
    access: {
        read: Viewer,
        write: Agent + ManageCustomers,
        delete: Supervisor + ManageCustomers,
        merge: Supervisor + ManageCustomers,
        export: Admin,
        erase: Admin,
    };
    constraints {
        "customers_tenant_id_phone_key" => "input.phone":
            Conflict("another customer already has this phone number"),
        "customers_preferred_agent_fkey" => "input.preferredAgentId": NotFound("Member"),
    }
    fields {
        /// Contact preferences.
        async fn preferences(&self) -> &CustomerPreferences {
            &self.preferences
        }
    }
}
