//! Every statement the read engine builds names its tenant: each scan of a tenant table in its
//! plan is constrained by `tenant_id` — the scope's tenant as a bound value, or the tenant of
//! the outer row a correlated subquery belongs to — next to what row-level security enforces
//! (docs/scaling.md, "Explicit tenant predicates": what lets Citus route it to one shard).
//!
//! The plans are read as the owner, a superuser here, whom row-level security does not apply
//! to: what constrains a scan there is only what the statement itself says. The same login
//! runs the statements once more and must get exactly the rows the runtime role gets under
//! row-level security, for a tenant seeded next to another: the predicates alone keep the
//! other tenant out.

mod common;

use frontdesk_db::exprs;
use frontdesk_db::query::aggregate::{self, Agg, Bucket, Func, GroupQuery, Kind, Related};
use frontdesk_db::query::json::{self, Document, Field, Linked, List, Object, Part, Root};
use frontdesk_db::query::{
    self, Cond, OrderKey, Page, RawPart, Scope, Select, Statement, Table, Value, Via, ID_KEY,
};
use frontdesk_db::seed::{self, SeedSpec};
use frontdesk_db::sqlx::{self, Execute, PgPool, Row};
use frontdesk_db::testing::TestDb;
use frontdesk_db::{column, TenantCtx};
use serde_json::Value as Json;
use uuid::Uuid;

static CUSTOMERS: Table = Table::new("app.customers", &[column!(id), column!(name)]);
static BOOKINGS: Table = Table::new(
    "app.bookings",
    &[column!(id), column!(customer_id), column!(status)],
);
static CALLS: Table = Table::new("app.calls", &[column!(id), column!(booking_id)]);
static SMS: Table = Table::new("app.sms_messages", &[column!(id), column!(call_id)]);
static TICKETS: Table = Table::new(
    "app.tickets",
    &[
        column!(id),
        column!(sla_due_at = exprs::tickets::SLA_DUE_AT),
    ],
);
static CONVERSATIONS: Table = Table::new(
    "app.conversations",
    &[
        column!(id),
        column!(has_unread = exprs::conversations::HAS_UNREAD),
    ],
);
static MEMBERS: Table = Table::new(
    exprs::members::SOURCE,
    &[
        column!(id),
        column!(name),
        column!(invitation_pending = exprs::members::INVITATION_PENDING),
    ],
);

const SPEC: SeedSpec = SeedSpec {
    tenants: 2,
    customers_per_tenant: 6,
    bookings_per_customer: 2,
    calls_per_booking: 2,
    sms_per_call: 2,
};

fn page(limit: i64) -> Page {
    Page {
        limit,
        ..Page::default()
    }
}

fn all<'a>(table: &'a Table) -> Select<'a> {
    Select {
        columns: table.select_all(),
        sort_values: true,
    }
}

/// Customers with at least one completed booking.
fn with_completed_bookings() -> Cond {
    Cond::Related(Box::new(Related {
        table: "app.bookings",
        via: Via::Column("customer_id"),
        filter: Cond::Cmp(
            "t.status",
            query::CmpOp::Eq,
            Value::Text("completed".into()),
        ),
        aggs: vec![Agg {
            func: Func::Count,
            expr: "",
            kind: Kind::Int,
        }],
        having: Cond::Cmp(aggregate::ALIASES[0], query::CmpOp::Gt, Value::Int(0)),
    }))
}

