//! Integrations over HTTP: `connectIntegration`/`updateIntegration`/`disconnectIntegration`,
//! the `integration`/`integrations` reads and `platformDemoData`. Tokens are stored sealed
//! (checked with direct SQL: the plaintext is nowhere in the row, and the stored bytes open
//! with the test key for exactly that row), never returned by any response or error; other
//! tenants' rows are invisible; roles and bad input are refused without writing anything.

use frontdesk_db::crypto::sealed::{INTEGRATION_ACCESS_TOKEN, INTEGRATION_REFRESH_TOKEN};
use frontdesk_db::crypto::{key_id_of, CryptoError};
use frontdesk_db::sqlx::{self, Row};
use frontdesk_db::testing::test_keyring;
use frontdesk_e2e::body::{data, id_of, refusal};
use frontdesk_e2e::{spawn_app, Role, SeedSpec, TestApp};
use serde_json::{json, Value};
use uuid::Uuid;

// ------------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------------

/// Every readable field of an integration.
const FIELDS: &str = "id rowId platform connected accountId propertyId hasAccessToken
  hasRefreshToken expiresAt lastSyncAt status campaigns createdAt updatedAt
  metrics { sessions users pageviews bounceRate avgSessionDuration }
  dimensions { topSources { source sessions } devices { device percentage } topPages { page views } }";

fn connect_doc() -> String {
    format!("mutation($input: ConnectIntegrationInput!) {{ connectIntegration(input: $input) {{ {FIELDS} }} }}")
}

fn update_doc() -> String {
    format!(
        "mutation($platform: IntegrationPlatform!, $input: UpdateIntegrationInput!) {{
           updateIntegration(platform: $platform, input: $input) {{ {FIELDS} }} }}"
    )
}

fn disconnect_doc() -> String {
    format!(
        "mutation($platform: IntegrationPlatform!) {{
           disconnectIntegration(platform: $platform) {{ {FIELDS} }} }}"
    )
}

const DEMO: &str = "query($platform: IntegrationPlatform!) {
  platformDemoData(platform: $platform) { platform data createdAt } }";

/// A token nobody could guess, so finding it anywhere proves a leak.
fn secret(kind: &str) -> String {
    format!("ya29.{kind}-{}", Uuid::new_v4().simple())
}

/// Asserts that no part of `body` (data or errors) contains any of `secrets`.
fn assert_no_secret(body: &Value, secrets: &[&str]) {
    let text = body.to_string();
    for s in secrets {
        assert!(!text.contains(s), "a token leaked into a response: {text}");
    }
}

/// Connects `platform` as `token`; returns the body.
async fn connect(app: &TestApp, token: &str, input: Value) -> anyhow::Result<Value> {
    app.gql(token, &connect_doc(), json!({ "input": input }))
        .await
}

/// The stored row of integration `id`, as the owner sees it: each token column's bytes, and
/// the whole row as text.
struct Stored {
    tenant: Uuid,
    access: Option<Vec<u8>>,
    refresh: Option<Vec<u8>>,
    row_text: String,
}

async fn stored(app: &TestApp, id: Uuid) -> anyhow::Result<Stored> {
    let row = sqlx::query(
        "SELECT tenant_id, access_token_ciphertext, refresh_token_ciphertext, i::text AS row_text
           FROM app.integrations i WHERE id = $1",
    )
    .bind(id)
    .fetch_one(app.db.owner())
    .await?;
    Ok(Stored {
        tenant: row.get("tenant_id"),
        access: row.get("access_token_ciphertext"),
        refresh: row.get("refresh_token_ciphertext"),
        row_text: row.get("row_text"),
    })
}

