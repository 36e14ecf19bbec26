//! The audit trail over HTTP (migration 0022): every write of a tenant table leaves an entry in
//! the same transaction, with who acted, the request (id, client address, user agent), the row
//! before and after with secrets redacted, and the changed columns; sign-ins, failed sign-ins
//! and expired tokens are `AUTH` entries; `auditLog` is for owners and admins of the tenant
//! only; the runtime role can neither change nor remove entries, not even through the GDPR
//! erasure's door; and the catalog proves no tenant table escapes the trigger.

use frontdesk_db::sqlx;
use frontdesk_db::TenantCtx;
use frontdesk_e2e::body::{data, id_of};
use frontdesk_e2e::team::LOGIN;
use frontdesk_e2e::{error_code, spawn_app, Principal, Role, TestApp};
use serde_json::{json, Value};
use uuid::Uuid;

const FIELDS: &str = "id rowId entityType entityId action actorId actorRole requestId
  clientAddress userAgent before after changedFields reason metadata severity category status
  occurredAt";

fn log_doc() -> String {
    format!(
        "query($filter: AuditEntryFilter, $first: Int) {{
           auditLog(filter: $filter, first: $first) {{ totalCount nodes {{ {FIELDS} }} }} }}"
    )
}

const CREATE_LEAD: &str =
    "mutation($input: CreateLeadInput!) { createLead(input: $input) { rowId } }";
const UPDATE_LEAD: &str =
    "mutation($id: ID!, $input: UpdateLeadInput!) { updateLead(id: $id, input: $input) { rowId } }";
const DELETE_LEAD: &str = "mutation($id: ID!) { deleteLead(id: $id) { deletedId } }";

/// POSTs a document with a user agent; returns the response's request id and body.
async fn post(
    app: &TestApp,
    token: &str,
    agent: &str,
    query: &str,
    variables: Value,
) -> anyhow::Result<(String, Value)> {
    let resp = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .header("user-agent", agent)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await?;
    let request_id = resp
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    Ok((request_id, resp.json().await?))
}

