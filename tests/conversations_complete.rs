//! Conversations made complete, over HTTP against a real database: `updateConversation` and
//! `recordConversationAnalysis` (each field written and read back, bad input named, nothing
//! written on refusal), note authorship (`updateConversationNote`, `deleteConversationNote`),
//! message feedback, AI threads, seed 002's chats and their lifecycle, other tenants' ids as
//! `NOT_FOUND`, and every document shape of seeds 000, 002 and 003 written straight into the
//! database and read back through the API.

use chrono::DateTime;
use frontdesk_db::sqlx;
use frontdesk_e2e::body::{data, id_of, refusal};
use frontdesk_e2e::{error_code, spawn_app, Role, TestApp};
use serde_json::{json, Value};
use uuid::Uuid;

// ------------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------------

const PHONE: &str = "+420777123456";

/// A tenant with an agent, a customer and a WhatsApp conversation with them.
struct World {
    app: TestApp,
    tenant: Uuid,
    agent: Uuid,
    token: String,
    conversation: Uuid,
    customer: Uuid,
}

async fn world() -> anyhow::Result<World> {
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Complete salon").await?;
    let (agent, token) = app.new_member(tenant, Role::Agent).await?;
    let (conversation, customer) = start(&app, &token, PHONE).await?;
    Ok(World {
        app,
        tenant,
        agent,
        token,
        conversation,
        customer,
    })
}

/// A new WhatsApp conversation with the customer with `phone` (created when new).
async fn start(app: &TestApp, token: &str, phone: &str) -> anyhow::Result<(Uuid, Uuid)> {
    let body = app
        .gql(
            token,
            "mutation($input: StartConversationInput!) {
               startConversation(input: $input) { id: rowId customerId } }",
            json!({ "input": { "channel": "WHATSAPP",
                               "customer": { "name": "Jana Nováková", "phone": phone } } }),
        )
        .await?;
    let c = data(&body, "startConversation");
    Ok((id_of(c), uuid(&c["customerId"])))
}

fn uuid(v: &Value) -> Uuid {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a UUID: {v}"))
}

/// A row of `app.{table}` as JSON, read by the owner.
async fn row(app: &TestApp, table: &str, id: Uuid) -> anyhow::Result<Value> {
    Ok(sqlx::query_scalar(&format!(
        "SELECT to_jsonb(t) - 'search' FROM app.{table} t WHERE id = $1"
    ))
    .bind(id)
    .fetch_one(app.db.owner())
    .await?)
}

/// A refused request: its code and field, and the row it named is unchanged.
async fn refused(
    app: &TestApp,
    token: &str,
    query: &str,
    variables: Value,
    table: &str,
    id: Uuid,
) -> anyhow::Result<(String, String)> {
    let before = row(app, table, id).await?;
    let body = app.gql(token, query, variables).await?;
    assert_eq!(
        row(app, table, id).await?,
        before,
        "a refusal writes nothing"
    );
    Ok(refusal(&body))
}

fn time(v: &Value) -> DateTime<chrono::FixedOffset> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap_or_default())
        .unwrap_or_else(|_| panic!("not a time: {v}"))
}

// ------------------------------------------------------------------------------------------------
// updateConversation
// ------------------------------------------------------------------------------------------------

const UPDATE: &str = "mutation($id: ID!, $input: UpdateConversationInput!) {
  updateConversation(id: $id, input: $input) {
    id: rowId title priority category tags isAiEnabled aiModel autoResponses metadata
    customerSatisfaction { rating comment submittedAt }
    whatsappData { phoneNumberId businessAccountId } } }";

#[tokio::test]
async fn update_conversation_writes_each_field_and_clears_with_null() -> anyhow::Result<()> {
    let w = world().await?;
    let body = w
        .app
        .gql(
            &w.token,
            UPDATE,
            json!({ "id": w.conversation, "input": {
                "title": " Colour appointment ", "priority": "URGENT", "category": "SALES",
                "tags": ["vip", "vip", "follow_up"], "isAiEnabled": false,
                "aiModel": "gpt-4o-mini", "autoResponses": false,
                "customerSatisfaction": { "rating": 4, "comment": "Quick",
                                          "submittedAt": "2025-03-01T10:00:00Z" },
                "whatsappData": { "phoneNumberId": "109876543210",
                                  "businessAccountId": "2233445566" },
                "metadata": { "platformsQueried": ["googleAds"], "totalTokensUsed": 1200 } } }),
        )
        .await?;
    let c = data(&body, "updateConversation");
    assert_eq!(c["title"], "Colour appointment");
    assert_eq!(c["priority"], "URGENT");
    assert_eq!(c["category"], "SALES");
    assert_eq!(c["tags"], json!(["vip", "follow_up"]));
    assert_eq!(
        (&c["isAiEnabled"], &c["aiModel"], &c["autoResponses"]),
        (&json!(false), &json!("gpt-4o-mini"), &json!(false))
    );
    assert_eq!(c["customerSatisfaction"]["rating"], 4.0);
    assert_eq!(c["customerSatisfaction"]["comment"], "Quick");
    assert_eq!(
        time(&c["customerSatisfaction"]["submittedAt"]),
        time(&json!("2025-03-01T10:00:00Z"))
    );
    assert_eq!(c["whatsappData"]["phoneNumberId"], "109876543210");
    assert_eq!(c["metadata"]["totalTokensUsed"], 1200);

    let stored = row(&w.app, "conversations", w.conversation).await?;
    assert_eq!(stored["priority"], "urgent");
    assert_eq!(stored["category"], "sales");
    assert_eq!(stored["ai_model"], "gpt-4o-mini");
    assert_eq!(stored["customer_satisfaction"]["rating"], 4);
    assert_eq!(
        stored["whatsapp_data"],
        json!({ "phoneNumberId": "109876543210", "businessAccountId": "2233445566" })
    );

    // Absent keeps, null clears.
    let body = w
        .app
        .gql(
            &w.token,
            UPDATE,
            json!({ "id": w.conversation,
                    "input": { "customerSatisfaction": null, "title": null, "tags": [] } }),
        )
        .await?;
    let c = data(&body, "updateConversation");
    assert!(c["customerSatisfaction"].is_null() && c["title"].is_null());
    assert_eq!(c["tags"], json!([]));
    assert_eq!(c["priority"], "URGENT");
    assert_eq!(c["whatsappData"]["businessAccountId"], "2233445566");
    Ok(())
}

