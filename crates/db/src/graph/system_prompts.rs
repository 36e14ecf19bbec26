//! System prompt writes (seed 004 `system_prompts`): versions of the assistant's instructions
//! per channel (`voice`, `sms`), of which at most one per type is active.
//!
//! The database enforces "at most one active prompt per (tenant, prompt_type)" with the partial
//! unique index `system_prompts_one_active_key` (migration 0018). A unique index is checked row
//! by row and cannot be deferred, so every change of which prompt is active runs in this order:
//!
//! 1. take the tenant's prompt lock (a transaction-scoped advisory lock), so two activations
//!    of one tenant run one after the other instead of racing to the index;
//! 2. deactivate the other active prompt(s) of the type;
//! 3. activate (or insert active) the chosen one.
//!
//! Under the lock each statement sees every activation committed before it (READ COMMITTED
//! takes a snapshot per statement), so of two concurrent activations the second simply
//! deactivates the first's prompt: both succeed, the later one is active, and there is never
//! more than one. The lock is per tenant rather than per type because an [`update`] may move a
//! prompt from one type to the other. A write that still breaks the rule (changing the type of
//! an active prompt to a type that has one) fails on the index, which the API maps to CONFLICT.

use uuid::Uuid;

use super::{changes, Patch, WriteError};
use crate::TenantTx;

/// The writable columns of a prompt (not `is_active`: see [`activate`]). For [`create`],
/// `prompt_type` and `system_prompt` must be set.
#[derive(Debug, Clone, Default)]
pub struct PromptFields {
    /// `voice` or `sms`.
    pub prompt_type: Patch<&'static str>,
    /// The instructions.
    pub system_prompt: Patch<String>,
    /// A version label (`v1.2.0`).
    pub prompt_version: Patch<String>,
}

fn to_changes(f: &PromptFields) -> super::Changes {
    changes!(f; prompt_type, system_prompt, prompt_version)
}

/// Waits for, then holds to the end of the transaction, the tenant's prompt lock.
async fn lock(tx: &mut TenantTx) -> Result<(), WriteError> {
    crate::inbox::advisory_lock(tx, "app.system_prompts.is_active").await?;
    Ok(())
}

/// Deactivates every active prompt of `prompt_type` except `keep`.
async fn deactivate_others(
    tx: &mut TenantTx,
    prompt_type: &str,
    keep: Option<Uuid>,
) -> Result<(), WriteError> {
    sqlx::query(
        "UPDATE app.system_prompts SET is_active = false
          WHERE prompt_type = $1 AND is_active AND id IS DISTINCT FROM $2",
    )
    .bind(prompt_type)
    .bind(keep)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Inserts a prompt and returns its id. With `active`, it becomes the active prompt of its
/// type and the previous one is deactivated in the same transaction; otherwise it is stored
/// inactive (a draft until [`activate`]d).
#[tracing::instrument(skip_all, fields(active))]
pub async fn create(
    tx: &mut TenantTx,
    fields: &PromptFields,
    active: bool,
) -> Result<Uuid, WriteError> {
    // Without a type the insert fails on the NOT NULL column, active or not.
    if let (true, Patch::Set(prompt_type)) = (active, &fields.prompt_type) {
        lock(tx).await?;
        deactivate_others(tx, prompt_type, None).await?;
    }
    let mut changes = to_changes(fields);
    changes.push(("is_active", super::Val::from(active)));
    let mut qb = super::insert("app.system_prompts", changes);
    qb.push(" RETURNING id");
    Ok(qb.build_query_scalar().fetch_one(tx.conn()).await?)
}

/// Changes the set fields of prompt `id`. Whether it is active does not change; an active
/// prompt moved to a type that already has an active prompt violates
/// `system_prompts_one_active_key`.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn update(tx: &mut TenantTx, id: Uuid, fields: &PromptFields) -> Result<(), WriteError> {
    if fields.prompt_type.is_set() {
        lock(tx).await?;
    }
    super::update_row(tx, "app.system_prompts", to_changes(fields), id).await
}

/// Deletes prompt `id` (an active one leaves its type with no active prompt).
#[tracing::instrument(skip_all, fields(%id))]
pub async fn delete(tx: &mut TenantTx, id: Uuid) -> Result<(), WriteError> {
    let deleted: Option<Uuid> =
        sqlx::query_scalar("DELETE FROM app.system_prompts WHERE id = $1 RETURNING id")
            .bind(id)
            .fetch_optional(tx.conn())
            .await?;
    deleted.map(|_| ()).ok_or(WriteError::NotFound)
}

/// Makes prompt `id` the active prompt of its type, deactivating the previous one in the same
/// transaction (see the module docs for the order and the lock). Activating the active prompt
/// changes nothing.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn activate(tx: &mut TenantTx, id: Uuid) -> Result<(), WriteError> {
    lock(tx).await?;
    // Read under the lock, so the type cannot change before this transaction ends, and with
    // the row locked, so it cannot be deleted either.
    let prompt_type: Option<String> = sqlx::query_scalar(
        "SELECT prompt_type FROM app.system_prompts WHERE id = $1 FOR NO KEY UPDATE",
    )
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    let prompt_type = prompt_type.ok_or(WriteError::NotFound)?;
    deactivate_others(tx, &prompt_type, Some(id)).await?;
    sqlx::query("UPDATE app.system_prompts SET is_active = true WHERE id = $1 AND NOT is_active")
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}
