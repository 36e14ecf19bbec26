//! HTTP handlers. Each is a few lines: authenticate, hand over to the schema, shape the reply.

mod graphql;
mod health;

pub(crate) use graphql::{graphiql, graphql_get, graphql_post};
pub(crate) use health::{healthz, readyz};
