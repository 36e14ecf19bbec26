//! Enums for the seeds' constrained values.
//!
//! Each enum is declared once with its database spelling (`no-show`, `social_media`, …); the
//! macro derives the GraphQL enum (`NO_SHOW`, `SOCIAL_MEDIA`), its filter input (`XFilter`:
//! `eq`/`ne`/`in`/`notIn`/`isNull`), the sqlx text codec, and the mapping both ways, so the CHECK lists in the migrations and the API cannot drift apart
//! silently (an unknown stored value fails to decode loudly instead of being invented).

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef};
use sqlx::Postgres;

/// An enum stored as text.
pub trait DbEnum: Copy + 'static {
    /// The stored spelling.
    fn as_db(self) -> &'static str;
}

macro_rules! db_enum {
    ($(#[$meta:meta])* $name:ident, $filter:ident { $($(#[$vmeta:meta])* $variant:ident = $db:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(async_graphql::Enum, Copy, Clone, Debug, Eq, PartialEq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        db_enum!(@codec $name, $filter { $($variant = $db),+ });
    };

    // The database side of an enum declared elsewhere (e.g. `Role`, which tokens carry): the
    // spelling both ways, the text codec, the `XFilter` input. `Default` is the first variant
    // listed.
    (@codec $name:ident, $filter:ident { $($variant:ident = $db:literal),+ $(,)? }) => {
        impl DbEnum for $name {
            fn as_db(self) -> &'static str {
                match self { $($name::$variant => $db,)+ }
            }
        }

        impl Default for $name {
            /// The first variant; only used for columns a query did not select.
            fn default() -> Self {
                [$($name::$variant),+][0]
            }
        }

        impl $name {
            /// The variant stored as `s`, if any.
            pub fn from_db(s: &str) -> Option<Self> {
                match s { $($db => Some($name::$variant),)+ _ => None }
            }
        }

        impl sqlx::Type<Postgres> for $name {
            fn type_info() -> PgTypeInfo {
                <&str as sqlx::Type<Postgres>>::type_info()
            }
            fn compatible(ty: &PgTypeInfo) -> bool {
                <&str as sqlx::Type<Postgres>>::compatible(ty)
            }
        }

        impl<'r> sqlx::Decode<'r, Postgres> for $name {
            fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
                let s = <&str as sqlx::Decode<Postgres>>::decode(value)?;
                Self::from_db(s)
                    .ok_or_else(|| format!("unknown {} value {s:?}", stringify!($name)).into())
            }
        }

        /// Conditions on an enum column.
        #[derive(async_graphql::InputObject, Debug, Clone, Default, serde::Serialize)]
        pub struct $filter {
            /// Equal to.
            pub eq: Option<$name>,
            /// Not equal to.
            pub ne: Option<$name>,
            /// One of.
            #[graphql(name = "in")]
            pub in_: Option<Vec<$name>>,
            /// None of.
            pub not_in: Option<Vec<$name>>,
            /// Is (true) or is not (false) null.
            pub is_null: Option<bool>,
        }

        impl $crate::direct::JsonOut for $name {
            fn render() -> frontdesk_db::query::json::Render {
                static PAIRS: std::sync::LazyLock<Vec<(&'static str, &'static str)>> =
                    std::sync::LazyLock::new(|| {
                        <$name as async_graphql::resolver_utils::EnumType>::items()
                            .iter()
                            .map(|item| (item.value.as_db(), item.name))
                            .collect()
                    });
                frontdesk_db::query::json::Render::Enum(PAIRS.as_slice())
            }
        }

        impl $crate::list::aggregate::FromDb for $name {
            fn parse_db(s: &str) -> Option<Self> {
                Self::from_db(s)
            }
        }

        impl $crate::list::filter::ColumnFilter for $filter {
            fn kind() -> $crate::list::aggregate::FieldKind {
                $crate::list::aggregate::FieldKind::Enum($crate::list::aggregate::EnumKey::of::<$name>())
            }

            fn lower(
                &self,
                col: &'static str,
                out: &mut Vec<frontdesk_db::query::Cond>,
                b: &mut $crate::list::filter::Budget,
            ) -> Result<(), $crate::ApiError> {
                $crate::list::filter::EnumOps {
                    eq: self.eq,
                    ne: self.ne,
                    in_: &self.in_,
                    not_in: &self.not_in,
                    is_null: self.is_null,
                }
                .lower(col, out, b)
            }
        }

        impl sqlx::Encode<'_, Postgres> for $name {
            fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
                <&str as sqlx::Encode<Postgres>>::encode(self.as_db(), buf)
            }
        }

        // `text[]` columns of the enum (a member's permissions) decode element by element.
        impl sqlx::postgres::PgHasArrayType for $name {
            fn array_type_info() -> PgTypeInfo {
                <&str as sqlx::postgres::PgHasArrayType>::array_type_info()
            }
            fn array_compatible(ty: &PgTypeInfo) -> bool {
                <&str as sqlx::postgres::PgHasArrayType>::array_compatible(ty)
            }
        }
    };
}

