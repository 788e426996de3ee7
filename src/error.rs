//! The one error type commands return, and the one exit-code table of every command.

use crate::config::ConfigError;
use crate::output::OutputError;
use crate::synth::SynthError;
use crate::template_io::DocumentError;

/// Exit codes, the same for every command (README, "Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Success; for `diff --detailed-exitcode`: no changes.
    Ok = 0,
    /// Bad input or I/O error.
    Error = 1,
    /// `diff --detailed-exitcode` found changes.
    Changes = 2,
    /// Rule violations, schema or limit errors, or a policy gate tripped (stale templates,
    /// `diff --fail-on`).
    Violations = 3,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Synth(#[from] SynthError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error(transparent)]
    Document(#[from] DocumentError),
    #[error(transparent)]
    Rules(#[from] crate::ruleset::RulesError),
    #[error(transparent)]
    Baseline(#[from] crate::diff::baseline::BaselineError),
    #[error("{file}: a single template is the baseline of one stack: name it with --stack (stacks: {})", known.join(", "))]
    AgainstFileNeedsStack { file: String, known: Vec<String> },
    #[error("unknown stack `{name}`; stacks of the selected environments: {}", known.join(", "))]
    UnknownStack { name: String, known: Vec<String> },
    #[error("--stdout prints one template: name it with --stack NAME (e.g. --stack KiroPipelineCoreTest)")]
    StdoutNeedsStack,
    #[error("cannot start a thread (the system's thread limit?): {0}")]
    Thread(#[source] std::io::Error),
    #[error("{path}: {action}: {source}")]
    Io {
        path: String,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
}
