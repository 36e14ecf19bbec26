//! `linkTickets`, `unlinkTickets` and `setTicketParent`: how tickets relate (rules in
//! `frontdesk_db::graph::tickets::links`). A link is undirected — `relatedTickets` shows it
//! on both tickets — and linking or unlinking twice changes nothing the second time; a
//! parent may not be the ticket itself or one of its descendants.

use async_graphql::{Context, MaybeUndefined, Object};
use frontdesk_db::graph::tickets::links;

use super::{ticket_error, Blame, TICKET};
use crate::entity::{authorize, Op};
use crate::mutation::inputs::bad;
use crate::mutation::read_back;
use crate::query::Resolve;
use crate::types::Ticket;
use crate::{ApiError, NodeRef};

fn blame(ticket: &'static str) -> Blame {
    Blame {
        ticket,
        ..Blame::of(TICKET)
    }
}

async fn relate(
    r: &Resolve<'_>,
    id: NodeRef<Ticket>,
    related: NodeRef<Ticket>,
    link: bool,
) -> Result<Ticket, ApiError> {
    authorize::<Ticket>(r, Op::Write).await?;
    if id.row() == related.row() {
        return Err(bad("relatedId", "a ticket cannot be related to itself"));
    }
    let mut tx = r.session.tx().await?;
    let done = if link {
        links::link(&mut tx, id.row(), related.row()).await
    } else {
        links::unlink(&mut tx, id.row(), related.row()).await
    };
    done.map_err(|e| ticket_error(e, blame("relatedId")))?;
    read_back(&mut tx, id.row()).await
}

async fn set_parent(
    r: &Resolve<'_>,
    id: NodeRef<Ticket>,
    parent: MaybeUndefined<NodeRef<Ticket>>,
) -> Result<Ticket, ApiError> {
    authorize::<Ticket>(r, Op::Write).await?;
    let parent = match parent {
        MaybeUndefined::Undefined => {
            return Err(bad(
                "parentId",
                "is required: the parent ticket, or null to detach",
            ))
        }
        MaybeUndefined::Null => None,
        MaybeUndefined::Value(p) if p.row() == id.row() => {
            return Err(bad("parentId", "a ticket cannot be its own parent"))
        }
        MaybeUndefined::Value(p) => Some(p.row()),
    };
    let mut tx = r.session.tx().await?;
    links::set_parent(&mut tx, id.row(), parent)
        .await
        .map_err(|e| ticket_error(e, blame("parentId")))?;
    read_back(&mut tx, id.row()).await
}

/// Related and parent tickets.
#[derive(Debug, Default)]
pub struct TicketLinkMutation;

#[Object]
impl TicketLinkMutation {
    /// Relates two tickets (shown in both tickets' `relatedTickets`); relating them again
    /// changes nothing. A ticket cannot be related to itself. Returns the first ticket.
    async fn link_tickets(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Ticket>,
        related_id: NodeRef<Ticket>,
    ) -> async_graphql::Result<Ticket> {
        let r = Resolve::new(ctx)?;
        r.run(relate(&r, id, related_id, true)).await
    }

    /// Removes the relation between two tickets, whichever of them it was made from; a no-op
    /// when they are not related. Returns the first ticket.
    async fn unlink_tickets(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Ticket>,
        related_id: NodeRef<Ticket>,
    ) -> async_graphql::Result<Ticket> {
        let r = Resolve::new(ctx)?;
        r.run(relate(&r, id, related_id, false)).await
    }

    /// Makes the ticket part of `parentId`, or detaches it with `parentId: null`. Refused
    /// (`BAD_USER_INPUT` on `parentId`) when the ticket would become its own ancestor.
    async fn set_ticket_parent(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Ticket>,
        parent_id: MaybeUndefined<NodeRef<Ticket>>,
    ) -> async_graphql::Result<Ticket> {
        let r = Resolve::new(ctx)?;
        r.run(set_parent(&r, id, parent_id)).await
    }
}
