//! The team over HTTP: the `members` list and its typed filters, inviting and accepting
//! (single use, expiry, existing accounts), managing members (roles, permissions,
//! deactivation, and the rules that refuse), and a member's own profile, preferences,
//! presence and password. Stored values are checked with direct SQL; refusals write nothing.

use frontdesk_db::sqlx;
use frontdesk_e2e::body::{data, id_of, message, refusal};
use frontdesk_e2e::{spawn_app, Role, TestApp};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

const MEMBER_FIELDS: &str = "id rowId email name firstName lastName phone avatar role status
  department isActive invitationPending permissions effectivePermissions lastLoginAt
  lastActivityAt preferences { language timezone notifications { email push sound } autoAssignment }";

const INVITE: &str = "mutation($email: String!, $role: Role!, $name: String, $department: String,
  $permissions: [Permission!]) {
  inviteMember(email: $email, role: $role, name: $name, department: $department,
               permissions: $permissions) {
    invitationToken expiresAt member { rowId email name role isActive invitationPending department permissions } } }";

const ACCEPT: &str = "mutation($token: String!, $password: String!) {
  acceptInvitation(token: $token, password: $password) { accessToken userId tenantId role } }";

const LOGIN: &str = "mutation($email: String!, $password: String!, $tenantId: UUID) {
  login(email: $email, password: $password, tenantId: $tenantId) { accessToken tenantId role } }";

async fn members(app: &TestApp, token: &str, filter: Value) -> anyhow::Result<Vec<Uuid>> {
    let body = app
        .gql(
            token,
            "query($f: MemberFilter) { members(first: 50, filter: $f) { nodes { rowId } } }",
            json!({ "f": filter }),
        )
        .await?;
    let mut ids: Vec<Uuid> = data(&body, "members")["nodes"]
        .as_array()
        .map(|n| n.iter().map(id_of).collect())
        .unwrap_or_default();
    ids.sort();
    Ok(ids)
}

fn sorted(mut v: Vec<Uuid>) -> Vec<Uuid> {
    v.sort();
    v
}

async fn sql(app: &TestApp, statement: &str, user: Uuid) -> anyhow::Result<()> {
    sqlx::query(statement)
        .bind(user)
        .execute(app.db.owner())
        .await?;
    Ok(())
}

async fn member(app: &TestApp, token: &str, id: Uuid) -> anyhow::Result<Value> {
    let body = app
        .gql(
            token,
            &format!("query($id: ID!) {{ member(id: $id) {{ {MEMBER_FIELDS} }} }}"),
            json!({ "id": id }),
        )
        .await?;
    Ok(data(&body, "member").clone())
}

async fn set_password(app: &TestApp, user: Uuid, password: &str) -> anyhow::Result<()> {
    let hash = frontdesk_graphql::password::hash(password.to_owned()).await?;
    sqlx::query("UPDATE app.users SET password_hash = $2 WHERE id = $1")
        .bind(user)
        .bind(hash)
        .execute(app.db.owner())
        .await?;
    Ok(())
}

