//! `createCustomer`, `updateCustomer`, `deleteCustomer`: their inputs, validation and
//! resolvers.

use async_graphql::{Context, InputObject, MaybeUndefined, Object, SimpleObject};
use frontdesk_db::graph::{customers, customers::CustomerFields, Patch};
use serde_json::Value;
use uuid::Uuid;

use super::inputs::{json_object, phones, AddressInput, CustomerPreferencesInput};
use super::{create_field, read_back, update_nullable, update_required, write_error, Target};
use crate::entity::{authorize, Op};
use crate::query::Resolve;
use crate::types::enums::{CustomerSegment, CustomerSource, CustomerStatus, DbEnum};
use crate::types::{Customer, Member};
use crate::validate::{self, NAME_MAX, NOTES_MAX, REASON_MAX};
use crate::{ApiError, NodeRef};

const CUSTOMER: Target = Target {
    what: "Customer",
    field: "id",
};

/// A new customer.
#[derive(Debug, Clone, InputObject)]
pub struct CreateCustomerInput {
    /// Display name.
    pub name: String,
    /// Phone number in international format (`+420 777 123 456`); stored as E.164 and unique
    /// within the tenant.
    pub phone: String,
    /// E-mail address.
    pub email: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Picture URL (http or https).
    pub avatar: Option<String>,
    /// Other numbers the customer calls from (international format).
    pub alternative_phones: Option<Vec<String>>,
    /// One-line address.
    pub address: Option<String>,
    /// Structured address.
    pub address_details: Option<AddressInput>,
    /// Free labels.
    pub tags: Option<Vec<String>>,
    /// Value segment (default `NEW`).
    pub segment: Option<CustomerSegment>,
    /// Acquisition channel.
    pub source: Option<CustomerSource>,
    /// Tenant-defined fields (a JSON object).
    pub custom_fields: Option<Value>,
    /// Contact preferences.
    pub preferences: Option<CustomerPreferencesInput>,
    /// The member (user id) who usually serves this customer.
    pub preferred_agent_id: Option<NodeRef<Member>>,
    /// Standing (default `ACTIVE`).
    pub status: Option<CustomerStatus>,
    /// Why the customer is blocked.
    pub block_reason: Option<String>,
    /// Staff notes.
    pub notes: Option<String>,
}

/// Changes to a customer: a field left out keeps its value, `null` clears a nullable field.
#[derive(Debug, Clone, Default, InputObject)]
pub struct UpdateCustomerInput {
    /// Display name (cannot be cleared).
    pub name: MaybeUndefined<String>,
    /// Phone number in international format (cannot be cleared).
    pub phone: MaybeUndefined<String>,
    /// E-mail address.
    pub email: MaybeUndefined<String>,
    /// Given name.
    pub first_name: MaybeUndefined<String>,
    /// Family name.
    pub last_name: MaybeUndefined<String>,
    /// Picture URL.
    pub avatar: MaybeUndefined<String>,
    /// Other numbers (replaces the list; `[]` empties it).
    pub alternative_phones: MaybeUndefined<Vec<String>>,
    /// One-line address.
    pub address: MaybeUndefined<String>,
    /// Structured address (replaces the document).
    pub address_details: MaybeUndefined<AddressInput>,
    /// Labels (replaces the list; `[]` empties it).
    pub tags: MaybeUndefined<Vec<String>>,
    /// Value segment (cannot be cleared).
    pub segment: MaybeUndefined<CustomerSegment>,
    /// Acquisition channel.
    pub source: MaybeUndefined<CustomerSource>,
    /// Tenant-defined fields (replaces the object; `{}` empties it).
    pub custom_fields: MaybeUndefined<Value>,
    /// Contact preferences (replaces the document).
    pub preferences: MaybeUndefined<CustomerPreferencesInput>,
    /// The member (user id) who usually serves this customer.
    pub preferred_agent_id: MaybeUndefined<NodeRef<Member>>,
    /// Standing (cannot be cleared).
    pub status: MaybeUndefined<CustomerStatus>,
    /// Why the customer is blocked.
    pub block_reason: MaybeUndefined<String>,
    /// Staff notes.
    pub notes: MaybeUndefined<String>,
}

/// The result of `deleteCustomer`.
#[derive(Debug, Clone, SimpleObject)]
pub struct DeleteCustomerPayload {
    /// The id of the customer that was deleted.
    pub deleted_id: Uuid,
}

fn opt_text(
    field: &'static str,
    max: usize,
) -> impl Fn(String) -> Result<Option<String>, ApiError> {
    move |v| validate::optional_text(field, Some(v), max)
}

