//! The command line: `frontdesk serve|migrate|seed|token|schema|maintenance|rotate-encryption-key`.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use frontdesk_db::crypto::{Key, Keyring};
use frontdesk_db::maintenance::Outcome;
use frontdesk_db::seed::SeedSpec;
use frontdesk_db::sqlx::postgres::PgPoolOptions;
use frontdesk_graphql::{Principal, Role, TokenKeys};
use secrecy::SecretString;
use uuid::Uuid;

use crate::config::{check_unknown_variables, Config, Environment, ServeConfig};
use crate::{open_database, serve, telemetry};

/// Frontdesk: the data platform and GraphQL API behind AI receptionists.
#[derive(Debug, Parser)]
#[command(name = "frontdesk", version, about)]
pub struct Cli {
    #[command(flatten)]
    config: Config,
    /// `serve`'s settings, so that a bare `frontdesk` serves too.
    #[command(flatten)]
    serve: ServeConfig,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API (the default command).
    Serve(ServeConfig),
    /// Apply database migrations and exit.
    Migrate,
    /// Generate deterministic demo/benchmark data.
    Seed(SeedArgs),
    /// Print a signed access token for a tenant and role.
    Token(TokenArgs),
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Run the retention pass once: archive idle conversations, delete deleted ones past the
    /// retention period, purge expired sessions, invitations and verification tokens.
    Maintenance,
    /// Re-encrypt every stored secret under FRONTDESK_ENCRYPTION_KEY (older keys in
    /// FRONTDESK_PREVIOUS_ENCRYPTION_KEYS); safe to run again after a crash.
    RotateEncryptionKey(RotateArgs),
}

#[derive(Debug, clap::Args)]
struct RotateArgs {
    /// Rows re-encrypted per transaction.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    batch_size: u32,
}

#[derive(Debug, clap::Args)]
struct SeedArgs {
    /// Number of tenants to create.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    tenants: u32,
    /// Customers per tenant; every other table scales from it.
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    customers: u32,
    /// Bookings per customer.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(0..=100))]
    bookings_per_customer: u32,
    /// Calls per booking.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=100))]
    calls_per_booking: u32,
    /// SMS messages per call.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=100))]
    sms_per_call: u32,
}

#[derive(Debug, clap::Args)]
struct TokenArgs {
    /// The tenant's id.
    #[arg(long)]
    tenant: Uuid,
    /// owner, admin, supervisor, agent or viewer.
    #[arg(long)]
    role: Role,
    /// The acting user (default: the tenant's oldest member with that role).
    #[arg(long)]
    user: Option<Uuid>,
}

