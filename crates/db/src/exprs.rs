//! Read expressions that are more than a column: derived columns, computed sort keys, and the
//! conditions of filters that no column operator expresses.
//!
//! Entities name these in their declarations (`resolution_time = conversations::RESOLUTION_TIME`);
//! keeping them here keeps every piece of read SQL in this crate, next to the engine that
//! renders it. Each is static SQL over the row alias `t`; values are always bound.

use crate::query::{search, Cond, OrderKey, RawPart, Value};

/// Urgency rank of a `priority` column (conversations, tickets): low < medium < high < urgent.
pub const PRIORITY_RANK: OrderKey = OrderKey {
    expr: "CASE t.priority WHEN 'urgent' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END",
    sql_type: "integer",
    desc: false,
};

/// `app.conversations`.
pub mod conversations {
    use super::*;

    /// `assigned_by`, read as `assigned_by_id` (the API names links `…Id`).
    pub const ASSIGNED_BY: &str = "t.assigned_by";
    /// `resolved_by`, read as `resolved_by_id`.
    pub const RESOLVED_BY: &str = "t.resolved_by";
    /// The stored `last_message` preview document.
    pub const LAST_MESSAGE: &str = "t.last_message";
    /// Minutes from creation to resolution.
    pub const RESOLUTION_TIME: &str =
        "round(extract(epoch FROM t.resolved_at - t.created_at) / 60, 2)";
    /// Whether the acting member has unread messages in it.
    pub const HAS_UNREAD: &str = "(app.unread_count(t.id, app.current_user_id()) > 0)";

    /// Latest activity: the last message, or creation for a conversation without messages.
    pub const LAST_ACTIVITY: OrderKey = OrderKey {
        expr: "coalesce(t.last_message_at, t.created_at)",
        sql_type: "timestamptz",
        desc: false,
    };

    /// Assigned to the acting member.
    pub fn assigned_to_me() -> Cond {
        Cond::Raw(vec![RawPart::Sql(
            "t.assigned_agent_id = app.current_user_id()",
        )])
    }

    /// Conversations whose messages match `q` in full text (`app.messages.search`,
    /// GIN-indexed), or whose title or contact name contains it. Message text is where the
    /// words are; the title and name are short, so a substring match finds partial names
    /// ("ann" in "Anna") too.
    pub fn search(q: &str) -> Cond {
        let pattern = search::contains_value(q);
        Cond::Raw(vec![
            RawPart::Sql(
                "EXISTS (SELECT 1 FROM app.messages m WHERE m.tenant_id = t.tenant_id \
                 AND m.conversation_id = t.id AND m.search @@ websearch_to_tsquery('simple', ",
            ),
            RawPart::Bind(Value::Text(q.to_owned())),
            RawPart::Sql(")) OR t.title ILIKE "),
            RawPart::Bind(pattern.clone()),
            RawPart::Sql(" OR t.client_name ILIKE "),
            RawPart::Bind(pattern),
        ])
    }
}

/// `app.tickets`.
pub mod tickets {
    /// `escalated_to`, read as `escalated_to_id` (the API names links `…Id`).
    pub const ESCALATED_TO: &str = "t.escalated_to";
}

/// `app.messages`.
pub mod messages {
    /// The commit-order number `seq`, read as `commit_sequence`.
    pub const COMMIT_SEQUENCE: &str = "t.seq";
}

/// Members: a membership of the tenant joined with its user.
pub mod members {
    /// The rows: one per membership of the current tenant, keyed by user id.
    ///
    /// The identity row is shared by all of a person's tenants, and inviting someone makes
    /// them a (pending) member before they agreed to anything: until they accept, a pending
    /// invitee shows only their e-mail address (which the inviter typed), not the name,
    /// picture and phone another tenant may know them by.
    pub const SOURCE: &str = "(SELECT m.user_id AS id, m.user_id, \
         CASE WHEN v.shown THEN u.name END AS name, u.email, \
         CASE WHEN v.shown THEN u.first_name END AS first_name, \
         CASE WHEN v.shown THEN u.last_name END AS last_name, \
         CASE WHEN v.shown THEN u.avatar END AS avatar, \
         CASE WHEN v.shown THEN u.phone END AS phone, \
         m.role, m.status, m.department, m.is_active, m.permissions, m.preferences, \
         m.total_conversations, m.resolved_conversations, m.average_response_time, \
         m.current_active_conversations, m.last_login_at, m.last_activity_at, m.created_at \
         FROM app.memberships m JOIN app.users u ON u.id = m.user_id \
         CROSS JOIN LATERAL (SELECT m.is_active OR NOT EXISTS (SELECT 1 FROM app.invitations i \
             WHERE i.tenant_id = m.tenant_id AND i.user_id = m.user_id \
             AND i.accepted_at IS NULL) AS shown) v \
         WHERE m.tenant_id = app.current_tenant_id())";

    /// Invited and not accepted yet (through the partial index of open invitations).
    pub const INVITATION_PENDING: &str = "EXISTS (SELECT 1 FROM app.invitations i \
         WHERE i.tenant_id = app.current_tenant_id() AND i.user_id = t.user_id \
         AND i.accepted_at IS NULL)";

    /// What effective permissions derive from, in one column so that selecting them reads
    /// both: the role, then the stored permissions. The rule itself (role defaults, all for
    /// owners and admins) stays in one place, the API's `Grants`.
    pub const GRANTS: &str = "(ARRAY[t.role] || t.permissions)";
}
