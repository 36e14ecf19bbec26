//! `Call`: a voice call (seeds 004 + 000 voice_calls + 001 call records).

use chrono::{DateTime, Utc};
use frontdesk_db::query::search::full_text;
use frontdesk_db::{col, sort, table};
use rust_decimal::Decimal;
use sqlx::types::Json;
use uuid::Uuid;

use super::docs::{CallAnalysis, CallEntity, CostBreakdown, TranscriptMessage};
use super::enums::{
    CallAction, CallActionFilter, CallStatus, CallStatusFilter, Direction, DirectionFilter,
    Sentiment, SentimentFilter, VoiceGender, VoiceGenderFilter,
};
use super::{Assistant, Booking, Conversation, Customer, SmsMessage};
use crate::entity::entity;
use crate::list::filter::{
    BooleanFilter, DateTimeFilter, DecimalFilter, IdFilter, IntFilter, JsonFilter, StringFilter,
    TagsFilter,
};

entity! {
    /// A phone call handled by the assistant or staff.
    Call in table!(calls) => {
    /// The caller, when known.
    customer_id: Option<Uuid>,
    /// The booking the call was about.
    booking_id: Option<Uuid>,
    /// The assistant that took the call.
    assistant_id: Option<Uuid>,
    /// The conversation the call belongs to.
    conversation_id: Option<Uuid>,
    /// The other party's number (E.164).
    phone_number: String,
    /// The caller's name as heard.
    customer_name: Option<String>,
    /// Length in seconds.
    duration: i32,
    /// Progress.
    status: Option<CallStatus>,
    /// Inbound or outbound.
    call_type: Option<Direction>,
    /// Recording location.
    recording_url: Option<String>,
    /// Recording size in bytes.
    recording_size: Option<i64>,
    /// Full transcript.
    transcript: Option<String>,
    /// Transcriber confidence, 0–1.
    transcription_confidence: Option<Decimal>,
    /// Summary.
    summary: Option<String>,
    /// Total cost.
    cost: Decimal,
    /// Staff notes.
    notes: Option<String>,
    /// Tone of the call.
    sentiment: Option<Sentiment>,
    /// The assistant's voice.
    voice_gender: Option<VoiceGender>,
    /// Language code spoken.
    language: Option<String>,
    /// Start.
    started_at: Option<DateTime<Utc>>,
    /// End.
    ended_at: Option<DateTime<Utc>>,
    /// What the caller wanted.
    intent: Option<String>,
    /// Entities extracted.
    #[graphql(skip)]
    entities: Json<Vec<CallEntity>>,
    /// Keywords spotted.
    keywords: Vec<String>,
    /// How it ended, in words.
    outcome: Option<String>,
    /// What the assistant did.
    action_taken: Option<CallAction>,
    /// Voice platform (`vapi`, `twilio`…).
    provider: Option<String>,
    /// The platform's call id.
    provider_call_id: Option<String>,
    /// The carrier's call SID.
    provider_call_sid: Option<String>,
    /// Why the call ended, as the platform says.
    ended_reason: Option<String>,
    /// Transcript turns.
    #[graphql(skip)]
    messages: Json<Vec<TranscriptMessage>>,
    /// The AI's analysis.
    #[graphql(skip)]
    analysis: Json<CallAnalysis>,
    /// Costs per provider.
    #[graphql(skip)]
    cost_breakdown: Json<CostBreakdown>,
    /// LLM tokens used.
    tokens_used: i32,
    /// Free-form data.
    metadata: serde_json::Value,
    /// Handled under HIPAA rules.
    hipaa_compliant: bool,
    /// Created.
    created_at: DateTime<Utc>,
    /// Last changed.
    updated_at: DateTime<Utc>,
    }
    filter CallFilter {
        id: IdFilter [Call],
        customer_id: IdFilter [Customer],
        booking_id: IdFilter [Booking],
        assistant_id: IdFilter [Assistant],
        conversation_id: IdFilter [Conversation],
        phone_number: StringFilter,
        customer_name: StringFilter,
        duration: IntFilter,
        status: CallStatusFilter,
        call_type: DirectionFilter,
        sentiment: SentimentFilter,
        voice_gender: VoiceGenderFilter,
        action_taken: CallActionFilter,
        language: StringFilter,
        intent: StringFilter,
        outcome: StringFilter,
        provider: StringFilter,
        provider_call_id: StringFilter,
        keywords: TagsFilter,
        cost: DecimalFilter,
        tokens_used: IntFilter,
        metadata: JsonFilter,
        analysis: JsonFilter,
        hipaa_compliant: BooleanFilter,
        started_at: DateTimeFilter,
        ended_at: DateTimeFilter,
        created_at: DateTimeFilter,
        updated_at: DateTimeFilter,
    }
    /// Words in the transcript or summary (web-search syntax).
    search: full_text(col!(search));
    order CallOrder, CallOrderField {
        /// Creation time.
        CreatedAt => sort!(created_at: timestamptz),
        /// Last change.
        UpdatedAt => sort!(updated_at: timestamptz),
        /// Start (unstarted first when ascending).
        StartedAt => sort!(started_at: timestamptz, nulls_first),
        /// Length.
        Duration => sort!(duration: integer),
        /// Cost.
        Cost => sort!(cost: numeric),
        /// Number.
        PhoneNumber => sort!(phone_number: text),
    }
    default_order: [CreatedAt desc];
    relations {
        /// The caller, when known.
        customer: one Customer via customer_id,
        /// The booking the call was about.
        booking: one Booking via booking_id,
        /// The assistant that took the call, if any.
        assistant: one Assistant via assistant_id,
        /// The conversation the call is part of, if any.
        conversation: one Conversation via conversation_id,
        /// Text messages the call produced (newest first unless ordered).
        sms_messages: many SmsMessage via call_id,
    }
    root: CallQuery { call, calls };
    access: { read: Viewer + ReadConversations, write: Agent + WriteMessages, delete: Supervisor + WriteMessages };
    constraints {
        "calls_customer_fkey" => "input.customerId": NotFound("Customer"),
        "calls_booking_fkey" => "input.bookingId": NotFound("Booking"),
        "calls_assistant_fkey" => "input.assistantId": NotFound("Assistant"),
        "calls_tenant_id_provider_call_sid_key" => "input.providerCallSid":
            Conflict("another call already has this call SID"),
        "calls_tenant_id_provider_provider_call_id_key" => "input.providerCallId":
            Conflict("another call already has this provider call id"),
        "calls_period_check" => "input.endedAt": Bad("must not be before the call's startedAt"),
    }
    fields {
        /// Entities extracted from the call.
        async fn entities(&self) -> &[CallEntity] {
            &self.entities
        }

        /// Transcript turns.
        async fn messages(&self) -> &[TranscriptMessage] {
            &self.messages
        }

        /// The AI's analysis.
        async fn analysis(&self) -> &CallAnalysis {
            &self.analysis
        }

        /// Costs per provider.
        async fn cost_breakdown(&self) -> &CostBreakdown {
            &self.cost_breakdown
        }
    }
}
