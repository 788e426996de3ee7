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

/// A synthesis built and checked with the built-in rules, parsed beside it, every core busy and
/// none oversubscribed: a helper thread parses rules files from the start, then checks
/// templates (rule checks first); the calling thread loads the config with `load` and builds
/// the environments one after the other, each environment's templates open for checking as
/// soon as they are built, runs `prepare` on the environments' names and every stack (work
/// that needs the templates but not the verdict, such as staging the output), parses the rules
/// files the helper has not taken yet (a thread can start late on a busy machine), then checks
/// too (structure checks first). Cores beyond two check from the start.
///
/// # Errors
/// The config's or a stack's error (the parse is then left to finish, unused), the rules'
/// parse error, or the first evaluation error in synthesis order.
pub fn synthesize_and_check<P>(
    load: impl FnOnce() -> Result<crate::config::Config, crate::error::Error>,
    envs: &[String],
    prepare: impl FnOnce(&[String], &[&SynthesizedStack]) -> P,
) -> Result<(Synthesis, Vec<TemplateCheck>, RuleSet, P), crate::error::Error> {
    run_pipeline(
        |work| {
            let config = load()?;
            let selected = config.select(envs)?;
            work.open(selected.len());
            for (i, (name, env)) in selected.iter().enumerate() {
                crate::trace::mark(format_args!("env {name} start"));
                let stacks = crate::synth::build_environment(name, env, true)?;
                work.publish(i, stacks);
            }
            Ok(selected.iter().map(|(name, _)| name.to_string()).collect())
        },
        prepare,
    )
}

/// Every check on a synthesis already built, with the built-in rules parsed beside the checks
/// that need none (the work of [`synthesize_and_check`] with every environment ready at once).
/// Returns the synthesis, its checks in synthesis order, and the rules.
///
/// # Errors
/// The rules' parse error, or the first evaluation error in synthesis order.
pub fn check_built(synthesis: Synthesis) -> Result<(Synthesis, Vec<TemplateCheck>, RuleSet), crate::error::Error> {
    let Synthesis { environments, stacks } = synthesis;
    let (synthesis, checks, rules, ()) = run_pipeline(
        |work| {
            work.open(environments.len());
            let mut rest = stacks;
            for (i, env) in environments.iter().enumerate() {
                let (mine, others): (Vec<_>, Vec<_>) = rest.into_iter().partition(|s| &s.environment == env);
                work.publish(i, mine);
                rest = others;
            }
            Ok(environments)
        },
        |_, _| (),
    )?;
    Ok((synthesis, checks, rules))
}

/// The threads of [`synthesize_and_check`] and [`check_built`]: `build` runs on the calling
/// thread and publishes each environment's stacks (returning the environments' names), then
/// `prepare` runs there, then that thread parses what is left of the rules and checks.
fn run_pipeline<P>(
    build: impl FnOnce(&Pipeline) -> Result<Vec<String>, crate::error::Error>,
    prepare: impl FnOnce(&[String], &[&SynthesizedStack]) -> P,
) -> Result<(Synthesis, Vec<TemplateCheck>, RuleSet, P), crate::error::Error> {
    let work = Pipeline::default();
    let built = crate::par::scope(|scope| {
        scope
            .spawn(|| {
                crate::trace::mark(format_args!("rules job running"));
                work.parse();
                work.check(Kind::Rules);
            })
            .map_err(crate::error::Error::Thread)?;
        for _ in 2..crate::par::cores() {
            // Optional help: this thread checks too.
            let _ = scope.spawn(|| work.check(Kind::Structure));
        }
        // However this closure ends (a panic included), the workers waiting for checks are
        // released, so that the scope can join them.
        let _release = Release(&work);
        let built = build(&work);
        work.close(built.is_err());
        let names = built?;
        let stacks: Vec<&SynthesizedStack> = work
            .envs
            .get()
            .into_iter()
            .flatten()
            .filter_map(|env| env.get())
            .flatten()
            .collect();
        let prepared = prepare(&names, &stacks);
        crate::trace::mark(format_args!("prepared"));
        work.parse();
        work.check(Kind::Structure);
        Ok::<_, crate::error::Error>((names, prepared))
    })?;
    let (names, prepared) = built;
    let (synthesis, checks, rules) = work.finish(names)?;
    Ok((synthesis, checks, rules, prepared))
}

/// Closes the pipeline's queue when dropped (abandoning what is left on a panic).
struct Release<'p>(&'p Pipeline);

