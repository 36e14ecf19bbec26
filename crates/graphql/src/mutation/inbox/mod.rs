//! The inbox's mutations: starting conversations, replies and inbound messages, internal
//! notes, assignment, the workflow status moves, per-agent read markers and delivery reports
//! (this file); a conversation's own fields and the AI's analysis (`details`), changing and
//! deleting notes (`note_edits`), message feedback (`feedback`), AI threads (`threads`) and seed
//! 002's chats (`chats`). [`InboxMutation`] merges them.
//!
//! Same sequence as every other mutation (see the parent module): authenticate and authorise
//! (viewers may not write, with two exceptions: `markConversationRead` moves only the caller's
//! own read marker, which a read-only member needs as much as anyone to keep their unread
//! counts meaningful, and `setMessageFeedback` only rates a reply), validate and normalise every argument before any SQL, write through
//! `frontdesk_db::inbox` in the request's transaction, read the result back. The semantics
//! (what each write does to the conversation, the allowed status moves, idempotency, locking)
//! are documented where they are implemented, in `frontdesk_db::inbox`.

mod chats;
mod conversation_docs;
mod details;
mod documents;
mod errors;
mod feedback;
mod inputs;
mod metadata;
mod note_edits;
mod threads;

use async_graphql::{Context, MergedObject, Object};
use frontdesk_db::inbox::conversations;
use frontdesk_db::inbox::messages;
use frontdesk_db::inbox::{notes, reads};

use super::inputs::bad;
use super::{read_back, Target};
use crate::entity::{authorize, Op};
use crate::query::Resolve;
use crate::types::enums::{ConversationStatus, DbEnum};
use crate::types::{Conversation, ConversationNote, Member, Message};
use crate::validate::{self, NOTES_MAX};
use crate::{ApiError, NodeRef};
use errors::{conversation_after, inbox_error, Names, CONVERSATION};
use inputs::{
    AddConversationNoteInput, PostMessageInput, RecordInboundMessageInput, StartConversationInput,
    UpdateMessageStatusInput,
};

// ------------------------------------------------------------------------------------------------
// Resolvers
// ------------------------------------------------------------------------------------------------

async fn start(r: &Resolve<'_>, input: StartConversationInput) -> Result<Conversation, ApiError> {
    let me = authorize::<Conversation>(r, Op::Write).await?.user_id;
    let new = input.lower()?;
    if new.assigned_agent_id.is_some_and(|a| a != me) {
        authorize::<Conversation>(r, Op::Named("assign")).await?;
    }
    let mut tx = r.session.tx().await?;
    let started = conversations::start(&mut tx, &new).await.map_err(|e| {
        inbox_error(
            e,
            Names {
                target: CONVERSATION,
                member: "input.assignedAgentId",
            },
        )
    })?;
    read_back(&mut tx, started.id).await
}

async fn post(r: &Resolve<'_>, input: PostMessageInput) -> Result<Message, ApiError> {
    authorize::<Message>(r, Op::Write).await?;
    let (conversation, reply) = input.lower()?;
    let mut tx = r.session.tx().await?;
    let id = messages::post(&mut tx, conversation, &reply)
        .await
        .map_err(|e| {
            inbox_error(
                e,
                Names::of(Target {
                    what: "Conversation",
                    field: "input.conversationId",
                }),
            )
        })?;
    read_back(&mut tx, id).await
}

async fn inbound(r: &Resolve<'_>, input: RecordInboundMessageInput) -> Result<Message, ApiError> {
    authorize::<Message>(r, Op::Write).await?;
    let inbound = input.lower()?;
    let mut tx = r.session.tx().await?;
    let recorded = messages::record_inbound(&mut tx, &inbound)
        .await
        .map_err(|e| {
            inbox_error(
                e,
                Names::of(Target {
                    what: "Message",
                    field: "input.providerMessageId",
                }),
            )
        })?;
    read_back(&mut tx, recorded.id).await
}