/// Whether the stored row holds `plain` anywhere: in its text form or in a token column's
/// bytes.
async fn row_holds(app: &TestApp, id: Uuid, plain: &str) -> anyhow::Result<bool> {
    let in_bytes: bool = sqlx::query_scalar(
        "SELECT coalesce(position(convert_to($2, 'UTF8') IN access_token_ciphertext), 0) > 0
             OR coalesce(position(convert_to($2, 'UTF8') IN refresh_token_ciphertext), 0) > 0
           FROM app.integrations WHERE id = $1",
    )
    .bind(id)
    .bind(plain)
    .fetch_one(app.db.owner())
    .await?;
    Ok(in_bytes || stored(app, id).await?.row_text.contains(plain))
}

/// Opens a stored token with the test key, for the row it was sealed for.
fn open(
    column: frontdesk_db::crypto::SealedColumn,
    tenant: Uuid,
    id: Uuid,
    sealed: &[u8],
) -> Result<String, CryptoError> {
    let plain = test_keyring().open(&column.aad(tenant, id), sealed)?;
    Ok(String::from_utf8(plain.to_vec()).expect("utf-8"))
}

async fn tenant_with(app: &TestApp, role: Role) -> anyhow::Result<(Uuid, String)> {
    let tenant = app.new_tenant("Integration test agency").await?;
    let token = app.new_member(tenant, role).await?.1;
    Ok((tenant, token))
}

// ------------------------------------------------------------------------------------------------
// Connect, read, update, disconnect
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_connected_platform_stores_its_tokens_sealed_for_its_row_and_never_returns_them(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (tenant, admin) = tenant_with(&app, Role::Admin).await?;
    let (access, refresh) = (secret("access"), secret("refresh"));
    let body = connect(
        &app,
        &admin,
        json!({ "platform": "GOOGLE_ANALYTICS", "accountId": " 123456789 ",
                "propertyId": "properties/300000001", "accessToken": access,
                "refreshToken": refresh, "expiresAt": "2026-05-01T10:00:00Z" }),
    )
    .await?;
    assert_no_secret(&body, &[&access, &refresh]);
    let created = data(&body, "connectIntegration");
    assert_eq!(created["platform"], "GOOGLE_ANALYTICS");
    assert_eq!(created["connected"], true);
    assert_eq!(created["status"], "ACTIVE");
    assert_eq!(created["accountId"], "123456789");
    assert_eq!(created["propertyId"], "properties/300000001");
    assert_eq!(created["hasAccessToken"], true);
    assert_eq!(created["hasRefreshToken"], true);
    assert_eq!(created["expiresAt"], "2026-05-01T10:00:00+00:00");
    assert_eq!(created["campaigns"], json!([]));
    assert!(created["metrics"]["sessions"].is_null());
    let id = id_of(created);

    // Stored sealed: the plaintext is nowhere in the row, the bytes name the test key and open
    // to the token for this row's column only.
    let row = stored(&app, id).await?;
    assert_eq!(row.tenant, tenant);
    for plain in [&access, &refresh] {
        assert!(
            !row_holds(&app, id, plain).await?,
            "a token is stored in clear"
        );
    }
    let (a, r) = (row.access.expect("access"), row.refresh.expect("refresh"));
    assert_eq!(key_id_of(&a), Some(test_keyring().current_id()));
    assert_eq!(open(INTEGRATION_ACCESS_TOKEN, tenant, id, &a)?, access);
    assert_eq!(open(INTEGRATION_REFRESH_TOKEN, tenant, id, &r)?, refresh);
    assert_eq!(
        open(INTEGRATION_REFRESH_TOKEN, tenant, id, &a),
        Err(CryptoError::Forged),
        "the access token opens only as the access token"
    );

    // Reads return the same object and nothing secret.
    let viewer = app.new_member(tenant, Role::Viewer).await?.1;
    for (token, doc, vars) in [
        (
            &admin,
            format!("query($id: ID!) {{ integration(id: $id) {{ {FIELDS} }} }}"),
            json!({ "id": created["id"] }),
        ),
        (
            &viewer,
            format!("{{ integrations(first: 10) {{ totalCount nodes {{ {FIELDS} }} }} }}"),
            json!({}),
        ),
    ] {
        let body = app.gql(token, &doc, vars).await?;
        assert_no_secret(&body, &[&access, &refresh]);
        let got = body["data"]["integration"].clone();
        let got = if got.is_null() {
            body["data"]["integrations"]["nodes"][0].clone()
        } else {
            got
        };
        assert_eq!(&got, created, "{body}");
    }
    Ok(())
}

