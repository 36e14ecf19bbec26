//! Persisted documents over HTTP: Apollo's automatic persisted queries (POST and cacheable
//! GET), and the trusted-documents mode that runs only a manifest's documents.

use frontdesk_db::testing::TestDb;
use frontdesk_e2e::{error_code, spawn_app, spawn_app_with, Principal, Role, TestApp};
use frontdesk_server::persisted::{sha256_hex, PersistedDocuments};
use serde_json::{json, Value};
use uuid::Uuid;

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

async fn post(app: &TestApp, body: &Value) -> anyhow::Result<(u16, Value)> {
    let resp = app
        .client
        .post(app.url("/graphql"))
        .json(body)
        .send()
        .await?;
    Ok((resp.status().as_u16(), resp.json().await?))
}

/// GETs `/graphql` with `params`; returns status, Cache-Control and body.
async fn get(
    app: &TestApp,
    params: &[(&str, &str)],
    token: Option<&str>,
) -> anyhow::Result<(u16, String, Value)> {
    let mut req = app.client.get(app.url("/graphql")).query(params);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let resp = req.send().await?;
    let status = resp.status().as_u16();
    let cache = resp
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    Ok((status, cache, resp.json().await?))
}

#[tokio::test]
async fn an_unknown_hash_is_not_found_until_the_query_registers_it() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let query = "query Persisted { __typename }";
    let hash = sha256_hex(query);
    let (status, body) = post(&app, &json!({ "extensions": persisted(&hash) })).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        error_code(&body),
        Some("PERSISTED_QUERY_NOT_FOUND"),
        "{body}"
    );
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");

    let (status, body) = post(
        &app,
        &json!({ "query": query, "extensions": persisted(&hash) }),
    )
    .await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["__typename"], "Query", "{body}");

    let (status, body) = post(&app, &json!({ "extensions": persisted(&hash) })).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["__typename"], "Query", "{body}");
    Ok(())
}

#[tokio::test]
async fn a_hash_that_is_not_the_querys_is_refused_and_registers_nothing() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let wrong = sha256_hex("{ somethingElse }");
    let (_, body) = post(
        &app,
        &json!({ "query": "{ __typename }", "extensions": persisted(&wrong) }),
    )
    .await?;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert!(body["data"].is_null(), "{body}");
    let (_, body) = post(&app, &json!({ "extensions": persisted(&wrong) })).await?;
    assert_eq!(
        error_code(&body),
        Some("PERSISTED_QUERY_NOT_FOUND"),
        "{body}"
    );

    let (_, body) = post(
        &app,
        &json!({ "query": "{ __typename }", "extensions": { "persistedQuery": { "version": 2, "sha256Hash": wrong } } }),
    )
    .await?;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    Ok(())
}

#[tokio::test]
async fn hashed_get_queries_are_cacheable_publicly_only_without_a_token() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let query = "{ __typename }";
    let hash = sha256_hex(query);
    let extensions = persisted(&hash).to_string();
    let (_, _, body) = get(&app, &[("extensions", &extensions)], None).await?;
    assert_eq!(
        error_code(&body),
        Some("PERSISTED_QUERY_NOT_FOUND"),
        "{body}"
    );

    // Registered over GET too (Apollo Client's useGETForHashedQueries).
    let (status, cache, body) =
        get(&app, &[("query", query), ("extensions", &extensions)], None).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["__typename"], "Query");
    assert_eq!(cache, "public, max-age=60");

    let (status, cache, body) = get(&app, &[("extensions", &extensions)], None).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["__typename"], "Query", "{body}");
    assert_eq!(cache, "public, max-age=60");

    let token = app.keys.mint(&Principal {
        user_id: Uuid::new_v4(),
        tenant_id: Uuid::new_v4(),
        role: Role::Owner,
    });
    let (status, cache, _) = get(&app, &[("extensions", &extensions)], Some(&token)).await?;
    assert_eq!(status, 200);
    assert_eq!(
        cache, "private, no-cache",
        "one tenant's answer is never shared"
    );

    let (_, cache, _) = get(&app, &[("query", "{ nope }")], None).await?;
    assert_eq!(cache, "no-store", "errors are not cached");
    Ok(())
}

