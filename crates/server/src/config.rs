//! Typed configuration from flags and environment variables.
//!
//! Secrets are wrapped in [`SecretString`] so they cannot be printed by accident, and
//! unknown `FRONTDESK_*` variables are refused: a typo must not silently fall back to a
//! default (Apollo Router does the same for unknown configuration keys).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use frontdesk_graphql::RateLimits;
use secrecy::SecretString;

/// Every `FRONTDESK_*` variable the binary reads.
pub const KNOWN_VARIABLES: &[&str] = &[
    "FRONTDESK_APP_DATABASE_URL",
    "FRONTDESK_APP_DB_PASSWORD",
    "FRONTDESK_READ_DATABASE_URL",
    "FRONTDESK_READ_MAX_LAG_MS",
    "FRONTDESK_JWT_SECRET",
    "FRONTDESK_ENCRYPTION_KEY",
    "FRONTDESK_PREVIOUS_ENCRYPTION_KEYS",
    "FRONTDESK_ENV",
    "FRONTDESK_DATA_DIR",
    "FRONTDESK_PG_BIN_DIR",
    "FRONTDESK_TOKEN_TTL_MINUTES",
    "FRONTDESK_DB_MAX_CONNECTIONS",
    "FRONTDESK_STATEMENT_TIMEOUT_MS",
    "FRONTDESK_DATABASE_DISTRIBUTED",
    "FRONTDESK_LOG_FORMAT",
    "FRONTDESK_LISTEN",
    "FRONTDESK_SEED_DEMO",
    "FRONTDESK_MAINTENANCE_INTERVAL_SECONDS",
    "FRONTDESK_TRUSTED_DOCUMENTS",
    "FRONTDESK_WS_KEEPALIVE_SECONDS",
    "FRONTDESK_COMPILED_READS",
    "FRONTDESK_RATE_LIMIT_TOKEN_RPS",
    "FRONTDESK_RATE_LIMIT_TENANT_RPS",
    "FRONTDESK_RATE_LIMIT_TOKEN_COMPLEXITY_PER_MINUTE",
    "FRONTDESK_RATE_LIMIT_TENANT_COMPLEXITY_PER_MINUTE",
    "FRONTDESK_RATE_LIMIT_TENANT_SUBSCRIPTIONS",
];

/// Variables of the test harness, which share the prefix but are not the binary's.
const TEST_PREFIX: &str = "FRONTDESK_TEST_";

/// Where the process runs: development allows generated secrets, production does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Environment {
    /// Local work: a generated JWT secret and encryption key kept in the data directory are
    /// acceptable.
    Development,
    /// Real traffic: every secret must be configured.
    Production,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Settings shared by every command.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// PostgreSQL URL of the owner login (runs migrations). Without it an embedded cluster is started.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true, value_parser = secret)]
    pub database_url: Option<SecretString>,
    /// PostgreSQL URL for the runtime role (default: DATABASE_URL's server as user frontdesk_app).
    #[arg(long, env = "FRONTDESK_APP_DATABASE_URL", hide_env_values = true, global = true, value_parser = secret)]
    pub app_database_url: Option<SecretString>,
    /// Password given to the runtime role frontdesk_app at migration time.
    #[arg(long, env = "FRONTDESK_APP_DB_PASSWORD", hide_env_values = true, global = true, value_parser = secret)]
    pub app_db_password: Option<SecretString>,
    /// Read replicas (streaming standbys) that serve queries, comma-separated PostgreSQL URLs;
    /// one without a user logs in as the runtime role (FRONTDESK_APP_DB_PASSWORD).
    #[arg(long, env = "FRONTDESK_READ_DATABASE_URL", hide_env_values = true, global = true, value_parser = secret)]
    pub read_database_url: Option<SecretString>,
    /// How far (in milliseconds) a read replica may trail the primary and still serve queries.
    #[arg(long, env = "FRONTDESK_READ_MAX_LAG_MS", default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(1..=3_600_000), global = true)]
    pub read_max_lag_ms: u64,
    /// HS256 secret for access tokens (at least 32 bytes). Required in production.
    #[arg(long, env = "FRONTDESK_JWT_SECRET", hide_env_values = true, global = true, value_parser = secret)]
    pub jwt_secret: Option<SecretString>,
    /// 32-byte key encrypting secrets at rest (64 hex digits or base64). Required in production.
    #[arg(long, env = "FRONTDESK_ENCRYPTION_KEY", hide_env_values = true, global = true, value_parser = secret)]
    pub encryption_key: Option<SecretString>,
    /// Earlier encryption keys, comma-separated: still decrypt, never encrypt (key rotation).
    #[arg(long, env = "FRONTDESK_PREVIOUS_ENCRYPTION_KEYS", hide_env_values = true, global = true, value_parser = secret)]
    pub previous_encryption_keys: Option<SecretString>,
    /// development or production.
    #[arg(
        long = "env",
        env = "FRONTDESK_ENV",
        value_enum,
        default_value = "development",
        global = true
    )]
    pub environment: Environment,
    /// Directory for the embedded cluster and the development secret and key.
    #[arg(
        long,
        env = "FRONTDESK_DATA_DIR",
        default_value = ".frontdesk",
        global = true
    )]
    pub data_dir: PathBuf,
    /// Directory holding initdb/postgres/pg_ctl (default: PATH, then /usr/lib/postgresql/*/bin).
    #[arg(long, env = "FRONTDESK_PG_BIN_DIR", global = true)]
    pub pg_bin_dir: Option<PathBuf>,
    /// Lifetime of minted access tokens, in minutes.
    #[arg(long, env = "FRONTDESK_TOKEN_TTL_MINUTES", default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=43_200), global = true)]
    pub token_ttl_minutes: u32,
    /// Runtime connection-pool size.
    #[arg(long, env = "FRONTDESK_DB_MAX_CONNECTIONS", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1000), global = true)]
    pub db_max_connections: u32,
    /// Server-side timeout for every runtime statement, in milliseconds.
    #[arg(long, env = "FRONTDESK_STATEMENT_TIMEOUT_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=600_000), global = true)]
    pub statement_timeout_ms: u64,
    /// The database is distributed with Citus (docs/scaling.md): send the request context as
    /// `SET LOCAL` too, so it reaches the worker nodes.
    #[arg(long, env = "FRONTDESK_DATABASE_DISTRIBUTED", action = clap::ArgAction::Set, default_value_t = false, global = true)]
    pub database_distributed: bool,
    /// text or json.
    #[arg(
        long,
        env = "FRONTDESK_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,
    /// OTLP/HTTP collector (e.g. http://localhost:4318): `serve` exports traces to
    /// `<url>/v1/traces`. Unset, no trace is exported.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT", value_parser = otlp_url, global = true)]
    pub otlp_endpoint: Option<String>,
    /// The full URL traces go to (instead of OTEL_EXPORTER_OTLP_ENDPOINT's `/v1/traces`).
    #[arg(long, env = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", value_parser = otlp_url, global = true)]
    pub otlp_traces_endpoint: Option<String>,
    /// `service.name` of the exported traces (default: frontdesk).
    #[arg(long, env = "OTEL_SERVICE_NAME", global = true)]
    pub service_name: Option<String>,
}

