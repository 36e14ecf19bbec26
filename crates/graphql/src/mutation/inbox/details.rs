//! `updateConversation` (how the team handles a conversation: priority, category, tags, the
//! AI switches, the customer's rating, the WhatsApp number, title and metadata) and
//! `recordConversationAnalysis` (what the AI provider concluded: intent, lead score,
//! conversion probability, outcome, booking, sale, call data, escalation).
//!
//! Both are partial updates of the same row through `frontdesk_db::inbox::details`: a field
//! left out keeps its value, `null` clears a nullable one, and a field that cannot be empty
//! refuses `null` naming it. They differ in who calls them: the analysis is the AI provider's
//! operation (`analyze` in the Conversation's access rules).

use async_graphql::{Context, InputObject, MaybeUndefined, Object};
use frontdesk_db::inbox::details::{self, ConversationFields};
use rust_decimal::Decimal;
use serde_json::Value;

use super::conversation_docs::{
    BookingDetailsInput, ConversationCallDataInput, CustomerSatisfactionInput, WhatsappDataInput,
};
use super::errors::{conversation_after, opt_text};
use super::metadata::conversation_metadata;
use crate::entity::{authorize, NodeRef, Op};
use crate::mutation::inputs::bad;
use crate::mutation::{update_nullable, update_required};
use crate::query::Resolve;
use crate::types::enums::{
    ConversationCategory, ConversationIntent, ConversationOutcome, ConversationPriority, DbEnum,
};
use crate::types::Conversation;
use crate::validate::{self, SHORT_TEXT_MAX};
use crate::ApiError;

/// The highest lead score.
const SCORE_MAX: i32 = 100;

/// Changes to how a conversation is handled. A field left out keeps its value; `null` clears
/// a nullable field.
#[derive(Debug, Clone, Default, InputObject)]
pub struct UpdateConversationInput {
    /// Title.
    pub title: MaybeUndefined<String>,
    /// Urgency (cannot be cleared).
    pub priority: MaybeUndefined<ConversationPriority>,
    /// Topic (cannot be cleared).
    pub category: MaybeUndefined<ConversationCategory>,
    /// Labels (replaces the list; `[]` empties it).
    pub tags: MaybeUndefined<Vec<String>>,
    /// Whether the AI may answer.
    pub is_ai_enabled: MaybeUndefined<bool>,
    /// The model the AI answers with (`gpt-4`, `gpt-4o-mini`, …).
    pub ai_model: MaybeUndefined<String>,
    /// Whether automatic replies are on.
    pub auto_responses: MaybeUndefined<bool>,
    /// The customer's rating (replaces the stored one).
    pub customer_satisfaction: MaybeUndefined<CustomerSatisfactionInput>,
    /// The WhatsApp number it runs on (replaces the stored one).
    pub whatsapp_data: MaybeUndefined<WhatsappDataInput>,
    /// Free-form data (a JSON object; replaces the stored one, `{}` empties it).
    pub metadata: MaybeUndefined<Value>,
}

/// The AI's analysis of a conversation. A field left out keeps its value; `null` clears a
/// nullable field.
#[derive(Debug, Clone, Default, InputObject)]
pub struct RecordConversationAnalysisInput {
    /// What the customer wanted.
    pub intent: MaybeUndefined<ConversationIntent>,
    /// Lead score, 0–100.
    pub lead_score: MaybeUndefined<i32>,
    /// Chance of conversion, 0–1 (kept to 4 decimals).
    pub conversion_probability: MaybeUndefined<f64>,
    /// How it ended.
    pub outcome: MaybeUndefined<ConversationOutcome>,
    /// What was booked (replaces the stored details).
    pub booking_details: MaybeUndefined<BookingDetailsInput>,
    /// Sale value (non-negative, at most 2 decimals).
    pub sale_amount: MaybeUndefined<Decimal>,
    /// Handed to a person (cannot be cleared).
    pub escalated_to_human: MaybeUndefined<bool>,
    /// Voice data, when the conversation was a call (replaces the stored data).
    pub call_data: MaybeUndefined<ConversationCallDataInput>,
}

impl UpdateConversationInput {
    fn lower(self) -> Result<ConversationFields, ApiError> {
        Ok(ConversationFields {
            title: update_nullable(self.title, opt_text("input.title", SHORT_TEXT_MAX))?,
            priority: update_required("input.priority", self.priority, |v| Ok(v.as_db()))?,
            category: update_required("input.category", self.category, |v| Ok(v.as_db()))?,
            tags: update_required("input.tags", self.tags, |v| validate::tags("input.tags", v))?,
            is_ai_enabled: update_required("input.isAiEnabled", self.is_ai_enabled, Ok)?,
            ai_model: update_required("input.aiModel", self.ai_model, |v| {
                validate::required_text("input.aiModel", &v, SHORT_TEXT_MAX)
            })?,
            auto_responses: update_required("input.autoResponses", self.auto_responses, Ok)?,
            customer_satisfaction: update_nullable(self.customer_satisfaction, |v| {
                v.lower("input.customerSatisfaction").map(Some)
            })?,
            whatsapp_data: update_nullable(self.whatsapp_data, |v| {
                v.lower("input.whatsappData").map(Some)
            })?,
            metadata: update_required("input.metadata", self.metadata, |v| {
                conversation_metadata("input.metadata", v)
            })?,
            ..ConversationFields::default()
        })
    }
}