/// Runs the command and turns any error into one line on stderr and a non-zero exit.
pub async fn run(cli: Cli) -> ExitCode {
    let Cli {
        config,
        serve: default_serve,
        command,
    } = cli;
    if let Err(e) = check_unknown_variables(std::env::vars().map(|(k, _)| k)) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let command = command.unwrap_or(Command::Serve(default_serve));
    // Only the server exports traces: one-off commands have no requests to trace.
    let traces = match command {
        Command::Serve(_) => telemetry::TraceExport::from_config(&config),
        _ => None,
    };
    let telemetry = match telemetry::init(config.log_format, traces.as_ref()) {
        Ok(telemetry) => telemetry,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let result = match command {
        Command::Serve(s) => serve::run(&config, &s).await,
        Command::Migrate => migrate(&config).await,
        Command::Seed(args) => seed(&config, args).await,
        Command::Token(args) => token(&config, args).await,
        Command::Schema => {
            print!("{}", frontdesk_graphql::sdl());
            Ok(())
        }
        Command::Maintenance => maintenance(&config).await,
        Command::RotateEncryptionKey(args) => rotate_encryption_key(&config, args).await,
    };
    // After the server has drained: the last requests' spans are exported before exit.
    telemetry.shutdown().await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The token keys: the configured secret, or in development a generated one kept in the data
/// directory so that `frontdesk token` and `frontdesk serve` agree.
pub fn token_keys(config: &Config) -> anyhow::Result<TokenKeys> {
    let ttl = chrono::Duration::minutes(i64::from(config.token_ttl_minutes));
    if let Some(secret) = &config.jwt_secret {
        use secrecy::ExposeSecret;
        anyhow::ensure!(
            secret.expose_secret().len() >= 32,
            "FRONTDESK_JWT_SECRET is too short: use at least 32 bytes (e.g. `openssl rand -hex 32`)"
        );
        return Ok(TokenKeys::new(secret, ttl));
    }
    anyhow::ensure!(
        config.environment == Environment::Development,
        "FRONTDESK_JWT_SECRET is not set: production needs a secret of at least 32 bytes \
         (e.g. `openssl rand -hex 32`), or set FRONTDESK_ENV=development for a generated one"
    );
    Ok(TokenKeys::new(&dev_secret(config)?, ttl))
}

fn dev_secret(config: &Config) -> anyhow::Result<SecretString> {
    let path = config.data_dir.join("dev-jwt-secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        if existing.trim().len() >= 32 {
            return Ok(SecretString::from(existing.trim().to_owned()));
        }
    }
    let secret = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
    write_dev_file(config, &path, &secret)?;
    Ok(SecretString::from(secret))
}

/// Writes a development secret into the data directory, readable by its owner only.
fn write_dev_file(config: &Config, path: &std::path::Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            config.data_dir.display()
        )
    })?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot write the development secret {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}

/// The keys that encrypt secrets at rest: `FRONTDESK_ENCRYPTION_KEY` seals, and the keys of
/// `FRONTDESK_PREVIOUS_ENCRYPTION_KEYS` still open what they sealed. Without the former,
/// development generates a key into the data directory (like the JWT secret) and production
/// refuses to start. Messages name the variable, never its value.
pub fn keyring(config: &Config) -> anyhow::Result<Keyring> {
    use secrecy::ExposeSecret;
    let mut previous = Vec::new();
    if let Some(list) = &config.previous_encryption_keys {
        let keys: Vec<&str> = list.expose_secret().split(',').map(str::trim).collect();
        for (i, text) in keys.iter().enumerate().filter(|(_, t)| !t.is_empty()) {
            let key = Key::parse(text).map_err(|e| {
                anyhow::anyhow!(
                    "FRONTDESK_PREVIOUS_ENCRYPTION_KEYS: key {} of {} is malformed: {e}",
                    i + 1,
                    keys.len()
                )
            })?;
            previous.push(key);
        }
    }
    if let Some(text) = &config.encryption_key {
        let key = Key::parse(text.expose_secret())
            .map_err(|e| anyhow::anyhow!("FRONTDESK_ENCRYPTION_KEY is malformed: {e}"))?;
        return Ok(Keyring::new(key, previous));
    }
    anyhow::ensure!(
        config.environment == Environment::Development,
        "FRONTDESK_ENCRYPTION_KEY is not set: production needs a 32-byte key to encrypt \
         integration and OAuth tokens at rest (e.g. `openssl rand -base64 32`), or set \
         FRONTDESK_ENV=development for a generated one"
    );
    Ok(Keyring::new(dev_key(config)?, previous))
}

