//! Read replicas against a real streaming standby: a primary of the test's own and a standby
//! made from it with `pg_basebackup -R` on another port ([`Standby`]). Queries are served by
//! the standby; a caller reads its own writes at once; a standby that is late beyond the lag
//! bound, paused, or stopped hands reads to the primary without a single error.

use std::time::{Duration, Instant};

use frontdesk_db::testing::{test_keyring, TestDb};
use frontdesk_db::{Db, ReadRouting};
use frontdesk_e2e::cluster::OwnCluster;
use frontdesk_e2e::standby::Standby;
use frontdesk_e2e::{spawn_app_with, Role, SeedSpec, TestApp, TokenKeys};
use frontdesk_server::{app, AppState};
use serde_json::{json, Value};
use uuid::Uuid;

const CUSTOMERS: &str = "{ customers(first: 100) { totalCount nodes { id: rowId name } } }";
const NESTED: &str = "{ customers(first: 10) { totalCount nodes { id: rowId
  bookings(first: 5) { nodes { id: rowId calls(first: 5) { nodes { id: rowId
    smsMessages(first: 5) { nodes { id: rowId } } } } } } } } }";
const CREATE: &str =
    "mutation($name: String!, $phone: String!) { createCustomer(input: { name: $name, phone: $phone }) { id: rowId } }";

/// A primary, its standby, and a migrated database on them.
struct Pair {
    db: TestDb,
    standby: Standby,
    // Dropped last: its directory holds the standby's.
    _primary: OwnCluster,
}

async fn pair(label: &str) -> anyhow::Result<Pair> {
    let primary = OwnCluster::start(label).await?;
    let standby = Standby::of(&primary).await?;
    let db = TestDb::on_server(primary.url(), primary.pg().app_role_password()).await?;
    Ok(Pair {
        db,
        standby,
        _primary: primary,
    })
}

/// A runtime handle on the pair's database that reads from the standby within `max_lag`.
async fn replicated(pair: &Pair, max_lag: Duration) -> anyhow::Result<Db> {
    let mut config = pair.db.config.clone();
    config.read_urls = vec![pair.standby.read_url(&pair.db.name)];
    config.read_max_lag = max_lag;
    let mut db = Db::connect(&config).await?;
    db.set_keyring(test_keyring());
    Ok(db)
}

/// A server over the pair's database, and the pair (fields drop in order: the server, then
/// the standby, then the primary whose directory holds both clusters).
struct Running {
    app: TestApp,
    standby: Standby,
    _primary: OwnCluster,
}

/// The server on `db` (with replicas) over the pair's fresh database.
async fn serve(pair: Pair, db: &Db) -> anyhow::Result<Running> {
    let served = db.clone();
    let app = spawn_app_with(pair.db, move |state| {
        AppState::new(served, state.keys.clone())
    })
    .await?;
    Ok(Running {
        app,
        standby: pair.standby,
        _primary: pair._primary,
    })
}

/// Another server process's worth of state (its own remembered writes) on `db`: its URL.
async fn another_server(db: Db, keys: TokenKeys) -> anyhow::Result<String> {
    let router = app(AppState::new(db, keys));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await;
    });
    Ok(format!("http://{addr}/graphql"))
}

/// POSTs `body` to `url` as `token`: the status, the `X-Frontdesk-Min-Lsn` header and the body.
async fn post(
    app: &TestApp,
    url: &str,
    token: &str,
    body: Value,
) -> anyhow::Result<(u16, Option<String>, Value)> {
    let resp = app
        .client
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await?;
    let status = resp.status().as_u16();
    let lsn = resp
        .headers()
        .get("x-frontdesk-min-lsn")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Ok((status, lsn, resp.json().await?))
}

