//! The API's object types: the customer graph, the inbox and the tenant.

mod booking;
mod call;
mod conversation;
mod customer;
pub mod docs;
pub mod enums;
mod member;
mod message;
mod note;
mod sms;
mod tenant;

pub use booking::{Booking, BookingFilter, BookingOrder, BookingOrderField};
pub use call::{Call, CallFilter, CallOrder, CallOrderField};
pub(crate) use conversation::{inbox_counts, unread_counts};
pub use conversation::{
    AssigneeFilter, BookingDetails, Conversation, ConversationCallData, ConversationFilter,
    ConversationOrder, ConversationOrderField, CustomerSatisfaction, InboxCounts,
    LastMessagePreview, StatusCount, WhatsappData,
};
pub use customer::{Customer, CustomerFilter, CustomerOrder, CustomerOrderField};
pub use member::{Member, MemberFilter, MemberOrder, MemberOrderField, MemberStatus};
pub use message::{
    AiResponse, Attachment, Interactive, InteractiveOption, Message, MessageFilter,
    MessageLocation, MessageOrder, MessageOrderField, MessageTemplate,
};
pub use note::{
    ConversationNote, ConversationNoteFilter, ConversationNoteOrder, ConversationNoteOrderField,
};
pub use sms::{SmsMessage, SmsMessageFilter, SmsMessageOrder, SmsMessageOrderField};
pub(crate) use tenant::current as current_tenant;
pub use tenant::Tenant;
