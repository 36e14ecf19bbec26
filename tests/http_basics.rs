//! The server's HTTP surface: GraphQL, authentication, GraphiQL and probes.

use frontdesk_e2e::{error_code, spawn_app, Principal, Role, TEST_SECRET};
use serde_json::json;
use uuid::Uuid;

#[tokio::test]
async fn typename_answers_without_a_token() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (status, body) = app.graphql(None, "{ __typename }", json!({})).await?;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["__typename"], "Query");
    Ok(())
}

#[tokio::test]
async fn me_without_a_token_is_unauthenticated() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (_, body) = app.graphql(None, "{ me { userId } }", json!({})).await?;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
    Ok(())
}

#[tokio::test]
async fn me_with_a_valid_token_returns_the_tokens_principal() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Me").await?;
    let (user, token) = app.new_member(tenant, Role::Supervisor).await?;
    let (status, body) = app
        .graphql(
            Some(&token),
            "{ me { userId tenantId role permissions } }",
            json!({}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["me"]["userId"], user.to_string());
    assert_eq!(body["data"]["me"]["tenantId"], tenant.to_string());
    assert_eq!(body["data"]["me"]["role"], "SUPERVISOR");
    assert_eq!(
        body["data"]["me"]["permissions"],
        json!([
            "READ_CONVERSATIONS",
            "WRITE_MESSAGES",
            "ASSIGN_CONVERSATIONS",
            "MANAGE_CUSTOMERS",
            "MANAGE_TICKETS",
            "VIEW_ANALYTICS"
        ])
    );
    Ok(())
}

#[tokio::test]
async fn expired_forged_and_malformed_tokens_are_refused_with_401() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let p = Principal {
        user_id: Uuid::new_v4(),
        tenant_id: Uuid::new_v4(),
        role: Role::Owner,
    };
    let expired = app.keys.mint_with_ttl(&p, chrono::Duration::seconds(-1));
    let other_keys = frontdesk_e2e::TokenKeys::new(
        &"another-secret-another-secret-another!".to_owned().into(),
        chrono::Duration::minutes(5),
    );
    let forged = other_keys.mint(&p);
    assert_ne!(TEST_SECRET, "another-secret-another-secret-another!");
    for token in [expired.as_str(), forged.as_str(), "garbage", "a.b.c"] {
        let (status, body) = app
            .graphql(Some(token), "{ __typename }", json!({}))
            .await?;
        assert_eq!(status, 401, "token {token}: {body}");
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "token {token}");
        assert!(body.get("data").is_none(), "no data may leak: {body}");
    }
    Ok(())
}

#[tokio::test]
async fn a_non_bearer_authorization_header_is_refused() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let resp = app
        .client
        .post(app.url("/graphql"))
        .header("Authorization", "Basic dXNlcjpwYXNz")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await?;
    assert_eq!(resp.status().as_u16(), 401);
    let body: serde_json::Value = resp.json().await?;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
    Ok(())
}

#[tokio::test]
async fn health_and_readiness_report_a_migrated_database() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let health = app.client.get(app.url("/healthz")).send().await?;
    assert_eq!(health.status().as_u16(), 200);
    let ready = app.client.get(app.url("/readyz")).send().await?;
    assert_eq!(ready.status().as_u16(), 200);
    let body: serde_json::Value = ready.json().await?;
    assert_eq!(body["status"], "ready");
    Ok(())
}

#[tokio::test]
async fn graphiql_is_served_on_the_root_and_every_response_has_a_request_id() -> anyhow::Result<()>
{
    let app = spawn_app().await?;
    for path in ["/", "/graphiql"] {
        let resp = app.client.get(app.url(path)).send().await?;
        assert_eq!(resp.status().as_u16(), 200);
        assert!(resp.headers().contains_key("x-request-id"));
        let html = resp.text().await?;
        assert!(html.contains("graphiql"), "{path} is not GraphiQL");
    }
    Ok(())
}

#[tokio::test]
async fn metrics_count_requests_by_route_in_prometheus_format() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    app.graphql(None, "{ __typename }", json!({})).await?;
    let text = app.metrics().await?;
    assert!(
        text.contains(
            "frontdesk_http_requests_total{method=\"POST\",route=\"/graphql\",status=\"200\"}"
        ),
        "{text}"
    );
    assert!(text.contains("frontdesk_db_pool_connections"), "{text}");
    Ok(())
}
