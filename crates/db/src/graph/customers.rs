//! Customer writes: create, partial update, delete, and the find-or-create by phone number
//! that bookings use.
//!
//! `customers (tenant_id, phone)` is unique, so the phone number (normalised to E.164 by the
//! caller) is the customer's natural key: a duplicate surfaces as a violation of
//! `customers_tenant_id_phone_key`, which the API reports as a conflict on the phone field.

use serde_json::Value;
use uuid::Uuid;

use super::{changes, counters, require_patch, Patch, Ref, WriteError};
use crate::{DbError, TenantTx};

/// The writable columns of a customer. For [`create`], `name` and `phone` must be set.
/// Enumerated columns take their database spelling.
#[derive(Debug, Clone, Default)]
pub struct CustomerFields {
    /// Display name.
    pub name: Patch<String>,
    /// E.164 phone number.
    pub phone: Patch<String>,
    /// E-mail address.
    pub email: Patch<Option<String>>,
    /// Given name.
    pub first_name: Patch<Option<String>>,
    /// Family name.
    pub last_name: Patch<Option<String>>,
    /// Picture URL.
    pub avatar: Patch<Option<String>>,
    /// Other E.164 numbers.
    pub alternative_phones: Patch<Vec<String>>,
    /// One-line address.
    pub address: Patch<Option<String>>,
    /// Structured address document.
    pub address_details: Patch<Option<Value>>,
    /// Labels.
    pub tags: Patch<Vec<String>>,
    /// `vip`, `regular`, `new` or `inactive`.
    pub segment: Patch<&'static str>,
    /// Acquisition channel.
    pub source: Patch<Option<&'static str>>,
    /// Tenant-defined fields (a JSON object).
    pub custom_fields: Patch<Value>,
    /// Contact preferences document.
    pub preferences: Patch<Value>,
    /// A member of the tenant (their user id).
    pub preferred_agent_id: Patch<Option<Uuid>>,
    /// `active`, `inactive`, `blocked` or `vip`.
    pub status: Patch<&'static str>,
    /// Why the customer is blocked.
    pub block_reason: Patch<Option<String>>,
    /// Staff notes.
    pub notes: Patch<Option<String>>,
}

fn to_changes(f: &CustomerFields) -> super::Changes {
    changes!(f; name, phone, email, first_name, last_name, avatar, alternative_phones, address,
        address_details, tags, segment, source, custom_fields, preferences, preferred_agent_id,
        status, block_reason, notes)
}

/// Inserts a customer and returns its id.
#[tracing::instrument(skip_all)]
pub async fn create(tx: &mut TenantTx, fields: &CustomerFields) -> Result<Uuid, WriteError> {
    require_patch(tx, Ref::Member, &fields.preferred_agent_id).await?;
    let mut qb = super::insert("app.customers", to_changes(fields));
    qb.push(" RETURNING id");
    let id: Uuid = qb.build_query_scalar().fetch_one(tx.conn()).await?;
    // A new customer's first contact is its creation (the counters' definition).
    counters::refresh(tx, &[Some(id)]).await?;
    Ok(id)
}

/// Changes the set fields of customer `id`.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn update(
    tx: &mut TenantTx,
    id: Uuid,
    fields: &CustomerFields,
) -> Result<(), WriteError> {
    let changes = to_changes(fields);
    if !changes.is_empty() {
        require_patch(tx, Ref::Member, &fields.preferred_agent_id).await?;
    }
    super::update_row(tx, "app.customers", changes, id).await?;
    // Counters do not depend on these columns, but refreshing keeps the rule "every write
    // ends with a refresh" without exceptions to remember (and costs nothing when unchanged).
    counters::refresh(tx, &[Some(id)]).await?;
    Ok(())
}

/// Deletes customer `id`. Its bookings, conversations and tickets go with it (ON DELETE
/// CASCADE); its calls and SMS stay, unlinked (SET NULL), as unknown callers' do. No other
/// customer's counters depend on those rows, so nothing is left to refresh.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn delete(tx: &mut TenantTx, id: Uuid) -> Result<(), WriteError> {
    let deleted: Option<Uuid> =
        sqlx::query_scalar("DELETE FROM app.customers WHERE id = $1 RETURNING id")
            .bind(id)
            .fetch_optional(tx.conn())
            .await?;
    match deleted {
        Some(_) => Ok(()),
        None => Err(WriteError::NotFound),
    }
}

/// The customer with phone number `phone`, created with `name` and `email` when there is
/// none; returns its id and whether it was created. An existing customer is not changed.
///
/// Race-safe: `ON CONFLICT DO NOTHING` waits for a concurrent insert of the same number and
/// then does nothing, and the following `SELECT` (a new statement, so a new snapshot under
/// READ COMMITTED) sees the row that transaction committed. Only if that row is deleted again
/// in between does the loop go round once more. Counters are left to the caller's write
/// (the booking that needed the customer refreshes it).
#[tracing::instrument(skip_all)]
pub async fn find_or_create_by_phone(
    tx: &mut TenantTx,
    name: &str,
    phone: &str,
    email: Option<&str>,
) -> Result<(Uuid, bool), DbError> {
    const ATTEMPTS: usize = 3;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let inserted: Option<Uuid> = sqlx::query_scalar(
            "INSERT INTO app.customers (name, phone, email) VALUES ($1, $2, $3)
             ON CONFLICT (tenant_id, phone) DO NOTHING RETURNING id",
        )
        .bind(name)
        .bind(phone)
        .bind(email)
        .fetch_optional(tx.conn())
        .await?;
        if let Some(id) = inserted {
            return Ok((id, true));
        }
        if let Some(id) = super::customer_by_phone(tx, phone).await? {
            return Ok((id, false));
        }
        if attempt == ATTEMPTS {
            // Created and deleted under our feet three times: report it rather than spin.
            return Err(DbError::Sqlx(sqlx::Error::Protocol(
                "the customer for this phone number kept disappearing".into(),
            )));
        }
    }
}
