//! The ticket workflow through the API (seed 003): `openTicket`, `updateTicket`,
//! `assignTicket`, `escalateTicket`, `deleteTicket` here; the status moves (`setTicketStatus`,
//! `resolveTicket`, `closeTicket`, `reopenTicket`, `rateTicket`) in [`status`]; notes in
//! [`notes`]; related and parent tickets in [`links`]. The SQL is in
//! `frontdesk_db::graph::tickets`, which also documents the rules (transition table, first
//! response, links, parents).
//!
//! Every resolver follows the sequence of [`crate::mutation`]: authorise by the access the
//! entity declares (`write`, `delete`, or the named `assign` and `escalate`), validate every
//! argument (a refusal names it), write in the request's transaction, read back. A refused
//! mutation has written nothing. Ids of another tenant's rows are `NOT_FOUND`, exactly like
//! missing ones.

mod inputs;
mod links;
mod notes;
mod status;

use async_graphql::{Context, MaybeUndefined, MergedObject, Object, SimpleObject, ID};
use chrono::Utc;
use frontdesk_db::graph::tickets::{self, Opening, TicketError};
use frontdesk_db::graph::{Ref, WriteError};
use frontdesk_db::query;

use super::inputs::bad;
use super::{not_found, read_back, write_error, Target};
use crate::entity::{authorize, global_id, Entity, Op};
use crate::query::Resolve;
use crate::types::{Member, Ticket};
use crate::validate::{self, REASON_MAX};
use crate::{ApiError, NodeRef};

use inputs::{OpenTicketInput, UpdateTicketInput};

const TICKET: Target = Target {
    what: "Ticket",
    field: "id",
};

/// What the outcomes of a ticket write blame: the target, and the arguments that named a
/// member and another ticket.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Blame {
    target: Target,
    member: &'static str,
    ticket: &'static str,
}

impl Blame {
    const fn of(target: Target) -> Self {
        Self {
            target,
            member: "input.assignedAgentId",
            ticket: "input.parentTicketId",
        }
    }
}

/// Maps a failed ticket write to the API error naming the argument at fault.
pub(crate) fn ticket_error(e: TicketError, blame: Blame) -> ApiError {
    match e {
        TicketError::Write(WriteError::MissingRef(Ref::Member)) => {
            not_found("Member", blame.member)
        }
        TicketError::Write(e) => write_error(e, blame.target),
        TicketError::MissingTicket => not_found("Ticket", blame.ticket),
        TicketError::NoCustomer => bad(
            "input.customerId",
            "is required: the conversation has no customer",
        ),
        TicketError::CustomerMismatch => bad(
            "input.conversationId",
            "belongs to another customer than the ticket's",
        ),
        TicketError::NotWorker => bad(
            blame.member,
            "is not an active member who can work tickets (viewers and deactivated members \
             cannot)",
        ),
        TicketError::Cycle => bad(blame.ticket, "would make the ticket its own ancestor"),
        TicketError::NotAuthor => ApiError::Forbidden(
            "only the note's author, or a supervisor or above, may change or delete it".into(),
        ),
    }
}

/// The result of `deleteTicket`.
#[derive(Debug, Clone, SimpleObject)]
pub struct DeleteTicketPayload {
    /// The global id of the ticket that was deleted.
    pub deleted_id: ID,
}

async fn open(r: &Resolve<'_>, input: OpenTicketInput) -> Result<Ticket, ApiError> {
    let actor = authorize::<Ticket>(r, Op::Write).await?.user_id;
    let o = input.lower()?;
    let mut fields = o.fields;
    if let Some(docs) = o.attachments {
        fields.attachments =
            frontdesk_db::graph::Patch::Set(inputs::stamp(docs, actor, Utc::now(), &[]));
    }
    let mut tx = r.session.tx().await?;
    let opening = Opening {
        customer_id: o.customer_id,
        opened_by: actor,
        assigned_agent_id: o.assigned_agent_id,
        parent_ticket_id: o.parent_ticket_id,
        fields,
    };
    let id = tickets::open(&mut tx, &opening)
        .await
        .map_err(|e| ticket_error(e, Blame::of(TICKET)))?;
    read_back(&mut tx, id).await
}

async fn update(
    r: &Resolve<'_>,
    id: NodeRef<Ticket>,
    input: UpdateTicketInput,
) -> Result<Ticket, ApiError> {
    let actor = authorize::<Ticket>(r, Op::Write).await?.user_id;
    let (mut fields, attachments) = input.lower()?;
    let mut tx = r.session.tx().await?;
    if let Some(docs) = attachments {
        // The current attachments, whose stamps a re-listed file keeps.
        let current = query::by_ids::<Ticket>(&mut tx, Ticket::table(), &[id.row()])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| not_found("Ticket", "id"))?;
        fields.attachments = frontdesk_db::graph::Patch::Set(inputs::stamp(
            docs,
            actor,
            Utc::now(),
            &current.attachments,
        ));
    }
    tickets::update(&mut tx, id.row(), &fields)
        .await
        .map_err(|e| ticket_error(e, Blame::of(TICKET)))?;
    read_back(&mut tx, id.row()).await
}

