//! Input types for the documents an assistant embeds (voice, model, transcriber, transport
//! configurations) and their lowering into the JSON the columns store.
//!
//! Each input mirrors its output type in `types/assistant.rs` key for key (camelCase, as seed
//! 001 and the migration's CHECKs spell them), so what a client writes reads back unchanged.
//! Every field is validated and named in errors (`input.model.temperature`) before any SQL.
//!
//! `voice`, `model` and `transcriber` are settings documents a dashboard edits one control at
//! a time, and providers add keys the API does not model. So on update they merge: a field
//! given replaces that key, `null` (or blank text) removes it, a field left out keeps it, and
//! so does every key the input type does not know ([`Doc::Merge`]). On create the fields
//! given make the document. Transport configurations are a list and are replaced whole.

use async_graphql::{InputObject, MaybeUndefined};
use frontdesk_db::graph::Doc;
use serde_json::{Map, Value};

use crate::mutation::inputs::{bad, number, put, short, LANGUAGE_MAX};
use crate::validate::{self, MESSAGE_MAX, PROVIDER_ID_MAX, SHORT_TEXT_MAX};
use crate::ApiError;

/// The highest sampling temperature (`assistants_model_check`).
const TEMPERATURE_MAX: f64 = 2.0;

/// A sanity bound on speed and pitch (1 is normal). Providers accept narrower ranges that
/// differ between them (and reject what they do not support); anything above this is a typo.
const VOICE_FACTOR_MAX: f64 = 10.0;

/// Most transport configurations of one assistant.
pub const TRANSPORTS_MAX: usize = 20;

/// The keys a document input writes and removes.
#[derive(Debug, Default)]
struct Keys {
    base: String,
    set: Map<String, Value>,
    remove: Vec<String>,
}

impl Keys {
    fn new(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            ..Self::default()
        }
    }

    fn path(&self, key: &str) -> String {
        format!("{}.{key}", self.base)
    }

    /// Absent: nothing; null: removed; a value: `lower` makes it (`None` removes it too).
    fn field<T>(
        &mut self,
        key: &str,
        value: MaybeUndefined<T>,
        lower: impl FnOnce(&str, T) -> Result<Option<Value>, ApiError>,
    ) -> Result<(), ApiError> {
        let lowered = match value {
            MaybeUndefined::Undefined => return Ok(()),
            MaybeUndefined::Null => None,
            MaybeUndefined::Value(v) => lower(&self.path(key), v)?,
        };
        match lowered {
            Some(v) => {
                self.set.insert(key.to_owned(), v);
            }
            None => self.remove.push(key.to_owned()),
        }
        Ok(())
    }

    fn text(&mut self, key: &str, v: MaybeUndefined<String>, max: usize) -> Result<(), ApiError> {
        self.field(key, v, |path, v| short(path, Some(v), max))
    }

    /// On create, the document the fields given make; on update, the merge.
    fn into_doc(self, update: bool) -> Doc {
        if update {
            Doc::Merge {
                set: self.set,
                remove: self.remove,
            }
        } else {
            Doc::Replace(Value::Object(self.set))
        }
    }
}

/// A finite number within `lo` (exclusive when `open`) and `hi`.
fn within(path: &str, v: f64, lo: f64, open: bool, hi: f64) -> Result<Option<Value>, ApiError> {
    let low_ok = if open { v > lo } else { v >= lo };
    if !v.is_finite() || !low_ok || v > hi {
        let low = if open { "greater than" } else { "at least" };
        return Err(bad(path, format!("must be {low} {lo} and at most {hi}")));
    }
    number(path, v).map(Some)
}

/// An assistant's voice (mirrors `AssistantVoice`). On update, fields left out keep their
/// values and `null` removes one.
#[derive(Debug, Clone, Default, InputObject)]
pub struct AssistantVoiceInput {
    /// Voice provider (`11labs`, `openai`, `azure`…).
    pub provider: MaybeUndefined<String>,
    /// The provider's voice id.
    pub voice_id: MaybeUndefined<String>,
    /// Speaking speed: greater than 0, at most 10 (1 is normal).
    pub speed: MaybeUndefined<f64>,
    /// Pitch: greater than 0, at most 10 (1 is normal).
    pub pitch: MaybeUndefined<f64>,
}

