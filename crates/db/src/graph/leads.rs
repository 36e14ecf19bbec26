//! Lead writes: create, partial update, delete, and conversion.
//!
//! A lead is a prospect, not (yet) a customer: seed 000's AI-qualified leads and seed 001's
//! sales leads share `app.leads`. A lead may name the customer it is or became
//! (`customer_id`); no customer counter counts leads, so none is refreshed.
//!
//! The database keeps three rules the caller should know about:
//! - an e-mail address is unique per tenant, case-insensitively, when present: a duplicate
//!   surfaces as a violation of the unique index `leads_tenant_id_email_key`;
//! - a lead must carry at least one of `name`, `first_name`, `last_name`, `email`, `phone`
//!   (CHECK `leads_contact_check`, checked on the row as written, so an update that clears the
//!   last of them fails too);
//! - `converted` is generated from `converted_at` and cannot be written. [`convert`] is the
//!   one move that sets the time, the deal value and both statuses together.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{changes, require_patch, Patch, Ref, Val, WriteError};
use crate::TenantTx;

/// The writable columns of a lead. None is required by [`create`] itself, but the row must
/// end up with a contact (see the module docs). Enumerated columns take their database
/// spelling; `source` is free text (000 enumerates it, 001 does not).
#[derive(Debug, Clone, Default)]
pub struct LeadFields {
    /// The conversation the lead came from.
    pub conversation_id: Patch<Option<Uuid>>,
    /// The customer the lead is, or became on conversion.
    pub customer_id: Patch<Option<Uuid>>,
    /// Full name (000).
    pub name: Patch<Option<String>>,
    /// Given name (001).
    pub first_name: Patch<Option<String>>,
    /// Family name (001).
    pub last_name: Patch<Option<String>>,
    /// Phone number.
    pub phone: Patch<Option<String>>,
    /// E-mail address, unique per tenant regardless of case.
    pub email: Patch<Option<String>>,
    /// Company name.
    pub company: Patch<Option<String>>,
    /// Industry (free text).
    pub industry: Patch<Option<String>>,
    /// Where the lead came from (free text; 000 uses `voice_call`, `chat`, `whatsapp`).
    pub source: Patch<Option<String>>,
    /// `ai_assistant`, `web_development` or `app_development`.
    pub interest: Patch<Option<&'static str>>,
    /// `10k-50k`, `50k-100k` or `100k+`.
    pub budget: Patch<Option<&'static str>>,
    /// `immediate`, `1-3_months` or `3-6_months`.
    pub timeline: Patch<Option<&'static str>>,
    /// Score, 0–100.
    pub lead_score: Patch<Option<i16>>,
    /// `hot`, `warm` or `cold`.
    pub priority: Patch<Option<&'static str>>,
    /// `new` (the default), `qualified`, `converted` or `lost`.
    pub status: Patch<&'static str>,
    /// When to follow up.
    pub follow_up_date: Patch<Option<DateTime<Utc>>>,
    /// `pending` (the default), `contacted`, `converted` or `lost`.
    pub follow_up_status: Patch<&'static str>,
    /// Staff notes.
    pub notes: Patch<Option<String>>,
    /// Labels.
    pub tags: Patch<Vec<String>>,
    /// When the lead converted; setting it makes the lead `converted`.
    pub converted_at: Patch<Option<DateTime<Utc>>>,
    /// Value of the won deal (>= 0, 2 decimals).
    pub deal_value: Patch<Option<Decimal>>,
    /// When the lead was last contacted.
    pub last_contacted_at: Patch<Option<DateTime<Utc>>>,
}

fn to_changes(f: &LeadFields) -> super::Changes {
    let mut out = changes!(f; conversation_id, customer_id, name, first_name, last_name, phone, email, company,
        industry, source, interest, budget, timeline);
    // `Val` has no smallint: the score goes as an integer, which the column's assignment cast
    // narrows (the CHECK keeps it within 0–100 anyway).
    if let Patch::Set(score) = f.lead_score {
        out.push(("lead_score", Val::from(score.map(i32::from))));
    }
    let rest = changes!(f; priority, status, follow_up_date, follow_up_status, notes, tags,
        converted_at, deal_value, last_contacted_at);
    out.extend(rest);
    out
}

