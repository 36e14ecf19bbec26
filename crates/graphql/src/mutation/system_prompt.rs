//! `createSystemPrompt`, `updateSystemPrompt`, `deleteSystemPrompt`, `activateSystemPrompt`:
//! versions of the assistant's instructions, at most one active per type.
//!
//! Which prompt is active changes only through activation: `activateSystemPrompt`, or
//! `createSystemPrompt` with `isActive: true`. Both deactivate the type's previous active
//! prompt in the same transaction (the choice for creation: replacing the live prompt is what
//! a client creating an active version means; refusing would make it two calls for one
//! intent). A new prompt is inactive unless asked, so drafting a version never changes what
//! the assistant says. `frontdesk_db::graph::system_prompts` explains how the database's
//! one-active rule and concurrent activations are kept; moving an active prompt to a type
//! that has an active prompt is the one write left that breaks it (`CONFLICT` on
//! `input.promptType`). Who may: what `SystemPrompt` declares (a supervisor with
//! `system:admin`).

use async_graphql::{Context, InputObject, MaybeUndefined, Object, SimpleObject, ID};
use frontdesk_db::graph::system_prompts::{self, PromptFields};
use frontdesk_db::graph::Patch;

use super::{create_field, read_back, update_required, write_error, Target};
use crate::entity::{authorize, global_id, NodeRef, Op};
use crate::query::Resolve;
use crate::types::enums::{DbEnum, PromptType};
use crate::types::SystemPrompt;
use crate::validate;
use crate::ApiError;

const PROMPT: Target = Target {
    what: "SystemPrompt",
    field: "id",
};

/// Longest prompt text: a few pages of instructions (a long prompt costs on every call).
pub const PROMPT_MAX: usize = 50_000;

/// Longest version label.
pub const VERSION_MAX: usize = 50;

/// A new prompt version.
#[derive(Debug, Clone, InputObject)]
pub struct CreateSystemPromptInput {
    /// The channel it instructs the assistant for.
    pub prompt_type: PromptType,
    /// The instructions (at most 50,000 characters).
    pub system_prompt: String,
    /// A version label (default `v1.0.0`; at most 50 characters).
    pub prompt_version: Option<String>,
    /// Make it the active prompt of its type at once, deactivating the previous one (default
    /// false: a draft until `activateSystemPrompt`).
    #[graphql(default)]
    pub is_active: bool,
}

/// Changes to a prompt: a field left out keeps its value; none of them can be cleared.
/// Whether it is active changes only with `activateSystemPrompt`.
#[derive(Debug, Clone, Default, InputObject)]
pub struct UpdateSystemPromptInput {
    /// The channel (an active prompt cannot move to a channel that has an active prompt).
    pub prompt_type: MaybeUndefined<PromptType>,
    /// The instructions.
    pub system_prompt: MaybeUndefined<String>,
    /// The version label.
    pub prompt_version: MaybeUndefined<String>,
}

/// The result of `deleteSystemPrompt`.
#[derive(Debug, Clone, SimpleObject)]
pub struct DeleteSystemPromptPayload {
    /// The global id of the prompt that was deleted.
    pub deleted_id: ID,
}

fn prompt(v: String) -> Result<String, ApiError> {
    validate::required_text("input.systemPrompt", &v, PROMPT_MAX)
}

fn version(v: String) -> Result<String, ApiError> {
    validate::required_text("input.promptVersion", &v, VERSION_MAX)
}

impl CreateSystemPromptInput {
    fn lower(self) -> Result<(PromptFields, bool), ApiError> {
        let fields = PromptFields {
            prompt_type: Patch::Set(self.prompt_type.as_db()),
            system_prompt: Patch::Set(prompt(self.system_prompt)?),
            prompt_version: create_field(self.prompt_version, version)?,
        };
        Ok((fields, self.is_active))
    }
}

impl UpdateSystemPromptInput {
    fn lower(self) -> Result<PromptFields, ApiError> {
        Ok(PromptFields {
            prompt_type: update_required("input.promptType", self.prompt_type, |v| Ok(v.as_db()))?,
            system_prompt: update_required("input.systemPrompt", self.system_prompt, prompt)?,
            prompt_version: update_required("input.promptVersion", self.prompt_version, version)?,
        })
    }
}