/// The entries `filter` selects, newest first, read as `token`.
async fn entries(app: &TestApp, token: &str, filter: Value) -> anyhow::Result<Vec<Value>> {
    let body = app
        .gql(token, &log_doc(), json!({ "filter": filter, "first": 100 }))
        .await?;
    Ok(data(&body, "auditLog")["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default())
}

/// A tenant and an admin of it.
async fn tenant_with_admin(app: &TestApp) -> anyhow::Result<(Uuid, Uuid, String)> {
    let tenant = Uuid::new_v4();
    app.token(tenant, Role::Viewer).await?; // creates the tenant row
    let (user, token) = app.new_member(tenant, Role::Admin).await?;
    Ok((tenant, user, token))
}

#[tokio::test]
async fn a_mutation_is_recorded_with_its_actor_role_request_id_user_agent_and_changed_fields(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (_, admin, token) = tenant_with_admin(&app).await?;

    let (create_request, body) = post(
        &app,
        &token,
        "audit-test/1.0",
        CREATE_LEAD,
        json!({ "input": { "name": "Ada", "email": "ada@example.com" } }),
    )
    .await?;
    let lead = id_of(data(&body, "createLead"));
    let (update_request, body) = post(
        &app,
        &token,
        "audit-test/2.0",
        UPDATE_LEAD,
        json!({ "id": lead, "input": { "name": "Ada L.", "email": "ada@example.com" } }),
    )
    .await?;
    data(&body, "updateLead");
    // Nothing changes: no entry.
    let (_, body) = post(
        &app,
        &token,
        "audit-test/3.0",
        UPDATE_LEAD,
        json!({ "id": lead, "input": { "name": "Ada L." } }),
    )
    .await?;
    data(&body, "updateLead");

    let found = entries(
        &app,
        &token,
        json!({ "entityType": { "eq": "leads" }, "entityId": { "eq": lead.to_string() } }),
    )
    .await?;
    assert_eq!(found.len(), 2, "{found:#?}");
    let (updated, created) = (&found[0], &found[1]);

    assert_eq!(updated["action"], "updated");
    assert_eq!(updated["actorId"], admin.to_string());
    assert_eq!(updated["actorRole"], "ADMIN");
    assert!(!update_request.is_empty());
    assert_eq!(updated["requestId"], update_request);
    assert_eq!(updated["userAgent"], "audit-test/2.0");
    assert_eq!(updated["clientAddress"], "127.0.0.1");
    assert_eq!(updated["changedFields"], json!(["name"]));
    assert_eq!(updated["before"]["name"], "Ada");
    assert_eq!(updated["after"]["name"], "Ada L.");
    assert_eq!(updated["category"], "DATA");
    assert_eq!(updated["severity"], "LOW");
    assert!(
        updated["before"].get("search").is_none(),
        "generated columns are left out"
    );

    assert_eq!(created["action"], "created");
    assert_eq!(created["requestId"], create_request);
    assert_eq!(created["userAgent"], "audit-test/1.0");
    assert!(created["before"].is_null());
    assert!(created["changedFields"].is_null());
    assert_eq!(created["after"]["email"], "ada@example.com");
    assert_eq!(created["after"]["id"], lead.to_string());
    Ok(())
}

#[tokio::test]
async fn a_mutation_that_fails_leaves_no_entry() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (tenant, _, token) = tenant_with_admin(&app).await?;
    let before = app.rows("audit_log", tenant).await?;
    // Two fields, the second refused: the first one's write is rolled back with its entry.
    let body = app
        .gql(
            &token,
            "mutation { a: createLead(input: { name: \"Kept?\" }) { rowId }
                        b: createLead(input: { name: \"Bad\", leadScore: 500 }) { rowId } }",
            json!({}),
        )
        .await?;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(app.rows("leads", tenant).await?, 0);
    assert_eq!(app.rows("audit_log", tenant).await?, before);
    Ok(())
}

#[tokio::test]
async fn secret_columns_are_redacted_in_entries() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (tenant, _, token) = tenant_with_admin(&app).await?;
    let access = format!("ya29.access-{}", Uuid::new_v4().simple());
    let body = app
        .gql(
            &token,
            "mutation($input: ConnectIntegrationInput!) { connectIntegration(input: $input) { rowId } }",
            json!({ "input": { "platform": "GOOGLE_ADS", "accountId": "123-456", "accessToken": access } }),
        )
        .await?;
    let integration = id_of(data(&body, "connectIntegration"));
    let body = app
        .gql(
            &token,
            "mutation($email: String!) { inviteMember(email: $email, role: AGENT) { invitationToken } }",
            json!({ "email": "new.agent@example.com" }),
        )
        .await?;
    let invitation_token = data(&body, "inviteMember")["invitationToken"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!invitation_token.is_empty());

    let found = entries(
        &app,
        &token,
        json!({ "entityType": { "eq": "integrations" }, "entityId": { "eq": integration.to_string() } }),
    )
    .await?;
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0]["after"]["access_token_ciphertext"], "[redacted]");
    assert!(found[0]["after"]["refresh_token_ciphertext"].is_null());
    assert_eq!(found[0]["category"], "SECURITY");
    let invites = entries(
        &app,
        &token,
        json!({ "entityType": { "eq": "invitations" } }),
    )
    .await?;
    assert_eq!(invites.len(), 1, "{invites:#?}");
    assert_eq!(invites[0]["after"]["token_hash"], "[redacted]");

    // Nothing of either secret is stored in the trail, in any form.
    let stored: String = sqlx::query_scalar(
        "SELECT coalesce(string_agg(a::text, ' '), '') FROM app.audit_log a WHERE tenant_id = $1",
    )
    .bind(tenant)
    .fetch_one(app.db.owner())
    .await?;
    let ciphertext: String = sqlx::query_scalar(
        "SELECT encode(access_token_ciphertext, 'hex') FROM app.integrations WHERE id = $1",
    )
    .bind(integration)
    .fetch_one(app.db.owner())
    .await?;
    let token_hash: String = sqlx::query_scalar(
        "SELECT encode(token_hash, 'hex') FROM app.invitations WHERE tenant_id = $1",
    )
    .bind(tenant)
    .fetch_one(app.db.owner())
    .await?;
    for secret in [&access, &ciphertext, &invitation_token, &token_hash] {
        assert!(
            !stored.contains(secret.as_str()),
            "a secret reached the trail"
        );
    }
    Ok(())
}

