//! CloudFormation limits (AWS quotas page) and each service's rules for literal resource names.
//!
//! Names built with intrinsics (`Fn::Sub`, `Ref`) are resolved at deploy time and not checked here.

use serde_json::Value;

use crate::findings::{Finding, Source, escape_pointer_token};

/// Largest template body passed inline (`--template-body`).
pub const MAX_INLINE_BODY: usize = 51_200;
/// Largest template body uploaded through S3 (`--s3-bucket`).
pub const MAX_S3_BODY: usize = 1_048_576;
pub const MAX_RESOURCES: usize = 500;
pub const MAX_OUTPUTS: usize = 200;
pub const MAX_PARAMETERS: usize = 200;
pub const MAX_LOGICAL_ID: usize = 255;
pub const MAX_STACK_NAME: usize = 128;

/// One service's naming rule for a name property.
struct NameRule {
    type_name: &'static str,
    property: &'static str,
    min: usize,
    max: usize,
    /// Allowed characters, described for the message.
    charset: &'static str,
    allowed: fn(char) -> bool,
    /// Extra whole-name rules; returns the problem.
    extra: Option<fn(&str, &Value) -> Option<String>>,
}

/// What is wrong with a literal resource name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameProblem {
    Length { len: usize, min: usize, max: usize },
    Char { bad: char, charset: &'static str },
    Other(String),
}

impl NameRule {
    fn problem(&self, name: &str, props: &Value) -> Option<NameProblem> {
        let len = name.chars().count();
        if len < self.min || len > self.max {
            return Some(NameProblem::Length {
                len,
                min: self.min,
                max: self.max,
            });
        }
        if let Some(bad) = name.chars().find(|c| !(self.allowed)(*c)) {
            return Some(NameProblem::Char {
                bad,
                charset: self.charset,
            });
        }
        self.extra.and_then(|f| f(name, props)).map(NameProblem::Other)
    }
}

/// Checks a literal name of `type_name`'s `property` against the service's rule (the same
/// rule `check_limits` applies to templates). `None`: the name is valid, or no rule is known.
pub fn name_problem(type_name: &str, property: &str, name: &str) -> Option<NameProblem> {
    NAME_RULES
        .iter()
        .find(|r| r.type_name == type_name && r.property == property)
        .and_then(|r| r.problem(name, &Value::Null))
}

