//! Benchmark (not a timed test): diff two generated templates of 1,000 to 10,000 resources and
//! render all three formats. Target: 5,000 resources under 100 ms, cost linear in resources.
//!
//! `cargo bench --bench diff`

use kiro_infra::diff::{BuiltinFacts, DiffReport, StackSides, diff_stack, render};
use serde_json::{Map, Value, json};
use std::time::{Duration, Instant};

/// A template of `n` resources of mixed kinds; `changed` alters about one resource in ten
/// (property updates, create-only changes, removals, additions, renames, reorders, IAM edits).
fn template(n: usize, changed: bool) -> Value {
    let mut resources = Map::new();
    for i in 0..n {
        let edit = changed && i % 10 == 0;
        let (id, resource) = match i % 5 {
            0 => (
                format!("Bucket{i}"),
                json!({"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "Properties": {
                    "BucketName": if edit && i % 20 == 0 { format!("bucket-{i}-v2") } else { format!("bucket-{i}") },
                    "VersioningConfiguration": {"Status": "Enabled"},
                    "Tags": if edit { json!([{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "1"}]) }
                            else { json!([{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]) }}}),
            ),
            1 => (
                format!("Policy{i}"),
                json!({"Type": "AWS::S3::BucketPolicy", "Properties": {
                    "Bucket": {"Ref": format!("Bucket{}", i - 1)},
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                         "Action": if edit { json!("s3:*") } else { json!(["s3:GetObject", "s3:PutObject"]) },
                         "Resource": {"Fn::Sub": format!("${{Bucket{}.Arn}}/*", i - 1)}}]}}}),
            ),
            2 => (
                if edit {
                    format!("QueueRenamed{i}")
                } else {
                    format!("Queue{i}")
                },
                json!({"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 300, "MessageRetentionPeriod": 345600}}),
            ),
            3 => (
                format!("Dashboard{i}"),
                json!({"Type": "AWS::CloudWatch::Dashboard", "Properties": {
                    "DashboardName": format!("dash-{i}"),
                    "DashboardBody": json!({"widgets": [{"type": "metric", "properties": {
                        "title": if edit { "Errors (p99)" } else { "Errors" },
                        "metrics": [["AWS/Lambda", "Errors", "FunctionName", format!("fn-{i}")]]}}]}).to_string()}}),
            ),
            _ => (
                format!("Topic{i}"),
                json!({"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": if edit { format!("topic {i} (new)") } else { format!("topic {i}") }}}),
            ),
        };
        if changed && i % 50 == 4 {
            continue; // removed
        }
        resources.insert(id, resource);
    }
    if changed {
        for i in 0..n / 100 {
            resources.insert(
                format!("Added{i}"),
                json!({"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": format!("added {i}")}}),
            );
        }
    }
    json!({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources})
}

fn time(runs: u32, mut f: impl FnMut()) -> Duration {
    let mut best = Duration::MAX;
    for _ in 0..runs {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed());
    }
    best
}

fn main() {
    println!(
        "{:>9} {:>10} {:>10} {:>10} {:>10} {:>12}",
        "resources", "diff", "text", "json", "markdown", "diff/res"
    );
    for n in [1_000usize, 2_000, 5_000, 10_000] {
        let before = template(n, false);
        let after = template(n, true);
        let sides = StackSides {
            stack: "Bench",
            environment: None,
            before: Some(&before),
            after: Some(&after),
        };
        let mut report = DiffReport::new(vec![]);
        let d = time(5, || report = DiffReport::new(vec![diff_stack(sides, &BuiltinFacts)]));
        let mut len = 0;
        let t = time(5, || len += render::text(&report, false).len());
        let j = time(5, || len += render::json(&report).len());
        let m = time(5, || len += render::markdown(&report).len());
        println!(
            "{n:>9} {:>8.2}ms {:>8.2}ms {:>8.2}ms {:>8.2}ms {:>10.2}us   ({} changes, {len} bytes rendered)",
            d.as_secs_f64() * 1e3,
            t.as_secs_f64() * 1e3,
            j.as_secs_f64() * 1e3,
            m.as_secs_f64() * 1e3,
            d.as_secs_f64() * 1e6 / n as f64,
            report.stacks.first().map(|s| s.resources.len()).unwrap_or(0),
        );
    }
}