async fn assign(
    r: &Resolve<'_>,
    id: NodeRef<Ticket>,
    agent: MaybeUndefined<NodeRef<Member>>,
) -> Result<Ticket, ApiError> {
    authorize::<Ticket>(r, Op::Named("assign")).await?;
    let agent = match agent {
        MaybeUndefined::Undefined => {
            return Err(bad(
                "agentId",
                "is required: the member to assign, or null to unassign",
            ))
        }
        MaybeUndefined::Null => None,
        MaybeUndefined::Value(a) => Some(a.row()),
    };
    let mut tx = r.session.tx().await?;
    let blame = Blame {
        member: "agentId",
        ..Blame::of(TICKET)
    };
    tickets::assign(&mut tx, id.row(), agent)
        .await
        .map_err(|e| ticket_error(e, blame))?;
    read_back(&mut tx, id.row()).await
}

async fn escalate(
    r: &Resolve<'_>,
    id: NodeRef<Ticket>,
    to: NodeRef<Member>,
    reason: String,
) -> Result<Ticket, ApiError> {
    authorize::<Ticket>(r, Op::Named("escalate")).await?;
    let reason = validate::required_text("reason", &reason, REASON_MAX)?;
    let mut tx = r.session.tx().await?;
    let blame = Blame {
        member: "toAgentId",
        ..Blame::of(TICKET)
    };
    tickets::escalate(&mut tx, id.row(), to.row(), Some(&reason))
        .await
        .map_err(|e| ticket_error(e, blame))?;
    read_back(&mut tx, id.row()).await
}

async fn delete(r: &Resolve<'_>, id: NodeRef<Ticket>) -> Result<DeleteTicketPayload, ApiError> {
    authorize::<Ticket>(r, Op::Delete).await?;
    let mut tx = r.session.tx().await?;
    tickets::delete(&mut tx, id.row())
        .await
        .map_err(|e| ticket_error(e, Blame::of(TICKET)))?;
    Ok(DeleteTicketPayload {
        deleted_id: global_id::encode(Ticket::NAME, id.row()),
    })
}

/// Opening, changing, assigning, escalating and deleting tickets.
#[derive(Debug, Default)]
pub struct TicketCoreMutation;

#[Object]
impl TicketCoreMutation {
    /// Opens a ticket for a customer (`customerId`) or from a conversation (`conversationId`,
    /// whose customer is taken when `customerId` is absent; a conversation of another customer
    /// is refused). The database numbers it `TICKET-YYYY-NNNNNN`, gap-free per tenant and
    /// year. Status `OPEN`; the caller is recorded as `openedBy`. Agents and above with
    /// `manage:tickets`.
    async fn open_ticket(
        &self,
        ctx: &Context<'_>,
        input: OpenTicketInput,
    ) -> async_graphql::Result<Ticket> {
        let r = Resolve::new(ctx)?;
        r.run(open(&r, input)).await
    }

    /// Changes a ticket's content: fields left out keep their values, `null` clears a
    /// nullable field.
    async fn update_ticket(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Ticket>,
        input: UpdateTicketInput,
    ) -> async_graphql::Result<Ticket> {
        let r = Resolve::new(ctx)?;
        r.run(update(&r, id, input)).await
    }

    /// Assigns the ticket to a member (active, not a viewer), or unassigns it with
    /// `agentId: null`. Takes the `assign` access (agents and above with `manage:tickets`).
    async fn assign_ticket(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Ticket>,
        agent_id: MaybeUndefined<NodeRef<Member>>,
    ) -> async_graphql::Result<Ticket> {
        let r = Resolve::new(ctx)?;
        r.run(assign(&r, id, agent_id)).await
    }

    /// Escalates an unfinished ticket to a member (active, not a viewer), recording when and
    /// why; a resolved or closed ticket is a `CONFLICT` naming its status. Takes the
    /// `escalate` access (agents and above with `manage:tickets`).
    async fn escalate_ticket(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Ticket>,
        to_agent_id: NodeRef<Member>,
        reason: String,
    ) -> async_graphql::Result<Ticket> {
        let r = Resolve::new(ctx)?;
        r.run(escalate(&r, id, to_agent_id, reason)).await
    }

    /// Deletes a ticket with its notes and links; its sub-tickets lose their parent.
    /// Supervisors and above with `manage:tickets`.
    async fn delete_ticket(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Ticket>,
    ) -> async_graphql::Result<DeleteTicketPayload> {
        let r = Resolve::new(ctx)?;
        r.run(delete(&r, id)).await
    }
}

/// Every ticket mutation.
#[derive(Debug, Default, MergedObject)]
pub struct TicketMutation(
    TicketCoreMutation,
    status::TicketStatusMutation,
    notes::TicketNoteMutation,
    links::TicketLinkMutation,
);
