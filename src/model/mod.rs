//! Typed CloudFormation: templates, intrinsics, IAM documents and resource properties.
//! No policy and no defaults live here: the stacks (`crate::stacks`) decide what to build.

pub mod expr;
pub mod iam;
pub mod naming;
pub mod resources;
pub mod template;

pub use expr::{DynamicRef, Expr, Pseudo};
pub use template::{Handle, Policy, ResourceOptions, Template, TemplateError};