#[tokio::test]
async fn other_tenants_entries_are_invisible() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (_, _, mine) = tenant_with_admin(&app).await?;
    let (_, _, theirs) = tenant_with_admin(&app).await?;
    let body = app
        .gql(
            &theirs,
            CREATE_LEAD,
            json!({ "input": { "name": "Theirs" } }),
        )
        .await?;
    let lead = id_of(data(&body, "createLead"));
    let their_entries = entries(
        &app,
        &theirs,
        json!({ "entityId": { "eq": lead.to_string() } }),
    )
    .await?;
    assert_eq!(their_entries.len(), 1);

    assert!(entries(
        &app,
        &mine,
        json!({ "entityId": { "eq": lead.to_string() } })
    )
    .await?
    .is_empty());
    let body = app
        .gql(
            &mine,
            "query($id: ID!) { auditEntry(id: $id) { rowId } }",
            json!({ "id": their_entries[0]["id"] }),
        )
        .await?;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    Ok(())
}

#[tokio::test]
async fn only_owners_and_admins_may_read_the_trail() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = Uuid::new_v4();
    for role in [Role::Viewer, Role::Agent, Role::Supervisor] {
        let token = app.token(tenant, role).await?;
        let body = app.gql(&token, &log_doc(), json!({})).await?;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{role}: {body}");
        assert!(body["data"].is_null() || body["data"]["auditLog"].is_null());
    }
    for role in [Role::Owner, Role::Admin] {
        let token = app.token(tenant, role).await?;
        let body = app.gql(&token, &log_doc(), json!({})).await?;
        assert!(
            data(&body, "auditLog")["totalCount"].as_i64() > Some(0),
            "{role}: {body}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn filters_select_by_action_category_severity_actor_and_time() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (tenant, admin, token) = tenant_with_admin(&app).await?;
    let (owner, owner_token) = app.new_member(tenant, Role::Owner).await?;
    let body = app
        .gql(
            &token,
            CREATE_LEAD,
            json!({ "input": { "name": "Gone soon" } }),
        )
        .await?;
    let lead = id_of(data(&body, "createLead"));
    let body = app
        .gql(&owner_token, DELETE_LEAD, json!({ "id": lead }))
        .await?;
    data(&body, "deleteLead");

    let deleted = entries(&app, &token, json!({ "action": { "eq": "deleted" } })).await?;
    assert_eq!(deleted.len(), 1, "{deleted:#?}");
    assert_eq!(deleted[0]["entityId"], lead.to_string());
    assert_eq!(deleted[0]["severity"], "MEDIUM");
    assert_eq!(deleted[0]["actorId"], owner.to_string());
    assert_eq!(deleted[0]["actorRole"], "OWNER");
    assert_eq!(deleted[0]["before"]["name"], "Gone soon");
    assert!(deleted[0]["after"].is_null());

    let medium = entries(&app, &token, json!({ "severity": { "eq": "MEDIUM" } })).await?;
    assert_eq!(medium.len(), 1);
    let by_admin = entries(&app, &token, json!({ "actorId": { "eq": admin } })).await?;
    assert_eq!(by_admin.len(), 1, "{by_admin:#?}");
    assert_eq!(by_admin[0]["action"], "created");
    let data_entries = entries(
        &app,
        &token,
        json!({ "category": { "eq": "DATA" }, "entityType": { "eq": "leads" } }),
    )
    .await?;
    assert_eq!(data_entries.len(), 2);
    // Newest first.
    assert_eq!(data_entries[0]["action"], "deleted");
    assert!(data_entries[0]["occurredAt"].as_str() >= data_entries[1]["occurredAt"].as_str());
    let future = entries(
        &app,
        &token,
        json!({ "occurredAt": { "gt": "2999-01-01T00:00:00Z" } }),
    )
    .await?;
    assert!(future.is_empty());
    let past = entries(
        &app,
        &token,
        json!({ "occurredAt": { "gt": "2000-01-01T00:00:00Z" }, "entityType": { "eq": "leads" } }),
    )
    .await?;
    assert_eq!(past.len(), 2);
    let body = app
        .gql(
            &token,
            &log_doc(),
            json!({ "filter": { "category": { "eq": "NOPE" } } }),
        )
        .await?;
    assert!(body["errors"].is_array(), "{body}");
    Ok(())
}

#[tokio::test]
async fn sign_ins_failed_sign_ins_and_expired_tokens_are_auth_entries_without_secrets(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (tenant, admin, token) = tenant_with_admin(&app).await?;
    let (user, _) = app.new_member(tenant, Role::Agent).await?;
    let password = format!("pw-{}", Uuid::new_v4().simple());
    app.set_password(user, &password).await?;
    let email = format!("{user}@example.com");

    let wrong = format!("wrong-{}", Uuid::new_v4().simple());
    let (_, body) = post(
        &app,
        &token,
        "login-test",
        LOGIN,
        json!({ "email": email, "password": wrong }),
    )
    .await?;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    let (_, body) = post(
        &app,
        &token,
        "login-test",
        LOGIN,
        json!({ "email": email, "password": password }),
    )
    .await?;
    let access = data(&body, "login")["accessToken"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    // An unknown address belongs to no tenant: recorded nowhere.
    let (_, body) = post(
        &app,
        &token,
        "login-test",
        LOGIN,
        json!({ "email": "nobody@example.com", "password": wrong }),
    )
    .await?;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));

    let expired = app.keys.mint_with_ttl(
        &Principal {
            user_id: admin,
            tenant_id: tenant,
            role: Role::Admin,
        },
        chrono::Duration::seconds(-10),
    );
    let (_, body) = post(
        &app,
        &expired,
        "expired-client",
        "{ __typename }",
        json!({}),
    )
    .await?;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
    // Signed with another secret: its claims prove nothing, so no entry.
    let forged = frontdesk_e2e::TokenKeys::new(
        &"another-secret-another-secret-another".to_owned().into(),
        chrono::Duration::minutes(5),
    )
    .mint_with_ttl(
        &Principal {
            user_id: admin,
            tenant_id: tenant,
            role: Role::Admin,
        },
        chrono::Duration::seconds(-10),
    );
    let (_, body) = post(&app, &forged, "forged-client", "{ __typename }", json!({})).await?;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));

    let auth = entries(&app, &token, json!({ "category": { "eq": "AUTH" } })).await?;
    let actions: Vec<&str> = auth.iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(
        actions,
        ["token.refused", "login.succeeded", "login.failed"],
        "{auth:#?}"
    );
    let (refused, succeeded, failed) = (&auth[0], &auth[1], &auth[2]);
    assert_eq!(refused["actorId"], admin.to_string());
    assert_eq!(refused["reason"], "expired");
    assert_eq!(refused["userAgent"], "expired-client");
    assert_eq!(refused["status"], "FAILURE");
    assert_eq!(succeeded["actorId"], user.to_string());
    assert_eq!(succeeded["status"], "SUCCESS");
    assert_eq!(succeeded["userAgent"], "login-test");
    assert!(!succeeded["requestId"]
        .as_str()
        .unwrap_or_default()
        .is_empty());
    assert_eq!(failed["actorId"], user.to_string());
    assert_eq!(failed["reason"], "password");
    assert_eq!(failed["status"], "FAILURE");
    assert_eq!(failed["severity"], "MEDIUM");

    let stored: String =
        sqlx::query_scalar("SELECT coalesce(string_agg(a::text, ' '), '') FROM app.audit_log a")
            .fetch_one(app.db.owner())
            .await?;
    for secret in [&password, &wrong, &access, &expired, &forged] {
        assert!(
            !stored.contains(secret.as_str()),
            "a password or token reached the trail"
        );
    }
    assert!(!stored.contains("nobody@example.com"));
    Ok(())
}

