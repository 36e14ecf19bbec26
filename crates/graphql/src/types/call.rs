//! `Call`: a voice call (seeds 004 + 000 voice_calls + 001 call records).

use async_graphql::{ComplexObject, Context, SelectionField, SimpleObject};
use chrono::{DateTime, Utc};
use frontdesk_db::query::Table;
use rust_decimal::Decimal;
use sqlx::types::Json;
use uuid::Uuid;

use super::docs::{CallAnalysis, CallEntity, CostBreakdown, TranscriptMessage};
use super::enums::{CallAction, CallStatus, Direction, Sentiment, VoiceGender};
use super::{Booking, Customer, SmsMessage, SmsMessageFilter, SmsMessageOrder};
use crate::list::filter::{
    entity_filter, text_search, BooleanFilter, DateTimeFilter, DecimalFilter, EnumFilter,
    IntFilter, JsonFilter, StringFilter, TagsFilter, UuidFilter,
};
use crate::list::order::entity_order;
use crate::list::{children, Connection, ListArgs, Node};
use crate::prefetch;
use crate::query::Resolve;

/// A phone call handled by the assistant or staff.
// `sqlx(default)`: lists read only the columns a query selects (plus ids and links).
#[derive(Debug, Clone, Default, SimpleObject, sqlx::FromRow)]
#[sqlx(default)]
#[graphql(complex)]
pub struct Call {
    /// Id.
    pub id: Uuid,
    /// The caller, when known.
    pub customer_id: Option<Uuid>,
    /// The booking the call was about.
    pub booking_id: Option<Uuid>,
    /// The assistant that took the call.
    pub assistant_id: Option<Uuid>,
    /// The conversation the call belongs to.
    pub conversation_id: Option<Uuid>,
    /// The other party's number (E.164).
    pub phone_number: String,
    /// The caller's name as heard.
    pub customer_name: Option<String>,
    /// Length in seconds.
    pub duration: i32,
    /// Progress.
    pub status: Option<CallStatus>,
    /// Inbound or outbound.
    pub call_type: Option<Direction>,
    /// Recording location.
    pub recording_url: Option<String>,
    /// Recording size in bytes.
    pub recording_size: Option<i64>,
    /// Full transcript.
    pub transcript: Option<String>,
    /// Transcriber confidence, 0–1.
    pub transcription_confidence: Option<Decimal>,
    /// Summary.
    pub summary: Option<String>,
    /// Total cost.
    pub cost: Decimal,
    /// Staff notes.
    pub notes: Option<String>,
    /// Tone of the call.
    pub sentiment: Option<Sentiment>,
    /// The assistant's voice.
    pub voice_gender: Option<VoiceGender>,
    /// Language code spoken.
    pub language: Option<String>,
    /// Start.
    pub started_at: Option<DateTime<Utc>>,
    /// End.
    pub ended_at: Option<DateTime<Utc>>,
    /// What the caller wanted.
    pub intent: Option<String>,
    /// Entities extracted.
    #[graphql(skip)]
    pub entities: Json<Vec<CallEntity>>,
    /// Keywords spotted.
    pub keywords: Vec<String>,
    /// How it ended, in words.
    pub outcome: Option<String>,
    /// What the assistant did.
    pub action_taken: Option<CallAction>,
    /// Voice platform (`vapi`, `twilio`…).
    pub provider: Option<String>,
    /// The platform's call id.
    pub provider_call_id: Option<String>,
    /// The carrier's call SID.
    pub provider_call_sid: Option<String>,
    /// Why the call ended, as the platform says.
    pub ended_reason: Option<String>,
    /// Transcript turns.
    #[graphql(skip)]
    pub messages: Json<Vec<TranscriptMessage>>,
    /// The AI's analysis.
    #[graphql(skip)]
    pub analysis: Json<CallAnalysis>,
    /// Costs per provider.
    #[graphql(skip)]
    pub cost_breakdown: Json<CostBreakdown>,
    /// LLM tokens used.
    pub tokens_used: i32,
    /// Free-form data.
    pub metadata: serde_json::Value,
    /// Handled under HIPAA rules.
    pub hipaa_compliant: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

pub(crate) static CALLS: Table = Table {
    name: "app.calls",
    columns: "t.id, t.customer_id, t.booking_id, t.assistant_id, t.conversation_id, \
              t.phone_number, t.customer_name, t.duration, t.status, t.call_type, t.recording_url, \
              t.recording_size, t.transcript, t.transcription_confidence, t.summary, t.cost, \
              t.notes, t.sentiment, t.voice_gender, t.language, t.started_at, t.ended_at, \
              t.intent, t.entities, t.keywords, t.outcome, t.action_taken, t.provider, \
              t.provider_call_id, t.provider_call_sid, t.ended_reason, t.messages, t.analysis, \
              t.cost_breakdown, t.tokens_used, t.metadata, t.hipaa_compliant, t.created_at, \
              t.updated_at",
};

entity_filter! {
    /// Which calls; fields combine with AND.
    CallFilter {
        id: UuidFilter => "t.id",
        customer_id: UuidFilter => "t.customer_id",
        booking_id: UuidFilter => "t.booking_id",
        assistant_id: UuidFilter => "t.assistant_id",
        conversation_id: UuidFilter => "t.conversation_id",
        phone_number: StringFilter => "t.phone_number",
        customer_name: StringFilter => "t.customer_name",
        duration: IntFilter => "t.duration",
        status: EnumFilter<CallStatus> => "t.status",
        call_type: EnumFilter<Direction> => "t.call_type",
        sentiment: EnumFilter<Sentiment> => "t.sentiment",
        voice_gender: EnumFilter<VoiceGender> => "t.voice_gender",
        action_taken: EnumFilter<CallAction> => "t.action_taken",
        language: StringFilter => "t.language",
        intent: StringFilter => "t.intent",
        outcome: StringFilter => "t.outcome",
        provider: StringFilter => "t.provider",
        provider_call_id: StringFilter => "t.provider_call_id",
        keywords: TagsFilter => "t.keywords",
        cost: DecimalFilter => "t.cost",
        tokens_used: IntFilter => "t.tokens_used",
        metadata: JsonFilter => "t.metadata",
        analysis: JsonFilter => "t.analysis",
        hipaa_compliant: BooleanFilter => "t.hipaa_compliant",
        started_at: DateTimeFilter => "t.started_at",
        ended_at: DateTimeFilter => "t.ended_at",
        created_at: DateTimeFilter => "t.created_at",
        updated_at: DateTimeFilter => "t.updated_at",
    }
    /// Words in the transcript or summary (web-search syntax).
    search => text_search("t.search")
}

entity_order! {
    /// A call sort key.
    CallOrder, CallOrderField {
        /// Creation time.
        CreatedAt => ("t.created_at", "timestamptz"),
        /// Last change.
        UpdatedAt => ("t.updated_at", "timestamptz"),
        /// Start (unstarted first when ascending).
        StartedAt => ("coalesce(t.started_at, '-infinity')", "timestamptz"),
        /// Length.
        Duration => ("t.duration", "integer"),
        /// Cost.
        Cost => ("t.cost", "numeric"),
        /// Number.
        PhoneNumber => ("t.phone_number", "text"),
    }
}

impl Node for Call {
    const NAME: &'static str = "Call";
    const TABLE: &'static Table = &CALLS;
    type Filter = CallFilter;
    type Order = CallOrder;
    fn id(&self) -> Uuid {
        self.id
    }

