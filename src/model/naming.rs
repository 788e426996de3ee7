//! Naming conventions: `{prefix}-{env}-{resource}` for AWS resource names, `{Prefix}{Kind}{Env}`
//! for stack names (SYSTEM.md decisions 1 and 2). Every generated name comes from here.

use serde::Serialize;

/// The three stacks of an environment, in deploy order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StackKind {
    Core,
    Pipeline,
    Monitoring,
}

impl StackKind {
    pub const ALL: [StackKind; 3] = [StackKind::Core, StackKind::Pipeline, StackKind::Monitoring];

    /// 1-based deploy order.
    pub fn order(self) -> u32 {
        match self {
            StackKind::Core => 1,
            StackKind::Pipeline => 2,
            StackKind::Monitoring => 3,
        }
    }

    /// The part of the stack name between prefix and environment (`Core`, ``, `Monitoring`).
    fn infix(self) -> &'static str {
        match self {
            StackKind::Core => "Core",
            StackKind::Pipeline => "",
            StackKind::Monitoring => "Monitoring",
        }
    }
}

/// Names for one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Naming {
    prefix: String,
    env: String,
}

impl Naming {
    pub fn new(prefix: &str, env: &str) -> Self {
        Naming {
            prefix: prefix.to_string(),
            env: env.to_string(),
        }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn env(&self) -> &str {
        &self.env
    }

    /// `kiro-pipeline-test`: the pipeline's name and every resource name's stem.
    pub fn base(&self) -> String {
        format!("{}-{}", self.prefix, self.env)
    }

    /// `kiro-pipeline-test-{suffix}`.
    pub fn resource(&self, suffix: &str) -> String {
        format!("{}-{}-{}", self.prefix, self.env, suffix)
    }

    /// `KiroPipelineCoreTest`, `KiroPipelineTest`, `KiroPipelineMonitoringTest`.
    pub fn stack(&self, kind: StackKind) -> String {
        format!(
            "{}{}{}",
            pascal_case(&self.prefix),
            kind.infix(),
            pascal_case(&self.env)
        )
    }

    /// The export name of a stack output: `KiroPipelineCoreTest:KmsKeyArn`.
    pub fn export(&self, kind: StackKind, output: &str) -> String {
        format!("{}:{}", self.stack(kind), output)
    }

    /// `/aws/codebuild/kiro-pipeline-test-{project}`.
    pub fn codebuild_log_group(&self, project: &str) -> String {
        format!("/aws/codebuild/{}", self.resource(project))
    }

    /// `/aws/codepipeline/kiro-pipeline-test`.
    pub fn pipeline_log_group(&self) -> String {
        format!("/aws/codepipeline/{}", self.base())
    }

    /// `/aws/lambda/kiro-pipeline-test-rollback`.
    pub fn rollback_log_group(&self) -> String {
        format!("/aws/lambda/{}", self.rollback_function())
    }

    pub fn rollback_function(&self) -> String {
        self.resource("rollback")
    }

    /// `/kiro-pipeline/test/{name}`: an SSM parameter read with a dynamic reference.
    pub fn ssm_parameter(&self, name: &str) -> String {
        format!("/{}/{}/{}", self.prefix, self.env, name)
    }

    /// `alias/kiro-pipeline-test-key`.
    pub fn key_alias(&self) -> String {
        format!("alias/{}", self.resource("key"))
    }
}

/// The six CodeBuild projects, by name suffix (SYSTEM.md decision 4).
pub const PROJECTS: [&str; 6] = [
    "build",
    "integration-test",
    "e2e-test",
    "deploy-test",
    "deploy-staging",
    "deploy-production",
];

/// The three SNS topics, by name suffix.
pub const TOPICS: [&str; 3] = ["deployments", "approvals", "rollbacks"];

/// The three alarms, by name suffix.
pub const ALARMS: [&str; 3] = ["failures", "rollbacks", "duration"];

impl Naming {
    pub fn bucket(&self) -> String {
        self.resource("artifacts")
    }

    pub fn table(&self) -> String {
        self.resource("deployments")
    }

    /// The IAM role of `who` (`pipeline`, `rollback`, or a CodeBuild project).
    pub fn role(&self, who: &str) -> String {
        self.resource(&format!("{who}-role"))
    }

