//! The dashboards' GraphQL objects: typed figures (counts `Int`, money and rates `Decimal`,
//! averages nullable when there was nothing to average), from the `frontdesk_db::dashboards`
//! rows.

use async_graphql::{ComplexObject, Context, Enum, SimpleObject};
use chrono::{DateTime, Utc};
use frontdesk_db::dashboards::{Bucket, MemberStatisticsRow, TicketStatisticsRow};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::direct::json_row;
use crate::types::enums::{TicketCategory, TicketPriority};
use crate::types::Member;
use crate::ApiError;

/// The size of an `analytics` period, in the report's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum AnalyticsBucket {
    /// An hour.
    Hour,
    /// A calendar day (23 or 25 hours on a DST change).
    Day,
    /// An ISO week, Monday to Sunday.
    Week,
    /// A calendar month.
    Month,
}

impl From<AnalyticsBucket> for Bucket {
    fn from(b: AnalyticsBucket) -> Self {
        match b {
            AnalyticsBucket::Hour => Bucket::Hour,
            AnalyticsBucket::Day => Bucket::Day,
            AnalyticsBucket::Week => Bucket::Week,
            AnalyticsBucket::Month => Bucket::Month,
        }
    }
}

/// The `analytics` dashboard: one entry per period of the range.
#[derive(Debug, SimpleObject)]
pub struct AnalyticsReport {
    /// The range's start (inclusive).
    pub from: DateTime<Utc>,
    /// The range's end (exclusive).
    pub to: DateTime<Utc>,
    /// The period size.
    pub bucket: AnalyticsBucket,
    /// The zone periods were cut in: the one asked for, else the tenant's.
    pub time_zone: String,
    /// Every period, oldest first, including empty ones.
    pub periods: Vec<AnalyticsPeriod>,
}

impl AnalyticsReport {
    pub(crate) fn new(
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        bucket: AnalyticsBucket,
        zone: Option<String>,
        periods: Vec<AnalyticsPeriod>,
    ) -> Self {
        let time_zone = periods
            .first()
            .map(|p| p.zone.clone())
            .or(zone)
            .unwrap_or_else(|| "UTC".into());
        Self {
            from,
            to,
            bucket,
            time_zone,
            periods,
        }
    }
}

// A row of the statement (`frontdesk_db::dashboards::analytics`), which compiled reads also
// render (`json_row!`).
json_row! {
/// One period's figures. Seed 000 names first, then seed 004's; see docs/data-model.md
/// (`analytics` → `daily_analytics`) for what each is computed from.
#[derive(Debug, SimpleObject, sqlx::FromRow)]
pub struct AnalyticsPeriod {
    /// The zone the period was cut in (the report's `timeZone`).
    #[graphql(skip)]
    pub zone: String,
    /// The period's local start: `2025-03-10` (`2025-03-10T14:00` for hours).
    pub label: String,
    /// The period's start.
    pub start: DateTime<Utc>,
    /// The next period's start.
    pub end: DateTime<Utc>,
    /// Conversations started (000 totalConversations).
    pub total_conversations: i32,
    /// Text conversations (000 chatConversations).
    pub chat_conversations: i32,
    /// Voice conversations: type voice or channel phone (000 voiceConversations).
    pub voice_conversations: i32,
    /// Seconds: the call's duration, else first to last message (000 avgConversationDuration).
    pub avg_conversation_duration: Option<Decimal>,
    /// Seconds to the first response (000 avgResponseTime).
    pub avg_response_time: Option<Decimal>,
    /// Share of the period's conversations resolved or closed, 0–1.
    pub resolution_rate: Decimal,
    /// Share escalated to a human, 0–1.
    pub escalation_rate: Decimal,
    /// Bookings created (000 bookingsMade, 004 total_bookings).
    pub total_bookings: i32,
    /// Of those, cancelled.
    pub cancelled_bookings: i32,
    /// Conversations ending in a sale (000 salesGenerated).
    pub sales_generated: i32,
    /// Paid bookings' amounts.
    pub booking_revenue: Decimal,
    /// Conversations' sale amounts.
    pub sales_revenue: Decimal,
    /// bookingRevenue + salesRevenue (000 totalRevenue).
    pub total_revenue: Decimal,
    /// Leads created (000 newLeads).
    pub new_leads: i32,
    /// Of those, priority hot (000 hotLeads).
    pub hot_leads: i32,
    /// Leads converted in the period (000 leadsConverted).
    pub leads_converted: i32,
    /// Their deal values.
    pub deal_revenue: Decimal,
    /// Of the period's new leads, the share converted so far, 0–1 (000 conversionRate).
    pub lead_conversion_rate: Decimal,
    /// Positive 1, neutral 0.5, negative 0 over scored calls and customer messages (000
    /// avgSentiment); null when nothing was scored.
    pub avg_sentiment: Option<Decimal>,
    /// Positive calls and customer messages (000 positiveInteractions).
    pub positive_interactions: i32,
    /// Negative ones (000 negativeInteractions).
    pub negative_interactions: i32,
    /// LLM tokens of calls and messages (000 tokensUsed).
    pub tokens_used: i64,
    /// Minutes of calls (000 voiceMinutesUsed).
    pub voice_minutes_used: Decimal,
    /// Outbound SMS (000 smsMessagesSent).
    pub sms_messages_sent: i32,
    /// All SMS, both directions (004 total_sms).
    pub total_sms: i32,
    /// Calls, by start time (004 total_calls).
    pub total_calls: i32,
    /// Completed or ended (004 successful_calls).
    pub successful_calls: i32,
    /// Failed, no answer or busy (004 failed_calls).
    pub failed_calls: i32,
    /// Calls that led to a booking.
    pub calls_with_booking: i32,
    /// callsWithBooking / totalCalls, 0–1 (004 conversion_rate, which was a percentage).
    pub call_conversion_rate: Decimal,
    /// Calls' cost.
    pub call_cost: Decimal,
    /// SMS cost.
    pub sms_cost: Decimal,
    /// LLM cost of messages.
    pub ai_cost: Decimal,
    /// callCost + smsCost + aiCost (004 total_cost).
    pub total_cost: Decimal,
}
}

