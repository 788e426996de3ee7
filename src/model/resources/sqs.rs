use super::Tags;
use crate::model::expr::Expr;
use crate::model::iam::PolicyDocument;
use crate::model::template::{Handle, ResourceType};
use serde::Serialize;

/// `AWS::SQS::Queue`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Queue {
    pub queue_name: String,
    pub kms_master_key_id: Expr,
    pub kms_data_key_reuse_period_seconds: u32,
    pub message_retention_period: u32,
    pub tags: Tags,
}

impl ResourceType for Queue {
    const TYPE: &'static str = "AWS::SQS::Queue";
}

impl Handle<Queue> {
    pub fn arn(&self) -> Expr {
        self.att("Arn")
    }
}

/// `AWS::SQS::QueuePolicy`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct QueuePolicy {
    pub queues: Vec<Expr>,
    pub policy_document: PolicyDocument,
}

impl ResourceType for QueuePolicy {
    const TYPE: &'static str = "AWS::SQS::QueuePolicy";
}
