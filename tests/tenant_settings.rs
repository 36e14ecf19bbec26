//! The tenant's own configuration over HTTP (seeds 000, 003): `updateTenant` (profile, typed
//! AI settings with a validated week of working hours, and the owner-only subscription) and
//! the key/value tenant settings (`tenantSettings`, `setTenantSetting`,
//! `deleteTenantSetting`, with non-editable rows refused). What is stored is checked with
//! direct SQL; refusals (roles, other tenants, bad input) are checked to write nothing.

use frontdesk_db::sqlx::{self, Row};
use frontdesk_e2e::body::{data, id_of, message, refusal};
use frontdesk_e2e::{spawn_app, Role, TestApp};
use frontdesk_graphql::entity::global_id;
use serde_json::{json, Value};
use uuid::Uuid;

// ------------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------------

const TENANT_FIELDS: &str = "id name company industry language voicePreference email phone logo
  timezone plan status subscriptionStart subscriptionEnd
  aiSettings { tone autoReply maxCallDuration dailyMessageLimit
    workingHours { monday { open close closed } tuesday { open close closed }
      wednesday { open close closed } thursday { open close closed } friday { open close closed }
      saturday { open close closed } sunday { open close closed } } }";

fn update_tenant_doc() -> String {
    format!(
        "mutation($input: UpdateTenantInput!) {{ updateTenant(input: $input) {{ {TENANT_FIELDS} }} }}"
    )
}

const SETTING_FIELDS: &str = "id rowId key value description category isEditable updatedById
  updatedBy { rowId } createdAt updatedAt";

fn set_doc() -> String {
    format!(
        "mutation($key: String!, $value: JSON!, $category: SettingCategory, $description: String) {{
           setTenantSetting(key: $key, value: $value, category: $category, description: $description) {{
             {SETTING_FIELDS} }} }}"
    )
}

const DELETE_SETTING: &str =
    "mutation($key: String!) { deleteTenantSetting(key: $key) { deletedId key } }";

/// The tenant row as direct SQL sees it.
async fn tenant_row(app: &TestApp, id: Uuid) -> anyhow::Result<Value> {
    let r = sqlx::query("SELECT to_jsonb(t) AS doc FROM app.tenants t WHERE id = $1")
        .bind(id)
        .fetch_one(app.db.owner())
        .await?;
    Ok(r.get("doc"))
}

/// Every setting of `tenant` as direct SQL sees it, by key.
async fn setting_rows(app: &TestApp, tenant: Uuid) -> anyhow::Result<Vec<Value>> {
    Ok(sqlx::query_scalar(
        "SELECT to_jsonb(s) FROM app.tenant_settings s WHERE tenant_id = $1 ORDER BY key",
    )
    .bind(tenant)
    .fetch_all(app.db.owner())
    .await?)
}

async fn set(app: &TestApp, token: &str, vars: Value) -> anyhow::Result<Value> {
    app.gql(token, &set_doc(), vars).await
}

/// Inserts a setting directly, as the platform (a seed, an import) would.
async fn platform_setting(
    app: &TestApp,
    tenant: Uuid,
    key: &str,
    value: Value,
    editable: bool,
) -> anyhow::Result<Uuid> {
    Ok(sqlx::query_scalar(
        "INSERT INTO app.tenant_settings (tenant_id, key, value, category, is_editable)
         VALUES ($1, $2, $3, 'security', $4) RETURNING id",
    )
    .bind(tenant)
    .bind(key)
    .bind(value)
    .bind(editable)
    .fetch_one(app.db.owner())
    .await?)
}

fn open(a: &str, b: &str) -> Value {
    json!({ "open": a, "close": b, "closed": false })
}

fn closed() -> Value {
    json!({ "open": null, "close": null, "closed": true })
}

