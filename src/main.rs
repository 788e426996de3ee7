//! The `kiro-infra` binary: parse, run, map the result to the exit-code table.

use clap::Parser;
use kiro_infra::cli::Cli;
use kiro_infra::error::Exit;
use std::process::ExitCode;

/// How much of the allocation region to have backed by memory from the start, on another core:
/// what a synth of the default config claims (`KIRO_TRACE=1` prints it at exit), rounded up to
/// whole 2 MiB pages.
const PREFAULT: usize = 10 << 20;

/// The first 32 MiB allocated come from one region handed out in order, then mimalloc (see
/// `kiro_infra::arena`): a cold synth allocates ~11 MB. glibc's malloc spent a quarter of
/// synth's time (see the README's "Speed").
#[global_allocator]
static GLOBAL: kiro_infra::arena::Arena = kiro_infra::arena::Arena::new(32 << 20);

fn main() -> ExitCode {
    kiro_infra::trace::mark(format_args!("main"));
    // synth, check and diff build or read templates and allocate 8-10 MiB; the kernel zeroing
    // that memory on first touch was a sixth of a cold synth. Have it done now, on another
    // core, before the arguments are even parsed (the first word decides; a usage error
    // costs at most the other core's time).
    let heavy = std::env::args_os()
        .nth(1)
        .is_some_and(|c| c == "synth" || c == "check" || c == "diff");
    let cores = if heavy { kiro_infra::par::cores() } else { 1 };
    if cores > 1 {
        let _ = std::thread::Builder::new().name("prefault".into()).spawn(move || {
            // The workers the run will want first: a thread started while the kernel
            // populates memory waits for it (see `kiro_infra::par`). Failing here only means
            // they start later.
            let _ = kiro_infra::par::warm_up(cores - 1);
            kiro_infra::trace::mark(format_args!("workers started"));
            GLOBAL.prefault(PREFAULT);
            kiro_infra::trace::mark(format_args!("prefaulted"));
        });
    }
    // clap exits 2 on a usage error, which the exit-code table gives to `diff
    // --detailed-exitcode`; bad arguments are bad input: 1, like every other.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(Exit::Error as u8)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    kiro_infra::trace::mark(format_args!("arguments read"));
    match kiro_infra::commands::run(cli) {
        Ok(exit) => {
            kiro_infra::trace::mark(format_args!(
                "exit ({} KiB of the allocation region claimed)",
                GLOBAL.claimed() >> 10
            ));
            ExitCode::from(exit as u8)
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(Exit::Error as u8)
        }
    }
}