#[tokio::test]
async fn updates_change_figures_and_tokens_and_reconnecting_keeps_the_row() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (tenant, admin) = tenant_with(&app, Role::Owner).await?;
    let (access, refresh) = (secret("access"), secret("refresh"));
    let body = connect(
        &app,
        &admin,
        json!({ "platform": "GOOGLE_ANALYTICS", "accountId": "UA-1", "accessToken": access,
                "refreshToken": refresh }),
    )
    .await?;
    let id = id_of(data(&body, "connectIntegration"));

    let new_access = secret("rotated");
    let body = app
        .gql(
            &admin,
            &update_doc(),
            json!({ "platform": "GOOGLE_ANALYTICS", "input": {
                "status": "EXPIRED", "lastSyncAt": "2026-01-02T03:04:05Z",
                "metrics": { "sessions": 18240, "users": 12115, "pageviews": 51230,
                             "bounceRate": 0.42, "avgSessionDuration": 95.5 },
                "dimensions": { "topSources": [{ "source": "google / organic", "sessions": 9120 }],
                                "devices": [{ "device": "mobile", "percentage": 64 }],
                                "topPages": [{ "page": "/booking", "views": 812 }] },
                "campaigns": [{ "name": "Brand", "spend": 96.2, "clicks": 410 }],
                "accessToken": new_access, "refreshToken": null } }),
        )
        .await?;
    assert_no_secret(&body, &[&access, &refresh, &new_access]);
    let updated = data(&body, "updateIntegration");
    assert_eq!(id_of(updated), id);
    assert_eq!(updated["status"], "EXPIRED");
    assert_eq!(updated["lastSyncAt"], "2026-01-02T03:04:05+00:00");
    assert_eq!(updated["metrics"]["sessions"], 18240);
    assert_eq!(updated["metrics"]["bounceRate"], 0.42);
    assert_eq!(
        updated["dimensions"]["topSources"][0]["source"],
        "google / organic"
    );
    assert_eq!(updated["dimensions"]["devices"][0]["percentage"], 64.0);
    assert_eq!(updated["dimensions"]["topPages"][0]["views"], 812);
    assert_eq!(updated["campaigns"][0]["name"], "Brand");
    assert_eq!(updated["hasAccessToken"], true);
    assert_eq!(
        updated["hasRefreshToken"], false,
        "null deletes the refresh token"
    );

    let row =
        sqlx::query("SELECT metrics, dimensions, campaigns FROM app.integrations WHERE id = $1")
            .bind(id)
            .fetch_one(app.db.owner())
            .await?;
    assert_eq!(
        row.get::<Value, _>("metrics"),
        json!({ "sessions": 18240, "users": 12115, "pageviews": 51230, "bounceRate": 0.42,
                "avgSessionDuration": 95.5 })
    );
    assert_eq!(
        row.get::<Value, _>("dimensions")["devices"],
        json!([{ "device": "mobile", "percentage": 64.0 }])
    );
    let s = stored(&app, id).await?;
    assert!(s.refresh.is_none());
    assert_eq!(
        open(
            INTEGRATION_ACCESS_TOKEN,
            tenant,
            id,
            &s.access.expect("access")
        )?,
        new_access
    );
    assert!(!row_holds(&app, id, &new_access).await?);

    // Reconnecting: same row, new account and token, figures kept, active again.
    let again = secret("again");
    let body = connect(
        &app,
        &admin,
        json!({ "platform": "GOOGLE_ANALYTICS", "accountId": "UA-2", "accessToken": again }),
    )
    .await?;
    let reconnected = data(&body, "connectIntegration");
    assert_eq!(id_of(reconnected), id);
    assert_eq!(reconnected["accountId"], "UA-2");
    assert_eq!(reconnected["status"], "ACTIVE");
    assert_eq!(reconnected["metrics"]["sessions"], 18240);
    assert!(reconnected["propertyId"].is_null());
    let s = stored(&app, id).await?;
    assert_eq!(
        open(
            INTEGRATION_ACCESS_TOKEN,
            tenant,
            id,
            &s.access.expect("access")
        )?,
        again
    );
    assert_eq!(app.rows("integrations", tenant).await?, 1);

    // `null` resets a document, `status: null` is refused.
    let body = app
        .gql(&admin, &update_doc(), json!({ "platform": "GOOGLE_ANALYTICS", "input": { "metrics": null, "campaigns": null } }))
        .await?;
    let cleared = data(&body, "updateIntegration");
    assert!(cleared["metrics"]["sessions"].is_null());
    assert_eq!(cleared["campaigns"], json!([]));
    let body = app
        .gql(
            &admin,
            &update_doc(),
            json!({ "platform": "GOOGLE_ANALYTICS", "input": { "status": null } }),
        )
        .await?;
    assert_eq!(
        refusal(&body),
        ("BAD_USER_INPUT".into(), "input.status".into())
    );
    Ok(())
}

