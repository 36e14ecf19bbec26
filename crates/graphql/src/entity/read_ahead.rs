//! The one batching path for nested lists: a query's selection read level by level, for all
//! parents at once, before the resolvers ask.
//!
//! A root field (a list, a by-id look-up, `node`) walks its own selection first. For every
//! selected relation of the entity — found in the entity's declared [`Relation`]s, not in
//! hand-written arms — it reads the related rows of *all* parents of the level with one
//! statement, stores them under the field's identity in the document and the parent's id, and
//! recurses into their selection. The resolvers then take their page from the store. A
//! resolver whose field was not read ahead (a mutation's or a subscription event's payload,
//! which has one parent) reads its own parent's page directly, never a different answer.
//!
//! Statement count therefore depends only on the shape of the query: one per nested list
//! level (plus one per `totalCount`), never on timing or the number of parents.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::futures_util::future::BoxFuture;
use async_graphql::{InputType, SelectionField};
use frontdesk_db::query::{self, Rows, Scope, Via};
use uuid::Uuid;

use super::{Entity, Link, Relation};
use crate::list::{ListArgs, ListSpec, Projection};
use crate::query::Resolve;
use crate::ApiError;

/// A nested field's work, detached from the parent rows (it owns the ids it needs).
pub type Task<'a> = BoxFuture<'a, Result<(), ApiError>>;
/// Reads the children (through a column or a link table) of a level's parents.
pub type ReadMany = for<'a> fn(&'a Resolve<'a>, SelectionField<'a>, Via, Vec<Uuid>) -> Task<'a>;
/// Reads the rows a level's parents link to.
pub type ReadOne = for<'a> fn(&'a Resolve<'a>, SelectionField<'a>, Vec<Uuid>) -> Task<'a>;

/// The identity of one field of the request's document.
///
/// async-graphql hands the read-ahead walk and the resolver the same parsed field, whose name
/// is its own allocation (the parser makes one per occurrence), so the address of the name
/// identifies the field. A field inside a fragment spread in two places is one field: the
/// same arguments and selection, so the same answer per parent, which is what the store needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct FieldId(usize);

impl FieldId {
    pub(crate) fn of(field: &SelectionField<'_>) -> Self {
        FieldId(field.name().as_ptr() as usize)
    }
}

type Page = Arc<dyn Any + Send + Sync>;