#[tokio::test]
async fn update_conversation_refuses_bad_fields_by_name_and_other_callers() -> anyhow::Result<()> {
    let w = world().await?;
    for (input, field) in [
        (json!({ "priority": null }), "input.priority"),
        (json!({ "isAiEnabled": null }), "input.isAiEnabled"),
        (
            json!({ "priority": "LOW", "aiModel": "  " }),
            "input.aiModel",
        ),
        (json!({ "tags": ["ok", ""] }), "input.tags[1]"),
        (
            json!({ "customerSatisfaction": { "rating": 6 } }),
            "input.customerSatisfaction.rating",
        ),
        (
            json!({ "whatsappData": { "phoneNumberId": "12 34" } }),
            "input.whatsappData.phoneNumberId",
        ),
        (
            json!({ "metadata": { "totalTokensUsed": "lots" } }),
            "input.metadata.totalTokensUsed",
        ),
        (json!({ "metadata": [1] }), "input.metadata"),
    ] {
        let vars = json!({ "id": w.conversation, "input": input });
        let got = refused(
            &w.app,
            &w.token,
            UPDATE,
            vars,
            "conversations",
            w.conversation,
        )
        .await?;
        assert_eq!(
            got,
            ("BAD_USER_INPUT".to_owned(), field.to_owned()),
            "{input}"
        );
    }

    let (_, viewer) = w.app.new_member(w.tenant, Role::Viewer).await?;
    let vars = json!({ "id": w.conversation, "input": { "priority": "HIGH" } });
    let got = refused(
        &w.app,
        &viewer,
        UPDATE,
        vars.clone(),
        "conversations",
        w.conversation,
    );
    assert_eq!(got.await?.0, "FORBIDDEN");

    let other = w.app.new_tenant("Other salon").await?;
    let (_, stranger) = w.app.new_member(other, Role::Admin).await?;
    let got = refused(
        &w.app,
        &stranger,
        UPDATE,
        vars,
        "conversations",
        w.conversation,
    )
    .await?;
    assert_eq!(got, ("NOT_FOUND".to_owned(), "id".to_owned()));
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// recordConversationAnalysis
// ------------------------------------------------------------------------------------------------

const ANALYSIS: &str = "mutation($id: ID!, $input: RecordConversationAnalysisInput!) {
  recordConversationAnalysis(id: $id, input: $input) {
    id: rowId intent leadScore conversionProbability outcome saleAmount escalatedToHuman
    bookingDetails { service date time price }
    callData { duration voiceGender recordingUrl transcription sentiment } } }";

#[tokio::test]
async fn the_ai_analysis_is_written_in_one_mutation_and_read_back() -> anyhow::Result<()> {
    let w = world().await?;
    let body = w
        .app
        .gql(
            &w.token,
            ANALYSIS,
            json!({ "id": w.conversation, "input": {
                "intent": "BOOKING", "leadScore": 87, "conversionProbability": 0.73456,
                "outcome": "BOOKING_MADE", "saleAmount": "1234.5", "escalatedToHuman": true,
                "bookingDetails": { "service": "Haircut", "date": "2025-12-24", "time": "9:30",
                                    "price": "450.50" },
                "callData": { "duration": 182.5, "voiceGender": "FEMALE",
                              "recordingUrl": "https://rec.example.com/1.mp3",
                              "transcription": "Hello, I would like a haircut.",
                              "sentiment": "POSITIVE" } } }),
        )
        .await?;
    let c = data(&body, "recordConversationAnalysis");
    assert_eq!(c["intent"], "BOOKING");
    assert_eq!(c["leadScore"], 87);
    assert_eq!(c["conversionProbability"], "0.7346");
    assert_eq!(c["outcome"], "BOOKING_MADE");
    assert_eq!(c["saleAmount"], "1234.50");
    assert_eq!(c["escalatedToHuman"], true);
    assert_eq!(
        c["bookingDetails"],
        json!({ "service": "Haircut", "date": "2025-12-24", "time": "09:30", "price": "450.5" })
    );
    assert_eq!(c["callData"]["duration"], 182.5);
    assert_eq!(c["callData"]["voiceGender"], "FEMALE");
    assert_eq!(c["callData"]["sentiment"], "POSITIVE");

    let stored = row(&w.app, "conversations", w.conversation).await?;
    assert_eq!(stored["sale_amount"], 1234.5);
    assert_eq!(stored["lead_score"], 87);
    assert_eq!(stored["booking_details"]["price"], 450.5);
    assert_eq!(stored["call_data"]["voiceGender"], "female");

    let body = w
        .app
        .gql(
            &w.token,
            ANALYSIS,
            json!({ "id": w.conversation, "input": {
                "saleAmount": null, "bookingDetails": null, "escalatedToHuman": false } }),
        )
        .await?;
    let c = data(&body, "recordConversationAnalysis");
    assert!(c["saleAmount"].is_null() && c["bookingDetails"].is_null());
    assert_eq!(c["escalatedToHuman"], false);
    assert_eq!(c["intent"], "BOOKING", "fields left out keep their values");
    Ok(())
}

