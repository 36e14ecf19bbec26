//! Loading a query's nested lists level by level, for all parents at once, before their
//! resolvers ask.
//!
//! DataLoader batching depends on timing: sibling resolvers must all register their keys
//! before the batch fires, which a busy machine or a slow build does not guarantee, and a
//! level split into several statements is both slower and unpredictable. So a top-level list
//! walks its own selection first: for every nested list it lowers the arguments once, reads
//! the children of *all* parents with one statement, feeds the request's loader cache (with
//! empty pages for parents without children, so nothing is fetched again), and recurses into
//! the children's selection. The resolvers then find everything in the cache. Anything the
//! walk does not cover (lists under mutations, unusual shapes) still goes through the
//! loaders, so this is an optimisation of the common path, never a second source of truth.

use async_graphql::futures_util::future::BoxFuture;
use async_graphql::{Context, InputType, SelectionField};
use uuid::Uuid;

use crate::list::{ListArgs, Node, Projection};
use crate::query::Resolve;
use crate::ApiError;

/// A nested field's work, already detached from the parent rows (it owns the ids it needs).
pub(crate) type Task<'a> = BoxFuture<'a, Result<(), ApiError>>;

/// The response path of the field `ctx` resolves, without list indices
/// (`customers.nodes.bookings`): the same for every sibling, distinct for every field of the
/// document, so it keys the request's memo of lowered list arguments.
pub(crate) fn path_key(ctx: &Context<'_>) -> String {
    let mut names = Vec::new();
    let mut node = ctx.path_node.as_ref();
    while let Some(n) = node {
        if let async_graphql::context::QueryPathSegment::Name(name) = n.segment {
            names.push(name);
        }
        node = n.parent;
    }
    names.reverse();
    names.join(".")
}

fn key<'a>(f: &SelectionField<'a>) -> &'a str {
    f.alias().unwrap_or(f.name())
}

/// The work for every field selected on `rows` (objects of type `T`) under `path`.
pub(crate) fn object<'a, T: Node>(
    r: &'a Resolve<'a>,
    selection: impl Iterator<Item = SelectionField<'a>>,
    path: &str,
    rows: &[&T],
) -> Vec<Task<'a>> {
    selection
        .filter_map(|f| T::prefetch(r, f, format!("{path}.{}", key(&f)), rows))
        .collect()
}

/// The work under a connection field selected at `path` whose page holds `rows`.
pub(crate) fn connection<'a, T: Node>(
    r: &'a Resolve<'a>,
    field: SelectionField<'a>,
    path: &str,
    rows: &[&T],
) -> Vec<Task<'a>> {
    let mut tasks = Vec::new();
    for f in field.selection_set() {
        let at = format!("{path}.{}", key(&f));
        match f.name() {
            "nodes" => tasks.extend(object(r, f.selection_set(), &at, rows)),
            "edges" => {
                for e in f.selection_set().filter(|e| e.name() == "node") {
                    let at = format!("{at}.{}", key(&e));
                    tasks.extend(object(r, e.selection_set(), &at, rows));
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

/// A nested list of `C` under every parent in `parents` (through `column`), then its own
/// nested fields.
pub(crate) fn children<'a, C: Node>(
    r: &'a Resolve<'a>,
    field: SelectionField<'a>,
    path: String,
    column: &'static str,
    parents: Vec<Uuid>,
) -> Task<'a> {
    Box::pin(async move {
        let spec = r.loaders.spec(&path, || {
            args::<C>(&field)?.lower(r, Projection::of::<C>(&field))
        })?;
        let pages = r
            .loaders
            .prefetch_children::<C>(column, &parents, &spec)
            .await?;
        if field.selection_set().any(|f| f.name() == "totalCount") {
            r.loaders
                .prefetch_counts::<C>(column, &parents, &spec)
                .await?;
        }
        let rows: Vec<&C> = pages
            .iter()
            .flat_map(|p| p.rows.iter().map(|(node, _)| node))
            .collect();
        let tasks = connection(r, field, &path, &rows);
        run(tasks).await
    })
}

/// The first row of a fixed list of `C` under every parent (a single-object field such as
/// `lastMessage`, resolved through [`crate::list::children`] with the same `args`), then its
/// nested fields.
pub(crate) fn latest<'a, C: Node>(
    r: &'a Resolve<'a>,
    field: SelectionField<'a>,
    path: String,
    column: &'static str,
    parents: Vec<Uuid>,
    args: ListArgs<C>,
) -> Task<'a> {
    Box::pin(async move {
        // `Projection::all()`: what the resolver lowers too, so the cached pages match.
        let spec = r.loaders.spec(&path, || args.lower(r, Projection::all()))?;
        let pages = r
            .loaders
            .prefetch_children::<C>(column, &parents, &spec)
            .await?;
        let rows: Vec<&C> = pages
            .iter()
            .filter_map(|p| p.rows.first())
            .map(|(n, _)| n)
            .collect();
        run(object(r, field.selection_set(), &path, &rows)).await
    })
}

/// The caller's unread counts of `conversations`.
pub(crate) fn unread_counts<'a>(r: &'a Resolve<'a>, conversations: Vec<Uuid>) -> Task<'a> {
    Box::pin(r.loaders.prefetch_unread(conversations))
}

/// The `C` each parent links to (`ids`, duplicates allowed), then its nested fields.
pub(crate) fn linked<'a, C: Node>(
    r: &'a Resolve<'a>,
    field: SelectionField<'a>,
    path: String,
    ids: Vec<Uuid>,
) -> Task<'a> {
    Box::pin(async move {
        let found = r.loaders.prefetch_by_ids::<C>(ids).await?;
        let rows: Vec<&C> = found.iter().collect();
        let tasks = object(r, field.selection_set(), &path, &rows);
        run(tasks).await
    })
}

/// The list arguments of a selected connection field, variables substituted.
fn args<C: Node>(field: &SelectionField<'_>) -> Result<ListArgs<C>, ApiError> {
    fn parse<T: InputType>(name: &str, value: async_graphql::Value) -> Result<T, ApiError> {
        T::parse(Some(value)).map_err(|e| ApiError::BadUserInput {
            field: name.to_owned(),
            message: e.into_server_error(Default::default()).message,
        })
    }
    let mut a = ListArgs::<C> {
        first: None,
        after: None,
        last: None,
        before: None,
        filter: None,
        order_by: None,
    };
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
