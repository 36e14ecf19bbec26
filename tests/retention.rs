//! The retention pass (seeds 002, 003), driven in process as `frontdesk serve`'s timer and
//! `frontdesk maintenance` drive it: conversations older or newer than the period, the
//! per-tenant period, two passes at once doing the work once, the purge of expired sessions,
//! invitations and verification tokens, and the counts on `/metrics`. (The binary's command
//! and timer are tested in `crates/server/tests/maintenance.rs`.)

use frontdesk_db::maintenance::{Outcome, Report};
use frontdesk_db::sqlx;
use frontdesk_e2e::body::data;
use frontdesk_e2e::team::INVITE;
use frontdesk_e2e::{spawn_app, Role, TestApp};
use frontdesk_server::maintenance::run_once;
use serde_json::json;
use uuid::Uuid;

/// A conversation of `tenant` in `lifecycle`, last changed `changed_days` ago, with its last
/// message `message_days` ago (none when `None`) and created `created_days` ago; one message
/// when it has a last message.
async fn conversation(
    app: &TestApp,
    tenant: Uuid,
    lifecycle: &str,
    changed_days: i32,
    message_days: Option<i32>,
    created_days: i32,
) -> anyhow::Result<Uuid> {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO app.conversations (tenant_id, id, channel, lifecycle, last_message_at,
                                        created_at, updated_at)
         VALUES ($1, $2, 'web', $3, now() - make_interval(days => $4),
                 now() - make_interval(days => $5), now() - make_interval(days => $6))",
    )
    .bind(tenant)
    .bind(id)
    .bind(lifecycle)
    .bind(message_days)
    .bind(created_days)
    .bind(changed_days)
    .execute(app.db.owner())
    .await?;
    if let Some(days) = message_days {
        sqlx::query(
            "INSERT INTO app.messages (tenant_id, conversation_id, content, direction, sender, sent_at)
             VALUES ($1, $2, 'hello', 'inbound', 'customer', now() - make_interval(days => $3))",
        )
        .bind(tenant)
        .bind(id)
        .bind(days)
        .execute(app.db.owner())
        .await?;
    }
    Ok(id)
}

/// The lifecycle of conversation `id`, or `None` when it was deleted.
async fn lifecycle(app: &TestApp, id: Uuid) -> anyhow::Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT lifecycle FROM app.conversations WHERE id = $1")
            .bind(id)
            .fetch_optional(app.db.owner())
            .await?,
    )
}

async fn set_retention(app: &TestApp, tenant: Uuid, value: &str) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO app.tenant_settings (tenant_id, key, value, category)
         VALUES ($1, 'retention.conversation_days', $2::jsonb, 'general')",
    )
    .bind(tenant)
    .bind(value)
    .execute(app.db.owner())
    .await?;
    Ok(())
}

async fn pass(app: &TestApp) -> anyhow::Result<Report> {
    match run_once(&app.db.db).await? {
        Outcome::Ran(report) => Ok(report),
        Outcome::Skipped => anyhow::bail!("the pass was skipped"),
    }
}

#[tokio::test]
async fn conversations_past_the_period_are_deleted_or_archived_and_newer_ones_are_kept(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let t = app.new_tenant("Retention").await?;
    // The default period: 90 days.
    let deleted_old = conversation(&app, t, "deleted", 91, Some(200), 300).await?;
    let deleted_new = conversation(&app, t, "deleted", 89, Some(200), 300).await?;
    let idle = conversation(&app, t, "active", 1, Some(91), 300).await?;
    let busy = conversation(&app, t, "active", 100, Some(89), 300).await?;
    let silent_old = conversation(&app, t, "active", 1, None, 91).await?;
    let silent_new = conversation(&app, t, "active", 100, None, 89).await?;
    let archived_old = conversation(&app, t, "archived", 300, Some(300), 300).await?;

    let report = pass(&app).await?;
    assert_eq!(report.conversations_deleted, 1);
    assert_eq!(report.conversations_archived, 2);
    assert_eq!(report.failed_tenants, 0);

    assert_eq!(lifecycle(&app, deleted_old).await?, None);
    let orphans: i64 =
        sqlx::query_scalar("SELECT count(*) FROM app.messages WHERE conversation_id = $1")
            .bind(deleted_old)
            .fetch_one(app.db.owner())
            .await?;
    assert_eq!(orphans, 0, "messages go with their conversation");
    for (id, expected) in [
        (deleted_new, "deleted"),
        (idle, "archived"),
        (busy, "active"),
        (silent_old, "archived"),
        (silent_new, "active"),
        (archived_old, "archived"),
    ] {
        assert_eq!(
            lifecycle(&app, id).await?.as_deref(),
            Some(expected),
            "{id}"
        );
    }
    // Archiving is a change the inbox hears, numbered at commit like any request's events.
    let events: Vec<Option<i64>> = sqlx::query_scalar(
        "SELECT seq FROM app.inbox_events WHERE tenant_id = $1 AND conversation_id = ANY ($2)",
    )
    .bind(t)
    .bind(vec![idle, silent_old])
    .fetch_all(app.db.owner())
    .await?;
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(Option::is_some), "{events:?}");

    // A second pass finds nothing left to do.
    let again = pass(&app).await?;
    assert_eq!(
        (again.conversations_deleted, again.conversations_archived),
        (0, 0)
    );
    Ok(())
}

