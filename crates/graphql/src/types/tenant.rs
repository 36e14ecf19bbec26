//! `Tenant`: the business the caller acts for (seeds 000 users, 001 billing, 002 clients).

use async_graphql::{ComplexObject, SimpleObject};
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use super::ai_settings::AiSettings;
use super::enums::{TenantPlan, TenantSource, TenantStatus};
use crate::session::Session;
use crate::ApiError;

/// The business account whose data the token opens.
#[derive(Debug, Clone, SimpleObject, sqlx::FromRow)]
#[graphql(complex)]
pub struct Tenant {
    /// Id.
    pub id: Uuid,
    /// URL-safe short name.
    pub slug: Option<String>,
    /// Display name.
    pub name: String,
    /// Legal company name.
    pub company: Option<String>,
    /// Contact e-mail.
    pub email: Option<String>,
    /// Contact phone.
    pub phone: Option<String>,
    /// Logo URL.
    pub logo: Option<String>,
    /// Line of business.
    pub industry: Option<String>,
    /// Language code (BCP 47).
    pub language: Option<String>,
    /// IANA time zone; days in analytics are cut in it.
    pub timezone: String,
    /// Preferred assistant voice.
    pub voice_preference: Option<super::enums::VoiceGender>,
    /// Subscription plan.
    pub plan: TenantPlan,
    /// Account lifecycle.
    pub status: TenantStatus,
    /// Subscription start.
    pub subscription_start: Option<DateTime<Utc>>,
    /// Subscription end.
    pub subscription_end: Option<DateTime<Utc>>,
    /// Whether the subscription grants access now.
    pub has_access: bool,
    /// Billing: Stripe customer id.
    pub stripe_customer_id: Option<String>,
    /// Billing: Stripe price id.
    pub stripe_price_id: Option<String>,
    /// AI behaviour.
    #[graphql(skip)]
    pub ai_settings: Json<AiSettings>,
    /// How the tenant signed up.
    pub source: Option<TenantSource>,
    /// Latest log-in of any member.
    pub last_login_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

#[ComplexObject]
impl Tenant {
    /// AI behaviour.
    async fn ai_settings(&self) -> &AiSettings {
        &self.ai_settings
    }
}

/// The caller's tenant (row-level security shows exactly one).
pub(crate) async fn current(session: &Session) -> Result<Tenant, ApiError> {
    let mut tx = session.tx().await?;
    frontdesk_db::identity::current_tenant(&mut tx)
        .await?
        .ok_or(ApiError::NotFound("tenant"))
}
