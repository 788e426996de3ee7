//! Bad input to `synth`: every case exits 1 with a located message and leaves the output
//! directory exactly as it was. Messages are pinned as snapshots.

use crate::snap;
use crate::support::*;
use std::fs;

/// Writes `config` as kiro-infra.yaml next to an existing synth output, runs `synth ARGS`, and
/// checks exit code 1 and an untouched output directory; returns stderr.
fn rejected(config: Option<&str>, args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let o = kiro(dir.path()).arg("synth").output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    if let Some(text) = config {
        fs::write(dir.path().join("kiro-infra.yaml"), text).unwrap();
    }
    let before = tree(dir.path());
    let o = kiro(dir.path()).arg("synth").args(args).output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "expected exit 1, got {:?}\n{}",
        o.status.code(),
        stderr(&o)
    );
    assert_eq!(tree(dir.path()), before, "the output directory changed");
    assert!(stdout(&o).is_empty(), "stdout must stay empty on errors");
    stderr(&o)
}

#[test]
fn malformed_yaml() {
    let err = rejected(Some("environments:\n  test:\n    region: [unclosed\n"), &[]);
    assert!(err.contains("kiro-infra.yaml:"), "{err}");
    snap!("config_malformed_yaml", err);
}

#[test]
fn unknown_keys_suggest_the_closest() {
    let err = rejected(
        Some("environments:\n  production:\n    alrms:\n      failures_per_hour: 3\n"),
        &[],
    );
    assert!(
        err.contains("kiro-infra.yaml:3: environments.production.alrms: unknown key `alrms`; did you mean `alarms`?"),
        "{err}"
    );
    snap!("config_unknown_key", err);
}

#[test]
fn wrong_types() {
    let err = rejected(
        Some("environments:\n  test:\n    alarms:\n      failures_per_hour: lots\n    retain_stateful: maybe\n"),
        &[],
    );
    assert!(
        err.contains("environments.test.alarms.failures_per_hour: wrong type"),
        "{err}"
    );
    assert!(err.contains("environments.test.retain_stateful: wrong type"), "{err}");
    snap!("config_wrong_types", err);
}

#[test]
fn out_of_range_thresholds_all_reported() {
    let err = rejected(
        Some("environments:\n  production:\n    alarms:\n      failures_per_hour: 9\n      duration_seconds: 60\n"),
        &[],
    );
    assert!(err.contains("2 problems"), "{err}");
    assert!(
        err.contains("kiro-infra.yaml:4: environments.production.alarms.failures_per_hour: out of range"),
        "{err}"
    );
    assert!(err.contains("a whole number from 3 to 5"), "{err}");
    snap!("config_out_of_range", err);
}

#[test]
fn prefix_making_the_bucket_name_too_long() {
    let err = rejected(
        Some("defaults:\n  prefix: a-very-long-naming-prefix-for-the-kiro-pipeline-ci\n"),
        &[],
    );
    assert!(
        err.contains("kiro-infra.yaml:2: defaults.prefix: prefix `a-very-long-naming-prefix-for-the-kiro-pipeline-ci`"),
        "{err}"
    );
    assert!(err.contains("S3 bucket name"), "{err}");
    assert!(err.contains("the limit is 3-63"), "{err}");
    snap!("config_prefix_too_long", err);
}

#[test]
fn semantic_rules() {
    let err = rejected(
        Some(
            "environments:\n  production:\n    pipeline:\n      manual_approval: false\n    logs:\n      retention_days: 45\n",
        ),
        &[],
    );
    assert!(err.contains("manual approval is mandatory in production"), "{err}");
    assert!(
        err.contains("CloudWatch Logs does not accept this retention (the next accepted value is 60)"),
        "{err}"
    );
    snap!("config_semantic", err);
}

#[test]
fn unknown_environment() {
    let err = rejected(None, &["--env", "prod"]);
    assert!(
        err.contains("unknown environment `prod`; known environments: test, staging, production"),
        "{err}"
    );
    snap!("config_unknown_env", err);
}

#[test]
fn missing_config_file() {
    let err = rejected(None, &["--config", "nope.yaml"]);
    assert!(err.contains("nope.yaml: cannot read the config file"), "{err}");
}

#[test]
fn unwritable_output_directory() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a-file"), "x").unwrap();
    let o = kiro(dir.path())
        .args(["synth", "--out", "a-file/templates"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("a-file"), "{}", stderr(&o));
    assert_eq!(fs::read_to_string(dir.path().join("a-file")).unwrap(), "x");
}

#[test]
fn refuses_to_replace_a_foreign_directory() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("templates")).unwrap();
    fs::write(dir.path().join("templates/notes.txt"), "mine").unwrap();
    let o = kiro(dir.path()).arg("synth").output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("files kiro-infra did not write (notes.txt)"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("templates/notes.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn schema_command_prints_the_config_schema() {
    let o = kiro(&root()).arg("schema").output().unwrap();
    assert!(o.status.success());
    let schema: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    // The embedded defaults, written as a config file, are valid against it.
    let validator = jsonschema::validator_for(&schema).unwrap();
    let file = serde_json::json!({"environments": {"production": {"alarms": {"failures_per_hour": 3}}}});
    assert!(validator.is_valid(&file));
    let bad = serde_json::json!({"environments": {"production": {"alarms": {"failures_per_hour": 30}}}});
    assert!(!validator.is_valid(&bad));
}

/// A config-driven property test: random YAML documents never make synth panic; they either
/// load or give exit 1 with a message.
#[test]
fn random_configs_never_panic() {
    use proptest::prelude::*;
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    });
    let keys = prop::sample::select(vec![
        "environments",
        "test",
        "production",
        "alarms",
        "failures_per_hour",
        "prefix",
        "logs",
        "retention_days",
        "defaults",
        "extends",
        "x",
        "region",
        "build",
        "compute_type",
    ]);
    let values = prop::sample::select(vec![
        "1",
        "-3",
        "true",
        "null",
        "''",
        "[a, b]",
        "{}",
        "9999999999999999999",
        "\"a\"",
        "~",
        "!Ref x",
    ]);
    let doc = prop::collection::vec((keys, 0usize..3, values), 0..8).prop_map(|entries| {
        let mut s = String::new();
        for (k, depth, v) in entries {
            s.push_str(&format!("{}{k}: {v}\n", "  ".repeat(depth)));
        }
        s
    });
    runner
        .run(&doc, |text| {
            let result = std::panic::catch_unwind(|| kiro_infra::config::load_str(Some(&text), Some("fuzz.yaml")));
            prop_assert!(result.is_ok(), "panic on {text:?}");
            if let Ok(Err(e)) = result {
                prop_assert!(!e.to_string().is_empty());
            }
            Ok(())
        })
        .unwrap();
}
