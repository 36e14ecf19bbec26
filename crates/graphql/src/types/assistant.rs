//! `Assistant`: a voice agent's configuration on a platform such as Vapi (seed 001
//! `av_vapi_assistants`), with the typed documents it embeds (voice, model, transcriber,
//! transport configurations). The writes are in `mutation/assistant.rs`.
//!
//! The documents read leniently (see [`super::lenient`]): imports and other writers may store
//! whatever the column CHECKs accept, and one odd value must not fail a query. The plans,
//! functions and metadata are provider-defined and change with the platform's API, so they
//! are `JSON`.
//!
//! The webhook secret is write-only: its ciphertext column is not a field of this struct, so
//! no query of the API can select it; `hasServerUrlSecret` says whether one is stored.

use async_graphql::SimpleObject;
use chrono::{DateTime, Utc};
use frontdesk_db::query::search::contains_any;
use frontdesk_db::{col, exprs, sort, table};
use serde::Deserialize;
use sqlx::types::Json;

use super::enums::{
    AssistantIndustry, AssistantIndustryFilter, AssistantStatus, AssistantStatusFilter,
};
use super::lenient;
use super::Call;
use crate::entity::entity;
use crate::list::filter::{BooleanFilter, DateTimeFilter, IdFilter, JsonFilter, StringFilter};

entity! {
    /// A voice assistant's configuration.
    Assistant in table!(assistants) => {
        /// Display name.
        name: String,
        /// What it is for.
        description: Option<String>,
        /// The platform's id for it (001 `vapiId`); unique within the tenant.
        provider_assistant_id: Option<String>,
        /// Whether it takes calls.
        status: AssistantStatus,
        /// The line of business it is tuned for.
        industry: Option<AssistantIndustry>,
        /// How it sounds.
        #[graphql(skip)]
        voice: Json<AssistantVoice>,
        /// The language model behind it.
        #[graphql(skip)]
        model: Json<AssistantModel>,
        /// How callers are transcribed.
        #[graphql(skip)]
        transcriber: Json<AssistantTranscriber>,
        /// The tools it may call (provider-defined JSON objects).
        #[graphql(skip)]
        functions: serde_json::Value,
        /// Where the platform posts the call's events.
        server_url: Option<String>,
        /// Whether a webhook secret is stored (it is write-only and never returned).
        has_server_url_secret: bool = exprs::assistants::HAS_SERVER_URL_SECRET,
        /// It may hang up.
        end_call_function_enabled: bool,
        /// It may dial the keypad.
        dial_keypad_function_enabled: bool,
        /// It says filler words ("um", "let me see").
        fillers_enabled: bool,
        /// Seconds of silence before it ends the call.
        silence_timeout_seconds: Option<i32>,
        /// Longest call, in seconds.
        max_duration_seconds: Option<i32>,
        /// Background sound: a keyword (`office`, `off`) or a URL.
        background_sound: Option<String>,
        /// It backchannels ("mm-hm") while the caller speaks.
        backchanneling_enabled: bool,
        /// It filters background noise.
        background_denoising_enabled: bool,
        /// The model's output is kept in the call's messages.
        model_output_in_messages_enabled: bool,
        /// How calls reach it (telephony transports).
        #[graphql(skip)]
        transport_configurations: Json<Vec<TransportConfiguration>>,
        /// HIPAA mode.
        hipaa_enabled: bool,
        /// Calls are analysed after they end.
        analysis_enabled: bool,
        /// What the platform keeps of a call (recording, transcript…).
        artifact_plan: serde_json::Value,
        /// Messages it sends on its own (idle prompts…).
        message_plan: serde_json::Value,
        /// When it starts speaking.
        start_speaking_plan: serde_json::Value,
        /// When it stops speaking (interruptions).
        stop_speaking_plan: serde_json::Value,
        /// Live monitoring of its calls.
        monitor_plan: serde_json::Value,
        /// Free-form data.
        metadata: serde_json::Value,
        /// Created.
        created_at: DateTime<Utc>,
        /// Last changed.
        updated_at: DateTime<Utc>,
    }
    filter AssistantFilter {
        id: IdFilter [Assistant],
        name: StringFilter,
        provider_assistant_id: StringFilter,
        status: AssistantStatusFilter,
        industry: AssistantIndustryFilter,
        hipaa_enabled: BooleanFilter,
        analysis_enabled: BooleanFilter,
        /// Has (true) or has not (false) a webhook secret, as `hasServerUrlSecret`.
        has_server_url_secret: bool = exprs::assistants::HAS_SERVER_URL_SECRET,
        metadata: JsonFilter,
        created_at: DateTimeFilter,
        updated_at: DateTimeFilter,
    }
    /// Text contained in the name or description (case-insensitive).
    search: contains_any(&[col!(name), col!(description)]);
    order AssistantOrder, AssistantOrderField {
        /// Creation time.
        CreatedAt => sort!(created_at: timestamptz),
        /// Last change.
        UpdatedAt => sort!(updated_at: timestamptz),
        /// Name.
        Name => sort!(name: text),
    }
    default_order: [CreatedAt desc];
    relations {
        /// The calls it took (newest first unless ordered).
        calls: many Call via assistant_id,
    }
    root: AssistantQuery { assistant, assistants };
    // Configuring the voice agents is tenant administration: admins and owners, or a
    // supervisor the owner granted `system:admin`. Deleting one also unlinks its calls.
    access: { read: Viewer, write: Supervisor + SystemAdmin, delete: Admin + SystemAdmin };
    constraints {
        "assistants_tenant_id_provider_assistant_id_key" => "input.providerAssistantId":
            Conflict("another assistant already has this provider assistant id"),
    }
    fields {
        /// How it sounds.
        async fn voice(&self) -> &AssistantVoice {
            &self.voice
        }

        /// The language model behind it.
        async fn model(&self) -> &AssistantModel {
            &self.model
        }

        /// How callers are transcribed.
        async fn transcriber(&self) -> &AssistantTranscriber {
            &self.transcriber
        }

        /// The tools it may call (provider-defined JSON objects, as stored).
        async fn functions(&self) -> Vec<serde_json::Value> {
            self.functions.as_array().cloned().unwrap_or_default()
        }

        /// How calls reach it.
        async fn transport_configurations(&self) -> &[TransportConfiguration] {
            &self.transport_configurations
        }
    }
}

