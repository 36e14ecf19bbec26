//! `Integration`: a tenant's connection to a marketing platform (seed 002 `Client.platforms`),
//! its analytics documents, and `platformDemoData`, the global sample figures shown for
//! platforms a tenant has not connected.
//!
//! The OAuth tokens are sealed at rest (`frontdesk_db::crypto`) and are not columns of this
//! entity at all: no query can select them, and `hasAccessToken`/`hasRefreshToken` only say
//! whether they are stored. Reading integrations is analytics (`view:analytics`); connecting,
//! changing and disconnecting them hands the platform account to the tenant, so it takes an
//! admin (see `mutation/integration.rs`).

use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, Utc};
use frontdesk_db::graph::integrations;
use frontdesk_db::query::search::contains_any;
use frontdesk_db::{col, exprs, sort, table};
use serde::Deserialize;
use sqlx::types::Json;

use super::enums::{
    DbEnum, IntegrationPlatform, IntegrationPlatformFilter, IntegrationStatus,
    IntegrationStatusFilter,
};
use super::lenient;
use crate::entity::{authorize, entity, Op};
use crate::list::filter::{BooleanFilter, DateTimeFilter, IdFilter};
use crate::query::Resolve;
use crate::ApiError;

entity! {
    /// A connection to a marketing platform. Its OAuth tokens are encrypted at rest and never
    /// readable: `hasAccessToken` and `hasRefreshToken` say whether they are stored.
    Integration in table!(integrations) => {
        /// The platform (one row per platform and tenant).
        platform: IntegrationPlatform,
        /// Connected (connecting stores its tokens, disconnecting deletes them).
        connected: bool,
        /// The platform's account handle (GA account, Google Ads customer, Meta ad account,
        /// LinkedIn account).
        account_id: Option<String>,
        /// The Google Analytics property.
        property_id: Option<String>,
        /// An access token is stored (its value is never returned).
        has_access_token: bool = exprs::integrations::HAS_ACCESS_TOKEN,
        /// A refresh token is stored (its value is never returned).
        has_refresh_token: bool = exprs::integrations::HAS_REFRESH_TOKEN,
        /// When the access token expires.
        expires_at: Option<DateTime<Utc>>,
        /// The last successful sync.
        last_sync_at: Option<DateTime<Utc>>,
        /// Connection health.
        status: IntegrationStatus,
        /// Analytics metrics (Google Analytics).
        #[graphql(skip)]
        metrics: Json<IntegrationMetrics>,
        /// Analytics dimensions (Google Analytics).
        #[graphql(skip)]
        dimensions: Json<IntegrationDimensions>,
        /// Ad campaigns as the platform reports them (an array of objects; fields differ by
        /// platform: spend, clicks, impressions, ctr, conversions, cpm, roas, leads…).
        campaigns: serde_json::Value,
        /// Created.
        created_at: DateTime<Utc>,
        /// Last changed.
        updated_at: DateTime<Utc>,
    }
    filter IntegrationFilter {
        id: IdFilter [Integration],
        platform: IntegrationPlatformFilter,
        connected: BooleanFilter,
        status: IntegrationStatusFilter,
        expires_at: DateTimeFilter,
        last_sync_at: DateTimeFilter,
        created_at: DateTimeFilter,
        updated_at: DateTimeFilter,
    }
    /// Text contained in the account or property id (case-insensitive).
    search: contains_any(&[col!(account_id), col!(property_id)]);
    order IntegrationOrder, IntegrationOrderField {
        /// The platform's stored name.
        Platform => sort!(platform: text),
        /// Creation time.
        CreatedAt => sort!(created_at: timestamptz),
        /// Last change.
        UpdatedAt => sort!(updated_at: timestamptz),
        /// Last sync (never synced first when ascending).
        LastSyncAt => sort!(last_sync_at: timestamptz, nulls_first),
        /// Token expiry (none first when ascending).
        ExpiresAt => sort!(expires_at: timestamptz, nulls_first),
    }
    default_order: [Platform asc];
    relations {}
    root: IntegrationQuery { integration, integrations };
    access: { read: Viewer + ViewAnalytics, write: Admin, delete: Admin };
    constraints {
        "integrations_property_check" => "input.propertyId":
            Bad("only Google Analytics has a property"),
        "integrations_disconnected_tokens_check" => "input":
            Bad("a disconnected platform holds no tokens; connect it first"),
    }
    fields {
        /// Analytics metrics (Google Analytics; empty for ad platforms).
        async fn metrics(&self) -> &IntegrationMetrics {
            &self.metrics
        }

        /// Analytics dimensions (Google Analytics; empty for ad platforms).
        async fn dimensions(&self) -> &IntegrationDimensions {
            &self.dimensions
        }
    }
}

