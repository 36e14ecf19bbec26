//! Merging two customers: the duplicate (`merge`) is folded into the customer that stays
//! (`keep`) and deleted, inside the caller's transaction, so the merge is all or nothing.
//!
//! What moves to the kept customer: every row that names the merged one — bookings (with
//! their snapshot of the customer's name, phone and e-mail re-taken from the kept customer, as
//! any move of a booking does), calls, SMS, conversations, chat messages, conversation
//! threads, tickets and leads. Then the kept customer's counters are recomputed from the
//! facts ([`counters::refresh`], the definitions of migration 0007) and the merged customer
//! is deleted; by then nothing references it, so no cascade removes anything.
//!
//! The customer row itself:
//! - `tags`: the union, the kept customer's first, in order, without duplicates;
//! - `custom_fields` and `preferences`: the union of their top-level keys; on a key both have,
//!   the kept customer's value wins whole (no deep merge of nested objects);
//! - `alternative_phones`: the kept customer's, then the merged customer's primary number and
//!   its alternatives, without duplicates and without the kept primary number, so calls from
//!   the duplicate's numbers are still recognisable as this customer's;
//! - `notes`: both, the kept customer's first, separated by a blank line;
//! - `email`, `first_name`, `last_name`, `avatar`, `address`, `address_details`, `source`,
//!   `preferred_agent_id`, `average_response_time`: the kept customer's when set, otherwise
//!   the merged customer's;
//! - `name`, `phone`, `segment`, `status`, `block_reason`, `created_at`: the kept customer's.
//!
//! Clashes. None of the unique keys of the rows that move includes the customer
//! (`conversations (tenant_id, conversation_key)`, `conversation_threads (tenant_id,
//! thread_id)` and its one active thread per conversation, `messages (tenant_id,
//! provider_message_id)`, the one message per call and per SMS, `leads (tenant_id,
//! lower(email))`, `tickets (tenant_id, ticket_number)`), so moving rows cannot violate one.
//! The clash that matters is the inbox's own rule: new traffic of a customer on a channel goes
//! to *the* customer's open conversation there (`inbox::conversations::find_or_open`: the
//! latest active, not closed one). When both customers have an open conversation on the same
//! channel, the rule is: **the kept customer's conversation stays the open one; the merged
//! customer's is closed** (`status` `closed`, `closed_at` now, `resolved_at` kept or now,
//! `resolved_by` kept or the acting member — what closing it by hand records) and then moved
//! like every other conversation, its messages, notes and history intact. Nothing is lost or
//! rewritten, the agent sees both threads under one customer, and replies land in one
//! conversation. A merged conversation on a channel where the kept customer has no open one
//! simply moves, still open.
//!
//! Events: moving conversations changes their `customer_id` (and closes some), so the
//! statement triggers of migration 0008 emit one `conversation_updated` per moved
//! conversation, committed with the merge.
//!
//! Concurrency: the kept customer's find-or-open advisory lock is taken for every channel
//! first (the order `find_or_open` takes its lock and then the customer row in), so no
//! conversation of the kept customer is opened while its duplicate's move in; then both
//! customer rows are locked `FOR UPDATE` in id order, so no fact can be attached to either
//! (foreign-key checks wait) until the merge commits, after which one naming the merged
//! customer fails as a missing customer.

use uuid::Uuid;

use super::counters;
use crate::{DbError, TenantTx};

/// Every conversation channel (the CHECK on `conversations.channel`, migration 0004).
const CHANNELS: [&str; 8] = [
    "web",
    "whatsapp",
    "telegram",
    "phone",
    "mobile_app",
    "sms",
    "email",
    "instagram",
];

/// The field of [`Moved`] that counts a table's moved rows.
type Counter = fn(&mut Moved) -> &mut u64;

/// Tables whose `customer_id` moves as it is (bookings and conversations have their own
/// statements), with the field of [`Moved`] that counts them.
const PLAIN_MOVES: [(&str, Counter); 6] = [
    ("app.calls", |m| &mut m.calls),
    ("app.sms_messages", |m| &mut m.sms_messages),
    ("app.messages", |m| &mut m.messages),
    ("app.conversation_threads", |m| &mut m.threads),
    ("app.tickets", |m| &mut m.tickets),
    ("app.leads", |m| &mut m.leads),
];

/// How many rows of each kind moved to the kept customer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Moved {
    /// Bookings.
    pub bookings: u64,
    /// Calls.
    pub calls: u64,
    /// SMS messages.
    pub sms_messages: u64,
    /// Conversations (including the closed ones below).
    pub conversations: u64,
    /// Of those, the ones closed because the kept customer has an open conversation on the
    /// same channel.
    pub closed_conversations: u64,
    /// Chat messages.
    pub messages: u64,
    /// Conversation threads.
    pub threads: u64,
    /// Tickets.
    pub tickets: u64,
    /// Leads.
    pub leads: u64,
}

/// Why a merge did not happen.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// `keep` and `merge` are the same customer.
    #[error("a customer cannot be merged into itself")]
    Same,
    /// The customer to keep is not visible in the tenant.
    #[error("the customer to keep was not found")]
    KeepNotFound,
    /// The customer to merge is not visible in the tenant.
    #[error("the customer to merge was not found")]
    MergeNotFound,
    /// The database refused or failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for MergeError {
    fn from(e: sqlx::Error) -> Self {
        MergeError::Db(e.into())
    }
}