impl Config {
    /// Where `serve` sends traces, or `None` when no endpoint is configured (the signal's
    /// own variable wins, as the OpenTelemetry specification says).
    pub fn otlp_traces_url(&self) -> Option<String> {
        let signal = self.otlp_traces_endpoint.clone().filter(|u| !u.is_empty());
        signal.or_else(|| {
            self.otlp_endpoint
                .as_deref()
                .filter(|u| !u.is_empty())
                .map(|base| format!("{}/v1/traces", base.trim_end_matches('/')))
        })
    }
}

/// Settings of `frontdesk serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address to listen on.
    #[arg(long, env = "FRONTDESK_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Seed the demo tenant when it is missing (default: only in development).
    #[arg(long, env = "FRONTDESK_SEED_DEMO", action = clap::ArgAction::Set)]
    pub seed_demo: Option<bool>,
    /// Seconds between retention passes (the first runs at start-up); 0 turns the timer off.
    #[arg(long, env = "FRONTDESK_MAINTENANCE_INTERVAL_SECONDS", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(0..=604_800))]
    pub maintenance_interval_seconds: u64,
    /// A manifest of trusted documents ({"<id>": "<document>"}, graphql-codegen or Relay):
    /// when set, only these documents run.
    #[arg(long, env = "FRONTDESK_TRUSTED_DOCUMENTS")]
    pub trusted_documents: Option<PathBuf>,
    /// Seconds between WebSocket pings; a peer that misses a pong for as long is closed.
    #[arg(long, env = "FRONTDESK_WS_KEEPALIVE_SECONDS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub ws_keepalive_seconds: u64,
    /// Answer reads whose every field maps to the entity declarations with one SQL statement
    /// that builds the JSON in PostgreSQL (`false` sends every read through the resolvers).
    #[arg(long, env = "FRONTDESK_COMPILED_READS", default_value_t = true, action = clap::ArgAction::Set)]
    pub compiled_reads: bool,
    /// Rate limits (0 turns one off).
    #[command(flatten)]
    pub rate_limits: RateLimitConfig,
}

