//! `connectIntegration`, `updateIntegration`, `disconnectIntegration`: their inputs,
//! validation and resolvers.
//!
//! An integration is addressed by its platform (one per tenant and platform). Tokens are
//! write-only: they are validated without ever being quoted, handed to
//! `frontdesk_db::graph::integrations` as secrets, sealed there for their row and never
//! returned (the payload is the `Integration`, which has no token field). Changing
//! integrations takes an admin: a connection acts on the tenant's ad and analytics accounts.

use async_graphql::{Context, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, Utc};
use frontdesk_db::graph::integrations::{self, Connect, IntegrationFields};
use frontdesk_db::graph::Patch;
use secrecy::SecretString;
use serde_json::{Map, Value};

use super::inputs::{bad, number, put};
use super::{read_back, update_nullable, update_required, write_error, Target};
use crate::entity::{authorize, Op};
use crate::query::Resolve;
use crate::types::enums::{DbEnum, IntegrationPlatform, IntegrationStatus};
use crate::types::Integration;
use crate::validate::{self, PROVIDER_ID_MAX, SHORT_TEXT_MAX};
use crate::ApiError;

const INTEGRATION: Target = Target {
    what: "Integration",
    field: "platform",
};

/// Longest accepted OAuth token (Google's and Meta's are a few hundred characters; JWTs a few
/// thousand).
pub const TOKEN_MAX: usize = 8_192;
/// Most items of a dimension list.
const DIMENSION_ITEMS_MAX: usize = 100;
/// Most campaigns.
const CAMPAIGNS_MAX: usize = 500;
/// Largest campaigns document, serialised.
const CAMPAIGNS_MAX_BYTES: usize = 256 * 1024;

/// A platform connection (OAuth tokens the client obtained from the platform).
#[derive(Debug, Clone, InputObject)]
pub struct ConnectIntegrationInput {
    /// The platform.
    pub platform: IntegrationPlatform,
    /// The platform's account handle.
    pub account_id: String,
    /// The Google Analytics property (Google Analytics only).
    pub property_id: Option<String>,
    /// The OAuth access token. Stored encrypted; never returned.
    #[graphql(secret)]
    pub access_token: String,
    /// The OAuth refresh token, if granted. Stored encrypted; never returned.
    #[graphql(secret)]
    pub refresh_token: Option<String>,
    /// When the access token expires.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Changes to an integration: a field left out keeps its value; `null` clears a nullable
/// field, and resets a document to empty.
#[derive(Debug, Clone, Default, InputObject)]
pub struct UpdateIntegrationInput {
    /// Connection health (cannot be cleared).
    pub status: MaybeUndefined<IntegrationStatus>,
    /// The last successful sync.
    pub last_sync_at: MaybeUndefined<DateTime<Utc>>,
    /// Analytics metrics (replaces the document).
    pub metrics: MaybeUndefined<IntegrationMetricsInput>,
    /// Analytics dimensions (replaces the document).
    pub dimensions: MaybeUndefined<IntegrationDimensionsInput>,
    /// Ad campaigns: an array of objects (replaces the list).
    pub campaigns: MaybeUndefined<Value>,
    /// When the access token expires.
    pub expires_at: MaybeUndefined<DateTime<Utc>>,
    /// A new access token (connected platforms only). Stored encrypted; never returned.
    #[graphql(secret)]
    pub access_token: Option<String>,
    /// A new refresh token, or `null` to delete it (connected platforms only). Stored
    /// encrypted; never returned.
    #[graphql(secret)]
    pub refresh_token: MaybeUndefined<String>,
}

/// Google Analytics metrics (mirrors `IntegrationMetrics`).
#[derive(Debug, Clone, InputObject)]
pub struct IntegrationMetricsInput {
    /// Sessions (≥ 0).
    pub sessions: Option<i64>,
    /// Users (≥ 0).
    pub users: Option<i64>,
    /// Page views (≥ 0).
    pub pageviews: Option<i64>,
    /// Share of single-page sessions, 0–1.
    pub bounce_rate: Option<f64>,
    /// Average session length in seconds (≥ 0).
    pub avg_session_duration: Option<f64>,
}

/// Google Analytics dimensions (mirrors `IntegrationDimensions`), at most 100 items a list.
#[derive(Debug, Clone, InputObject)]
pub struct IntegrationDimensionsInput {
    /// Traffic sources.
    pub top_sources: Option<Vec<TrafficSourceInput>>,
    /// Device shares.
    pub devices: Option<Vec<DeviceShareInput>>,
    /// Most viewed pages.
    pub top_pages: Option<Vec<PageViewsInput>>,
}

/// A traffic source (mirrors `TrafficSource`).
#[derive(Debug, Clone, InputObject)]
pub struct TrafficSourceInput {
    /// The source.
    pub source: String,
    /// Sessions (≥ 0).
    pub sessions: i64,
}

/// A device type's share (mirrors `DeviceShare`).
#[derive(Debug, Clone, InputObject)]
pub struct DeviceShareInput {
    /// The device type.
    pub device: String,
    /// Percentage of sessions, 0–100.
    pub percentage: f64,
}

/// A page's views (mirrors `PageViews`).
#[derive(Debug, Clone, InputObject)]
pub struct PageViewsInput {
    /// The page's path.
    pub page: String,
    /// Views (≥ 0).
    pub views: i64,
}

// ------------------------------------------------------------------------------------------------
// Validation
// ------------------------------------------------------------------------------------------------

/// A token: required, at most [`TOKEN_MAX`] characters of visible ASCII. Errors never quote it.
fn token(field: &str, raw: String) -> Result<SecretString, ApiError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(bad(field, "is required and must not be blank"));
    }
    if value.chars().count() > TOKEN_MAX {
        return Err(bad(
            field,
            format!("is too long: at most {TOKEN_MAX} characters are allowed"),
        ));
    }
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad(
            field,
            "must be printable ASCII without spaces, as OAuth tokens are",
        ));
    }
    Ok(SecretString::from(value.to_owned()))
}

