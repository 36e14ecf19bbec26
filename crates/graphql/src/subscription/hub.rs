//! The process's fan-out: one LISTEN connection, one feed per tenant with watchers here.
//!
//! A [`Feed`] reads its tenant's new events once per notification — in that tenant's context,
//! so row-level security decides what it can see — loads the rows they point at, and keeps the
//! most recent [`FEED_CAPACITY`] in memory. Every watcher pulls from it with its own position
//! (see [`super::watch`]), so ten thousand watchers of a tenant cost one read per commit, not
//! ten thousand. The feed only ever appends what `events::after(head)` returns, which is a
//! gap-free prefix of the commit order; a notification that was missed (listener down) is
//! made up by the re-read every feed does on [`Notice::Resumed`] and on a slow timer.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use frontdesk_db::events::{self, EventRow, Notice};
use frontdesk_db::query;
use frontdesk_db::{Db, TenantCtx, TenantTx};
use tokio::sync::{watch, Notify};
use uuid::Uuid;

use crate::entity::Entity;
use crate::types::enums::Channel;
use crate::types::{Conversation, Message};
use crate::ApiError;

/// Events a feed keeps in memory; a watcher further behind reads the database instead.
pub(crate) const FEED_CAPACITY: usize = 4096;
/// Events read per statement.
pub(crate) const READ_BATCH: i64 = 500;
/// How often an idle feed re-reads anyway: the last line of defence against a lost
/// notification that no reconnect reported.
const SAFETY_POLL: Duration = Duration::from_secs(10);

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    MessageAdded,
    ConversationUpdated,
}

/// One event, with the rows it concerns as they were when the event was read.
#[derive(Debug)]
pub(crate) struct Event {
    pub seq: i64,
    pub kind: Kind,
    pub conversation_id: Uuid,
    pub channel: Option<Channel>,
    pub committed_at: Option<DateTime<Utc>>,
    /// The message added (`None` if it was deleted before the event was read).
    pub message: Option<Arc<Message>>,
    /// The conversation (`None` if deleted).
    pub conversation: Option<Arc<Conversation>>,
}

/// Reads the events after `pos` and the rows they point at: three statements, whatever the
/// number of events.
pub(crate) async fn read_events(
    tx: &mut TenantTx,
    pos: i64,
    limit: i64,
) -> Result<Vec<Arc<Event>>, ApiError> {
    let rows: Vec<EventRow> = events::after(tx, pos, limit).await?;
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let message_ids: Vec<Uuid> = rows.iter().filter_map(|r| r.message_id).collect();
    let mut conversation_ids: Vec<Uuid> = rows.iter().map(|r| r.conversation_id).collect();
    conversation_ids.sort_unstable();
    conversation_ids.dedup();
    let messages: HashMap<Uuid, Arc<Message>> = if message_ids.is_empty() {
        HashMap::new()
    } else {
        query::by_ids::<Message>(tx, Message::table(), &message_ids)
            .await?
            .into_iter()
            .map(|m| (m.id, Arc::new(m)))
            .collect()
    };
    let conversations: HashMap<Uuid, Arc<Conversation>> =
        query::by_ids::<Conversation>(tx, Conversation::table(), &conversation_ids)
            .await?
            .into_iter()
            .map(|c| (c.id, Arc::new(c)))
            .collect();
    Ok(rows
        .into_iter()
        .map(|r| {
            let kind = if r.kind == "message_added" {
                Kind::MessageAdded
            } else {
                Kind::ConversationUpdated
            };
            Arc::new(Event {
                seq: r.seq,
                kind,
                conversation_id: r.conversation_id,
                channel: Channel::from_db(&r.channel),
                committed_at: r.committed_at,
                message: r.message_id.and_then(|id| messages.get(&id).cloned()),
                conversation: conversations.get(&r.conversation_id).cloned(),
            })
        })
        .collect())
}

/// The recent events of one tenant.
#[derive(Debug)]
pub(crate) struct Feed {
    tenant: Uuid,
    /// Every visible event with `complete_from < seq <= head` is in `events`, in order.
    state: RwLock<FeedState>,
    head: watch::Sender<i64>,
    /// Per-conversation positions for watchers of one conversation: they wake only when their
    /// conversation has news, not on every commit of the tenant.
    conversations: Mutex<HashMap<Uuid, watch::Sender<i64>>>,
    wake: Notify,
}

#[derive(Debug)]
struct FeedState {
    complete_from: i64,
    events: VecDeque<Arc<Event>>,
}

impl Feed {
    /// The newest position the feed has read.
    pub(crate) fn head(&self) -> watch::Receiver<i64> {
        self.head.subscribe()
    }

    /// The newest position of an event of `conversation` the feed has read (or the position
    /// the feed had when the watch began).
    pub(crate) fn conversation_head(&self, conversation: Uuid) -> watch::Receiver<i64> {
        let mut map = self.conversations.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(conversation)
            .or_insert_with(|| watch::Sender::new(*self.head.borrow()))
            .subscribe()
    }

    /// The buffered events after `pos` (at most `max`), or `None` when the buffer does not
    /// reach back to `pos` and the caller must read the database.
    pub(crate) fn events_after(&self, pos: i64, max: usize) -> Option<Vec<Arc<Event>>> {
        let state = self.state.read().unwrap_or_else(|p| p.into_inner());
        if pos < state.complete_from {
            return None;
        }
        let start = state.events.partition_point(|e| e.seq <= pos);
        Some(state.events.range(start..).take(max).cloned().collect())
    }

