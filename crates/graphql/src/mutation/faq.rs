//! `createFaq`, `updateFaq`, `deleteFaq`, `reorderFaqs`, `recordFaqUse`: their inputs,
//! validation and resolvers.
//!
//! Who may: what `Faq` declares (`types/faq.rs`) — curating FAQs takes a supervisor with
//! `system:admin` (admins and owners hold it), recording a use takes an agent with
//! `write:messages`. Keywords are stored trimmed, in lower case and without duplicates, so the
//! `keywords` filter matches them in lower case.

use async_graphql::{Context, InputObject, MaybeUndefined, Object, SimpleObject, ID};
use frontdesk_db::graph::faqs::{self, FaqFields, ReorderError};
use frontdesk_db::graph::Patch;
use frontdesk_db::query;
use uuid::Uuid;

use super::inputs::bad;
use super::{create_field, db_error, not_found, read_back, update_required, write_error, Target};
use crate::entity::{authorize, global_id, Entity, NodeRef, Op};
use crate::query::Resolve;
use crate::types::Faq;
use crate::validate::{self, NOTES_MAX, REASON_MAX, SHORT_TEXT_MAX};
use crate::ApiError;

const FAQ: Target = Target {
    what: "Faq",
    field: "id",
};

/// Most FAQs one `reorderFaqs` orders.
pub const REORDER_MAX: usize = 1_000;

/// A new FAQ.
#[derive(Debug, Clone, InputObject)]
pub struct CreateFaqInput {
    /// Grouping (`pricing`, `opening_hours`, …).
    pub category: String,
    /// The question (at most 1,000 characters).
    pub question: String,
    /// The answer (at most 10,000 characters).
    pub answer: String,
    /// Words that should find it (stored in lower case, at most 50).
    pub keywords: Option<Vec<String>>,
    /// Whether the assistant may use it (default true).
    pub is_active: Option<bool>,
    /// Position in lists, ascending (default 0: before the FAQs `reorderFaqs` numbered).
    pub display_order: Option<i32>,
}

/// Changes to an FAQ: a field left out keeps its value; none of them can be cleared.
#[derive(Debug, Clone, Default, InputObject)]
pub struct UpdateFaqInput {
    /// Grouping.
    pub category: MaybeUndefined<String>,
    /// The question.
    pub question: MaybeUndefined<String>,
    /// The answer.
    pub answer: MaybeUndefined<String>,
    /// Words that should find it (replaces the list; `[]` empties it).
    pub keywords: MaybeUndefined<Vec<String>>,
    /// Whether the assistant may use it.
    pub is_active: MaybeUndefined<bool>,
    /// Position in lists.
    pub display_order: MaybeUndefined<i32>,
}

/// The result of `deleteFaq`.
#[derive(Debug, Clone, SimpleObject)]
pub struct DeleteFaqPayload {
    /// The global id of the FAQ that was deleted.
    pub deleted_id: ID,
}

// ------------------------------------------------------------------------------------------------
// Validation
// ------------------------------------------------------------------------------------------------

fn text(field: &'static str, max: usize) -> impl Fn(String) -> Result<String, ApiError> {
    move |v| validate::required_text(field, &v, max)
}

fn keywords(v: Vec<String>) -> Result<Vec<String>, ApiError> {
    let lowered = v.iter().map(|k| k.to_lowercase());
    validate::tags("input.keywords", lowered)
}

fn display_order(v: i32) -> Result<i32, ApiError> {
    validate::non_negative_int("input.displayOrder", v)
}

impl CreateFaqInput {
    fn lower(self) -> Result<FaqFields, ApiError> {
        Ok(FaqFields {
            category: Patch::Set(text("input.category", SHORT_TEXT_MAX)(self.category)?),
            question: Patch::Set(text("input.question", REASON_MAX)(self.question)?),
            answer: Patch::Set(text("input.answer", NOTES_MAX)(self.answer)?),
            keywords: create_field(self.keywords, keywords)?,
            is_active: create_field(self.is_active, Ok)?,
            display_order: create_field(self.display_order, display_order)?,
        })
    }
}

impl UpdateFaqInput {
    fn lower(self) -> Result<FaqFields, ApiError> {
        Ok(FaqFields {
            category: update_required(
                "input.category",
                self.category,
                text("input.category", SHORT_TEXT_MAX),
            )?,
            question: update_required(
                "input.question",
                self.question,
                text("input.question", REASON_MAX),
            )?,
            answer: update_required("input.answer", self.answer, text("input.answer", NOTES_MAX))?,
            keywords: update_required("input.keywords", self.keywords, keywords)?,
            is_active: update_required("input.isActive", self.is_active, Ok)?,
            display_order: update_required(
                "input.displayOrder",
                self.display_order,
                display_order,
            )?,
        })
    }
}

/// The rows of `ids`, refusing an empty, oversized or repetitive list (naming the position).
fn reorder_ids(ids: &[NodeRef<Faq>]) -> Result<Vec<Uuid>, ApiError> {
    if ids.is_empty() {
        return Err(bad("ids", "list at least one FAQ"));
    }
    if ids.len() > REORDER_MAX {
        return Err(bad(
            "ids",
            format!("at most {REORDER_MAX} FAQs can be ordered at once"),
        ));
    }
    let mut rows: Vec<Uuid> = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        if rows.contains(&id.row()) {
            return Err(bad(
                &format!("ids[{i}]"),
                "lists an FAQ a second time; each FAQ takes one position",
            ));
        }
        rows.push(id.row());
    }
    Ok(rows)
}

