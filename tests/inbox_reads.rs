//! The inbox read API against the seeded inbox: conversation filters, the caller's unread
//! counts and the badge counts equal what direct SQL says; message history pages back exactly;
//! nested conversation lists stay at one statement per level; other tenants stay invisible.

use frontdesk_db::sqlx::{self, Row};
use frontdesk_db::testing::TestDb;
use frontdesk_e2e::{error_code, spawn_app, spawn_app_on, Principal, Role, SeedSpec, TestApp};
use serde_json::{json, Value};
use uuid::Uuid;

fn spec(customers: u32) -> SeedSpec {
    SeedSpec {
        tenants: 2,
        customers_per_tenant: customers,
        bookings_per_customer: 1,
        calls_per_booking: 1,
        sms_per_call: 1,
    }
}

/// Runs `sql` as the database sees it for `user` acting in `tenant` (so `app.unread_count` and
/// `app.current_user_id()` mean the same as for the API), binding `$1` = tenant, `$2` = user;
/// returns the first column of each row as text.
async fn sql_as(app: &TestApp, tenant: Uuid, user: Uuid, sql: &str) -> anyhow::Result<Vec<String>> {
    let mut tx = app.db.owner().begin().await?;
    sqlx::query(
        "SELECT set_config('frontdesk.tenant_id', $1, true), set_config('frontdesk.user_id', $2, true)",
    )
    .bind(tenant.to_string())
    .bind(user.to_string())
    .execute(&mut *tx)
    .await?;
    let rows = sqlx::query(sql)
        .bind(tenant)
        .bind(user)
        .fetch_all(&mut *tx)
        .await?;
    tx.rollback().await?;
    Ok(rows
        .iter()
        .map(|r| {
            r.try_get::<Uuid, _>(0)
                .map(|u| u.to_string())
                .or_else(|_| r.try_get::<i64, _>(0).map(|n| n.to_string()))
                .unwrap_or_default()
        })
        .collect())
}

/// The seeded member with the most assigned conversations in `tenant`, and a token acting as them.
async fn busiest_agent(app: &TestApp, tenant: Uuid) -> anyhow::Result<(Uuid, String)> {
    let agent: Uuid = sqlx::query_scalar(
        "SELECT assigned_agent_id FROM app.conversations WHERE tenant_id = $1
          AND assigned_agent_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
    )
    .bind(tenant)
    .fetch_one(app.db.owner())
    .await?;
    let token = app.keys.mint(&Principal {
        user_id: agent,
        tenant_id: tenant,
        role: Role::Agent,
    });
    Ok((agent, token))
}

