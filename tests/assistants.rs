//! Voice assistants over HTTP: `createAssistant`/`updateAssistant`/`deleteAssistant`, the
//! `assistant`/`assistants` reads, and the links between assistants and calls
//! (`Assistant.calls`, `Call.assistant`). What they store (checked with direct SQL), how
//! documents merge, what is refused and how (roles, other tenants' ids, bad input) without
//! writing anything, and that the webhook secret is write-only: stored sealed for its row,
//! never returned.

use frontdesk_db::crypto::sealed::ASSISTANT_SERVER_URL_SECRET;
use frontdesk_db::sqlx::{self, Row};
use frontdesk_db::testing::test_keyring;
use frontdesk_e2e::body::{data, id_of, message, refusal};
use frontdesk_e2e::{spawn_app, Role, TestApp};
use frontdesk_graphql::entity::global_id;
use serde_json::{json, Value};
use uuid::Uuid;

// ------------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------------

/// Every field of an assistant but its calls.
const ASSISTANT_FIELDS: &str = "id rowId name description providerAssistantId status industry
  voice { provider voiceId speed pitch }
  model { provider model temperature maxTokens systemPrompt }
  transcriber { provider model language }
  functions serverUrl hasServerUrlSecret endCallFunctionEnabled dialKeypadFunctionEnabled
  fillersEnabled silenceTimeoutSeconds maxDurationSeconds backgroundSound backchannelingEnabled
  backgroundDenoisingEnabled modelOutputInMessagesEnabled
  transportConfigurations { name provider timeout record recordingChannels }
  hipaaEnabled analysisEnabled artifactPlan messagePlan startSpeakingPlan stopSpeakingPlan
  monitorPlan metadata createdAt updatedAt";

fn create_doc() -> String {
    format!(
        "mutation($input: CreateAssistantInput!) {{
           createAssistant(input: $input) {{ {ASSISTANT_FIELDS} }} }}"
    )
}

fn update_doc() -> String {
    format!(
        "mutation($id: ID!, $input: UpdateAssistantInput!) {{
           updateAssistant(id: $id, input: $input) {{ {ASSISTANT_FIELDS} }} }}"
    )
}

fn read_doc() -> String {
    format!("query($id: ID!) {{ assistant(id: $id) {{ {ASSISTANT_FIELDS} }} }}")
}

const DELETE: &str = "mutation($id: ID!) { deleteAssistant(id: $id) { deletedId unlinkedCalls } }";

const RECORD_CALL: &str = "mutation($input: RecordCallInput!) {
  recordCall(input: $input) { id rowId assistant { rowId name } } }";

/// A configuration with every field set.
fn full_input() -> Value {
    json!({
        "name": "  Front desk  ", "description": "Answers the phone",
        "providerAssistantId": "vapi-asst-0001", "status": "ACTIVE", "industry": "MEDICAL",
        "voice": { "provider": "11labs", "voiceId": "rachel", "speed": 1.1, "pitch": 0.9 },
        "model": { "provider": "openai", "model": "gpt-4o-mini", "temperature": 0.4,
                   "maxTokens": 400, "systemPrompt": "You are the receptionist." },
        "transcriber": { "provider": "deepgram", "model": "nova-2", "language": "cs" },
        "functions": [{ "name": "create_booking", "parameters": { "type": "object" } }],
        "serverUrl": "https://hooks.example.com/vapi",
        "endCallFunctionEnabled": true, "dialKeypadFunctionEnabled": true,
        "fillersEnabled": true, "silenceTimeoutSeconds": 30, "maxDurationSeconds": 900,
        "backgroundSound": "office", "backchannelingEnabled": true,
        "backgroundDenoisingEnabled": true, "modelOutputInMessagesEnabled": true,
        "transportConfigurations": [
            { "name": "main line", "provider": "twilio", "timeout": 60, "record": true,
              "recordingChannels": "dual" },
            { "provider": "vonage", "record": false }
        ],
        "hipaaEnabled": true, "analysisEnabled": true,
        "artifactPlan": { "recordingEnabled": true },
        "messagePlan": { "idleMessages": ["Are you still there?"] },
        "startSpeakingPlan": { "waitSeconds": 0.4 },
        "stopSpeakingPlan": { "numWords": 2 },
        "monitorPlan": { "listenEnabled": false },
        "metadata": { "team": "north" }
    })
}

/// Creates an assistant; returns the created object as the API answered it.
async fn create(app: &TestApp, token: &str, input: Value) -> anyhow::Result<Value> {
    let body = app
        .gql(token, &create_doc(), json!({ "input": input }))
        .await?;
    Ok(data(&body, "createAssistant").clone())
}

/// The assistant row as direct SQL sees it (every column, by name).
async fn row(app: &TestApp, id: Uuid) -> anyhow::Result<Option<Value>> {
    let row = sqlx::query("SELECT to_jsonb(a) AS doc FROM app.assistants a WHERE id = $1")
        .bind(id)
        .fetch_optional(app.db.owner())
        .await?;
    Ok(row.map(|r| r.get::<Value, _>("doc")))
}

/// Ids as direct SQL returns them for `sql` (with `$1` bound to `arg`).
async fn sql_ids(app: &TestApp, sql: &str, arg: Uuid) -> anyhow::Result<Vec<String>> {
    let ids: Vec<Uuid> = sqlx::query_scalar(sql)
        .bind(arg)
        .fetch_all(app.db.owner())
        .await?;
    Ok(ids.into_iter().map(|i| i.to_string()).collect())
}

