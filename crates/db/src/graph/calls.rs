//! Call writes: the idempotent record of a provider's call, and partial updates.
//!
//! A voice platform reports one call several times (started, ended, analysed), each time
//! with its own call id. `calls (tenant_id, provider, provider_call_id)` is unique, and
//! [`record`] is an upsert on it: the first post inserts the call, later posts change only
//! the columns they carry and keep the rest.
//!
//! The customer of a call is the one named explicitly, else the customer whose phone number
//! is the call's (unknown callers stay unlinked; calls never create customers). A later post
//! without an explicit customer keeps the link the call already has.
//!
//! [`record`] also puts a call with a customer into that customer's `phone` conversation of the
//! inbox, as one message kept in step with the call ([`crate::inbox::mirror::call`]), before
//! the counters are refreshed (they count the conversation and its message too). [`update`]
//! (a staff edit) does not touch the inbox.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use uuid::Uuid;

use super::{changes, counters, lock_owner, require_patch, Patch, Ref, WriteError};
use crate::TenantTx;

/// The writable columns of a call besides its provider key. Documents (`entities`,
/// `messages`, `analysis`, `cost_breakdown`, `metadata`) are JSON already shaped by the
/// caller; enumerated columns take their database spelling.
#[derive(Debug, Clone, Default)]
pub struct CallFields {
    /// The customer; for [`record`], `Set(Some(_))` names one explicitly and anything else
    /// means "look it up by phone number".
    pub customer_id: Patch<Option<Uuid>>,
    /// The booking the call was about.
    pub booking_id: Patch<Option<Uuid>>,
    /// The assistant that took the call.
    pub assistant_id: Patch<Option<Uuid>>,
    /// The other party's E.164 number (required by [`record`]).
    pub phone_number: Patch<String>,
    /// The caller's name as heard.
    pub customer_name: Patch<Option<String>>,
    /// Seconds (>= 0).
    pub duration: Patch<i32>,
    /// Progress.
    pub status: Patch<Option<&'static str>>,
    /// `inbound` or `outbound`.
    pub call_type: Patch<Option<&'static str>>,
    /// Recording URL.
    pub recording_url: Patch<Option<String>>,
    /// Recording size in bytes.
    pub recording_size: Patch<Option<i64>>,
    /// Full transcript.
    pub transcript: Patch<Option<String>>,
    /// 0–1.
    pub transcription_confidence: Patch<Option<Decimal>>,
    /// Summary.
    pub summary: Patch<Option<String>>,
    /// Total cost (>= 0, 4 decimals).
    pub cost: Patch<Decimal>,
    /// Staff notes.
    pub notes: Patch<Option<String>>,
    /// Tone of the call.
    pub sentiment: Patch<Option<&'static str>>,
    /// The assistant's voice.
    pub voice_gender: Patch<Option<&'static str>>,
    /// Language code.
    pub language: Patch<Option<String>>,
    /// Start.
    pub started_at: Patch<Option<DateTime<Utc>>>,
    /// End.
    pub ended_at: Patch<Option<DateTime<Utc>>>,
    /// What the caller wanted.
    pub intent: Patch<Option<String>>,
    /// Extracted entities (an array of objects).
    pub entities: Patch<Value>,
    /// Keywords.
    pub keywords: Patch<Vec<String>>,
    /// How it ended, in words.
    pub outcome: Patch<Option<String>>,
    /// What the assistant did.
    pub action_taken: Patch<Option<&'static str>>,
    /// The carrier's call SID.
    pub provider_call_sid: Patch<Option<String>>,
    /// Why the call ended.
    pub ended_reason: Patch<Option<String>>,
    /// Transcript turns (an array of objects).
    pub messages: Patch<Value>,
    /// The AI's analysis (an object).
    pub analysis: Patch<Value>,
    /// Costs per provider (an object).
    pub cost_breakdown: Patch<Value>,
    /// LLM tokens (>= 0).
    pub tokens_used: Patch<i32>,
    /// Free-form data (an object).
    pub metadata: Patch<Value>,
    /// Handled under HIPAA rules.
    pub hipaa_compliant: Patch<bool>,
}

/// Every column but `customer_id`, which [`record`] and [`update`] decide themselves.
fn to_changes(f: &CallFields) -> super::Changes {
    changes!(f; booking_id, assistant_id, phone_number, customer_name, duration, status,
        call_type, recording_url, recording_size, transcript, transcription_confidence, summary,
        cost, notes, sentiment, voice_gender, language, started_at, ended_at, intent, entities,
        keywords, outcome, action_taken, provider_call_sid, ended_reason, messages, analysis,
        cost_breakdown, tokens_used, metadata, hipaa_compliant)
}