#[tokio::test]
async fn disconnecting_deletes_the_tokens_and_refuses_new_ones_until_reconnected(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (tenant, admin) = tenant_with(&app, Role::Admin).await?;
    let access = secret("access");
    let body = connect(
        &app,
        &admin,
        json!({ "platform": "META_ADS", "accountId": "act_42", "accessToken": access,
                "refreshToken": secret("refresh"), "expiresAt": "2026-05-01T10:00:00Z" }),
    )
    .await?;
    let id = id_of(data(&body, "connectIntegration"));
    app.gql(
        &admin,
        &update_doc(),
        json!({ "platform": "META_ADS",
        "input": { "campaigns": [{ "name": "Spring", "spend": 10 }] } }),
    )
    .await?;

    let body = app
        .gql(&admin, &disconnect_doc(), json!({ "platform": "META_ADS" }))
        .await?;
    let gone = data(&body, "disconnectIntegration");
    assert_eq!(gone["connected"], false);
    assert_eq!(gone["hasAccessToken"], false);
    assert_eq!(gone["hasRefreshToken"], false);
    assert!(gone["expiresAt"].is_null());
    assert_eq!(gone["campaigns"][0]["name"], "Spring", "figures stay");
    let s = stored(&app, id).await?;
    assert!(s.access.is_none() && s.refresh.is_none());

    // New tokens need a connection; figures do not.
    let late = secret("late");
    let body = app
        .gql(
            &admin,
            &update_doc(),
            json!({ "platform": "META_ADS", "input": { "accessToken": late } }),
        )
        .await?;
    assert_eq!(refusal(&body).0, "CONFLICT");
    assert_no_secret(&body, &[&late]);
    assert!(stored(&app, id).await?.access.is_none());
    let body = app
        .gql(
            &admin,
            &update_doc(),
            json!({ "platform": "META_ADS", "input": { "status": "ERROR" } }),
        )
        .await?;
    assert_eq!(data(&body, "updateIntegration")["status"], "ERROR");

    // A platform never connected is NOT_FOUND for update and disconnect.
    for (doc, vars) in [
        (
            update_doc(),
            json!({ "platform": "LINKEDIN_ADS", "input": { "status": "ERROR" } }),
        ),
        (disconnect_doc(), json!({ "platform": "LINKEDIN_ADS" })),
    ] {
        let body = app.gql(&admin, &doc, vars).await?;
        assert_eq!(refusal(&body), ("NOT_FOUND".into(), "platform".into()));
    }
    assert_eq!(app.rows("integrations", tenant).await?, 1);
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Tenancy, roles, bad input
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn another_tenants_integration_is_not_found_and_its_tokens_do_not_open_in_another_row(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (a, admin_a) = tenant_with(&app, Role::Admin).await?;
    let (b, admin_b) = tenant_with(&app, Role::Admin).await?;
    let access_a = secret("a");
    let body = connect(
        &app,
        &admin_a,
        json!({ "platform": "GOOGLE_ADS", "accountId": "111",
        "accessToken": access_a }),
    )
    .await?;
    let a_id = id_of(data(&body, "connectIntegration"));
    let before = stored(&app, a_id).await?.row_text;

    // B sees none of A's: by id, in lists, for writes.
    let body = app
        .gql(
            &admin_b,
            &format!("query($id: ID!) {{ integration(id: $id) {{ {FIELDS} }} }}"),
            json!({ "id": a_id }),
        )
        .await?;
    assert_eq!(refusal(&body).0, "NOT_FOUND");
    let body = app
        .gql(&admin_b, "{ integrations { totalCount } }", json!({}))
        .await?;
    assert_eq!(data(&body, "integrations")["totalCount"], 0);
    for (doc, vars) in [
        (
            update_doc(),
            json!({ "platform": "GOOGLE_ADS", "input": { "status": "ERROR" } }),
        ),
        (disconnect_doc(), json!({ "platform": "GOOGLE_ADS" })),
    ] {
        let body = app.gql(&admin_b, &doc, vars).await?;
        assert_eq!(refusal(&body).0, "NOT_FOUND");
    }
    assert_eq!(
        stored(&app, a_id).await?.row_text,
        before,
        "A's row is untouched"
    );

    // B connects the same platform: its own row. A's sealed token copied into B's row does
    // not open there (it is bound to A's tenant and row).
    let body = connect(
        &app,
        &admin_b,
        json!({ "platform": "GOOGLE_ADS", "accountId": "222",
        "accessToken": secret("b") }),
    )
    .await?;
    let b_id = id_of(data(&body, "connectIntegration"));
    assert_ne!(a_id, b_id);
    let a_sealed = stored(&app, a_id).await?.access.expect("sealed");
    sqlx::query("UPDATE app.integrations SET access_token_ciphertext = $2 WHERE id = $1")
        .bind(b_id)
        .bind(&a_sealed)
        .execute(app.db.owner())
        .await?;
    let copied = stored(&app, b_id).await?.access.expect("copied");
    assert_eq!(
        open(INTEGRATION_ACCESS_TOKEN, b, b_id, &copied),
        Err(CryptoError::Forged)
    );
    assert_eq!(
        open(INTEGRATION_ACCESS_TOKEN, a, a_id, &a_sealed)?,
        access_a
    );
    Ok(())
}

#[tokio::test]
async fn reading_takes_view_analytics_and_writing_takes_an_admin() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (tenant, admin) = tenant_with(&app, Role::Admin).await?;
    let access = secret("access");
    connect(
        &app,
        &admin,
        json!({ "platform": "LINKEDIN_ADS", "accountId": "503",
        "accessToken": access }),
    )
    .await?;

    // Viewers and supervisors hold view:analytics by default; agents do not.
    for role in [Role::Viewer, Role::Supervisor] {
        let token = app.new_member(tenant, role).await?.1;
        let body = app
            .gql(&token, "{ integrations { totalCount } }", json!({}))
            .await?;
        assert_eq!(data(&body, "integrations")["totalCount"], 1, "{role:?}");
    }
    let agent = app.new_member(tenant, Role::Agent).await?.1;
    for doc in [
        "{ integrations { totalCount } }",
        "{ platformDemoData(platform: META_ADS) { data } }",
    ] {
        let body = app.gql(&agent, doc, json!({})).await?;
        assert_eq!(refusal(&body).0, "FORBIDDEN", "{doc}: {body}");
    }

    // Below admin, every write is refused before anything is written or echoed.
    let before = sqlx::query_scalar::<_, String>(
        "SELECT i::text FROM app.integrations i WHERE tenant_id = $1",
    )
    .bind(tenant)
    .fetch_one(app.db.owner())
    .await?;
    let other = secret("other");
    for role in [Role::Viewer, Role::Agent, Role::Supervisor] {
        let token = app.new_member(tenant, role).await?.1;
        for (doc, vars) in [
            (
                connect_doc(),
                json!({ "input": { "platform": "LINKEDIN_ADS", "accountId": "9",
                "accessToken": other } }),
            ),
            (
                update_doc(),
                json!({ "platform": "LINKEDIN_ADS", "input": { "accessToken": other } }),
            ),
            (disconnect_doc(), json!({ "platform": "LINKEDIN_ADS" })),
        ] {
            let body = app.gql(&token, &doc, vars).await?;
            assert_eq!(refusal(&body).0, "FORBIDDEN", "{role:?}: {body}");
            assert_no_secret(&body, &[&other, &access]);
        }
    }
    let after = sqlx::query_scalar::<_, String>(
        "SELECT i::text FROM app.integrations i WHERE tenant_id = $1",
    )
    .bind(tenant)
    .fetch_one(app.db.owner())
    .await?;
    assert_eq!(before, after);
    Ok(())
}