db_enum!(
    /// How valuable a customer is to the business.
    CustomerSegment, CustomerSegmentFilter { Vip = "vip", Regular = "regular", New = "new", Inactive = "inactive" }
);
db_enum!(
    /// Where a customer first came from.
    CustomerSource, CustomerSourceFilter {
        Whatsapp = "whatsapp", Referral = "referral", Website = "website",
        SocialMedia = "social_media", Other = "other",
    }
);
db_enum!(
    /// A customer's standing; `BLOCKED` also sets `isBlocked`.
    CustomerStatus, CustomerStatusFilter { Active = "active", Inactive = "inactive", Blocked = "blocked", Vip = "vip" }
);
db_enum!(
    /// Where a booking is in its life.
    BookingStatus, BookingStatusFilter {
        Pending = "pending", Confirmed = "confirmed", Cancelled = "cancelled",
        Completed = "completed", NoShow = "no-show", Scheduled = "scheduled",
    }
);
db_enum!(
    /// The channel a booking was made on.
    BookingSource, BookingSourceFilter { Voice = "voice", Sms = "sms", Manual = "manual" }
);
db_enum!(
    /// Whether a booking has been paid.
    PaymentStatus, PaymentStatusFilter { Pending = "pending", Paid = "paid", Failed = "failed" }
);
db_enum!(
    /// A call's progress, as voice platforms and carriers report it.
    CallStatus, CallStatusFilter {
        Queued = "queued", Ringing = "ringing", InProgress = "in-progress",
        Forwarding = "forwarding", Ended = "ended", Completed = "completed",
        Failed = "failed", NoAnswer = "no-answer", Busy = "busy",
    }
);
db_enum!(
    /// Which way a call or message went.
    Direction, DirectionFilter { Inbound = "inbound", Outbound = "outbound" }
);
db_enum!(
    /// The tone of a call.
    Sentiment, SentimentFilter { Positive = "positive", Neutral = "neutral", Negative = "negative" }
);
db_enum!(
    /// The voice the assistant spoke with.
    VoiceGender, VoiceGenderFilter { Female = "female", Male = "male" }
);
db_enum!(
    /// What the assistant did as a result of a call.
    CallAction, CallActionFilter { BookingCreated = "booking_created", InfoSent = "info_sent", Escalated = "escalated" }
);
db_enum!(
    /// An SMS's delivery state.
    SmsStatus, SmsStatusFilter { Sent = "sent", Delivered = "delivered", Failed = "failed", Received = "received" }
);
db_enum!(
    /// The tenant's subscription plan.
    TenantPlan, TenantPlanFilter { Start = "start", Business = "business", Enterprise = "enterprise" }
);
db_enum!(
    /// The tenant account's lifecycle.
    TenantStatus, TenantStatusFilter {
        Trial = "trial", Active = "active", Paused = "paused", Cancelled = "cancelled",
        Inactive = "inactive", Archived = "archived",
    }
);
db_enum!(
    /// How the tenant signed up.
    TenantSource, TenantSourceFilter { Website = "website", Referral = "referral", DemoCall = "demo_call" }
);
db_enum!(
    /// The AI assistant's tone for this tenant.
    AiTone, AiToneFilter { Friendly = "friendly", Professional = "professional", Casual = "casual" }
);
db_enum!(
    /// The channel a system prompt instructs the assistant for (seed 004).
    PromptType, PromptTypeFilter { Voice = "voice", Sms = "sms" }
);
db_enum!(
    /// What a tenant setting is about (seed 003 SystemSettings).
    SettingCategory, SettingCategoryFilter {
        General = "general", Whatsapp = "whatsapp", Ai = "ai", Notifications = "notifications",
        Security = "security", Business = "business",
    }
);

// ---- The inbox (seeds 000, 002, 003; migration 0004) ----

