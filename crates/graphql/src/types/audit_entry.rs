//! `AuditEntry`: the tenant's audit trail (seeds 001 av_audit_logs + 003 ActivityLog), read-only.
//!
//! Entries are written by the database, never through the API: the `audit_row` trigger of
//! migration 0022 records every insert, update and delete of a tenant table with who acted
//! (user, role), the request (id, client address, user agent), the row before and after
//! (secret columns redacted) and the changed columns; sign-ins, failed sign-ins and refused
//! tokens are `AUTH` entries. The trail is for owners and admins only: it quotes every row of
//! the tenant, including those a lesser role may not read.

use chrono::{DateTime, Utc};
use frontdesk_db::query::search::contains_any;
use frontdesk_db::{col, exprs, sort, table};
use uuid::Uuid;

use super::enums::{
    AuditCategory, AuditCategoryFilter, AuditSeverity, AuditSeverityFilter, AuditStatus,
    AuditStatusFilter,
};
use crate::entity::entity;
use crate::list::filter::{DateTimeFilter, IdFilter, StringFilter};
use crate::Role;

entity! {
    /// One entry of the audit trail: a change to a row, a sign-in or a refused token.
    AuditEntry in table!(audit_log) => {
        /// What it is about: the table's name for row changes (`customers`, `bookings`, …),
        /// `users` for auth events.
        entity_type: Option<String>,
        /// The row's id, as text.
        entity_id: Option<String>,
        /// `created`, `updated`, `deleted` for row changes; `login.succeeded`,
        /// `login.failed`, `token.refused`, `customer.erased`, …
        action: String,
        /// The acting user's id (none for system work).
        actor_id: Option<Uuid> = exprs::audit_log::ACTOR,
        /// The acting member's role when they acted.
        actor_role: Option<Role> = exprs::audit_log::ACTOR_ROLE,
        /// The id of the request that acted (`extensions.requestId`, `X-Request-Id`).
        request_id: Option<String> = exprs::audit_log::REQUEST_ID,
        /// The client's network address.
        client_address: Option<String> = exprs::audit_log::CLIENT_ADDRESS,
        /// The client's `User-Agent`.
        user_agent: Option<String>,
        /// The row before the change (updates and deletes), secrets shown as `"[redacted]"`.
        before: Option<serde_json::Value> = exprs::audit_log::BEFORE,
        /// The row after the change (inserts and updates), secrets shown as `"[redacted]"`.
        after: Option<serde_json::Value> = exprs::audit_log::AFTER,
        /// The columns an update changed (an array of column names; none for other entries).
        changed_fields: Option<serde_json::Value> = exprs::audit_log::CHANGED_FIELDS,
        /// Why, when the entry says (a failed sign-in's reason, an erasure's).
        reason: Option<String> = exprs::audit_log::REASON,
        /// Anything else the writer recorded.
        metadata: serde_json::Value,
        /// How much it matters.
        severity: AuditSeverity,
        /// What it is about.
        category: Option<AuditCategory>,
        /// How it ended.
        status: AuditStatus,
        /// HIPAA-relevant.
        hipaa_relevant: bool,
        /// When it happened.
        occurred_at: DateTime<Utc>,
    }
    filter AuditEntryFilter {
        id: IdFilter [AuditEntry],
        entity_type: StringFilter,
        entity_id: StringFilter,
        actor_id: IdFilter = exprs::audit_log::ACTOR,
        action: StringFilter,
        request_id: StringFilter = exprs::audit_log::REQUEST_ID,
        severity: AuditSeverityFilter,
        category: AuditCategoryFilter,
        status: AuditStatusFilter,
        occurred_at: DateTimeFilter,
    }
    /// Text contained in the action, entity type or entity id (case-insensitive).
    search: contains_any(&[col!(action), col!(entity_type), col!(entity_id)]);
    order AuditEntryOrder, AuditEntryOrderField {
        /// When it happened.
        OccurredAt => sort!(occurred_at: timestamptz),
    }
    default_order: [OccurredAt desc];
    relations {}
    root: AuditEntryQuery { audit_entry, audit_log };
    access: { read: Admin, write: Owner, delete: Owner };
    constraints {}
    fields {}
}