/// The `rowId`s of a connection's nodes, in order.
fn row_ids(connection: &Value) -> Vec<String> {
    connection["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| n["rowId"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Records a call taken by `assistant` (an id as the API accepts it, or null).
async fn record_call(
    app: &TestApp,
    token: &str,
    call_id: &str,
    assistant: Value,
) -> anyhow::Result<Value> {
    let body = app
        .gql(
            token,
            RECORD_CALL,
            json!({ "input": { "provider": "vapi", "providerCallId": call_id,
                               "phoneNumber": "+420777123456", "assistantId": assistant } }),
        )
        .await?;
    Ok(data(&body, "recordCall").clone())
}

// ------------------------------------------------------------------------------------------------
// Create and read
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_full_configuration_reads_back_typed_and_is_stored_as_seed_001_spells_it(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Assistant clinic").await?;
    let admin = app.token(tenant, Role::Admin).await?;
    let created = create(&app, &admin, full_input()).await?;
    let id = id_of(&created);
    assert_eq!(created["id"], json!(global_id::encode("Assistant", id).0));
    assert_eq!(created["name"], "Front desk", "trimmed");
    assert_eq!(created["status"], "ACTIVE");
    assert_eq!(created["industry"], "MEDICAL");
    assert_eq!(
        created["voice"],
        json!({ "provider": "11labs", "voiceId": "rachel", "speed": 1.1, "pitch": 0.9 })
    );
    assert_eq!(
        created["model"],
        json!({ "provider": "openai", "model": "gpt-4o-mini", "temperature": 0.4,
                "maxTokens": 400, "systemPrompt": "You are the receptionist." })
    );
    assert_eq!(
        created["transcriber"],
        json!({ "provider": "deepgram", "model": "nova-2", "language": "cs" })
    );
    assert_eq!(
        created["transportConfigurations"],
        json!([
            { "name": "main line", "provider": "twilio", "timeout": 60.0, "record": true,
              "recordingChannels": "dual" },
            { "name": null, "provider": "vonage", "timeout": null, "record": false,
              "recordingChannels": null }
        ])
    );
    assert_eq!(created["functions"], full_input()["functions"]);
    assert_eq!(created["serverUrl"], "https://hooks.example.com/vapi");
    assert_eq!(created["hasServerUrlSecret"], false);
    assert_eq!(created["silenceTimeoutSeconds"], 30);
    assert_eq!(created["backgroundSound"], "office");
    for flag in [
        "endCallFunctionEnabled",
        "dialKeypadFunctionEnabled",
        "fillersEnabled",
        "backchannelingEnabled",
        "backgroundDenoisingEnabled",
        "modelOutputInMessagesEnabled",
        "hipaaEnabled",
        "analysisEnabled",
    ] {
        assert_eq!(created[flag], true, "{flag}");
    }
    for plan in [
        "artifactPlan",
        "messagePlan",
        "startSpeakingPlan",
        "stopSpeakingPlan",
        "monitorPlan",
        "metadata",
    ] {
        assert_eq!(created[plan], full_input()[plan], "{plan}");
    }

    // Stored with the seed's keys and the database spellings; no nulls for absent keys.
    let stored = row(&app, id).await?.expect("stored");
    assert_eq!(stored["tenant_id"], json!(tenant));
    assert_eq!(stored["status"], "active");
    assert_eq!(stored["industry"], "medical");
    assert_eq!(stored["provider_assistant_id"], "vapi-asst-0001");
    assert_eq!(stored["voice"], full_input()["voice"]);
    assert_eq!(stored["model"], full_input()["model"]);
    assert_eq!(stored["transcriber"], full_input()["transcriber"]);
    assert_eq!(
        stored["transport_configurations"],
        json!([
            { "name": "main line", "provider": "twilio", "timeout": 60.0, "record": true,
              "recordingChannels": "dual" },
            { "provider": "vonage", "record": false }
        ])
    );
    assert_eq!(stored["functions"], full_input()["functions"]);
    assert_eq!(stored["message_plan"], full_input()["messagePlan"]);
    assert_eq!(stored["metadata"], json!({ "team": "north" }));
    assert!(stored["server_url_secret_ciphertext"].is_null());

    // Both spellings of the id, and `node`, read the same assistant; viewers read it too.
    let viewer = app.token(tenant, Role::Viewer).await?;
    for key in [created["id"].clone(), created["rowId"].clone()] {
        let body = app.gql(&viewer, &read_doc(), json!({ "id": key })).await?;
        assert_eq!(data(&body, "assistant"), &created, "assistant({key})");
    }
    let body = app
        .gql(
            &viewer,
            "query($id: ID!) { node(id: $id) { id ... on Assistant { name model { maxTokens } } } }",
            json!({ "id": created["id"] }),
        )
        .await?;
    assert_eq!(data(&body, "node")["model"]["maxTokens"], 400);

    // Only a name: the defaults.
    let minimal = create(&app, &admin, json!({ "name": "Spare" })).await?;
    assert_eq!(minimal["status"], "INACTIVE");
    assert!(minimal["industry"].is_null() && minimal["providerAssistantId"].is_null());
    assert_eq!(
        minimal["voice"],
        json!({ "provider": null, "voiceId": null, "speed": null, "pitch": null })
    );
    assert_eq!(minimal["functions"], json!([]));
    assert_eq!(minimal["transportConfigurations"], json!([]));
    assert_eq!(minimal["metadata"], json!({}));
    assert_eq!(minimal["hipaaEnabled"], false);
    let stored = row(&app, id_of(&minimal)).await?.expect("stored");
    assert_eq!(stored["voice"], json!({}));
    assert_eq!(stored["model"], json!({}));
    Ok(())
}

#[tokio::test]
async fn lists_filter_by_status_industry_name_and_time_and_sort_exactly_like_sql(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let a = app.new_tenant("Assistant list A").await?;
    let b = app.new_tenant("Assistant list B").await?;
    let admin = app.token(a, Role::Admin).await?;
    let inputs = [
        json!({ "name": "Receptionist", "status": "ACTIVE", "industry": "MEDICAL" }),
        json!({ "name": "After hours", "status": "ACTIVE", "industry": "GENERAL",
                "description": "Takes messages at night" }),
        json!({ "name": "Sales desk", "status": "TRAINING", "industry": "SALES" }),
        json!({ "name": "Intake 100%", "status": "ERROR", "industry": "LEGAL" }),
        json!({ "name": "Night receptionist", "industry": "MEDICAL" }),
    ];
    for input in inputs {
        create(&app, &admin, input).await?;
    }
    // The other tenant's assistant matches every filter below and must never show.
    let admin_b = app.token(b, Role::Admin).await?;
    create(
        &app,
        &admin_b,
        json!({ "name": "Receptionist B", "status": "ACTIVE", "industry": "MEDICAL" }),
    )
    .await?;

    let cases = [
        ("{ status: { eq: ACTIVE } }", "status = 'active'"),
        (
            "{ industry: { in: [MEDICAL, LEGAL] } }",
            "industry IN ('medical', 'legal')",
        ),
        (
            "{ status: { ne: ACTIVE }, industry: { isNull: false } }",
            "status <> 'active' AND industry IS NOT NULL",
        ),
        (
            "{ search: \"receptionist\" }",
            "(name ILIKE '%receptionist%' OR description ILIKE '%receptionist%')",
        ),
        (
            "{ search: \"NIGHT\" }",
            "(name ILIKE '%night%' OR description ILIKE '%night%')",
        ),
        ("{ search: \"100%\" }", "name ILIKE '%100\\%%'"),
        ("{ name: { ilike: \"%desk%\" } }", "name ILIKE '%desk%'"),
        (
            "{ createdAt: { gte: \"2000-01-01T00:00:00Z\" }, hasServerUrlSecret: false }",
            "created_at >= '2000-01-01' AND server_url_secret_ciphertext IS NULL",
        ),
    ];
    for (filter, condition) in cases {
        let body = app
            .gql(
                &admin,
                &format!(
                    "{{ assistants(first: 50, filter: {filter}, orderBy: [{{ field: NAME }}]) {{
                         totalCount nodes {{ rowId }} }} }}"
                ),
                json!({}),
            )
            .await?;
        let page = data(&body, "assistants");
        let want = sql_ids(
            &app,
            &format!(
                "SELECT id FROM app.assistants WHERE tenant_id = $1 AND {condition}
                 ORDER BY name, id"
            ),
            a,
        )
        .await?;
        assert!(!want.is_empty(), "{filter} matches something");
        assert_eq!(row_ids(page), want, "{filter}");
        assert_eq!(page["totalCount"], want.len(), "{filter}");
    }

    // The default order is newest first; pages follow each other.
    let want = sql_ids(
        &app,
        "SELECT id FROM app.assistants WHERE tenant_id = $1 ORDER BY created_at DESC, id",
        a,
    )
    .await?;
    let body = app
        .gql(
            &admin,
            "{ assistants(first: 3) { pageInfo { hasNextPage endCursor } nodes { rowId } } }",
            json!({}),
        )
        .await?;
    let first = data(&body, "assistants");
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    let body = app
        .gql(
            &admin,
            "query($after: String) { assistants(first: 3, after: $after) { pageInfo { hasNextPage } nodes { rowId } } }",
            json!({ "after": first["pageInfo"]["endCursor"] }),
        )
        .await?;
    let second = data(&body, "assistants");
    assert_eq!(second["pageInfo"]["hasNextPage"], false);
    assert_eq!([row_ids(first), row_ids(second)].concat(), want);
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Update and delete
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_update_changes_the_fields_given_merges_document_keys_and_clears_nulls(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Assistant updates").await?;
    let admin = app.token(tenant, Role::Admin).await?;
    let created = create(&app, &admin, full_input()).await?;
    let id = id_of(&created);
    // A key the API does not model, as an import or a newer platform would leave it.
    sqlx::query("UPDATE app.assistants SET voice = voice || '{\"stability\": 0.5}' WHERE id = $1")
        .bind(id)
        .execute(app.db.owner())
        .await?;

    let body = app
        .gql(
            &admin,
            &update_doc(),
            json!({ "id": created["id"], "input": {
                "name": "Front desk 2", "status": "INACTIVE", "industry": null,
                "description": null, "maxDurationSeconds": null, "backgroundSound": "https://cdn.example.com/cafe.mp3",
                "voice": { "speed": 1.25, "pitch": null },
                "model": { "temperature": 0, "systemPrompt": "  " },
                "transportConfigurations": [{ "provider": "telnyx", "timeout": 15.5 }],
                "functions": [], "hipaaEnabled": false, "monitorPlan": { "listenEnabled": true }
            } }),
        )
        .await?;
    let updated = data(&body, "updateAssistant");
    assert_eq!(id_of(updated), id);
    assert_eq!(updated["name"], "Front desk 2");
    assert_eq!(updated["status"], "INACTIVE");
    assert_eq!(
        updated["backgroundSound"],
        "https://cdn.example.com/cafe.mp3"
    );
    assert_eq!(
        updated["voice"],
        json!({ "provider": "11labs", "voiceId": "rachel", "speed": 1.25, "pitch": null }),
        "speed changed, pitch removed, the rest kept"
    );
    assert_eq!(
        updated["model"],
        json!({ "provider": "openai", "model": "gpt-4o-mini", "temperature": 0.0,
                "maxTokens": 400, "systemPrompt": null }),
        "blank text removes the key"
    );
    assert_eq!(updated["transcriber"], created["transcriber"], "kept");
    assert_eq!(
        updated["transportConfigurations"],
        json!([{ "name": null, "provider": "telnyx", "timeout": 15.5, "record": null,
                 "recordingChannels": null }]),
        "replaced whole"
    );
    assert_eq!(updated["functions"], json!([]));
    assert_eq!(updated["hipaaEnabled"], false);
    assert_eq!(updated["monitorPlan"], json!({ "listenEnabled": true }));
    for cleared in ["industry", "description", "maxDurationSeconds"] {
        assert!(updated[cleared].is_null(), "{cleared} cleared: {updated}");
    }
    for kept in [
        "providerAssistantId",
        "serverUrl",
        "silenceTimeoutSeconds",
        "analysisEnabled",
        "artifactPlan",
        "metadata",
        "createdAt",
    ] {
        assert_eq!(updated[kept], created[kept], "{kept} kept");
    }

    let stored = row(&app, id).await?.expect("stored");
    assert_eq!(
        stored["voice"],
        json!({ "provider": "11labs", "voiceId": "rachel", "speed": 1.25, "stability": 0.5 }),
        "the unmodelled key survives"
    );
    assert_eq!(
        stored["model"],
        json!({ "provider": "openai", "model": "gpt-4o-mini", "temperature": 0.0, "maxTokens": 400 })
    );
    assert_eq!(stored["status"], "inactive");
    assert!(stored["industry"].is_null() && stored["max_duration_seconds"].is_null());

    // An empty change writes nothing and answers the assistant as it is.
    let body = app
        .gql(&admin, &update_doc(), json!({ "id": id, "input": {} }))
        .await?;
    assert_eq!(data(&body, "updateAssistant"), updated);
    Ok(())
}

