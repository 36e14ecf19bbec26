//! `Member`: a person's place in the tenant (app.memberships) with their identity (app.users),
//! as the inbox shows assignees, note authors and message senders. Keyed by the user id,
//! which is what conversations, messages and notes reference.
//!
//! The memberships policy also shows the acting user their own memberships of *other*
//! tenants (to switch tenants), so the view restricts to the current tenant explicitly.

use async_graphql::Enum;
use chrono::{DateTime, Utc};
use frontdesk_db::query::search::contains_any;
use frontdesk_db::{col, exprs, sort};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::entity::entity;
use crate::list::filter::{BooleanFilter, IdFilter, StringFilter};
use crate::Role;

/// Whether a member is available.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum MemberStatus {
    /// Available.
    Online,
    /// Signed out.
    Offline,
    /// Signed in, not taking new conversations.
    Busy,
    /// Away from the desk.
    Away,
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
    /// Stored role.
    #[graphql(skip)]
    role: String,
    /// Stored availability.
    #[graphql(skip)]
    status: String,
    /// Team or department.
    department: Option<String>,
    /// Still a member in good standing.
    is_active: bool,
    /// Fine-grained permissions (`read:conversations`, …).
    permissions: Vec<String>,
    /// Conversations handled.
    total_conversations: i32,
    /// Conversations resolved.
    resolved_conversations: i32,
    /// Average response time, minutes.
    average_response_time: Decimal,
    /// Conversations open right now.
    current_active_conversations: i32,
    /// Latest activity in the tenant.
    last_activity_at: Option<DateTime<Utc>>,
    /// Joined the tenant.
    created_at: DateTime<Utc>,
    }
    filter MemberFilter {
        user_id: IdFilter [Member],
        name: StringFilter,
        email: StringFilter,
        role: StringFilter,
        status: StringFilter,
        department: StringFilter,
        is_active: BooleanFilter,
    }
    /// Text contained in the name or e-mail (case-insensitive).
    search: contains_any(&[col!(name), col!(email)]);
    order MemberOrder, MemberOrderField {
        /// Joined the tenant.
        CreatedAt => sort!(created_at: timestamptz),
        /// E-mail address.
        Email => sort!(email: text),
    }
    default_order: [CreatedAt desc];
    relations {}
    root: MemberQuery { member, members };
    access: { read: Viewer, write: Supervisor + ManageAgents, delete: Supervisor + ManageAgents };
    constraints {}
    fields {
        /// Role in the tenant.
        async fn role(&self) -> async_graphql::Result<Role> {
            Ok(self.role.parse()?)
        }

        /// Availability.
        async fn status(&self) -> async_graphql::Result<MemberStatus> {
            match self.status.as_str() {
                "online" => Ok(MemberStatus::Online),
                "offline" => Ok(MemberStatus::Offline),
                "busy" => Ok(MemberStatus::Busy),
                "away" => Ok(MemberStatus::Away),
                other => Err(format!("unknown member status {other:?}").into()),
            }
        }
    }
}
