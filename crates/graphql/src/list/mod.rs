//! Relay connections for every entity, from one generic implementation.
//!
//! Argument checks, cursors, keyset pages, `totalCount` and projection are written once here
//! for every [`Entity`]; nested pages come from the read-ahead store
//! ([`crate::entity::read_ahead`]).

pub mod aggregate;
pub mod cursor;
pub mod filter;
pub mod order;

use std::sync::Arc;

use async_graphql::{Context, Object, SelectionField, SimpleObject, TypeName};
use frontdesk_db::query::{self, Cond, OrderKey, Page, Rows, Scope, Select, Table, Via};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::entity::read_ahead::{self, FieldId};
use crate::entity::Entity;
use crate::query::Resolve;
use crate::ApiError;
use filter::{Budget, EntityFilter};
use order::OrderInput;

/// Page size when neither `first` nor `last` is given.
pub const DEFAULT_PAGE_SIZE: i32 = 20;
/// Largest `first`/`last` accepted.
pub const MAX_PAGE_SIZE: i32 = 100;
/// Most `orderBy` entries.
pub const MAX_ORDER_KEYS: usize = 5;

/// The arguments every connection field takes.
#[derive(Debug, Clone)]
pub struct ListArgs<T: Entity> {
    /// Rows from the start (or after `after`).
    pub first: Option<i32>,
    /// Continue after this cursor.
    pub after: Option<String>,
    /// Rows from the end (or before `before`).
    pub last: Option<i32>,
    /// Continue before this cursor.
    pub before: Option<String>,
    /// Which rows.
    pub filter: Option<T::Filter>,
    /// Sort order; newest first when absent.
    pub order_by: Option<Vec<T::Order>>,
}

impl<T: Entity> Default for ListArgs<T> {
    fn default() -> Self {
        Self {
            first: None,
            after: None,
            last: None,
            before: None,
            filter: None,
            order_by: None,
        }
    }
}

/// A list request in lowered form, shared by every parent of one nested field.
#[derive(Debug)]
pub struct ListSpec {
    /// Identity of the list without paging (for cursors and counts).
    pub(crate) fingerprint: String,
    pub(crate) cond: Cond,
    pub(crate) order: Vec<OrderKey>,
    pub(crate) page: Page,
    projection: Projection,
}

impl ListSpec {
    /// Whether the selection shows any row, so that a page must be read.
    pub(crate) fn shows_rows(&self) -> bool {
        self.projection.rows
    }

    /// The columns to read from `table` for this list.
    pub(crate) fn select<'a>(&'a self, table: &'a Table) -> Select<'a> {
        Select {
            columns: self
                .projection
                .columns
                .as_deref()
                .unwrap_or_else(|| table.select_all()),
            sort_values: self.projection.cursors,
        }
    }
}

/// What a connection's selection needs from the database: the columns of the fields its
/// nodes select (ids and link columns always, for nested fields and read-ahead) and whether
/// any cursor is shown. Reading only those keeps wide columns — transcripts, JSON documents —
/// off the wire and out of the decoder when a dashboard does not show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Projection {
    columns: Option<String>,
    cursors: bool,
    /// Whether any row is shown (`nodes`, `edges` or `pageInfo`). A connection asked only for
    /// `totalCount`, `aggregate` or `groups` — a dashboard tile — reads no page.
    rows: bool,
}

impl Projection {
    /// Every column and cursors: for lists whose selection is not known here.
    pub(crate) fn all() -> Self {
        Self {
            columns: None,
            cursors: true,
            rows: true,
        }
    }

    /// What the selection of connection field `conn` (a list of `T`) needs.
    pub(crate) fn of<T: Entity>(conn: &SelectionField<'_>) -> Self {
        let mut wanted: Vec<String> = Vec::new();
        let mut cursors = false;
        let mut rows = false;
        for f in conn.selection_set() {
            rows |= matches!(f.name(), "nodes" | "edges" | "pageInfo");
            match f.name() {
                "nodes" => wanted.extend(f.selection_set().map(|g| snake_case(g.name()))),
                "edges" => {
                    for e in f.selection_set() {
                        match e.name() {
                            "cursor" => cursors = true,
                            "node" => {
                                wanted.extend(e.selection_set().map(|g| snake_case(g.name())))
                            }
                            _ => {}
                        }
                    }
                }
                "pageInfo" => cursors |= f.selection_set().any(|p| p.name().ends_with("Cursor")),
                _ => {}
            }
        }
        Self {
            columns: Some(T::table().select_only(|c| wanted.iter().any(|w| w == c))),
            cursors,
            rows,
        }
    }
}

