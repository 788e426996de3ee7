//! `kiro-infra diff`: template-pair fixtures snapshotted in all three formats, baselines from
//! directories and files, and `--deployed` against a real moto server.

use crate::support::{aws, aws_program, start_moto};
use kiro_infra::diff::baseline::{self, AwsCli, BaselineError, StackTemplate};
use kiro_infra::diff::{
    Action, BuiltinFacts, DiffReport, Replacement, ReplacementReason, StackSides, diff_stack, diff_stacks, render,
};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn fixture_dir(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/diff")
        .join(case)
}

/// Diffs the fixture pair of `case` (no `before.json`: a new stack).
fn fixture(case: &str) -> DiffReport {
    let dir = fixture_dir(case);
    let before_path = dir.join("before.json");
    let before = before_path
        .exists()
        .then(|| baseline::load_template(&before_path))
        .transpose()
        .unwrap_or_else(|e| panic!("{case}: before.json: {e}"));
    let after = baseline::load_template(&dir.join("after.json")).unwrap_or_else(|e| panic!("{case}: after.json: {e}"));
    let sides = StackSides {
        stack: "Core",
        environment: Some("test"),
        before: before.as_ref(),
        after: Some(&after),
    };
    DiffReport::new(vec![diff_stack(sides, &BuiltinFacts)])
}

