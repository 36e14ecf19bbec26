//! Per-request batch loaders: one SQL statement per nested level, whatever the parent count.
//!
//! Sibling resolvers ask for their children through async-graphql's `DataLoader`; the keys it
//! collects are grouped by list request (same field, same arguments) and each group becomes one
//! [`query::fetch`] over all its parents (`unnest(parents) CROSS JOIN LATERAL … LIMIT n`). The
//! loaders live in the request's data and read through the request's [`Session`], so nothing
//! is cached across requests or tenants. Within a request the cache holds what
//! [`crate::prefetch`] read ahead, so the resolvers of a prefetched level issue no statement.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use async_graphql::futures_util::future::BoxFuture;
use frontdesk_db::query::{self, Rows, Scope};
use frontdesk_db::DbError;
use uuid::Uuid;

use crate::list::{ListSpec, Node};
use crate::session::Session;
use crate::ApiError;

/// A batch runs once no sibling has asked for a key for this long. A fixed delay from the
/// first key (DataLoader's default) splits a level into several statements whenever resolving
/// its parents takes longer than the delay — slow debug builds, a busy machine, many parents —
/// so the wait is measured from the *last* key instead.
const QUIET: Duration = Duration::from_millis(1);
/// Keys per statement; above the most parents one query can reach under the complexity limit.
const MAX_BATCH: usize = 100_000;

/// The request's loaders.
pub struct Loaders {
    inner: DataLoader<GraphLoader, HashMapCache>,
    /// Lowered list arguments by response path (see [`crate::prefetch::path_key`]): siblings
    /// share one, and the prefetch walk hands its own to the resolvers.
    specs: Mutex<HashMap<String, Arc<ListSpec>>>,
    /// Keys requested so far in this request; batches wait until it stops moving.
    requested: Arc<AtomicU64>,
}

impl std::fmt::Debug for Loaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaders").finish_non_exhaustive()
    }
}