#[tokio::test]
async fn the_list_filters_by_role_status_department_activity_and_search() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let t = app.new_tenant("Team").await?;
    let (owner, token) = app.new_member(t, Role::Owner).await?;
    let (a1, _) = app.new_member(t, Role::Agent).await?;
    let (a2, _) = app.new_member(t, Role::Agent).await?;
    let (sup, _) = app.new_member(t, Role::Supervisor).await?;
    // Another tenant's member never shows.
    let other = app.new_tenant("Other").await?;
    app.new_member(other, Role::Agent).await?;
    sql(
        &app,
        "UPDATE app.memberships SET status = 'busy', department = 'Sales' WHERE user_id = $1",
        a1,
    )
    .await?;
    sql(
        &app,
        "UPDATE app.memberships SET is_active = false WHERE user_id = $1",
        a2,
    )
    .await?;
    sql(
        &app,
        "UPDATE app.users SET name = 'Zoë Searchable' WHERE id = $1",
        sup,
    )
    .await?;

    assert_eq!(
        members(&app, &token, json!({ "role": { "eq": "AGENT" } })).await?,
        sorted(vec![a1, a2])
    );
    assert_eq!(
        members(
            &app,
            &token,
            json!({ "role": { "in": ["OWNER", "SUPERVISOR"] } })
        )
        .await?,
        sorted(vec![owner, sup])
    );
    assert_eq!(
        members(&app, &token, json!({ "status": { "eq": "BUSY" } })).await?,
        vec![a1]
    );
    assert_eq!(
        members(&app, &token, json!({ "department": { "eq": "Sales" } })).await?,
        vec![a1]
    );
    assert_eq!(
        members(&app, &token, json!({ "isActive": { "eq": false } })).await?,
        vec![a2]
    );
    assert_eq!(
        members(&app, &token, json!({ "search": "searchABLE" })).await?,
        vec![sup]
    );
    let by_mail = a2.to_string()[..8].to_owned();
    assert_eq!(
        members(&app, &token, json!({ "search": by_mail })).await?,
        vec![a2]
    );
    assert_eq!(members(&app, &token, json!({})).await?.len(), 4);

    // A role filter takes the enum: a string is refused by the schema.
    let (_, body) = app
        .graphql(
            Some(&token),
            "{ members(filter: { role: { eq: \"agent\" } }) { totalCount } }",
            json!({}),
        )
        .await?;
    assert!(body["errors"].is_array(), "{body}");

    // Defaults, phone, permissions.
    sql(
        &app,
        "UPDATE app.users SET phone = '+420777123456' WHERE id = $1",
        a1,
    )
    .await?;
    sql(&app, "UPDATE app.memberships SET preferences = '{\"language\": \"cs\", \"notifications\": {\"push\": false}}', permissions = '{read:conversations,assign:conversations}' WHERE user_id = $1", a1).await?;
    let m = member(&app, &token, a1).await?;
    assert_eq!(m["phone"], "+420777123456");
    assert_eq!(
        m["preferences"],
        json!({ "language": "cs", "timezone": "America/Mexico_City",
                "notifications": { "email": true, "push": false, "sound": true },
                "autoAssignment": true })
    );
    assert_eq!(
        m["permissions"],
        json!(["READ_CONVERSATIONS", "ASSIGN_CONVERSATIONS"])
    );
    assert_eq!(m["effectivePermissions"], m["permissions"]);
    let m = member(&app, &token, a2).await?;
    assert_eq!(m["permissions"], json!([]));
    assert_eq!(
        m["effectivePermissions"],
        json!([
            "READ_CONVERSATIONS",
            "WRITE_MESSAGES",
            "MANAGE_CUSTOMERS",
            "MANAGE_TICKETS"
        ])
    );
    assert_eq!(m["preferences"]["language"], "es");
    let m = member(&app, &token, owner).await?;
    assert_eq!(m["effectivePermissions"].as_array().map(Vec::len), Some(8));
    // In a list too, where only the selected columns are read.
    let body = app
        .gql(&token, "{ members(first: 10, filter: { role: { eq: OWNER } }) { nodes { effectivePermissions } } }", json!({}))
        .await?;
    assert_eq!(
        data(&body, "members")["nodes"][0]["effectivePermissions"]
            .as_array()
            .map(Vec::len),
        Some(8)
    );
    Ok(())
}