db_enum!(
    /// Where a conversation happens.
    Channel, ChannelFilter {
        Web = "web", Whatsapp = "whatsapp", Telegram = "telegram", Phone = "phone",
        MobileApp = "mobile_app", Sms = "sms", Email = "email", Instagram = "instagram",
    }
);
db_enum!(
    /// The 000 conversation type (the medium as the AI receptionist saw it).
    ConversationType, ConversationTypeFilter {
        Chat = "chat", Voice = "voice", Email = "email", Whatsapp = "whatsapp", Instagram = "instagram",
    }
);
db_enum!(
    /// Workflow state of a conversation.
    ConversationStatus, ConversationStatusFilter {
        Open = "open", Assigned = "assigned", Waiting = "waiting", Resolved = "resolved",
        Closed = "closed",
    }
);
db_enum!(
    /// Visibility and retention of a conversation (002), orthogonal to its status.
    ConversationLifecycle, ConversationLifecycleFilter { Active = "active", Archived = "archived", Deleted = "deleted" }
);
db_enum!(
    /// How urgent a conversation is.
    ConversationPriority, ConversationPriorityFilter { Low = "low", Medium = "medium", High = "high", Urgent = "urgent" }
);
db_enum!(
    /// What a conversation is about.
    ConversationCategory, ConversationCategoryFilter {
        Support = "support", Sales = "sales", Billing = "billing", Technical = "technical",
        Complaint = "complaint", Other = "other",
    }
);
db_enum!(
    /// What the customer wanted (000).
    ConversationIntent, ConversationIntentFilter { Booking = "booking", Question = "question", Complaint = "complaint", Sale = "sale" }
);
db_enum!(
    /// How a conversation ended (000).
    ConversationOutcome, ConversationOutcomeFilter {
        BookingMade = "booking_made", InfoProvided = "info_provided", Escalated = "escalated",
        Sale = "sale",
    }
);
db_enum!(
    /// The chat-completion role of a message (000/002), kept for rebuilding LLM context.
    MessageRole, MessageRoleFilter { User = "user", Assistant = "assistant", System = "system" }
);
db_enum!(
    /// The kind of content a message carries.
    MessageType, MessageTypeFilter {
        Text = "text", Image = "image", Audio = "audio", Video = "video", Document = "document",
        Location = "location", Contact = "contact", Template = "template",
        Interactive = "interactive",
    }
);
db_enum!(
    /// Who wrote a message.
    MessageSender, MessageSenderFilter { Customer = "customer", Agent = "agent", System = "system", Ai = "ai" }
);
db_enum!(
    /// Delivery state of a message. It only moves forward: pending → sent → delivered → read;
    /// failed is final.
    MessageStatus, MessageStatusFilter {
        Pending = "pending", Sent = "sent", Delivered = "delivered", Read = "read",
        Failed = "failed",
    }
);

db_enum!(
    /// A thumbs-up or thumbs-down on a message (seed 002 `feedbackRating`, stored as
    /// `positive` / `negative` in the message's metadata).
    FeedbackRating, FeedbackRatingFilter {
        /// Helpful (`positive`).
        ThumbsUp = "positive",
        /// Not helpful (`negative`).
        ThumbsDown = "negative",
    }
);

// ---- Leads (seeds 000 leads + 001 av_leads; migration 0005) ----
//
// Variant names avoid digits: the derived GraphQL name splits every digit into its own word
// (`From10kTo50k` would become `FROM_1_0K_TO_5_0K`).

db_enum!(
    /// What a lead wants built (000).
    LeadInterest, LeadInterestFilter {
        /// An AI assistant (receptionist, chat or voice bot).
        AiAssistant = "ai_assistant",
        /// A website.
        WebDevelopment = "web_development",
        /// A mobile or desktop application.
        AppDevelopment = "app_development",
    }
);
db_enum!(
    /// The lead's stated budget band (000), in the tenant's currency.
    LeadBudget, LeadBudgetFilter {
        /// 10,000 to 50,000 (`10k-50k`).
        TenToFiftyThousand = "10k-50k",
        /// 50,000 to 100,000 (`50k-100k`).
        FiftyToHundredThousand = "50k-100k",
        /// 100,000 or more (`100k+`).
        HundredThousandPlus = "100k+",
    }
);
db_enum!(
    /// When the lead wants to start (000).
    LeadTimeline, LeadTimelineFilter {
        /// Right away.
        Immediate = "immediate",
        /// In one to three months (`1-3_months`).
        OneToThreeMonths = "1-3_months",
        /// In three to six months (`3-6_months`).
        ThreeToSixMonths = "3-6_months",
    }
);
db_enum!(
    /// How urgently a lead should be worked (000), usually from its score.
    LeadPriority, LeadPriorityFilter {
        /// Likely to buy soon: contact first.
        Hot = "hot",
        /// Interested, not yet ready.
        Warm = "warm",
        /// Unlikely to buy soon.
        Cold = "cold",
    }
);
db_enum!(
    /// Where a lead is in the sales pipeline (001).
    LeadStatus, LeadStatusFilter {
        /// Not yet assessed.
        New = "new",
        /// Assessed as a real prospect.
        Qualified = "qualified",
        /// Became a customer; `convertedAt` says when.
        Converted = "converted",
        /// Will not buy.
        Lost = "lost",
    }
);
db_enum!(
    /// Where the follow-up of a lead stands (000), independent of its pipeline status.
    FollowUpStatus, FollowUpStatusFilter {
        /// Not yet contacted.
        Pending = "pending",
        /// Contacted, awaiting an outcome.
        Contacted = "contacted",
        /// The follow-up ended in a conversion.
        Converted = "converted",
        /// The follow-up ended without a sale.
        Lost = "lost",
    }
);