/// An assistant's voice (001 `voice`).
#[derive(Debug, Clone, Default, SimpleObject, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssistantVoice {
    /// Voice provider (`11labs`, `openai`, `azure`…).
    #[serde(default, deserialize_with = "lenient::text")]
    pub provider: Option<String>,
    /// The provider's voice id.
    #[serde(default, deserialize_with = "lenient::text")]
    pub voice_id: Option<String>,
    /// Speaking speed (1 is normal).
    #[serde(default, deserialize_with = "lenient::number")]
    pub speed: Option<f64>,
    /// Pitch (1 is normal).
    #[serde(default, deserialize_with = "lenient::number")]
    pub pitch: Option<f64>,
}

/// The language model behind an assistant (001 `model`).
#[derive(Debug, Clone, Default, SimpleObject, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssistantModel {
    /// Model provider (`openai`, `anthropic`, `groq`…).
    #[serde(default, deserialize_with = "lenient::text")]
    pub provider: Option<String>,
    /// Model name.
    #[serde(default, deserialize_with = "lenient::text")]
    pub model: Option<String>,
    /// Sampling temperature, 0–2.
    #[serde(default, deserialize_with = "lenient::number")]
    pub temperature: Option<f64>,
    /// Most tokens per reply.
    #[serde(default, deserialize_with = "lenient::integer")]
    pub max_tokens: Option<i64>,
    /// The system prompt.
    #[serde(default, deserialize_with = "lenient::text")]
    pub system_prompt: Option<String>,
}

/// How an assistant transcribes callers (001 `transcriber`).
#[derive(Debug, Clone, Default, SimpleObject, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssistantTranscriber {
    /// Transcription provider (`deepgram`, `gladia`…).
    #[serde(default, deserialize_with = "lenient::text")]
    pub provider: Option<String>,
    /// Transcription model.
    #[serde(default, deserialize_with = "lenient::text")]
    pub model: Option<String>,
    /// Language code.
    #[serde(default, deserialize_with = "lenient::text")]
    pub language: Option<String>,
}

/// One way calls reach an assistant (001 `transportConfigurations[]`).
#[derive(Debug, Clone, Default, SimpleObject, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransportConfiguration {
    /// Configuration name.
    #[serde(default, deserialize_with = "lenient::text")]
    pub name: Option<String>,
    /// Transport provider (`twilio`, `vonage`…).
    #[serde(default, deserialize_with = "lenient::text")]
    pub provider: Option<String>,
    /// Seconds to wait for an answer.
    #[serde(default, deserialize_with = "lenient::number")]
    pub timeout: Option<f64>,
    /// Calls are recorded.
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub record: Option<bool>,
    /// Recording channels (`mono`, `dual`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub recording_channels: Option<String>,
}