// ------------------------------------------------------------------------------------------------
// The tenant's profile and AI settings
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_admin_updates_the_profile_and_ai_settings_which_merge_key_by_key() -> anyhow::Result<()>
{
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Salon Eva").await?;
    let other = app.new_tenant("Untouched").await?;
    let other_before = tenant_row(&app, other).await?;
    let admin = app.new_member(tenant, Role::Admin).await?.1;
    let body = app
        .gql(
            &admin,
            &update_tenant_doc(),
            json!({ "input": {
                "name": " Salon Eva Praha ", "company": "Eva s.r.o.", "industry": "kosmeticka",
                "language": "cs", "voicePreference": "FEMALE", "email": "Info@Salon.Example",
                "phone": "+420 777 123 456", "logo": "https://salon.example/logo.png",
                "timezone": "Europe/Prague",
                "aiSettings": {
                    "tone": "FRIENDLY", "autoReply": true, "maxCallDuration": 900,
                    "dailyMessageLimit": 500,
                    "workingHours": {
                        "monday": { "open": "9:00", "close": "18:00" },
                        "tuesday": { "open": "09:00", "close": "18:00" },
                        "saturday": { "open": "10:00", "close": "14:00" },
                        "sunday": { "closed": true } } } } }),
        )
        .await?;
    let t = data(&body, "updateTenant");
    assert_eq!(t["name"], "Salon Eva Praha");
    assert_eq!(t["email"], "Info@salon.example");
    assert_eq!(t["phone"], "+420777123456");
    assert_eq!(t["voicePreference"], "FEMALE");
    assert_eq!(t["timezone"], "Europe/Prague");
    let ai = &t["aiSettings"];
    assert_eq!(ai["tone"], "FRIENDLY");
    assert_eq!(ai["maxCallDuration"], 900);
    assert_eq!(ai["workingHours"]["monday"], open("09:00", "18:00"));
    assert_eq!(ai["workingHours"]["saturday"], open("10:00", "14:00"));
    for day in ["wednesday", "thursday", "friday", "sunday"] {
        assert_eq!(
            ai["workingHours"][day],
            closed(),
            "{day} left out or closed"
        );
    }

    let row = tenant_row(&app, tenant).await?;
    assert_eq!(row["name"], "Salon Eva Praha");
    assert_eq!(row["language"], "cs");
    assert_eq!(row["voice_preference"], "female");
    assert_eq!(row["logo"], "https://salon.example/logo.png");
    assert_eq!(
        row["ai_settings"],
        json!({ "tone": "friendly", "autoReply": true, "maxCallDuration": 900,
                "dailyMessageLimit": 500, "workingHours": {
                    "monday": { "open": "09:00", "close": "18:00" },
                    "tuesday": { "open": "09:00", "close": "18:00" },
                    "wednesday": { "closed": true }, "thursday": { "closed": true },
                    "friday": { "closed": true },
                    "saturday": { "open": "10:00", "close": "14:00" },
                    "sunday": { "closed": true } } })
    );

    // A second change touches only its keys; null clears a field or removes an AI setting.
    let body = app
        .gql(
            &admin,
            &update_tenant_doc(),
            json!({ "input": { "company": null, "aiSettings": { "autoReply": false, "tone": null } } }),
        )
        .await?;
    let t = data(&body, "updateTenant");
    assert!(t["company"].is_null());
    assert_eq!(t["name"], "Salon Eva Praha", "kept");
    assert!(t["aiSettings"]["tone"].is_null());
    assert_eq!(t["aiSettings"]["autoReply"], false);
    assert_eq!(
        t["aiSettings"]["workingHours"]["monday"],
        open("09:00", "18:00")
    );
    let row = tenant_row(&app, tenant).await?;
    assert!(row["company"].is_null());
    assert!(
        row["ai_settings"].get("tone").is_none(),
        "removed, not null"
    );
    assert_eq!(row["ai_settings"]["autoReply"], false);
    assert_eq!(row["ai_settings"]["maxCallDuration"], 900);

    // `tenant` reads the same, and no other tenant changed.
    let body = app
        .gql(
            &admin,
            &format!("{{ tenant {{ {TENANT_FIELDS} }} }}"),
            json!({}),
        )
        .await?;
    assert_eq!(data(&body, "tenant"), t);
    assert_eq!(tenant_row(&app, other).await?, other_before);
    Ok(())
}