#[tokio::test]
async fn bad_analysis_fields_are_named_and_write_nothing() -> anyhow::Result<()> {
    let w = world().await?;
    for (input, field) in [
        (json!({ "leadScore": 101 }), "input.leadScore"),
        (
            json!({ "conversionProbability": 1.5 }),
            "input.conversionProbability",
        ),
        (json!({ "saleAmount": "-1" }), "input.saleAmount"),
        (
            json!({ "intent": "SALE", "saleAmount": "1.001" }),
            "input.saleAmount",
        ),
        (
            json!({ "escalatedToHuman": null }),
            "input.escalatedToHuman",
        ),
        (json!({ "bookingDetails": {} }), "input.bookingDetails"),
        (
            json!({ "bookingDetails": { "date": "2025-02-30" } }),
            "input.bookingDetails.date",
        ),
        (
            json!({ "bookingDetails": { "time": "25:00" } }),
            "input.bookingDetails.time",
        ),
        (
            json!({ "callData": { "recordingUrl": "ftp://x" } }),
            "input.callData.recordingUrl",
        ),
        (
            json!({ "callData": { "duration": -1 } }),
            "input.callData.duration",
        ),
    ] {
        let vars = json!({ "id": w.conversation, "input": input });
        let got = refused(
            &w.app,
            &w.token,
            ANALYSIS,
            vars,
            "conversations",
            w.conversation,
        );
        assert_eq!(
            got.await?,
            ("BAD_USER_INPUT".to_owned(), field.to_owned()),
            "{input}"
        );
    }
    let (_, viewer) = w.app.new_member(w.tenant, Role::Viewer).await?;
    let vars = json!({ "id": w.conversation, "input": { "leadScore": 10 } });
    let got = refused(
        &w.app,
        &viewer,
        ANALYSIS,
        vars.clone(),
        "conversations",
        w.conversation,
    );
    assert_eq!(got.await?.0, "FORBIDDEN");
    let other = w.app.new_tenant("Other salon").await?;
    let (_, stranger) = w.app.new_member(other, Role::Owner).await?;
    let got = refused(
        &w.app,
        &stranger,
        ANALYSIS,
        vars,
        "conversations",
        w.conversation,
    )
    .await?;
    assert_eq!(got, ("NOT_FOUND".to_owned(), "id".to_owned()));
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Notes
// ------------------------------------------------------------------------------------------------

const ADD_NOTE: &str = "mutation($input: AddConversationNoteInput!) {
  addConversationNote(input: $input) { id: rowId } }";

const UPDATE_NOTE: &str = "mutation($id: ID!, $content: String!, $visible: Boolean) {
  updateConversationNote(id: $id, content: $content, isVisible: $visible) {
    id: rowId content isVisible agentId } }";

const DELETE_NOTE: &str = "mutation($id: ID!) {
  deleteConversationNote(id: $id) { deletedId } }";

async fn add_note(w: &World, token: &str, content: &str) -> anyhow::Result<Uuid> {
    let body = w
        .app
        .gql(
            token,
            ADD_NOTE,
            json!({ "input": { "conversationId": w.conversation, "content": content } }),
        )
        .await?;
    Ok(id_of(data(&body, "addConversationNote")))
}

#[tokio::test]
async fn only_its_author_changes_a_note_and_supervisors_may_delete_any() -> anyhow::Result<()> {
    let w = world().await?;
    let note = add_note(&w, &w.token, "Prefers mornings").await?;
    let (_, colleague) = w.app.new_member(w.tenant, Role::Agent).await?;
    let (_, supervisor) = w.app.new_member(w.tenant, Role::Supervisor).await?;

    let events = w.app.rows("inbox_events", w.tenant).await?;
    let body = w
        .app
        .gql(
            &w.token,
            UPDATE_NOTE,
            json!({ "id": note, "content": " Prefers early mornings ", "visible": true }),
        )
        .await?;
    let n = data(&body, "updateConversationNote");
    assert_eq!(
        (&n["content"], &n["isVisible"]),
        (&json!("Prefers early mornings"), &json!(true))
    );
    assert_eq!(uuid(&n["agentId"]), w.agent);
    assert_eq!(
        w.app.rows("inbox_events", w.tenant).await?,
        events + 1,
        "watchers hear the change"
    );

    // Someone else: a colleague may neither change nor delete it, a supervisor may only
    // delete it.
    let edit = json!({ "id": note, "content": "Hijacked" });
    for token in [&colleague, &supervisor] {
        let got = refused(
            &w.app,
            token,
            UPDATE_NOTE,
            edit.clone(),
            "conversation_notes",
            note,
        );
        assert_eq!(got.await?.0, "FORBIDDEN");
    }
    let got = refused(
        &w.app,
        &colleague,
        DELETE_NOTE,
        json!({ "id": note }),
        "conversation_notes",
        note,
    );
    assert_eq!(got.await?.0, "FORBIDDEN");
    let body = w
        .app
        .gql(&supervisor, DELETE_NOTE, json!({ "id": note }))
        .await?;
    assert_eq!(
        id_of(&json!({ "id": data(&body, "deleteConversationNote")["deletedId"] })),
        note
    );
    assert_eq!(w.app.rows("conversation_notes", w.tenant).await?, 0);

    // The author deletes their own; bad content is named; other tenants see nothing.
    let own = add_note(&w, &w.token, "Allergic to latex").await?;
    let got = refused(
        &w.app,
        &w.token,
        UPDATE_NOTE,
        json!({ "id": own, "content": " " }),
        "conversation_notes",
        own,
    );
    assert_eq!(
        got.await?,
        ("BAD_USER_INPUT".to_owned(), "content".to_owned())
    );
    let other = w.app.new_tenant("Other salon").await?;
    let (_, stranger) = w.app.new_member(other, Role::Owner).await?;
    for (query, vars) in [
        (UPDATE_NOTE, json!({ "id": own, "content": "x" })),
        (DELETE_NOTE, json!({ "id": own })),
    ] {
        let got = refused(&w.app, &stranger, query, vars, "conversation_notes", own).await?;
        assert_eq!(got, ("NOT_FOUND".to_owned(), "id".to_owned()));
    }
    let body = w
        .app
        .gql(&w.token, DELETE_NOTE, json!({ "id": own }))
        .await?;
    assert!(data(&body, "deleteConversationNote")["deletedId"].is_string());
    let body = w
        .app
        .gql(&w.token, DELETE_NOTE, json!({ "id": own }))
        .await?;
    assert_eq!(refusal(&body), ("NOT_FOUND".to_owned(), "id".to_owned()));
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Message feedback
// ------------------------------------------------------------------------------------------------

const FEEDBACK: &str = "mutation($id: ID!, $rating: FeedbackRating, $comment: String) {
  setMessageFeedback(id: $id, rating: $rating, comment: $comment) {
    id: rowId metadata feedback { rating comment ratedAt ratedById } } }";

