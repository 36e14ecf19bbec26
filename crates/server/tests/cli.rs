//! The `frontdesk` binary as an operator meets it: bad configuration is one clear line and a
//! non-zero exit, never a panic; the embedded default comes up, answers and shuts down.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_frontdesk");

/// The binary with a clean `FRONTDESK_*`/`DATABASE_URL` environment.
fn frontdesk() -> Command {
    let mut cmd = Command::new(BIN);
    for (k, _) in std::env::vars() {
        if k.starts_with("FRONTDESK_") || k == "DATABASE_URL" {
            cmd.env_remove(k);
        }
    }
    cmd.env("RUST_LOG", "warn");
    // Never write a development secret or cluster into the source tree.
    cmd.env("FRONTDESK_DATA_DIR", temp_dir("data"));
    cmd
}

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts a failure with one `error:` line mentioning `needle` and no panic.
fn assert_clear_failure(out: &Output, needle: &str) {
    let err = stderr_of(out);
    assert!(
        !out.status.success(),
        "expected failure, got success: {err}"
    );
    assert!(!err.contains("panicked"), "panicked: {err}");
    let line = err
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no `error:` line in: {err}"));
    assert!(line.contains(needle), "`{needle}` not in: {line}");
}

/// `frontdesk token` for a fixed tenant and user with `role`.
fn token_args(role: &str) -> [&str; 7] {
    [
        "token",
        "--tenant",
        "00000000-0000-4000-8000-000000000001",
        "--role",
        role,
        "--user",
        "00000000-0000-4000-8000-000000000002",
    ]
}

fn temp_dir(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "frontdesk-cli-{tag}-{}",
        uuid::Uuid::new_v4().simple()
    ))
}

#[test]
fn a_malformed_database_url_is_one_clear_line() {
    let out = frontdesk()
        .args(["migrate"])
        .env("DATABASE_URL", "mysql://nope")
        .output()
        .expect("run");
    assert_clear_failure(&out, "DATABASE_URL is invalid");
}

#[test]
fn an_unreachable_database_is_one_clear_line_without_the_password() {
    let out = frontdesk()
        .args(["migrate"])
        .env(
            "DATABASE_URL",
            "postgres://owner:s3cr3t-pw@127.0.0.1:1/frontdesk",
        )
        .output()
        .expect("run");
    assert_clear_failure(&out, "cannot reach PostgreSQL at 127.0.0.1:1");
    assert!(
        !stderr_of(&out).contains("s3cr3t-pw"),
        "the password leaked"
    );
}

#[test]
fn missing_postgresql_binaries_are_one_clear_line() {
    let dir = temp_dir("nobin");
    let out = frontdesk()
        .args(["migrate"])
        .env("FRONTDESK_DATA_DIR", &dir)
        .env("FRONTDESK_PG_BIN_DIR", dir.join("no-such-bin"))
        .output()
        .expect("run");
    assert_clear_failure(&out, "not found");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_port_in_use_is_one_clear_line() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let out = frontdesk()
        .args(["serve", "--listen", &addr])
        .env("DATABASE_URL", "postgres://u@127.0.0.1:1/x")
        .output()
        .expect("run");
    assert_clear_failure(&out, "already in use");
}

#[test]
fn production_without_a_jwt_secret_is_one_clear_line() {
    let out = frontdesk()
        .args(token_args("owner"))
        .env("FRONTDESK_ENV", "production")
        .output()
        .expect("run");
    assert_clear_failure(&out, "FRONTDESK_JWT_SECRET is not set");
}

#[test]
fn production_without_an_encryption_key_is_one_clear_line_before_anything_starts() {
    let out = frontdesk()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("FRONTDESK_ENV", "production")
        .env(
            "FRONTDESK_JWT_SECRET",
            "production-secret-production-secret-0123",
        )
        .env("DATABASE_URL", "postgres://u@127.0.0.1:1/x")
        .output()
        .expect("run");
    assert_clear_failure(&out, "FRONTDESK_ENCRYPTION_KEY is not set");
}

