//! `createConversationThread`, `updateConversationThread`, `deleteConversationThread`: the AI
//! provider's threads behind conversations (seed 003 `ConversationThread`). The defaults and
//! the one-active-thread rotation are documented in `frontdesk_db::inbox::threads`.

use async_graphql::{Context, InputObject, MaybeUndefined, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use frontdesk_db::graph::Patch;
use frontdesk_db::inbox::threads::{self, ThreadFields};

use super::errors::{inbox_error, Names};
use crate::entity::{authorize, global_id, NodeRef, Op};
use crate::mutation::{create_field, read_back, update_nullable, update_required, Target};
use crate::query::Resolve;
use crate::types::{Conversation, ConversationThread, Customer};
use crate::validate;
use crate::ApiError;

const THREAD: Target = Target {
    what: "ConversationThread",
    field: "id",
};

/// A new thread. Its customer defaults to the conversation's, its phone number to the
/// customer's (else the conversation's contact number).
#[derive(Debug, Clone, InputObject)]
pub struct CreateConversationThreadInput {
    /// The provider's thread id (OpenAI `thread_…`), unique in the tenant.
    pub thread_id: String,
    /// The conversation it serves.
    pub conversation_id: Option<NodeRef<Conversation>>,
    /// The customer (must be the conversation's, when both are given).
    pub customer_id: Option<NodeRef<Customer>>,
    /// The WhatsApp number, international format (stored as E.164).
    pub phone_number: Option<String>,
    /// Messages exchanged so far (default 0).
    pub message_count: Option<i32>,
    /// The latest exchange.
    pub last_interaction: Option<DateTime<Utc>>,
    /// The latest history trim.
    pub last_cleanup: Option<DateTime<Utc>>,
    /// The conversation's current thread (default true; makes its previous one inactive).
    pub is_active: Option<bool>,
}

/// Changes to a thread: a field left out keeps its value, `null` clears a nullable one.
#[derive(Debug, Clone, Default, InputObject)]
pub struct UpdateConversationThreadInput {
    /// The provider's thread id (cannot be cleared).
    pub thread_id: MaybeUndefined<String>,
    /// The WhatsApp number (cannot be cleared).
    pub phone_number: MaybeUndefined<String>,
    /// Messages exchanged (cannot be cleared).
    pub message_count: MaybeUndefined<i32>,
    /// The latest exchange.
    pub last_interaction: MaybeUndefined<DateTime<Utc>>,
    /// The latest history trim.
    pub last_cleanup: MaybeUndefined<DateTime<Utc>>,
    /// The conversation's current thread (true makes its other thread inactive).
    pub is_active: MaybeUndefined<bool>,
}

/// The result of `deleteConversationThread`.
#[derive(Debug, Clone, SimpleObject)]
pub struct DeleteConversationThreadPayload {
    /// The global id of the thread that was deleted.
    pub deleted_id: ID,
}

fn thread_id(v: String) -> Result<String, ApiError> {
    validate::provider_id("input.threadId", &v)
}

fn phone(v: String) -> Result<String, ApiError> {
    validate::phone("input.phoneNumber", &v)
}

fn count(v: i32) -> Result<i32, ApiError> {
    validate::non_negative_int("input.messageCount", v)
}

impl CreateConversationThreadInput {
    fn lower(self) -> Result<ThreadFields, ApiError> {
        Ok(ThreadFields {
            conversation_id: create_field(self.conversation_id, |c| Ok(Some(c.row())))?,
            customer_id: create_field(self.customer_id, |c| Ok(Some(c.row())))?,
            phone_number: create_field(self.phone_number, phone)?,
            thread_id: Patch::Set(thread_id(self.thread_id)?),
            message_count: create_field(self.message_count, count)?,
            last_interaction: create_field(self.last_interaction, |t| Ok(Some(t)))?,
            last_cleanup: create_field(self.last_cleanup, |t| Ok(Some(t)))?,
            is_active: create_field(self.is_active, Ok)?,
        })
    }
}

impl UpdateConversationThreadInput {
    fn lower(self) -> Result<ThreadFields, ApiError> {
        Ok(ThreadFields {
            thread_id: update_required("input.threadId", self.thread_id, thread_id)?,
            phone_number: update_required("input.phoneNumber", self.phone_number, phone)?,
            message_count: update_required("input.messageCount", self.message_count, count)?,
            last_interaction: update_nullable(self.last_interaction, |t| Ok(Some(t)))?,
            last_cleanup: update_nullable(self.last_cleanup, |t| Ok(Some(t)))?,
            is_active: update_required("input.isActive", self.is_active, Ok)?,
            ..ThreadFields::default()
        })
    }
}

/// Thread mutations.
#[derive(Debug, Default)]
pub struct ThreadMutation;

#[Object]
impl ThreadMutation {
    /// Records an AI provider thread, usually the new current thread of a conversation (the
    /// conversation's previous active thread becomes inactive).
    async fn create_conversation_thread(
        &self,
        ctx: &Context<'_>,
        input: CreateConversationThreadInput,
    ) -> async_graphql::Result<ConversationThread> {
        let r = Resolve::new(ctx)?;
        r.run(async {
            authorize::<ConversationThread>(&r, Op::Write).await?;
            let fields = input.lower()?;
            let mut tx = r.session.tx().await?;
            let id = threads::create(&mut tx, &fields)
                .await
                .map_err(|e| inbox_error(e, Names::of(THREAD)))?;
            read_back(&mut tx, id).await
        })
        .await
    }

    /// Changes a thread (its conversation and customer stay). Making it active makes the
    /// conversation's other active thread inactive.
    async fn update_conversation_thread(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<ConversationThread>,
        input: UpdateConversationThreadInput,
    ) -> async_graphql::Result<ConversationThread> {
        let id = id.row();
        let r = Resolve::new(ctx)?;
        r.run(async {
            authorize::<ConversationThread>(&r, Op::Write).await?;
            let fields = input.lower()?;
            let mut tx = r.session.tx().await?;
            threads::update(&mut tx, id, &fields)
                .await
                .map_err(|e| inbox_error(e, Names::of(THREAD)))?;
            read_back(&mut tx, id).await
        })
        .await
    }

    /// Deletes a thread (supervisors and up).
    async fn delete_conversation_thread(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<ConversationThread>,
    ) -> async_graphql::Result<DeleteConversationThreadPayload> {
        let id = id.row();
        let r = Resolve::new(ctx)?;
        r.run(async {
            authorize::<ConversationThread>(&r, Op::Delete).await?;
            let mut tx = r.session.tx().await?;
            threads::delete(&mut tx, id)
                .await
                .map_err(|e| inbox_error(e, Names::of(THREAD)))?;
            Ok::<_, ApiError>(DeleteConversationThreadPayload {
                deleted_id: global_id::encode("ConversationThread", id),
            })
        })
        .await
    }
}
