//! End-to-end test support: the real server on a random port against a fresh database.
//!
//! `spawn_app` follows Zero To Production: bind 127.0.0.1:0, build the same router `serve`
//! builds, run it on a background task, and hand the test its address, a client, the token
//! keys and the database (to arrange rows and to check them with direct SQL).

use std::net::SocketAddr;

pub mod body;
pub mod cluster;
pub mod otlp;
pub mod process;
pub mod standby;
pub mod team;
pub mod ws;

pub use frontdesk_db::seed::SeedSpec;
use frontdesk_db::testing::TestDb;
use frontdesk_server::{app, AppState};
use serde_json::Value;
use uuid::Uuid;

pub use frontdesk_graphql::{Principal, Role, TokenKeys};

/// A running server and what a test needs to talk to it.
#[derive(Debug)]
pub struct TestApp {
    /// Where the server listens.
    pub addr: SocketAddr,
    /// The server's token keys (mint tokens as any principal).
    pub keys: TokenKeys,
    /// The database behind the server.
    pub db: TestDb,
    /// An HTTP client.
    pub client: reqwest::Client,
}

/// The secret the test servers sign with.
pub const TEST_SECRET: &str = "test-secret-test-secret-test-secret-0123";

/// Starts a server on a fresh database.
pub async fn spawn_app() -> anyhow::Result<TestApp> {
    spawn_app_on(TestDb::new().await?).await
}

/// Starts a server on the given fresh database (e.g. one that counts statements).
pub async fn spawn_app_on(db: TestDb) -> anyhow::Result<TestApp> {
    spawn_app_with(db, |state| state).await
}

/// Starts a server on `db` with its state adjusted by `configure` (trusted documents, the
/// WebSocket keep-alive interval, …).
pub async fn spawn_app_with(
    db: TestDb,
    configure: impl FnOnce(AppState) -> AppState,
) -> anyhow::Result<TestApp> {
    let keys = TokenKeys::new(
        &TEST_SECRET.to_owned().into(),
        chrono::Duration::minutes(60),
    );
    let router = app(configure(AppState::new(db.db.clone(), keys.clone())));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        // As `serve` does: with each connection's peer address.
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    Ok(TestApp {
        addr,
        keys,
        db,
        client: reqwest::Client::new(),
    })
}

impl TestApp {
    /// Seeds the database deterministically (tenant `i` has id `SeedSpec::tenant_id(i)`).
    pub async fn seed(&self, spec: &SeedSpec) -> anyhow::Result<()> {
        frontdesk_db::seed::run(&self.db.db, spec).await?;
        Ok(())
    }

    /// A token acting as a new member of `tenant` with `role` (the tenant row is created if
    /// it does not exist): the API acts only for real, active memberships.
    pub async fn token(&self, tenant: Uuid, role: Role) -> anyhow::Result<String> {
        frontdesk_db::sqlx::query(
            "INSERT INTO app.tenants (id, name) VALUES ($1, 'Test tenant') ON CONFLICT (id) DO NOTHING",
        )
        .bind(tenant)
        .execute(self.db.owner())
        .await?;
        Ok(self.new_member(tenant, role).await?.1)
    }

    /// A message written the way any backend writer would (a webhook worker, another
    /// service): a plain `INSERT` as the runtime role in `tenant`'s transaction; the triggers
    /// emit its event. Its id.
    pub async fn insert_message(
        &self,
        tenant: Uuid,
        conversation: Uuid,
        content: &str,
    ) -> anyhow::Result<Uuid> {
        let ctx = frontdesk_db::TenantCtx {
            tenant_id: tenant,
            user_id: None,
        };
        let mut tx = self.db.db.begin_tenant(ctx).await?;
        let id = frontdesk_db::sqlx::query_scalar(
            "INSERT INTO app.messages (conversation_id, content, direction, sender)
             VALUES ($1, $2, 'inbound', 'customer') RETURNING id",
        )
        .bind(conversation)
        .bind(content)
        .fetch_one(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The `/metrics` page (Prometheus text).
    pub async fn metrics(&self) -> anyhow::Result<String> {
        Ok(self
            .client
            .get(self.url("/metrics"))
            .send()
            .await?
            .text()
            .await?)
    }

    /// `http://addr{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// POSTs a GraphQL document, with a bearer token when given; returns status and body.
    pub async fn graphql(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> anyhow::Result<(u16, Value)> {
        let mut req = self
            .client
            .post(self.url("/graphql"))
            .json(&serde_json::json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        Ok((status, resp.json().await?))
    }
}

/// The first error's `extensions.code`, if any.
pub fn error_code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}