#[tokio::test]
async fn the_runtime_role_can_neither_update_nor_delete_entries() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (tenant, admin, token) = tenant_with_admin(&app).await?;
    app.gql(&token, CREATE_LEAD, json!({ "input": { "name": "Kept" } }))
        .await?;
    let ctx = TenantCtx {
        tenant_id: tenant,
        user_id: Some(admin),
    };
    for statement in [
        "UPDATE app.audit_log SET action = 'nothing happened'",
        "DELETE FROM app.audit_log",
    ] {
        let mut tx = app.db.db.begin_tenant(ctx).await?;
        let err = sqlx::query(statement)
            .execute(tx.conn())
            .await
            .expect_err("the runtime role changed the trail");
        let code = err
            .as_database_error()
            .and_then(|e| e.code())
            .unwrap_or_default();
        assert_eq!(code, "42501", "{statement}: {err}");
    }
    assert!(app.rows("audit_log", tenant).await? > 0);
    Ok(())
}

#[tokio::test]
async fn the_erasure_door_cannot_remove_the_history_of_a_live_row() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (tenant, admin, token) = tenant_with_admin(&app).await?;
    let body = app
        .gql(&token, CREATE_LEAD, json!({ "input": { "name": "Alive" } }))
        .await?;
    let lead = id_of(data(&body, "createLead"));
    let body = app
        .gql(
            &token,
            CREATE_LEAD,
            json!({ "input": { "name": "Doomed" } }),
        )
        .await?;
    let gone = id_of(data(&body, "createLead"));
    app.gql(&token, DELETE_LEAD, json!({ "id": gone })).await?;
    let ctx = TenantCtx {
        tenant_id: tenant,
        user_id: Some(admin),
    };
    let count = |id: Uuid| {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM app.audit_log WHERE entity_type = 'leads' AND entity_id = $1",
        )
        .bind(id.to_string())
        .fetch_one(app.db.owner())
    };
    let alive_before = count(lead).await?;
    assert_eq!(alive_before, 1);

    let mut tx = app.db.db.begin_tenant(ctx).await?;
    let removed: i64 = sqlx::query_scalar("SELECT app.erase_audit_entries('leads', $1)")
        .bind(vec![lead.to_string(), gone.to_string()])
        .fetch_one(tx.conn())
        .await?;
    tx.commit().await?;
    // The deleted row's two entries went; the live row's stayed.
    assert_eq!(removed, 2);
    assert_eq!(count(lead).await?, alive_before);
    assert_eq!(count(gone).await?, 0);

    // Tables outside a person's footprint are refused outright.
    let mut tx = app.db.db.begin_tenant(ctx).await?;
    let err = sqlx::query("SELECT app.erase_audit_entries('memberships', $1)")
        .bind(vec![admin.to_string()])
        .execute(tx.conn())
        .await
        .expect_err("erased the history of a membership");
    let code = err
        .as_database_error()
        .and_then(|e| e.code())
        .unwrap_or_default();
    assert_eq!(code, "42501", "{err}");
    Ok(())
}

