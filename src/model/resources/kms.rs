use super::Tags;
use crate::model::expr::Expr;
use crate::model::iam::PolicyDocument;
use crate::model::template::{Handle, ResourceType};
use serde::Serialize;

/// `AWS::KMS::Key`: a symmetric customer managed key.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Key {
    pub description: String,
    pub enable_key_rotation: bool,
    pub key_spec: &'static str,
    pub key_usage: &'static str,
    pub pending_window_in_days: u32,
    pub key_policy: PolicyDocument,
    pub tags: Tags,
}

impl ResourceType for Key {
    const TYPE: &'static str = "AWS::KMS::Key";
}

impl Handle<Key> {
    pub fn arn(&self) -> Expr {
        self.att("Arn")
    }
}

/// `AWS::KMS::Alias`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Alias {
    pub alias_name: String,
    pub target_key_id: Expr,
}

impl ResourceType for Alias {
    const TYPE: &'static str = "AWS::KMS::Alias";
}