#[tokio::test]
async fn working_hours_stored_in_the_seeds_older_spellings_read_as_a_typed_week(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Imported").await?;
    sqlx::query("UPDATE app.tenants SET ai_settings = $2 WHERE id = $1")
        .bind(tenant)
        .bind(json!({ "tone": "casual", "workingHours": {
            "monday": "9-17", "tuesday": { "start": "08:30", "end": "12:00", "enabled": true },
            "wednesday": { "start": "08:30", "end": "12:00", "enabled": false },
            "thursday": { "open": "09:00", "close": "20:00" }, "sunday": null } }))
        .execute(app.db.owner())
        .await?;
    let viewer = app.new_member(tenant, Role::Viewer).await?.1;
    let body = app
        .gql(
            &viewer,
            &format!("{{ tenant {{ {TENANT_FIELDS} }} }}"),
            json!({}),
        )
        .await?;
    let ai = &data(&body, "tenant")["aiSettings"];
    assert_eq!(ai["tone"], "CASUAL");
    assert!(ai["autoReply"].is_null());
    let week = &ai["workingHours"];
    assert_eq!(week["monday"], open("09:00", "17:00"));
    assert_eq!(week["tuesday"], open("08:30", "12:00"));
    assert_eq!(week["thursday"], open("09:00", "20:00"));
    for day in ["wednesday", "friday", "saturday", "sunday"] {
        assert_eq!(week[day], closed(), "{day}");
    }
    Ok(())
}

#[tokio::test]
async fn invalid_working_hours_and_limits_are_refused_naming_the_field_and_nothing_is_written(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Strict").await?;
    let admin = app.new_member(tenant, Role::Admin).await?.1;
    let before = tenant_row(&app, tenant).await?;
    let week = |day: Value| json!({ "name": "Changed", "aiSettings": { "workingHours": { "friday": day } } });
    let cases = [
        (
            week(json!({ "open": "18:00", "close": "09:00" })),
            "input.aiSettings.workingHours.friday.close",
        ),
        (
            week(json!({ "open": "09:00", "close": "09:00" })),
            "input.aiSettings.workingHours.friday.close",
        ),
        (
            week(json!({ "open": "25:00", "close": "26:00" })),
            "input.aiSettings.workingHours.friday.open",
        ),
        (
            week(json!({ "open": "nine", "close": "17:00" })),
            "input.aiSettings.workingHours.friday.open",
        ),
        (
            week(json!({ "open": "09:00" })),
            "input.aiSettings.workingHours.friday.close",
        ),
        (week(json!({})), "input.aiSettings.workingHours.friday.open"),
        (
            week(json!({ "closed": true, "close": "17:00" })),
            "input.aiSettings.workingHours.friday.close",
        ),
        (
            json!({ "aiSettings": { "maxCallDuration": 0 } }),
            "input.aiSettings.maxCallDuration",
        ),
        (
            json!({ "aiSettings": { "maxCallDuration": 86_401 } }),
            "input.aiSettings.maxCallDuration",
        ),
        (
            json!({ "aiSettings": { "dailyMessageLimit": -1 } }),
            "input.aiSettings.dailyMessageLimit",
        ),
        (json!({ "name": "  " }), "input.name"),
        (json!({ "name": null }), "input.name"),
        (json!({ "email": "not an address" }), "input.email"),
        (json!({ "phone": "777 123 456" }), "input.phone"),
        (
            json!({ "logo": "ftp://salon.example/logo.png" }),
            "input.logo",
        ),
        (json!({ "language": "Czech" }), "input.language"),
        (json!({ "timezone": "Mars/Olympus_Mons" }), "input.timezone"),
        (json!({ "timezone": null }), "input.timezone"),
    ];
    for (input, field) in cases {
        let body = app
            .gql(&admin, &update_tenant_doc(), json!({ "input": input }))
            .await?;
        assert_eq!(
            refusal(&body),
            ("BAD_USER_INPUT".into(), field.into()),
            "{input}: {body}"
        );
        assert!(body["data"].is_null());
    }
    assert_eq!(tenant_row(&app, tenant).await?, before);
    Ok(())
}

