//! Demo-request writes (seed 001 `av_demo_requests`): create, partial update, assignment, the
//! status flow, notes and delete.
//!
//! The status flow (`status`), one move per call of [`set_status`]:
//!
//! | to | allowed from | also |
//! |---|---|---|
//! | `contacted` | new | |
//! | `scheduled` | new, contacted | `scheduled_at` = the given time, else the stored one; neither → [`DemoError::NeedsTime`] |
//! | `completed` | scheduled | `completed_at` = now (the transaction's time) |
//! | `declined` | new, contacted, scheduled | |
//!
//! `new` is only the initial status (nothing moves back to it), and `completed` and `declined`
//! are final. A request is never created in another status, and `status` / `completed_at` are
//! not among the [`DemoRequestFields`]: the moves above are the only way to change them, so
//! `completed_at` is set exactly when the request is completed. Rescheduling a scheduled demo
//! is an [`update`] of `scheduled_at`.
//!
//! Like the bookings' moves, the allowed sources are part of the `UPDATE … WHERE`, so of two
//! concurrent moves the second re-evaluates them against the first's committed row; only when
//! nothing was updated is the row read again to say why.
//!
//! No customer counter counts demo requests (they come from prospects, not customers), so
//! nothing here refreshes counters.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{changes, Patch, Ref, WriteError};
use crate::{DbError, TenantTx};

/// The writable columns of a demo request. For [`create`], `name` and `email` must be set.
/// Enumerated columns take their database spelling.
#[derive(Debug, Clone, Default)]
pub struct DemoRequestFields {
    /// The requester's name.
    pub name: Patch<String>,
    /// Their e-mail address.
    pub email: Patch<String>,
    /// Their company.
    pub company: Patch<Option<String>>,
    /// Their job title.
    pub job_title: Patch<Option<String>>,
    /// E.164 phone number.
    pub phone: Patch<Option<String>>,
    /// `medical`, `legal`, `sales` or `other`.
    pub industry: Patch<Option<&'static str>>,
    /// `1-10`, `11-50`, `51-200`, `201-1000` or `1000+`.
    pub company_size: Patch<Option<&'static str>>,
    /// Intended use.
    pub use_case: Patch<Option<String>>,
    /// What they use today.
    pub current_solution: Patch<Option<String>>,
    /// Implementation timeline (free text in 001).
    pub timeline: Patch<Option<String>>,
    /// Budget range (free text in 001).
    pub budget: Patch<Option<String>>,
    /// Anything else.
    pub additional_info: Patch<Option<String>>,
    /// The member handling it (checked: an active, non-viewer member of the tenant).
    pub assigned_to: Patch<Option<Uuid>>,
    /// When the demo is scheduled.
    pub scheduled_at: Patch<Option<DateTime<Utc>>>,
    /// Lead source.
    pub source: Patch<Option<String>>,
    /// UTM source.
    pub utm_source: Patch<Option<String>>,
    /// UTM medium.
    pub utm_medium: Patch<Option<String>>,
    /// UTM campaign.
    pub utm_campaign: Patch<Option<String>>,
}

fn to_changes(f: &DemoRequestFields) -> super::Changes {
    changes!(f; name, email, company, job_title, phone, industry, company_size, use_case,
        current_solution, timeline, budget, additional_info, assigned_to, scheduled_at, source,
        utm_source, utm_medium, utm_campaign)
}

/// Why a demo-request write did not happen.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The move to `scheduled` was given no time and the request has none stored.
    #[error("a scheduled demo needs a time")]
    NeedsTime,
    /// The member exists but may not handle demo requests.
    #[error("{0}")]
    NotAssignable(&'static str),
    /// Not visible, a missing reference, a refused move (with the current status), or a
    /// database error.
    #[error(transparent)]
    Write(#[from] WriteError),
}

impl From<DbError> for DemoError {
    fn from(e: DbError) -> Self {
        DemoError::Write(WriteError::Db(e))
    }
}

impl From<sqlx::Error> for DemoError {
    fn from(e: sqlx::Error) -> Self {
        DemoError::Write(e.into())
    }
}

/// Fails unless `member` is an active member of the tenant who may work demo requests (not a
/// viewer: viewers read, they do not handle requests).
async fn require_handler(tx: &mut TenantTx, member: Uuid) -> Result<(), DemoError> {
    let found: Option<(String, bool)> = sqlx::query_as(
        "SELECT role, is_active FROM app.memberships
         WHERE tenant_id = app.current_tenant_id() AND user_id = $1",
    )
    .bind(member)
    .fetch_optional(tx.conn())
    .await?;
    match found {
        None => Err(WriteError::MissingRef(Ref::Member).into()),
        Some((role, _)) if role == "viewer" => Err(DemoError::NotAssignable(
            "viewers may read demo requests but not handle them",
        )),
        Some((_, false)) => Err(DemoError::NotAssignable("the member is deactivated")),
        Some(_) => Ok(()),
    }
}

async fn require_handler_patch(
    tx: &mut TenantTx,
    patch: &Patch<Option<Uuid>>,
) -> Result<(), DemoError> {
    match patch {
        Patch::Set(Some(member)) => require_handler(tx, *member).await,
        _ => Ok(()),
    }
}

/// Inserts a demo request (status `new`) and returns its id.
#[tracing::instrument(skip_all)]
pub async fn create(tx: &mut TenantTx, fields: &DemoRequestFields) -> Result<Uuid, DemoError> {
    require_handler_patch(tx, &fields.assigned_to).await?;
    let mut qb = super::insert("app.demo_requests", to_changes(fields));
    qb.push(" RETURNING id");
    Ok(qb.build_query_scalar().fetch_one(tx.conn()).await?)
}

/// Changes the set fields of demo request `id`.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn update(
    tx: &mut TenantTx,
    id: Uuid,
    fields: &DemoRequestFields,
) -> Result<(), DemoError> {
    let changes = to_changes(fields);
    if !changes.is_empty() {
        require_handler_patch(tx, &fields.assigned_to).await?;
    }
    Ok(super::update_row(tx, "app.demo_requests", changes, id).await?)
}

