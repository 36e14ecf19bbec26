//! `recordSms`: a text message as the carrier reports it, idempotent on the carrier's message
//! id (a delivery callback posts the same message again with its new status).

use async_graphql::{Context, InputObject, Object};
use frontdesk_db::graph::sms::{self, SmsFields};
use frontdesk_db::graph::Patch;
use rust_decimal::Decimal;

use super::{create_field, read_back, write_error, Target};
use crate::entity::{authorize, Op};
use crate::query::Resolve;
use crate::types::enums::{DbEnum, Direction, SmsStatus};
use crate::types::{Booking, Call, Customer, SmsMessage};
use crate::validate::{self, PROVIDER_ERROR_MAX, SMS_BODY_MAX};
use crate::{ApiError, NodeRef};

/// A text message as the carrier reports it. Posting the same `providerMessageId` again
/// updates that message with the fields the new post carries.
#[derive(Debug, Clone, InputObject)]
pub struct RecordSmsInput {
    /// The carrier's message id: the idempotency key.
    pub provider_message_id: String,
    /// The customer's number, international format.
    pub phone_number: String,
    /// Text (at most 1600 characters).
    pub message_body: String,
    /// The customer; when absent, the customer with this phone number (if any).
    pub customer_id: Option<NodeRef<Customer>>,
    /// The booking it is about.
    pub booking_id: Option<NodeRef<Booking>>,
    /// The call that produced it.
    pub call_id: Option<NodeRef<Call>>,
    /// Inbound or outbound.
    pub direction: Option<Direction>,
    /// Delivery state.
    pub status: Option<SmsStatus>,
    /// Cost (at most 4 decimals).
    pub cost: Option<Decimal>,
    /// Delivery error, if any.
    pub error: Option<String>,
}

impl RecordSmsInput {
    fn lower(self) -> Result<(String, SmsFields), ApiError> {
        let id = validate::provider_id("input.providerMessageId", &self.provider_message_id)?;
        let fields = SmsFields {
            customer_id: create_field(self.customer_id, |v| Ok(Some(v.row())))?,
            booking_id: create_field(self.booking_id, |v| Ok(Some(v.row())))?,
            call_id: create_field(self.call_id, |v| Ok(Some(v.row())))?,
            phone_number: Patch::Set(validate::phone("input.phoneNumber", &self.phone_number)?),
            direction: create_field(self.direction, |v| Ok(Some(v.as_db())))?,
            message_body: Patch::Set(validate::required_text(
                "input.messageBody",
                &self.message_body,
                SMS_BODY_MAX,
            )?),
            status: create_field(self.status, |v| Ok(Some(v.as_db())))?,
            cost: create_field(self.cost, |v| validate::unit_cost("input.cost", v))?,
            error: create_field(self.error, |v| {
                validate::optional_text("input.error", Some(v), PROVIDER_ERROR_MAX)
            })?,
        };
        Ok((id, fields))
    }
}

async fn record(r: &Resolve<'_>, input: RecordSmsInput) -> Result<SmsMessage, ApiError> {
    authorize::<SmsMessage>(r, Op::Write).await?;
    let (provider_message_id, fields) = input.lower()?;
    let mut tx = r.session.tx().await?;
    let recorded = sms::record(&mut tx, &provider_message_id, &fields)
        .await
        .map_err(|e| {
            write_error(
                e,
                Target {
                    what: "SmsMessage",
                    field: "input.providerMessageId",
                },
            )
        })?;
    read_back(&mut tx, recorded.id).await
}

/// SMS mutations.
#[derive(Debug, Default)]
pub struct SmsMutation;

#[Object]
impl SmsMutation {
    /// Records a text message. Idempotent on `providerMessageId`: posting the same message
    /// again updates it with the fields the new post carries. The customer is `customerId`
    /// if given, otherwise the customer with the message's phone number, if any.
    async fn record_sms(
        &self,
        ctx: &Context<'_>,
        input: RecordSmsInput,
    ) -> async_graphql::Result<SmsMessage> {
        let r = Resolve::new(ctx)?;
        r.run(record(&r, input)).await
    }
}
