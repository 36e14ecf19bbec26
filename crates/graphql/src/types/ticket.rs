//! `Ticket` and `TicketNote`: support tickets (seed 003) with their documents, sub-tickets,
//! related tickets, notes and service level. The writes are in `mutation::ticket`; the SLA
//! columns (`slaDueAt`, `slaBreached`, `slaAtRisk`) are derived in SQL and documented with
//! their expressions (`frontdesk_db::exprs::tickets`).

use async_graphql::SimpleObject;
use chrono::{DateTime, Utc};
use frontdesk_db::exprs::tickets::LINKS;
use frontdesk_db::query::search::{contains_any, full_text};
use frontdesk_db::{col, exprs, sort, table};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use uuid::Uuid;

use super::conversation::{iso_time, lenient_enum};
use super::enums::{
    MessageType, ResolutionCategory, SlaLevel, SlaLevelFilter, TicketCategory,
    TicketCategoryFilter, TicketPriority, TicketPriorityFilter, TicketStatus, TicketStatusFilter,
};
use super::{Conversation, Customer, Member};
use crate::entity::entity;
use crate::list::filter::{BooleanFilter, DateTimeFilter, IdFilter, StringFilter, TagsFilter};

lenient_enum!(media_type, MessageType);
lenient_enum!(resolution_category, ResolutionCategory);

/// A file attached to a ticket (stored in the media service).
#[derive(Debug, Clone, Default, SimpleObject, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketAttachment {
    /// `IMAGE`, `DOCUMENT`, `AUDIO` or `VIDEO`.
    #[graphql(name = "type")]
    #[serde(default, rename = "type", deserialize_with = "media_type")]
    pub kind: Option<MessageType>,
    /// Where it is.
    pub url: Option<String>,
    /// Its id in the media service.
    pub public_id: Option<String>,
    /// Original file name.
    pub filename: Option<String>,
    /// Bytes.
    pub size: Option<f64>,
    /// The member who uploaded it.
    pub uploaded_by: Option<String>,
    /// When.
    #[serde(default, deserialize_with = "iso_time")]
    pub uploaded_at: Option<DateTime<Utc>>,
}

/// Where the problem is (field service).
#[derive(Debug, Clone, Default, SimpleObject, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketLocation {
    /// Degrees north.
    pub latitude: Option<f64>,
    /// Degrees east.
    pub longitude: Option<f64>,
    /// As entered.
    pub address: Option<String>,
    /// As geocoded.
    pub formatted_address: Option<String>,
    /// The service happens there.
    pub is_service_location: Option<bool>,
}

/// How a ticket was resolved.
#[derive(Debug, Clone, Default, SimpleObject, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketResolution {
    /// What was done.
    pub summary: Option<String>,
    /// The steps taken.
    #[serde(default)]
    pub steps: Vec<String>,
    /// The member who resolved it.
    pub resolved_by: Option<String>,
    /// When.
    #[serde(default, deserialize_with = "iso_time")]
    pub resolved_at: Option<DateTime<Utc>>,
    /// What kind of resolution.
    #[serde(default, deserialize_with = "resolution_category")]
    pub resolution_category: Option<ResolutionCategory>,
}

/// The customer's rating of how the ticket was handled.
#[derive(Debug, Clone, Default, SimpleObject, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketFeedback {
    /// 1–5.
    pub rating: Option<f64>,
    /// Free comment.
    pub comment: Option<String>,
    /// When it was given.
    #[serde(default, deserialize_with = "iso_time")]
    pub submitted_at: Option<DateTime<Utc>>,
    /// The customer wants to be contacted again.
    pub follow_up_needed: Option<bool>,
}

/// A coloured label.
#[derive(Debug, Clone, Default, SimpleObject, Serialize, Deserialize)]
pub struct TicketLabel {
    /// Text.
    pub name: Option<String>,
    /// Hex colour (`#e11d48`).
    pub color: Option<String>,
}

