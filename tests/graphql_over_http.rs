//! `/graphql` speaks the GraphQL-over-HTTP spec: the two response media types, and which
//! status codes and body shapes go with which failure under each.

use frontdesk_e2e::{error_code, spawn_app, TestApp};
use serde_json::{json, Value};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// POSTs `body` with `accept` (none when `None`); returns status, content type and body.
async fn post(
    app: &TestApp,
    accept: Option<&str>,
    body: &Value,
) -> anyhow::Result<(u16, String, Value)> {
    let mut req = app.client.post(app.url("/graphql")).json(body);
    if let Some(accept) = accept {
        req = req.header("accept", accept);
    }
    let resp = req.send().await?;
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    Ok((status, content_type, resp.json().await?))
}

#[tokio::test]
async fn the_response_media_type_follows_the_accept_header() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let query = json!({ "query": "{ __typename }" });
    for (accept, expected) in [
        (Some(GRAPHQL_RESPONSE), GRAPHQL_RESPONSE),
        (Some("application/json"), "application/json"),
        (Some("*/*"), "application/json"),
        (None, "application/json"),
        (
            Some("application/graphql-response+json, application/json;q=0.9"),
            GRAPHQL_RESPONSE,
        ),
    ] {
        let (status, content_type, body) = post(&app, accept, &query).await?;
        assert_eq!(status, 200, "{accept:?}: {body}");
        assert!(
            content_type.starts_with(expected),
            "{accept:?} answered {content_type}"
        );
        assert_eq!(body["data"]["__typename"], "Query");
    }
    Ok(())
}

#[tokio::test]
async fn request_errors_are_400_without_data_under_graphql_response_json() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let failures = [
        ("parse", json!({ "query": "{" })),
        ("validation", json!({ "query": "{ noSuchField }" })),
        (
            "variable coercion",
            json!({ "query": "query ($id: ID!) { __typename }", "variables": { "id": null } }),
        ),
    ];
    for (what, request) in &failures {
        let (status, _, body) = post(&app, Some(GRAPHQL_RESPONSE), request).await?;
        assert_eq!(status, 400, "{what}: {body}");
        assert!(body.get("data").is_none(), "{what}: no data entry: {body}");
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{what}: {body}");
        // The legacy media type keeps the legacy contract: 200, errors in the body.
        let (status, _, body) = post(&app, Some("application/json"), request).await?;
        assert_eq!(status, 200, "{what} under application/json: {body}");
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{what}: {body}");
    }
    Ok(())
}

#[tokio::test]
async fn a_field_error_keeps_status_200_and_data_under_graphql_response_json() -> anyhow::Result<()>
{
    let app = spawn_app().await?;
    // `me` fails without a token: execution ran, so the answer is 200 with its `data`.
    let request = json!({ "query": "{ __typename me { userId } }" });
    let (status, _, body) = post(&app, Some(GRAPHQL_RESPONSE), &request).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["__typename"], "Query", "{body}");
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    assert_eq!(body["errors"][0]["path"][0], "me", "{body}");
    Ok(())
}

#[tokio::test]
async fn parameters_of_the_wrong_type_or_a_missing_query_are_400() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    for request in [
        json!({ "query": { "obj": "ect" } }),
        json!({ "query": false }),
        json!({ "query": "{ __typename }", "operationName": 0 }),
        json!({ "query": "{ __typename }", "variables": "string" }),
        json!({ "query": "{ __typename }", "extensions": ["array"] }),
        json!({ "qeury": "{ __typename }" }),
    ] {
        for accept in [GRAPHQL_RESPONSE, "application/json"] {
            let (status, content_type, body) = post(&app, Some(accept), &request).await?;
            assert_eq!(status, 400, "{request} ({accept}): {body}");
            assert!(content_type.starts_with(accept), "{content_type}");
            assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
        }
    }
    // Null optional parameters are the same as absent ones.
    let request = json!({
        "query": "{ __typename }", "operationName": null, "variables": null, "extensions": null
    });
    let (status, _, body) = post(&app, Some(GRAPHQL_RESPONSE), &request).await?;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    Ok(())
}

#[tokio::test]
async fn get_queries_take_json_variables_and_refuse_mutations_with_405() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let resp = app
        .client
        .get(app.url("/graphql"))
        .header("accept", GRAPHQL_RESPONSE)
        .query(&[
            (
                "query",
                "query Type($name: String!) { __type(name: $name) { name } }",
            ),
            ("variables", r#"{"name": "Query"}"#),
        ])
        .send()
        .await?;
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = resp.json().await?;
    assert_eq!(body["data"]["__type"]["name"], "Query", "{body}");

    let resp = app
        .client
        .get(app.url("/graphql"))
        .header("accept", GRAPHQL_RESPONSE)
        .query(&[("query", "mutation { __typename }")])
        .send()
        .await?;
    assert_eq!(resp.status().as_u16(), 405);
    assert_eq!(
        resp.headers().get("allow").and_then(|v| v.to_str().ok()),
        Some("GET, POST")
    );
    Ok(())
}
