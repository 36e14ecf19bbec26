//! Team helpers shared by the members and invitations suites: the documents of inviting,
//! accepting and logging in, and arranging members with direct SQL.

use frontdesk_db::sqlx;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::body::data;
use crate::TestApp;

/// Every scalar field of a member, and the preferences.
pub const MEMBER_FIELDS: &str = "id rowId email name firstName lastName phone avatar role status
  department isActive invitationPending permissions effectivePermissions lastLoginAt
  lastActivityAt preferences { language timezone notifications { email push sound } autoAssignment }";

/// `inviteMember` with all its arguments as variables.
pub const INVITE: &str = "mutation($email: String!, $role: Role!, $name: String, $department: String,
  $permissions: [Permission!]) {
  inviteMember(email: $email, role: $role, name: $name, department: $department,
               permissions: $permissions) {
    invitationToken expiresAt member { rowId email name role isActive invitationPending department permissions } } }";

/// `acceptInvitation`, answering `login`'s payload.
pub const ACCEPT: &str = "mutation($token: String!, $password: String!) {
  acceptInvitation(token: $token, password: $password) { accessToken userId tenantId role } }";

/// `login`, with an optional tenant.
pub const LOGIN: &str = "mutation($email: String!, $password: String!, $tenantId: UUID) {
  login(email: $email, password: $password, tenantId: $tenantId) { accessToken tenantId role } }";

impl TestApp {
    /// Runs `statement` as the owner with `$1` = `user`.
    pub async fn exec_for(&self, statement: &str, user: Uuid) -> anyhow::Result<()> {
        sqlx::query(statement)
            .bind(user)
            .execute(self.db.owner())
            .await?;
        Ok(())
    }

    /// Gives `user` the password `password` (argon2id, as the API would store it).
    pub async fn set_password(&self, user: Uuid, password: &str) -> anyhow::Result<()> {
        let hash = frontdesk_graphql::password::hash(password.to_owned()).await?;
        sqlx::query("UPDATE app.users SET password_hash = $2 WHERE id = $1")
            .bind(user)
            .bind(hash)
            .execute(self.db.owner())
            .await?;
        Ok(())
    }

    /// Member `id` with [`MEMBER_FIELDS`], read with `token`.
    pub async fn member(&self, token: &str, id: Uuid) -> anyhow::Result<Value> {
        let body = self
            .gql(
                token,
                &format!("query($id: ID!) {{ member(id: $id) {{ {MEMBER_FIELDS} }} }}"),
                json!({ "id": id }),
            )
            .await?;
        Ok(data(&body, "member").clone())
    }
}
