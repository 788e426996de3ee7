//! Every check a template passes before it is written (or that `check` runs on any template):
//! CloudFormation limits, cross-stack consistency, resource schemas and Guard rules.

use crate::findings::{Finding, Source};
use crate::ruleset::{self, RuleRun, RuleSet, RulesError};
use crate::synth::{INLINE_TEMPLATE_LIMIT, Synthesis};
use serde_json::Value;

/// CloudFormation's hard limit on a template body uploaded through S3.
pub const TEMPLATE_BODY_LIMIT: usize = 1_000_000;

/// What checking one template found.
#[derive(Debug, Clone)]
pub struct TemplateCheck {
    pub stack: String,
    /// Limit, schema, cross-stack and suppression findings.
    pub findings: Vec<Finding>,
    /// Every enabled rule's result.
    pub rules: Vec<RuleRun>,
    pub suppressions: Vec<ruleset::Suppression>,
}

impl TemplateCheck {
    /// Every finding, rule violations included.
    pub fn all_findings(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .chain(self.rules.iter().flat_map(|r| r.violations.iter()))
    }
}

/// Runs every check on a synthesis; findings carry the line in the rendered template.
pub fn check_synthesis(synthesis: &Synthesis, rules: &RuleSet) -> Result<Vec<TemplateCheck>, RulesError> {
    let mut out = Vec::new();
    for stack in &synthesis.stacks {
        let line_of = |p: &str| stack.rendered.line_of(p);
        out.push(check_template(
            &stack.name,
            &stack.value,
            stack.rendered.text.len(),
            rules,
            &line_of,
        )?);
    }
    Ok(out)
}

/// Runs every single-template check (limits, suppressions, rules) on one template.
pub fn check_template(
    stack: &str,
    template: &Value,
    bytes: usize,
    rules: &RuleSet,
    line_of: &dyn Fn(&str) -> Option<usize>,
) -> Result<TemplateCheck, RulesError> {
    let mut findings = limits(stack, template, bytes);
    let suppressions = ruleset::suppressions(template);
    for s in &suppressions {
        if s.reason.is_none() {
            findings.push(
                Finding::new(
                    Source::Guard {
                        rule: s.rule.clone(),
                        file: "suppression".into(),
                    },
                    stack,
                    format!(
                        "/Resources/{}/Metadata/guard/SuppressedRules",
                        crate::findings::escape_pointer_token(&s.logical_id)
                    ),
                    format!("rule {} is suppressed without a written reason", s.rule),
                )
                .expected(format!("Metadata.guard.SuppressionReasons.{} with the reason", s.rule))
                .fix("write why the rule does not apply to this resource beside the suppression"),
            );
        }
    }
    for f in &mut findings {
        f.line = line_of(&f.pointer);
    }
    let rules = ruleset::run(rules, stack, template, line_of)?;
    Ok(TemplateCheck {
        stack: stack.to_string(),
        findings,
        rules,
        suppressions,
    })
}

/// Size and count limits of one template.
pub fn limits(stack: &str, template: &Value, bytes: usize) -> Vec<Finding> {
    let mut out = Vec::new();
    if bytes > TEMPLATE_BODY_LIMIT {
        out.push(
            Finding::new(
                Source::Limit,
                stack,
                "",
                format!("the template is {bytes} bytes; CloudFormation accepts at most {TEMPLATE_BODY_LIMIT}"),
            )
            .fix("split the stack"),
        );
    } else if bytes > INLINE_TEMPLATE_LIMIT {
        out.push(
            Finding::new(
                Source::Limit,
                stack,
                "",
                format!("the template is {bytes} bytes, over the {INLINE_TEMPLATE_LIMIT}-byte inline limit"),
            )
            .fix("deploy with --s3-bucket (the manifest's deploy command does)")
            .warning(),
        );
    }
    for (section, max) in [("Resources", 500), ("Outputs", 200), ("Parameters", 200)] {
        let n = template.get(section).and_then(Value::as_object).map_or(0, |m| m.len());
        if n > max {
            out.push(Finding::new(
                Source::Limit,
                stack,
                format!("/{section}"),
                format!("{n} {section}; CloudFormation accepts at most {max}"),
            ));
        }
    }
    out
}
