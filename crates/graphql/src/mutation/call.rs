//! `recordCall` (idempotent on the provider's call id) and `updateCall`: inputs, validation
//! and resolvers.
//!
//! `recordCall` is what a voice platform's webhook handler calls, possibly several times per
//! call: a field it leaves out (or sends as null) keeps the value an earlier post stored.
//! `updateCall` is the staff's edit: there a null clears the field.

use async_graphql::{Context, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, Utc};
use frontdesk_db::graph::calls::{self, CallFields};
use frontdesk_db::graph::Patch;
use rust_decimal::Decimal;
use serde_json::Value;
use uuid::Uuid;

use super::inputs::{
    bad, entities, json_object, transcript, CallAnalysisInput, CallEntityInput, CostBreakdownInput,
    TranscriptMessageInput, LANGUAGE_MAX,
};
use super::{create_field, read_back, update_nullable, update_required, write_error, Target};
use crate::entity::{authorize, Op};
use crate::query::Resolve;
use crate::types::enums::{CallAction, CallStatus, DbEnum, Direction, Sentiment, VoiceGender};
use crate::types::{Assistant, Booking, Call, Customer};
use crate::validate::{
    self, NAME_MAX, NOTES_MAX, PROVIDER_ERROR_MAX, SHORT_TEXT_MAX, SUMMARY_MAX, TRANSCRIPT_MAX,
};
use crate::{ApiError, NodeRef};

/// A voice platform's name (`vapi`, `twilio`): a short identifier.
const PROVIDER_NAME_MAX: usize = 50;

/// A call as a provider reports it. Posting the same `provider` + `providerCallId` again
/// updates that call with the fields the new post carries.
#[derive(Debug, Clone, InputObject)]
pub struct RecordCallInput {
    /// Voice platform (`vapi`, `twilio`…).
    pub provider: String,
    /// The platform's id for the call: with `provider`, the idempotency key.
    pub provider_call_id: String,
    /// The other party's number, international format.
    pub phone_number: String,
    /// The customer; when absent, the customer with this phone number (if any).
    pub customer_id: Option<NodeRef<Customer>>,
    /// The booking the call was about.
    pub booking_id: Option<NodeRef<Booking>>,
    /// The assistant that took the call.
    pub assistant_id: Option<NodeRef<Assistant>>,
    /// The caller's name as heard.
    pub customer_name: Option<String>,
    /// Length in seconds.
    pub duration: Option<i32>,
    /// Progress.
    pub status: Option<CallStatus>,
    /// Inbound or outbound.
    pub call_type: Option<Direction>,
    /// Recording location (http or https URL).
    pub recording_url: Option<String>,
    /// Recording size in bytes.
    pub recording_size: Option<i64>,
    /// Full transcript.
    pub transcript: Option<String>,
    /// Transcriber confidence, 0–1.
    pub transcription_confidence: Option<f64>,
    /// Summary.
    pub summary: Option<String>,
    /// Total cost (at most 4 decimals).
    pub cost: Option<Decimal>,
    /// Notes.
    pub notes: Option<String>,
    /// Tone of the call.
    pub sentiment: Option<Sentiment>,
    /// The assistant's voice.
    pub voice_gender: Option<VoiceGender>,
    /// Language code spoken.
    pub language: Option<String>,
    /// Start.
    pub started_at: Option<DateTime<Utc>>,
    /// End (not before the start).
    pub ended_at: Option<DateTime<Utc>>,
    /// What the caller wanted.
    pub intent: Option<String>,
    /// Entities extracted.
    pub entities: Option<Vec<CallEntityInput>>,
    /// Keywords spotted.
    pub keywords: Option<Vec<String>>,
    /// How it ended, in words.
    pub outcome: Option<String>,
    /// What the assistant did.
    pub action_taken: Option<CallAction>,
    /// The carrier's call SID.
    pub provider_call_sid: Option<String>,
    /// Why the call ended, as the platform says.
    pub ended_reason: Option<String>,
    /// Transcript turns.
    pub messages: Option<Vec<TranscriptMessageInput>>,
    /// The AI's analysis.
    pub analysis: Option<CallAnalysisInput>,
    /// Costs per provider.
    pub cost_breakdown: Option<CostBreakdownInput>,
    /// LLM tokens used.
    pub tokens_used: Option<i32>,
    /// Free-form data (a JSON object).
    pub metadata: Option<Value>,
    /// Handled under HIPAA rules.
    pub hipaa_compliant: Option<bool>,
}

