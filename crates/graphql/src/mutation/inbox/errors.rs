//! How the inbox mutations name their failures: [`inbox_error`] maps each
//! [`InboxError`] to the API error naming the argument or input field at fault, with the
//! [`Names`] a mutation gives for its target and its member argument.

use frontdesk_db::inbox::{InboxError, Ref};
use frontdesk_db::TenantTx;
use uuid::Uuid;

use crate::mutation::inputs::bad;
use crate::mutation::{db_error, not_found, read_back, Target};
use crate::types::Conversation;
use crate::validate;
use crate::ApiError;

pub(super) const CONVERSATION: Target = Target {
    what: "Conversation",
    field: "id",
};

/// How one mutation names what its errors are about.
#[derive(Debug, Clone, Copy)]
pub(super) struct Names {
    /// The object the mutation acts on, for [`InboxError::NotFound`].
    pub(super) target: Target,
    /// The argument naming an agent (`agentId`, `input.assignedAgentId`).
    pub(super) member: &'static str,
}

impl Names {
    pub(super) const fn of(target: Target) -> Self {
        Names {
            target,
            member: "agentId",
        }
    }
}

/// The API spelling (`RESOLVED`) of a stored conversation status (`resolved`).
fn status_name(db: &str) -> String {
    db.to_uppercase()
}

/// Optional text of at most `max` characters; blank clears.
pub(super) fn opt_text(
    field: &'static str,
    max: usize,
) -> impl Fn(String) -> Result<Option<String>, ApiError> {
    move |v| validate::optional_text(field, Some(v), max)
}

/// Maps a failed inbox write.
pub(super) fn inbox_error(e: InboxError, names: Names) -> ApiError {
    match e {
        InboxError::NotFound => not_found(names.target.what, names.target.field),
        InboxError::MissingRef(r) => {
            let (field, what) = match r {
                Ref::Customer => ("input.customerId", "Customer"),
                Ref::Conversation => ("input.conversationId", "Conversation"),
                Ref::Member => (names.member, "Member"),
                Ref::ReplyTo => ("input.replyToId", "Message"),
                Ref::UpTo => ("upTo", "Message"),
            };
            not_found(what, field)
        }
        InboxError::Status { current } => ApiError::Conflict(format!(
            "the conversation is {}, which does not allow this change",
            status_name(&current)
        )),
        InboxError::NoAgent => ApiError::Conflict(
            "the conversation has no assigned agent: use assignConversation".into(),
        ),
        InboxError::NotAssignable(why) => bad(names.member, why),
        InboxError::Channel { current } => bad(
            "input.channel",
            format!(
                "does not match the conversation's channel {}",
                current.to_uppercase()
            ),
        ),
        InboxError::CustomerMismatch => {
            bad("input.customerId", "is not the conversation's customer")
        }
        InboxError::NotMember => ApiError::Forbidden(
            "read markers and chats belong to members of the tenant, and this token's user is \
             not one"
                .into(),
        ),
        InboxError::NotAuthor => ApiError::Forbidden(
            "only a note's author may change it; its author or a supervisor may delete it".into(),
        ),
        InboxError::NotApplicable(why) => bad(names.target.field, why),
        InboxError::NoPhone => bad(
            "input.phoneNumber",
            "is required: neither the conversation nor its customer has a phone number",
        ),
        InboxError::Db(e) => db_error(e),
    }
}

/// Maps a failed write on conversation `id` (the `id` argument), or reads it back.
pub(super) async fn conversation_after(
    tx: &mut TenantTx,
    id: Uuid,
    written: Result<(), InboxError>,
) -> Result<Conversation, ApiError> {
    written.map_err(|e| inbox_error(e, Names::of(CONVERSATION)))?;
    read_back(tx, id).await
}
