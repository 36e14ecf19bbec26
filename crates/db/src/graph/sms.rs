//! SMS writes: the idempotent record of a carrier's message.
//!
//! Carriers report a message more than once (sent, then delivered or failed), each time with
//! its message id; `sms_messages (tenant_id, provider_message_id)` is unique and [`record`]
//! upserts on it the same way calls do (see [`super::calls::record`] for why it takes two
//! statements). The customer is the one named, else the one with the message's phone number;
//! messages never create customers.

use rust_decimal::Decimal;
use uuid::Uuid;

use super::{changes, counters, require_patch, Patch, Ref, WriteError};
use crate::TenantTx;

/// The writable columns of a message besides its carrier id.
#[derive(Debug, Clone, Default)]
pub struct SmsFields {
    /// The customer; `Set(Some(_))` names one explicitly, anything else means "look it up by
    /// phone number".
    pub customer_id: Patch<Option<Uuid>>,
    /// The booking it is about.
    pub booking_id: Patch<Option<Uuid>>,
    /// The call that produced it.
    pub call_id: Patch<Option<Uuid>>,
    /// The customer's E.164 number (required).
    pub phone_number: Patch<String>,
    /// `inbound` or `outbound`.
    pub direction: Patch<Option<&'static str>>,
    /// Text (required).
    pub message_body: Patch<String>,
    /// Delivery state.
    pub status: Patch<Option<&'static str>>,
    /// Cost (>= 0, 4 decimals).
    pub cost: Patch<Decimal>,
    /// Delivery error.
    pub error: Patch<Option<String>>,
}

fn to_changes(f: &SmsFields) -> super::Changes {
    changes!(f; booking_id, call_id, phone_number, direction, message_body, status, cost, error)
}

/// A recorded message.
#[derive(Debug, Clone, Copy)]
pub struct Recorded {
    /// The message.
    pub id: Uuid,
    /// Whether this post created it.
    pub created: bool,
}

/// Records the message `provider_message_id`: inserts it, or changes the columns this post
/// carries on the message an earlier post created.
#[tracing::instrument(skip_all)]
pub async fn record(
    tx: &mut TenantTx,
    provider_message_id: &str,
    fields: &SmsFields,
) -> Result<Recorded, WriteError> {
    require_patch(tx, Ref::Customer, &fields.customer_id).await?;
    require_patch(tx, Ref::Booking, &fields.booking_id).await?;
    require_patch(tx, Ref::Call, &fields.call_id).await?;
    let explicit = fields.customer_id.as_set().copied().flatten();
    let by_phone = match (&explicit, &fields.phone_number) {
        (None, Patch::Set(phone)) => super::customer_by_phone(tx, phone).await?,
        _ => None,
    };
    let mut insert = to_changes(fields);
    insert.push(("provider_message_id", provider_message_id.to_owned().into()));
    insert.push(("customer_id", explicit.or(by_phone).into()));
    let mut qb = super::insert("app.sms_messages", insert);
    qb.push(" ON CONFLICT (tenant_id, provider_message_id) DO NOTHING RETURNING id");
    let inserted: Option<Uuid> = qb.build_query_scalar().fetch_optional(tx.conn()).await?;
    if let Some(id) = inserted {
        crate::inbox::mirror::sms(tx, id).await?;
        counters::refresh(tx, &[explicit.or(by_phone)]).await?;
        return Ok(Recorded { id, created: true });
    }

    let existing: Option<(Uuid, Option<Uuid>)> = sqlx::query_as(
        "SELECT id, customer_id FROM app.sms_messages
         WHERE provider_message_id = $1 FOR NO KEY UPDATE",
    )
    .bind(provider_message_id)
    .fetch_optional(tx.conn())
    .await?;
    let (id, old) = existing.ok_or(WriteError::NotFound)?;
    let new = explicit.or(old).or(by_phone);
    let mut changes = to_changes(fields);
    changes.push(("customer_id", new.into()));
    super::update("app.sms_messages", changes, id)
        .build()
        .execute(tx.conn())
        .await?;
    crate::inbox::mirror::sms(tx, id).await?;
    counters::refresh(tx, &[old, new]).await?;
    Ok(Recorded { id, created: false })
}
