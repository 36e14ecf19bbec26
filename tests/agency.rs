//! Agency users over HTTP (seed 002): `me.memberships` lists every tenant the caller belongs
//! to, and `switchTenant` exchanges a token for one acting for another of them — refusing
//! every other tenant id with one indistinguishable answer.

use frontdesk_db::sqlx::{self, Connection};
use frontdesk_e2e::body::{data, refusal};
use frontdesk_e2e::{spawn_app, Principal, Role, TestApp};
use serde_json::{json, Value};
use uuid::Uuid;

const MEMBERSHIPS: &str =
    "{ me { tenantId memberships { tenantId tenantName role isActive isCurrent } } }";

const SWITCH: &str = "mutation($t: ID!) {
  switchTenant(tenantId: $t) { accessToken expiresAt userId tenantId role } }";

/// An agency user: owner of "Agency HQ", agent at "Bistro", viewer at "Clinic" (deactivated
/// there), and invited (not yet accepted) to "Dental". Another user owns "Elsewhere".
struct Agency {
    app: TestApp,
    user: Uuid,
    token: String,
    hq: Uuid,
    bistro: Uuid,
    clinic: Uuid,
    dental: Uuid,
    elsewhere: Uuid,
}

async fn agency() -> anyhow::Result<Agency> {
    let app = spawn_app().await?;
    let hq = app.new_tenant("Agency HQ").await?;
    let bistro = app.new_tenant("Bistro").await?;
    let clinic = app.new_tenant("Clinic").await?;
    let dental = app.new_tenant("Dental").await?;
    let elsewhere = app.new_tenant("Elsewhere").await?;
    let (user, token) = app.new_member(hq, Role::Owner).await?;
    for (tenant, role, active) in [
        (bistro, "agent", true),
        (clinic, "viewer", false),
        (dental, "supervisor", false),
    ] {
        sqlx::query(
            "INSERT INTO app.memberships (tenant_id, user_id, role, is_active) VALUES ($1, $2, $3, $4)",
        )
        .bind(tenant)
        .bind(user)
        .bind(role)
        .bind(active)
        .execute(app.db.owner())
        .await?;
    }
    // Dental's membership is an open invitation.
    sqlx::query(
        "INSERT INTO app.invitations (tenant_id, user_id, token_hash, expires_at)
         VALUES ($1, $2, sha256('agency-test'::bytea), now() + interval '7 days')",
    )
    .bind(dental)
    .bind(user)
    .execute(app.db.owner())
    .await?;
    app.new_member(elsewhere, Role::Owner).await?;
    Ok(Agency {
        app,
        user,
        token,
        hq,
        bistro,
        clinic,
        dental,
        elsewhere,
    })
}

/// The user's memberships as direct SQL sees them: (tenant, name, role, active), by name.
async fn stored_memberships(
    app: &TestApp,
    user: Uuid,
) -> anyhow::Result<Vec<(Uuid, String, String, bool)>> {
    Ok(sqlx::query_as(
        "SELECT m.tenant_id, t.name, m.role, m.is_active
           FROM app.memberships m JOIN app.tenants t ON t.id = m.tenant_id
          WHERE m.user_id = $1 ORDER BY lower(t.name), m.tenant_id",
    )
    .bind(user)
    .fetch_all(app.db.owner())
    .await?)
}

async fn switch(app: &TestApp, token: &str, tenant: &str) -> anyhow::Result<Value> {
    app.gql(token, SWITCH, json!({ "t": tenant })).await
}

