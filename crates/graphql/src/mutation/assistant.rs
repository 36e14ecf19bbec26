//! `createAssistant`, `updateAssistant`, `deleteAssistant`: their inputs, validation and
//! resolvers. The embedded documents' inputs are in [`super::assistant_docs`].
//!
//! Who may: the `access` line of `types/assistant.rs` — admins and owners, or a supervisor
//! granted `system:admin`, configure assistants; deleting one takes an admin. Viewers and
//! above read them.
//!
//! The webhook secret (`serverUrlSecret`) is write-only: validated without ever being quoted,
//! handed to the db layer as a secret, sealed there for the assistant's row (so it is written
//! after the row exists, in the same transaction) and never returned (`hasServerUrlSecret`
//! says whether one is stored).

use async_graphql::{Context, InputObject, MaybeUndefined, Object, SimpleObject, ID};
use frontdesk_db::graph::{assistants, assistants::AssistantFields, Patch};
use frontdesk_db::DbError;
use secrecy::SecretString;
use serde_json::Value;

use super::assistant_docs::{
    transports, AssistantModelInput, AssistantTranscriberInput, AssistantVoiceInput,
    TransportConfigurationInput,
};
use super::inputs::{bad, json_object};
use super::{create_field, read_back, update_nullable, update_required, write_error, Target};
use crate::entity::{authorize, global_id, NodeRef, Op};
use crate::query::Resolve;
use crate::types::enums::{AssistantIndustry, AssistantStatus, DbEnum};
use crate::types::Assistant;
use crate::validate::{self, NAME_MAX, NOTES_MAX, URL_MAX};
use crate::ApiError;

const ASSISTANT: Target = Target {
    what: "Assistant",
    field: "id",
};

/// Most functions (tools) of one assistant.
const FUNCTIONS_MAX: usize = 100;

/// A background-sound keyword (`office`, `off`): short, letters, digits, `-` and `_`.
const SOUND_KEYWORD_MAX: usize = 50;

/// A new assistant. Only `name` is required; everything else starts at its default (status
/// `INACTIVE`, switches off, empty documents).
#[derive(Debug, Clone, InputObject)]
pub struct CreateAssistantInput {
    /// Display name.
    pub name: String,
    /// What it is for.
    pub description: Option<String>,
    /// The platform's id for it; unique within the tenant (`CONFLICT` on
    /// `input.providerAssistantId`).
    pub provider_assistant_id: Option<String>,
    /// Whether it takes calls (default `INACTIVE`).
    pub status: Option<AssistantStatus>,
    /// The line of business it is tuned for.
    pub industry: Option<AssistantIndustry>,
    /// How it sounds.
    pub voice: Option<AssistantVoiceInput>,
    /// The language model behind it.
    pub model: Option<AssistantModelInput>,
    /// How callers are transcribed.
    pub transcriber: Option<AssistantTranscriberInput>,
    /// The tools it may call: JSON objects as the platform defines them (at most 100).
    pub functions: Option<Vec<Value>>,
    /// Where the platform posts the call's events (http or https URL).
    pub server_url: Option<String>,
    /// The secret the platform signs those events with. Stored encrypted; never returned
    /// (`hasServerUrlSecret`).
    #[graphql(secret)]
    pub server_url_secret: Option<String>,
    /// It may hang up.
    pub end_call_function_enabled: Option<bool>,
    /// It may dial the keypad.
    pub dial_keypad_function_enabled: Option<bool>,
    /// It says filler words.
    pub fillers_enabled: Option<bool>,
    /// Seconds of silence before it ends the call (greater than 0).
    pub silence_timeout_seconds: Option<i32>,
    /// Longest call, in seconds (greater than 0).
    pub max_duration_seconds: Option<i32>,
    /// Background sound: a keyword (`office`, `off`) or an http(s) URL.
    pub background_sound: Option<String>,
    /// It backchannels while the caller speaks.
    pub backchanneling_enabled: Option<bool>,
    /// It filters background noise.
    pub background_denoising_enabled: Option<bool>,
    /// The model's output is kept in the call's messages.
    pub model_output_in_messages_enabled: Option<bool>,
    /// How calls reach it (at most 20).
    pub transport_configurations: Option<Vec<TransportConfigurationInput>>,
    /// HIPAA mode.
    pub hipaa_enabled: Option<bool>,
    /// Calls are analysed after they end.
    pub analysis_enabled: Option<bool>,
    /// Artifact plan (a JSON object).
    pub artifact_plan: Option<Value>,
    /// Message plan (a JSON object).
    pub message_plan: Option<Value>,
    /// Start-speaking plan (a JSON object).
    pub start_speaking_plan: Option<Value>,
    /// Stop-speaking plan (a JSON object).
    pub stop_speaking_plan: Option<Value>,
    /// Monitor plan (a JSON object).
    pub monitor_plan: Option<Value>,
    /// Free-form data (a JSON object).
    pub metadata: Option<Value>,
}