#[tokio::test]
async fn only_the_owner_changes_the_plan_status_and_subscription_dates() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Billing").await?;
    let owner = app.new_member(tenant, Role::Owner).await?.1;
    let admin = app.new_member(tenant, Role::Admin).await?.1;
    let before = tenant_row(&app, tenant).await?;

    // An admin sending any subscription field is refused on that field, even beside profile
    // fields it may change, and nothing is written.
    for (sub, field) in [
        (json!({ "plan": "ENTERPRISE" }), "input.subscription.plan"),
        (
            json!({ "status": "CANCELLED" }),
            "input.subscription.status",
        ),
        (
            json!({ "subscriptionEnd": null }),
            "input.subscription.subscriptionEnd",
        ),
        (
            json!({ "subscriptionStart": "2026-01-01T00:00:00Z", "plan": "START" }),
            "input.subscription.plan",
        ),
    ] {
        let body = app
            .gql(
                &admin,
                &update_tenant_doc(),
                json!({ "input": { "name": "Renamed", "subscription": sub } }),
            )
            .await?;
        assert_eq!(refusal(&body), ("FORBIDDEN".into(), field.into()), "{body}");
        assert!(message(&body).contains("owner"), "{body}");
    }
    assert_eq!(tenant_row(&app, tenant).await?, before);
    // An empty section is nothing to refuse.
    let body = app
        .gql(
            &admin,
            &update_tenant_doc(),
            json!({ "input": { "subscription": {} } }),
        )
        .await?;
    assert_eq!(data(&body, "updateTenant")["plan"], "START");

    let body = app
        .gql(
            &owner,
            &update_tenant_doc(),
            json!({ "input": { "subscription": { "plan": "BUSINESS", "status": "TRIAL",
                "subscriptionStart": "2026-01-01T00:00:00Z", "subscriptionEnd": "2026-12-31T00:00:00Z" } } }),
        )
        .await?;
    let t = data(&body, "updateTenant");
    assert_eq!(t["plan"], "BUSINESS");
    assert_eq!(t["status"], "TRIAL");
    let row = tenant_row(&app, tenant).await?;
    assert_eq!(row["plan"], "business");
    assert_eq!(row["status"], "trial");
    assert_eq!(row["subscription_start"], "2026-01-01T00:00:00+00:00");
    assert_eq!(row["subscription_end"], "2026-12-31T00:00:00+00:00");

    // The end never precedes the start: given together, or against the stored start.
    for sub in [
        json!({ "subscriptionStart": "2026-06-01T00:00:00Z", "subscriptionEnd": "2026-05-01T00:00:00Z" }),
        json!({ "subscriptionEnd": "2025-12-31T00:00:00Z" }),
    ] {
        let body = app
            .gql(
                &owner,
                &update_tenant_doc(),
                json!({ "input": { "subscription": sub } }),
            )
            .await?;
        assert_eq!(
            refusal(&body),
            (
                "BAD_USER_INPUT".into(),
                "input.subscription.subscriptionEnd".into()
            ),
            "{body}"
        );
    }
    let body = app
        .gql(
            &owner,
            &update_tenant_doc(),
            json!({ "input": { "subscription": { "plan": null } } }),
        )
        .await?;
    assert_eq!(
        refusal(&body),
        ("BAD_USER_INPUT".into(), "input.subscription.plan".into())
    );
    assert_eq!(tenant_row(&app, tenant).await?, row);
    Ok(())
}

