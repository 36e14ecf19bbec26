//! Integration writes: connect, update and disconnect a marketing platform (seed 002), one row
//! per (tenant, platform).
//!
//! Tokens arrive in clear (as [`SecretString`]s), are sealed here for the row they go to
//! ([`crate::crypto::sealed`]: the associated data names the table, column, tenant and row id,
//! so the row id must be known before sealing) and are never read back by anything in this
//! crate's API. A disconnected platform holds no tokens (CHECK
//! `integrations_disconnected_tokens_check`); only Google Analytics has a property
//! (`integrations_property_check`).

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use super::{changes, Patch, Val, WriteError};
use crate::crypto::sealed::{INTEGRATION_ACCESS_TOKEN, INTEGRATION_REFRESH_TOKEN};
use crate::crypto::Keyring;
use crate::TenantTx;

/// A connection (or reconnection) of a platform.
#[derive(Debug)]
pub struct Connect {
    /// `google_analytics`, `google_ads`, `meta_ads` or `linkedin_ads`.
    pub platform: &'static str,
    /// The platform's account handle.
    pub account_id: String,
    /// Google Analytics' property.
    pub property_id: Option<String>,
    /// The OAuth access token, in clear until it is sealed here.
    pub access_token: SecretString,
    /// The OAuth refresh token, if the platform granted one.
    pub refresh_token: Option<SecretString>,
    /// When the access token expires.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Changes to a connected or disconnected platform's row. JSON documents are validated by the
/// caller (their CHECKs are the last line).
#[derive(Debug, Default)]
pub struct IntegrationFields {
    /// `active`, `expired` or `error`.
    pub status: Patch<&'static str>,
    /// The last successful sync.
    pub last_sync_at: Patch<Option<DateTime<Utc>>>,
    /// Analytics metrics document.
    pub metrics: Patch<serde_json::Value>,
    /// Analytics dimensions document.
    pub dimensions: Patch<serde_json::Value>,
    /// Ad campaigns (array of objects).
    pub campaigns: Patch<serde_json::Value>,
    /// When the access token expires.
    pub expires_at: Patch<Option<DateTime<Utc>>>,
    /// A new access token (only for a connected platform).
    pub access_token: Option<SecretString>,
    /// A new refresh token, or `Set(None)` to drop it (only for a connected platform).
    pub refresh_token: Patch<Option<SecretString>>,
}

fn seal(
    keyring: &Keyring,
    tx: &TenantTx,
    id: Uuid,
    access: Option<&SecretString>,
    refresh: Patch<Option<&SecretString>>,
) -> Result<super::Changes, WriteError> {
    let tenant = tx.ctx().tenant_id;
    let mut out: super::Changes = Vec::new();
    if let Some(token) = access {
        let sealed = INTEGRATION_ACCESS_TOKEN.seal(keyring, tenant, id, token.expose_secret())?;
        out.push((INTEGRATION_ACCESS_TOKEN.column, Val::from(Some(sealed))));
    }
    if let Patch::Set(token) = refresh {
        let sealed = token
            .map(|t| INTEGRATION_REFRESH_TOKEN.seal(keyring, tenant, id, t.expose_secret()))
            .transpose()?;
        out.push((INTEGRATION_REFRESH_TOKEN.column, Val::from(sealed)));
    }
    Ok(out)
}

impl From<crate::crypto::CryptoError> for WriteError {
    fn from(e: crate::crypto::CryptoError) -> Self {
        WriteError::Db(e.into())
    }
}

/// Connects `c.platform`: creates its row, or replaces the account, property, tokens and
/// expiry of the existing one (its figures and last sync stay). Either way it is `connected`
/// and `active` afterwards. Returns the row id.
#[tracing::instrument(skip_all, fields(platform = c.platform))]
pub async fn connect(
    tx: &mut TenantTx,
    keyring: &Keyring,
    c: &Connect,
) -> Result<Uuid, WriteError> {
    let base = |id: Option<Uuid>| -> super::Changes {
        let mut out: super::Changes = Vec::new();
        if let Some(id) = id {
            out.push(("id", Val::from(id)));
            out.push(("platform", Val::from(c.platform)));
        }
        out.extend([
            ("connected", Val::from(true)),
            ("status", Val::from("active")),
            ("account_id", Val::from(c.account_id.clone())),
            ("property_id", Val::from(c.property_id.clone())),
            ("expires_at", Val::from(c.expires_at)),
        ]);
        out
    };
    // A new platform: one insert, sealed for the id it is given. Most connections are new.
    let id = Uuid::new_v4();
    let mut row = base(Some(id));
    row.extend(seal(
        keyring,
        tx,
        id,
        Some(&c.access_token),
        Patch::Set(c.refresh_token.as_ref()),
    )?);
    let mut qb = super::insert("app.integrations", row);
    qb.push(" ON CONFLICT (tenant_id, platform) DO NOTHING RETURNING id");
    if let Some(id) = qb.build_query_scalar().fetch_optional(tx.conn()).await? {
        return Ok(id);
    }
    // A reconnection: the tokens are sealed for the existing row's id, which the lock keeps.
    let id: Uuid =
        sqlx::query_scalar("SELECT id FROM app.integrations WHERE platform = $1 FOR UPDATE")
            .bind(c.platform)
            .fetch_one(tx.conn())
            .await?;
    let mut changes = base(None);
    changes.extend(seal(
        keyring,
        tx,
        id,
        Some(&c.access_token),
        Patch::Set(c.refresh_token.as_ref()),
    )?);
    super::update_row(tx, "app.integrations", changes, id).await?;
    Ok(id)
}

/// Changes the set fields of `platform`'s row; [`WriteError::NotFound`] when the tenant has
/// none, [`WriteError::Status`] (`disconnected`) when new tokens are given for a platform that
/// is not connected. Returns the row id.
#[tracing::instrument(skip_all, fields(platform = platform))]
pub async fn update(
    tx: &mut TenantTx,
    keyring: &Keyring,
    platform: &'static str,
    f: &IntegrationFields,
) -> Result<Uuid, WriteError> {
    let (id, connected): (Uuid, bool) = sqlx::query_as(
        "SELECT id, connected FROM app.integrations WHERE platform = $1 FOR NO KEY UPDATE",
    )
    .bind(platform)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(WriteError::NotFound)?;
    let new_tokens = f.access_token.is_some() || f.refresh_token.is_set();
    if new_tokens && !connected {
        return Err(WriteError::Status {
            current: "disconnected".into(),
        });
    }
    let mut changes = changes!(f; status, last_sync_at, metrics, dimensions, campaigns, expires_at);
    let refresh = match &f.refresh_token {
        Patch::Keep => Patch::Keep,
        Patch::Set(t) => Patch::Set(t.as_ref()),
    };
    changes.extend(seal(keyring, tx, id, f.access_token.as_ref(), refresh)?);
    super::update_row(tx, "app.integrations", changes, id).await?;
    Ok(id)
}

/// Disconnects `platform`: its tokens and their expiry are deleted and it is no longer
/// `connected`; its figures stay. [`WriteError::NotFound`] when the tenant has no such row.
#[tracing::instrument(skip_all, fields(platform = platform))]
pub async fn disconnect(tx: &mut TenantTx, platform: &'static str) -> Result<Uuid, WriteError> {
    sqlx::query_scalar(
        "UPDATE app.integrations
            SET connected = false, access_token_ciphertext = NULL,
                refresh_token_ciphertext = NULL, expires_at = NULL
          WHERE platform = $1 RETURNING id",
    )
    .bind(platform)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(WriteError::NotFound)
}

/// A platform's global sample data (seed 002 DemoData).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DemoData {
    /// The sample's id.
    pub id: Uuid,
    /// The sample figures, as stored.
    pub data: serde_json::Value,
    /// When the sample was stored.
    pub created_at: DateTime<Utc>,
}

/// The newest global sample data of `platform`, for a tenant that has not connected it; `None`
/// when the tenant's `platform` is connected (it has real figures) or no sample exists. A read,
/// kept next to the writes of the same rows.
#[tracing::instrument(skip_all, fields(platform = platform))]
pub async fn demo_data(
    tx: &mut TenantTx,
    platform: &'static str,
) -> Result<Option<DemoData>, crate::DbError> {
    Ok(sqlx::query_as(
        "SELECT d.id, d.data, d.created_at FROM app.platform_demo_data d
          WHERE d.platform = $1
            AND NOT EXISTS (SELECT 1 FROM app.integrations i WHERE i.platform = $1 AND i.connected)
          ORDER BY d.created_at DESC, d.id DESC LIMIT 1",
    )
    .bind(platform)
    .fetch_optional(tx.conn())
    .await?)
}
