//! The API's object types: one file per entity (each one `entity!` declaration, see
//! [`crate::entity`]), the documents they embed, their enums, and the tenant.

pub mod ai_settings;
mod assistant;
mod audit_entry;
mod booking;
mod call;
mod conversation;
mod conversation_docs;
mod customer;
mod demo_request;
pub mod docs;
pub mod enums;
mod faq;
mod integration;
mod lead;
mod lenient;
mod member;
mod membership;
mod message;
mod message_docs;
mod note;
mod sms;
mod system_prompt;
mod tenant;
mod tenant_setting;
mod thread;
mod ticket;

pub use assistant::{
    Assistant, AssistantFilter, AssistantModel, AssistantOrder, AssistantOrderField,
    AssistantQuery, AssistantTranscriber, AssistantVoice, TransportConfiguration,
};
pub use audit_entry::{
    AuditEntry, AuditEntryFilter, AuditEntryOrder, AuditEntryOrderField, AuditEntryQuery,
};
pub use booking::{Booking, BookingFilter, BookingOrder, BookingOrderField, BookingQuery};
pub use call::{Call, CallFilter, CallOrder, CallOrderField, CallQuery};
pub use conversation::{
    AssigneeFilter, BookingDetails, Conversation, ConversationCallData, ConversationFilter,
    ConversationOrder, ConversationOrderField, ConversationQuery, CustomerSatisfaction,
    InboxCounts, LastMessagePreview, StatusCount, WhatsappData,
};
pub use customer::{Customer, CustomerFilter, CustomerOrder, CustomerOrderField, CustomerQuery};
pub use demo_request::{
    DemoRequest, DemoRequestFilter, DemoRequestNote, DemoRequestNoteFilter, DemoRequestNoteOrder,
    DemoRequestNoteOrderField, DemoRequestOrder, DemoRequestOrderField, DemoRequestQuery,
};
pub use enums::MemberStatus;
pub use faq::{Faq, FaqFilter, FaqOrder, FaqOrderField, FaqQuery};
pub use integration::{
    DeviceShare, Integration, IntegrationDimensions, IntegrationFilter, IntegrationMetrics,
    IntegrationOrder, IntegrationOrderField, IntegrationQuery, PageViews, PlatformDemoData,
    PlatformDemoDataQuery, TrafficSource,
};
pub use lead::{Lead, LeadFilter, LeadOrder, LeadOrderField, LeadQuery};
pub use member::{
    Member, MemberFilter, MemberOrder, MemberOrderField, MemberPreferences, MemberQuery,
    NotificationPreferences, StoredPreferences,
};
pub use membership::TenantMembership;
pub use message::{
    AiResponse, Attachment, Interactive, InteractiveOption, Message, MessageFeedback,
    MessageFilter, MessageLocation, MessageOrder, MessageOrderField, MessageTemplate,
};
pub use note::{
    ConversationNote, ConversationNoteFilter, ConversationNoteOrder, ConversationNoteOrderField,
};
pub use sms::{
    SmsMessage, SmsMessageFilter, SmsMessageOrder, SmsMessageOrderField, SmsMessageQuery,
};
pub use system_prompt::{
    SystemPrompt, SystemPromptFilter, SystemPromptOrder, SystemPromptOrderField, SystemPromptQuery,
};
pub(crate) use tenant::current as current_tenant;
pub use tenant::Tenant;
pub use tenant_setting::{
    TenantSetting, TenantSettingFilter, TenantSettingOrder, TenantSettingOrderField,
    TenantSettingQuery,
};
pub use thread::{
    ConversationThread, ConversationThreadFilter, ConversationThreadOrder,
    ConversationThreadOrderField, ConversationThreadQuery,
};
pub use ticket::{
    Ticket, TicketAttachment, TicketFeedback, TicketFilter, TicketLabel, TicketLocation,
    TicketNote, TicketNoteFilter, TicketNoteOrder, TicketNoteOrderField, TicketOrder,
    TicketOrderField, TicketQuery, TicketResolution,
};
