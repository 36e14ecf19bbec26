//! FAQs and system prompts over HTTP (seed 004): creating, changing, deleting and reordering
//! FAQs, finding them by keyword and full text, counting their uses under concurrency; prompt
//! versions with at most one active per type, held by the database and by activation even when
//! activations race. What is stored is checked with direct SQL; refusals (roles, permissions,
//! other tenants' ids, bad input) are checked to write nothing.

use frontdesk_db::sqlx::{self, Row};
use frontdesk_e2e::body::{data, id_of, message, refusal};
use frontdesk_e2e::{spawn_app, Role, TestApp};
use frontdesk_graphql::entity::global_id;
use serde_json::{json, Value};
use uuid::Uuid;

// ------------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------------

const FAQ_FIELDS: &str = "id rowId category question answer keywords isActive displayOrder
  usageCount createdAt updatedAt";

const PROMPT_FIELDS: &str = "id rowId promptType systemPrompt promptVersion isActive createdAt
  updatedAt";

fn create_faq_doc() -> String {
    format!("mutation($input: CreateFaqInput!) {{ createFaq(input: $input) {{ {FAQ_FIELDS} }} }}")
}

fn update_faq_doc() -> String {
    format!(
        "mutation($id: ID!, $input: UpdateFaqInput!) {{ updateFaq(id: $id, input: $input) {{ {FAQ_FIELDS} }} }}"
    )
}

const DELETE_FAQ: &str = "mutation($id: ID!) { deleteFaq(id: $id) { deletedId } }";
const REORDER: &str = "mutation($ids: [ID!]!) { reorderFaqs(ids: $ids) { rowId displayOrder } }";
const RECORD_USE: &str = "mutation($id: ID!) { recordFaqUse(id: $id) { rowId usageCount } }";

fn create_prompt_doc() -> String {
    format!(
        "mutation($input: CreateSystemPromptInput!) {{ createSystemPrompt(input: $input) {{ {PROMPT_FIELDS} }} }}"
    )
}

fn update_prompt_doc() -> String {
    format!(
        "mutation($id: ID!, $input: UpdateSystemPromptInput!) {{
           updateSystemPrompt(id: $id, input: $input) {{ {PROMPT_FIELDS} }} }}"
    )
}

const ACTIVATE: &str =
    "mutation($id: ID!) { activateSystemPrompt(id: $id) { rowId promptType isActive } }";
const DELETE_PROMPT: &str = "mutation($id: ID!) { deleteSystemPrompt(id: $id) { deletedId } }";

/// A tenant of its own and a token of one of its admins.
async fn tenant_with_admin(app: &TestApp) -> anyhow::Result<(Uuid, String)> {
    let tenant = app.new_tenant("FAQ test salon").await?;
    let token = app.new_member(tenant, Role::Admin).await?.1;
    Ok((tenant, token))
}

/// A member of `tenant` with `role` whose membership lists exactly `permissions`.
async fn member_with(
    app: &TestApp,
    tenant: Uuid,
    role: Role,
    permissions: &[&str],
) -> anyhow::Result<String> {
    let (user, token) = app.new_member(tenant, role).await?;
    sqlx::query(
        "UPDATE app.memberships SET permissions = $3 WHERE tenant_id = $1 AND user_id = $2",
    )
    .bind(tenant)
    .bind(user)
    .bind(permissions)
    .execute(app.db.owner())
    .await?;
    Ok(token)
}

async fn create_faq(app: &TestApp, token: &str, input: Value) -> anyhow::Result<Value> {
    let body = app
        .gql(token, &create_faq_doc(), json!({ "input": input }))
        .await?;
    Ok(data(&body, "createFaq").clone())
}

async fn create_prompt(app: &TestApp, token: &str, input: Value) -> anyhow::Result<Value> {
    let body = app
        .gql(token, &create_prompt_doc(), json!({ "input": input }))
        .await?;
    Ok(data(&body, "createSystemPrompt").clone())
}

