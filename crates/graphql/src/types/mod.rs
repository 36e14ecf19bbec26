//! The API's object types: the customer graph and the tenant.

mod booking;
mod call;
mod customer;
pub mod docs;
pub mod enums;
mod sms;
mod tenant;

pub use booking::{Booking, BookingFilter, BookingOrder, BookingOrderField};
pub use call::{Call, CallFilter, CallOrder, CallOrderField};
pub use customer::{Customer, CustomerFilter, CustomerOrder, CustomerOrderField};
pub use sms::{SmsMessage, SmsMessageFilter, SmsMessageOrder, SmsMessageOrderField};
pub(crate) use tenant::current as current_tenant;
pub use tenant::Tenant;
