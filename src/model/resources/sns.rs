use super::Tags;
use crate::model::expr::Expr;
use crate::model::iam::PolicyDocument;
use crate::model::template::{Handle, ResourceType};
use serde::Serialize;

/// `AWS::SNS::Topic`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Topic {
    pub topic_name: String,
    pub display_name: String,
    pub kms_master_key_id: Expr,
    pub tags: Tags,
}

impl ResourceType for Topic {
    const TYPE: &'static str = "AWS::SNS::Topic";
}

impl Handle<Topic> {
    /// `Ref` of a topic is its ARN.
    pub fn arn(&self) -> Expr {
        self.reference()
    }
}

/// `AWS::SNS::Subscription`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Subscription {
    pub topic_arn: Expr,
    pub protocol: &'static str,
    pub endpoint: Expr,
}

impl ResourceType for Subscription {
    const TYPE: &'static str = "AWS::SNS::Subscription";
}

/// `AWS::SNS::TopicPolicy`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TopicPolicy {
    pub topics: Vec<Expr>,
    pub policy_document: PolicyDocument,
}

impl ResourceType for TopicPolicy {
    const TYPE: &'static str = "AWS::SNS::TopicPolicy";
}
