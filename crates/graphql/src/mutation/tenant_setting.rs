//! `setTenantSetting` and `deleteTenantSetting`: the tenant's key/value configuration,
//! addressed by key (the form every reader of a setting uses: `sla.vip.hours`, …).
//!
//! Who may: what `TenantSetting` declares, an admin (there is no settings permission to give
//! a supervisor). A setting whose `isEditable` is false belongs to the platform: changing or
//! deleting it is `FORBIDDEN` naming `key`, and the row stays as it was. A key must be
//! lower-case letters, digits, `_` and `.`, starting with a letter, like the table's CHECK
//! says (`BAD_USER_INPUT` on `key`, before any SQL).

use async_graphql::{Context, Object, SimpleObject, ID};
use frontdesk_db::graph::tenant_settings::{self, SettingError, SettingWrite};
use frontdesk_db::graph::Patch;
use serde_json::Value;

use super::inputs::{bad, JSON_DOC_MAX_BYTES};
use super::{db_error, not_found, read_back};
use crate::entity::{authorize, global_id, Op};
use crate::query::Resolve;
use crate::types::enums::{DbEnum, SettingCategory};
use crate::types::TenantSetting;
use crate::validate::{self, REASON_MAX};
use crate::ApiError;

/// Longest key.
pub const KEY_MAX: usize = 100;

/// The result of `deleteTenantSetting`.
#[derive(Debug, Clone, SimpleObject)]
pub struct DeleteTenantSettingPayload {
    /// The global id the setting had.
    pub deleted_id: ID,
    /// Its key.
    pub key: String,
}

/// A key as the `tenant_settings_key_check` CHECK accepts it (`^[a-z][a-z0-9_.]*$`), at most
/// [`KEY_MAX`] characters, surrounding blanks trimmed.
fn key(raw: &str) -> Result<String, ApiError> {
    let key = raw.trim();
    let mut chars = key.chars();
    let well_formed = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.');
    if !well_formed {
        return Err(bad(
            "key",
            "must be lower-case letters, digits, _ and ., starting with a letter (e.g. sla.vip.hours)",
        ));
    }
    if key.len() > KEY_MAX {
        return Err(bad(
            "key",
            format!("is too long: at most {KEY_MAX} characters are allowed"),
        ));
    }
    Ok(key.to_owned())
}

/// Any JSON but null (a setting is removed with `deleteTenantSetting`), of bounded size.
fn value(v: Value) -> Result<Value, ApiError> {
    if v.is_null() {
        return Err(bad(
            "value",
            "must not be null; delete the setting with deleteTenantSetting",
        ));
    }
    if v.to_string().len() > JSON_DOC_MAX_BYTES {
        return Err(bad(
            "value",
            format!("is too large: at most {JSON_DOC_MAX_BYTES} bytes of JSON are allowed"),
        ));
    }
    Ok(v)
}

fn setting_error(e: SettingError) -> ApiError {
    match e {
        SettingError::NotEditable => ApiError::ForbiddenAt {
            field: "key".into(),
            message: "this setting is managed by the platform and cannot be changed or deleted"
                .into(),
        },
        SettingError::NotFound => not_found("TenantSetting", "key"),
        SettingError::Db(e) => db_error(e),
    }
}

async fn set(
    r: &Resolve<'_>,
    raw_key: String,
    raw_value: Value,
    category: Option<SettingCategory>,
    description: Option<String>,
) -> Result<TenantSetting, ApiError> {
    authorize::<TenantSetting>(r, Op::Write).await?;
    let write = SettingWrite {
        key: key(&raw_key)?,
        value: value(raw_value)?,
        category: category.map(DbEnum::as_db),
        description: match description {
            None => Patch::Keep,
            Some(d) => Patch::Set(validate::optional_text("description", Some(d), REASON_MAX)?),
        },
    };
    let mut tx = r.session.tx().await?;
    let id = tenant_settings::set(&mut tx, &write)
        .await
        .map_err(setting_error)?;
    read_back(&mut tx, id).await
}

async fn delete(r: &Resolve<'_>, raw_key: String) -> Result<DeleteTenantSettingPayload, ApiError> {
    authorize::<TenantSetting>(r, Op::Delete).await?;
    let key = key(&raw_key)?;
    let mut tx = r.session.tx().await?;
    let id = tenant_settings::delete(&mut tx, &key)
        .await
        .map_err(setting_error)?;
    Ok(DeleteTenantSettingPayload {
        deleted_id: global_id::encode("TenantSetting", id),
        key,
    })
}

/// Tenant setting mutations.
#[derive(Debug, Default)]
pub struct TenantSettingMutation;

#[Object]
impl TenantSettingMutation {
    /// Creates setting `key` or replaces its value. `category` and `description` are kept
    /// when left out (a new setting is `GENERAL`, without a description); an empty
    /// `description` clears it. The caller is recorded as `updatedBy`. A setting that is not
    /// editable is `FORBIDDEN` (on `key`) and stays as it was. Admins and owners.
    async fn set_tenant_setting(
        &self,
        ctx: &Context<'_>,
        key: String,
        value: Value,
        category: Option<SettingCategory>,
        description: Option<String>,
    ) -> async_graphql::Result<TenantSetting> {
        let r = Resolve::new(ctx)?;
        r.run(set(&r, key, value, category, description)).await
    }

    /// Deletes setting `key` (`NOT_FOUND` on `key` when there is none); a setting that is not
    /// editable is `FORBIDDEN` and stays. Admins and owners.
    async fn delete_tenant_setting(
        &self,
        ctx: &Context<'_>,
        key: String,
    ) -> async_graphql::Result<DeleteTenantSettingPayload> {
        let r = Resolve::new(ctx)?;
        r.run(delete(&r, key)).await
    }
}
