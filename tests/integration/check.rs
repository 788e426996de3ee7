//! `kiro-infra check` end to end: any template, every report format, exit codes, bad input.

use crate::support::*;
use std::fs;

const INSECURE: &str = "\
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Bucket:
    Type: AWS::S3::Bucket
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: '*'
                Resource: !GetAtt Bucket.Arn
";

#[test]
fn a_fresh_synth_passes() {
    let o = kiro(&root()).args(["check", "--format", "json"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(report["version"], 1);
}

#[test]
fn an_insecure_yaml_template_fails_with_located_findings() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("t.yaml"), INSECURE).unwrap();
    let o = kiro(dir.path())
        .args(["check", "t.yaml", "--no-color"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    let text = stdout(&o);
    assert!(text.contains("FAIL IAM_NO_FULL_ACCESS"), "{text}");
    assert!(text.contains("t.yaml:18:"), "the Action line is named: {text}");
    assert!(text.contains("S3_BUCKET_SSE_KMS"), "{text}");
    for format in ["sarif", "junit", "json"] {
        let o = kiro(dir.path())
            .args(["check", "t.yaml", "--format", format])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(3));
        assert!(stdout(&o).contains("IAM_NO_FULL_ACCESS"), "{format}");
    }
}

#[test]
fn suppressions_need_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let t = INSECURE.replace(
        "  Bucket:\n    Type: AWS::S3::Bucket\n",
        "  Bucket:\n    Type: AWS::S3::Bucket\n    Metadata:\n      guard:\n        SuppressedRules: [S3_BUCKET_SSE_KMS]\n",
    );
    fs::write(dir.path().join("t.yaml"), t).unwrap();
    let o = kiro(dir.path())
        .args(["check", "t.yaml", "--no-color"])
        .output()
        .unwrap();
    assert!(
        stdout(&o).contains("suppressed without a written reason"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn own_rules_only() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("t.yaml"), INSECURE).unwrap();
    fs::write(
        dir.path().join("mine.guard"),
        "rule HAS_ROLE { Resources.*[ Type == 'AWS::IAM::Role' ] !empty }\n",
    )
    .unwrap();
    let o = kiro(dir.path())
        .args([
            "check",
            "t.yaml",
            "--rules",
            "mine.guard",
            "--no-builtin-rules",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let text = report.to_string();
    assert!(
        text.contains("HAS_ROLE") && !text.contains("IAM_NO_FULL_ACCESS"),
        "{text}"
    );
}

#[test]
fn bad_input_is_exit_1_with_a_location() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("t.yaml"), INSECURE).unwrap();
    fs::write(dir.path().join("bad.guard"), "rule R {\n  Resources.* == \n").unwrap();
    fs::write(dir.path().join("ref.guard"), "rule R { NOPE }\n").unwrap();
    fs::write(
        dir.path().join("regex.guard"),
        "rule R { Resources.*.Type == /[unclosed/ }\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("nores.json"),
        "{\"AWSTemplateFormatVersion\": \"2010-09-09\"}",
    )
    .unwrap();
    fs::write(dir.path().join("garbage.json"), "{\"Resources\": [").unwrap();
    for (args, needle) in [
        (vec!["t.yaml", "--rules", "bad.guard"], "bad.guard:"),
        (vec!["t.yaml", "--rules", "ref.guard"], "NOPE"),
        (vec!["t.yaml", "--rules", "regex.guard"], "regex.guard:1:"),
        (vec!["nores.json"], "no `Resources`"),
        (vec!["garbage.json"], "garbage.json:1:"),
        (vec!["missing.yaml"], "missing.yaml"),
        (vec!["t.yaml", "--rule", "NOT_A_RULE"], "unknown rule id `NOT_A_RULE`"),
    ] {
        let o = kiro(dir.path()).arg("check").args(&args).output().unwrap();
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}{}", stdout(&o), stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
    }
}