#[tokio::test]
async fn a_reply_is_rated_after_the_fact_and_the_rating_cleared() -> anyhow::Result<()> {
    let w = world().await?;
    let body = w
        .app
        .gql(
            &w.token,
            "mutation($input: PostMessageInput!) { postMessage(input: $input) { id: rowId } }",
            json!({ "input": { "conversationId": w.conversation, "sender": "AI",
                               "content": "Your appointment is at 10:00.",
                               "metadata": { "model": "gpt-4o-mini" } } }),
        )
        .await?;
    let reply = id_of(data(&body, "postMessage"));
    let (viewer_id, viewer) = w.app.new_member(w.tenant, Role::Viewer).await?;

    let body = w
        .app
        .gql(
            &viewer,
            FEEDBACK,
            json!({ "id": reply, "rating": "THUMBS_DOWN", "comment": " Wrong time " }),
        )
        .await?;
    let m = data(&body, "setMessageFeedback");
    assert_eq!(m["feedback"]["rating"], "THUMBS_DOWN");
    assert_eq!(m["feedback"]["comment"], "Wrong time");
    assert_eq!(uuid(&m["feedback"]["ratedById"]), viewer_id);
    assert!(m["feedback"]["ratedAt"].is_string());
    assert_eq!(
        m["metadata"]["feedbackRating"], "negative",
        "seed 002's spelling"
    );
    assert_eq!(m["metadata"]["model"], "gpt-4o-mini");

    let body = w
        .app
        .gql(
            &w.token,
            "query($id: ID!) { conversation(id: $id) {
               down: messages(first: 5, filter: { feedbackRating: { eq: THUMBS_DOWN } }) { totalCount }
               up: messages(first: 5, filter: { feedbackRating: { eq: THUMBS_UP } }) { totalCount } } }",
            json!({ "id": w.conversation }),
        )
        .await?;
    let c = data(&body, "conversation");
    assert_eq!(
        (&c["down"]["totalCount"], &c["up"]["totalCount"]),
        (&json!(1), &json!(0))
    );

    let body = w
        .app
        .gql(
            &w.token,
            FEEDBACK,
            json!({ "id": reply, "rating": "THUMBS_UP" }),
        )
        .await?;
    let m = data(&body, "setMessageFeedback");
    assert_eq!(m["feedback"]["rating"], "THUMBS_UP");
    assert!(
        m["feedback"]["comment"].is_null(),
        "a new rating replaces the comment"
    );
    let body = w
        .app
        .gql(&w.token, FEEDBACK, json!({ "id": reply, "rating": null }))
        .await?;
    let m = data(&body, "setMessageFeedback");
    assert!(m["feedback"].is_null());
    assert_eq!(m["metadata"], json!({ "model": "gpt-4o-mini" }));

    // Refusals: a comment alone, a customer's message, another tenant's message.
    let got = refused(
        &w.app,
        &w.token,
        FEEDBACK,
        json!({ "id": reply, "comment": "meh" }),
        "messages",
        reply,
    );
    assert_eq!(
        got.await?,
        ("BAD_USER_INPUT".to_owned(), "comment".to_owned())
    );
    let body = w
        .app
        .gql(
            &w.token,
            "mutation($input: RecordInboundMessageInput!) {
               recordInboundMessage(input: $input) { id: rowId } }",
            json!({ "input": { "providerMessageId": "wamid.1", "channel": "WHATSAPP",
                               "content": "Thanks!", "from": { "phone": PHONE } } }),
        )
        .await?;
    let inbound = id_of(data(&body, "recordInboundMessage"));
    let got = refused(
        &w.app,
        &w.token,
        FEEDBACK,
        json!({ "id": inbound, "rating": "THUMBS_UP" }),
        "messages",
        inbound,
    );
    assert_eq!(got.await?, ("BAD_USER_INPUT".to_owned(), "id".to_owned()));
    let other = w.app.new_tenant("Other salon").await?;
    let (_, stranger) = w.app.new_member(other, Role::Owner).await?;
    let got = refused(
        &w.app,
        &stranger,
        FEEDBACK,
        json!({ "id": reply, "rating": "THUMBS_UP" }),
        "messages",
        reply,
    );
    assert_eq!(got.await?, ("NOT_FOUND".to_owned(), "id".to_owned()));
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Threads
// ------------------------------------------------------------------------------------------------

const CREATE_THREAD: &str = "mutation($input: CreateConversationThreadInput!) {
  createConversationThread(input: $input) {
    id: rowId threadId conversationId customerId phoneNumber messageCount isActive } }";

const UPDATE_THREAD: &str = "mutation($id: ID!, $input: UpdateConversationThreadInput!) {
  updateConversationThread(id: $id, input: $input) {
    id: rowId threadId isActive messageCount lastCleanup } }";

const DELETE_THREAD: &str = "mutation($id: ID!) {
  deleteConversationThread(id: $id) { deletedId } }";

async fn threads_of(w: &World) -> anyhow::Result<Vec<(String, bool)>> {
    let body = w
        .app
        .gql(
            &w.token,
            "query($id: ID!) { conversation(id: $id) {
               threads(first: 10) { nodes { threadId isActive } } } }",
            json!({ "id": w.conversation }),
        )
        .await?;
    Ok(data(&body, "conversation")["threads"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            (
                t["threadId"].as_str().unwrap_or_default().to_owned(),
                t["isActive"] == true,
            )
        })
        .collect())
}