/// A row of `app.{table}` as direct SQL sees it (every column, by name).
async fn row(app: &TestApp, table: &str, id: Uuid) -> anyhow::Result<Option<Value>> {
    let r = sqlx::query(&format!(
        "SELECT to_jsonb(x) - 'search' AS doc FROM app.{table} x WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(app.db.owner())
    .await?;
    Ok(r.map(|r| r.get::<Value, _>("doc")))
}

/// Every FAQ of `tenant` as direct SQL sees it, by id.
async fn faq_rows(app: &TestApp, tenant: Uuid) -> anyhow::Result<Vec<Value>> {
    Ok(sqlx::query_scalar(
        "SELECT to_jsonb(f) - 'search' FROM app.faqs f WHERE tenant_id = $1 ORDER BY id",
    )
    .bind(tenant)
    .fetch_all(app.db.owner())
    .await?)
}

/// Ids as direct SQL returns them for `sql` (with `$1` the tenant, `$2` a text argument).
async fn sql_ids(app: &TestApp, sql: &str, tenant: Uuid, arg: &str) -> anyhow::Result<Vec<String>> {
    let ids: Vec<Uuid> = sqlx::query_scalar(sql)
        .bind(tenant)
        .bind(arg)
        .fetch_all(app.db.owner())
        .await?;
    Ok(ids.into_iter().map(|i| i.to_string()).collect())
}

fn row_ids(connection: &Value) -> Vec<String> {
    connection["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| n["rowId"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The active prompts of `tenant` per type, as direct SQL sees them.
async fn active_prompts(app: &TestApp, tenant: Uuid, kind: &str) -> anyhow::Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM app.system_prompts WHERE tenant_id = $1 AND prompt_type = $2 AND is_active",
    )
    .bind(tenant)
    .bind(kind)
    .fetch_all(app.db.owner())
    .await?)
}

/// Four FAQs of a hair salon.
fn salon_faqs() -> [Value; 4] {
    [
        json!({ "category": "hours", "question": "When are you open?",
                "answer": "Monday to Friday 9 to 18, Saturday until noon.",
                "keywords": ["Opening", "hours", " HOURS "] }),
        json!({ "category": "pricing", "question": "How much is a haircut?",
                "answer": "A haircut costs 450 CZK, washing included.",
                "keywords": ["price", "haircut"] }),
        json!({ "category": "location", "question": "Where can I park?",
                "answer": "Free parking behind the building; the tram stops in front.",
                "keywords": ["parking", "tram"] }),
        json!({ "category": "pricing", "question": "Do you take cards?",
                "answer": "Yes, all cards and cash. No price surcharge for cards.",
                "keywords": ["payment", "price"], "isActive": false, "displayOrder": 7 }),
    ]
}

// ------------------------------------------------------------------------------------------------
// FAQs
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_created_faq_is_stored_as_sent_with_lower_case_keywords_and_reads_back(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (tenant, admin) = tenant_with_admin(&app).await?;
    let [first, .., last] = salon_faqs();
    let created = create_faq(&app, &admin, first).await?;
    let id = id_of(&created);
    assert_eq!(created["id"], json!(global_id::encode("Faq", id).0));
    assert_eq!(created["keywords"], json!(["opening", "hours"]));
    assert_eq!(created["isActive"], true);
    assert_eq!(created["displayOrder"], 0);
    assert_eq!(created["usageCount"], 0);

    let stored = row(&app, "faqs", id).await?.expect("stored");
    assert_eq!(stored["tenant_id"], json!(tenant));
    assert_eq!(stored["category"], "hours");
    assert_eq!(stored["question"], "When are you open?");
    assert_eq!(stored["keywords"], json!(["opening", "hours"]));
    assert_eq!(stored["display_order"], 0);

    let other = create_faq(&app, &admin, last).await?;
    assert_eq!(other["isActive"], false);
    assert_eq!(other["displayOrder"], 7);

    // A viewer reads FAQs, by either spelling of the id, and lists them by display order.
    let viewer = app.new_member(tenant, Role::Viewer).await?.1;
    for key in [created["id"].clone(), created["rowId"].clone()] {
        let body = app
            .gql(
                &viewer,
                &format!("query($id: ID!) {{ faq(id: $id) {{ {FAQ_FIELDS} }} }}"),
                json!({ "id": key }),
            )
            .await?;
        assert_eq!(data(&body, "faq"), &created);
    }
    let body = app
        .gql(
            &viewer,
            "{ faqs { totalCount nodes { rowId } } }",
            json!({}),
        )
        .await?;
    assert_eq!(data(&body, "faqs")["totalCount"], 2);
    assert_eq!(
        row_ids(data(&body, "faqs")),
        [id.to_string(), id_of(&other).to_string()],
        "display order ascending"
    );
    Ok(())
}

#[tokio::test]
async fn faqs_are_found_by_keywords_and_by_full_text_exactly_as_sql_finds_them(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (a, admin) = tenant_with_admin(&app).await?;
    for input in salon_faqs() {
        create_faq(&app, &admin, input).await?;
    }
    // Another tenant's FAQ matches every search below and must never show.
    let (_, admin_b) = tenant_with_admin(&app).await?;
    create_faq(
        &app,
        &admin_b,
        json!({ "category": "pricing", "question": "Price of parking and haircut hours?",
                "answer": "cards price parking haircut", "keywords": ["price", "parking", "haircut"] }),
    )
    .await?;

    let keyword_cases = [
        (json!({ "overlaps": ["price", "tram"] }), "SELECT id FROM app.faqs WHERE tenant_id = $1 AND keywords && string_to_array($2, ',') ORDER BY display_order, id", "price,tram"),
        (json!({ "containsAll": ["price", "haircut"] }), "SELECT id FROM app.faqs WHERE tenant_id = $1 AND keywords @> string_to_array($2, ',') ORDER BY display_order, id", "price,haircut"),
    ];
    for (filter, sql, arg) in keyword_cases {
        let body = app
            .gql(
                &admin,
                "query($f: TagsFilter) { faqs(filter: { keywords: $f }) { totalCount nodes { rowId } } }",
                json!({ "f": filter }),
            )
            .await?;
        let want = sql_ids(&app, sql, a, arg).await?;
        assert!(!want.is_empty(), "{filter} finds something");
        assert_eq!(row_ids(data(&body, "faqs")), want, "{filter}");
    }

    // Full text over question and answer, web-search syntax, whole words.
    for q in [
        "parking",
        "haircut -cards",
        "\"haircut costs\"",
        "tram or saturday",
        "PARKING",
    ] {
        let body = app
            .gql(
                &admin,
                "query($q: String) { faqs(filter: { search: $q }) { totalCount nodes { rowId } } }",
                json!({ "q": q }),
            )
            .await?;
        let want = sql_ids(
            &app,
            "SELECT id FROM app.faqs WHERE tenant_id = $1
               AND search @@ websearch_to_tsquery('simple', $2) ORDER BY display_order, id",
            a,
            q,
        )
        .await?;
        assert!(!want.is_empty(), "{q:?} finds something");
        assert_eq!(row_ids(data(&body, "faqs")), want, "search {q:?}");
        assert_eq!(data(&body, "faqs")["totalCount"], want.len());
    }
    // A word that is only part of one does not match (no substring search), and search and
    // filters combine.
    let body = app
        .gql(
            &admin,
            "{ a: faqs(filter: { search: \"tra\" }) { totalCount }
               b: faqs(filter: { search: \"cards or haircut\", isActive: { eq: true } }) { nodes { question } } }",
            json!({}),
        )
        .await?;
    assert_eq!(data(&body, "a")["totalCount"], 0);
    assert_eq!(
        data(&body, "b")["nodes"],
        json!([{ "question": "How much is a haircut?" }])
    );
    Ok(())
}

#[tokio::test]
async fn updating_an_faq_changes_the_given_fields_and_deleting_it_removes_it() -> anyhow::Result<()>
{
    let app = spawn_app().await?;
    let (tenant, admin) = tenant_with_admin(&app).await?;
    let [first, ..] = salon_faqs();
    let created = create_faq(&app, &admin, first).await?;
    let id = id_of(&created);
    let body = app
        .gql(
            &admin,
            &update_faq_doc(),
            json!({ "id": created["id"], "input": {
                "answer": "  Every day 8 to 20. ", "keywords": ["Hours", "weekend"],
                "isActive": false, "displayOrder": 3 } }),
        )
        .await?;
    let updated = data(&body, "updateFaq");
    assert_eq!(updated["answer"], "Every day 8 to 20.");
    assert_eq!(updated["keywords"], json!(["hours", "weekend"]));
    assert_eq!(updated["isActive"], false);
    assert_eq!(updated["displayOrder"], 3);
    assert_eq!(updated["question"], created["question"], "kept");
    assert_eq!(updated["category"], created["category"], "kept");
    let stored = row(&app, "faqs", id).await?.expect("stored");
    assert_eq!(stored["answer"], "Every day 8 to 20.");
    assert_eq!(stored["is_active"], false);
    assert_eq!(stored["display_order"], 3);
    // The full-text column follows the answer.
    let found: bool = sqlx::query_scalar(
        "SELECT search @@ websearch_to_tsquery('simple', 'every day') FROM app.faqs WHERE id = $1",
    )
    .bind(id)
    .fetch_one(app.db.owner())
    .await?;
    assert!(found);

    let body = app.gql(&admin, DELETE_FAQ, json!({ "id": id })).await?;
    assert_eq!(
        data(&body, "deleteFaq")["deletedId"],
        json!(global_id::encode("Faq", id).0)
    );
    assert_eq!(app.rows("faqs", tenant).await?, 0);
    let body = app.gql(&admin, DELETE_FAQ, json!({ "id": id })).await?;
    assert_eq!(refusal(&body), ("NOT_FOUND".into(), "id".into()));
    Ok(())
}

#[tokio::test]
async fn reordering_numbers_the_listed_faqs_from_one_and_keeps_the_others() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (tenant, admin) = tenant_with_admin(&app).await?;
    let mut ids = Vec::new();
    for input in salon_faqs() {
        ids.push(id_of(&create_faq(&app, &admin, input).await?));
    }
    let (a, b, c, d) = (ids[0], ids[1], ids[2], ids[3]);
    // Global ids and row ids mix.
    let body = app
        .gql(
            &admin,
            REORDER,
            json!({ "ids": [c.to_string(), global_id::encode("Faq", a).0, b.to_string()] }),
        )
        .await?;
    assert_eq!(
        data(&body, "reorderFaqs"),
        &json!([
            { "rowId": c, "displayOrder": 1 },
            { "rowId": a, "displayOrder": 2 },
            { "rowId": b, "displayOrder": 3 },
        ])
    );
    let orders: Vec<(Uuid, i32)> = sqlx::query_as(
        "SELECT id, display_order FROM app.faqs WHERE tenant_id = $1 ORDER BY display_order, id",
    )
    .bind(tenant)
    .fetch_all(app.db.owner())
    .await?;
    assert_eq!(orders, [(c, 1), (a, 2), (b, 3), (d, 7)], "d keeps its 7");
    let body = app
        .gql(&admin, "{ faqs { nodes { rowId } } }", json!({}))
        .await?;
    assert_eq!(
        row_ids(data(&body, "faqs")),
        [c, a, b, d].map(|i| i.to_string())
    );
    Ok(())
}

#[tokio::test]
async fn a_reorder_naming_an_unknown_or_another_tenants_faq_is_not_found_at_its_position_and_writes_nothing(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (tenant, admin) = tenant_with_admin(&app).await?;
    let mut ids = Vec::new();
    for input in salon_faqs() {
        ids.push(id_of(&create_faq(&app, &admin, input).await?));
    }
    let (other_tenant, admin_b) = tenant_with_admin(&app).await?;
    let [first, ..] = salon_faqs();
    let foreign = id_of(&create_faq(&app, &admin_b, first).await?);
    let before = faq_rows(&app, tenant).await?;
    let before_b = faq_rows(&app, other_tenant).await?;

    for stranger in [foreign, Uuid::new_v4()] {
        let body = app
            .gql(
                &admin,
                REORDER,
                json!({ "ids": [ids[2], ids[0], stranger, ids[1]] }),
            )
            .await?;
        assert_eq!(
            refusal(&body),
            ("NOT_FOUND".into(), "ids[2]".into()),
            "{body}"
        );
        assert!(body["data"].is_null(), "{body}");
        assert_eq!(faq_rows(&app, tenant).await?, before, "nothing reordered");
    }
    assert_eq!(faq_rows(&app, other_tenant).await?, before_b);

    // A repeated id and an empty list are bad input.
    let body = app
        .gql(&admin, REORDER, json!({ "ids": [ids[0], ids[1], ids[0]] }))
        .await?;
    assert_eq!(refusal(&body), ("BAD_USER_INPUT".into(), "ids[2]".into()));
    let body = app.gql(&admin, REORDER, json!({ "ids": [] })).await?;
    assert_eq!(refusal(&body), ("BAD_USER_INPUT".into(), "ids".into()));
    // Another type's global id is bad input too.
    let body = app
        .gql(
            &admin,
            REORDER,
            json!({ "ids": [global_id::encode("Lead", ids[0]).0] }),
        )
        .await?;
    assert_eq!(refusal(&body).0, "BAD_USER_INPUT", "{body}");
    assert_eq!(faq_rows(&app, tenant).await?, before);
    Ok(())
}

#[tokio::test]
async fn concurrent_uses_of_an_faq_are_all_counted_and_are_not_edits() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (tenant, admin) = tenant_with_admin(&app).await?;
    let [first, ..] = salon_faqs();
    let faq = create_faq(&app, &admin, first).await?;
    let id = id_of(&faq);
    let mut agents = Vec::new();
    for _ in 0..4 {
        agents.push(app.new_member(tenant, Role::Agent).await?.1);
    }
    const USES: usize = 40;
    let requests = (0..USES).map(|i| {
        let token = &agents[i % agents.len()];
        let app = &app;
        async move { app.gql(token, RECORD_USE, json!({ "id": id })).await }
    });
    let bodies = futures::future::try_join_all(requests).await?;
    let mut counts: Vec<i64> = bodies
        .iter()
        .map(|b| data(b, "recordFaqUse")["usageCount"].as_i64().unwrap_or(-1))
        .collect();
    counts.sort_unstable();
    assert_eq!(
        counts,
        (1..=USES as i64).collect::<Vec<_>>(),
        "each use saw its own count: none lost, none doubled"
    );
    let stored = row(&app, "faqs", id).await?.expect("stored");
    assert_eq!(stored["usage_count"], USES);
    let body = app
        .gql(
            &admin,
            "query($id: ID!) { faq(id: $id) { usageCount updatedAt } }",
            json!({ "id": id }),
        )
        .await?;
    assert_eq!(data(&body, "faq")["usageCount"], USES);
    assert_eq!(
        data(&body, "faq")["updatedAt"],
        faq["updatedAt"],
        "a use is not an edit"
    );
    Ok(())
}

#[tokio::test]
async fn faq_writes_take_a_supervisor_with_system_admin_and_uses_take_an_agent(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (tenant, admin) = tenant_with_admin(&app).await?;
    let [first, second, ..] = salon_faqs();
    let faq = create_faq(&app, &admin, first).await?;
    let id = id_of(&faq);
    let viewer = app.new_member(tenant, Role::Viewer).await?.1;
    let agent = app.new_member(tenant, Role::Agent).await?.1;
    let supervisor = app.new_member(tenant, Role::Supervisor).await?.1;
    let trusted = member_with(
        &app,
        tenant,
        Role::Supervisor,
        &["read:conversations", "system:admin"],
    )
    .await?;
    let mute_agent = member_with(&app, tenant, Role::Agent, &["read:conversations"]).await?;
    let before = faq_rows(&app, tenant).await?;

    let writes = [
        (create_faq_doc(), json!({ "input": second.clone() })),
        (
            update_faq_doc(),
            json!({ "id": id, "input": { "answer": "changed" } }),
        ),
        (DELETE_FAQ.to_owned(), json!({ "id": id })),
        (REORDER.to_owned(), json!({ "ids": [id] })),
    ];
    for token in [&viewer, &agent, &supervisor] {
        for (doc, vars) in &writes {
            let body = app.gql(token, doc, vars.clone()).await?;
            assert_eq!(refusal(&body).0, "FORBIDDEN", "{doc}: {body}");
        }
    }
    // The supervisor is told which permission it takes.
    let body = app
        .gql(&supervisor, &writes[0].0, writes[0].1.clone())
        .await?;
    assert!(message(&body).contains("system:admin"), "{body}");
    // Viewers and agents without write:messages do not record uses.
    for token in [&viewer, &mute_agent] {
        let body = app.gql(token, RECORD_USE, json!({ "id": id })).await?;
        assert_eq!(refusal(&body).0, "FORBIDDEN", "{body}");
    }
    assert_eq!(faq_rows(&app, tenant).await?, before, "nothing written");

    // A supervisor granted system:admin curates; an agent records a use; a viewer reads.
    let created = create_faq(&app, &trusted, second).await?;
    assert_eq!(created["category"], "pricing");
    let body = app.gql(&agent, RECORD_USE, json!({ "id": id })).await?;
    assert_eq!(data(&body, "recordFaqUse")["usageCount"], 1);
    let body = app
        .gql(&viewer, "{ faqs { totalCount } }", json!({}))
        .await?;
    assert_eq!(data(&body, "faqs")["totalCount"], 2);
    Ok(())
}

#[tokio::test]
async fn another_tenants_faq_is_not_found_by_any_faq_field_and_stays_unchanged(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (_, admin) = tenant_with_admin(&app).await?;
    let (other, admin_b) = tenant_with_admin(&app).await?;
    let [first, ..] = salon_faqs();
    let foreign = create_faq(&app, &admin_b, first).await?;
    let before = faq_rows(&app, other).await?;
    for key in [
        foreign["id"].clone(),
        foreign["rowId"].clone(),
        json!(Uuid::new_v4()),
    ] {
        let attempts = [
            (
                "query($id: ID!) { faq(id: $id) { rowId } }".to_owned(),
                json!({ "id": key }),
            ),
            (
                update_faq_doc(),
                json!({ "id": key, "input": { "answer": "mine now" } }),
            ),
            (DELETE_FAQ.to_owned(), json!({ "id": key })),
            (RECORD_USE.to_owned(), json!({ "id": key })),
        ];
        for (doc, vars) in attempts {
            let body = app.gql(&admin, &doc, vars).await?;
            assert_eq!(
                refusal(&body),
                ("NOT_FOUND".into(), "id".into()),
                "{doc}: {body}"
            );
        }
    }
    let body = app
        .gql(&admin, "{ faqs { totalCount } }", json!({}))
        .await?;
    assert_eq!(data(&body, "faqs")["totalCount"], 0);
    assert_eq!(faq_rows(&app, other).await?, before);
    Ok(())
}

#[tokio::test]
async fn invalid_faq_input_is_refused_naming_the_field_and_nothing_is_written() -> anyhow::Result<()>
{
    let app = spawn_app().await?;
    let (tenant, admin) = tenant_with_admin(&app).await?;
    let [first, ..] = salon_faqs();
    let faq = create_faq(&app, &admin, first.clone()).await?;
    let with = |key: &str, value: Value| {
        let mut input = first.clone();
        input[key] = value;
        input
    };
    let creates = [
        (with("question", json!("   ")), "input.question"),
        (with("answer", json!("x".repeat(10_001))), "input.answer"),
        (with("category", json!("")), "input.category"),
        (with("keywords", json!(["ok", " "])), "input.keywords[1]"),
        (with("displayOrder", json!(-1)), "input.displayOrder"),
        (with("question", json!("bell \u{7}")), "input.question"),
    ];
    let before = faq_rows(&app, tenant).await?;
    for (input, field) in creates {
        let body = app
            .gql(&admin, &create_faq_doc(), json!({ "input": input }))
            .await?;
        assert_eq!(
            refusal(&body),
            ("BAD_USER_INPUT".into(), field.into()),
            "{body}"
        );
    }
    for (input, field) in [
        (json!({ "question": null }), "input.question"),
        (json!({ "keywords": null }), "input.keywords"),
        (
            json!({ "answer": "fine", "displayOrder": -5 }),
            "input.displayOrder",
        ),
    ] {
        let body = app
            .gql(
                &admin,
                &update_faq_doc(),
                json!({ "id": faq["id"], "input": input }),
            )
            .await?;
        assert_eq!(
            refusal(&body),
            ("BAD_USER_INPUT".into(), field.into()),
            "{body}"
        );
    }
    assert_eq!(faq_rows(&app, tenant).await?, before);
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// System prompts
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_new_prompt_is_a_draft_unless_active_and_an_active_one_replaces_the_previous(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (tenant, admin) = tenant_with_admin(&app).await?;
    let v1 = create_prompt(
        &app,
        &admin,
        json!({ "promptType": "VOICE", "systemPrompt": "  Greet callers warmly. ", "isActive": true }),
    )
    .await?;
    assert_eq!(v1["isActive"], true);
    assert_eq!(v1["promptVersion"], "v1.0.0", "the column's default");
    assert_eq!(v1["systemPrompt"], "Greet callers warmly.");
    let sms = create_prompt(
        &app,
        &admin,
        json!({ "promptType": "SMS", "systemPrompt": "Reply in 160 characters.", "isActive": true }),
    )
    .await?;
    let draft = create_prompt(
        &app,
        &admin,
        json!({ "promptType": "VOICE", "systemPrompt": "Draft", "promptVersion": "v1.1.0" }),
    )
    .await?;
    assert_eq!(draft["isActive"], false);
    assert_eq!(active_prompts(&app, tenant, "voice").await?, [id_of(&v1)]);

    let v2 = create_prompt(
        &app,
        &admin,
        json!({ "promptType": "VOICE", "systemPrompt": "Greet, then book.",
                "promptVersion": "v2.0.0", "isActive": true }),
    )
    .await?;
    assert_eq!(active_prompts(&app, tenant, "voice").await?, [id_of(&v2)]);
    assert_eq!(
        active_prompts(&app, tenant, "sms").await?,
        [id_of(&sms)],
        "other type untouched"
    );
    let stored = row(&app, "system_prompts", id_of(&v2))
        .await?
        .expect("stored");
    assert_eq!(stored["prompt_type"], "voice");
    assert_eq!(stored["prompt_version"], "v2.0.0");
    assert_eq!(stored["tenant_id"], json!(tenant));

    // Lists filter by type and activity like SQL does.
    let viewer = app.new_member(tenant, Role::Viewer).await?.1;
    let body = app
        .gql(
            &viewer,
            "{ systemPrompts(filter: { promptType: { eq: VOICE } },
                             orderBy: [{ field: CREATED_AT, direction: ASC }]) {
                 nodes { rowId isActive } }
               active: systemPrompts(filter: { isActive: { eq: true } }) { totalCount } }",
            json!({}),
        )
        .await?;
    assert_eq!(
        data(&body, "systemPrompts")["nodes"],
        json!([
            { "rowId": v1["rowId"], "isActive": false },
            { "rowId": draft["rowId"], "isActive": false },
            { "rowId": v2["rowId"], "isActive": true },
        ])
    );
    assert_eq!(data(&body, "active")["totalCount"], 2);
    Ok(())
}

