//! Every check a template passes before it is written (or that `check` runs on any template):
//! CloudFormation limits, cross-stack consistency, resource schemas and Guard rules.

use crate::findings::{Finding, Source};
use crate::ruleset::{self, RuleRun, RuleSet, RulesError};
use crate::synth::Synthesis;
use crate::validate::{self, crossstack, limits};
use serde_json::Value;

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
    let mut checks = structure_checks(synthesis);
    rule_checks(synthesis, &mut checks, rules)?;
    Ok(checks)
}

/// The checks that need no rules (schemas, intrinsics, limits, suppressions, cross-stack), one
/// per stack in synthesis order: they can run while the rules are still being parsed.
pub fn structure_checks(synthesis: &Synthesis) -> Vec<TemplateCheck> {
    // Templates are independent: checked on every core, reported in synthesis order.
    // Biggest templates first (see `par::map_largest_first`).
    let size = |stack: &crate::synth::SynthesizedStack| stack.rendered().text.len();
    let mut out = crate::par::map_largest_first(&synthesis.stacks, size, |stack| {
        let line_of = |p: &str| stack.rendered().line_of(p);
        let mut check = check_structure(&stack.name, &stack.value, stack.rendered().text.len(), &line_of);
        if let Some(mut f) = limits::check_stack_name(&stack.name) {
            f.line = line_of(&f.pointer);
            check.findings.push(f);
        }
        check
    });
    // Cross-stack: every import has an export in an earlier stack of the same environment.
    for env in &synthesis.environments {
        let stacks: Vec<(&str, &Value)> = synthesis
            .stacks
            .iter()
            .filter(|s| &s.environment == env)
            .map(|s| (s.name.as_str(), &s.value))
            .collect();
        for mut f in crossstack::check_environment(&stacks) {
            if let Some((i, s)) = synthesis.stacks.iter().enumerate().find(|(_, s)| s.name == f.stack) {
                f.line = s.rendered().line_of(&f.pointer);
                out[i].findings.push(f);
            }
        }
    }
    out
}

/// Adds every enabled rule's result to `checks` (from [`structure_checks`] on the same
/// synthesis), templates spread over the cores.
pub fn rule_checks(synthesis: &Synthesis, checks: &mut [TemplateCheck], rules: &RuleSet) -> Result<(), RulesError> {
    let size = |stack: &crate::synth::SynthesizedStack| stack.rendered().text.len();
    let runs = crate::par::map_largest_first(&synthesis.stacks, size, |stack| {
        ruleset::run(rules, &stack.name, &stack.value, &|p: &str| stack.rendered().line_of(p))
    });
    for (check, run) in checks.iter_mut().zip(runs) {
        check.rules = run?;
    }
    Ok(())
}

/// Runs every single-template check (resource schemas and intrinsics, limits, suppressions,
/// rules) on one template.
pub fn check_template(
    stack: &str,
    template: &Value,
    bytes: usize,
    rules: &RuleSet,
    line_of: &dyn Fn(&str) -> Option<usize>,
) -> Result<TemplateCheck, RulesError> {
    let mut check = check_structure(stack, template, bytes, line_of);
    check.rules = ruleset::run(rules, stack, template, line_of)?;
    Ok(check)
}

/// The single-template checks that need no rules: resource schemas and intrinsics, limits,
/// suppressions without a reason.
pub fn check_structure(
    stack: &str,
    template: &Value,
    bytes: usize,
    line_of: &dyn Fn(&str) -> Option<usize>,
) -> TemplateCheck {
    let mut findings = validate::validate_template(stack, template);
    findings.extend(limits::check_limits(stack, template, bytes));
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
    TemplateCheck {
        stack: stack.to_string(),
        findings,
        rules: Vec::new(),
        suppressions,
    }
}