/// Assigns demo request `id` to `member`, or unassigns it with `None`.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn assign(tx: &mut TenantTx, id: Uuid, member: Option<Uuid>) -> Result<(), DemoError> {
    update(
        tx,
        id,
        &DemoRequestFields {
            assigned_to: Patch::Set(member),
            ..Default::default()
        },
    )
    .await
}

/// A status a demo request can be moved to (see the module docs for the flow).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// → `contacted`.
    Contacted,
    /// → `scheduled`, at this time or the stored one.
    Scheduled(Option<DateTime<Utc>>),
    /// → `completed`, recording now as `completed_at`.
    Completed,
    /// → `declined`.
    Declined,
}

impl Move {
    /// The status the move leads to.
    pub fn target(self) -> &'static str {
        match self {
            Move::Contacted => "contacted",
            Move::Scheduled(_) => "scheduled",
            Move::Completed => "completed",
            Move::Declined => "declined",
        }
    }

    /// The statuses the move may start from.
    pub fn allowed_from(self) -> &'static [&'static str] {
        match self {
            Move::Contacted => &["new"],
            Move::Scheduled(_) => &["new", "contacted"],
            Move::Completed => &["scheduled"],
            Move::Declined => &["new", "contacted", "scheduled"],
        }
    }
}

/// Moves demo request `id` as `to` says, if its current status allows it:
/// [`WriteError::Status`] (with the current status) when it does not, [`WriteError::NotFound`]
/// when the request is not visible, [`DemoError::NeedsTime`] for a move to `scheduled` with
/// no time given or stored.
#[tracing::instrument(skip_all, fields(%id, to = to.target()))]
pub async fn set_status(tx: &mut TenantTx, id: Uuid, to: Move) -> Result<(), DemoError> {
    let (scheduling, time) = match to {
        Move::Scheduled(t) => (true, t),
        _ => (false, None),
    };
    let moved: Option<Uuid> = sqlx::query_scalar(
        "UPDATE app.demo_requests SET status = $2,
                scheduled_at = CASE WHEN $4 THEN coalesce($5, scheduled_at) ELSE scheduled_at END,
                completed_at = CASE WHEN $2 = 'completed' THEN now() ELSE completed_at END
         WHERE id = $1 AND status = ANY ($3)
           AND (NOT $4 OR coalesce($5, scheduled_at) IS NOT NULL)
         RETURNING id",
    )
    .bind(id)
    .bind(to.target())
    .bind(to.allowed_from())
    .bind(scheduling)
    .bind(time)
    .fetch_optional(tx.conn())
    .await?;
    if moved.is_some() {
        return Ok(());
    }
    // Why not: another status (or not visible), else the missing time.
    match super::refused_move(tx, "app.demo_requests", id).await {
        WriteError::Status { current } if to.allowed_from().contains(&current.as_str()) => {
            Err(DemoError::NeedsTime)
        }
        e => Err(e.into()),
    }
}

/// Adds a note to demo request `id`, written by the acting member. Returns the note's id.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn add_note(tx: &mut TenantTx, id: Uuid, note: &str) -> Result<Uuid, DemoError> {
    let author = crate::inbox::acting_member(tx).await?;
    // INSERT … SELECT from the request: an invisible one (missing, another tenant's) inserts
    // nothing.
    let added: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO app.demo_request_notes (demo_request_id, note, added_by)
         SELECT d.id, $2, $3 FROM app.demo_requests d WHERE d.id = $1
         RETURNING id",
    )
    .bind(id)
    .bind(note)
    .bind(author)
    .fetch_optional(tx.conn())
    .await?;
    added.ok_or(DemoError::Write(WriteError::NotFound))
}

/// Deletes demo request `id` with its notes (ON DELETE CASCADE).
#[tracing::instrument(skip_all, fields(%id))]
pub async fn delete(tx: &mut TenantTx, id: Uuid) -> Result<(), DemoError> {
    let deleted: Option<Uuid> =
        sqlx::query_scalar("DELETE FROM app.demo_requests WHERE id = $1 RETURNING id")
            .bind(id)
            .fetch_optional(tx.conn())
            .await?;
    deleted
        .map(|_| ())
        .ok_or(DemoError::Write(WriteError::NotFound))
}
