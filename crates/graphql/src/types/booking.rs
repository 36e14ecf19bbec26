//! `Booking`: an appointment (seeds 004 + 000) with its calls and messages.

use chrono::{DateTime, Utc};
use frontdesk_db::query::search::contains_any;
use frontdesk_db::{col, sort, table};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::enums::{
    BookingSource, BookingSourceFilter, BookingStatus, BookingStatusFilter, PaymentStatus,
    PaymentStatusFilter,
};
use super::{Call, Conversation, Customer, SmsMessage};
use crate::entity::entity;
use crate::list::filter::{BooleanFilter, DateTimeFilter, DecimalFilter, IdFilter, StringFilter};

entity! {
    /// An appointment a customer booked.
    Booking in table!(bookings) => {
    /// The customer who booked.
    customer_id: Uuid,
    /// The conversation the booking was made in, if any.
    conversation_id: Option<Uuid>,
    /// Name given at booking time.
    customer_name: String,
    /// Phone given at booking time (E.164).
    customer_phone: String,
    /// E-mail given at booking time.
    customer_email: Option<String>,
    /// What was booked.
    service_type: String,
    /// Day, `YYYY-MM-DD`.
    appointment_date: String,
    /// Time of day as captured, e.g. `14:30`.
    appointment_time: String,
    /// Where the booking is in its life.
    status: BookingStatus,
    /// Channel it was made on.
    source: Option<BookingSource>,
    /// Staff notes.
    notes: Option<String>,
    /// What the assistant noted.
    ai_notes: Option<String>,
    /// A reminder went out.
    reminder_sent: bool,
    /// A confirmation went out.
    confirmation_sent: bool,
    /// Short title.
    title: Option<String>,
    /// The resolved start instant.
    scheduled_at: Option<DateTime<Utc>>,
    /// Length in minutes.
    duration_minutes: Option<i32>,
    /// Pick-up address (moving and transport businesses).
    pickup_address: Option<String>,
    /// Price.
    payment_amount: Option<Decimal>,
    /// ISO 4217 currency of the price.
    payment_currency: String,
    /// Payment state.
    payment_status: Option<PaymentStatus>,
    /// Loads to move (transport businesses).
    number_of_loads: Option<i32>,
    /// When it was cancelled.
    cancelled_at: Option<DateTime<Utc>>,
    /// Why it was cancelled.
    cancel_reason: Option<String>,
    /// Created.
    created_at: DateTime<Utc>,
    /// Last changed.
    updated_at: DateTime<Utc>,
    }
    filter BookingFilter {
        id: IdFilter [Booking],
        customer_id: IdFilter [Customer],
        conversation_id: IdFilter [Conversation],
        customer_name: StringFilter,
        customer_phone: StringFilter,
        customer_email: StringFilter,
        service_type: StringFilter,
        appointment_date: StringFilter,
        status: BookingStatusFilter,
        source: BookingSourceFilter,
        payment_status: PaymentStatusFilter,
        payment_amount: DecimalFilter,
        payment_currency: StringFilter,
        reminder_sent: BooleanFilter,
        confirmation_sent: BooleanFilter,
        scheduled_at: DateTimeFilter,
        cancelled_at: DateTimeFilter,
        created_at: DateTimeFilter,
        updated_at: DateTimeFilter,
    }
    /// Text in the customer's name, phone or e-mail, the service or the title
    /// (case-insensitive; bookings have no search column).
    search: contains_any(&[
        col!(customer_name),
        col!(customer_phone),
        col!(customer_email),
        col!(service_type),
        col!(title),
    ]);
    order BookingOrder, BookingOrderField {
        /// Creation time.
        CreatedAt => sort!(created_at: timestamptz),
        /// Last change.
        UpdatedAt => sort!(updated_at: timestamptz),
        /// Appointment day, then time as captured.
        AppointmentDate => sort!(appointment_date: text),
        /// Appointment time of day as captured.
        AppointmentTime => sort!(appointment_time: text),
        /// Resolved start (unscheduled first when ascending).
        ScheduledAt => sort!(scheduled_at: timestamptz, nulls_first),
        /// Status.
        Status => sort!(status: text),
        /// Price (unpriced first when ascending).
        PaymentAmount => sort!(payment_amount: numeric, nulls_first),
        /// Customer name as booked.
        CustomerName => sort!(customer_name: text),
    }
    default_order: [CreatedAt desc];
    relations {
        /// The customer who booked.
        customer: one Customer via customer_id,
        /// The conversation the booking was made in, if any.
        conversation: one Conversation via conversation_id,
        /// Calls about this booking (newest first unless ordered).
        calls: many Call via booking_id,
        /// Text messages about this booking (newest first unless ordered).
        sms_messages: many SmsMessage via booking_id,
    }
    root: BookingQuery { booking, bookings };
    access: { read: Viewer, write: Agent + ManageCustomers, delete: Supervisor + ManageCustomers };
    constraints {
        "bookings_customer_fkey" => "input.customerId": NotFound("Customer"),
    }
    fields {}
}
