//! Compiled reads: a query whose every field maps to a column, a relation or a connection of
//! the entity declarations is answered by **one** SQL statement that builds the response's
//! JSON inside PostgreSQL ([`frontdesk_db::query::json`]); the server forwards the text.
//!
//! # Why
//! Resolving a dashboard's nested read field by field — 1,100 objects, 5,000 values — costs
//! the server more CPU than PostgreSQL spends reading the rows. Building the JSON where the
//! rows are is what the hand-written SQL floor of `frontdesk-bench` does, and what Hasura and
//! pg_graphql do.
//!
//! # What stays exactly as strict
//! - **Validation.** Only an operation that async-graphql has already validated *and*
//!   executed without error through the resolvers is compiled: the first request of each
//!   document (per operation name and page sizes, which fix its complexity) takes the
//!   ordinary path, and its validated complexity is remembered with it. Page sizes from
//!   variables are part of the key, so a larger page is validated afresh.
//! - **Document limits** ([`crate::limits`]) run before either path.
//! - **Tenancy.** The statement runs in a tenant transaction whose scope sets the tenant and
//!   the user, all that the policies read ([`json::read`]; the resolvers' scope adds the
//!   request's metadata for audit entries, which a read never writes), on the server a query's
//!   [`crate::session::Session`] would pick, so row-level security decides what exists,
//!   exactly as for the resolvers; like theirs, each of its levels also names the tenant
//!   explicitly (`t.tenant_id = $n`), so a distributed database routes the whole statement to
//!   the tenant's shard (docs/scaling.md).
//! - **Access.** Each root entity's read rule is checked against the caller's grants, from
//!   the membership the statement read beside its answer, before anything is answered; an
//!   active membership is required, as for the resolvers.
//! - **Round trips.** Two: `BEGIN` with the scope, then the statement; the read-only
//!   transaction is dropped rather than committed, so its `ROLLBACK` rides on the pool's
//!   release check instead of the request's path.
//! - **Rate limits and metrics.** The request and its remembered complexity are charged and
//!   counted as the extension ([`crate::admission`]) does.
//! - **Errors.** The compiled path never produces one: anything it does not render exactly
//!   (a refused argument, a forbidden entity, a missing by-id row, any database error) sends
//!   the request down the ordinary path, which reports it as it always has. The compiled
//!   path has then read nothing it answers with, and charged the request only once.
//! - **Statements.** One, where the resolvers used one per nested level.

mod compile;
mod describe;

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use async_graphql::Request;
use frontdesk_db::query::json;
use frontdesk_db::{Db, Lsn};

pub(crate) use crate::list::aggregate::meta::camel;
pub(crate) use describe::describe;
pub(crate) use describe::{json_fields, json_row, Arguments, DescribedReport, Statement};
pub use describe::{Described, JsonField, JsonOut, JsonRow, Opaque, Probe, Renders};

use crate::observe::Meters;
use crate::ratelimit::Limiter;
use crate::session::grants_of;
use crate::RequestCtx;

/// Most operations remembered as validated; the set starts over when it fills (a deployed
/// client sends a few dozen documents).
const MAX_REMEMBERED: usize = 4096;

/// The compiled-read state of one schema: the limiter it charges and the operations known
/// to validate.
pub(crate) struct Direct {
    limiter: Arc<Limiter>,
    meters: Arc<Meters>,
    /// Off: every read goes through the resolvers.
    enabled: bool,
    validated: Mutex<HashMap<u64, usize>>,
    hasher: std::collections::hash_map::RandomState,
}

/// A request's operation, compiled, under its key.
pub(crate) struct Plan {
    compiled: compile::Compiled,
    key: u64,
}

/// The complexity async-graphql validated for a request on the ordinary path, set by the
/// extension (request data).
#[derive(Clone, Default)]
pub(crate) struct ValidatedCost(pub(crate) Arc<AtomicUsize>);

