//! Reports of `kiro-infra check` (and of the rule gate in `synth`): text, JSON, SARIF 2.1.0, JUnit XML.
//!
//! The renderers work on plain data ([`CheckReport`]) that the check command fills in; they do no
//! checking themselves, never fail, and give the same bytes for the same report (input order kept).

mod json;
mod junit;
mod sarif;
mod text;

pub use json::render_json;
pub use junit::render_junit;
pub use sarif::render_sarif;
pub use text::render_text;

use crate::findings::{Finding, Severity, Source};
use serde::Serialize;
use std::sync::OnceLock;

/// Everything one `check` run found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    pub templates: Vec<TemplateReport>,
    /// The `Metadata.guard.SuppressedRules` in effect, with their written reasons.
    pub suppressions: Vec<Suppression>,
}

/// The results for one template.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateReport {
    /// The path shown to users (`templates/test/KiroPipelineCoreTest.template.json`).
    pub file: String,
    /// The stack name, or the file name for external templates.
    pub stack: String,
    /// Every rule run on this template, in run order.
    pub rules: Vec<RuleOutcome>,
    /// Schema, limit and cross-stack findings (with line numbers), in check order.
    pub findings: Vec<Finding>,
    /// The template text as checked, when known: gives findings their columns and text output
    /// an excerpt.
    pub source: Option<String>,
    /// Where `source`'s lines and JSON values are, found on first use.
    pub index: SourceIndex,
}

/// Where the lines of a [`TemplateReport`]'s source start, and (JSON) where each value is, both
/// found on first use: a report of thousands of findings asks for thousands of lines, and
/// scanning the text for each made such a report take seconds. Derived from `source`, so never
/// part of a report's equality.
#[derive(Debug, Clone, Default)]
pub struct SourceIndex {
    line_starts: OnceLock<Vec<usize>>,
    /// JSON pointer -> (line, byte offset); empty for a source that is not JSON.
    positions: OnceLock<crate::render::Positions>,
    /// Whether the source is all ASCII (then a column is a byte count).
    ascii: OnceLock<bool>,
}

impl SourceIndex {
    /// An index whose JSON positions are already known (the check that found the findings
    /// indexed the text to give them lines).
    pub fn with_positions(positions: crate::render::Positions) -> Self {
        let index = SourceIndex::default();
        let _ = index.positions.set(positions);
        index
    }
}

impl PartialEq for SourceIndex {
    fn eq(&self, _: &SourceIndex) -> bool {
        true
    }
}

impl Eq for SourceIndex {}

/// One rule on one template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleOutcome {
    /// Rule id (`S3_BUCKET_SSE_KMS`).
    pub rule: String,
    /// The rules file it came from (`rules/encryption.guard`, or `builtin:encryption.guard`).
    pub rules_file: String,
    pub status: RuleStatus,
    /// Empty unless `status` is `Fail`.
    pub violations: Vec<Finding>,
}

/// A rule's result, as `cfn-guard validate` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RuleStatus {
    Pass,
    Fail,
    Skip,
}

impl RuleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleStatus::Pass => "PASS",
            RuleStatus::Fail => "FAIL",
            RuleStatus::Skip => "SKIP",
        }
    }
}

/// One rule suppressed for one resource, with the reason its author wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppression {
    pub file: String,
    pub logical_id: String,
    pub rule: String,
    pub reason: String,
}

/// Counts shown at the end of every format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub templates: usize,
    pub pass: usize,
    pub fail: usize,
    pub skip: usize,
    /// Error-severity findings and violations.
    pub errors: usize,
    pub warnings: usize,
    pub suppressions: usize,
}

impl CheckReport {
    /// Counts of rule outcomes (PASS / FAIL / SKIP), findings by severity, and suppressions.
    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            templates: self.templates.len(),
            suppressions: self.suppressions.len(),
            ..Summary::default()
        };
        for t in &self.templates {
            for r in &t.rules {
                match r.status {
                    RuleStatus::Pass => s.pass += 1,
                    RuleStatus::Fail => s.fail += 1,
                    RuleStatus::Skip => s.skip += 1,
                }
            }
            for f in t.all_findings() {
                match f.severity {
                    Severity::Error => s.errors += 1,
                    Severity::Warning => s.warnings += 1,
                }
            }
        }
        s
    }

    /// True when nothing failed: every rule PASS or SKIP and no error finding (exit code 0).
    pub fn passed(&self) -> bool {
        let s = self.summary();
        s.fail == 0 && s.errors == 0
    }
}

