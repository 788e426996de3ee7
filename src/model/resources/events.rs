use crate::model::expr::Expr;
use crate::model::template::{Handle, ResourceType};
use serde::Serialize;
use serde_json::Value;

/// `AWS::Events::Rule` on the default bus.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Rule {
    pub name: String,
    pub description: String,
    pub state: &'static str,
    pub event_pattern: Value,
    pub targets: Vec<Target>,
}

impl ResourceType for Rule {
    const TYPE: &'static str = "AWS::Events::Rule";
}

impl Handle<Rule> {
    pub fn arn(&self) -> Expr {
        self.att("Arn")
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Target {
    pub id: String,
    pub arn: Expr,
    pub retry_policy: RetryPolicy,
    pub dead_letter_config: TargetDeadLetterConfig,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RetryPolicy {
    pub maximum_retry_attempts: u32,
    pub maximum_event_age_in_seconds: u32,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TargetDeadLetterConfig {
    pub arn: Expr,
}
