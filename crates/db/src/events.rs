//! Live events: the commit-ordered log (migrations 0008 and 0016) and the process's one LISTEN
//! connection.
//!
//! Writers never touch the log: triggers append to `app.inbox_events` and the commit numbers
//! the rows (`seq`, commit order within a tenant) and sends `NOTIFY frontdesk_inbox, '<tenant>'`.
//! The log holds every kind of event (conversations and their messages, tickets, members) in
//! one position space per tenant, so a reader sees all kinds and each subscription keeps the
//! kinds it serves.
//! This module gives the subscription layer the two things it needs: reading the log after a
//! position, in a tenant's scope (so row-level security decides what is visible), and a
//! [`Listener`] that says which tenant has news — or that news may have been missed, because
//! the connection dropped, so every watcher must re-read.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgListener, PgPoolOptions};
use uuid::Uuid;

use crate::{Db, DbError, TenantTx};

/// The NOTIFY channel the commit trigger signals on.
pub const CHANNEL: &str = "frontdesk_inbox";

/// One event of the log.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventRow {
    /// Position in the tenant's commit order.
    pub seq: i64,
    /// `message_added`, `conversation_updated`, `ticket_updated` or `member_updated`.
    pub kind: String,
    /// The conversation concerned, for `message_added` and `conversation_updated`.
    pub conversation_id: Option<Uuid>,
    /// The message added, for `message_added`.
    pub message_id: Option<Uuid>,
    /// The conversation's channel (database spelling), when the event names a conversation.
    pub channel: Option<String>,
    /// The ticket concerned, for `ticket_updated`.
    pub ticket_id: Option<Uuid>,
    /// The member concerned (their user id), for `member_updated`.
    pub member_id: Option<Uuid>,
    /// When the writing transaction committed.
    pub committed_at: Option<DateTime<Utc>>,
}

/// Up to `limit` events after position `after`, in commit order. Because numbers are taken at
/// commit under the tenant's counter lock, what this returns is always a gap-free prefix of
/// everything after `after`: a later call with the last `seq` seen continues exactly there.
#[tracing::instrument(skip(tx))]
pub async fn after(tx: &mut TenantTx, after: i64, limit: i64) -> Result<Vec<EventRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT seq, kind, conversation_id, message_id, channel, ticket_id, member_id,
                committed_at
           FROM app.inbox_events
          WHERE tenant_id = app.current_tenant_id() AND seq > $1
          ORDER BY seq
          LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

/// The tenant's newest event position (0 when it has none): where a live-only watcher starts.
#[tracing::instrument(skip(tx))]
pub async fn head(tx: &mut TenantTx) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT coalesce(max(seq), 0)::bigint FROM app.inbox_events
          WHERE tenant_id = app.current_tenant_id()",
    )
    .fetch_one(tx.conn())
    .await?)
}

/// The highest position the retention purge (migration 0009) has deleted up to: a cursor
/// before it can no longer be resumed from.
#[tracing::instrument(skip(tx))]
pub async fn purged_through(tx: &mut TenantTx) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT coalesce((SELECT purged_through FROM app.event_counters
                           WHERE tenant_id = app.current_tenant_id()), 0)::bigint",
    )
    .fetch_one(tx.conn())
    .await?)
}

/// What the listener heard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// This tenant committed events.
    Tenant(Uuid),
    /// The connection was lost and is listening again: notifications sent in between are gone,
    /// so every watcher must re-read the log.
    Resumed,
}

/// The process's LISTEN connection, on its own one-connection pool so it never competes with
/// request traffic. It logs in as the runtime role; LISTEN needs no privilege and the payload
/// is only a tenant id.
#[derive(Debug)]
pub struct Listener {
    db: Db,
    inner: Option<PgListener>,
}

impl Db {
    /// Opens the inbox listener.
    pub async fn inbox_listener(&self) -> Result<Listener, DbError> {
        let mut listener = Listener {
            db: self.clone(),
            inner: None,
        };
        listener.inner = Some(listener.connect().await?);
        Ok(listener)
    }
}

impl Listener {
    async fn connect(&self) -> Result<PgListener, DbError> {
        let options = (*self.db.pool.connect_options()).clone();
        // A short acquire timeout: while the database is down each attempt ends soon and the
        // retry loop of `recv` (at most a second apart) notices its return quickly.
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(2))
            .connect_lazy_with(options);
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.listen(CHANNEL).await?;
        Ok(listener)
    }

    /// The next notice. Never fails: a broken connection is replaced (retrying with backoff)
    /// and reported as [`Notice::Resumed`] once the new one is listening, so a caller that
    /// re-reads on `Resumed` cannot miss an event committed while it was down.
    pub async fn recv(&mut self) -> Notice {
        loop {
            if let Some(listener) = self.inner.as_mut() {
                match listener.try_recv().await {
                    Ok(Some(n)) => match n.payload().parse() {
                        Ok(tenant) => return Notice::Tenant(tenant),
                        Err(_) => {
                            tracing::warn!(payload = n.payload(), "unexpected inbox notification");
                            continue;
                        }
                    },
                    // sqlx reconnected (and listens again) by itself.
                    Ok(None) => {
                        tracing::warn!("inbox listener reconnected");
                        return Notice::Resumed;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "inbox listener connection failed");
                        self.inner = None;
                    }
                }
            }
            let mut backoff = Duration::from_millis(50);
            loop {
                match self.connect().await {
                    Ok(listener) => {
                        self.inner = Some(listener);
                        tracing::info!("inbox listener listening again");
                        return Notice::Resumed;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "inbox listener cannot reconnect yet");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(1));
                    }
                }
            }
        }
    }
}
