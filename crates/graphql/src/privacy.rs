//! GDPR (seed 000): `exportCustomerData` here, `eraseCustomer` in `mutation/privacy.rs`.
//!
//! What belongs to a person (their customer row, the rows linked to it, and the rows never
//! linked to anyone that carry their phone number or e-mail address), what the export
//! contains and what each erasure mode keeps are defined once, in `frontdesk_db::privacy`.
//!
//! Who may: owners and admins (the Customer entity's `export` and `erase` operations). An
//! export hands over every conversation, call transcript and audit entry about a person, and
//! an erasure cannot be undone, so both take the role that manages the tenant itself;
//! supervisors, who may delete a customer, may not wipe or take out their whole history.

use async_graphql::{Context, Object};
use frontdesk_db::privacy;

use crate::entity::{authorize, NodeRef, Op};
use crate::query::Resolve;
use crate::types::Customer;
use crate::ApiError;

/// The GDPR reads.
#[derive(Debug, Default)]
pub struct PrivacyQuery;

#[Object]
impl PrivacyQuery {
    /// Everything the tenant holds about one person, as one JSON document (GDPR access and
    /// portability): the customer row, bookings, calls with transcripts and recording URLs,
    /// SMS, conversations with their messages and internal notes, conversation threads,
    /// tickets with notes, leads, demo requests, and the audit entries about all of them —
    /// including calls, SMS, conversations, threads, leads and demo requests never linked to
    /// a customer that carry the customer's phone number (or an alternative one) or e-mail
    /// address. Rows keep their stored column names. Owners and admins.
    async fn export_customer_data(
        &self,
        ctx: &Context<'_>,
        customer_id: NodeRef<Customer>,
    ) -> async_graphql::Result<serde_json::Value> {
        let r = Resolve::new(ctx)?;
        r.run(async {
            authorize::<Customer>(&r, Op::Named("export")).await?;
            let mut tx = r.session.tx().await?;
            let fp = privacy::footprint(&mut tx, customer_id.row())
                .await?
                .ok_or_else(|| ApiError::NotFoundAt {
                    what: "Customer",
                    field: "customerId".into(),
                })?;
            Ok(privacy::export(&mut tx, &fp).await?)
        })
        .await
    }
}
