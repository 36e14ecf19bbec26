//! `createLead`, `updateLead`, `deleteLead`, `convertLead`: their inputs, validation, error
//! mapping and resolvers.
//!
//! A lead is converted only by `convertLead`, which records when (`convertedAt`, from which
//! `converted` derives), the deal's value and both statuses together. So `convertedAt` is not
//! an input field, and `status: CONVERTED` is refused by create and update (it would mark a
//! lead converted without a time).
//!
//! The lead's constraints (an e-mail address unique per tenant ignoring case, a contact, a
//! visible conversation) are declared with the entity (`types/lead.rs`) and mapped by the
//! shared [`write_error`].

use async_graphql::{Context, InputObject, MaybeUndefined, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use frontdesk_db::graph::{leads, leads::LeadFields, Patch, Ref, WriteError};
use rust_decimal::Decimal;

use super::{
    create_field, not_found, read_back, update_nullable, update_required, write_error, Target,
};
use crate::entity::{authorize, global_id, NodeRef, Op};
use crate::query::Resolve;
use crate::types::enums::{
    DbEnum, FollowUpStatus, LeadBudget, LeadInterest, LeadPriority, LeadStatus, LeadTimeline,
};
use crate::types::{Conversation, Customer, Lead};
use crate::validate::{self, NAME_MAX, NOTES_MAX, SHORT_TEXT_MAX};
use crate::ApiError;

const LEAD: Target = Target {
    what: "Lead",
    field: "id",
};

/// The highest lead score.
const SCORE_MAX: i32 = 100;

/// What a lead must carry at least one of (the `leads_contact_check` CHECK).
const CONTACT_REQUIRED: &str =
    "a lead needs at least one of name, firstName, lastName, email or phone";

/// A new lead. It needs at least one of `name`, `firstName`, `lastName`, `email`, `phone`.
#[derive(Debug, Clone, Default, InputObject)]
pub struct CreateLeadInput {
    /// The conversation it was captured in.
    pub conversation_id: Option<NodeRef<Conversation>>,
    /// The customer the lead is (a prospect the business already serves).
    pub customer_id: Option<NodeRef<Customer>>,
    /// Display name.
    pub name: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Phone number in international format (`+420 777 123 456`); stored as E.164.
    pub phone: Option<String>,
    /// E-mail address; unique within the tenant, ignoring case (`CONFLICT` on `input.email`).
    pub email: Option<String>,
    /// Company.
    pub company: Option<String>,
    /// Line of business.
    pub industry: Option<String>,
    /// Where it came from (`voice_call`, `chat`, `whatsapp`, a campaign, …).
    pub source: Option<String>,
    /// What they are interested in.
    pub interest: Option<LeadInterest>,
    /// Their budget.
    pub budget: Option<LeadBudget>,
    /// When they want to start.
    pub timeline: Option<LeadTimeline>,
    /// Qualification score, 0–100.
    pub lead_score: Option<i32>,
    /// Temperature.
    pub priority: Option<LeadPriority>,
    /// Pipeline stage (default `NEW`; `CONVERTED` is set by `convertLead`).
    pub status: Option<LeadStatus>,
    /// When to follow up.
    pub follow_up_date: Option<DateTime<Utc>>,
    /// Follow-up state (default `PENDING`).
    pub follow_up_status: Option<FollowUpStatus>,
    /// Staff notes.
    pub notes: Option<String>,
    /// Free labels.
    pub tags: Option<Vec<String>>,
    /// Value of the deal (non-negative, at most 2 decimals).
    pub deal_value: Option<Decimal>,
    /// Latest contact.
    pub last_contacted_at: Option<DateTime<Utc>>,
}

/// Changes to a lead: a field left out keeps its value, `null` clears a nullable field. The
/// lead must keep at least one of `name`, `firstName`, `lastName`, `email`, `phone`.
#[derive(Debug, Clone, Default, InputObject)]
pub struct UpdateLeadInput {
    /// The conversation it was captured in.
    pub conversation_id: MaybeUndefined<NodeRef<Conversation>>,
    /// The customer the lead is; `null` unlinks it.
    pub customer_id: MaybeUndefined<NodeRef<Customer>>,
    /// Display name.
    pub name: MaybeUndefined<String>,
    /// Given name.
    pub first_name: MaybeUndefined<String>,
    /// Family name.
    pub last_name: MaybeUndefined<String>,
    /// Phone number in international format.
    pub phone: MaybeUndefined<String>,
    /// E-mail address.
    pub email: MaybeUndefined<String>,
    /// Company.
    pub company: MaybeUndefined<String>,
    /// Line of business.
    pub industry: MaybeUndefined<String>,
    /// Where it came from.
    pub source: MaybeUndefined<String>,
    /// What they are interested in.
    pub interest: MaybeUndefined<LeadInterest>,
    /// Their budget.
    pub budget: MaybeUndefined<LeadBudget>,
    /// When they want to start.
    pub timeline: MaybeUndefined<LeadTimeline>,
    /// Qualification score, 0–100.
    pub lead_score: MaybeUndefined<i32>,
    /// Temperature.
    pub priority: MaybeUndefined<LeadPriority>,
    /// Pipeline stage (cannot be cleared; `CONVERTED` is set by `convertLead`).
    pub status: MaybeUndefined<LeadStatus>,
    /// When to follow up.
    pub follow_up_date: MaybeUndefined<DateTime<Utc>>,
    /// Follow-up state (cannot be cleared).
    pub follow_up_status: MaybeUndefined<FollowUpStatus>,
    /// Staff notes.
    pub notes: MaybeUndefined<String>,
    /// Labels (replaces the list; `[]` empties it).
    pub tags: MaybeUndefined<Vec<String>>,
    /// Value of the deal (non-negative, at most 2 decimals).
    pub deal_value: MaybeUndefined<Decimal>,
    /// Latest contact.
    pub last_contacted_at: MaybeUndefined<DateTime<Utc>>,
}

/// The result of `deleteLead`.
#[derive(Debug, Clone, SimpleObject)]
pub struct DeleteLeadPayload {
    /// The global id of the lead that was deleted.
    pub deleted_id: ID,
}

// ------------------------------------------------------------------------------------------------
// Validation
// ------------------------------------------------------------------------------------------------

fn bad(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::BadUserInput {
        field: field.to_owned(),
        message: message.into(),
    }
}

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

/// Blank clears; anything else must be an e-mail address.
fn email(v: String) -> Result<Option<String>, ApiError> {
    if v.trim().is_empty() {
        Ok(None)
    } else {
        validate::email("input.email", &v).map(Some)
    }
}

fn score(v: i32) -> Result<Option<i16>, ApiError> {
    if !(0..=SCORE_MAX).contains(&v) {
        return Err(bad(
            "input.leadScore",
            format!("must be between 0 and {SCORE_MAX}"),
        ));
    }
    i16::try_from(v)
        .map(Some)
        .map_err(|_| bad("input.leadScore", "is out of range"))
}

fn deal_value(field: &'static str) -> impl Fn(Decimal) -> Result<Option<Decimal>, ApiError> {
    move |v| validate::money(field, v).map(Some)
}

fn status(v: LeadStatus) -> Result<&'static str, ApiError> {
    if v == LeadStatus::Converted {
        return Err(bad(
            "input.status",
            "a lead is converted with convertLead, which also records when and the deal value",
        ));
    }
    Ok(v.as_db())
}

