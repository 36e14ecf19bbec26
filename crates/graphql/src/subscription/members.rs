//! `memberUpdated`: the team as it changes — a member's presence, assignment counters, role or
//! active flag, or a new member — from the `member_updated` events of the log (migration 0016).
//! Columns that move on every request (last activity, last sign-in) emit nothing, so a roster
//! is woken only by what it shows.

use async_graphql::{Context, Subscription};
use futures::stream::BoxStream;

use super::hub::Kind;
use super::subscribe;
use crate::types::Member;

/// Live updates of the team.
#[derive(Debug, Default, Clone, Copy)]
pub struct MemberSubscription;

event_object! {
/// A member joined, or their presence, assignment counters, role or active flag changed.
    MemberEvent {
        /// The member, as they were when the event was read.
        member: Member
    }
}

#[Subscription]
impl MemberSubscription {
    /// Members as they join or as their presence status, assignment counters (active, total
    /// and resolved conversations), role or active flag change. With `after` (the cursor of an
    /// earlier event, of this or any other subscription), first every later change in commit
    /// order, then the live stream.
    async fn member_updated(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
    ) -> async_graphql::Result<BoxStream<'static, MemberEvent>> {
        subscribe::<Member, _>(ctx, None, after, |e, principal| match &e.member {
            Some(m) if e.kind == Kind::MemberUpdated => {
                Some(MemberEvent::new(e, principal.tenant_id, m))
            }
            _ => None,
        })
        .await
    }
}
