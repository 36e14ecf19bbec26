//! `createBooking`, `updateBooking` and the status moves (`confirmBooking`, `cancelBooking`,
//! `completeBooking`, `markBookingNoShow`): inputs, validation and resolvers.
//!
//! Status changes are separate mutations rather than a writable `status` field because each
//! is a transition with its own precondition (e.g. only a scheduled or confirmed booking can
//! be a no-show) and side effects (a cancellation records when and why); the allowed moves
//! are defined once, in `frontdesk_db::graph::bookings::Transition`.

use async_graphql::{Context, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, Utc};
use frontdesk_db::graph::bookings::{self, BookingCustomer, BookingFields, Transition};
use frontdesk_db::graph::Patch;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::inputs::bad;
use super::{create_field, read_back, update_nullable, update_required, write_error, Target};
use crate::entity::{authorize, Op};
use crate::query::Resolve;
use crate::types::enums::{BookingSource, BookingStatus, DbEnum, PaymentStatus};
use crate::types::{Booking, Customer};
use crate::validate::{self, ADDRESS_MAX, NAME_MAX, NOTES_MAX, REASON_MAX, SHORT_TEXT_MAX};
use crate::{ApiError, NodeRef};

const BOOKING: Target = Target {
    what: "Booking",
    field: "id",
};

/// Who is booking, when they may not be a customer yet.
#[derive(Debug, Clone, InputObject)]
pub struct BookingCustomerInput {
    /// Name (used only if a new customer is created).
    pub name: String,
    /// Phone number in international format: the customer with this number is used, or
    /// created when there is none.
    pub phone: String,
    /// E-mail (used only if a new customer is created).
    pub email: Option<String>,
}

/// A new booking. Give exactly one of `customerId` and `customer`.
#[derive(Debug, Clone, InputObject)]
pub struct CreateBookingInput {
    /// An existing customer.
    pub customer_id: Option<NodeRef<Customer>>,
    /// Find the customer by phone number, or create them.
    pub customer: Option<BookingCustomerInput>,
    /// What is booked.
    pub service_type: String,
    /// Day, `YYYY-MM-DD`.
    pub appointment_date: String,
    /// Time of day, `HH:MM` (24-hour).
    pub appointment_time: String,
    /// Initial status: `PENDING` (default), `SCHEDULED` or `CONFIRMED`.
    pub status: Option<BookingStatus>,
    /// Channel it was made on.
    pub source: Option<BookingSource>,
    /// Staff notes.
    pub notes: Option<String>,
    /// What the assistant noted.
    pub ai_notes: Option<String>,
    /// A reminder went out.
    pub reminder_sent: Option<bool>,
    /// A confirmation went out.
    pub confirmation_sent: Option<bool>,
    /// Short title.
    pub title: Option<String>,
    /// The resolved start instant.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// Length in minutes.
    pub duration_minutes: Option<i32>,
    /// Pick-up address.
    pub pickup_address: Option<String>,
    /// Price (at most 2 decimals).
    pub payment_amount: Option<Decimal>,
    /// ISO 4217 currency of the price (default `USD`).
    pub payment_currency: Option<String>,
    /// Payment state.
    pub payment_status: Option<PaymentStatus>,
    /// Loads to move.
    pub number_of_loads: Option<i32>,
}

/// Changes to a booking (not its status: use the status mutations). A field left out keeps
/// its value; `null` clears a nullable field.
#[derive(Debug, Clone, Default, InputObject)]
pub struct UpdateBookingInput {
    /// Move the booking to another customer (its snapshot of name, phone and e-mail is
    /// re-taken from that customer).
    pub customer_id: MaybeUndefined<NodeRef<Customer>>,
    /// What is booked.
    pub service_type: MaybeUndefined<String>,
    /// Day, `YYYY-MM-DD`.
    pub appointment_date: MaybeUndefined<String>,
    /// Time of day, `HH:MM`.
    pub appointment_time: MaybeUndefined<String>,
    /// Channel it was made on.
    pub source: MaybeUndefined<BookingSource>,
    /// Staff notes.
    pub notes: MaybeUndefined<String>,
    /// What the assistant noted.
    pub ai_notes: MaybeUndefined<String>,
    /// A reminder went out.
    pub reminder_sent: MaybeUndefined<bool>,
    /// A confirmation went out.
    pub confirmation_sent: MaybeUndefined<bool>,
    /// Short title.
    pub title: MaybeUndefined<String>,
    /// The resolved start instant.
    pub scheduled_at: MaybeUndefined<DateTime<Utc>>,
    /// Length in minutes.
    pub duration_minutes: MaybeUndefined<i32>,
    /// Pick-up address.
    pub pickup_address: MaybeUndefined<String>,
    /// Price.
    pub payment_amount: MaybeUndefined<Decimal>,
    /// ISO 4217 currency of the price.
    pub payment_currency: MaybeUndefined<String>,
    /// Payment state.
    pub payment_status: MaybeUndefined<PaymentStatus>,
    /// Loads to move.
    pub number_of_loads: MaybeUndefined<i32>,
}

