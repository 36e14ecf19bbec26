//! Every column that holds a sealed value, in one list.
//!
//! The write paths take a value's associated data from here ([`SealedColumn::seal`]), and the
//! key rotation walks exactly this list, so a new secret column is one constant plus a line in
//! [`ALL`]: it is then bound to its row like the others and rotated with them.
//!
//! Sealing a value for a row, e.g. an assistant's webhook secret:
//!
//! ```text
//! let keyring = db.keyring()?;
//! let sealed = sealed::ASSISTANT_SERVER_URL_SECRET.seal(keyring, tenant_id, assistant_id, secret)?;
//! // bind `sealed` (bytea) to server_url_secret_ciphertext of that row
//! ```

use uuid::Uuid;

use super::{Aad, CryptoError, Keyring};

/// Which column of the row holds the scope bound into the associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `tenant_id`: the row belongs to a tenant (row-level security by tenant).
    Tenant,
    /// `user_id`: the row belongs to a user across tenants (NextAuth accounts).
    User,
}

impl Scope {
    /// The column holding the scope.
    pub const fn column(self) -> &'static str {
        match self {
            Scope::Tenant => "tenant_id",
            Scope::User => "user_id",
        }
    }
}

/// A column of sealed values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealedColumn {
    /// The table, schema-qualified.
    pub table: &'static str,
    /// The `bytea` column holding the sealed value.
    pub column: &'static str,
    /// What the row belongs to.
    pub scope: Scope,
    /// A text column that held the same secret in clear before migration 0020, if any; the
    /// rotation seals what is left there into [`column`](Self::column) and clears it.
    pub legacy_plaintext: Option<&'static str>,
}

impl SealedColumn {
    /// The associated data of this column in row `row` of `scope` (its tenant or user).
    pub const fn aad(&self, scope: Uuid, row: Uuid) -> Aad<'static> {
        Aad {
            table: self.table,
            column: self.column,
            scope,
            row,
        }
    }

    /// `plaintext` sealed for this column of row `row` of `scope`, under the current key.
    pub fn seal(
        &self,
        keyring: &Keyring,
        scope: Uuid,
        row: Uuid,
        plaintext: &str,
    ) -> Result<Vec<u8>, CryptoError> {
        keyring.seal(&self.aad(scope, row), plaintext.as_bytes())
    }
}

/// `app.integrations.access_token_ciphertext`.
pub const INTEGRATION_ACCESS_TOKEN: SealedColumn = SealedColumn {
    table: "app.integrations",
    column: "access_token_ciphertext",
    scope: Scope::Tenant,
    legacy_plaintext: None,
};

/// `app.integrations.refresh_token_ciphertext`.
pub const INTEGRATION_REFRESH_TOKEN: SealedColumn = SealedColumn {
    table: "app.integrations",
    column: "refresh_token_ciphertext",
    scope: Scope::Tenant,
    legacy_plaintext: None,
};

/// `app.assistants.server_url_secret_ciphertext`: the secret the voice platform signs its
/// webhooks to the assistant's server URL with.
pub const ASSISTANT_SERVER_URL_SECRET: SealedColumn = SealedColumn {
    table: "app.assistants",
    column: "server_url_secret_ciphertext",
    scope: Scope::Tenant,
    legacy_plaintext: None,
};

/// `app.auth_accounts.access_token_ciphertext` (NextAuth OAuth access token).
pub const AUTH_ACCOUNT_ACCESS_TOKEN: SealedColumn = SealedColumn {
    table: "app.auth_accounts",
    column: "access_token_ciphertext",
    scope: Scope::User,
    legacy_plaintext: Some("access_token"),
};

/// `app.auth_accounts.refresh_token_ciphertext` (NextAuth OAuth refresh token).
pub const AUTH_ACCOUNT_REFRESH_TOKEN: SealedColumn = SealedColumn {
    table: "app.auth_accounts",
    column: "refresh_token_ciphertext",
    scope: Scope::User,
    legacy_plaintext: Some("refresh_token"),
};

/// `app.auth_accounts.id_token_ciphertext` (NextAuth OpenID Connect id token).
pub const AUTH_ACCOUNT_ID_TOKEN: SealedColumn = SealedColumn {
    table: "app.auth_accounts",
    column: "id_token_ciphertext",
    scope: Scope::User,
    legacy_plaintext: Some("id_token"),
};

/// Every sealed column: what the key rotation re-seals.
pub const ALL: &[SealedColumn] = &[
    INTEGRATION_ACCESS_TOKEN,
    INTEGRATION_REFRESH_TOKEN,
    ASSISTANT_SERVER_URL_SECRET,
    AUTH_ACCOUNT_ACCESS_TOKEN,
    AUTH_ACCOUNT_REFRESH_TOKEN,
    AUTH_ACCOUNT_ID_TOKEN,
];
