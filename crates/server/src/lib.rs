//! The Frontdesk server: thin glue between HTTP and the GraphQL schema.
//!
//! It owns what is about processes and sockets — configuration, the command line, the
//! embedded development database, routes, request ids, limits and graceful shutdown — and
//! nothing about the API's shape (that is `frontdesk-graphql`) or SQL (that is `frontdesk-db`).

// The schema's root is a tree of merged objects; a release build computes the layout of its
// resolver futures through every level, past the default limit of 128.
#![recursion_limit = "256"]

mod app;
pub mod cli;
pub mod config;
mod database;
pub mod maintenance;
pub mod persisted;
mod routes;
mod serve;
pub mod telemetry;

pub use app::{app, AppState, DEFAULT_WS_KEEPALIVE};
pub use database::{open_database, DatabaseHandle};
