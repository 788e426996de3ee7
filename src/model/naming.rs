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

    /// The resource type and name property whose service rule this name follows (`None` for
    /// stack names, which `validate::limits::check_stack_name` checks).
    fn property(self) -> Option<(&'static str, &'static str)> {
        Some(match self {
            NameKind::Stack => return None,
            NameKind::Bucket => ("AWS::S3::Bucket", "BucketName"),
            NameKind::Table => ("AWS::DynamoDB::Table", "TableName"),
            NameKind::KmsAlias => ("AWS::KMS::Alias", "AliasName"),
            NameKind::LogGroup => ("AWS::Logs::LogGroup", "LogGroupName"),
            NameKind::Pipeline => ("AWS::CodePipeline::Pipeline", "Name"),
            NameKind::Project => ("AWS::CodeBuild::Project", "Name"),
            NameKind::Role => ("AWS::IAM::Role", "RoleName"),
            NameKind::Topic => ("AWS::SNS::Topic", "TopicName"),
            NameKind::Alarm => ("AWS::CloudWatch::Alarm", "AlarmName"),
            NameKind::Function => ("AWS::Lambda::Function", "FunctionName"),
            NameKind::Queue => ("AWS::SQS::Queue", "QueueName"),
            NameKind::EventRule => ("AWS::Events::Rule", "Name"),
            NameKind::Dashboard => ("AWS::CloudWatch::Dashboard", "DashboardName"),
        })
    }

    /// Checks one name against the service's rule (the one table in `validate::limits`); the
    /// error says what is wrong.
    pub fn check(self, name: &str) -> Result<(), String> {
        use crate::validate::limits::{self, NameProblem};
        let Some((type_name, property)) = self.property() else {
            return match limits::check_stack_name(name) {
                None => Ok(()),
                Some(_) if name.len() > limits::MAX_STACK_NAME => Err(format!(
                    "{} characters, the limit is 1-{}",
                    name.chars().count(),
                    limits::MAX_STACK_NAME
                )),
                Some(_) => Err("must be a letter, then letters, digits and `-`".into()),
            };
        };
        match limits::name_problem(type_name, property, name) {
            None => Ok(()),
            Some(NameProblem::Length { len, min, max }) => Err(format!("{len} characters, the limit is {min}-{max}")),
            Some(NameProblem::Char { bad, charset }) => Err(format!("`{bad}` is not allowed (only {charset})")),
            Some(NameProblem::Other(why)) => Err(why),
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