/// One member's seed 003 statistics over the range.
#[derive(Debug, SimpleObject)]
#[graphql(complex)]
pub struct MemberStatistics {
    /// The member's user id.
    pub user_id: Uuid,
    /// Conversations assigned to them and started in the range (003 totalConversations).
    pub conversations_handled: i32,
    /// Of those, resolved or closed (003 resolvedConversations).
    pub conversations_resolved: i32,
    /// Minutes: the average of those conversations' average response times (003
    /// averageResponseTime).
    pub average_response_time: Option<Decimal>,
    /// Minutes to the first response, averaged over those conversations.
    pub first_response_time: Option<Decimal>,
    /// Assigned to them and not finished, now (003 currentActiveConversations).
    pub active_conversations: i32,
    /// Their tickets resolved or closed in the range.
    pub tickets_resolved: i32,
    /// Average 1–5 rating of those conversations and tickets; null without ratings.
    pub csat: Option<Decimal>,
    /// How many ratings `csat` averages.
    pub csat_responses: i32,
}

#[ComplexObject]
impl MemberStatistics {
    /// The member.
    async fn member(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Member>> {
        crate::query::link::<Member>(ctx, Some(self.user_id)).await
    }
}

impl From<MemberStatisticsRow> for MemberStatistics {
    fn from(r: MemberStatisticsRow) -> Self {
        Self {
            user_id: r.user_id,
            conversations_handled: r.conversations_handled,
            conversations_resolved: r.conversations_resolved,
            average_response_time: r.average_response_time,
            first_response_time: r.first_response_time,
            active_conversations: r.active_conversations,
            tickets_resolved: r.tickets_resolved,
            csat: r.csat,
            csat_responses: r.csat_responses,
        }
    }
}

/// Tickets by service-level outcome: met + breached + pending = total.
#[derive(Debug, Clone, Copy, Default, SimpleObject)]
pub struct SlaCounts {
    /// Tickets opened in the range.
    pub total: i32,
    /// Finished within their SLA.
    pub met: i32,
    /// Past due (finished late, or unfinished past due now), as `Ticket.slaBreached`.
    pub breached: i32,
    /// Unfinished and not yet due.
    pub pending: i32,
}

/// SLA counts of one priority.
#[derive(Debug, SimpleObject)]
pub struct TicketPriorityStatistics {
    /// The priority.
    pub priority: TicketPriority,
    /// Its tickets.
    pub sla: SlaCounts,
}

/// SLA counts of one category.
#[derive(Debug, SimpleObject)]
pub struct TicketCategoryStatistics {
    /// The category.
    pub category: TicketCategory,
    /// Its tickets.
    pub sla: SlaCounts,
}

/// Ticket SLA compliance over a range (tickets opened in it).
#[derive(Debug, SimpleObject)]
pub struct TicketStatistics {
    /// The range's start (inclusive).
    pub from: DateTime<Utc>,
    /// The range's end (exclusive).
    pub to: DateTime<Utc>,
    /// All tickets.
    pub sla: SlaCounts,
    /// Per priority that has tickets, low to urgent.
    pub by_priority: Vec<TicketPriorityStatistics>,
    /// Per category that has tickets, by name.
    pub by_category: Vec<TicketCategoryStatistics>,
}

impl TicketStatistics {
    pub(crate) fn from_rows(
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        rows: Vec<TicketStatisticsRow>,
    ) -> Result<Self, ApiError> {
        let mut out = Self {
            from,
            to,
            sla: SlaCounts::default(),
            by_priority: Vec::new(),
            by_category: Vec::new(),
        };
        let bad = |what: &str, v: &str| {
            ApiError::Internal(
                format!("stored ticket {what} {v:?} is not in the API's enum").into(),
            )
        };
        for r in rows {
            let sla = SlaCounts {
                total: r.total,
                met: r.sla_met,
                breached: r.sla_breached,
                pending: r.sla_pending,
            };
            match (r.grouping.as_str(), r.priority, r.category) {
                ("priority", Some(p), _) => out.by_priority.push(TicketPriorityStatistics {
                    priority: TicketPriority::from_db(&p).ok_or_else(|| bad("priority", &p))?,
                    sla,
                }),
                ("category", _, Some(c)) => out.by_category.push(TicketCategoryStatistics {
                    category: TicketCategory::from_db(&c).ok_or_else(|| bad("category", &c))?,
                    sla,
                }),
                _ => out.sla = sla,
            }
        }
        out.by_priority.sort_by_key(|p| p.priority as u8);
        Ok(out)
    }
}
