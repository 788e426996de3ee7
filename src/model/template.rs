//! The CloudFormation template document: resources, outputs with exports, metadata.
//!
//! Field order in these structs is the key order of the rendered JSON.

use super::expr::Expr;
use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;
use std::marker::PhantomData;

/// Typed resource properties: each resource type of `model::resources` implements this.
pub trait ResourceType: Serialize {
    /// The CloudFormation type name, e.g. `AWS::S3::Bucket`.
    const TYPE: &'static str;
}

/// What CloudFormation does with a resource when it is deleted or replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Policy {
    Delete,
    Retain,
    RetainExceptOnCreate,
    Snapshot,
}

/// One resource as it appears under `Resources`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Resource {
    #[serde(rename = "Type")]
    pub type_name: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<Policy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_replace_policy: Option<Policy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    pub properties: Value,
}

/// A stack output, optionally exported for other stacks of the same environment.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Output {
    pub description: String,
    pub value: Expr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub export: Option<ExportName>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExportName {
    pub name: String,
}

/// A whole template.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Template {
    #[serde(rename = "AWSTemplateFormatVersion")]
    pub format_version: &'static str,
    pub description: String,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub metadata: IndexMap<String, Value>,
    pub resources: IndexMap<String, Resource>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub outputs: IndexMap<String, Output>,
}

/// A handle on a resource added to a template: its logical id, typed by the resource type so
/// only attributes that type has can be asked for (see the `impl Handle<T>` blocks beside
/// each resource type).
#[derive(Debug)]
pub struct Handle<T> {
    pub logical_id: String,
    _type: PhantomData<T>,
}

impl<T> Clone for Handle<T> {
    fn clone(&self) -> Self {
        Handle {
            logical_id: self.logical_id.clone(),
            _type: PhantomData,
        }
    }
}

impl<T> Handle<T> {
    /// `{"Ref": logical_id}`.
    pub fn reference(&self) -> Expr {
        Expr::Ref(self.logical_id.clone())
    }

    /// `{"Fn::GetAtt": [logical_id, attribute]}`; typed accessors call this.
    pub(crate) fn att(&self, attribute: &str) -> Expr {
        Expr::GetAtt(self.logical_id.clone(), attribute.to_string())
    }
}

/// Options of one resource besides its properties.
#[derive(Debug, Clone, Default)]
pub struct ResourceOptions {
    pub depends_on: Vec<String>,
    /// `Some(Retain)` sets both DeletionPolicy and UpdateReplacePolicy.
    pub retain: Option<Policy>,
    pub metadata: Option<Value>,
}

impl ResourceOptions {
    /// Suppresses Guard rules for this resource, each with the reason it does not apply
    /// (`Metadata.guard.SuppressedRules`, cfn-guard's convention, plus
    /// `Metadata.guard.SuppressionReasons`, which kiro-infra requires and reports).
    pub fn suppress(mut self, rules: &[(&str, &str)]) -> Self {
        let ids: Vec<Value> = rules.iter().map(|(id, _)| Value::String(id.to_string())).collect();
        let reasons: serde_json::Map<String, Value> = rules
            .iter()
            .map(|(id, why)| (id.to_string(), Value::String(why.to_string())))
            .collect();
        let mut guard = serde_json::Map::new();
        guard.insert("SuppressedRules".into(), Value::Array(ids));
        guard.insert("SuppressionReasons".into(), Value::Object(reasons));
        let mut metadata = match self.metadata.take() {
            Some(Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        metadata.insert("guard".into(), Value::Object(guard));
        self.metadata = Some(Value::Object(metadata));
        self
    }
}

/// Why a resource could not be added to a template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("logical id `{0}` is used twice")]
    DuplicateLogicalId(String),
    #[error("logical id `{0}` must be 1-255 ASCII letters and digits")]
    BadLogicalId(String),
    #[error("output `{0}` is defined twice")]
    DuplicateOutput(String),
    #[error("resource `{id}` could not be serialized: {message}")]
    Serialize { id: String, message: String },
}

impl Template {
    pub fn new(description: impl Into<String>) -> Self {
        Template {
            format_version: "2010-09-09",
            description: description.into(),
            metadata: IndexMap::new(),
            resources: IndexMap::new(),
            outputs: IndexMap::new(),
        }
    }

    /// Adds a resource with default options.
    pub fn add<T: ResourceType>(&mut self, logical_id: &str, properties: T) -> Result<Handle<T>, TemplateError> {
        self.add_with(logical_id, properties, ResourceOptions::default())
    }

    /// Adds a resource with explicit options (DependsOn, Retain, Metadata).
    pub fn add_with<T: ResourceType>(
        &mut self,
        logical_id: &str,
        properties: T,
        options: ResourceOptions,
    ) -> Result<Handle<T>, TemplateError> {
        if logical_id.is_empty() || logical_id.len() > 255 || !logical_id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(TemplateError::BadLogicalId(logical_id.to_string()));
        }
        if self.resources.contains_key(logical_id) {
            return Err(TemplateError::DuplicateLogicalId(logical_id.to_string()));
        }
        let properties = serde_json::to_value(&properties).map_err(|e| TemplateError::Serialize {
            id: logical_id.to_string(),
            message: e.to_string(),
        })?;
        self.resources.insert(
            logical_id.to_string(),
            Resource {
                type_name: T::TYPE,
                depends_on: options.depends_on,
                deletion_policy: options.retain,
                update_replace_policy: options.retain,
                metadata: options.metadata,
                properties,
            },
        );
        Ok(Handle {
            logical_id: logical_id.to_string(),
            _type: PhantomData,
        })
    }

    /// Adds an output; `export` names a CloudFormation export.
    pub fn output(
        &mut self,
        name: &str,
        description: &str,
        value: Expr,
        export: Option<String>,
    ) -> Result<(), TemplateError> {
        if self.outputs.contains_key(name) {
            return Err(TemplateError::DuplicateOutput(name.to_string()));
        }
        self.outputs.insert(
            name.to_string(),
            Output {
                description: description.to_string(),
                value,
                export: export.map(|name| ExportName { name }),
            },
        );
        Ok(())
    }

    /// The template as a JSON value (the shape every check and the renderer work on).
    pub fn to_value(&self) -> Value {
        // Every field is plain data (strings, numbers, maps): serialization cannot fail.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}