impl TemplateReport {
    /// Template findings first, then rule violations, in order.
    pub fn all_findings(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .chain(self.rules.iter().flat_map(|r| r.violations.iter()))
    }

    /// 1-based column where `line`'s content starts (after indentation), when the source is known.
    pub fn column(&self, line: usize) -> Option<usize> {
        let content = self.source_line(line)?;
        let indent = content.chars().take_while(|c| c.is_whitespace()).count();
        Some(indent + 1)
    }

    /// 1-based column (in characters) of `finding` on its line: in a JSON source, where its
    /// property's key (or value) starts, found as its line was (the pointer, or its nearest
    /// ancestor that is written); else where the line's content starts. On a minified
    /// template, all one line, that is the difference between pointing at the value and at
    /// the file's first character.
    pub fn column_of(&self, finding: &Finding) -> Option<usize> {
        let line = finding.line?;
        self.pointer_column(&finding.pointer, line)
            .or_else(|| self.column(line))
    }

    fn pointer_column(&self, pointer: &str, line: usize) -> Option<usize> {
        let text = self.source.as_deref()?;
        let positions = self.index.positions.get_or_init(|| {
            if text.trim_start().starts_with(['{', '[']) {
                crate::render::pointer_positions(text)
            } else {
                indexmap::IndexMap::new()
            }
        });
        let (at_line, offset) = crate::render::line_of(positions, pointer)?;
        if at_line != line {
            return None;
        }
        let start = *self.line_starts().get(line.checked_sub(1)?)?;
        let before = text.get(start..offset)?;
        // Counting characters on a long line (a minified template is one) for each finding
        // would be slow; in an ASCII source a column is a byte count.
        Some(
            if self.is_ascii() {
                before.len()
            } else {
                before.chars().count()
            } + 1,
        )
    }

    /// Whether the source is all ASCII (checked once).
    pub(crate) fn is_ascii(&self) -> bool {
        *self
            .index
            .ascii
            .get_or_init(|| self.source.as_deref().is_some_and(str::is_ascii))
    }

    fn line_starts(&self) -> &[usize] {
        let text = self.source.as_deref().unwrap_or_default();
        self.index.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(
                    text.bytes()
                        .enumerate()
                        .filter(|&(_, b)| b == b'\n')
                        .map(|(i, _)| i + 1),
                )
                .collect()
        })
    }

    /// The source line `line` (1-based), without its line ending, when known: the `line`-th
    /// item of `source.lines()`, found without scanning the text again.
    pub fn source_line(&self, line: usize) -> Option<&str> {
        let text = self.source.as_deref()?;
        let starts = self.line_starts();
        let start = *starts.get(line.checked_sub(1)?)?;
        if start >= text.len() {
            return None;
        }
        match starts.get(line) {
            // Ended by "\n" or "\r\n"; a last line without "\n" keeps a final "\r", as there.
            Some(next) => {
                let content = &text[start..next - 1];
                Some(content.strip_suffix('\r').unwrap_or(content))
            }
            None => Some(&text[start..]),
        }
    }
}

/// `Guard` findings carry their rule; the others are named by their check.
pub(crate) fn rule_id_of(finding: &Finding) -> String {
    match &finding.source {
        Source::Guard { rule, .. } => rule.clone(),
        Source::Schema => "schema".to_string(),
        Source::Limit => "limit".to_string(),
        Source::CrossStack => "cross-stack".to_string(),
    }
}

/// What produced a finding, in one word.
pub(crate) fn kind_of(finding: &Finding) -> &'static str {
    match finding.source {
        Source::Guard { .. } => "guard",
        Source::Schema => "schema",
        Source::Limit => "limit",
        Source::CrossStack => "cross-stack",
    }
}

pub(crate) fn severity_str(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// The path of a finding inside its resource: `/Resources/B/Properties/Tags/0/Key` ->
/// `Properties.Tags[0].Key`; pointers outside `Resources` are shown as they are.
pub fn property_path(pointer: &str) -> String {
    let tokens: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(crate::findings::unescape_pointer_token)
        .collect();
    let rest = match tokens.as_slice() {
        [first, _id, rest @ ..] if first == "Resources" => rest,
        _ => {
            return if pointer.is_empty() {
                "(template)".to_string()
            } else {
                pointer.to_string()
            };
        }
    };
    let mut out = String::new();
    for token in rest {
        if !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit()) {
            out.push('[');
            out.push_str(token);
            out.push(']');
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(token);
        }
    }
    if out.is_empty() { "(resource)".to_string() } else { out }
}

#[cfg(test)]
pub(crate) mod tests;
