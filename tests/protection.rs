//! Request protection, through the real server: every over-limit or malformed request is
//! refused with a GraphQL error body carrying `extensions.code`, never a 5xx or plain text,
//! and the limits the schema enforces refuse before any resolver runs (so `data` is null
//! even when the document asks for `me`, which reads the database).

use frontdesk_e2e::{error_code, spawn_app, Principal, Role, TestApp};
use serde_json::{json, Value};
use uuid::Uuid;

/// A token for a caller of a made-up tenant: enough for `me` to reach the database.
fn token(app: &TestApp) -> String {
    app.keys.mint(&Principal {
        user_id: Uuid::new_v4(),
        tenant_id: Uuid::new_v4(),
        role: Role::Owner,
    })
}

/// POSTs raw bytes; returns the status, the `x-request-id` response header and the JSON body.
async fn post_raw(
    app: &TestApp,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> anyhow::Result<(u16, String, Value)> {
    let mut req = app.client.post(app.url("/graphql")).body(body);
    if let Some(ct) = content_type {
        req = req.header("Content-Type", ct);
    }
    let resp = req.send().await?;
    let status = resp.status().as_u16();
    let request_id = resp
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = resp.text().await?;
    let body = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("status {status}: body is not JSON ({e}): {text}"))?;
    Ok((status, request_id, body))
}

async fn post_json(app: &TestApp, json: &Value) -> anyhow::Result<(u16, String, Value)> {
    post_raw(app, Some("application/json"), serde_json::to_vec(json)?).await
}

fn message(body: &Value) -> &str {
    body["errors"][0]["message"].as_str().unwrap_or_default()
}

/// The request was refused as the client's mistake, saying why, and nothing ran.
fn assert_bad_input(status: u16, body: &Value, says: &str) {
    assert!(status < 500, "status {status}: {body}");
    assert_eq!(error_code(body), Some("BAD_USER_INPUT"), "{body}");
    assert!(
        message(body).contains(says),
        "the message should mention {says:?}: {body}"
    );
    assert!(body["data"].is_null(), "nothing may run: {body}");
}

/// An HTTP-level refusal: the given status, a GraphQL error body, and the request id.
fn assert_http_refusal(
    (status, request_id, body): &(u16, String, Value),
    expected: u16,
    says: &str,
) {
    assert_eq!(*status, expected, "{body}");
    assert_bad_input(*status, body, says);
    assert!(!request_id.is_empty(), "the response has an x-request-id");
    assert_eq!(
        body["errors"][0]["extensions"]["requestId"], *request_id,
        "the error carries the request id"
    );
}

#[tokio::test]
async fn a_query_nested_deeper_than_the_limit_is_refused_before_anything_runs() -> anyhow::Result<()>
{
    let app = spawn_app().await?;
    let of_types = "ofType { ".repeat(14);
    let closing = "} ".repeat(14);
    let query = format!(
        "{{ me {{ userId }} __schema {{ types {{ fields {{ type {{ {of_types} name {closing} }} }} }} }} }}"
    );
    let (status, body) = app.graphql(Some(&token(&app)), &query, json!({})).await?;
    assert_bad_input(status, &body, "nested too deep");
    assert!(message(&body).contains("limit is 15"), "{body}");
    Ok(())
}

#[tokio::test]
async fn introspection_that_nests_lists_three_deep_is_refused() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    // Shallow enough for the depth limit, but every `fields` multiplies by the schema's size.
    let query = "{ me { userId } __schema { types { fields { type { ofType { fields { type { \
                 ofType { fields { name } } } } } } } } } }";
    let (status, body) = app.graphql(Some(&token(&app)), query, json!({})).await?;
    assert_bad_input(status, &body, "the limit is 2 lists");
    Ok(())
}

