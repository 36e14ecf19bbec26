//! `ticketUpdated`: tickets as they are created or changed (status, assignment, escalation,
//! notes, …), from the `ticket_updated` events of the log (migration 0016), filtered the way a
//! ticket queue needs.

use async_graphql::{Context, InputObject, Subscription};
use futures::stream::BoxStream;
use uuid::Uuid;

use super::hub::{Kind, Subject};
use super::{subscribe, within, AssigneeWatch};
use crate::types::enums::TicketStatus;
use crate::types::{Customer, Ticket};
use crate::NodeRef;

/// Live updates of tickets.
#[derive(Debug, Default, Clone, Copy)]
pub struct TicketSubscription;

event_object! {
/// A ticket was created or changed (status, assignment, escalation, notes, …).
    TicketEvent {
        /// The ticket, as it was when the event was read.
        ticket: Ticket
    }
}

/// Which tickets to watch; given fields combine with AND, list values with OR.
#[derive(Debug, Clone, Default, InputObject)]
pub struct TicketWatchFilter {
    /// These tickets only.
    pub ids: Option<Vec<NodeRef<Ticket>>>,
    /// In one of these statuses (after the change).
    pub status: Option<Vec<TicketStatus>>,
    /// Of this customer.
    pub customer_id: Option<NodeRef<Customer>>,
    /// Assigned as given (after the change).
    pub assignee: Option<AssigneeWatch>,
}

impl TicketWatchFilter {
    fn matches(&self, t: &Ticket, me: Uuid) -> bool {
        within(&self.ids, &NodeRef::new(t.id))
            && within(&self.status, &t.status)
            && self.customer_id.is_none_or(|id| t.customer_id == id.row())
            && self
                .assignee
                .as_ref()
                .is_none_or(|a| a.matches(t.assigned_agent_id, me))
    }
}

#[Subscription]
impl TicketSubscription {
    /// Tickets as they are created or changed (status, assignment, escalation, notes added or
    /// edited, …), filtered on their state after the change. With `after` (the cursor of an
    /// earlier event, of this or any other subscription), first every later change in commit
    /// order, then the live stream.
    async fn ticket_updated(
        &self,
        ctx: &Context<'_>,
        filter: Option<TicketWatchFilter>,
        after: Option<String>,
    ) -> async_graphql::Result<BoxStream<'static, TicketEvent>> {
        let filter = filter.unwrap_or_default();
        // A watcher of one ticket wakes only when that ticket has news.
        let one = filter
            .ids
            .as_ref()
            .filter(|ids| ids.len() == 1)
            .map(|ids| Subject::Ticket(ids[0].row()));
        subscribe::<Ticket, _>(ctx, one, after, move |e, principal| match &e.ticket {
            Some(t) if e.kind == Kind::TicketUpdated && filter.matches(t, principal.user_id) => {
                Some(TicketEvent::new(e, principal.tenant_id, t))
            }
            _ => None,
        })
        .await
    }
}