fn rows(fields: &[(&str, &'static str)]) -> Object {
    Object {
        fields: fields
            .iter()
            .map(|(key, name)| {
                (
                    (*key).to_owned(),
                    Field::Column {
                        name,
                        render: json::Render::Plain,
                    },
                )
            })
            .collect(),
    }
}

fn list(table: &'static Table, via: Option<Via>, mut object: Object, child: Option<List>) -> List {
    if let Some(child) = child {
        object
            .fields
            .push(("children".into(), Field::Many(Box::new(child))));
    }
    List {
        table,
        columns: table.select_all().to_owned(),
        via,
        filter: Cond::True,
        order: vec![ID_KEY],
        limit: 3,
        parts: vec![
            ("totalCount".into(), Part::TotalCount),
            ("nodes".into(), Part::Nodes(object)),
            (
                "pageInfo".into(),
                Part::PageInfo(vec![(
                    "hasNextPage".into(),
                    json::PageInfoPart::HasNextPage,
                )]),
            ),
        ],
    }
}

/// The dashboard walk customer → bookings → calls → SMS, a booking's customer, a ticket's
/// related tickets and one customer by id, as one compiled statement.
fn document(customer: Uuid) -> Document {
    let sms = list(
        &SMS,
        Some(Via::Column("call_id")),
        rows(&[("id", "id")]),
        None,
    );
    let calls = list(
        &CALLS,
        Some(Via::Column("booking_id")),
        rows(&[("id", "id")]),
        Some(sms),
    );
    let mut booking = rows(&[("id", "id"), ("status", "status")]);
    booking.fields.push((
        "customer".into(),
        Field::One(Box::new(Linked {
            table: &CUSTOMERS,
            columns: CUSTOMERS.select_all().to_owned(),
            column: "customer_id",
            object: rows(&[("name", "name")]),
        })),
    ));
    let bookings = list(
        &BOOKINGS,
        Some(Via::Column("customer_id")),
        booking,
        Some(calls),
    );
    let mut customers = list(&CUSTOMERS, None, rows(&[("name", "name")]), Some(bookings));
    customers.filter = with_completed_bookings();
    let related = list(
        &TICKETS,
        Some(Via::Pairs(exprs::tickets::LINKS)),
        rows(&[("due", "sla_due_at")]),
        None,
    );
    let tickets = list(
        &TICKETS,
        None,
        rows(&[("due", "sla_due_at")]),
        Some(related),
    );
    Document {
        roots: vec![
            ("customers".into(), Root::List(customers)),
            ("tickets".into(), Root::List(tickets)),
            (
                "customer".into(),
                Root::ById {
                    table: &CUSTOMERS,
                    columns: CUSTOMERS.select_all().to_owned(),
                    id: customer,
                    object: rows(&[("name", "name")]),
                },
            ),
        ],
    }
}

/// Every statement shape the engine builds, for `tenant`, over `parents` (customers),
/// `tickets` and `customer`.
fn statements(
    tenant: Uuid,
    customers: &[Uuid],
    tickets: &[Uuid],
) -> Vec<(&'static str, Statement)> {
    let by_customer = Scope::Children {
        via: Via::Column("customer_id"),
        parents: customers,
    };
    let linked = Scope::Children {
        via: Via::Pairs(exprs::tickets::LINKS),
        parents: tickets,
    };
    let unread = Cond::Raw(vec![RawPart::Sql(exprs::conversations::HAS_UNREAD)]);
    let count = [Agg {
        func: Func::Count,
        expr: "",
        kind: Kind::Int,
    }];
    let by_month = GroupQuery {
        keys: &[aggregate::Key {
            expr: "t.status",
            boolean: false,
        }],
        bucket: Some(Bucket {
            expr: "t.created_at",
            unit: "month",
            tz: None,
            fill: None,
            span: None,
        }),
        aggs: &count,
        having: Cond::True,
        order: vec![],
        limit: 100,
    };
    let order: &[OrderKey] = &[ID_KEY];
    let fetch = |table: &'static Table, scope: Scope<'_>, filter: &Cond| -> Statement {
        query::fetch_statement(tenant, table, all(table), scope, filter, order, &page(5))
            .expect("no cursor")
    };
    vec![
        (
            "fetch customers",
            fetch(&CUSTOMERS, Scope::All, &with_completed_bookings()),
        ),
        (
            "fetch bookings per customer",
            fetch(&BOOKINGS, by_customer, &Cond::True),
        ),
        ("fetch linked tickets", fetch(&TICKETS, linked, &Cond::True)),
        (
            "fetch conversations with unread messages",
            fetch(
                &CONVERSATIONS,
                Scope::All,
                &Cond::And(vec![unread, exprs::conversations::search("střih")]),
            ),
        ),
        ("fetch members", fetch(&MEMBERS, Scope::All, &Cond::True)),
        (
            "count customers",
            query::count_statement(tenant, &CUSTOMERS, Scope::All, &with_completed_bookings()),
        ),
        (
            "count bookings per customer",
            query::count_statement(tenant, &BOOKINGS, by_customer, &Cond::True),
        ),
        (
            "count linked tickets",
            query::count_statement(tenant, &TICKETS, linked, &Cond::True),
        ),
        (
            "customers by id",
            query::by_ids_statement(tenant, &CUSTOMERS, customers),
        ),
        (
            "aggregate bookings of customers",
            aggregate::aggregate_statement(tenant, &BOOKINGS, by_customer, &Cond::True, &count),
        ),
        (
            "aggregate linked tickets",
            aggregate::aggregate_statement(tenant, &TICKETS, linked, &Cond::True, &count),
        ),
        (
            "group bookings by month in the tenant's zone",
            aggregate::groups_statement(tenant, &BOOKINGS, Scope::All, &Cond::True, &by_month),
        ),
        (
            "compiled read",
            json::render(&document(customers[0]), tenant).expect("renders"),
        ),
    ]
}

/// The text of a statement and its bound values, as a query to run on any connection.
fn runnable(mut statement: Statement) -> (String, sqlx::postgres::PgArguments) {
    let sql = statement.sql().to_owned();
    let args = statement
        .build()
        .take_arguments()
        .expect("arguments encode")
        .expect("arguments present");
    (sql, args)
}

/// The conditions a scan node applies, its bitmap index scans' included.
fn conditions(node: &Json, out: &mut Vec<String>) {
    for key in ["Index Cond", "Recheck Cond", "Filter", "TID Cond"] {
        if let Some(text) = node.get(key).and_then(Json::as_str) {
            out.push(text.to_owned());
        }
    }
    for child in node
        .get("Plans")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        let kind = child.get("Node Type").and_then(Json::as_str).unwrap_or("");
        if kind.starts_with("Bitmap") && kind != "Bitmap Heap Scan" {
            conditions(child, out);
        }
    }
}

/// `(relation, its conditions)` for every scan of a table of schema `app` in `plan`.
fn scans(plan: &Json, out: &mut Vec<(String, Vec<String>)>) {
    if plan.get("Schema").and_then(Json::as_str) == Some("app") {
        let relation = plan["Relation Name"].as_str().unwrap_or("").to_owned();
        let mut conds = Vec::new();
        conditions(plan, &mut conds);
        out.push((relation, conds));
    }
    for child in plan
        .get("Plans")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        scans(child, out);
    }
}