/// Changes to an assistant: a field left out keeps its value, `null` clears a nullable field
/// (the others cannot be cleared: `null` is refused). `voice`, `model` and `transcriber`
/// change only the keys they name; lists and plans are replaced whole (`[]` / `{}` empty them).
#[derive(Debug, Clone, Default, InputObject)]
pub struct UpdateAssistantInput {
    /// Display name.
    pub name: MaybeUndefined<String>,
    /// What it is for.
    pub description: MaybeUndefined<String>,
    /// The platform's id for it; unique within the tenant.
    pub provider_assistant_id: MaybeUndefined<String>,
    /// Whether it takes calls.
    pub status: MaybeUndefined<AssistantStatus>,
    /// The line of business it is tuned for.
    pub industry: MaybeUndefined<AssistantIndustry>,
    /// Voice settings to change (keys left out are kept).
    pub voice: MaybeUndefined<AssistantVoiceInput>,
    /// Model settings to change (keys left out are kept).
    pub model: MaybeUndefined<AssistantModelInput>,
    /// Transcriber settings to change (keys left out are kept).
    pub transcriber: MaybeUndefined<AssistantTranscriberInput>,
    /// The tools it may call (replaces the list).
    pub functions: MaybeUndefined<Vec<Value>>,
    /// Where the platform posts the call's events.
    pub server_url: MaybeUndefined<String>,
    /// A new webhook secret, or `null` to delete it. Stored encrypted; never returned.
    #[graphql(secret)]
    pub server_url_secret: MaybeUndefined<String>,
    /// It may hang up.
    pub end_call_function_enabled: MaybeUndefined<bool>,
    /// It may dial the keypad.
    pub dial_keypad_function_enabled: MaybeUndefined<bool>,
    /// It says filler words.
    pub fillers_enabled: MaybeUndefined<bool>,
    /// Seconds of silence before it ends the call (greater than 0).
    pub silence_timeout_seconds: MaybeUndefined<i32>,
    /// Longest call, in seconds (greater than 0).
    pub max_duration_seconds: MaybeUndefined<i32>,
    /// Background sound: a keyword or an http(s) URL.
    pub background_sound: MaybeUndefined<String>,
    /// It backchannels while the caller speaks.
    pub backchanneling_enabled: MaybeUndefined<bool>,
    /// It filters background noise.
    pub background_denoising_enabled: MaybeUndefined<bool>,
    /// The model's output is kept in the call's messages.
    pub model_output_in_messages_enabled: MaybeUndefined<bool>,
    /// How calls reach it (replaces the list).
    pub transport_configurations: MaybeUndefined<Vec<TransportConfigurationInput>>,
    /// HIPAA mode.
    pub hipaa_enabled: MaybeUndefined<bool>,
    /// Calls are analysed after they end.
    pub analysis_enabled: MaybeUndefined<bool>,
    /// Artifact plan (replaces it).
    pub artifact_plan: MaybeUndefined<Value>,
    /// Message plan (replaces it).
    pub message_plan: MaybeUndefined<Value>,
    /// Start-speaking plan (replaces it).
    pub start_speaking_plan: MaybeUndefined<Value>,
    /// Stop-speaking plan (replaces it).
    pub stop_speaking_plan: MaybeUndefined<Value>,
    /// Monitor plan (replaces it).
    pub monitor_plan: MaybeUndefined<Value>,
    /// Free-form data (replaces it).
    pub metadata: MaybeUndefined<Value>,
}

/// The result of `deleteAssistant`.
#[derive(Debug, Clone, SimpleObject)]
pub struct DeleteAssistantPayload {
    /// The global id of the assistant that was deleted.
    pub deleted_id: ID,
    /// How many of its calls were kept without an assistant (`Call.assistant` is now null).
    pub unlinked_calls: i64,
}

