//! Times each built-in rule alone on the 9 synthesized templates (developer aid): the file's
//! `let`s are kept, the other rules dropped.
use std::time::Instant;
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
fn main() {
    let config = kiro_infra::config::Config::embedded().expect("config");
    let s = kiro_infra::synth::synthesize(&config, &[]).expect("synth");
    let files = kiro_infra::ruleset::RuleSet::builtin().expect("builtin rules");
    let mut rows = Vec::new();
    {
        let mut none = kiro_infra::guard::parse_rules(&files[0].source, &files[0].name).expect("parses");
        none.rules.clear();
        let t = Instant::now();
        for _ in 0..5 {
            for st in &s.stacks {
                let _ = kiro_infra::guard::eval::evaluate(&none, &st.value);
            }
        }
        println!("{:>10.3?} (no rule: converting the 9 templates)", t.elapsed() / 5);
    }
    for f in &files {
        for (i, rule) in f.rules.rules.iter().enumerate() {
            let mut one = kiro_infra::guard::parse_rules(&f.source, &f.name).expect("parses");
            let keep = one.rules.remove(i);
            one.rules = vec![keep];
            for st in &s.stacks {
                let _ = kiro_infra::guard::eval::evaluate(&one, &st.value);
            }
            let t = Instant::now();
            for _ in 0..20 {
                for st in &s.stacks {
                    let _ = kiro_infra::guard::eval::evaluate(&one, &st.value);
                }
            }
            rows.push((t.elapsed() / 20, format!("{} {}", f.name, rule.name)));
        }
    }
    rows.sort();
    rows.reverse();
    for (t, name) in rows.iter().take(25) {
        println!("{t:>10.3?} {name}");
    }
}