#[tokio::test]
async fn deleting_an_assistant_keeps_its_calls_without_an_assistant() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Assistant deletion").await?;
    let admin = app.token(tenant, Role::Admin).await?;
    let gone = create(&app, &admin, json!({ "name": "Old line" })).await?;
    let kept = create(&app, &admin, json!({ "name": "New line" })).await?;
    for n in 0..3 {
        record_call(&app, &admin, &format!("old-{n}"), gone["id"].clone()).await?;
    }
    record_call(&app, &admin, "new-0", kept["rowId"].clone()).await?;

    let body = app.gql(&admin, DELETE, json!({ "id": gone["id"] })).await?;
    let payload = data(&body, "deleteAssistant");
    assert_eq!(payload["deletedId"], gone["id"]);
    assert_eq!(payload["unlinkedCalls"], 3);
    assert!(row(&app, id_of(&gone)).await?.is_none());
    let (calls, unlinked): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE assistant_id IS NULL) FROM app.calls
         WHERE tenant_id = $1",
    )
    .bind(tenant)
    .fetch_one(app.db.owner())
    .await?;
    assert_eq!((calls, unlinked), (4, 3), "the calls stay, unlinked");
    let body = app
        .gql(
            &admin,
            "{ calls(first: 10) { nodes { providerCallId assistant { rowId } } } }",
            json!({}),
        )
        .await?;
    for call in data(&body, "calls")["nodes"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let want = if call["providerCallId"] == "new-0" {
            json!({ "rowId": kept["rowId"] })
        } else {
            Value::Null
        };
        assert_eq!(call["assistant"], want, "{call}");
    }

    // Gone: reading or deleting it again is NOT_FOUND.
    let body = app
        .gql(&admin, &read_doc(), json!({ "id": gone["id"] }))
        .await?;
    assert_eq!(refusal(&body).0, "NOT_FOUND", "{body}");
    let body = app
        .gql(&admin, DELETE, json!({ "id": gone["rowId"] }))
        .await?;
    assert_eq!(refusal(&body), ("NOT_FOUND".into(), "id".into()), "{body}");
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Calls
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn assistant_calls_page_newest_first_and_each_call_names_its_assistant() -> anyhow::Result<()>
{
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Assistant calls").await?;
    let admin = app.token(tenant, Role::Admin).await?;
    let one = create(&app, &admin, json!({ "name": "One" })).await?;
    let two = create(&app, &admin, json!({ "name": "Two" })).await?;
    for n in 0..5 {
        let call = record_call(&app, &admin, &format!("one-{n}"), one["id"].clone()).await?;
        assert_eq!(
            call["assistant"],
            json!({ "rowId": one["rowId"], "name": "One" })
        );
    }
    record_call(&app, &admin, "two-0", two["rowId"].clone()).await?;
    let loose = record_call(&app, &admin, "none-0", Value::Null).await?;
    assert!(loose["assistant"].is_null());

    let want = sql_ids(
        &app,
        "SELECT id FROM app.calls WHERE assistant_id = $1 ORDER BY created_at DESC, id",
        id_of(&one),
    )
    .await?;
    assert_eq!(want.len(), 5);
    const PAGE: &str = "query($id: ID!, $after: String) { assistant(id: $id) {
        calls(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor }
          nodes { rowId assistant { rowId } } } } }";
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let body = app
            .gql(&admin, PAGE, json!({ "id": one["id"], "after": after }))
            .await?;
        let calls = &data(&body, "assistant")["calls"];
        assert_eq!(calls["totalCount"], 5);
        for node in calls["nodes"].as_array().into_iter().flatten() {
            assert_eq!(node["assistant"]["rowId"], one["rowId"], "links back");
        }
        seen.extend(row_ids(calls));
        if calls["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = calls["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, want, "every call once, newest first");
    // Backwards from the end: the oldest two, then the two before them.
    const BACK: &str = "query($id: ID!, $before: String) { assistant(id: $id) {
        calls(last: 2, before: $before) { pageInfo { hasPreviousPage startCursor } nodes { rowId } } } }";
    let body = app.gql(&admin, BACK, json!({ "id": one["id"] })).await?;
    let last = &data(&body, "assistant")["calls"];
    assert_eq!(row_ids(last), want[3..]);
    assert_eq!(last["pageInfo"]["hasPreviousPage"], true);
    let body = app
        .gql(
            &admin,
            BACK,
            json!({ "id": one["id"], "before": last["pageInfo"]["startCursor"] }),
        )
        .await?;
    assert_eq!(row_ids(&data(&body, "assistant")["calls"]), want[1..3]);

    // Every assistant's calls in one list (read ahead, one statement per level), and the calls
    // filtered by assistant.
    let body = app
        .gql(
            &admin,
            "{ assistants(orderBy: [{ field: NAME }]) { nodes { name calls(first: 10) { totalCount } } } }",
            json!({}),
        )
        .await?;
    let counts: Vec<Value> = data(&body, "assistants")["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| json!([n["name"], n["calls"]["totalCount"]]))
        .collect();
    assert_eq!(counts, [json!(["One", 5]), json!(["Two", 1])]);
    let body = app
        .gql(
            &admin,
            "query($a: ID!) { calls(filter: { assistantId: { eq: $a } }) { totalCount } }",
            json!({ "a": two["id"] }),
        )
        .await?;
    assert_eq!(data(&body, "calls")["totalCount"], 1);
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// The webhook secret
// ------------------------------------------------------------------------------------------------

/// The stored webhook secret of assistant `id`, as the owner reads it.
async fn stored_secret(app: &TestApp, id: Uuid) -> anyhow::Result<Option<Vec<u8>>> {
    Ok(
        sqlx::query_scalar("SELECT server_url_secret_ciphertext FROM app.assistants WHERE id = $1")
            .bind(id)
            .fetch_one(app.db.owner())
            .await?,
    )
}

/// Opens a stored webhook secret with the test key, for the row it was sealed for.
fn open_secret(tenant: Uuid, id: Uuid, sealed: &[u8]) -> anyhow::Result<String> {
    let aad = ASSISTANT_SERVER_URL_SECRET.aad(tenant, id);
    Ok(String::from_utf8(
        test_keyring().open(&aad, sealed)?.to_vec(),
    )?)
}

#[tokio::test]
async fn the_webhook_secret_is_write_only_stored_sealed_for_its_row_and_never_returned(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Assistant secrets").await?;
    let admin = app.token(tenant, Role::Admin).await?;
    let secret = format!("whsec-{}", Uuid::new_v4().simple());
    let mut input = full_input();
    input["serverUrlSecret"] = json!(secret);
    let body = app
        .gql(&admin, &create_doc(), json!({ "input": input }))
        .await?;
    let with = data(&body, "createAssistant").clone();
    let without = create(&app, &admin, json!({ "name": "No secret" })).await?;
    assert_eq!(with["hasServerUrlSecret"], true);
    assert_eq!(without["hasServerUrlSecret"], false);

    // Stored sealed for this row: the secret is nowhere in the bytes, which open with the
    // test key for exactly this assistant.
    let sealed = stored_secret(&app, id_of(&with)).await?.expect("stored");
    assert!(!sealed.windows(secret.len()).any(|w| w == secret.as_bytes()));
    assert_eq!(open_secret(tenant, id_of(&with), &sealed)?, secret);
    assert!(
        open_secret(tenant, id_of(&without), &sealed).is_err(),
        "bound to its row"
    );

    // Neither the secret nor its ciphertext, in any spelling, is in any answer.
    let spellings = [
        secret.clone(),
        sealed
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>(),
    ];
    let leaks = |body: &Value| {
        let text = body.to_string();
        spellings.iter().any(|s| text.contains(s.as_str()))
    };
    assert!(!leaks(&body), "{body}");
    let body = app
        .gql(&admin, &read_doc(), json!({ "id": with["id"] }))
        .await?;
    assert_eq!(data(&body, "assistant")["hasServerUrlSecret"], true);
    assert!(!leaks(&body), "{body}");
    let body = app
        .gql(
            &admin,
            &format!("{{ assistants(filter: {{ hasServerUrlSecret: true }}) {{ nodes {{ {ASSISTANT_FIELDS} }} }} }}"),
            json!({}),
        )
        .await?;
    assert_eq!(
        row_ids(data(&body, "assistants")),
        [with["rowId"].as_str().unwrap_or_default()]
    );
    assert!(!leaks(&body), "{body}");

    // Changing other fields leaves the secret alone.
    let body = app
        .gql(
            &admin,
            &update_doc(),
            json!({ "id": with["id"], "input": { "name": "Renamed", "serverUrl": "https://hooks.example.com/v2" } }),
        )
        .await?;
    assert_eq!(data(&body, "updateAssistant")["hasServerUrlSecret"], true);
    assert!(!leaks(&body), "{body}");
    assert_eq!(
        stored_secret(&app, id_of(&with)).await?,
        Some(sealed.clone())
    );

    // A new secret replaces it; a blank one is refused without being quoted; null deletes it.
    let rotated = format!("whsec-{}", Uuid::new_v4().simple());
    let body = app
        .gql(
            &admin,
            &update_doc(),
            json!({ "id": with["id"], "input": { "serverUrlSecret": rotated } }),
        )
        .await?;
    assert!(!body.to_string().contains(&rotated), "{body}");
    let now = stored_secret(&app, id_of(&with)).await?.expect("stored");
    assert_eq!(open_secret(tenant, id_of(&with), &now)?, rotated);
    let body = app
        .gql(
            &admin,
            &update_doc(),
            json!({ "id": with["id"], "input": { "serverUrlSecret": "  " } }),
        )
        .await?;
    assert_eq!(
        refusal(&body),
        ("BAD_USER_INPUT".into(), "input.serverUrlSecret".into())
    );
    assert_eq!(stored_secret(&app, id_of(&with)).await?, Some(now));
    let body = app
        .gql(
            &admin,
            &update_doc(),
            json!({ "id": with["id"], "input": { "serverUrlSecret": null } }),
        )
        .await?;
    assert_eq!(data(&body, "updateAssistant")["hasServerUrlSecret"], false);
    assert_eq!(stored_secret(&app, id_of(&with)).await?, None);

    // Another tenant cannot set it; a viewer cannot either; neither answer quotes it. (The
    // admin sets one first, so there is something for them to overwrite.)
    let other = app.new_tenant("Other agency").await?;
    let outsider = app.token(other, Role::Admin).await?;
    let viewer = app.token(tenant, Role::Viewer).await?;
    let body = app
        .gql(
            &admin,
            &update_doc(),
            json!({ "id": with["id"], "input": { "serverUrlSecret": secret } }),
        )
        .await?;
    let kept = stored_secret(&app, id_of(&with)).await?;
    assert!(kept.is_some(), "{body}");
    for (token, code) in [(&outsider, "NOT_FOUND"), (&viewer, "FORBIDDEN")] {
        let intruder = format!("whsec-{}", Uuid::new_v4().simple());
        let body = app
            .gql(
                token,
                &update_doc(),
                json!({ "id": with["id"], "input": { "serverUrlSecret": intruder } }),
            )
            .await?;
        assert_eq!(refusal(&body).0, code, "{body}");
        assert!(!body.to_string().contains(&intruder), "{body}");
        assert_eq!(stored_secret(&app, id_of(&with)).await?, kept);
    }

    // No field of the type could carry it: `hasServerUrlSecret` is the only one about secrets.
    let body = app
        .gql(
            &admin,
            "{ __type(name: \"Assistant\") { fields { name } } }",
            json!({}),
        )
        .await?;
    let secretive: Vec<String> = data(&body, "__type")["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["name"].as_str())
        .filter(|n| n.to_lowercase().contains("secret") || n.to_lowercase().contains("cipher"))
        .map(str::to_owned)
        .collect();
    assert_eq!(secretive, ["hasServerUrlSecret"]);
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Refusals: roles, tenants, input
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn only_admins_or_supervisors_granted_system_admin_configure_assistants_and_only_admins_delete(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Assistant roles").await?;
    let owner = app.token(tenant, Role::Owner).await?;
    let assistant = create(&app, &owner, json!({ "name": "Desk" })).await?;
    let id = id_of(&assistant);
    let before = row(&app, id).await?;

    let attempts = |what: &str| {
        [
            (create_doc(), json!({ "input": { "name": what } })),
            (
                update_doc(),
                json!({ "id": assistant["id"], "input": { "name": what } }),
            ),
            (DELETE.to_owned(), json!({ "id": assistant["id"] })),
        ]
    };
    for role in [Role::Viewer, Role::Agent, Role::Supervisor] {
        let token = app.token(tenant, role).await?;
        // They all read.
        let body = app
            .gql(&token, &read_doc(), json!({ "id": assistant["id"] }))
            .await?;
        assert_eq!(id_of(data(&body, "assistant")), id);
        for (query, variables) in attempts("Taken over") {
            let body = app.gql(&token, &query, variables).await?;
            assert_eq!(refusal(&body).0, "FORBIDDEN", "{role:?} {query}: {body}");
            assert!(message(&body).contains("system:admin") || message(&body).contains("admin"));
            assert!(body["data"].is_null(), "{body}");
        }
    }
    assert_eq!(app.rows("assistants", tenant).await?, 1);
    assert_eq!(row(&app, id).await?, before, "unchanged");

    // A supervisor the owner granted `system:admin` configures, but does not delete.
    let (user, supervisor) = app.new_member(tenant, Role::Supervisor).await?;
    sqlx::query(
        "UPDATE app.memberships SET permissions = '{system:admin}' WHERE tenant_id = $1 AND user_id = $2",
    )
    .bind(tenant)
    .bind(user)
    .execute(app.db.owner())
    .await?;
    let made = create(&app, &supervisor, json!({ "name": "Supervised" })).await?;
    let body = app
        .gql(
            &supervisor,
            &update_doc(),
            json!({ "id": made["id"], "input": { "status": "ACTIVE" } }),
        )
        .await?;
    assert_eq!(data(&body, "updateAssistant")["status"], "ACTIVE");
    let body = app
        .gql(&supervisor, DELETE, json!({ "id": made["id"] }))
        .await?;
    assert_eq!(refusal(&body).0, "FORBIDDEN", "{body}");
    assert!(row(&app, id_of(&made)).await?.is_some());

    // An admin deletes.
    let admin = app.token(tenant, Role::Admin).await?;
    let body = app.gql(&admin, DELETE, json!({ "id": made["id"] })).await?;
    assert_eq!(data(&body, "deleteAssistant")["unlinkedCalls"], 0);
    assert!(row(&app, id_of(&made)).await?.is_none());
    Ok(())
}

#[tokio::test]
async fn another_tenants_assistant_is_not_found_and_no_call_can_point_at_it() -> anyhow::Result<()>
{
    let app = spawn_app().await?;
    let a = app.new_tenant("Assistant tenancy A").await?;
    let b = app.new_tenant("Assistant tenancy B").await?;
    let admin_a = app.token(a, Role::Admin).await?;
    let admin_b = app.token(b, Role::Admin).await?;
    let theirs = create(&app, &admin_b, full_input()).await?;
    let mine = create(&app, &admin_a, json!({ "name": "Mine" })).await?;
    let my_call = record_call(&app, &admin_a, "mine-0", Value::Null).await?;
    let before_theirs = row(&app, id_of(&theirs)).await?;
    let rows_a = app.rows("assistants", a).await?;

    let random = global_id::encode("Assistant", Uuid::new_v4()).0;
    let attempts: [(String, Value, &str); 3] = [
        (read_doc(), json!({}), "<no field>"),
        (
            update_doc(),
            json!({ "input": { "name": "Taken over" } }),
            "id",
        ),
        (DELETE.to_owned(), json!({}), "id"),
    ];
    for (query, template, field) in attempts {
        let mut answers = Vec::new();
        for id in [theirs["id"].clone(), json!(random), theirs["rowId"].clone()] {
            let mut vars = template.clone();
            vars["id"] = id;
            let body = app.gql(&admin_a, &query, vars).await?;
            let (code, named) = refusal(&body);
            assert_eq!(code, "NOT_FOUND", "{query}: {body}");
            if field != "<no field>" {
                assert_eq!(named, field, "{query}: {body}");
            }
            answers.push((refusal(&body), message(&body)));
        }
        assert_eq!(
            answers[0], answers[1],
            "a foreign id answers like a random one"
        );
        assert_eq!(answers[2], answers[1], "so does its bare row id");
    }
    let body = app
        .gql(
            &admin_a,
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": theirs["id"] }),
        )
        .await?;
    assert!(data(&body, "node").is_null(), "{body}");
    let body = app
        .gql(&admin_a, "{ assistants { totalCount } }", json!({}))
        .await?;
    assert_eq!(data(&body, "assistants")["totalCount"], 1);

    // Their assistant as the assistant of a new or an existing call of mine.
    let body = app
        .gql(
            &admin_a,
            RECORD_CALL,
            json!({ "input": { "provider": "vapi", "providerCallId": "mine-1",
                               "phoneNumber": "+420777123456", "assistantId": theirs["id"] } }),
        )
        .await?;
    assert_eq!(
        refusal(&body),
        ("NOT_FOUND".into(), "input.assistantId".into()),
        "{body}"
    );
    let body = app
        .gql(
            &admin_a,
            "mutation($id: ID!, $a: ID) { updateCall(id: $id, input: { assistantId: $a }) { id } }",
            json!({ "id": my_call["rowId"], "a": theirs["rowId"] }),
        )
        .await?;
    assert_eq!(
        refusal(&body),
        ("NOT_FOUND".into(), "input.assistantId".into()),
        "{body}"
    );
    // Not even the owner, bypassing the API and row-level security, can make one: the foreign
    // key includes the tenant.
    let err = sqlx::query("UPDATE app.calls SET assistant_id = $2 WHERE id = $1")
        .bind(id_of(&my_call))
        .bind(id_of(&theirs))
        .execute(app.db.owner())
        .await
        .expect_err("a call cannot name another tenant's assistant");
    assert!(err.to_string().contains("calls_assistant_fkey"), "{err}");
    let linked: Option<Uuid> =
        sqlx::query_scalar("SELECT assistant_id FROM app.calls WHERE id = $1")
            .bind(id_of(&my_call))
            .fetch_one(app.db.owner())
            .await?;
    assert_eq!(linked, None);

    assert_eq!(
        row(&app, id_of(&theirs)).await?,
        before_theirs,
        "B's assistant is untouched"
    );
    assert_eq!(
        app.rows("assistants", a).await?,
        rows_a,
        "nothing written in A"
    );
    assert!(row(&app, id_of(&mine)).await?.is_some());
    Ok(())
}

#[tokio::test]
async fn invalid_input_is_refused_naming_the_field_and_nothing_is_written() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Assistant input").await?;
    let admin = app.token(tenant, Role::Admin).await?;
    let existing = create(&app, &admin, full_input()).await?;
    let id = id_of(&existing);
    let before = row(&app, id).await?;
    let create = |extra: Value| {
        let mut input = json!({ "name": "Eva" });
        for (k, v) in extra.as_object().into_iter().flatten() {
            input[k] = v.clone();
        }
        (create_doc(), json!({ "input": input }))
    };
    let update = |input: Value| (update_doc(), json!({ "id": id, "input": input }));
    let cases = [
        (
            create(json!({ "model": { "temperature": 2.5 } })),
            "input.model.temperature",
        ),
        (
            create(json!({ "model": { "temperature": -0.1 } })),
            "input.model.temperature",
        ),
        (
            create(json!({ "model": { "maxTokens": 0 } })),
            "input.model.maxTokens",
        ),
        (
            create(json!({ "voice": { "speed": 0 } })),
            "input.voice.speed",
        ),
        (
            create(json!({ "voice": { "pitch": -1 } })),
            "input.voice.pitch",
        ),
        (
            create(json!({ "voice": { "speed": 11 } })),
            "input.voice.speed",
        ),
        (
            create(json!({ "transcriber": { "language": "x".repeat(36) } })),
            "input.transcriber.language",
        ),
        (
            create(json!({ "silenceTimeoutSeconds": 0 })),
            "input.silenceTimeoutSeconds",
        ),
        (
            create(json!({ "maxDurationSeconds": -5 })),
            "input.maxDurationSeconds",
        ),
        (
            create(
                json!({ "transportConfigurations": [{ "provider": "twilio" }, { "timeout": 0 }] }),
            ),
            "input.transportConfigurations[1].timeout",
        ),
        (
            create(json!({ "serverUrl": "ftp://example.com/hook" })),
            "input.serverUrl",
        ),
        (
            create(json!({ "backgroundSound": "the office, please" })),
            "input.backgroundSound",
        ),
        (
            create(json!({ "providerAssistantId": "has spaces" })),
            "input.providerAssistantId",
        ),
        (
            create(json!({ "functions": [{ "name": "ok" }, "not an object"] })),
            "input.functions[1]",
        ),
        (create(json!({ "metadata": [1, 2] })), "input.metadata"),
        (
            create(json!({ "artifactPlan": "yes" })),
            "input.artifactPlan",
        ),
        (create(json!({ "name": "   " })), "input.name"),
        (
            update(json!({ "model": { "temperature": 3 } })),
            "input.model.temperature",
        ),
        (
            update(json!({ "model": { "maxTokens": -1 } })),
            "input.model.maxTokens",
        ),
        (
            update(json!({ "voice": { "speed": -0.5 } })),
            "input.voice.speed",
        ),
        (
            update(json!({ "silenceTimeoutSeconds": 0 })),
            "input.silenceTimeoutSeconds",
        ),
        (update(json!({ "name": null })), "input.name"),
        (update(json!({ "status": null })), "input.status"),
        (update(json!({ "model": null })), "input.model"),
        (
            update(json!({ "hipaaEnabled": null })),
            "input.hipaaEnabled",
        ),
        (update(json!({ "metadata": null })), "input.metadata"),
        (
            update(json!({ "transportConfigurations": null })),
            "input.transportConfigurations",
        ),
        // A valid change next to an invalid one: neither is written.
        (
            update(json!({ "name": "Changed", "voice": { "pitch": 0 } })),
            "input.voice.pitch",
        ),
    ];
    for ((query, variables), field) in cases {
        let body = app.gql(&admin, &query, variables.clone()).await?;
        assert_eq!(
            refusal(&body),
            ("BAD_USER_INPUT".into(), field.into()),
            "{variables}: {body}"
        );
        assert!(body["data"].is_null(), "{body}");
    }
    assert_eq!(app.rows("assistants", tenant).await?, 1, "nothing created");
    assert_eq!(row(&app, id).await?, before, "nothing changed");
    Ok(())
}

#[tokio::test]
async fn a_provider_assistant_id_taken_in_the_tenant_is_a_conflict_on_that_field(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let a = app.new_tenant("Assistant ids A").await?;
    let b = app.new_tenant("Assistant ids B").await?;
    let admin = app.token(a, Role::Admin).await?;
    create(
        &app,
        &admin,
        json!({ "name": "One", "providerAssistantId": "vapi-1" }),
    )
    .await?;
    let other = create(&app, &admin, json!({ "name": "Two" })).await?;
    let before = row(&app, id_of(&other)).await?;

    let body = app
        .gql(
            &admin,
            &create_doc(),
            json!({ "input": { "name": "Three", "providerAssistantId": "vapi-1" } }),
        )
        .await?;
    assert_eq!(
        refusal(&body),
        ("CONFLICT".into(), "input.providerAssistantId".into()),
        "{body}"
    );
    assert!(!message(&body).contains("vapi-1"), "never quotes the value");
    let body = app
        .gql(
            &admin,
            &update_doc(),
            json!({ "id": other["id"], "input": { "providerAssistantId": "vapi-1" } }),
        )
        .await?;
    assert_eq!(
        refusal(&body),
        ("CONFLICT".into(), "input.providerAssistantId".into()),
        "{body}"
    );
    assert_eq!(app.rows("assistants", a).await?, 2);
    assert_eq!(row(&app, id_of(&other)).await?, before);

    // Another tenant may use the same platform id.
    let admin_b = app.token(b, Role::Admin).await?;
    create(
        &app,
        &admin_b,
        json!({ "name": "B", "providerAssistantId": "vapi-1" }),
    )
    .await?;
    Ok(())
}
