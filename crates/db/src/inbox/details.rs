//! Changes to a conversation's own fields: how it is handled (priority, category, tags, the AI
//! switches), what the customer thought of it, the WhatsApp number it runs on, and the AI's
//! analysis of it (intent, lead score, conversion probability, outcome, booking, sale, call
//! data, escalation).
//!
//! One partial update serves both `updateConversation` and `recordConversationAnalysis`: they
//! differ in which fields their inputs carry and in who may call them, not in how a column is
//! written. The workflow (`status`), assignment and lifecycle have their own moves
//! (`conversations`, `chats`) and are not fields here. Documents arrive as JSON already shaped
//! and validated by the caller.

use rust_decimal::Decimal;
use serde_json::Value;
use uuid::Uuid;

use super::InboxError;
use crate::graph::{changes, update_row, Changes, Patch, Val, WriteError};
use crate::TenantTx;

/// The writable fields of a conversation, named like their columns; enumerated values take
/// their database spelling. [`Patch::Keep`] leaves a column alone.
#[derive(Debug, Clone, Default)]
pub struct ConversationFields {
    /// Title.
    pub title: Patch<Option<String>>,
    /// `low`, `medium`, `high` or `urgent`.
    pub priority: Patch<&'static str>,
    /// `support`, `sales`, `billing`, `technical`, `complaint` or `other`.
    pub category: Patch<&'static str>,
    /// Labels (replaced as a whole).
    pub tags: Patch<Vec<String>>,
    /// The AI may answer.
    pub is_ai_enabled: Patch<bool>,
    /// The model the AI answers with.
    pub ai_model: Patch<String>,
    /// Automatic replies are on.
    pub auto_responses: Patch<bool>,
    /// The customer's rating (an object: `rating`, `comment`, `submittedAt`).
    pub customer_satisfaction: Patch<Option<Value>>,
    /// The WhatsApp number (an object: `phoneNumberId`, `businessAccountId`).
    pub whatsapp_data: Patch<Option<Value>>,
    /// Free-form data (an object).
    pub metadata: Patch<Value>,
    /// `booking`, `question`, `complaint` or `sale`.
    pub intent: Patch<Option<&'static str>>,
    /// 0–100.
    pub lead_score: Patch<Option<i16>>,
    /// 0–1, 4 decimals.
    pub conversion_probability: Patch<Option<Decimal>>,
    /// `booking_made`, `info_provided`, `escalated` or `sale`.
    pub outcome: Patch<Option<&'static str>>,
    /// What was booked (an object: `service`, `date`, `time`, `price`).
    pub booking_details: Patch<Option<Value>>,
    /// Sale value, >= 0, 2 decimals.
    pub sale_amount: Patch<Option<Decimal>>,
    /// Handed to a person.
    pub escalated_to_human: Patch<bool>,
    /// Voice data of a call (an object: `duration`, `voiceGender`, `recordingUrl`,
    /// `transcription`, `sentiment`).
    pub call_data: Patch<Option<Value>>,
}

fn to_changes(f: &ConversationFields) -> Changes {
    let mut out = changes!(f; title, priority, category, tags, is_ai_enabled, ai_model,
        auto_responses, customer_satisfaction, whatsapp_data, metadata, intent);
    // `Val` has no smallint: the score goes as an integer, narrowed by the column's assignment
    // cast (the CHECK keeps it within 0–100).
    if let Patch::Set(score) = f.lead_score {
        out.push(("lead_score", Val::from(score.map(i32::from))));
    }
    out.extend(
        changes!(f; conversion_probability, outcome, booking_details, sale_amount,
        escalated_to_human, call_data),
    );
    out
}

/// Writes the set fields of conversation `id` (with none set, only checks that it is
/// visible). [`InboxError::NotFound`] when it is not.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn update(
    tx: &mut TenantTx,
    id: Uuid,
    fields: &ConversationFields,
) -> Result<(), InboxError> {
    update_row(tx, "app.conversations", to_changes(fields), id)
        .await
        .map_err(|e| match e {
            WriteError::Db(e) => InboxError::Db(e),
            // `update_row` has no other outcome than the row not being visible.
            _ => InboxError::NotFound,
        })
}
