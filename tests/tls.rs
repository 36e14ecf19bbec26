//! TLS to PostgreSQL: `sslmode` and `sslrootcert` in the database URL are honoured, by the
//! owner's login and by the runtime role's login derived from it, against a throwaway cluster
//! of the test's own with a certificate from a CA made at test time and only `hostssl` logins.

use frontdesk_db::sqlx::{self, Connection, PgConnection};
use frontdesk_db::testing::TestDb;
use frontdesk_db::{Db, DbConfig, TenantCtx};
use frontdesk_e2e::cluster::OwnCluster;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

/// A CA's certificate (PEM) and a server certificate and key it signed for `localhost` and
/// `127.0.0.1`.
struct Certs {
    ca: String,
    server_cert: String,
    server_key: String,
}

fn ca() -> anyhow::Result<(rcgen::Certificate, KeyPair)> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "Frontdesk test CA");
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    Ok((params.self_signed(&key)?, key))
}

fn certs() -> anyhow::Result<Certs> {
    let (ca_cert, ca_key) = ca()?;
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.signed_by(&key, &ca_cert, &ca_key)?;
    Ok(Certs {
        ca: ca_cert.pem(),
        server_cert: cert.pem(),
        server_key: key.serialize_pem(),
    })
}

/// Turns TLS on with `certs` and allows TCP logins only over TLS (`hostssl`).
async fn enable_tls(cluster: &OwnCluster, certs: &Certs) -> anyhow::Result<()> {
    cluster.write_private("server.crt", certs.server_cert.as_bytes())?;
    cluster.write_private("server.key", certs.server_key.as_bytes())?;
    let hba_path = cluster.data_dir().join("pg_hba.conf");
    let hba = std::fs::read_to_string(&hba_path)?;
    let hba: String = hba
        .lines()
        .map(|l| match l.strip_prefix("host ") {
            Some(rest) => format!("hostssl {rest}\n"),
            None => format!("{l}\n"),
        })
        .collect();
    std::fs::write(&hba_path, hba)?;
    let plain = format!("{}?sslmode=disable", cluster.url().expose_secret());
    let mut su = PgConnection::connect(&plain).await?;
    for statement in [
        "ALTER SYSTEM SET ssl = on",
        "ALTER SYSTEM SET ssl_cert_file = 'server.crt'",
        "ALTER SYSTEM SET ssl_key_file = 'server.key'",
        "SELECT pg_reload_conf()",
    ] {
        sqlx::query(statement).execute(&mut su).await?;
    }
    su.close().await?;
    // The postmaster applies the reload asynchronously: wait until TLS logins work.
    let probe = format!("{}?sslmode=require", cluster.url().expose_secret());
    for _ in 0..50 {
        if PgConnection::connect(&probe).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    anyhow::bail!("the cluster did not accept TLS logins after the reload")
}

fn with_params(url: &SecretString, params: &str) -> SecretString {
    format!("{}?{params}", url.expose_secret()).into()
}

async fn uses_tls(conn: &mut PgConnection) -> anyhow::Result<bool> {
    Ok(
        sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(conn)
            .await?,
    )
}

/// The error of connecting as the owner with `url`, as a client of the library would show it.
async fn refusal(url: SecretString) -> String {
    match Db::migrate_and_connect(&DbConfig::new(url)).await {
        Ok(_) => panic!("connected"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn verify_full_with_the_ca_connects_over_tls_and_without_it_is_refused_naming_the_certificate(
) -> anyhow::Result<()> {
    let cluster = OwnCluster::start("tls").await?;
    let certs = certs()?;
    enable_tls(&cluster, &certs).await?;
    let ca_path = cluster.scratch("ca.pem");
    std::fs::write(&ca_path, &certs.ca)?;
    let password = cluster.pg().app_role_password();
    let verified = with_params(
        &cluster.url(),
        &format!("sslmode=verify-full&sslrootcert={}", ca_path.display()),
    );

    // The owner (migrations, test set-up) and the runtime role, whose URL is derived from the
    // owner's, both talk TLS.
    let db = TestDb::on_server(verified, password).await?;
    let mut owner = db.owner().acquire().await?;
    assert!(uses_tls(&mut owner).await?, "the owner's login is not TLS");
    drop(owner);
    let mut runtime = db.runtime_connection().await?;
    assert!(
        uses_tls(&mut runtime).await?,
        "the runtime role's login is not TLS"
    );
    let user: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(&mut runtime)
        .await?;
    assert_eq!(user, frontdesk_db::RUNTIME_ROLE);
    let mut tx = db
        .db
        .begin_tenant(TenantCtx {
            tenant_id: Uuid::new_v4(),
            user_id: None,
        })
        .await?;
    assert!(uses_tls(tx.conn()).await?, "the runtime pool is not TLS");
    drop(tx);
    assert!(db.db.readiness().await?.is_migrated());

    // Without TLS the server refuses (hostssl only), so the logins above really were TLS.
    let plain = refusal(with_params(&cluster.url(), "sslmode=disable")).await;
    assert!(plain.contains("no encryption"), "{plain}");

    // verify-full with the public roots only, or with another CA: refused, saying why.
    let secret = cluster.url();
    let secret = secret.expose_secret();
    let password = secret
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .and_then(|(creds, _)| creds.split_once(':'))
        .map(|(_, pw)| pw.to_owned())
        .unwrap_or_default();
    assert!(
        password.len() >= 8,
        "the cluster's password is unexpectedly short"
    );
    let (other_ca, _) = ca()?;
    let other_path = cluster.scratch("other-ca.pem");
    std::fs::write(&other_path, other_ca.pem())?;
    for params in [
        "sslmode=verify-full".to_owned(),
        format!("sslmode=verify-full&sslrootcert={}", other_path.display()),
    ] {
        let message = refusal(with_params(&cluster.url(), &params)).await;
        let lower = message.to_lowercase();
        assert!(
            lower.contains("tls") && lower.contains("certificate"),
            "{params}: {message}"
        );
        assert!(
            !message.contains(&password),
            "{params}: the message shows the password"
        );
        println!("{params}: {message}");
    }
    db.drop_database().await?;
    Ok(())
}
