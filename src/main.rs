//! The `hotline` binary: see `hotline --help`.

use clap::Parser;

/// The static builds allocate with jemalloc: musl's own allocator serialises every thread on
/// one lock and returns memory to the kernel on most frees, which cost about half of the
/// server's CPU under load (README, Benchmarks). Its settings are fixed at build time
/// (`JEMALLOC_SYS_WITH_MALLOC_CONF` in `.cargo/config.toml`).
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    hotline::update::install::remember_exe();
    let cli = hotline::cli::Cli::parse();
    match hotline::cli::run(cli) {
        Ok(code) => std::process::ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
