//! `startChat`, `archiveChat`, `deleteChat`: seed 002's chats, a member's conversations with
//! the AI assistant about the tenant, without a customer. What a chat is, its lifecycle moves
//! and its 90-day retention (`expiresAt`) are documented in `frontdesk_db::inbox::chats`.
//!
//! Who may: starting a chat takes the Conversation's `write` rule, and the chat is the
//! caller's. Archiving or deleting one's own chat takes `write` too; someone else's chat (or
//! one whose owner left) takes the `delete` rule (supervisors and up).

use async_graphql::{Context, InputObject, Object};
use frontdesk_db::inbox::chats::{self, NewChat};
use serde_json::Value;
use uuid::Uuid;

use super::errors::{conversation_after, inbox_error, Names, CONVERSATION};
use super::metadata::conversation_metadata;
use crate::entity::{authorize, NodeRef, Op};
use crate::mutation::read_back;
use crate::query::Resolve;
use crate::types::enums::{Channel, DbEnum};
use crate::types::Conversation;
use crate::validate::{self, SHORT_TEXT_MAX};
use crate::ApiError;

/// A new chat.
#[derive(Debug, Clone, Default, InputObject)]
pub struct StartChatInput {
    /// The chat widget's key for it (002 `conversationId`, usually a UUID): letters, digits
    /// and `_ . : -`, unique in the tenant (`CONFLICT` otherwise). Default: a new UUID.
    pub conversation_key: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// Where it happens (default `WEB`, the chat widget).
    pub channel: Option<Channel>,
    /// Free-form data (a JSON object: `platformsQueried` an array, `totalTokensUsed` a number).
    pub metadata: Option<Value>,
}

impl StartChatInput {
    fn lower(self) -> Result<NewChat, ApiError> {
        Ok(NewChat {
            conversation_key: match self.conversation_key {
                Some(k) => validate::provider_id("input.conversationKey", &k)?,
                None => Uuid::new_v4().to_string(),
            },
            title: validate::optional_text("input.title", self.title, SHORT_TEXT_MAX)?,
            channel: self.channel.unwrap_or(Channel::Web).as_db(),
            metadata: match self.metadata {
                Some(m) => Some(conversation_metadata("input.metadata", m)?),
                None => None,
            },
        })
    }
}

/// Moves chat `id` to `target` once the caller is known to be allowed to (see the module
/// docs).
async fn move_chat(
    r: &Resolve<'_>,
    id: NodeRef<Conversation>,
    target: &'static str,
) -> Result<Conversation, ApiError> {
    let id = id.row();
    let me = authorize::<Conversation>(r, Op::Write).await?.user_id;
    let mut tx = r.session.tx().await?;
    let owner = chats::owner(&mut tx, id)
        .await
        .map_err(|e| inbox_error(e, Names::of(CONVERSATION)))?;
    // Only a visible chat is checked for ownership: a missing one is NOT_FOUND and a customer
    // conversation BAD_USER_INPUT (from the move) whoever asks.
    if matches!(owner, Some((true, o)) if o != Some(me)) {
        authorize::<Conversation>(r, Op::Delete).await?;
    }
    let written = chats::move_lifecycle(&mut tx, id, target).await;
    conversation_after(&mut tx, id, written).await
}

/// Chat mutations.
#[derive(Debug, Default)]
pub struct ChatMutation;

#[Object]
impl ChatMutation {
    /// Starts a chat of the caller with the AI assistant (seed 002): a conversation without a
    /// customer, owned by the caller, `ACTIVE`, kept for 90 days from now (`expiresAt`).
    async fn start_chat(
        &self,
        ctx: &Context<'_>,
        input: Option<StartChatInput>,
    ) -> async_graphql::Result<Conversation> {
        let r = Resolve::new(ctx)?;
        r.run(async {
            authorize::<Conversation>(&r, Op::Write).await?;
            let new = input.unwrap_or_default().lower()?;
            let mut tx = r.session.tx().await?;
            let id = chats::start(&mut tx, &new)
                .await
                .map_err(|e| inbox_error(e, Names::of(CONVERSATION)))?;
            read_back(&mut tx, id).await
        })
        .await
    }

    /// Archives an `ACTIVE` chat (`lifecycle: ARCHIVED`). Your own chat, or any chat for
    /// supervisors and up; another lifecycle is a `CONFLICT` naming it.
    async fn archive_chat(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Conversation>,
    ) -> async_graphql::Result<Conversation> {
        let r = Resolve::new(ctx)?;
        r.run(move_chat(&r, id, "archived")).await
    }

    /// Deletes an `ACTIVE` or `ARCHIVED` chat, softly (`lifecycle: DELETED`; the row stays
    /// until the retention purge). Your own chat, or any chat for supervisors and up.
    async fn delete_chat(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Conversation>,
    ) -> async_graphql::Result<Conversation> {
        let r = Resolve::new(ctx)?;
        r.run(move_chat(&r, id, "deleted")).await
    }
}
