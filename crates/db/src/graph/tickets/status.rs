//! A ticket's status moves: the transition table, and the one statement that moves a ticket
//! with the side effects of its target status.
//!
//! # Transitions
//!
//! | to                 | allowed from |
//! |--------------------|--------------|
//! | `in_progress`      | open, waiting_customer, waiting_internal |
//! | `waiting_customer` | open, in_progress, waiting_internal |
//! | `waiting_internal` | open, in_progress, waiting_customer |
//! | `resolved`         | open, in_progress, waiting_customer, waiting_internal |
//! | `closed`           | open, in_progress, waiting_customer, waiting_internal, resolved |
//! | `open` (reopen)    | resolved, closed |
//!
//! So work moves freely between the three working statuses; a ticket is finished by resolving
//! or closing it (a resolved ticket can still be closed); only a finished ticket goes back to
//! `open`, and nothing else does (an unfinished ticket never "un-starts"). Moving to the status
//! a ticket already has is refused like any other move the table does not list.
//!
//! # Side effects, in the same `UPDATE`
//!
//! - every move: `last_activity_at` = now;
//! - **first response**: the first move out of `open` made by a member other than the one who
//!   opened the ticket sets `first_response_time` (minutes since creation), once; so does the
//!   first non-internal note by such a member ([`super::notes::add`]). Assigning or escalating
//!   is not a response: the customer sees nothing of it;
//! - `resolved`: `resolution_time` = minutes since creation; `resolution` = the document given
//!   (summary, steps, resolutionCategory) or an empty one, plus `resolvedBy` (the actor) and
//!   `resolvedAt` (now);
//! - `closed`: `closed_at` = now; `resolution_time` is kept when the ticket was resolved, and
//!   otherwise set (closing is how an unresolved ticket finishes);
//! - `open` (reopen): `closed_at`, `resolution_time` and `resolution` are cleared — the ticket is
//!   unfinished again, and its SLA clock is the one it had (from creation). The customer's
//!   feedback stays: it was given.
//!
//! Race-safe like bookings: the allowed sources are part of the `UPDATE … WHERE`, so of two
//! concurrent moves the second re-evaluates them against the first's committed row; only a
//! move that updated nothing looks the row up again, to tell "not visible" from "in a status
//! that does not allow it" ([`crate::graph::refused_move`]).

use serde_json::Value;
use uuid::Uuid;

use super::{TicketError, MINUTES_SINCE_CREATED, NOW_ISO};
use crate::graph::refused_move;
use crate::TenantTx;

/// The statuses a ticket may move to `to` from (database spellings; see the module docs).
/// Unknown targets allow nothing.
pub fn allowed_from(to: &str) -> &'static [&'static str] {
    match to {
        "in_progress" => &["open", "waiting_customer", "waiting_internal"],
        "waiting_customer" => &["open", "in_progress", "waiting_internal"],
        "waiting_internal" => &["open", "in_progress", "waiting_customer"],
        "resolved" => super::ACTIVE,
        "closed" => &[
            "open",
            "in_progress",
            "waiting_customer",
            "waiting_internal",
            "resolved",
        ],
        "open" => super::FINISHED,
        _ => &[],
    }
}

/// Moves ticket `id` to status `to` as member `actor`, if its current status allows it, with
/// the target's side effects (module docs). `resolution` is the resolution document for a move
/// to `resolved` (ignored otherwise; `None` writes only who and when).
#[tracing::instrument(skip_all, fields(%id, to))]
pub async fn set(
    tx: &mut TenantTx,
    id: Uuid,
    to: &'static str,
    actor: Uuid,
    resolution: Option<&Value>,
) -> Result<(), TicketError> {
    // In SET, the columns on the right are the row's values before the update.
    let sql = format!(
        "UPDATE app.tickets SET
            status = $2,
            last_activity_at = now(),
            first_response_time = CASE
              WHEN first_response_time IS NULL AND status = 'open' AND $2 <> 'open'
                   AND opened_by IS DISTINCT FROM $4
              THEN {MINUTES_SINCE_CREATED} ELSE first_response_time END,
            resolution_time = CASE $2
              WHEN 'resolved' THEN {MINUTES_SINCE_CREATED}
              WHEN 'closed' THEN coalesce(resolution_time, {MINUTES_SINCE_CREATED})
              WHEN 'open' THEN NULL
              ELSE resolution_time END,
            resolution = CASE $2
              WHEN 'resolved' THEN coalesce($5, '{{}}'::jsonb)
                || jsonb_build_object('resolvedBy', $4::text, 'resolvedAt', {NOW_ISO})
              WHEN 'open' THEN NULL
              ELSE resolution END,
            closed_at = CASE $2 WHEN 'closed' THEN now() WHEN 'open' THEN NULL ELSE closed_at END
          WHERE id = $1 AND status = ANY ($3) RETURNING id"
    );
    let moved: Option<Uuid> = sqlx::query_scalar(&sql)
        .bind(id)
        .bind(to)
        .bind(allowed_from(to))
        .bind(actor)
        .bind(resolution)
        .fetch_optional(tx.conn())
        .await?;
    match moved {
        Some(_) => Ok(()),
        None => Err(refused_move(tx, "app.tickets", id).await.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::allowed_from;

    const ALL: [&str; 6] = [
        "open",
        "in_progress",
        "waiting_customer",
        "waiting_internal",
        "resolved",
        "closed",
    ];

    #[test]
    fn no_status_moves_to_itself_and_only_finished_tickets_reopen() {
        for s in ALL {
            assert!(!allowed_from(s).contains(&s), "{s} → {s}");
        }
        assert_eq!(allowed_from("open"), ["resolved", "closed"]);
        assert!(allowed_from("resolved").iter().all(|s| *s != "closed"));
        assert!(allowed_from("nonsense").is_empty());
    }

    #[test]
    fn every_unfinished_status_can_finish() {
        for s in [
            "open",
            "in_progress",
            "waiting_customer",
            "waiting_internal",
        ] {
            assert!(allowed_from("resolved").contains(&s), "{s}");
            assert!(allowed_from("closed").contains(&s), "{s}");
        }
    }
}
