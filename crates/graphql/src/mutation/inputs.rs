//! Input types for the JSON documents the API spells out field by field (address, contact
//! preferences, call analysis, cost breakdown, transcript turns, entities), and their
//! lowering into the JSON the columns store.
//!
//! Each input mirrors its output type in `types/docs.rs`, key for key (camelCase, as the seeds
//! and the migrations' CHECKs spell them), so what a client writes reads back unchanged.
//! Lowering validates every field (the CHECKs only test types and ranges, and would report a
//! violation without saying which field) and leaves absent fields out of the document rather
//! than storing `null`s. Free-form documents (`customFields`, `metadata`) must be objects and
//! are bounded in size.

use async_graphql::InputObject;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use crate::validate::{self, NOTES_MAX, REASON_MAX, SHORT_TEXT_MAX, TAGS_MAX};
use crate::ApiError;

/// Largest free-form JSON document (`customFields`, `metadata`), serialised. Such documents
/// are read on every render of their row; a few pages of JSON is plenty for tenant fields.
pub const JSON_DOC_MAX_BYTES: usize = 64 * 1024;

/// Most transcript turns of one call: hours of conversation.
pub const TRANSCRIPT_TURNS_MAX: usize = 5_000;

/// Most entities extracted from one call.
pub const ENTITIES_MAX: usize = 200;

/// Most alternative phone numbers of one customer.
pub const ALTERNATIVE_PHONES_MAX: usize = 10;

/// A language code (BCP 47 tags are at most 35 characters in practice).
pub const LANGUAGE_MAX: usize = 35;

/// The largest per-provider cost the `calls.cost_breakdown` CHECK accepts.
const COST_BREAKDOWN_MAX: i64 = 1_000_000_000;

/// The largest character or token count the `calls.cost_breakdown` CHECK accepts.
const COUNT_BREAKDOWN_MAX: i64 = 1_000_000_000_000;