/// Every snapshot lives in the top-level `snapshots/` directory.
macro_rules! snap {
    ($name:expr, $value:expr) => {
        insta::with_settings!({snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"), prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

fn snapshot_all(case: &str) -> DiffReport {
    let report = fixture(case);
    snap!(format!("diff__{case}__text"), render::text(&report, false));
    snap!(format!("diff__{case}__json"), render::json(&report));
    snap!(format!("diff__{case}__markdown"), render::markdown(&report));
    // The JSON output is valid, versioned JSON.
    let parsed: Value = serde_json::from_str(&render::json(&report)).unwrap_or_default();
    assert_eq!(parsed["version"], json!(1), "{case}: JSON output has no version 1");
    report
}

fn resource<'a>(report: &'a DiffReport, id: &str) -> &'a kiro_infra::diff::ResourceChange {
    report.stacks[0]
        .resources
        .iter()
        .find(|r| r.logical_id == id)
        .unwrap_or_else(|| panic!("no change for {id}"))
}

#[test]
fn property_update() {
    let r = snapshot_all("property-update");
    assert_eq!(resource(&r, "Alerts").action, Action::Update);
    assert_eq!(resource(&r, "Logs").action, Action::Update);
    let s = r.summary;
    assert_eq!((s.add, s.change, s.replace, s.remove, s.other), (0, 2, 0, 0, 1));
    assert!(render::text(&r, false).contains("0 to add, 2 to change, 0 to replace, 0 to remove"));
}

#[test]
fn create_only_change() {
    let r = snapshot_all("create-only-change");
    let bucket = resource(&r, "Artifacts");
    assert_eq!(bucket.action, Action::Replace);
    assert!(
        matches!(&bucket.reasons[0], ReplacementReason::CreateOnlyProperty { path, conditional: false } if path == "/Properties/BucketName")
    );
    // Replacement propagates into the policy's create-only `Bucket` (a Ref).
    let policy = resource(&r, "ArtifactsPolicy");
    assert_eq!(policy.action, Action::Replace);
    // A conditional create-only property: may be replaced.
    assert_eq!(resource(&r, "Table").action, Action::MayReplace);
    assert_eq!(resource(&r, "Table").replacement, Replacement::Conditional);
    let text = render::text(&r, false);
    assert!(text.contains("BucketName: \"kiro-test-artifacts\" -> \"kiro-test-artifacts-v2\"  # forces replacement"));
    assert!(text.starts_with("Stack test/Core\nResources\n-/+ AWS::S3::Bucket Artifacts"));
}

#[test]
fn type_change() {
    let r = snapshot_all("type-change");
    let e = resource(&r, "Events");
    assert_eq!(e.action, Action::Replace);
    assert!(
        matches!(&e.reasons[0], ReplacementReason::TypeChange { before, after } if before == "AWS::SQS::Queue" && after == "AWS::SNS::Topic")
    );
}

#[test]
fn logical_id_rename() {
    let r = snapshot_all("logical-id-rename");
    assert_eq!(
        r.stacks[0].resources.len(),
        1,
        "a rename is one change, not an add and a remove"
    );
    let n = resource(&r, "BuildJobsQueue");
    assert_eq!(n.action, Action::Replace);
    assert_eq!(n.renamed_from.as_deref(), Some("BuildQueue"));
    assert!(render::text(&r, false).contains("(renamed from BuildQueue)"));
}

#[test]
fn removal_with_and_without_retain() {
    let r = snapshot_all("removal");
    assert!(resource(&r, "Audit").retained);
    assert!(!resource(&r, "Scratch").retained);
    assert_eq!(r.summary.remove, 2);
    assert_eq!(r.summary.retained, 1);
    let text = render::text(&r, false);
    assert!(text.contains("Audit (retained, not deleted"));
    assert!(text.contains("Scratch (deleted)"));
    assert!(render::markdown(&r).contains("**retained** (not deleted)"));
}

#[test]
fn reorder_only() {
    let r = snapshot_all("reorder-only");
    assert!(!r.has_changes(), "reordering set-like arrays is not a change");
    assert!(r.stacks[0].iam.is_empty());
    assert_eq!(r.stacks[0].hidden.reordered, 5);
    let text = render::text(&r, false);
    assert!(text.contains("Hidden: 5 arrays reordered only"));
    assert!(text.contains("DependsOn: reordered only"));
    assert_eq!(r.stacks[0].hidden.reformatted, 1);
    assert!(text.contains("1 JSON string reformatted only"));
}

#[test]
fn dashboard_json_change() {
    let r = snapshot_all("dashboard-json");
    let d = resource(&r, "Dashboard");
    assert_eq!(d.action, Action::Update);
    assert!(
        d.changes
            .iter()
            .all(|c| c.path == "/Properties/DashboardBody" && c.json_path.is_some())
    );
    assert!(
        d.changes
            .iter()
            .any(|c| c.json_path.as_deref() == Some("/widgets/0/properties/title"))
    );
    assert_eq!(d.changes.len(), 3, "title, stat and one added widget: {:?}", d.changes);
    let rule = resource(&r, "Rule");
    assert_eq!(rule.changes.len(), 1);
    assert_eq!(rule.changes[0].path, "/Properties/EventPattern/detail/state/1");
}

#[test]
fn iam_broadening() {
    let r = snapshot_all("iam-broadening");
    assert!(r.has_broadening());
    let iam = &r.stacks[0].iam;
    let reasons: Vec<String> = iam.iter().flat_map(|c| c.reasons.clone()).collect();
    for expected in [
        "actions: s3:*",
        "condition removed or relaxed",
        "Deny statement removed",
        "principals: AWS:arn:aws:iam::210987654321:root",
    ] {
        assert!(
            reasons.iter().any(|x| x == expected),
            "missing {expected:?} in {reasons:?}"
        );
    }
    // The new Lambda permission is a new grant.
    assert!(
        iam.iter()
            .any(|c| c.logical_id == "FnInvoke" && c.broadened && c.principal == vec!["Service:events.amazonaws.com"])
    );
    assert!(render::markdown(&r).contains("permissions **broadened**"));
}

#[test]
fn masked_secret() {
    let r = snapshot_all("masked-secret");
    assert_eq!(r.stacks[0].hidden.masked, 4);
    let all = format!(
        "{}{}{}",
        render::text(&r, false),
        render::json(&r),
        render::markdown(&r)
    );
    for secret in [
        "old-password-123",
        "new-password-456",
        "token2",
        "db-password:2",
        "admin-pw",
    ] {
        assert!(!all.contains(secret), "secret {secret} leaked");
    }
    assert!(all.contains("4 masked values"));
    // A non-secret change in the same resource is shown.
    assert!(all.contains("AllocatedStorage: \"20\" -> \"30\""));
}

#[test]
fn new_stack() {
    let r = snapshot_all("new-stack");
    assert_eq!(r.stacks[0].status, kiro_infra::diff::StackStatus::New);
    assert_eq!(r.summary.add, 3);
    assert!(r.stacks[0].resources.iter().all(|c| c.action == Action::Add));
    assert!(render::text(&r, false).contains("3 to add, 0 to change, 0 to replace, 0 to remove; 2 other changes"));
    assert!(!render::text(&r, false).contains("AWSTemplateFormatVersion"));
}

#[test]
fn colour_is_optional() {
    let r = fixture("removal");
    assert!(render::text(&r, true).contains("\x1b[31m"));
    assert!(!render::text(&r, false).contains('\x1b'));
}

#[test]
fn markdown_is_capped_with_a_note() {
    // 40 stacks of 200 updated resources each: far over GitHub's 65,536 characters.
    let mut before = serde_json::Map::new();
    let mut after = serde_json::Map::new();
    for i in 0..200 {
        before.insert(
            format!("Topic{i}"),
            json!({"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": format!("old display name {i}")}}),
        );
        after.insert(
            format!("Topic{i}"),
            json!({"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": format!("new display name {i}")}}),
        );
    }
    let (b, a) = (json!({"Resources": before}), json!({"Resources": after}));
    let names: Vec<String> = (0..40).map(|i| format!("Stack{i}")).collect();
    let pairs: Vec<StackSides> = names
        .iter()
        .map(|n| StackSides {
            stack: n,
            environment: None,
            before: Some(&b),
            after: Some(&a),
        })
        .collect();
    let report = diff_stacks(&pairs, &BuiltinFacts);
    let md = render::markdown(&report);
    assert!(md.len() <= render::MARKDOWN_LIMIT, "{} bytes", md.len());
    assert!(md.contains("Comment cut at 65536 characters"));
    // Every opened details block and code fence is closed.
    assert_eq!(md.matches("<details>").count(), md.matches("</details>").count());
    assert_eq!(md.matches("```").count() % 2, 0);
    // The summary table still lists every stack.
    assert!(md.contains("| Stack39 |"));
    // Small reports are not cut.
    assert!(!render::markdown(&fixture("property-update")).contains("Comment cut"));
}

fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{}: {e}", parent.display()));
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

#[test]
fn baseline_directory_with_and_without_manifest() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let dir = tmp.path();
    write(
        &dir.join("test/Core.template.json"),
        r#"{"Resources": {"A": {"Type": "AWS::SNS::Topic"}}}"#,
    );
    write(
        &dir.join("test/Pipeline.template.json"),
        r#"{"Resources": {"B": {"Type": "AWS::SQS::Queue"}}}"#,
    );
    let globbed = baseline::load_dir(dir).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<(Option<&str>, &str)> = globbed
        .iter()
        .map(|s| (s.environment.as_deref(), s.name.as_str()))
        .collect();
    assert_eq!(names, vec![(Some("test"), "Core"), (Some("test"), "Pipeline")]);

    write(
        &dir.join("manifest.json"),
        r#"{"stacks": [{"name": "Pipeline", "template": "test/Pipeline.template.json", "environment": "test", "order": 2},
                       {"name": "Core", "template": "test/Core.template.json", "environment": "test", "order": 1}]}"#,
    );
    let listed = baseline::load_dir(dir).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(listed[0].name, "Pipeline");
    assert_eq!(listed[1].order, Some(1));

    // Unknown stack names are errors naming the known ones.
    let err = baseline::select(&listed, &["Nope".to_string()]).err();
    assert!(matches!(&err, Some(BaselineError::UnknownStack { known, .. }) if known == "test/Pipeline, test/Core"));
    let picked = baseline::select(&listed, &["test/Core".to_string()]).unwrap_or_default();
    assert_eq!(picked.len(), 1);

    // Pairing: a stack only in the current side is new, only in the baseline is removed.
    let current = vec![
        listed[1].clone(),
        StackTemplate {
            name: "Monitoring".into(),
            ..listed[1].clone()
        },
    ];
    let pairs = baseline::pair(&listed, &current);
    let report = diff_stacks(&pairs, &BuiltinFacts);
    let statuses: Vec<(String, kiro_infra::diff::StackStatus)> =
        report.stacks.iter().map(|s| (s.title(), s.status)).collect();
    use kiro_infra::diff::StackStatus::*;
    assert_eq!(
        statuses,
        vec![
            ("test/Core".to_string(), Unchanged),
            ("test/Monitoring".to_string(), New),
            ("test/Pipeline".to_string(), Removed)
        ]
    );
}

