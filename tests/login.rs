//! `login` over HTTP beyond the basics of graph_mutations.rs: bcrypt hashes of imported agents
//! (accepted, then replaced by argon2id), the failed-log-in limiter (per e-mail address, per
//! client address, shared by replicas because its state is in PostgreSQL, closed to the
//! runtime role), and the sign-in timestamps on user, membership and tenant.

use chrono::{DateTime, Utc};
use frontdesk_db::sqlx;
use frontdesk_e2e::body::{data, refusal};
use frontdesk_e2e::{spawn_app, Role, TestApp};
use frontdesk_server::{app as router, AppState};
use serde_json::{json, Value};
use uuid::Uuid;

/// A sign-in timestamp column.
type Stamp = Option<DateTime<Utc>>;

const LOGIN: &str = "mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { accessToken tenantId role } }";

async fn login(app: &TestApp, email: &str, password: &str) -> anyhow::Result<Value> {
    Ok(app
        .graphql(None, LOGIN, json!({ "email": email, "password": password }))
        .await?
        .1)
}

/// A member of a new tenant whose password hash is `hash`; returns (tenant, user, e-mail).
async fn member_with_hash(app: &TestApp, hash: &str) -> anyhow::Result<(Uuid, Uuid, String)> {
    let t = app.new_tenant("Login").await?;
    let (user, _) = app.new_member(t, Role::Agent).await?;
    sqlx::query("UPDATE app.users SET password_hash = $2 WHERE id = $1")
        .bind(user)
        .bind(hash)
        .execute(app.db.owner())
        .await?;
    Ok((t, user, format!("{user}@example.com")))
}

async fn stored_hash(app: &TestApp, user: Uuid) -> anyhow::Result<String> {
    Ok(
        sqlx::query_scalar("SELECT password_hash FROM app.users WHERE id = $1")
            .bind(user)
            .fetch_one(app.db.owner())
            .await?,
    )
}

async fn attempts(app: &TestApp) -> anyhow::Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM app.login_attempts")
            .fetch_one(app.db.owner())
            .await?,
    )
}