entity! {
    /// A support ticket.
    Ticket in table!(tickets) => {
        /// `TICKET-YYYY-NNNNNN`, unique in the tenant.
        ticket_number: String,
        /// The customer it is for.
        customer_id: Uuid,
        /// The conversation it came from, if any.
        conversation_id: Option<Uuid>,
        /// The member working on it.
        assigned_agent_id: Option<Uuid>,
        /// One line.
        subject: String,
        /// The whole story.
        description: String,
        /// What it is about.
        category: TicketCategory,
        /// Finer classification.
        subcategory: Option<String>,
        /// How urgent.
        priority: TicketPriority,
        /// Where it is in its life.
        status: TicketStatus,
        /// The service level it is handled under.
        sla_level: SlaLevel,
        /// When it should be resolved.
        estimated_resolution: Option<DateTime<Utc>>,
        /// Minutes from creation to the first response: the first move out of `OPEN` or the
        /// first non-internal note by a member other than the one who opened it.
        first_response_time: Option<Decimal>,
        /// Minutes to resolution.
        resolution_time: Option<Decimal>,
        /// Attached files.
        #[graphql(skip)]
        attachments: Json<Vec<TicketAttachment>>,
        /// Where the problem is.
        #[sqlx(json(nullable))]
        location: Option<TicketLocation>,
        /// How it was resolved.
        #[sqlx(json(nullable))]
        resolution: Option<TicketResolution>,
        /// The customer's rating.
        #[sqlx(json(nullable))]
        customer_feedback: Option<TicketFeedback>,
        /// Free labels.
        tags: Vec<String>,
        /// Coloured labels.
        #[graphql(skip)]
        labels: Json<Vec<TicketLabel>>,
        /// Handed to someone more senior.
        escalated: bool,
        /// The member it was escalated to.
        escalated_to_id: Option<Uuid> = exprs::tickets::ESCALATED_TO,
        /// When it was escalated.
        escalated_at: Option<DateTime<Utc>>,
        /// Why it was escalated.
        escalation_reason: Option<String>,
        /// The ticket it is part of.
        parent_ticket_id: Option<Uuid>,
        /// Its id in an external system.
        external_id: Option<String>,
        /// Its page in an external system.
        external_url: Option<String>,
        /// The member who opened it (tickets opened through the API).
        opened_by_id: Option<Uuid> = exprs::tickets::OPENED_BY,
        /// When it is due under its service level: creation plus the tenant's window for its
        /// `slaLevel` (setting `sla.<level>.hours`; default standard 72, priority 24, vip 4).
        sla_due_at: DateTime<Utc> = exprs::tickets::SLA_DUE_AT,
        /// Past due while unfinished, or finished (resolved/closed) after the due time.
        sla_breached: bool = exprs::tickets::SLA_BREACHED,
        /// Unfinished, not yet breached, and due within the last 20% of its window.
        sla_at_risk: bool = exprs::tickets::SLA_AT_RISK,
        /// Created.
        created_at: DateTime<Utc>,
        /// Last changed.
        updated_at: DateTime<Utc>,
        /// When it was closed.
        closed_at: Option<DateTime<Utc>>,
        /// Latest activity of any kind.
        last_activity_at: DateTime<Utc>,
    }
    filter TicketFilter {
        id: IdFilter [Ticket],
        ticket_number: StringFilter,
        customer_id: IdFilter [Customer],
        conversation_id: IdFilter [Conversation],
        assigned_agent_id: IdFilter [Member],
        category: TicketCategoryFilter,
        priority: TicketPriorityFilter,
        status: TicketStatusFilter,
        sla_level: SlaLevelFilter,
        tags: TagsFilter,
        escalated: BooleanFilter,
        parent_ticket_id: IdFilter [Ticket],
        /// Who opened it.
        opened_by_id: IdFilter [Member] = exprs::tickets::OPENED_BY,
        estimated_resolution: DateTimeFilter,
        /// When it is due under its service level.
        sla_due_at: DateTimeFilter = exprs::tickets::SLA_DUE_AT,
        /// Breached (true) or not (false), as `slaBreached`.
        sla_breached: bool = exprs::tickets::SLA_BREACHED,
        /// At risk (true) or not (false), as `slaAtRisk`.
        sla_at_risk: bool = exprs::tickets::SLA_AT_RISK,
        created_at: DateTimeFilter,
        updated_at: DateTimeFilter,
        closed_at: DateTimeFilter,
        last_activity_at: DateTimeFilter,
    }
    /// Words in the subject or description (web-search syntax).
    search: full_text(col!(search));
    order TicketOrder, TicketOrderField {
        /// Creation time.
        CreatedAt => sort!(created_at: timestamptz),
        /// Last change.
        UpdatedAt => sort!(updated_at: timestamptz),
        /// Latest activity.
        LastActivityAt => sort!(last_activity_at: timestamptz),
        /// Urgency (low < medium < high < urgent).
        Priority => exprs::PRIORITY_RANK,
        /// Expected resolution (none first when ascending).
        EstimatedResolution => sort!(estimated_resolution: timestamptz, nulls_first),
        /// Ticket number.
        TicketNumber => sort!(ticket_number: text),
        /// Service-level due time (soonest first when ascending).
        SlaDueAt => exprs::tickets::SLA_DUE,
    }
    default_order: [CreatedAt desc];
    relations {
        /// The customer it is for.
        customer: required Customer via customer_id,
        /// The conversation it came from, if any.
        conversation: one Conversation via conversation_id,
        /// The member working on it.
        assigned_agent: one Member via assigned_agent_id,
        /// The member it was escalated to.
        escalated_to: one Member via escalated_to_id,
        /// The ticket it is part of.
        parent_ticket: one Ticket via parent_ticket_id,
        /// Tickets that are part of it (newest first unless ordered).
        child_tickets: many Ticket via parent_ticket_id,
        /// Tickets related to it, linked from either side (newest first unless ordered).
        related_tickets: linked Ticket via LINKS,
        /// The member who opened it.
        opened_by: one Member via opened_by_id,
        /// Notes, oldest first unless ordered.
        notes: many TicketNote via ticket_id,
    }
    root: TicketQuery { ticket, tickets };
    access: {
        read: Viewer,
        write: Agent + ManageTickets,
        delete: Supervisor + ManageTickets,
        assign: Agent + ManageTickets,
        escalate: Agent + ManageTickets,
    };
    // Reached only in races: the writes check references first (mutation::ticket).
    constraints {
        "tickets_customer_fkey" => "input.customerId": NotFound("Customer"),
        "tickets_conversation_fkey" => "input.conversationId": NotFound("Conversation"),
        "tickets_assigned_agent_fkey" => "input.assignedAgentId": NotFound("Member"),
        "tickets_escalated_to_fkey" => "toAgentId": NotFound("Member"),
        "tickets_parent_ticket_fkey" => "input.parentTicketId": NotFound("Ticket"),
        "tickets_parent_check" => "parentId": Bad("a ticket cannot be its own parent"),
        "ticket_links_ticket_fkey" => "id": NotFound("Ticket"),
        "ticket_links_related_ticket_fkey" => "relatedId": NotFound("Ticket"),
        "ticket_links_not_self_check" => "relatedId": Bad("a ticket cannot be related to itself"),
    }
    fields {
        /// Attached files.
        async fn attachments(&self) -> &[TicketAttachment] {
            &self.attachments
        }

        /// Coloured labels.
        async fn labels(&self) -> &[TicketLabel] {
            &self.labels
        }
    }
}