impl Loaders {
    pub(crate) fn new(session: Arc<Session>) -> Self {
        let requested = Arc::new(AtomicU64::new(0));
        let counter = requested.clone();
        let spawner = move |batch: BoxFuture<'static, ()>| {
            let counter = counter.clone();
            tokio::spawn(async move {
                settle(&counter).await;
                batch.await;
            })
        };
        Self {
            inner: DataLoader::with_cache(GraphLoader { session }, spawner, HashMapCache::new())
                .delay(Duration::ZERO)
                .max_batch_size(MAX_BATCH),
            specs: Mutex::new(HashMap::new()),
            requested,
        }
    }

    /// Loaders for a subscription: they live as long as it does, so they must not cache rows
    /// (each event must see the rows as they are now); batching within an event still works.
    pub(crate) fn uncached(session: Arc<Session>) -> Self {
        let loaders = Self::new(session);
        loaders.inner.enable_all_cache(false);
        loaders
    }

    /// The lowered arguments of the list at `path`, lowered by `make` on first use.
    pub(crate) fn spec(
        &self,
        path: &str,
        make: impl FnOnce() -> Result<Arc<ListSpec>, ApiError>,
    ) -> Result<Arc<ListSpec>, ApiError> {
        if let Some(spec) = self.memo().get(path) {
            return Ok(spec.clone());
        }
        let spec = make()?;
        self.memo().insert(path.to_owned(), spec.clone());
        Ok(spec)
    }

    fn memo(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<ListSpec>>> {
        self.specs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads the pages of all `parents` now and caches them, empty ones included.
    pub(crate) async fn prefetch_children<T: Node>(
        &self,
        column: &'static str,
        parents: &[Uuid],
        spec: &Arc<ListSpec>,
    ) -> Result<Vec<Arc<Rows<T>>>, ApiError> {
        let keys: Vec<ChildrenKey<T>> = parents
            .iter()
            .map(|p| ChildrenKey::new(*p, column, spec.clone()))
            .collect();
        let mut found = self.inner.loader().load(&keys).await?;
        let pages: Vec<(ChildrenKey<T>, Arc<Rows<T>>)> = keys
            .into_iter()
            .map(|k| {
                let page = found.remove(&k).unwrap_or_else(|| {
                    Arc::new(Rows {
                        rows: Vec::new(),
                        more: false,
                    })
                });
                (k, page)
            })
            .collect();
        let out = pages.iter().map(|(_, p)| p.clone()).collect();
        self.inner.feed_many(pages).await;
        Ok(out)
    }

    /// Counts the children of all `parents` now and caches the counts, zeros included.
    pub(crate) async fn prefetch_counts<T: Node>(
        &self,
        column: &'static str,
        parents: &[Uuid],
        spec: &Arc<ListSpec>,
    ) -> Result<(), ApiError> {
        let keys: Vec<CountKey<T>> = parents
            .iter()
            .map(|p| CountKey::new(*p, column, spec.clone()))
            .collect();
        let found = self.inner.loader().load(&keys).await?;
        let counts: Vec<(CountKey<T>, i64)> = keys
            .into_iter()
            .map(|k| {
                let n = found.get(&k).copied().unwrap_or(0);
                (k, n)
            })
            .collect();
        self.inner.feed_many(counts).await;
        Ok(())
    }

    /// Reads the rows `ids` (duplicates allowed) now and caches them.
    pub(crate) async fn prefetch_by_ids<T: Node>(
        &self,
        mut ids: Vec<Uuid>,
    ) -> Result<Vec<T>, ApiError> {
        ids.sort_unstable();
        ids.dedup();
        let keys: Vec<IdKey<T>> = ids.into_iter().map(|id| IdKey(id, PhantomData)).collect();
        let found = self.inner.loader().load(&keys).await?;
        let rows: Vec<T> = found.values().cloned().collect();
        self.inner.feed_many(found).await;
        Ok(rows)
    }

    fn note_request(&self) {
        self.requested.fetch_add(1, Ordering::AcqRel);
    }

    /// The page of children of one parent.
    pub(crate) async fn load_children<T: Node>(
        &self,
        key: ChildrenKey<T>,
    ) -> Result<Arc<Rows<T>>, ApiError> {
        self.note_request();
        Ok(self.inner.load_one(key).await?.unwrap_or_else(|| {
            Arc::new(Rows {
                rows: Vec::new(),
                more: false,
            })
        }))
    }

    /// The number of children of one parent matching the list's filter.
    pub(crate) async fn load_count<T: Node>(&self, key: CountKey<T>) -> Result<i64, ApiError> {
        self.note_request();
        Ok(self.inner.load_one(key).await?.unwrap_or(0))
    }

    /// The caller's unread count of one conversation (0 when it is not visible).
    pub(crate) async fn load_unread(&self, conversation: Uuid) -> Result<i64, ApiError> {
        self.note_request();
        Ok(self
            .inner
            .load_one(UnreadKey(conversation))
            .await?
            .unwrap_or(0))
    }

    /// Reads the caller's unread counts of `conversations` now and caches them.
    pub(crate) async fn prefetch_unread(&self, conversations: Vec<Uuid>) -> Result<(), ApiError> {
        let keys: Vec<UnreadKey> = conversations.into_iter().map(UnreadKey).collect();
        let found = self.inner.loader().load(&keys).await?;
        let counts: Vec<(UnreadKey, i64)> = keys
            .into_iter()
            .map(|k| (k, found.get(&k).copied().unwrap_or(0)))
            .collect();
        self.inner.feed_many(counts).await;
        Ok(())
    }

    /// One row by id, if visible.
    pub(crate) async fn load_by_id<T: Node>(&self, id: Uuid) -> Result<Option<T>, ApiError> {
        self.note_request();
        Ok(self.inner.load_one(IdKey::<T>(id, PhantomData)).await?)
    }
}

/// Waits until no key has been requested for [`QUIET`].
async fn settle(requested: &AtomicU64) {
    let mut seen = requested.load(Ordering::Acquire);
    loop {
        tokio::time::sleep(QUIET).await;
        let now = requested.load(Ordering::Acquire);
        if now == seen {
            return;
        }
        seen = now;
    }
}

/// Loads for every key type below.
pub struct GraphLoader {
    session: Arc<Session>,
}

/// A load failure, shared by every key of the failed batch.
#[derive(Debug, Clone)]
pub struct LoadError(Arc<ApiError>);

impl From<ApiError> for LoadError {
    fn from(e: ApiError) -> Self {
        LoadError(Arc::new(e))
    }
}

impl From<DbError> for LoadError {
    fn from(e: DbError) -> Self {
        LoadError(Arc::new(e.into()))
    }
}

impl From<LoadError> for ApiError {
    fn from(e: LoadError) -> Self {
        match Arc::try_unwrap(e.0) {
            Ok(e) => e,
            Err(shared) => shared.duplicate(),
        }
    }
}

macro_rules! list_key {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        pub struct $name<T> {
            parent: Uuid,
            column: &'static str,
            spec: Arc<ListSpec>,
            _t: PhantomData<fn() -> T>,
        }

        impl<T> $name<T> {
            pub(crate) fn new(parent: Uuid, column: &'static str, spec: Arc<ListSpec>) -> Self {
                Self { parent, column, spec, _t: PhantomData }
            }
        }

        impl<T> Clone for $name<T> {
            fn clone(&self) -> Self {
                Self::new(self.parent, self.column, self.spec.clone())
            }
        }

        impl<T> PartialEq for $name<T> {
            fn eq(&self, o: &Self) -> bool {
                self.parent == o.parent && self.column == o.column && self.spec.canon == o.spec.canon
            }
        }

        impl<T> Eq for $name<T> {}

        impl<T> Hash for $name<T> {
            fn hash<H: Hasher>(&self, h: &mut H) {
                (self.parent, self.column, &self.spec.canon).hash(h);
            }
        }
    };
}

