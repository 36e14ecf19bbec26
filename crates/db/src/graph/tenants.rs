//! Writes to the acting tenant's own row (`app.tenants`, seeds 000, 001, 002): its profile,
//! its AI settings and its subscription.
//!
//! Only the current tenant is ever written (`WHERE id = app.current_tenant_id()`, and the
//! tenants policy allows nothing else). Who may change which column is the API's business;
//! here every column is just a [`Patch`]. The AI settings document is merged key by key, so
//! a write that changes the tone keeps the working hours: [`AiSettingsPatch`] lists the keys
//! to set and the keys to remove, and the statement applies both to the stored document in
//! place (no read-modify-write that a concurrent change could slip between).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use sqlx::{Postgres, QueryBuilder};

use super::{changes, Patch, WriteError};
use crate::TenantTx;

/// Key-by-key changes to `tenants.ai_settings`.
#[derive(Debug, Clone, Default)]
pub struct AiSettingsPatch {
    /// Keys to set, with their new values (camelCase, as stored).
    pub set: Map<String, Value>,
    /// Keys to remove.
    pub remove: Vec<String>,
}

impl AiSettingsPatch {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.remove.is_empty()
    }
}

/// The writable columns of the tenant. Enumerated columns take their database spelling.
#[derive(Debug, Clone, Default)]
pub struct TenantFields {
    /// Display name (never blank).
    pub name: Patch<String>,
    /// Legal company name.
    pub company: Patch<Option<String>>,
    /// Contact e-mail.
    pub email: Patch<Option<String>>,
    /// Contact phone (E.164).
    pub phone: Patch<Option<String>>,
    /// Logo URL.
    pub logo: Patch<Option<String>>,
    /// Line of business.
    pub industry: Patch<Option<String>>,
    /// BCP 47 language code.
    pub language: Patch<Option<String>>,
    /// IANA time zone (checked by the table's trigger too).
    pub timezone: Patch<String>,
    /// `female` or `male`.
    pub voice_preference: Patch<Option<&'static str>>,
    /// `start`, `business` or `enterprise`.
    pub plan: Patch<&'static str>,
    /// The account's lifecycle status.
    pub status: Patch<&'static str>,
    /// Subscription start.
    pub subscription_start: Patch<Option<DateTime<Utc>>>,
    /// Subscription end (not before the start: `tenants_subscription_period_check`).
    pub subscription_end: Patch<Option<DateTime<Utc>>>,
    /// The AI settings to merge.
    pub ai_settings: AiSettingsPatch,
}

/// Applies `fields` to the acting tenant's row.
#[tracing::instrument(skip_all)]
pub async fn update(tx: &mut TenantTx, fields: &TenantFields) -> Result<(), WriteError> {
    let changes = changes!(fields; name, company, email, phone, logo, industry, language,
        timezone, voice_preference, plan, status, subscription_start, subscription_end);
    let ai = &fields.ai_settings;
    if changes.is_empty() && ai.is_empty() {
        return Ok(());
    }
    let mut qb: QueryBuilder<'static, Postgres> = QueryBuilder::new("UPDATE app.tenants SET ");
    let plain = !changes.is_empty();
    if plain {
        super::push_sets(&mut qb, changes);
    }
    if !ai.is_empty() {
        if plain {
            qb.push(", ");
        }
        qb.push("ai_settings = (ai_settings || ")
            .push_bind(Value::Object(ai.set.clone()))
            .push(") - ")
            .push_bind(ai.remove.clone())
            .push("::text[]");
    }
    qb.push(" WHERE id = app.current_tenant_id() RETURNING id");
    let found: Option<uuid::Uuid> = qb.build_query_scalar().fetch_optional(tx.conn()).await?;
    found.map(|_| ()).ok_or(WriteError::NotFound)
}
