//! `updateTenant`: the acting tenant's profile, AI settings and subscription.
//!
//! Who may: admins and owners change the profile and the AI settings; the `subscription`
//! section (plan, status, subscription dates) is the owner's alone — the account's commercial
//! terms — and an admin who sends any of it is refused with `FORBIDDEN` naming the first such
//! field (`input.subscription.plan`), before anything is validated or written.
//!
//! The AI settings are merged key by key: a field left out keeps its value, `null` removes
//! it. Working hours are one typed week, replaced whole: each day is open (`open` and `close`
//! as `HH:MM`, close after open, on the same day) or `closed: true`; a day left out is closed.
//! Stored as `{"open": "09:00", "close": "18:00"}` / `{"closed": true}` per weekday (see
//! `types/ai_settings.rs`, which also reads the seeds' older spellings).

use async_graphql::{Context, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, Utc};
use frontdesk_db::graph::members;
use frontdesk_db::graph::tenants::{self, AiSettingsPatch, TenantFields};
use frontdesk_db::graph::{Patch, WriteError};
use serde_json::{json, Map, Value};

use super::inputs::bad;
use super::profile::language;
use super::{db_error, update_nullable, update_required};
use crate::entity::check;
use crate::entity::{Op, Rule};
use crate::query::Resolve;
use crate::types::ai_settings::WEEKDAYS;
use crate::types::enums::{AiTone, DbEnum, TenantPlan, TenantStatus, VoiceGender};
use crate::types::{current_tenant, Tenant};
use crate::validate::{self, NAME_MAX, SHORT_TEXT_MAX};
use crate::{ApiError, Role};

/// Longest call the column's CHECK allows: a day, in seconds.
pub const MAX_CALL_DURATION_MAX: i32 = 86_400;

/// Longest time zone name accepted (the IANA names are far shorter).
const TIMEZONE_MAX: usize = 64;

/// Changes to the tenant: a field left out keeps its value, `null` clears a nullable field.
#[derive(Debug, Clone, Default, InputObject)]
pub struct UpdateTenantInput {
    /// Display name (cannot be cleared).
    pub name: MaybeUndefined<String>,
    /// Legal company name.
    pub company: MaybeUndefined<String>,
    /// Line of business.
    pub industry: MaybeUndefined<String>,
    /// Language, a BCP 47 code (`cs`, `en`, `pt-BR`).
    pub language: MaybeUndefined<String>,
    /// Preferred assistant voice.
    pub voice_preference: MaybeUndefined<VoiceGender>,
    /// Contact e-mail.
    pub email: MaybeUndefined<String>,
    /// Contact phone in international format; stored as E.164.
    pub phone: MaybeUndefined<String>,
    /// Logo URL (http or https).
    pub logo: MaybeUndefined<String>,
    /// IANA time zone (`Europe/Prague`; cannot be cleared).
    pub timezone: MaybeUndefined<String>,
    /// AI settings to change, key by key.
    pub ai_settings: Option<AiSettingsInput>,
    /// The subscription: owners only.
    pub subscription: Option<TenantSubscriptionInput>,
}

/// Changes to the AI settings: a field left out keeps its value, `null` removes it.
#[derive(Debug, Clone, Default, InputObject)]
pub struct AiSettingsInput {
    /// The assistant's tone.
    pub tone: MaybeUndefined<AiTone>,
    /// Whether the assistant answers automatically.
    pub auto_reply: MaybeUndefined<bool>,
    /// The whole week's opening hours (replaces the stored week).
    pub working_hours: MaybeUndefined<WorkingHoursInput>,
    /// Longest call in seconds, 1 to 86,400.
    pub max_call_duration: MaybeUndefined<i32>,
    /// Most messages the assistant sends per day, 0 or more.
    pub daily_message_limit: MaybeUndefined<i32>,
}

/// A week of opening hours; a day left out (or null) is closed.
#[derive(Debug, Clone, Default, InputObject)]
pub struct WorkingHoursInput {
    /// Monday.
    pub monday: Option<WorkingDayInput>,
    /// Tuesday.
    pub tuesday: Option<WorkingDayInput>,
    /// Wednesday.
    pub wednesday: Option<WorkingDayInput>,
    /// Thursday.
    pub thursday: Option<WorkingDayInput>,
    /// Friday.
    pub friday: Option<WorkingDayInput>,
    /// Saturday.
    pub saturday: Option<WorkingDayInput>,
    /// Sunday.
    pub sunday: Option<WorkingDayInput>,
}

/// One day: `open` and `close` (`HH:MM`, 24-hour clock, close after open), or `closed: true`
/// without times.
#[derive(Debug, Clone, Default, InputObject)]
pub struct WorkingDayInput {
    /// Opening time, `HH:MM`.
    pub open: Option<String>,
    /// Closing time, `HH:MM`, after `open`.
    pub close: Option<String>,
    /// Closed all day.
    #[graphql(default)]
    pub closed: bool,
}

