use std::time::Instant;
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(20);
    let files = kiro_infra::ruleset::RuleSet::builtin().expect("builtin rules");
    let set = kiro_infra::ruleset::RuleSet::new(files, vec![], vec![]).expect("rule set");
    let config = kiro_infra::config::Config::embedded().expect("config");
    let s = kiro_infra::synth::synthesize(&config, &[]).expect("synth");
    let mut best = std::time::Duration::MAX;
    for _ in 0..n {
        let t = Instant::now();
        for st in &s.stacks {
            let _ = kiro_infra::ruleset::run(&set, &st.name, &st.value, &|_| None);
        }
        if best == std::time::Duration::MAX { println!("first: {:?}", t.elapsed()); }
        best = best.min(t.elapsed());
    }
    println!("rules best of {n}: {best:?}");
}