/// `costBreakdown` → `cost_breakdown`: the row structs' fields are the columns, and their
/// GraphQL names are the same words in camelCase.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for ch in name.chars() {
        if ch.is_ascii_uppercase() {
            out.push('_');
            out.push(ch.to_ascii_lowercase());
        } else {
            out.push(ch);
        }
    }
    out
}

fn bad(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::BadUserInput {
        field: field.to_owned(),
        message: message.into(),
    }
}

impl<T: Entity> ListArgs<T> {
    /// Checks and lowers the arguments; every refusal names the argument.
    pub(crate) fn lower(
        &self,
        r: &Resolve<'_>,
        projection: Projection,
    ) -> Result<Arc<ListSpec>, ApiError> {
        let (limit, backward) = self.page_size()?;
        let (cond, order) = self.lower_rows()?;
        let list = serde_json::json!([T::NAME, self.filter, self.order_by]).to_string();
        let fingerprint = hex(&Sha256::digest(list.as_bytes())[..12]);
        let principal = r.principal()?;
        let cursor = match (&self.after, &self.before) {
            (Some(c), _) => Some(cursor::decode(
                r.keys,
                principal.tenant_id,
                &fingerprint,
                "after",
                c,
            )?),
            (_, Some(c)) => Some(cursor::decode(
                r.keys,
                principal.tenant_id,
                &fingerprint,
                "before",
                c,
            )?),
            _ => None,
        };
        Ok(Arc::new(ListSpec {
            fingerprint,
            cond,
            order,
            page: Page {
                limit: limit.into(),
                backward,
                cursor,
            },
            projection,
        }))
    }
}

impl<T: Entity> ListArgs<T> {
    /// The page size and direction; refusals name the argument.
    fn page_size(&self) -> Result<(i32, bool), ApiError> {
        let (limit, backward) = match (self.first, self.last) {
            (Some(_), Some(_)) => {
                return Err(bad("last", "give either `first` or `last`, not both"))
            }
            (_, Some(n)) => (check_size("last", n)?, true),
            (Some(n), None) => (check_size("first", n)?, false),
            (None, None) => (DEFAULT_PAGE_SIZE, self.before.is_some()),
        };
        if backward && self.after.is_some() {
            return Err(bad("after", "`after` pages forward; use it with `first`"));
        }
        if !backward && self.before.is_some() {
            return Err(bad("before", "`before` pages backward; use it with `last`"));
        }
        Ok((limit, backward))
    }

    /// The filter and the order (without the id tie-breaker).
    fn lower_rows(&self) -> Result<(Cond, Vec<OrderKey>), ApiError> {
        let cond = match &self.filter {
            Some(f) => f.lower(&mut Budget::new("filter"), 0)?,
            None => Cond::True,
        };
        let order: Vec<OrderKey> = match &self.order_by {
            Some(o) if o.len() > MAX_ORDER_KEYS => {
                return Err(bad(
                    "orderBy",
                    format!("at most {MAX_ORDER_KEYS} sort keys"),
                ))
            }
            Some(o) if !o.is_empty() => o
                .iter()
                .enumerate()
                .map(|(i, o)| o.key().map_err(|m| bad(&format!("orderBy.{i}"), m)))
                .collect::<Result<_, _>>()?,
            _ => T::DEFAULT_ORDER.to_vec(),
        };
        Ok((cond, order))
    }

