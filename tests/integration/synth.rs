//! `kiro-infra synth`: output, manifest, determinism, --check, --stdout, atomicity.

use crate::support::*;
use serde_json::Value;
use std::fs;

fn synth_into(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    kiro(dir).arg("synth").args(args).output().unwrap()
}

#[test]
fn writes_nine_templates_and_a_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let o = synth_into(dir.path(), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("wrote 9 templates for 3 environments"),
        "{}",
        stderr(&o)
    );
    let manifest: Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("templates/manifest.json")).unwrap()).unwrap();
    let stacks = manifest["stacks"].as_array().unwrap();
    assert_eq!(stacks.len(), 9);
    let names: Vec<&str> = stacks.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "KiroPipelineCoreTest",
            "KiroPipelineTest",
            "KiroPipelineMonitoringTest",
            "KiroPipelineCoreStaging",
            "KiroPipelineStaging",
            "KiroPipelineMonitoringStaging",
            "KiroPipelineCoreProduction",
            "KiroPipelineProduction",
            "KiroPipelineMonitoringProduction",
        ]
    );
    for s in stacks {
        let file = dir.path().join("templates").join(s["template"].as_str().unwrap());
        let bytes = fs::read(&file).unwrap();
        assert_eq!(s["bytes"].as_u64().unwrap() as usize, bytes.len());
        use sha2::Digest;
        let sha: String = sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(s["sha256"].as_str().unwrap(), sha);
        let cmd = s["deploy_command"].as_str().unwrap();
        assert!(
            cmd.starts_with(&format!(
                "aws cloudformation deploy --stack-name {} --template-file templates/",
                s["name"].as_str().unwrap()
            )),
            "{cmd}"
        );
        // Every template deploys inline (under 51,200 bytes): no --s3-bucket needed.
        assert!(bytes.len() < 51_200, "{} is {} bytes", file.display(), bytes.len());
        assert!(!cmd.contains("--s3-bucket"));
        let template: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            s["resources"].as_u64().unwrap() as usize,
            template["Resources"].as_object().unwrap().len()
        );
        assert_eq!(template["Metadata"]["KiroInfra"]["Environment"], s["environment"]);
    }
    let pipeline = stacks.iter().find(|s| s["name"] == "KiroPipelineTest").unwrap();
    assert_eq!(pipeline["capabilities"], serde_json::json!(["CAPABILITY_NAMED_IAM"]));
    assert_eq!(pipeline["order"], 2);
}

#[test]
fn output_is_byte_identical_across_runs() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    assert!(synth_into(a.path(), &[]).status.success());
    assert!(synth_into(b.path(), &[]).status.success());
    assert_eq!(tree(&a.path().join("templates")), tree(&b.path().join("templates")));
}

#[test]
fn committed_templates_are_up_to_date() {
    let o = kiro(&root()).args(["synth", "--check"]).output().unwrap();
    assert!(
        o.status.success(),
        "templates/ is stale: run `cargo run -- synth` and commit the result\n{}",
        stderr(&o)
    );
}

#[test]
fn check_names_stale_files_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    assert!(synth_into(dir.path(), &[]).status.success());
    let file = dir.path().join("templates/test/KiroPipelineCoreTest.template.json");
    fs::write(&file, "{}\n").unwrap();
    let before = tree(dir.path());
    let o = synth_into(dir.path(), &["--check"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("templates/test/KiroPipelineCoreTest.template.json (differs)"),
        "{}",
        stderr(&o)
    );
    assert_eq!(tree(dir.path()), before);
}