#[tokio::test]
async fn a_query_whose_cost_exceeds_the_complexity_limit_is_refused() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    // 100 customers × 100 bookings × 100 calls: about 3 000 000 against a limit of 100 000.
    let query = "{ me { userId } customers(first: 100) { nodes { id: rowId \
                 bookings(first: 100) { nodes { id: rowId calls(first: 100) { nodes { id: rowId } } } } } } }";
    let (status, body) = app.graphql(Some(&token(&app)), query, json!({})).await?;
    assert_bad_input(status, &body, "too complex");
    assert!(message(&body).contains("limit of 100000"), "{body}");
    // The dashboard's four-level read is fine.
    let query = "{ customers(first: 50) { nodes { id: rowId name phone \
                 bookings(first: 10) { nodes { id: rowId serviceType appointmentDate status \
                 calls(first: 5) { nodes { id: rowId status duration phoneNumber \
                 smsMessages(first: 5) { nodes { id: rowId messageBody status direction } } } } } } } } }";
    let member = app.token(Uuid::new_v4(), Role::Owner).await?;
    let (status, body) = app.graphql(Some(&member), query, json!({})).await?;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    Ok(())
}

#[tokio::test]
async fn a_query_with_more_aliases_than_the_limit_is_refused() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let aliases: String = (0..100).map(|i| format!("a{i}: __typename ")).collect();
    let query = format!("{{ me {{ userId }} {aliases} }}");
    let (status, body) = app.graphql(Some(&token(&app)), &query, json!({})).await?;
    assert_bad_input(status, &body, "100 aliased fields");
    assert!(message(&body).contains("limit is 30 aliases"), "{body}");
    Ok(())
}

#[tokio::test]
async fn a_query_string_over_the_size_limit_is_refused() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let query = format!("{{ me {{ userId }} {} }}", "__typename ".repeat(4000));
    let (status, body) = app.graphql(Some(&token(&app)), &query, json!({})).await?;
    assert_bad_input(status, &body, "bytes long; the limit is 32768 bytes");
    Ok(())
}

#[tokio::test]
async fn a_fragment_bomb_is_refused_before_validation_expands_it() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    // Twelve levels of three spreads each: 3^12 = 531441 copies of `me`, nested 13 deep.
    let mut query = String::from("{ ...f0 }\nfragment f12 on Query { me { userId } }\n");
    for level in 0..12 {
        let next = level + 1;
        query.push_str(&format!(
            "fragment f{level} on Query {{ ...f{next} ...f{next} ...f{next} }}\n"
        ));
    }
    let (status, body) = app.graphql(Some(&token(&app)), &query, json!({})).await?;
    assert_bad_input(status, &body, "the limit is 2000 selections");
    Ok(())
}

#[tokio::test]
async fn braces_nested_thousands_deep_are_refused_and_the_server_stays_up() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    // Within the size limit, deep enough to overflow a naive recursive parser.
    let query = format!("{}{}", "{ a ".repeat(5000), "}".repeat(5000));
    let (status, body) = app.graphql(None, &query, json!({})).await?;
    assert_bad_input(status, &body, "limit");
    let (status, body) = app.graphql(None, "{ __typename }", json!({})).await?;
    assert_eq!(
        (status, &body["data"]["__typename"]),
        (200, &json!("Query"))
    );
    Ok(())
}

#[tokio::test]
async fn graphiqls_introspection_query_passes_every_limit() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (status, body) = app
        .graphql(None, &introspection_query(9), json!({}))
        .await?;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");
    Ok(())
}

#[tokio::test]
async fn a_batch_over_the_cap_is_refused_with_400() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let batch: Vec<Value> = (0..11)
        .map(|_| json!({ "query": "{ me { userId } }" }))
        .collect();
    let reply = post_json(&app, &Value::Array(batch)).await?;
    assert_http_refusal(&reply, 400, "the limit is 10 per batch");
    Ok(())
}

#[tokio::test]
async fn a_batch_within_the_cap_is_answered_in_order() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let batch = json!([
        { "query": "{ __typename }" },
        { "query": "{ nope }" },
        { "query": "query Q { __typename }", "operationName": "Q" },
    ]);
    let (status, _, body) = post_json(&app, &batch).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[0]["data"]["__typename"], "Query");
    assert_eq!(error_code(&body[1]), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(body[2]["data"]["__typename"], "Query");
    Ok(())
}

#[tokio::test]
async fn an_empty_batch_is_refused_with_400() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let reply = post_json(&app, &json!([])).await?;
    assert_http_refusal(&reply, 400, "batch is empty");
    Ok(())
}

