//! Every check a template passes before it is written (or that `check` runs on any template):
//! CloudFormation limits, cross-stack consistency, resource schemas and Guard rules.

use crate::findings::{Finding, Source};
use crate::ruleset::{self, RuleRun, RuleSet, RulesError};
use crate::synth::{Synthesis, SynthesizedStack};
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
    let mut out = crate::par::map_largest_first(&synthesis.stacks, template_size, structure_check);
    cross_stack_checks(synthesis, &mut out);
    out
}

fn template_size(stack: &SynthesizedStack) -> usize {
    stack.rendered().text.len()
}

/// [`check_structure`] and the stack name's limits, on one synthesized stack.
fn structure_check(stack: &SynthesizedStack) -> TemplateCheck {
    let line_of = |p: &str| stack.rendered().line_of(p);
    let mut check = check_structure(&stack.name, &stack.value, stack.rendered().text.len(), &line_of);
    if let Some(mut f) = limits::check_stack_name(&stack.name) {
        f.line = line_of(&f.pointer);
        check.findings.push(f);
    }
    check
}

/// Cross-stack: every import has an export in an earlier stack of the same environment.
fn cross_stack_checks(synthesis: &Synthesis, out: &mut [TemplateCheck]) {
    for env in &synthesis.environments {
        let stacks: Vec<(&str, &Value)> = synthesis
            .stacks
            .iter()
            .filter(|s| &s.environment == env)
            .map(|s| (s.name.as_str(), &s.value))
            .collect();
        for mut f in crossstack::check_environment(&stacks) {
            if let Some((i, s)) = synthesis.stacks.iter().enumerate().find(|(_, s)| s.name == f.stack)
                && let Some(check) = out.get_mut(i)
            {
                f.line = s.rendered().line_of(&f.pointer);
                check.findings.push(f);
            }
        }
    }
}

/// Every check on a synthesis while `parse` produces the rules on a thread of its own: the
/// checks that need no rules start at once, and the rule checks follow on the same workers as
/// soon as the rules are there (no barrier between the two kinds, no second set of threads).
/// Returns the checks in synthesis order, and the rules.
///
/// # Errors
/// The rules' parse error, or the first evaluation error.
pub fn check_synthesis_parsing(
    synthesis: &Synthesis,
    parse: impl FnOnce() -> Result<RuleSet, RulesError> + Send,
) -> Result<(Vec<TemplateCheck>, RuleSet), RulesError> {
    enum Task {
        Structure,
        Rules,
    }
    enum Done {
        Structure(TemplateCheck),
        Rules(Result<Vec<RuleRun>, RulesError>),
        /// The rules did not parse (or their thread panicked): nothing to run.
        NoRules,
    }
    // None: the parsing thread panicked (its payload is in `panicked`, resumed below).
    let parsed: std::sync::OnceLock<Option<Result<RuleSet, RulesError>>> = std::sync::OnceLock::new();
    let panicked = std::sync::Mutex::new(None);
    let tasks: Vec<(Task, &SynthesizedStack)> = synthesis
        .stacks
        .iter()
        .map(|s| (Task::Structure, s))
        .chain(synthesis.stacks.iter().map(|s| (Task::Rules, s)))
        .collect();
    // Structure checks first (they need no rules), each kind biggest template first.
    let rank = |(task, stack): &(Task, &SynthesizedStack)| (matches!(task, Task::Structure), template_size(stack));
    let done = std::thread::scope(|scope| {
        scope.spawn(|| {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(parse));
            let result = result.map_err(|payload| {
                if let Ok(mut slot) = panicked.lock() {
                    *slot = Some(payload);
                }
            });
            let _ = parsed.set(result.ok());
        });
        crate::par::map_largest_first(&tasks, rank, |(task, stack)| match task {
            Task::Structure => Done::Structure(structure_check(stack)),
            Task::Rules => match parsed.wait() {
                Some(Ok(rules)) => Done::Rules(ruleset::run(rules, &stack.name, &stack.value, &|p: &str| {
                    stack.rendered().line_of(p)
                })),
                _ => Done::NoRules,
            },
        })
    });
    if let Some(payload) = panicked.into_inner().ok().flatten() {
        std::panic::resume_unwind(payload);
    }
    // The scope joined the parsing thread, which sets the result unless it panicked (resumed
    // above): the error below cannot happen, it only spares an `unwrap`.
    let rules = parsed.into_inner().flatten().ok_or(RulesError::Empty {
        path: "built-in rules".into(),
    })??;
    let mut checks = Vec::with_capacity(synthesis.stacks.len());
    let mut runs = Vec::with_capacity(synthesis.stacks.len());
    for d in done {
        match d {
            Done::Structure(check) => checks.push(check),
            Done::Rules(run) => runs.push(run?),
            Done::NoRules => runs.push(Vec::new()),
        }
    }
    for (check, run) in checks.iter_mut().zip(runs) {
        check.rules = run;
    }
    cross_stack_checks(synthesis, &mut checks);
    Ok((checks, rules))
}

/// Adds every enabled rule's result to `checks` (from [`structure_checks`] on the same
/// synthesis), templates spread over the cores.
pub fn rule_checks(synthesis: &Synthesis, checks: &mut [TemplateCheck], rules: &RuleSet) -> Result<(), RulesError> {
    let runs = crate::par::map_largest_first(&synthesis.stacks, template_size, |stack| {
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