fn ids(conn: &Value) -> Vec<String> {
    conn["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| n["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn ok(app: &TestApp, token: &str, query: &str, vars: Value) -> anyhow::Result<Value> {
    let (status, body) = app.graphql(Some(token), query, vars).await?;
    assert_eq!(status, 200, "{body}");
    assert!(body["errors"].is_null(), "{body}");
    Ok(body["data"].clone())
}

const ORDER: &str = "ORDER BY coalesce(last_message_at, created_at) DESC, id";

#[tokio::test]
async fn conversation_filters_return_exactly_the_rows_direct_sql_returns() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    app.seed(&spec(80)).await?;
    let tenant = SeedSpec::tenant_id(0);
    let (agent, token) = busiest_agent(&app, tenant).await?;
    let name: String = sqlx::query_scalar(
        "SELECT client_name FROM app.conversations WHERE tenant_id = $1 ORDER BY id LIMIT 1",
    )
    .bind(tenant)
    .fetch_one(app.db.owner())
    .await?;
    let fragment: String = name
        .chars()
        .skip(1)
        .take(4)
        .collect::<String>()
        .to_uppercase();
    let cases: Vec<(Value, String)> = vec![
        (json!({}), "TRUE".into()),
        (json!({ "status": { "in": ["OPEN", "WAITING"] } }), "status IN ('open', 'waiting')".into()),
        (json!({ "channel": { "eq": "WHATSAPP" } }), "channel = 'whatsapp'".into()),
        (json!({ "assignee": { "me": true } }), "assigned_agent_id = $2".into()),
        (json!({ "assignee": { "unassigned": true } }), "assigned_agent_id IS NULL".into()),
        (
            json!({ "assignee": { "me": true, "unassigned": true } }),
            "(assigned_agent_id = $2 OR assigned_agent_id IS NULL)".into(),
        ),
        (json!({ "hasUnread": true }), "app.unread_count(id, $2) > 0".into()),
        (json!({ "hasUnread": false }), "app.unread_count(id, $2) = 0".into()),
        (json!({ "tags": { "overlaps": ["complaint", "sale"] } }), "tags && ARRAY['complaint', 'sale']".into()),
        (
            json!({ "search": "Thursday" }),
            "EXISTS (SELECT 1 FROM app.messages m WHERE m.tenant_id = $1 AND m.conversation_id = conversations.id
               AND m.search @@ websearch_to_tsquery('simple', 'Thursday'))".into(),
        ),
        (
            json!({ "search": fragment }),
            format!("(title ILIKE '%{fragment}%' OR client_name ILIKE '%{fragment}%'
               OR EXISTS (SELECT 1 FROM app.messages m WHERE m.tenant_id = $1
               AND m.conversation_id = conversations.id
               AND m.search @@ websearch_to_tsquery('simple', '{fragment}')))"),
        ),
        (
            json!({ "not": { "status": { "in": ["RESOLVED", "CLOSED"] } }, "assignee": { "me": true }, "hasUnread": true }),
            "status NOT IN ('resolved', 'closed') AND assigned_agent_id = $2 AND app.unread_count(id, $2) > 0".into(),
        ),
    ];
    let q = "query($f: ConversationFilter) {
      conversations(first: 100, filter: $f) { totalCount nodes { id: rowId } } }";
    let mut non_empty = 0;
    for (filter, cond) in cases {
        let data = ok(&app, &token, q, json!({ "f": filter })).await?;
        let want = sql_as(
            &app,
            tenant,
            agent,
            &format!("SELECT id FROM app.conversations WHERE tenant_id = $1 AND {cond} {ORDER}"),
        )
        .await?;
        assert_eq!(ids(&data["conversations"]), want, "filter {filter}");
        assert_eq!(
            data["conversations"]["totalCount"],
            want.len(),
            "filter {filter}"
        );
        non_empty += usize::from(!want.is_empty() && want.len() < 40);
    }
    assert!(
        non_empty >= 8,
        "the filters select proper, non-empty subsets"
    );
    Ok(())
}

#[tokio::test]
async fn unread_count_is_the_callers_own_app_unread_count_for_every_conversation(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    app.seed(&spec(60)).await?;
    let tenant = SeedSpec::tenant_id(1);
    let (agent, agent_token) = busiest_agent(&app, tenant).await?;
    // A member who has read nothing.
    let (stranger, stranger_token) = app.new_member(tenant, Role::Viewer).await?;
    let q = "{ conversations(first: 100) { nodes { id: rowId unreadCount } } }";
    let mut per_user = Vec::new();
    for (user, token) in [(agent, agent_token), (stranger, stranger_token)] {
        let data = ok(&app, &token, q, json!({})).await?;
        let got: Vec<String> = data["conversations"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|n| {
                format!(
                    "{} {}",
                    n["id"].as_str().unwrap_or_default(),
                    n["unreadCount"]
                )
            })
            .collect();
        let ids = sql_as(
            &app,
            tenant,
            user,
            &format!("SELECT id FROM app.conversations WHERE tenant_id = $1 {ORDER}"),
        )
        .await?;
        let counts = sql_as(
            &app,
            tenant,
            user,
            &format!("SELECT app.unread_count(id, $2) FROM app.conversations WHERE tenant_id = $1 {ORDER}"),
        )
        .await?;
        let want: Vec<String> = ids
            .iter()
            .zip(&counts)
            .map(|(i, n)| format!("{i} {n}"))
            .collect();
        assert_eq!(got, want, "unread counts of {user}");
        per_user.push(counts);
    }
    assert_ne!(
        per_user[0], per_user[1],
        "read markers make the counts personal"
    );
    assert!(
        per_user[0].iter().any(|n| n != "0"),
        "the agent has unread messages"
    );
    Ok(())
}

