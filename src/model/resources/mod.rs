//! Typed properties of every resource type the stacks emit, one file per AWS service.
//! Only the properties the stacks use are modelled; each struct serializes to the
//! resource's `Properties` object, field order = key order.

pub mod cloudwatch;
pub mod codebuild;
pub mod codepipeline;
pub mod dynamodb;
pub mod events;
pub mod iam;
pub mod kms;
pub mod lambda;
pub mod logs;
pub mod s3;
pub mod sns;
pub mod sqs;

use crate::model::expr::Expr;
use serde::Serialize;

/// A resource tag.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    pub value: Expr,
}

/// Tags as a list, the form most resource types take.
pub type Tags = Vec<Tag>;