    /// Page size, filter and order of a list read forward from its start (no cursor, no
    /// `last`): what a compiled read ([`crate::direct`]) needs, refused exactly as
    /// [`ListArgs::lower`] refuses.
    pub(crate) fn lower_uncursored(&self) -> Result<(i32, Cond, Vec<OrderKey>), ApiError> {
        if self.after.is_some() || self.before.is_some() || self.last.is_some() {
            return Err(bad("after", "a cursor or `last` needs the list engine"));
        }
        let (limit, _) = self.page_size()?;
        let (cond, order) = self.lower_rows()?;
        Ok((limit, cond, order))
    }
}

fn check_size(field: &str, n: i32) -> Result<i32, ApiError> {
    if (0..=MAX_PAGE_SIZE).contains(&n) {
        Ok(n)
    } else {
        Err(bad(field, format!("must be between 0 and {MAX_PAGE_SIZE}")))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where a connection's rows came from, for computing `totalCount` on demand.
#[derive(Debug, Clone)]
enum Origin {
    Root,
    Child {
        via: Via,
        parent: Uuid,
        field: FieldId,
    },
}

/// A page of `T`s with Relay's edges, nodes, page info and total count.
///
/// The rows stay shared with the loader that fetched them, and edge cursors are signed only
/// when a client asks for them: a dashboard reading `nodes` of thousands of nested rows pays
/// for neither copies nor signatures.
#[derive(Debug)]
pub struct Connection<T: Entity> {
    rows: Arc<Rows<T>>,
    page_info: PageInfo,
    spec: Arc<ListSpec>,
    origin: Origin,
    tenant: Uuid,
}

/// One row of a connection and its cursor.
#[derive(Debug)]
pub struct Edge<'a, T: Entity> {
    row: &'a (T, Vec<String>),
    conn: &'a Connection<T>,
}

/// Where a page sits in the whole list.
#[derive(Debug, Clone, SimpleObject)]
pub struct PageInfo {
    /// More rows follow this page.
    pub has_next_page: bool,
    /// Rows precede this page (known exactly when paging backward, otherwise true when the
    /// page started from a cursor).
    pub has_previous_page: bool,
    /// Cursor of the first edge.
    pub start_cursor: Option<String>,
    /// Cursor of the last edge.
    pub end_cursor: Option<String>,
}

impl<T: Entity> TypeName for Connection<T> {
    fn type_name() -> std::borrow::Cow<'static, str> {
        format!("{}Connection", T::NAME).into()
    }
}

impl<T: Entity> TypeName for Edge<'_, T> {
    fn type_name() -> std::borrow::Cow<'static, str> {
        format!("{}Edge", T::NAME).into()
    }
}

impl<T: Entity> Connection<T> {
    fn cursor(&self, keys: &crate::TokenKeys, sort: &[String]) -> String {
        cursor::encode(keys, self.tenant, &self.spec.fingerprint, sort)
    }
}

/// A list of rows with cursors.
#[Object(name_type)]
impl<T: Entity> Connection<T> {
    /// Aggregates over every row the filter selects (paging ignored): only the selected ones
    /// are computed, in one statement.
    async fn aggregate(&self, ctx: &Context<'_>) -> async_graphql::Result<aggregate::Aggregate<T>> {
        let r = Resolve::new(ctx)?;
        let parents = self.parents();
        r.run(aggregate::aggregate::<T>(
            &r,
            ctx.field(),
            self.scope(&parents),
            &self.spec.cond,
        ))
        .await
    }

    /// The rows the filter selects (paging ignored) in groups: by keys (`by`) and/or a time
    /// bucket cut in `timeZone` (the tenant's unless given), each with its keys and the
    /// selected aggregates, in one statement. At most 1,000 groups (`first`, default and
    /// cap); `HOUR` buckets need a filter bounding the bucket field on both sides;
    /// `fillGaps` adds the empty buckets between the filter's bounds (or the data's).
    #[allow(clippy::too_many_arguments)]
    async fn groups(
        &self,
        ctx: &Context<'_>,
        by: Option<Vec<aggregate::groups::GroupField<T>>>,
        bucket: Option<aggregate::groups::BucketArg<T>>,
        time_zone: Option<String>,
        having: Option<aggregate::having::Having<T>>,
        order_by: Option<Vec<aggregate::groups::GroupOrder<T>>>,
        first: Option<i32>,
        fill_gaps: Option<bool>,
    ) -> async_graphql::Result<Vec<aggregate::Group<T>>> {
        let r = Resolve::new(ctx)?;
        let parents = self.parents();
        let args = aggregate::groups::GroupArgs {
            by,
            bucket,
            time_zone,
            having,
            order_by,
            first,
            fill_gaps,
        };
        r.run(aggregate::groups::groups::<T>(
            &r,
            ctx.field(),
            self.scope(&parents),
            &self.spec.cond,
            args,
        ))
        .await
    }

