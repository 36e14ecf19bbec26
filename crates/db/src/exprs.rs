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
    /// Whether the acting member has unread messages in it: `app.unread_count(t.id, member) > 0`
    /// (migration 0008) written out, so the planner (and a distributed planner, which cannot
    /// run a per-row SQL function reading another table) sees the join on the row's own keys.
    /// `inbox::counts` spells out the same count.
    pub const HAS_UNREAD: &str = "EXISTS (SELECT 1 FROM app.messages m \
         LEFT JOIN app.conversation_reads r ON r.tenant_id = t.tenant_id \
         AND r.conversation_id = t.id AND r.user_id = app.current_user_id() \
         WHERE m.tenant_id = t.tenant_id AND m.conversation_id = t.id AND m.direction = 'inbound' \
         AND NOT coalesce(CASE WHEN m.seq IS NOT NULL THEN m.seq <= r.last_read_seq \
         ELSE m.sent_at <= r.last_read_at END, false))";

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
    ///
    /// Under the `OR` the planner runs the `EXISTS` as one hashed subquery over all matching
    /// messages, apart from any conversation, so it names the scope's tenant itself.
    pub fn search(q: &str) -> Cond {
        let pattern = search::contains_value(q);
        Cond::Raw(vec![
            RawPart::Sql("EXISTS (SELECT 1 FROM app.messages m WHERE m.tenant_id = "),
            RawPart::Tenant,
            RawPart::Sql(
                " AND m.conversation_id = t.id \
                 AND m.search @@ websearch_to_tsquery('simple', ",
            ),
            RawPart::Bind(Value::Text(q.to_owned())),
            RawPart::Sql(")) OR t.title ILIKE "),
            RawPart::Bind(pattern.clone()),
            RawPart::Sql(" OR t.client_name ILIKE "),
            RawPart::Bind(pattern),
        ])
    }
}

/// `app.assistants`.
pub mod assistants {
    /// Whether a webhook secret is stored. The ciphertext itself is never read by the API.
    pub const HAS_SERVER_URL_SECRET: &str = "(t.server_url_secret_ciphertext IS NOT NULL)";
}

/// `app.demo_requests`.
pub mod demo_requests {
    /// `assigned_to`, read as `assigned_to_id` (the API names links `…Id`).
    pub const ASSIGNED_TO: &str = "t.assigned_to";
}

/// `app.demo_request_notes`.
pub mod demo_request_notes {
    /// `added_by`, read as `added_by_id`.
    pub const ADDED_BY: &str = "t.added_by";
}

/// `app.integrations`: whether tokens are stored. The sealed tokens themselves are never read
/// by the API.
pub mod integrations {
    /// An access token is stored.
    pub const HAS_ACCESS_TOKEN: &str = "(t.access_token_ciphertext IS NOT NULL)";
    /// A refresh token is stored.
    pub const HAS_REFRESH_TOKEN: &str = "(t.refresh_token_ciphertext IS NOT NULL)";
}

/// `app.tickets`: links, related tickets and the service level (SLA) derived columns.
///
/// # Service level
///
/// A ticket's SLA window is a number of hours by its `sla_level`, taken from the tenant's
/// setting `sla.<level>.hours` in `app.tenant_settings` (key `sla.standard.hours`,
/// `sla.priority.hours`, `sla.vip.hours`; the value a JSON number of hours, fractions allowed,
/// capped at ten years; any category — the table's categories have no `sla`, so `business`
/// is the natural one). Without a usable row (missing, not a positive number) the defaults
/// apply: **standard 72 h, priority 24 h, vip 4 h**.
///
/// - `slaDueAt` = `created_at` + window.
/// - `slaBreached`: an unfinished ticket (not `resolved`/`closed`) is breached once now is
///   past its due time; a finished one iff it finished after it. It finished at creation +
///   `resolution_time` minutes (set when it is resolved, or closed without having been
///   resolved), else at `closed_at`, else at its last change (rows imported without times).
/// - `slaAtRisk`: an unfinished ticket that is not breached yet but has used 80% of its
///   window, i.e. it is due within the last 20% (14.4 h of a standard 72 h window, 48 min of
///   a 4 h vip one). A proportion rather than a fixed two hours, so it means the same for
///   every level.
///
/// "Now" is the statement's transaction time (`now()`), so every row of one read is judged
/// at the same instant. Each expression reads the tenant setting with one index probe per
/// row (`tenant_settings_tenant_id_key_key`); they are columns, so they filter and sort like
/// any other.
pub mod tickets {
    use crate::query::OrderKey;

    /// `escalated_to`, read as `escalated_to_id` (the API names links `…Id`).
    pub const ESCALATED_TO: &str = "t.escalated_to";
    /// `opened_by`, read as `opened_by_id`.
    pub const OPENED_BY: &str = "t.opened_by";

    /// Related tickets as `(tenant_id, parent, child)` for a many-to-many relation
    /// ([`crate::query::Via::Pairs`]): a stored link `a → b` relates `a` to `b` and `b` to `a`.
    pub const LINKS: &str = "SELECT tenant_id, ticket_id AS parent, related_ticket_id AS child \
         FROM app.ticket_links \
         UNION SELECT tenant_id, related_ticket_id, ticket_id FROM app.ticket_links";