/// Merges customer `merge` into customer `keep` (see the module docs) and returns what moved.
/// On any error the caller's transaction must be rolled back (the API does: a request with an
/// error never commits); nothing is left half-merged in a committed state.
#[tracing::instrument(skip_all, fields(%keep, %merge))]
pub async fn merge(tx: &mut TenantTx, keep: Uuid, merge: Uuid) -> Result<Moved, MergeError> {
    if keep == merge {
        return Err(MergeError::Same);
    }
    for channel in CHANNELS {
        crate::inbox::advisory_lock(tx, &format!("conversation:customer:{keep}:{channel}")).await?;
    }
    let locked: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM app.customers WHERE id = ANY ($1) ORDER BY id FOR UPDATE",
    )
    .bind([keep, merge])
    .fetch_all(tx.conn())
    .await?;
    if !locked.contains(&keep) {
        return Err(MergeError::KeepNotFound);
    }
    if !locked.contains(&merge) {
        return Err(MergeError::MergeNotFound);
    }

    merge_row(tx, keep, merge).await?;
    let mut moved = Moved::default();
    (moved.conversations, moved.closed_conversations) = move_conversations(tx, keep, merge).await?;
    moved.bookings = sqlx::query(
        "UPDATE app.bookings b SET customer_id = c.id, customer_name = c.name,
                customer_phone = c.phone, customer_email = c.email
           FROM app.customers c
          WHERE c.id = $1 AND b.customer_id = $2",
    )
    .bind(keep)
    .bind(merge)
    .execute(tx.conn())
    .await?
    .rows_affected();
    for (table, count) in PLAIN_MOVES {
        let sql = format!("UPDATE {table} SET customer_id = $1 WHERE customer_id = $2");
        *count(&mut moved) = sqlx::query(&sql)
            .bind(keep)
            .bind(merge)
            .execute(tx.conn())
            .await?
            .rows_affected();
    }

    counters::refresh(tx, &[Some(keep)]).await?;
    sqlx::query("DELETE FROM app.customers WHERE id = $1")
        .bind(merge)
        .execute(tx.conn())
        .await?;
    Ok(moved)
}

/// Folds the merged customer's own fields into the kept customer's row (see the module docs).
async fn merge_row(tx: &mut TenantTx, keep: Uuid, merge: Uuid) -> Result<(), MergeError> {
    sqlx::query(
        "UPDATE app.customers k SET
           email = coalesce(k.email, m.email),
           first_name = coalesce(k.first_name, m.first_name),
           last_name = coalesce(k.last_name, m.last_name),
           avatar = coalesce(k.avatar, m.avatar),
           address = coalesce(k.address, m.address),
           address_details = coalesce(k.address_details, m.address_details),
           source = coalesce(k.source, m.source),
           preferred_agent_id = coalesce(k.preferred_agent_id, m.preferred_agent_id),
           average_response_time = coalesce(k.average_response_time, m.average_response_time),
           tags = ARRAY(SELECT t FROM unnest(k.tags || m.tags) WITH ORDINALITY u(t, i)
                        GROUP BY t ORDER BY min(i)),
           alternative_phones = ARRAY(
             SELECT p FROM unnest(k.alternative_phones || m.phone || m.alternative_phones)
                           WITH ORDINALITY u(p, i)
              WHERE p <> k.phone GROUP BY p ORDER BY min(i)),
           custom_fields = m.custom_fields || k.custom_fields,
           preferences = m.preferences || k.preferences,
           notes = nullif(concat_ws(E'\\n\\n', k.notes, m.notes), '')
         FROM app.customers m
         WHERE k.id = $1 AND m.id = $2",
    )
    .bind(keep)
    .bind(merge)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Moves the merged customer's conversations to the kept customer, first closing each open
/// one on a channel where the kept customer has an open conversation (the clash rule of the
/// module docs). Returns how many moved and how many of them were closed.
async fn move_conversations(
    tx: &mut TenantTx,
    keep: Uuid,
    merge: Uuid,
) -> Result<(u64, u64), MergeError> {
    let by = crate::inbox::acting_member(tx).await?;
    // "Open" is what find_or_open would pick: active and not closed.
    let clashes: Vec<bool> = sqlx::query_scalar(
        "UPDATE app.conversations c SET
           customer_id = $1,
           status = CASE WHEN x.clash THEN 'closed' ELSE c.status END,
           resolved_by = CASE WHEN x.clash AND c.resolved_at IS NULL THEN $3
                              ELSE c.resolved_by END,
           resolved_at = CASE WHEN x.clash THEN coalesce(c.resolved_at, now())
                              ELSE c.resolved_at END,
           closed_at = CASE WHEN x.clash THEN now() ELSE c.closed_at END
         FROM (SELECT m.id,
                      m.status <> 'closed' AND m.lifecycle = 'active' AND EXISTS (
                        SELECT 1 FROM app.conversations k
                         WHERE k.customer_id = $1 AND k.channel = m.channel
                           AND k.status <> 'closed' AND k.lifecycle = 'active') AS clash
                 FROM app.conversations m
                WHERE m.customer_id = $2) x
         WHERE c.id = x.id
         RETURNING x.clash",
    )
    .bind(keep)
    .bind(merge)
    .bind(by)
    .fetch_all(tx.conn())
    .await?;
    let closed = clashes.iter().filter(|c| **c).count() as u64;
    Ok((clashes.len() as u64, closed))
}
