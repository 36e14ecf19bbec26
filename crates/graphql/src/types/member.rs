//! `Member`: a person's place in the tenant (app.memberships) with their identity (app.users),
//! as the inbox shows assignees, note authors and message senders. Keyed by the user id,
//! which is what conversations, messages and notes reference.
//!
//! The memberships policy also shows the acting user their own memberships of *other*
//! tenants (to switch tenants), so the view restricts to the current tenant explicitly.

use async_graphql::{ComplexObject, Enum, SelectionField, SimpleObject};
use chrono::{DateTime, Utc};
use frontdesk_db::query::Table;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::list::filter::{entity_filter, BooleanFilter, StringFilter, UuidFilter};
use crate::list::order::entity_order;
use crate::list::Node;
use crate::prefetch;
use crate::query::Resolve;
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

/// A member of the tenant's team.
// `sqlx(default)`: lists read only the columns a query selects (plus ids and links).
#[derive(Debug, Clone, Default, SimpleObject, sqlx::FromRow)]
#[sqlx(default)]
#[graphql(complex)]
pub struct Member {
    /// The same as `userId` (the key the engine reads members by).
    #[graphql(skip)]
    pub id: Uuid,
    /// The user's id (what assignments and authorship reference).
    pub user_id: Uuid,
    /// Display name.
    pub name: Option<String>,
    /// E-mail address.
    pub email: String,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Picture URL.
    pub avatar: Option<String>,
    /// Stored role.
    #[graphql(skip)]
    pub role: String,
    /// Stored availability.
    #[graphql(skip)]
    pub status: String,
    /// Team or department.
    pub department: Option<String>,
    /// Still a member in good standing.
    pub is_active: bool,
    /// Fine-grained permissions (`read:conversations`, …).
    pub permissions: Vec<String>,
    /// Conversations handled.
    pub total_conversations: i32,
    /// Conversations resolved.
    pub resolved_conversations: i32,
    /// Average response time, minutes.
    pub average_response_time: Decimal,
    /// Conversations open right now.
    pub current_active_conversations: i32,
    /// Latest activity in the tenant.
    pub last_activity_at: Option<DateTime<Utc>>,
    /// Joined the tenant.
    pub created_at: DateTime<Utc>,
}

pub(crate) static MEMBERS: Table = Table {
    name: "(SELECT m.user_id AS id, m.user_id, u.name, u.email, u.first_name, u.last_name, \
           u.avatar, m.role, m.status, m.department, m.is_active, m.permissions, \
           m.total_conversations, m.resolved_conversations, m.average_response_time, \
           m.current_active_conversations, m.last_activity_at, m.created_at \
           FROM app.memberships m JOIN app.users u ON u.id = m.user_id \
           WHERE m.tenant_id = app.current_tenant_id())",
    columns: "t.id, t.user_id, t.name, t.email, t.first_name, t.last_name, t.avatar, t.role, \
              t.status, t.department, t.is_active, t.permissions, t.total_conversations, \
              t.resolved_conversations, t.average_response_time, \
              t.current_active_conversations, t.last_activity_at, t.created_at",
};

entity_filter! {
    /// Which members; fields combine with AND.
    MemberFilter {
        user_id: UuidFilter => "t.user_id",
        name: StringFilter => "t.name",
        email: StringFilter => "t.email",
        role: StringFilter => "t.role",
        status: StringFilter => "t.status",
        department: StringFilter => "t.department",
        is_active: BooleanFilter => "t.is_active",
    }
    /// Text contained in the name or e-mail (case-insensitive).
    search => |q: &str| {
        let pattern = crate::list::filter::contains_pattern(q.trim());
        frontdesk_db::query::Cond::Or(vec![
            frontdesk_db::query::Cond::Like { col: "t.name", pattern: pattern.clone(), insensitive: true },
            frontdesk_db::query::Cond::Like { col: "t.email", pattern, insensitive: true },
        ])
    }
}

entity_order! {
    /// A member sort key.
    MemberOrder, MemberOrderField {
        /// Joined the tenant.
        CreatedAt => ("t.created_at", "timestamptz"),
        /// E-mail address.
        Email => ("t.email", "text"),
    }
}

impl Node for Member {
    const NAME: &'static str = "Member";
    const TABLE: &'static Table = &MEMBERS;
    type Filter = MemberFilter;
    type Order = MemberOrder;
    fn id(&self) -> Uuid {
        self.id
    }

    fn prefetch<'a>(
        _: &'a Resolve<'a>,
        _: SelectionField<'a>,
        _: String,
        _: &[&Self],
    ) -> Option<prefetch::Task<'a>> {
        None
    }
}

#[ComplexObject]
impl Member {
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