#[test]
fn one_environment_keeps_the_others() {
    let dir = tempfile::tempdir().unwrap();
    assert!(synth_into(dir.path(), &[]).status.success());
    let before = tree(&dir.path().join("templates"));
    let o = synth_into(dir.path(), &["--env", "production"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("up to date: 3 templates for 1 environment (production)"),
        "{}",
        stderr(&o)
    );
    assert_eq!(tree(&dir.path().join("templates")), before);
}

/// A synth whose output is already in place writes nothing (modification times stay); one
/// that changes a single byte swaps the whole directory in.
#[test]
fn unchanged_output_is_not_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    assert!(synth_into(dir.path(), &[]).status.success());
    let manifest = dir.path().join("templates/manifest.json");
    let core = dir.path().join("templates/test/KiroPipelineCoreTest.template.json");
    let modified = |p: &std::path::Path| fs::metadata(p).unwrap().modified().unwrap();
    let before = (modified(&manifest), modified(&core));
    std::thread::sleep(std::time::Duration::from_millis(20));
    let o = synth_into(dir.path(), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("(no file rewritten)"), "{}", stderr(&o));
    assert_eq!((modified(&manifest), modified(&core)), before);

    let text = fs::read_to_string(&core).unwrap();
    fs::write(&core, text.replacen("\"Resources\"", "\"Resources\" ", 1)).unwrap();
    let o = synth_into(dir.path(), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("wrote 9 templates"), "{}", stderr(&o));
    assert_eq!(fs::read_to_string(&core).unwrap(), text);
    assert_ne!(modified(&manifest), before.0, "the whole directory is swapped in");
}