fn score(v: i32) -> Result<Option<i16>, ApiError> {
    if !(0..=SCORE_MAX).contains(&v) {
        return Err(bad(
            "input.leadScore",
            format!("must be between 0 and {SCORE_MAX}"),
        ));
    }
    i16::try_from(v)
        .map(Some)
        .map_err(|_| bad("input.leadScore", "is out of range"))
}

impl RecordConversationAnalysisInput {
    fn lower(self) -> Result<ConversationFields, ApiError> {
        Ok(ConversationFields {
            intent: update_nullable(self.intent, |v| Ok(Some(v.as_db())))?,
            lead_score: update_nullable(self.lead_score, score)?,
            conversion_probability: update_nullable(self.conversion_probability, |v| {
                validate::confidence("input.conversionProbability", v).map(Some)
            })?,
            outcome: update_nullable(self.outcome, |v| Ok(Some(v.as_db())))?,
            booking_details: update_nullable(self.booking_details, |v| {
                v.lower("input.bookingDetails").map(Some)
            })?,
            sale_amount: update_nullable(self.sale_amount, |v| {
                validate::money("input.saleAmount", v).map(Some)
            })?,
            escalated_to_human: update_required(
                "input.escalatedToHuman",
                self.escalated_to_human,
                Ok,
            )?,
            call_data: update_nullable(self.call_data, |v| v.lower("input.callData").map(Some))?,
            ..ConversationFields::default()
        })
    }
}

/// Writes `fields` to conversation `id` and reads it back.
async fn write(
    r: &Resolve<'_>,
    id: NodeRef<Conversation>,
    fields: ConversationFields,
) -> Result<Conversation, ApiError> {
    let id = id.row();
    let mut tx = r.session.tx().await?;
    let written = details::update(&mut tx, id, &fields).await;
    conversation_after(&mut tx, id, written).await
}

/// Conversation field mutations.
#[derive(Debug, Default)]
pub struct ConversationDetailsMutation;

#[Object]
impl ConversationDetailsMutation {
    /// Changes how a conversation is handled: title, priority, category, tags, the AI switches
    /// (`isAiEnabled`, `aiModel`, `autoResponses`), the customer's rating, the WhatsApp number
    /// and metadata. The workflow status, assignment and a chat's lifecycle have their own
    /// mutations.
    async fn update_conversation(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Conversation>,
        input: UpdateConversationInput,
    ) -> async_graphql::Result<Conversation> {
        let r = Resolve::new(ctx)?;
        r.run(async {
            authorize::<Conversation>(&r, Op::Write).await?;
            let fields = input.lower()?;
            write(&r, id, fields).await
        })
        .await
    }

    /// Records the AI provider's analysis of a conversation: intent, lead score, conversion
    /// probability, outcome, booking details, sale amount, call data and whether it went to a
    /// person. Partial: send what was (re)computed.
    async fn record_conversation_analysis(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Conversation>,
        input: RecordConversationAnalysisInput,
    ) -> async_graphql::Result<Conversation> {
        let r = Resolve::new(ctx)?;
        r.run(async {
            authorize::<Conversation>(&r, Op::Named("analyze")).await?;
            let fields = input.lower()?;
            write(&r, id, fields).await
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use frontdesk_db::graph::Patch;

    #[test]
    fn cleared_required_fields_and_out_of_range_scores_are_named() {
        let input = UpdateConversationInput {
            priority: MaybeUndefined::Null,
            ..UpdateConversationInput::default()
        };
        assert!(
            matches!(input.lower(), Err(ApiError::BadUserInput { field, .. })
            if field == "input.priority")
        );
        let input = RecordConversationAnalysisInput {
            lead_score: MaybeUndefined::Value(101),
            ..RecordConversationAnalysisInput::default()
        };
        assert!(
            matches!(input.lower(), Err(ApiError::BadUserInput { field, .. })
            if field == "input.leadScore")
        );
        let input = RecordConversationAnalysisInput {
            sale_amount: MaybeUndefined::Value(Decimal::new(1, 3)),
            ..RecordConversationAnalysisInput::default()
        };
        let fields = input.lower();
        assert!(matches!(fields, Err(ApiError::BadUserInput { field, .. })
            if field == "input.saleAmount"));
        assert!(matches!(
            RecordConversationAnalysisInput::default()
                .lower()
                .map(|f| f.sale_amount),
            Ok(Patch::Keep)
        ));
    }
}