/// The customer ids a query by `token` on `url` returns (no errors allowed).
async fn customer_ids(
    app: &TestApp,
    url: &str,
    token: &str,
    min_lsn: Option<&str>,
) -> anyhow::Result<Vec<String>> {
    let mut body = json!({ "query": CUSTOMERS });
    if let Some(lsn) = min_lsn {
        body["extensions"] = json!({ "minLsn": lsn });
    }
    let (status, _, body) = post(app, url, token, body).await?;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    Ok(body["data"]["customers"]["nodes"]
        .as_array()
        .map(|nodes| {
            nodes
                .iter()
                .filter_map(|n| n["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

/// Creates a customer as `token` on `url`: its id and the commit position the server returned.
async fn create(
    app: &TestApp,
    url: &str,
    token: &str,
    name: &str,
) -> anyhow::Result<(String, String)> {
    let phone = format!("+1415555{:04}", Uuid::new_v4().as_u128() % 10_000);
    let body = json!({ "query": CREATE, "variables": { "name": name, "phone": phone } });
    let (status, header, body) = post(app, url, token, body).await?;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    let id = body["data"]["createCustomer"]["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no id: {body}"))?;
    let lsn = body["extensions"]["minLsn"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no extensions.minLsn: {body}"))?;
    assert_eq!(
        header.as_deref(),
        Some(lsn.as_str()),
        "header and extension agree"
    );
    Ok((id, lsn))
}

fn routing(db: &Db) -> ReadRouting {
    db.read_routing().unwrap_or_default()
}

/// Waits until `db` serves a read of `token` from the standby (the samplers have seen it).
async fn until_on_standby(app: &TestApp, url: &str, db: &Db, token: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let before = routing(db).standby;
        customer_ids(app, url, token, None).await?;
        if routing(db).standby > before {
            return Ok(());
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(30),
            "the standby never served a read: {:?}",
            routing(db)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn queries_are_served_by_the_standby_and_a_writer_reads_each_write_at_once(
) -> anyhow::Result<()> {
    let pair = pair("replica-reads").await?;
    let db = replicated(&pair, Duration::from_secs(30)).await?;
    let db_name = pair.db.name.clone();
    let running = serve(pair, &db).await?;
    let (app, standby) = (&running.app, &running.standby);
    app.seed(&SeedSpec {
        tenants: 1,
        customers_per_tenant: 3,
        bookings_per_customer: 2,
        calls_per_booking: 1,
        sms_per_call: 1,
    })
    .await?;
    let url = app.url("/graphql");
    let reader = app.token(SeedSpec::tenant_id(0), Role::Agent).await?;
    until_on_standby(app, &url, &db, &reader).await?;

    // The nested query, on the standby: its data, and connections of the API's reads there.
    let before = routing(&db);
    let body = app.gql(&reader, NESTED, json!({})).await?;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["customers"]["totalCount"], 3, "{body}");
    assert!(routing(&db).standby > before.standby, "{:?}", routing(&db));
    let mut on_standby = standby.superuser(&db_name).await?;
    let (reads, in_recovery): (i64, bool) = frontdesk_db::sqlx::query_as(
        "SELECT count(*), pg_is_in_recovery() FROM pg_stat_activity
          WHERE application_name = 'frontdesk-read' AND datname = current_database()",
    )
    .fetch_one(&mut on_standby)
    .await?;
    assert!(in_recovery, "the standby is a standby");
    assert!(reads > 0, "no read connection on the standby");

    // Write, then read at once, twenty times: every read sees the write before it.
    let writer = app.token(SeedSpec::tenant_id(0), Role::Agent).await?;
    for i in 0..20 {
        let (id, _) = create(app, &url, &writer, &format!("Fresh {i}")).await?;
        let seen = customer_ids(app, &url, &writer, None).await?;
        assert!(seen.contains(&id), "write {i} not read back: {seen:?}");
    }
    let after = routing(&db);
    println!("replica reads: {before:?} before the writes, {after:?} after");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_replay_paused_readers_see_the_standby_writers_see_their_writes_and_a_late_standby_is_left(
) -> anyhow::Result<()> {
    let pair = pair("replica-paused").await?;
    let tolerant = replicated(&pair, Duration::from_secs(60)).await?;
    let other_process = replicated(&pair, Duration::from_secs(60)).await?;
    let strict = replicated(&pair, Duration::from_millis(400)).await?;
    let running = serve(pair, &tolerant).await?;
    let (app, standby) = (&running.app, &running.standby);
    let url = app.url("/graphql");
    let other_url = another_server(other_process.clone(), app.keys.clone()).await?;
    let strict_url = another_server(strict.clone(), app.keys.clone()).await?;
    let tenant = Uuid::new_v4();
    let reader = app.token(tenant, Role::Agent).await?;
    let writer = app.token(tenant, Role::Agent).await?;
    let bystander = app.token(tenant, Role::Agent).await?;
    for (u, db) in [
        (&url, &tolerant),
        (&other_url, &other_process),
        (&strict_url, &strict),
    ] {
        until_on_standby(app, u, db, &reader).await?;
    }

    standby.pause_replay().await?;
    // A write by someone else: the standby will not show it while paused.
    let (marker, _) = create(app, &url, &bystander, "Written while paused").await?;
    let seen = customer_ids(app, &url, &reader, None).await?;
    assert!(
        !seen.contains(&marker),
        "the reader was served by the primary, not the paused standby"
    );

    // The writer reads its own write at once (the standby has not replayed it: the primary).
    let (mine, lsn) = create(app, &url, &writer, "Mine").await?;
    let seen = customer_ids(app, &url, &writer, None).await?;
    assert!(
        seen.contains(&mine),
        "the writer missed its write: {seen:?}"
    );

    // Another server process knows nothing of the write, unless the client says so.
    let seen = customer_ids(app, &other_url, &writer, None).await?;
    assert!(
        !seen.contains(&mine),
        "the other process read from the primary"
    );
    let seen = customer_ids(app, &other_url, &writer, Some(&lsn)).await?;
    assert!(seen.contains(&mine), "extensions.minLsn was not honoured");

    // A position that is not one is refused, naming the field.
    let body = json!({ "query": CUSTOMERS, "extensions": { "minLsn": "yesterday" } });
    let (_, _, refused) = post(app, &url, &reader, body).await?;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{refused}"
    );
    assert_eq!(
        refused["errors"][0]["extensions"]["field"], "extensions.minLsn",
        "{refused}"
    );

    // With a 400 ms bound the paused standby is left behind: reads go to the primary.
    let started = Instant::now();
    loop {
        let seen = customer_ids(app, &strict_url, &reader, None).await?;
        if seen.contains(&marker) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "a standby late beyond the bound still served reads: {:?}",
            routing(&strict)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "a paused standby left after {:?} (bound 400 ms)",
        started.elapsed()
    );

    // Replay resumed: the tolerant server's standby catches up and shows the write.
    standby.resume_replay().await?;
    let started = Instant::now();
    while !customer_ids(app, &url, &reader, None)
        .await?
        .contains(&marker)
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "never caught up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let before = routing(&tolerant).standby;
    customer_ids(app, &url, &reader, None).await?;
    assert!(
        routing(&tolerant).standby > before,
        "{:?}",
        routing(&tolerant)
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_the_standby_stopped_every_read_still_succeeds_on_the_primary() -> anyhow::Result<()> {
    let pair = pair("replica-down").await?;
    let db = replicated(&pair, Duration::from_secs(30)).await?;
    let running = serve(pair, &db).await?;
    let (app, standby) = (&running.app, &running.standby);
    let url = app.url("/graphql");
    let tenant = Uuid::new_v4();
    let reader = app.token(tenant, Role::Agent).await?;
    let writer = app.token(tenant, Role::Agent).await?;
    until_on_standby(app, &url, &db, &reader).await?;

    standby.stop().await?;
    let down = routing(&db);
    let mut slowest = Duration::ZERO;
    for i in 0..30 {
        let started = Instant::now();
        // customer_ids fails the test on any error.
        customer_ids(app, &url, &reader, None).await?;
        if i % 10 == 0 {
            let (id, _) = create(app, &url, &writer, &format!("While down {i}")).await?;
            assert!(customer_ids(app, &url, &writer, None).await?.contains(&id));
        }
        slowest = slowest.max(started.elapsed());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let after = routing(&db);
    assert!(after.primary >= down.primary + 30, "{down:?} -> {after:?}");
    assert!(
        slowest < Duration::from_secs(2),
        "a read took {slowest:?} with the standby down"
    );
    println!("standby down: slowest read {slowest:?}; {down:?} -> {after:?}");

    // Back up: reads return to it by themselves.
    standby.start().await?;
    until_on_standby(app, &url, &db, &reader).await?;
    Ok(())
}