/// The development encryption key, generated once into the data directory. A damaged file is
/// an error rather than replaced: a new key could not open what the old one sealed.
///
/// Processes starting together (replicas, tests) must agree on one key, so a new key is
/// written to a file of this process and then hard-linked into place, which fails if another
/// process got there first; the loser reads the winner's complete file.
fn dev_key(config: &Config) -> anyhow::Result<Key> {
    let path = config.data_dir.join("dev-encryption-key");
    let read = |path: &std::path::Path| -> anyhow::Result<Key> {
        let existing = std::fs::read_to_string(path).with_context(|| {
            format!(
                "cannot read the development encryption key {}",
                path.display()
            )
        })?;
        Key::parse(&existing).map_err(|e| {
            anyhow::anyhow!(
                "the development encryption key {} is damaged ({e}): restore it, or delete it \
                 to generate a new one (secrets stored under the old key will not open)",
                path.display()
            )
        })
    };
    if path.exists() {
        return read(&path);
    }
    let key = Key::generate();
    let mine = config
        .data_dir
        .join(format!("dev-encryption-key.{}", std::process::id()));
    write_dev_file(config, &mine, &key.to_base64())?;
    let linked = std::fs::hard_link(&mine, &path);
    let _ = std::fs::remove_file(&mine);
    match linked {
        Ok(()) => Ok(key),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read(&path),
        Err(e) => Err(anyhow::anyhow!(
            "cannot write the development encryption key {}: {e}",
            path.display()
        )),
    }
}

/// `frontdesk rotate-encryption-key`: re-seals every stored secret under the current key.
async fn rotate_encryption_key(config: &Config, args: RotateArgs) -> anyhow::Result<()> {
    let keyring = keyring(config)?;
    let handle = open_database(config).await?;
    let report = frontdesk_db::crypto::rotate::run(&handle.config, &keyring, args.batch_size).await;
    handle.shutdown().await;
    let report = report.context("key rotation stopped; fix the cause and run it again")?;
    println!("{report}");
    println!("every secret is now under key {}", keyring.current_id());
    Ok(())
}

async fn migrate(config: &Config) -> anyhow::Result<()> {
    let handle = open_database(config).await?;
    println!(
        "migrated: schema version {}",
        handle.db.readiness().await?.applied
    );
    handle.shutdown().await;
    Ok(())
}

async fn maintenance(config: &Config) -> anyhow::Result<()> {
    let handle = open_database(config).await?;
    let outcome = crate::maintenance::run_once(&handle.db).await;
    handle.shutdown().await;
    match outcome? {
        Outcome::Ran(report) => println!("maintenance: {report}"),
        Outcome::Skipped => {
            println!("maintenance: skipped, another process is running a pass (nothing done)")
        }
    }
    Ok(())
}

async fn seed(config: &Config, args: SeedArgs) -> anyhow::Result<()> {
    let keyring = keyring(config)?;
    let mut handle = open_database(config).await?;
    handle.db.set_keyring(keyring);
    let spec = SeedSpec {
        tenants: args.tenants,
        customers_per_tenant: args.customers,
        bookings_per_customer: args.bookings_per_customer,
        calls_per_booking: args.calls_per_booking,
        sms_per_call: args.sms_per_call,
    };
    // The owner's login registers each tenant's transaction for set-wise audit entries
    // (migration 0030); the seed's rows are still written as the runtime role.
    let owner = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(handle.config.owner_options()?)
        .await
        .context("connecting as the database owner failed")?;
    let report = frontdesk_db::seed::run_setwise(&handle.db, &owner, &spec).await;
    owner.close().await;
    handle.shutdown().await;
    let report = report.context("seeding failed")?;
    println!("{report}");
    Ok(())
}

async fn token(config: &Config, args: TokenArgs) -> anyhow::Result<()> {
    let keys = token_keys(config)?;
    let user_id = match args.user {
        Some(u) => u,
        None => {
            let handle = open_database(config).await?;
            let found = frontdesk_db::identity::member_with_role(
                &handle.db,
                args.tenant,
                args.role.as_str(),
            )
            .await;
            handle.shutdown().await;
            found?.with_context(|| {
                format!(
                    "tenant {} has no member with role {}: pass --user <uuid>",
                    args.tenant, args.role
                )
            })?
        }
    };
    println!(
        "{}",
        keys.mint(&Principal {
            user_id,
            tenant_id: args.tenant,
            role: args.role,
        })
    );
    Ok(())
}