fn count(field: &str, v: i64) -> Result<Value, ApiError> {
    if v < 0 {
        return Err(bad(field, "must not be negative"));
    }
    Ok(Value::from(v))
}

fn ranged(field: &str, v: f64, max: f64) -> Result<Value, ApiError> {
    if !(0.0..=max).contains(&v) {
        return Err(bad(field, format!("must be between 0 and {max}")));
    }
    number(field, v)
}

fn items<T>(
    field: &str,
    list: Option<Vec<T>>,
    lower: impl Fn(&str, T) -> Result<Value, ApiError>,
) -> Result<Option<Value>, ApiError> {
    let Some(list) = list else { return Ok(None) };
    if list.len() > DIMENSION_ITEMS_MAX {
        return Err(bad(
            field,
            format!("has too many items: at most {DIMENSION_ITEMS_MAX} are allowed"),
        ));
    }
    let out = list
        .into_iter()
        .enumerate()
        .map(|(i, item)| lower(&format!("{field}[{i}]"), item))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(Value::Array(out)))
}

/// `{ "key": value, … }` of a dimension item.
fn item(pairs: Vec<(&str, Value)>) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

impl IntegrationMetricsInput {
    fn lower(self) -> Result<Value, ApiError> {
        const F: &str = "input.metrics";
        let mut doc = Map::new();
        let n =
            |name: &str, v: Option<i64>| v.map(|v| count(&format!("{F}.{name}"), v)).transpose();
        put(&mut doc, "sessions", n("sessions", self.sessions)?);
        put(&mut doc, "users", n("users", self.users)?);
        put(&mut doc, "pageviews", n("pageviews", self.pageviews)?);
        let bounce = self
            .bounce_rate
            .map(|v| ranged(&format!("{F}.bounceRate"), v, 1.0));
        put(&mut doc, "bounceRate", bounce.transpose()?);
        let avg = self.avg_session_duration.map(|v| {
            let field = format!("{F}.avgSessionDuration");
            if v < 0.0 {
                return Err(bad(&field, "must not be negative"));
            }
            number(&field, v)
        });
        put(&mut doc, "avgSessionDuration", avg.transpose()?);
        Ok(Value::Object(doc))
    }
}