/// Whether `cond` constrains a `tenant_id` column to `tenant` (the bound value, which a
/// custom plan shows as a constant) or to another row's `tenant_id` (a correlated subquery's
/// outer row, or the row a join follows).
fn names_tenant(cond: &str, tenant: Uuid) -> bool {
    let bound = format!("tenant_id = '{tenant}'::uuid");
    cond.contains(&bound)
        || cond.split("tenant_id = ").skip(1).any(|rest| {
            let operand: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
                .collect();
            operand.ends_with(".tenant_id")
        })
}

async fn plan(owner: &PgPool, statement: Statement) -> anyhow::Result<Json> {
    let (sql, args) = runnable(statement);
    let row = sqlx::query_with(&format!("EXPLAIN (VERBOSE, FORMAT JSON) {sql}"), args)
        .persistent(false)
        .fetch_one(owner)
        .await?;
    let plan: Json = row.try_get(0)?;
    Ok(plan[0]["Plan"].clone())
}

/// The rows of a statement, each as JSON text, sorted (the comparison ignores order).
async fn results(
    conn: &mut sqlx::PgConnection,
    statement: Statement,
) -> anyhow::Result<Vec<String>> {
    let (sql, args) = runnable(statement);
    let wrapped = format!("SELECT to_jsonb(r)::text FROM ({sql}) r");
    let mut rows: Vec<String> = sqlx::query_scalar_with(&wrapped, args)
        .persistent(false)
        .fetch_all(conn)
        .await?;
    rows.sort();
    Ok(rows)
}

struct Fixture {
    t: TestDb,
    tenant: Uuid,
    customers: Vec<Uuid>,
    tickets: Vec<Uuid>,
}