#[tokio::test]
async fn threads_rotate_one_active_per_conversation() -> anyhow::Result<()> {
    let w = world().await?;
    let body = w
        .app
        .gql(
            &w.token,
            CREATE_THREAD,
            json!({ "input": { "threadId": "thread_abc", "conversationId": w.conversation } }),
        )
        .await?;
    let first = data(&body, "createConversationThread").clone();
    assert_eq!(
        uuid(&first["customerId"]),
        w.customer,
        "the conversation's customer"
    );
    assert_eq!(first["phoneNumber"], PHONE, "the customer's number");
    assert_eq!(
        (&first["isActive"], &first["messageCount"]),
        (&json!(true), &json!(0))
    );

    let body = w
        .app
        .gql(
            &w.token,
            CREATE_THREAD,
            json!({ "input": { "threadId": "thread_def", "conversationId": w.conversation,
                               "messageCount": 3 } }),
        )
        .await?;
    let second = id_of(data(&body, "createConversationThread"));
    assert_eq!(
        threads_of(&w).await?,
        [
            ("thread_def".to_owned(), true),
            ("thread_abc".to_owned(), false)
        ]
    );

    let body = w
        .app
        .gql(
            &w.token,
            UPDATE_THREAD,
            json!({ "id": id_of(&first), "input": { "isActive": true,
                                                    "lastCleanup": "2025-05-01T08:00:00Z" } }),
        )
        .await?;
    assert_eq!(data(&body, "updateConversationThread")["isActive"], true);
    assert_eq!(
        threads_of(&w).await?,
        [
            ("thread_def".to_owned(), false),
            ("thread_abc".to_owned(), true)
        ]
    );

    let body = w
        .app
        .gql(
            &w.token,
            "{ conversationThreads(filter: { threadId: { eq: \"thread_abc\" } }) {
                 nodes { rowId conversation { rowId } customer { rowId } } } }",
            json!({}),
        )
        .await?;
    let node = &data(&body, "conversationThreads")["nodes"][0];
    assert_eq!(uuid(&node["conversation"]["rowId"]), w.conversation);

    // Agents may not delete threads; supervisors may.
    let got = refused(
        &w.app,
        &w.token,
        DELETE_THREAD,
        json!({ "id": second }),
        "conversation_threads",
        second,
    );
    assert_eq!(got.await?.0, "FORBIDDEN");
    let (_, supervisor) = w.app.new_member(w.tenant, Role::Supervisor).await?;
    let body = w
        .app
        .gql(&supervisor, DELETE_THREAD, json!({ "id": second }))
        .await?;
    assert!(data(&body, "deleteConversationThread")["deletedId"].is_string());
    assert_eq!(threads_of(&w).await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn bad_thread_input_is_named_and_other_tenants_are_not_found() -> anyhow::Result<()> {
    let w = world().await?;
    let body = w
        .app
        .gql(
            &w.token,
            CREATE_THREAD,
            json!({ "input": { "threadId": "thread_1", "conversationId": w.conversation } }),
        )
        .await?;
    let thread = id_of(data(&body, "createConversationThread"));
    let (_, other_customer) = start(&w.app, &w.token, "+420777999888").await?;
    let body = w
        .app
        .gql(&w.token, "mutation { startChat { id: rowId } }", json!({}))
        .await?;
    let chat = id_of(data(&body, "startChat"));

    for (input, code, field) in [
        (
            json!({ "threadId": "thread_1" , "phoneNumber": PHONE }),
            "CONFLICT",
            "input.threadId",
        ),
        (
            json!({ "threadId": "has space", "phoneNumber": PHONE }),
            "BAD_USER_INPUT",
            "input.threadId",
        ),
        (
            json!({ "threadId": "t2", "phoneNumber": "abc" }),
            "BAD_USER_INPUT",
            "input.phoneNumber",
        ),
        (
            json!({ "threadId": "t2", "phoneNumber": PHONE, "messageCount": -1 }),
            "BAD_USER_INPUT",
            "input.messageCount",
        ),
        (
            json!({ "threadId": "t2", "conversationId": w.conversation,
                    "customerId": other_customer }),
            "BAD_USER_INPUT",
            "input.customerId",
        ),
        (
            json!({ "threadId": "t2", "conversationId": chat }),
            "BAD_USER_INPUT",
            "input.phoneNumber",
        ),
    ] {
        let before = w.app.rows("conversation_threads", w.tenant).await?;
        let body = w
            .app
            .gql(&w.token, CREATE_THREAD, json!({ "input": input }))
            .await?;
        assert_eq!(
            refusal(&body),
            (code.to_owned(), field.to_owned()),
            "{input}"
        );
        assert_eq!(w.app.rows("conversation_threads", w.tenant).await?, before);
    }
    let still = row(&w.app, "conversation_threads", thread).await?;
    assert_eq!(still["is_active"], true, "a refused create rotates nothing");

    let other = w.app.new_tenant("Other salon").await?;
    let (_, stranger) = w.app.new_member(other, Role::Owner).await?;
    let body = w
        .app
        .gql(
            &stranger,
            CREATE_THREAD,
            json!({ "input": { "threadId": "t3", "conversationId": w.conversation } }),
        )
        .await?;
    assert_eq!(
        refusal(&body),
        ("NOT_FOUND".to_owned(), "input.conversationId".to_owned())
    );
    for (query, vars) in [
        (
            UPDATE_THREAD,
            json!({ "id": thread, "input": { "messageCount": 9 } }),
        ),
        (DELETE_THREAD, json!({ "id": thread })),
    ] {
        let got = refused(
            &w.app,
            &stranger,
            query,
            vars,
            "conversation_threads",
            thread,
        )
        .await?;
        assert_eq!(got, ("NOT_FOUND".to_owned(), "id".to_owned()));
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Chats (seed 002)
// ------------------------------------------------------------------------------------------------

const START_CHAT: &str = "mutation($input: StartChatInput) {
  startChat(input: $input) {
    id: rowId conversationKey userId customerId title type channel lifecycle status metadata
    expiresAt createdAt owner { userId } } }";

const ARCHIVE: &str = "mutation($id: ID!) { archiveChat(id: $id) { id: rowId lifecycle } }";
const DELETE_CHAT: &str = "mutation($id: ID!) { deleteChat(id: $id) { id: rowId lifecycle } }";

#[tokio::test]
async fn a_chat_is_owned_keyed_kept_ninety_days_and_archived_then_deleted() -> anyhow::Result<()> {
    let w = world().await?;
    let body = w
        .app
        .gql(
            &w.token,
            START_CHAT,
            json!({ "input": { "conversationKey": "4f1c2a-chat", "title": "Q3 ads",
                               "metadata": { "platformsQueried": ["googleAds"] } } }),
        )
        .await?;
    let chat = data(&body, "startChat").clone();
    let id = id_of(&chat);
    assert_eq!(chat["conversationKey"], "4f1c2a-chat");
    assert_eq!(uuid(&chat["userId"]), w.agent);
    assert_eq!(uuid(&chat["owner"]["userId"]), w.agent);
    assert!(chat["customerId"].is_null());
    assert_eq!(
        (
            &chat["type"],
            &chat["channel"],
            &chat["lifecycle"],
            &chat["status"]
        ),
        (
            &json!("CHAT"),
            &json!("WEB"),
            &json!("ACTIVE"),
            &json!("OPEN")
        )
    );
    assert_eq!(
        time(&chat["expiresAt"]) - time(&chat["createdAt"]),
        chrono::Duration::days(90),
        "seed 002's retention"
    );
    let body = w.app.gql(&w.token, START_CHAT, json!({})).await?;
    let key = data(&body, "startChat")["conversationKey"].clone();
    assert!(
        key.as_str().is_some_and(|k| k.parse::<Uuid>().is_ok()),
        "{key}"
    );

    let body = w
        .app
        .gql(
            &w.token,
            "query($me: ID!) { conversations(filter: { userId: { eq: $me },
                 conversationKey: { eq: \"4f1c2a-chat\" } }) { nodes { rowId } } }",
            json!({ "me": w.agent }),
        )
        .await?;
    assert_eq!(id_of(&data(&body, "conversations")["nodes"][0]), id);

    // Refused starts write nothing.
    for (input, code, field) in [
        (
            json!({ "conversationKey": "4f1c2a-chat" }),
            "CONFLICT",
            "input.conversationKey",
        ),
        (
            json!({ "conversationKey": "a b" }),
            "BAD_USER_INPUT",
            "input.conversationKey",
        ),
        (
            json!({ "metadata": { "platformsQueried": 3 } }),
            "BAD_USER_INPUT",
            "input.metadata.platformsQueried",
        ),
    ] {
        let before = w.app.rows("conversations", w.tenant).await?;
        let body = w
            .app
            .gql(&w.token, START_CHAT, json!({ "input": input }))
            .await?;
        assert_eq!(
            refusal(&body),
            (code.to_owned(), field.to_owned()),
            "{input}"
        );
        assert_eq!(w.app.rows("conversations", w.tenant).await?, before);
    }
    let (_, viewer) = w.app.new_member(w.tenant, Role::Viewer).await?;
    let body = w.app.gql(&viewer, START_CHAT, json!({})).await?;
    assert_eq!(error_code(&body), Some("FORBIDDEN"));

    // Lifecycle: the owner archives; a colleague may not; a supervisor deletes anyone's.
    let (_, colleague) = w.app.new_member(w.tenant, Role::Agent).await?;
    let got = refused(
        &w.app,
        &colleague,
        ARCHIVE,
        json!({ "id": id }),
        "conversations",
        id,
    );
    assert_eq!(got.await?.0, "FORBIDDEN");
    let body = w.app.gql(&w.token, ARCHIVE, json!({ "id": id })).await?;
    assert_eq!(data(&body, "archiveChat")["lifecycle"], "ARCHIVED");
    let got = refused(
        &w.app,
        &w.token,
        ARCHIVE,
        json!({ "id": id }),
        "conversations",
        id,
    );
    assert_eq!(got.await?.0, "CONFLICT");
    let (_, supervisor) = w.app.new_member(w.tenant, Role::Supervisor).await?;
    let body = w
        .app
        .gql(&supervisor, DELETE_CHAT, json!({ "id": id }))
        .await?;
    assert_eq!(data(&body, "deleteChat")["lifecycle"], "DELETED");
    for query in [ARCHIVE, DELETE_CHAT] {
        let got = refused(
            &w.app,
            &w.token,
            query,
            json!({ "id": id }),
            "conversations",
            id,
        );
        assert_eq!(got.await?.0, "CONFLICT");
    }
    let stored = row(&w.app, "conversations", id).await?;
    assert_eq!(stored["lifecycle"], "deleted", "soft: the row stays");

    // A customer conversation is not a chat; another tenant's chat is not found.
    let got = refused(
        &w.app,
        &w.token,
        ARCHIVE,
        json!({ "id": w.conversation }),
        "conversations",
        w.conversation,
    );
    assert_eq!(got.await?, ("BAD_USER_INPUT".to_owned(), "id".to_owned()));
    let other = w.app.new_tenant("Other agency client").await?;
    let (_, stranger) = w.app.new_member(other, Role::Owner).await?;
    let body = w.app.gql(&w.token, START_CHAT, json!({})).await?;
    let fresh = id_of(data(&body, "startChat"));
    for query in [ARCHIVE, DELETE_CHAT] {
        let got = refused(
            &w.app,
            &stranger,
            query,
            json!({ "id": fresh }),
            "conversations",
            fresh,
        );
        assert_eq!(got.await?, ("NOT_FOUND".to_owned(), "id".to_owned()));
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Documents: whatever a document column's CHECK accepts, the API reads back
// ------------------------------------------------------------------------------------------------

/// Inserts a conversation of `tenant` with these documents, as the owner (no API on the way).
async fn insert_conversation(app: &TestApp, tenant: Uuid, docs: Value) -> anyhow::Result<Uuid> {
    Ok(sqlx::query_scalar(
        "INSERT INTO app.conversations (tenant_id, channel, type, call_data, booking_details,
           customer_satisfaction, whatsapp_data, last_message, metadata)
         SELECT $1, 'whatsapp', 'voice', d -> 'callData', d -> 'bookingDetails',
                d -> 'customerSatisfaction', d -> 'whatsappData', d -> 'lastMessage',
                coalesce(d -> 'metadata', '{}')
           FROM (SELECT $2::jsonb AS d) x RETURNING id",
    )
    .bind(tenant)
    .bind(docs)
    .fetch_one(app.db.owner())
    .await?)
}

/// Inserts message number `n` of a conversation with these fields and documents, as the owner.
async fn insert_message(
    app: &TestApp,
    tenant: Uuid,
    conversation: Uuid,
    n: i32,
    m: &Value,
) -> anyhow::Result<Uuid> {
    Ok(sqlx::query_scalar(
        "INSERT INTO app.messages (tenant_id, conversation_id, content, type, direction, sender,
           role, attachments, location, template, interactive, ai_response, metadata, sent_at)
         SELECT $1, $2, d ->> 'content', coalesce(d ->> 'type', 'text'),
                coalesce(d ->> 'direction', 'inbound'), coalesce(d ->> 'sender', 'customer'),
                d ->> 'role', coalesce(d -> 'attachments', '[]'), d -> 'location', d -> 'template',
                d -> 'interactive', d -> 'aiResponse', coalesce(d -> 'metadata', '{}'),
                timestamptz '2025-03-01 09:00:00Z' + make_interval(mins => $3)
           FROM (SELECT $4::jsonb AS d) x RETURNING id",
    )
    .bind(tenant)
    .bind(conversation)
    .bind(n)
    .bind(m)
    .fetch_one(app.db.owner())
    .await?)
}

const DOCUMENTS: &str = "
  callData { duration voiceGender recordingUrl transcription sentiment }
  bookingDetails { service date time price }
  customerSatisfaction { rating comment submittedAt }
  whatsappData { phoneNumberId businessAccountId }
  lastMessagePreview { content timestamp from type }
  metadata
  messages(first: 20, orderBy: [{ field: SENT_AT, direction: ASC }]) { nodes {
    content role type metadata feedback { rating }
    attachments { type url publicId filename mimeType size thumbnailUrl duration }
    location { latitude longitude address name }
    template { name language parameters category }
    interactive { type buttons { id title description payload } listItems { id title description payload } }
    aiResponse { confidence intent sentiment entities extractedEntities { type value } } } }";

/// The conversation with its documents, by id and through a list (which reads only the
/// selected columns); both must agree and have no errors.
async fn read_documents(w: &World, id: Uuid) -> anyhow::Result<Value> {
    let body = w
        .app
        .gql(
            &w.token,
            &format!(
                "query($id: ID!) {{ conversation(id: $id) {{ {DOCUMENTS} }}
                   conversations(filter: {{ id: {{ eq: $id }} }}) {{ nodes {{ {DOCUMENTS} }} }} }}"
            ),
            json!({ "id": id }),
        )
        .await?;
    let one = data(&body, "conversation").clone();
    assert_eq!(data(&body, "conversations")["nodes"][0], one);
    Ok(one)
}

#[tokio::test]
async fn every_seed_document_shape_stored_directly_reads_back() -> anyhow::Result<()> {
    let w = world().await?;
    // Seeds 000 (call data, booking), 003 (satisfaction, WhatsApp number, last message) and
    // 002 (chat metadata), each key as the seed spells it, plus a key no seed has.
    let id = insert_conversation(
        &w.app,
        w.tenant,
        json!({
            "callData": { "duration": 182, "voiceGender": "female", "sentiment": "positive",
                          "recordingUrl": "https://rec.example.com/c.mp3",
                          "transcription": "Dobrý den", "provider": "twilio" },
            "bookingDetails": { "service": "Střih", "date": "2025-12-24", "time": "10:00",
                                "price": 450.5, "currency": "CZK" },
            "customerSatisfaction": { "rating": 5, "comment": "Super",
                                      "submittedAt": "2025-03-01T10:00:00.000Z" },
            "whatsappData": { "phoneNumberId": "109876543210", "businessAccountId": "2233445566" },
            "lastMessage": { "content": "See you!", "timestamp": "2025-03-01T09:59:00Z",
                             "from": "agent", "type": "template" },
            "metadata": { "platformsQueried": ["googleAnalytics", "metaAds"],
                          "totalTokensUsed": 5400 } }),
    )
    .await?;
    let messages = [
        // 003: an image with every attachment field, and the AI's entities as strings.
        json!({ "content": "Here is the photo", "type": "image",
                "attachments": [{ "type": "image", "url": "https://cdn.example.com/hair.jpg",
                                  "publicId": "salon/hair", "filename": "hair.jpg",
                                  "mimeType": "image/jpeg", "size": 204800,
                                  "thumbnailUrl": "https://cdn.example.com/thumb/hair.jpg" }],
                "aiResponse": { "confidence": 0.91, "intent": "booking",
                                "entities": ["haircut", "tomorrow"], "sentiment": "positive" } }),
        // 003: a voice note (duration; a size written as a float).
        json!({ "content": "", "type": "audio",
                "attachments": [{ "type": "audio", "url": "https://cdn.example.com/note.ogg",
                                  "publicId": "salon/note", "mimeType": "audio/ogg",
                                  "size": 1024.0, "duration": 12.5 }] }),
        // 003: a location, a template, buttons with payloads and a list.
        json!({ "content": "", "type": "location",
                "location": { "latitude": 50.08, "longitude": 14.42,
                              "address": "Václavské nám. 1", "name": "Salon" } }),
        json!({ "content": "Reminder", "type": "template", "direction": "outbound",
                "sender": "system",
                "template": { "name": "appointment_reminder", "language": "cs",
                              "parameters": ["Jana", "10:00"], "category": "UTILITY" } }),
        json!({ "content": "Confirm?", "type": "interactive", "direction": "outbound",
                "sender": "ai",
                "interactive": { "type": "button",
                                 "buttons": [{ "id": "yes", "title": "Ano", "payload": "CONFIRM" },
                                             { "id": "no", "title": "Ne", "payload": "CANCEL" }],
                                 "listItems": [{ "id": "cut", "title": "Střih",
                                                 "description": "45 min" }] } }),
        // 000: an embedded message (role, metadata) with typed entities.
        json!({ "content": "Chtěl bych se objednat", "role": "user",
                "metadata": { "voiceTranscription": true, "sentiment": "neutral" },
                "aiResponse": { "intent": "booking",
                                "entities": [{ "type": "date", "value": "2024-12-25" },
                                             { "type": "service", "value": "haircut" }] } }),
        // 002: an assistant message with model, tokens, cost and thumbs feedback.
        json!({ "content": "Sessions rose 12%.", "role": "assistant", "direction": "outbound",
                "sender": "ai",
                "metadata": { "model": "gpt-4o-mini", "tokensUsed": 350, "cost": 0.0021,
                              "feedbackRating": "positive" } }),
        // Accepted by the CHECKs although no seed writes it so: values of other types, mixed
        // entities, buttons that are not objects.
        json!({ "content": "odd",
                "attachments": [{ "type": 5, "url": 42, "publicId": 7, "size": "big",
                                  "duration": "long" },
                                { "type": "video", "url": "https://cdn.example.com/v.mp4",
                                  "size": 1.5 }],
                "template": { "parameters": [1, { "k": "v" }] },
                "interactive": { "buttons": [{ "title": "A", "payload": 12 }, "not an object"] },
                "aiResponse": { "confidence": 1,
                                "entities": ["x", { "type": "date", "value": "2025-01-01" }, 7,
                                             null, [1]] } }),
    ];
    for (n, m) in (0..).zip(&messages) {
        insert_message(&w.app, w.tenant, id, n, m).await?;
    }

    let c = read_documents(&w, id).await?;
    assert_eq!(
        c["callData"],
        json!({ "duration": 182.0, "voiceGender": "FEMALE", "sentiment": "POSITIVE",
                "recordingUrl": "https://rec.example.com/c.mp3", "transcription": "Dobrý den" })
    );
    assert_eq!(
        c["bookingDetails"],
        json!({ "service": "Střih", "date": "2025-12-24", "time": "10:00", "price": "450.5" })
    );
    assert_eq!(c["customerSatisfaction"]["rating"], 5.0);
    assert_eq!(
        time(&c["customerSatisfaction"]["submittedAt"]),
        time(&json!("2025-03-01T10:00:00Z"))
    );
    assert_eq!(c["whatsappData"]["businessAccountId"], "2233445566");
    assert_eq!(
        (
            &c["lastMessagePreview"]["from"],
            &c["lastMessagePreview"]["type"]
        ),
        (&json!("AGENT"), &json!("TEMPLATE"))
    );
    assert_eq!(
        c["metadata"]["platformsQueried"],
        json!(["googleAnalytics", "metaAds"])
    );

    let m = c["messages"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(m.len(), messages.len());
    assert_eq!(
        m[0]["attachments"][0],
        json!({ "type": "IMAGE", "url": "https://cdn.example.com/hair.jpg",
                "publicId": "salon/hair", "filename": "hair.jpg", "mimeType": "image/jpeg",
                "size": 204800, "thumbnailUrl": "https://cdn.example.com/thumb/hair.jpg",
                "duration": null })
    );
    assert_eq!(
        m[0]["aiResponse"],
        json!({ "confidence": 0.91, "intent": "booking", "sentiment": "POSITIVE",
                "entities": ["haircut", "tomorrow"],
                "extractedEntities": [{ "type": null, "value": "haircut" },
                                      { "type": null, "value": "tomorrow" }] })
    );
    assert_eq!(m[1]["attachments"][0]["size"], 1024);
    assert_eq!(m[1]["attachments"][0]["duration"], 12.5);
    assert_eq!(m[1]["type"], "AUDIO");
    assert_eq!(m[2]["location"]["name"], "Salon");
    assert_eq!(m[2]["location"]["latitude"], 50.08);
    assert_eq!(m[3]["template"]["parameters"], json!(["Jana", "10:00"]));
    assert_eq!(m[3]["template"]["category"], "UTILITY");
    assert_eq!(
        m[4]["interactive"]["buttons"],
        json!([{ "id": "yes", "title": "Ano", "description": null, "payload": "CONFIRM" },
               { "id": "no", "title": "Ne", "description": null, "payload": "CANCEL" }])
    );
    assert_eq!(m[4]["interactive"]["listItems"][0]["description"], "45 min");
    assert_eq!(m[5]["role"], "USER");
    assert_eq!(m[5]["metadata"]["sentiment"], "neutral");
    assert_eq!(
        m[5]["aiResponse"]["entities"],
        json!(["2024-12-25", "haircut"])
    );
    assert_eq!(
        m[5]["aiResponse"]["extractedEntities"],
        json!([{ "type": "date", "value": "2024-12-25" }, { "type": "service", "value": "haircut" }])
    );
    assert_eq!(m[6]["feedback"]["rating"], "THUMBS_UP");
    assert_eq!(m[6]["metadata"]["tokensUsed"], 350);

    let odd = &m[7];
    assert_eq!(
        odd["attachments"],
        json!([{ "type": null, "url": "42", "publicId": "7", "filename": null, "mimeType": null,
                 "size": null, "thumbnailUrl": null, "duration": null },
               { "type": "VIDEO", "url": "https://cdn.example.com/v.mp4", "publicId": null,
                 "filename": null, "mimeType": null, "size": null, "thumbnailUrl": null,
                 "duration": null }])
    );
    assert_eq!(odd["template"]["parameters"], json!([1, { "k": "v" }]));
    assert_eq!(
        odd["interactive"]["buttons"],
        json!([{ "id": null, "title": "A", "description": null, "payload": "12" }])
    );
    assert_eq!(
        odd["aiResponse"]["entities"],
        json!(["x", "2025-01-01", "7"])
    );
    assert_eq!(odd["aiResponse"]["extractedEntities"][1]["type"], "date");
    assert!(odd["feedback"].is_null());
    Ok(())
}

#[tokio::test]
async fn conversation_documents_of_other_shapes_the_checks_accept_read_back() -> anyhow::Result<()>
{
    let w = world().await?;
    let id = insert_conversation(
        &w.app,
        w.tenant,
        json!({
            "callData": { "duration": 12.5, "recordingUrl": null, "extra": [1] },
            "bookingDetails": { "price": 10000000000u64 },
            "customerSatisfaction": { "rating": 4.5, "submittedAt": "yesterday" },
            "whatsappData": {},
            "lastMessage": { "content": "x", "from": null },
            "metadata": { "anything": { "nested": true } } }),
    )
    .await?;
    let c = read_documents(&w, id).await?;
    assert_eq!(c["callData"]["duration"], 12.5);
    assert!(c["callData"]["recordingUrl"].is_null());
    assert_eq!(c["bookingDetails"]["price"], "10000000000");
    assert_eq!(c["customerSatisfaction"]["rating"], 4.5);
    assert!(c["customerSatisfaction"]["submittedAt"].is_null());
    assert_eq!(
        c["whatsappData"],
        json!({ "phoneNumberId": null, "businessAccountId": null })
    );
    assert_eq!(c["lastMessagePreview"]["content"], "x");
    assert_eq!(c["metadata"], json!({ "anything": { "nested": true } }));
    assert_eq!(c["messages"]["nodes"], json!([]));
    Ok(())
}
