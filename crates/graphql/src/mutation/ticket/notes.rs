//! `addTicketNote`, `updateTicketNote`, `deleteTicketNote`.
//!
//! Any member with the `TicketNote` write access may add a note. Changing or deleting one is
//! for its author, or for a member with the entity's named `moderate` access (supervisors and
//! above with `manage:tickets`); anyone else gets `FORBIDDEN`. A non-internal note by a member
//! other than the ticket's opener may be the ticket's first response (see
//! `frontdesk_db::graph::tickets::notes`).

use async_graphql::{Context, InputObject, MaybeUndefined, Object, SimpleObject, ID};
use frontdesk_db::graph::tickets::notes::{self, NoteFields};

use super::{ticket_error, Blame};
use crate::entity::{authorize, global_id, Entity, Op};
use crate::mutation::inputs::bad;
use crate::mutation::{read_back, update_required, Target};
use crate::query::Resolve;
use crate::types::{Ticket, TicketNote};
use crate::validate::{self, NOTES_MAX, TAGS_MAX};
use crate::{ApiError, NodeRef};

const NOTE: Target = Target {
    what: "TicketNote",
    field: "id",
};

/// Changes to a note: a field left out keeps its value.
#[derive(Debug, Clone, Default, InputObject)]
pub struct UpdateTicketNoteInput {
    /// Text.
    pub content: MaybeUndefined<String>,
    /// Hidden from the customer.
    pub is_internal: MaybeUndefined<bool>,
    /// URLs of attached files (replaces the list; `[]` empties it).
    pub attachments: MaybeUndefined<Vec<String>>,
}

/// The result of `deleteTicketNote`.
#[derive(Debug, Clone, SimpleObject)]
pub struct DeleteTicketNotePayload {
    /// The global id of the note that was deleted.
    pub deleted_id: ID,
}

fn content(field: &str, v: &str) -> Result<String, ApiError> {
    validate::required_text(field, v, NOTES_MAX)
}

/// Attachment URLs: each an http(s) URL, at most [`TAGS_MAX`].
fn urls(field: &str, list: Vec<String>) -> Result<Vec<String>, ApiError> {
    if list.len() > TAGS_MAX {
        return Err(bad(
            field,
            format!("has too many items: at most {TAGS_MAX} are allowed"),
        ));
    }
    list.iter()
        .enumerate()
        .map(|(i, u)| validate::url(&format!("{field}[{i}]"), u))
        .collect()
}

/// Whether the caller may change other members' notes.
async fn moderator(r: &Resolve<'_>) -> Result<bool, ApiError> {
    let rule = TicketNote::ACCESS.rule(Op::Named("moderate"));
    Ok(r.grants().await?.allows(rule))
}

fn blame(target: Target) -> Blame {
    Blame {
        member: "id",
        ticket: "ticketId",
        target,
    }
}

async fn add(
    r: &Resolve<'_>,
    ticket: NodeRef<Ticket>,
    text: String,
    is_internal: Option<bool>,
    attachments: Option<Vec<String>>,
) -> Result<TicketNote, ApiError> {
    let actor = authorize::<TicketNote>(r, Op::Write).await?.user_id;
    let text = content("content", &text)?;
    let attachments = urls("attachments", attachments.unwrap_or_default())?;
    let mut tx = r.session.tx().await?;
    let target = Target {
        what: "Ticket",
        field: "ticketId",
    };
    let id = notes::add(
        &mut tx,
        ticket.row(),
        actor,
        &text,
        is_internal.unwrap_or(true),
        &attachments,
    )
    .await
    .map_err(|e| ticket_error(e, blame(target)))?;
    read_back(&mut tx, id).await
}

async fn update(
    r: &Resolve<'_>,
    id: NodeRef<TicketNote>,
    input: UpdateTicketNoteInput,
) -> Result<TicketNote, ApiError> {
    let actor = authorize::<TicketNote>(r, Op::Write).await?.user_id;
    let fields = NoteFields {
        content: update_required("input.content", input.content, |v| {
            content("input.content", &v)
        })?,
        is_internal: update_required("input.isInternal", input.is_internal, Ok)?,
        attachments: update_required("input.attachments", input.attachments, |v| {
            urls("input.attachments", v)
        })?,
    };
    let moderator = moderator(r).await?;
    let mut tx = r.session.tx().await?;
    notes::update(&mut tx, id.row(), actor, moderator, &fields)
        .await
        .map_err(|e| ticket_error(e, blame(NOTE)))?;
    read_back(&mut tx, id.row()).await
}

async fn delete(
    r: &Resolve<'_>,
    id: NodeRef<TicketNote>,
) -> Result<DeleteTicketNotePayload, ApiError> {
    let actor = authorize::<TicketNote>(r, Op::Write).await?.user_id;
    let moderator = moderator(r).await?;
    let mut tx = r.session.tx().await?;
    notes::delete(&mut tx, id.row(), actor, moderator)
        .await
        .map_err(|e| ticket_error(e, blame(NOTE)))?;
    Ok(DeleteTicketNotePayload {
        deleted_id: global_id::encode(TicketNote::NAME, id.row()),
    })
}

/// Ticket notes.
#[derive(Debug, Default)]
pub struct TicketNoteMutation;

#[Object]
impl TicketNoteMutation {
    /// Adds a note to a ticket as the caller (internal unless `isInternal: false`). Agents and
    /// above with `manage:tickets`.
    async fn add_ticket_note(
        &self,
        ctx: &Context<'_>,
        ticket_id: NodeRef<Ticket>,
        content: String,
        is_internal: Option<bool>,
        attachments: Option<Vec<String>>,
    ) -> async_graphql::Result<TicketNote> {
        let r = Resolve::new(ctx)?;
        r.run(add(&r, ticket_id, content, is_internal, attachments))
            .await
    }

    /// Changes a note: its author may, and supervisors and above (`FORBIDDEN` for anyone
    /// else).
    async fn update_ticket_note(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<TicketNote>,
        input: UpdateTicketNoteInput,
    ) -> async_graphql::Result<TicketNote> {
        let r = Resolve::new(ctx)?;
        r.run(update(&r, id, input)).await
    }

    /// Deletes a note: its author may, and supervisors and above (`FORBIDDEN` for anyone
    /// else).
    async fn delete_ticket_note(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<TicketNote>,
    ) -> async_graphql::Result<DeleteTicketNotePayload> {
        let r = Resolve::new(ctx)?;
        r.run(delete(&r, id)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn note_attachments_are_urls_named_by_index() {
        let err = urls(
            "attachments",
            vec!["https://a.example/x".into(), "nope".into()],
        )
        .expect_err("refused");
        assert!(
            matches!(err, ApiError::BadUserInput { ref field, .. } if field == "attachments[1]")
        );
    }
}
