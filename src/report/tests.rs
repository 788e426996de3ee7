use super::*;
use crate::findings::{Finding, Source};
use serde_json::Value;

/// A small rendered template, so lines and columns in the sample are real.
const CORE_SOURCE: &str = r#"{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Resources": {
    "ArtifactsBucket": {
      "Type": "AWS::S3::Bucket",
      "Properties": {
        "BucketEncryption": {
          "ServerSideEncryptionConfiguration": [
            {
              "ServerSideEncryptionByDefault": {
                "SSEAlgorithm": "AES256"
              }
            }
          ]
        }
      }
    },
    "BuildRole": {
      "Type": "AWS::IAM::Role",
      "Properties": {
        "Policies": [
          {
            "PolicyDocument": {
              "Statement": [
                {
                  "Action": "s3:*",
                  "Effect": "Allow",
                  "Resource": "*"
                }
              ]
            }
          }
        ]
      }
    }
  }
}
"#;

const CORE: &str = "KiroPipelineCoreTest";
const CORE_FILE: &str = "templates/test/KiroPipelineCoreTest.template.json";

fn guard(rule: &str, file: &str, pointer: &str, line: usize, message: &str) -> Finding {
    let mut f = Finding::new(
        Source::Guard {
            rule: rule.into(),
            file: file.into(),
        },
        CORE,
        pointer,
        message,
    );
    f.line = Some(line);
    f
}

fn outcome(rule: &str, file: &str, status: RuleStatus, violations: Vec<Finding>) -> RuleOutcome {
    RuleOutcome {
        rule: rule.into(),
        rules_file: file.into(),
        status,
        violations,
    }
}

pub(crate) fn sample() -> CheckReport {
    let sse = guard(
        "S3_BUCKET_SSE_KMS",
        "builtin:encryption.guard",
        "/Resources/ArtifactsBucket/Properties/BucketEncryption/ServerSideEncryptionConfiguration/0/ServerSideEncryptionByDefault/SSEAlgorithm",
        11,
        "S3 buckets must be encrypted with a customer-managed KMS key",
    )
    .expected("aws:kms")
    .actual("AES256")
    .fix("Set SSEAlgorithm to aws:kms and KMSMasterKeyID to the Core key");
    let action = guard(
        "IAM_NO_SERVICE_WILDCARD",
        "rules/iam.guard",
        "/Resources/BuildRole/Properties/Policies/0/PolicyDocument/Statement/0/Action",
        26,
        "IAM actions must be named, not `service:*`",
    )
    .expected("named actions such as s3:GetObject")
    .actual("s3:*")
    .fix("List the actions the role needs");
    let resource = guard(
        "IAM_NO_SERVICE_WILDCARD",
        "rules/iam.guard",
        "/Resources/BuildRole/Properties/Policies/0/PolicyDocument/Statement/0/Resource",
        28,
        "Resource \"*\" is only allowed for actions AWS supports only on \"*\"",
    )
    .actual("*");
    let mut schema = Finding::new(
        Source::Schema,
        CORE,
        "/Resources/ArtifactsBucket/Properties/BucketEncryption",
        "Additional property ServerSideEncryption is not allowed",
    )
    .expected("one of: ServerSideEncryptionConfiguration");
    schema.line = Some(7);
    let limit = Finding::new(
        Source::Limit,
        CORE,
        "",
        "Template is 48,000 bytes, close to the 51,200-byte inline limit",
    )
    .warning()
    .fix("Deploy with --s3-bucket");
    CheckReport {
        templates: vec![
            TemplateReport {
                file: CORE_FILE.into(),
                stack: CORE.into(),
                rules: vec![
                    outcome(
                        "S3_BUCKET_SSE_KMS",
                        "builtin:encryption.guard",
                        RuleStatus::Fail,
                        vec![sse],
                    ),
                    outcome(
                        "DYNAMODB_PITR",
                        "builtin:data-protection.guard",
                        RuleStatus::Pass,
                        vec![],
                    ),
                    outcome(
                        "LOG_GROUP_RETENTION",
                        "builtin:retention.guard",
                        RuleStatus::Skip,
                        vec![],
                    ),
                    outcome(
                        "IAM_NO_SERVICE_WILDCARD",
                        "rules/iam.guard",
                        RuleStatus::Fail,
                        vec![action, resource],
                    ),
                ],
                findings: vec![schema, limit],
                source: Some(CORE_SOURCE.into()),
                index: Default::default(),
            },
            TemplateReport {
                file: "templates/test/KiroPipelineTest.template.json".into(),
                stack: "KiroPipelineTest".into(),
                rules: vec![
                    outcome(
                        "S3_BUCKET_SSE_KMS",
                        "builtin:encryption.guard",
                        RuleStatus::Skip,
                        vec![],
                    ),
                    outcome(
                        "DYNAMODB_PITR",
                        "builtin:data-protection.guard",
                        RuleStatus::Skip,
                        vec![],
                    ),
                    outcome("IAM_NO_SERVICE_WILDCARD", "rules/iam.guard", RuleStatus::Pass, vec![]),
                ],
                findings: vec![],
                source: None,
                index: Default::default(),
            },
        ],
        suppressions: vec![Suppression {
            file: CORE_FILE.into(),
            logical_id: "ArtifactsBucket".into(),
            rule: "S3_BUCKET_LOGGING".into(),
            reason: "The artifacts bucket is itself the log target".into(),
        }],
    }
}

