//! A ticket's status moves (`setTicketStatus`, `resolveTicket`, `closeTicket`,
//! `reopenTicket`) and the customer's rating of a finished ticket (`rateTicket`).
//!
//! The allowed moves and their side effects are defined once, in
//! `frontdesk_db::graph::tickets::status` (see its table). A move the ticket's current status
//! does not allow is a `CONFLICT` naming that status (`the ticket is CLOSED, …`).

use async_graphql::{Context, Object};
use frontdesk_db::graph::tickets::{self, status as moves};
use serde_json::{Map, Value};

use super::{ticket_error, Blame, TICKET};
use crate::entity::{authorize, Op};
use crate::mutation::inputs::bad;
use crate::mutation::read_back;
use crate::query::Resolve;
use crate::types::enums::{DbEnum, ResolutionCategory, TicketStatus};
use crate::types::Ticket;
use crate::validate::{self, NOTES_MAX, REASON_MAX, SUMMARY_MAX, TAGS_MAX};
use crate::{ApiError, NodeRef};

/// The lowest and highest rating.
const RATING: std::ops::RangeInclusive<i32> = 1..=5;

async fn move_to(
    r: &Resolve<'_>,
    id: NodeRef<Ticket>,
    to: TicketStatus,
    resolution: Option<Value>,
) -> Result<Ticket, ApiError> {
    let actor = authorize::<Ticket>(r, Op::Write).await?.user_id;
    let mut tx = r.session.tx().await?;
    moves::set(&mut tx, id.row(), to.as_db(), actor, resolution.as_ref())
        .await
        .map_err(|e| ticket_error(e, Blame::of(TICKET)))?;
    read_back(&mut tx, id.row()).await
}

/// The resolution document without who and when (the database adds those).
fn resolution(
    summary: &str,
    steps: Option<Vec<String>>,
    category: Option<ResolutionCategory>,
) -> Result<Value, ApiError> {
    let mut doc = Map::new();
    let summary = validate::required_text("summary", summary, SUMMARY_MAX)?;
    doc.insert("summary".into(), Value::String(summary));
    let steps = steps.unwrap_or_default();
    if steps.len() > TAGS_MAX {
        return Err(bad(
            "steps",
            format!("has too many steps: at most {TAGS_MAX} are allowed"),
        ));
    }
    let steps = steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            validate::required_text(&format!("steps[{i}]"), s, REASON_MAX).map(Value::String)
        })
        .collect::<Result<Vec<_>, _>>()?;
    doc.insert("steps".into(), Value::Array(steps));
    if let Some(c) = category {
        doc.insert(
            "resolutionCategory".into(),
            Value::String(c.as_db().to_owned()),
        );
    }
    Ok(Value::Object(doc))
}

async fn rate(
    r: &Resolve<'_>,
    id: NodeRef<Ticket>,
    rating: i32,
    comment: Option<String>,
    follow_up_needed: Option<bool>,
) -> Result<Ticket, ApiError> {
    authorize::<Ticket>(r, Op::Write).await?;
    if !RATING.contains(&rating) {
        return Err(bad("rating", "must be between 1 and 5"));
    }
    let mut doc = Map::new();
    doc.insert("rating".into(), Value::from(rating));
    if let Some(c) = validate::optional_text("comment", comment, NOTES_MAX)? {
        doc.insert("comment".into(), Value::String(c));
    }
    doc.insert(
        "followUpNeeded".into(),
        Value::Bool(follow_up_needed.unwrap_or(false)),
    );
    let mut tx = r.session.tx().await?;
    tickets::rate(&mut tx, id.row(), &Value::Object(doc))
        .await
        .map_err(|e| ticket_error(e, Blame::of(TICKET)))?;
    read_back(&mut tx, id.row()).await
}

/// Status moves and ratings.
#[derive(Debug, Default)]
pub struct TicketStatusMutation;

#[Object]
impl TicketStatusMutation {
    /// Moves the ticket to `status` along the allowed transitions:
    /// `IN_PROGRESS`, `WAITING_CUSTOMER` and `WAITING_INTERNAL` from `OPEN` or another of the
    /// three; `RESOLVED` from any unfinished status; `CLOSED` from any unfinished status or
    /// `RESOLVED`; `OPEN` only from `RESOLVED` or `CLOSED` (a reopen). Anything else —
    /// including the status it already has — is a `CONFLICT` naming the current status.
    /// Resolving records `resolutionTime` and who and when; closing records `closedAt`;
    /// reopening clears them. The first move out of `OPEN` by a member other than the opener
    /// sets `firstResponseTime`.
    async fn set_ticket_status(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Ticket>,
        status: TicketStatus,
    ) -> async_graphql::Result<Ticket> {
        let r = Resolve::new(ctx)?;
        r.run(move_to(&r, id, status, None)).await
    }

    /// Resolves an unfinished ticket: status `RESOLVED`, the `resolution` document (summary,
    /// steps, category, and `resolvedBy`/`resolvedAt` of the caller and now), and
    /// `resolutionTime` in minutes since creation.
    async fn resolve_ticket(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Ticket>,
        summary: String,
        steps: Option<Vec<String>>,
        resolution_category: Option<ResolutionCategory>,
    ) -> async_graphql::Result<Ticket> {
        let r = Resolve::new(ctx)?;
        r.run(async {
            authorize::<Ticket>(&r, Op::Write).await?;
            let doc = resolution(&summary, steps, resolution_category)?;
            move_to(&r, id, TicketStatus::Resolved, Some(doc)).await
        })
        .await
    }

    /// Closes the ticket (from any status but `CLOSED`), recording `closedAt`.
    async fn close_ticket(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Ticket>,
    ) -> async_graphql::Result<Ticket> {
        let r = Resolve::new(ctx)?;
        r.run(move_to(&r, id, TicketStatus::Closed, None)).await
    }

    /// Reopens a resolved or closed ticket: status `OPEN`, its resolution, resolution time and
    /// `closedAt` cleared (the customer's feedback stays).
    async fn reopen_ticket(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Ticket>,
    ) -> async_graphql::Result<Ticket> {
        let r = Resolve::new(ctx)?;
        r.run(move_to(&r, id, TicketStatus::Open, None)).await
    }

    /// Records the customer's rating (1–5) of a resolved or closed ticket, with `submittedAt`
    /// now, replacing an earlier rating; an unfinished ticket is a `CONFLICT` naming its
    /// status.
    async fn rate_ticket(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Ticket>,
        rating: i32,
        comment: Option<String>,
        follow_up_needed: Option<bool>,
    ) -> async_graphql::Result<Ticket> {
        let r = Resolve::new(ctx)?;
        r.run(rate(&r, id, rating, comment, follow_up_needed)).await
    }
}
