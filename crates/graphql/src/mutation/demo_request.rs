//! `createDemoRequest`, `updateDemoRequest`, `assignDemoRequest`, `setDemoRequestStatus`,
//! `addDemoRequestNote`, `deleteDemoRequest`: their inputs, validation, error mapping and
//! resolvers.
//!
//! The status flow is one mutation with the target status rather than a writable field,
//! because each move has a precondition (the statuses it may start from) and side effects
//! (`scheduledAt`, `completedAt`); the allowed moves are defined once, in
//! `frontdesk_db::graph::demo_requests` (module docs), and repeated in
//! `setDemoRequestStatus`'s documentation for clients.

use async_graphql::{Context, InputObject, MaybeUndefined, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use frontdesk_db::graph::demo_requests::{self, DemoError, DemoRequestFields, Move};
use frontdesk_db::graph::{Patch, Ref, WriteError};

use super::inputs::bad;
use super::{
    create_field, not_found, read_back, status_name, update_nullable, update_required, write_error,
    Target,
};
use crate::entity::{authorize, global_id, NodeRef, Op};
use crate::query::Resolve;
use crate::types::enums::{CompanySize, DbEnum, DemoRequestStatus, Industry};
use crate::types::{DemoRequest, DemoRequestNote, Member};
use crate::validate::{self, NAME_MAX, NOTES_MAX, SHORT_TEXT_MAX};
use crate::ApiError;

const DEMO_REQUEST: Target = Target {
    what: "DemoRequest",
    field: "id",
};

/// A new demo request. It starts `NEW`: the status moves with `setDemoRequestStatus`, notes
/// are added with `addDemoRequestNote`.
#[derive(Debug, Clone, InputObject)]
pub struct CreateDemoRequestInput {
    /// The requester's name.
    pub name: String,
    /// Their e-mail address.
    pub email: String,
    /// Their company.
    pub company: Option<String>,
    /// Their job title (001 `role`).
    pub job_title: Option<String>,
    /// Phone number in international format; stored as E.164.
    pub phone: Option<String>,
    /// Their line of business.
    pub industry: Option<Industry>,
    /// Head count of their company.
    pub company_size: Option<CompanySize>,
    /// What they want to use the product for.
    pub use_case: Option<String>,
    /// What they use today.
    pub current_solution: Option<String>,
    /// When they want to start.
    pub timeline: Option<String>,
    /// Their budget range.
    pub budget: Option<String>,
    /// Anything else they told us.
    pub additional_info: Option<String>,
    /// The member handling it (an active member who is not a viewer).
    pub assigned_to_id: Option<NodeRef<Member>>,
    /// A time proposed for the demo (the request stays `NEW` until it is scheduled).
    pub scheduled_at: Option<DateTime<Utc>>,
    /// Where the request came from (a form, a campaign, a referral, …).
    pub source: Option<String>,
    /// `utm_source` of the visit that sent it.
    pub utm_source: Option<String>,
    /// `utm_medium` of the visit that sent it.
    pub utm_medium: Option<String>,
    /// `utm_campaign` of the visit that sent it.
    pub utm_campaign: Option<String>,
}

/// Changes to a demo request (not its status: use `setDemoRequestStatus`; nor who handles it:
/// use `assignDemoRequest`). A field left out keeps its value; `null` clears a nullable field.
#[derive(Debug, Clone, Default, InputObject)]
pub struct UpdateDemoRequestInput {
    /// The requester's name (cannot be cleared).
    pub name: MaybeUndefined<String>,
    /// Their e-mail address (cannot be cleared).
    pub email: MaybeUndefined<String>,
    /// Their company.
    pub company: MaybeUndefined<String>,
    /// Their job title.
    pub job_title: MaybeUndefined<String>,
    /// Phone number in international format.
    pub phone: MaybeUndefined<String>,
    /// Their line of business.
    pub industry: MaybeUndefined<Industry>,
    /// Head count of their company.
    pub company_size: MaybeUndefined<CompanySize>,
    /// What they want to use the product for.
    pub use_case: MaybeUndefined<String>,
    /// What they use today.
    pub current_solution: MaybeUndefined<String>,
    /// When they want to start.
    pub timeline: MaybeUndefined<String>,
    /// Their budget range.
    pub budget: MaybeUndefined<String>,
    /// Anything else they told us.
    pub additional_info: MaybeUndefined<String>,
    /// When the demo is scheduled (reschedules a `SCHEDULED` request).
    pub scheduled_at: MaybeUndefined<DateTime<Utc>>,
    /// Where the request came from.
    pub source: MaybeUndefined<String>,
    /// `utm_source`.
    pub utm_source: MaybeUndefined<String>,
    /// `utm_medium`.
    pub utm_medium: MaybeUndefined<String>,
    /// `utm_campaign`.
    pub utm_campaign: MaybeUndefined<String>,
}

/// The result of `deleteDemoRequest`.
#[derive(Debug, Clone, SimpleObject)]
pub struct DeleteDemoRequestPayload {
    /// The global id of the demo request that was deleted (its notes went with it).
    pub deleted_id: ID,
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

/// Blank clears; anything else must be an international number, stored as E.164.
fn phone(v: String) -> Result<Option<String>, ApiError> {
    if v.trim().is_empty() {
        Ok(None)
    } else {
        validate::phone("input.phone", &v).map(Some)
    }
}

fn name(v: String) -> Result<String, ApiError> {
    validate::required_text("input.name", &v, NAME_MAX)
}

fn email(v: String) -> Result<String, ApiError> {
    validate::email("input.email", &v)
}

impl CreateDemoRequestInput {
    fn lower(self) -> Result<DemoRequestFields, ApiError> {
        Ok(DemoRequestFields {
            name: Patch::Set(name(self.name)?),
            email: Patch::Set(email(self.email)?),
            company: create_field(self.company, opt_text("input.company", NAME_MAX))?,
            job_title: create_field(self.job_title, opt_text("input.jobTitle", NAME_MAX))?,
            phone: create_field(self.phone, phone)?,
            industry: create_field(self.industry, |v| Ok(Some(v.as_db())))?,
            company_size: create_field(self.company_size, |v| Ok(Some(v.as_db())))?,
            use_case: create_field(self.use_case, opt_text("input.useCase", NOTES_MAX))?,
            current_solution: create_field(
                self.current_solution,
                opt_text("input.currentSolution", NOTES_MAX),
            )?,
            timeline: create_field(self.timeline, opt_text("input.timeline", SHORT_TEXT_MAX))?,
            budget: create_field(self.budget, opt_text("input.budget", SHORT_TEXT_MAX))?,
            additional_info: create_field(
                self.additional_info,
                opt_text("input.additionalInfo", NOTES_MAX),
            )?,
            assigned_to: create_field(self.assigned_to_id, |v| Ok(Some(v.row())))?,
            scheduled_at: create_field(self.scheduled_at, |v| Ok(Some(v)))?,
            source: create_field(self.source, opt_text("input.source", SHORT_TEXT_MAX))?,
            utm_source: create_field(self.utm_source, opt_text("input.utmSource", SHORT_TEXT_MAX))?,
            utm_medium: create_field(self.utm_medium, opt_text("input.utmMedium", SHORT_TEXT_MAX))?,
            utm_campaign: create_field(
                self.utm_campaign,
                opt_text("input.utmCampaign", SHORT_TEXT_MAX),
            )?,
        })
    }
}

impl UpdateDemoRequestInput {
    fn lower(self) -> Result<DemoRequestFields, ApiError> {
        Ok(DemoRequestFields {
            name: update_required("input.name", self.name, name)?,
            email: update_required("input.email", self.email, email)?,
            company: update_nullable(self.company, opt_text("input.company", NAME_MAX))?,
            job_title: update_nullable(self.job_title, opt_text("input.jobTitle", NAME_MAX))?,
            phone: update_nullable(self.phone, phone)?,
            industry: update_nullable(self.industry, |v| Ok(Some(v.as_db())))?,
            company_size: update_nullable(self.company_size, |v| Ok(Some(v.as_db())))?,
            use_case: update_nullable(self.use_case, opt_text("input.useCase", NOTES_MAX))?,
            current_solution: update_nullable(
                self.current_solution,
                opt_text("input.currentSolution", NOTES_MAX),
            )?,
            timeline: update_nullable(self.timeline, opt_text("input.timeline", SHORT_TEXT_MAX))?,
            budget: update_nullable(self.budget, opt_text("input.budget", SHORT_TEXT_MAX))?,
            additional_info: update_nullable(
                self.additional_info,
                opt_text("input.additionalInfo", NOTES_MAX),
            )?,
            assigned_to: Patch::Keep,
            scheduled_at: update_nullable(self.scheduled_at, |v| Ok(Some(v)))?,
            source: update_nullable(self.source, opt_text("input.source", SHORT_TEXT_MAX))?,
            utm_source: update_nullable(
                self.utm_source,
                opt_text("input.utmSource", SHORT_TEXT_MAX),
            )?,
            utm_medium: update_nullable(
                self.utm_medium,
                opt_text("input.utmMedium", SHORT_TEXT_MAX),
            )?,
            utm_campaign: update_nullable(
                self.utm_campaign,
                opt_text("input.utmCampaign", SHORT_TEXT_MAX),
            )?,
        })
    }
}

/// The move to `status`, checking the arguments that go with it.
fn lower_move(
    status: DemoRequestStatus,
    scheduled_at: Option<DateTime<Utc>>,
) -> Result<Move, ApiError> {
    if scheduled_at.is_some() && status != DemoRequestStatus::Scheduled {
        return Err(bad(
            "scheduledAt",
            "is only given with status SCHEDULED; use updateDemoRequest to change it",
        ));
    }
    Ok(match status {
        DemoRequestStatus::New => {
            return Err(bad(
                "status",
                "NEW is only the initial status: a demo request never moves back to it",
            ))
        }
        DemoRequestStatus::Contacted => Move::Contacted,
        DemoRequestStatus::Scheduled => Move::Scheduled(scheduled_at),
        DemoRequestStatus::Completed => Move::Completed,
        DemoRequestStatus::Declined => Move::Declined,
    })
}

// ------------------------------------------------------------------------------------------------
// Errors
// ------------------------------------------------------------------------------------------------

/// Maps a failed demo-request write; `member` is the argument that named the member.
fn demo_error(e: DemoError, member: &'static str) -> ApiError {
    match e {
        DemoError::NeedsTime => bad(
            "scheduledAt",
            "is required to schedule a demo request that has no scheduledAt yet",
        ),
        DemoError::NotAssignable(why) => bad(member, why),
        DemoError::Write(WriteError::MissingRef(Ref::Member)) => not_found("Member", member),
        DemoError::Write(WriteError::Status { current }) => ApiError::Conflict(format!(
            "the demo request is {}, which does not allow this move",
            status_name(&current)
        )),
        DemoError::Write(e) => write_error(e, DEMO_REQUEST),
    }
}

// ------------------------------------------------------------------------------------------------
// Resolvers
// ------------------------------------------------------------------------------------------------

async fn create(r: &Resolve<'_>, input: CreateDemoRequestInput) -> Result<DemoRequest, ApiError> {
    authorize::<DemoRequest>(r, Op::Write).await?;
    let fields = input.lower()?;
    let mut tx = r.session.tx().await?;
    let id = demo_requests::create(&mut tx, &fields)
        .await
        .map_err(|e| demo_error(e, "input.assignedToId"))?;
    read_back(&mut tx, id).await
}

async fn update(
    r: &Resolve<'_>,
    id: NodeRef<DemoRequest>,
    input: UpdateDemoRequestInput,
) -> Result<DemoRequest, ApiError> {
    authorize::<DemoRequest>(r, Op::Write).await?;
    let fields = input.lower()?;
    let mut tx = r.session.tx().await?;
    demo_requests::update(&mut tx, id.row(), &fields)
        .await
        .map_err(|e| demo_error(e, "input.assignedToId"))?;
    read_back(&mut tx, id.row()).await
}

async fn assign(
    r: &Resolve<'_>,
    id: NodeRef<DemoRequest>,
    member: Option<NodeRef<Member>>,
) -> Result<DemoRequest, ApiError> {
    authorize::<DemoRequest>(r, Op::Named("assign")).await?;
    let mut tx = r.session.tx().await?;
    demo_requests::assign(&mut tx, id.row(), member.map(|m| m.row()))
        .await
        .map_err(|e| demo_error(e, "memberId"))?;
    read_back(&mut tx, id.row()).await
}

async fn set_status(
    r: &Resolve<'_>,
    id: NodeRef<DemoRequest>,
    status: DemoRequestStatus,
    scheduled_at: Option<DateTime<Utc>>,
) -> Result<DemoRequest, ApiError> {
    authorize::<DemoRequest>(r, Op::Write).await?;
    let to = lower_move(status, scheduled_at)?;
    let mut tx = r.session.tx().await?;
    demo_requests::set_status(&mut tx, id.row(), to)
        .await
        .map_err(|e| demo_error(e, "memberId"))?;
    read_back(&mut tx, id.row()).await
}

async fn add_note(
    r: &Resolve<'_>,
    id: NodeRef<DemoRequest>,
    note: String,
) -> Result<DemoRequestNote, ApiError> {
    authorize::<DemoRequestNote>(r, Op::Write).await?;
    let note = validate::required_text("note", &note, NOTES_MAX)?;
    let mut tx = r.session.tx().await?;
    let note_id = demo_requests::add_note(&mut tx, id.row(), &note)
        .await
        .map_err(|e| demo_error(e, "memberId"))?;
    read_back(&mut tx, note_id).await
}

async fn delete(
    r: &Resolve<'_>,
    id: NodeRef<DemoRequest>,
) -> Result<DeleteDemoRequestPayload, ApiError> {
    authorize::<DemoRequest>(r, Op::Delete).await?;
    let mut tx = r.session.tx().await?;
    demo_requests::delete(&mut tx, id.row())
        .await
        .map_err(|e| demo_error(e, "memberId"))?;
    Ok(DeleteDemoRequestPayload {
        deleted_id: global_id::encode("DemoRequest", id.row()),
    })
}

/// Demo-request mutations. Writing takes an agent (or higher) with `manage:customers`;
/// deleting a supervisor (or higher) with it.
#[derive(Debug, Default)]
pub struct DemoRequestMutation;

#[Object]
impl DemoRequestMutation {
    /// Records a demo request; it starts `NEW`.
    async fn create_demo_request(
        &self,
        ctx: &Context<'_>,
        input: CreateDemoRequestInput,
    ) -> async_graphql::Result<DemoRequest> {
        let r = Resolve::new(ctx)?;
        r.run(create(&r, input)).await
    }

    /// Changes the fields given (not the status); fields left out keep their values, `null`
    /// clears a nullable field.
    async fn update_demo_request(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<DemoRequest>,
        input: UpdateDemoRequestInput,
    ) -> async_graphql::Result<DemoRequest> {
        let r = Resolve::new(ctx)?;
        r.run(update(&r, id, input)).await
    }

    /// Hands the request to a member (an active member who is not a viewer), or takes it
    /// from whoever has it with `memberId: null`.
    async fn assign_demo_request(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<DemoRequest>,
        member_id: Option<NodeRef<Member>>,
    ) -> async_graphql::Result<DemoRequest> {
        let r = Resolve::new(ctx)?;
        r.run(assign(&r, id, member_id)).await
    }

    /// Moves the request along its flow. The allowed moves:
    ///
    /// | to | from | also |
    /// |---|---|---|
    /// | `CONTACTED` | `NEW` | |
    /// | `SCHEDULED` | `NEW`, `CONTACTED` | `scheduledAt` = the argument, else the stored time; neither is `BAD_USER_INPUT` on `scheduledAt` |
    /// | `COMPLETED` | `SCHEDULED` | `completedAt` = now |
    /// | `DECLINED` | `NEW`, `CONTACTED`, `SCHEDULED` | |
    ///
    /// Any other move is a `CONFLICT` naming the current status (`COMPLETED` and `DECLINED`
    /// are final); `NEW` is never a target (`BAD_USER_INPUT` on `status`); `scheduledAt`
    /// goes only with `SCHEDULED` (reschedule with `updateDemoRequest`).
    async fn set_demo_request_status(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<DemoRequest>,
        status: DemoRequestStatus,
        scheduled_at: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<DemoRequest> {
        let r = Resolve::new(ctx)?;
        r.run(set_status(&r, id, status, scheduled_at)).await
    }

    /// Adds an internal note to the request, written by the caller.
    async fn add_demo_request_note(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<DemoRequest>,
        note: String,
    ) -> async_graphql::Result<DemoRequestNote> {
        let r = Resolve::new(ctx)?;
        r.run(add_note(&r, id, note)).await
    }

    /// Deletes the request with its notes. Supervisors and above.
    async fn delete_demo_request(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<DemoRequest>,
    ) -> async_graphql::Result<DeleteDemoRequestPayload> {
        let r = Resolve::new(ctx)?;
        r.run(delete(&r, id)).await
    }
}