#[tokio::test]
async fn members_below_admin_may_read_but_not_update_the_tenant() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Readers").await?;
    let before = tenant_row(&app, tenant).await?;
    for role in [Role::Viewer, Role::Agent, Role::Supervisor] {
        let token = app.new_member(tenant, role).await?.1;
        let body = app
            .gql(
                &token,
                &update_tenant_doc(),
                json!({ "input": { "name": "Mine" } }),
            )
            .await?;
        assert_eq!(refusal(&body).0, "FORBIDDEN", "{role:?}: {body}");
        let body = app.gql(&token, "{ tenant { name } }", json!({})).await?;
        assert_eq!(data(&body, "tenant")["name"], "Readers");
    }
    assert_eq!(tenant_row(&app, tenant).await?, before);
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Tenant settings
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_admin_sets_a_setting_and_replaces_its_value_keeping_what_is_left_out(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Settings").await?;
    let (admin_user, admin) = app.new_member(tenant, Role::Admin).await?;
    let body = set(
        &app,
        &admin,
        json!({ "key": " sla.vip.hours ", "value": 6, "category": "BUSINESS",
                "description": "Hours to answer a VIP ticket" }),
    )
    .await?;
    let s = data(&body, "setTenantSetting").clone();
    let id = id_of(&s);
    assert_eq!(s["id"], json!(global_id::encode("TenantSetting", id).0));
    assert_eq!(s["key"], "sla.vip.hours");
    assert_eq!(s["value"], 6);
    assert_eq!(s["category"], "BUSINESS");
    assert_eq!(s["isEditable"], true);
    assert_eq!(s["updatedById"], json!(admin_user));
    assert_eq!(s["updatedBy"]["rowId"], json!(admin_user));
    let rows = setting_rows(&app, tenant).await?;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["value"], 6);
    assert_eq!(rows[0]["category"], "business");
    assert_eq!(rows[0]["updated_by"], json!(admin_user));
    assert_eq!(rows[0]["description"], "Hours to answer a VIP ticket");

    // Replacing the value by another admin keeps the category and the description.
    let (owner_user, owner) = app.new_member(tenant, Role::Owner).await?;
    let doc = json!({ "hours": 4.5, "weekend": [false, true] });
    let body = set(
        &app,
        &owner,
        json!({ "key": "sla.vip.hours", "value": doc }),
    )
    .await?;
    let s2 = data(&body, "setTenantSetting");
    assert_eq!(id_of(s2), id, "the same row");
    assert_eq!(s2["value"], doc);
    assert_eq!(s2["category"], "BUSINESS");
    assert_eq!(s2["description"], "Hours to answer a VIP ticket");
    assert_eq!(s2["updatedById"], json!(owner_user));
    // An empty description clears it; a new key gets GENERAL.
    let body = set(
        &app,
        &admin,
        json!({ "key": "sla.vip.hours", "value": 3, "description": "" }),
    )
    .await?;
    assert!(data(&body, "setTenantSetting")["description"].is_null());
    let body = set(&app, &admin, json!({ "key": "greeting", "value": "Ahoj!" })).await?;
    assert_eq!(data(&body, "setTenantSetting")["category"], "GENERAL");
    let rows = setting_rows(&app, tenant).await?;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["value"], 3);
    assert!(rows[1]["description"].is_null());

    // Deleting by key.
    let body = app
        .gql(
            &admin,
            "mutation { deleteTenantSetting(key: \"greeting\") { deletedId key } }",
            json!({}),
        )
        .await?;
    assert_eq!(data(&body, "deleteTenantSetting")["key"], "greeting");
    assert_eq!(setting_rows(&app, tenant).await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn settings_lists_filter_by_category_and_key_like_sql_does() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Listing").await?;
    let admin = app.new_member(tenant, Role::Admin).await?.1;
    for (key, category) in [
        ("ai.escalation_keywords", "AI"),
        ("ai_response_enabled", "AI"),
        ("business_hours", "BUSINESS"),
        ("notifications.daily_digest", "NOTIFICATIONS"),
        ("whatsapp.business_number", "WHATSAPP"),
    ] {
        set(
            &app,
            &admin,
            json!({ "key": key, "value": true, "category": category }),
        )
        .await?;
    }
    let other = app.new_tenant("Other").await?;
    platform_setting(&app, other, "ai.model", json!("x"), true).await?;
    let viewer = app.new_member(tenant, Role::Viewer).await?.1;
    let body = app
        .gql(
            &viewer,
            "{ ai: tenantSettings(filter: { category: { eq: AI } }) { totalCount nodes { key } }
               dotted: tenantSettings(filter: { key: { like: \"%.%\" } },
                                      orderBy: [{ field: KEY, direction: DESC }]) { nodes { key } }
               all: tenantSettings { totalCount nodes { key } } }",
            json!({}),
        )
        .await?;
    assert_eq!(
        data(&body, "ai"),
        &json!({ "totalCount": 2, "nodes": [{ "key": "ai.escalation_keywords" }, { "key": "ai_response_enabled" }] })
    );
    let want: Vec<String> = sqlx::query_scalar(
        "SELECT key FROM app.tenant_settings WHERE tenant_id = $1 AND key LIKE '%.%' ORDER BY key DESC",
    )
    .bind(tenant)
    .fetch_all(app.db.owner())
    .await?;
    let got: Vec<String> = data(&body, "dotted")["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| n["key"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(got, want);
    assert_eq!(
        data(&body, "all")["totalCount"],
        5,
        "not the other tenant's"
    );
    Ok(())
}

#[tokio::test]
async fn a_setting_that_is_not_editable_is_forbidden_and_stays_as_it_was() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Locked").await?;
    let owner = app.new_member(tenant, Role::Owner).await?.1;
    platform_setting(
        &app,
        tenant,
        "security.audit_retention_days",
        json!(365),
        false,
    )
    .await?;
    let before = setting_rows(&app, tenant).await?;
    for vars in [
        json!({ "key": "security.audit_retention_days", "value": 1 }),
        json!({ "key": "security.audit_retention_days", "value": 365, "category": "GENERAL" }),
    ] {
        let body = set(&app, &owner, vars).await?;
        assert_eq!(refusal(&body), ("FORBIDDEN".into(), "key".into()), "{body}");
    }
    let body = app
        .gql(
            &owner,
            DELETE_SETTING,
            json!({ "key": "security.audit_retention_days" }),
        )
        .await?;
    assert_eq!(refusal(&body), ("FORBIDDEN".into(), "key".into()), "{body}");
    assert_eq!(setting_rows(&app, tenant).await?, before, "untouched");
    let body = app
        .gql(&owner, "{ tenantSettings(filter: { isEditable: { eq: false } }) { nodes { key value isEditable } } }", json!({}))
        .await?;
    assert_eq!(
        data(&body, "tenantSettings")["nodes"],
        json!([{ "key": "security.audit_retention_days", "value": 365, "isEditable": false }])
    );
    Ok(())
}

#[tokio::test]
async fn malformed_keys_and_null_values_are_refused_on_their_argument_and_nothing_is_written(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Keys").await?;
    let admin = app.new_member(tenant, Role::Admin).await?.1;
    let long = format!("k{}", "x".repeat(100));
    for key in [
        "Business_Hours",
        "1st",
        "",
        "  ",
        "a-b",
        "a b",
        "_hidden",
        "ключ",
        long.as_str(),
    ] {
        let body = set(&app, &admin, json!({ "key": key, "value": 1 })).await?;
        assert_eq!(
            refusal(&body),
            ("BAD_USER_INPUT".into(), "key".into()),
            "{key:?}: {body}"
        );
        let body = app
            .gql(&admin, DELETE_SETTING, json!({ "key": key }))
            .await?;
        assert_eq!(
            refusal(&body),
            ("BAD_USER_INPUT".into(), "key".into()),
            "{key:?}: {body}"
        );
    }
    let body = set(&app, &admin, json!({ "key": "fine", "value": null })).await?;
    assert_eq!(refusal(&body).0, "BAD_USER_INPUT", "{body}");
    let body = set(
        &app,
        &admin,
        json!({ "key": "fine", "value": "x".repeat(70_000) }),
    )
    .await?;
    assert_eq!(
        refusal(&body),
        ("BAD_USER_INPUT".into(), "value".into()),
        "{body}"
    );
    let body = set(
        &app,
        &admin,
        json!({ "key": "fine", "value": 1, "description": "x".repeat(1_001) }),
    )
    .await?;
    assert_eq!(
        refusal(&body),
        ("BAD_USER_INPUT".into(), "description".into()),
        "{body}"
    );
    assert!(setting_rows(&app, tenant).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn only_admins_change_settings_and_everyone_reads_them() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Roles").await?;
    let admin = app.new_member(tenant, Role::Admin).await?.1;
    set(
        &app,
        &admin,
        json!({ "key": "max_conversations_per_agent", "value": 8 }),
    )
    .await?;
    let before = setting_rows(&app, tenant).await?;
    let (trusted_user, trusted) = app.new_member(tenant, Role::Supervisor).await?;
    sqlx::query("UPDATE app.memberships SET permissions = '{system:admin}' WHERE user_id = $1")
        .bind(trusted_user)
        .execute(app.db.owner())
        .await?;
    for role in [Role::Viewer, Role::Agent, Role::Supervisor] {
        let token = app.new_member(tenant, role).await?.1;
        for token in [&token, &trusted] {
            let body = set(
                &app,
                token,
                json!({ "key": "max_conversations_per_agent", "value": 99 }),
            )
            .await?;
            assert_eq!(refusal(&body).0, "FORBIDDEN", "{role:?}: {body}");
            let body = app
                .gql(
                    token,
                    DELETE_SETTING,
                    json!({ "key": "max_conversations_per_agent" }),
                )
                .await?;
            assert_eq!(refusal(&body).0, "FORBIDDEN", "{role:?}: {body}");
        }
        let body = app
            .gql(
                &token,
                "{ tenantSettings { nodes { key value } } }",
                json!({}),
            )
            .await?;
        assert_eq!(
            data(&body, "tenantSettings")["nodes"],
            json!([{ "key": "max_conversations_per_agent", "value": 8 }])
        );
    }
    assert_eq!(setting_rows(&app, tenant).await?, before);
    Ok(())
}

#[tokio::test]
async fn another_tenants_setting_is_not_found_and_its_key_is_free_here() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Mine").await?;
    let admin = app.new_member(tenant, Role::Admin).await?.1;
    let other = app.new_tenant("Theirs").await?;
    let foreign = platform_setting(&app, other, "shared.key", json!("theirs"), true).await?;
    let before = setting_rows(&app, other).await?;
    let body = app
        .gql(&admin, DELETE_SETTING, json!({ "key": "shared.key" }))
        .await?;
    assert_eq!(refusal(&body), ("NOT_FOUND".into(), "key".into()), "{body}");
    for key in [
        json!(global_id::encode("TenantSetting", foreign).0),
        json!(foreign),
    ] {
        let body = app
            .gql(
                &admin,
                "query($id: ID!) { tenantSetting(id: $id) { key } }",
                json!({ "id": key }),
            )
            .await?;
        assert_eq!(refusal(&body), ("NOT_FOUND".into(), "id".into()), "{body}");
    }
    // The same key here is another row; theirs is untouched.
    let body = set(
        &app,
        &admin,
        json!({ "key": "shared.key", "value": "mine" }),
    )
    .await?;
    assert_ne!(id_of(data(&body, "setTenantSetting")), foreign);
    assert_eq!(setting_rows(&app, other).await?, before);
    assert_eq!(setting_rows(&app, tenant).await?[0]["value"], "mine");
    Ok(())
}