async fn add_note(
    r: &Resolve<'_>,
    input: AddConversationNoteInput,
) -> Result<ConversationNote, ApiError> {
    authorize::<ConversationNote>(r, Op::Write).await?;
    let content = validate::required_text("input.content", &input.content, NOTES_MAX)?;
    let mut tx = r.session.tx().await?;
    let id = notes::add(
        &mut tx,
        input.conversation_id.row(),
        &content,
        input.is_visible,
    )
    .await
    .map_err(|e| {
        inbox_error(
            e,
            Names::of(Target {
                what: "Conversation",
                field: "input.conversationId",
            }),
        )
    })?;
    read_back(&mut tx, id).await
}

async fn update_status(
    r: &Resolve<'_>,
    input: UpdateMessageStatusInput,
) -> Result<Message, ApiError> {
    authorize::<Message>(r, Op::Write).await?;
    let field = if input.message_id.is_some() {
        "input.messageId"
    } else {
        "input.providerMessageId"
    };
    let (key, report) = input.lower()?;
    let mut tx = r.session.tx().await?;
    let id = messages::update_status(&mut tx, &key, &report)
        .await
        .map_err(|e| {
            inbox_error(
                e,
                Names::of(Target {
                    what: "Message",
                    field,
                }),
            )
        })?;
    read_back(&mut tx, id).await
}

/// Inbox mutations: the parts above, merged.
#[derive(Debug, Default, MergedObject)]
pub struct InboxMutation(
    WorkflowMutation,
    details::ConversationDetailsMutation,
    note_edits::NoteMutation,
    feedback::FeedbackMutation,
    threads::ThreadMutation,
    chats::ChatMutation,
);

/// Conversations, messages and their workflow.
#[derive(Debug, Default)]
pub struct WorkflowMutation;

#[Object]
impl WorkflowMutation {
    /// Starts a new conversation with an existing customer (`customerId`) or with the customer
    /// with the given phone number, created if the tenant has none (`customer`). Always a new
    /// conversation; inbound messages go to the customer's latest open one on the channel.
    async fn start_conversation(
        &self,
        ctx: &Context<'_>,
        input: StartConversationInput,
    ) -> async_graphql::Result<Conversation> {
        let r = Resolve::new(ctx)?;
        r.run(start(&r, input)).await
    }

    /// Posts a reply by the calling agent (or the AI) into a conversation that is not closed.
    /// The conversation's unread count resets, its last message and response times follow,
    /// and an open or assigned conversation becomes `WAITING` (for the customer).
    async fn post_message(
        &self,
        ctx: &Context<'_>,
        input: PostMessageInput,
    ) -> async_graphql::Result<Message> {
        let r = Resolve::new(ctx)?;
        r.run(post(&r, input)).await
    }

    /// Records a customer's message from a channel webhook. Idempotent on `providerMessageId`:
    /// a repeated post returns the first one's message and changes nothing. It goes into the
    /// named conversation, else the customer's latest open conversation on the channel, opened
    /// on first contact; a waiting or resolved conversation is open again.
    async fn record_inbound_message(
        &self,
        ctx: &Context<'_>,
        input: RecordInboundMessageInput,
    ) -> async_graphql::Result<Message> {
        let r = Resolve::new(ctx)?;
        r.run(inbound(&r, input)).await
    }

    /// Adds an internal note (hidden from the customer unless `isVisible`) by the caller.
    async fn add_conversation_note(
        &self,
        ctx: &Context<'_>,
        input: AddConversationNoteInput,
    ) -> async_graphql::Result<ConversationNote> {
        let r = Resolve::new(ctx)?;
        r.run(add_note(&r, input)).await
    }

    /// Assigns a conversation to an active member who is not a viewer; an `OPEN` conversation
    /// becomes `ASSIGNED`. Claiming it for yourself takes `write:messages`; giving it to
    /// someone else takes `assign:conversations`.
    async fn assign_conversation(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Conversation>,
        agent_id: NodeRef<Member>,
    ) -> async_graphql::Result<Conversation> {
        let (id, agent_id) = (id.row(), agent_id.row());
        let r = Resolve::new(ctx)?;
        r.run(async {
            // Claiming a conversation is ordinary work; handing it to someone else takes
            // `assign:conversations`.
            let me = r.principal()?.user_id;
            let op = if agent_id == me {
                Op::Write
            } else {
                Op::Named("assign")
            };
            authorize::<Conversation>(&r, op).await?;
            let mut tx = r.session.tx().await?;
            let written = conversations::assign(&mut tx, id, agent_id).await;
            conversation_after(&mut tx, id, written).await
        })
        .await
    }