impl AssistantVoiceInput {
    pub(crate) fn lower(self, field: &str, update: bool) -> Result<Doc, ApiError> {
        let mut k = Keys::new(field);
        k.text("provider", self.provider, SHORT_TEXT_MAX)?;
        k.text("voiceId", self.voice_id, PROVIDER_ID_MAX)?;
        k.field("speed", self.speed, |p, v| {
            within(p, v, 0.0, true, VOICE_FACTOR_MAX)
        })?;
        k.field("pitch", self.pitch, |p, v| {
            within(p, v, 0.0, true, VOICE_FACTOR_MAX)
        })?;
        Ok(k.into_doc(update))
    }
}

/// The language model behind an assistant (mirrors `AssistantModel`). On update, fields left
/// out keep their values and `null` removes one.
#[derive(Debug, Clone, Default, InputObject)]
pub struct AssistantModelInput {
    /// Model provider (`openai`, `anthropic`, `groq`…).
    pub provider: MaybeUndefined<String>,
    /// Model name.
    pub model: MaybeUndefined<String>,
    /// Sampling temperature, 0 to 2.
    pub temperature: MaybeUndefined<f64>,
    /// Most tokens per reply, at least 1.
    pub max_tokens: MaybeUndefined<i32>,
    /// The system prompt (at most 50,000 characters).
    pub system_prompt: MaybeUndefined<String>,
}

impl AssistantModelInput {
    pub(crate) fn lower(self, field: &str, update: bool) -> Result<Doc, ApiError> {
        let mut k = Keys::new(field);
        k.text("provider", self.provider, SHORT_TEXT_MAX)?;
        k.text("model", self.model, SHORT_TEXT_MAX)?;
        k.field("temperature", self.temperature, |p, v| {
            within(p, v, 0.0, false, TEMPERATURE_MAX)
        })?;
        k.field("maxTokens", self.max_tokens, |p, v| {
            validate::positive_int(p, v).map(|v| Some(Value::from(v)))
        })?;
        k.text("systemPrompt", self.system_prompt, MESSAGE_MAX)?;
        Ok(k.into_doc(update))
    }
}

/// How an assistant transcribes callers (mirrors `AssistantTranscriber`). On update, fields
/// left out keep their values and `null` removes one.
#[derive(Debug, Clone, Default, InputObject)]
pub struct AssistantTranscriberInput {
    /// Transcription provider (`deepgram`, `gladia`…).
    pub provider: MaybeUndefined<String>,
    /// Transcription model.
    pub model: MaybeUndefined<String>,
    /// Language code (`en`, `cs-CZ`).
    pub language: MaybeUndefined<String>,
}

impl AssistantTranscriberInput {
    pub(crate) fn lower(self, field: &str, update: bool) -> Result<Doc, ApiError> {
        let mut k = Keys::new(field);
        k.text("provider", self.provider, SHORT_TEXT_MAX)?;
        k.text("model", self.model, SHORT_TEXT_MAX)?;
        k.text("language", self.language, LANGUAGE_MAX)?;
        Ok(k.into_doc(update))
    }
}

/// One way calls reach an assistant (mirrors `TransportConfiguration`).
#[derive(Debug, Clone, InputObject)]
pub struct TransportConfigurationInput {
    /// Configuration name.
    pub name: Option<String>,
    /// Transport provider (`twilio`, `vonage`…).
    pub provider: Option<String>,
    /// Seconds to wait for an answer (greater than 0, at most 86,400).
    pub timeout: Option<f64>,
    /// Record calls.
    pub record: Option<bool>,
    /// Recording channels (`mono`, `dual`).
    pub recording_channels: Option<String>,
}