/// The subscription's terms (owners only): a field left out keeps its value, `null` clears a
/// date.
#[derive(Debug, Clone, Default, InputObject)]
pub struct TenantSubscriptionInput {
    /// Plan (cannot be cleared).
    pub plan: MaybeUndefined<TenantPlan>,
    /// Account status (cannot be cleared).
    pub status: MaybeUndefined<TenantStatus>,
    /// Start of the subscription.
    pub subscription_start: MaybeUndefined<DateTime<Utc>>,
    /// End of the subscription, not before its start.
    pub subscription_end: MaybeUndefined<DateTime<Utc>>,
}

impl TenantSubscriptionInput {
    /// The first field given, as a path, if any.
    fn first_given(&self) -> Option<&'static str> {
        [
            (self.plan.is_undefined(), "input.subscription.plan"),
            (self.status.is_undefined(), "input.subscription.status"),
            (
                self.subscription_start.is_undefined(),
                "input.subscription.subscriptionStart",
            ),
            (
                self.subscription_end.is_undefined(),
                "input.subscription.subscriptionEnd",
            ),
        ]
        .into_iter()
        .find_map(|(absent, field)| (!absent).then_some(field))
    }
}

// ------------------------------------------------------------------------------------------------
// Validation
// ------------------------------------------------------------------------------------------------

fn opt_text(
    field: &'static str,
    max: usize,
) -> impl Fn(String) -> Result<Option<String>, ApiError> {
    move |v| validate::optional_text(field, Some(v), max)
}

/// Blank clears; anything else must pass `check`.
fn blank_or(
    field: &'static str,
    check: fn(&str, &str) -> Result<String, ApiError>,
) -> impl Fn(String) -> Result<Option<String>, ApiError> {
    move |v| {
        if v.trim().is_empty() {
            Ok(None)
        } else {
            check(field, &v).map(Some)
        }
    }
}

/// One day as stored, checked.
fn working_day(field: &str, day: Option<WorkingDayInput>) -> Result<Value, ApiError> {
    let Some(day) = day else {
        return Ok(json!({ "closed": true }));
    };
    if day.closed {
        if let Some(which) = [("open", &day.open), ("close", &day.close)]
            .into_iter()
            .find_map(|(name, v)| v.is_some().then_some(name))
        {
            return Err(bad(
                &format!("{field}.{which}"),
                "a closed day has no opening hours; leave out open and close",
            ));
        }
        return Ok(json!({ "closed": true }));
    }
    let time = |name: &str, v: Option<String>| {
        let path = format!("{field}.{name}");
        let v = v.ok_or_else(|| bad(&path, "is required unless the day is closed: true"))?;
        validate::time_of_day(&path, &v)
    };
    let open = time("open", day.open)?;
    let close = time("close", day.close)?;
    // `HH:MM` strings compare like the times they spell.
    if close <= open {
        return Err(bad(
            &format!("{field}.close"),
            format!("must be after the opening time {open} (hours end on the day they start)"),
        ));
    }
    Ok(json!({ "open": open, "close": close }))
}

fn working_hours(w: WorkingHoursInput) -> Result<Value, ApiError> {
    let days = [
        w.monday,
        w.tuesday,
        w.wednesday,
        w.thursday,
        w.friday,
        w.saturday,
        w.sunday,
    ];
    let mut week = Map::new();
    for (name, day) in WEEKDAYS.into_iter().zip(days) {
        let field = format!("input.aiSettings.workingHours.{name}");
        week.insert(name.to_owned(), working_day(&field, day)?);
    }
    Ok(Value::Object(week))
}

impl AiSettingsInput {
    fn lower(self) -> Result<AiSettingsPatch, ApiError> {
        let mut patch = AiSettingsPatch::default();
        let mut put = |key: &str, v: MaybeUndefined<Value>| match v {
            MaybeUndefined::Undefined => {}
            MaybeUndefined::Null => patch.remove.push(key.to_owned()),
            MaybeUndefined::Value(v) => {
                patch.set.insert(key.to_owned(), v);
            }
        };
        put("tone", self.tone.map_value(|t| json!(t.as_db())));
        put("autoReply", self.auto_reply.map_value(|b| json!(b)));
        put(
            "workingHours",
            transpose(self.working_hours.map_value(working_hours))?,
        );
        put(
            "maxCallDuration",
            transpose(self.max_call_duration.map_value(|v| {
                if !(1..=MAX_CALL_DURATION_MAX).contains(&v) {
                    return Err(bad(
                        "input.aiSettings.maxCallDuration",
                        format!("must be between 1 and {MAX_CALL_DURATION_MAX} seconds"),
                    ));
                }
                Ok(json!(v))
            }))?,
        );
        put(
            "dailyMessageLimit",
            transpose(self.daily_message_limit.map_value(|v| {
                validate::non_negative_int("input.aiSettings.dailyMessageLimit", v)
                    .map(|v| json!(v))
            }))?,
        );
        Ok(patch)
    }
}