    // The pieces are macros so the derived columns can be `concat!`ed into `&'static str`s.
    // A CASE guards the cast: a setting that is not a number never reaches `::numeric`.
    macro_rules! sla_hours {
        () => {
            "coalesce((SELECT CASE WHEN jsonb_typeof(s.value) <> 'number' THEN NULL \
               WHEN (s.value)::numeric <= 0 THEN NULL ELSE least((s.value)::numeric, 87600) END \
               FROM app.tenant_settings s WHERE s.tenant_id = t.tenant_id \
               AND s.key = 'sla.' || t.sla_level || '.hours'), \
             CASE t.sla_level WHEN 'vip' THEN 4 WHEN 'priority' THEN 24 ELSE 72 END)"
        };
    }
    macro_rules! finished {
        () => {
            "t.status IN ('resolved', 'closed')"
        };
    }
    macro_rules! finished_at {
        () => {
            "coalesce(t.created_at + t.resolution_time * interval '1 minute', t.closed_at, \
             t.updated_at)"
        };
    }

    /// The SLA window in hours (tenant setting or default).
    pub const SLA_HOURS: &str = sla_hours!();

    /// When the ticket is due under its SLA.
    pub const SLA_DUE_AT: &str = concat!("(t.created_at + ", sla_hours!(), " * interval '1 hour')");

    /// Past due while open, or finished after the due time.
    pub const SLA_BREACHED: &str = concat!(
        "(SELECT CASE WHEN ",
        finished!(),
        " THEN ",
        finished_at!(),
        " > t.created_at + h.v * interval '1 hour' \
           ELSE now() > t.created_at + h.v * interval '1 hour' END FROM (SELECT ",
        sla_hours!(),
        " AS v) h)"
    );

    /// Unfinished, not breached, and within the last 20% of the window.
    pub const SLA_AT_RISK: &str = concat!(
        "(SELECT NOT (",
        finished!(),
        ") AND now() <= t.created_at + h.v * interval '1 hour' \
           AND now() > t.created_at + h.v * interval '48 minutes' FROM (SELECT ",
        sla_hours!(),
        " AS v) h)"
    );

    /// Sort key: the due time (never NULL).
    pub const SLA_DUE: OrderKey = OrderKey {
        expr: SLA_DUE_AT,
        sql_type: "timestamptz",
        desc: false,
    };
}

/// `app.messages`.
pub mod messages {
    /// The commit-order number `seq`, read as `commit_sequence`.
    pub const COMMIT_SEQUENCE: &str = "t.seq";
    /// The thumbs feedback kept in `metadata` (`feedbackRating` as seed 002 spells it, and
    /// the comment, time and rater `inbox::feedback` adds), as one document; NULL when the
    /// message has no rating.
    pub const FEEDBACK: &str = "CASE WHEN jsonb_typeof(t.metadata -> 'feedbackRating') = 'string' \
         THEN jsonb_build_object('rating', t.metadata -> 'feedbackRating', \
         'comment', t.metadata -> 'feedbackComment', 'ratedAt', t.metadata -> 'feedbackAt', \
         'ratedById', t.metadata -> 'feedbackBy') END";
    /// The stored rating (`positive` / `negative`), for filters.
    pub const FEEDBACK_RATING: &str = "(t.metadata ->> 'feedbackRating')";
}

/// Members: a membership of the tenant joined with its user.
pub mod members {
    /// The rows: one per membership of the current tenant, keyed by user id.
    ///
    /// The identity row is shared by all of a person's tenants, and inviting someone makes
    /// them a (pending) member before they agreed to anything: until they accept, a pending
    /// invitee shows only their e-mail address (which the inviter typed), not the name,
    /// picture and phone another tenant may know them by.
    ///
    /// `tenant_id` is the membership's, so the read engine's tenant predicate
    /// (`t.tenant_id = $n`) reaches `memberships` like any table's.
    pub const SOURCE: &str = "(SELECT m.tenant_id, m.user_id AS id, m.user_id, \
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
             AND i.accepted_at IS NULL OFFSET 0) AS shown) v \
         WHERE m.tenant_id = app.current_tenant_id())";

    /// Invited and not accepted yet (through the partial index of open invitations).
    ///
    /// `OFFSET 0`, here and in [`SOURCE`], keeps the planner from turning this `EXISTS` in a
    /// select list into one hashed subquery over every tenant's open invitations (which it
    /// may choose when the statistics make the table look small): the hash keys would keep
    /// the answer right, but the scan would no longer name a tenant, and a distributed
    /// planner could not route it. PostgreSQL documents the clause as the way to keep an
    /// `EXISTS` as written; per row it is one probe of the partial index.
    pub const INVITATION_PENDING: &str = "EXISTS (SELECT 1 FROM app.invitations i \
         WHERE i.tenant_id = t.tenant_id AND i.user_id = t.user_id \
         AND i.accepted_at IS NULL OFFSET 0)";

    /// What effective permissions derive from, in one column so that selecting them reads
    /// both: the role, then the stored permissions. The rule itself (role defaults, all for
    /// owners and admins) stays in one place, the API's `Grants`.
    pub const GRANTS: &str = "(ARRAY[t.role] || t.permissions)";
}

/// `app.audit_log` (the trail's 0005 columns, read as the API names them; migration 0022).
pub mod audit_log {
    /// `performed_by`: the acting user.
    pub const ACTOR: &str = "t.performed_by";
    /// The acting member's role, as the trigger stored it in `metadata`.
    pub const ACTOR_ROLE: &str = "(t.metadata ->> 'actorRole')";
    /// `correlation_id`: the request's id.
    pub const REQUEST_ID: &str = "t.correlation_id";
    /// `ip_address` as text (no network type crosses to the API).
    pub const CLIENT_ADDRESS: &str = "host(t.ip_address)";
    /// The row before the change (`details.before`).
    pub const BEFORE: &str = "(t.details -> 'before')";
    /// The row after the change (`details.after`).
    pub const AFTER: &str = "(t.details -> 'after')";
    /// The changed columns (`details.changes`).
    pub const CHANGED_FIELDS: &str = "(t.details -> 'changes')";
    /// Why (`details.reason`).
    pub const REASON: &str = "(t.details ->> 'reason')";
}