fn opt_text(
    field: &'static str,
    max: usize,
) -> impl Fn(String) -> Result<Option<String>, ApiError> {
    move |v| validate::optional_text(field, Some(v), max)
}

impl CreateBookingInput {
    fn lower(self) -> Result<(BookingCustomer, BookingFields), ApiError> {
        let customer = match (self.customer_id, self.customer) {
            (Some(id), None) => BookingCustomer::Id(id.row()),
            (None, Some(c)) => BookingCustomer::ByPhone {
                name: validate::required_text("input.customer.name", &c.name, NAME_MAX)?,
                phone: validate::phone("input.customer.phone", &c.phone)?,
                email: match c.email {
                    Some(e) if !e.trim().is_empty() => {
                        Some(validate::email("input.customer.email", &e)?)
                    }
                    _ => None,
                },
            },
            (Some(_), Some(_)) => {
                return Err(bad(
                    "input.customer",
                    "give either customerId or customer, not both",
                ))
            }
            (None, None) => {
                return Err(bad(
                    "input.customerId",
                    "is required unless customer (name and phone) is given",
                ))
            }
        };
        let status = match self.status {
            None => Patch::Keep,
            Some(
                s @ (BookingStatus::Pending | BookingStatus::Scheduled | BookingStatus::Confirmed),
            ) => Patch::Set(s.as_db()),
            Some(_) => {
                return Err(bad(
                    "input.status",
                    "a new booking is PENDING, SCHEDULED or CONFIRMED; use the status \
                     mutations to cancel, complete or mark it as a no-show",
                ))
            }
        };
        let fields = BookingFields {
            service_type: Patch::Set(validate::required_text(
                "input.serviceType",
                &self.service_type,
                SHORT_TEXT_MAX,
            )?),
            appointment_date: Patch::Set(validate::date(
                "input.appointmentDate",
                &self.appointment_date,
            )?),
            appointment_time: Patch::Set(validate::time_of_day(
                "input.appointmentTime",
                &self.appointment_time,
            )?),
            status,
            source: create_field(self.source, |v| Ok(Some(v.as_db())))?,
            notes: create_field(self.notes, opt_text("input.notes", NOTES_MAX))?,
            ai_notes: create_field(self.ai_notes, opt_text("input.aiNotes", NOTES_MAX))?,
            reminder_sent: create_field(self.reminder_sent, Ok)?,
            confirmation_sent: create_field(self.confirmation_sent, Ok)?,
            title: create_field(self.title, opt_text("input.title", SHORT_TEXT_MAX))?,
            scheduled_at: create_field(self.scheduled_at, |v| Ok(Some(v)))?,
            duration_minutes: create_field(self.duration_minutes, |v| {
                validate::positive_int("input.durationMinutes", v).map(Some)
            })?,
            pickup_address: create_field(
                self.pickup_address,
                opt_text("input.pickupAddress", ADDRESS_MAX),
            )?,
            payment_amount: create_field(self.payment_amount, |v| {
                validate::money("input.paymentAmount", v).map(Some)
            })?,
            payment_currency: create_field(self.payment_currency, |v| {
                validate::currency("input.paymentCurrency", &v)
            })?,
            payment_status: create_field(self.payment_status, |v| Ok(Some(v.as_db())))?,
            number_of_loads: create_field(self.number_of_loads, |v| {
                validate::non_negative_int("input.numberOfLoads", v).map(Some)
            })?,
        };
        Ok((customer, fields))
    }
}

impl UpdateBookingInput {
    fn lower(self) -> Result<(Option<Uuid>, BookingFields), ApiError> {
        let move_to = match update_required("input.customerId", self.customer_id, |v| Ok(v.row()))?
        {
            Patch::Set(id) => Some(id),
            Patch::Keep => None,
        };
        let fields = BookingFields {
            service_type: update_required("input.serviceType", self.service_type, |v| {
                validate::required_text("input.serviceType", &v, SHORT_TEXT_MAX)
            })?,
            appointment_date: update_required(
                "input.appointmentDate",
                self.appointment_date,
                |v| validate::date("input.appointmentDate", &v),
            )?,
            appointment_time: update_required(
                "input.appointmentTime",
                self.appointment_time,
                |v| validate::time_of_day("input.appointmentTime", &v),
            )?,
            status: Patch::Keep,
            source: update_nullable(self.source, |v| Ok(Some(v.as_db())))?,
            notes: update_nullable(self.notes, opt_text("input.notes", NOTES_MAX))?,
            ai_notes: update_nullable(self.ai_notes, opt_text("input.aiNotes", NOTES_MAX))?,
            reminder_sent: update_required("input.reminderSent", self.reminder_sent, Ok)?,
            confirmation_sent: update_required(
                "input.confirmationSent",
                self.confirmation_sent,
                Ok,
            )?,
            title: update_nullable(self.title, opt_text("input.title", SHORT_TEXT_MAX))?,
            scheduled_at: update_nullable(self.scheduled_at, |v| Ok(Some(v)))?,
            duration_minutes: update_nullable(self.duration_minutes, |v| {
                validate::positive_int("input.durationMinutes", v).map(Some)
            })?,
            pickup_address: update_nullable(
                self.pickup_address,
                opt_text("input.pickupAddress", ADDRESS_MAX),
            )?,
            payment_amount: update_nullable(self.payment_amount, |v| {
                validate::money("input.paymentAmount", v).map(Some)
            })?,
            payment_currency: update_required(
                "input.paymentCurrency",
                self.payment_currency,
                |v| validate::currency("input.paymentCurrency", &v),
            )?,
            payment_status: update_nullable(self.payment_status, |v| Ok(Some(v.as_db())))?,
            number_of_loads: update_nullable(self.number_of_loads, |v| {
                validate::non_negative_int("input.numberOfLoads", v).map(Some)
            })?,
        };
        Ok((move_to, fields))
    }
}