// ------------------------------------------------------------------------------------------------
// Resolvers
// ------------------------------------------------------------------------------------------------

async fn create(r: &Resolve<'_>, input: CreateFaqInput) -> Result<Faq, ApiError> {
    authorize::<Faq>(r, Op::Write).await?;
    let fields = input.lower()?;
    let mut tx = r.session.tx().await?;
    let id = faqs::create(&mut tx, &fields)
        .await
        .map_err(|e| write_error(e, FAQ))?;
    read_back(&mut tx, id).await
}

async fn update(r: &Resolve<'_>, id: NodeRef<Faq>, input: UpdateFaqInput) -> Result<Faq, ApiError> {
    authorize::<Faq>(r, Op::Write).await?;
    let fields = input.lower()?;
    let mut tx = r.session.tx().await?;
    faqs::update(&mut tx, id.row(), &fields)
        .await
        .map_err(|e| write_error(e, FAQ))?;
    read_back(&mut tx, id.row()).await
}

async fn delete(r: &Resolve<'_>, id: NodeRef<Faq>) -> Result<DeleteFaqPayload, ApiError> {
    authorize::<Faq>(r, Op::Delete).await?;
    let mut tx = r.session.tx().await?;
    faqs::delete(&mut tx, id.row())
        .await
        .map_err(|e| write_error(e, FAQ))?;
    Ok(DeleteFaqPayload {
        deleted_id: global_id::encode("Faq", id.row()),
    })
}

async fn reorder(r: &Resolve<'_>, ids: Vec<NodeRef<Faq>>) -> Result<Vec<Faq>, ApiError> {
    authorize::<Faq>(r, Op::Write).await?;
    let rows = reorder_ids(&ids)?;
    let mut tx = r.session.tx().await?;
    faqs::reorder(&mut tx, &rows).await.map_err(|e| match e {
        // The request rolls back on this error: nothing of the reorder is kept.
        ReorderError::Missing(i) => not_found("Faq", &format!("ids[{i}]")),
        ReorderError::Db(e) => db_error(e),
    })?;
    // One statement for the whole list, then in the order given.
    let mut found: Vec<Faq> = query::by_ids(&mut tx, Faq::table(), &rows).await?;
    found.sort_by_key(|f| rows.iter().position(|id| *id == f.id));
    Ok(found)
}

async fn record_use(r: &Resolve<'_>, id: NodeRef<Faq>) -> Result<Faq, ApiError> {
    authorize::<Faq>(r, Op::Named("record")).await?;
    let mut tx = r.session.tx().await?;
    faqs::record_use(&mut tx, id.row())
        .await
        .map_err(|e| write_error(e, FAQ))?;
    read_back(&mut tx, id.row()).await
}

/// FAQ mutations.
#[derive(Debug, Default)]
pub struct FaqMutation;

#[Object]
impl FaqMutation {
    /// Creates an FAQ. Supervisors and above with `system:admin`.
    async fn create_faq(
        &self,
        ctx: &Context<'_>,
        input: CreateFaqInput,
    ) -> async_graphql::Result<Faq> {
        let r = Resolve::new(ctx)?;
        r.run(create(&r, input)).await
    }

    /// Changes the fields given; fields left out keep their values. Supervisors and above
    /// with `system:admin`.
    async fn update_faq(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Faq>,
        input: UpdateFaqInput,
    ) -> async_graphql::Result<Faq> {
        let r = Resolve::new(ctx)?;
        r.run(update(&r, id, input)).await
    }

    /// Deletes an FAQ. Supervisors and above with `system:admin`.
    async fn delete_faq(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Faq>,
    ) -> async_graphql::Result<DeleteFaqPayload> {
        let r = Resolve::new(ctx)?;
        r.run(delete(&r, id)).await
    }

    /// Puts FAQs in the order given: the first gets `displayOrder` 1, the next 2, and so on
    /// (FAQs not listed keep theirs), in one transaction. An id that is not an FAQ of the
    /// tenant is `NOT_FOUND` naming its position (`ids[3]`), and then nothing is reordered;
    /// an id listed twice is `BAD_USER_INPUT`. At most 1,000 ids. Returns the FAQs in the new
    /// order. Supervisors and above with `system:admin`.
    async fn reorder_faqs(
        &self,
        ctx: &Context<'_>,
        ids: Vec<NodeRef<Faq>>,
    ) -> async_graphql::Result<Vec<Faq>> {
        let r = Resolve::new(ctx)?;
        r.run(reorder(&r, ids)).await
    }

    /// Counts one use of an FAQ (the assistant or an agent answered with it): `usageCount`
    /// goes up by exactly one, however many uses are recorded at the same time. Not an edit:
    /// `updatedAt` stays. Agents and above with `write:messages`.
    async fn record_faq_use(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<Faq>,
    ) -> async_graphql::Result<Faq> {
        let r = Resolve::new(ctx)?;
        r.run(record_use(&r, id)).await
    }
}