fn transpose<T>(v: MaybeUndefined<Result<T, ApiError>>) -> Result<MaybeUndefined<T>, ApiError> {
    Ok(match v {
        MaybeUndefined::Undefined => MaybeUndefined::Undefined,
        MaybeUndefined::Null => MaybeUndefined::Null,
        MaybeUndefined::Value(v) => MaybeUndefined::Value(v?),
    })
}

impl UpdateTenantInput {
    fn lower(self) -> Result<TenantFields, ApiError> {
        let sub = self.subscription.unwrap_or_default();
        let start = sub.subscription_start.as_opt_ref().flatten().copied();
        let end = sub.subscription_end.as_opt_ref().flatten().copied();
        if let (Some(start), Some(end)) = (start, end) {
            if end < start {
                return Err(bad(
                    "input.subscription.subscriptionEnd",
                    "must not be before subscriptionStart",
                ));
            }
        }
        Ok(TenantFields {
            name: update_required("input.name", self.name, |v| {
                validate::required_text("input.name", &v, NAME_MAX)
            })?,
            company: update_nullable(self.company, opt_text("input.company", NAME_MAX))?,
            industry: update_nullable(self.industry, opt_text("input.industry", SHORT_TEXT_MAX))?,
            language: update_nullable(self.language, |v| {
                if v.trim().is_empty() {
                    Ok(None)
                } else {
                    language(&v).map(Some)
                }
            })?,
            voice_preference: update_nullable(self.voice_preference, |v| Ok(Some(v.as_db())))?,
            email: update_nullable(self.email, blank_or("input.email", validate::email))?,
            phone: update_nullable(self.phone, blank_or("input.phone", validate::phone))?,
            logo: update_nullable(self.logo, blank_or("input.logo", validate::url))?,
            timezone: update_required("input.timezone", self.timezone, |v| {
                validate::required_text("input.timezone", &v, TIMEZONE_MAX)
            })?,
            plan: update_required("input.subscription.plan", sub.plan, |v| Ok(v.as_db()))?,
            status: update_required("input.subscription.status", sub.status, |v| Ok(v.as_db()))?,
            subscription_start: update_nullable(sub.subscription_start, |v| Ok(Some(v)))?,
            subscription_end: update_nullable(sub.subscription_end, |v| Ok(Some(v)))?,
            ai_settings: self
                .ai_settings
                .map(AiSettingsInput::lower)
                .transpose()?
                .unwrap_or_default(),
        })
    }
}

// ------------------------------------------------------------------------------------------------
// Resolver
// ------------------------------------------------------------------------------------------------

/// What changing the tenant's profile takes.
const PROFILE: Rule = Rule {
    role: Role::Admin,
    permission: None,
};

async fn update(r: &Resolve<'_>, input: UpdateTenantInput) -> Result<Tenant, ApiError> {
    let grants = r.grants().await?;
    check(&grants, PROFILE, Op::Write, "Tenant")?;
    if let Some(field) = input.subscription.as_ref().and_then(|s| s.first_given()) {
        if grants.role != Role::Owner {
            return Err(ApiError::ForbiddenAt {
                field: field.to_owned(),
                message: "only the owner changes the plan, status and subscription dates".into(),
            });
        }
    }
    let fields = input.lower()?;
    {
        let mut tx = r.session.tx().await?;
        if let Patch::Set(zone) = &fields.timezone {
            if !members::is_time_zone(&mut tx, zone).await? {
                return Err(bad(
                    "input.timezone",
                    "is not a known time zone; expected an IANA name like Europe/Prague",
                ));
            }
        }
        tenants::update(&mut tx, &fields)
            .await
            .map_err(|e| match e {
                WriteError::Db(e)
                    if e.constraint() == Some("tenants_subscription_period_check") =>
                {
                    bad(
                        "input.subscription.subscriptionEnd",
                        "must not be before the subscription's start",
                    )
                }
                WriteError::Db(e) => db_error(e),
                WriteError::NotFound => ApiError::NotFound("tenant"),
                other => ApiError::Internal(other.to_string().into()),
            })?;
    }
    current_tenant(r.session).await
}

/// Tenant mutations.
#[derive(Debug, Default)]
pub struct TenantMutation;

#[Object]
impl TenantMutation {
    /// Changes the caller's tenant: profile and AI settings (admins and owners) and the
    /// `subscription` section (owners only: `FORBIDDEN` naming the field for anyone else).
    /// Fields left out keep their values; `null` clears a nullable one or removes an AI
    /// setting. Returns the tenant as changed.
    async fn update_tenant(
        &self,
        ctx: &Context<'_>,
        input: UpdateTenantInput,
    ) -> async_graphql::Result<Tenant> {
        let r = Resolve::new(ctx)?;
        r.run(update(&r, input)).await
    }
}