// ------------------------------------------------------------------------------------------------
// Validation
// ------------------------------------------------------------------------------------------------

fn opt_text(
    field: &'static str,
    max: usize,
) -> impl Fn(String) -> Result<Option<String>, ApiError> {
    move |v| validate::optional_text(field, Some(v), max)
}

fn name(v: String) -> Result<String, ApiError> {
    validate::required_text("input.name", &v, NAME_MAX)
}

/// Blank clears; anything else must be a provider id.
fn provider_assistant_id(v: String) -> Result<Option<String>, ApiError> {
    if v.trim().is_empty() {
        return Ok(None);
    }
    validate::provider_id("input.providerAssistantId", &v).map(Some)
}

/// Blank clears; anything else must be an http(s) URL.
fn server_url(v: String) -> Result<Option<String>, ApiError> {
    if v.trim().is_empty() {
        return Ok(None);
    }
    validate::url("input.serverUrl", &v).map(Some)
}

/// The longest webhook secret accepted.
const SECRET_MAX: usize = 1_000;

/// A webhook secret: required (`null` deletes one, blank is a mistake), at most
/// [`SECRET_MAX`] characters, no control characters. Errors never quote it.
fn server_url_secret(v: String) -> Result<Option<SecretString>, ApiError> {
    let v = validate::required_text("input.serverUrlSecret", &v, SECRET_MAX)?;
    Ok(Some(SecretString::from(v)))
}

/// Stores (or with `None` deletes) assistant `id`'s webhook secret when the input set it.
async fn write_secret(
    r: &Resolve<'_>,
    tx: &mut frontdesk_db::TenantTx,
    id: uuid::Uuid,
    secret: Patch<Option<SecretString>>,
) -> Result<(), ApiError> {
    let Patch::Set(secret) = secret else {
        return Ok(());
    };
    let keyring = r.session.db().keyring().map_err(DbError::from)?;
    assistants::set_server_url_secret(tx, keyring, id, secret.as_ref())
        .await
        .map_err(|e| write_error(e, ASSISTANT))
}

/// Blank clears; a URL must be http(s), anything else a short keyword (`office`, `off`).
fn background_sound(v: String) -> Result<Option<String>, ApiError> {
    const FIELD: &str = "input.backgroundSound";
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if v.contains("://") {
        return validate::url(FIELD, v).map(Some);
    }
    let keyword = v.chars().count() <= SOUND_KEYWORD_MAX
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
    if !keyword {
        return Err(bad(
            FIELD,
            format!(
                "must be a keyword such as office or off (letters, digits, - and _, at most \
                 {SOUND_KEYWORD_MAX} characters) or an http(s) URL of at most {URL_MAX} characters"
            ),
        ));
    }
    Ok(Some(v.to_owned()))
}

fn seconds(field: &'static str) -> impl Fn(i32) -> Result<Option<i32>, ApiError> {
    move |v| validate::positive_int(field, v).map(Some)
}

/// Tool definitions: JSON objects, each bounded like any free-form document.
fn functions(v: Vec<Value>) -> Result<Value, ApiError> {
    const FIELD: &str = "input.functions";
    if v.len() > FUNCTIONS_MAX {
        return Err(bad(
            FIELD,
            format!("has too many functions: at most {FUNCTIONS_MAX} are allowed"),
        ));
    }
    v.into_iter()
        .enumerate()
        .map(|(i, f)| json_object(&format!("{FIELD}[{i}]"), f))
        .collect::<Result<Vec<_>, _>>()
        .map(Value::Array)
}

fn transport_list(v: Vec<TransportConfigurationInput>) -> Result<Value, ApiError> {
    transports("input.transportConfigurations", v)
}

