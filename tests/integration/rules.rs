//! The built-in rules, cross-checked with the real cfn-guard 3.2.1 (CFN_GUARD, set by
//! scripts/install-tools.sh): every `rules/tests` case, and every rule's PASS/FAIL/SKIP on every
//! synthesized template, must be the same in both engines.

use crate::support::*;
use kiro_infra::guard::{self, Status};
use std::path::Path;
use std::process::Command;

fn pairs() -> Vec<(std::path::PathBuf, std::path::PathBuf)> {
    let dir = root().join("rules");
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "guard") {
            let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
            let t = dir.join("tests").join(format!("{stem}_tests.yaml"));
            assert!(t.is_file(), "{} has no test file {}", p.display(), t.display());
            out.push((p, t));
        }
    }
    out.sort();
    assert!(out.len() >= 10, "expected the built-in rules files");
    out
}

#[test]
fn every_rule_test_case_passes_in_both_engines() {
    let real = tool("CFN_GUARD", "cfn-guard 3.2.1");
    let mut cases = 0;
    for (rules, tests) in pairs() {
        let o = Command::new(&real)
            .args(["test", "-r"])
            .arg(&rules)
            .arg("-t")
            .arg(&tests)
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "cfn-guard test {}:\n{}",
            rules.display(),
            stdout(&o)
        );
        let parsed =
            guard::parse_rules(&std::fs::read_to_string(&rules).unwrap(), &rules.display().to_string()).unwrap();
        let outcomes = guard::run_test_file(&parsed, &std::fs::read_to_string(&tests).unwrap(), "t").unwrap();
        let missed: Vec<_> = outcomes.iter().filter(|o| o.expected != o.actual).collect();
        assert!(missed.is_empty(), "{}: {missed:#?}", tests.display());
        cases += outcomes.len();
    }
    assert!(cases > 300, "only {cases} expectations");
}

#[test]
fn every_rule_has_failing_and_passing_cases() {
    for (rules, tests) in pairs() {
        let docs = kiro_infra::ruleset::parse_docs(&std::fs::read_to_string(&rules).unwrap(), "r").unwrap();
        let text = std::fs::read_to_string(&tests).unwrap();
        let parsed = guard::parse_rules(&std::fs::read_to_string(&rules).unwrap(), "r").unwrap();
        let outcomes = guard::run_test_file(&parsed, &text, "t").unwrap();
        for d in docs {
            for want in [Status::Pass, Status::Fail] {
                assert!(
                    outcomes.iter().any(|o| o.rule == d.id && o.expected == want),
                    "{}: rule {} has no {want} case",
                    tests.display(),
                    d.id
                );
            }
        }
    }
}

/// cfn-guard 3.2.1 `validate` on one rules file and one data file: (rule, status) sorted.
fn real_statuses(bin: &Path, rules: &Path, data: &Path) -> Vec<(String, Status)> {
    let out = Command::new(bin)
        .arg("validate")
        .arg("-r")
        .arg(rules)
        .arg("-d")
        .arg(data)
        .args(["--output-format", "json", "--show-summary", "none"])
        .output()
        .unwrap();
    let text = stdout(&out);
    let start = text
        .find('{')
        .unwrap_or_else(|| panic!("no JSON from cfn-guard: {text} {}", stderr(&out)));
    let json: serde_json::Value = serde_json::from_str(&text[start..]).unwrap();
    let mut v = Vec::new();
    for (key, status) in [("compliant", Status::Pass), ("not_applicable", Status::Skip)] {
        for n in json[key].as_array().into_iter().flatten() {
            v.push((n.as_str().unwrap().to_string(), status));
        }
    }
    for r in json["not_compliant"].as_array().into_iter().flatten() {
        v.push((r["Rule"]["name"].as_str().unwrap().to_string(), Status::Fail));
    }
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

#[test]
fn statuses_on_the_synthesized_templates_match_cfn_guard() {
    let real = tool("CFN_GUARD", "cfn-guard 3.2.1");
    let dir = tempfile::tempdir().unwrap();
    let o = kiro(dir.path()).arg("synth").output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let templates: Vec<_> = [
        "test/KiroPipelineCoreTest",
        "staging/KiroPipelineStaging",
        "production/KiroPipelineMonitoringProduction",
        "production/KiroPipelineCoreProduction",
    ]
    .iter()
    .map(|t| dir.path().join(format!("templates/{t}.template.json")))
    .collect();
    for (rules, _) in pairs() {
        let parsed = guard::parse_rules(&std::fs::read_to_string(&rules).unwrap(), "r").unwrap();
        for t in &templates {
            let data: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(t).unwrap()).unwrap();
            let mut ours: Vec<(String, Status)> = guard::evaluate(&parsed, &data)
                .unwrap()
                .rules
                .into_iter()
                .map(|r| (r.name, r.status))
                .collect();
            ours.sort_by(|a, b| a.0.cmp(&b.0));
            assert_eq!(
                ours,
                real_statuses(&real, &rules, t),
                "{} on {}",
                rules.display(),
                t.display()
            );
        }
    }
}

#[test]
fn rules_command_runs_the_test_files() {
    let o = kiro(&root()).args(["rules", "test"]).output().unwrap();
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains(" passed, 0 failed"), "{}", stdout(&o));
}

#[test]
fn rules_list_and_explain() {
    let o = kiro(&root()).args(["rules", "list"]).output().unwrap();
    assert!(o.status.success());
    let last = stdout(&o).lines().last().unwrap_or_default().to_string();
    let n: usize = last.split_whitespace().next().unwrap().parse().unwrap();
    assert!(n >= 84, "{last}");
    let o = kiro(&root())
        .args(["rules", "explain", "S3_BUCKET_SSE_KMS"])
        .output()
        .unwrap();
    assert!(stdout(&o).contains("How to fix"), "{}", stdout(&o));
    let o = kiro(&root())
        .args(["rules", "explain", "S3_BUCKET_SSE"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("did you mean `S3_BUCKET_SSE_KMS`"),
        "{}",
        stderr(&o)
    );
    let o = kiro(&root()).args(["check", "--profile", "sox"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("profiles: nist-800-53, pci-dss, hipaa, serverless"),
        "{}",
        stderr(&o)
    );
}

/// The README's rule table is `kiro-infra rules list --format markdown`.
#[test]
fn readme_rule_table_is_current() {
    let o = kiro(&root())
        .args(["rules", "list", "--format", "markdown"])
        .output()
        .unwrap();
    let table = stdout(&o);
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme
        .find("<!-- rules:start -->\n")
        .expect("README has <!-- rules:start -->")
        + "<!-- rules:start -->\n".len();
    let end = readme
        .find("<!-- rules:end -->")
        .expect("README has <!-- rules:end -->");
    assert!(
        readme[start..end] == table,
        "README rule table is stale: run scripts/readme-rules.sh"
    );
}