impl IntegrationDimensionsInput {
    fn lower(self) -> Result<Value, ApiError> {
        const F: &str = "input.dimensions";
        let text = |field: &str, raw: String| -> Result<Value, ApiError> {
            Ok(Value::String(validate::required_text(
                field,
                &raw,
                SHORT_TEXT_MAX,
            )?))
        };
        let mut doc = Map::new();
        let sources = items(&format!("{F}.topSources"), self.top_sources, |f, s| {
            Ok(item(vec![
                ("source", text(&format!("{f}.source"), s.source)?),
                ("sessions", count(&format!("{f}.sessions"), s.sessions)?),
            ]))
        })?;
        put(&mut doc, "topSources", sources);
        let devices = items(&format!("{F}.devices"), self.devices, |f, d| {
            Ok(item(vec![
                ("device", text(&format!("{f}.device"), d.device)?),
                (
                    "percentage",
                    ranged(&format!("{f}.percentage"), d.percentage, 100.0)?,
                ),
            ]))
        })?;
        put(&mut doc, "devices", devices);
        let pages = items(&format!("{F}.topPages"), self.top_pages, |f, p| {
            Ok(item(vec![
                ("page", text(&format!("{f}.page"), p.page)?),
                ("views", count(&format!("{f}.views"), p.views)?),
            ]))
        })?;
        put(&mut doc, "topPages", pages);
        Ok(Value::Object(doc))
    }
}

/// Campaigns: an array of at most [`CAMPAIGNS_MAX`] objects, at most [`CAMPAIGNS_MAX_BYTES`].
fn campaigns(value: Value) -> Result<Value, ApiError> {
    const F: &str = "input.campaigns";
    let Value::Array(list) = &value else {
        return Err(bad(F, "must be a JSON array of objects ([{…}, …])"));
    };
    if let Some(i) = list.iter().position(|c| !c.is_object()) {
        return Err(bad(&format!("{F}[{i}]"), "must be a JSON object ({…})"));
    }
    if list.len() > CAMPAIGNS_MAX {
        return Err(bad(
            F,
            format!("has too many campaigns: at most {CAMPAIGNS_MAX} are allowed"),
        ));
    }
    if value.to_string().len() > CAMPAIGNS_MAX_BYTES {
        return Err(bad(
            F,
            format!("is too large: at most {CAMPAIGNS_MAX_BYTES} bytes of JSON are allowed"),
        ));
    }
    Ok(value)
}

/// A document field of an update: absent keeps it, `null` resets it to `empty`.
fn document<T>(
    value: MaybeUndefined<T>,
    empty: Value,
    lower: impl FnOnce(T) -> Result<Value, ApiError>,
) -> Result<Patch<Value>, ApiError> {
    match value {
        MaybeUndefined::Undefined => Ok(Patch::Keep),
        MaybeUndefined::Null => Ok(Patch::Set(empty)),
        MaybeUndefined::Value(v) => lower(v).map(Patch::Set),
    }
}

impl ConnectIntegrationInput {
    fn lower(self) -> Result<Connect, ApiError> {
        let property_id =
            validate::optional_text("input.propertyId", self.property_id, PROVIDER_ID_MAX)?;
        if property_id.is_some() && self.platform != IntegrationPlatform::GoogleAnalytics {
            return Err(bad(
                "input.propertyId",
                "only Google Analytics has a property; leave it out for this platform",
            ));
        }
        Ok(Connect {
            platform: self.platform.as_db(),
            account_id: validate::required_text(
                "input.accountId",
                &self.account_id,
                PROVIDER_ID_MAX,
            )?,
            property_id,
            access_token: token("input.accessToken", self.access_token)?,
            refresh_token: self
                .refresh_token
                .map(|t| token("input.refreshToken", t))
                .transpose()?,
            expires_at: self.expires_at,
        })
    }
}

