//! One subscriber's position in its tenant's event log, and the stream it pulls.
//!
//! A watcher owns its position and only ever asks "what comes after it": from the feed's
//! buffer when the buffer reaches back that far, otherwise from the database under the
//! subscriber's own tenant context. Catch-up after a cursor, a watcher that lagged behind the
//! buffer, and a feed that re-read after a dropped listener are therefore the same code path,
//! and every event is delivered exactly once, in commit order. Nothing is pushed into a
//! watcher: a slow client just pulls later, so memory per watcher stays constant.
//!
//! An idle watcher is small (`just bench-inbox` reports its cost): its stream holds no events once it
//! has handed them out, and the database path — rare, and with a transaction's worth of
//! future state — is boxed, so its state exists only while it runs instead of being reserved
//! inside every subscriber's stream.

use std::sync::Arc;
use std::time::Duration;

use frontdesk_db::{Db, TenantCtx};
use futures::Stream;
use tokio::sync::watch;

use super::hub::{read_events, Event, Feed, Subject, READ_BATCH};
use crate::ApiError;

/// Events taken from the buffer per pull.
const PULL: usize = 256;

/// A subscriber's position.
#[derive(Debug)]
pub(crate) struct Watcher {
    feed: Arc<Feed>,
    /// Wakes the watcher: the tenant's head, or its one subject's.
    signal: watch::Receiver<i64>,
    /// The one conversation or ticket watched, if only one.
    subject: Option<Subject>,
    pos: i64,
    db: Db,
    ctx: TenantCtx,
}

/// Subscriptions of this process that have started (access checked, position taken) and not
/// ended: what `/metrics` reports as `frontdesk_subscriptions_watching`. A client's subscribe
/// message counts only once it is here, so the gauge is also how a reconnect storm is seen
/// draining.
pub const WATCHING: &str = "frontdesk_subscriptions_watching";

impl Drop for Watcher {
    fn drop(&mut self) {
        metrics::gauge!(WATCHING).decrement(1.0);
    }
}

impl Watcher {
    /// A watcher at `pos` (`None`: the feed's current head, i.e. only what comes next).
    pub(crate) fn new(
        feed: Arc<Feed>,
        db: Db,
        ctx: TenantCtx,
        subject: Option<Subject>,
        pos: Option<i64>,
    ) -> Self {
        let signal = match subject {
            Some(s) => feed.subject_head(s),
            None => feed.head(),
        };
        let pos = pos.unwrap_or_else(|| *feed.head().borrow());
        metrics::gauge!(WATCHING).increment(1.0);
        Self {
            feed,
            signal,
            subject,
            pos,
            db,
            ctx,
        }
    }

    /// The events after the position, in order, forever.
    pub(crate) fn into_stream(self) -> impl Stream<Item = Arc<Event>> + Send {
        futures::stream::unfold(
            (self, Vec::new().into_iter()),
            |(mut watcher, mut pending)| async move {
                loop {
                    if let Some(event) = pending.next() {
                        return Some((event, (watcher, pending)));
                    }
                    // The spent batch's buffer (up to `PULL` slots) is freed before waiting,
                    // not kept by every idle subscriber.
                    drop(std::mem::take(&mut pending));
                    pending = watcher.next_batch().await.into_iter();
                }
            },
        )
    }

    /// Waits for and returns the next non-empty batch of events concerning this watcher.
    async fn next_batch(&mut self) -> Vec<Arc<Event>> {
        let mut failures = 0u32;
        loop {
            let signal = *self.signal.borrow_and_update();
            while self.pos < signal {
                match self.pull().await {
                    Ok(batch) if batch.is_empty() => {
                        // Nothing visible up to the signal: those events were deleted since.
                        self.pos = signal;
                    }
                    Ok(batch) => {
                        failures = 0;
                        self.pos = batch.last().map_or(self.pos, |e| e.seq);
                        let mine: Vec<Arc<Event>> = batch
                            .into_iter()
                            .filter(|e| self.subject.is_none_or(|s| Some(s) == e.subject))
                            .collect();
                        if !mine.is_empty() {
                            return mine;
                        }
                    }
                    Err(e) => {
                        failures += 1;
                        tracing::warn!(error = %e, "subscription catch-up failed; retrying");
                        tokio::time::sleep(Duration::from_millis(50 * u64::from(failures.min(40))))
                            .await;
                    }
                }
            }
            if self.signal.changed().await.is_err() {
                // The feed is gone (cannot happen while we hold it); never end a subscription
                // silently: wait for the client to leave.
                futures::future::pending::<()>().await;
            }
        }
    }

    /// The next events after the position: buffered when possible, else from the database.
    async fn pull(&self) -> Result<Vec<Arc<Event>>, ApiError> {
        if let Some(batch) = self.feed.events_after(self.pos, PULL) {
            if !batch.is_empty() {
                return Ok(batch);
            }
        }
        // Boxed: this future lives inline in the subscriber's stream, and the transaction's
        // state (kilobytes) would otherwise be reserved there for the subscription's life.
        Box::pin(self.read_database()).await
    }

    /// The next events after the position, from the database in the subscriber's tenant.
    async fn read_database(&self) -> Result<Vec<Arc<Event>>, ApiError> {
        let mut tx = self.db.begin_tenant_reading(self.ctx).await?;
        read_events(&mut tx, self.pos, READ_BATCH).await
    }
}