#[tokio::test]
async fn each_tenant_keeps_conversations_for_its_own_period() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let short = app.new_tenant("Thirty days").await?;
    let long = app.new_tenant("A year").await?;
    let odd = app.new_tenant("Not a number").await?;
    let none = app.new_tenant("Default").await?;
    set_retention(&app, short, "30").await?;
    set_retention(&app, long, "365").await?;
    set_retention(&app, odd, "\"soon\"").await?;

    let mut cases = Vec::new();
    for (tenant, days, expected) in [
        (short, 31, Some("archived")),
        (short, 29, Some("active")),
        (long, 200, Some("active")),
        (long, 366, Some("archived")),
        (odd, 60, Some("active")),
        (odd, 91, Some("archived")),
        (none, 91, Some("archived")),
    ] {
        let id = conversation(&app, tenant, "active", days, Some(days), days + 10).await?;
        cases.push((id, expected));
    }
    for (tenant, days, expected) in [(short, 31, None), (long, 200, Some("deleted"))] {
        let id = conversation(&app, tenant, "deleted", days, Some(400), 400).await?;
        cases.push((id, expected));
    }

    let report = pass(&app).await?;
    assert_eq!(report.conversations_archived, 4);
    assert_eq!(report.conversations_deleted, 1);
    for (id, expected) in cases {
        assert_eq!(lifecycle(&app, id).await?.as_deref(), expected, "{id}");
    }
    Ok(())
}

#[tokio::test]
async fn two_passes_at_once_do_the_work_once() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let mut idle = Vec::new();
    for i in 0..4 {
        let t = app.new_tenant(&format!("Tenant {i}")).await?;
        for _ in 0..5 {
            idle.push(conversation(&app, t, "active", 1, Some(120), 200).await?);
        }
    }

    // Another process holds the lock: a pass does nothing and says so.
    let mut holder = app.db.owner().acquire().await?;
    sqlx::query("SELECT pg_advisory_lock(hashtextextended('frontdesk.maintenance', 0))")
        .execute(&mut *holder)
        .await?;
    assert_eq!(run_once(&app.db.db).await?, Outcome::Skipped);
    let active: i64 =
        sqlx::query_scalar("SELECT count(*) FROM app.conversations WHERE lifecycle = 'active'")
            .fetch_one(app.db.owner())
            .await?;
    assert_eq!(active, 20);
    sqlx::query("SELECT pg_advisory_unlock(hashtextextended('frontdesk.maintenance', 0))")
        .execute(&mut *holder)
        .await?;
    drop(holder);

    // Two at once: between them every conversation is archived once.
    let (a, b) = tokio::join!(run_once(&app.db.db), run_once(&app.db.db));
    let archived: u64 = [a?, b?]
        .iter()
        .map(|o| match o {
            Outcome::Ran(r) => r.conversations_archived,
            Outcome::Skipped => 0,
        })
        .sum();
    assert_eq!(archived, 20);
    let events: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM app.inbox_events WHERE conversation_id = ANY ($1)",
    )
    .bind(&idle)
    .fetch_one(app.db.owner())
    .await?;
    assert_eq!(events, 20, "one archiving event per conversation");
    Ok(())
}

