//! Times the rules and the schema checks on each synthesized template (developer aid).
use std::time::Instant;
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
fn main() {
    let config = kiro_infra::config::Config::embedded().expect("config");
    let s = kiro_infra::synth::synthesize(&config, &[]).expect("synth");
    let files = kiro_infra::ruleset::RuleSet::builtin().expect("builtin rules");
    let set = kiro_infra::ruleset::RuleSet::new(files, vec![], vec![]).expect("rule set");
    for st in &s.stacks {
        let _ = kiro_infra::ruleset::run(&set, &st.name, &st.value, &|_| None);
        let _ = kiro_infra::validate::validate_template(&st.name, &st.value);
    }
    for st in &s.stacks {
        let t = Instant::now();
        for _ in 0..10 {
            let _ = kiro_infra::ruleset::run(&set, &st.name, &st.value, &|_| None);
        }
        let rules = t.elapsed() / 10;
        let t = Instant::now();
        for _ in 0..10 {
            let _ = kiro_infra::validate::validate_template(&st.name, &st.value);
        }
        let schemas = t.elapsed() / 10;
        println!(
            "{:40} {:>6} bytes rules {rules:>10.3?} schemas {schemas:>10.3?}",
            st.name,
            st.rendered().text.len()
        );
    }
}