#[tokio::test]
async fn a_persisted_mutation_is_still_refused_over_get() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let mutation = "mutation { __typename }";
    let hash = sha256_hex(mutation);
    let (_, body) = post(
        &app,
        &json!({ "query": mutation, "extensions": persisted(&hash) }),
    )
    .await?;
    assert_eq!(body["data"]["__typename"], "Mutation", "{body}");
    let extensions = persisted(&hash).to_string();
    let (status, _, body) = get(&app, &[("extensions", &extensions)], None).await?;
    assert_eq!(status, 405, "{body}");
    Ok(())
}

/// The manifest of the trusted-documents tests: one document under a graphql-codegen style
/// sha256 key, one under a Relay-style id.
fn manifest() -> (String, String) {
    let typename = "query Typename { __typename }";
    let hash = sha256_hex(typename);
    let manifest = json!({
        hash.clone(): typename,
        "relay-0123abcd": "query TypeName($name: String!) { __type(name: $name) { name } }",
    });
    (manifest.to_string(), hash)
}

async fn trusted_app() -> anyhow::Result<(TestApp, String)> {
    let (manifest, hash) = manifest();
    let documents = PersistedDocuments::trusted_from_json(&manifest)?;
    let app = spawn_app_with(TestDb::new().await?, |state| {
        state.with_documents(documents)
    })
    .await?;
    Ok((app, hash))
}

#[tokio::test]
async fn trusted_mode_runs_manifest_documents_named_by_any_clients_id() -> anyhow::Result<()> {
    let (app, hash) = trusted_app().await?;
    for request in [
        json!({ "documentId": hash }),
        json!({ "documentId": format!("sha256:{hash}") }),
        json!({ "extensions": persisted(&hash) }),
        json!({ "query": "query Typename { __typename }" }),
    ] {
        let (status, body) = post(&app, &request).await?;
        assert_eq!(status, 200, "{request}: {body}");
        assert_eq!(body["data"]["__typename"], "Query", "{request}: {body}");
    }
    let variables = json!({ "name": "Mutation" });
    for key in ["doc_id", "id"] {
        let (_, body) = post(
            &app,
            &json!({ key: "relay-0123abcd", "variables": variables }),
        )
        .await?;
        assert_eq!(body["data"]["__type"]["name"], "Mutation", "{key}: {body}");
    }
    let (status, _, body) = get(&app, &[("documentId", &hash)], None).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["__typename"], "Query", "{body}");
    Ok(())
}

#[tokio::test]
async fn trusted_mode_refuses_any_other_document() -> anyhow::Result<()> {
    let (app, _) = trusted_app().await?;
    let (status, body) = post(&app, &json!({ "query": "{ __typename }" })).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        error_code(&body),
        Some("TRUSTED_DOCUMENT_REQUIRED"),
        "{body}"
    );
    assert!(body["data"].is_null(), "nothing ran: {body}");

    // Registering through APQ is no way around it.
    let query = "{ __schema { types { name } } }";
    let (_, body) = post(
        &app,
        &json!({ "query": query, "extensions": persisted(&sha256_hex(query)) }),
    )
    .await?;
    assert_eq!(
        error_code(&body),
        Some("TRUSTED_DOCUMENT_REQUIRED"),
        "{body}"
    );

    let (_, body) = post(&app, &json!({ "documentId": "not-in-the-manifest" })).await?;
    assert_eq!(
        error_code(&body),
        Some("PERSISTED_QUERY_NOT_FOUND"),
        "{body}"
    );

    let resp = app
        .client
        .post(app.url("/graphql"))
        .header("accept", "application/graphql-response+json")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await?;
    assert_eq!(resp.status().as_u16(), 400);
    let body: Value = resp.json().await?;
    assert!(body.get("data").is_none(), "{body}");
    Ok(())
}
