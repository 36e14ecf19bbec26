//! The documents a message embeds (seed 003 `Message`): attachments, a location, a template,
//! buttons or a list, the AI's reading of it, and the thumbs feedback of seed 002.
//!
//! Read leniently (see [`super::lenient`]): every field reads whatever its column's CHECK let
//! through. `aiResponse.entities` in particular is seed 003's list of strings, while the AI
//! receptionist (seed 000) extracts `{ type, value }` objects, and the column's CHECK accepts
//! any array: both shapes, mixed too, read back (see [`AiResponse`]).

use async_graphql::{ComplexObject, SimpleObject};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use uuid::Uuid;

use super::docs::CallEntity;
use super::enums::{FeedbackRating, MessageType, Sentiment};
use super::lenient::{self, lenient_enum, scalar_text};

lenient_enum!(attachment_type, MessageType);
lenient_enum!(sentiment, Sentiment);
lenient_enum!(feedback_rating, FeedbackRating);

/// A file sent with a message (003 `attachments[]`, stored in the media service).
#[derive(Debug, Clone, Default, SimpleObject, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    /// `IMAGE`, `DOCUMENT`, `AUDIO` or `VIDEO`.
    #[graphql(name = "type")]
    #[serde(default, rename = "type", deserialize_with = "attachment_type")]
    pub kind: Option<MessageType>,
    /// Where the file is.
    #[serde(default, deserialize_with = "lenient::text")]
    pub url: Option<String>,
    /// Its id in the media service (Cloudinary public id).
    #[serde(default, deserialize_with = "lenient::text")]
    pub public_id: Option<String>,
    /// File name.
    #[serde(default, deserialize_with = "lenient::text")]
    pub filename: Option<String>,
    /// MIME type.
    #[serde(default, deserialize_with = "lenient::text")]
    pub mime_type: Option<String>,
    /// Size in bytes.
    #[serde(default, deserialize_with = "lenient::integer")]
    pub size: Option<i64>,
    /// A preview image (images and videos).
    #[serde(default, deserialize_with = "lenient::text")]
    pub thumbnail_url: Option<String>,
    /// Length in seconds (audio and video).
    #[serde(default, deserialize_with = "lenient::number")]
    pub duration: Option<f64>,
}

/// A shared location.
#[derive(Debug, Clone, Default, SimpleObject, Deserialize)]
pub struct MessageLocation {
    /// Degrees north (−90…90).
    #[serde(default, deserialize_with = "lenient::number")]
    pub latitude: Option<f64>,
    /// Degrees east (−180…180).
    #[serde(default, deserialize_with = "lenient::number")]
    pub longitude: Option<f64>,
    /// Street address.
    #[serde(default, deserialize_with = "lenient::text")]
    pub address: Option<String>,
    /// Place name.
    #[serde(default, deserialize_with = "lenient::text")]
    pub name: Option<String>,
}

/// A WhatsApp template message.
#[derive(Debug, Clone, Default, SimpleObject, Deserialize)]
pub struct MessageTemplate {
    /// Template name.
    #[serde(default, deserialize_with = "lenient::text")]
    pub name: Option<String>,
    /// Language code.
    #[serde(default, deserialize_with = "lenient::text")]
    pub language: Option<String>,
    /// Values filled into the template, in order (003 stores strings; kept as stored).
    #[serde(default, deserialize_with = "lenient::values")]
    pub parameters: Vec<Value>,
    /// WhatsApp template category (`UTILITY`, `MARKETING`, …).
    #[serde(default, deserialize_with = "lenient::text")]
    pub category: Option<String>,
}

/// One choice of an interactive message: a button or a list item.
#[derive(Debug, Clone, Default, SimpleObject, Deserialize)]
pub struct InteractiveOption {
    /// The id sent back when chosen.
    #[serde(default, deserialize_with = "lenient::text")]
    pub id: Option<String>,
    /// Label.
    #[serde(default, deserialize_with = "lenient::text")]
    pub title: Option<String>,
    /// Secondary text (list items).
    #[serde(default, deserialize_with = "lenient::text")]
    pub description: Option<String>,
    /// What the button sends back to the bot when pressed (buttons).
    #[serde(default, deserialize_with = "lenient::text")]
    pub payload: Option<String>,
}

/// Buttons or a list the customer can pick from.
#[derive(Debug, Clone, Default, SimpleObject, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Interactive {
    /// `button`, `list` or `quick_reply`.
    #[graphql(name = "type")]
    #[serde(default, rename = "type", deserialize_with = "lenient::text")]
    pub kind: Option<String>,
    /// Buttons.
    #[serde(default, deserialize_with = "lenient::objects")]
    pub buttons: Vec<InteractiveOption>,
    /// List items.
    #[serde(default, deserialize_with = "lenient::objects")]
    pub list_items: Vec<InteractiveOption>,
}

