//! Booking writes: create (for a known customer or one found or created by phone), partial
//! update of the non-status fields, and the status moves with their allowed transitions.
//!
//! A booking keeps a snapshot of who booked (`customer_name`, `customer_phone`,
//! `customer_email`): it is copied from the customer row whenever the booking is attached to a
//! customer (on create and on a move), inside the same statement that attaches it, so the
//! snapshot and `customer_id` always agree at the moment of writing.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{changes, counters, customers, lock_owner, Patch, Ref, WriteError};
use crate::TenantTx;

/// The writable non-status, non-customer columns of a booking, plus the initial `status` (for
/// [`create`] only; [`update`] ignores it — status moves through [`transition`]). For
/// `create`, `service_type`, `appointment_date` and `appointment_time` must be set.
#[derive(Debug, Clone, Default)]
pub struct BookingFields {
    /// What was booked.
    pub service_type: Patch<String>,
    /// `YYYY-MM-DD`.
    pub appointment_date: Patch<String>,
    /// `HH:MM`.
    pub appointment_time: Patch<String>,
    /// Initial status (database spelling), on create only.
    pub status: Patch<&'static str>,
    /// `voice`, `sms` or `manual`.
    pub source: Patch<Option<&'static str>>,
    /// Staff notes.
    pub notes: Patch<Option<String>>,
    /// What the assistant noted.
    pub ai_notes: Patch<Option<String>>,
    /// A reminder went out.
    pub reminder_sent: Patch<bool>,
    /// A confirmation went out.
    pub confirmation_sent: Patch<bool>,
    /// Short title.
    pub title: Patch<Option<String>>,
    /// The resolved start instant.
    pub scheduled_at: Patch<Option<DateTime<Utc>>>,
    /// Length in minutes (> 0).
    pub duration_minutes: Patch<Option<i32>>,
    /// Pick-up address.
    pub pickup_address: Patch<Option<String>>,
    /// Price (>= 0, 2 decimals).
    pub payment_amount: Patch<Option<Decimal>>,
    /// ISO 4217 code, upper case.
    pub payment_currency: Patch<String>,
    /// `pending`, `paid` or `failed`.
    pub payment_status: Patch<Option<&'static str>>,
    /// Loads to move (>= 0).
    pub number_of_loads: Patch<Option<i32>>,
}

fn to_changes(f: &BookingFields, with_status: bool) -> super::Changes {
    let mut out = changes!(f; service_type, appointment_date, appointment_time, source, notes,
        ai_notes, reminder_sent, confirmation_sent, title, scheduled_at, duration_minutes,
        pickup_address, payment_amount, payment_currency, payment_status, number_of_loads);
    if with_status {
        if let Patch::Set(s) = f.status {
            out.push(("status", s.into()));
        }
    }
    out
}

/// Whose booking a new booking is.
#[derive(Debug, Clone)]
pub enum BookingCustomer {
    /// An existing customer of the tenant.
    Id(Uuid),
    /// The customer with this phone number, created from these details if there is none.
    ByPhone {
        /// Display name for a new customer.
        name: String,
        /// E.164 phone number.
        phone: String,
        /// E-mail for a new customer.
        email: Option<String>,
    },
}

/// A created booking.
#[derive(Debug, Clone, Copy)]
pub struct Created {
    /// The booking.
    pub id: Uuid,
    /// Its customer.
    pub customer_id: Uuid,
    /// Whether the customer was created for it.
    pub customer_created: bool,
}

/// Inserts a booking for `customer`, snapshotting the customer's name, phone and e-mail.
#[tracing::instrument(skip_all)]
pub async fn create(
    tx: &mut TenantTx,
    customer: &BookingCustomer,
    fields: &BookingFields,
) -> Result<Created, WriteError> {
    let (customer_id, customer_created) = match customer {
        BookingCustomer::Id(id) => (*id, false),
        BookingCustomer::ByPhone { name, phone, email } => {
            customers::find_or_create_by_phone(tx, name, phone, email.as_deref()).await?
        }
    };
    // INSERT … SELECT from the customer: the snapshot comes from the row itself, and an
    // invisible customer (missing, or another tenant's) inserts nothing.
    let changes = to_changes(fields, true);
    let mut qb = sqlx::QueryBuilder::new(
        "INSERT INTO app.bookings (customer_id, customer_name, customer_phone, customer_email",
    );
    for (col, _) in &changes {
        qb.push(", ").push(*col);
    }
    qb.push(") SELECT c.id, c.name, c.phone, c.email");
    for (_, val) in changes {
        qb.push(", ");
        val.bind_into(&mut qb);
    }
    qb.push(" FROM app.customers c WHERE c.id = ")
        .push_bind(customer_id)
        .push(" RETURNING id");
    let id: Option<Uuid> = qb.build_query_scalar().fetch_optional(tx.conn()).await?;
    let id = id.ok_or(WriteError::MissingRef(Ref::Customer))?;
    counters::refresh(tx, &[Some(customer_id)]).await?;
    Ok(Created {
        id,
        customer_id,
        customer_created,
    })
}