impl CreateAssistantInput {
    fn lower(self) -> Result<AssistantFields, ApiError> {
        let doc = |f: &'static str| move |v: Value| json_object(f, v);
        Ok(AssistantFields {
            name: Patch::Set(name(self.name)?),
            description: create_field(self.description, opt_text("input.description", NOTES_MAX))?,
            provider_assistant_id: create_field(self.provider_assistant_id, provider_assistant_id)?,
            status: create_field(self.status, |v| Ok(v.as_db()))?,
            industry: create_field(self.industry, |v| Ok(Some(v.as_db())))?,
            voice: create_field(self.voice, |v| v.lower("input.voice", false))?,
            model: create_field(self.model, |v| v.lower("input.model", false))?,
            transcriber: create_field(self.transcriber, |v| v.lower("input.transcriber", false))?,
            functions: create_field(self.functions, functions)?,
            server_url: create_field(self.server_url, server_url)?,
            end_call_function_enabled: create_field(self.end_call_function_enabled, Ok)?,
            dial_keypad_function_enabled: create_field(self.dial_keypad_function_enabled, Ok)?,
            fillers_enabled: create_field(self.fillers_enabled, Ok)?,
            silence_timeout_seconds: create_field(
                self.silence_timeout_seconds,
                seconds("input.silenceTimeoutSeconds"),
            )?,
            max_duration_seconds: create_field(
                self.max_duration_seconds,
                seconds("input.maxDurationSeconds"),
            )?,
            background_sound: create_field(self.background_sound, background_sound)?,
            backchanneling_enabled: create_field(self.backchanneling_enabled, Ok)?,
            background_denoising_enabled: create_field(self.background_denoising_enabled, Ok)?,
            model_output_in_messages_enabled: create_field(
                self.model_output_in_messages_enabled,
                Ok,
            )?,
            transport_configurations: create_field(self.transport_configurations, transport_list)?,
            hipaa_enabled: create_field(self.hipaa_enabled, Ok)?,
            analysis_enabled: create_field(self.analysis_enabled, Ok)?,
            artifact_plan: create_field(self.artifact_plan, doc("input.artifactPlan"))?,
            message_plan: create_field(self.message_plan, doc("input.messagePlan"))?,
            start_speaking_plan: create_field(
                self.start_speaking_plan,
                doc("input.startSpeakingPlan"),
            )?,
            stop_speaking_plan: create_field(
                self.stop_speaking_plan,
                doc("input.stopSpeakingPlan"),
            )?,
            monitor_plan: create_field(self.monitor_plan, doc("input.monitorPlan"))?,
            metadata: create_field(self.metadata, doc("input.metadata"))?,
        })
    }
}

impl UpdateAssistantInput {
    fn lower(self) -> Result<AssistantFields, ApiError> {
        // Every column but the nullable ones is NOT NULL: `null` is refused there
        // (`update_required`) rather than read as "empty" or "default".
        let doc = |f: &'static str| move |v: Value| json_object(f, v);
        let flag = |f: &'static str, v: MaybeUndefined<bool>| update_required(f, v, Ok);
        Ok(AssistantFields {
            name: update_required("input.name", self.name, name)?,
            description: update_nullable(
                self.description,
                opt_text("input.description", NOTES_MAX),
            )?,
            provider_assistant_id: update_nullable(
                self.provider_assistant_id,
                provider_assistant_id,
            )?,
            status: update_required("input.status", self.status, |v| Ok(v.as_db()))?,
            industry: update_nullable(self.industry, |v| Ok(Some(v.as_db())))?,
            voice: update_required("input.voice", self.voice, |v| v.lower("input.voice", true))?,
            model: update_required("input.model", self.model, |v| v.lower("input.model", true))?,
            transcriber: update_required("input.transcriber", self.transcriber, |v| {
                v.lower("input.transcriber", true)
            })?,
            functions: update_required("input.functions", self.functions, functions)?,
            server_url: update_nullable(self.server_url, server_url)?,
            end_call_function_enabled: flag(
                "input.endCallFunctionEnabled",
                self.end_call_function_enabled,
            )?,
            dial_keypad_function_enabled: flag(
                "input.dialKeypadFunctionEnabled",
                self.dial_keypad_function_enabled,
            )?,
            fillers_enabled: flag("input.fillersEnabled", self.fillers_enabled)?,
            silence_timeout_seconds: update_nullable(
                self.silence_timeout_seconds,
                seconds("input.silenceTimeoutSeconds"),
            )?,
            max_duration_seconds: update_nullable(
                self.max_duration_seconds,
                seconds("input.maxDurationSeconds"),
            )?,
            background_sound: update_nullable(self.background_sound, background_sound)?,
            backchanneling_enabled: flag(
                "input.backchannelingEnabled",
                self.backchanneling_enabled,
            )?,
            background_denoising_enabled: flag(
                "input.backgroundDenoisingEnabled",
                self.background_denoising_enabled,
            )?,
            model_output_in_messages_enabled: flag(
                "input.modelOutputInMessagesEnabled",
                self.model_output_in_messages_enabled,
            )?,
            transport_configurations: update_required(
                "input.transportConfigurations",
                self.transport_configurations,
                transport_list,
            )?,
            hipaa_enabled: flag("input.hipaaEnabled", self.hipaa_enabled)?,
            analysis_enabled: flag("input.analysisEnabled", self.analysis_enabled)?,
            artifact_plan: update_required(
                "input.artifactPlan",
                self.artifact_plan,
                doc("input.artifactPlan"),
            )?,
            message_plan: update_required(
                "input.messagePlan",
                self.message_plan,
                doc("input.messagePlan"),
            )?,
            start_speaking_plan: update_required(
                "input.startSpeakingPlan",
                self.start_speaking_plan,
                doc("input.startSpeakingPlan"),
            )?,
            stop_speaking_plan: update_required(
                "input.stopSpeakingPlan",
                self.stop_speaking_plan,
                doc("input.stopSpeakingPlan"),
            )?,
            monitor_plan: update_required(
                "input.monitorPlan",
                self.monitor_plan,
                doc("input.monitorPlan"),
            )?,
            metadata: update_required("input.metadata", self.metadata, doc("input.metadata"))?,
        })
    }
}