impl UpdateIntegrationInput {
    fn lower(self) -> Result<IntegrationFields, ApiError> {
        Ok(IntegrationFields {
            status: update_required("input.status", self.status, |v| Ok(v.as_db()))?,
            last_sync_at: update_nullable(self.last_sync_at, |v| Ok(Some(v)))?,
            metrics: document(self.metrics, Value::Object(Map::new()), |m| m.lower())?,
            dimensions: document(self.dimensions, Value::Object(Map::new()), |d| d.lower())?,
            campaigns: document(self.campaigns, Value::Array(vec![]), campaigns)?,
            expires_at: update_nullable(self.expires_at, |v| Ok(Some(v)))?,
            access_token: self
                .access_token
                .map(|t| token("input.accessToken", t))
                .transpose()?,
            refresh_token: update_nullable(self.refresh_token, |t| {
                token("input.refreshToken", t).map(Some)
            })?,
        })
    }
}

// ------------------------------------------------------------------------------------------------
// Resolvers
// ------------------------------------------------------------------------------------------------

async fn connect(r: &Resolve<'_>, input: ConnectIntegrationInput) -> Result<Integration, ApiError> {
    authorize::<Integration>(r, Op::Write).await?;
    let connect = input.lower()?;
    let keyring = r
        .session
        .db()
        .keyring()
        .map_err(frontdesk_db::DbError::from)?;
    let mut tx = r.session.tx().await?;
    let id = integrations::connect(&mut tx, keyring, &connect)
        .await
        .map_err(|e| write_error(e, INTEGRATION))?;
    read_back(&mut tx, id).await
}

async fn update(
    r: &Resolve<'_>,
    platform: IntegrationPlatform,
    input: UpdateIntegrationInput,
) -> Result<Integration, ApiError> {
    authorize::<Integration>(r, Op::Write).await?;
    let fields = input.lower()?;
    let keyring = r
        .session
        .db()
        .keyring()
        .map_err(frontdesk_db::DbError::from)?;
    let mut tx = r.session.tx().await?;
    let id = integrations::update(&mut tx, keyring, platform.as_db(), &fields)
        .await
        .map_err(|e| write_error(e, INTEGRATION))?;
    read_back(&mut tx, id).await
}

async fn disconnect(
    r: &Resolve<'_>,
    platform: IntegrationPlatform,
) -> Result<Integration, ApiError> {
    authorize::<Integration>(r, Op::Delete).await?;
    let mut tx = r.session.tx().await?;
    let id = integrations::disconnect(&mut tx, platform.as_db())
        .await
        .map_err(|e| write_error(e, INTEGRATION))?;
    read_back(&mut tx, id).await
}

/// Integration mutations.
#[derive(Debug, Default)]
pub struct IntegrationMutation;

#[Object]
impl IntegrationMutation {
    /// Connects a platform with the OAuth tokens the client obtained from it, or reconnects
    /// it (replacing account, property, tokens and expiry; figures and last sync stay). It is
    /// `connected` and `ACTIVE` afterwards. Tokens are stored encrypted and never returned.
    /// Admins and owners.
    async fn connect_integration(
        &self,
        ctx: &Context<'_>,
        input: ConnectIntegrationInput,
    ) -> async_graphql::Result<Integration> {
        let r = Resolve::new(ctx)?;
        r.run(connect(&r, input)).await
    }

    /// Changes a platform's status, last sync, figures or tokens; fields left out keep their
    /// values. New tokens are accepted only while it is connected (`CONFLICT` otherwise);
    /// `NOT_FOUND` when the tenant never connected the platform. Admins and owners.
    async fn update_integration(
        &self,
        ctx: &Context<'_>,
        platform: IntegrationPlatform,
        input: UpdateIntegrationInput,
    ) -> async_graphql::Result<Integration> {
        let r = Resolve::new(ctx)?;
        r.run(update(&r, platform, input)).await
    }

    /// Disconnects a platform: its tokens are deleted, it is no longer `connected`; its
    /// figures stay. `NOT_FOUND` when the tenant never connected it. Admins and owners.
    async fn disconnect_integration(
        &self,
        ctx: &Context<'_>,
        platform: IntegrationPlatform,
    ) -> async_graphql::Result<Integration> {
        let r = Resolve::new(ctx)?;
        r.run(disconnect(&r, platform)).await
    }
}
