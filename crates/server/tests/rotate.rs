//! `frontdesk rotate-encryption-key` as an operator runs it: every sealed value of every
//! tenant (integration tokens, assistant secrets) and every user (NextAuth tokens, including
//! ones left in clear before migration 0020) ends up under the new key and opens with it for its
//! row; a second run changes nothing; a value under a key it was not given stops it with the
//! row, never the secret.

use std::process::{Command, Output};

use frontdesk_db::crypto::sealed::{
    self, SealedColumn, ASSISTANT_SERVER_URL_SECRET, AUTH_ACCOUNT_ACCESS_TOKEN,
    AUTH_ACCOUNT_ID_TOKEN, AUTH_ACCOUNT_REFRESH_TOKEN, INTEGRATION_ACCESS_TOKEN,
    INTEGRATION_REFRESH_TOKEN,
};
use frontdesk_db::crypto::{key_id_of, Key, Keyring};
use frontdesk_db::sqlx::{self, Row};
use frontdesk_db::testing::TestDb;
use secrecy::ExposeSecret;
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_frontdesk");

fn old_key() -> Key {
    Key::from_bytes([0x11; 32])
}

fn new_key() -> Key {
    Key::from_bytes([0x22; 32])
}

/// 64 hex digits of a key made of one repeated byte.
fn hex_of(byte: u8) -> String {
    format!("{byte:02x}").repeat(32)
}

/// `frontdesk rotate-encryption-key` against `db`, with `key` current and `previous` older.
fn rotate(db: &TestDb, key: &str, previous: Option<&str>) -> Output {
    let mut cmd = Command::new(BIN);
    for (k, _) in std::env::vars() {
        if k.starts_with("FRONTDESK_") || k == "DATABASE_URL" {
            cmd.env_remove(k);
        }
    }
    cmd.args(["rotate-encryption-key", "--batch-size", "2"])
        .env("RUST_LOG", "warn")
        .env("DATABASE_URL", db.config.owner_url.expose_secret())
        .env("FRONTDESK_ENCRYPTION_KEY", key)
        .env(
            "FRONTDESK_DATA_DIR",
            std::env::temp_dir().join("frontdesk-rotate-test"),
        );
    if let Some(pw) = &db.config.app_password {
        cmd.env("FRONTDESK_APP_DB_PASSWORD", pw.expose_secret());
    }
    if let Some(p) = previous {
        cmd.env("FRONTDESK_PREVIOUS_ENCRYPTION_KEYS", p);
    }
    cmd.output().expect("run frontdesk")
}

/// One stored sealed value: where it is and its bytes.
#[derive(Debug, Clone, PartialEq)]
struct Value {
    column: SealedColumn,
    scope: Uuid,
    row: Uuid,
    bytes: Vec<u8>,
}

/// Every sealed value in the database, as the owner reads it.
async fn sealed_values(db: &TestDb) -> anyhow::Result<Vec<Value>> {
    let mut out = vec![];
    for column in sealed::ALL {
        let sql = format!(
            "SELECT {}, id, {} FROM {} WHERE {} IS NOT NULL ORDER BY id",
            column.scope.column(),
            column.column,
            column.table,
            column.column
        );
        for row in sqlx::query(&sql).fetch_all(db.owner()).await? {
            out.push(Value {
                column: *column,
                scope: row.get(0),
                row: row.get(1),
                bytes: row.get(2),
            });
        }
    }
    Ok(out)
}

/// What each place should hold in clear, by (column, row).
type Expected = Vec<(SealedColumn, Uuid, String)>;