#[tokio::test]
async fn bad_input_names_the_field_writes_nothing_and_never_echoes_a_token() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (tenant, admin) = tenant_with(&app, Role::Admin).await?;
    let token = secret("access");
    let long = format!("{token}{}", "x".repeat(8_200));
    let base = json!({ "platform": "GOOGLE_ADS", "accountId": "123", "accessToken": token });
    let with = |patch: Value| {
        let mut v = base.clone();
        for (k, x) in patch.as_object().expect("object") {
            v[k] = x.clone();
        }
        v
    };
    let cases = [
        (with(json!({ "accessToken": "   " })), "input.accessToken"),
        (
            with(json!({ "accessToken": format!("{token} with spaces") })),
            "input.accessToken",
        ),
        (with(json!({ "accessToken": long })), "input.accessToken"),
        (with(json!({ "refreshToken": "" })), "input.refreshToken"),
        (with(json!({ "accountId": " " })), "input.accountId"),
        (
            with(json!({ "propertyId": "properties/1" })),
            "input.propertyId",
        ),
    ];
    for (input, field) in cases {
        let body = connect(&app, &admin, input).await?;
        assert_eq!(
            refusal(&body),
            ("BAD_USER_INPUT".into(), field.into()),
            "{body}"
        );
        assert_no_secret(&body, &[&token]);
    }
    assert_eq!(app.rows("integrations", tenant).await?, 0);

    let body = connect(&app, &admin, base.clone()).await?;
    let id = id_of(data(&body, "connectIntegration"));
    let before = stored(&app, id).await?.row_text;
    let updates = [
        (
            json!({ "metrics": { "bounceRate": 1.5 } }),
            "input.metrics.bounceRate",
        ),
        (
            json!({ "metrics": { "sessions": -1 } }),
            "input.metrics.sessions",
        ),
        (
            json!({ "dimensions": { "devices": [{ "device": "mobile", "percentage": 101 }] } }),
            "input.dimensions.devices[0].percentage",
        ),
        (
            json!({ "dimensions": { "topPages": [{ "page": " ", "views": 1 }] } }),
            "input.dimensions.topPages[0].page",
        ),
        (
            json!({ "campaigns": { "name": "not a list" } }),
            "input.campaigns",
        ),
        (
            json!({ "campaigns": [{ "name": "ok" }, 7] }),
            "input.campaigns[1]",
        ),
        (json!({ "accessToken": "" }), "input.accessToken"),
        (
            json!({ "accessToken": format!("{token}\n"), "refreshToken": "a b" }),
            "input.refreshToken",
        ),
    ];
    for (input, field) in updates {
        let body = app
            .gql(
                &admin,
                &update_doc(),
                json!({ "platform": "GOOGLE_ADS", "input": input }),
            )
            .await?;
        assert_eq!(
            refusal(&body),
            ("BAD_USER_INPUT".into(), field.into()),
            "{body}"
        );
        assert_no_secret(&body, &[&token]);
    }
    assert_eq!(
        stored(&app, id).await?.row_text,
        before,
        "nothing was written"
    );
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Demo data and the seed
// ------------------------------------------------------------------------------------------------