    /// Rows with their cursors.
    async fn edges(&self) -> Vec<Edge<'_, T>> {
        self.rows
            .rows
            .iter()
            .map(|row| Edge { row, conn: self })
            .collect()
    }

    /// Rows without cursors.
    async fn nodes(&self) -> Vec<&T> {
        self.rows.rows.iter().map(|(node, _)| node).collect()
    }

    /// Paging state.
    async fn page_info(&self) -> &PageInfo {
        &self.page_info
    }

    /// Rows matching the filter in the whole list (ignoring paging); one extra statement per
    /// nested level, and only when asked for.
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        let r = Resolve::new(ctx)?;
        r.run(async {
            match self.origin {
                Origin::Root => {
                    let mut tx = r.session.tx().await?;
                    let n = query::count(&mut tx, T::table(), Scope::All, &self.spec.cond).await?;
                    Ok(n.first().map(|(_, n)| *n).unwrap_or(0))
                }
                Origin::Child { via, parent, field } => {
                    if let Some(n) = r.loaders.read_ahead.count(field, parent) {
                        return Ok(n);
                    }
                    // Not read ahead: this parent alone.
                    let mut tx = r.session.tx().await?;
                    let parents = [parent];
                    let scope = Scope::Children {
                        via,
                        parents: &parents,
                    };
                    let n = query::count(&mut tx, T::table(), scope, &self.spec.cond).await?;
                    Ok(n.first().map(|(_, n)| *n).unwrap_or(0))
                }
            }
        })
        .await
    }
}

impl<T: Entity> Connection<T> {
    /// The parents a nested connection's rows belong to (none at the root).
    fn parents(&self) -> Vec<Uuid> {
        match self.origin {
            Origin::Root => Vec::new(),
            Origin::Child { parent, .. } => vec![parent],
        }
    }

    fn scope<'a>(&self, parents: &'a [Uuid]) -> Scope<'a> {
        match self.origin {
            Origin::Root => Scope::All,
            Origin::Child { via, .. } => Scope::Children { via, parents },
        }
    }
}

#[Object(name_type)]
impl<T: Entity> Edge<'_, T> {
    /// Pass as `after`/`before` to continue from this row.
    async fn cursor(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        Ok(self
            .conn
            .cursor(ctx.data::<crate::TokenKeys>()?, &self.row.1))
    }

    /// The row.
    async fn node(&self) -> &T {
        &self.row.0
    }
}

fn build<T: Entity>(
    r: &Resolve<'_>,
    spec: Arc<ListSpec>,
    origin: Origin,
    rows: Arc<Rows<T>>,
) -> Result<Connection<T>, ApiError> {
    let from_cursor = spec.page.cursor.is_some();
    let (has_next_page, has_previous_page) = if spec.page.backward {
        (from_cursor, rows.more)
    } else {
        (rows.more, from_cursor)
    };
    let mut conn = Connection {
        page_info: PageInfo {
            has_next_page,
            has_previous_page,
            start_cursor: None,
            end_cursor: None,
        },
        rows,
        spec,
        origin,
        tenant: r.principal()?.tenant_id,
    };
    // Only signed when the selection shows a cursor (the rows carry no sort values otherwise).
    if conn.spec.projection.cursors {
        conn.page_info.start_cursor = conn.rows.rows.first().map(|(_, s)| conn.cursor(r.keys, s));
        conn.page_info.end_cursor = conn.rows.rows.last().map(|(_, s)| conn.cursor(r.keys, s));
    }
    Ok(conn)
}