/// Strings that break naive XML/JSON/terminal output.
const TRICKY: &str = "a<b>&c \"quoted\" 'single' ]]> \u{1b}[31mred\u{0}nul\u{7}\nsecond line\r\ttab é 🚀";

fn tricky() -> CheckReport {
    let file = "my templates/a&b #1/<odd>.template.json";
    let mut f = Finding::new(
        Source::Guard {
            rule: "RULE_<&>".into(),
            file: "rules/we\"ird.guard".into(),
        },
        "Stack\u{1}",
        "/Resources/Bad~1Id/Properties/A",
        TRICKY,
    )
    .expected(TRICKY)
    .actual("]]>")
    .fix(TRICKY);
    f.line = Some(2);
    let mut schema = Finding::new(Source::Schema, "Stack", "/Resources/X", TRICKY);
    schema.line = Some(1);
    CheckReport {
        templates: vec![TemplateReport {
            file: file.into(),
            stack: "Stack<&>".into(),
            rules: vec![outcome("RULE_<&>", "rules/we\"ird.guard", RuleStatus::Fail, vec![f])],
            findings: vec![schema],
            source: Some("{\n\t  \"Resources\": {}\n}\n".into()),
            index: Default::default(),
        }],
        suppressions: vec![Suppression {
            file: "elsewhere.yaml".into(),
            logical_id: "Id".into(),
            rule: "R".into(),
            reason: TRICKY.into(),
        }],
    }
}