async fn fixture() -> anyhow::Result<Fixture> {
    let t = TestDb::new().await?;
    seed::run(&t.db, &SPEC).await?;
    let tenant = SeedSpec::tenant_id(0);
    let mut tx =
        t.db.begin_tenant(TenantCtx {
            tenant_id: tenant,
            user_id: None,
        })
        .await?;
    let customers = sqlx::query_scalar("SELECT id FROM app.customers ORDER BY id")
        .fetch_all(tx.conn())
        .await?;
    let tickets = sqlx::query_scalar("SELECT id FROM app.tickets ORDER BY id")
        .fetch_all(tx.conn())
        .await?;
    tx.rollback().await?;
    let bypasses: bool = sqlx::query_scalar(
        "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user",
    )
    .fetch_one(t.owner())
    .await?;
    anyhow::ensure!(
        bypasses,
        "the owner login must bypass row-level security for its plans to show only the \
         statements' own conditions (FRONTDESK_TEST_DATABASE_URL: a superuser)"
    );
    Ok(Fixture {
        t,
        tenant,
        customers,
        tickets,
    })
}

/// Plans every statement and asserts each scan names the tenant; `stats` says which statistics
/// the plans were made with.
async fn assert_every_scan_names_its_tenant(f: &Fixture, stats: &str) -> anyhow::Result<()> {
    let mut checked = 0;
    for (name, statement) in statements(f.tenant, &f.customers, &f.tickets) {
        let plan = plan(f.t.owner(), statement).await?;
        let mut found = Vec::new();
        scans(&plan, &mut found);
        assert!(
            !found.is_empty(),
            "{name} ({stats}): no table scanned?\n{plan:#}"
        );
        for (relation, conds) in found {
            let ok = match relation.as_str() {
                // Reference tables (docs/scaling.md): identity, reached through memberships.
                "users" => true,
                // Distributed by `id`.
                "tenants" => conds
                    .iter()
                    .any(|c| c.contains(&format!("id = '{}'::uuid", f.tenant))),
                _ => conds.iter().any(|c| names_tenant(c, f.tenant)),
            };
            assert!(
                ok,
                "{name} ({stats}): the scan of app.{relation} is not constrained by its tenant: \
                 {conds:?}\n{plan:#}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} scans checked ({stats})");
    Ok(())
}

#[tokio::test]
async fn every_tenant_table_the_engine_reads_is_constrained_by_tenant_id() -> anyhow::Result<()> {
    let f = fixture().await?;
    anyhow::ensure!(!f.customers.is_empty(), "the seed wrote customers");
    // Plans change with statistics: checked as the seed leaves them (usually none yet), and
    // again after `ANALYZE`, as autovacuum soon leaves them (with them the planner once ran
    // a select list's `EXISTS` as one hashed scan of every tenant's rows).
    assert_every_scan_names_its_tenant(&f, "as seeded").await?;
    sqlx::query("ANALYZE").execute(f.t.owner()).await?;
    assert_every_scan_names_its_tenant(&f, "analyzed").await?;
    f.t.drop_database().await?;
    Ok(())
}

#[tokio::test]
async fn without_row_level_security_the_statements_read_exactly_the_tenants_rows(
) -> anyhow::Result<()> {
    let f = fixture().await?;
    for (name, statement) in statements(f.tenant, &f.customers, &f.tickets) {
        let mut tx =
            f.t.db
                .begin_tenant(TenantCtx {
                    tenant_id: f.tenant,
                    user_id: None,
                })
                .await?;
        let under_rls = results(tx.conn(), statement).await?;
        tx.rollback().await?;
        // The same statement again (rebuilt: a statement's values are taken by running it).
        let again = statements(f.tenant, &f.customers, &f.tickets)
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| s)
            .expect("same shapes");
        // The tenant setting too, for what reads it outside a policy (the members' source).
        let mut owner = f.t.owner().begin().await?;
        sqlx::query("SELECT set_config('frontdesk.tenant_id', $1, true)")
            .bind(f.tenant.to_string())
            .execute(&mut *owner)
            .await?;
        let bare = results(&mut owner, again).await?;
        owner.rollback().await?;
        assert_eq!(
            bare, under_rls,
            "{name}: rows differ without row-level security"
        );
    }
    f.t.drop_database().await?;
    Ok(())
}