/// A recorded call.
#[derive(Debug, Clone, Copy)]
pub struct Recorded {
    /// The call.
    pub id: Uuid,
    /// Whether this post created it (false: it updated the call an earlier post created).
    pub created: bool,
}

/// Checks the references the fields set, so a missing one is reported by name.
async fn require_refs(tx: &mut TenantTx, f: &CallFields) -> Result<(), WriteError> {
    require_patch(tx, Ref::Customer, &f.customer_id).await?;
    require_patch(tx, Ref::Booking, &f.booking_id).await?;
    require_patch(tx, Ref::Assistant, &f.assistant_id).await
}

/// Records the call `provider_call_id` of `provider`: inserts it, or — when it exists —
/// changes the columns this post carries and keeps the others.
///
/// Two statements rather than one `ON CONFLICT DO UPDATE`, for the counters: an update must
/// know the customer the call had before, and an upsert's `RETURNING` only shows the row
/// after. `INSERT … ON CONFLICT DO NOTHING` settles the race with a concurrent first post
/// (it waits for it, then does nothing); the existing row is then locked (`FOR NO KEY
/// UPDATE`, which under READ COMMITTED reads its latest committed version) and updated with
/// exactly the columns carried, which keeps every other column's value — the same effect as
/// `SET col = coalesce(new, old)` for each column.
#[tracing::instrument(skip_all, fields(provider))]
pub async fn record(
    tx: &mut TenantTx,
    provider: &str,
    provider_call_id: &str,
    fields: &CallFields,
) -> Result<Recorded, WriteError> {
    require_refs(tx, fields).await?;
    let explicit = fields.customer_id.as_set().copied().flatten();
    let by_phone = match (&explicit, &fields.phone_number) {
        (None, Patch::Set(phone)) => super::customer_by_phone(tx, phone).await?,
        _ => None,
    };
    let mut insert = to_changes(fields);
    insert.push(("provider", provider.to_owned().into()));
    insert.push(("provider_call_id", provider_call_id.to_owned().into()));
    insert.push(("customer_id", explicit.or(by_phone).into()));
    let mut qb = super::insert("app.calls", insert);
    qb.push(" ON CONFLICT (tenant_id, provider, provider_call_id) DO NOTHING RETURNING id");
    let inserted: Option<Uuid> = qb.build_query_scalar().fetch_optional(tx.conn()).await?;
    if let Some(id) = inserted {
        crate::inbox::mirror::call(tx, id).await?;
        counters::refresh(tx, &[explicit.or(by_phone)]).await?;
        return Ok(Recorded { id, created: true });
    }

    let existing: Option<(Uuid, Option<Uuid>)> = sqlx::query_as(
        "SELECT id, customer_id FROM app.calls
         WHERE provider = $1 AND provider_call_id = $2 FOR NO KEY UPDATE",
    )
    .bind(provider)
    .bind(provider_call_id)
    .fetch_optional(tx.conn())
    .await?;
    // Inserted by someone else and deleted again before we could lock it: as good as a
    // deleted row, which an update would not find either.
    let (id, old) = existing.ok_or(WriteError::NotFound)?;
    let new = explicit.or(old).or(by_phone);
    let mut changes = to_changes(fields);
    changes.push(("customer_id", new.into()));
    super::update("app.calls", changes, id)
        .build()
        .execute(tx.conn())
        .await?;
    crate::inbox::mirror::call(tx, id).await?;
    counters::refresh(tx, &[old, new]).await?;
    Ok(Recorded { id, created: false })
}

/// Changes the set fields of call `id`; `customer_id` may move it to another customer or
/// unlink it (`Set(None)`). Both customers' counters are refreshed.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn update(tx: &mut TenantTx, id: Uuid, fields: &CallFields) -> Result<(), WriteError> {
    let old = lock_owner(tx, "app.calls", id)
        .await?
        .ok_or(WriteError::NotFound)?;
    require_refs(tx, fields).await?;
    let mut changes = to_changes(fields);
    if let Patch::Set(customer) = fields.customer_id {
        changes.push(("customer_id", customer.into()));
    }
    if changes.is_empty() {
        return Ok(());
    }
    super::update("app.calls", changes, id)
        .build()
        .execute(tx.conn())
        .await?;
    let new = match fields.customer_id {
        Patch::Set(customer) => customer,
        Patch::Keep => old,
    };
    counters::refresh(tx, &[old, new]).await?;
    Ok(())
}