/// Changes the set fields of booking `id` (not its status); moves it to `move_to` when given,
/// re-taking the snapshot from that customer. Both customers' counters are refreshed.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn update(
    tx: &mut TenantTx,
    id: Uuid,
    move_to: Option<Uuid>,
    fields: &BookingFields,
) -> Result<(), WriteError> {
    let old = lock_owner(tx, "app.bookings", id)
        .await?
        .ok_or(WriteError::NotFound)?;
    if let Some(to) = move_to {
        super::require(tx, Ref::Customer, to).await?;
    }
    let changes = to_changes(fields, false);
    if changes.is_empty() && move_to.is_none() {
        return Ok(());
    }
    // One statement changes the fields and, on a move, re-takes the snapshot from the new
    // customer (`UPDATE … FROM app.customers`), so `customer_id` and the snapshot agree.
    let mut qb = sqlx::QueryBuilder::new("UPDATE app.bookings b SET ");
    let has_changes = !changes.is_empty();
    if has_changes {
        super::push_sets(&mut qb, changes);
    }
    if move_to.is_some() {
        if has_changes {
            qb.push(", ");
        }
        qb.push(
            "customer_id = c.id, customer_name = c.name, customer_phone = c.phone, \
             customer_email = c.email FROM app.customers c",
        );
    }
    qb.push(" WHERE b.id = ").push_bind(id);
    if let Some(to) = move_to {
        qb.push(" AND c.id = ").push_bind(to);
    }
    let done = qb.build().execute(tx.conn()).await?;
    if done.rows_affected() == 0 {
        // The row is locked by us, so only the new customer can have vanished (deleted since
        // the check above).
        return Err(WriteError::MissingRef(Ref::Customer));
    }
    counters::refresh(tx, &[old, move_to]).await?;
    Ok(())
}

/// A status move of a booking.
#[derive(Debug, Clone)]
pub enum Transition {
    /// `pending` or `scheduled` → `confirmed`.
    Confirm,
    /// `pending`, `scheduled` or `confirmed` → `cancelled`, recording when and why.
    Cancel {
        /// Why, if given.
        reason: Option<String>,
    },
    /// `pending`, `scheduled` or `confirmed` → `completed`.
    Complete,
    /// `scheduled` or `confirmed` → `no-show`.
    NoShow,
}

impl Transition {
    /// The status the move leads to.
    pub fn target(&self) -> &'static str {
        match self {
            Transition::Confirm => "confirmed",
            Transition::Cancel { .. } => "cancelled",
            Transition::Complete => "completed",
            Transition::NoShow => "no-show",
        }
    }

    /// The statuses the move may start from.
    pub fn allowed_from(&self) -> &'static [&'static str] {
        match self {
            Transition::Confirm => &["pending", "scheduled"],
            Transition::Cancel { .. } | Transition::Complete => {
                &["pending", "scheduled", "confirmed"]
            }
            Transition::NoShow => &["scheduled", "confirmed"],
        }
    }
}

/// Moves booking `id` to the transition's status if its current status allows it.
///
/// Race-safe: the status test is part of the `UPDATE`'s `WHERE`, so of two concurrent moves
/// the second re-evaluates it against the first's committed row and finds nothing to update.
/// Only then is the row looked up again, to tell "not visible" ([`WriteError::NotFound`])
/// from "visible but in the wrong status" ([`WriteError::Status`]).
#[tracing::instrument(skip_all, fields(%id, to = move_.target()))]
pub async fn transition(tx: &mut TenantTx, id: Uuid, move_: &Transition) -> Result<(), WriteError> {
    let reason = match move_ {
        Transition::Cancel { reason } => reason.clone(),
        _ => None,
    };
    let cancel = matches!(move_, Transition::Cancel { .. });
    let moved: Option<Uuid> = sqlx::query_scalar(
        "UPDATE app.bookings SET status = $2,
                cancelled_at = CASE WHEN $4 THEN now() ELSE cancelled_at END,
                cancel_reason = CASE WHEN $4 THEN $5 ELSE cancel_reason END
         WHERE id = $1 AND status = ANY ($3) RETURNING customer_id",
    )
    .bind(id)
    .bind(move_.target())
    .bind(move_.allowed_from())
    .bind(cancel)
    .bind(reason)
    .fetch_optional(tx.conn())
    .await?;
    match moved {
        Some(customer) => {
            counters::refresh(tx, &[Some(customer)]).await?;
            Ok(())
        }
        None => Err(super::refused_move(tx, "app.bookings", id).await),
    }
}