fn stable(s: String) -> String {
    s.replace(env!("CARGO_PKG_VERSION"), "[version]")
}

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({snapshot_path => "../../snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

#[test]
fn summary_counts_pass_fail_skip_and_findings() {
    let s = sample().summary();
    assert_eq!((s.templates, s.pass, s.fail, s.skip), (2, 2, 2, 3));
    assert_eq!((s.errors, s.warnings, s.suppressions), (4, 1, 1));
    assert!(!sample().passed());
    let mut ok = sample();
    ok.templates.remove(0);
    assert!(ok.passed());
    assert!(CheckReport::default().passed());
}

#[test]
fn property_paths_are_relative_to_the_resource() {
    assert_eq!(
        property_path("/Resources/B/Properties/Tags/0/Key"),
        "Properties.Tags[0].Key"
    );
    assert_eq!(property_path("/Resources/B"), "(resource)");
    assert_eq!(property_path("/Resources/B/Properties/a~1b"), "Properties.a/b");
    assert_eq!(property_path("/Outputs/Arn"), "/Outputs/Arn");
    assert_eq!(property_path(""), "(template)");
}

#[test]
fn columns_come_from_the_source_line() {
    let t = &sample().templates[0];
    assert_eq!(t.column(11), Some(17));
    assert_eq!(t.source_line(11).map(str::trim), Some("\"SSEAlgorithm\": \"AES256\""));
    assert_eq!(t.column(0), None);
    assert_eq!(t.column(10_000), None);
    assert_eq!(sample().templates[1].column(1), None);
}

/// The line index gives what `str::lines` gives, line endings and all, on any text.
#[test]
fn source_lines_are_the_lines_of_the_text() {
    use proptest::prelude::*;
    let texts = proptest::collection::vec(
        prop_oneof![Just('a'), Just('\n'), Just('\r'), Just(' '), Just('é')],
        0..40,
    );
    proptest!(|(chars in texts)| {
        let text: String = chars.into_iter().collect();
        let t = TemplateReport { source: Some(text.clone()), ..TemplateReport::default() };
        let expected: Vec<&str> = text.lines().collect();
        for n in 0..expected.len() + 3 {
            let want = n.checked_sub(1).and_then(|i| expected.get(i).copied());
            prop_assert_eq!(t.source_line(n), want, "line {} of {:?}", n, text);
        }
    });
}

/// A minified template is one line: each finding's excerpt is cut, so a report of thousands
/// of findings stays proportional to their number (it printed the whole line every time).
#[test]
fn excerpts_of_long_lines_are_cut() {
    let line = format!(
        "{{\"Resources\": {{{}}}}}",
        "\"R\": {\"Type\": \"AWS::SNS::Topic\"}, ".repeat(20_000)
    );
    let mut findings = vec![];
    for i in 0..2000 {
        let mut f = Finding::new(Source::Schema, "Big", format!("/Resources/R{i}"), "bad");
        f.line = Some(1);
        findings.push(f);
    }
    let report = CheckReport {
        templates: vec![TemplateReport {
            file: "big.json".into(),
            stack: "Big".into(),
            findings,
            source: Some(line),
            ..TemplateReport::default()
        }],
        suppressions: vec![],
    };
    let text = render_text(&report, false);
    assert!(text.len() < 2000 * 400, "{} bytes", text.len());
    let excerpt = text
        .lines()
        .find(|l| l.trim_start().starts_with("1 | "))
        .expect("an excerpt");
    assert!(excerpt.ends_with(" …"), "{excerpt}");
    assert_eq!(excerpt.trim_start().trim_start_matches("1 | ").chars().count(), 160 + 2);
}

#[test]
fn text_report_snapshot() {
    let text = render_text(&sample(), false);
    assert!(!text.contains('\u{1b}'));
    snapshot!("report_text", text);
}

#[test]
fn text_report_colored_snapshot() {
    let text = render_text(&sample(), true);
    assert!(text.contains("\u{1b}[1;31mFAIL\u{1b}[0m"));
    snapshot!("report_text_color", text);
}

#[test]
fn text_report_lists_every_failure_with_what_to_fix() {
    let text = render_text(&sample(), false);
    for needle in [
        "FAIL S3_BUCKET_SSE_KMS [builtin:encryption.guard]",
        "at       templates/test/KiroPipelineCoreTest.template.json:11:17",
        "resource ArtifactsBucket",
        "property Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm",
        "expected aws:kms",
        "actual   AES256",
        "fix      Set SSEAlgorithm to aws:kms",
        "S3_BUCKET_LOGGING on ArtifactsBucket",
        "Summary: 2 templates, 7 rule results: 2 PASS, 2 FAIL, 3 SKIP; 4 errors, 1 warning; 1 suppression",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    let untrusted = render_text(&tricky(), false);
    assert!(
        !untrusted.contains('\u{1b}') && !untrusted.contains('\u{0}'),
        "control characters reach the terminal"
    );
}

#[test]
fn json_report_snapshot_and_shape() {
    let json = render_json(&sample());
    let value: Value = serde_json::from_str(&json).unwrap_or_default();
    assert_eq!(value["version"], 1);
    assert_eq!(value["passed"], false);
    let core = &value["templates"][0];
    assert_eq!(core["file"], CORE_FILE);
    let files: Vec<&str> = core["rules_files"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["file"].as_str())
        .collect();
    assert_eq!(
        files,
        [
            "builtin:encryption.guard",
            "builtin:data-protection.guard",
            "builtin:retention.guard",
            "rules/iam.guard"
        ]
    );
    let iam = &core["rules_files"][3]["rules"][0];
    assert_eq!(iam["status"], "FAIL");
    assert_eq!(iam["violations"].as_array().map(Vec::len), Some(2));
    assert_eq!(iam["violations"][0]["line"], 26);
    assert_eq!(iam["violations"][0]["column"], 19);
    assert_eq!(core["status"], "FAIL");
    assert_eq!(value["templates"][1]["status"], "PASS");
    assert_eq!(core["rules_files"][2]["rules"][0]["status"], "SKIP");
    assert_eq!(value["summary"]["fail"], 2);
    snapshot!("report_json", stable(json));
}

fn sarif_validator() -> jsonschema::Validator {
    let text = include_str!("../../tests/fixtures/sarif-schema-2.1.0.json");
    let schema: Value = serde_json::from_str(text).unwrap_or_default();
    match jsonschema::options().should_validate_formats(true).build(&schema) {
        Ok(v) => v,
        Err(err) => panic!("the vendored SARIF schema does not compile: {err}"),
    }
}

fn schema_errors(validator: &jsonschema::Validator, sarif: &str) -> Vec<String> {
    let value: Value = match serde_json::from_str(sarif) {
        Ok(v) => v,
        Err(err) => return vec![format!("not JSON: {err}")],
    };
    validator
        .iter_errors(&value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let validator = sarif_validator();
    for (name, report) in [
        ("sample", sample()),
        ("tricky", tricky()),
        ("empty", CheckReport::default()),
    ] {
        let errors = schema_errors(&validator, &render_sarif(&report));
        assert!(errors.is_empty(), "{name}: SARIF invalid: {errors:#?}");
    }
    // the validator does reject what the schema forbids
    let mut broken: Value = serde_json::from_str(&render_sarif(&sample())).unwrap_or_default();
    broken["runs"][0]["results"][0]["level"] = Value::from("fatal");
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = Value::from(0);
    assert_eq!(schema_errors(&validator, &broken.to_string()).len(), 2);
}

#[test]
fn sarif_results_carry_file_line_column() {
    let sarif: Value = serde_json::from_str(&render_sarif(&sample())).unwrap_or_default();
    let run = &sarif["runs"][0];
    let results = run["results"].as_array().cloned().unwrap_or_default();
    assert_eq!(results.len(), 5, "2 findings + 3 violations");
    let sse = results
        .iter()
        .find(|r| r["ruleId"] == "S3_BUCKET_SSE_KMS")
        .cloned()
        .unwrap_or_default();
    let loc = &sse["locations"][0];
    assert_eq!(loc["physicalLocation"]["artifactLocation"]["uri"], CORE_FILE);
    assert_eq!(loc["physicalLocation"]["region"]["startLine"], 11);
    assert_eq!(loc["physicalLocation"]["region"]["startColumn"], 17);
    assert_eq!(
        loc["logicalLocations"][0]["fullyQualifiedName"],
        "KiroPipelineCoreTest/ArtifactsBucket"
    );
    let index = sse["ruleIndex"].as_u64().unwrap_or(u64::MAX) as usize;
    assert_eq!(run["tool"]["driver"]["rules"][index]["id"], "S3_BUCKET_SSE_KMS");
    let limit = results
        .iter()
        .find(|r| r["ruleId"] == "limit")
        .cloned()
        .unwrap_or_default();
    assert_eq!(limit["level"], "warning");
    assert!(
        limit["locations"][0]["physicalLocation"].get("region").is_none(),
        "no line, no region"
    );
    let tricky: Value = serde_json::from_str(&render_sarif(&tricky())).unwrap_or_default();
    assert_eq!(
        tricky["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "my%20templates/a%26b%20%231/%3Codd%3E.template.json"
    );
}

#[test]
fn sarif_report_snapshot() {
    snapshot!("report_sarif", stable(render_sarif(&sample())));
}

#[test]
fn junit_report_snapshot() {
    snapshot!("report_junit", render_junit(&sample()));
}

fn parse_xml(xml: &str) -> roxmltree::Document<'_> {
    match roxmltree::Document::parse(xml) {
        Ok(doc) => doc,
        Err(err) => panic!("JUnit output is not well-formed XML: {err}\n{xml}"),
    }
}

#[test]
fn junit_is_well_formed_with_file_and_line_on_failures() {
    let xml = render_junit(&sample());
    let doc = parse_xml(&xml);
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(root.attribute("tests"), Some("9"));
    assert_eq!(root.attribute("failures"), Some("3"));
    assert_eq!(root.attribute("skipped"), Some("3"));
    let failures: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("failure")).collect();
    assert_eq!(failures.len(), 3);
    for failure in &failures {
        let case = failure
            .parent_element()
            .map(|p| (p.attribute("file"), p.attribute("line")));
        let (file, line) = case.unwrap_or_default();
        assert_eq!(file, Some(CORE_FILE));
        assert!(
            line.is_some_and(|l| l.parse::<usize>().is_ok()),
            "failure without a line"
        );
    }
    let iam = failures
        .iter()
        .find(|f| f.attribute("type") == Some("IAM_NO_SERVICE_WILDCARD"));
    let body = iam.and_then(|f| f.text()).unwrap_or_default();
    assert!(
        body.contains(&format!("{CORE_FILE}:26")) && body.contains(&format!("{CORE_FILE}:28")),
        "{body}"
    );
    let skipped = doc.descendants().filter(|n| n.has_tag_name("skipped")).count();
    assert_eq!(skipped, 3);
    let property = doc
        .descendants()
        .find(|n| n.has_tag_name("property"))
        .and_then(|n| n.attribute("value"));
    assert_eq!(
        property,
        Some(
            "S3_BUCKET_LOGGING on ArtifactsBucket in templates/test/KiroPipelineCoreTest.template.json: The artifacts bucket is itself the log target"
        )
    );
}

#[test]
fn junit_escapes_tricky_strings() {
    let xml = render_junit(&tricky());
    let doc = parse_xml(&xml);
    let suite = doc.descendants().find(|n| n.has_tag_name("testsuite"));
    assert_eq!(suite.and_then(|s| s.attribute("name")), Some("Stack<&>"));
    assert_eq!(
        suite.and_then(|s| s.attribute("file")),
        Some("my templates/a&b #1/<odd>.template.json")
    );
    let failure = doc
        .descendants()
        .find(|n| n.has_tag_name("failure") && n.attribute("type") == Some("RULE_<&>"));
    let message = failure.and_then(|f| f.attribute("message")).unwrap_or_default();
    // every character XML can carry survives exactly, attribute whitespace included
    let expected = TRICKY
        .replace('\u{1b}', "\\u{1b}")
        .replace('\u{0}', "\\u{0}")
        .replace('\u{7}', "\\u{7}");
    assert_eq!(message, expected);
    let body = failure.and_then(|f| f.text()).unwrap_or_default();
    assert!(
        body.contains("]]>") && body.contains("a<b>&c") && body.contains("🚀"),
        "{body}"
    );
    let reason = doc
        .descendants()
        .find(|n| n.has_tag_name("property"))
        .and_then(|n| n.attribute("value"));
    assert!(
        reason.is_some_and(|r| r.starts_with("R on Id in elsewhere.yaml: a<b>&c")),
        "{reason:?}"
    );
}

#[test]
fn every_format_renders_an_empty_report() {
    let empty = CheckReport::default();
    assert!(render_text(&empty, false).contains("Summary: 0 templates, 0 rule results"));
    let json: Value = serde_json::from_str(&render_json(&empty)).unwrap_or_default();
    assert_eq!(json["version"], 1);
    assert_eq!(json["passed"], true);
    let xml = render_junit(&empty);
    assert_eq!(parse_xml(&xml).root_element().attribute("tests"), Some("0"));
}

#[test]
fn output_is_deterministic() {
    for _ in 0..3 {
        assert_eq!(render_text(&sample(), true), render_text(&sample(), true));
        assert_eq!(render_json(&sample()), render_json(&sample()));
        assert_eq!(render_sarif(&sample()), render_sarif(&sample()));
        assert_eq!(render_junit(&sample()), render_junit(&sample()));
    }
}

#[test]
fn a_failed_rule_without_violations_is_still_reported() {
    let mut report = sample();
    report.templates[1]
        .rules
        .push(outcome("CUSTOM", "rules/custom.guard", RuleStatus::Fail, vec![]));
    let text = render_text(&report, false);
    assert!(text.contains("FAIL CUSTOM [rules/custom.guard]"), "{text}");
    assert!(text.contains("the rule failed without reporting a location"));
    let xml = render_junit(&report);
    let doc = parse_xml(&xml);
    let failure = doc
        .descendants()
        .find(|n| n.has_tag_name("failure") && n.attribute("type") == Some("CUSTOM"));
    assert_eq!(failure.and_then(|f| f.attribute("message")), Some("rule failed"));
    assert_eq!(report.summary().fail, 3);
    let json: Value = serde_json::from_str(&render_json(&report)).unwrap_or_default();
    assert_eq!(json["templates"][1]["status"], "FAIL");
}

/// A minified template is one line: a finding's column is where its property is written, and
/// the excerpt shows that place, in every format.
#[test]
fn a_finding_on_a_minified_template_points_at_its_property() {
    let body: Vec<String> = (0..50)
        .map(|i| format!("\"R{i}\": {{\"Type\": \"AWS::SNS::Topic\", \"Properties\": {{\"TopicName\": \"t{i}\"}}}}"))
        .collect();
    let text = format!("{{\"Resources\": {{{}}}}}", body.join(", "));
    let resource = text.find("\"R40\"").expect("R40");
    let key = resource + text[resource..].find("\"TopicName\"").expect("key");
    let properties = resource + text[resource..].find("\"Properties\"").expect("Properties");
    let mut f = Finding::new(Source::Schema, "Min", "/Resources/R40/Properties/TopicName", "bad");
    f.line = Some(1);
    // A property that is not written: its nearest written ancestor.
    let mut missing = f.clone();
    missing.pointer = "/Resources/R40/Properties/Missing".into();
    let t = TemplateReport {
        file: "min.json".into(),
        stack: "Min".into(),
        findings: vec![f.clone(), missing.clone()],
        source: Some(text.clone()),
        ..TemplateReport::default()
    };
    assert_eq!(t.column_of(&f), Some(key + 1));
    assert_eq!(t.column_of(&missing), Some(properties + 1));
    // Without a line, no column.
    let mut unlined = f.clone();
    unlined.line = None;
    assert_eq!(t.column_of(&unlined), None);

    let report = CheckReport {
        templates: vec![t],
        suppressions: vec![],
    };
    let out = render_text(&report, false);
    assert!(out.contains(&format!("min.json:1:{}", key + 1)), "{out}");
    let excerpt = out
        .lines()
        .find(|l| l.trim_start().starts_with("1 | "))
        .expect("an excerpt");
    assert!(excerpt.contains("1 | … "), "{excerpt}");
    assert!(excerpt.contains("\"TopicName\": \"t40\""), "{excerpt}");
    let json: Value = serde_json::from_str(&render_json(&report)).expect("json");
    assert_eq!(json["templates"][0]["findings"][0]["column"], key + 1);
    let sarif: Value = serde_json::from_str(&render_sarif(&report)).expect("sarif");
    let region = &sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startColumn"], key + 1, "{region}");
}

/// Columns count characters, not bytes, and a pretty-printed line with several keys (an inline
/// tag) points at the right one.
#[test]
fn columns_count_characters_and_find_keys_inside_a_line() {
    let text =
        "{\n  \"Description\": \"café\", \"Resources\": {\"T\": {\"Tags\": [{\"Key\": \"A\", \"Value\": \"B\"}]}}\n}\n";
    let mut f = Finding::new(Source::Schema, "S", "/Resources/T/Tags/0/Value", "bad");
    f.line = Some(2);
    let t = TemplateReport {
        source: Some(text.into()),
        ..TemplateReport::default()
    };
    let line = t.source_line(2).expect("line 2");
    let byte = line.find("\"Value\"").expect("Value");
    assert_eq!(t.column_of(&f), Some(line[..byte].chars().count() + 1));
    assert_ne!(
        line[..byte].chars().count(),
        byte,
        "the line has a two-byte character before"
    );
    // A YAML source has no JSON positions: the line's content start.
    let yaml = TemplateReport {
        source: Some("Resources:\n  T:\n    Type: X\n".into()),
        ..TemplateReport::default()
    };
    let mut g = Finding::new(Source::Schema, "S", "/Resources/T/Type", "bad");
    g.line = Some(3);
    assert_eq!(yaml.column_of(&g), Some(5));
}