    /// Clears a conversation's assignment (takes `assign:conversations`); an `ASSIGNED`
    /// conversation is `OPEN` again.
    async fn unassign_conversation(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Conversation>,
    ) -> async_graphql::Result<Conversation> {
        let id = id.row();
        let r = Resolve::new(ctx)?;
        r.run(async {
            authorize::<Conversation>(&r, Op::Named("assign")).await?;
            let mut tx = r.session.tx().await?;
            let written = conversations::unassign(&mut tx, id).await;
            conversation_after(&mut tx, id, written).await
        })
        .await
    }

    /// Moves a conversation's workflow status. `OPEN`, `WAITING` and `ASSIGNED` (which needs
    /// an assigned agent) from `OPEN`, `ASSIGNED` or `WAITING`; `RESOLVED` from those too,
    /// recording when, by whom and `resolutionNotes`; `CLOSED` from those or `RESOLVED`,
    /// recording when. Any other move is a `CONFLICT` naming the current status (use
    /// `reopenConversation` for a resolved or closed one).
    async fn set_conversation_status(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Conversation>,
        status: ConversationStatus,
        resolution_notes: Option<String>,
    ) -> async_graphql::Result<Conversation> {
        let id = id.row();
        let r = Resolve::new(ctx)?;
        r.run(async {
            authorize::<Conversation>(&r, Op::Write).await?;
            let notes = validate::optional_text("resolutionNotes", resolution_notes, NOTES_MAX)?;
            if notes.is_some()
                && !matches!(
                    status,
                    ConversationStatus::Resolved | ConversationStatus::Closed
                )
            {
                return Err(bad(
                    "resolutionNotes",
                    "is only kept with status RESOLVED or CLOSED",
                ));
            }
            let mut tx = r.session.tx().await?;
            let written = conversations::set_status(&mut tx, id, status.as_db(), notes).await;
            conversation_after(&mut tx, id, written).await
        })
        .await
    }

    /// Reopens a `RESOLVED` or `CLOSED` conversation: `OPEN`, or `ASSIGNED` when it has an
    /// agent; its resolution and closing times are cleared.
    async fn reopen_conversation(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Conversation>,
    ) -> async_graphql::Result<Conversation> {
        let id = id.row();
        let r = Resolve::new(ctx)?;
        r.run(async {
            authorize::<Conversation>(&r, Op::Write).await?;
            let mut tx = r.session.tx().await?;
            let written = conversations::reopen(&mut tx, id).await;
            conversation_after(&mut tx, id, written).await
        })
        .await
    }

    /// Marks a conversation read for the caller, up to message `upTo` or its latest message.
    /// Read markers never move back. Allowed to viewers too: it changes only their own marker.
    async fn mark_conversation_read(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Conversation>,
        up_to: Option<NodeRef<Message>>,
    ) -> async_graphql::Result<Conversation> {
        let (id, up_to) = (id.row(), up_to.map(|m| m.row()));
        let r = Resolve::new(ctx)?;
        r.run(async {
            r.principal()?;
            let mut tx = r.session.tx().await?;
            let written = reads::mark_read(&mut tx, id, up_to).await;
            conversation_after(&mut tx, id, written).await
        })
        .await
    }

    /// Applies a delivery report to a message, forward only (`PENDING` < `SENT` < `DELIVERED`
    /// < `READ`; `FAILED` only from `PENDING` or `SENT`, and final). A report that would move
    /// the status back, or repeats it, returns the message unchanged: webhooks arrive out of
    /// order.
    async fn update_message_status(
        &self,
        ctx: &Context<'_>,
        input: UpdateMessageStatusInput,
    ) -> async_graphql::Result<Message> {
        let r = Resolve::new(ctx)?;
        r.run(update_status(&r, input)).await
    }
}