/// What the AI understood of a message.
///
/// Its entities come in two shapes: seed 003 stores a list of strings, the AI receptionist
/// (seed 000) `{ type, value }` objects. Both read back, in both views: `entities` gives each
/// as text (a string as stored, an object's value as text), `extractedEntities` each as a
/// typed entity (a string is an entity without a type).
#[derive(Debug, Clone, Default, SimpleObject, Deserialize)]
#[graphql(complex)]
pub struct AiResponse {
    /// Confidence, 0–1.
    #[serde(default, deserialize_with = "lenient::number")]
    pub confidence: Option<f64>,
    /// Detected intent.
    #[serde(default, deserialize_with = "lenient::text")]
    pub intent: Option<String>,
    /// The stored entities, both shapes as typed entities (served by the two views).
    #[graphql(skip)]
    #[serde(default, rename = "entities", deserialize_with = "entities")]
    pub extracted: Vec<CallEntity>,
    /// Detected tone.
    #[serde(default, deserialize_with = "sentiment")]
    pub sentiment: Option<Sentiment>,
}

#[ComplexObject]
impl AiResponse {
    /// The entities as text, in stored order (seed 003's `entities: [String]`): a text entity
    /// as stored, a typed one's value as text.
    async fn entities(&self) -> Vec<String> {
        self.extracted
            .iter()
            .filter_map(|e| e.value.as_ref())
            .filter_map(|v| scalar_text(v).or_else(|| Some(v.to_string())))
            .collect()
    }

    /// The entities with their kind, in stored order (`{ type: "date", value: "2024-12-25" }`);
    /// a text entity has no type and its text as the value.
    async fn extracted_entities(&self) -> &[CallEntity] {
        &self.extracted
    }
}

/// Reads `aiResponse.entities`: strings (and other scalars) become untyped entities, objects
/// typed ones (`type` read as text, `value` as stored); nulls and nested arrays are skipped.
fn entities<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<CallEntity>, D::Error> {
    let Value::Array(items) = Value::deserialize(d)? else {
        return Ok(Vec::new());
    };
    Ok(items
        .into_iter()
        .filter_map(|item| match item {
            Value::Object(mut o) => Some(CallEntity {
                kind: o.get("type").and_then(scalar_text),
                value: o.remove("value").filter(|v| !v.is_null()),
            }),
            Value::Null | Value::Array(_) => None,
            scalar => Some(CallEntity {
                kind: None,
                value: scalar_text(&scalar).map(Value::String),
            }),
        })
        .collect())
}

/// The thumbs-up or thumbs-down a message got after the fact (seed 002
/// `metadata.feedbackRating`), with the optional comment, when and by whom.
#[derive(Debug, Clone, Default, SimpleObject, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageFeedback {
    /// Up or down.
    #[serde(default, deserialize_with = "feedback_rating")]
    pub rating: Option<FeedbackRating>,
    /// Why.
    #[serde(default, deserialize_with = "lenient::text")]
    pub comment: Option<String>,
    /// When it was given.
    #[serde(default, deserialize_with = "lenient::time")]
    pub rated_at: Option<DateTime<Utc>>,
    /// The member who gave it (user id), when a member did.
    #[serde(default, deserialize_with = "member_id")]
    pub rated_by_id: Option<Uuid>,
}

fn member_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Uuid>, D::Error> {
    Ok(Value::deserialize(d)?
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entities_read_as_strings_objects_or_both() {
        let ai: AiResponse = serde_json::from_value(json!({
            "entities": ["haircut", { "type": "date", "value": "2024-12-25" }, 5, null,
                         { "type": 1, "value": 2 }]
        }))
        .expect("reads");
        let kinds: Vec<_> = ai.extracted.iter().map(|e| e.kind.clone()).collect();
        assert_eq!(kinds, [None, Some("date".into()), None, Some("1".into())]);
        let values: Vec<_> = ai.extracted.iter().map(|e| e.value.clone()).collect();
        assert_eq!(
            values,
            [
                Some(json!("haircut")),
                Some(json!("2024-12-25")),
                Some(json!("5")),
                Some(json!(2))
            ]
        );
    }

    #[test]
    fn odd_attachment_values_read_as_null() {
        let a: Attachment = serde_json::from_value(json!({
            "type": 5, "url": ["x"], "size": 1.5, "duration": "long", "publicId": 42
        }))
        .expect("reads");
        assert!(a.kind.is_none() && a.url.is_none() && a.size.is_none() && a.duration.is_none());
        assert_eq!(a.public_id.as_deref(), Some("42"));
    }
}
