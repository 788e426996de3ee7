use super::Tags;
use crate::model::expr::Expr;
use crate::model::iam::PolicyDocument;
use crate::model::template::{Handle, ResourceType};
use serde::Serialize;

/// `AWS::IAM::Role` with inline policies only (no managed policies: every permission is
/// visible in the template).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Role {
    pub role_name: String,
    pub description: String,
    pub assume_role_policy_document: PolicyDocument,
    pub policies: Vec<InlinePolicy>,
    pub tags: Tags,
}

impl ResourceType for Role {
    const TYPE: &'static str = "AWS::IAM::Role";
}

impl Handle<Role> {
    pub fn arn(&self) -> Expr {
        self.att("Arn")
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InlinePolicy {
    pub policy_name: String,
    pub policy_document: PolicyDocument,
}

/// `AWS::IAM::ManagedPolicy`: one policy attached to several roles (statements they share).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ManagedPolicy {
    pub managed_policy_name: String,
    pub description: String,
    pub policy_document: PolicyDocument,
    /// Role names (`Ref` of a role).
    pub roles: Vec<Expr>,
}

impl ResourceType for ManagedPolicy {
    const TYPE: &'static str = "AWS::IAM::ManagedPolicy";
}
