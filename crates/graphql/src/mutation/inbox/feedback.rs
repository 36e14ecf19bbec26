//! `setMessageFeedback`: a thumbs-up or thumbs-down on a reply after the fact (seed 002), read
//! back as `Message.feedback`. The storage and its rules are in `frontdesk_db::inbox::feedback`.

use async_graphql::{Context, Object};
use frontdesk_db::inbox::feedback;

use super::errors::{inbox_error, Names};
use crate::entity::{authorize, NodeRef, Op};
use crate::mutation::inputs::bad;
use crate::mutation::{read_back, Target};
use crate::query::Resolve;
use crate::types::enums::{DbEnum, FeedbackRating};
use crate::types::Message;
use crate::validate::{self, REASON_MAX};

const MESSAGE: Names = Names::of(Target {
    what: "Message",
    field: "id",
});

/// Message feedback mutations.
#[derive(Debug, Default)]
pub struct FeedbackMutation;

#[Object]
impl FeedbackMutation {
    /// Rates a reply (the AI's, an agent's or the system's; a customer's message is refused)
    /// `THUMBS_UP` or `THUMBS_DOWN`, with an optional comment, replacing any earlier rating;
    /// `rating: null` removes the rating and its comment. Records when and, for a member, by
    /// whom. Open to everyone who may read the message (the `feedback` rule).
    async fn set_message_feedback(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Message>,
        rating: Option<FeedbackRating>,
        comment: Option<String>,
    ) -> async_graphql::Result<Message> {
        let id = id.row();
        let r = Resolve::new(ctx)?;
        r.run(async {
            authorize::<Message>(&r, Op::Named("feedback")).await?;
            let comment = validate::optional_text("comment", comment, REASON_MAX)?;
            if comment.is_some() && rating.is_none() {
                return Err(bad("comment", "is only kept with a rating"));
            }
            let mut tx = r.session.tx().await?;
            feedback::set(&mut tx, id, rating.map(DbEnum::as_db), comment.as_deref())
                .await
                .map_err(|e| inbox_error(e, MESSAGE))?;
            read_back(&mut tx, id).await
        })
        .await
    }
}