/// Inserts a lead and returns its id.
#[tracing::instrument(skip_all)]
pub async fn create(tx: &mut TenantTx, fields: &LeadFields) -> Result<Uuid, WriteError> {
    require_patch(tx, Ref::Conversation, &fields.conversation_id).await?;
    require_patch(tx, Ref::Customer, &fields.customer_id).await?;
    let mut qb = super::insert("app.leads", to_changes(fields));
    qb.push(" RETURNING id");
    Ok(qb.build_query_scalar().fetch_one(tx.conn()).await?)
}

/// Changes the set fields of lead `id`.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn update(tx: &mut TenantTx, id: Uuid, fields: &LeadFields) -> Result<(), WriteError> {
    let changes = to_changes(fields);
    if !changes.is_empty() {
        require_patch(tx, Ref::Conversation, &fields.conversation_id).await?;
        require_patch(tx, Ref::Customer, &fields.customer_id).await?;
    }
    super::update_row(tx, "app.leads", changes, id).await
}

/// Deletes lead `id`. Nothing references leads, so nothing else changes.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn delete(tx: &mut TenantTx, id: Uuid) -> Result<(), WriteError> {
    let deleted: Option<Uuid> =
        sqlx::query_scalar("DELETE FROM app.leads WHERE id = $1 RETURNING id")
            .bind(id)
            .fetch_optional(tx.conn())
            .await?;
    match deleted {
        Some(_) => Ok(()),
        None => Err(WriteError::NotFound),
    }
}

/// The statuses a lead may be converted from (a lost lead can still come back and buy).
const CONVERTIBLE_FROM: &[&str] = &["new", "qualified", "lost"];

/// Converts lead `id`: `converted_at` = `converted_at` or now (the transaction's time),
/// `deal_value` = `deal_value` when given (else unchanged), `status` and `follow_up_status` =
/// `converted`.
///
/// A lead converts once. It is already converted when its status is `converted` or when
/// `converted_at` is set (`converted` is true; an [`update`] can set the time without the
/// status): either way [`WriteError::Status`] with the current status, and the recorded
/// conversion is left alone.
///
/// Race-safe like [`super::bookings::transition`]: the test is part of the `UPDATE`'s `WHERE`,
/// so of two concurrent conversions the second re-evaluates it against the first's committed
/// row and updates nothing. Only then is the row looked up again, to tell "not visible"
/// ([`WriteError::NotFound`]) from "already converted" ([`WriteError::Status`]).
#[tracing::instrument(skip_all, fields(%id))]
pub async fn convert(
    tx: &mut TenantTx,
    id: Uuid,
    deal_value: Option<Decimal>,
    converted_at: Option<DateTime<Utc>>,
    customer_id: Option<Uuid>,
) -> Result<(), WriteError> {
    if let Some(customer) = customer_id {
        super::require(tx, Ref::Customer, customer).await?;
    }
    let converted: Option<Uuid> = sqlx::query_scalar(
        "UPDATE app.leads SET converted_at = coalesce($2, now()),
                deal_value = coalesce($3, deal_value),
                customer_id = coalesce($5, customer_id),
                status = 'converted', follow_up_status = 'converted'
         WHERE id = $1 AND status = ANY ($4) AND converted_at IS NULL RETURNING id",
    )
    .bind(id)
    .bind(converted_at)
    .bind(deal_value)
    .bind(CONVERTIBLE_FROM)
    .bind(customer_id)
    .fetch_optional(tx.conn())
    .await?;
    if converted.is_some() {
        return Ok(());
    }
    Err(super::refused_move(tx, "app.leads", id).await)
}
