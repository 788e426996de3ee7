//! The human report: per template a status line, every failure with what a user needs to act on
//! it, the suppressions in effect, and a summary counting PASS, FAIL and SKIP.

use super::{CheckReport, RuleStatus, TemplateReport, kind_of, property_path, rule_id_of};
use crate::findings::{Finding, Severity};
use std::borrow::Cow;
use std::fmt::Write;

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn red(&self, t: &str) -> String {
        self.paint("1;31", t)
    }
    fn green(&self, t: &str) -> String {
        self.paint("32", t)
    }
    fn yellow(&self, t: &str) -> String {
        self.paint("33", t)
    }
    fn bold(&self, t: &str) -> String {
        self.paint("1", t)
    }
    fn dim(&self, t: &str) -> String {
        self.paint("2", t)
    }
    fn status(&self, status: RuleStatus) -> String {
        match status {
            RuleStatus::Pass => self.green("PASS"),
            RuleStatus::Fail => self.red("FAIL"),
            RuleStatus::Skip => self.yellow("SKIP"),
        }
    }
    fn severity(&self, severity: Severity) -> String {
        match severity {
            Severity::Error => self.red("ERROR"),
            Severity::Warning => self.yellow("WARNING"),
        }
    }
}

/// Renders the report for a terminal; `color` adds ANSI colours (only on a TTY).
pub fn render_text(report: &CheckReport, color: bool) -> String {
    let style = Style { color };
    let mut out = String::new();
    for t in &report.templates {
        template_line(&mut out, &style, t);
    }
    for t in &report.templates {
        for f in &t.findings {
            out.push('\n');
            let head = format!("{} {}", style.severity(f.severity), style.bold(kind_of(f)));
            detail(&mut out, &style, t, &head, f);
        }
        for r in t.rules.iter().filter(|r| r.status == RuleStatus::Fail) {
            if r.violations.is_empty() {
                out.push('\n');
                let _ = writeln!(
                    out,
                    "{} {} [{}]",
                    style.status(r.status),
                    style.bold(&clean(&r.rule)),
                    clean(&r.rules_file)
                );
                let _ = writeln!(out, "  {:<9}{} ({})", "at", clean(&t.file), clean(&t.stack));
                field(&mut out, "message", "the rule failed without reporting a location");
            }
            for v in &r.violations {
                out.push('\n');
                let head = format!(
                    "{} {} [{}]",
                    style.status(r.status),
                    style.bold(&clean(&r.rule)),
                    clean(&r.rules_file)
                );
                detail(&mut out, &style, t, &head, v);
            }
        }
    }
    if !report.suppressions.is_empty() {
        let _ = writeln!(out, "\nSuppressions in effect ({}):", report.suppressions.len());
        for s in &report.suppressions {
            let what = format!("{} on {} in {}: {}", s.rule, s.logical_id, s.file, s.reason);
            let _ = writeln!(out, "  {} {}", style.yellow("SUPPRESSED"), clean(&what));
        }
    }
    let s = report.summary();
    let _ = writeln!(
        out,
        "\nSummary: {} template{}, {} rule result{}: {} {}, {} {}, {} {}; {} error{}, {} warning{}; {} suppression{}",
        s.templates,
        plural(s.templates),
        s.pass + s.fail + s.skip,
        plural(s.pass + s.fail + s.skip),
        s.pass,
        style.green("PASS"),
        s.fail,
        if s.fail > 0 {
            style.red("FAIL")
        } else {
            "FAIL".to_string()
        },
        s.skip,
        style.yellow("SKIP"),
        s.errors,
        plural(s.errors),
        s.warnings,
        plural(s.warnings),
        s.suppressions,
        plural(s.suppressions),
    );
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn template_line(out: &mut String, style: &Style, t: &TemplateReport) {
    let count = |st: RuleStatus| t.rules.iter().filter(|r| r.status == st).count();
    let (pass, fail, skip) = (
        count(RuleStatus::Pass),
        count(RuleStatus::Fail),
        count(RuleStatus::Skip),
    );
    let errors = t.findings.iter().filter(|f| f.severity == Severity::Error).count();
    let warnings = t.findings.len() - errors;
    let status = if fail > 0 || errors > 0 {
        RuleStatus::Fail
    } else {
        RuleStatus::Pass
    };
    let mut parts = Vec::new();
    for (n, what) in [(fail, "failed"), (pass, "passed"), (skip, "skipped")] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    if errors > 0 {
        parts.push(format!("{errors} error{}", plural(errors)));
    }
    if warnings > 0 {
        parts.push(format!("{warnings} warning{}", plural(warnings)));
    }
    if parts.is_empty() {
        parts.push("no rules run".to_string());
    }
    let _ = writeln!(
        out,
        "{} {} ({}): {}",
        style.status(status),
        clean(&t.file),
        clean(&t.stack),
        parts.join(", ")
    );
}

fn detail(out: &mut String, style: &Style, t: &TemplateReport, head: &str, f: &Finding) {
    let _ = writeln!(out, "{head}");
    let column = t.column_of(f);
    let at = match f.line {
        Some(line) => match column {
            Some(col) => format!("{}:{line}:{col}", t.file),
            None => format!("{}:{line}", t.file),
        },
        None => t.file.clone(),
    };
    field(out, "at", &at);
    field(out, "stack", &f.stack);
    if let Some(id) = &f.logical_id {
        field(out, "resource", id);
    }
    field(out, "property", &property_path(&f.pointer));
    if let Some(v) = &f.expected {
        field(out, "expected", v);
    }
    if let Some(v) = &f.actual {
        field(out, "actual", v);
    }
    field(out, "message", &f.message);
    if let Some(v) = &f.fix {
        field(out, "fix", v);
    }
    if f.logical_id.is_none() && rule_id_of(f) != kind_of(f) {
        // a Guard finding outside Resources: keep the raw pointer visible
        field(out, "pointer", &f.pointer);
    }
    if let Some(line) = f.line
        && let Some(src) = t.source_line(line)
    {
        let _ = writeln!(
            out,
            "  {}",
            style.dim(&format!("{line:>5} | {}", clean(&excerpt(src, column, t.is_ascii()))))
        );
    }
}

fn field(out: &mut String, name: &str, value: &str) {
    let mut lines = value.lines();
    let first = lines.next().unwrap_or("");
    let _ = writeln!(out, "  {name:<9}{}", clean(first));
    for more in lines {
        let _ = writeln!(out, "  {:<9}{}", "", clean(more));
    }
}

/// A source line longer than this many characters is cut in an excerpt: a minified template
/// is one line, and every finding would print all of it.
const EXCERPT_CHARS: usize = 160;

/// How many characters of context an excerpt keeps before a finding's column far into a line.
const EXCERPT_LEAD: usize = 40;

/// The source line as shown under a finding: trimmed, cut after [`EXCERPT_CHARS`] with " …".
/// When the finding's column (1-based, in the untrimmed line) is past the first half of that,
/// as on a minified template, the excerpt starts [`EXCERPT_LEAD`] characters before it, with
/// "… " in front.
fn excerpt(line: &str, column: Option<usize>, ascii: bool) -> Cow<'_, str> {
    let indent = line.chars().take_while(|c| c.is_whitespace()).count();
    let line = line.trim();
    let at = column.map_or(0, |c| c.saturating_sub(1).saturating_sub(indent));
    let (line, lead) = if at > EXCERPT_CHARS / 2 {
        let skip = at - EXCERPT_LEAD;
        // The byte where character `skip` starts: in ASCII text, `skip` (a minified
        // template's line can be megabytes long, and there are findings all along it).
        let from = if ascii {
            (skip < line.len()).then_some(skip)
        } else {
            line.char_indices().nth(skip).map(|(i, _)| i)
        };
        match from {
            Some(from) => (&line[from..], "… "),
            None => (line, ""),
        }
    } else {
        (line, "")
    };
    match line.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => Cow::Owned(format!("{lead}{} …", &line[..cut])),
        None if lead.is_empty() => Cow::Borrowed(line),
        None => Cow::Owned(format!("{lead}{line}")),
    }
}

/// Control characters would corrupt a terminal; show them escaped.
fn clean(s: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && c != '\t';
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}
