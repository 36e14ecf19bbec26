//! `memberUpdated`: the team as it changes — a member's presence, assignment counters, role or
//! active flag, or a new member — from the `member_updated` events of the log (migration 0016).
//! Columns that move on every request (last activity, last sign-in) emit nothing, so a roster
//! is woken only by what it shows.

use std::sync::Arc;

use async_graphql::{Context, Object, Subscription};
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use uuid::Uuid;

use super::hub::Kind;
use super::{coded, event_cursor, readable, watch};
use crate::types::Member;
use crate::TokenKeys;

/// Live updates of the team.
#[derive(Debug, Default, Clone, Copy)]
pub struct MemberSubscription;

/// A member joined, or their presence, assignment counters, role or active flag changed.
#[derive(Debug)]
pub struct MemberEvent {
    seq: i64,
    tenant: Uuid,
    committed_at: Option<DateTime<Utc>>,
    member: Arc<Member>,
}

#[Object]
impl MemberEvent {
    /// Position of this event in the tenant's commit order: pass it as `after` to resume.
    async fn cursor(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        Ok(event_cursor(
            ctx.data::<TokenKeys>()?,
            self.tenant,
            self.seq,
        ))
    }

    /// When the write committed.
    async fn committed_at(&self) -> Option<DateTime<Utc>> {
        self.committed_at
    }

    /// The member, as they were when the event was read.
    async fn member(&self) -> &Member {
        &self.member
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
    ) -> async_graphql::Result<impl Stream<Item = MemberEvent>> {
        coded(ctx, readable::<Member>(ctx).await)?;
        let (principal, events) = coded(ctx, watch(ctx, None, after).await)?;
        Ok(events.filter_map(move |e| {
            let event = match &e.member {
                Some(m) if e.kind == Kind::MemberUpdated => Some(MemberEvent {
                    seq: e.seq,
                    tenant: principal.tenant_id,
                    committed_at: e.committed_at,
                    member: m.clone(),
                }),
                _ => None,
            };
            futures::future::ready(event)
        }))
    }
}
