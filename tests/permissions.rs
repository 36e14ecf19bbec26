//! Permissions are enforced from the membership, not the token: seed 003's permission list
//! gates mutations beside the role, a refusal is `FORBIDDEN` naming the missing permission and
//! writes nothing, and a demotion, a revoked permission or a deactivation takes effect on the
//! next request.

use std::time::Duration;

use frontdesk_db::sqlx;
use frontdesk_e2e::body::{data, id_of, message};
use frontdesk_e2e::ws::WsClient;
use frontdesk_e2e::{error_code, spawn_app, Principal, Role, TestApp};
use serde_json::json;
use uuid::Uuid;

const CREATE_CUSTOMER: &str = "mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) { id: rowId } }";

const START: &str = "mutation($input: StartConversationInput!) {
  startConversation(input: $input) { id: rowId assignedAgentId } }";

const ASSIGN: &str = "mutation($id: ID!, $agent: ID!) {
  assignConversation(id: $id, agentId: $agent) { id: rowId assignedAgentId } }";

async fn set_permissions(
    app: &TestApp,
    tenant: Uuid,
    user: Uuid,
    permissions: &[&str],
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE app.memberships SET permissions = $3 WHERE tenant_id = $1 AND user_id = $2",
    )
    .bind(tenant)
    .bind(user)
    .bind(permissions)
    .execute(app.db.owner())
    .await?;
    Ok(())
}

#[tokio::test]
async fn a_member_whose_list_lacks_the_permission_is_refused_by_name_and_nothing_is_written(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Permissions").await?;
    let (agent, token) = app.new_member(tenant, Role::Agent).await?;
    let input = json!({ "input": { "name": "Eva", "phone": "+420731555010" } });

    // The agent's defaults include manage:customers.
    let body = app.gql(&token, CREATE_CUSTOMER, input.clone()).await?;
    assert!(data(&body, "createCustomer")["id"].is_string(), "{body}");

    // A membership that lists its own permissions holds exactly those.
    set_permissions(&app, tenant, agent, &["read:conversations"]).await?;
    let before = app.rows("customers", tenant).await?;
    let body = app
        .gql(
            &token,
            CREATE_CUSTOMER,
            json!({ "input": { "name": "Jan", "phone": "+420731555011" } }),
        )
        .await?;
    let (code, message) = (error_code(&body), message(&body));
    assert_eq!(code, Some("FORBIDDEN"), "{body}");
    assert!(message.contains("manage:customers"), "{message}");
    assert_eq!(app.rows("customers", tenant).await?, before);

    let body = app
        .gql(&token, "{ me { role permissions } }", json!({}))
        .await?;
    assert_eq!(
        data(&body, "me")["permissions"],
        json!(["READ_CONVERSATIONS"])
    );
    Ok(())
}

#[tokio::test]
async fn handing_a_conversation_to_someone_else_takes_assign_conversations() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Assign").await?;
    let (agent, token) = app.new_member(tenant, Role::Agent).await?;
    let (colleague, _) = app.new_member(tenant, Role::Agent).await?;

    let body = app
        .gql(
            &token,
            START,
            json!({ "input": { "customer": { "name": "Jana", "phone": "+420777123456" },
                               "channel": "WHATSAPP" } }),
        )
        .await?;
    let id = data(&body, "startConversation")["id"].clone();

    // Claiming it is ordinary work.
    let body = app
        .gql(&token, ASSIGN, json!({ "id": id, "agent": agent }))
        .await?;
    assert_eq!(
        data(&body, "assignConversation")["assignedAgentId"],
        agent.to_string()
    );

    // Giving it to a colleague is not, for an agent by default.
    let body = app
        .gql(&token, ASSIGN, json!({ "id": id, "agent": colleague }))
        .await?;
    let (code, message) = (error_code(&body), message(&body));
    assert_eq!(code, Some("FORBIDDEN"), "{body}");
    assert!(message.contains("assign:conversations"), "{message}");
    let assigned: Option<Uuid> =
        sqlx::query_scalar("SELECT assigned_agent_id FROM app.conversations WHERE id = $1")
            .bind(id_of(&json!({ "id": id })))
            .fetch_one(app.db.owner())
            .await?;
    assert_eq!(
        assigned,
        Some(agent),
        "the refused assignment wrote nothing"
    );

    // Granted, it may.
    set_permissions(
        &app,
        tenant,
        agent,
        &[
            "read:conversations",
            "write:messages",
            "assign:conversations",
        ],
    )
    .await?;
    let body = app
        .gql(&token, ASSIGN, json!({ "id": id, "agent": colleague }))
        .await?;
    assert_eq!(
        data(&body, "assignConversation")["assignedAgentId"],
        colleague.to_string()
    );
    Ok(())
}

#[tokio::test]
async fn the_role_comes_from_the_membership_so_a_demotion_applies_to_a_live_token(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Demotion").await?;
    let (user, token) = app.new_member(tenant, Role::Agent).await?;
    sqlx::query("UPDATE app.memberships SET role = 'viewer' WHERE tenant_id = $1 AND user_id = $2")
        .bind(tenant)
        .bind(user)
        .execute(app.db.owner())
        .await?;

    let body = app.gql(&token, "{ me { role } }", json!({})).await?;
    assert_eq!(data(&body, "me")["role"], "VIEWER");
    let body = app
        .gql(
            &token,
            CREATE_CUSTOMER,
            json!({ "input": { "name": "Eva", "phone": "+420731555010" } }),
        )
        .await?;
    let (code, message) = (error_code(&body), message(&body));
    assert_eq!(code, Some("FORBIDDEN"), "{body}");
    assert!(message.contains("agent role"), "{message}");
    Ok(())
}

#[tokio::test]
async fn a_deactivated_member_and_a_token_without_a_membership_cannot_read_anything(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Deactivated").await?;
    let (user, token) = app.new_member(tenant, Role::Owner).await?;
    sqlx::query(
        "UPDATE app.memberships SET is_active = false WHERE tenant_id = $1 AND user_id = $2",
    )
    .bind(tenant)
    .bind(user)
    .execute(app.db.owner())
    .await?;
    for query in [
        "{ me { role } }",
        "{ customers { totalCount } }",
        "{ tenant { name } }",
    ] {
        let body = app.gql(&token, query, json!({})).await?;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{query}: {body}");
    }

    // A validly signed token for someone who is not a member of its tenant.
    let stranger = app.keys.mint(&Principal {
        user_id: Uuid::new_v4(),
        tenant_id: tenant,
        role: Role::Owner,
    });
    let body = app
        .gql(&stranger, "{ customers { totalCount } }", json!({}))
        .await?;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    Ok(())
}

#[tokio::test]
async fn subscribing_to_the_inbox_takes_read_conversations() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Live").await?;
    let (user, token) = app.new_member(tenant, Role::Agent).await?;
    set_permissions(&app, tenant, user, &["manage:customers"]).await?;
    let mut client = WsClient::connect(app.addr, &token).await?;
    for (id, query) in [
        ("m", "subscription { messageAdded { cursor } }"),
        ("c", "subscription { conversationUpdated { cursor } }"),
    ] {
        client.subscribe(id, query, json!({})).await?;
        let (got, payload) = client.next_payload(Duration::from_secs(10)).await?;
        assert_eq!(got, id);
        assert_eq!(error_code(&payload), Some("FORBIDDEN"), "{payload}");
        assert!(
            message(&payload).contains("read:conversations"),
            "{payload}"
        );
    }
    client.close().await
}
