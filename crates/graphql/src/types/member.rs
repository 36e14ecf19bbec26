//! `Member`: a person's place in the tenant (app.memberships) with their identity (app.users),
//! as the team screen lists it and the inbox shows assignees, note authors and message
//! senders. Keyed by the user id, which is what conversations, messages and notes reference.
//!
//! The memberships policy also shows the acting user their own memberships of *other*
//! tenants (to switch tenants), so the view restricts to the current tenant explicitly. A
//! pending invitee shows only their e-mail address until they accept (name, picture and
//! phone are null): inviting someone must not reveal what other tenants know of them.
//!
//! Preferences are stored sparsely (seed 003's defaults are one deployment's choices, see
//! migration 0002) and completed with those defaults on read, so the API always answers every
//! preference.

use async_graphql::SimpleObject;
use chrono::{DateTime, Utc};
use frontdesk_db::query::search::contains_any;
use frontdesk_db::{col, exprs, sort};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use uuid::Uuid;

use super::enums::{MemberStatus, MemberStatusFilter, Permission, RoleFilter};
use crate::entity::{entity, Grants};
use crate::list::filter::{BooleanFilter, DateTimeFilter, IdFilter, StringFilter};
use crate::Role;

/// Seed 003's defaults, applied on read to what a member has not set.
pub mod defaults {
    /// Interface language.
    pub const LANGUAGE: &str = "es";
    /// Time zone.
    pub const TIMEZONE: &str = "America/Mexico_City";
    /// Every notification channel is on.
    pub const NOTIFY: bool = true;
    /// New conversations are assigned automatically.
    pub const AUTO_ASSIGNMENT: bool = true;
}

/// `memberships.preferences` as stored: any key may be absent.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredPreferences {
    /// Interface language.
    pub language: Option<String>,
    /// IANA time zone.
    pub timezone: Option<String>,
    /// Per-channel switches.
    #[serde(default)]
    pub notifications: StoredNotifications,
    /// Take new conversations automatically.
    pub auto_assignment: Option<bool>,
}

/// Stored notification switches.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct StoredNotifications {
    /// By e-mail.
    pub email: Option<bool>,
    /// By push notification.
    pub push: Option<bool>,
    /// By sound in the app.
    pub sound: Option<bool>,
}

/// A member's preferences in this tenant; what they have not set is seed 003's default
/// (`es`, `America/Mexico_City`, all notifications on, auto-assignment on).
#[derive(Debug, Clone, SimpleObject)]
pub struct MemberPreferences {
    /// Interface language (BCP 47 code).
    pub language: String,
    /// IANA time zone.
    pub timezone: String,
    /// Which notifications they get.
    pub notifications: NotificationPreferences,
    /// Whether new conversations are assigned to them automatically.
    pub auto_assignment: bool,
}

/// Which notifications a member gets.
#[derive(Debug, Clone, Copy, SimpleObject)]
pub struct NotificationPreferences {
    /// By e-mail.
    pub email: bool,
    /// By push notification.
    pub push: bool,
    /// By sound in the app.
    pub sound: bool,
}

impl From<&StoredPreferences> for MemberPreferences {
    fn from(p: &StoredPreferences) -> Self {
        let n = p.notifications;
        Self {
            language: p
                .language
                .clone()
                .unwrap_or_else(|| defaults::LANGUAGE.into()),
            timezone: p
                .timezone
                .clone()
                .unwrap_or_else(|| defaults::TIMEZONE.into()),
            notifications: NotificationPreferences {
                email: n.email.unwrap_or(defaults::NOTIFY),
                push: n.push.unwrap_or(defaults::NOTIFY),
                sound: n.sound.unwrap_or(defaults::NOTIFY),
            },
            auto_assignment: p.auto_assignment.unwrap_or(defaults::AUTO_ASSIGNMENT),
        }
    }
}

entity! {
    /// A member of the tenant's team.
    Member in exprs::members::SOURCE => {
    /// The user's id (what assignments and authorship reference).
    user_id: Uuid,
    /// Display name.
    name: Option<String>,
    /// E-mail address.
    email: String,
    /// Given name.
    first_name: Option<String>,
    /// Family name.
    last_name: Option<String>,
    /// Picture URL.
    avatar: Option<String>,
    /// Phone number.
    phone: Option<String>,
    /// Role in the tenant.
    role: Role,
    /// Availability.
    status: MemberStatus,
    /// Team or department.
    department: Option<String>,
    /// Active: may sign in to the tenant. Deactivated members and invitees who have not
    /// accepted yet are not.
    is_active: bool,
    /// Invited and not accepted yet (then `isActive` is false).
    invitation_pending: bool = exprs::members::INVITATION_PENDING,
    /// The permissions stored on the membership; empty means the role's defaults (see
    /// `effectivePermissions`).
    permissions: Vec<Permission>,
    /// The role, then the stored permissions (served as `effectivePermissions`).
    #[graphql(skip)]
    effective_permissions: Vec<String> = exprs::members::GRANTS,
    /// Stored preferences (served completed with defaults as `preferences`).
    #[graphql(skip)]
    preferences: Json<StoredPreferences>,
    /// Conversations handled.
    total_conversations: i32,
    /// Conversations resolved.
    resolved_conversations: i32,
    /// Average response time, minutes.
    average_response_time: Decimal,
    /// Conversations open right now.
    current_active_conversations: i32,
    /// Latest sign-in to this tenant.
    last_login_at: Option<DateTime<Utc>>,
    /// Latest activity in the tenant.
    last_activity_at: Option<DateTime<Utc>>,
    /// Joined the tenant (or was invited).
    created_at: DateTime<Utc>,
    }
    filter MemberFilter {
        user_id: IdFilter [Member],
        name: StringFilter,
        email: StringFilter,
        role: RoleFilter,
        status: MemberStatusFilter,
        department: StringFilter,
        is_active: BooleanFilter,
        last_login_at: DateTimeFilter,
    }
    /// Text contained in the name or e-mail (case-insensitive).
    search: contains_any(&[col!(name), col!(email)]);
    order MemberOrder, MemberOrderField {
        /// Joined the tenant.
        CreatedAt => sort!(created_at: timestamptz),
        /// E-mail address.
        Email => sort!(email: text),
        /// Latest sign-in (never signed in first when ascending).
        LastLoginAt => sort!(last_login_at: timestamptz, nulls_first),
    }
    default_order: [CreatedAt desc];
    relations {}
    root: MemberQuery { member, members };
    access: { read: Viewer, write: Supervisor + ManageAgents, delete: Supervisor + ManageAgents };
    constraints {
        "memberships_tenant_id_user_id_key" => "email":
            Conflict("this person is already a member of the tenant"),
    }
    fields {
        /// Preferences, with seed 003's defaults for what the member has not set.
        async fn preferences(&self) -> MemberPreferences {
            MemberPreferences::from(&self.preferences.0)
        }

        /// What the member may do: every permission for owners and admins, otherwise the
        /// stored list, or the role's defaults when the list is empty.
        async fn effective_permissions(&self) -> async_graphql::Result<Vec<Permission>> {
            let (role, stored) = self
                .effective_permissions
                .split_first()
                .ok_or("the member's role was not read")?;
            Ok(Grants::new(role.parse::<Role>()?, stored).permissions)
        }
    }
}