/// Google Analytics metrics (seed 002 `metrics`).
#[derive(Debug, Clone, Default, SimpleObject, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationMetrics {
    /// Sessions.
    #[serde(default, deserialize_with = "lenient::integer")]
    pub sessions: Option<i64>,
    /// Users.
    #[serde(default, deserialize_with = "lenient::integer")]
    pub users: Option<i64>,
    /// Page views.
    #[serde(default, deserialize_with = "lenient::integer")]
    pub pageviews: Option<i64>,
    /// Share of single-page sessions, 0–1.
    #[serde(default, deserialize_with = "lenient::number")]
    pub bounce_rate: Option<f64>,
    /// Average session length in seconds.
    #[serde(default, deserialize_with = "lenient::number")]
    pub avg_session_duration: Option<f64>,
}

/// Google Analytics dimensions (seed 002 `dimensions`).
#[derive(Debug, Clone, Default, SimpleObject, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationDimensions {
    /// Where sessions came from, busiest first.
    #[serde(default, deserialize_with = "lenient::objects")]
    pub top_sources: Vec<TrafficSource>,
    /// Sessions by device type.
    #[serde(default, deserialize_with = "lenient::objects")]
    pub devices: Vec<DeviceShare>,
    /// The most viewed pages.
    #[serde(default, deserialize_with = "lenient::objects")]
    pub top_pages: Vec<PageViews>,
}

/// A traffic source and its sessions.
#[derive(Debug, Clone, Default, SimpleObject, Deserialize)]
pub struct TrafficSource {
    /// The source (`google / organic`, `direct`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub source: Option<String>,
    /// Sessions from it.
    #[serde(default, deserialize_with = "lenient::integer")]
    pub sessions: Option<i64>,
}

/// A device type's share of sessions.
#[derive(Debug, Clone, Default, SimpleObject, Deserialize)]
pub struct DeviceShare {
    /// `mobile`, `desktop`, `tablet`.
    #[serde(default, deserialize_with = "lenient::text")]
    pub device: Option<String>,
    /// Percentage of sessions, 0–100.
    #[serde(default, deserialize_with = "lenient::number")]
    pub percentage: Option<f64>,
}

/// A page and its views.
#[derive(Debug, Clone, Default, SimpleObject, Deserialize)]
pub struct PageViews {
    /// The page's path.
    #[serde(default, deserialize_with = "lenient::text")]
    pub page: Option<String>,
    /// Views.
    #[serde(default, deserialize_with = "lenient::integer")]
    pub views: Option<i64>,
}

/// Sample figures of a platform (seed 002 DemoData), for dashboards of tenants that have not
/// connected it.
#[derive(Debug, Clone, SimpleObject)]
pub struct PlatformDemoData {
    /// The platform.
    pub platform: IntegrationPlatform,
    /// The sample, shaped like the platform's own data (`metrics`, `dimensions`, `campaigns`).
    pub data: serde_json::Value,
    /// When the sample was stored.
    pub created_at: DateTime<Utc>,
}

/// The `platformDemoData` root field.
#[derive(Debug, Default, Clone, Copy)]
pub struct PlatformDemoDataQuery;

#[Object]
impl PlatformDemoDataQuery {
    /// Sample figures for `platform`, for a tenant that has not connected it. Null when the
    /// tenant has connected the platform — its real figures are on `integrations` — or when
    /// no sample exists. Reading takes `view:analytics`, like integrations.
    async fn platform_demo_data(
        &self,
        ctx: &Context<'_>,
        platform: IntegrationPlatform,
    ) -> async_graphql::Result<Option<PlatformDemoData>> {
        let r = Resolve::new(ctx)?;
        r.run(demo_data(&r, platform)).await
    }
}

async fn demo_data(
    r: &Resolve<'_>,
    platform: IntegrationPlatform,
) -> Result<Option<PlatformDemoData>, ApiError> {
    authorize::<Integration>(r, Op::Read).await?;
    let mut tx = r.session.tx().await?;
    let found = integrations::demo_data(&mut tx, platform.as_db()).await?;
    Ok(found.map(|d| PlatformDemoData {
        platform,
        data: d.data,
        created_at: d.created_at,
    }))
}