#[tokio::test]
async fn malformed_json_is_refused_with_400_and_a_graphql_error() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let reply = post_raw(&app, Some("application/json"), b"{\"query\": ".to_vec()).await?;
    assert_http_refusal(&reply, 400, "not valid JSON");
    let reply = post_json(&app, &json!({ "query": 42 })).await?;
    assert_http_refusal(&reply, 400, "not a GraphQL request");
    Ok(())
}

#[tokio::test]
async fn a_body_that_is_not_json_is_refused_with_415() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let query = b"{ __typename }".to_vec();
    let reply = post_raw(&app, Some("text/plain"), query.clone()).await?;
    assert_http_refusal(&reply, 415, "application/json");
    let reply = post_raw(&app, None, query).await?;
    assert_http_refusal(&reply, 415, "application/json");
    let reply = post_raw(
        &app,
        Some("application/json; charset=utf-8"),
        serde_json::to_vec(&json!({ "query": "{ __typename }" }))?,
    )
    .await?;
    assert_eq!(reply.0, 200, "a charset parameter is fine: {}", reply.2);
    Ok(())
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_refused_with_413() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let padding = "x".repeat(1024 * 1024);
    let reply = post_json(
        &app,
        &json!({ "query": "{ __typename }", "variables": { "padding": padding } }),
    )
    .await?;
    assert_http_refusal(&reply, 413, "larger than the limit of 1048576 bytes");
    Ok(())
}

#[tokio::test]
async fn a_syntax_error_is_bad_user_input_with_its_location() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (status, body) = app.graphql(None, "{ me {", json!({})).await?;
    assert_bad_input(status, &body, "expected");
    assert!(body["errors"][0]["locations"].is_array(), "{body}");
    Ok(())
}

#[tokio::test]
async fn an_unknown_field_is_bad_user_input_naming_the_field() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (status, body) = app.graphql(None, "{ nope }", json!({})).await?;
    assert_bad_input(status, &body, "Unknown field");
    assert_eq!(body["errors"][0]["extensions"]["field"], "nope", "{body}");
    Ok(())
}

#[tokio::test]
async fn an_argument_of_the_wrong_type_is_bad_user_input_naming_it() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let token = token(&app);
    // Caught by validation, which names the argument.
    let query = "{ customers(first: \"ten\") { totalCount } }";
    let (status, body) = app.graphql(Some(&token), query, json!({})).await?;
    assert_bad_input(status, &body, "Invalid value for argument");
    assert_eq!(body["errors"][0]["extensions"]["field"], "first", "{body}");
    // Caught while validating the document (an id is a string), named by its argument.
    let query = "{ customer(id: true) { id: rowId } }";
    let (status, body) = app.graphql(Some(&token), query, json!({})).await?;
    assert_bad_input(status, &body, "expected type \"ID\"");
    assert_eq!(body["errors"][0]["extensions"]["field"], "id", "{body}");
    Ok(())
}

#[tokio::test]
async fn a_variable_of_the_wrong_type_is_bad_user_input_naming_it() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let query = "query ($name: String!) { __type(name: $name) { name } }";
    let (status, body) = app.graphql(None, query, json!({ "name": 5 })).await?;
    assert_bad_input(status, &body, "Invalid value for argument");
    assert_eq!(body["errors"][0]["extensions"]["field"], "name", "{body}");

    let query = "query ($id: ID!) { customer(id: $id) { id: rowId } }";
    let (status, body) = app
        .graphql(Some(&token(&app)), query, json!({ "id": "nope" }))
        .await?;
    assert_bad_input(status, &body, "Failed to parse \"ID\"");
    assert_eq!(body["errors"][0]["extensions"]["field"], "id", "{body}");
    Ok(())
}

#[tokio::test]
async fn a_mutation_over_get_is_refused_and_queries_over_get_are_answered() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let get = |query: &'static str| {
        app.client
            .get(app.url("/graphql"))
            .query(&[("query", query)])
            .send()
    };
    let resp = get("mutation { __typename }").await?;
    let status = resp.status().as_u16();
    let body: Value = resp.json().await?;
    assert_eq!(status, 405, "{body}");
    assert_bad_input(status, &body, "POST");

    let resp = get("{ __typename }").await?;
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = resp.json().await?;
    assert_eq!(body["data"]["__typename"], "Query");
    Ok(())
}