/// Changes to a call: a field left out keeps its value, `null` clears a nullable field. The
/// provider's ids and the phone number identify the call and cannot be changed.
#[derive(Debug, Clone, Default, InputObject)]
pub struct UpdateCallInput {
    /// Link the call to another customer (`null` unlinks it).
    pub customer_id: MaybeUndefined<NodeRef<Customer>>,
    /// The booking the call was about.
    pub booking_id: MaybeUndefined<NodeRef<Booking>>,
    /// The assistant that took the call.
    pub assistant_id: MaybeUndefined<NodeRef<Assistant>>,
    /// The caller's name as heard.
    pub customer_name: MaybeUndefined<String>,
    /// Length in seconds.
    pub duration: MaybeUndefined<i32>,
    /// Progress.
    pub status: MaybeUndefined<CallStatus>,
    /// Inbound or outbound.
    pub call_type: MaybeUndefined<Direction>,
    /// Recording location.
    pub recording_url: MaybeUndefined<String>,
    /// Recording size in bytes.
    pub recording_size: MaybeUndefined<i64>,
    /// Full transcript.
    pub transcript: MaybeUndefined<String>,
    /// Transcriber confidence, 0–1.
    pub transcription_confidence: MaybeUndefined<f64>,
    /// Summary.
    pub summary: MaybeUndefined<String>,
    /// Total cost.
    pub cost: MaybeUndefined<Decimal>,
    /// Notes.
    pub notes: MaybeUndefined<String>,
    /// Tone of the call.
    pub sentiment: MaybeUndefined<Sentiment>,
    /// The assistant's voice.
    pub voice_gender: MaybeUndefined<VoiceGender>,
    /// Language code spoken.
    pub language: MaybeUndefined<String>,
    /// Start.
    pub started_at: MaybeUndefined<DateTime<Utc>>,
    /// End (not before the start).
    pub ended_at: MaybeUndefined<DateTime<Utc>>,
    /// What the caller wanted.
    pub intent: MaybeUndefined<String>,
    /// Entities extracted (replaces the list).
    pub entities: MaybeUndefined<Vec<CallEntityInput>>,
    /// Keywords (replaces the list).
    pub keywords: MaybeUndefined<Vec<String>>,
    /// How it ended, in words.
    pub outcome: MaybeUndefined<String>,
    /// What the assistant did.
    pub action_taken: MaybeUndefined<CallAction>,
    /// Why the call ended.
    pub ended_reason: MaybeUndefined<String>,
    /// Transcript turns (replaces the list).
    pub messages: MaybeUndefined<Vec<TranscriptMessageInput>>,
    /// The AI's analysis (replaces the document).
    pub analysis: MaybeUndefined<CallAnalysisInput>,
    /// Costs per provider (replaces the document).
    pub cost_breakdown: MaybeUndefined<CostBreakdownInput>,
    /// LLM tokens used.
    pub tokens_used: MaybeUndefined<i32>,
    /// Free-form data (replaces the object).
    pub metadata: MaybeUndefined<Value>,
    /// Handled under HIPAA rules.
    pub hipaa_compliant: MaybeUndefined<bool>,
}

fn opt_text(
    field: &'static str,
    max: usize,
) -> impl Fn(String) -> Result<Option<String>, ApiError> {
    move |v| validate::optional_text(field, Some(v), max)
}

fn url(field: &'static str) -> impl Fn(String) -> Result<Option<String>, ApiError> {
    move |v| {
        if v.trim().is_empty() {
            Ok(None)
        } else {
            validate::url(field, &v).map(Some)
        }
    }
}

/// A call cannot end before it starts (when both are given in one input; against a stored
/// value the `calls_period_check` constraint reports the same field).
fn check_period(fields: &CallFields) -> Result<(), ApiError> {
    if let (Some(Some(start)), Some(Some(end))) =
        (fields.started_at.as_set(), fields.ended_at.as_set())
    {
        if end < start {
            return Err(bad("input.endedAt", "must not be before startedAt"));
        }
    }
    Ok(())
}