#[tokio::test]
async fn expired_sessions_invitations_and_verification_tokens_are_purged() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let t = app.new_tenant("Team").await?;
    let (admin_id, admin) = app.new_member(t, Role::Admin).await?;
    // NextAuth rows: one expired and one live of each.
    sqlx::query(
        "INSERT INTO app.auth_sessions (session_token, user_id, expires)
         VALUES ('gone', $1, now() - interval '1 minute'), ('live', $1, now() + interval '1 day');
         ",
    )
    .bind(admin_id)
    .execute(app.db.owner())
    .await?;
    sqlx::query(
        "INSERT INTO app.verification_tokens (identifier, token, expires)
         VALUES ('a@example.com', 'gone', now() - interval '1 minute'),
                ('a@example.com', 'live', now() + interval '1 day')",
    )
    .execute(app.db.owner())
    .await?;

    // Invitations through the API, then aged: one expired and never accepted, one live.
    let invite = |email: &str| json!({ "email": email, "role": "AGENT", "name": "Invitee" });
    let expired = app.gql(&admin, INVITE, invite("late@example.com")).await?;
    let late_user = data(&expired, "inviteMember")["member"]["rowId"]
        .as_str()
        .unwrap_or_default()
        .parse::<Uuid>()?;
    app.gql(&admin, INVITE, invite("soon@example.com")).await?;
    sqlx::query(
        "UPDATE app.invitations SET created_at = now() - interval '9 days',
                expires_at = now() - interval '2 days'
          WHERE user_id = $1",
    )
    .bind(late_user)
    .execute(app.db.owner())
    .await?;
    // An expired invitation of somebody who is an active member anyway goes, the member stays.
    let (member, _) = app.new_member(t, Role::Agent).await?;
    sqlx::query(
        "INSERT INTO app.invitations (tenant_id, user_id, token_hash, created_at, expires_at)
         VALUES ($1, $2, sha256('stale'::bytea), now() - interval '9 days', now() - interval '2 days')",
    )
    .bind(t)
    .bind(member)
    .execute(app.db.owner())
    .await?;

    let report = pass(&app).await?;
    assert_eq!(report.sessions_purged, 1);
    assert_eq!(report.verification_tokens_purged, 1);
    assert_eq!(report.invitations_purged, 2);
    assert_eq!(report.pending_members_removed, 1);

    let sessions: Vec<String> = sqlx::query_scalar("SELECT session_token FROM app.auth_sessions")
        .fetch_all(app.db.owner())
        .await?;
    assert_eq!(sessions, ["live"]);
    let tokens: Vec<String> = sqlx::query_scalar("SELECT token FROM app.verification_tokens")
        .fetch_all(app.db.owner())
        .await?;
    assert_eq!(tokens, ["live"]);
    let members: Vec<(Uuid, bool)> = sqlx::query_as(
        "SELECT user_id, is_active FROM app.memberships WHERE tenant_id = $1 ORDER BY created_at",
    )
    .bind(t)
    .fetch_all(app.db.owner())
    .await?;
    assert_eq!(
        members.len(),
        3,
        "admin, the live invitee, the member: {members:?}"
    );
    assert!(!members.iter().any(|(u, _)| *u == late_user));
    assert_eq!(app.rows("invitations", t).await?, 1);

    // The late invitee can be invited again, like anyone new to the tenant.
    let again = app.gql(&admin, INVITE, invite("late@example.com")).await?;
    assert_eq!(
        data(&again, "inviteMember")["member"]["rowId"],
        json!(late_user)
    );
    Ok(())
}

/// The value of metric `name` (with its labels written as Prometheus renders them), or 0.
async fn metric(app: &TestApp, name: &str) -> anyhow::Result<f64> {
    let text = app.metrics().await?;
    Ok(text
        .lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or(0.0))
}

#[tokio::test]
async fn rows_changed_are_counted_on_metrics() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let t = app.new_tenant("Metrics").await?;
    for _ in 0..3 {
        conversation(&app, t, "active", 1, Some(100), 200).await?;
    }
    conversation(&app, t, "deleted", 100, None, 200).await?;
    let archived = r#"frontdesk_maintenance_rows_total{action="conversations_archived"}"#;
    let deleted = r#"frontdesk_maintenance_rows_total{action="conversations_deleted"}"#;
    let completed = r#"frontdesk_maintenance_runs_total{outcome="completed"}"#;
    // Other tests of this binary run passes too (the recorder is per process): compare growth.
    let before = (
        metric(&app, archived).await?,
        metric(&app, deleted).await?,
        metric(&app, completed).await?,
    );
    let report = pass(&app).await?;
    assert_eq!(report.conversations_archived, 3);
    let after = (
        metric(&app, archived).await?,
        metric(&app, deleted).await?,
        metric(&app, completed).await?,
    );
    assert!(after.0 - before.0 >= 3.0, "{before:?} {after:?}");
    assert!(after.1 - before.1 >= 1.0, "{before:?} {after:?}");
    assert!(after.2 - before.2 >= 1.0, "{before:?} {after:?}");
    assert!(metric(&app, "frontdesk_maintenance_last_success_timestamp_seconds").await? > 0.0);
    Ok(())
}
