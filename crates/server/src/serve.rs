//! `frontdesk serve`: open the database, seed the demo tenant when empty, run the retention
//! timer, serve until a signal.

use anyhow::Context;
use frontdesk_db::seed::{SeedSpec, DEMO_TENANT_ID};
use frontdesk_graphql::{Principal, Role};
use tokio::net::TcpListener;

use crate::cli::{keyring, token_keys};
use crate::config::{Config, Environment, ServeConfig};
use crate::persisted::PersistedDocuments;
use crate::{app, maintenance, open_database, AppState};

/// Serves HTTP until SIGTERM or Ctrl-C, then drains requests and stops the embedded cluster.
pub async fn run(config: &Config, serve: &ServeConfig) -> anyhow::Result<()> {
    let keys = token_keys(config)?;
    let keyring = keyring(config)?;
    // A bad manifest stops the start-up before anything is bound or opened.
    let trusted = match &serve.trusted_documents {
        Some(path) => {
            let documents = PersistedDocuments::trusted_from_file(path)?;
            tracing::info!(path = %path.display(), "only trusted documents run");
            Some(documents)
        }
        None => None,
    };
    // Bind before touching the database so a busy port fails fast and leaves nothing running.
    let listener = TcpListener::bind(serve.listen).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            anyhow::anyhow!(
                "{} is already in use: stop the process listening there or set FRONTDESK_LISTEN to another address",
                serve.listen
            )
        } else {
            anyhow::anyhow!("cannot listen on {}: {e}", serve.listen)
        }
    })?;
    let addr = listener.local_addr()?;
    let mut handle = open_database(config).await?;
    handle.db.set_keyring(keyring);

    // A production database never gets demo rows unless asked for explicitly.
    let seed_demo = serve
        .seed_demo
        .unwrap_or(config.environment == Environment::Development);
    if seed_demo {
        match frontdesk_db::seed::seed_demo_if_empty(&handle.db, &SeedSpec::demo()).await {
            Ok(Some(report)) => tracing::info!(%report, "seeded the demo tenant"),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "seeding the demo tenant failed"),
        }
    }

    println!("Frontdesk is listening on http://{addr}");
    println!("GraphiQL:   http://{addr}/");
    if config.environment == Environment::Development {
        if let Ok(Some(user_id)) =
            frontdesk_db::identity::member_with_role(&handle.db, DEMO_TENANT_ID, "owner").await
        {
            let token = keys.mint(&Principal {
                user_id,
                tenant_id: DEMO_TENANT_ID,
                role: Role::Owner,
            });
            println!(
                "Development token (demo tenant owner, {} min):",
                keys.ttl().num_minutes()
            );
            println!("  {token}");
            println!(
                "Try: curl -s http://{addr}/graphql -H 'Authorization: Bearer {token}' -H 'Content-Type: application/json' -d '{{\"query\":\"{{ me {{ email role tenantName }} }}\"}}'"
            );
        }
    }

    let mut state = AppState::new(handle.db.clone(), keys)
        .with_ws_keepalive(std::time::Duration::from_secs(serve.ws_keepalive_seconds))
        .with_schema(serve.rate_limits.limits(), serve.compiled_reads);
    if let Some(documents) = trusted {
        state = state.with_documents(documents);
    }
    let router = app(state);
    // After the state exists, so the passes are counted on `/metrics` from the first one.
    let timer = serve
        .maintenance_interval()
        .map(|every| maintenance::spawn_timer(handle.db.clone(), every));
    // With the peer address of each connection (`ConnectInfo`): log-in limits failed
    // attempts per client address.
    let served = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("the HTTP server failed");
    tracing::info!("shutting down");
    if let Some(timer) = timer {
        timer.abort();
    }
    handle.shutdown().await;
    served
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
