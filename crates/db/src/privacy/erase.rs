//! The erasure: a person's footprint (see the parent module) deleted or anonymised in the
//! caller's transaction, then the audit entries about it, then one audit entry of the erasure
//! itself that holds no personal data.
//!
//! - [`ErasureMode::Delete`] deletes every row of the footprint (children with their parents,
//!   the customer last). Rows of other customers that pointed at a deleted row keep existing
//!   with the link cleared (the foreign keys' `SET NULL`), and the counters of customers whose
//!   rows went are recomputed.
//! - [`ErasureMode::Anonymize`] keeps every row, link and count, and what analytics reads —
//!   statuses, channels, categories, timestamps, durations, amounts, costs, ratings, sentiment
//!   — and blanks the rest: names, phone numbers, e-mail and postal addresses, message and SMS
//!   bodies, notes, transcripts, summaries, recording URLs, subjects and descriptions, tags,
//!   and free-form JSON (custom fields, metadata, entities, attachments, templates). Columns
//!   that may not be NULL get `[erased]` (phone numbers and thread ids, which must stay unique,
//!   `[erased:<row id>]`); documents keep only their analytic keys (`app.jsonb_keep`, 0019).
//!   The full-text `search` columns are generated, so they are recomputed from the blanks.
//!
//! Audit entries record before/after documents, so they still hold what was erased; the
//! runtime role may not change them, and `app.erase_audit_entries` (0019) deletes those about
//! the footprint's rows in the current tenant. It runs after the rows' own changes, because the
//! audit triggers record those changes (and cascades) in entries of their own in the same
//! transaction. Last, one entry records the erasure: the customer id, the mode and the counts.

use serde_json::json;
use uuid::Uuid;

use super::{footprint, Footprint, TABLES};
use crate::graph::counters;
use crate::{DbError, TenantTx};

/// How a person's rows are erased.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErasureMode {
    /// Delete the rows.
    Delete,
    /// Keep the rows and what analytics needs; blank everything personal.
    Anonymize,
}

impl ErasureMode {
    /// The spelling stored in the erasure's audit entry.
    pub fn as_str(self) -> &'static str {
        match self {
            ErasureMode::Delete => "delete",
            ErasureMode::Anonymize => "anonymize",
        }
    }
}

/// What an erasure did: rows erased per table of the footprint, in [`TABLES`] order, and the
/// audit entries removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erased {
    /// `(table, rows)` for every table of [`TABLES`].
    pub rows: Vec<(&'static str, u64)>,
    /// Audit entries about those rows that were deleted.
    pub audit_entries: u64,
}

impl Erased {
    /// The rows erased from `table`.
    pub fn count(&self, table: &str) -> u64 {
        self.rows
            .iter()
            .find(|(t, _)| *t == table)
            .map_or(0, |(_, n)| *n)
    }
}

/// Deletions, children before parents (a message before the call it mirrors, an SMS before
/// its call, everything before its conversation or booking, the customer last): a cascade
/// would remove many of them anyway, but naming every table keeps the rule independent of the
/// foreign keys' actions, and no row is first updated by a `SET NULL` and then deleted.
const DELETES: [&str; 13] = [
    "demo_request_notes",
    "demo_requests",
    "ticket_notes",
    "tickets",
    "conversation_notes",
    "messages",
    "conversation_threads",
    "leads",
    "sms_messages",
    "calls",
    "conversations",
    "bookings",
    "customers",
];

