//! `mergeCustomers`: folds a duplicate customer into the one that stays, in the request's
//! transaction.
//!
//! What moves, how the customer fields combine (tags united, custom fields united with the
//! kept customer winning on a key both have), and the clash rule for open conversations
//! (the kept customer's stays open, the duplicate's on the same channel is closed, then both
//! belong to the kept customer) are defined once, in `frontdesk_db::graph::merge` (module
//! docs), and repeated in the mutation's documentation for clients. Here: authorisation (the
//! Customer entity's named `merge` operation), the arguments, the payload and the errors.

use async_graphql::{Context, Object, SimpleObject, ID};
use frontdesk_db::graph::merge::{self, MergeError, Moved};

use super::inputs::bad;
use super::{db_error, not_found, read_back};
use crate::entity::{authorize, global_id, NodeRef, Op};
use crate::query::Resolve;
use crate::types::Customer;
use crate::ApiError;

/// How many rows of each kind moved to the kept customer.
#[derive(Debug, Clone, SimpleObject)]
pub struct MergedCounts {
    /// Bookings.
    pub bookings: u64,
    /// Calls.
    pub calls: u64,
    /// Text messages.
    pub sms_messages: u64,
    /// Conversations, including `closedConversations`.
    pub conversations: u64,
    /// Conversations of the merged customer that were open on a channel where the kept
    /// customer has an open conversation, and were therefore closed.
    pub closed_conversations: u64,
    /// Chat messages.
    pub messages: u64,
    /// Support tickets.
    pub tickets: u64,
    /// Leads.
    pub leads: u64,
}

impl From<Moved> for MergedCounts {
    fn from(m: Moved) -> Self {
        Self {
            bookings: m.bookings,
            calls: m.calls,
            sms_messages: m.sms_messages,
            conversations: m.conversations,
            closed_conversations: m.closed_conversations,
            messages: m.messages,
            tickets: m.tickets,
            leads: m.leads,
        }
    }
}

/// The result of `mergeCustomers`.
#[derive(Debug, Clone, SimpleObject)]
pub struct MergeCustomersPayload {
    /// The kept customer, as it is after the merge (counters recomputed).
    pub customer: Customer,
    /// The global id of the merged customer, which no longer exists.
    pub merged_id: ID,
    /// What moved.
    pub moved: MergedCounts,
}

async fn merge_customers(
    r: &Resolve<'_>,
    keep: NodeRef<Customer>,
    merge: NodeRef<Customer>,
) -> Result<MergeCustomersPayload, ApiError> {
    authorize::<Customer>(r, Op::Named("merge")).await?;
    if keep.row() == merge.row() {
        return Err(bad(
            "mergeId",
            "is the customer to keep: a customer cannot be merged into itself",
        ));
    }
    let mut tx = r.session.tx().await?;
    let moved = merge::merge(&mut tx, keep.row(), merge.row())
        .await
        .map_err(|e| match e {
            MergeError::Same => bad("mergeId", "a customer cannot be merged into itself"),
            MergeError::KeepNotFound => not_found("Customer", "keepId"),
            MergeError::MergeNotFound => not_found("Customer", "mergeId"),
            MergeError::Db(e) => db_error(e),
        })?;
    Ok(MergeCustomersPayload {
        customer: read_back(&mut tx, keep.row()).await?,
        merged_id: global_id::encode("Customer", merge.row()),
        moved: moved.into(),
    })
}

/// The customer merge.
#[derive(Debug, Default)]
pub struct MergeMutation;

#[Object]
impl MergeMutation {
    /// Merges the duplicate customer `mergeId` into `keepId`, all or nothing, and deletes the
    /// duplicate. Supervisors and above with `manage:customers`.
    ///
    /// - Moves to the kept customer: bookings (their customer name, phone and e-mail re-taken
    ///   from it), calls, text messages, conversations with their chat messages and threads,
    ///   tickets and leads. Its counters are then recomputed from those facts.
    /// - Its fields: tags are united; custom fields and preferences are united by top-level
    ///   key, the kept customer's value winning on a key both have; the duplicate's phone
    ///   numbers are added to `alternativePhones`; notes are joined; other fields keep the
    ///   kept customer's value and take the duplicate's only where the kept one has none
    ///   (name, phone, segment and status are always the kept customer's).
    /// - Clash rule: where both have an open conversation (active, not closed) on the same
    ///   channel, the kept customer's stays the open one and the duplicate's is closed, then
    ///   moved with its history intact; open conversations on other channels move still open.
    ///   Every moved conversation is announced as `conversationUpdated`.
    ///
    /// `mergeId` equal to `keepId` is `BAD_USER_INPUT` on `mergeId`; an id that is not a
    /// customer of the tenant is `NOT_FOUND` naming `keepId` or `mergeId`.
    async fn merge_customers(
        &self,
        ctx: &Context<'_>,
        keep_id: NodeRef<Customer>,
        merge_id: NodeRef<Customer>,
    ) -> async_graphql::Result<MergeCustomersPayload> {
        let r = Resolve::new(ctx)?;
        r.run(merge_customers(&r, keep_id, merge_id)).await
    }
}
