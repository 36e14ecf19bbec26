//! Reading GraphQL response bodies and counting rows, shared by the mutation suites.

use serde_json::Value;
use uuid::Uuid;

use crate::{error_code, Principal, Role, TestApp};

impl TestApp {
    /// A tenant row of its own, named `name`, for tests that need no seeded data.
    pub async fn new_tenant(&self, name: &str) -> anyhow::Result<Uuid> {
        let id = Uuid::new_v4();
        frontdesk_db::sqlx::query("INSERT INTO app.tenants (id, name) VALUES ($1, $2)")
            .bind(id)
            .bind(name)
            .execute(self.db.owner())
            .await?;
        Ok(id)
    }

    /// A new user who is a member of `tenant` with `role`, and a token acting as them.
    pub async fn new_member(&self, tenant: Uuid, role: Role) -> anyhow::Result<(Uuid, String)> {
        let user = Uuid::new_v4();
        frontdesk_db::sqlx::query(
            "INSERT INTO app.users (id, email, name) VALUES ($1, $2, 'Test member')",
        )
        .bind(user)
        .bind(format!("{user}@example.com"))
        .execute(self.db.owner())
        .await?;
        frontdesk_db::sqlx::query(
            "INSERT INTO app.memberships (tenant_id, user_id, role) VALUES ($1, $2, $3)",
        )
        .bind(tenant)
        .bind(user)
        .bind(role.as_str())
        .execute(self.db.owner())
        .await?;
        let token = self.keys.mint(&Principal {
            user_id: user,
            tenant_id: tenant,
            role,
        });
        Ok((user, token))
    }

    /// Runs a document with `token` and returns the body (HTTP 200 expected: errors travel in
    /// the body).
    pub async fn gql(&self, token: &str, query: &str, variables: Value) -> anyhow::Result<Value> {
        let (status, body) = self.graphql(Some(token), query, variables).await?;
        assert_eq!(status, 200, "{body}");
        Ok(body)
    }

    /// Rows of `app.{table}` in `tenant`, counted by the owner (the tenant is named, not set).
    pub async fn rows(&self, table: &str, tenant: Uuid) -> anyhow::Result<i64> {
        Ok(frontdesk_db::sqlx::query_scalar(&format!(
            "SELECT count(*) FROM app.{table} WHERE tenant_id = $1"
        ))
        .bind(tenant)
        .fetch_one(self.db.owner())
        .await?)
    }
}

/// `data.{field}` of a body that must have no errors.
pub fn data<'a>(body: &'a Value, field: &str) -> &'a Value {
    assert!(body["errors"].is_null(), "unexpected errors: {body}");
    &body["data"][field]
}

/// The first error's code and field.
pub fn refusal(body: &Value) -> (String, String) {
    (
        error_code(body).unwrap_or("<no code>").to_owned(),
        body["errors"][0]["extensions"]["field"]
            .as_str()
            .unwrap_or("<no field>")
            .to_owned(),
    )
}

/// The first error's message.
pub fn message(body: &Value) -> String {
    body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The row UUID of an object: its `rowId`, or the row its global `id` names.
pub fn id_of(v: &Value) -> Uuid {
    if let Some(row) = v["rowId"].as_str().and_then(|s| s.parse().ok()) {
        return row;
    }
    v["id"]
        .as_str()
        .and_then(|s| frontdesk_graphql::entity::global_id::decode(s).ok())
        .map(|(_, row)| row)
        .unwrap_or_else(|| panic!("no id in {v}"))
}
