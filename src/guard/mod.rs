//! The built-in AWS CloudFormation Guard engine (cfn-guard 3.2.1 semantics, GUARD.md).
//!
//! Depends only on `serde_json::Value` (plus `crate::template_io` to read test files) and its own
//! error types. `parse_rules` -> `RulesFile` (regexes compiled once); `evaluate` -> per-rule
//! PASS/FAIL/SKIP with violations; `run_test_file` runs `cfn-guard test` files.
//!
//! Verified against the real cfn-guard 3.2.1 (tests/guard.rs): every fixture, and generated rules
//! (differential test). Deliberate differences: an unknown rule reference is an error when the file
//! is parsed (cfn-guard: when the reference is evaluated); inputs that crash cfn-guard (two
//! filters in a row over a map, failing unary checks on literal variables) are evaluated normally;
//! nesting deeper than `parser::MAX_DEPTH`, rule calls deeper than `eval::MAX_CALL_DEPTH` and
//! data deeper than `value::MAX_DATA_DEPTH` are errors instead of stack overflows.

pub mod ast;
pub mod diagnostics;
pub mod eval;
pub mod functions;
pub mod lexer;
pub mod parser;
pub mod testfile;
pub mod value;

pub use ast::RulesFile;
pub use eval::{evaluate, evaluate_many, evaluate_many_where};
pub use lexer::Span;
pub use testfile::{TestOutcome, run_test_file, test_dir_pairs};

use serde::Serialize;

/// Errors of parsing or evaluating Guard rules.
#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    /// A rules file that does not parse: `file:line:col: expected ...`, the line and a caret.
    #[error("{file}:{line}:{col}: {expected}\n{source_line}\n{caret}")]
    Parse {
        file: String,
        line: usize,
        col: usize,
        expected: String,
        source_line: String,
        caret: String,
    },
    /// A rule referenced by name that no rule defines.
    #[error("{file}:{line}:{col}: unknown rule `{name}`")]
    UnknownRule {
        file: String,
        name: String,
        line: usize,
        col: usize,
    },
    /// Any other evaluation error (arity, recursion, bad function input, nesting too deep).
    #[error("{file}:{line}:{col}: {message}")]
    Eval {
        file: String,
        line: usize,
        col: usize,
        message: String,
    },
    /// A Guard test file that cannot be read.
    #[error("{file}: {message}")]
    TestFile { file: String, message: String },
}

impl GuardError {
    pub fn parse(src: &str, file: &str, span: Span, expected: &str) -> GuardError {
        let source_line = src.lines().nth(span.line.saturating_sub(1)).unwrap_or("").to_string();
        let caret = format!("{}^", " ".repeat(span.col.saturating_sub(1)));
        GuardError::Parse {
            file: file.to_string(),
            line: span.line,
            col: span.col,
            expected: expected.to_string(),
            source_line,
            caret,
        }
    }
}

/// PASS / FAIL / SKIP of a rule, as `cfn-guard validate` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Pass,
    Fail,
    Skip,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Skip => "SKIP",
        })
    }
}

/// Results of all rules of one rules file on one data document, in file order.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub rules: Vec<RuleResult>,
}

impl Evaluation {
    /// FAIL if any rule FAILs, else PASS if any PASSes, else SKIP.
    pub fn overall(&self) -> Status {
        if self.rules.iter().any(|r| r.status == Status::Fail) {
            Status::Fail
        } else if self.rules.iter().any(|r| r.status == Status::Pass) {
            Status::Pass
        } else {
            Status::Skip
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleResult {
    pub name: String,
    pub status: Status,
    pub violations: Vec<Violation>,
    /// Logical ids of resources whose `Metadata.guard.SuppressedRules` names this rule.
    pub suppressed_for: Vec<String>,
    /// Where the rule is defined in the rules file.
    pub line: usize,
    pub col: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Violation {
    /// RFC 6901 pointer into the data (the deepest value reached when the path did not resolve).
    pub pointer: String,
    /// The clause's custom message `<< >>`.
    pub message: Option<String>,
    pub operator: String,
    pub expected: Option<serde_json::Value>,
    /// None when the path did not resolve.
    pub actual: Option<serde_json::Value>,
    /// Nested rule names, outermost first.
    pub rule_path: Vec<String>,
    /// Why the value failed, in words (e.g. "missing key", "not comparable").
    pub reason: Option<String>,
    /// Position of the failing clause in the rules file.
    pub line: usize,
    pub col: usize,
}

/// Parses a `.guard` source. Regexes are compiled here, once.
/// Also checks that every rule reference names a rule of the file.
pub fn parse_rules(source: &str, file_name: &str) -> Result<RulesFile, GuardError> {
    let file = parser::parse(source, file_name)?;
    diagnostics::check_references(&file)?;
    Ok(file)
}
