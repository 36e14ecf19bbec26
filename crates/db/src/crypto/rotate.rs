//! `frontdesk rotate-encryption-key`: re-seal every sealed value under the current key.
//!
//! It walks [`sealed::ALL`](super::sealed::ALL) as the owner login (`DATABASE_URL`), in
//! batches of rows, each batch one short transaction: the rows are locked (`FOR UPDATE`),
//! opened with whichever key of the keyring sealed them, sealed again under the current key
//! and written back with one `UPDATE` per column. Rows already under the current key are not
//! selected at all (the key id, the 8 bytes after the version byte, is compared in SQL), so the command is
//! idempotent: after a crash it is simply run again and continues where it stopped, and a
//! second run finds nothing to do.
//!
//! Row-level security binds the owner too (every table forces it), so tenant tables are
//! walked tenant by tenant in that tenant's context, like any request; migration 0020 lets the
//! owner list the tenants and reach the NextAuth rows, which belong to users, not tenants. Each
//! statement also names its tenant, so a superuser owner (who bypasses the policies) does
//! exactly the same.
//!
//! The same pass seals what migration 0020 found in clear: NextAuth tokens written before it
//! sit in their old text columns until this runs, and it moves them into the sealed columns.
//!
//! A value that no key of the keyring opens stops the command with the row it is in (never
//! its content): the operator must add the missing key to `FRONTDESK_PREVIOUS_ENCRYPTION_KEYS`.

use std::fmt;

use sqlx::{Connection, PgConnection, Row};
use uuid::Uuid;

use super::sealed::{self, Scope, SealedColumn};
use super::{CryptoError, Keyring};
use crate::{DbConfig, DbError};

/// What a rotation did.
#[derive(Debug, Clone, Default)]
pub struct RotationReport {
    /// Values re-sealed (or sealed from clear) per column, in [`sealed::ALL`] order.
    pub columns: Vec<(SealedColumn, u64)>,
    /// Tenants walked.
    pub tenants: u64,
}

impl RotationReport {
    /// Values written in total.
    pub fn resealed(&self) -> u64 {
        self.columns.iter().map(|(_, n)| n).sum()
    }
}

impl fmt::Display for RotationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "re-encrypted {} values across {} tenants",
            self.resealed(),
            self.tenants
        )?;
        for (c, n) in &self.columns {
            write!(f, "\n  {}.{}: {n}", c.table, c.column)?;
        }
        Ok(())
    }
}

/// Why a rotation stopped. Batches committed before it stay done.
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    /// The database failed or refused.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A stored value could not be opened.
    #[error("{table}.{column} of row {row}: {error}")]
    Value {
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
        /// The row's id.
        row: Uuid,
        /// Why it did not open.
        error: CryptoError,
    },
}

impl From<sqlx::Error> for RotateError {
    fn from(e: sqlx::Error) -> Self {
        RotateError::Db(e.into())
    }
}

/// Re-seals every sealed value of the database `cfg` names under `keyring`'s current key,
/// `batch` rows per transaction.
#[tracing::instrument(skip_all, fields(key = %keyring.current_id()))]
pub async fn run(
    cfg: &DbConfig,
    keyring: &Keyring,
    batch: u32,
) -> Result<RotationReport, RotateError> {
    let mut conn = PgConnection::connect_with(&cfg.owner_options()?).await?;
    let result = rotate(&mut conn, keyring, i64::from(batch.max(1))).await;
    let _ = conn.close().await;
    result
}

async fn rotate(
    conn: &mut PgConnection,
    keyring: &Keyring,
    batch: i64,
) -> Result<RotationReport, RotateError> {
    let tenants: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM app.tenants ORDER BY id")
        .fetch_all(&mut *conn)
        .await?;
    let mut report = RotationReport {
        columns: sealed::ALL.iter().map(|c| (*c, 0)).collect(),
        tenants: tenants.len() as u64,
    };
    // A table's sealed columns go together: one pass, one UPDATE per batch, and a row's
    // clear-text leftovers are all cleared at once (the CHECK of 0020 refuses a row that
    // still has any).
    let mut tables: Vec<&'static str> = sealed::ALL.iter().map(|c| c.table).collect();
    tables.dedup();
    for table in tables {
        let columns: Vec<SealedColumn> = sealed::ALL
            .iter()
            .filter(|c| c.table == table)
            .copied()
            .collect();
        let mut done = vec![0u64; columns.len()];
        let scopes: Vec<Option<Uuid>> = match columns[0].scope {
            Scope::Tenant => tenants.iter().copied().map(Some).collect(),
            Scope::User => vec![None],
        };
        for tenant in scopes {
            let counts = rotate_table(conn, keyring, &columns, tenant, batch).await?;
            done.iter_mut().zip(counts).for_each(|(d, n)| *d += n);
        }
        for (c, n) in columns.iter().zip(done) {
            if let Some(entry) = report.columns.iter_mut().find(|(x, _)| x == c) {
                entry.1 += n;
            }
            if n > 0 {
                tracing::info!(table = c.table, column = c.column, values = n, "re-sealed");
            }
        }
    }
    Ok(report)
}

