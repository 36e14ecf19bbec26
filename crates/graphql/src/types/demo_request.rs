//! `DemoRequest` and `DemoRequestNote`: requests for a product demo from prospective clients
//! of the tenant (seed 001 `av_demo_requests`), with the internal notes the sales team appends
//! to them. The read side; the writes and the status flow are in `mutation/demo_request.rs`
//! and `frontdesk_db::graph::demo_requests`.
//!
//! The seed's `assignedTo` and `notes[].addedBy` reference users; here they reference the
//! tenant's members, so they are served as `assignedToId` / `addedById` with the member behind
//! them as the `assignedTo` / `addedBy` relations.

use chrono::{DateTime, Utc};
use frontdesk_db::query::search::contains_any;
use frontdesk_db::{col, exprs, sort, table};
use uuid::Uuid;

use super::enums::{
    CompanySize, CompanySizeFilter, DemoRequestStatus, DemoRequestStatusFilter, Industry,
    IndustryFilter,
};
use super::Member;
use crate::entity::entity;
use crate::list::filter::{DateTimeFilter, IdFilter, StringFilter};

entity! {
    /// A request for a product demo.
    DemoRequest in table!(demo_requests) => {
        /// The requester's name.
        name: String,
        /// Where to reach them.
        email: String,
        /// Their company.
        company: Option<String>,
        /// Their job title (001 `role`).
        job_title: Option<String>,
        /// Phone number (E.164).
        phone: Option<String>,
        /// Their line of business.
        industry: Option<Industry>,
        /// Head count of their company.
        company_size: Option<CompanySize>,
        /// What they want to use the product for.
        use_case: Option<String>,
        /// What they use today.
        current_solution: Option<String>,
        /// When they want to start.
        timeline: Option<String>,
        /// Their budget range.
        budget: Option<String>,
        /// Anything else they told us.
        additional_info: Option<String>,
        /// Where it is in the sales flow.
        status: DemoRequestStatus,
        /// The member handling it.
        assigned_to_id: Option<Uuid> = exprs::demo_requests::ASSIGNED_TO,
        /// When the demo is (or was) scheduled.
        scheduled_at: Option<DateTime<Utc>>,
        /// When the demo took place (set by the move to `COMPLETED`).
        completed_at: Option<DateTime<Utc>>,
        /// Where the request came from (a form, a campaign, a referral, …).
        source: Option<String>,
        /// `utm_source` of the visit that sent it.
        utm_source: Option<String>,
        /// `utm_medium` of the visit that sent it.
        utm_medium: Option<String>,
        /// `utm_campaign` of the visit that sent it.
        utm_campaign: Option<String>,
        /// Received.
        created_at: DateTime<Utc>,
        /// Last changed.
        updated_at: DateTime<Utc>,
    }
    filter DemoRequestFilter {
        id: IdFilter [DemoRequest],
        name: StringFilter,
        email: StringFilter,
        company: StringFilter,
        status: DemoRequestStatusFilter,
        industry: IndustryFilter,
        company_size: CompanySizeFilter,
        assigned_to: IdFilter [Member],
        source: StringFilter,
        utm_source: StringFilter,
        utm_medium: StringFilter,
        utm_campaign: StringFilter,
        scheduled_at: DateTimeFilter,
        completed_at: DateTimeFilter,
        created_at: DateTimeFilter,
        updated_at: DateTimeFilter,
    }
    /// Text contained in the name, e-mail or company (case-insensitive).
    search: contains_any(&[col!(name), col!(email), col!(company)]);
    order DemoRequestOrder, DemoRequestOrderField {
        /// When it was received.
        CreatedAt => sort!(created_at: timestamptz),
        /// Last change.
        UpdatedAt => sort!(updated_at: timestamptz),
        /// When the demo is scheduled (unscheduled first when ascending).
        ScheduledAt => sort!(scheduled_at: timestamptz, nulls_first),
        /// The requester's name.
        Name => sort!(name: text),
        /// Company (none first when ascending).
        Company => sort!(company: text, nulls_first),
    }
    default_order: [CreatedAt desc];
    relations {
        /// The member handling it.
        assigned_to: one Member via assigned_to_id,
        /// Internal notes, oldest first unless ordered.
        notes: many DemoRequestNote via demo_request_id,
    }
    root: DemoRequestQuery { demo_request, demo_requests };
    access: {
        read: Viewer,
        write: Agent + ManageCustomers,
        delete: Supervisor + ManageCustomers,
        assign: Agent + ManageCustomers,
    };
    constraints {
        "demo_requests_assigned_to_fkey" => "memberId": NotFound("Member"),
    }
    fields {}
}

entity! {
    /// An internal note on a demo request.
    DemoRequestNote in table!(demo_request_notes) => {
        /// The demo request.
        demo_request_id: Uuid,
        /// Text.
        note: String,
        /// The member who wrote it.
        added_by_id: Option<Uuid> = exprs::demo_request_notes::ADDED_BY,
        /// When it was written.
        added_at: DateTime<Utc>,
        /// Last changed.
        updated_at: DateTime<Utc>,
    }
    filter DemoRequestNoteFilter {
        id: IdFilter [DemoRequestNote],
        added_by: IdFilter [Member],
        // Also what makes `DemoRequestNoteGroupField` non-empty: GraphQL has no empty enums.
        note: StringFilter,
        added_at: DateTimeFilter,
    }
    /// Text contained in the note (case-insensitive).
    search: contains_any(&[col!(note)]);
    order DemoRequestNoteOrder, DemoRequestNoteOrderField {
        /// When it was written.
        AddedAt => sort!(added_at: timestamptz),
    }
    // Oldest first: notes read as a log.
    default_order: [AddedAt asc];
    relations {
        /// The demo request.
        demo_request: required DemoRequest via demo_request_id,
        /// The member who wrote it.
        added_by: one Member via added_by_id,
    }
    access: { read: Viewer, write: Agent + ManageCustomers, delete: Supervisor + ManageCustomers };
    constraints {
        "demo_request_notes_demo_request_fkey" => "id": NotFound("DemoRequest"),
    }
    fields {}
}