/// The anonymising update of each table (`$1` the row ids; see the module docs).
const ANONYMIZE: [(&str, &str); 13] = [
    (
        "customers",
        "UPDATE app.customers SET name = '[erased]', phone = '[erased:' || id || ']',
           email = NULL, first_name = NULL, last_name = NULL, avatar = NULL,
           alternative_phones = '{}', address = NULL, address_details = NULL, tags = '{}',
           custom_fields = '{}', preferences = '{}', block_reason = NULL, notes = NULL
         WHERE id = ANY ($1)",
    ),
    (
        "bookings",
        "UPDATE app.bookings SET customer_name = '[erased]', customer_phone = '[erased]',
           customer_email = NULL, notes = NULL, ai_notes = NULL, title = NULL,
           pickup_address = NULL, cancel_reason = NULL
         WHERE id = ANY ($1)",
    ),
    (
        "calls",
        "UPDATE app.calls SET phone_number = '[erased]', customer_name = NULL,
           recording_url = NULL, transcript = NULL, summary = NULL, notes = NULL,
           entities = '[]', keywords = '{}', messages = '[]',
           analysis = app.jsonb_keep(analysis, '{sentiment,followUpRequired}'), metadata = '{}'
         WHERE id = ANY ($1)",
    ),
    (
        "sms_messages",
        "UPDATE app.sms_messages SET phone_number = '[erased]', message_body = '[erased]',
           error = NULL
         WHERE id = ANY ($1)",
    ),
    (
        "conversations",
        "UPDATE app.conversations SET conversation_key = NULL, session_id = NULL, title = NULL,
           client_phone = NULL, client_email = NULL, client_name = NULL, tags = '{}',
           call_data = app.jsonb_keep(call_data, '{duration,voiceGender,sentiment}'),
           booking_details = app.jsonb_keep(booking_details, '{service,date,time,price}'),
           last_message = app.jsonb_keep(last_message, '{timestamp,from,type}'),
           resolution_notes = NULL,
           customer_satisfaction = app.jsonb_keep(customer_satisfaction, '{rating,submittedAt}'),
           metadata = app.jsonb_keep(metadata, '{platformsQueried,totalTokensUsed}')
         WHERE id = ANY ($1)",
    ),
    (
        "messages",
        "UPDATE app.messages SET content = '[erased]', attachments = '[]', location = NULL,
           template = NULL, interactive = NULL,
           ai_response = app.jsonb_keep(ai_response, '{confidence,intent,sentiment}'),
           provider_error = NULL, forwarded_from = NULL,
           metadata = app.jsonb_keep(metadata, '{model,feedbackRating}')
         WHERE id = ANY ($1)",
    ),
    (
        "conversation_notes",
        "UPDATE app.conversation_notes SET content = '[erased]' WHERE id = ANY ($1)",
    ),
    (
        "conversation_threads",
        "UPDATE app.conversation_threads SET phone_number = '[erased]',
           thread_id = '[erased:' || id || ']'
         WHERE id = ANY ($1)",
    ),
    (
        "tickets",
        "UPDATE app.tickets SET subject = '[erased]', description = '[erased]',
           attachments = '[]', location = NULL, tags = '{}',
           resolution = app.jsonb_keep(resolution, '{resolutionCategory,resolvedAt}'),
           customer_feedback = app.jsonb_keep(customer_feedback,
                                              '{rating,submittedAt,followUpNeeded}'),
           escalation_reason = NULL, external_url = NULL
         WHERE id = ANY ($1)",
    ),
    (
        "ticket_notes",
        "UPDATE app.ticket_notes SET content = '[erased]', attachments = '{}' WHERE id = ANY ($1)",
    ),
    (
        "leads",
        "UPDATE app.leads SET name = '[erased]', first_name = NULL, last_name = NULL,
           phone = NULL, email = NULL, company = NULL, notes = NULL, tags = '{}'
         WHERE id = ANY ($1)",
    ),
    (
        "demo_requests",
        "UPDATE app.demo_requests SET name = '[erased]', email = '[erased]', phone = NULL,
           company = NULL, job_title = NULL, use_case = NULL, current_solution = NULL,
           additional_info = NULL
         WHERE id = ANY ($1)",
    ),
    (
        "demo_request_notes",
        "UPDATE app.demo_request_notes SET note = '[erased]' WHERE id = ANY ($1)",
    ),
];

/// Erases customer `customer` (see the module docs); `None` when it is not visible. On an
/// error the caller must roll back (the API does: a request with an error never commits).
#[tracing::instrument(skip(tx))]
pub async fn erase(
    tx: &mut TenantTx,
    customer: Uuid,
    mode: ErasureMode,
) -> Result<Option<Erased>, DbError> {
    // Locked first, so nothing is attached to the customer (foreign-key checks wait) between
    // reading the footprint and erasing it.
    let locked: Option<Uuid> =
        sqlx::query_scalar("SELECT id FROM app.customers WHERE id = $1 FOR UPDATE")
            .bind(customer)
            .fetch_optional(tx.conn())
            .await?;
    if locked.is_none() {
        return Ok(None);
    }
    let Some(fp) = footprint(tx, customer).await? else {
        return Ok(None);
    };
    match mode {
        ErasureMode::Delete => {
            for table in DELETES {
                run(
                    tx,
                    &format!("DELETE FROM app.{table} WHERE id = ANY ($1)"),
                    fp.ids(table),
                )
                .await?;
            }
            let others: Vec<Option<Uuid>> = fp.other_customers.iter().copied().map(Some).collect();
            counters::refresh(tx, &others).await?;
        }
        ErasureMode::Anonymize => {
            for (table, sql) in ANONYMIZE {
                run(tx, sql, fp.ids(table)).await?;
            }
        }
    }
    let audit_entries: i64 = sqlx::query_scalar(
        "SELECT coalesce(sum(app.erase_audit_entries(
                  k.key, ARRAY(SELECT jsonb_array_elements_text(k.value)))), 0)::int8
           FROM jsonb_each($1) k",
    )
    .bind(fp.audit_keys())
    .fetch_one(tx.conn())
    .await?;
    let erased = Erased {
        rows: TABLES
            .iter()
            .map(|t| (*t, fp.ids(t).len() as u64))
            .collect(),
        audit_entries: u64::try_from(audit_entries).unwrap_or(0),
    };
    record(tx, &fp, mode, &erased).await?;
    Ok(Some(erased))
}

async fn run(tx: &mut TenantTx, sql: &str, ids: &[Uuid]) -> Result<(), DbError> {
    if !ids.is_empty() {
        sqlx::query(sql).bind(ids).execute(tx.conn()).await?;
    }
    Ok(())
}

/// The erasure's own audit entry: who erased which customer id, how, and how many rows. No
/// name, number, address or content.
async fn record(
    tx: &mut TenantTx,
    fp: &Footprint,
    mode: ErasureMode,
    erased: &Erased,
) -> Result<(), DbError> {
    let counts: serde_json::Map<String, serde_json::Value> = erased
        .rows
        .iter()
        .map(|(t, n)| ((*t).to_owned(), json!(n)))
        .collect();
    sqlx::query(
        "INSERT INTO app.audit_log (entity_type, entity_id, action, performed_by, details,
                                    metadata, severity, category, status)
         VALUES ('customers', $1, 'customer.erased', app.current_user_id(),
                 jsonb_build_object('reason', 'GDPR erasure'), $2, 'high', 'security', 'success')",
    )
    .bind(fp.customer.to_string())
    .bind(json!({
        "mode": mode.as_str(),
        "rows": counts,
        "auditEntriesRemoved": erased.audit_entries,
    }))
    .execute(tx.conn())
    .await?;
    Ok(())
}
