//! The CloudFormation template document: resources, outputs with exports, metadata.
//!
//! Field order in these structs is the key order of the rendered JSON.

use super::expr::Expr;
use indexmap::IndexMap;
use serde::Serialize;
use serde_json::{Map, Value};
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

    /// The template as a JSON value (the shape every check and the renderer work on): what
    /// serializing it gives, key for key and in the same order (test
    /// `into_value_is_the_serialized_template`), but the resources' properties and metadata
    /// (already JSON) are moved in rather than serialized again, a fifth of the work.
    pub fn into_value(self) -> Value {
        let mut doc = Map::with_capacity(5);
        doc.insert("AWSTemplateFormatVersion".into(), self.format_version.into());
        doc.insert("Description".into(), self.description.into());
        if !self.metadata.is_empty() {
            doc.insert("Metadata".into(), Value::Object(self.metadata.into_iter().collect()));
        }
        let resources: Map<String, Value> = self.resources.into_iter().map(|(id, r)| (id, r.into_value())).collect();
        doc.insert("Resources".into(), Value::Object(resources));
        if !self.outputs.is_empty() {
            let outputs = serde_json::to_value(&self.outputs).unwrap_or(Value::Null);
            doc.insert("Outputs".into(), outputs);
        }
        Value::Object(doc)
    }
}

impl Resource {
    /// This resource as it appears under `Resources` (what `Serialize` gives), properties moved.
    fn into_value(self) -> Value {
        let mut r = Map::with_capacity(6);
        r.insert("Type".into(), self.type_name.into());
        if !self.depends_on.is_empty() {
            r.insert("DependsOn".into(), self.depends_on.into());
        }
        let policy = |p: Policy| serde_json::to_value(p).unwrap_or(Value::Null);
        if let Some(p) = self.deletion_policy {
            r.insert("DeletionPolicy".into(), policy(p));
        }
        if let Some(p) = self.update_replace_policy {
            r.insert("UpdateReplacePolicy".into(), policy(p));
        }
        if let Some(m) = self.metadata {
            r.insert("Metadata".into(), m);
        }
        r.insert("Properties".into(), self.properties);
        Value::Object(r)
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    /// The document synth checks and renders is built by moving the resources' JSON; it must be
    /// exactly what serializing the template gives, key order included, for every stack.
    #[test]
    fn into_value_is_the_serialized_template() {
        let config = Config::embedded().expect("embedded config");
        let mut seen = 0;
        for (name, env) in &config.environments {
            for stack in crate::stacks::build_environment(name, env).expect("builds") {
                let expected = serde_json::to_value(&stack.template).expect("serializes");
                let moved = stack.template.into_value();
                assert_eq!(
                    serde_json::to_string(&moved).expect("json"),
                    serde_json::to_string(&expected).expect("json"),
                    "{}",
                    stack.name
                );
                seen += 1;
            }
        }
        assert_eq!(seen, 9);
    }
}