pub(crate) fn bad(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::BadUserInput {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// Inserts `key` when `value` is present.
pub(crate) fn put(doc: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        doc.insert(key.to_owned(), v);
    }
}

/// Optional short text as a JSON string (blank = absent).
pub(crate) fn short(
    field: &str,
    raw: Option<String>,
    max: usize,
) -> Result<Option<Value>, ApiError> {
    Ok(validate::optional_text(field, raw, max)?.map(Value::String))
}

/// A finite float as a JSON number.
pub(crate) fn number(field: &str, v: f64) -> Result<Value, ApiError> {
    serde_json::Number::from_f64(v)
        .map(Value::Number)
        .ok_or_else(|| bad(field, "must be a finite number"))
}

/// A decimal as a JSON number. JSON documents hold numbers (the CHECKs test `number`), and
/// the shortest round-trip form of an `f64` reproduces any value with 4 decimals below 10^9.
fn decimal(field: &str, v: Decimal) -> Result<Value, ApiError> {
    let f = v.to_f64().ok_or_else(|| bad(field, "is out of range"))?;
    number(field, f)
}

/// A free-form document: a JSON object of at most [`JSON_DOC_MAX_BYTES`].
pub(crate) fn json_object(field: &str, value: Value) -> Result<Value, ApiError> {
    if !value.is_object() {
        return Err(bad(field, "must be a JSON object ({…})"));
    }
    let size = value.to_string().len();
    if size > JSON_DOC_MAX_BYTES {
        return Err(bad(
            field,
            format!("is too large: at most {JSON_DOC_MAX_BYTES} bytes of JSON are allowed"),
        ));
    }
    Ok(value)
}

/// Other phone numbers of a customer: each normalised to E.164, duplicates dropped.
pub(crate) fn phones(field: &str, raw: Vec<String>) -> Result<Vec<String>, ApiError> {
    let mut out: Vec<String> = Vec::new();
    for (i, p) in raw.iter().enumerate() {
        let p = validate::phone(&format!("{field}[{i}]"), p)?;
        if !out.contains(&p) {
            out.push(p);
        }
    }
    if out.len() > ALTERNATIVE_PHONES_MAX {
        return Err(bad(
            field,
            format!("has too many numbers: at most {ALTERNATIVE_PHONES_MAX} are allowed"),
        ));
    }
    Ok(out)
}

// ------------------------------------------------------------------------------------------------
// Customer documents
// ------------------------------------------------------------------------------------------------

/// A postal address (mirrors `Address`).
#[derive(Debug, Clone, InputObject)]
pub struct AddressInput {
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
    pub coordinates: Option<CoordinatesInput>,
}

/// A point on the map (mirrors `Coordinates`).
#[derive(Debug, Clone, Copy, InputObject)]
pub struct CoordinatesInput {
    /// Degrees north, −90 to 90.
    pub latitude: f64,
    /// Degrees east, −180 to 180.
    pub longitude: f64,
}

impl AddressInput {
    pub(crate) fn lower(self, field: &str) -> Result<Value, ApiError> {
        let mut doc = Map::new();
        let f = |name: &str| format!("{field}.{name}");
        put(
            &mut doc,
            "street",
            short(&f("street"), self.street, validate::ADDRESS_MAX)?,
        );
        put(
            &mut doc,
            "city",
            short(&f("city"), self.city, SHORT_TEXT_MAX)?,
        );
        put(
            &mut doc,
            "state",
            short(&f("state"), self.state, SHORT_TEXT_MAX)?,
        );
        put(
            &mut doc,
            "country",
            short(&f("country"), self.country, SHORT_TEXT_MAX)?,
        );
        put(
            &mut doc,
            "postalCode",
            short(&f("postalCode"), self.postal_code, 20)?,
        );
        if let Some(c) = self.coordinates {
            let lat = f("coordinates.latitude");
            let lon = f("coordinates.longitude");
            if !(-90.0..=90.0).contains(&c.latitude) {
                return Err(bad(&lat, "must be between -90 and 90"));
            }
            if !(-180.0..=180.0).contains(&c.longitude) {
                return Err(bad(&lon, "must be between -180 and 180"));
            }
            let mut point = Map::new();
            point.insert("latitude".into(), number(&lat, c.latitude)?);
            point.insert("longitude".into(), number(&lon, c.longitude)?);
            doc.insert("coordinates".into(), Value::Object(point));
        }
        Ok(Value::Object(doc))
    }
}

/// How a customer likes to be contacted (mirrors `CustomerPreferences`).
#[derive(Debug, Clone, InputObject)]
pub struct CustomerPreferencesInput {
    /// Preferred language code.
    pub language: Option<String>,
    /// When the customer may be contacted.
    pub communication_hours: Option<CommunicationHoursInput>,
}

/// A daily contact window, local time (mirrors `CommunicationHours`).
#[derive(Debug, Clone, InputObject)]
pub struct CommunicationHoursInput {
    /// Window start, `HH:MM`.
    pub start: String,
    /// Window end, `HH:MM`.
    pub end: String,
}

impl CustomerPreferencesInput {
    pub(crate) fn lower(self, field: &str) -> Result<Value, ApiError> {
        let mut doc = Map::new();
        put(
            &mut doc,
            "language",
            short(&format!("{field}.language"), self.language, LANGUAGE_MAX)?,
        );
        if let Some(h) = self.communication_hours {
            let base = format!("{field}.communicationHours");
            let start = validate::time_of_day(&format!("{base}.start"), &h.start)?;
            let end = validate::time_of_day(&format!("{base}.end"), &h.end)?;
            let mut hours = Map::new();
            hours.insert("start".into(), Value::String(start));
            hours.insert("end".into(), Value::String(end));
            doc.insert("communicationHours".into(), Value::Object(hours));
        }
        Ok(Value::Object(doc))
    }
}

// ------------------------------------------------------------------------------------------------
// Call documents
// ------------------------------------------------------------------------------------------------

/// The AI's analysis of a call (mirrors `CallAnalysis`).
#[derive(Debug, Clone, InputObject)]
pub struct CallAnalysisInput {
    /// Overall sentiment as the analyser reported it.
    pub sentiment: Option<String>,
    /// Topics discussed.
    pub topics: Option<Vec<String>>,
    /// Keywords spotted.
    pub keywords: Option<Vec<String>>,
    /// Follow-ups promised on the call.
    pub action_items: Option<Vec<String>>,
    /// Someone must call back.
    pub follow_up_required: Option<bool>,
}

fn strings(list: Vec<String>) -> Value {
    Value::Array(list.into_iter().map(Value::String).collect())
}

impl CallAnalysisInput {
    pub(crate) fn lower(self, field: &str) -> Result<Value, ApiError> {
        let mut doc = Map::new();
        let f = |name: &str| format!("{field}.{name}");
        put(
            &mut doc,
            "sentiment",
            short(&f("sentiment"), self.sentiment, SHORT_TEXT_MAX)?,
        );
        if let Some(t) = self.topics {
            doc.insert("topics".into(), strings(validate::tags(&f("topics"), t)?));
        }
        if let Some(k) = self.keywords {
            doc.insert(
                "keywords".into(),
                strings(validate::tags(&f("keywords"), k)?),
            );
        }
        if let Some(items) = self.action_items {
            let path = f("actionItems");
            if items.len() > TAGS_MAX {
                return Err(bad(
                    &path,
                    format!("has too many items: at most {TAGS_MAX} are allowed"),
                ));
            }
            let items = items
                .iter()
                .enumerate()
                .map(|(i, a)| validate::required_text(&format!("{path}[{i}]"), a, REASON_MAX))
                .collect::<Result<Vec<_>, _>>()?;
            doc.insert("actionItems".into(), strings(items));
        }
        put(
            &mut doc,
            "followUpRequired",
            self.follow_up_required.map(Value::Bool),
        );
        Ok(Value::Object(doc))
    }
}

/// What a call cost, per provider (mirrors `CostBreakdown`).
#[derive(Debug, Clone, InputObject)]
pub struct CostBreakdownInput {
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

impl CostBreakdownInput {
    pub(crate) fn lower(self, field: &str) -> Result<Value, ApiError> {
        let mut doc = Map::new();
        let cost = |name: &str, v: Option<Decimal>| -> Result<Option<Value>, ApiError> {
            let Some(v) = v else { return Ok(None) };
            let path = format!("{field}.{name}");
            let v = validate::unit_cost(&path, v)?;
            if v > Decimal::from(COST_BREAKDOWN_MAX) {
                return Err(bad(&path, format!("must be at most {COST_BREAKDOWN_MAX}")));
            }
            decimal(&path, v).map(Some)
        };
        let count = |name: &str, v: Option<i64>| -> Result<Option<Value>, ApiError> {
            let Some(v) = v else { return Ok(None) };
            let path = format!("{field}.{name}");
            let v = validate::non_negative_int(&path, v)?;
            if v > COUNT_BREAKDOWN_MAX {
                return Err(bad(&path, format!("must be at most {COUNT_BREAKDOWN_MAX}")));
            }
            Ok(Some(Value::from(v)))
        };
        put(&mut doc, "callCost", cost("callCost", self.call_cost)?);
        put(
            &mut doc,
            "elevenLabsChars",
            count("elevenLabsChars", self.eleven_labs_chars)?,
        );
        put(
            &mut doc,
            "elevenLabsCost",
            cost("elevenLabsCost", self.eleven_labs_cost)?,
        );
        put(
            &mut doc,
            "groqTokens",
            count("groqTokens", self.groq_tokens)?,
        );
        put(&mut doc, "groqCost", cost("groqCost", self.groq_cost)?);
        put(&mut doc, "totalCost", cost("totalCost", self.total_cost)?);
        Ok(Value::Object(doc))
    }
}

/// One turn of a call transcript (mirrors `TranscriptMessage`).
#[derive(Debug, Clone, InputObject)]
pub struct TranscriptMessageInput {
    /// `user`, `assistant` or `system`.
    pub role: String,
    /// What was said.
    pub message: Option<String>,
    /// Epoch milliseconds when the turn started.
    pub time: Option<f64>,
    /// Epoch milliseconds when the turn ended.
    pub end_time: Option<f64>,
    /// Seconds from the start of the call.
    pub seconds_from_start: Option<f64>,
}

/// Transcript turns as the `calls.messages` document.
pub(crate) fn transcript(
    field: &str,
    turns: Vec<TranscriptMessageInput>,
) -> Result<Value, ApiError> {
    if turns.len() > TRANSCRIPT_TURNS_MAX {
        return Err(bad(
            field,
            format!("has too many turns: at most {TRANSCRIPT_TURNS_MAX} are allowed"),
        ));
    }
    let mut out = Vec::with_capacity(turns.len());
    for (i, t) in turns.into_iter().enumerate() {
        let f = |name: &str| format!("{field}[{i}].{name}");
        let role = t.role.trim();
        if !matches!(role, "user" | "assistant" | "system") {
            return Err(bad(&f("role"), "must be user, assistant or system"));
        }
        let mut doc = Map::new();
        doc.insert("role".into(), Value::String(role.to_owned()));
        put(
            &mut doc,
            "message",
            short(&f("message"), t.message, NOTES_MAX)?,
        );
        for (key, v) in [
            ("time", t.time),
            ("endTime", t.end_time),
            ("secondsFromStart", t.seconds_from_start),
        ] {
            if let Some(v) = v {
                if v < 0.0 {
                    return Err(bad(&f(key), "must not be negative"));
                }
                doc.insert(key.into(), number(&f(key), v)?);
            }
        }
        out.push(Value::Object(doc));
    }
    Ok(Value::Array(out))
}

/// An entity extracted from a call (mirrors `CallEntity`).
#[derive(Debug, Clone, InputObject)]
pub struct CallEntityInput {
    /// Kind of entity (date, service, name…).
    #[graphql(name = "type")]
    pub kind: String,
    /// The value as extracted (text, number, date…).
    pub value: Option<Value>,
}

/// Entities as the `calls.entities` document.
pub(crate) fn entities(field: &str, list: Vec<CallEntityInput>) -> Result<Value, ApiError> {
    if list.len() > ENTITIES_MAX {
        return Err(bad(
            field,
            format!("has too many entities: at most {ENTITIES_MAX} are allowed"),
        ));
    }
    let mut out = Vec::with_capacity(list.len());
    for (i, e) in list.into_iter().enumerate() {
        let kind = validate::required_text(&format!("{field}[{i}].type"), &e.kind, SHORT_TEXT_MAX)?;
        let mut doc = Map::new();
        doc.insert("type".into(), Value::String(kind));
        if let Some(v) = e.value {
            if v.to_string().len() > validate::NOTES_MAX {
                return Err(bad(&format!("{field}[{i}].value"), "is too large"));
            }
            doc.insert("value".into(), v);
        }
        out.push(Value::Object(doc));
    }
    Ok(Value::Array(out))
}
