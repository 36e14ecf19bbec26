//! `Booking`: an appointment (seeds 004 + 000) with its calls and messages.

use async_graphql::{ComplexObject, Context, SelectionField, SimpleObject};
use chrono::{DateTime, Utc};
use frontdesk_db::query::Table;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::enums::{BookingSource, BookingStatus, PaymentStatus};
use super::{Call, CallFilter, CallOrder, Customer, SmsMessage, SmsMessageFilter, SmsMessageOrder};
use crate::list::filter::{
    entity_filter, BooleanFilter, DateTimeFilter, DecimalFilter, EnumFilter, StringFilter,
    UuidFilter,
};
use crate::list::order::entity_order;
use crate::list::{children, Connection, ListArgs, Node};
use crate::prefetch;
use crate::query::Resolve;

/// An appointment a customer booked.
// `sqlx(default)`: lists read only the columns a query selects (plus ids and links).
#[derive(Debug, Clone, Default, SimpleObject, sqlx::FromRow)]
#[sqlx(default)]
#[graphql(complex)]
pub struct Booking {
    /// Id.
    pub id: Uuid,
    /// The customer who booked.
    pub customer_id: Uuid,
    /// The conversation the booking was made in, if any.
    pub conversation_id: Option<Uuid>,
    /// Name given at booking time.
    pub customer_name: String,
    /// Phone given at booking time (E.164).
    pub customer_phone: String,
    /// E-mail given at booking time.
    pub customer_email: Option<String>,
    /// What was booked.
    pub service_type: String,
    /// Day, `YYYY-MM-DD`.
    pub appointment_date: String,
    /// Time of day as captured, e.g. `14:30`.
    pub appointment_time: String,
    /// Where the booking is in its life.
    pub status: BookingStatus,
    /// Channel it was made on.
    pub source: Option<BookingSource>,
    /// Staff notes.
    pub notes: Option<String>,
    /// What the assistant noted.
    pub ai_notes: Option<String>,
    /// A reminder went out.
    pub reminder_sent: bool,
    /// A confirmation went out.
    pub confirmation_sent: bool,
    /// Short title.
    pub title: Option<String>,
    /// The resolved start instant.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// Length in minutes.
    pub duration_minutes: Option<i32>,
    /// Pick-up address (moving and transport businesses).
    pub pickup_address: Option<String>,
    /// Price.
    pub payment_amount: Option<Decimal>,
    /// ISO 4217 currency of the price.
    pub payment_currency: String,
    /// Payment state.
    pub payment_status: Option<PaymentStatus>,
    /// Loads to move (transport businesses).
    pub number_of_loads: Option<i32>,
    /// When it was cancelled.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Why it was cancelled.
    pub cancel_reason: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

pub(crate) static BOOKINGS: Table = Table {
    name: "app.bookings",
    columns: "t.id, t.customer_id, t.conversation_id, t.customer_name, t.customer_phone, \
              t.customer_email, t.service_type, t.appointment_date, t.appointment_time, t.status, \
              t.source, t.notes, t.ai_notes, t.reminder_sent, t.confirmation_sent, t.title, \
              t.scheduled_at, t.duration_minutes, t.pickup_address, t.payment_amount, \
              t.payment_currency, t.payment_status, t.number_of_loads, t.cancelled_at, \
              t.cancel_reason, t.created_at, t.updated_at",
};

/// Bookings have no search column; the snapshot fields are matched case-insensitively.
fn booking_search(q: &str) -> frontdesk_db::query::Cond {
    use frontdesk_db::query::Cond;
    let pattern = crate::list::filter::contains_pattern(q.trim());
    Cond::Or(
        [
            "t.customer_name",
            "t.customer_phone",
            "t.customer_email",
            "t.service_type",
            "t.title",
        ]
        .into_iter()
        .map(|col| Cond::Like {
            col,
            pattern: pattern.clone(),
            insensitive: true,
        })
        .collect(),
    )
}

entity_filter! {
    /// Which bookings; fields combine with AND.
    BookingFilter {
        id: UuidFilter => "t.id",
        customer_id: UuidFilter => "t.customer_id",
        conversation_id: UuidFilter => "t.conversation_id",
        customer_name: StringFilter => "t.customer_name",
        customer_phone: StringFilter => "t.customer_phone",
        customer_email: StringFilter => "t.customer_email",
        service_type: StringFilter => "t.service_type",
        appointment_date: StringFilter => "t.appointment_date",
        status: EnumFilter<BookingStatus> => "t.status",
        source: EnumFilter<BookingSource> => "t.source",
        payment_status: EnumFilter<PaymentStatus> => "t.payment_status",
        payment_amount: DecimalFilter => "t.payment_amount",
        payment_currency: StringFilter => "t.payment_currency",
        reminder_sent: BooleanFilter => "t.reminder_sent",
        confirmation_sent: BooleanFilter => "t.confirmation_sent",
        scheduled_at: DateTimeFilter => "t.scheduled_at",
        cancelled_at: DateTimeFilter => "t.cancelled_at",
        created_at: DateTimeFilter => "t.created_at",
        updated_at: DateTimeFilter => "t.updated_at",
    }
    /// Text in the customer's name, phone or e-mail, the service or the title.
    search => booking_search
}

entity_order! {
    /// A booking sort key.
    BookingOrder, BookingOrderField {
        /// Creation time.
        CreatedAt => ("t.created_at", "timestamptz"),
        /// Last change.
        UpdatedAt => ("t.updated_at", "timestamptz"),
        /// Appointment day, then time as captured.
        AppointmentDate => ("t.appointment_date", "text"),
        /// Appointment time of day as captured.
        AppointmentTime => ("t.appointment_time", "text"),
        /// Resolved start (unscheduled first when ascending).
        ScheduledAt => ("coalesce(t.scheduled_at, '-infinity')", "timestamptz"),
        /// Status.
        Status => ("t.status", "text"),
        /// Price (unpriced first when ascending).
        PaymentAmount => ("coalesce(t.payment_amount, -1)", "numeric"),
        /// Customer name as booked.
        CustomerName => ("t.customer_name", "text"),
    }
}

impl Node for Booking {
    const NAME: &'static str = "Booking";
    const TABLE: &'static Table = &BOOKINGS;
    type Filter = BookingFilter;
    type Order = BookingOrder;
    fn id(&self) -> Uuid {
        self.id
    }

    fn prefetch<'a>(
        r: &'a Resolve<'a>,
        field: SelectionField<'a>,
        path: String,
        rows: &[&Self],
    ) -> Option<prefetch::Task<'a>> {
        let ids = || rows.iter().map(|b| b.id).collect();
        Some(match field.name() {
            "customer" => prefetch::linked::<Customer>(
                r,
                field,
                path,
                rows.iter().map(|b| b.customer_id).collect(),
            ),
            "calls" => prefetch::children::<Call>(r, field, path, "booking_id", ids()),
            "smsMessages" => prefetch::children::<SmsMessage>(r, field, path, "booking_id", ids()),
            _ => return None,
        })
    }
}

#[ComplexObject]
impl Booking {
    /// The customer who booked.
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        let r = Resolve::new(ctx)?;
        r.run(r.loaders.load_by_id::<Customer>(self.customer_id))
            .await
    }

    /// Calls about this booking (newest first unless ordered).
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
        r.run(children(ctx, &r, "booking_id", self.id, args)).await
    }

    /// Text messages about this booking (newest first unless ordered).
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
        r.run(children(ctx, &r, "booking_id", self.id, args)).await
    }
}
