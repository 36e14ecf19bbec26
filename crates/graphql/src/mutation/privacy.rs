//! `eraseCustomer`: a person's right to erasure (seed 000), in the request's transaction.
//!
//! The rows it reaches and what each mode keeps are `frontdesk_db::privacy` (module docs,
//! repeated in the field's documentation for clients); who may is `crate::privacy`'s note.
//! Here: authorisation, the arguments, the payload and the errors.

use async_graphql::{Context, Enum, Object, SimpleObject, ID};
use frontdesk_db::privacy::{self, Erased};

use super::{db_error, not_found};
use crate::entity::{authorize, global_id, NodeRef, Op};
use crate::query::Resolve;
use crate::types::Customer;
use crate::ApiError;

/// How `eraseCustomer` erases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ErasureMode {
    /// Delete every row about the person.
    Delete,
    /// Keep the rows, their links and what analytics reads (statuses, timestamps, durations,
    /// amounts, ratings); blank everything personal.
    Anonymize,
}

/// Rows erased, by kind.
#[derive(Debug, Clone, SimpleObject)]
pub struct ErasedCounts {
    /// The customer row (1).
    pub customers: u64,
    /// Bookings.
    pub bookings: u64,
    /// Calls.
    pub calls: u64,
    /// Text messages.
    pub sms_messages: u64,
    /// Conversations.
    pub conversations: u64,
    /// Chat messages.
    pub messages: u64,
    /// Internal notes of conversations.
    pub conversation_notes: u64,
    /// Conversation threads.
    pub conversation_threads: u64,
    /// Tickets.
    pub tickets: u64,
    /// Ticket notes.
    pub ticket_notes: u64,
    /// Leads.
    pub leads: u64,
    /// Demo requests.
    pub demo_requests: u64,
    /// Notes of demo requests.
    pub demo_request_notes: u64,
    /// Audit entries about those rows, deleted.
    pub audit_entries: u64,
}

impl From<&Erased> for ErasedCounts {
    fn from(e: &Erased) -> Self {
        Self {
            customers: e.count("customers"),
            bookings: e.count("bookings"),
            calls: e.count("calls"),
            sms_messages: e.count("sms_messages"),
            conversations: e.count("conversations"),
            messages: e.count("messages"),
            conversation_notes: e.count("conversation_notes"),
            conversation_threads: e.count("conversation_threads"),
            tickets: e.count("tickets"),
            ticket_notes: e.count("ticket_notes"),
            leads: e.count("leads"),
            demo_requests: e.count("demo_requests"),
            demo_request_notes: e.count("demo_request_notes"),
            audit_entries: e.audit_entries,
        }
    }
}

/// The result of `eraseCustomer`.
#[derive(Debug, Clone, SimpleObject)]
pub struct EraseCustomerPayload {
    /// The global id of the customer erased (after `DELETE` it names nothing).
    pub customer_id: ID,
    /// How it was erased.
    pub mode: ErasureMode,
    /// What was erased.
    pub erased: ErasedCounts,
}

async fn erase(
    r: &Resolve<'_>,
    customer: NodeRef<Customer>,
    mode: ErasureMode,
) -> Result<EraseCustomerPayload, ApiError> {
    authorize::<Customer>(r, Op::Named("erase")).await?;
    let db_mode = match mode {
        ErasureMode::Delete => privacy::ErasureMode::Delete,
        ErasureMode::Anonymize => privacy::ErasureMode::Anonymize,
    };
    let mut tx = r.session.tx().await?;
    let erased = privacy::erase(&mut tx, customer.row(), db_mode)
        .await
        .map_err(db_error)?
        .ok_or_else(|| not_found("Customer", "customerId"))?;
    Ok(EraseCustomerPayload {
        customer_id: global_id::encode("Customer", customer.row()),
        mode,
        erased: (&erased).into(),
    })
}

/// The GDPR erasure.
#[derive(Debug, Default)]
pub struct PrivacyMutation;

#[Object]
impl PrivacyMutation {
    /// Erases everything the tenant holds about one person, all or nothing: the rows
    /// `exportCustomerData` returns (the customer, their bookings, calls, SMS, conversations
    /// with messages and notes, threads, tickets with notes, leads, demo requests, and the
    /// never-linked rows carrying their phone number or e-mail address), then the audit
    /// entries about those rows. `DELETE` removes the rows; `ANONYMIZE` keeps them, their links
    /// and counts, statuses, timestamps, durations, amounts, costs, ratings and sentiment, and
    /// blanks names, phone numbers, e-mail and postal addresses, bodies, notes, transcripts,
    /// summaries, recording URLs, subjects, tags and free-form JSON. The erasure itself is
    /// recorded in the audit log with the customer id, the mode and the counts only. Owners
    /// and admins. An id that is not a customer of the tenant is `NOT_FOUND` on `customerId`.
    async fn erase_customer(
        &self,
        ctx: &Context<'_>,
        customer_id: NodeRef<Customer>,
        mode: ErasureMode,
    ) -> async_graphql::Result<EraseCustomerPayload> {
        let r = Resolve::new(ctx)?;
        r.run(erase(&r, customer_id, mode)).await
    }
}