/// Request data telling the extension that the request was charged already (by a compiled
/// read that then declined).
#[derive(Clone, Copy)]
pub(crate) struct Admitted;

/// What the compiled path made of a request.
pub(crate) enum Outcome {
    /// The whole response body, `{"data":…}`.
    Answered(String),
    /// The ordinary path must answer; `admitted` when the request has been charged.
    Declined { admitted: bool },
}

impl Direct {
    pub(crate) fn new(limiter: Arc<Limiter>, meters: Arc<Meters>, enabled: bool) -> Self {
        Self {
            limiter,
            meters,
            enabled,
            validated: Mutex::default(),
            hasher: Default::default(),
        }
    }

    /// The request's operation compiled, when it can be.
    pub(crate) fn plan(&self, request: &mut Request) -> Option<Plan> {
        if !self.enabled {
            return None;
        }
        // Taken out and put back rather than cloned: the parsed document borrows the request.
        let name = request.operation_name.take();
        let variables = std::mem::take(&mut request.variables);
        let compiled = request
            .parsed_query()
            .ok()
            .and_then(|doc| compile::compile(doc, name.as_deref(), &variables));
        request.variables = variables;
        request.operation_name = name;
        let compiled = compiled?;
        let mut h = self.hasher.build_hasher();
        request.query.hash(&mut h);
        request.operation_name.hash(&mut h);
        compiled.limits.hash(&mut h);
        Some(Plan {
            compiled,
            key: h.finish(),
        })
    }

    /// The validated complexity of `plan`'s operation, when it has validated before.
    pub(crate) fn validated(&self, plan: &Plan) -> Option<usize> {
        self.lock().get(&plan.key).copied()
    }

    /// Remembers that `plan`'s operation validated with `complexity` and ran without error.
    pub(crate) fn remember(&self, plan: &Plan, complexity: usize) {
        let mut known = self.lock();
        if known.len() >= MAX_REMEMBERED {
            known.clear();
        }
        known.insert(plan.key, complexity);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, usize>> {
        self.validated
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Answers `plan` with one statement, or declines (see the module docs).
    pub(crate) async fn answer(
        &self,
        plan: &Plan,
        complexity: usize,
        request: &mut Request,
        db: &Db,
        ctx: &RequestCtx,
        min_lsn: Option<Lsn>,
    ) -> Outcome {
        let Some(p) = ctx.principal else {
            return Outcome::Declined { admitted: false };
        };
        if self.limiter.request(&p).is_err() {
            return Outcome::Declined { admitted: false };
        }
        let declined = Outcome::Declined { admitted: true };
        if self.limiter.complexity(&p, complexity).is_err() {
            return declined;
        }
        let wanted = request.operation_name.clone();
        let operation = request
            .parsed_query()
            .ok()
            .and_then(|doc| self.meters.operation(doc, wanted.as_deref()));
        let started = Instant::now();
        let read = json::read(db, p.tenant_ctx(), &ctx.meta(), min_lsn, &plan.compiled.doc).await;
        let Ok(Some(read)) = read else {
            return declined;
        };
        // The statement read the membership beside the answer: an answer for a caller who
        // may not see it is dropped here, unsent, and the ordinary path says why.
        let allowed = grants_of(read.membership.as_ref()).is_ok_and(|grants| {
            plan.compiled
                .rules
                .iter()
                .all(|(_, rule)| grants.allows(*rule))
        });
        if !allowed || read.answer.missing {
            return declined;
        }
        let answer = read.answer;
        if let Some(op) = operation {
            op.validated(complexity);
            op.executed(started.elapsed());
            op.compiled();
        }
        let mut body = String::with_capacity(answer.data.len() + 10);
        body.push_str("{\"data\":");
        body.push_str(&answer.data);
        body.push('}');
        Outcome::Answered(body)
    }
}

impl ValidatedCost {
    pub(crate) fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}
