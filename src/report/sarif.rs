//! SARIF 2.1.0 (`--format sarif`), for code-scanning UIs: one run, every failed rule and error
//! finding as a result with file, line and column. Valid against the official OASIS schema.

use super::{CheckReport, TemplateReport, kind_of, property_path, rule_id_of, severity_str};
use crate::findings::{Finding, Source};
use indexmap::IndexMap;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// The schema the output declares (and is tested against: tests/fixtures/sarif-schema-2.1.0.json).
pub const SARIF_SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// Renders the report as a SARIF 2.1.0 log (pretty JSON, trailing newline).
pub fn render_sarif(report: &CheckReport) -> String {
    // rule id -> (rules file, if a Guard rule); first appearance order
    let mut rules: IndexMap<String, Option<String>> = IndexMap::new();
    for t in &report.templates {
        for f in &t.findings {
            rules.entry(rule_id_of(f)).or_insert_with(|| rules_file_of(f));
        }
        for r in &t.rules {
            rules
                .entry(r.rule.clone())
                .or_insert_with(|| Some(r.rules_file.clone()));
        }
    }
    let mut results = Vec::new();
    for t in &report.templates {
        for f in t.all_findings() {
            let rule = rule_id_of(f);
            let index = rules.get_index_of(&rule).unwrap_or(0);
            results.push(result(t, f, &rule, index));
        }
    }
    let descriptors: Vec<Value> = rules
        .iter()
        .map(|(id, file)| {
            let text = match file {
                Some(file) => format!("Guard rule {id} ({file})"),
                None => format!("CloudFormation {id} check"),
            };
            let mut d = json!({"id": id, "shortDescription": {"text": text}});
            if let Some(file) = file {
                d["properties"] = json!({"rulesFile": file});
            }
            d
        })
        .collect();
    let log = json!({
        "$schema": SARIF_SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "kiro-infra",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": descriptors,
            }},
            "invocations": [{"executionSuccessful": true}],
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": {
                "summary": report.summary(),
                "suppressions": report.suppressions,
            },
        }],
    });
    let mut text = serde_json::to_string_pretty(&log).unwrap_or_else(|_| String::from("{}"));
    text.push('\n');
    text
}

fn rules_file_of(f: &Finding) -> Option<String> {
    match &f.source {
        Source::Guard { file, .. } => Some(file.clone()),
        _ => None,
    }
}

fn result(t: &TemplateReport, f: &Finding, rule: &str, index: usize) -> Value {
    let mut text = f.message.trim_end().to_string();
    if !text.is_empty()
        && !text.ends_with(['.', '!', '?'])
        && (f.expected.is_some() || f.actual.is_some() || f.fix.is_some())
    {
        text.push('.');
    }
    match (&f.expected, &f.actual) {
        (Some(e), Some(a)) => text.push_str(&format!(" Expected: {e}; actual: {a}.")),
        (Some(e), None) => text.push_str(&format!(" Expected: {e}.")),
        (None, Some(a)) => text.push_str(&format!(" Actual: {a}.")),
        (None, None) => {}
    }
    if let Some(fix) = &f.fix {
        text.push_str(&format!(" Fix: {fix}"));
    }
    if text.trim().is_empty() {
        text = format!("{rule} failed");
    }
    let mut physical = json!({"artifactLocation": {"uri": uri_reference(&t.file)}});
    if let Some(line) = f.line.filter(|l| *l > 0) {
        physical["region"] = json!({"startLine": line, "startColumn": t.column_of(f).unwrap_or(1)});
    }
    let mut location = json!({"physicalLocation": physical});
    if let Some(id) = &f.logical_id {
        location["logicalLocations"] =
            json!([{"name": id, "fullyQualifiedName": format!("{}/{id}", f.stack), "kind": "resource"}]);
    }
    let mut properties = Map::new();
    properties.insert("kind".into(), json!(kind_of(f)));
    properties.insert("stack".into(), json!(f.stack));
    properties.insert("pointer".into(), json!(f.pointer));
    properties.insert("property".into(), json!(property_path(&f.pointer)));
    for (key, value) in [("expected", &f.expected), ("actual", &f.actual), ("fix", &f.fix)] {
        if let Some(v) = value {
            properties.insert(key.into(), json!(v));
        }
    }
    let fingerprint = Sha256::digest(format!("{rule}\u{0}{}\u{0}{}\u{0}{}", t.file, f.stack, f.pointer));
    json!({
        "ruleId": rule,
        "ruleIndex": index,
        "level": severity_str(f.severity),
        "message": {"text": text},
        "locations": [location],
        "partialFingerprints": {"kiroInfraFinding/v1": hex(&fingerprint)},
        "properties": properties,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A file path as a relative URI reference: `\` becomes `/`, and every byte outside RFC 3986's
/// unreserved set and `/` is percent-encoded (spaces, `#`, `?`, `%`, non-ASCII...).
pub fn uri_reference(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
