# Conveniences; each recipe runs exactly what CI or the README runs.

# What CI runs: format check, lints, the whole test suite.
ci:
    bash .ci/run

# The whole test suite against a real PostgreSQL (embedded unless FRONTDESK_TEST_DATABASE_URL is set).
test *ARGS:
    ./scripts/test {{ARGS}}

fmt:
    cargo fmt --all

lint:
    cargo clippy --workspace --all-targets -- -D warnings

# Run the service on the embedded default (or DATABASE_URL when set).
dev:
    cargo run -p frontdesk-server --bin frontdesk -- serve

migrate:
    cargo run -p frontdesk-server --bin frontdesk -- migrate

# Deterministic demo/benchmark data, e.g. `just seed --tenants 4 --customers 10000`.
seed *ARGS:
    cargo run --release -p frontdesk-server --bin frontdesk -- seed {{ARGS}}

# Regenerate the committed SDL.
schema:
    cargo run -q -p frontdesk-server --bin frontdesk -- schema > schema.graphql

# The API under load, release build: GraphQL NESTED and SINGLE against the raw-SQL floor
# (requests/s, p50/p99, errors, SQL statements per request, server peak RSS, the ratio).
# Flags: --customers N --duration-secs S --concurrency C --keep (see `frontdesk-bench --help`).
bench *ARGS:
    cargo build --release -p frontdesk-server --bin frontdesk
    cargo run --release -p frontdesk-bench -- {{ARGS}}

# The live inbox under load, release build: one server, N WebSocket subscribers over tenants and
# conversations, a writer at M messages/s; commit-to-delivery p50/p99/max, delivered/missing/
# duplicate/out-of-order, writer rate, server RSS (per idle subscriber) and CPU, PASS/FAIL against
# the targets (50,000 subscribers at 500 msg/s: p99 < 100 ms, nothing lost, ≤ 10 KiB per idle
# subscriber).
# Flags: --subscribers N --per-socket K --rate M --duration-secs S --tenants T (see `frontdesk-bench inbox --help`).
bench-inbox *ARGS:
    cargo build --release -p frontdesk-server --bin frontdesk
    cargo run --release -p frontdesk-bench -- inbox {{ARGS}}

# The seed's bulk-insert rate (prints rows and rows/s).
bench-seed:
    cargo run --release -p frontdesk-server --bin frontdesk -- seed --tenants 4 --customers 10000

# The dashboards under load, release build: a tenant of 10,000 customers and their graph, the
# `analytics` dashboard by DAY over 90 days (and the `groups` legs when the API has them) at
# concurrency 8 against the hand-written SQL for the same answer; EXPLAIN ANALYZE of the
# statement, p50/p99, requests/s, PASS/FAIL (p99 < 100 ms, ≥ 0.8 of the SQL's throughput).
# Flags: --customers N --duration-secs S --concurrency C --keep (see `frontdesk-bench analytics --help`).
bench-analytics *ARGS:
    cargo build --release -p frontdesk-server --bin frontdesk
    cargo run --release -p frontdesk-bench -- analytics {{ARGS}}

# Many replicas, release build: the `graph` data, then 1, 2 and 4 `frontdesk` processes on one
# database, clients round-robin over them; NESTED reads and inbox writes (`recordInboundMessage`)
# as fast as they go: requests/s, p50/p99, errors, and the CPU of the servers vs PostgreSQL vs the
# rest of the machine, so the output says what limits each leg.
# Flags: --processes 1,2,4 --customers N --duration-secs S --concurrency C --keep (see `frontdesk-bench scale --help`).
bench-scale *ARGS:
    cargo build --release -p frontdesk-server --bin frontdesk
    cargo run --release -p frontdesk-bench -- scale {{ARGS}}
