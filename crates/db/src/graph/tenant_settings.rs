//! Tenant setting writes (seed 003 `SystemSettings`, keyed per tenant): upsert by key, delete
//! by key.
//!
//! A row whose `is_editable` is false was put there by the platform (a seed, an import,
//! operations) and is not the tenant's to change: neither [`set`] nor [`delete`] touches it.
//! The test is part of the write statement itself (`ON CONFLICT … DO UPDATE … WHERE
//! is_editable`, `DELETE … WHERE is_editable`), so it cannot be raced; only when nothing was
//! written is the row looked at again to say why. `updated_by` is always the acting member.

use serde_json::Value;
use uuid::Uuid;

use super::Patch;
use crate::{DbError, TenantTx};

/// An upsert of setting `key` (its format is checked by the caller and by the table's CHECK).
#[derive(Debug, Clone)]
pub struct SettingWrite {
    /// The key (`business_hours`, `sla.vip.hours`).
    pub key: String,
    /// The value, any JSON but null.
    pub value: Value,
    /// The category's stored spelling; `None` keeps it (a new row gets `general`).
    pub category: Option<&'static str>,
    /// The description: `Keep` keeps it (a new row gets none), `Set(None)` clears it.
    pub description: Patch<Option<String>>,
}

/// Why a setting write did not happen.
#[derive(Debug, thiserror::Error)]
pub enum SettingError {
    /// The setting exists but is not editable; nothing was written.
    #[error("the setting is not editable")]
    NotEditable,
    /// No setting has the key (delete only).
    #[error("no such setting")]
    NotFound,
    /// The database refused or failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for SettingError {
    fn from(e: sqlx::Error) -> Self {
        SettingError::Db(e.into())
    }
}

/// Creates or replaces setting `w.key`; returns its id.
#[tracing::instrument(skip_all)]
pub async fn set(tx: &mut TenantTx, w: &SettingWrite) -> Result<Uuid, SettingError> {
    let (keep_description, description) = match &w.description {
        Patch::Keep => (true, None),
        Patch::Set(d) => (false, d.clone()),
    };
    let id: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO app.tenant_settings AS s (key, value, category, description, updated_by)
         VALUES ($1, $2, coalesce($3, 'general'), $4, app.current_user_id())
         ON CONFLICT (tenant_id, key) DO UPDATE
            SET value = EXCLUDED.value,
                category = coalesce($3, s.category),
                description = CASE WHEN $5 THEN s.description ELSE EXCLUDED.description END,
                updated_by = EXCLUDED.updated_by
          WHERE s.is_editable
         RETURNING s.id",
    )
    .bind(&w.key)
    .bind(&w.value)
    .bind(w.category)
    .bind(description)
    .bind(keep_description)
    .fetch_optional(tx.conn())
    .await?;
    // Nothing returned: the key exists and the WHERE refused the update.
    id.ok_or(SettingError::NotEditable)
}

/// Deletes setting `key`; returns the id it had.
#[tracing::instrument(skip_all)]
pub async fn delete(tx: &mut TenantTx, key: &str) -> Result<Uuid, SettingError> {
    let deleted: Option<Uuid> = sqlx::query_scalar(
        "DELETE FROM app.tenant_settings WHERE key = $1 AND is_editable RETURNING id",
    )
    .bind(key)
    .fetch_optional(tx.conn())
    .await?;
    if let Some(id) = deleted {
        return Ok(id);
    }
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM app.tenant_settings WHERE key = $1)")
            .bind(key)
            .fetch_one(tx.conn())
            .await?;
    Err(if exists {
        SettingError::NotEditable
    } else {
        SettingError::NotFound
    })
}