impl RecordCallInput {
    /// The provider key and the fields; absent and null fields are not carried.
    fn lower(self) -> Result<(String, String, CallFields), ApiError> {
        let provider = validate::provider_id("input.provider", &self.provider)?;
        if provider.chars().count() > PROVIDER_NAME_MAX {
            return Err(bad(
                "input.provider",
                format!("is too long: at most {PROVIDER_NAME_MAX} characters are allowed"),
            ));
        }
        let provider_call_id =
            validate::provider_id("input.providerCallId", &self.provider_call_id)?;
        let fields = CallFields {
            customer_id: create_field(self.customer_id, |v| Ok(Some(v.row())))?,
            booking_id: create_field(self.booking_id, |v| Ok(Some(v.row())))?,
            assistant_id: create_field(self.assistant_id, |v| Ok(Some(v.row())))?,
            phone_number: Patch::Set(validate::phone("input.phoneNumber", &self.phone_number)?),
            customer_name: create_field(
                self.customer_name,
                opt_text("input.customerName", NAME_MAX),
            )?,
            duration: create_field(self.duration, |v| {
                validate::non_negative_int("input.duration", v)
            })?,
            status: create_field(self.status, |v| Ok(Some(v.as_db())))?,
            call_type: create_field(self.call_type, |v| Ok(Some(v.as_db())))?,
            recording_url: create_field(self.recording_url, url("input.recordingUrl"))?,
            recording_size: create_field(self.recording_size, |v| {
                validate::non_negative_int("input.recordingSize", v).map(Some)
            })?,
            transcript: create_field(
                self.transcript,
                opt_text("input.transcript", TRANSCRIPT_MAX),
            )?,
            transcription_confidence: create_field(self.transcription_confidence, |v| {
                validate::confidence("input.transcriptionConfidence", v).map(Some)
            })?,
            summary: create_field(self.summary, opt_text("input.summary", SUMMARY_MAX))?,
            cost: create_field(self.cost, |v| validate::unit_cost("input.cost", v))?,
            notes: create_field(self.notes, opt_text("input.notes", NOTES_MAX))?,
            sentiment: create_field(self.sentiment, |v| Ok(Some(v.as_db())))?,
            voice_gender: create_field(self.voice_gender, |v| Ok(Some(v.as_db())))?,
            language: create_field(self.language, opt_text("input.language", LANGUAGE_MAX))?,
            started_at: create_field(self.started_at, |v| Ok(Some(v)))?,
            ended_at: create_field(self.ended_at, |v| Ok(Some(v)))?,
            intent: create_field(self.intent, opt_text("input.intent", SHORT_TEXT_MAX))?,
            entities: create_field(self.entities, |v| entities("input.entities", v))?,
            keywords: create_field(self.keywords, |v| validate::tags("input.keywords", v))?,
            outcome: create_field(self.outcome, opt_text("input.outcome", SHORT_TEXT_MAX))?,
            action_taken: create_field(self.action_taken, |v| Ok(Some(v.as_db())))?,
            provider_call_sid: create_field(self.provider_call_sid, |v| {
                validate::provider_id("input.providerCallSid", &v).map(Some)
            })?,
            ended_reason: create_field(
                self.ended_reason,
                opt_text("input.endedReason", PROVIDER_ERROR_MAX),
            )?,
            messages: create_field(self.messages, |v| transcript("input.messages", v))?,
            analysis: create_field(self.analysis, |v| v.lower("input.analysis"))?,
            cost_breakdown: create_field(self.cost_breakdown, |v| v.lower("input.costBreakdown"))?,
            tokens_used: create_field(self.tokens_used, |v| {
                validate::non_negative_int("input.tokensUsed", v)
            })?,
            metadata: create_field(self.metadata, |v| json_object("input.metadata", v))?,
            hipaa_compliant: create_field(self.hipaa_compliant, Ok)?,
        };
        check_period(&fields)?;
        Ok((provider, provider_call_id, fields))
    }
}