#[test]
fn baseline_files_yaml_and_get_template_output() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let yaml = tmp.path().join("Core.yaml");
    write(
        &yaml,
        "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: !Sub '${AWS::StackName}-b'\n",
    );
    let s = baseline::load_file(&yaml, None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.name, "Core");
    assert_eq!(
        s.template["Resources"]["B"]["Properties"]["BucketName"],
        json!({"Fn::Sub": "${AWS::StackName}-b"})
    );

    let gt = tmp.path().join("deployed.json");
    write(
        &gt,
        r#"{"TemplateBody": "{\"Resources\": {\"B\": {\"Type\": \"AWS::S3::Bucket\"}}}", "StagesAvailable": ["Original"]}"#,
    );
    let d = baseline::load_file(&gt, Some("Core")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(d.template["Resources"]["B"]["Type"], json!("AWS::S3::Bucket"));

    let bad = tmp.path().join("bad.json");
    write(&bad, r#"{"not": "a template"}"#);
    let err = baseline::load_file(&bad, None)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("not a CloudFormation template: no `Resources` section"),
        "{err}"
    );
    let broken = tmp.path().join("broken.json");
    write(&broken, "{\"Resources\": ");
    assert!(matches!(
        baseline::load_file(&broken, None),
        Err(BaselineError::Document(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// --deployed against a real moto server

#[test]
fn deployed_against_moto() {
    let moto = start_moto();
    let template = r#"{"Resources": {"Alerts": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "alerts"}},
                                      "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "kiro-test-q"}}}}"#;
    let out = aws(&moto)
        .args([
            "cloudformation",
            "create-stack",
            "--stack-name",
            "kiro-test-core",
            "--template-body",
            template,
        ])
        .args(["--endpoint-url", &moto.endpoint, "--region", "us-east-1"])
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `{}` ({e}): install the AWS CLI (`pip install awscli`) or set KIRO_AWS",
                aws_program()
            )
        });
    assert!(
        out.status.success(),
        "create-stack failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The credentials come from the environment of the test process for the child `aws`: set
    // them through a wrapper program so the test never changes its own environment.
    let wrapper = moto.home.path().join("aws-wrapper.sh");
    write(
        &wrapper,
        &format!(
            "#!/bin/sh\nexport AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_CONFIG_FILE={0}/config AWS_SHARED_CREDENTIALS_FILE={0}/credentials\nunset AWS_PROFILE\nexec '{1}' \"$@\"\n",
            moto.home.path().display(),
            aws_program()
        ),
    );
    make_executable(&wrapper);
    let cli = AwsCli {
        program: wrapper.clone(),
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(moto.endpoint.clone()),
    };
    let mut current: Value = serde_json::from_str(template).unwrap_or_default();
    current["Resources"]["Queue"]["Properties"]["QueueName"] = json!("kiro-test-q2");
    current["Resources"]["Extra"] = json!({"Type": "AWS::SNS::Topic"});
    let stack = |name: &str| StackTemplate {
        name: name.to_string(),
        environment: Some("test".into()),
        stack_name: None,
        order: None,
        path: PathBuf::from(format!("{name}.template.json")),
        template: current.clone(),
    };
    let synth = vec![stack("Core"), stack("NeverDeployed")];
    let deployed = baseline::load_deployed(&synth, &cli, &|s: &StackTemplate| match s.name.as_str() {
        "Core" => "kiro-test-core".to_string(),
        _ => "kiro-never-deployed".to_string(),
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(deployed.len(), 1, "only the deployed stack has a baseline");
    assert_eq!(deployed[0].stack_name.as_deref(), Some("kiro-test-core"));
    let report = diff_stacks(&baseline::pair(&deployed, &synth), &BuiltinFacts);
    // The deployed stack: the queue's create-only name changed, one topic added.
    let core = &report.stacks[0].summary;
    assert_eq!((core.add, core.replace, core.change), (1, 1, 0));
    // The stack that does not exist yet: no baseline, everything added.
    assert_eq!(report.stacks[1].status, kiro_infra::diff::StackStatus::New);
    assert_eq!(report.stacks[1].summary.add, 3);
    assert!(render::text(&report, false).contains("Stack test/NeverDeployed (new stack"));

    // No credentials at all: a typed error, not a crash.
    let no_creds = moto.home.path().join("aws-nocreds.sh");
    write(
        &no_creds,
        &format!(
            "#!/bin/sh\nunset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI\nexport AWS_CONFIG_FILE={0}/none AWS_SHARED_CREDENTIALS_FILE={0}/none AWS_EC2_METADATA_DISABLED=true\nexec '{1}' \"$@\"\n",
            moto.home.path().display(),
            aws_program()
        ),
    );
    make_executable(&no_creds);
    let err = AwsCli {
        program: no_creds,
        ..cli.clone()
    }
    .get_template("kiro-test-core");
    assert!(matches!(err, Err(BaselineError::AwsCredentials { .. })), "{err:?}");
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mut perm = std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions();
    perm.set_mode(0o755);
    std::fs::set_permissions(path, perm).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

// ---------------------------------------------------------------------------------------------
// No panics on any input

fn arb_json() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|i| json!(i)),
        prop::sample::select(vec![
            "Ref",
            "Fn::GetAtt",
            "Fn::Sub",
            "Statement",
            "Effect",
            "Allow",
            "Deny",
            "Action",
            "Resource",
            "Principal",
            "*",
            "s3:*",
            "{\"a\":[1,2]}",
            "[1]",
            "${A.Arn}",
            "{{resolve:ssm-secure:x}}",
            "Password",
            "A",
            "B",
            "AWS::S3::Bucket",
            "AWS::IAM::Role",
            "Properties",
            "Type",
            "BucketName",
            "Tags",
            "Key",
            "Retain",
        ])
        .prop_map(|s| Value::String(s.to_string())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "Resources",
                        "Type",
                        "Properties",
                        "A",
                        "B",
                        "C",
                        "Ref",
                        "Fn::GetAtt",
                        "Fn::Sub",
                        "Statement",
                        "Effect",
                        "Action",
                        "Resource",
                        "Principal",
                        "AWS",
                        "Condition",
                        "PolicyDocument",
                        "Policies",
                        "KeyPolicy",
                        "BucketName",
                        "DependsOn",
                        "DeletionPolicy",
                        "Tags",
                        "NoEcho",
                        "Default",
                    ]),
                    inner
                ),
                0..5
            )
            .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
    #[test]
    fn any_pair_of_documents_diffs_and_renders(b in arb_json(), a in arb_json(), ra in arb_json()) {
        // Also as resources of known policy-bearing types.
        let wrap = |v: &Value, t: &str| json!({"Resources": {"A": {"Type": t, "Properties": v}, "B": v}});
        for (bb, aa) in [(b.clone(), a.clone()), (wrap(&b, "AWS::IAM::Role"), wrap(&ra, "AWS::IAM::Role")),
                         (wrap(&b, "AWS::S3::Bucket"), wrap(&a, "AWS::S3::BucketPolicy"))] {
            let report = DiffReport::new(vec![diff_stack(
                StackSides { stack: "S", environment: None, before: Some(&bb), after: Some(&aa) },
                &BuiltinFacts,
            )]);
            let _ = render::text(&report, true);
            let _ = render::markdown_capped(&report, 300);
            let parsed: Value = serde_json::from_str(&render::json(&report)).unwrap_or_default();
            proptest::prop_assert_eq!(&parsed["version"], &json!(1));
            let md = render::markdown_capped(&report, 2_000);
            proptest::prop_assert!(md.len() <= 2_000, "{} bytes", md.len());
        }
    }
}
