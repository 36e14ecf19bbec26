//! The root mutation type: writes to the customer graph and the inbox, and log-in.
//!
//! Each entity's mutations live in their own file (`customer`, `booking`, `call`, `sms`,
//! `inbox`, `lead`, `ticket`, `demo_request`, `merge`, `assistant`, `integration`, `member` (the team),
//! `profile` (the caller's own account), `faq`, `system_prompt`, `tenant` and `tenant_setting`
//! (the tenant's configuration), `login` and `invitation` (the two anonymous ones)), merged into one
//! [`Mutation`] root. They all follow the same sequence, so
//! that a refused request has touched nothing:
//!
//! 1. authenticate (`Resolve::run`), then authorise by the least role the entity's declaration
//!    names for the operation ([`crate::entity::authorize`]);
//! 2. validate and normalise every argument with [`crate::validate`] into the plain input
//!    structs of `frontdesk_db::graph` — no SQL has run yet, and a bad field is reported as
//!    `BAD_USER_INPUT` naming it;
//! 3. write through `frontdesk_db::graph` in the request's one transaction (the `Session`),
//!    which also refreshes the customers' counters;
//! 4. read the written row back in the same transaction and return it.
//!
//! The transaction commits only if the whole response has no errors (see `session.rs`), so a
//! request of several mutations is all or nothing. This module also owns the translation of
//! write failures into API errors ([`write_error`], [`db_error`]): constraint violations by
//! constraint name, never with the database's wording.

mod agency;
mod assistant;
mod assistant_docs;
mod booking;
mod call;
mod customer;
mod demo_request;
mod faq;
mod inbox;
mod inputs;
mod integration;
mod invitation;
mod lead;
mod login;
mod member;
mod merge;
mod privacy;
mod profile;
mod sms;
mod system_prompt;
mod tenant;
mod tenant_setting;
mod ticket;

use async_graphql::{MaybeUndefined, MergedObject};
use frontdesk_db::graph::{Patch, Ref, WriteError};
use frontdesk_db::{query, DbError, TenantTx};
use uuid::Uuid;

use crate::entity::{self, Entity, Meaning};
use crate::ApiError;

pub use booking::BookingMutation;
pub use call::CallMutation;
pub use customer::{CustomerMutation, DeleteCustomerPayload};
pub use inbox::InboxMutation;
pub use invitation::InvitationMutation;
pub use login::{LoginMutation, LoginPayload};
pub use member::{InviteMemberPayload, MemberMutation};
pub use profile::ProfileMutation;
pub use sms::SmsMutation;

/// Root of all writes.
#[derive(Debug, Default, MergedObject)]
pub struct Mutation(
    LoginMutation,
    agency::AgencyMutation,
    InvitationMutation,
    MemberMutation,
    ProfileMutation,
    CustomerMutation,
    BookingMutation,
    CallMutation,
    SmsMutation,
    InboxMutation,
    lead::LeadMutation,
    ticket::TicketMutation,
    demo_request::DemoRequestMutation,
    merge::MergeMutation,
    integration::IntegrationMutation,
    privacy::PrivacyMutation,
    assistant::AssistantMutation,
    faq::FaqMutation,
    system_prompt::SystemPromptMutation,
    tenant::TenantMutation,
    tenant_setting::TenantSettingMutation,
);

// ------------------------------------------------------------------------------------------------
// Authorisation
// ------------------------------------------------------------------------------------------------

// ------------------------------------------------------------------------------------------------
// Reading back
// ------------------------------------------------------------------------------------------------

/// The row `id` of `T` as this transaction now sees it (just written, so it must exist).
pub(crate) async fn read_back<T: Entity>(tx: &mut TenantTx, id: Uuid) -> Result<T, ApiError> {
    query::by_ids::<T>(tx, T::table(), &[id])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            ApiError::Internal(format!("the {} just written is not visible", T::NAME).into())
        })
}

// ------------------------------------------------------------------------------------------------
// Input plumbing: GraphQL's absent / null / value onto `Patch`
// ------------------------------------------------------------------------------------------------

/// An optional argument of a create: absent or null leaves the column at its default.
pub(crate) fn create_field<T, U>(
    value: Option<T>,
    lower: impl FnOnce(T) -> Result<U, ApiError>,
) -> Result<Patch<U>, ApiError> {
    value.map_or(Ok(Patch::Keep), |v| lower(v).map(Patch::Set))
}

/// An update of a nullable column: absent keeps it, null clears it, a value is lowered
/// (`lower` may itself return `None`, e.g. blank text, which clears too).
pub(crate) fn update_nullable<T, U>(
    value: MaybeUndefined<T>,
    lower: impl FnOnce(T) -> Result<Option<U>, ApiError>,
) -> Result<Patch<Option<U>>, ApiError> {
    match value {
        MaybeUndefined::Undefined => Ok(Patch::Keep),
        MaybeUndefined::Null => Ok(Patch::Set(None)),
        MaybeUndefined::Value(v) => lower(v).map(Patch::Set),
    }
}

