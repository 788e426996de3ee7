//! The binary's entry on glibc's allocator (developer aid: heap profiles with valgrind massif,
//! which cannot see mimalloc's allocations): `cargo run --release --example sysalloc -- synth`.
use clap::Parser;
fn main() {
    let cli = kiro_infra::cli::Cli::parse();
    if let Err(e) = kiro_infra::commands::run(cli) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