#[test]
fn stdout_prints_one_template() {
    let dir = tempfile::tempdir().unwrap();
    let o = synth_into(dir.path(), &["--stack", "KiroPipelineCoreTest", "--stdout"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let t: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(t["Resources"]["ArtifactsBucket"].is_object());
    assert!(!dir.path().join("templates").exists(), "--stdout must not write files");
}

#[test]
fn production_has_the_runbook_names_and_approval() {
    let dir = tempfile::tempdir().unwrap();
    let o = synth_into(dir.path(), &["--stack", "KiroPipelineProduction", "--stdout"]);
    let t: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let stages = t["Resources"]["Pipeline"]["Properties"]["Stages"].as_array().unwrap();
    let names: Vec<&str> = stages.iter().map(|s| s["Name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "Source",
            "Build",
            "TestEnvironment",
            "StagingEnvironment",
            "ProductionEnvironment"
        ]
    );
    assert_eq!(stages[4]["Actions"][0]["Name"], "Approve_Production_Deployment");
    let projects = t["Resources"]
        .as_object()
        .unwrap()
        .values()
        .filter(|r| r["Type"] == "AWS::CodeBuild::Project")
        .count();
    assert_eq!(projects, 6);
    // Secrets are dynamic references, never values.
    let text = stdout(&o);
    assert!(text.contains("{{resolve:secretsmanager:kiro-pipeline-production-github-token}}"));
    assert!(text.contains("{{resolve:ssm:/kiro-pipeline/production/github-owner}}"));
    // No account ids or regions are baked in.
    assert!(!text.contains("us-east-1") && !text.contains("123456789012"));
}

#[test]
fn rollback_rule_is_scoped_to_its_environment() {
    let dir = tempfile::tempdir().unwrap();
    let o = synth_into(dir.path(), &["--stack", "KiroPipelineMonitoringTest", "--stdout"]);
    let t: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let rule = &t["Resources"]["AlarmRollbackRule"]["Properties"];
    assert_eq!(rule["Name"], "kiro-pipeline-test-alarm-rollback");
    assert_eq!(
        rule["EventPattern"]["detail"]["alarmName"],
        serde_json::json!([{"prefix": "kiro-pipeline-test-"}, {"prefix": "kiro-worker-test-"}])
    );
}

#[test]
fn stateful_resources_are_retained_outside_test() {
    for (stack, policy) in [
        ("KiroPipelineCoreTest", "Delete"),
        ("KiroPipelineCoreProduction", "Retain"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let o = synth_into(dir.path(), &["--stack", stack, "--stdout"]);
        let t: Value = serde_json::from_str(&stdout(&o)).unwrap();
        for id in [
            "EncryptionKey",
            "ArtifactsBucket",
            "DeploymentsTable",
            "PipelineLogGroup",
        ] {
            assert_eq!(t["Resources"][id]["DeletionPolicy"], policy, "{stack} {id}");
            assert_eq!(t["Resources"][id]["UpdateReplacePolicy"], policy, "{stack} {id}");
        }
    }
}

#[test]
fn an_added_environment_gets_its_own_stacks() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("kiro-infra.yaml"),
        "environments:\n  dev-eu:\n    extends: staging\n    region: eu-west-1\n",
    )
    .unwrap();
    let o = synth_into(dir.path(), &["--env", "dev-eu"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let m: Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("templates/manifest.json")).unwrap()).unwrap();
    let first = &m["stacks"][0];
    assert_eq!(first["name"], "KiroPipelineCoreDevEu");
    assert!(first["deploy_command"].as_str().unwrap().contains("--region eu-west-1"));
}

/// The gate synth runs before writing: an insecure change to a template is refused with the
/// rule, the location and the fix.
#[test]
fn the_gate_refuses_an_insecure_template() {
    use kiro_infra::{checks, config::Config, ruleset::RuleSet, synth};
    let config = Config::embedded().unwrap();
    let mut s = synth::synthesize(&config, &["test".to_string()]).unwrap();
    let core = &mut s.stacks[0];
    let mut value = core.value.clone();
    value["Resources"]["ArtifactsBucket"]["Properties"]
        .as_object_mut()
        .unwrap()
        .remove("BucketEncryption");
    core.set_value(value);
    let rules = RuleSet::new(RuleSet::builtin().unwrap(), vec![], vec![]).unwrap();
    let result = checks::check_synthesis(&s, &rules).unwrap();
    let failed: Vec<&kiro_infra::findings::Finding> = result[0]
        .rules
        .iter()
        .filter(|r| r.status == kiro_infra::guard::Status::Fail)
        .flat_map(|r| r.violations.iter())
        .collect();
    let sse = failed
        .iter()
        .find(|f| matches!(&f.source, kiro_infra::findings::Source::Guard { rule, .. } if rule == "S3_BUCKET_SSE_KMS"))
        .unwrap_or_else(|| panic!("S3_BUCKET_SSE_KMS did not fail: {failed:#?}"));
    assert_eq!(sse.logical_id.as_deref(), Some("ArtifactsBucket"));
    assert!(sse.line.is_some() && sse.fix.is_some(), "{sse:#?}");
    // The other stacks are untouched and still pass.
    assert!(
        result[1]
            .all_findings()
            .all(|f| f.severity != kiro_infra::findings::Severity::Error)
    );
}

/// A rerun on unchanged templates reuses the passing verdict: same files, same summary, and a
/// line saying so; `--no-cache` checks again; a changed template is checked again.
#[test]
fn an_unchanged_synth_reuses_the_passing_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        kiro_cached(dir.path(), cache.path())
            .arg("synth")
            .args(args)
            .output()
            .unwrap()
    };
    let summary = |o: &std::process::Output| {
        stderr(o)
            .lines()
            .find(|l| l.starts_with("checked "))
            .map(str::to_string)
            .unwrap_or_else(|| panic!("no summary: {}", stderr(o)))
    };
    let first = run(&[]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(!stderr(&first).contains("verdict cached"), "{}", stderr(&first));
    let written = fs::read(dir.path().join("templates/test/KiroPipelineCoreTest.template.json")).unwrap();
    assert_eq!(fs::read_dir(cache.path()).unwrap().count(), 1, "one entry stored");

    let second = run(&[]);
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(stderr(&second).contains("verdict cached"), "{}", stderr(&second));
    assert_eq!(summary(&second), summary(&first));
    assert_eq!(
        fs::read(dir.path().join("templates/test/KiroPipelineCoreTest.template.json")).unwrap(),
        written
    );

    let forced = run(&["--no-cache"]);
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert!(!stderr(&forced).contains("verdict cached"), "{}", stderr(&forced));

    fs::write(
        dir.path().join("kiro-infra.yaml"),
        "environments:\n  test:\n    logs:\n      retention_days: 60\n",
    )
    .unwrap();
    let changed = run(&[]);
    assert!(changed.status.success(), "{}", stderr(&changed));
    assert!(!stderr(&changed).contains("verdict cached"), "{}", stderr(&changed));
    assert_eq!(
        fs::read_dir(cache.path()).unwrap().count(),
        2,
        "the new verdict is stored beside the old"
    );
}