#[tokio::test]
async fn me_memberships_lists_every_tenant_of_the_user_as_stored() -> anyhow::Result<()> {
    let a = agency().await?;
    let body = a.app.gql(&a.token, MEMBERSHIPS, json!({})).await?;
    let listed = data(&body, "me")["memberships"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let stored = stored_memberships(&a.app, a.user).await?;
    assert_eq!(listed.len(), 4, "{body}");
    for (m, (tenant, name, role, active)) in listed.iter().zip(&stored) {
        assert_eq!(m["tenantId"], json!(tenant));
        assert_eq!(m["tenantName"], json!(name));
        assert_eq!(m["role"], json!(role.to_uppercase()));
        assert_eq!(m["isActive"], json!(active));
        assert_eq!(m["isCurrent"], json!(*tenant == a.hq));
    }
    let names: Vec<&str> = listed
        .iter()
        .filter_map(|m| m["tenantName"].as_str())
        .collect();
    assert_eq!(names, ["Agency HQ", "Bistro", "Clinic", "Dental"]);
    assert!(
        !body.to_string().contains(&a.elsewhere.to_string()),
        "another user's tenant leaked: {body}"
    );

    // The same list from another tenant's token; only `isCurrent` moves.
    let body = switch(&a.app, &a.token, &a.bistro.to_string()).await?;
    let bistro_token = data(&body, "switchTenant")["accessToken"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let body = a.app.gql(&bistro_token, MEMBERSHIPS, json!({})).await?;
    let current: Vec<&Value> = data(&body, "me")["memberships"]
        .as_array()
        .map(|l| l.iter().filter(|m| m["isCurrent"] == json!(true)).collect())
        .unwrap_or_default();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["tenantId"], json!(a.bistro));
    Ok(())
}

#[tokio::test]
async fn a_member_of_one_tenant_sees_only_that_membership() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let t = app.new_tenant("Solo").await?;
    let (user, token) = app.new_member(t, Role::Viewer).await?;
    let body = app.gql(&token, MEMBERSHIPS, json!({})).await?;
    assert_eq!(
        data(&body, "me")["memberships"],
        json!([{ "tenantId": t, "tenantName": "Solo", "role": "VIEWER",
                 "isActive": true, "isCurrent": true }])
    );
    assert_eq!(stored_memberships(&app, user).await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn switch_tenant_returns_a_token_for_the_other_tenant_with_the_role_held_there(
) -> anyhow::Result<()> {
    let a = agency().await?;
    let customer = Uuid::new_v4();
    sqlx::query("INSERT INTO app.customers (tenant_id, id, name, phone) VALUES ($1, $2, 'Bistro guest', '+15550100')")
        .bind(a.bistro)
        .bind(customer)
        .execute(a.app.db.owner())
        .await?;
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM app.memberships")
        .fetch_one(a.app.db.owner())
        .await?;

    let body = switch(&a.app, &a.token, &a.bistro.to_string()).await?;
    let payload = data(&body, "switchTenant");
    assert_eq!(payload["tenantId"], json!(a.bistro));
    assert_eq!(payload["userId"], json!(a.user));
    assert_eq!(payload["role"], "AGENT");
    let token = payload["accessToken"].as_str().unwrap_or_default();
    let p = a.app.keys.verify(token)?;
    assert_eq!(
        p,
        Principal {
            user_id: a.user,
            tenant_id: a.bistro,
            role: Role::Agent
        }
    );

    // The new token reads the other tenant's rows, as the role held there.
    let body = a
        .app
        .gql(
            token,
            "{ me { tenantId role tenantName } customers(first: 5) { nodes { rowId name } } }",
            json!({}),
        )
        .await?;
    assert_eq!(
        data(&body, "me"),
        &json!({ "tenantId": a.bistro, "role": "AGENT", "tenantName": "Bistro" })
    );
    assert_eq!(
        data(&body, "customers")["nodes"],
        json!([{ "rowId": customer, "name": "Bistro guest" }])
    );
    // And back again, with the same role as before; nothing was written.
    let body = switch(&a.app, token, &a.hq.to_string()).await?;
    assert_eq!(data(&body, "switchTenant")["role"], "OWNER");
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM app.memberships")
        .fetch_one(a.app.db.owner())
        .await?;
    assert_eq!(before, after);

    // The role is the membership's now, not what an older token said.
    sqlx::query(
        "UPDATE app.memberships SET role = 'supervisor' WHERE tenant_id = $1 AND user_id = $2",
    )
    .bind(a.bistro)
    .bind(a.user)
    .execute(a.app.db.owner())
    .await?;
    let body = switch(&a.app, &a.token, &a.bistro.to_string()).await?;
    assert_eq!(data(&body, "switchTenant")["role"], "SUPERVISOR");
    Ok(())
}

#[tokio::test]
async fn switch_tenant_refuses_every_other_tenant_exactly_like_a_missing_one() -> anyhow::Result<()>
{
    let a = agency().await?;
    let unknown = Uuid::new_v4().to_string();
    let candidates = [
        ("a tenant of someone else", a.elsewhere.to_string()),
        ("a deactivated membership", a.clinic.to_string()),
        ("an invitation not accepted", a.dental.to_string()),
        ("an unknown id", unknown),
        ("a malformed id", "not-a-tenant".to_owned()),
        ("an empty id", String::new()),
        ("the nil id", Uuid::nil().to_string()),
    ];
    let mut answers = Vec::new();
    for (what, id) in &candidates {
        let body = switch(&a.app, &a.token, id).await?;
        assert!(body["data"].is_null(), "{what}: {body}");
        assert_eq!(
            refusal(&body),
            ("NOT_FOUND".to_owned(), "tenantId".to_owned()),
            "{what}: {body}"
        );
        // Everything but where the error points is compared: message and extensions.
        answers.push((
            body["errors"][0]["message"].clone(),
            body["errors"][0]["extensions"].clone(),
        ));
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "refusals differ: {answers:?}"
    );
    Ok(())
}

#[tokio::test]
async fn switch_tenant_needs_a_valid_token_an_active_membership_and_an_active_account(
) -> anyhow::Result<()> {
    let a = agency().await?;
    let bistro = a.bistro.to_string();

    let (_, body) = a.app.graphql(None, SWITCH, json!({ "t": bistro })).await?;
    assert_eq!(refusal(&body).0, "UNAUTHENTICATED");
    let expired = a.app.keys.mint_with_ttl(
        &Principal {
            user_id: a.user,
            tenant_id: a.hq,
            role: Role::Owner,
        },
        chrono::Duration::seconds(-5),
    );
    let (_, body) = a
        .app
        .graphql(Some(&expired), SWITCH, json!({ "t": bistro }))
        .await?;
    assert_eq!(refusal(&body).0, "UNAUTHENTICATED");

    // A token of a tenant where the user is deactivated is refused like every request of it.
    let clinic_token = a.app.keys.mint(&Principal {
        user_id: a.user,
        tenant_id: a.clinic,
        role: Role::Viewer,
    });
    let body = switch(&a.app, &clinic_token, &bistro).await?;
    assert_eq!(refusal(&body).0, "FORBIDDEN", "{body}");

    // A suspended account cannot sign in anywhere, by log-in or by switching.
    sqlx::query("UPDATE app.users SET account_status = 'suspended' WHERE id = $1")
        .bind(a.user)
        .execute(a.app.db.owner())
        .await?;
    let body = switch(&a.app, &a.token, &bistro).await?;
    assert_eq!(refusal(&body).0, "FORBIDDEN", "{body}");
    Ok(())
}

/// Opens a scope for `tenant` and `user` on `conn`, and counts what `app.user_memberships()`
/// lists and the tenant rows the runtime role sees.
async fn listed_in_scope(
    conn: &mut sqlx::PgConnection,
    tenant: Uuid,
    user: Option<Uuid>,
) -> anyhow::Result<(i64, i64)> {
    sqlx::query("SELECT * FROM app.begin_scope($1, $2, '')")
        .bind(tenant.to_string())
        .bind(user.map(|u| u.to_string()).unwrap_or_default())
        .execute(&mut *conn)
        .await?;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM app.user_memberships()")
        .fetch_one(&mut *conn)
        .await?;
    let tenants: i64 = sqlx::query_scalar("SELECT count(*) FROM app.tenants")
        .fetch_one(&mut *conn)
        .await?;
    Ok((n, tenants))
}

/// The database door itself: `app.user_memberships()` answers for the context's user only, and
/// for nobody without one, whatever tenant is set.
#[tokio::test]
async fn user_memberships_answers_only_for_the_acting_user() -> anyhow::Result<()> {
    let a = agency().await?;
    let mut conn = a.app.db.runtime_connection().await?;
    let mut tx = conn.begin().await?;
    // Four memberships listed, yet the runtime role still sees one tenant row.
    assert_eq!(listed_in_scope(&mut tx, a.hq, Some(a.user)).await?, (4, 1));
    assert_eq!(
        listed_in_scope(&mut tx, a.elsewhere, Some(a.user)).await?,
        (4, 1)
    );
    assert_eq!(listed_in_scope(&mut tx, a.elsewhere, None).await?, (0, 1));
    tx.rollback().await?;
    Ok(())
}