// ---- Tickets (seed 003; migration 0005) ----

db_enum!(
    /// What a ticket is about.
    TicketCategory, TicketCategoryFilter {
        /// Something does not work.
        TechnicalSupport = "technical_support",
        /// Invoices and payments.
        Billing = "billing",
        /// A question about a product or service.
        ProductInquiry = "product_inquiry",
        /// The customer is unhappy.
        Complaint = "complaint",
        /// The customer wants something new.
        FeatureRequest = "feature_request",
        /// A defect report.
        BugReport = "bug_report",
        /// Anything else the customer asks.
        GeneralInquiry = "general_inquiry",
        /// None of these.
        Other = "other",
    }
);
db_enum!(
    /// How urgent a ticket is (low < medium < high < urgent).
    TicketPriority, TicketPriorityFilter {
        Low = "low", Medium = "medium", High = "high", Urgent = "urgent",
    }
);
db_enum!(
    /// Where a ticket is in its life.
    TicketStatus, TicketStatusFilter {
        /// New, nobody works on it yet.
        Open = "open",
        /// Someone works on it.
        InProgress = "in_progress",
        /// Waiting for the customer.
        WaitingCustomer = "waiting_customer",
        /// Waiting for someone in the business.
        WaitingInternal = "waiting_internal",
        /// Solved.
        Resolved = "resolved",
        /// Done with.
        Closed = "closed",
    }
);
db_enum!(
    /// The service level a ticket is handled under.
    SlaLevel, SlaLevelFilter { Standard = "standard", Priority = "priority", Vip = "vip" }
);
db_enum!(
    /// How a ticket was resolved.
    ResolutionCategory, ResolutionCategoryFilter {
        Solved = "solved", Workaround = "workaround", Duplicate = "duplicate",
        Invalid = "invalid", WontFix = "wont_fix",
    }
);
// ---- Demo requests (seed 001 av_demo_requests; migration 0005) ----

db_enum!(
    /// Where a demo request is in the sales flow: `NEW` → `CONTACTED` → `SCHEDULED` →
    /// `COMPLETED`, or `DECLINED` from any state before `COMPLETED`.
    DemoRequestStatus, DemoRequestStatusFilter {
        /// Received, nobody has reached out yet.
        New = "new",
        /// Someone reached out to the requester.
        Contacted = "contacted",
        /// A demo is booked (`scheduledAt`).
        Scheduled = "scheduled",
        /// The demo took place (`completedAt`); final.
        Completed = "completed",
        /// No demo will take place; final.
        Declined = "declined",
    }
);
db_enum!(
    /// The requester's line of business (001).
    Industry, IndustryFilter {
        /// Healthcare.
        Medical = "medical",
        /// Law firms.
        Legal = "legal",
        /// Sales teams.
        Sales = "sales",
        /// Anything else.
        Other = "other",
    }
);
db_enum!(
    /// Head count of the requester's company (001 `companySize`).
    CompanySize, CompanySizeFilter {
        /// 1 to 10 people (`1-10`).
        OneToTen = "1-10",
        /// 11 to 50 people (`11-50`).
        ElevenToFifty = "11-50",
        /// 51 to 200 people (`51-200`).
        FiftyOneToTwoHundred = "51-200",
        /// 201 to 1000 people (`201-1000`).
        TwoHundredOneToThousand = "201-1000",
        /// More than 1000 people (`1000+`).
        OverThousand = "1000+",
    }
);