entity! {
    /// A note on a ticket (internal unless marked otherwise).
    TicketNote in table!(ticket_notes) => {
        /// The ticket.
        ticket_id: Uuid,
        /// The member who wrote it.
        agent_id: Option<Uuid>,
        /// Text.
        content: String,
        /// Hidden from the customer.
        is_internal: bool,
        /// URLs of attached files.
        attachments: Vec<String>,
        /// Created.
        created_at: DateTime<Utc>,
        /// Last changed.
        updated_at: DateTime<Utc>,
    }
    filter TicketNoteFilter {
        id: IdFilter [TicketNote],
        agent_id: IdFilter [Member],
        is_internal: BooleanFilter,
        created_at: DateTimeFilter,
    }
    /// Text contained in the note (case-insensitive).
    search: contains_any(&[col!(content)]);
    order TicketNoteOrder, TicketNoteOrderField {
        /// Creation time.
        CreatedAt => sort!(created_at: timestamptz),
    }
    // Oldest first: notes read as a log.
    default_order: [CreatedAt asc];
    relations {
        /// The ticket.
        ticket: required Ticket via ticket_id,
        /// The member who wrote it.
        agent: one Member via agent_id,
    }
    // `moderate`: change or delete another member's note (authors may always change theirs).
    access: {
        read: Viewer,
        write: Agent + ManageTickets,
        delete: Supervisor + ManageTickets,
        moderate: Supervisor + ManageTickets,
    };
    constraints {
        "ticket_notes_ticket_fkey" => "ticketId": NotFound("Ticket"),
    }
    fields {}
}
