//! The machine-readable report (`--format json`), versioned: `{"version": 1, ...}`.
//!
//! Per template: its findings, and per rules file each rule with its status and violations.

use super::{CheckReport, RuleOutcome, RuleStatus, TemplateReport, kind_of, property_path, severity_str};
use crate::findings::{Finding, Severity, Source};
use indexmap::IndexMap;
use serde_json::{Value, json};

/// The version of this JSON shape; bumped on any incompatible change.
pub const JSON_VERSION: u32 = 1;

/// Renders the report as pretty JSON (2-space indent, trailing newline).
pub fn render_json(report: &CheckReport) -> String {
    let summary = report.summary();
    let value = json!({
        "version": JSON_VERSION,
        "tool": {"name": "kiro-infra", "version": env!("CARGO_PKG_VERSION")},
        "passed": report.passed(),
        "summary": summary,
        "templates": report.templates.iter().map(template).collect::<Vec<_>>(),
        "suppressions": report.suppressions,
    });
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_else(|_| String::from("{}"));
    text.push('\n');
    text
}

fn template(t: &TemplateReport) -> Value {
    let mut by_file: IndexMap<&str, Vec<&RuleOutcome>> = IndexMap::new();
    for r in &t.rules {
        by_file.entry(r.rules_file.as_str()).or_default().push(r);
    }
    let rules_files: Vec<Value> = by_file
        .into_iter()
        .map(|(file, rules)| {
            json!({
                "file": file,
                "rules": rules.iter().map(|r| json!({
                    "rule": r.rule,
                    "status": r.status,
                    "violations": r.violations.iter().map(|f| finding(t, f)).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let failed = t.rules.iter().any(|r| r.status == RuleStatus::Fail)
        || t.findings.iter().any(|f| f.severity == Severity::Error);
    json!({
        "file": t.file,
        "stack": t.stack,
        "status": if failed { RuleStatus::Fail } else { RuleStatus::Pass },
        "findings": t.findings.iter().map(|f| finding(t, f)).collect::<Vec<_>>(),
        "rules_files": rules_files,
    })
}

/// One finding, flat, with every optional field present (null when unknown).
pub(crate) fn finding(t: &TemplateReport, f: &Finding) -> Value {
    let (rule, rules_file) = match &f.source {
        Source::Guard { rule, file } => (Some(rule.as_str()), Some(file.as_str())),
        _ => (None, None),
    };
    json!({
        "kind": kind_of(f),
        "rule": rule,
        "rules_file": rules_file,
        "severity": severity_str(f.severity),
        "stack": f.stack,
        "logical_id": f.logical_id,
        "pointer": f.pointer,
        "property": property_path(&f.pointer),
        "line": f.line,
        "column": t.column_of(f),
        "message": f.message,
        "expected": f.expected,
        "actual": f.actual,
        "fix": f.fix,
    })
}
