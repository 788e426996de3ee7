//! Template validation before anything is written: the official resource schemas
//! ([`schema`]), intrinsic functions ([`intrinsics`]), CloudFormation limits and naming rules
//! ([`limits`]) and cross-stack exports/imports ([`crossstack`]). Every check reports
//! [`Finding`]s; `synth` stops on any error.
//!
//! ```text
//! validate_template(stack, &template)            schema + intrinsics + template structure
//! limits::check_limits(stack, &template, bytes)  sizes, counts, logical ids, names
//! crossstack::check_environment(&[(stack, &t)])  imports have earlier exports; exports unique
//! ```

pub mod crossstack;
pub mod intrinsics;
pub mod limits;
mod quick;
pub mod schema;

use serde_json::Value;

use crate::findings::{Finding, Source, escape_pointer_token};
use intrinsics::Names;
pub use schema::{Replacement, ResourceSchema, schema_for};

const SECTIONS: &[&str] = &[
    "AWSTemplateFormatVersion",
    "Description",
    "Metadata",
    "Parameters",
    "Rules",
    "Mappings",
    "Conditions",
    "Transform",
    "Resources",
    "Outputs",
];

const RESOURCE_KEYS: &[&str] = &[
    "Type",
    "Properties",
    "DependsOn",
    "Condition",
    "DeletionPolicy",
    "UpdateReplacePolicy",
    "Metadata",
    "CreationPolicy",
    "UpdatePolicy",
];

const DELETION_POLICIES: &[&str] = &["Delete", "Retain", "RetainExceptOnCreate", "Snapshot"];

/// All schema-level checks of one template: top-level sections, each resource's `Type`,
/// attributes and `Properties` against its official schema, every intrinsic function, `Outputs`.
/// Limits and cross-stack checks are separate ([`limits::check_limits`], [`crossstack::check_environment`]).
pub fn validate_template(stack: &str, template: &Value) -> Vec<Finding> {
    let mut out = Vec::new();
    let err = |pointer: &str, message: String| Finding::new(Source::Schema, stack, pointer, message);
    let Some(root) = template.as_object() else {
        out.push(err("", "a template must be a JSON object".into()).actual(short_type(template)));
        return out;
    };
    for key in root.keys() {
        if !SECTIONS.contains(&key.as_str()) {
            out.push(
                err(
                    &format!("/{}", escape_pointer_token(key)),
                    format!("unknown top-level section `{key}`"),
                )
                .expected(SECTIONS.join(", ")),
            );
        }
    }
    if let Some(v) = root.get("AWSTemplateFormatVersion")
        && v.as_str() != Some("2010-09-09")
    {
        out.push(
            err(
                "/AWSTemplateFormatVersion",
                "AWSTemplateFormatVersion must be \"2010-09-09\"".into(),
            )
            .actual(v.to_string()),
        );
    }
    for section in ["Parameters", "Mappings", "Conditions", "Outputs", "Metadata", "Rules"] {
        if let Some(v) = root.get(section)
            && !v.is_object()
        {
            out.push(err(&format!("/{section}"), format!("`{section}` must be an object")).actual(short_type(v)));
        }
    }
    let resources = match root.get("Resources") {
        Some(Value::Object(map)) if !map.is_empty() => map,
        Some(Value::Object(_)) => {
            out.push(err("/Resources", "a template needs at least one resource".into()));
            return out;
        }
        Some(other) => {
            out.push(err("/Resources", "`Resources` must be an object".into()).actual(short_type(other)));
            return out;
        }
        None => {
            out.push(err("", "a template needs a `Resources` section".into()));
            return out;
        }
    };
    let names = Names::of(template);
    for (id, resource) in resources {
        let pointer = format!("/Resources/{}", escape_pointer_token(id));
        check_resource(stack, id, resource, &pointer, &names, &mut out);
        if let Some(props) = resource.get("Properties") {
            intrinsics::check(stack, &names, props, &format!("{pointer}/Properties"), &mut out);
        }
    }
    if let Some(conditions) = root.get("Conditions") {
        intrinsics::check(stack, &names, conditions, "/Conditions", &mut out);
    }
    if let Some(outputs) = root.get("Outputs").and_then(Value::as_object) {
        for (name, output) in outputs {
            let pointer = format!("/Outputs/{}", escape_pointer_token(name));
            if output.get("Value").is_none() {
                out.push(err(&pointer, format!("output `{name}` has no Value")));
            }
            if let Some(export) = output.get("Export")
                && export.get("Name").is_none()
            {
                out.push(err(
                    &format!("{pointer}/Export"),
                    format!("output `{name}`: Export needs a Name"),
                ));
            }
            if let Some(c) = output.get("Condition").and_then(Value::as_str)
                && !names.conditions.contains(c)
            {
                out.push(err(
                    &format!("{pointer}/Condition"),
                    format!("condition `{c}` is not defined"),
                ));
            }
            intrinsics::check(stack, &names, output, &pointer, &mut out);
        }
    }
    out
}

fn short_type(v: &Value) -> String {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
    .to_string()
}