/// A usage error is bad input: exit 1 (2 means "changes found" in the exit-code table), with
/// clap's message naming what is missing; `--help` still exits 0.
#[test]
fn bad_arguments_exit_1_and_help_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let o = synth_into(dir.path(), &["--stdout"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("--stack"), "{}", stderr(&o));
    let o = kiro(dir.path()).args(["synth", "--no-such-flag"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = kiro(dir.path()).args(["synth", "--help"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("--no-cache"), "{}", stdout(&o));
    assert!(!dir.path().join("templates").exists(), "nothing written");
}

/// The way synth works on every core (config loaded and environments built while the rules
/// parse, each environment's templates checked as soon as they are built; or a synthesis built
/// beforehand) gives exactly what the plain sequence gives: the same templates in the same
/// order, the same findings and rule results; and a config that fails to load, or an unknown
/// environment, is the error.
#[test]
fn the_parallel_pipeline_matches_the_plain_sequence() {
    use kiro_infra::{checks, config::Config, error::Error, ruleset::RuleSet, synth};
    let rules = || RuleSet::new(RuleSet::builtin()?, vec![], vec![]);
    for envs in [vec![], vec!["staging".to_string(), "test".to_string()]] {
        let config = Config::embedded().unwrap();
        let plain = synth::synthesize_rendered(&config, &envs).unwrap();
        let expected = checks::check_synthesis(&plain, &rules().unwrap()).unwrap();
        let (s, got, _, names) =
            checks::synthesize_and_check(|| Ok(Config::embedded()?), &envs, |names, _| names.to_vec()).unwrap();
        assert_eq!(names, plain.environments);
        assert_eq!(s.environments, plain.environments);
        let texts = |s: &synth::Synthesis| -> Vec<(String, String)> {
            s.stacks
                .iter()
                .map(|t| (t.file.clone(), t.rendered().text.clone()))
                .collect()
        };
        assert_eq!(texts(&s), texts(&plain));
        assert_eq!(format!("{got:#?}"), format!("{expected:#?}"));
        assert!(got.iter().all(|c| !c.rules.is_empty()));
        // The same work on a synthesis built beforehand (a synth whose verdict cache missed).
        let (again, got, _) = checks::check_built(plain.clone()).unwrap();
        assert_eq!(texts(&again), texts(&plain));
        assert_eq!(again.environments, plain.environments);
        assert_eq!(format!("{got:#?}"), format!("{expected:#?}"));
    }
    let failed = checks::synthesize_and_check(|| Err(Error::StdoutNeedsStack), &[], |_, _| ());
    assert!(matches!(failed, Err(Error::StdoutNeedsStack)), "{failed:?}");
    let unknown = checks::synthesize_and_check(|| Ok(Config::embedded()?), &["nope".to_string()], |_, _| ());
    assert!(unknown.is_err_and(|e| e.to_string().contains("nope")));
}

/// A panic while the environments are built (a bug) is a panic, not a hang: the helper thread
/// waiting for templates to check is released and the panic propagates.
#[test]
fn a_panic_while_building_does_not_hang_the_pipeline() {
    use kiro_infra::{checks, config::Config};
    let outcome = std::panic::catch_unwind(|| {
        checks::synthesize_and_check(
            || -> Result<Config, kiro_infra::error::Error> { panic!("a bug while loading") },
            &[],
            |_, _| (),
        )
    });
    assert!(outcome.is_err());
}
