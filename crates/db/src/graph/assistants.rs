//! Voice-assistant writes (seed 001 `av_vapi_assistants`): create, partial update, delete.
//!
//! An assistant is the tenant's configuration of one voice agent on a platform such as Vapi:
//! its voice, language model, transcriber, tools, timeouts and plans. The database keeps the
//! rules a caller should know about:
//! - `provider_assistant_id` is unique per tenant when present (the platform's id, the key a
//!   webhook finds its assistant by): a duplicate surfaces as a violation of
//!   `assistants_tenant_id_provider_assistant_id_key`;
//! - the `voice`, `model` and `transcriber` documents are objects whose known keys have the
//!   seed's types, and `model.temperature` is within 0–2, `model.maxTokens` at least 1; the
//!   transport configurations are an array of objects (`timeout` a number, `record` a
//!   boolean); the timeouts are positive (CHECKs named `assistants_<column>_check`).
//!
//! `voice`, `model` and `transcriber` are written as a [`Doc`]: replaced on create, merged key
//! by key on update (see [`Doc`] for why). The lists and plans are replaced whole.
//!
//! The webhook secret (`server_url_secret_ciphertext`) is not among the [`AssistantFields`]:
//! it arrives in clear and is sealed for its row by [`set_server_url_secret`], its only write
//! path (the row id is part of the sealed value's associated data, so it is written once the
//! row exists).
//!
//! Calls name the assistant that took them (`calls.assistant_id`, `ON DELETE SET NULL`): a
//! deleted assistant's calls stay, without an assistant. No customer counter counts
//! assistants, so nothing here refreshes counters.

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use uuid::Uuid;

use super::{changes, Doc, Patch, Val, WriteError};
use crate::crypto::sealed::ASSISTANT_SERVER_URL_SECRET;
use crate::crypto::Keyring;
use crate::TenantTx;

/// The writable columns of an assistant. For [`create`], `name` must be set. Enumerated
/// columns take their database spelling.
#[derive(Debug, Clone, Default)]
pub struct AssistantFields {
    /// Display name.
    pub name: Patch<String>,
    /// What it is for.
    pub description: Patch<Option<String>>,
    /// The platform's id (001 `vapiId`), unique per tenant.
    pub provider_assistant_id: Patch<Option<String>>,
    /// `active`, `inactive` (the default), `training` or `error`.
    pub status: Patch<&'static str>,
    /// `medical`, `legal`, `sales` or `general`.
    pub industry: Patch<Option<&'static str>>,
    /// `{provider, voiceId, speed, pitch}`.
    pub voice: Patch<Doc>,
    /// `{provider, model, temperature, maxTokens, systemPrompt}`.
    pub model: Patch<Doc>,
    /// `{provider, model, language}`.
    pub transcriber: Patch<Doc>,
    /// The tools it may call: a JSON array.
    pub functions: Patch<Value>,
    /// Where the platform posts events.
    pub server_url: Patch<Option<String>>,
    /// It may hang up.
    pub end_call_function_enabled: Patch<bool>,
    /// It may dial the keypad.
    pub dial_keypad_function_enabled: Patch<bool>,
    /// It says filler words.
    pub fillers_enabled: Patch<bool>,
    /// Seconds of silence before it ends the call (> 0).
    pub silence_timeout_seconds: Patch<Option<i32>>,
    /// Longest call in seconds (> 0).
    pub max_duration_seconds: Patch<Option<i32>>,
    /// Background sound: a keyword (`office`, `off`) or a URL.
    pub background_sound: Patch<Option<String>>,
    /// It backchannels ("mm-hm").
    pub backchanneling_enabled: Patch<bool>,
    /// It filters background noise.
    pub background_denoising_enabled: Patch<bool>,
    /// The model's output goes into the call's messages.
    pub model_output_in_messages_enabled: Patch<bool>,
    /// `[{name, provider, timeout, record, recordingChannels}]`.
    pub transport_configurations: Patch<Value>,
    /// HIPAA mode (no recordings or transcripts kept by the platform).
    pub hipaa_enabled: Patch<bool>,
    /// Calls are analysed after they end.
    pub analysis_enabled: Patch<bool>,
    /// Artifact plan (a JSON object).
    pub artifact_plan: Patch<Value>,
    /// Message plan (a JSON object).
    pub message_plan: Patch<Value>,
    /// Start-speaking plan (a JSON object).
    pub start_speaking_plan: Patch<Value>,
    /// Stop-speaking plan (a JSON object).
    pub stop_speaking_plan: Patch<Value>,
    /// Monitor plan (a JSON object).
    pub monitor_plan: Patch<Value>,
    /// Free-form data (a JSON object).
    pub metadata: Patch<Value>,
}

fn to_changes(f: &AssistantFields) -> super::Changes {
    changes!(f; name, description, provider_assistant_id, status, industry, voice, model,
        transcriber, functions, server_url, end_call_function_enabled,
        dial_keypad_function_enabled, fillers_enabled, silence_timeout_seconds,
        max_duration_seconds, background_sound, backchanneling_enabled,
        background_denoising_enabled, model_output_in_messages_enabled, transport_configurations,
        hipaa_enabled, analysis_enabled, artifact_plan, message_plan, start_speaking_plan,
        stop_speaking_plan, monitor_plan, metadata)
}

/// Inserts an assistant and returns its id.
#[tracing::instrument(skip_all)]
pub async fn create(tx: &mut TenantTx, fields: &AssistantFields) -> Result<Uuid, WriteError> {
    let mut qb = super::insert("app.assistants", to_changes(fields));
    qb.push(" RETURNING id");
    Ok(qb.build_query_scalar().fetch_one(tx.conn()).await?)
}

/// Changes the set fields of assistant `id`.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn update(
    tx: &mut TenantTx,
    id: Uuid,
    fields: &AssistantFields,
) -> Result<(), WriteError> {
    super::update_row(tx, "app.assistants", to_changes(fields), id).await
}

/// Stores assistant `id`'s webhook secret, sealed for that row under the keyring's current
/// key, or deletes it (`None`); [`WriteError::NotFound`] when the assistant is not visible.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn set_server_url_secret(
    tx: &mut TenantTx,
    keyring: &Keyring,
    id: Uuid,
    secret: Option<&SecretString>,
) -> Result<(), WriteError> {
    let tenant = tx.ctx().tenant_id;
    let sealed = secret
        .map(|s| ASSISTANT_SERVER_URL_SECRET.seal(keyring, tenant, id, s.expose_secret()))
        .transpose()?;
    let change = vec![(ASSISTANT_SERVER_URL_SECRET.column, Val::from(sealed))];
    super::update_row(tx, "app.assistants", change, id).await
}

/// Deletes assistant `id` and returns how many calls it had: they stay, their `assistant_id`
/// cleared by the foreign key. Counted in the statement that deletes, so the number is the
/// one the deletion saw.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn delete(tx: &mut TenantTx, id: Uuid) -> Result<i64, WriteError> {
    let unlinked: Option<i64> = sqlx::query_scalar(
        "WITH gone AS (DELETE FROM app.assistants WHERE id = $1 RETURNING id)
         SELECT (SELECT count(*) FROM app.calls WHERE assistant_id = $1) FROM gone",
    )
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    unlinked.ok_or(WriteError::NotFound)
}