/// `platformDemoData(platform)` as `token`.
async fn demo(app: &TestApp, token: String, platform: &str) -> anyhow::Result<Value> {
    let body = app
        .gql(&token, DEMO, json!({ "platform": platform }))
        .await?;
    Ok(data(&body, "platformDemoData").clone())
}

#[tokio::test]
async fn demo_data_is_served_for_platforms_the_tenant_has_not_connected() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (_, admin) = tenant_with(&app, Role::Admin).await?;
    let ga = demo(&app, admin.clone(), "GOOGLE_ANALYTICS").await?;
    assert_eq!(ga["platform"], "GOOGLE_ANALYTICS");
    assert_eq!(ga["data"]["metrics"]["sessions"], 15234);
    let meta = demo(&app, admin.clone(), "META_ADS").await?;
    assert!(meta["data"]["campaigns"]
        .as_array()
        .is_some_and(|c| !c.is_empty()));

    // Connected: the tenant has real figures, so no sample; disconnected: the sample again.
    connect(
        &app,
        &admin,
        json!({ "platform": "META_ADS", "accountId": "act_1",
        "accessToken": secret("a") }),
    )
    .await?;
    assert!(demo(&app, admin.clone(), "META_ADS").await?.is_null());
    assert!(!demo(&app, admin.clone(), "GOOGLE_ADS").await?.is_null());
    app.gql(&admin, &disconnect_doc(), json!({ "platform": "META_ADS" }))
        .await?;
    assert_eq!(demo(&app, admin.clone(), "META_ADS").await?, meta);
    Ok(())
}

