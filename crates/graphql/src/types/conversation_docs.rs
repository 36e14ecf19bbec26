//! The documents a conversation embeds (seeds 000 and 003): the last-message preview, the
//! voice data of a call, the booking made, the customer's rating and the WhatsApp number.
//!
//! Read leniently (see [`super::lenient`]): every field reads whatever its column's CHECK let
//! through, so an imported or hand-written document never fails a query. Writes go through
//! the inputs of `mutation::inbox::conversation_docs`, which mirror these key for key.

use async_graphql::SimpleObject;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;

use super::enums::{MessageSender, MessageType, Sentiment, VoiceGender};
use super::lenient::{self, lenient_enum};

lenient_enum!(sender, MessageSender);
lenient_enum!(message_type, MessageType);
lenient_enum!(sentiment, Sentiment);
lenient_enum!(voice_gender, VoiceGender);

/// The latest message as the inbox list shows it (003 `lastMessage`), kept by the writer.
#[derive(Debug, Clone, Default, SimpleObject, Deserialize)]
pub struct LastMessagePreview {
    /// Text (or caption).
    #[serde(default, deserialize_with = "lenient::text")]
    pub content: Option<String>,
    /// When it was sent.
    #[serde(default, deserialize_with = "lenient::time")]
    pub timestamp: Option<DateTime<Utc>>,
    /// Who wrote it.
    #[serde(default, deserialize_with = "sender")]
    pub from: Option<MessageSender>,
    /// Kind of content.
    #[graphql(name = "type")]
    #[serde(default, rename = "type", deserialize_with = "message_type")]
    pub kind: Option<MessageType>,
}

/// Voice data of a conversation that was a call (000 `callData`).
#[derive(Debug, Clone, Default, SimpleObject, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationCallData {
    /// Length in seconds.
    #[serde(default, deserialize_with = "lenient::number")]
    pub duration: Option<f64>,
    /// The assistant's voice.
    #[serde(default, deserialize_with = "voice_gender")]
    pub voice_gender: Option<VoiceGender>,
    /// Recording location.
    #[serde(default, deserialize_with = "lenient::text")]
    pub recording_url: Option<String>,
    /// Transcript.
    #[serde(default, deserialize_with = "lenient::text")]
    pub transcription: Option<String>,
    /// Tone of the call.
    #[serde(default, deserialize_with = "sentiment")]
    pub sentiment: Option<Sentiment>,
}

/// What was booked in the conversation (000 `bookingDetails: { service, date, time, price }`).
#[derive(Debug, Clone, Default, SimpleObject, Deserialize)]
pub struct BookingDetails {
    /// Service name.
    #[serde(default, deserialize_with = "lenient::text")]
    pub service: Option<String>,
    /// Day, `YYYY-MM-DD`.
    #[serde(default, deserialize_with = "lenient::text")]
    pub date: Option<String>,
    /// Local time, `HH:MM`.
    #[serde(default, deserialize_with = "lenient::text")]
    pub time: Option<String>,
    /// Price quoted.
    #[serde(default, deserialize_with = "lenient::decimal")]
    pub price: Option<Decimal>,
}

/// The customer's rating of the conversation (003 `customerSatisfaction`).
#[derive(Debug, Clone, Default, SimpleObject, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerSatisfaction {
    /// 1–5.
    #[serde(default, deserialize_with = "lenient::number")]
    pub rating: Option<f64>,
    /// Free comment.
    #[serde(default, deserialize_with = "lenient::text")]
    pub comment: Option<String>,
    /// When it was given.
    #[serde(default, deserialize_with = "lenient::time")]
    pub submitted_at: Option<DateTime<Utc>>,
}

/// The WhatsApp Business number the conversation runs on (003 `whatsappData`).
#[derive(Debug, Clone, Default, SimpleObject, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WhatsappData {
    /// WhatsApp phone number id.
    #[serde(default, deserialize_with = "lenient::text")]
    pub phone_number_id: Option<String>,
    /// WhatsApp Business account id.
    #[serde(default, deserialize_with = "lenient::text")]
    pub business_account_id: Option<String>,
}