#[tokio::test]
async fn graphiql_opens_the_headers_editor_and_subscribes_over_websocket() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    for path in ["/", "/graphiql"] {
        let resp = app.client.get(app.url(path)).send().await?;
        let csp = resp
            .headers()
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(csp.contains("script-src 'self';"), "{path}: {csp}");
        assert!(csp.contains("connect-src 'self' ws://"), "{path}: {csp}");
        let html = resp.text().await?;
        assert!(!html.contains("https://"), "{path}: nothing from a CDN");
        assert!(!html.contains("<script>"), "{path}: no inline script");
        assert!(!html.contains("Bearer"), "{path}: no token in the page");
        // The bootstrap script, served by the binary, configures the editor.
        let src = html
            .split("src=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next())
            .find(|s| s.starts_with("/graphiql/assets/bootstrap.js?v="))
            .expect("the page loads bootstrap.js");
        let resp = app.client.get(app.url(src)).send().await?;
        assert_eq!(resp.status().as_u16(), 200);
        let cache = resp.headers().get("cache-control").cloned();
        assert_eq!(
            cache.as_ref().and_then(|v| v.to_str().ok()),
            Some("public, max-age=31536000, immutable")
        );
        let js = resp.text().await?;
        assert!(
            js.contains("defaultEditorToolsVisibility: 'headers'"),
            "{js}"
        );
        assert!(js.contains("isHeadersEditorEnabled: true"), "{js}");
        assert!(
            js.contains("subscriptionUrl: createUrl(endpoint, true)") && js.contains("'/graphql'"),
            "subscriptions go to ws(s)://…/graphql"
        );
    }
    Ok(())
}

/// graphql-js's `getIntrospectionQuery()` (what GraphiQL sends), with `typeDepth` levels of
/// `ofType`, built the way graphql-js builds it.
fn introspection_query(type_depth: usize) -> String {
    let of_type = "ofType { name kind ".repeat(type_depth) + &"} ".repeat(type_depth);
    format!(
        "query IntrospectionQuery {{
          __schema {{
            queryType {{ name kind }} mutationType {{ name kind }} subscriptionType {{ name kind }}
            types {{ ...FullType }}
            directives {{ name description locations args {{ ...InputValue }} }}
          }}
        }}
        fragment FullType on __Type {{
          kind name description
          fields(includeDeprecated: true) {{
            name description args {{ ...InputValue }} type {{ ...TypeRef }}
            isDeprecated deprecationReason
          }}
          inputFields {{ ...InputValue }}
          interfaces {{ ...TypeRef }}
          enumValues(includeDeprecated: true) {{ name description isDeprecated deprecationReason }}
          possibleTypes {{ ...TypeRef }}
        }}
        fragment InputValue on __InputValue {{ name description type {{ ...TypeRef }} defaultValue }}
        fragment TypeRef on __Type {{ kind name {of_type} }}"
    )
}

#[tokio::test]
async fn a_document_sent_again_is_checked_and_answered_afresh_for_its_variables(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    // Parsed documents are remembered by their text; what a request's variables decide is
    // not: a skipped field comes back when the next request includes it.
    let q = "query($n: String!, $a: Boolean!) { t: __type(name: $n) { name }
               shown: __type(name: \"Query\") @include(if: $a) { name } }";
    for (n, a) in [
        ("Query", true),
        ("Mutation", false),
        ("Query", false),
        ("Customer", true),
    ] {
        let (status, body) = app.graphql(None, q, json!({ "n": n, "a": a })).await?;
        assert_eq!(status, 200);
        assert_eq!(body["data"]["t"]["name"], n, "{body}");
        assert_eq!(body["data"].get("shown").is_some(), a, "{body}");
    }
    // A refused document is refused every time it is sent.
    let aliases: String = (0..60).map(|i| format!("a{i}: __typename ")).collect();
    let bombed = format!("{{ {aliases} }}");
    for _ in 0..2 {
        let (status, body) = app.graphql(None, &bombed, json!({})).await?;
        assert_bad_input(status, &body, "limit is 30 aliases");
    }
    Ok(())
}