/// What the walk read, for the resolvers of one request (or of one subscription event: the
/// stream clears it after each event, so an event never sees the pages of an earlier one).
#[derive(Default, Clone)]
pub(crate) struct Store {
    lists: Arc<Mutex<HashMap<FieldId, Arc<ListSpec>>>>,
    pages: Arc<Mutex<HashMap<(FieldId, Uuid), Page>>>,
    counts: Arc<Mutex<HashMap<(FieldId, Uuid), i64>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Store {
    /// Forgets everything read so far.
    pub(crate) fn clear(&self) {
        lock(&self.lists).clear();
        lock(&self.pages).clear();
        lock(&self.counts).clear();
    }

    /// The page of `parent` under `field`, with the list it belongs to, if read ahead.
    pub(crate) fn page<T: Entity>(
        &self,
        field: FieldId,
        parent: Uuid,
    ) -> Option<(Arc<ListSpec>, Arc<Rows<T>>)> {
        let spec = lock(&self.lists).get(&field)?.clone();
        let page = lock(&self.pages).get(&(field, parent))?.clone();
        let rows = page.downcast::<Rows<T>>().ok()?;
        Some((spec, rows))
    }

    /// The number of children of `parent` under `field`, if read ahead.
    pub(crate) fn count(&self, field: FieldId, parent: Uuid) -> Option<i64> {
        lock(&self.counts).get(&(field, parent)).copied()
    }

    fn put_pages<T: Entity>(
        &self,
        field: FieldId,
        spec: Arc<ListSpec>,
        parents: &[Uuid],
        found: query::Pages<T>,
    ) -> Vec<Arc<Rows<T>>> {
        let mut by_parent: HashMap<Uuid, Rows<T>> = found
            .into_iter()
            .filter_map(|(p, rows)| Some((p?, rows)))
            .collect();
        let mut pages = lock(&self.pages);
        let mut out = Vec::with_capacity(parents.len());
        for parent in parents {
            // Parents without children get an empty page, so nothing is fetched again.
            let rows = Arc::new(by_parent.remove(parent).unwrap_or(Rows {
                rows: Vec::new(),
                more: false,
            }));
            pages.insert((field, *parent), rows.clone());
            out.push(rows);
        }
        lock(&self.lists).insert(field, spec);
        out
    }

    fn put_counts(&self, field: FieldId, parents: &[Uuid], found: Vec<(Option<Uuid>, i64)>) {
        let found: HashMap<Uuid, i64> = found
            .into_iter()
            .filter_map(|(p, n)| Some((p?, n)))
            .collect();
        let mut counts = lock(&self.counts);
        for parent in parents {
            counts.insert((field, *parent), found.get(parent).copied().unwrap_or(0));
        }
    }
}

/// The relation of `T` a selected field resolves, by the field's name.
fn relation<T: Entity>(field: &SelectionField<'_>) -> Option<&'static Relation<T>> {
    relation_named(field.name())
}

/// The relation of `T` whose GraphQL (camelCase) field is `name`.
pub(crate) fn relation_named<T: Entity>(name: &str) -> Option<&'static Relation<T>> {
    T::RELATIONS.iter().find(|r| camel_eq(r.field, name))
}

/// Whether snake_case `snake` and camelCase `camel` are the same words.
fn camel_eq(snake: &str, camel: &str) -> bool {
    let mut s = snake.chars();
    let mut c = camel.chars();
    loop {
        match (s.next(), c.next()) {
            (None, None) => return true,
            (Some('_'), Some(up)) => match s.next() {
                Some(low) if low.to_ascii_uppercase() == up => {}
                _ => return false,
            },
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
    }
}

/// The work for every field selected on `rows` (objects of type `T`).
pub(crate) fn object<'a, T: Entity>(
    r: &'a Resolve<'a>,
    selection: impl Iterator<Item = SelectionField<'a>>,
    rows: &[&T],
) -> Vec<Task<'a>> {
    let mut tasks = Vec::new();
    if rows.is_empty() {
        // No parents: nothing below them is resolved, so nothing is read.
        return tasks;
    }
    for field in selection {
        if let Some(rel) = relation::<T>(&field) {
            tasks.push(match &rel.link {
                Link::Many { via, read, .. } => {
                    read(r, field, *via, rows.iter().map(|p| p.id()).collect())
                }
                Link::One { key, read, .. } => {
                    read(r, field, rows.iter().filter_map(|p| key(p)).collect())
                }
            });
        } else if let Some(task) = T::read_ahead_field(r, field, rows) {
            tasks.push(task);
        }
    }
    tasks
}

/// The work under a connection field whose page holds `rows`.
pub(crate) fn connection<'a, T: Entity>(
    r: &'a Resolve<'a>,
    field: SelectionField<'a>,
    rows: &[&T],
) -> Vec<Task<'a>> {
    let mut tasks = Vec::new();
    for f in field.selection_set() {
        match f.name() {
            "nodes" => tasks.extend(object(r, f.selection_set(), rows)),
            "edges" => {
                for e in f.selection_set().filter(|e| e.name() == "node") {
                    tasks.extend(object(r, e.selection_set(), rows));
                }
            }
            _ => {}
        }
    }
    tasks
}

/// Runs tasks one after another (they share the request's one connection anyway).
pub(crate) async fn run(tasks: Vec<Task<'_>>) -> Result<(), ApiError> {
    for task in tasks {
        task.await?;
    }
    Ok(())
}