/// Rate limits of `frontdesk serve` (see `frontdesk_graphql::ratelimit`): requests and
/// complexity are counted per replica, subscriptions across all of them.
#[derive(Debug, Clone, Args)]
pub struct RateLimitConfig {
    /// Requests per second of one member's tokens, per replica; 0 = no limit.
    #[arg(long = "rate-limit-token-rps", env = "FRONTDESK_RATE_LIMIT_TOKEN_RPS", default_value_t = RateLimits::default().token_requests_per_second)]
    pub token_rps: u32,
    /// Requests per second of a tenant, per replica; 0 = no limit.
    #[arg(long = "rate-limit-tenant-rps", env = "FRONTDESK_RATE_LIMIT_TENANT_RPS", default_value_t = RateLimits::default().tenant_requests_per_second)]
    pub tenant_rps: u32,
    /// Query complexity per minute of one member's tokens, per replica; 0 = no limit.
    #[arg(long = "rate-limit-token-complexity-per-minute", env = "FRONTDESK_RATE_LIMIT_TOKEN_COMPLEXITY_PER_MINUTE", default_value_t = RateLimits::default().token_complexity_per_minute)]
    pub token_complexity_per_minute: u32,
    /// Query complexity per minute of a tenant, per replica; 0 = no limit.
    #[arg(long = "rate-limit-tenant-complexity-per-minute", env = "FRONTDESK_RATE_LIMIT_TENANT_COMPLEXITY_PER_MINUTE", default_value_t = RateLimits::default().tenant_complexity_per_minute)]
    pub tenant_complexity_per_minute: u32,
    /// Live subscriptions of a tenant across every replica; 0 = no limit.
    #[arg(long = "rate-limit-tenant-subscriptions", env = "FRONTDESK_RATE_LIMIT_TENANT_SUBSCRIPTIONS", default_value_t = RateLimits::default().tenant_subscriptions)]
    pub tenant_subscriptions: u32,
}

impl RateLimitConfig {
    /// The limits the schema enforces.
    pub fn limits(&self) -> RateLimits {
        RateLimits {
            token_requests_per_second: self.token_rps,
            tenant_requests_per_second: self.tenant_rps,
            token_complexity_per_minute: self.token_complexity_per_minute,
            tenant_complexity_per_minute: self.tenant_complexity_per_minute,
            tenant_subscriptions: self.tenant_subscriptions,
        }
    }
}

impl ServeConfig {
    /// How often `serve` runs the retention pass, or `None` when the timer is off.
    pub fn maintenance_interval(&self) -> Option<std::time::Duration> {
        (self.maintenance_interval_seconds > 0)
            .then(|| std::time::Duration::from_secs(self.maintenance_interval_seconds))
    }
}

/// An http(s) URL; empty means unset (orchestrators often export empty variables).
fn otlp_url(s: &str) -> Result<String, String> {
    if s.is_empty() {
        return Ok(String::new());
    }
    match url::Url::parse(s) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => Ok(s.to_owned()),
        _ => Err("expected an http:// or https:// URL such as http://localhost:4318".to_owned()),
    }
}

fn secret(s: &str) -> Result<SecretString, String> {
    Ok(SecretString::from(s.to_owned()))
}

/// Refuses `FRONTDESK_*` variables the binary does not know, suggesting the closest name.
pub fn check_unknown_variables<I>(vars: I) -> Result<(), String>
where
    I: IntoIterator<Item = String>,
{
    for name in vars {
        if !name.starts_with("FRONTDESK_")
            || name.starts_with(TEST_PREFIX)
            || KNOWN_VARIABLES.contains(&name.as_str())
        {
            continue;
        }
        let closest = KNOWN_VARIABLES
            .iter()
            .min_by_key(|k| strsim::levenshtein(k, &name))
            .copied()
            .unwrap_or_default();
        return Err(format!(
            "unknown configuration variable {name} (did you mean {closest}?); unset it or fix its name"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_variable_is_refused_with_a_suggestion() {
        let err = check_unknown_variables(["FRONTDESK_LISTN".to_owned()]).expect_err("accepted");
        assert!(err.contains("FRONTDESK_LISTEN"), "{err}");
    }

    #[test]
    fn the_traces_url_is_the_signal_endpoint_or_the_base_with_its_path() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            config: Config,
        }
        let url = |args: &[&str]| {
            let cli = Cli::try_parse_from(std::iter::once("frontdesk").chain(args.iter().copied()))
                .expect("parses");
            cli.config.otlp_traces_url()
        };
        assert_eq!(url(&[]), None);
        assert_eq!(url(&["--otlp-endpoint", ""]), None);
        assert_eq!(
            url(&["--otlp-endpoint", "http://collector:4318/"]).as_deref(),
            Some("http://collector:4318/v1/traces")
        );
        assert_eq!(
            url(&[
                "--otlp-endpoint",
                "http://collector:4318",
                "--otlp-traces-endpoint",
                "https://traces.example/in"
            ])
            .as_deref(),
            Some("https://traces.example/in")
        );
        assert!(Cli::try_parse_from(["frontdesk", "--otlp-endpoint", "collector:4318"]).is_err());
    }

    #[test]
    fn known_test_and_foreign_variables_pass() {
        let vars = [
            "FRONTDESK_LISTEN",
            "FRONTDESK_TEST_DATABASE_URL",
            "PATH",
            "DATABASE_URL",
        ];
        assert!(check_unknown_variables(vars.map(String::from)).is_ok());
    }
}