#[tokio::test]
async fn activating_a_prompt_deactivates_the_previous_one_of_its_type_in_one_go(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (tenant, admin) = tenant_with_admin(&app).await?;
    let v1 = create_prompt(
        &app,
        &admin,
        json!({ "promptType": "VOICE", "systemPrompt": "One", "isActive": true }),
    )
    .await?;
    let v2 = create_prompt(
        &app,
        &admin,
        json!({ "promptType": "VOICE", "systemPrompt": "Two" }),
    )
    .await?;
    let sms = create_prompt(
        &app,
        &admin,
        json!({ "promptType": "SMS", "systemPrompt": "Text", "isActive": true }),
    )
    .await?;
    let body = app.gql(&admin, ACTIVATE, json!({ "id": v2["id"] })).await?;
    assert_eq!(
        data(&body, "activateSystemPrompt"),
        &json!({ "rowId": v2["rowId"], "promptType": "VOICE", "isActive": true })
    );
    assert_eq!(active_prompts(&app, tenant, "voice").await?, [id_of(&v2)]);
    assert_eq!(active_prompts(&app, tenant, "sms").await?, [id_of(&sms)]);
    let old = row(&app, "system_prompts", id_of(&v1))
        .await?
        .expect("kept");
    assert_eq!(
        old["is_active"], false,
        "the previous version stays, inactive"
    );

    // Activating the active one changes nothing.
    let body = app
        .gql(&admin, ACTIVATE, json!({ "id": v2["rowId"] }))
        .await?;
    assert_eq!(data(&body, "activateSystemPrompt")["isActive"], true);
    assert_eq!(active_prompts(&app, tenant, "voice").await?, [id_of(&v2)]);

    // Deleting the active prompt leaves the type without one.
    let body = app
        .gql(&admin, DELETE_PROMPT, json!({ "id": v2["id"] }))
        .await?;
    assert_eq!(data(&body, "deleteSystemPrompt")["deletedId"], v2["id"]);
    assert!(active_prompts(&app, tenant, "voice").await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn the_database_holds_one_active_prompt_per_type_whoever_writes() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (tenant, admin) = tenant_with_admin(&app).await?;
    let voice = create_prompt(
        &app,
        &admin,
        json!({ "promptType": "VOICE", "systemPrompt": "Voice", "isActive": true }),
    )
    .await?;
    let sms = create_prompt(
        &app,
        &admin,
        json!({ "promptType": "SMS", "systemPrompt": "Text", "isActive": true }),
    )
    .await?;
    // A second active voice prompt written behind the API's back is refused by the index.
    let err = sqlx::query(
        "INSERT INTO app.system_prompts (tenant_id, prompt_type, system_prompt, is_active)
         VALUES ($1, 'voice', 'sneaky', true)",
    )
    .bind(tenant)
    .execute(app.db.owner())
    .await
    .expect_err("a second active voice prompt");
    let db = err.as_database_error().expect("a database error");
    assert_eq!(db.code().as_deref(), Some("23505"));
    assert_eq!(db.constraint(), Some("system_prompts_one_active_key"));
    // Inactive ones are any number.
    sqlx::query(
        "INSERT INTO app.system_prompts (tenant_id, prompt_type, system_prompt, is_active)
         VALUES ($1, 'voice', 'a', false), ($1, 'voice', 'b', false)",
    )
    .bind(tenant)
    .execute(app.db.owner())
    .await?;

    // Through the API: moving the active voice prompt to SMS, which has one, is a conflict.
    let before = row(&app, "system_prompts", id_of(&voice)).await?;
    let body = app
        .gql(
            &admin,
            &update_prompt_doc(),
            json!({ "id": voice["id"], "input": { "promptType": "SMS", "systemPrompt": "moved" } }),
        )
        .await?;
    assert_eq!(
        refusal(&body),
        ("CONFLICT".into(), "input.promptType".into()),
        "{body}"
    );
    assert_eq!(row(&app, "system_prompts", id_of(&voice)).await?, before);
    assert_eq!(active_prompts(&app, tenant, "sms").await?, [id_of(&sms)]);

    // Once SMS has no active prompt the move is fine, text and version change with it.
    app.gql(&admin, DELETE_PROMPT, json!({ "id": sms["id"] }))
        .await?;
    let body = app
        .gql(
            &admin,
            &update_prompt_doc(),
            json!({ "id": voice["id"], "input": { "promptType": "SMS", "promptVersion": "v9" } }),
        )
        .await?;
    let moved = data(&body, "updateSystemPrompt");
    assert_eq!(moved["promptType"], "SMS");
    assert_eq!(moved["promptVersion"], "v9");
    assert_eq!(moved["systemPrompt"], "Voice", "kept");
    assert_eq!(active_prompts(&app, tenant, "sms").await?, [id_of(&voice)]);
    Ok(())
}

#[tokio::test]
async fn concurrent_activations_and_active_creations_leave_exactly_one_active_prompt(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (tenant, admin) = tenant_with_admin(&app).await?;
    let mut admins = vec![admin.clone()];
    for _ in 0..3 {
        admins.push(app.new_member(tenant, Role::Admin).await?.1);
    }
    let mut prompts = Vec::new();
    for i in 0..12 {
        let p = create_prompt(
            &app,
            &admin,
            json!({ "promptType": "VOICE", "systemPrompt": format!("Version {i}") }),
        )
        .await?;
        prompts.push(id_of(&p));
    }
    for round in 0..3 {
        let requests = prompts.iter().enumerate().map(|(i, id)| {
            let token = &admins[i % admins.len()];
            let app = &app;
            async move { app.gql(token, ACTIVATE, json!({ "id": id })).await }
        });
        let bodies = futures::future::try_join_all(requests).await?;
        for body in &bodies {
            assert_eq!(
                data(body, "activateSystemPrompt")["isActive"],
                true,
                "round {round}"
            );
        }
        let active = active_prompts(&app, tenant, "voice").await?;
        assert_eq!(active.len(), 1, "round {round}: {active:?}");
        assert!(prompts.contains(&active[0]));
    }

    // Creating active prompts at the same time as activating others: still exactly one.
    let creates = (0..6).map(|i| {
        let token = &admins[i % admins.len()];
        let (app, prompts) = (&app, &prompts);
        async move {
            let doc = if i % 2 == 0 {
                (
                    create_prompt_doc(),
                    json!({ "input": { "promptType": "VOICE", "systemPrompt": format!("New {i}"), "isActive": true } }),
                )
            } else {
                (ACTIVATE.to_owned(), json!({ "id": prompts[i] }))
            };
            app.gql(token, &doc.0, doc.1).await
        }
    });
    let bodies = futures::future::try_join_all(creates).await?;
    for body in &bodies {
        assert!(body["errors"].is_null(), "{body}");
    }
    assert_eq!(active_prompts(&app, tenant, "voice").await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn prompt_writes_take_system_admin_and_another_tenants_prompt_is_not_found(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (tenant, admin) = tenant_with_admin(&app).await?;
    let mine = create_prompt(
        &app,
        &admin,
        json!({ "promptType": "SMS", "systemPrompt": "Mine" }),
    )
    .await?;
    let (other, admin_b) = tenant_with_admin(&app).await?;
    let foreign = create_prompt(
        &app,
        &admin_b,
        json!({ "promptType": "VOICE", "systemPrompt": "Theirs", "isActive": true }),
    )
    .await?;
    let agent = app.new_member(tenant, Role::Agent).await?.1;
    let supervisor = app.new_member(tenant, Role::Supervisor).await?.1;
    let viewer = app.new_member(tenant, Role::Viewer).await?.1;
    let count = |t| app.rows("system_prompts", t);
    let before = count(tenant).await?;

    for token in [&viewer, &agent, &supervisor] {
        for (doc, vars) in [
            (
                create_prompt_doc(),
                json!({ "input": { "promptType": "SMS", "systemPrompt": "x" } }),
            ),
            (
                update_prompt_doc(),
                json!({ "id": mine["id"], "input": { "systemPrompt": "y" } }),
            ),
            (ACTIVATE.to_owned(), json!({ "id": mine["id"] })),
            (DELETE_PROMPT.to_owned(), json!({ "id": mine["id"] })),
        ] {
            let body = app.gql(token, &doc, vars).await?;
            assert_eq!(refusal(&body).0, "FORBIDDEN", "{doc}: {body}");
        }
    }
    assert_eq!(count(tenant).await?, before);
    assert_eq!(
        row(&app, "system_prompts", id_of(&mine))
            .await?
            .expect("kept")["is_active"],
        false
    );
    // A viewer reads.
    let body = app
        .gql(
            &viewer,
            "query($id: ID!) { systemPrompt(id: $id) { systemPrompt } }",
            json!({ "id": mine["id"] }),
        )
        .await?;
    assert_eq!(data(&body, "systemPrompt")["systemPrompt"], "Mine");

    // Another tenant's prompt, by either id, is NOT_FOUND everywhere and stays active.
    for key in [foreign["id"].clone(), foreign["rowId"].clone()] {
        for (doc, vars) in [
            (
                "query($id: ID!) { systemPrompt(id: $id) { rowId } }".to_owned(),
                json!({ "id": key }),
            ),
            (
                update_prompt_doc(),
                json!({ "id": key, "input": { "systemPrompt": "y" } }),
            ),
            (ACTIVATE.to_owned(), json!({ "id": key })),
            (DELETE_PROMPT.to_owned(), json!({ "id": key })),
        ] {
            let body = app.gql(&admin, &doc, vars).await?;
            assert_eq!(
                refusal(&body),
                ("NOT_FOUND".into(), "id".into()),
                "{doc}: {body}"
            );
        }
    }
    assert_eq!(
        active_prompts(&app, other, "voice").await?,
        [id_of(&foreign)]
    );
    assert!(active_prompts(&app, tenant, "voice").await?.is_empty());
    assert_eq!(
        row(&app, "system_prompts", id_of(&foreign))
            .await?
            .expect("kept")["system_prompt"],
        "Theirs"
    );
    Ok(())
}

#[tokio::test]
async fn invalid_prompt_input_is_refused_naming_the_field_and_nothing_is_written(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (tenant, admin) = tenant_with_admin(&app).await?;
    let p = create_prompt(
        &app,
        &admin,
        json!({ "promptType": "SMS", "systemPrompt": "Text" }),
    )
    .await?;
    let before = row(&app, "system_prompts", id_of(&p)).await?;
    for (input, field) in [
        (
            json!({ "promptType": "SMS", "systemPrompt": " " }),
            "input.systemPrompt",
        ),
        (
            json!({ "promptType": "SMS", "systemPrompt": "x".repeat(50_001) }),
            "input.systemPrompt",
        ),
        (
            json!({ "promptType": "SMS", "systemPrompt": "ok", "promptVersion": "v".repeat(51) }),
            "input.promptVersion",
        ),
        (
            json!({ "promptType": "SMS", "systemPrompt": "ok", "promptVersion": "" }),
            "input.promptVersion",
        ),
    ] {
        let body = app
            .gql(&admin, &create_prompt_doc(), json!({ "input": input }))
            .await?;
        assert_eq!(
            refusal(&body),
            ("BAD_USER_INPUT".into(), field.into()),
            "{body}"
        );
    }
    for (input, field) in [
        (json!({ "promptType": null }), "input.promptType"),
        (json!({ "systemPrompt": null }), "input.systemPrompt"),
        (json!({ "systemPrompt": "\u{0}" }), "input.systemPrompt"),
    ] {
        let body = app
            .gql(
                &admin,
                &update_prompt_doc(),
                json!({ "id": p["id"], "input": input }),
            )
            .await?;
        assert_eq!(
            refusal(&body),
            ("BAD_USER_INPUT".into(), field.into()),
            "{body}"
        );
    }
    assert_eq!(app.rows("system_prompts", tenant).await?, 1);
    assert_eq!(row(&app, "system_prompts", id_of(&p)).await?, before);
    Ok(())
}
