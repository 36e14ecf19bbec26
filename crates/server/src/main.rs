//! The `frontdesk` binary. Everything lives in the library so tests can drive it.

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    frontdesk_server::cli::run(frontdesk_server::cli::Cli::parse()).await
}