list_key!(
    /// The children of `parent` (through `column`) for one list request.
    ChildrenKey
);
list_key!(
    /// The number of children of `parent` matching one list request's filter.
    CountKey
);

/// One row by id.
pub struct IdKey<T>(Uuid, PhantomData<fn() -> T>);

impl<T> Clone for IdKey<T> {
    fn clone(&self) -> Self {
        IdKey(self.0, PhantomData)
    }
}
impl<T> PartialEq for IdKey<T> {
    fn eq(&self, o: &Self) -> bool {
        self.0 == o.0
    }
}
impl<T> Eq for IdKey<T> {}
impl<T> Hash for IdKey<T> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.0.hash(h);
    }
}

/// Keys that share a list request: each group is one statement.
struct Group {
    column: &'static str,
    spec: Arc<ListSpec>,
    parents: Vec<Uuid>,
}

/// Groups keys by list request. There are as many groups as distinct field+argument
/// combinations at one level of the query (usually one), so a linear scan is cheapest.
fn groups<'k, K>(
    keys: &'k [K],
    parts: impl Fn(&'k K) -> (Uuid, &'static str, &'k Arc<ListSpec>),
) -> Vec<Group> {
    let mut out: Vec<Group> = Vec::new();
    for key in keys {
        let (parent, column, spec) = parts(key);
        match out
            .iter_mut()
            .find(|g| g.column == column && g.spec.canon == spec.canon)
        {
            Some(g) => g.parents.push(parent),
            None => out.push(Group {
                column,
                spec: spec.clone(),
                parents: vec![parent],
            }),
        }
    }
    out
}

impl<T: Node> Loader<ChildrenKey<T>> for GraphLoader {
    type Value = Arc<Rows<T>>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[ChildrenKey<T>],
    ) -> Result<HashMap<ChildrenKey<T>, Self::Value>, Self::Error> {
        let mut out = HashMap::new();
        for Group {
            column,
            spec,
            parents,
        } in groups(keys, |k| (k.parent, k.column, &k.spec))
        {
            let scope = Scope::Children {
                column,
                parents: &parents,
            };
            let pages = {
                let mut tx = self.session.tx().await?;
                query::fetch::<T>(
                    &mut tx,
                    T::TABLE,
                    spec.select(T::TABLE),
                    scope,
                    &spec.cond,
                    &spec.order,
                    &spec.page,
                )
                .await?
            };
            for (parent, rows) in pages {
                if let Some(parent) = parent {
                    out.insert(
                        ChildrenKey::new(parent, column, spec.clone()),
                        Arc::new(rows),
                    );
                }
            }
        }
        Ok(out)
    }
}

impl<T: Node> Loader<CountKey<T>> for GraphLoader {
    type Value = i64;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[CountKey<T>],
    ) -> Result<HashMap<CountKey<T>, Self::Value>, Self::Error> {
        let mut out = HashMap::new();
        for Group {
            column,
            spec,
            parents,
        } in groups(keys, |k| (k.parent, k.column, &k.spec))
        {
            let scope = Scope::Children {
                column,
                parents: &parents,
            };
            let counts = {
                let mut tx = self.session.tx().await?;
                query::count(&mut tx, T::TABLE, scope, &spec.cond).await?
            };
            for (parent, n) in counts {
                if let Some(parent) = parent {
                    out.insert(CountKey::new(parent, column, spec.clone()), n);
                }
            }
        }
        Ok(out)
    }
}

/// The caller's unread count of one conversation (`app.unread_count`), batched so a page of
/// conversations costs one statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UnreadKey(Uuid);

impl Loader<UnreadKey> for GraphLoader {
    type Value = i64;
    type Error = LoadError;

    async fn load(&self, keys: &[UnreadKey]) -> Result<HashMap<UnreadKey, i64>, Self::Error> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let counts = {
            let mut tx = self.session.tx().await?;
            crate::types::unread_counts(&mut tx, &ids).await?
        };
        Ok(counts
            .into_iter()
            .map(|(id, n)| (UnreadKey(id), n))
            .collect())
    }
}

impl<T: Node> Loader<IdKey<T>> for GraphLoader {
    type Value = T;
    type Error = LoadError;

    async fn load(&self, keys: &[IdKey<T>]) -> Result<HashMap<IdKey<T>, T>, Self::Error> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let rows: Vec<T> = {
            let mut tx = self.session.tx().await?;
            query::by_ids(&mut tx, T::TABLE, &ids).await?
        };
        Ok(rows
            .into_iter()
            .map(|row| (IdKey(row.id(), PhantomData), row))
            .collect())
    }
}