impl Drop for Release<'_> {
    fn drop(&mut self) {
        self.0.close(std::thread::panicking());
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Structure,
    Rules,
}

/// The shared state of [`run_pipeline`].
#[derive(Default)]
struct Pipeline {
    /// The built-in rules, once every file is parsed. None: a parse panicked (its payload is in
    /// `panicked`, resumed by `finish`).
    rules: std::sync::OnceLock<Option<Result<RuleSet, RulesError>>>,
    /// How many built-in rules files threads have taken (a position in the parse order), and
    /// the files parsed so far with their index in `BUILTIN_RULES`, in the order they finished.
    next_file: std::sync::atomic::AtomicUsize,
    files: std::sync::Mutex<Vec<(usize, Result<crate::ruleset::LoadedRules, RulesError>)>>,
    panicked: std::sync::Mutex<Option<Box<dyn std::any::Any + Send>>>,
    /// Each selected environment's stacks, in config order, set as each is built.
    envs: std::sync::OnceLock<Box<[std::sync::OnceLock<Vec<SynthesizedStack>>]>>,
    queue: std::sync::Mutex<Queue>,
    more: std::sync::Condvar,
}

/// Checks to run ((environment, stack) positions, with the template's size) and run.
#[derive(Default)]
struct Queue {
    structure: Vec<(usize, (usize, usize))>,
    rules: Vec<(usize, (usize, usize))>,
    /// No more checks will come (every environment built, or building failed).
    closed: bool,
    done: Vec<((usize, usize), Checked)>,
}

enum Checked {
    Structure(TemplateCheck),
    Rules(RulesOutcome),
}

/// A template's rule results; None when there were no rules to run (they did not parse).
type RulesOutcome = Option<Result<Vec<RuleRun>, RulesError>>;

