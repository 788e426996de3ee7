//! kiro-infra: the AWS infrastructure of the Kiro CD pipeline as a typed Rust model.
//!
//! ```text
//! config (embedded defaults <- YAML file <- CLI flags)
//!   -> stacks   (secure-by-default builders: Core, Pipeline, Monitoring per environment)
//!   -> model    (typed CloudFormation: Template, Resource, typed intrinsics, IAM documents)
//!   -> render   (canonical JSON bytes + JSON-pointer -> line index)
//!   -> check    (resource schemas, CloudFormation limits, Guard rules)  -> findings
//!   -> output   (templates/ files | report: text, JSON, SARIF, JUnit | diff)
//! ```

pub mod arena;
pub mod cache;
pub mod checks;
pub mod cli;
pub mod commands;
pub mod config;
pub mod diff;
pub mod error;
pub mod findings;
pub mod guard;
pub mod model;
pub mod output;
pub mod par;
pub mod regex;
pub mod render;
pub mod report;
pub mod ruleset;
pub mod stacks;
pub mod synth;
pub mod template_io;
pub mod trace;
pub mod validate;
