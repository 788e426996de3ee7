//! `kiro-infra diff` end to end: baselines, formats, exit codes, bad input, and --deployed
//! against a real moto server through the real AWS CLI.

use crate::support::*;
use serde_json::Value;
use std::fs;

/// A temp dir with a fresh synth in `templates/`.
fn synthesized() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let o = kiro(dir.path()).arg("synth").output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    dir
}

fn edit(path: &std::path::Path, f: impl FnOnce(&mut Value)) {
    let mut v: Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    f(&mut v);
    fs::write(path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

#[test]
fn no_changes_against_the_committed_templates() {
    let o = kiro(&root()).args(["diff", "--detailed-exitcode"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("0 to add, 0 to change, 0 to replace, 0 to remove"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_create_only_change_is_a_replacement_with_exit_codes() {
    let dir = synthesized();
    // The baseline had another bucket name: the current template replaces the bucket.
    edit(
        &dir.path().join("templates/test/KiroPipelineCoreTest.template.json"),
        |t| {
            t["Resources"]["ArtifactsBucket"]["Properties"]["BucketName"] = "old-artifacts".into();
        },
    );
    let run = |extra: &[&str]| {
        kiro(dir.path())
            .args(["diff", "--env", "test", "--no-color"])
            .args(extra)
            .output()
            .unwrap()
    };
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    assert!(text.contains("-/+") && text.contains("forces replacement"), "{text}");
    assert!(text.contains("ArtifactsBucket"), "{text}");
    assert_eq!(run(&["--detailed-exitcode"]).status.code(), Some(2));
    assert_eq!(run(&["--fail-on", "replace"]).status.code(), Some(3));
    assert_eq!(run(&["--fail-on", "remove,broadening"]).status.code(), Some(0));
    let json: Value = serde_json::from_str(&stdout(&run(&["--format", "json"]))).unwrap();
    assert_eq!(json["version"], 1);
    let md = stdout(&run(&["--format", "markdown"]));
    assert!(md.contains("<details>"), "{md}");
}

#[test]
fn a_removed_statement_is_broadening_only_when_access_grows() {
    let dir = synthesized();
    // The baseline lacked a permission the current template grants: broadened.
    edit(&dir.path().join("templates/test/KiroPipelineTest.template.json"), |t| {
        let statements = t["Resources"]["PipelineRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
            .as_array_mut()
            .unwrap();
        statements.pop();
    });
    let o = kiro(dir.path())
        .args(["diff", "--env", "test", "--fail-on", "broadening"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
}

#[test]
fn one_file_as_the_baseline_of_one_stack() {
    let dir = synthesized();
    let file = dir.path().join("old.json");
    let body = fs::read_to_string(dir.path().join("templates/test/KiroPipelineCoreTest.template.json")).unwrap();
    // `aws cloudformation get-template` output as it is.
    fs::write(&file, serde_json::json!({"TemplateBody": body}).to_string()).unwrap();
    let o = kiro(dir.path())
        .args([
            "diff",
            "--stack",
            "KiroPipelineCoreTest",
            "--against",
            "old.json",
            "--detailed-exitcode",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let o = kiro(dir.path())
        .args(["diff", "--against", "old.json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("name it with --stack"), "{}", stderr(&o));
}

#[test]
fn bad_baselines_are_located_errors() {
    let dir = synthesized();
    fs::write(dir.path().join("notes.json"), "{\"hello\": 1}").unwrap();
    fs::write(dir.path().join("broken.json"), "{\"Resources\": ").unwrap();
    for (args, needle) in [
        (
            vec!["--stack", "KiroPipelineCoreTest", "--against", "missing.json"],
            "missing.json",
        ),
        (
            vec!["--stack", "KiroPipelineCoreTest", "--against", "notes.json"],
            "not a CloudFormation template",
        ),
        (
            vec!["--stack", "KiroPipelineCoreTest", "--against", "broken.json"],
            "broken.json:1:",
        ),
        (vec!["--stack", "NoSuchStack"], "unknown stack `NoSuchStack`"),
    ] {
        let o = kiro(dir.path()).arg("diff").args(&args).output().unwrap();
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
        assert!(stdout(&o).is_empty());
    }
}

#[test]
fn deployed_stacks_from_moto() {
    let moto = start_moto();
    let dir = synthesized();
    // Deploy a smaller Core stack under the real name: the diff shows what the full one adds.
    let core = dir.path().join("templates/test/KiroPipelineCoreTest.template.json");
    let mut t: Value = serde_json::from_str(&fs::read_to_string(&core).unwrap()).unwrap();
    let resources = t["Resources"].as_object_mut().unwrap();
    resources.retain(|id, _| id == "DeploymentsTable");
    t.as_object_mut().unwrap().remove("Outputs");
    t["Resources"]["DeploymentsTable"]["Properties"]
        .as_object_mut()
        .unwrap()
        .insert("SSESpecification".into(), serde_json::json!({"SSEEnabled": false}));
    let o = aws(&moto)
        .args([
            "cloudformation",
            "create-stack",
            "--stack-name",
            "KiroPipelineCoreTest",
            "--template-body",
        ])
        .arg(t.to_string())
        .args(["--endpoint-url", &moto.endpoint, "--region", "us-east-1"])
        .output()
        .unwrap();
    assert!(o.status.success(), "create-stack: {}", stderr(&o));
    let o = kiro(dir.path())
        .args(["diff", "--deployed", "--env", "test", "--no-color", "--format", "json"])
        .args(["--endpoint-url", &moto.endpoint])
        .env("KIRO_AWS", aws_program())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_CONFIG_FILE", moto.home.path().join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", moto.home.path().join("credentials"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let stacks = report["stacks"].as_array().unwrap();
    let status = |name: &str| stacks.iter().find(|s| s["stack"] == name).map(|s| s["status"].clone());
    assert_eq!(status("KiroPipelineCoreTest"), Some("changed".into()), "{report:#}");
    // Not deployed yet: all added.
    assert_eq!(status("KiroPipelineTest"), Some("new".into()));
    assert_eq!(status("KiroPipelineMonitoringTest"), Some("new".into()));

    // No credentials at all: a clear error, exit 1.
    let o = kiro(dir.path())
        .args(["diff", "--deployed", "--env", "test", "--endpoint-url", &moto.endpoint])
        .env("KIRO_AWS", aws_program())
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", moto.home.path().join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", moto.home.path().join("none"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("credentials"), "{}", stderr(&o));

    // No AWS CLI: a clear error, exit 1.
    let o = kiro(dir.path())
        .args(["diff", "--deployed", "--env", "test"])
        .env("KIRO_AWS", dir.path().join("no-such-aws"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("AWS CLI"), "{}", stderr(&o));
}