fn contact(fields: &LeadFields) -> [&Patch<Option<String>>; 5] {
    [
        &fields.name,
        &fields.first_name,
        &fields.last_name,
        &fields.email,
        &fields.phone,
    ]
}

impl CreateLeadInput {
    fn lower(self) -> Result<LeadFields, ApiError> {
        let fields = LeadFields {
            conversation_id: create_field(self.conversation_id, |v| Ok(Some(v.row())))?,
            customer_id: create_field(self.customer_id, |v| Ok(Some(v.row())))?,
            name: create_field(self.name, opt_text("input.name", NAME_MAX))?,
            first_name: create_field(self.first_name, opt_text("input.firstName", NAME_MAX))?,
            last_name: create_field(self.last_name, opt_text("input.lastName", NAME_MAX))?,
            phone: create_field(self.phone, phone)?,
            email: create_field(self.email, email)?,
            company: create_field(self.company, opt_text("input.company", NAME_MAX))?,
            industry: create_field(self.industry, opt_text("input.industry", SHORT_TEXT_MAX))?,
            source: create_field(self.source, opt_text("input.source", SHORT_TEXT_MAX))?,
            interest: create_field(self.interest, |v| Ok(Some(v.as_db())))?,
            budget: create_field(self.budget, |v| Ok(Some(v.as_db())))?,
            timeline: create_field(self.timeline, |v| Ok(Some(v.as_db())))?,
            lead_score: create_field(self.lead_score, score)?,
            priority: create_field(self.priority, |v| Ok(Some(v.as_db())))?,
            status: create_field(self.status, status)?,
            follow_up_date: create_field(self.follow_up_date, |v| Ok(Some(v)))?,
            follow_up_status: create_field(self.follow_up_status, |v| Ok(v.as_db()))?,
            notes: create_field(self.notes, opt_text("input.notes", NOTES_MAX))?,
            tags: create_field(self.tags, |v| validate::tags("input.tags", v))?,
            converted_at: Patch::Keep,
            deal_value: create_field(self.deal_value, deal_value("input.dealValue"))?,
            last_contacted_at: create_field(self.last_contacted_at, |v| Ok(Some(v)))?,
        };
        if !contact(&fields)
            .iter()
            .any(|p| matches!(p, Patch::Set(Some(_))))
        {
            return Err(bad("input", CONTACT_REQUIRED));
        }
        Ok(fields)
    }
}

