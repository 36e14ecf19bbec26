//! Input types for the documents a conversation embeds (the customer's rating, the WhatsApp
//! number, the booking made, a call's voice data) and their lowering into the JSON the
//! columns store.
//!
//! Each input mirrors its output type in `types/conversation_docs.rs` key for key (camelCase,
//! stored enum spellings), so what a client writes reads back unchanged. Lowering validates
//! every field and names it (`input.bookingDetails.date`); absent fields are left out of the
//! document rather than stored as `null`. Numbers are stored as JSON numbers, because that is
//! what the columns' CHECKs test.

use async_graphql::InputObject;
use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use crate::mutation::inputs::{bad, number, put, short};
use crate::types::enums::{DbEnum, Sentiment, VoiceGender};
use crate::validate::{self, REASON_MAX, SHORT_TEXT_MAX, TRANSCRIPT_MAX};
use crate::ApiError;

/// The longest call the `conversations.call_data` CHECK accepts, in seconds.
const CALL_DURATION_MAX: f64 = 1e9;

/// A time as documents store it: RFC 3339, UTC, milliseconds.
fn time(t: DateTime<Utc>) -> Value {
    Value::String(t.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// The customer's rating of a conversation (mirrors `CustomerSatisfaction`).
#[derive(Debug, Clone, InputObject)]
pub struct CustomerSatisfactionInput {
    /// Stars, 1 to 5.
    pub rating: i32,
    /// Free comment.
    pub comment: Option<String>,
    /// When it was given (default: now).
    pub submitted_at: Option<DateTime<Utc>>,
}

impl CustomerSatisfactionInput {
    pub(crate) fn lower(self, field: &str) -> Result<Value, ApiError> {
        let f = |name: &str| format!("{field}.{name}");
        if !(1..=5).contains(&self.rating) {
            return Err(bad(&f("rating"), "must be between 1 and 5"));
        }
        let mut doc = Map::new();
        doc.insert("rating".into(), Value::from(self.rating));
        put(
            &mut doc,
            "comment",
            short(&f("comment"), self.comment, REASON_MAX)?,
        );
        doc.insert(
            "submittedAt".into(),
            time(self.submitted_at.unwrap_or_else(Utc::now)),
        );
        Ok(Value::Object(doc))
    }
}

/// The WhatsApp Business number a conversation runs on (mirrors `WhatsappData`).
#[derive(Debug, Clone, InputObject)]
pub struct WhatsappDataInput {
    /// WhatsApp phone number id.
    pub phone_number_id: String,
    /// WhatsApp Business account id.
    pub business_account_id: Option<String>,
}

impl WhatsappDataInput {
    pub(crate) fn lower(self, field: &str) -> Result<Value, ApiError> {
        let f = |name: &str| format!("{field}.{name}");
        let mut doc = Map::new();
        doc.insert(
            "phoneNumberId".into(),
            Value::String(validate::provider_id(
                &f("phoneNumberId"),
                &self.phone_number_id,
            )?),
        );
        if let Some(account) = self.business_account_id {
            doc.insert(
                "businessAccountId".into(),
                Value::String(validate::provider_id(&f("businessAccountId"), &account)?),
            );
        }
        Ok(Value::Object(doc))
    }
}

/// What was booked in a conversation (mirrors `BookingDetails`); at least one field.
#[derive(Debug, Clone, InputObject)]
pub struct BookingDetailsInput {
    /// Service name.
    pub service: Option<String>,
    /// Day, `YYYY-MM-DD`.
    pub date: Option<String>,
    /// Local time, `HH:MM`.
    pub time: Option<String>,
    /// Price quoted (non-negative, at most 2 decimals).
    pub price: Option<Decimal>,
}

impl BookingDetailsInput {
    pub(crate) fn lower(self, field: &str) -> Result<Value, ApiError> {
        let f = |name: &str| format!("{field}.{name}");
        let mut doc = Map::new();
        put(
            &mut doc,
            "service",
            short(&f("service"), self.service, SHORT_TEXT_MAX)?,
        );
        if let Some(d) = self.date {
            doc.insert(
                "date".into(),
                Value::String(validate::date(&f("date"), &d)?),
            );
        }
        if let Some(t) = self.time {
            doc.insert(
                "time".into(),
                Value::String(validate::time_of_day(&f("time"), &t)?),
            );
        }
        if let Some(p) = self.price {
            let p = validate::money(&f("price"), p)?;
            let p = p
                .to_f64()
                .ok_or_else(|| bad(&f("price"), "is out of range"))?;
            doc.insert("price".into(), number(&f("price"), p)?);
        }
        if doc.is_empty() {
            return Err(bad(
                field,
                "give at least one of service, date, time and price",
            ));
        }
        Ok(Value::Object(doc))
    }
}

/// The voice data of a conversation that was a call (mirrors `ConversationCallData`).
#[derive(Debug, Clone, InputObject)]
pub struct ConversationCallDataInput {
    /// Length in seconds.
    pub duration: Option<f64>,
    /// The assistant's voice.
    pub voice_gender: Option<VoiceGender>,
    /// Recording location (http or https URL).
    pub recording_url: Option<String>,
    /// Transcript.
    pub transcription: Option<String>,
    /// Tone of the call.
    pub sentiment: Option<Sentiment>,
}

impl ConversationCallDataInput {
    pub(crate) fn lower(self, field: &str) -> Result<Value, ApiError> {
        let f = |name: &str| format!("{field}.{name}");
        let mut doc = Map::new();
        if let Some(d) = self.duration {
            if !(0.0..=CALL_DURATION_MAX).contains(&d) {
                return Err(bad(
                    &f("duration"),
                    "must be between 0 and 1000000000 seconds",
                ));
            }
            doc.insert("duration".into(), number(&f("duration"), d)?);
        }
        if let Some(g) = self.voice_gender {
            doc.insert("voiceGender".into(), Value::String(g.as_db().to_owned()));
        }
        if let Some(u) = self.recording_url {
            doc.insert(
                "recordingUrl".into(),
                Value::String(validate::url(&f("recordingUrl"), &u)?),
            );
        }
        put(
            &mut doc,
            "transcription",
            short(&f("transcription"), self.transcription, TRANSCRIPT_MAX)?,
        );
        if let Some(s) = self.sentiment {
            doc.insert("sentiment".into(), Value::String(s.as_db().to_owned()));
        }
        Ok(Value::Object(doc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field_of(r: Result<Value, ApiError>) -> String {
        match r {
            Err(ApiError::BadUserInput { field, .. }) => field,
            other => panic!("expected BadUserInput, got {other:?}"),
        }
    }

    #[test]
    fn booking_details_store_numbers_and_normalised_dates_and_name_bad_fields() {
        let ok = BookingDetailsInput {
            service: Some(" Haircut ".into()),
            date: Some("2026-03-14".into()),
            time: Some("9:30".into()),
            price: Some(Decimal::new(45050, 2)),
        }
        .lower("input.bookingDetails")
        .expect("valid");
        assert_eq!(
            ok,
            json!({ "service": "Haircut", "date": "2026-03-14", "time": "09:30", "price": 450.5 })
        );
        let bad_day = BookingDetailsInput {
            service: None,
            date: Some("2026-02-30".into()),
            time: None,
            price: None,
        };
        assert_eq!(
            field_of(bad_day.lower("input.bookingDetails")),
            "input.bookingDetails.date"
        );
    }

    #[test]
    fn satisfaction_ratings_are_one_to_five() {
        let s = CustomerSatisfactionInput {
            rating: 6,
            comment: None,
            submitted_at: None,
        };
        assert_eq!(
            field_of(s.lower("input.customerSatisfaction")),
            "input.customerSatisfaction.rating"
        );
    }
}