/// An update of a column that cannot be empty: absent keeps it, null is refused (clearing is
/// not possible, and silently ignoring the null would hide the client's mistake).
pub(crate) fn update_required<T, U>(
    field: &str,
    value: MaybeUndefined<T>,
    lower: impl FnOnce(T) -> Result<U, ApiError>,
) -> Result<Patch<U>, ApiError> {
    match value {
        MaybeUndefined::Undefined => Ok(Patch::Keep),
        MaybeUndefined::Null => Err(ApiError::BadUserInput {
            field: field.to_owned(),
            message: "cannot be cleared; leave it out to keep the current value".into(),
        }),
        MaybeUndefined::Value(v) => lower(v).map(Patch::Set),
    }
}

// ------------------------------------------------------------------------------------------------
// Errors
// ------------------------------------------------------------------------------------------------

/// The object a mutation's `id` argument names, for `NOT_FOUND`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target {
    /// Type name (`Customer`).
    pub what: &'static str,
    /// The argument that named it (`id`, or `input.providerCallId` for an upsert).
    pub field: &'static str,
}

/// The input field and type name of a reference.
fn ref_field(r: Ref) -> (&'static str, &'static str) {
    match r {
        Ref::Customer => ("input.customerId", "Customer"),
        Ref::Booking => ("input.bookingId", "Booking"),
        Ref::Call => ("input.callId", "Call"),
        Ref::Assistant => ("input.assistantId", "Assistant"),
        Ref::Member => ("input.preferredAgentId", "Member"),
        Ref::Conversation => ("input.conversationId", "Conversation"),
    }
}

fn not_found(what: &'static str, field: &str) -> ApiError {
    ApiError::NotFoundAt {
        what,
        field: field.to_owned(),
    }
}

/// Maps a failed graph write for a mutation acting on `target`.
pub(crate) fn write_error(e: WriteError, target: Target) -> ApiError {
    match e {
        WriteError::NotFound => not_found(target.what, target.field),
        WriteError::MissingRef(r) => {
            let (field, what) = ref_field(r);
            not_found(what, field)
        }
        WriteError::Status { current } => ApiError::Conflict(format!(
            "the {} is {}, which does not allow this change",
            target.what.to_lowercase(),
            status_name(&current)
        )),
        WriteError::Db(e) => db_error(e),
    }
}

/// The API spelling (`NO_SHOW`) of a stored status (`no-show`): every status enum's GraphQL
/// name is its stored spelling in upper case with `_` for `-`.
fn status_name(db: &str) -> String {
    db.to_uppercase().replace('-', "_")
}

/// `payment_amount` → `input.paymentAmount`.
pub(crate) fn input_field(column: &str) -> String {
    let mut out = String::from("input.");
    let mut upper = false;
    for c in column.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Maps a database error of a write: constraint violations become the client's errors (by
/// constraint name and SQLSTATE, never with the database's text, which can quote values);
/// anything else is `INTERNAL`, logged with its cause and masked.
pub(crate) fn db_error(e: DbError) -> ApiError {
    let Some(state) = e.sqlstate() else {
        return e.into();
    };
    let constraint = e.constraint().map(str::to_owned);
    if let Some(known) = constraint.as_deref().and_then(entity::constraint) {
        let field = known.field.to_owned();
        return match known.meaning {
            Meaning::Conflict(m) => ApiError::ConflictAt {
                field,
                message: m.to_owned(),
            },
            Meaning::NotFound(what) => not_found(what, &field),
            Meaning::Bad(m) => ApiError::BadUserInput {
                field,
                message: m.to_owned(),
            },
        };
    }
    match state.as_str() {
        // unique_violation
        "23505" => ApiError::Conflict("the change conflicts with existing data".into()),
        // foreign_key_violation: a reference to a row that is not (or no longer) visible
        "23503" => ApiError::NotFound("a referenced object"),
        // check_violation: name the column when the constraint name says it
        "23514" => ApiError::BadUserInput {
            field: constraint
                .as_deref()
                .and_then(entity::checked_field)
                .unwrap_or_else(|| "input".to_owned()),
            message: "is not an accepted value".into(),
        },
        // not_null_violation
        "23502" => {
            let column = match &e {
                DbError::Sqlx(sqlx::Error::Database(d)) => d
                    .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                    .and_then(|pg| pg.column())
                    .map(input_field),
                _ => None,
            };
            ApiError::BadUserInput {
                field: column.unwrap_or_else(|| "input".to_owned()),
                message: "is required".into(),
            }
        }
        // data exceptions (numeric out of range, invalid date/time, …): the value cannot be
        // stored; validation should have caught it, so the field is unknown here.
        s if s.starts_with("22") => ApiError::BadUserInput {
            field: "input".into(),
            message: "a value is out of the range the field accepts".into(),
        },
        _ => e.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_become_input_paths() {
        assert_eq!(input_field("payment_amount"), "input.paymentAmount");
        assert_eq!(input_field("name"), "input.name");
        assert_eq!(
            entity::checked_field("bookings_payment_amount_check").as_deref(),
            Some("input.paymentAmount")
        );
        assert_eq!(
            entity::checked_field("sms_messages_status_check").as_deref(),
            Some("input.status")
        );
        assert_eq!(
            entity::checked_field("customers_address_details_check").as_deref(),
            Some("input.addressDetails")
        );
        assert_eq!(entity::checked_field("tenants_name_check"), None);
    }

    #[test]
    fn stored_statuses_are_named_as_the_api_spells_them() {
        assert_eq!(status_name("no-show"), "NO_SHOW");
        assert_eq!(status_name("cancelled"), "CANCELLED");
    }
}