impl UpdateLeadInput {
    fn lower(self) -> Result<LeadFields, ApiError> {
        let fields = LeadFields {
            conversation_id: update_nullable(self.conversation_id, |v| Ok(Some(v.row())))?,
            customer_id: update_nullable(self.customer_id, |v| Ok(Some(v.row())))?,
            name: update_nullable(self.name, opt_text("input.name", NAME_MAX))?,
            first_name: update_nullable(self.first_name, opt_text("input.firstName", NAME_MAX))?,
            last_name: update_nullable(self.last_name, opt_text("input.lastName", NAME_MAX))?,
            phone: update_nullable(self.phone, phone)?,
            email: update_nullable(self.email, email)?,
            company: update_nullable(self.company, opt_text("input.company", NAME_MAX))?,
            industry: update_nullable(self.industry, opt_text("input.industry", SHORT_TEXT_MAX))?,
            source: update_nullable(self.source, opt_text("input.source", SHORT_TEXT_MAX))?,
            interest: update_nullable(self.interest, |v| Ok(Some(v.as_db())))?,
            budget: update_nullable(self.budget, |v| Ok(Some(v.as_db())))?,
            timeline: update_nullable(self.timeline, |v| Ok(Some(v.as_db())))?,
            lead_score: update_nullable(self.lead_score, score)?,
            priority: update_nullable(self.priority, |v| Ok(Some(v.as_db())))?,
            status: update_required("input.status", self.status, status)?,
            follow_up_date: update_nullable(self.follow_up_date, |v| Ok(Some(v)))?,
            follow_up_status: update_required(
                "input.followUpStatus",
                self.follow_up_status,
                |v| Ok(v.as_db()),
            )?,
            notes: update_nullable(self.notes, opt_text("input.notes", NOTES_MAX))?,
            // A NOT NULL list: null is refused rather than read as "empty".
            tags: update_required("input.tags", self.tags, |v| validate::tags("input.tags", v))?,
            converted_at: Patch::Keep,
            deal_value: update_nullable(self.deal_value, deal_value("input.dealValue"))?,
            last_contacted_at: update_nullable(self.last_contacted_at, |v| Ok(Some(v)))?,
        };
        // Clearing every contact at once is known to fail before any SQL; clearing the last
        // one the row still has is caught by the CHECK (`leads_contact_check`, declared with the entity).
        if contact(&fields)
            .iter()
            .all(|p| matches!(p, Patch::Set(None)))
        {
            return Err(bad("input", CONTACT_REQUIRED));
        }
        Ok(fields)
    }
}

// ------------------------------------------------------------------------------------------------
// Errors
// ------------------------------------------------------------------------------------------------

