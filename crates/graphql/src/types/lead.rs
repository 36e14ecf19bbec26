//! `Lead`: a prospective customer (seeds 000 leads + 001 av_leads), captured by the assistant
//! in a conversation or entered by staff, qualified, followed up and converted.

use chrono::{DateTime, Utc};
use frontdesk_db::query::search::contains_any;
use frontdesk_db::{col, sort, table};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::enums::{
    FollowUpStatus, FollowUpStatusFilter, LeadBudget, LeadBudgetFilter, LeadInterest,
    LeadInterestFilter, LeadPriority, LeadPriorityFilter, LeadStatus, LeadStatusFilter,
    LeadTimeline, LeadTimelineFilter,
};
use super::{Conversation, Customer};
use crate::entity::entity;
use crate::list::filter::{
    BooleanFilter, DateTimeFilter, DecimalFilter, IdFilter, IntFilter, StringFilter, TagsFilter,
};

entity! {
    /// A sales lead.
    Lead in table!(leads) => {
        /// The conversation it was captured in, if any.
        conversation_id: Option<Uuid>,
        /// The customer it is, or became on conversion, if known.
        customer_id: Option<Uuid>,
        /// Display name.
        name: Option<String>,
        /// Given name.
        first_name: Option<String>,
        /// Family name.
        last_name: Option<String>,
        /// Phone number (E.164).
        phone: Option<String>,
        /// E-mail address; unique within the tenant, ignoring case.
        email: Option<String>,
        /// Company.
        company: Option<String>,
        /// Line of business.
        industry: Option<String>,
        /// Where it came from (`voice_call`, `chat`, `whatsapp`, a campaign, …).
        source: Option<String>,
        /// What they are interested in.
        interest: Option<LeadInterest>,
        /// Their budget.
        budget: Option<LeadBudget>,
        /// When they want to start.
        timeline: Option<LeadTimeline>,
        /// Qualification score, 0–100.
        lead_score: Option<i16>,
        /// Temperature.
        priority: Option<LeadPriority>,
        /// Pipeline stage.
        status: LeadStatus,
        /// When to follow up.
        follow_up_date: Option<DateTime<Utc>>,
        /// Follow-up state.
        follow_up_status: FollowUpStatus,
        /// Staff notes.
        notes: Option<String>,
        /// Free labels.
        tags: Vec<String>,
        /// When it became a customer.
        converted_at: Option<DateTime<Utc>>,
        /// It became a customer (derived from `convertedAt`).
        converted: bool,
        /// Value of the deal won.
        deal_value: Option<Decimal>,
        /// Latest contact.
        last_contacted_at: Option<DateTime<Utc>>,
        /// Created.
        created_at: DateTime<Utc>,
        /// Last changed.
        updated_at: DateTime<Utc>,
    }
    filter LeadFilter {
        id: IdFilter [Lead],
        conversation_id: IdFilter [Conversation],
        customer_id: IdFilter [Customer],
        name: StringFilter,
        email: StringFilter,
        phone: StringFilter,
        company: StringFilter,
        industry: StringFilter,
        source: StringFilter,
        interest: LeadInterestFilter,
        budget: LeadBudgetFilter,
        timeline: LeadTimelineFilter,
        lead_score: IntFilter,
        priority: LeadPriorityFilter,
        status: LeadStatusFilter,
        follow_up_date: DateTimeFilter,
        follow_up_status: FollowUpStatusFilter,
        tags: TagsFilter,
        converted: BooleanFilter,
        converted_at: DateTimeFilter,
        deal_value: DecimalFilter,
        last_contacted_at: DateTimeFilter,
        created_at: DateTimeFilter,
        updated_at: DateTimeFilter,
    }
    /// Text contained in the name, e-mail, phone or company (case-insensitive).
    search: contains_any(&[
        col!(name),
        col!(first_name),
        col!(last_name),
        col!(email),
        col!(phone),
        col!(company),
    ]);
    order LeadOrder, LeadOrderField {
        /// Creation time.
        CreatedAt => sort!(created_at: timestamptz),
        /// Last change.
        UpdatedAt => sort!(updated_at: timestamptz),
        /// Score (unscored first when ascending).
        LeadScore => sort!(lead_score: smallint, nulls_first),
        /// Follow-up date (none first when ascending).
        FollowUpDate => sort!(follow_up_date: timestamptz, nulls_first),
        /// Deal value (none first when ascending).
        DealValue => sort!(deal_value: numeric, nulls_first),
        /// Display name (none first when ascending).
        Name => sort!(name: text, nulls_first),
    }
    default_order: [CreatedAt desc];
    relations {
        /// The conversation it was captured in, if any.
        conversation: one Conversation via conversation_id,
        /// The customer it is, or became on conversion, if known.
        customer: one Customer via customer_id,
    }
    root: LeadQuery { lead, leads };
    access: { read: Viewer, write: Agent + ManageCustomers, delete: Supervisor + ManageCustomers };
    constraints {
        "leads_tenant_id_email_key" => "input.email":
            Conflict("another lead already has this e-mail address"),
        "leads_conversation_fkey" => "input.conversationId": NotFound("Conversation"),
        "leads_customer_fkey" => "input.customerId": NotFound("Customer"),
        "leads_contact_check" => "input":
            Bad("a lead needs a name, first name, last name, e-mail or phone"),
        "leads_lead_score_check" => "input.leadScore": Bad("must be between 0 and 100"),
        "leads_deal_value_check" => "input.dealValue": Bad("must not be negative"),
    }
    fields {}
}