    fn prefetch<'a>(
        r: &'a Resolve<'a>,
        field: SelectionField<'a>,
        path: String,
        rows: &[&Self],
    ) -> Option<prefetch::Task<'a>> {
        Some(match field.name() {
            "customer" => prefetch::linked::<Customer>(
                r,
                field,
                path,
                rows.iter().filter_map(|c| c.customer_id).collect(),
            ),
            "booking" => prefetch::linked::<Booking>(
                r,
                field,
                path,
                rows.iter().filter_map(|c| c.booking_id).collect(),
            ),
            "smsMessages" => prefetch::children::<SmsMessage>(
                r,
                field,
                path,
                "call_id",
                rows.iter().map(|c| c.id).collect(),
            ),
            _ => return None,
        })
    }
}

#[ComplexObject]
impl Call {
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

    /// The caller, when known.
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        let Some(id) = self.customer_id else {
            return Ok(None);
        };
        let r = Resolve::new(ctx)?;
        r.run(r.loaders.load_by_id::<Customer>(id)).await
    }

    /// The booking the call was about.
    async fn booking(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Booking>> {
        let Some(id) = self.booking_id else {
            return Ok(None);
        };
        let r = Resolve::new(ctx)?;
        r.run(r.loaders.load_by_id::<Booking>(id)).await
    }

    /// Text messages the call produced (newest first unless ordered).
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::list::cost(first, last, child_complexity)")]
    async fn sms_messages(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<SmsMessageFilter>,
        order_by: Option<Vec<SmsMessageOrder>>,
    ) -> async_graphql::Result<Connection<SmsMessage>> {
        let args = ListArgs {
            first,
            after,
            last,
            before,
            filter,
            order_by,
        };
        let r = Resolve::new(ctx)?;
        r.run(children(ctx, &r, "call_id", self.id, args)).await
    }
}
