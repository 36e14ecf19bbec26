//! The list of entities: Relay's `Node` interface over all of them, the `node` look-up by
//! type, and the root fields of those that have them.
//!
//! This is the one place a new entity is named besides its own file.

use async_graphql::{Context, MergedObject, ID};
use uuid::Uuid;

use super::read_ahead;
use crate::query::Resolve;
use crate::types::*;
use crate::ApiError;

macro_rules! entities {
    (nodes: [$($ty:ident),* $(,)?], roots: [$($root:ident),* $(,)?]) => {
        /// An object with a global id (Relay's Global Object Identification).
        #[derive(async_graphql::Interface)]
        #[graphql(
            name = "Node",
            field(name = "id", ty = "ID", desc = "The global id: opaque, stable, names the type.")
        )]
        #[allow(clippy::large_enum_variant)]
        pub enum AnyNode {
            $( #[doc = stringify!($ty)] $ty($ty), )*
        }

        impl std::fmt::Debug for AnyNode {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self { $( AnyNode::$ty(n) => write!(f, "{}({})", stringify!($ty), n.id), )* }
            }
        }

        /// Row `id` of the type named `type_name`, with its selection read ahead; `None` when
        /// it is not visible.
        pub(crate) async fn load_node(
            ctx: &Context<'_>,
            r: &Resolve<'_>,
            type_name: &str,
            id: Uuid,
        ) -> Result<Option<AnyNode>, ApiError> {
            match type_name {
                $(
                    stringify!($ty) => {
                        if super::authorize::<$ty>(r, super::Op::Read).await.is_err() {
                            return Ok(None);
                        }
                        let Some(row) = r.loaders.load_by_id::<$ty>(id).await? else {
                            return Ok(None);
                        };
                        let tasks = read_ahead::object(r, ctx.field().selection_set(), &[&row]);
                        read_ahead::run(tasks).await?;
                        Ok(Some(AnyNode::$ty(row)))
                    }
                )*
                other => Err(ApiError::BadUserInput {
                    field: "id".into(),
                    message: format!("{other:?} is not a type of this API"),
                }),
            }
        }

        /// The constraint named `name`, declared by any entity.
        pub(crate) fn constraint(name: &str) -> Option<&'static super::Constraint> {
            [$( <$ty as super::Entity>::CONSTRAINTS ),*]
                .into_iter()
                .flatten()
                .find(|c| c.name == name)
        }

        /// The input field a column CHECK guards, from PostgreSQL's default constraint name
        /// `{table}_{column}_check` on any entity's table (`bookings_payment_amount_check` →
        /// `input.paymentAmount`).
        pub(crate) fn checked_field(constraint: &str) -> Option<String> {
            let column = [$( <$ty as super::Entity>::table().name ),*]
                .into_iter()
                .filter_map(|t| t.strip_prefix("app."))
                .find_map(|t| constraint.strip_prefix(t)?.strip_prefix('_')?.strip_suffix("_check"))?;
            Some(crate::mutation::input_field(column))
        }

        /// The entity served by root field `field` (camelCase) and whether it is the by-id
        /// field, for compiled reads ([`crate::direct`]).
        pub(crate) fn direct_root(field: &str) -> Option<(crate::direct::Described, bool)> {
            use std::collections::HashMap;
            use std::sync::LazyLock;
            use crate::direct::{camel, describe, Described};
            static ROOTS: LazyLock<HashMap<String, (Described, bool)>> = LazyLock::new(|| {
                let mut roots = HashMap::new();
                $(
                    if let Some((one, many)) = <$ty as super::Entity>::ROOT {
                        roots.insert(camel(one), (describe::<$ty>(), true));
                        roots.insert(camel(many), (describe::<$ty>(), false));
                    }
                )*
                roots
            });
            ROOTS.get(field).copied()
        }

        /// Every entity's root fields (`customer`, `customers`, …).
        #[derive(Debug, Default, MergedObject)]
        pub struct EntityQuery($( $root ),*);
    };
}

entities! {
    nodes: [
        Customer, Booking, Call, SmsMessage, Conversation, Message, ConversationNote, Member,
        Lead, Ticket, TicketNote, ConversationThread, DemoRequest, DemoRequestNote,
        Assistant,
        Faq, SystemPrompt, TenantSetting,
        Integration,
        AuditEntry,
    ],
    roots: [
        CustomerQuery, BookingQuery, CallQuery, SmsMessageQuery, ConversationQuery, MemberQuery,
        LeadQuery, TicketQuery, ConversationThreadQuery, DemoRequestQuery,
        AssistantQuery,
        FaqQuery, SystemPromptQuery, TenantSettingQuery,
        IntegrationQuery, PlatformDemoDataQuery,
        AuditEntryQuery,
    ]
}
