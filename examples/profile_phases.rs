//! Times the phases of a synth (developer aid: `cargo run --release --example profile_phases`).
use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let t = Instant::now();
    let files = kiro_infra::ruleset::RuleSet::builtin().expect("builtin rules");
    println!("parse built-in rules: {:?}", t.elapsed());
    let set = kiro_infra::ruleset::RuleSet::new(files, vec![], vec![]).expect("rule set");
    let t = Instant::now();
    let config = kiro_infra::config::Config::embedded().expect("config");
    println!("config: {:?}", t.elapsed());
    let t = Instant::now();
    let s = kiro_infra::synth::synthesize(&config, &[]).expect("synth");
    println!("build + render: {:?}", t.elapsed());
    let t = Instant::now();
    for st in &s.stacks {
        let _ = kiro_infra::validate::validate_template(&st.name, &st.value);
    }
    println!("schemas (first, compiles): {:?}", t.elapsed());
    let t = Instant::now();
    for st in &s.stacks {
        let _ = kiro_infra::validate::validate_template(&st.name, &st.value);
    }
    println!("schemas (warm): {:?}", t.elapsed());
    let t = Instant::now();
    for st in &s.stacks {
        let _ = kiro_infra::ruleset::run(&set, &st.name, &st.value, &|_| None);
    }
    println!("rules: {:?}", t.elapsed());
    let t = Instant::now();
    let mut n = 0;
    for st in &s.stacks {
        n += kiro_infra::guard::value::Node::from_json(&st.value).path.len();
    }
    println!("guard data conversion alone: {:?} ({n})", t.elapsed());
    let t = Instant::now();
    let total: usize = s.stacks.iter().map(|s| s.rendered().text.len()).sum();
    println!("template bytes: {total} ({:?})", t.elapsed());
}