#[tokio::test]
async fn messages_page_newest_first_and_scroll_back_through_every_message_exactly_once(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    app.seed(&spec(10)).await?;
    let tenant = SeedSpec::tenant_id(0);
    let conversation: Uuid = sqlx::query_scalar(
        "SELECT id FROM app.conversations WHERE tenant_id = $1 ORDER BY id LIMIT 1",
    )
    .bind(tenant)
    .fetch_one(app.db.owner())
    .await?;
    // 30 more messages, in pairs sharing a timestamp, so the id tie-breaker matters.
    sqlx::query(
        "INSERT INTO app.messages (tenant_id, conversation_id, content, direction, sender, sent_at)
         SELECT $1, $2, 'extra ' || g, 'inbound', 'customer', now() - (g / 2) * interval '1 minute'
         FROM generate_series(1, 30) g",
    )
    .bind(tenant)
    .bind(conversation)
    .execute(app.db.owner())
    .await?;
    let want: Vec<String> = sqlx::query_scalar::<_, Uuid>(
        "SELECT id FROM app.messages WHERE tenant_id = $1 AND conversation_id = $2 ORDER BY sent_at DESC, id",
    )
    .bind(tenant)
    .bind(conversation)
    .fetch_all(app.db.owner())
    .await?
    .iter()
    .map(Uuid::to_string)
    .collect();
    assert_eq!(want.len(), 34);

    let token = app.token(tenant, Role::Agent).await?;
    let q = "query($id: ID!, $after: String) { conversation(id: $id) {
      lastMessage { id: rowId }
      messages(first: 8, after: $after) { totalCount nodes { id: rowId } pageInfo { hasNextPage endCursor } } } }";
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = ok(
            &app,
            &token,
            q,
            json!({ "id": conversation, "after": after }),
        )
        .await?;
        let c = &data["conversation"];
        assert_eq!(
            c["lastMessage"]["id"].as_str(),
            want.first().map(String::as_str)
        );
        assert_eq!(c["messages"]["totalCount"], 34);
        seen.extend(ids(&c["messages"]));
        if c["messages"]["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = c["messages"]["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, want);
    Ok(())
}

