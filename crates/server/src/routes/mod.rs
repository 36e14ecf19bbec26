//! HTTP handlers. Each is a few lines: authenticate, hand over to the schema, shape the reply.

mod graphql;
mod health;
mod metrics;
mod outage;
mod ws;

pub(crate) use graphql::{graphiql, graphql_get, graphql_post};
pub(crate) use health::{healthz, readyz};
pub(crate) use metrics::{handle as metrics_handle, metrics, track as track_metrics};