// ---- Voice assistants (seed 001 av_vapi_assistants; migration 0003) ----

db_enum!(
    /// Whether an assistant takes calls.
    AssistantStatus, AssistantStatusFilter {
        /// In service.
        Active = "active",
        /// Configured, not in service (the default).
        Inactive = "inactive",
        /// Being set up or tuned.
        Training = "training",
        /// The platform reported a problem.
        Error = "error",
    }
);
db_enum!(
    /// The line of business an assistant is tuned for (001).
    AssistantIndustry, AssistantIndustryFilter {
        /// Healthcare (usually with `hipaaEnabled`).
        Medical = "medical",
        /// Law firms.
        Legal = "legal",
        /// Sales teams.
        Sales = "sales",
        /// Anything else.
        General = "general",
    }
);

// ---- Integrations (seed 002 Client.platforms; migration 0005) ----

db_enum!(
    /// A marketing platform a tenant can connect.
    IntegrationPlatform, IntegrationPlatformFilter {
        /// Google Analytics (account and property).
        GoogleAnalytics = "google_analytics",
        /// Google Ads (customer id).
        GoogleAds = "google_ads",
        /// Meta Ads (ad account id).
        MetaAds = "meta_ads",
        /// LinkedIn Ads (account id).
        LinkedinAds = "linkedin_ads",
    }
);
db_enum!(
    /// The health of a platform connection.
    IntegrationStatus, IntegrationStatusFilter {
        /// Syncing normally.
        Active = "active",
        /// The token expired; reconnect or refresh it.
        Expired = "expired",
        /// The last sync failed.
        Error = "error",
    }
);

db_enum!(
    /// A fine-grained permission of a member (seed 003). Owners and admins hold all of them;
    /// other roles hold their defaults (see `Role::default_permissions`) unless the membership
    /// lists its own.
    Permission, PermissionFilter {
        /// Read conversations, their messages, calls and SMS.
        ReadConversations = "read:conversations",
        /// Send messages, record calls and SMS, write conversation notes.
        WriteMessages = "write:messages",
        /// Assign and transfer conversations to members.
        AssignConversations = "assign:conversations",
        /// Create, change and delete customers, bookings, leads and demo requests.
        ManageCustomers = "manage:customers",
        /// Open and work tickets.
        ManageTickets = "manage:tickets",
        /// Read analytics and statistics.
        ViewAnalytics = "view:analytics",
        /// Invite and manage members, their roles and permissions.
        ManageAgents = "manage:agents",
        /// Tenant-wide administration.
        SystemAdmin = "system:admin",
    }
);

// ---- The team (seeds 001 av_users, 003 agents; migrations 0002, 0013) ----

db_enum!(
    /// Whether a member is available (seed 003 agent status).
    MemberStatus, MemberStatusFilter {
        /// Available.
        Online = "online",
        /// Signed out.
        Offline = "offline",
        /// Signed in, not taking new conversations.
        Busy = "busy",
        /// Away from the desk.
        Away = "away",
    }
);

// `Role` is declared with the access tokens (crate::auth), which carry it; this gives it the
// stored spelling, the codec and `RoleFilter`. The default (only for columns a query did not
// select) is the least role.
use crate::Role;
db_enum!(@codec Role, RoleFilter {
    Viewer = "viewer", Agent = "agent", Supervisor = "supervisor", Admin = "admin", Owner = "owner",
});

// ---- The audit trail (seeds 001 av_audit_logs, 003 ActivityLog; migrations 0005, 0022) ----

db_enum!(
    /// How much an audit entry matters.
    AuditSeverity, AuditSeverityFilter {
        Low = "low", Medium = "medium", High = "high", Critical = "critical",
    }
);
db_enum!(
    /// What an audit entry is about.
    AuditCategory, AuditCategoryFilter {
        /// Sign-ins, failed sign-ins, refused tokens.
        Auth = "auth",
        /// Members and invitations.
        UserMgmt = "user_mgmt",
        /// Assistants, system prompts, FAQs.
        Assistant = "assistant",
        /// Calls.
        Call = "call",
        /// Billing.
        Billing = "billing",
        /// The tenant and its settings.
        System = "system",
        /// Integrations (platform credentials) and erasures.
        Security = "security",
        /// The business's rows: customers, bookings, the inbox, tickets, leads…
        Data = "data",
    }
);
db_enum!(
    /// How an audited action ended.
    AuditStatus, AuditStatusFilter { Success = "success", Failure = "failure", Warning = "warning" }
);
