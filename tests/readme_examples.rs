//! The README's GraphQL examples, run as a new user runs them: against the demo tenant that
//! `frontdesk serve` seeds, with an owner's token. Every block must answer without errors and
//! with data — an example that returns nothing teaches nothing — and the subscription example
//! must deliver the message that the mutation example posts.

use std::collections::BTreeMap;
use std::time::Duration;

use frontdesk_db::seed::DEMO_TENANT_ID;
use frontdesk_e2e::ws::WsClient;
use frontdesk_e2e::{spawn_app, Role, SeedSpec, TestApp};
use serde_json::{json, Value};

/// The fenced ```graphql blocks of README.md, in order.
fn readme_blocks() -> Vec<String> {
    let readme = include_str!("../README.md");
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in readme.lines() {
        match (&mut current, line.trim_start()) {
            (None, l) if l.starts_with("```graphql") => current = Some(String::new()),
            (Some(_), l) if l.starts_with("```") => blocks.extend(current.take()),
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

/// Where a result has nothing to show: a null top-level field, or a list of `nodes` that is
/// empty wherever it occurs (nested lists may be empty for some parents, not for all: the
/// examples are there to show rows at every level).
fn empty_parts(data: &Value) -> Vec<String> {
    fn walk(value: &Value, path: &str, lists: &mut BTreeMap<String, bool>) {
        match value {
            Value::Object(fields) => {
                for (name, v) in fields {
                    let here = format!("{path}.{name}");
                    if let (Value::Array(a), "nodes") = (v, name.as_str()) {
                        *lists.entry(here.clone()).or_default() |= !a.is_empty();
                    }
                    walk(v, &here, lists);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, path, lists)),
            _ => {}
        }
    }
    let mut empty: Vec<String> = data
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, v)| v.is_null())
        .map(|(name, _)| format!("data.{name}"))
        .collect();
    let mut lists = BTreeMap::new();
    walk(data, "data", &mut lists);
    empty.extend(
        lists
            .into_iter()
            .filter(|(_, any)| !any)
            .map(|(path, _)| path),
    );
    empty
}

/// Values for the variables the examples declare, found the way the README says to find them.
async fn variables_for(app: &TestApp, token: &str, block: &str) -> anyhow::Result<Value> {
    let mut vars = serde_json::Map::new();
    if block.contains("$c: ID!") {
        let (_, body) = app
            .graphql(
                Some(token),
                "{ conversations(first: 1, filter: { channel: { eq: WHATSAPP }, status: { ne: CLOSED } }) { nodes { id } } }",
                json!({}),
            )
            .await?;
        let id = body["data"]["conversations"]["nodes"][0]["id"].clone();
        anyhow::ensure!(
            id.is_string(),
            "the demo tenant has no open WhatsApp conversation: {body}"
        );
        vars.insert("c".into(), id);
    }
    Ok(Value::Object(vars))
}

#[tokio::test]
async fn every_graphql_example_in_the_readme_returns_data_on_the_demo_tenant() -> anyhow::Result<()>
{
    let app = spawn_app().await?;
    app.seed(&SeedSpec::demo()).await?;
    let token = app.token(DEMO_TENANT_ID, Role::Owner).await?;
    let blocks = readme_blocks();
    assert!(
        blocks.len() >= 4,
        "README has {} GraphQL blocks",
        blocks.len()
    );

    // The subscription example is open while the examples after it run, as in the README's
    // two GraphiQL tabs.
    let mut subscribed: Option<WsClient> = None;
    for (i, block) in blocks.iter().enumerate() {
        if block.trim_start().starts_with("subscription") {
            let mut ws = WsClient::connect(app.addr, &token).await?;
            ws.subscribe("readme", block, json!({})).await?;
            // Subscriptions start with the next commit; give the server a moment to register.
            tokio::time::sleep(Duration::from_millis(300)).await;
            subscribed = Some(ws);
            continue;
        }
        let vars = variables_for(&app, &token, block).await?;
        let (status, body) = app.graphql(Some(&token), block, vars).await?;
        assert_eq!(
            status, 200,
            "README block {i} answered {status}: {body}\n{block}"
        );
        assert!(
            body.get("errors").is_none(),
            "README block {i} failed: {body}\n{block}"
        );
        let empty = empty_parts(&body["data"]);
        assert!(
            empty.is_empty(),
            "README block {i} returned no rows at {empty:?}\n{block}"
        );
    }

    let mut ws = subscribed.expect("the README shows a subscription");
    let (_, payload) = ws.next_payload(Duration::from_secs(10)).await?;
    assert!(payload.get("errors").is_none(), "{payload}");
    assert_eq!(
        payload["data"]["messageAdded"]["message"]["content"], "Is 3 pm free?",
        "{payload}"
    );
    ws.close().await?;
    Ok(())
}
