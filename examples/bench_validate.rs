//! Benchmark (not a test): validates templates in-process, schemas compiled once.
//!
//! ```text
//! cargo run --release --example bench_validate -- [--print] [--iterations N] [FILE...]
//! ```
//! Without files: the three fixtures of `tests/fixtures/schema/`, three times each (9 templates,
//! the size of a full synth: 3 environments x 3 stacks). `--print` prints the findings once.
//! A FILE may be given as `StackName=path`; the cross-stack check runs per group of three files.

use std::path::PathBuf;
use std::time::Instant;

use kiro_infra::validate::{crossstack, limits, validate_template};
use serde_json::Value;

fn main() {
    let mut print = false;
    let mut iterations = 200usize;
    // (stack name, file), one environment per group of three in deploy order.
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--print" => print = true,
            "--iterations" => iterations = args.next().and_then(|n| n.parse().ok()).unwrap_or(iterations),
            _ => match a.split_once('=') {
                Some((stack, path)) => files.push((stack.to_string(), PathBuf::from(path))),
                None => {
                    let stack = a
                        .rsplit('/')
                        .next()
                        .unwrap_or(&a)
                        .split('.')
                        .next()
                        .unwrap_or("stack")
                        .to_string();
                    files.push((stack, PathBuf::from(a)));
                }
            },
        }
    }
    if files.is_empty() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schema");
        for env in ["Test", "Staging", "Production"] {
            for (f, stack) in [
                ("core", "KiroPipelineCore"),
                ("pipeline", "KiroPipeline"),
                ("monitoring", "KiroPipelineMonitoring"),
            ] {
                // The fixtures are the Test environment's; imports name Test stacks, so every
                // copy keeps the Test names for the cross-stack check to resolve.
                let _ = env;
                files.push((format!("{stack}Test"), dir.join(format!("{f}.template.json"))));
            }
        }
    }
    let mut templates: Vec<(String, Value, usize)> = Vec::new();
    for (stack, f) in &files {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{}: {e}", f.display());
                std::process::exit(2);
            }
        };
        let value = match kiro_infra::template_io::parse_document(&text, &f.display().to_string()) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("{}: {e}", f.display());
                std::process::exit(2);
            }
        };
        templates.push((stack.clone(), value, text.len()));
    }
    let run = || {
        let mut findings = Vec::new();
        for (stack, template, len) in &templates {
            findings.extend(validate_template(stack, template));
            findings.extend(limits::check_limits(stack, template, *len));
        }
        for group in templates.chunks(3) {
            let refs: Vec<(&str, &Value)> = group.iter().map(|(s, t, _)| (s.as_str(), t)).collect();
            findings.extend(crossstack::check_environment(&refs));
        }
        findings
    };
    let t0 = Instant::now();
    let first = run();
    let cold = t0.elapsed();
    if print {
        for f in &first {
            println!("{:?} {} {}: {}", f.severity, f.stack, f.pointer, f.message);
        }
    }
    let t1 = Instant::now();
    let mut total = 0usize;
    for _ in 0..iterations {
        total += run().len();
    }
    let warm = t1.elapsed();
    let per = warm.as_secs_f64() * 1000.0 / iterations.max(1) as f64;
    println!(
        "{} templates: first run (parse + compile schemas) {:.1} ms; then {:.3} ms per run over {iterations} runs ({} findings per run)",
        templates.len(),
        cold.as_secs_f64() * 1000.0,
        per,
        total / iterations.max(1)
    );
}