#[tokio::test]
async fn inbox_counts_equal_direct_sql_for_the_caller() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    app.seed(&spec(80)).await?;
    let tenant = SeedSpec::tenant_id(0);
    let (agent, token) = busiest_agent(&app, tenant).await?;
    let data = ok(
        &app,
        &token,
        "{ inboxCounts { open mine unassigned waiting resolved closed total unreadForMe
           byStatus { status count } } }",
        json!({}),
    )
    .await?;
    let c = &data["inboxCounts"];
    let active = "status NOT IN ('resolved', 'closed') AND lifecycle = 'active'";
    for (field, cond) in [
        ("open", active.to_owned()),
        ("mine", format!("{active} AND assigned_agent_id = $2")),
        (
            "unassigned",
            format!("{active} AND assigned_agent_id IS NULL"),
        ),
        ("waiting", "status = 'waiting'".to_owned()),
        ("resolved", "status = 'resolved'".to_owned()),
        ("closed", "status = 'closed'".to_owned()),
        ("total", "TRUE".to_owned()),
        ("unreadForMe", "app.unread_count(id, $2) > 0".to_owned()),
    ] {
        let n = sql_as(
            &app,
            tenant,
            agent,
            &format!("SELECT count(*) FROM app.conversations WHERE tenant_id = $1 AND {cond}"),
        )
        .await?;
        assert_eq!(c[field].to_string(), n[0], "{field}");
    }
    let by_status: i64 = c["byStatus"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| s["count"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(Some(by_status), c["total"].as_i64());
    assert!(c["mine"].as_i64() > Some(0) && c["open"].as_i64() > c["mine"].as_i64());
    Ok(())
}

#[tokio::test]
async fn customer_conversations_nest_with_their_messages_notes_and_members() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    app.seed(&spec(30)).await?;
    let tenant = SeedSpec::tenant_id(0);
    let token = app.token(tenant, Role::Viewer).await?;
    let data = ok(
        &app,
        &token,
        "{ customers(first: 30) { nodes { id: rowId conversations { nodes { id: rowId customerId
            assignedAgent { userId email role status }
            lastMessage { id: rowId conversation { id: rowId } }
            notes { nodes { id: rowId agent { userId name } } }
            messages(first: 2) { nodes { id: rowId sentAt conversationId agent { userId } } } } } } } }",
        json!({}),
    )
    .await?;
    let mut conversations = 0;
    for customer in data["customers"]["nodes"].as_array().into_iter().flatten() {
        let cid: Uuid = customer["id"].as_str().unwrap_or_default().parse()?;
        let want = sql_as(
            &app,
            tenant,
            Uuid::nil(),
            &format!("SELECT id FROM app.conversations WHERE tenant_id = $1 AND customer_id = '{cid}' {ORDER}"),
        )
        .await?;
        assert_eq!(
            ids(&customer["conversations"]),
            want,
            "conversations of {cid}"
        );
        for c in customer["conversations"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
        {
            conversations += 1;
            let vid = c["id"].as_str().unwrap_or_default();
            assert_eq!(c["customerId"], customer["id"]);
            let msgs = sql_as(
                &app,
                tenant,
                Uuid::nil(),
                &format!(
                    "SELECT id FROM app.messages WHERE tenant_id = $1 AND conversation_id = '{vid}'
                 ORDER BY sent_at DESC, id LIMIT 2"
                ),
            )
            .await?;
            assert_eq!(ids(&c["messages"]), msgs);
            assert_eq!(
                c["lastMessage"]["id"].as_str(),
                msgs.first().map(String::as_str)
            );
            assert_eq!(c["lastMessage"]["conversation"]["id"], c["id"]);
            let notes = sql_as(&app, tenant, Uuid::nil(), &format!(
                "SELECT id FROM app.conversation_notes WHERE tenant_id = $1 AND conversation_id = '{vid}'
                 ORDER BY created_at, id")).await?;
            assert_eq!(ids(&c["notes"]), notes);
            for n in c["notes"]["nodes"].as_array().into_iter().flatten() {
                assert!(n["agent"]["userId"].is_string(), "{n}");
            }
            if !c["assignedAgent"].is_null() {
                assert!(c["assignedAgent"]["email"].is_string(), "{c}");
                assert!(c["assignedAgent"]["role"].is_string(), "{c}");
            }
        }
    }
    assert_eq!(conversations, 15, "every other customer has a conversation");
    Ok(())
}

#[tokio::test]
async fn another_tenants_conversation_is_not_found_and_its_rows_never_appear() -> anyhow::Result<()>
{
    let app = spawn_app().await?;
    app.seed(&spec(20)).await?;
    let (mine, theirs) = (SeedSpec::tenant_id(0), SeedSpec::tenant_id(1));
    let foreign: Uuid = sqlx::query_scalar(
        "SELECT id FROM app.conversations WHERE tenant_id = $1 ORDER BY id LIMIT 1",
    )
    .bind(theirs)
    .fetch_one(app.db.owner())
    .await?;
    let token = app.token(mine, Role::Owner).await?;
    let (_, body) = app
        .graphql(
            Some(&token),
            "query($id: ID!) { conversation(id: $id) { id: rowId } }",
            json!({ "id": foreign }),
        )
        .await?;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");

    let data = ok(
        &app,
        &token,
        "{ inboxCounts { total } conversations(first: 100, filter: { search: \"Thursday\" }) {
             nodes { id: rowId messages(first: 100) { nodes { id: rowId } } notes { nodes { id: rowId } } } }
           all: conversations(first: 100) { totalCount nodes { id: rowId } } }",
        json!({}),
    )
    .await?;
    let own: Vec<String> = sql_as(
        &app,
        mine,
        Uuid::nil(),
        "SELECT id FROM app.conversations WHERE tenant_id = $1 ORDER BY id",
    )
    .await?;
    let mut listed = ids(&data["all"]);
    listed.sort();
    assert_eq!(listed, own);
    assert_eq!(data["inboxCounts"]["total"], own.len());
    let foreign_messages = sql_as(
        &app,
        theirs,
        Uuid::nil(),
        "SELECT id FROM app.messages WHERE tenant_id = $1",
    )
    .await?;
    for c in data["conversations"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
    {
        assert!(own.contains(&c["id"].as_str().unwrap_or_default().to_owned()));
        for m in ids(&c["messages"]) {
            assert!(!foreign_messages.contains(&m), "foreign message {m}");
        }
    }
    Ok(())
}

const INBOX: &str = "{ conversations(first: 50) { nodes { id: rowId unreadCount
  customer { name } assignedAgent { name }
  lastMessage { id: rowId agent { name } }
  notes { nodes { id: rowId agent { email } } }
  messages(first: 5) { nodes { id: rowId agent { name } replyTo { id: rowId } } } } } }";