/// A top-level list (`customers(...)`), with its selection read ahead.
pub(crate) async fn root<T: Entity>(
    ctx: &Context<'_>,
    r: &Resolve<'_>,
    args: ListArgs<T>,
) -> Result<Connection<T>, ApiError> {
    let spec = args.lower(r, Projection::of::<T>(&ctx.field()))?;
    let rows = if spec.shows_rows() {
        let mut tx = r.session.tx().await?;
        query::fetch::<T>(
            &mut tx,
            T::table(),
            spec.select(T::table()),
            Scope::All,
            &spec.cond,
            &spec.order,
            &spec.page,
        )
        .await?
    } else {
        Vec::new()
    };
    let page = rows.into_iter().next().map(|(_, p)| p).unwrap_or(Rows {
        rows: Vec::new(),
        more: false,
    });
    let conn = build(r, spec, Origin::Root, Arc::new(page))?;
    let rows: Vec<&T> = conn.rows.rows.iter().map(|(node, _)| node).collect();
    read_ahead::run(read_ahead::connection(r, ctx.field(), &rows)).await?;
    Ok(conn)
}

/// A nested list (`customer.bookings(...)`): the page the read-ahead stored for this parent,
/// or — when the field was not read ahead (a mutation's or an event's payload) — this
/// parent's page read now, with its own selection read ahead.
pub(crate) async fn nested<T: Entity>(
    ctx: &Context<'_>,
    r: &Resolve<'_>,
    via: Via,
    parent: Uuid,
    args: ListArgs<T>,
) -> Result<Connection<T>, ApiError> {
    let field = FieldId::of(&ctx.field());
    let (spec, rows) = match r.loaders.read_ahead.page::<T>(field, parent) {
        Some(found) => found,
        // Boxed: the cold path must not grow every nested resolver's future (resolvers nest
        // as deep as the query, and their futures are polled on the stack).
        None => Box::pin(read_one_parent::<T>(ctx, r, via, parent, args)).await?,
    };
    let origin = Origin::Child { via, parent, field };
    build(r, spec, origin, rows)
}

/// One parent's page of a nested list that was not read ahead, with its own selection read
/// ahead.
async fn read_one_parent<T: Entity>(
    ctx: &Context<'_>,
    r: &Resolve<'_>,
    via: Via,
    parent: Uuid,
    args: ListArgs<T>,
) -> Result<(Arc<ListSpec>, Arc<Rows<T>>), ApiError> {
    let field = FieldId::of(&ctx.field());
    let pages = read_ahead::pages(r, &ctx.field(), via, &[parent], args, true).await?;
    let rows: Vec<&T> = pages
        .iter()
        .flat_map(|p| p.rows.iter().map(|(n, _)| n))
        .collect();
    read_ahead::run(read_ahead::connection(r, ctx.field(), &rows)).await?;
    r.loaders
        .read_ahead
        .page::<T>(field, parent)
        .ok_or_else(|| ApiError::Internal("a page just read is not stored".into()))
}

/// The first row of a fixed list under one parent (a single-object field such as a
/// conversation's `lastMessage`); read ahead by [`read_ahead::first_child`] with the same
/// `args`.
pub(crate) async fn first_child<T: Entity>(
    ctx: &Context<'_>,
    r: &Resolve<'_>,
    column: &'static str,
    parent: Uuid,
    args: ListArgs<T>,
) -> Result<Option<T>, ApiError> {
    let field = FieldId::of(&ctx.field());
    if let Some((_, rows)) = r.loaders.read_ahead.page::<T>(field, parent) {
        return Ok(rows.rows.first().map(|(n, _)| n.clone()));
    }
    let pages = Box::pin(read_ahead::pages(
        r,
        &ctx.field(),
        Via::Column(column),
        &[parent],
        args,
        false,
    ))
    .await?;
    Ok(pages
        .first()
        .and_then(|p| p.rows.first())
        .map(|(n, _)| n.clone()))
}

/// Complexity of a connection field: its children cost once per row the page can hold.
pub fn cost(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let rows = first
        .or(last)
        .unwrap_or(DEFAULT_PAGE_SIZE)
        .clamp(0, MAX_PAGE_SIZE);
    1 + usize::try_from(rows).unwrap_or(0) * child_complexity
}