#[tokio::test]
async fn seeded_tokens_are_sealed_for_their_rows() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    app.seed(&SeedSpec {
        tenants: 1,
        customers_per_tenant: 4,
        bookings_per_customer: 1,
        calls_per_booking: 1,
        sms_per_call: 1,
    })
    .await?;
    let rows = sqlx::query(
        "SELECT tenant_id, id, access_token_ciphertext, refresh_token_ciphertext
           FROM app.integrations WHERE connected ORDER BY platform",
    )
    .fetch_all(app.db.owner())
    .await?;
    assert_eq!(rows.len(), 3);
    for row in rows {
        let (tenant, id): (Uuid, Uuid) = (row.get(0), row.get(1));
        let access: Vec<u8> = row.get(2);
        assert!(open(INTEGRATION_ACCESS_TOKEN, tenant, id, &access)?.starts_with("seed-access-"));
    }
    let accounts = sqlx::query(
        "SELECT user_id, id, access_token_ciphertext, access_token FROM app.auth_accounts
          WHERE provider = 'google'",
    )
    .fetch_all(app.db.owner())
    .await?;
    assert_eq!(accounts.len(), 1);
    let (user, id): (Uuid, Uuid) = (accounts[0].get(0), accounts[0].get(1));
    let sealed: Vec<u8> = accounts[0].get(2);
    assert!(
        accounts[0].get::<Option<String>, _>(3).is_none(),
        "no token in clear"
    );
    let aad = frontdesk_db::crypto::sealed::AUTH_ACCOUNT_ACCESS_TOKEN.aad(user, id);
    let plain = test_keyring().open(&aad, &sealed)?;
    assert!(plain.starts_with(b"seed-access-"));
    Ok(())
}
