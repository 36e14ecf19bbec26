//! The tenant row, its ten staff users, their memberships and invitations, and the user-scoped
//! NextAuth rows (accounts, sessions, a verification token) — plus the clean-up that makes a run repeatable.
//!
//! Users are global identity rows: they are inserted without `RETURNING` (the users policy
//! would hide a row that has no membership yet) and deleted one by one in their own user scope,
//! the only place the policy lets an identity be deleted. The NextAuth tables are scoped to a user or a login e-mail,
//! so their rows are written through [`Db::begin_user`] and [`Db::begin_login`] after the
//! tenant's transaction has committed the users.

use sqlx::Row;
use uuid::Uuid;

use super::plan::{TenantPlan, STAFF_ROLES};
use super::sql::{id, user_id, EPOCH, NOW};
use super::{insert, Counts};
use crate::crypto::sealed::{SealedColumn, AUTH_ACCOUNT_ACCESS_TOKEN, AUTH_ACCOUNT_REFRESH_TOKEN};
use crate::{Db, DbError, TenantTx};

/// Deletes what an earlier run wrote for this tenant: the tenant row, whose deletion cascades
/// to all of its data (the users went first, in [`clear_users`]).
///
/// The tenant goes first. Each table's `tenant_id` key cascades from it in one statement per
/// table (row-level triggers, and the keys between the tenant's own tables, still act per
/// row), and the audit trigger writes no entry for a row whose tenant is gone.
/// Deleting the children first, table by table, made the trigger write a `deleted` entry (the
/// row's document and the entry's index entries) for every row while the tenant still existed,
/// only for the tenant's deletion to remove them again: about three times as slow.
pub(super) async fn clear(tx: &mut TenantTx, plan: &TenantPlan) -> Result<(), DbError> {
    sqlx::query("DELETE FROM app.tenants WHERE id = $1")
        .bind(plan.id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Deletes the staff users an earlier run created for this tenant. Only a user may delete their
/// own identity row (it is shared by every tenant they belong to), so each goes in its own
/// user-scoped transaction; their memberships and NextAuth rows cascade.
pub(super) async fn clear_users(db: &Db, plan: &TenantPlan) -> Result<(), DbError> {
    let mut tx = db
        .begin_tenant(crate::TenantCtx {
            tenant_id: plan.id,
            user_id: None,
        })
        .await?;
    let sql = format!(
        "SELECT {} AS id FROM generate_series(1, 10) k",
        user_id("k")
    );
    let ids: Vec<Uuid> = plan
        .query(&sql)
        .fetch_all(tx.conn())
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<Result<_, _>>()?;
    tx.rollback().await?;
    for id in ids {
        let mut tx = db.begin_user(id).await?;
        sqlx::query("DELETE FROM app.users WHERE id = $1")
            .bind(id)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
    }
    Ok(())
}

/// Inserts the tenant, its staff users and their memberships; returns the staff's user ids.
pub(super) async fn create(
    tx: &mut TenantTx,
    plan: &TenantPlan,
    counts: &mut Counts,
) -> Result<Vec<Uuid>, DbError> {
    let p = plan.profile;
    let plans = ["business", "start", "enterprise"];
    let tenant_sql = format!(
        "INSERT INTO app.tenants (id, slug, name, company, email, phone, logo, industry, language,
           timezone, voice_preference, plan, status, subscription_start, subscription_end, has_access,
           stripe_customer_id, stripe_price_id, ai_settings, source, last_login_at, created_at, updated_at)
         VALUES ($1, $22, $12, $23, 'info@' || $13, $24, 'https://' || $13 || '/logo.png', $25, $18,
           $11, 'female', $26, CASE WHEN $15 % 7 = 6 THEN 'trial' ELSE 'active' END,
           {EPOCH} - interval '30 days', {NOW} + interval '335 days', true,
           'cus_' || substr(md5($1::text || ':stripe-customer'), 1, 14),
           'price_' || substr(md5($26 || ':stripe-price'), 1, 24),
           jsonb_build_object('tone', (ARRAY['friendly', 'professional', 'casual'])[1 + $15 % 3],
             'autoReply', true, 'maxCallDuration', 900, 'dailyMessageLimit', 500,
             'workingHours', jsonb_build_object(
               'monday', jsonb_build_object('open', '09:00', 'close', '18:00'),
               'tuesday', jsonb_build_object('open', '09:00', 'close', '18:00'),
               'wednesday', jsonb_build_object('open', '09:00', 'close', '18:00'),
               'thursday', jsonb_build_object('open', '09:00', 'close', '20:00'),
               'friday', jsonb_build_object('open', '09:00', 'close', '17:00'),
               'saturday', jsonb_build_object('open', '10:00', 'close', '14:00'),
               'sunday', NULL)),
           (ARRAY['website', 'referral', 'demo_call'])[1 + $15 % 3],
           {NOW} - interval '2 hours', {EPOCH} - interval '30 days', {EPOCH} - interval '30 days')"
    );
    insert(tx, plan, counts, "tenants", &tenant_sql, |q| {
        q.bind(plan.slug.clone())
            .bind(p.company)
            .bind(p.phone)
            .bind(p.industry)
            .bind(plans[plan.index as usize % plans.len()])
    })
    .await?;

    let users_sql = format!(
        "INSERT INTO app.users (id, email, password_hash, name, first_name, last_name, image, avatar,
           phone, company, platform_role, industry_type, account_status, has_access, is_email_verified,
           is_two_factor_enabled, last_login_at, login_count, preferences, created_at, updated_at)
         SELECT {uid}, u.email, $14, u.first || ' ' || u.last, u.first, u.last,
           CASE WHEN u.k = 2 THEN 'https://images.example.com/oauth/' || md5(u.email) || '.png' END,
           CASE WHEN u.k <> 10 THEN 'https://avatars.example.com/staff/' || md5(u.email) || '.png' END,
           CASE $6 WHEN 0 THEN '+42073' || lpad(($15 * 10 + u.k)::text, 7, '0')
                   WHEN 2 THEN '+34611' || lpad(($15 * 10 + u.k)::text, 6, '0')
                   ELSE '+447700' || lpad((900000 + ($15 * 10 + u.k) % 1000)::text, 6, '0') END,
           $12,
           CASE WHEN u.k = 1 THEN 'pro' WHEN u.k <= 3 THEN 'essential' ELSE 'free' END,
           $26, CASE WHEN u.k = 10 THEN 'pending' ELSE 'active' END, u.k <= 3, u.k <> 10, u.k = 1,
           CASE WHEN u.k <> 10 THEN {NOW} - u.k * interval '3 hours' END,
           CASE WHEN u.k <> 10 THEN 240 - u.k * 20 ELSE 0 END,
           jsonb_build_object('theme', CASE WHEN u.k % 3 = 0 THEN 'dark' ELSE 'light' END, 'language', $18),
           {EPOCH} - interval '30 days' + (u.k - 1) * interval '1 hour',
           {EPOCH} - interval '30 days' + (u.k - 1) * interval '1 hour'
         FROM unnest($22::text[], $23::text[], $24::text[], $25::text[]) WITH ORDINALITY
              AS u(email, first, last, role, k)
         ON CONFLICT DO NOTHING",
        uid = user_id("u.k"),
    );
    let staff = &plan.staff;
    insert(tx, plan, counts, "users", &users_sql, |q| {
        q.bind(staff.iter().map(|s| s.email.clone()).collect::<Vec<_>>())
            .bind(staff.iter().map(|s| s.first.clone()).collect::<Vec<_>>())
            .bind(staff.iter().map(|s| s.last.clone()).collect::<Vec<_>>())
            .bind(STAFF_ROLES.to_vec())
            .bind(p.user_industry)
    })
    .await?;

    let memberships_sql = format!(
        "INSERT INTO app.memberships (tenant_id, id, user_id, role, permissions, status, department,
           is_active, preferences, chatbot_preferences, last_login_at, last_activity_at, created_at,
           updated_at)
         SELECT $1, {mid}, {uid}, u.role,
           CASE u.role
             WHEN 'owner' THEN ARRAY['read:conversations', 'write:messages', 'assign:conversations',
               'manage:customers', 'manage:tickets', 'view:analytics', 'manage:agents', 'system:admin']
             WHEN 'admin' THEN ARRAY['read:conversations', 'write:messages', 'assign:conversations',
               'manage:customers', 'manage:tickets', 'view:analytics', 'manage:agents']
             WHEN 'supervisor' THEN ARRAY['read:conversations', 'write:messages', 'assign:conversations',
               'manage:tickets', 'view:analytics']
             WHEN 'agent' THEN ARRAY['read:conversations', 'write:messages', 'manage:customers']
             ELSE ARRAY['read:conversations', 'view:analytics']
           END,
           (ARRAY['online', 'offline', 'busy', 'away'])[1 + u.k % 4],
           CASE WHEN u.k <= 3 THEN 'Management' WHEN u.k <= 5 THEN 'Front desk' ELSE 'Customer care' END,
           true,
           jsonb_build_object('language', $18, 'timezone', $11,
             'notifications', jsonb_build_object('email', true, 'push', u.k % 2 = 0, 'sound', u.k <> 10),
             'autoAssignment', u.role IN ('supervisor', 'agent')),
           jsonb_build_object('notifications', true, 'quickReplies',
             jsonb_build_array('Thank you for your message!', 'Let me check the calendar for you.',
                               'Is there anything else I can help with?')),
           CASE WHEN u.k <> 10 THEN {NOW} - u.k * interval '3 hours' END,
           CASE WHEN u.k <> 10 THEN {NOW} - u.k * interval '2 hours' END,
           {EPOCH} - interval '30 days' + (u.k - 1) * interval '1 hour',
           {EPOCH} - interval '30 days' + (u.k - 1) * interval '1 hour'
         FROM unnest($22::text[]) WITH ORDINALITY AS u(role, k)",
        mid = id("memberships", "u.k"),
        uid = user_id("u.k"),
    );
    insert(tx, plan, counts, "memberships", &memberships_sql, |q| {
        q.bind(STAFF_ROLES.to_vec())
    })
    .await?;

    // The supervisors and agents joined by the owner's invitation, accepted a day later. The
    // tokens were never known: only a hash of a made-up one is stored, as for real ones.
    let invitations_sql = format!(
        "INSERT INTO app.invitations (tenant_id, id, user_id, token_hash, invited_by, expires_at,
           accepted_at, created_at)
         SELECT $1, {iid}, {uid}, sha256(convert_to($1::text || ':invitation:' || k, 'UTF8')),
           {owner}, c.at + interval '7 days', c.at + interval '1 day', c.at
         FROM generate_series(4, 9) k,
              LATERAL (SELECT {EPOCH} - interval '30 days' + (k - 1) * interval '1 hour' AS at) c",
        iid = id("invitations", "k"),
        uid = user_id("k"),
        owner = user_id("1"),
    );
    insert(tx, plan, counts, "invitations", &invitations_sql, |q| q).await?;
    let ids = format!(
        "SELECT {} FROM generate_series(1, 10) k ORDER BY k",
        user_id("k")
    );
    let rows = plan.query(&ids).fetch_all(tx.conn()).await?;
    Ok(rows
        .iter()
        .map(|row| row.try_get::<Uuid, _>(0))
        .collect::<Result<_, _>>()?)
}