// ------------------------------------------------------------------------------------------------
// Resolvers
// ------------------------------------------------------------------------------------------------

async fn create(r: &Resolve<'_>, input: CreateLeadInput) -> Result<Lead, ApiError> {
    authorize::<Lead>(r, Op::Write).await?;
    let fields = input.lower()?;
    let mut tx = r.session.tx().await?;
    let id = leads::create(&mut tx, &fields)
        .await
        .map_err(|e| write_error(e, LEAD))?;
    read_back(&mut tx, id).await
}

async fn update(
    r: &Resolve<'_>,
    id: NodeRef<Lead>,
    input: UpdateLeadInput,
) -> Result<Lead, ApiError> {
    authorize::<Lead>(r, Op::Write).await?;
    let fields = input.lower()?;
    let mut tx = r.session.tx().await?;
    leads::update(&mut tx, id.row(), &fields)
        .await
        .map_err(|e| write_error(e, LEAD))?;
    read_back(&mut tx, id.row()).await
}

async fn delete(r: &Resolve<'_>, id: NodeRef<Lead>) -> Result<DeleteLeadPayload, ApiError> {
    authorize::<Lead>(r, Op::Delete).await?;
    let mut tx = r.session.tx().await?;
    leads::delete(&mut tx, id.row())
        .await
        .map_err(|e| write_error(e, LEAD))?;
    Ok(DeleteLeadPayload {
        deleted_id: global_id::encode("Lead", id.row()),
    })
}

async fn convert(
    r: &Resolve<'_>,
    id: NodeRef<Lead>,
    deal_value: Option<Decimal>,
    converted_at: Option<DateTime<Utc>>,
    customer_id: Option<NodeRef<Customer>>,
) -> Result<Lead, ApiError> {
    authorize::<Lead>(r, Op::Write).await?;
    let deal_value = deal_value
        .map(|v| validate::money("dealValue", v))
        .transpose()?;
    let mut tx = r.session.tx().await?;
    leads::convert(
        &mut tx,
        id.row(),
        deal_value,
        converted_at,
        customer_id.map(|c| c.row()),
    )
    .await
    .map_err(|e| match e {
        // The customer is an argument here, not an input field.
        WriteError::MissingRef(Ref::Customer) => not_found("Customer", "customerId"),
        e => write_error(e, LEAD),
    })?;
    read_back(&mut tx, id.row()).await
}

/// Lead mutations.
#[derive(Debug, Default)]
pub struct LeadMutation;

#[Object]
impl LeadMutation {
    /// Creates a lead. It needs at least one of `name`, `firstName`, `lastName`, `email`,
    /// `phone`; the e-mail address must not belong to another lead of the tenant (`CONFLICT`
    /// on `input.email`). Agents and above.
    async fn create_lead(
        &self,
        ctx: &Context<'_>,
        input: CreateLeadInput,
    ) -> async_graphql::Result<Lead> {
        let r = Resolve::new(ctx)?;
        r.run(create(&r, input)).await
    }

    /// Changes the fields given; fields left out keep their values, `null` clears a nullable
    /// field. Agents and above.
    async fn update_lead(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Lead>,
        input: UpdateLeadInput,
    ) -> async_graphql::Result<Lead> {
        let r = Resolve::new(ctx)?;
        r.run(update(&r, id, input)).await
    }

    /// Deletes a lead. Supervisors and above.
    async fn delete_lead(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Lead>,
    ) -> async_graphql::Result<DeleteLeadPayload> {
        let r = Resolve::new(ctx)?;
        r.run(delete(&r, id)).await
    }

    /// Converts a lead: records `convertedAt` (default now) and, when given, the deal value
    /// and the customer it became; its status and follow-up status become `CONVERTED`. A lead
    /// converts once: converting it again is a `CONFLICT` naming its status. Agents and above.
    async fn convert_lead(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Lead>,
        deal_value: Option<Decimal>,
        converted_at: Option<DateTime<Utc>>,
        customer_id: Option<NodeRef<Customer>>,
    ) -> async_graphql::Result<Lead> {
        let r = Resolve::new(ctx)?;
        r.run(convert(&r, id, deal_value, converted_at, customer_id))
            .await
    }
}
