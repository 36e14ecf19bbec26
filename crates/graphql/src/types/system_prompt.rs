//! `SystemPrompt`: a version of the assistant's instructions for one channel (seed 004
//! `system_prompts`). At most one prompt per type is active, enforced by the database
//! (migration 0018); `activateSystemPrompt` switches versions in one transaction. The writes
//! are in `mutation/system_prompt.rs` and `frontdesk_db::graph::system_prompts`.

use chrono::{DateTime, Utc};
use frontdesk_db::query::search::contains_any;
use frontdesk_db::{col, sort, table};

use super::enums::{PromptType, PromptTypeFilter};
use crate::entity::entity;
use crate::list::filter::{BooleanFilter, DateTimeFilter, IdFilter, StringFilter};

entity! {
    /// A version of the assistant's system prompt for a channel.
    SystemPrompt in table!(system_prompts) => {
        /// The channel it instructs the assistant for.
        prompt_type: PromptType,
        /// The instructions.
        system_prompt: String,
        /// A version label (`v1.2.0`).
        prompt_version: String,
        /// Whether it is the one the assistant uses now (at most one per type).
        is_active: bool,
        /// Created.
        created_at: DateTime<Utc>,
        /// Last changed (activation and deactivation included).
        updated_at: DateTime<Utc>,
    }
    filter SystemPromptFilter {
        id: IdFilter [SystemPrompt],
        prompt_type: PromptTypeFilter,
        prompt_version: StringFilter,
        is_active: BooleanFilter,
        created_at: DateTimeFilter,
        updated_at: DateTimeFilter,
    }
    /// Text contained in the prompt or its version label (case-insensitive).
    search: contains_any(&[col!(system_prompt), col!(prompt_version)]);
    order SystemPromptOrder, SystemPromptOrderField {
        /// Creation time.
        CreatedAt => sort!(created_at: timestamptz),
        /// Last change.
        UpdatedAt => sort!(updated_at: timestamptz),
        /// Version label (as text).
        PromptVersion => sort!(prompt_version: text),
    }
    default_order: [CreatedAt desc];
    relations {}
    root: SystemPromptQuery { system_prompt, system_prompts };
    // Like FAQs: tenant-wide configuration of the assistant, `system:admin` to write.
    access: { read: Viewer, write: Supervisor + SystemAdmin, delete: Supervisor + SystemAdmin };
    constraints {
        "system_prompts_one_active_key" => "input.promptType":
            Conflict("another prompt of that type is active; an active prompt cannot move to it"),
    }
    fields {}
}