/// NextAuth rows, each written in the scope its policy demands: the owner signs in with
/// credentials and the first admin with Google (an account and a session each, both expired
/// by the seeded "now"), and the viewer, who has not verified the address yet, holds an
/// e-mail verification token that expired with it as well.
pub(super) async fn create_user_scoped(
    db: &Db,
    plan: &TenantPlan,
    ids: &[Uuid],
    counts: &mut Counts,
) -> Result<(), DbError> {
    for (k, provider) in [(0usize, "credentials"), (1, "google")] {
        let (user, email) = (ids[k], &plan.staff[k].email);
        let mut tx = db.begin_user(user).await?;
        for table in ["auth_accounts", "auth_sessions"] {
            sqlx::query(&format!("DELETE FROM app.{table} WHERE user_id = $1"))
                .bind(user)
                .execute(tx.conn())
                .await?;
        }
        // The Google account's (made-up) OAuth tokens are sealed for its row, as every
        // writer of NextAuth tokens must (migration 0020 refuses them in clear).
        let id: Uuid = sqlx::query_scalar("SELECT md5($1::text || ':auth_accounts')::uuid")
            .bind(user)
            .fetch_one(tx.conn())
            .await?;
        let (access, refresh) = if provider == "google" {
            let keyring = db.keyring()?;
            let seal = |column: &SealedColumn, what: &str| {
                column.seal(keyring, user, id, &format!("seed-{what}-{}", id.simple()))
            };
            (
                Some(seal(&AUTH_ACCOUNT_ACCESS_TOKEN, "access")?),
                Some(seal(&AUTH_ACCOUNT_REFRESH_TOKEN, "refresh")?),
            )
        } else {
            (None, None)
        };
        let account = sqlx::query(&format!(
            "INSERT INTO app.auth_accounts (id, user_id, type, provider, provider_account_id,
               access_token_ciphertext, refresh_token_ciphertext, expires_at, token_type, scope,
               created_at, updated_at)
             SELECT $4, $1,
               CASE WHEN $2 = 'google' THEN 'oidc' ELSE 'credentials' END, $2,
               CASE WHEN $2 = 'google' THEN (('x' || substr(md5($3), 1, 15))::bit(60)::bigint)::text ELSE $3 END,
               $5, $6,
               CASE WHEN $2 = 'google' THEN {NOW} - interval '1 day' END,
               CASE WHEN $2 = 'google' THEN 'Bearer' END,
               CASE WHEN $2 = 'google' THEN 'openid email profile' END,
               {EPOCH} - interval '29 days', {EPOCH} - interval '29 days'"
        ))
        .bind(user)
        .bind(provider)
        .bind(email)
        .bind(id)
        .bind(access)
        .bind(refresh)
        .execute(tx.conn())
        .await?;
        counts.add("auth_accounts", account.rows_affected());
        let session = sqlx::query(&format!(
            "INSERT INTO app.auth_sessions (id, session_token, user_id, expires, created_at)
             VALUES (md5($1::text || ':auth_sessions')::uuid, md5($1::text || ':session-token'), $1,
                     {NOW} - interval '1 day', {NOW} - interval '31 days')"
        ))
        .bind(user)
        .execute(tx.conn())
        .await?;
        counts.add("auth_sessions", session.rows_affected());
        tx.commit().await?;
    }

    let viewer = &plan.staff[9].email;
    let mut tx = db.begin_login(viewer).await?;
    sqlx::query("DELETE FROM app.verification_tokens WHERE identifier = $1")
        .bind(viewer)
        .execute(tx.conn())
        .await?;
    let token = sqlx::query(&format!(
        "INSERT INTO app.verification_tokens (identifier, token, expires, created_at)
         VALUES ($1, md5($1 || ':verify'), {EPOCH} - interval '29 days', {EPOCH} - interval '30 days')"
    ))
    .bind(viewer)
    .execute(tx.conn())
    .await?;
    counts.add("verification_tokens", token.rows_affected());
    tx.commit().await?;
    Ok(())
}