    pub fn dlq(&self) -> String {
        self.resource("rollback-dlq")
    }

    pub fn event_rule(&self) -> String {
        self.resource("alarm-rollback")
    }

    pub fn dashboard(&self) -> String {
        self.resource("dashboard")
    }

    pub fn webhook(&self) -> String {
        self.resource("github-webhook")
    }

    /// Secrets Manager secret `kiro-pipeline-test-github-token`.
    pub fn github_token_secret(&self) -> String {
        self.resource("github-token")
    }

    /// Every name this environment generates, with the rules it must follow.
    pub fn all_names(&self) -> Vec<(NameKind, String)> {
        let mut out = Vec::new();
        for kind in StackKind::ALL {
            out.push((NameKind::Stack, self.stack(kind)));
        }
        out.push((NameKind::Bucket, self.bucket()));
        out.push((NameKind::Table, self.table()));
        out.push((NameKind::KmsAlias, self.key_alias()));
        out.push((NameKind::LogGroup, self.pipeline_log_group()));
        out.push((NameKind::LogGroup, self.rollback_log_group()));
        out.push((NameKind::Pipeline, self.base()));
        out.push((NameKind::Pipeline, self.webhook()));
        out.push((NameKind::Role, self.role("pipeline")));
        out.push((NameKind::Role, self.role("rollback")));
        for p in PROJECTS {
            out.push((NameKind::LogGroup, self.codebuild_log_group(p)));
            out.push((NameKind::Project, self.resource(p)));
            out.push((NameKind::Role, self.role(p)));
        }
        for t in TOPICS {
            out.push((NameKind::Topic, self.resource(t)));
        }
        for a in ALARMS {
            out.push((NameKind::Alarm, self.resource(a)));
        }
        out.push((NameKind::Function, self.rollback_function()));
        out.push((NameKind::Queue, self.dlq()));
        out.push((NameKind::EventRule, self.event_rule()));
        out.push((NameKind::Dashboard, self.dashboard()));
        out
    }
}

/// The kinds of names AWS constrains, each with its service's rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    Stack,
    Bucket,
    Table,
    KmsAlias,
    LogGroup,
    Pipeline,
    Project,
    Role,
    Topic,
    Alarm,
    Function,
    Queue,
    EventRule,
    Dashboard,
}