#[tokio::test]
async fn an_invitation_is_accepted_once_and_signs_the_invitee_in() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let t = app.new_tenant("Team").await?;
    let (owner, token) = app.new_member(t, Role::Owner).await?;
    let body = app
        .gql(
            &token,
            INVITE,
            json!({ "email": "New.Agent@Example.com", "role": "SUPERVISOR",
            "name": "New Agent", "department": "Support", "permissions": ["MANAGE_AGENTS"] }),
        )
        .await?;
    let invited = data(&body, "inviteMember");
    let raw = invited["invitationToken"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(raw.len(), 43);
    let user = id_of(&invited["member"]);
    assert_eq!(invited["member"]["isActive"], false);
    assert_eq!(invited["member"]["invitationPending"], true);
    assert_eq!(invited["member"]["role"], "SUPERVISOR");
    assert_eq!(invited["member"]["permissions"], json!(["MANAGE_AGENTS"]));
    // Only the hash is stored; the inviter is recorded; the account has no password.
    let (hash, by, expires): (Vec<u8>, Uuid, chrono::DateTime<chrono::Utc>) = sqlx::query_as(
        "SELECT token_hash, invited_by, expires_at FROM app.invitations WHERE user_id = $1",
    )
    .bind(user)
    .fetch_one(app.db.owner())
    .await?;
    assert_eq!(hash, Sha256::digest(raw.as_bytes()).to_vec());
    assert_eq!(by, owner);
    assert!(expires > chrono::Utc::now() + chrono::Duration::days(6));
    let pw: Option<String> =
        sqlx::query_scalar("SELECT password_hash FROM app.users WHERE id = $1")
            .bind(user)
            .fetch_one(app.db.owner())
            .await?;
    assert!(pw.is_none());

    // Inviting a pending invitee again replaces the token (and takes the new role).
    let body = app
        .gql(
            &token,
            INVITE,
            json!({ "email": "new.agent@example.com", "role": "AGENT" }),
        )
        .await?;
    let again = data(&body, "inviteMember");
    assert_eq!(id_of(&again["member"]), user);
    assert_eq!(again["member"]["role"], "AGENT");
    let token2 = again["invitationToken"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (_, stale) = app
        .graphql(
            None,
            ACCEPT,
            json!({ "token": raw, "password": "a good password" }),
        )
        .await?;
    assert_eq!(refusal(&stale).0, "UNAUTHENTICATED", "{stale}");

    // A too-short first password is refused and keeps the invitation open.
    let (_, body) = app
        .graphql(
            None,
            ACCEPT,
            json!({ "token": token2, "password": "short" }),
        )
        .await?;
    assert_eq!(refusal(&body), ("BAD_USER_INPUT".into(), "password".into()));

    let (_, body) = app
        .graphql(
            None,
            ACCEPT,
            json!({ "token": token2, "password": "a good password" }),
        )
        .await?;
    let signed = data(&body, "acceptInvitation");
    assert_eq!(signed["tenantId"], json!(t));
    assert_eq!(signed["role"], "AGENT");
    assert_eq!(id_of(&json!({ "rowId": signed["userId"] })), user);
    let access = signed["accessToken"].as_str().unwrap_or_default();
    let body = app.gql(access, "{ me { email role } }", json!({})).await?;
    assert_eq!(data(&body, "me")["email"], "New.Agent@example.com");
    let m = member(&app, &token, user).await?;
    assert_eq!(
        (m["isActive"].clone(), m["invitationPending"].clone()),
        (json!(true), json!(false))
    );
    assert!(m["lastLoginAt"].is_string());

    // Used: refused with the same answer as an unknown token.
    let (_, used) = app
        .graphql(
            None,
            ACCEPT,
            json!({ "token": token2, "password": "a good password" }),
        )
        .await?;
    let (_, unknown) = app
        .graphql(
            None,
            ACCEPT,
            json!({ "token": "x".repeat(43), "password": "a good password" }),
        )
        .await?;
    assert_eq!(refusal(&used).0, "UNAUTHENTICATED");
    assert_eq!(
        used["errors"][0]["message"],
        unknown["errors"][0]["message"]
    );
    // The password set works for log-in; a member is not invited again.
    let (_, body) = app
        .graphql(
            None,
            LOGIN,
            json!({ "email": "new.agent@example.com", "password": "a good password" }),
        )
        .await?;
    assert_eq!(data(&body, "login")["tenantId"], json!(t));
    let body = app
        .gql(
            &token,
            INVITE,
            json!({ "email": "NEW.AGENT@example.com", "role": "AGENT" }),
        )
        .await?;
    assert_eq!(refusal(&body), ("CONFLICT".into(), "email".into()));
    Ok(())
}

#[tokio::test]
async fn an_expired_invitation_is_refused_like_an_unknown_one() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let t = app.new_tenant("Team").await?;
    let (_, token) = app.new_member(t, Role::Admin).await?;
    let body = app
        .gql(
            &token,
            INVITE,
            json!({ "email": "late@example.com", "role": "VIEWER" }),
        )
        .await?;
    let invited = data(&body, "inviteMember");
    let raw = invited["invitationToken"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    sql(&app, "UPDATE app.invitations SET created_at = now() - interval '8 days', expires_at = now() - interval '1 second' WHERE user_id = $1", id_of(&invited["member"])).await?;
    let (_, expired) = app
        .graphql(
            None,
            ACCEPT,
            json!({ "token": raw, "password": "a good password" }),
        )
        .await?;
    let (_, unknown) = app
        .graphql(
            None,
            ACCEPT,
            json!({ "token": "nope", "password": "a good password" }),
        )
        .await?;
    assert_eq!(refusal(&expired).0, "UNAUTHENTICATED");
    assert_eq!(expired["errors"][0], unknown["errors"][0]);
    let active: bool = sqlx::query_scalar(
        "SELECT is_active FROM app.memberships WHERE tenant_id = $1 AND user_id = $2",
    )
    .bind(t)
    .bind(id_of(&invited["member"]))
    .fetch_one(app.db.owner())
    .await?;
    assert!(!active);
    Ok(())
}

#[tokio::test]
async fn a_person_of_another_tenant_is_added_and_must_give_their_password() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let a = app.new_tenant("A").await?;
    let b = app.new_tenant("B").await?;
    let (person, _) = app.new_member(a, Role::Agent).await?;
    set_password(&app, person, "their own password").await?;
    let (_, owner_b) = app.new_member(b, Role::Owner).await?;
    let email = format!("{person}@EXAMPLE.com").to_uppercase();
    let body = app
        .gql(&owner_b, INVITE, json!({ "email": email, "role": "AGENT" }))
        .await?;
    let invited = data(&body, "inviteMember");
    assert_eq!(id_of(&invited["member"]), person);
    let raw = invited["invitationToken"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM app.users")
        .fetch_one(app.db.owner())
        .await?;
    assert_eq!(users, 2);

    let (_, wrong) = app
        .graphql(
            None,
            ACCEPT,
            json!({ "token": raw, "password": "another password" }),
        )
        .await?;
    assert_eq!(refusal(&wrong).0, "UNAUTHENTICATED");
    let (_, body) = app
        .graphql(
            None,
            ACCEPT,
            json!({ "token": raw, "password": "their own password" }),
        )
        .await?;
    assert_eq!(data(&body, "acceptInvitation")["tenantId"], json!(b));
    Ok(())
}

#[tokio::test]
async fn invitations_are_isolated_by_tenant_and_by_token() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let a = app.new_tenant("A").await?;
    let b = app.new_tenant("B").await?;
    let (_, owner_a) = app.new_member(a, Role::Owner).await?;
    let body = app
        .gql(
            &owner_a,
            INVITE,
            json!({ "email": "x@example.com", "role": "AGENT" }),
        )
        .await?;
    let raw = data(&body, "inviteMember")["invitationToken"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let count = |tx_rows: Vec<Uuid>| tx_rows.len();
    let db = &app.db.db;
    let mut tx = db
        .begin_tenant(frontdesk_db::TenantCtx {
            tenant_id: b,
            user_id: None,
        })
        .await?;
    let rows: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM app.invitations")
        .fetch_all(tx.conn())
        .await?;
    assert_eq!(count(rows), 0);
    tx.rollback().await?;
    let mut tx = db
        .begin_invitation(&Sha256::digest(b"some other token"))
        .await?;
    let rows: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM app.invitations")
        .fetch_all(tx.conn())
        .await?;
    assert_eq!(count(rows), 0);
    tx.rollback().await?;
    let mut tx = db.begin_invitation(&Sha256::digest(raw.as_bytes())).await?;
    let rows: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM app.invitations")
        .fetch_all(tx.conn())
        .await?;
    assert_eq!(count(rows), 1);
    // The token scope reads; it cannot change the invitation.
    let changed = sqlx::query("UPDATE app.invitations SET accepted_at = now()")
        .execute(tx.conn())
        .await?;
    assert_eq!(changed.rows_affected(), 0);
    tx.rollback().await?;
    Ok(())
}

const ROLE: &str =
    "mutation($id: ID!, $role: Role!) { changeMemberRole(id: $id, role: $role) { rowId role } }";
const PERMS: &str = "mutation($id: ID!, $p: [Permission!]!) { setMemberPermissions(id: $id, permissions: $p) { permissions effectivePermissions } }";
const DEACTIVATE: &str = "mutation($id: ID!) { deactivateMember(id: $id) { isActive } }";
const REACTIVATE: &str = "mutation($id: ID!) { reactivateMember(id: $id) { isActive } }";

#[tokio::test]
async fn owners_and_admins_manage_members_within_the_rules() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let t = app.new_tenant("Team").await?;
    let (owner, o_token) = app.new_member(t, Role::Owner).await?;
    let (admin, a_token) = app.new_member(t, Role::Admin).await?;
    let (agent, g_token) = app.new_member(t, Role::Agent).await?;
    let (_, s_token) = app.new_member(t, Role::Supervisor).await?;
    set_password(&app, agent, "agent password").await?;

    // Who may manage at all.
    let body = app
        .gql(&g_token, ROLE, json!({ "id": admin, "role": "VIEWER" }))
        .await?;
    assert_eq!(refusal(&body).0, "FORBIDDEN");
    assert!(message(&body).contains("manage:agents"), "{body}");
    let body = app
        .gql(&s_token, ROLE, json!({ "id": agent, "role": "VIEWER" }))
        .await?;
    assert_eq!(refusal(&body).0, "FORBIDDEN");
    assert!(message(&body).contains("manage:agents"), "{body}");
    let body = app
        .gql(
            &s_token,
            INVITE,
            json!({ "email": "s@example.com", "role": "AGENT" }),
        )
        .await?;
    assert!(message(&body).contains("manage:agents"), "{body}");

    // Roles.
    let body = app
        .gql(&a_token, ROLE, json!({ "id": agent, "role": "SUPERVISOR" }))
        .await?;
    assert_eq!(data(&body, "changeMemberRole")["role"], "SUPERVISOR");
    let body = app
        .gql(&a_token, ROLE, json!({ "id": agent, "role": "ADMIN" }))
        .await?;
    assert_eq!(refusal(&body).0, "FORBIDDEN");
    assert!(message(&body).contains("only an owner"), "{body}");
    let body = app
        .gql(
            &a_token,
            INVITE,
            json!({ "email": "boss@example.com", "role": "OWNER" }),
        )
        .await?;
    assert_eq!(refusal(&body).0, "FORBIDDEN");
    let body = app
        .gql(&a_token, DEACTIVATE, json!({ "id": owner }))
        .await?;
    assert_eq!(refusal(&body).0, "FORBIDDEN");
    let body = app
        .gql(&o_token, ROLE, json!({ "id": owner, "role": "AGENT" }))
        .await?;
    assert_eq!(refusal(&body).0, "CONFLICT");
    let body = app
        .gql(&o_token, ROLE, json!({ "id": agent, "role": "ADMIN" }))
        .await?;
    assert_eq!(data(&body, "changeMemberRole")["role"], "ADMIN");
    let body = app
        .gql(&o_token, ROLE, json!({ "id": agent, "role": "AGENT" }))
        .await?;
    assert_eq!(data(&body, "changeMemberRole")["role"], "AGENT");

    // Permissions: a list replaces the defaults, an empty one restores them.
    let body = app.gql(&a_token, PERMS, json!({ "id": agent, "p": ["READ_CONVERSATIONS", "ASSIGN_CONVERSATIONS", "READ_CONVERSATIONS"] })).await?;
    let m = data(&body, "setMemberPermissions");
    assert_eq!(
        m["permissions"],
        json!(["READ_CONVERSATIONS", "ASSIGN_CONVERSATIONS"])
    );
    assert_eq!(m["effectivePermissions"], m["permissions"]);
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT permissions FROM app.memberships WHERE user_id = $1")
            .bind(agent)
            .fetch_one(app.db.owner())
            .await?;
    assert_eq!(stored, vec!["read:conversations", "assign:conversations"]);
    let body = app
        .gql(&a_token, PERMS, json!({ "id": agent, "p": [] }))
        .await?;
    assert_eq!(
        data(&body, "setMemberPermissions")["effectivePermissions"]
            .as_array()
            .map(Vec::len),
        Some(4)
    );

    // Deactivation: not oneself; a deactivated member cannot log in until reactivated.
    let body = app
        .gql(&o_token, DEACTIVATE, json!({ "id": owner }))
        .await?;
    assert_eq!(refusal(&body).0, "FORBIDDEN");
    let body = app
        .gql(&a_token, DEACTIVATE, json!({ "id": agent }))
        .await?;
    assert_eq!(data(&body, "deactivateMember")["isActive"], false);
    let email = format!("{agent}@example.com");
    let (_, body) = app
        .graphql(
            None,
            LOGIN,
            json!({ "email": email, "password": "agent password" }),
        )
        .await?;
    assert_eq!(refusal(&body).0, "FORBIDDEN");
    let body = app
        .gql(&a_token, REACTIVATE, json!({ "id": agent }))
        .await?;
    assert_eq!(data(&body, "reactivateMember")["isActive"], true);
    let (_, body) = app
        .graphql(
            None,
            LOGIN,
            json!({ "email": email, "password": "agent password" }),
        )
        .await?;
    assert_eq!(data(&body, "login")["role"], "AGENT");

    // A second owner may be deactivated by the first; the first stays.
    let (owner2, _) = app.new_member(t, Role::Owner).await?;
    let body = app
        .gql(&o_token, DEACTIVATE, json!({ "id": owner2 }))
        .await?;
    assert_eq!(data(&body, "deactivateMember")["isActive"], false);
    Ok(())
}