async fn inbox_statements(app: &TestApp, tenant: Uuid) -> anyhow::Result<(i64, usize)> {
    let token = app.token(tenant, Role::Agent).await?;
    ok(app, &token, INBOX, json!({})).await?;
    app.db.reset_statement_stats().await?;
    let data = ok(app, &token, INBOX, json!({})).await?;
    let messages = data["conversations"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| ids(&c["messages"]).len())
        .sum();
    Ok((app.db.statements_executed().await?, messages))
}

#[tokio::test]
async fn the_inbox_query_issues_as_many_statements_for_5_conversations_as_for_50(
) -> anyhow::Result<()> {
    let app = spawn_app_on(TestDb::with_statement_stats().await?).await?;
    app.seed(&SeedSpec {
        tenants: 2,
        customers_per_tenant: 200,
        ..spec(0)
    })
    .await?;
    let (big, small) = (SeedSpec::tenant_id(0), SeedSpec::tenant_id(1));
    sqlx::query(
        "DELETE FROM app.conversations WHERE tenant_id = $1 AND id NOT IN
           (SELECT id FROM app.conversations WHERE tenant_id = $1 ORDER BY id LIMIT 5)",
    )
    .bind(small)
    .execute(app.db.owner())
    .await?;
    let (small_count, small_messages) = inbox_statements(&app, small).await?;
    let (big_count, big_messages) = inbox_statements(&app, big).await?;
    assert!(
        big_messages > small_messages * 5,
        "the big inbox returns more rows"
    );
    assert_eq!(small_count, big_count, "statements per inbox query");
    // BEGIN, context, conversations, then one per level: unread counts, customers, agents,
    // last messages and their agents, notes and their agents, messages, their agents and
    // the messages they reply to; COMMIT.
    assert_eq!(big_count, 14, "statements per inbox query");
    Ok(())
}

#[tokio::test]
async fn lists_reading_only_selected_inbox_columns_return_the_same_values_as_a_full_read(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    app.seed(&spec(40)).await?;
    let token = app.token(SeedSpec::tenant_id(0), Role::Viewer).await?;
    let conversation = "id type channel status lifecycle priority category tags intent leadScore
        lastMessagePreview { content timestamp from type } lastMessageAt resolutionTime
        firstResponseTime resolvedById assignedById customerSatisfaction { rating comment submittedAt }
        callData { duration voiceGender sentiment recordingUrl } bookingDetails { service date time price }
        whatsappData { phoneNumberId businessAccountId } metadata messageCount";
    let message = "id type direction sender status role content attachments { type url mimeType size }
        location { latitude longitude name } template { name language parameters category }
        interactive { type buttons { id title } } aiResponse { confidence intent sentiment entities extractedEntities { type value } }
        replyToId commitSequence sentAt metadata";
    let (_, list) = app
        .graphql(
            Some(&token),
            &format!(
                "{{ conversations(first: 20) {{ nodes {{ {conversation}
                   messages(first: 4) {{ nodes {{ {message} }} }} }} }} }}"
            ),
            json!({}),
        )
        .await?;
    let nodes = list["data"]["conversations"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(nodes.len(), 20, "{list}");
    let mut documents = 0;
    for node in nodes {
        let one = ok(
            &app,
            &token,
            &format!(
                "query($id: ID!) {{ conversation(id: $id) {{ {conversation}
                   messages(first: 4) {{ nodes {{ {message} }} }} }} }}"
            ),
            json!({ "id": node["id"] }),
        )
        .await?;
        assert_eq!(one["conversation"], node);
        if !node["lastMessagePreview"].is_null() {
            assert!(
                node["lastMessagePreview"]["timestamp"].is_string(),
                "{node}"
            );
        }
        documents += usize::from(!node["lastMessagePreview"].is_null())
            + usize::from(!node["resolutionTime"].is_null())
            + usize::from(!node["customerSatisfaction"].is_null());
    }
    assert!(documents > 20, "the seed fills the typed documents");
    Ok(())
}
