//! HTTP handlers. Each is a few lines: authenticate, hand over to the schema, shape the reply.

mod graphiql;
mod graphql;
mod health;
mod metrics;
mod outage;
mod params;
mod reply;
mod ws;

pub(crate) use graphiql::{asset as graphiql_asset, graphiql};
pub(crate) use graphql::{graphql_get, graphql_post};
pub(crate) use health::{healthz, readyz};
pub(crate) use metrics::{handle as metrics_handle, metrics, track as track_metrics};
pub(crate) use params::Params;
