use super::Tags;
use crate::model::expr::Expr;
use crate::model::template::{Handle, ResourceType};
use serde::Serialize;

/// `AWS::CodeBuild::Project` driven by CodePipeline (source and artifacts are the pipeline's).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Project {
    pub name: String,
    pub description: String,
    pub service_role: Expr,
    pub encryption_key: Expr,
    pub source: Source,
    pub artifacts: Artifacts,
    pub environment: Environment,
    pub logs_config: LogsConfig,
    pub timeout_in_minutes: u32,
    pub queued_timeout_in_minutes: u32,
    pub tags: Tags,
}

impl ResourceType for Project {
    const TYPE: &'static str = "AWS::CodeBuild::Project";
}

impl Handle<Project> {
    pub fn arn(&self) -> Expr {
        self.att("Arn")
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Source {
    #[serde(rename = "Type")]
    pub source_type: &'static str,
    pub build_spec: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Artifacts {
    #[serde(rename = "Type")]
    pub artifacts_type: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Environment {
    #[serde(rename = "Type")]
    pub environment_type: &'static str,
    pub compute_type: String,
    pub image: String,
    pub privileged_mode: bool,
    pub environment_variables: Vec<EnvironmentVariable>,
}

/// A plain-text environment variable (CodeBuild's default `Type: PLAINTEXT`, left implicit).
/// Secrets never go here: the stacks read them through dynamic references.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EnvironmentVariable {
    pub name: String,
    pub value: Expr,
}

impl EnvironmentVariable {
    pub fn plain(name: &str, value: impl Into<Expr>) -> Self {
        EnvironmentVariable {
            name: name.to_string(),
            value: value.into(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LogsConfig {
    pub cloud_watch_logs: CloudWatchLogs,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CloudWatchLogs {
    pub status: &'static str,
    pub group_name: String,
}
