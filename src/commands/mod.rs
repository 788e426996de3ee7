//! One module per subcommand. They orchestrate the library's stages and print; they own no
//! domain logic.

pub mod check;
pub mod diff;
pub mod rules;
pub mod schema;
pub mod synth;

use crate::cli::{Cli, Command};
use crate::error::{Error, Exit};

/// Runs a parsed command line.
/// Leaves a value for the process's exit to reclaim instead of freeing it now. A command is
/// one run of the process and ends right after: freeing a whole synthesis, its checks and the
/// parsed rules (tens of thousands of small allocations, pages handed back to the OS one
/// `madvise` at a time) is time the user waits for and nothing else gains from.
pub(crate) fn keep_until_exit<T>(value: T) {
    std::mem::forget(value);
}

pub fn run(cli: Cli) -> Result<Exit, Error> {
    match cli.command {
        Command::Synth(args) => synth::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Schema => schema::run(),
        Command::Rules(cmd) => rules::run(cmd),
    }
}