impl NameKind {
    /// The name in a sentence: "S3 bucket name".
    pub fn describe(self) -> &'static str {
        match self {
            NameKind::Stack => "stack name",
            NameKind::Bucket => "S3 bucket name",
            NameKind::Table => "DynamoDB table name",
            NameKind::KmsAlias => "KMS alias",
            NameKind::LogGroup => "log group name",
            NameKind::Pipeline => "CodePipeline name",
            NameKind::Project => "CodeBuild project name",
            NameKind::Role => "IAM role name",
            NameKind::Topic => "SNS topic name",
            NameKind::Alarm => "alarm name",
            NameKind::Function => "Lambda function name",
            NameKind::Queue => "SQS queue name",
            NameKind::EventRule => "EventBridge rule name",
            NameKind::Dashboard => "dashboard name",
        }
    }

    /// (min length, max length, allowed characters).
    fn rule(self) -> (usize, usize, fn(char) -> bool, &'static str) {
        fn lower(c: char) -> bool {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.'
        }
        fn word_dash(c: char) -> bool {
            c.is_ascii_alphanumeric() || c == '-' || c == '_'
        }
        fn word_dash_dot(c: char) -> bool {
            word_dash(c) || c == '.'
        }
        fn stack(c: char) -> bool {
            c.is_ascii_alphanumeric() || c == '-'
        }
        fn log_group(c: char) -> bool {
            word_dash_dot(c) || c == '/' || c == '#'
        }
        fn role(c: char) -> bool {
            c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)
        }
        fn alias(c: char) -> bool {
            word_dash(c) || c == '/'
        }
        fn pipeline(c: char) -> bool {
            word_dash_dot(c) || c == '@'
        }
        fn any(c: char) -> bool {
            !c.is_control()
        }
        match self {
            NameKind::Stack => (1, 128, stack, "letters, digits and `-`, starting with a letter"),
            NameKind::Bucket => (3, 63, lower, "lower-case letters, digits, `-` and `.`"),
            NameKind::Table => (3, 255, word_dash_dot, "letters, digits, `_`, `-` and `.`"),
            NameKind::KmsAlias => (7, 256, alias, "`alias/` then letters, digits, `/`, `_` and `-`"),
            NameKind::LogGroup => (1, 512, log_group, "letters, digits, `_`, `-`, `/`, `.` and `#`"),
            NameKind::Pipeline => (1, 100, pipeline, "letters, digits, `.`, `@`, `_` and `-`"),
            NameKind::Project => (2, 255, word_dash, "letters, digits, `_` and `-`"),
            NameKind::Role => (1, 64, role, "letters, digits and `+=,.@_-`"),
            NameKind::Topic => (1, 256, word_dash, "letters, digits, `_` and `-`"),
            NameKind::Alarm => (1, 255, any, "printable characters"),
            NameKind::Function => (1, 64, word_dash, "letters, digits, `_` and `-`"),
            NameKind::Queue => (1, 80, word_dash, "letters, digits, `_` and `-`"),
            NameKind::EventRule => (1, 64, word_dash_dot, "letters, digits, `.`, `_` and `-`"),
            NameKind::Dashboard => (1, 255, word_dash, "letters, digits, `_` and `-`"),
        }
    }

    /// Checks one name against the service's rule; the error says what is wrong.
    pub fn check(self, name: &str) -> Result<(), String> {
        let (min, max, allowed, chars) = self.rule();
        let len = name.chars().count();
        if len < min || len > max {
            return Err(format!("{len} characters, the limit is {min}-{max}"));
        }
        if let Some(bad) = name.chars().find(|c| !allowed(*c)) {
            return Err(format!("`{bad}` is not allowed (only {chars})"));
        }
        match self {
            NameKind::Stack if !name.starts_with(|c: char| c.is_ascii_alphabetic()) => {
                Err("must start with a letter".into())
            }
            NameKind::Bucket
                if !name.starts_with(|c: char| c.is_ascii_alphanumeric())
                    || !name.ends_with(|c: char| c.is_ascii_alphanumeric())
                    || name.contains("..") =>
            {
                Err("must start and end with a letter or digit, without `..`".into())
            }
            NameKind::KmsAlias if !name.starts_with("alias/") || name.starts_with("alias/aws/") => {
                Err("must start with `alias/` and not `alias/aws/`".into())
            }
            _ => Ok(()),
        }
    }
}

/// `kiro-pipeline` -> `KiroPipeline`, `dev-eu` -> `DevEu`, `prod_2` -> `Prod2`.
pub fn pascal_case(s: &str) -> String {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_runbook() {
        let n = Naming::new("kiro-pipeline", "production");
        assert_eq!(n.stack(StackKind::Core), "KiroPipelineCoreProduction");
        assert_eq!(n.stack(StackKind::Pipeline), "KiroPipelineProduction");
        assert_eq!(n.stack(StackKind::Monitoring), "KiroPipelineMonitoringProduction");
        assert_eq!(n.resource("artifacts"), "kiro-pipeline-production-artifacts");
        assert_eq!(
            n.codebuild_log_group("build"),
            "/aws/codebuild/kiro-pipeline-production-build"
        );
        assert_eq!(n.rollback_log_group(), "/aws/lambda/kiro-pipeline-production-rollback");
        assert_eq!(
            n.ssm_parameter("github-owner"),
            "/kiro-pipeline/production/github-owner"
        );
        assert_eq!(pascal_case("dev-eu"), "DevEu");
    }

    #[test]
    fn name_rules_catch_long_and_bad_names() {
        assert!(NameKind::Bucket.check("kiro-pipeline-test-artifacts").is_ok());
        assert!(NameKind::Bucket.check(&"a".repeat(64)).unwrap_err().contains("3-63"));
        assert!(NameKind::Bucket.check("Upper").unwrap_err().contains("`U`"));
        assert!(NameKind::Role.check(&"r".repeat(65)).is_err());
        let n = Naming::new("kiro-pipeline", "production");
        assert!(n.all_names().iter().all(|(k, name)| k.check(name).is_ok()));
    }
}
