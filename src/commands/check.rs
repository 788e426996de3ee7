//! `kiro-infra check`: every check on any template, in text, JSON, SARIF or JUnit.

use crate::checks::{TemplateCheck, check_synthesis, check_template};
use crate::cli::{CheckArgs, ReportFormat};
use crate::commands::rules;
use crate::error::{Error, Exit};
use crate::findings::Severity;
use crate::report::{self, CheckReport, RuleOutcome, RuleStatus, SourceIndex, Suppression, TemplateReport};
use crate::ruleset::RuleSet;
use crate::template_io::{self, DocumentError};
use crate::{config, render, synth};
use serde_json::Value;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

pub fn run(args: &CheckArgs) -> Result<Exit, Error> {
    let base = rules::load(&args.source)?;
    let set = RuleSet::new(base.files, args.profiles.clone(), args.enable.clone())?;

    let mut report = CheckReport::default();
    if args.paths.is_empty() {
        let config = config::load(args.config.config.as_deref())?;
        let synthesis = synth::synthesize(&config, &args.envs)?;
        let checks = check_synthesis(&synthesis, &set)?;
        for (stack, check) in synthesis.stacks.iter().zip(checks) {
            push(
                &mut report,
                stack.file.clone(),
                check,
                Some(stack.rendered().text.clone()),
                SourceIndex::default(),
            );
        }
    } else {
        // Files are read, parsed and checked on every core; the report keeps their order.
        let files = collect(&args.paths)?;
        let checked = crate::par::map(&files, |file| check_file(file, &set));
        for result in checked {
            let (display, check, text, positions) = result?;
            let index = positions.map_or_else(SourceIndex::default, SourceIndex::with_positions);
            push(&mut report, display, check, Some(text), index);
        }
    }

    let out = match args.format {
        ReportFormat::Text => {
            let color = !args.no_color && std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal();
            report::render_text(&report, color)
        }
        ReportFormat::Json => report::render_json(&report),
        ReportFormat::Sarif => report::render_sarif(&report),
        ReportFormat::Junit => report::render_junit(&report),
    };
    print!("{out}");
    let failed = report
        .templates
        .iter()
        .flat_map(|t| t.all_findings())
        .any(|f| f.severity == Severity::Error);
    Ok(if failed { Exit::Violations } else { Exit::Ok })
}

/// Adds one template's check results to a report (shared with `synth`'s gate); `index` may
/// carry what the check already knows of the source's positions.
pub(crate) fn push(
    report: &mut CheckReport,
    file: String,
    check: TemplateCheck,
    source: Option<String>,
    index: SourceIndex,
) {
    for s in &check.suppressions {
        report.suppressions.push(Suppression {
            file: file.clone(),
            logical_id: s.logical_id.clone(),
            rule: s.rule.clone(),
            reason: s.reason.clone().unwrap_or_else(|| "(no reason given: an error)".into()),
        });
    }
    report.templates.push(TemplateReport {
        file,
        stack: check.stack.clone(),
        rules: check
            .rules
            .into_iter()
            .map(|r| RuleOutcome {
                rule: r.rule,
                rules_file: r.file,
                status: match r.status {
                    crate::guard::Status::Pass => RuleStatus::Pass,
                    crate::guard::Status::Fail => RuleStatus::Fail,
                    crate::guard::Status::Skip => RuleStatus::Skip,
                },
                violations: r.violations,
            })
            .collect(),
        findings: check.findings,
        source,
        index,
    });
}

/// The template files named: files as given, directories searched (sorted) for templates.
fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found = Vec::new();
            walk(p, &mut found)?;
            found.sort();
            if found.is_empty() {
                return Err(Error::Io {
                    path: p.display().to_string(),
                    action: "no templates (*.json, *.yaml, *.yml, *.template) in",
                    source: std::io::Error::from(std::io::ErrorKind::NotFound),
                });
            }
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Io {
        path: dir.display().to_string(),
        action: "cannot list",
        source,
    })?;
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let is_template = [".json", ".yaml", ".yml", ".template"]
                .iter()
                .any(|x| name.ends_with(x))
                && name != "manifest.json"
                && !name.ends_with("_tests.yaml");
            if is_template {
                out.push(p);
            }
        }
    }
    Ok(())
}

/// Reads, parses and checks one template file: (its name as given, the check, its text, and
/// a JSON text's positions when a finding needed them).
fn check_file(file: &Path, set: &RuleSet) -> Result<(String, TemplateCheck, String, Option<render::Positions>), Error> {
    let display = file.display().to_string();
    let text = std::fs::read_to_string(file).map_err(|source| DocumentError::Io {
        file: display.clone(),
        source,
    })?;
    let doc = template_io::parse_document(&text, &display)?;
    let template = template_io::unwrap_template_body(doc, &display)?;
    if !template.get("Resources").is_some_and(Value::is_object) {
        return Err(DocumentError::Shape {
            file: display,
            path: "Resources".into(),
            message: "not a CloudFormation template: it has no `Resources` mapping".into(),
        }
        .into());
    }
    let is_json = text.trim_start().starts_with('{');
    // Indexed once, and only if a finding needs a line; a JSON text's positions go on to the
    // report (columns).
    let json = std::cell::OnceCell::new();
    let yaml = std::cell::OnceCell::new();
    let line_of = |pointer: &str| -> Option<usize> {
        if is_json {
            render::line_of(json.get_or_init(|| render::pointer_positions(&text)), pointer).map(|(line, _)| line)
        } else {
            render::line_of(yaml.get_or_init(|| config::lines::pointer_lines(&text)), pointer)
        }
    };
    let stack = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| display.clone());
    let check = check_template(&stack, &template, text.len(), set, &line_of)?;
    Ok((display, check, text, json.into_inner()))
}
