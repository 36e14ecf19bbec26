//! `ConversationNote`: an internal note agents leave on a conversation (003 internalNotes),
//! never shown to the customer unless marked visible.

use async_graphql::{ComplexObject, Context, SelectionField, SimpleObject};
use chrono::{DateTime, Utc};
use frontdesk_db::query::{Cond, OrderKey, Table};
use uuid::Uuid;

use super::message::link;
use super::{Conversation, Member};
use crate::list::filter::{
    contains_pattern, entity_filter, BooleanFilter, DateTimeFilter, UuidFilter,
};
use crate::list::order::entity_order;
use crate::list::Node;
use crate::prefetch;
use crate::query::Resolve;
use crate::ApiError;

/// An internal note.
// `sqlx(default)`: lists read only the columns a query selects (plus ids and links).
#[derive(Debug, Clone, Default, SimpleObject, sqlx::FromRow)]
#[sqlx(default)]
#[graphql(complex)]
pub struct ConversationNote {
    /// Id.
    pub id: Uuid,
    /// The conversation.
    pub conversation_id: Uuid,
    /// The member who wrote it.
    pub agent_id: Option<Uuid>,
    /// Text.
    pub content: String,
    /// Shown to the customer too.
    pub is_visible: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

pub(crate) static CONVERSATION_NOTES: Table = Table {
    name: "app.conversation_notes",
    columns: "t.id, t.conversation_id, t.agent_id, t.content, t.is_visible, t.created_at, \
              t.updated_at",
};

/// Notes are few per conversation and have no search column: a substring match will do.
fn search(q: &str) -> Cond {
    Cond::Like {
        col: "t.content",
        pattern: contains_pattern(q.trim()),
        insensitive: true,
    }
}

entity_filter! {
    /// Which notes; fields combine with AND.
    ConversationNoteFilter {
        id: UuidFilter => "t.id",
        agent_id: UuidFilter => "t.agent_id",
        is_visible: BooleanFilter => "t.is_visible",
        created_at: DateTimeFilter => "t.created_at",
    }
    /// Text contained in the note (case-insensitive).
    search => search
}

entity_order! {
    /// A note sort key.
    ConversationNoteOrder, ConversationNoteOrderField {
        /// Creation time.
        CreatedAt => ("t.created_at", "timestamptz"),
        /// Last change.
        UpdatedAt => ("t.updated_at", "timestamptz"),
    }
}

impl Node for ConversationNote {
    const NAME: &'static str = "ConversationNote";
    const TABLE: &'static Table = &CONVERSATION_NOTES;
    /// Oldest first: notes read as a log.
    const DEFAULT_ORDER: &'static [OrderKey] = &[OrderKey {
        expr: "t.created_at",
        sql_type: "timestamptz",
        desc: false,
    }];
    type Filter = ConversationNoteFilter;
    type Order = ConversationNoteOrder;
    fn id(&self) -> Uuid {
        self.id
    }

    fn prefetch<'a>(
        r: &'a Resolve<'a>,
        field: SelectionField<'a>,
        path: String,
        rows: &[&Self],
    ) -> Option<prefetch::Task<'a>> {
        Some(match field.name() {
            "agent" => prefetch::linked::<Member>(
                r,
                field,
                path,
                rows.iter().filter_map(|n| n.agent_id).collect(),
            ),
            "conversation" => prefetch::linked::<Conversation>(
                r,
                field,
                path,
                rows.iter().map(|n| n.conversation_id).collect(),
            ),
            _ => return None,
        })
    }
}

#[ComplexObject]
impl ConversationNote {
    /// The member who wrote it.
    async fn agent(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Member>> {
        link(ctx, self.agent_id).await
    }

    /// The conversation.
    async fn conversation(&self, ctx: &Context<'_>) -> async_graphql::Result<Conversation> {
        let r = Resolve::new(ctx)?;
        r.run(async {
            r.loaders
                .load_by_id::<Conversation>(self.conversation_id)
                .await?
                .ok_or(ApiError::NotFound(Conversation::NAME))
        })
        .await
    }
}
