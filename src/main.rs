//! The `hotline` binary: see `hotline --help`.

use clap::Parser;

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
