//! Where the checks' time goes on the 9 synthesized templates (developer aid):
//! `cargo run --release --example breakdown -- [files|rules|templates]` (default: all three).
//!
//! - `files`: each built-in rules file, parsed and evaluated alone;
//! - `rules`: each built-in rule alone (its file's `let`s kept), the 25 costliest;
//! - `templates`: rules and schema checks per template.
use kiro_infra::guard::{eval::evaluate, parse_rules};
use kiro_infra::ruleset::{LoadedRules, RuleSet};
use kiro_infra::synth::Synthesis;
use std::time::{Duration, Instant};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Mean time of `runs` calls of `f`.
fn mean(runs: u32, mut f: impl FnMut()) -> Duration {
    let t = Instant::now();
    for _ in 0..runs {
        f();
    }
    t.elapsed() / runs
}

fn main() {
    let config = kiro_infra::config::Config::embedded().expect("config");
    let s = kiro_infra::synth::synthesize(&config, &[]).expect("synth");
    let files = RuleSet::builtin().expect("builtin rules");
    let what = std::env::args().nth(1);
    let wants = |name: &str| what.as_deref().is_none_or(|w| w == name);
    if wants("files") {
        per_file(&s, &files);
    }
    if wants("rules") {
        per_rule(&s, &files);
    }
    if wants("templates") {
        per_template(&s, RuleSet::new(files, vec![], vec![]).expect("rule set"));
    }
}

fn per_file(s: &Synthesis, files: &[LoadedRules]) {
    for f in files {
        let parse = mean(10, || {
            let _ = parse_rules(&f.source, &f.name);
        });
        let rules = parse_rules(&f.source, &f.name).expect("parses");
        let eval = mean(10, || {
            for st in &s.stacks {
                let _ = evaluate(&rules, &st.value);
            }
        });
        println!("{:30} parse {parse:>10.3?} eval {eval:>10.3?}", f.name);
    }
}

fn per_rule(s: &Synthesis, files: &[LoadedRules]) {
    let run_all = |rules: &kiro_infra::guard::ast::RulesFile| {
        for st in &s.stacks {
            let _ = evaluate(rules, &st.value);
        }
    };
    let mut none = parse_rules(&files[0].source, &files[0].name).expect("parses");
    none.rules.clear();
    println!(
        "{:>10.3?} (no rule: converting the 9 templates)",
        mean(5, || run_all(&none))
    );
    let mut rows = Vec::new();
    for f in files {
        for (i, rule) in f.rules.rules.iter().enumerate() {
            let mut one = parse_rules(&f.source, &f.name).expect("parses");
            one.rules = vec![one.rules.remove(i)];
            run_all(&one);
            rows.push((mean(20, || run_all(&one)), format!("{} {}", f.name, rule.name)));
        }
    }
    rows.sort();
    for (t, name) in rows.iter().rev().take(25) {
        println!("{t:>10.3?} {name}");
    }
}

fn per_template(s: &Synthesis, set: RuleSet) {
    for st in &s.stacks {
        let _ = kiro_infra::ruleset::run(&set, &st.name, &st.value, &|_| None);
        let _ = kiro_infra::validate::validate_template(&st.name, &st.value);
    }
    for st in &s.stacks {
        let rules = mean(10, || {
            let _ = kiro_infra::ruleset::run(&set, &st.name, &st.value, &|_| None);
        });
        let schemas = mean(10, || {
            let _ = kiro_infra::validate::validate_template(&st.name, &st.value);
        });
        let bytes = st.rendered().text.len();
        println!(
            "{:40} {bytes:>6} bytes rules {rules:>10.3?} schemas {schemas:>10.3?}",
            st.name
        );
    }
}