#[tokio::test]
async fn an_imported_bcrypt_hash_signs_in_and_is_replaced_by_argon2id() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    // Seed 003's agents come from a Node application, whose bcrypt writes `$2a$`/`$2y$`.
    for prefix in ["$2a$", "$2y$"] {
        let hash = bcrypt::hash("imported secret", 4)?.replacen("$2b$", prefix, 1);
        let (t, user, email) = member_with_hash(&app, &hash).await?;
        let body = login(&app, &email, "wrong secret").await?;
        assert_eq!(refusal(&body).0, "UNAUTHENTICATED");
        assert_eq!(
            stored_hash(&app, user).await?,
            hash,
            "a failure changes nothing"
        );

        let body = login(&app, &email, "imported secret").await?;
        assert_eq!(data(&body, "login")["tenantId"], json!(t));
        let now = stored_hash(&app, user).await?;
        assert!(now.starts_with("$argon2id$"), "{now}");
        // The new hash is the same password.
        let body = login(&app, &email, "imported secret").await?;
        assert_eq!(data(&body, "login")["role"], "AGENT");
        assert_eq!(
            stored_hash(&app, user).await?,
            now,
            "argon2id is kept as it is"
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_successful_login_records_the_time_on_user_membership_and_tenant() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let hash = frontdesk_graphql::password::hash("pass phrase".into()).await?;
    let (t, user, email) = member_with_hash(&app, &hash).await?;
    let before = Utc::now() - chrono::Duration::seconds(1);
    for _ in 0..2 {
        data(&login(&app, &email, "pass phrase").await?, "login");
    }
    let (user_at, count, member_at, tenant_at): (Stamp, i32, Stamp, Stamp) = sqlx::query_as(
        "SELECT u.last_login_at, u.login_count, m.last_login_at, t.last_login_at
           FROM app.users u JOIN app.memberships m ON m.user_id = u.id
           JOIN app.tenants t ON t.id = m.tenant_id
          WHERE u.id = $1 AND t.id = $2",
    )
    .bind(user)
    .bind(t)
    .fetch_one(app.db.owner())
    .await?;
    assert_eq!(count, 2);
    for at in [user_at, member_at, tenant_at] {
        assert!(at.is_some_and(|at| at > before), "{at:?}");
    }
    Ok(())
}

#[tokio::test]
async fn failures_per_email_are_limited_across_replicas_and_a_success_forgets_them(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let hash = frontdesk_graphql::password::hash("pass phrase".into()).await?;
    let (_, _, email) = member_with_hash(&app, &hash).await?;

    // A success forgets earlier failures.
    for _ in 0..3 {
        assert_eq!(
            refusal(&login(&app, &email, "guess").await?).0,
            "UNAUTHENTICATED"
        );
    }
    assert_eq!(attempts(&app).await?, 3);
    data(&login(&app, &email, "pass phrase").await?, "login");
    assert_eq!(attempts(&app).await?, 0);

    // Five failures (the limit per e-mail address), the e-mail written differently.
    for i in 0..5 {
        let shown = if i % 2 == 0 {
            email.to_uppercase()
        } else {
            email.clone()
        };
        assert_eq!(
            refusal(&login(&app, &shown, "guess").await?).0,
            "UNAUTHENTICATED"
        );
    }
    // The sixth is refused before the password is looked at, even the right one.
    let body = login(&app, &email, "pass phrase").await?;
    assert_eq!(refusal(&body).0, "RATE_LIMITED", "{body}");
    let retry = body["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .unwrap_or(0);
    assert!((1..=900).contains(&retry), "{body}");
    assert_eq!(attempts(&app).await?, 5, "a refused attempt is not counted");

    // Another replica on the same database sees the same count.
    let replica = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = replica.local_addr()?;
    let other = router(AppState::new(app.db.db.clone(), app.keys.clone()));
    tokio::spawn(async move {
        let service = other.into_make_service_with_connect_info::<std::net::SocketAddr>();
        let _ = axum::serve(replica, service).await;
    });
    let body: Value = app
        .client
        .post(format!("http://{addr}/graphql"))
        .json(
            &json!({ "query": LOGIN, "variables": { "email": email, "password": "pass phrase" } }),
        )
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(refusal(&body).0, "RATE_LIMITED", "{body}");

    // Once the window has passed (moved back here), the right password works again.
    sqlx::query(
        "UPDATE app.login_attempts SET attempted_at = attempted_at - interval '16 minutes'",
    )
    .execute(app.db.owner())
    .await?;
    data(&login(&app, &email, "pass phrase").await?, "login");
    Ok(())
}

#[tokio::test]
async fn failures_per_client_address_are_limited_whatever_the_email() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    // Twenty failures from this address, each on another (unknown) e-mail address.
    for i in 0..20 {
        let body = login(&app, &format!("nobody{i}@example.com"), "guess").await?;
        assert_eq!(refusal(&body).0, "UNAUTHENTICATED", "{body}");
    }
    let body = login(&app, "somebody.else@example.com", "guess").await?;
    assert_eq!(refusal(&body).0, "RATE_LIMITED", "{body}");
    assert!(body["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .is_some_and(|s| s > 0));
    // The limiter keeps hashes of the addresses, never the addresses themselves.
    let clear: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM app.login_attempts
          WHERE position(convert_to('nobody', 'UTF8') IN email_hash) > 0",
    )
    .fetch_one(app.db.owner())
    .await?;
    assert_eq!(clear, 0);
    assert_eq!(attempts(&app).await?, 20);
    Ok(())
}

#[tokio::test]
async fn the_runtime_role_reaches_the_limiter_only_through_its_functions() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let mut conn = app.db.runtime_connection().await?;
    for statement in [
        "SELECT count(*) FROM app.login_attempts",
        "DELETE FROM app.login_attempts",
        "INSERT INTO app.login_attempts (email_hash) VALUES (sha256('x'))",
    ] {
        let err = sqlx::query(statement).execute(&mut conn).await.err();
        let state = err
            .as_ref()
            .and_then(|e| e.as_database_error())
            .and_then(|d| d.code().map(|c| c.into_owned()));
        assert_eq!(state.as_deref(), Some("42501"), "{statement}: {err:?}");
    }
    let (id, wait): (Option<i64>, i32) = sqlx::query_as(
        "SELECT * FROM app.login_attempt_begin('a@example.com', '10.0.0.1', interval '15 minutes', 5, 20)",
    )
    .fetch_one(&mut conn)
    .await?;
    assert!(id.is_some());
    assert_eq!(wait, 0);
    assert_eq!(attempts(&app).await?, 1);
    Ok(())
}
