//! Writes to the live inbox: conversations (and seed 002's chats), their messages, internal
//! notes, AI threads and per-agent read markers, and the mirroring of SMS and calls into
//! conversations.
//!
//! This module owns the SQL of every API write to `app.conversations`, `app.messages`,
//! `app.conversation_notes`, `app.conversation_threads` and `app.conversation_reads`, and the
//! rules that keep a conversation's denormalised read model (`message_count`, `unread_count`, `last_message`,
//! response times, workflow `status`) true: every message insert goes through
//! [`conversations::apply_new_message`] in the same transaction, so no writer can forget it.
//! Everything runs in the caller's [`TenantTx`]; row-level security decides what exists, so
//! another tenant's ids behave exactly like missing ones. Events for subscribers are emitted by
//! the triggers of migration 0008, never here.
//!
//! Concurrency, in one place (the order in which rows are locked is the same everywhere, so
//! writers cannot deadlock one another):
//!
//! 1. an inbound message first takes a transaction-level advisory lock on its provider message
//!    id, then checks whether the message exists: duplicates of one webhook serialise there, and
//!    the second one sees the first one's committed message (READ COMMITTED: a new statement, a
//!    new snapshot) and returns it without writing anything;
//! 2. the customer is found or created (`ON CONFLICT` on the phone number settles races);
//! 3. finding or opening "the customer's conversation on a channel" takes an advisory lock on
//!    (tenant, customer or contact, channel), so concurrent first contacts open one conversation;
//! 4. the conversation row is locked (`FOR NO KEY UPDATE`) before the message is inserted, so
//!    the bookkeeping that follows reads every message committed before it;
//! 5. the customer's counters are refreshed last (`graph::counters::refresh` locks the customer).
//!
//! Who is acting: the token's user is recorded (`agent_id`, `assigned_by`, `resolved_by`) only
//! when they are a member of the tenant, because those columns reference memberships; a
//! non-member token (a system integration) writes NULL there. Read markers and chats belong to
//! members only ([`InboxError::NotMember`]).

pub mod chats;
pub mod conversations;
mod counts;
pub mod details;
pub mod feedback;
pub mod messages;
pub mod mirror;
pub mod notes;
pub mod reads;
pub mod threads;

use uuid::Uuid;

use crate::{DbError, TenantTx};
pub use counts::{inbox_counts, unread_counts, InboxCounts};

/// A row an input refers to, when it is not visible in the tenant (missing or another
/// tenant's: row-level security makes those indistinguishable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ref {
    /// The customer named by id.
    Customer,
    /// The conversation named by id (when it is a reference, not the mutation's target).
    Conversation,
    /// A member of the tenant (an agent to assign).
    Member,
    /// The message replied to (must be in the same conversation).
    ReplyTo,
    /// The message read up to (must be in the conversation).
    UpTo,
}

/// Why an inbox write did not happen, beyond a database error.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    /// The row the write acts on is not visible in the tenant.
    #[error("not found")]
    NotFound,
    /// A row the input refers to is not visible in the tenant.
    #[error("referenced {0:?} not found")]
    MissingRef(Ref),
    /// The conversation's workflow status does not allow the change.
    #[error("the conversation is {current}")]
    Status {
        /// The status when the change was tried (database spelling).
        current: String,
    },
    /// `assigned` was asked for a conversation without an assigned agent.
    #[error("the conversation has no assigned agent")]
    NoAgent,
    /// The member cannot be given conversations (a viewer, or deactivated).
    #[error("the member cannot be assigned conversations: {0}")]
    NotAssignable(&'static str),
    /// The conversation named is on another channel than the message.
    #[error("the conversation is on channel {current}")]
    Channel {
        /// The conversation's channel (database spelling).
        current: String,
    },
    /// The customer named is not the conversation's customer.
    #[error("the customer is not the conversation's customer")]
    CustomerMismatch,
    /// The acting user is not a member of the tenant (read markers and chats are per member).
    #[error("the acting user is not a member of the tenant")]
    NotMember,
    /// The row is someone else's (a note changed by another member than its author).
    #[error("the acting member is not the author")]
    NotAuthor,
    /// The row exists but is not the kind the write applies to (a customer conversation given
    /// to a chat move, a customer's message given a rating); says why.
    #[error("not applicable: {0}")]
    NotApplicable(&'static str),
    /// A new thread has no phone number: none was given, and neither its conversation nor
    /// its customer has one.
    #[error("no phone number for the thread")]
    NoPhone,
    /// Anything the database refused or failed at.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for InboxError {
    fn from(e: sqlx::Error) -> Self {
        InboxError::Db(e.into())
    }
}

/// The acting user when they are a member of the tenant, else `None` (see the module doc).
/// Memberships need the explicit tenant predicate: their policy also shows the acting user's
/// memberships of other tenants.
pub(crate) async fn acting_member(tx: &mut TenantTx) -> Result<Option<Uuid>, DbError> {
    let Some(user) = tx.ctx().user_id else {
        return Ok(None);
    };
    Ok(sqlx::query_scalar(
        "SELECT user_id FROM app.memberships
         WHERE tenant_id = app.current_tenant_id() AND user_id = $1",
    )
    .bind(user)
    .fetch_optional(tx.conn())
    .await?)
}

/// Waits for, then holds until the end of the transaction, the advisory lock named `key`
/// (hashed to 64 bits: a collision only makes two unrelated writers wait for each other).
/// The key always starts with the tenant id, so tenants never wait for one another.
pub(crate) async fn advisory_lock(tx: &mut TenantTx, key: &str) -> Result<(), DbError> {
    let key = format!("{}:{key}", tx.ctx().tenant_id);
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(key)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// The customer with primary e-mail `email` (as normalised by the API: exact match, so the
/// `(tenant_id, email)` index serves it); the oldest when several share it.
pub(crate) async fn customer_by_email(
    tx: &mut TenantTx,
    email: &str,
) -> Result<Option<Uuid>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM app.customers WHERE email = $1 ORDER BY created_at, id LIMIT 1",
    )
    .bind(email)
    .fetch_optional(tx.conn())
    .await?)
}

/// Fails with [`InboxError::MissingRef`] unless customer `id` is visible in the tenant.
pub(crate) async fn require_customer(tx: &mut TenantTx, id: Uuid) -> Result<(), InboxError> {
    let found: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM app.customers WHERE id = $1)")
            .bind(id)
            .fetch_one(tx.conn())
            .await?;
    if found {
        Ok(())
    } else {
        Err(InboxError::MissingRef(Ref::Customer))
    }
}