fn check_resource(stack: &str, id: &str, resource: &Value, pointer: &str, names: &Names<'_>, out: &mut Vec<Finding>) {
    let err = |pointer: String, message: String| Finding::new(Source::Schema, stack, pointer, message);
    let Some(map) = resource.as_object() else {
        out.push(err(pointer.to_string(), format!("resource `{id}` must be an object")).actual(short_type(resource)));
        return;
    };
    for key in map.keys() {
        if !RESOURCE_KEYS.contains(&key.as_str()) {
            out.push(
                err(
                    format!("{pointer}/{}", escape_pointer_token(key)),
                    format!("unknown resource attribute `{key}`"),
                )
                .expected(RESOURCE_KEYS.join(", ")),
            );
        }
    }
    if let Some(deps) = map.get("DependsOn") {
        let list: Vec<(String, &Value)> = match deps {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("{pointer}/DependsOn/{i}"), v))
                .collect(),
            other => vec![(format!("{pointer}/DependsOn"), other)],
        };
        for (p, v) in list {
            match v.as_str() {
                Some(t) if t == id => out.push(err(p, format!("`{id}` depends on itself"))),
                Some(t) if names.resources.contains_key(t) => {}
                Some(t) => {
                    out.push(err(p, format!("DependsOn `{t}`, which is not a resource in this template")).actual(t))
                }
                None => out.push(err(p, "DependsOn takes a logical id or a list of them".into())),
            }
        }
    }
    if let Some(c) = map.get("Condition") {
        match c.as_str() {
            Some(name) if names.conditions.contains(name) => {}
            _ => out.push(err(
                format!("{pointer}/Condition"),
                format!("condition {c} is not defined"),
            )),
        }
    }
    for key in ["DeletionPolicy", "UpdateReplacePolicy"] {
        if let Some(v) = map.get(key)
            && !v.as_str().is_some_and(|s| DELETION_POLICIES.contains(&s))
            && !intrinsics::is_intrinsic(v)
        {
            out.push(
                err(format!("{pointer}/{key}"), format!("{key} {v} is not allowed"))
                    .expected(DELETION_POLICIES.join(", "))
                    .actual(v.to_string()),
            );
        }
    }
    let Some(type_name) = map.get("Type").and_then(Value::as_str) else {
        out.push(err(
            format!("{pointer}/Type"),
            format!("resource `{id}` needs a string `Type`"),
        ));
        return;
    };
    if type_name.starts_with("Custom::") || type_name == "AWS::CloudFormation::CustomResource" {
        return;
    }
    if type_name.starts_with("AWS::Serverless::") && names.has_transform {
        return;
    }
    match schema_for(type_name) {
        Some(schema) => out.extend(schema::validate_properties(stack, id, schema, map.get("Properties"))),
        None if schema::is_known_type(type_name) => out.push(
            err(
                format!("{pointer}/Type"),
                format!("`{type_name}` is a CloudFormation type whose schema is not vendored: its properties are not checked"),
            )
            .fix("add it to scripts/vendor-schemas.py and src/validate/schema.rs")
            .warning(),
        ),
        None => out.push(
            err(format!("{pointer}/Type"), format!("`{type_name}` is not a CloudFormation resource type"))
                .actual(type_name),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(t: &Value) -> Vec<String> {
        validate_template("S", t)
            .into_iter()
            .map(|f| format!("{} {}", f.pointer, f.message))
            .collect()
    }

    #[test]
    fn intrinsics_and_coercions_are_not_type_errors() {
        let t = json!({"Resources": {
            "Key": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": "true", "PendingWindowInDays": "7"}},
            "Q": {"Type": "AWS::SQS::Queue", "Properties": {
                "KmsMasterKeyId": {"Ref": "Key"},
                "DelaySeconds": {"Fn::If": ["Never", 1, {"Ref": "AWS::NoValue"}]},
                "VisibilityTimeout": "{{resolve:ssm:/x}}"}}},
            "Conditions": {"Never": {"Fn::Equals": ["a", "b"]}}});
        assert_eq!(messages(&t), Vec::<String>::new());
    }

    #[test]
    fn coerced_values_still_meet_their_bounds() {
        let t = json!({"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {"PendingWindowInDays": "3"}}}});
        let m = messages(&t);
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(m.first().is_some_and(|m| m.contains("below the minimum")));
    }

    #[test]
    fn both_branches_of_fn_if_are_checked() {
        let t = json!({"Conditions": {"Prod": {"Fn::Equals": ["a", "b"]}}, "Resources": {
            "Rule": {"Type": "AWS::Events::Rule", "Properties": {
                "State": {"Fn::If": ["Prod", "ENABLED", "ON"]},
                "EventPattern": {"Fn::If": ["Prod", {"source": ["x"]}, {"Ref": "AWS::NoValue"}]}}}}});
        let m = messages(&t);
        assert_eq!(m.len(), 2, "{m:?}");
        assert!(
            m.iter()
                .any(|m| m.contains("/State") && m.contains("when condition `Prod` is false")),
            "{m:?}"
        );
        assert!(
            m.iter().any(|m| m.contains("(requiredOr)") && m.contains("is false")),
            "{m:?}"
        );
    }

    #[test]
    fn custom_and_transformed_types_are_not_schema_checked() {
        let t = json!({"Transform": "AWS::Serverless-2016-10-31", "Resources": {
            "C": {"Type": "Custom::Thing", "Properties": {"ServiceToken": "arn"}},
            "F": {"Type": "AWS::Serverless::Function", "Properties": {}}}});
        assert_eq!(messages(&t), Vec::<String>::new());
        let t = json!({"Resources": {"F": {"Type": "AWS::Serverless::Function", "Properties": {}}}});
        assert_eq!(messages(&t).len(), 1);
    }

    #[test]
    fn structure_errors_are_reported() {
        assert_eq!(messages(&json!([])).len(), 1);
        assert_eq!(messages(&json!({"Resources": {}})).len(), 1);
        let t = json!({"Resources": {"A": {"Type": "AWS::SNS::Topic", "DependsOn": ["A"], "Propertys": {}}}});
        let m = messages(&t);
        assert!(m.iter().any(|m| m.contains("depends on itself")), "{m:?}");
        assert!(
            m.iter().any(|m| m.contains("unknown resource attribute `Propertys`")),
            "{m:?}"
        );
    }
}
