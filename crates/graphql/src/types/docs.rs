//! Typed views of the JSON documents the seeds spell out field by field.
//!
//! Stored as JSONB (shape-checked by the migrations), read with serde, exposed as GraphQL
//! objects. Unknown keys are ignored on read, so older rows never fail to load.

use async_graphql::SimpleObject;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A postal address (seed 003).
#[derive(Debug, Clone, Default, SimpleObject, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// Street and number.
    pub street: Option<String>,
    /// City.
    pub city: Option<String>,
    /// State or region.
    pub state: Option<String>,
    /// Country.
    pub country: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// Position on the map.
    pub coordinates: Option<Coordinates>,
}

/// A point on the map.
#[derive(Debug, Clone, Copy, Default, SimpleObject, Serialize, Deserialize)]
pub struct Coordinates {
    /// Degrees north (−90…90).
    pub latitude: Option<f64>,
    /// Degrees east (−180…180).
    pub longitude: Option<f64>,
}

/// How a customer likes to be contacted (seed 003).
#[derive(Debug, Clone, Default, SimpleObject, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerPreferences {
    /// Preferred language code.
    pub language: Option<String>,
    /// When the customer may be contacted.
    pub communication_hours: Option<CommunicationHours>,
}

/// A daily contact window, local time `HH:MM`.
#[derive(Debug, Clone, Default, SimpleObject, Serialize, Deserialize)]
pub struct CommunicationHours {
    /// Window start.
    pub start: Option<String>,
    /// Window end.
    pub end: Option<String>,
}

/// The AI's analysis of a call (seed 001).
#[derive(Debug, Clone, Default, SimpleObject, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallAnalysis {
    /// Overall sentiment as the analyser reported it.
    pub sentiment: Option<String>,
    /// Topics discussed.
    #[serde(default)]
    pub topics: Vec<String>,
    /// Keywords spotted.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Follow-ups promised on the call.
    #[serde(default)]
    pub action_items: Vec<String>,
    /// Someone must call back.
    pub follow_up_required: Option<bool>,
}

/// What a call cost, per provider (seed 000).
#[derive(Debug, Clone, Default, SimpleObject, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CostBreakdown {
    /// Telephony cost.
    pub call_cost: Option<Decimal>,
    /// Characters synthesised by ElevenLabs.
    pub eleven_labs_chars: Option<i64>,
    /// ElevenLabs cost.
    pub eleven_labs_cost: Option<Decimal>,
    /// Tokens used on Groq.
    pub groq_tokens: Option<i64>,
    /// Groq cost.
    pub groq_cost: Option<Decimal>,
    /// Sum of the above.
    pub total_cost: Option<Decimal>,
}

/// One turn of a call transcript (seed 001).
#[derive(Debug, Clone, Default, SimpleObject, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TranscriptMessage {
    /// `user`, `assistant` or `system`.
    pub role: Option<String>,
    /// What was said.
    pub message: Option<String>,
    /// Epoch milliseconds when the turn started.
    pub time: Option<f64>,
    /// Epoch milliseconds when the turn ended.
    pub end_time: Option<f64>,
    /// Seconds from the start of the call.
    pub seconds_from_start: Option<f64>,
}

/// An entity extracted from a call (seed 000).
#[derive(Debug, Clone, Default, SimpleObject, Serialize, Deserialize)]
pub struct CallEntity {
    /// Kind of entity (date, service, name…).
    #[graphql(name = "type")]
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The value (usually text; numbers and dates stay as extracted).
    pub value: Option<serde_json::Value>,
}
