//! How tickets relate to each other: undirected links (seed 003 `relatedTickets`, rows of
//! `app.ticket_links`) and the parent a ticket is part of (`parent_ticket_id`).
//!
//! A link is stored as one directed row but means "related" both ways: readers take both
//! directions ([`crate::exprs::tickets::LINKS`]), linking is idempotent in either direction
//! (no row is added when one exists either way), and unlinking removes both directions. Two
//! concurrent opposite links may both store a row; readers still see one relation, and one
//! unlink removes both. A self-link is refused by the API before it gets here (and by the
//! table's CHECK).
//!
//! Parents form a forest: setting a parent that is the ticket itself or one of its
//! descendants is refused ([`TicketError::Cycle`]). The check walks the new parent's
//! ancestors; parent changes of one tenant are serialised by a transaction-scoped advisory
//! lock, so two concurrent changes cannot each pass the check and together close a cycle.
//! (Opening a ticket with a parent needs no lock: a new ticket has no descendants.)

use uuid::Uuid;

use super::{require_ticket, TicketError};
use crate::graph::WriteError;
use crate::TenantTx;

/// Marks tickets `id` and `related` as active (which locks both) and reports which is not
/// visible: `id` as [`WriteError::NotFound`], `related` as [`TicketError::MissingTicket`].
async fn touch_pair(tx: &mut TenantTx, id: Uuid, related: Uuid) -> Result<(), TicketError> {
    let found: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE app.tickets SET last_activity_at = now() WHERE id IN ($1, $2) RETURNING id",
    )
    .bind(id)
    .bind(related)
    .fetch_all(tx.conn())
    .await?;
    if !found.contains(&id) {
        return Err(WriteError::NotFound.into());
    }
    if !found.contains(&related) {
        return Err(TicketError::MissingTicket);
    }
    Ok(())
}

/// Relates tickets `id` and `related` (a no-op when they already are, in either direction).
#[tracing::instrument(skip_all, fields(%id, %related))]
pub async fn link(tx: &mut TenantTx, id: Uuid, related: Uuid) -> Result<(), TicketError> {
    touch_pair(tx, id, related).await?;
    sqlx::query(
        "INSERT INTO app.ticket_links (ticket_id, related_ticket_id)
         SELECT $1, $2 WHERE NOT EXISTS (
           SELECT 1 FROM app.ticket_links
            WHERE (ticket_id, related_ticket_id) IN (($1, $2), ($2, $1)))
         ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(related)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Removes the relation between tickets `id` and `related`, in both directions (a no-op when
/// there is none).
#[tracing::instrument(skip_all, fields(%id, %related))]
pub async fn unlink(tx: &mut TenantTx, id: Uuid, related: Uuid) -> Result<(), TicketError> {
    touch_pair(tx, id, related).await?;
    sqlx::query(
        "DELETE FROM app.ticket_links
          WHERE (ticket_id, related_ticket_id) IN (($1, $2), ($2, $1))",
    )
    .bind(id)
    .bind(related)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Makes `parent` the parent of ticket `id`, or detaches it (`None`); refuses a parent that
/// would make `id` its own ancestor.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn set_parent(
    tx: &mut TenantTx,
    id: Uuid,
    parent: Option<Uuid>,
) -> Result<(), TicketError> {
    if let Some(parent) = parent {
        // Serialise parent changes of this tenant (released at commit or rollback).
        sqlx::query(
            "SELECT pg_advisory_xact_lock(hashtext('app.tickets.parent_ticket_id'),
                                          hashtext(app.current_tenant_id()::text))",
        )
        .execute(tx.conn())
        .await?;
        let found: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM app.tickets WHERE id = $1)")
                .bind(id)
                .fetch_one(tx.conn())
                .await?;
        if !found {
            return Err(WriteError::NotFound.into());
        }
        if parent == id {
            return Err(TicketError::Cycle);
        }
        require_ticket(tx, parent).await?;
        // UNION, not UNION ALL: a cycle already in the data (imported) still ends the walk.
        let cycle: bool = sqlx::query_scalar(
            "WITH RECURSIVE up(id) AS (
               SELECT $2::uuid
               UNION
               SELECT t.parent_ticket_id FROM app.tickets t JOIN up ON t.id = up.id
                WHERE t.parent_ticket_id IS NOT NULL)
             SELECT EXISTS (SELECT 1 FROM up WHERE id = $1)",
        )
        .bind(id)
        .bind(parent)
        .fetch_one(tx.conn())
        .await?;
        if cycle {
            return Err(TicketError::Cycle);
        }
    }
    let done: Option<Uuid> = sqlx::query_scalar(
        "UPDATE app.tickets SET parent_ticket_id = $2, last_activity_at = now()
          WHERE id = $1 RETURNING id",
    )
    .bind(id)
    .bind(parent)
    .fetch_optional(tx.conn())
    .await?;
    done.map(|_| ()).ok_or(WriteError::NotFound.into())
}
