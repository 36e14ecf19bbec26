//! The `frontdesk` binary. Everything lives in the library so tests can drive it.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of the system allocator: a server holding tens of thousands of idle
/// WebSockets allocates and frees small buffers from two runtime threads all day, and glibc's
/// per-thread arenas keep what a burst (a reconnect storm) once used; mimalloc returns freed
/// pages and is faster on the request path's many small allocations (`just bench-inbox` and
/// `just bench` measure both).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    frontdesk_server::cli::run(frontdesk_server::cli::Cli::parse()).await
}
