//! The one integration-test binary: a module per topic. Tests run the real `kiro-infra` binary
//! and the real tools (cfn-lint, cfn-guard, the AWS CLI with moto) where a topic needs them; a
//! missing tool fails the test with what to install, it never skips.

mod support;

mod cfn_lint;
mod check;
mod config_errors;
mod diff;
mod diff_cli;
mod guard;
mod rules;
mod schema;
mod synth;
