use super::Tags;
use crate::model::expr::Expr;
use crate::model::template::{Handle, ResourceType};
use indexmap::IndexMap;
use serde::Serialize;

/// `AWS::Lambda::Function` with inline code.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Function {
    pub function_name: String,
    pub description: String,
    pub runtime: String,
    pub handler: &'static str,
    pub architectures: Vec<&'static str>,
    pub code: Code,
    pub role: Expr,
    pub timeout: u32,
    pub memory_size: u32,
    pub reserved_concurrent_executions: Option<u32>,
    pub environment: FunctionEnvironment,
    pub kms_key_arn: Expr,
    pub dead_letter_config: DeadLetterConfig,
    pub tracing_config: TracingConfig,
    pub logging_config: LoggingConfig,
    pub tags: Tags,
}

impl ResourceType for Function {
    const TYPE: &'static str = "AWS::Lambda::Function";
}

impl Handle<Function> {
    pub fn arn(&self) -> Expr {
        self.att("Arn")
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Code {
    pub zip_file: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionEnvironment {
    pub variables: IndexMap<String, Expr>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeadLetterConfig {
    pub target_arn: Expr,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TracingConfig {
    pub mode: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingConfig {
    pub log_format: &'static str,
    pub log_group: Expr,
}

/// `AWS::Lambda::Permission`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Permission {
    pub action: &'static str,
    pub function_name: Expr,
    pub principal: String,
    pub source_arn: Expr,
    pub source_account: Expr,
}

impl ResourceType for Permission {
    const TYPE: &'static str = "AWS::Lambda::Permission";
}
