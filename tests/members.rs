//! The team over HTTP: the `members` list and its typed filters, managing members (roles,
//! permissions, deactivation, and the rules that refuse), and a member's own profile,
//! preferences, presence and password. Stored values are checked with direct SQL; refusals
//! write nothing. Invitations have their own suite (invitations.rs).

use frontdesk_db::sqlx;
use frontdesk_e2e::body::{data, id_of, message, refusal};
use frontdesk_e2e::team::{INVITE, LOGIN, MEMBER_FIELDS};
use frontdesk_e2e::{spawn_app, Role, TestApp};
use serde_json::{json, Value};
use uuid::Uuid;

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
    app.exec_for(
        "UPDATE app.memberships SET status = 'busy', department = 'Sales' WHERE user_id = $1",
        a1,
    )
    .await?;
    app.exec_for(
        "UPDATE app.memberships SET is_active = false WHERE user_id = $1",
        a2,
    )
    .await?;
    app.exec_for(
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
    app.exec_for(
        "UPDATE app.users SET phone = '+420777123456' WHERE id = $1",
        a1,
    )
    .await?;
    app.exec_for("UPDATE app.memberships SET preferences = '{\"language\": \"cs\", \"notifications\": {\"push\": false}}', permissions = '{read:conversations,assign:conversations}' WHERE user_id = $1", a1).await?;
    let m = app.member(&token, a1).await?;
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
    let m = app.member(&token, a2).await?;
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
    let m = app.member(&token, owner).await?;
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
    app.set_password(agent, "agent password").await?;

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
    app.set_password(me, "old password").await?;
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