// ------------------------------------------------------------------------------------------------
// Resolvers
// ------------------------------------------------------------------------------------------------

async fn create(r: &Resolve<'_>, mut input: CreateAssistantInput) -> Result<Assistant, ApiError> {
    authorize::<Assistant>(r, Op::Write).await?;
    let secret = create_field(input.server_url_secret.take(), server_url_secret)?;
    let fields = input.lower()?;
    let mut tx = r.session.tx().await?;
    let id = assistants::create(&mut tx, &fields)
        .await
        .map_err(|e| write_error(e, ASSISTANT))?;
    write_secret(r, &mut tx, id, secret).await?;
    read_back(&mut tx, id).await
}

async fn update(
    r: &Resolve<'_>,
    id: NodeRef<Assistant>,
    mut input: UpdateAssistantInput,
) -> Result<Assistant, ApiError> {
    authorize::<Assistant>(r, Op::Write).await?;
    let secret = update_nullable(
        std::mem::take(&mut input.server_url_secret),
        server_url_secret,
    )?;
    let fields = input.lower()?;
    let mut tx = r.session.tx().await?;
    assistants::update(&mut tx, id.row(), &fields)
        .await
        .map_err(|e| write_error(e, ASSISTANT))?;
    write_secret(r, &mut tx, id.row(), secret).await?;
    read_back(&mut tx, id.row()).await
}

async fn delete(
    r: &Resolve<'_>,
    id: NodeRef<Assistant>,
) -> Result<DeleteAssistantPayload, ApiError> {
    authorize::<Assistant>(r, Op::Delete).await?;
    let mut tx = r.session.tx().await?;
    let unlinked_calls = assistants::delete(&mut tx, id.row())
        .await
        .map_err(|e| write_error(e, ASSISTANT))?;
    Ok(DeleteAssistantPayload {
        deleted_id: global_id::encode("Assistant", id.row()),
        unlinked_calls,
    })
}

/// Assistant mutations.
#[derive(Debug, Default)]
pub struct AssistantMutation;

#[Object]
impl AssistantMutation {
    /// Creates an assistant. Admins and owners, or a supervisor with `system:admin`.
    async fn create_assistant(
        &self,
        ctx: &Context<'_>,
        input: CreateAssistantInput,
    ) -> async_graphql::Result<Assistant> {
        let r = Resolve::new(ctx)?;
        r.run(create(&r, input)).await
    }

    /// Changes the fields given; fields left out keep their values, `null` clears a nullable
    /// field; `voice`, `model` and `transcriber` change only the keys given. Admins and
    /// owners, or a supervisor with `system:admin`.
    async fn update_assistant(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Assistant>,
        input: UpdateAssistantInput,
    ) -> async_graphql::Result<Assistant> {
        let r = Resolve::new(ctx)?;
        r.run(update(&r, id, input)).await
    }

    /// Deletes an assistant. Its calls are kept, without an assistant. Admins and owners.
    async fn delete_assistant(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Assistant>,
    ) -> async_graphql::Result<DeleteAssistantPayload> {
        let r = Resolve::new(ctx)?;
        r.run(delete(&r, id)).await
    }
}