fn alnum_dash_underscore(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

const NAME_RULES: &[NameRule] = &[
    NameRule {
        type_name: "AWS::S3::Bucket",
        property: "BucketName",
        min: 3,
        max: 63,
        charset: "lower-case letters, digits, '.' and '-'",
        allowed: |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-',
        extra: Some(bucket_name_extra),
    },
    NameRule {
        type_name: "AWS::DynamoDB::Table",
        property: "TableName",
        min: 3,
        max: 255,
        charset: "letters, digits, '_', '.' and '-'",
        allowed: |c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-',
        extra: None,
    },
    NameRule {
        type_name: "AWS::IAM::Role",
        property: "RoleName",
        min: 1,
        max: 64,
        charset: "letters, digits and '+=,.@_-'",
        allowed: iam_char,
        extra: None,
    },
    NameRule {
        type_name: "AWS::IAM::ManagedPolicy",
        property: "ManagedPolicyName",
        min: 1,
        max: 128,
        charset: "letters, digits and '+=,.@_-'",
        allowed: iam_char,
        extra: None,
    },
    NameRule {
        type_name: "AWS::IAM::Policy",
        property: "PolicyName",
        min: 1,
        max: 128,
        charset: "letters, digits and '+=,.@_-'",
        allowed: iam_char,
        extra: None,
    },
    NameRule {
        type_name: "AWS::Lambda::Function",
        property: "FunctionName",
        min: 1,
        max: 64,
        charset: "letters, digits, '-' and '_'",
        allowed: alnum_dash_underscore,
        extra: None,
    },
    NameRule {
        type_name: "AWS::Logs::LogGroup",
        property: "LogGroupName",
        min: 1,
        max: 512,
        charset: "letters, digits and '._-/#'",
        allowed: |c| c.is_ascii_alphanumeric() || "._-/#".contains(c),
        extra: None,
    },
    NameRule {
        type_name: "AWS::CloudWatch::Alarm",
        property: "AlarmName",
        min: 1,
        max: 255,
        charset: "printable characters (no control characters)",
        allowed: |c| !c.is_control(),
        extra: None,
    },
    NameRule {
        type_name: "AWS::CloudWatch::Dashboard",
        property: "DashboardName",
        min: 1,
        max: 255,
        charset: "letters, digits, '-' and '_'",
        allowed: alnum_dash_underscore,
        extra: None,
    },
    NameRule {
        type_name: "AWS::SNS::Topic",
        property: "TopicName",
        min: 1,
        max: 256,
        charset: "letters, digits, '-' and '_' (and a '.fifo' suffix for FIFO topics)",
        allowed: |c| alnum_dash_underscore(c) || c == '.',
        extra: Some(|name, props| fifo_suffix(name, props, "FifoTopic")),
    },
    NameRule {
        type_name: "AWS::SQS::Queue",
        property: "QueueName",
        min: 1,
        max: 80,
        charset: "letters, digits, '-' and '_' (and a '.fifo' suffix for FIFO queues)",
        allowed: |c| alnum_dash_underscore(c) || c == '.',
        extra: Some(|name, props| fifo_suffix(name, props, "FifoQueue")),
    },
    NameRule {
        type_name: "AWS::CodeBuild::Project",
        property: "Name",
        min: 2,
        max: 255,
        charset: "letters, digits, '-' and '_', starting with a letter or digit",
        allowed: alnum_dash_underscore,
        extra: Some(|name, _| {
            (!name.starts_with(|c: char| c.is_ascii_alphanumeric())).then(|| "must start with a letter or digit".into())
        }),
    },
    NameRule {
        type_name: "AWS::CodePipeline::Pipeline",
        property: "Name",
        min: 1,
        max: 100,
        charset: "letters, digits and '.@_-'",
        allowed: |c| c.is_ascii_alphanumeric() || ".@_-".contains(c),
        extra: None,
    },
    NameRule {
        type_name: "AWS::CodePipeline::Webhook",
        property: "Name",
        min: 1,
        max: 100,
        charset: "letters, digits and '.@_-'",
        allowed: |c| c.is_ascii_alphanumeric() || ".@_-".contains(c),
        extra: None,
    },
    NameRule {
        type_name: "AWS::Events::Rule",
        property: "Name",
        min: 1,
        max: 64,
        charset: "letters, digits and '._-'",
        allowed: |c| c.is_ascii_alphanumeric() || "._-".contains(c),
        extra: None,
    },
    NameRule {
        type_name: "AWS::KMS::Alias",
        property: "AliasName",
        min: 7,
        max: 256,
        charset: "'alias/' then letters, digits and '/_-'",
        allowed: |c| c.is_ascii_alphanumeric() || "/_-".contains(c),
        extra: Some(|name, _| {
            if !name.starts_with("alias/") {
                Some("must start with `alias/`".into())
            } else if name.starts_with("alias/aws/") {
                Some("`alias/aws/` is reserved for AWS managed keys".into())
            } else {
                None
            }
        }),
    },
];

fn iam_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)
}

fn fifo_suffix(name: &str, props: &Value, flag: &str) -> Option<String> {
    let fifo =
        matches!(props.get(flag), Some(Value::Bool(true))) || props.get(flag).and_then(Value::as_str) == Some("true");
    let base = name.strip_suffix(".fifo");
    match (fifo, base) {
        (true, None) => Some(format!("a FIFO name ({flag}: true) must end with `.fifo`")),
        (false, Some(_)) => Some(format!("only a FIFO resource ({flag}: true) may end with `.fifo`")),
        (_, Some(b)) if b.contains('.') => Some("'.' is only allowed in the `.fifo` suffix".into()),
        (false, None) if name.contains('.') => Some("'.' is only allowed in the `.fifo` suffix".into()),
        _ => None,
    }
}

