//! JUnit XML (`--format junit`), for CI test tabs: a test suite per template, a test case per rule
//! (FAIL -> `<failure>`, SKIP -> `<skipped>`) and per schema/limit finding, each with file and line.

use super::{CheckReport, RuleOutcome, RuleStatus, Suppression, TemplateReport, kind_of, property_path};
use crate::findings::{Finding, Severity};
use std::fmt::Write;

/// Renders the report as a JUnit XML document (UTF-8, trailing newline).
pub fn render_junit(report: &CheckReport) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let all = report.templates.iter().map(counts).fold(Counts::default(), Counts::add);
    let _ = writeln!(
        out,
        "<testsuites name=\"kiro-infra check\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\">",
        all.tests, all.failures, all.skipped
    );
    for t in &report.templates {
        let c = counts(t);
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" file=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\">",
            attr(&t.stack),
            attr(&t.file),
            c.tests,
            c.failures,
            c.skipped
        );
        let own: Vec<&Suppression> = report.suppressions.iter().filter(|s| s.file == t.file).collect();
        suppressions(&mut out, &own);
        for f in &t.findings {
            finding_case(&mut out, t, f);
        }
        for r in &t.rules {
            rule_case(&mut out, t, r);
        }
        out.push_str("  </testsuite>\n");
    }
    // suppressions in files that are not among the templates still show up
    let other: Vec<&Suppression> = report
        .suppressions
        .iter()
        .filter(|s| !report.templates.iter().any(|t| t.file == s.file))
        .collect();
    if !other.is_empty() {
        out.push_str("  <testsuite name=\"suppressions\" tests=\"0\" failures=\"0\" errors=\"0\" skipped=\"0\">\n");
        suppressions(&mut out, &other);
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn suppressions(out: &mut String, list: &[&Suppression]) {
    if list.is_empty() {
        return;
    }
    out.push_str("    <properties>\n");
    for s in list {
        let value = format!("{} on {} in {}: {}", s.rule, s.logical_id, s.file, s.reason);
        let _ = writeln!(out, "      <property name=\"suppression\" value=\"{}\"/>", attr(&value));
    }
    out.push_str("    </properties>\n");
}

#[derive(Default, Clone, Copy)]
struct Counts {
    tests: usize,
    failures: usize,
    skipped: usize,
}

impl Counts {
    fn add(self, o: Counts) -> Counts {
        Counts {
            tests: self.tests + o.tests,
            failures: self.failures + o.failures,
            skipped: self.skipped + o.skipped,
        }
    }
}

fn counts(t: &TemplateReport) -> Counts {
    let failed_findings = t.findings.iter().filter(|f| f.severity == Severity::Error).count();
    Counts {
        tests: t.rules.len() + t.findings.len(),
        failures: t.rules.iter().filter(|r| r.status == RuleStatus::Fail).count() + failed_findings,
        skipped: t.rules.iter().filter(|r| r.status == RuleStatus::Skip).count(),
    }
}

fn rule_case(out: &mut String, t: &TemplateReport, r: &RuleOutcome) {
    let line = r.violations.iter().find_map(|v| v.line);
    let _ = write!(
        out,
        "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\"",
        attr(&r.rule),
        attr(&format!("{} {}", t.stack, r.rules_file)),
        attr(&t.file)
    );
    if let Some(line) = line {
        let _ = write!(out, " line=\"{line}\"");
    }
    match r.status {
        RuleStatus::Pass => out.push_str("/>\n"),
        RuleStatus::Skip => {
            out.push_str(">\n      <skipped message=\"no resource the rule applies to\"/>\n    </testcase>\n");
        }
        RuleStatus::Fail => {
            let message = r
                .violations
                .first()
                .map(|v| v.message.as_str())
                .unwrap_or("rule failed");
            let _ = write!(
                out,
                ">\n      <failure type=\"{}\" message=\"{}\">",
                attr(&r.rule),
                attr(message)
            );
            let body: Vec<String> = r.violations.iter().map(|v| describe(t, v)).collect();
            out.push_str(&text(&body.join("\n\n")));
            out.push_str("</failure>\n    </testcase>\n");
        }
    }
}

fn finding_case(out: &mut String, t: &TemplateReport, f: &Finding) {
    let _ = write!(
        out,
        "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\"",
        attr(&format!(
            "{} {}",
            kind_of(f),
            if f.pointer.is_empty() { "(template)" } else { &f.pointer }
        )),
        attr(&format!("{} {}", t.stack, kind_of(f))),
        attr(&t.file)
    );
    if let Some(line) = f.line {
        let _ = write!(out, " line=\"{line}\"");
    }
    match f.severity {
        Severity::Error => {
            let _ = write!(
                out,
                ">\n      <failure type=\"{}\" message=\"{}\">",
                attr(kind_of(f)),
                attr(&f.message)
            );
            out.push_str(&text(&describe(t, f)));
            out.push_str("</failure>\n    </testcase>\n");
        }
        Severity::Warning => {
            let _ = write!(
                out,
                ">\n      <system-out>{}</system-out>\n    </testcase>\n",
                text(&describe(t, f))
            );
        }
    }
}

/// The failure body: what a user needs to find and fix the problem.
fn describe(t: &TemplateReport, f: &Finding) -> String {
    let mut s = match f.line {
        Some(line) => format!("{}:{line}", t.file),
        None => t.file.clone(),
    };
    let _ = write!(s, "\nstack: {}", f.stack);
    if let Some(id) = &f.logical_id {
        let _ = write!(s, "\nresource: {id}");
    }
    let _ = write!(s, "\nproperty: {}", property_path(&f.pointer));
    if let Some(v) = &f.expected {
        let _ = write!(s, "\nexpected: {v}");
    }
    if let Some(v) = &f.actual {
        let _ = write!(s, "\nactual: {v}");
    }
    let _ = write!(s, "\nmessage: {}", f.message);
    if let Some(v) = &f.fix {
        let _ = write!(s, "\nfix: {v}");
    }
    s
}

/// Characters XML 1.0 cannot carry even escaped become a visible `\u{..}` escape.
fn push_char(out: &mut String, c: char) {
    let allowed = matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..);
    if allowed {
        out.push(c);
    } else {
        out.push_str(&c.escape_unicode().to_string());
    }
}

/// Escapes element text.
pub(crate) fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => push_char(&mut out, c),
        }
    }
    out
}

/// Escapes an attribute value (double-quoted); whitespace is kept as character references so
/// parsers do not normalise it away.
pub(crate) fn attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c => push_char(&mut out, c),
        }
    }
    out
}
