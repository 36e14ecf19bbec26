//! FAQ writes (seed 004 `faqs`): create, partial update, delete, reordering, and counting uses.
//!
//! The assistant answers from these; staff curate them. Two writes need more than a row:
//! - [`reorder`] sets `display_order` of many FAQs at once, from the order of a list of ids,
//!   in one statement; an id that is not a visible FAQ is reported by its position and the
//!   caller's transaction (the request's) rolls the whole change back;
//! - [`record_use`] increments `usage_count` in the `UPDATE` itself, so concurrent uses never
//!   lose a count (each waits for the row lock of the one before and adds to its result).
//!   It does not touch `updated_at` (migration 0018: a use is not an edit).

use uuid::Uuid;

use super::{changes, Patch, WriteError};
use crate::{DbError, TenantTx};

/// The writable columns of an FAQ. For [`create`], `category`, `question` and `answer` must
/// be set.
#[derive(Debug, Clone, Default)]
pub struct FaqFields {
    /// Grouping (free text in seed 004).
    pub category: Patch<String>,
    /// The question.
    pub question: Patch<String>,
    /// The answer.
    pub answer: Patch<String>,
    /// Words that should find it.
    pub keywords: Patch<Vec<String>>,
    /// Whether the assistant may use it.
    pub is_active: Patch<bool>,
    /// Position in lists (ascending).
    pub display_order: Patch<i32>,
}

fn to_changes(f: &FaqFields) -> super::Changes {
    changes!(f; category, question, answer, keywords, is_active, display_order)
}

/// Why [`reorder`] did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ReorderError {
    /// The id at this position of the list is not a visible FAQ.
    #[error("no FAQ at position {0}")]
    Missing(usize),
    /// The database refused or failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for ReorderError {
    fn from(e: sqlx::Error) -> Self {
        ReorderError::Db(e.into())
    }
}

/// Inserts an FAQ and returns its id.
#[tracing::instrument(skip_all)]
pub async fn create(tx: &mut TenantTx, fields: &FaqFields) -> Result<Uuid, WriteError> {
    let mut qb = super::insert("app.faqs", to_changes(fields));
    qb.push(" RETURNING id");
    Ok(qb.build_query_scalar().fetch_one(tx.conn()).await?)
}

/// Changes the set fields of FAQ `id`.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn update(tx: &mut TenantTx, id: Uuid, fields: &FaqFields) -> Result<(), WriteError> {
    super::update_row(tx, "app.faqs", to_changes(fields), id).await
}

/// Deletes FAQ `id`. Nothing references FAQs.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn delete(tx: &mut TenantTx, id: Uuid) -> Result<(), WriteError> {
    let deleted: Option<Uuid> =
        sqlx::query_scalar("DELETE FROM app.faqs WHERE id = $1 RETURNING id")
            .bind(id)
            .fetch_optional(tx.conn())
            .await?;
    deleted.map(|_| ()).ok_or(WriteError::NotFound)
}

/// Gives the FAQs `ids` the display orders 1, 2, 3, … in list order (FAQs not listed keep
/// theirs). `ids` must not repeat an id (the caller checks). When one of them is not a
/// visible FAQ (missing, deleted, another tenant's), [`ReorderError::Missing`] names the
/// first such position; the rows that were updated stay updated until the caller rolls back,
/// which the API always does on an error.
#[tracing::instrument(skip_all, fields(n = ids.len()))]
pub async fn reorder(tx: &mut TenantTx, ids: &[Uuid]) -> Result<(), ReorderError> {
    let updated: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE app.faqs f SET display_order = x.n::integer
           FROM unnest($1::uuid[]) WITH ORDINALITY AS x(id, n)
          WHERE f.id = x.id
         RETURNING f.id",
    )
    .bind(ids)
    .fetch_all(tx.conn())
    .await?;
    if updated.len() == ids.len() {
        return Ok(());
    }
    let missing = ids
        .iter()
        .position(|id| !updated.contains(id))
        .unwrap_or_default();
    Err(ReorderError::Missing(missing))
}

/// Adds one to the use counter of FAQ `id` and returns the new count.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn record_use(tx: &mut TenantTx, id: Uuid) -> Result<i32, WriteError> {
    let count: Option<i32> = sqlx::query_scalar(
        "UPDATE app.faqs SET usage_count = usage_count + 1 WHERE id = $1 RETURNING usage_count",
    )
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    count.ok_or(WriteError::NotFound)
}