async fn create(r: &Resolve<'_>, input: CreateBookingInput) -> Result<Booking, ApiError> {
    authorize::<Booking>(r, Op::Write).await?;
    let (customer, fields) = input.lower()?;
    let mut tx = r.session.tx().await?;
    let created = bookings::create(&mut tx, &customer, &fields)
        .await
        .map_err(|e| write_error(e, BOOKING))?;
    read_back(&mut tx, created.id).await
}

async fn update(r: &Resolve<'_>, id: Uuid, input: UpdateBookingInput) -> Result<Booking, ApiError> {
    authorize::<Booking>(r, Op::Write).await?;
    let (move_to, fields) = input.lower()?;
    let mut tx = r.session.tx().await?;
    bookings::update(&mut tx, id, move_to, &fields)
        .await
        .map_err(|e| write_error(e, BOOKING))?;
    read_back(&mut tx, id).await
}

async fn transition(r: &Resolve<'_>, id: Uuid, to: Transition) -> Result<Booking, ApiError> {
    authorize::<Booking>(r, Op::Write).await?;
    let mut tx = r.session.tx().await?;
    bookings::transition(&mut tx, id, &to)
        .await
        .map_err(|e| write_error(e, BOOKING))?;
    read_back(&mut tx, id).await
}

/// Booking mutations.
#[derive(Debug, Default)]
pub struct BookingMutation;

#[Object]
impl BookingMutation {
    /// Books an appointment for an existing customer (`customerId`), or for the customer with
    /// the given phone number, who is created if the tenant has none (`customer`). The
    /// booking's customer name, phone and e-mail are copied from the customer.
    async fn create_booking(
        &self,
        ctx: &Context<'_>,
        input: CreateBookingInput,
    ) -> async_graphql::Result<Booking> {
        let r = Resolve::new(ctx)?;
        r.run(create(&r, input)).await
    }

    /// Changes a booking's details (not its status).
    async fn update_booking(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Booking>,
        input: UpdateBookingInput,
    ) -> async_graphql::Result<Booking> {
        let r = Resolve::new(ctx)?;
        r.run(update(&r, id.row(), input)).await
    }

    /// `PENDING` or `SCHEDULED` → `CONFIRMED`; otherwise `CONFLICT`.
    async fn confirm_booking(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Booking>,
    ) -> async_graphql::Result<Booking> {
        let r = Resolve::new(ctx)?;
        r.run(transition(&r, id.row(), Transition::Confirm)).await
    }

    /// `PENDING`, `SCHEDULED` or `CONFIRMED` → `CANCELLED`, recording the time and the
    /// reason; otherwise `CONFLICT`.
    async fn cancel_booking(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Booking>,
        reason: Option<String>,
    ) -> async_graphql::Result<Booking> {
        let r = Resolve::new(ctx)?;
        r.run(async {
            // Authorised, then validated, before the transition, like every other mutation.
            authorize::<Booking>(&r, Op::Write).await?;
            let reason = validate::optional_text("reason", reason, REASON_MAX)?;
            transition(&r, id.row(), Transition::Cancel { reason }).await
        })
        .await
    }

    /// `PENDING`, `SCHEDULED` or `CONFIRMED` → `COMPLETED`; otherwise `CONFLICT`.
    async fn complete_booking(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Booking>,
    ) -> async_graphql::Result<Booking> {
        let r = Resolve::new(ctx)?;
        r.run(transition(&r, id.row(), Transition::Complete)).await
    }

    /// `SCHEDULED` or `CONFIRMED` → `NO_SHOW`; otherwise `CONFLICT`.
    async fn mark_booking_no_show(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Booking>,
    ) -> async_graphql::Result<Booking> {
        let r = Resolve::new(ctx)?;
        r.run(transition(&r, id.row(), Transition::NoShow)).await
    }
}
