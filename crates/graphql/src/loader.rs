//! Per-request loaders for what is looked up by key: rows by id (the `one` side of relations)
//! and a conversation's unread count for the caller.
//!
//! Nested lists do not come through here: they are read ahead level by level
//! ([`crate::entity::read_ahead`]), whose store lives here too so that it shares the request's
//! lifetime. The by-id loader is async-graphql's `DataLoader`: the read-ahead feeds its cache
//! for a query, and the payloads of mutations and subscription events — which the read-ahead
//! does not walk — batch through it. The loaders read through the request's [`Session`], so
//! nothing is cached across requests or tenants.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use frontdesk_db::query;
use frontdesk_db::DbError;
use uuid::Uuid;

use crate::entity::read_ahead::Store;
use crate::entity::Entity;
use crate::session::Session;
use crate::ApiError;

/// The request's loaders and read-ahead store.
pub struct Loaders {
    inner: DataLoader<GraphLoader, HashMapCache>,
    /// What the read-ahead walk read, for the nested list resolvers.
    pub(crate) read_ahead: Store,
}

impl std::fmt::Debug for Loaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaders").finish_non_exhaustive()
    }
}

impl Loaders {
    pub(crate) fn new(session: Arc<Session>) -> Self {
        Self {
            inner: DataLoader::with_cache(
                GraphLoader { session },
                // The batch runs in a task of its own: it carries the request's span along,
                // so its statements belong to the request's trace and log context.
                |batch| tokio::spawn(tracing::Instrument::in_current_span(batch)),
                HashMapCache::new(),
            ),
            read_ahead: Store::default(),
        }
    }

    /// Loaders that do not cache rows: a subscription's (it lives across events, and each
    /// event must see the rows as they are now) and a mutation's (each field writes after the
    /// one before). Batching still works.
    pub(crate) fn uncached(session: Arc<Session>) -> Self {
        let loaders = Self::new(session);
        loaders.inner.enable_all_cache(false);
        loaders
    }

    /// Reads the rows `ids` (duplicates allowed) now and caches them.
    pub(crate) async fn prefetch_by_ids<T: Entity>(
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

    /// One row by id, if visible.
    pub(crate) async fn load_by_id<T: Entity>(&self, id: Uuid) -> Result<Option<T>, ApiError> {
        Ok(self.inner.load_one(IdKey::<T>(id, PhantomData)).await?)
    }

    /// The caller's unread count of one conversation (0 when it is not visible).
    pub(crate) async fn load_unread(&self, conversation: Uuid) -> Result<i64, ApiError> {
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

impl<T: Entity> Loader<IdKey<T>> for GraphLoader {
    type Value = T;
    type Error = LoadError;

    async fn load(&self, keys: &[IdKey<T>]) -> Result<HashMap<IdKey<T>, T>, Self::Error> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let rows: Vec<T> = {
            let mut tx = self.session.tx().await?;
            query::by_ids(&mut tx, T::table(), &ids).await?
        };
        Ok(rows
            .into_iter()
            .map(|row| (IdKey(row.id(), PhantomData), row))
            .collect())
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
            frontdesk_db::inbox::unread_counts(&mut tx, &ids).await?
        };
        Ok(counts
            .into_iter()
            .map(|(id, n)| (UnreadKey(id), n))
            .collect())
    }
}