fn email(field: &'static str) -> impl Fn(String) -> Result<Option<String>, ApiError> {
    move |v| {
        if v.trim().is_empty() {
            Ok(None)
        } else {
            validate::email(field, &v).map(Some)
        }
    }
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

impl CreateCustomerInput {
    fn lower(self) -> Result<CustomerFields, ApiError> {
        Ok(CustomerFields {
            name: Patch::Set(validate::required_text("input.name", &self.name, NAME_MAX)?),
            phone: Patch::Set(validate::phone("input.phone", &self.phone)?),
            email: create_field(self.email, email("input.email"))?,
            first_name: create_field(self.first_name, opt_text("input.firstName", NAME_MAX))?,
            last_name: create_field(self.last_name, opt_text("input.lastName", NAME_MAX))?,
            avatar: create_field(self.avatar, url("input.avatar"))?,
            alternative_phones: create_field(self.alternative_phones, |v| {
                phones("input.alternativePhones", v)
            })?,
            address: create_field(
                self.address,
                opt_text("input.address", validate::ADDRESS_MAX),
            )?,
            address_details: create_field(self.address_details, |v| {
                v.lower("input.addressDetails").map(Some)
            })?,
            tags: create_field(self.tags, |v| validate::tags("input.tags", v))?,
            segment: create_field(self.segment, |v| Ok(v.as_db()))?,
            source: create_field(self.source, |v| Ok(Some(v.as_db())))?,
            custom_fields: create_field(self.custom_fields, |v| {
                json_object("input.customFields", v)
            })?,
            preferences: create_field(self.preferences, |v| v.lower("input.preferences"))?,
            preferred_agent_id: create_field(self.preferred_agent_id, |v| Ok(Some(v.row())))?,
            status: create_field(self.status, |v| Ok(v.as_db()))?,
            block_reason: create_field(
                self.block_reason,
                opt_text("input.blockReason", REASON_MAX),
            )?,
            notes: create_field(self.notes, opt_text("input.notes", NOTES_MAX))?,
        })
    }
}

impl UpdateCustomerInput {
    fn lower(self) -> Result<CustomerFields, ApiError> {
        Ok(CustomerFields {
            name: update_required("input.name", self.name, |v| {
                validate::required_text("input.name", &v, NAME_MAX)
            })?,
            phone: update_required("input.phone", self.phone, |v| {
                validate::phone("input.phone", &v)
            })?,
            email: update_nullable(self.email, email("input.email"))?,
            first_name: update_nullable(self.first_name, opt_text("input.firstName", NAME_MAX))?,
            last_name: update_nullable(self.last_name, opt_text("input.lastName", NAME_MAX))?,
            avatar: update_nullable(self.avatar, url("input.avatar"))?,
            // A NOT NULL list: null is refused rather than read as "empty".
            alternative_phones: update_required(
                "input.alternativePhones",
                self.alternative_phones,
                |v| phones("input.alternativePhones", v),
            )?,
            address: update_nullable(
                self.address,
                opt_text("input.address", validate::ADDRESS_MAX),
            )?,
            address_details: update_nullable(self.address_details, |v| {
                v.lower("input.addressDetails").map(Some)
            })?,
            tags: update_required("input.tags", self.tags, |v| validate::tags("input.tags", v))?,
            segment: update_required("input.segment", self.segment, |v| Ok(v.as_db()))?,
            source: update_nullable(self.source, |v| Ok(Some(v.as_db())))?,
            custom_fields: update_required("input.customFields", self.custom_fields, |v| {
                json_object("input.customFields", v)
            })?,
            preferences: update_required("input.preferences", self.preferences, |v| {
                v.lower("input.preferences")
            })?,
            preferred_agent_id: update_nullable(self.preferred_agent_id, |v| Ok(Some(v.row())))?,
            status: update_required("input.status", self.status, |v| Ok(v.as_db()))?,
            block_reason: update_nullable(
                self.block_reason,
                opt_text("input.blockReason", REASON_MAX),
            )?,
            notes: update_nullable(self.notes, opt_text("input.notes", NOTES_MAX))?,
        })
    }
}

async fn create(r: &Resolve<'_>, input: CreateCustomerInput) -> Result<Customer, ApiError> {
    authorize::<Customer>(r, Op::Write).await?;
    let fields = input.lower()?;
    let mut tx = r.session.tx().await?;
    let id = customers::create(&mut tx, &fields)
        .await
        .map_err(|e| write_error(e, CUSTOMER))?;
    read_back(&mut tx, id).await
}

async fn update(
    r: &Resolve<'_>,
    id: Uuid,
    input: UpdateCustomerInput,
) -> Result<Customer, ApiError> {
    authorize::<Customer>(r, Op::Write).await?;
    let fields = input.lower()?;
    let mut tx = r.session.tx().await?;
    customers::update(&mut tx, id, &fields)
        .await
        .map_err(|e| write_error(e, CUSTOMER))?;
    read_back(&mut tx, id).await
}

async fn delete(r: &Resolve<'_>, id: Uuid) -> Result<DeleteCustomerPayload, ApiError> {
    authorize::<Customer>(r, Op::Delete).await?;
    let mut tx = r.session.tx().await?;
    customers::delete(&mut tx, id)
        .await
        .map_err(|e| write_error(e, CUSTOMER))?;
    Ok(DeleteCustomerPayload { deleted_id: id })
}

/// Customer mutations.
#[derive(Debug, Default)]
pub struct CustomerMutation;

#[Object]
impl CustomerMutation {
    /// Creates a customer. The phone number must not belong to another customer of the tenant
    /// (`CONFLICT` on `input.phone`).
    async fn create_customer(
        &self,
        ctx: &Context<'_>,
        input: CreateCustomerInput,
    ) -> async_graphql::Result<Customer> {
        let r = Resolve::new(ctx)?;
        r.run(create(&r, input)).await
    }

    /// Changes the fields given; fields left out keep their values, `null` clears a nullable
    /// field.
    async fn update_customer(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Customer>,
        input: UpdateCustomerInput,
    ) -> async_graphql::Result<Customer> {
        let r = Resolve::new(ctx)?;
        r.run(update(&r, id.row(), input)).await
    }

    /// Deletes a customer with their bookings, conversations and tickets; their calls and text
    /// messages are kept, unlinked. Owners, admins and supervisors only.
    async fn delete_customer(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Customer>,
    ) -> async_graphql::Result<DeleteCustomerPayload> {
        let r = Resolve::new(ctx)?;
        r.run(delete(&r, id.row())).await
    }
}
