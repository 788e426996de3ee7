//! Times each built-in rules file on the 9 synthesized templates (developer aid).
use std::time::Instant;
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
fn main() {
    let config = kiro_infra::config::Config::embedded().expect("config");
    let s = kiro_infra::synth::synthesize(&config, &[]).expect("synth");
    let files = kiro_infra::ruleset::RuleSet::builtin().expect("builtin rules");
    for f in &files {
        let t = Instant::now();
        for _ in 0..9 {
            let _ = kiro_infra::guard::parse_rules(&f.source, &f.name).unwrap();
        }
        let p = kiro_infra::guard::parse_rules(&f.source, &f.name).unwrap();
        let parse = t.elapsed() / 10;
        let t = Instant::now();
        for _ in 0..10 {
            for st in &s.stacks {
                let _ = kiro_infra::guard::eval::evaluate(&p, &st.value);
            }
        }
        println!("{:30} parse {:>8.3?} eval {:>8.3?}", f.name, parse, t.elapsed() / 10);
    }
}
