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
pub fn run(cli: Cli) -> Result<Exit, Error> {
    match cli.command {
        Command::Synth(args) => synth::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Schema => schema::run(),
        Command::Rules(cmd) => rules::run(cmd),
    }
}