impl Pipeline {
    /// Parses built-in rules files no thread has taken yet; whoever parses the last one sets
    /// the rules. A panic is caught (and resumed by `finish`) so that no thread waits for rules
    /// forever.
    fn parse(&self) {
        use std::sync::atomic::Ordering;
        let sources = crate::ruleset::BUILTIN_RULES;
        let parsing = || {
            let mut took = false;
            // Biggest file first, so that two threads parsing end close together.
            let mut order: Vec<usize> = (0..sources.len()).collect();
            order.sort_by_key(|&i| std::cmp::Reverse(sources[i].1.len()));
            loop {
                let Some(&i) = order.get(self.next_file.fetch_add(1, Ordering::Relaxed)) else {
                    return;
                };
                let Some(source) = sources.get(i) else { return };
                if !took {
                    crate::trace::mark(format_args!("parse rules start"));
                    took = true;
                }
                let loaded = crate::ruleset::load_builtin(source);
                let mut files = self.files.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                files.push((i, loaded));
                if files.len() < sources.len() {
                    continue;
                }
                // The last file: the set, files in their order.
                let mut parsed = std::mem::take(&mut *files);
                drop(files);
                crate::trace::mark(format_args!("parse rules end"));
                parsed.sort_by_key(|(i, _)| *i);
                let set = parsed
                    .into_iter()
                    .map(|(_, loaded)| loaded)
                    .collect::<Result<Vec<_>, _>>()
                    .and_then(|loaded| RuleSet::new(loaded, Vec::new(), Vec::new()));
                let _ = self.rules.set(Some(set));
                return;
            }
        };
        if let Err(payload) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(parsing)) {
            if let Ok(mut slot) = self.panicked.lock() {
                *slot = Some(payload);
            }
            let _ = self.rules.set(None);
        }
    }

    /// `count` environments will be published.
    fn open(&self, count: usize) {
        let _ = self.envs.set((0..count).map(|_| std::sync::OnceLock::new()).collect());
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Environment `env` is built: its templates are open for checking.
    fn publish(&self, env: usize, stacks: Vec<SynthesizedStack>) {
        let Some(slot) = self.envs.get().and_then(|e| e.get(env)) else {
            return;
        };
        let sizes: Vec<usize> = stacks.iter().map(template_size).collect();
        let _ = slot.set(stacks);
        let mut queue = self.queue();
        for (i, size) in sizes.into_iter().enumerate() {
            queue.structure.push((size, (env, i)));
            queue.rules.push((size, (env, i)));
        }
        drop(queue);
        self.more.notify_all();
    }

    /// No more environments will come; with `abandon`, the checks not yet started are dropped.
    fn close(&self, abandon: bool) {
        let mut queue = self.queue();
        queue.closed = true;
        if abandon {
            queue.structure.clear();
            queue.rules.clear();
        }
        drop(queue);
        self.more.notify_all();
    }

    /// Takes and runs checks, `first` kind first, biggest template first (see
    /// `par::map_largest_first`), until the queue is closed and empty.
    fn check(&self, first: Kind) {
        // The biggest template's position among `tasks`, taken out.
        fn biggest(tasks: &mut Vec<(usize, (usize, usize))>) -> Option<(usize, usize)> {
            let (i, _) = tasks.iter().enumerate().max_by_key(|(_, (size, _))| *size)?;
            Some(tasks.swap_remove(i).1)
        }
        loop {
            let task = {
                let mut queue = self.queue();
                loop {
                    let (a, b) = match first {
                        Kind::Structure => (&mut queue.structure, Kind::Structure),
                        Kind::Rules => (&mut queue.rules, Kind::Rules),
                    };
                    if let Some(at) = biggest(a) {
                        break Some((b, at));
                    }
                    let (a, b) = match first {
                        Kind::Structure => (&mut queue.rules, Kind::Rules),
                        Kind::Rules => (&mut queue.structure, Kind::Structure),
                    };
                    if let Some(at) = biggest(a) {
                        break Some((b, at));
                    }
                    if queue.closed {
                        break None;
                    }
                    queue = self.more.wait(queue).unwrap_or_else(std::sync::PoisonError::into_inner);
                }
            };
            let Some((kind, (env, i))) = task else { return };
            let Some(stack) = self
                .envs
                .get()
                .and_then(|e| e.get(env))
                .and_then(|s| s.get())
                .and_then(|s| s.get(i))
            else {
                continue;
            };
            let label = if kind == Kind::Rules { "rules" } else { "structure" };
            crate::trace::mark(format_args!("{label} {} start", stack.name));
            let checked = match kind {
                Kind::Structure => Checked::Structure(structure_check(stack)),
                Kind::Rules => Checked::Rules(match self.rules.wait() {
                    Some(Ok(rules)) => Some(ruleset::run(rules, &stack.name, &stack.value, &|p: &str| {
                        stack.rendered().line_of(p)
                    })),
                    _ => None,
                }),
            };
            crate::trace::mark(format_args!("{label} {} end", stack.name));
            self.queue().done.push(((env, i), checked));
        }
    }

    /// The synthesis, its checks in synthesis order with the cross-stack findings, and the
    /// rules, once every thread has returned.
    fn finish(self, environments: Vec<String>) -> Result<(Synthesis, Vec<TemplateCheck>, RuleSet), RulesError> {
        if let Some(payload) = self.panicked.into_inner().ok().flatten() {
            std::panic::resume_unwind(payload);
        }
        let rules = self.rules.into_inner().flatten().ok_or(RulesError::Unfinished {
            what: "parsing the rules",
        })??;
        let mut offsets = Vec::new();
        let mut stacks = Vec::new();
        for env in self.envs.into_inner().unwrap_or_default() {
            offsets.push(stacks.len());
            stacks.extend(env.into_inner().unwrap_or_default());
        }
        let mut structure: Vec<Option<TemplateCheck>> = stacks.iter().map(|_| None).collect();
        let mut runs: Vec<Option<RulesOutcome>> = stacks.iter().map(|_| None).collect();
        let queue = self
            .queue
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for ((env, i), checked) in queue.done {
            let at = offsets.get(env).map_or(usize::MAX, |o| o + i);
            match checked {
                Checked::Structure(c) => {
                    if let Some(slot) = structure.get_mut(at) {
                        *slot = Some(c);
                    }
                }
                Checked::Rules(r) => {
                    if let Some(slot) = runs.get_mut(at) {
                        *slot = Some(r);
                    }
                }
            }
        }
        let mut checks = Vec::with_capacity(stacks.len());
        for (check, run) in structure.into_iter().zip(runs) {
            // Every check ran: the threads returned with the queue closed and empty.
            let (Some(mut check), Some(run)) = (check, run) else {
                return Err(RulesError::Unfinished { what: "checking" });
            };
            check.rules = match run {
                Some(run) => run?,
                None => Vec::new(),
            };
            checks.push(check);
        }
        let synthesis = Synthesis { environments, stacks };
        cross_stack_checks(&synthesis, &mut checks);
        Ok((synthesis, checks, rules))
    }
}
