//! A member's own account: `updateMyProfile`, `updateMyPreferences`, `setMyStatus`,
//! `changeMyPassword`. Each returns the caller's `Member`.
//!
//! These take only membership of the tenant, any role: what `Member` declares for reading.
//! They act on the caller alone (the token's user), never on an id the request names. The
//! profile fields (name, picture, phone) live on the person's identity row, shared by every
//! tenant they belong to; department, preferences and presence are per tenant.
//!
//! `changeMyPassword` checks the current password like `login` does, counted by the same
//! limiter (a stolen access token must not become a way to guess the password), and applies
//! the policy for new passwords of [`crate::password`]. Access tokens already issued stay
//! valid until they expire: they are not sessions that could be revoked.

use async_graphql::{Context, InputObject, MaybeUndefined, Object};
use frontdesk_db::graph::members::{self, MembershipFields, ProfileFields};
use frontdesk_db::graph::{Patch, WriteError};
use frontdesk_db::identity;
use serde_json::{json, Map, Value};

use super::login::throttle;
use super::{read_back, update_nullable};
use crate::entity::{authorize, Op};
use crate::password::{self, Verified};
use crate::query::Resolve;
use crate::types::enums::{DbEnum, MemberStatus};
use crate::types::Member;
use crate::validate::{self, NAME_MAX, SHORT_TEXT_MAX};
use crate::{ApiError, Principal};

/// Longest given or family name (seed 003: `maxlength: 50`; a CHECK in migration 0002).
pub const PERSON_NAME_MAX: usize = 50;

/// Longest time zone name accepted (the IANA names are far shorter).
const TIMEZONE_MAX: usize = 64;

/// Changes to the caller's profile: a field left out keeps its value, `null` clears it.
#[derive(Debug, Clone, Default, InputObject)]
pub struct UpdateMyProfileInput {
    /// Display name.
    pub name: MaybeUndefined<String>,
    /// Given name (at most 50 characters).
    pub first_name: MaybeUndefined<String>,
    /// Family name (at most 50 characters).
    pub last_name: MaybeUndefined<String>,
    /// Picture URL (http or https).
    pub avatar: MaybeUndefined<String>,
    /// Phone number in international format (`+420 777 123 456`); stored as E.164.
    pub phone: MaybeUndefined<String>,
    /// Team or department in this tenant.
    pub department: MaybeUndefined<String>,
}

/// Changes to the caller's preferences in this tenant: a field left out (or `null`) keeps
/// its value.
#[derive(Debug, Clone, Default, InputObject)]
pub struct UpdateMyPreferencesInput {
    /// Interface language, a BCP 47 code (`es`, `en`, `pt-BR`).
    pub language: Option<String>,
    /// IANA time zone (`Europe/Prague`).
    pub timezone: Option<String>,
    /// Notification switches; those left out keep their values.
    pub notifications: Option<NotificationPreferencesInput>,
    /// Take new conversations automatically.
    pub auto_assignment: Option<bool>,
}

/// Notification switches to change.
#[derive(Debug, Clone, Copy, Default, InputObject)]
pub struct NotificationPreferencesInput {
    /// By e-mail.
    pub email: Option<bool>,
    /// By push notification.
    pub push: Option<bool>,
    /// By sound in the app.
    pub sound: Option<bool>,
}

fn bad(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::BadUserInput {
        field: field.to_owned(),
        message: message.into(),
    }
}

fn opt_text(
    field: &'static str,
    max: usize,
) -> impl Fn(String) -> Result<Option<String>, ApiError> {
    move |v| validate::optional_text(field, Some(v), max)
}

/// Blank clears; anything else must be valid for its kind.
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

/// A BCP 47 language tag of the shape the tenants' `language` CHECK accepts.
pub(crate) fn language(raw: &str) -> Result<String, ApiError> {
    let value = raw.trim();
    let mut parts = value.split('-');
    let primary = parts.next().unwrap_or_default();
    let ok = (2..=3).contains(&primary.len())
        && primary.chars().all(|c| c.is_ascii_lowercase())
        && parts
            .all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
    if !ok {
        return Err(bad(
            "input.language",
            "is not a language code; expected a BCP 47 code like es, en or pt-BR",
        ));
    }
    Ok(value.to_owned())
}

impl UpdateMyProfileInput {
    fn lower(self) -> Result<(ProfileFields, Patch<Option<String>>), ApiError> {
        let profile = ProfileFields {
            name: update_nullable(self.name, opt_text("input.name", NAME_MAX))?,
            first_name: update_nullable(
                self.first_name,
                opt_text("input.firstName", PERSON_NAME_MAX),
            )?,
            last_name: update_nullable(
                self.last_name,
                opt_text("input.lastName", PERSON_NAME_MAX),
            )?,
            avatar: update_nullable(self.avatar, blank_or("input.avatar", validate::url))?,
            phone: update_nullable(self.phone, blank_or("input.phone", validate::phone))?,
        };
        let department = update_nullable(
            self.department,
            opt_text("input.department", SHORT_TEXT_MAX),
        )?;
        Ok((profile, department))
    }
}

impl UpdateMyPreferencesInput {
    /// The top-level keys to replace and the notification switches to merge, as stored.
    fn lower(self) -> Result<(Value, Value), ApiError> {
        let mut top = Map::new();
        if let Some(l) = self.language {
            top.insert("language".into(), json!(language(&l)?));
        }
        if let Some(tz) = self.timezone {
            let tz = validate::required_text("input.timezone", &tz, TIMEZONE_MAX)?;
            top.insert("timezone".into(), json!(tz));
        }
        if let Some(a) = self.auto_assignment {
            top.insert("autoAssignment".into(), json!(a));
        }
        let mut notifications = Map::new();
        let n = self.notifications.unwrap_or_default();
        for (key, value) in [("email", n.email), ("push", n.push), ("sound", n.sound)] {
            if let Some(v) = value {
                notifications.insert(key.into(), json!(v));
            }
        }
        Ok((Value::Object(top), Value::Object(notifications)))
    }
}