impl UpdateCallInput {
    fn lower(self) -> Result<CallFields, ApiError> {
        let fields = CallFields {
            customer_id: update_nullable(self.customer_id, |v| Ok(Some(v.row())))?,
            booking_id: update_nullable(self.booking_id, |v| Ok(Some(v.row())))?,
            assistant_id: update_nullable(self.assistant_id, |v| Ok(Some(v.row())))?,
            phone_number: Patch::Keep,
            customer_name: update_nullable(
                self.customer_name,
                opt_text("input.customerName", NAME_MAX),
            )?,
            duration: update_required("input.duration", self.duration, |v| {
                validate::non_negative_int("input.duration", v)
            })?,
            status: update_nullable(self.status, |v| Ok(Some(v.as_db())))?,
            call_type: update_nullable(self.call_type, |v| Ok(Some(v.as_db())))?,
            recording_url: update_nullable(self.recording_url, url("input.recordingUrl"))?,
            recording_size: update_nullable(self.recording_size, |v| {
                validate::non_negative_int("input.recordingSize", v).map(Some)
            })?,
            transcript: update_nullable(
                self.transcript,
                opt_text("input.transcript", TRANSCRIPT_MAX),
            )?,
            transcription_confidence: update_nullable(self.transcription_confidence, |v| {
                validate::confidence("input.transcriptionConfidence", v).map(Some)
            })?,
            summary: update_nullable(self.summary, opt_text("input.summary", SUMMARY_MAX))?,
            cost: update_required("input.cost", self.cost, |v| {
                validate::unit_cost("input.cost", v)
            })?,
            notes: update_nullable(self.notes, opt_text("input.notes", NOTES_MAX))?,
            sentiment: update_nullable(self.sentiment, |v| Ok(Some(v.as_db())))?,
            voice_gender: update_nullable(self.voice_gender, |v| Ok(Some(v.as_db())))?,
            language: update_nullable(self.language, opt_text("input.language", LANGUAGE_MAX))?,
            started_at: update_nullable(self.started_at, |v| Ok(Some(v)))?,
            ended_at: update_nullable(self.ended_at, |v| Ok(Some(v)))?,
            intent: update_nullable(self.intent, opt_text("input.intent", SHORT_TEXT_MAX))?,
            entities: update_required("input.entities", self.entities, |v| {
                entities("input.entities", v)
            })?,
            keywords: update_required("input.keywords", self.keywords, |v| {
                validate::tags("input.keywords", v)
            })?,
            outcome: update_nullable(self.outcome, opt_text("input.outcome", SHORT_TEXT_MAX))?,
            action_taken: update_nullable(self.action_taken, |v| Ok(Some(v.as_db())))?,
            provider_call_sid: Patch::Keep,
            ended_reason: update_nullable(
                self.ended_reason,
                opt_text("input.endedReason", PROVIDER_ERROR_MAX),
            )?,
            messages: update_required("input.messages", self.messages, |v| {
                transcript("input.messages", v)
            })?,
            analysis: update_required("input.analysis", self.analysis, |v| {
                v.lower("input.analysis")
            })?,
            cost_breakdown: update_required("input.costBreakdown", self.cost_breakdown, |v| {
                v.lower("input.costBreakdown")
            })?,
            tokens_used: update_required("input.tokensUsed", self.tokens_used, |v| {
                validate::non_negative_int("input.tokensUsed", v)
            })?,
            metadata: update_required("input.metadata", self.metadata, |v| {
                json_object("input.metadata", v)
            })?,
            hipaa_compliant: update_required("input.hipaaCompliant", self.hipaa_compliant, Ok)?,
        };
        check_period(&fields)?;
        Ok(fields)
    }
}

async fn record(r: &Resolve<'_>, input: RecordCallInput) -> Result<Call, ApiError> {
    authorize::<Call>(r, Op::Write).await?;
    let (provider, provider_call_id, fields) = input.lower()?;
    let mut tx = r.session.tx().await?;
    let recorded = calls::record(&mut tx, &provider, &provider_call_id, &fields)
        .await
        .map_err(|e| {
            write_error(
                e,
                Target {
                    what: "Call",
                    field: "input.providerCallId",
                },
            )
        })?;
    read_back(&mut tx, recorded.id).await
}

async fn update(r: &Resolve<'_>, id: Uuid, input: UpdateCallInput) -> Result<Call, ApiError> {
    authorize::<Call>(r, Op::Write).await?;
    let fields = input.lower()?;
    let mut tx = r.session.tx().await?;
    calls::update(&mut tx, id, &fields).await.map_err(|e| {
        write_error(
            e,
            Target {
                what: "Call",
                field: "id",
            },
        )
    })?;
    read_back(&mut tx, id).await
}

/// Call mutations.
#[derive(Debug, Default)]
pub struct CallMutation;

#[Object]
impl CallMutation {
    /// Records a call as the voice platform reports it. Idempotent on `provider` +
    /// `providerCallId`: posting the same call again updates it with the fields the new post
    /// carries and keeps the others. The customer is `customerId` if given, otherwise the
    /// customer with the call's phone number; unknown callers stay without a customer.
    async fn record_call(
        &self,
        ctx: &Context<'_>,
        input: RecordCallInput,
    ) -> async_graphql::Result<Call> {
        let r = Resolve::new(ctx)?;
        r.run(record(&r, input)).await
    }

    /// Changes a call's details.
    async fn update_call(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Call>,
        input: UpdateCallInput,
    ) -> async_graphql::Result<Call> {
        let r = Resolve::new(ctx)?;
        r.run(update(&r, id.row(), input)).await
    }
}