/// Re-seals the sealed `columns` of one table (of one tenant's rows, for tenant tables) batch
/// by batch; returns how many values it wrote per column.
async fn rotate_table(
    conn: &mut PgConnection,
    keyring: &Keyring,
    columns: &[SealedColumn],
    tenant: Option<Uuid>,
    batch: i64,
) -> Result<Vec<u64>, RotateError> {
    let (table, scope) = (columns[0].table, columns[0].scope.column());
    // Table and column names come from the constant list of `sealed`, never from input.
    let mut selected = Vec::new();
    let mut pending = Vec::new();
    let mut sets = Vec::new();
    let mut unnested = vec!["$1::uuid[]".to_owned()];
    let mut names = vec!["id".to_owned()];
    for (i, c) in columns.iter().enumerate() {
        let column = c.column;
        let legacy = c.legacy_plaintext.unwrap_or("NULL::text");
        selected.push(format!("{column}, {legacy}"));
        pending.push(format!(
            "({column} IS NOT NULL AND substring({column} FROM 2 FOR 8) IS DISTINCT FROM $2)"
        ));
        if let Some(l) = c.legacy_plaintext {
            pending.push(format!("{l} IS NOT NULL"));
            sets.push(format!("{l} = NULL"));
        }
        sets.push(format!("{column} = u.c{i}"));
        unnested.push(format!("${}::bytea[]", i + 3));
        names.push(format!("c{i}"));
    }
    // User-owned tables have no tenant_id: their predicate only types the (null) parameter.
    let (of_tenant, t_of_tenant) = match tenant {
        Some(_) => ("tenant_id = $1", "t.tenant_id = $2"),
        None => ("$1::uuid IS NULL", "$2::uuid IS NULL"),
    };
    let select = format!(
        "SELECT id, {scope}, {} FROM {table} WHERE {of_tenant} AND ({})
         ORDER BY id LIMIT $3 FOR UPDATE",
        selected.join(", "),
        pending.join(" OR "),
    );
    // The update's parameters: $1 the ids, $2 the tenant, $3… one array per column.
    let update = format!(
        "UPDATE {table} t SET {} FROM unnest({}) AS u({}) WHERE t.id = u.id AND {t_of_tenant}",
        sets.join(", "),
        unnested.join(", "),
        names.join(", "),
    );
    let current = keyring.current_id().0.to_vec();
    let mut written = vec![0u64; columns.len()];
    loop {
        let mut tx = conn.begin().await?;
        if let Some(t) = tenant {
            sqlx::query("SELECT set_config('frontdesk.tenant_id', $1, true)")
                .bind(t.to_string())
                .execute(&mut *tx)
                .await?;
        }
        let rows = sqlx::query(&select)
            .bind(tenant)
            .bind(&current)
            .bind(batch)
            .fetch_all(&mut *tx)
            .await?;
        if rows.is_empty() {
            tx.commit().await?;
            return Ok(written);
        }
        let mut ids = Vec::with_capacity(rows.len());
        let mut values: Vec<Vec<Option<Vec<u8>>>> = vec![Vec::new(); columns.len()];
        for row in &rows {
            let id: Uuid = row.try_get(0)?;
            let owner: Uuid = row.try_get(1)?;
            for (i, c) in columns.iter().enumerate() {
                let stored: Option<Vec<u8>> = row.try_get(2 + 2 * i)?;
                let clear: Option<String> = row.try_get(3 + 2 * i)?;
                let (value, changed) = reseal(keyring, c, owner, id, stored, clear)?;
                values[i].push(value);
                written[i] += u64::from(changed);
            }
            ids.push(id);
        }
        let mut q = sqlx::query(&update).bind(&ids).bind(tenant);
        for column in &values {
            q = q.bind(column);
        }
        q.execute(&mut *tx).await?;
        tx.commit().await?;
    }
}

/// The value one column of row `id` should hold under the current key, and whether that
/// differs from what it holds. A sealed value wins over a clear leftover: it was written later.
fn reseal(
    keyring: &Keyring,
    c: &SealedColumn,
    owner: Uuid,
    id: Uuid,
    stored: Option<Vec<u8>>,
    clear: Option<String>,
) -> Result<(Option<Vec<u8>>, bool), RotateError> {
    let aad = c.aad(owner, id);
    let fail = |error| RotateError::Value {
        table: c.table,
        column: c.column,
        row: id,
        error,
    };
    Ok(match (stored, clear) {
        (Some(v), clear) => match keyring.reseal(&aad, &v).map_err(fail)? {
            Some(new) => (Some(new), true),
            // Already current; a clear leftover beside it is dropped, which counts as a change.
            None => (Some(v), clear.is_some()),
        },
        (None, Some(text)) => {
            let text = zeroize::Zeroizing::new(text);
            (
                Some(keyring.seal(&aad, text.as_bytes()).map_err(fail)?),
                true,
            )
        }
        (None, None) => (None, false),
    })
}