/// Transport configurations as the `assistants.transport_configurations` document.
pub(crate) fn transports(
    field: &str,
    list: Vec<TransportConfigurationInput>,
) -> Result<Value, ApiError> {
    if list.len() > TRANSPORTS_MAX {
        return Err(bad(
            field,
            format!("has too many configurations: at most {TRANSPORTS_MAX} are allowed"),
        ));
    }
    let mut out = Vec::with_capacity(list.len());
    for (i, t) in list.into_iter().enumerate() {
        let f = |name: &str| format!("{field}[{i}].{name}");
        let mut doc = Map::new();
        put(&mut doc, "name", short(&f("name"), t.name, SHORT_TEXT_MAX)?);
        put(
            &mut doc,
            "provider",
            short(&f("provider"), t.provider, SHORT_TEXT_MAX)?,
        );
        if let Some(v) = t.timeout {
            put(
                &mut doc,
                "timeout",
                within(&f("timeout"), v, 0.0, true, 86_400.0)?,
            );
        }
        put(&mut doc, "record", t.record.map(Value::Bool));
        put(
            &mut doc,
            "recordingChannels",
            short(
                &f("recordingChannels"),
                t.recording_channels,
                SHORT_TEXT_MAX,
            )?,
        );
        out.push(Value::Object(doc));
    }
    Ok(Value::Array(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The field of a bad-input error; panics on anything else.
    fn refused<T: std::fmt::Debug>(result: Result<T, ApiError>) -> String {
        match result {
            Err(ApiError::BadUserInput { field, .. }) => field,
            other => panic!("expected BadUserInput, got {other:?}"),
        }
    }

    #[test]
    fn an_update_merges_the_given_keys_and_removes_the_nulled_and_blank_ones() {
        let input = AssistantModelInput {
            temperature: MaybeUndefined::Value(0.3),
            system_prompt: MaybeUndefined::Null,
            model: MaybeUndefined::Value("  ".into()),
            ..Default::default()
        };
        let doc = input.lower("input.model", true).expect("valid");
        let Doc::Merge { set, remove } = doc else {
            panic!("an update merges: {doc:?}");
        };
        assert_eq!(Value::Object(set), json!({ "temperature": 0.3 }));
        assert_eq!(remove, ["model", "systemPrompt"]);
    }

    #[test]
    fn a_create_makes_the_document_of_the_fields_given() {
        let input = AssistantVoiceInput {
            provider: MaybeUndefined::Value(" 11labs ".into()),
            speed: MaybeUndefined::Value(1.1),
            pitch: MaybeUndefined::Null,
            ..Default::default()
        };
        let doc = input.lower("input.voice", false).expect("valid");
        assert_eq!(
            doc,
            Doc::Replace(json!({ "provider": "11labs", "speed": 1.1 }))
        );
    }

    #[test]
    fn out_of_range_numbers_name_their_key() {
        let model = |t: f64| AssistantModelInput {
            temperature: MaybeUndefined::Value(t),
            ..Default::default()
        };
        for t in [2.01, -0.1, f64::NAN] {
            assert_eq!(
                refused(model(t).lower("input.model", false)),
                "input.model.temperature"
            );
        }
        assert!(model(0.0).lower("input.model", false).is_ok());
        assert!(model(2.0).lower("input.model", false).is_ok());
        let tokens = AssistantModelInput {
            max_tokens: MaybeUndefined::Value(0),
            ..Default::default()
        };
        assert_eq!(
            refused(tokens.lower("input.model", true)),
            "input.model.maxTokens"
        );
        let silent = AssistantVoiceInput {
            speed: MaybeUndefined::Value(0.0),
            ..Default::default()
        };
        assert_eq!(
            refused(silent.lower("input.voice", true)),
            "input.voice.speed"
        );
        let transport = TransportConfigurationInput {
            name: None,
            provider: Some("twilio".into()),
            timeout: Some(0.0),
            record: None,
            recording_channels: None,
        };
        assert_eq!(
            refused(transports("input.transportConfigurations", vec![transport])),
            "input.transportConfigurations[0].timeout"
        );
    }
}