fn bucket_name_extra(name: &str, _: &Value) -> Option<String> {
    let first_last_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !first_last_ok(name.chars().next()) || !first_last_ok(name.chars().last()) {
        return Some("must begin and end with a lower-case letter or digit".into());
    }
    if name.contains("..") {
        return Some("must not contain two adjacent periods".into());
    }
    let parts: Vec<&str> = name.split('.').collect();
    if parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && p.chars().all(|c| c.is_ascii_digit()))
    {
        return Some("must not be formatted as an IP address".into());
    }
    for prefix in ["xn--", "sthree-", "amzn-s3-demo-"] {
        if name.starts_with(prefix) {
            return Some(format!("must not start with the reserved prefix `{prefix}`"));
        }
    }
    for suffix in ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] {
        if name.ends_with(suffix) {
            return Some(format!("must not end with the reserved suffix `{suffix}`"));
        }
    }
    None
}

/// Checks a stack name: 1-128 characters, a letter first, then letters, digits and '-'.
pub fn check_stack_name(stack: &str) -> Option<Finding> {
    let chars_ok = stack.starts_with(|c: char| c.is_ascii_alphabetic())
        && stack.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if stack.len() > MAX_STACK_NAME || !chars_ok {
        return Some(
            Finding::new(Source::Limit, stack, "", format!("stack name `{stack}` is not valid"))
                .expected("1-128 characters: a letter, then letters, digits and '-'")
                .actual(format!("{} characters", stack.chars().count())),
        );
    }
    None
}