/// Two tenants with an integration (both tokens) and an assistant secret each, sealed under
/// the old key, one integration already under the new key, and a user with a Google account
/// sealed under the old key plus another whose tokens are still in clear from before 0020.
async fn arrange(db: &TestDb) -> anyhow::Result<(Expected, Uuid)> {
    let old = Keyring::new(old_key(), vec![]);
    let new = Keyring::new(new_key(), vec![]);
    let owner = db.owner();
    let mut expected = Expected::new();
    let mut seal = |ring: &Keyring, c: SealedColumn, scope: Uuid, row: Uuid, plain: &str| {
        expected.push((c, row, plain.to_owned()));
        c.seal(ring, scope, row, plain).expect("seal")
    };
    let mut already_new = Uuid::nil();
    for (i, platform) in ["google_ads", "meta_ads", "linkedin_ads"]
        .iter()
        .enumerate()
    {
        let tenant = Uuid::new_v4();
        sqlx::query("INSERT INTO app.tenants (id, name) VALUES ($1, 'Rotation')")
            .bind(tenant)
            .execute(owner)
            .await?;
        let (integration, assistant) = (Uuid::new_v4(), Uuid::new_v4());
        let ring = if i == 2 { &new } else { &old };
        if i == 2 {
            already_new = integration;
        }
        let access = seal(
            ring,
            INTEGRATION_ACCESS_TOKEN,
            tenant,
            integration,
            &format!("access-{i}"),
        );
        let refresh = seal(
            ring,
            INTEGRATION_REFRESH_TOKEN,
            tenant,
            integration,
            &format!("refresh-{i}"),
        );
        sqlx::query(
            "INSERT INTO app.integrations (tenant_id, id, platform, connected, account_id,
               access_token_ciphertext, refresh_token_ciphertext) VALUES ($1, $2, $3, true, 'x', $4, $5)",
        )
        .bind(tenant)
        .bind(integration)
        .bind(platform)
        .bind(access)
        .bind(refresh)
        .execute(owner)
        .await?;
        let secret = seal(
            &old,
            ASSISTANT_SERVER_URL_SECRET,
            tenant,
            assistant,
            &format!("hook-{i}"),
        );
        sqlx::query(
            "INSERT INTO app.assistants (tenant_id, id, name, server_url_secret_ciphertext)
             VALUES ($1, $2, 'Receptionist', $3)",
        )
        .bind(tenant)
        .bind(assistant)
        .bind(secret)
        .execute(owner)
        .await?;
    }

    let (sealed_user, clear_user) = (Uuid::new_v4(), Uuid::new_v4());
    for u in [sealed_user, clear_user] {
        sqlx::query("INSERT INTO app.users (id, email) VALUES ($1, $2)")
            .bind(u)
            .bind(format!("{u}@example.com"))
            .execute(owner)
            .await?;
    }
    let account = Uuid::new_v4();
    let access = seal(
        &old,
        AUTH_ACCOUNT_ACCESS_TOKEN,
        sealed_user,
        account,
        "oauth-access",
    );
    let id_token = seal(
        &old,
        AUTH_ACCOUNT_ID_TOKEN,
        sealed_user,
        account,
        "oauth-id",
    );
    sqlx::query(
        "INSERT INTO app.auth_accounts (id, user_id, type, provider, provider_account_id,
           access_token_ciphertext, id_token_ciphertext) VALUES ($1, $2, 'oidc', 'google', '1', $3, $4)",
    )
    .bind(account)
    .bind(sealed_user)
    .bind(access)
    .bind(id_token)
    .execute(owner)
    .await?;
    // A row written before migration 0020, tokens in clear: the constraint that now refuses
    // them is lifted for the insert, as if the row were older than it.
    let legacy = Uuid::new_v4();
    let mut tx = owner.begin().await?;
    sqlx::query(
        "ALTER TABLE app.auth_accounts DROP CONSTRAINT auth_accounts_no_clear_tokens_check",
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO app.auth_accounts (id, user_id, type, provider, provider_account_id,
           access_token, refresh_token) VALUES ($1, $2, 'oauth', 'github', '2', 'gho_clear', 'ghr_clear')",
    )
    .bind(legacy)
    .bind(clear_user)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "ALTER TABLE app.auth_accounts ADD CONSTRAINT auth_accounts_no_clear_tokens_check
           CHECK (access_token IS NULL AND refresh_token IS NULL AND id_token IS NULL) NOT VALID",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    expected.push((AUTH_ACCOUNT_ACCESS_TOKEN, legacy, "gho_clear".into()));
    expected.push((AUTH_ACCOUNT_REFRESH_TOKEN, legacy, "ghr_clear".into()));
    Ok((expected, already_new))
}

fn stdout_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn rotation_reseals_everything_under_the_new_key_and_a_rerun_changes_nothing(
) -> anyhow::Result<()> {
    let db = TestDb::new().await?;
    let (expected, already_new) = arrange(&db).await?;
    let before = sealed_values(&db).await?;
    let untouched = before
        .iter()
        .find(|v| v.row == already_new && v.column == INTEGRATION_ACCESS_TOKEN)
        .cloned()
        .expect("the value already under the new key");

    let out = rotate(&db, &hex_of(0x22), Some(&old_key().to_base64()));
    assert!(out.status.success(), "{}", stderr_of(&out));
    // 2 tenants × 3 values + the third tenant's assistant + 2 sealed + 2 clear NextAuth tokens.
    assert!(
        stdout_of(&out).contains("re-encrypted 11 values"),
        "{}",
        stdout_of(&out)
    );

    let after = sealed_values(&db).await?;
    assert_eq!(after.len(), expected.len());
    let only_new = Keyring::new(new_key(), vec![]);
    for v in &after {
        assert_eq!(key_id_of(&v.bytes), Some(new_key().id()), "{v:?}");
        let plain = only_new.open(&v.column.aad(v.scope, v.row), &v.bytes)?;
        let want = expected
            .iter()
            .find(|(c, row, _)| *c == v.column && *row == v.row)
            .map(|(_, _, p)| p.as_bytes())
            .expect("expected value");
        assert_eq!(plain.as_slice(), want, "{v:?}");
    }
    assert!(
        after.contains(&untouched),
        "a value already under the new key is left alone"
    );
    let clear: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM app.auth_accounts
          WHERE access_token IS NOT NULL OR refresh_token IS NOT NULL OR id_token IS NOT NULL",
    )
    .fetch_one(db.owner())
    .await?;
    assert_eq!(clear, 0, "no token left in clear");

    // Rerun: nothing selected, nothing written.
    let out = rotate(&db, &hex_of(0x22), Some(&old_key().to_base64()));
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains("re-encrypted 0 values"),
        "{}",
        stdout_of(&out)
    );
    assert_eq!(sealed_values(&db).await?, after);
    db.drop_database().await?;
    Ok(())
}

#[tokio::test]
async fn a_value_under_a_key_it_was_not_given_stops_the_rotation_naming_the_row(
) -> anyhow::Result<()> {
    let db = TestDb::new().await?;
    arrange(&db).await?;
    let out = rotate(&db, &hex_of(0x22), None);
    let err = stderr_of(&out);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains(&old_key().id().to_string()), "{err}");
    assert!(err.contains("FRONTDESK_PREVIOUS_ENCRYPTION_KEYS"), "{err}");
    assert!(
        !err.contains("access-0") && !err.contains("gho_clear"),
        "{err}"
    );
    assert!(!err.contains(&hex_of(0x22)), "the key leaked: {err}");
    db.drop_database().await?;
    Ok(())
}