    fn ctx(&self) -> TenantCtx {
        TenantCtx {
            tenant_id: self.tenant,
            user_id: None,
        }
    }

    /// Reads everything new, batch after batch, publishing each batch as it lands.
    async fn catch_up(&self, db: &Db) -> Result<(), ApiError> {
        loop {
            let head = *self.head.borrow();
            let mut tx = db.begin_tenant(self.ctx()).await?;
            let batch = read_events(&mut tx, head, READ_BATCH).await?;
            drop(tx);
            let Some(last) = batch.last().map(|e| e.seq) else {
                return Ok(());
            };
            let full = batch.len() as i64 == READ_BATCH;
            let mut touched: HashMap<Uuid, i64> = HashMap::new();
            for e in &batch {
                touched.insert(e.conversation_id, e.seq);
            }
            {
                let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
                state.events.extend(batch);
                while state.events.len() > FEED_CAPACITY {
                    if let Some(old) = state.events.pop_front() {
                        state.complete_from = old.seq;
                    }
                }
            }
            self.head.send_replace(last);
            {
                let mut map = self.conversations.lock().unwrap_or_else(|p| p.into_inner());
                map.retain(|_, tx| tx.receiver_count() > 0);
                for (conversation, seq) in touched {
                    if let Some(tx) = map.get(&conversation) {
                        tx.send_replace(seq);
                    }
                }
            }
            if !full {
                return Ok(());
            }
        }
    }
}

/// The feeds of this process and the listener that wakes them.
#[derive(Debug)]
pub struct Hub {
    db: Db,
    feeds: Mutex<HashMap<Uuid, Weak<Feed>>>,
    listener: OnceLock<()>,
}

impl Hub {
    /// A hub on `db`; the listener starts with the first watcher.
    pub fn new(db: Db) -> Arc<Self> {
        Arc::new(Self {
            db,
            feeds: Mutex::new(HashMap::new()),
            listener: OnceLock::new(),
        })
    }

    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    /// The tenant's feed, started at the tenant's current head when new.
    pub(crate) async fn feed(self: &Arc<Self>, tenant: Uuid) -> Result<Arc<Feed>, ApiError> {
        self.start_listener();
        if let Some(feed) = self.existing(tenant) {
            return Ok(feed);
        }
        let mut tx = self
            .db
            .begin_tenant(TenantCtx {
                tenant_id: tenant,
                user_id: None,
            })
            .await?;
        let head = events::head(&mut tx).await?;
        drop(tx);
        let mut feeds = self.feeds.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(feed) = feeds.get(&tenant).and_then(Weak::upgrade) {
            return Ok(feed);
        }
        let feed = Arc::new(Feed {
            tenant,
            state: RwLock::new(FeedState {
                complete_from: head,
                events: VecDeque::new(),
            }),
            head: watch::Sender::new(head),
            conversations: Mutex::new(HashMap::new()),
            wake: Notify::new(),
        });
        feeds.retain(|_, f| f.strong_count() > 0);
        feeds.insert(tenant, Arc::downgrade(&feed));
        tokio::spawn(run_feed(self.db.clone(), feed.clone()));
        // Anything committed between the head read and the listener hearing it is read now.
        feed.wake.notify_one();
        Ok(feed)
    }

    fn existing(&self, tenant: Uuid) -> Option<Arc<Feed>> {
        let feeds = self.feeds.lock().unwrap_or_else(|p| p.into_inner());
        feeds.get(&tenant).and_then(Weak::upgrade)
    }

    fn wake(&self, tenant: Option<Uuid>) {
        let feeds = self.feeds.lock().unwrap_or_else(|p| p.into_inner());
        match tenant {
            Some(t) => {
                if let Some(feed) = feeds.get(&t).and_then(Weak::upgrade) {
                    feed.wake.notify_one();
                }
            }
            None => feeds
                .values()
                .filter_map(Weak::upgrade)
                .for_each(|f| f.wake.notify_one()),
        }
    }

    fn start_listener(self: &Arc<Self>) {
        if self.listener.set(()).is_err() {
            return;
        }
        let hub = Arc::downgrade(self);
        let db = self.db.clone();
        tokio::spawn(async move {
            let mut listener = loop {
                match db.inbox_listener().await {
                    Ok(l) => break l,
                    Err(e) => {
                        tracing::warn!(error = %e, "inbox listener cannot connect yet");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
            };
            // Whatever was committed while connecting is read by the feeds' first pass.
            if let Some(hub) = hub.upgrade() {
                hub.wake(None);
            }
            loop {
                let notice = listener.recv().await;
                let Some(hub) = hub.upgrade() else { return };
                match notice {
                    Notice::Tenant(t) => hub.wake(Some(t)),
                    Notice::Resumed => hub.wake(None),
                }
            }
        });
    }
}

/// A feed's reader: runs until no watcher holds the feed any more (checked at least every
/// [`SAFETY_POLL`]).
async fn run_feed(db: Db, feed: Arc<Feed>) {
    let mut failures = 0u32;
    loop {
        let _ = tokio::time::timeout(SAFETY_POLL, feed.wake.notified()).await;
        if Arc::strong_count(&feed) == 1 {
            return;
        }
        match feed.catch_up(&db).await {
            Ok(()) => failures = 0,
            Err(e) => {
                failures += 1;
                tracing::warn!(error = %e, tenant = %feed.tenant, "inbox feed read failed; retrying");
                tokio::time::sleep(Duration::from_millis(50 * u64::from(failures.min(40)))).await;
                feed.wake.notify_one();
            }
        }
    }
}