/// CloudFormation limits of one template: body size (`rendered_len` bytes), resource, output and
/// parameter counts, logical ids, and literal resource names per service. The stack name is
/// checked apart ([`check_stack_name`]): external templates have none.
pub fn check_limits(stack: &str, template: &Value, rendered_len: usize) -> Vec<Finding> {
    let mut out = Vec::new();
    if rendered_len > MAX_S3_BODY {
        out.push(
            Finding::new(
                Source::Limit,
                stack,
                "",
                format!("template body is {rendered_len} bytes, over the 1 MB limit"),
            )
            .expected(format!("at most {MAX_S3_BODY} bytes"))
            .actual(format!("{rendered_len} bytes"))
            .fix("split the stack"),
        );
    } else if rendered_len > MAX_INLINE_BODY {
        out.push(
            Finding::new(
                Source::Limit,
                stack,
                "",
                format!("template body is {rendered_len} bytes, over the 51,200-byte inline limit"),
            )
            .expected(format!("at most {MAX_INLINE_BODY} bytes inline"))
            .actual(format!("{rendered_len} bytes"))
            .fix("deploy with --s3-bucket (templates up to 1 MB)")
            .warning(),
        );
    }
    for (section, max) in [
        ("Resources", MAX_RESOURCES),
        ("Outputs", MAX_OUTPUTS),
        ("Parameters", MAX_PARAMETERS),
    ] {
        let count = template.get(section).and_then(Value::as_object).map_or(0, |m| m.len());
        if count > max {
            out.push(
                Finding::new(
                    Source::Limit,
                    stack,
                    format!("/{section}"),
                    format!("{count} {section}: the limit is {max}"),
                )
                .expected(format!("at most {max}"))
                .actual(count.to_string()),
            );
        }
    }
    for section in ["Resources", "Outputs", "Parameters", "Conditions", "Mappings"] {
        for id in template
            .get(section)
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|m| m.keys())
        {
            if id.is_empty() || id.len() > MAX_LOGICAL_ID || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
                out.push(
                    Finding::new(
                        Source::Limit,
                        stack,
                        format!("/{section}/{}", escape_pointer_token(id)),
                        format!("logical id `{id}` must be 1-255 alphanumeric characters (A-Za-z0-9)"),
                    )
                    .actual(id.clone()),
                );
            }
        }
    }
    let resources = template.get("Resources").and_then(Value::as_object);
    for (id, resource) in resources.into_iter().flatten() {
        let Some(type_name) = resource.get("Type").and_then(Value::as_str) else {
            continue;
        };
        let Some(props) = resource.get("Properties") else {
            continue;
        };
        for rule in NAME_RULES.iter().filter(|r| r.type_name == type_name) {
            let Some(name) = props.get(rule.property).and_then(Value::as_str) else {
                continue;
            };
            if name.contains("{{resolve:") {
                continue;
            }
            let pointer = format!("/Resources/{}/Properties/{}", escape_pointer_token(id), rule.property);
            let problem = rule.problem(name, props).map(|p| match p {
                NameProblem::Length { len, min, max } => {
                    format!(
                        "is {len} characters; {} {} must be {min}-{max} characters",
                        type_name, rule.property
                    )
                }
                NameProblem::Char { bad, charset } => format!("contains {bad:?}; allowed: {charset}"),
                NameProblem::Other(why) => why,
            });
            if let Some(problem) = problem {
                out.push(
                    Finding::new(Source::Limit, stack, pointer, format!("name `{name}` {problem}"))
                        .expected(format!("{}-{} characters: {}", rule.min, rule.max, rule.charset))
                        .actual(name),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(type_name: &str, prop: &str, name: &str) -> Vec<Finding> {
        let t = json!({"Resources": {"R": {"Type": type_name, "Properties": {prop: name}}}});
        check_limits("Stack", &t, 100)
    }

    #[test]
    fn bucket_names() {
        assert!(one("AWS::S3::Bucket", "BucketName", "kiro-pipeline-test-artifacts").is_empty());
        assert_eq!(one("AWS::S3::Bucket", "BucketName", "Upper").len(), 1);
        assert_eq!(one("AWS::S3::Bucket", "BucketName", "ab").len(), 1);
        assert_eq!(one("AWS::S3::Bucket", "BucketName", "a..b").len(), 1);
        assert_eq!(one("AWS::S3::Bucket", "BucketName", "192.168.1.1").len(), 1);
        assert_eq!(one("AWS::S3::Bucket", "BucketName", "xn--abc").len(), 1);
        assert_eq!(one("AWS::S3::Bucket", "BucketName", "abc-").len(), 1);
    }

    #[test]
    fn other_names() {
        assert_eq!(one("AWS::IAM::Role", "RoleName", &"r".repeat(65)).len(), 1);
        assert!(one("AWS::IAM::Role", "RoleName", &"r".repeat(64)).is_empty());
        assert_eq!(one("AWS::KMS::Alias", "AliasName", "alias/aws/x").len(), 1);
        assert_eq!(one("AWS::KMS::Alias", "AliasName", "key").len(), 1);
        assert_eq!(one("AWS::SQS::Queue", "QueueName", "q.fifo").len(), 1);
        assert_eq!(one("AWS::CodeBuild::Project", "Name", "-x").len(), 1);
        assert_eq!(one("AWS::Events::Rule", "Name", "a b").len(), 1);
        assert!(one("AWS::Logs::LogGroup", "LogGroupName", "/aws/lambda/x").is_empty());
    }

    #[test]
    fn stack_names_and_sizes() {
        assert!(check_stack_name("KiroPipelineCoreTest").is_none());
        assert!(check_stack_name("1abc").is_some());
        assert!(check_stack_name(&"a".repeat(129)).is_some());
        let t = json!({"Resources": {}});
        let f = check_limits("S", &t, 60_000);
        assert_eq!(f.len(), 1);
        assert_eq!(f.first().map(|f| f.severity), Some(crate::findings::Severity::Warning));
        let f = check_limits("S", &t, 2_000_000);
        assert_eq!(f.first().map(|f| f.severity), Some(crate::findings::Severity::Error));
    }
}
