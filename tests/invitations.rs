//! Invitations over HTTP: `inviteMember` and `acceptInvitation` — a token that works once
//! and expires, stored only as a hash; a new person sets a password, an existing one (of
//! another tenant) gives theirs; a pending invitee invited again; and the isolation of the
//! `invitations` table by tenant and by token.

use frontdesk_db::sqlx;
use frontdesk_e2e::body::{data, id_of, refusal};
use frontdesk_e2e::team::{ACCEPT, INVITE, LOGIN};
use frontdesk_e2e::{spawn_app, Role};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

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
    let m = app.member(&token, user).await?;
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
    app.exec_for("UPDATE app.invitations SET created_at = now() - interval '8 days', expires_at = now() - interval '1 second' WHERE user_id = $1", id_of(&invited["member"])).await?;
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
    app.set_password(person, "their own password").await?;
    let (_, owner_b) = app.new_member(b, Role::Owner).await?;
    let email = format!("{person}@EXAMPLE.com").to_uppercase();
    let body = app
        .gql(&owner_b, INVITE, json!({ "email": email, "role": "AGENT" }))
        .await?;
    let invited = data(&body, "inviteMember");
    assert_eq!(id_of(&invited["member"]), person);
    // Until they accept, tenant B sees the address it typed, not what tenant A knows.
    assert_eq!(invited["member"]["name"], json!(null));
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
    assert_eq!(app.member(&owner_b, person).await?["name"], "Test member");
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
