//! PostgreSQL access for Frontdesk.
//!
//! This crate owns everything that touches the database: the connection pools, the embedded
//! migrations, the runtime role, and — most importantly — the *only* ways to run SQL against
//! tenant tables. The runtime pool is private; callers get a [`TenantTx`] (or a [`LoginTx`] /
//! [`UserTx`] for the few identity look-ups that happen before a tenant is known), or have one
//! read's statement run in such a scope ([`Db::read_fused`], the compiled reads). Each scope
//! is a transaction whose first statement sets the transaction-local context that the
//! row-level-security policies read, so a query that forgets its tenant cannot be written.

pub mod agency;
pub mod audit;
pub mod crypto;
pub mod dashboards;
pub mod embedded;
mod error;
pub mod events;
pub mod exprs;
pub mod graph;
pub mod health;
pub mod identity;
pub mod inbox;
pub mod invitations;
pub mod leases;
pub mod maintenance;
mod migrate;
mod pool;
pub mod privacy;
pub mod query;
pub mod replica;
mod scope;
pub mod seed;
pub mod testing;
mod warm;

pub use error::DbError;
pub use migrate::{migrate, MIGRATOR, RUNTIME_ROLE};
pub use pool::{Db, DbConfig, Readiness};
pub use replica::{Lsn, ReadRouting};
pub use scope::{InvitationTx, LoginTx, Membership, RequestMeta, TenantCtx, TenantTx, UserTx};
pub use sqlx;
