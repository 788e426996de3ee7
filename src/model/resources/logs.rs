use super::Tags;
use crate::model::expr::Expr;
use crate::model::template::{Handle, ResourceType};
use serde::Serialize;

/// `AWS::Logs::LogGroup`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LogGroup {
    pub log_group_name: String,
    pub kms_key_id: Expr,
    pub retention_in_days: u32,
    pub tags: Tags,
}

impl ResourceType for LogGroup {
    const TYPE: &'static str = "AWS::Logs::LogGroup";
}

impl Handle<LogGroup> {
    pub fn arn(&self) -> Expr {
        self.att("Arn")
    }
}