/// The tables exempt from the trigger, as migrations 0022, 0025 and 0028 document them.
const EXEMPT: [&str; 7] = [
    "audit_log",
    "conversation_reads",
    "event_counters",
    "inbox_events",
    "subscription_holds",
    "subscription_leases",
    "ticket_counters",
];

#[tokio::test]
async fn every_tenant_table_has_the_audit_trigger_or_a_documented_exemption() -> anyhow::Result<()>
{
    let app = spawn_app().await?;
    let rows: Vec<(String, bool, bool)> = sqlx::query_as(
        "SELECT c.relname::text,
                EXISTS (SELECT 1 FROM pg_trigger g JOIN pg_proc p ON p.oid = g.tgfoid
                         WHERE g.tgrelid = c.oid AND p.proname = 'audit_row' AND NOT g.tgisinternal
                           AND g.tgenabled <> 'D'
                           AND g.tgtype & 28 = 28),  -- INSERT (4) | DELETE (8) | UPDATE (16)
                c.relname = ANY (app.audit_exempt_tables())
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'app' AND c.relkind IN ('r', 'p')
            AND EXISTS (SELECT 1 FROM pg_attribute a
                         WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
          ORDER BY 1",
    )
    .fetch_all(app.db.owner())
    .await?;
    assert!(rows.len() > 20, "{rows:?}");
    let escaped: Vec<&str> = rows
        .iter()
        .filter(|(_, audited, exempt)| !audited && !exempt)
        .map(|(t, _, _)| t.as_str())
        .collect();
    assert!(
        escaped.is_empty(),
        "tenant tables neither audited nor exempt: {escaped:?}"
    );
    let exempt: Vec<&str> = rows
        .iter()
        .filter(|(_, _, exempt)| *exempt)
        .map(|(t, _, _)| t.as_str())
        .collect();
    assert_eq!(
        exempt, EXEMPT,
        "the exemptions changed: update migration 0022's notes and docs"
    );
    let both: Vec<&str> = rows
        .iter()
        .filter(|(_, audited, exempt)| *audited && *exempt)
        .map(|(t, _, _)| t.as_str())
        .collect();
    assert!(both.is_empty(), "exempt tables with the trigger: {both:?}");
    Ok(())
}