/// The pages of `C` under every parent in `parents` (found `via` a column or link table) for `field` with
/// `args`, stored for the field's resolvers; returns them in `parents` order. A connection
/// field reads the columns its selection shows; a single-object field (`first_child`) reads
/// every column.
pub(crate) async fn pages<C: Entity>(
    r: &Resolve<'_>,
    field: &SelectionField<'_>,
    via: Via,
    parents: &[Uuid],
    args: ListArgs<C>,
    connection: bool,
) -> Result<Vec<Arc<Rows<C>>>, ApiError> {
    let projection = if connection {
        Projection::of::<C>(field)
    } else {
        Projection::all()
    };
    let spec = args.lower(r, projection)?;
    let found = if spec.shows_rows() {
        let mut tx = r.session.tx().await?;
        query::fetch::<C>(
            &mut tx,
            C::table(),
            spec.select(C::table()),
            Scope::Children { via, parents },
            &spec.cond,
            &spec.order,
            &spec.page,
        )
        .await?
    } else {
        Vec::new()
    };
    let id = FieldId::of(field);
    if field.selection_set().any(|f| f.name() == "totalCount") {
        let counts = {
            let mut tx = r.session.tx().await?;
            query::count(
                &mut tx,
                C::table(),
                Scope::Children { via, parents },
                &spec.cond,
            )
            .await?
        };
        r.loaders.read_ahead.put_counts(id, parents, counts);
    }
    Ok(r.loaders.read_ahead.put_pages(id, spec, parents, found))
}

/// A `many` or `linked` relation: the children of every parent, then their own selection.
pub(crate) fn children<'a, C: Entity>(
    r: &'a Resolve<'a>,
    field: SelectionField<'a>,
    via: Via,
    parents: Vec<Uuid>,
) -> Task<'a> {
    Box::pin(async move {
        let pages = pages::<C>(r, &field, via, &parents, args::<C>(&field)?, true).await?;
        let rows: Vec<&C> = pages
            .iter()
            .flat_map(|p| p.rows.iter().map(|(node, _)| node))
            .collect();
        run(connection(r, field, &rows)).await
    })
}

/// The first row of a fixed list of `C` under every parent (a single-object field such as a
/// conversation's `lastMessage`, resolved with [`crate::list::first_child`] and the same
/// `args`), then its selection.
pub(crate) fn first_child<'a, C: Entity>(
    r: &'a Resolve<'a>,
    field: SelectionField<'a>,
    column: &'static str,
    parents: Vec<Uuid>,
    args: ListArgs<C>,
) -> Task<'a> {
    Box::pin(async move {
        let pages = pages::<C>(r, &field, Via::Column(column), &parents, args, false).await?;
        let rows: Vec<&C> = pages
            .iter()
            .filter_map(|p| p.rows.first())
            .map(|(n, _)| n)
            .collect();
        run(object(r, field.selection_set(), &rows)).await
    })
}

/// A `one` relation: the rows the parents link to (`ids`, duplicates allowed), fed to the
/// by-id loader, then their own selection.
pub(crate) fn linked<'a, C: Entity>(
    r: &'a Resolve<'a>,
    field: SelectionField<'a>,
    ids: Vec<Uuid>,
) -> Task<'a> {
    Box::pin(async move {
        let found = r.loaders.prefetch_by_ids::<C>(ids).await?;
        let rows: Vec<&C> = found.iter().collect();
        run(object(r, field.selection_set(), &rows)).await
    })
}

/// The list arguments of a selected connection field, variables substituted.
pub(crate) fn args<C: Entity>(field: &SelectionField<'_>) -> Result<ListArgs<C>, ApiError> {
    fn parse<T: InputType>(name: &str, value: async_graphql::Value) -> Result<T, ApiError> {
        T::parse(Some(value)).map_err(|e| ApiError::BadUserInput {
            field: name.to_owned(),
            message: e.into_server_error(Default::default()).message,
        })
    }
    let mut a = ListArgs::<C>::default();
    let arguments = field.arguments().map_err(|e| ApiError::BadUserInput {
        field: field.name().to_owned(),
        message: e.message,
    })?;
    for (name, value) in arguments {
        let name = name.as_str();
        match name {
            "first" => a.first = parse(name, value)?,
            "after" => a.after = parse(name, value)?,
            "last" => a.last = parse(name, value)?,
            "before" => a.before = parse(name, value)?,
            "filter" => a.filter = parse(name, value)?,
            "orderBy" => a.order_by = parse(name, value)?,
            _ => {}
        }
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::camel_eq;

    #[test]
    fn relation_names_match_their_camel_case_fields() {
        assert!(camel_eq("sms_messages", "smsMessages"));
        assert!(camel_eq("customer", "customer"));
        assert!(!camel_eq("sms_messages", "smsMessage"));
        assert!(!camel_eq("calls", "call"));
    }
}