#[tokio::test]
async fn another_tenants_member_is_not_found_and_unchanged() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let a = app.new_tenant("A").await?;
    let b = app.new_tenant("B").await?;
    let (agent_a, _) = app.new_member(a, Role::Agent).await?;
    let (_, owner_b) = app.new_member(b, Role::Owner).await?;
    for (doc, vars) in [
        (ROLE, json!({ "id": agent_a, "role": "VIEWER" })),
        (PERMS, json!({ "id": agent_a, "p": ["VIEW_ANALYTICS"] })),
        (DEACTIVATE, json!({ "id": agent_a })),
        (REACTIVATE, json!({ "id": agent_a })),
    ] {
        let body = app.gql(&owner_b, doc, vars).await?;
        assert_eq!(refusal(&body), ("NOT_FOUND".into(), "id".into()), "{body}");
    }
    let (role, active, perms): (String, bool, Vec<String>) = sqlx::query_as(
        "SELECT role, is_active, permissions FROM app.memberships WHERE user_id = $1",
    )
    .bind(agent_a)
    .fetch_one(app.db.owner())
    .await?;
    assert_eq!((role.as_str(), active, perms.len()), ("agent", true, 0));
    Ok(())
}

#[tokio::test]
async fn a_member_changes_their_own_profile_preferences_status_and_password() -> anyhow::Result<()>
{
    let app = spawn_app().await?;
    let t = app.new_tenant("Team").await?;
    let (me, token) = app.new_member(t, Role::Viewer).await?;
    set_password(&app, me, "old password").await?;
    let doc = format!("mutation($i: UpdateMyProfileInput!) {{ updateMyProfile(input: $i) {{ {MEMBER_FIELDS} }} }}");
    let body = app.gql(&token, &doc, json!({ "i": { "firstName": "Ana", "lastName": "Pérez",
        "phone": "+52 55 1234 5678", "avatar": "https://example.com/a.png", "department": "Front desk" } })).await?;
    let m = data(&body, "updateMyProfile");
    assert_eq!(
        (m["firstName"].clone(), m["phone"].clone()),
        (json!("Ana"), json!("+525512345678"))
    );
    assert_eq!(m["department"], "Front desk");
    for (input, field) in [
        (json!({ "firstName": "x".repeat(51) }), "input.firstName"),
        (json!({ "lastName": "y".repeat(51) }), "input.lastName"),
        (json!({ "phone": "12" }), "input.phone"),
        (json!({ "avatar": "ftp://x" }), "input.avatar"),
    ] {
        let body = app.gql(&token, &doc, json!({ "i": input })).await?;
        assert_eq!(
            refusal(&body),
            ("BAD_USER_INPUT".into(), field.into()),
            "{body}"
        );
    }

    let prefs = "mutation($i: UpdateMyPreferencesInput!) { updateMyPreferences(input: $i) {
        preferences { language timezone notifications { email push sound } autoAssignment } } }";
    let body = app
        .gql(
            &token,
            prefs,
            json!({ "i": { "timezone": "Europe/Prague", "notifications": { "push": false } } }),
        )
        .await?;
    let p = &data(&body, "updateMyPreferences")["preferences"];
    assert_eq!(p["timezone"], "Europe/Prague");
    assert_eq!(
        p["notifications"],
        json!({ "email": true, "push": false, "sound": true })
    );
    let body = app.gql(&token, prefs, json!({ "i": { "notifications": { "sound": false }, "autoAssignment": false, "language": "pt-BR" } })).await?;
    let p = &data(&body, "updateMyPreferences")["preferences"];
    assert_eq!(
        p["notifications"],
        json!({ "email": true, "push": false, "sound": false })
    );
    assert_eq!(
        (p["language"].clone(), p["timezone"].clone()),
        (json!("pt-BR"), json!("Europe/Prague"))
    );
    for (input, field) in [
        (json!({ "timezone": "Mars/Olympus" }), "input.timezone"),
        (json!({ "language": "Spanish!" }), "input.language"),
    ] {
        let body = app.gql(&token, prefs, json!({ "i": input })).await?;
        assert_eq!(
            refusal(&body),
            ("BAD_USER_INPUT".into(), field.into()),
            "{body}"
        );
    }

    let body = app
        .gql(
            &token,
            "mutation { setMyStatus(status: BUSY) { status lastActivityAt } }",
            json!({}),
        )
        .await?;
    assert_eq!(data(&body, "setMyStatus")["status"], "BUSY");
    assert!(data(&body, "setMyStatus")["lastActivityAt"].is_string());

    let change = "mutation($c: String!, $n: String!) { changeMyPassword(currentPassword: $c, newPassword: $n) { rowId } }";
    let body = app
        .gql(&token, change, json!({ "c": "old password", "n": "short" }))
        .await?;
    assert_eq!(
        refusal(&body),
        ("BAD_USER_INPUT".into(), "newPassword".into())
    );
    let body = app
        .gql(
            &token,
            change,
            json!({ "c": "not it", "n": "a new password" }),
        )
        .await?;
    assert_eq!(
        refusal(&body),
        ("BAD_USER_INPUT".into(), "currentPassword".into())
    );
    let body = app
        .gql(
            &token,
            change,
            json!({ "c": "old password", "n": "a new password" }),
        )
        .await?;
    assert_eq!(id_of(data(&body, "changeMyPassword")), me);
    let email = format!("{me}@example.com");
    let (_, body) = app
        .graphql(
            None,
            LOGIN,
            json!({ "email": email, "password": "old password" }),
        )
        .await?;
    assert_eq!(refusal(&body).0, "UNAUTHENTICATED");
    let (_, body) = app
        .graphql(
            None,
            LOGIN,
            json!({ "email": email, "password": "a new password" }),
        )
        .await?;
    assert_eq!(data(&body, "login")["role"], "VIEWER");
    Ok(())
}

#[tokio::test]
async fn bad_invitations_name_the_field_and_write_nothing() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let t = app.new_tenant("Team").await?;
    let (_, token) = app.new_member(t, Role::Owner).await?;
    for (vars, field) in [
        (
            json!({ "email": "not an address", "role": "AGENT" }),
            "email",
        ),
        (
            json!({ "email": "a@example.com", "role": "AGENT", "name": "n".repeat(201) }),
            "name",
        ),
        (
            json!({ "email": "a@example.com", "role": "AGENT", "department": "d".repeat(201) }),
            "department",
        ),
    ] {
        let body = app.gql(&token, INVITE, vars).await?;
        assert_eq!(
            refusal(&body),
            ("BAD_USER_INPUT".into(), field.into()),
            "{body}"
        );
    }
    assert_eq!(app.rows("invitations", t).await?, 0);
    assert_eq!(app.rows("memberships", t).await?, 1);
    Ok(())
}
