//! `Faq`: a question and answer the assistant answers customers from (seed 004 `faqs`),
//! curated by staff. The read side; the writes (including `reorderFaqs` and the use counter)
//! are in `mutation/faq.rs` and `frontdesk_db::graph::faqs`.
//!
//! Two ways to find one: `keywords` (an array filter: `overlaps` any / `containsAll` of the
//! words given; keywords are stored in lower case) and `search`, full text over the question
//! and answer (the generated `search` column, PostgreSQL's `simple` configuration, web-search
//! syntax: `"exact phrase"`, `-without`, `or`).

use chrono::{DateTime, Utc};
use frontdesk_db::query::search::full_text;
use frontdesk_db::{col, sort, table};

use crate::entity::entity;
use crate::list::filter::{
    BooleanFilter, DateTimeFilter, IdFilter, IntFilter, StringFilter, TagsFilter,
};

entity! {
    /// A frequently asked question and its answer.
    Faq in table!(faqs) => {
        /// Grouping (`pricing`, `opening_hours`, …).
        category: String,
        /// The question.
        question: String,
        /// The answer the assistant gives.
        answer: String,
        /// Words that should find it, in lower case.
        keywords: Vec<String>,
        /// Whether the assistant may use it.
        is_active: bool,
        /// Position in lists (ascending; `reorderFaqs` numbers from 1).
        display_order: i32,
        /// How often it was used to answer (`recordFaqUse`).
        usage_count: i32,
        /// Created.
        created_at: DateTime<Utc>,
        /// Last edited (recording a use is not an edit).
        updated_at: DateTime<Utc>,
    }
    filter FaqFilter {
        id: IdFilter [Faq],
        category: StringFilter,
        question: StringFilter,
        keywords: TagsFilter,
        is_active: BooleanFilter,
        display_order: IntFilter,
        usage_count: IntFilter,
        created_at: DateTimeFilter,
        updated_at: DateTimeFilter,
    }
    /// Full-text search over the question and answer (web-search syntax: `"exact phrase"`,
    /// `-without`, `or`; words are matched whole, without stemming).
    search: full_text(col!(search));
    order FaqOrder, FaqOrderField {
        /// Display order.
        DisplayOrder => sort!(display_order: integer),
        /// Times used.
        UsageCount => sort!(usage_count: integer),
        /// Category.
        Category => sort!(category: text),
        /// Question.
        Question => sort!(question: text),
        /// Creation time.
        CreatedAt => sort!(created_at: timestamptz),
        /// Last edit.
        UpdatedAt => sort!(updated_at: timestamptz),
    }
    default_order: [DisplayOrder asc];
    relations {}
    root: FaqQuery { faq, faqs };
    // FAQs configure what the assistant tells customers, tenant-wide: there is no settings
    // permission, so writes take `system:admin` (admins and owners hold it; a supervisor
    // needs it granted). Recording a use is part of answering a customer.
    access: {
        read: Viewer,
        write: Supervisor + SystemAdmin,
        delete: Supervisor + SystemAdmin,
        record: Agent + WriteMessages,
    };
    constraints {}
    fields {}
}
