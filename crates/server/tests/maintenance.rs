//! The retention pass as an operator meets it in the binary: `frontdesk maintenance` runs it
//! once and prints what it changed; `frontdesk serve` runs it on its timer
//! (`FRONTDESK_MAINTENANCE_INTERVAL_SECONDS`) and counts it on `/metrics`. What a pass does is
//! tested in depth by the top-level `tests/retention.rs`.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use frontdesk_db::sqlx;
use frontdesk_db::testing::TestDb;
use secrecy::ExposeSecret;
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_frontdesk");

/// The binary pointed at `db`, with a clean `FRONTDESK_*` environment.
fn frontdesk(db: &TestDb) -> Command {
    let mut cmd = Command::new(BIN);
    for (k, _) in std::env::vars() {
        if k.starts_with("FRONTDESK_") || k == "DATABASE_URL" {
            cmd.env_remove(k);
        }
    }
    cmd.env("RUST_LOG", "warn")
        .env("DATABASE_URL", db.config.owner_url.expose_secret())
        .env(
            "FRONTDESK_JWT_SECRET",
            "maintenance-test-secret-0123456789abcdef",
        )
        .env(
            "FRONTDESK_DATA_DIR",
            std::env::temp_dir().join(format!("frontdesk-maint-{}", Uuid::new_v4().simple())),
        );
    if let Some(p) = &db.config.app_password {
        cmd.env("FRONTDESK_APP_DB_PASSWORD", p.expose_secret());
    }
    cmd
}

/// A tenant with one conversation idle for 100 days and one expired session; returns the
/// conversation.
async fn arrange(db: &TestDb) -> anyhow::Result<Uuid> {
    let tenant = Uuid::new_v4();
    let conversation = Uuid::new_v4();
    let user = Uuid::new_v4();
    sqlx::raw_sql(&format!(
        "INSERT INTO app.tenants (id, name) VALUES ('{tenant}', 'Maintained');
         INSERT INTO app.conversations (tenant_id, id, channel, last_message_at, created_at)
         VALUES ('{tenant}', '{conversation}', 'sms', now() - interval '100 days',
                 now() - interval '120 days');
         INSERT INTO app.users (id, email) VALUES ('{user}', '{user}@example.com');
         INSERT INTO app.auth_sessions (session_token, user_id, expires)
         VALUES ('{user}', '{user}', now() - interval '1 hour');"
    ))
    .execute(db.owner())
    .await?;
    Ok(conversation)
}

async fn lifecycle(db: &TestDb, id: Uuid) -> anyhow::Result<String> {
    Ok(
        sqlx::query_scalar("SELECT lifecycle FROM app.conversations WHERE id = $1")
            .bind(id)
            .fetch_one(db.owner())
            .await?,
    )
}

#[tokio::test]
async fn frontdesk_maintenance_runs_one_pass_and_prints_what_it_changed() -> anyhow::Result<()> {
    let db = TestDb::new().await?;
    let conversation = arrange(&db).await?;
    let out = frontdesk(&db).arg("maintenance").output()?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with("maintenance: 1 tenants"), "{stdout}");
    assert!(stdout.contains("conversations_archived 1"), "{stdout}");
    assert!(stdout.contains("sessions_purged 1"), "{stdout}");
    assert_eq!(lifecycle(&db, conversation).await?, "archived");
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM app.auth_sessions")
        .fetch_one(db.owner())
        .await?;
    assert_eq!(sessions, 0);

    // Run again: nothing left to do. While another process holds the lock: nothing done.
    let out = frontdesk(&db).arg("maintenance").output()?;
    assert!(String::from_utf8_lossy(&out.stdout).contains("conversations_archived 0"));
    let mut holder = db.owner().acquire().await?;
    sqlx::query("SELECT pg_advisory_lock(hashtextextended('frontdesk.maintenance', 0))")
        .execute(&mut *holder)
        .await?;
    let out = frontdesk(&db).arg("maintenance").output()?;
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("skipped"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    drop(holder);
    db.drop_database().await?;
    Ok(())
}

/// `GET path` on `addr` over plain HTTP/1.0; the body.
fn http_get(addr: &str, path: &str) -> anyhow::Result<String> {
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default())
}

#[tokio::test]
async fn serve_runs_the_pass_on_its_timer_and_counts_it_on_metrics() -> anyhow::Result<()> {
    let db = TestDb::new().await?;
    let mut child = frontdesk(&db)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("FRONTDESK_SEED_DEMO", "false")
        .env("FRONTDESK_MAINTENANCE_INTERVAL_SECONDS", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let result = async {
        let addr = loop {
            let line = rx.recv_timeout(Duration::from_secs(60))?;
            if let Some(rest) = line.strip_prefix("Frontdesk is listening on http://") {
                break rest.trim().to_owned();
            }
        };
        // Arranged after start-up: a later tick of the timer must find it.
        let conversation = arrange(&db).await?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while lifecycle(&db, conversation).await? != "archived" {
            anyhow::ensure!(Instant::now() < deadline, "not archived within 30 s");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let metrics = http_get(&addr, "/metrics")?;
        let archived = metrics
            .lines()
            .find_map(|l| {
                l.strip_prefix(
                    r#"frontdesk_maintenance_rows_total{action="conversations_archived"}"#,
                )?
                .trim()
                .parse::<f64>()
                .ok()
            })
            .unwrap_or(0.0);
        anyhow::ensure!(archived >= 1.0, "metrics: {metrics}");
        anyhow::ensure!(
            metrics.contains(r#"frontdesk_maintenance_runs_total{outcome="completed"}"#),
            "metrics: {metrics}"
        );
        anyhow::Ok(())
    }
    .await;
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait()?;
    result?;
    assert!(status.success(), "exit status after SIGTERM: {status}");
    db.drop_database().await?;
    Ok(())
}