async fn create(r: &Resolve<'_>, input: CreateSystemPromptInput) -> Result<SystemPrompt, ApiError> {
    authorize::<SystemPrompt>(r, Op::Write).await?;
    let (fields, active) = input.lower()?;
    let mut tx = r.session.tx().await?;
    let id = system_prompts::create(&mut tx, &fields, active)
        .await
        .map_err(|e| write_error(e, PROMPT))?;
    read_back(&mut tx, id).await
}

async fn update(
    r: &Resolve<'_>,
    id: NodeRef<SystemPrompt>,
    input: UpdateSystemPromptInput,
) -> Result<SystemPrompt, ApiError> {
    authorize::<SystemPrompt>(r, Op::Write).await?;
    let fields = input.lower()?;
    let mut tx = r.session.tx().await?;
    system_prompts::update(&mut tx, id.row(), &fields)
        .await
        .map_err(|e| write_error(e, PROMPT))?;
    read_back(&mut tx, id.row()).await
}

async fn delete(
    r: &Resolve<'_>,
    id: NodeRef<SystemPrompt>,
) -> Result<DeleteSystemPromptPayload, ApiError> {
    authorize::<SystemPrompt>(r, Op::Delete).await?;
    let mut tx = r.session.tx().await?;
    system_prompts::delete(&mut tx, id.row())
        .await
        .map_err(|e| write_error(e, PROMPT))?;
    Ok(DeleteSystemPromptPayload {
        deleted_id: global_id::encode("SystemPrompt", id.row()),
    })
}

async fn activate(r: &Resolve<'_>, id: NodeRef<SystemPrompt>) -> Result<SystemPrompt, ApiError> {
    authorize::<SystemPrompt>(r, Op::Write).await?;
    let mut tx = r.session.tx().await?;
    system_prompts::activate(&mut tx, id.row())
        .await
        .map_err(|e| write_error(e, PROMPT))?;
    read_back(&mut tx, id.row()).await
}

/// System prompt mutations.
#[derive(Debug, Default)]
pub struct SystemPromptMutation;

#[Object]
impl SystemPromptMutation {
    /// Creates a prompt version, inactive unless `isActive` is true, in which case it
    /// replaces the active prompt of its type (deactivated in the same transaction).
    /// Supervisors and above with `system:admin`.
    async fn create_system_prompt(
        &self,
        ctx: &Context<'_>,
        input: CreateSystemPromptInput,
    ) -> async_graphql::Result<SystemPrompt> {
        let r = Resolve::new(ctx)?;
        r.run(create(&r, input)).await
    }

    /// Changes the fields given; fields left out keep their values. Moving an active prompt
    /// to a type that has an active prompt is a `CONFLICT` on `input.promptType`. Supervisors
    /// and above with `system:admin`.
    async fn update_system_prompt(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<SystemPrompt>,
        input: UpdateSystemPromptInput,
    ) -> async_graphql::Result<SystemPrompt> {
        let r = Resolve::new(ctx)?;
        r.run(update(&r, id, input)).await
    }

    /// Deletes a prompt version (deleting the active one leaves its type without an active
    /// prompt). Supervisors and above with `system:admin`.
    async fn delete_system_prompt(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<SystemPrompt>,
    ) -> async_graphql::Result<DeleteSystemPromptPayload> {
        let r = Resolve::new(ctx)?;
        r.run(delete(&r, id)).await
    }

    /// Makes a prompt the active one of its type and deactivates the previous active prompt,
    /// in one transaction. Concurrent activations run one after the other: the last one wins
    /// and there is never more than one active prompt per type. Activating the active prompt
    /// changes nothing. Supervisors and above with `system:admin`.
    async fn activate_system_prompt(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<SystemPrompt>,
    ) -> async_graphql::Result<SystemPrompt> {
        let r = Resolve::new(ctx)?;
        r.run(activate(&r, id)).await
    }
}
