//! The process's fan-out: one LISTEN connection, one feed per tenant with watchers here.
//!
//! A [`Feed`] reads its tenant's new events once per notification — in that tenant's context,
//! so row-level security decides what it can see — loads the rows they point at, and keeps the
//! most recent [`FEED_CAPACITY`] in memory. Every watcher pulls from it with its own position
//! (see [`super::watch`]), so ten thousand watchers of a tenant cost one read per commit, not
//! ten thousand. The feed only ever appends what `events::after(head)` returns, which is a
//! gap-free prefix of the commit order; a notification that was missed (listener down) is
//! made up by the re-read every feed does on [`Notice::Resumed`] and on a slow timer.
//!
//! On a distributed database a feed reads once more [`SECOND_READ`] after each wake-up: there
//! the notification comes from the coordinator (docs/scaling.md), whose commit of a two-phase
//! transaction becomes visible slightly before the workers' `COMMIT PREPARED`, so the first
//! read may not see the events yet. Reads go by position, so the extra one never repeats or
//! skips an event.

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
use crate::types::{Conversation, Member, Message, Ticket};
use crate::ApiError;

/// Events a feed keeps in memory; a watcher further behind reads the database instead.
pub(crate) const FEED_CAPACITY: usize = 4096;
/// Events read per statement.
pub(crate) const READ_BATCH: i64 = 500;
/// How often an idle feed re-reads anyway: the last line of defence against a lost
/// notification that no reconnect reported.
const SAFETY_POLL: Duration = Duration::from_secs(10);
/// How long after a wake-up a feed on a distributed database reads again (see the module's
/// note).
const SECOND_READ: Duration = Duration::from_millis(100);

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    MessageAdded,
    ConversationUpdated,
    TicketUpdated,
    MemberUpdated,
    /// A kind this build does not know (written by a newer one): it still takes its place in
    /// the order, so positions stay dense, but no subscription serves it.
    Other,
}

impl Kind {
    fn from_db(kind: &str) -> Self {
        match kind {
            "message_added" => Kind::MessageAdded,
            "conversation_updated" => Kind::ConversationUpdated,
            "ticket_updated" => Kind::TicketUpdated,
            "member_updated" => Kind::MemberUpdated,
            _ => Kind::Other,
        }
    }
}

/// The one row an event is about: what a watcher of a single conversation or ticket waits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Subject {
    /// A conversation (its messages' events are about it too).
    Conversation(Uuid),
    /// A ticket (its notes' events are about it too).
    Ticket(Uuid),
    /// A member, by user id.
    Member(Uuid),
}

impl Subject {
    fn of(row: &EventRow) -> Option<Self> {
        row.conversation_id
            .map(Subject::Conversation)
            .or(row.ticket_id.map(Subject::Ticket))
            .or(row.member_id.map(Subject::Member))
    }
}

/// One event, with the rows it concerns as they were when the event was read.
#[derive(Debug)]
pub(crate) struct Event {
    pub seq: i64,
    pub kind: Kind,
    pub subject: Option<Subject>,
    pub channel: Option<Channel>,
    pub committed_at: Option<DateTime<Utc>>,
    /// The message added (`None` if it was deleted before the event was read).
    pub message: Option<Arc<Message>>,
    /// The conversation (`None` if deleted, or not a conversation's event).
    pub conversation: Option<Arc<Conversation>>,
    /// The ticket (`None` if deleted, or not a ticket's event).
    pub ticket: Option<Arc<Ticket>>,
    /// The member (`None` if no longer a member, or not a member's event).
    pub member: Option<Arc<Member>>,
}

/// The rows of `T` with these ids (one statement; none for no ids).
async fn load<T: Entity>(
    tx: &mut TenantTx,
    mut ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, Arc<T>>, ApiError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(query::by_ids::<T>(tx, T::table(), &ids)
        .await?
        .into_iter()
        .map(|row| (row.id(), Arc::new(row)))
        .collect())
}

fn find<T>(rows: &HashMap<Uuid, Arc<T>>, id: Option<Uuid>) -> Option<Arc<T>> {
    id.and_then(|id| rows.get(&id).cloned())
}

/// The conversation a `conversation_updated` event is about (`None` for any other kind).
fn conversation_changed(row: &EventRow) -> Option<Uuid> {
    row.conversation_id
        .filter(|_| Kind::from_db(&row.kind) == Kind::ConversationUpdated)
}

/// Reads the events after `pos` and the rows they point at: one statement for the events and
/// one per kind of row they carry, whatever the number of events.
pub(crate) async fn read_events(
    tx: &mut TenantTx,
    pos: i64,
    limit: i64,
) -> Result<Vec<Arc<Event>>, ApiError> {
    let rows: Vec<EventRow> = events::after(tx, pos, limit).await?;
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let ids = |f: fn(&EventRow) -> Option<Uuid>| rows.iter().filter_map(f).collect::<Vec<_>>();
    let messages = load::<Message>(tx, ids(|r| r.message_id)).await?;
    // A message's event carries the message; only a conversation's own event carries the
    // conversation, so a commit that only added messages costs no read of conversations.
    let conversations = load::<Conversation>(tx, ids(conversation_changed)).await?;
    let tickets = load::<Ticket>(tx, ids(|r| r.ticket_id)).await?;
    let members = load::<Member>(tx, ids(|r| r.member_id)).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            Arc::new(Event {
                seq: r.seq,
                kind: Kind::from_db(&r.kind),
                subject: Subject::of(&r),
                channel: r.channel.as_deref().and_then(Channel::from_db),
                committed_at: r.committed_at,
                message: find(&messages, r.message_id),
                conversation: find(&conversations, conversation_changed(&r)),
                ticket: find(&tickets, r.ticket_id),
                member: find(&members, r.member_id),
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
    /// Per-subject positions for watchers of one conversation or ticket: they wake only when
    /// their subject has news, not on every commit of the tenant.
    subjects: Mutex<HashMap<Subject, watch::Sender<i64>>>,
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

    /// The newest position of an event about `subject` the feed has read (or the position the
    /// feed had when the watch began).
    pub(crate) fn subject_head(&self, subject: Subject) -> watch::Receiver<i64> {
        let mut map = self.subjects.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(subject)
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
            let mut tx = db.begin_tenant_reading(self.ctx()).await?;
            let batch = read_events(&mut tx, head, READ_BATCH).await?;
            drop(tx);
            let Some(last) = batch.last().map(|e| e.seq) else {
                return Ok(());
            };
            let full = batch.len() as i64 == READ_BATCH;
            let mut touched: HashMap<Subject, i64> = HashMap::new();
            for e in &batch {
                if let Some(subject) = e.subject {
                    touched.insert(subject, e.seq);
                }
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
                let mut map = self.subjects.lock().unwrap_or_else(|p| p.into_inner());
                map.retain(|_, tx| tx.receiver_count() > 0);
                for (subject, seq) in touched {
                    if let Some(tx) = map.get(&subject) {
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
            .begin_tenant_reading(TenantCtx {
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
            subjects: Mutex::new(HashMap::new()),
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
    let mut second_read = false;
    loop {
        let wait = if second_read {
            SECOND_READ
        } else {
            SAFETY_POLL
        };
        let woken = tokio::time::timeout(wait, feed.wake.notified())
            .await
            .is_ok();
        if Arc::strong_count(&feed) == 1 {
            return;
        }
        // A read that news woke is followed by one more; the timer's read ends the pair.
        second_read = woken && db.is_distributed();
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