/// The caller, who must be a member of the tenant.
async fn me(r: &Resolve<'_>) -> Result<Principal, ApiError> {
    authorize::<Member>(r, Op::Read).await
}

fn not_a_member(e: WriteError) -> ApiError {
    match e {
        WriteError::NotFound => ApiError::Forbidden("you are not a member of this tenant".into()),
        e => super::write_error(
            e,
            super::Target {
                what: "Member",
                field: "id",
            },
        ),
    }
}

async fn update_profile(r: &Resolve<'_>, input: UpdateMyProfileInput) -> Result<Member, ApiError> {
    let p = me(r).await?;
    let (profile, department) = input.lower()?;
    let mut tx = r.session.tx().await?;
    let fields = MembershipFields {
        department,
        ..Default::default()
    };
    // First, so a caller who is not a member changes nothing.
    members::update(&mut tx, p.user_id, &fields)
        .await
        .map_err(not_a_member)?;
    members::update_own_profile(&mut tx, &profile)
        .await
        .map_err(super::db_error)?;
    read_back(&mut tx, p.user_id).await
}

async fn update_preferences(
    r: &Resolve<'_>,
    input: UpdateMyPreferencesInput,
) -> Result<Member, ApiError> {
    let p = me(r).await?;
    let timezone = input.timezone.clone();
    let (top, notifications) = input.lower()?;
    let mut tx = r.session.tx().await?;
    if let Some(tz) = timezone {
        if !members::is_time_zone(&mut tx, tz.trim()).await? {
            return Err(bad(
                "input.timezone",
                "is not a known time zone; expected an IANA name like Europe/Prague",
            ));
        }
    }
    members::update(&mut tx, p.user_id, &MembershipFields::default())
        .await
        .map_err(not_a_member)?;
    members::merge_own_preferences(&mut tx, top, notifications).await?;
    read_back(&mut tx, p.user_id).await
}

async fn set_status(r: &Resolve<'_>, status: MemberStatus) -> Result<Member, ApiError> {
    let p = me(r).await?;
    let mut tx = r.session.tx().await?;
    let fields = MembershipFields {
        status: Patch::Set(status.as_db()),
        ..Default::default()
    };
    members::update(&mut tx, p.user_id, &fields)
        .await
        .map_err(not_a_member)?;
    read_back(&mut tx, p.user_id).await
}

async fn change_password(
    r: &Resolve<'_>,
    current: String,
    new: String,
) -> Result<Member, ApiError> {
    let p = me(r).await?;
    password::check_length("currentPassword", &current)?;
    password::check_new("newPassword", &new)?;
    let credentials = {
        let mut tx = r.session.tx().await?;
        members::own_credentials(&mut tx).await?
    };
    let (email, stored) = credentials.ok_or_else(|| not_a_member(WriteError::NotFound))?;
    throttle(r.session.db(), &email, r.req).await?;
    let Verified::Yes { .. } = password::verify(stored.clone(), current).await? else {
        return Err(bad("currentPassword", "is incorrect"));
    };
    let Some(old) = stored else {
        return Err(bad("currentPassword", "is incorrect"));
    };
    identity::login_succeeded(r.session.db(), &email).await?;
    let new = password::hash(new).await?;
    let mut tx = r.session.tx().await?;
    if !members::replace_own_password(&mut tx, &old, &new).await? {
        return Err(ApiError::Conflict(
            "the password was changed by another request meanwhile; try again".into(),
        ));
    }
    read_back(&mut tx, p.user_id).await
}

/// The caller's own account.
#[derive(Debug, Default)]
pub struct ProfileMutation;

#[Object]
impl ProfileMutation {
    /// Changes the caller's profile: name, given and family name (at most 50 characters
    /// each), picture and phone (shared by all their tenants) and department (this tenant).
    /// Any member.
    async fn update_my_profile(
        &self,
        ctx: &Context<'_>,
        input: UpdateMyProfileInput,
    ) -> async_graphql::Result<Member> {
        let r = Resolve::new(ctx)?;
        r.run(update_profile(&r, input)).await
    }

    /// Changes the caller's preferences in this tenant; what is left out keeps its value.
    /// Any member.
    async fn update_my_preferences(
        &self,
        ctx: &Context<'_>,
        input: UpdateMyPreferencesInput,
    ) -> async_graphql::Result<Member> {
        let r = Resolve::new(ctx)?;
        r.run(update_preferences(&r, input)).await
    }

    /// Sets the caller's availability (and their latest activity to now). Any member.
    async fn set_my_status(
        &self,
        ctx: &Context<'_>,
        status: MemberStatus,
    ) -> async_graphql::Result<Member> {
        let r = Resolve::new(ctx)?;
        r.run(set_status(&r, status)).await
    }

    /// Changes the caller's password. `currentPassword` must be right (attempts count
    /// against the same limits as `login`); `newPassword` needs at least 8 characters. Any
    /// member.
    async fn change_my_password(
        &self,
        ctx: &Context<'_>,
        current_password: String,
        new_password: String,
    ) -> async_graphql::Result<Member> {
        let r = Resolve::new(ctx)?;
        r.run(change_password(&r, current_password, new_password))
            .await
    }
}