#[test]
fn a_malformed_encryption_key_is_one_clear_line_that_does_not_repeat_it() {
    for (var, value) in [
        ("FRONTDESK_ENCRYPTION_KEY", "not-a-key-but-a-passw0rd"),
        (
            "FRONTDESK_PREVIOUS_ENCRYPTION_KEYS",
            "not-a-key-but-a-passw0rd",
        ),
    ] {
        let out = frontdesk()
            .args(["rotate-encryption-key"])
            .env(var, value)
            .env("DATABASE_URL", "postgres://u@127.0.0.1:1/x")
            .output()
            .expect("run");
        assert_clear_failure(&out, var);
        assert!(!stderr_of(&out).contains(value), "the key leaked");
    }
}

#[test]
fn an_unknown_frontdesk_variable_is_refused_with_a_suggestion() {
    let out = frontdesk()
        .args(["schema"])
        .env("FRONTDESK_LISTN", "127.0.0.1:9")
        .output()
        .expect("run");
    assert_clear_failure(&out, "FRONTDESK_LISTEN");
}

#[test]
fn token_prints_a_verifiable_token_offline() {
    let out = frontdesk()
        .args(token_args("agent"))
        .env(
            "FRONTDESK_JWT_SECRET",
            "cli-test-secret-cli-test-secret-cli-test",
        )
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let token = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let keys = frontdesk_graphql::TokenKeys::new(
        &"cli-test-secret-cli-test-secret-cli-test".to_owned().into(),
        chrono::Duration::minutes(5),
    );
    let p = keys.verify(&token).expect("verifies");
    assert_eq!(p.role, frontdesk_graphql::Role::Agent);
}

/// The README's promise: the embedded default starts, seeds the demo tenant, prints a token
/// that works against `/graphql`, and stops cleanly on SIGTERM. Its logs, going to a pipe
/// rather than a terminal, carry no colour codes.
#[test]
fn serve_on_the_embedded_default_prints_a_working_token_and_stops_on_sigterm() {
    let dir = temp_dir("embedded");
    let mut child = frontdesk()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("FRONTDESK_DATA_DIR", &dir)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let logs = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut BufReader::new(stderr), &mut text);
        text
    });
    // Read stdout on a thread so a server that never prints cannot hang the test.
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let (mut base, mut token) = (None, None);
    let deadline = Instant::now() + Duration::from_secs(120);
    while base.is_none() || token.is_none() {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(line) = rx.recv_timeout(left) else {
            break;
        };
        if let Some(rest) = line.strip_prefix("GraphiQL:") {
            base = Some(rest.trim().trim_end_matches('/').to_owned());
        } else if line.starts_with("  ey") {
            token = Some(line.trim().to_owned());
        }
    }
    let result = (|| -> Result<serde_json::Value, String> {
        let base = base.ok_or("no GraphiQL line")?;
        let token = token.ok_or("no token line")?;
        let out = Command::new("curl")
            .args([
                "-s",
                "-H",
                &format!("Authorization: Bearer {token}"),
                "-H",
                "Content-Type: application/json",
                "-d",
                r#"{"query":"{ me { email role tenantName } }"}"#,
                &format!("{base}/graphql"),
            ])
            .output()
            .map_err(|e| e.to_string())?;
        serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())
    })();
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().expect("wait");
    let logs = logs.join().expect("log reader");
    let _ = std::fs::remove_dir_all(&dir);
    let body = result.expect("query through the printed token");
    assert!(
        logs.contains("shutting down"),
        "no shutdown log line in: {logs}"
    );
    assert!(
        !logs.contains('\u{1b}'),
        "colour codes in piped logs: {logs:?}"
    );
    assert_eq!(body["data"]["me"]["role"], "OWNER", "{body}");
    assert!(body["data"]["me"]["email"].is_string(), "{body}");
    assert!(status.success(), "exit status after SIGTERM: {status}");
}
