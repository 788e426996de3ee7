//! Intrinsic functions: recognising them (so the schema check skips them) and checking them
//! (`Ref` targets exist, `Fn::GetAtt` names a real attribute, `Fn::Sub` variables resolve,
//! `Fn::If` / `Condition` name a condition, `Fn::FindInMap` names a mapping).

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::schema::schema_for;
use crate::findings::{Finding, Source, push_pointer_segment};

/// The pseudo parameters `Ref` and `Fn::Sub` accept.
pub const PSEUDO_PARAMETERS: &[&str] = &[
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
];

/// A value CloudFormation resolves at deploy time: a one-key object `Ref`, `Fn::*` or
/// `Condition`, or a string holding a dynamic reference `{{resolve:...}}`.
pub fn is_intrinsic(v: &Value) -> bool {
    match v {
        Value::Object(map) if map.len() == 1 => map
            .keys()
            .all(|k| k == "Ref" || k == "Condition" || k.starts_with("Fn::")),
        Value::String(s) => s.contains("{{resolve:"),
        _ => false,
    }
}

/// The names a template defines.
pub struct Names<'a> {
    pub resources: &'a Map<String, Value>,
    pub parameters: BTreeSet<&'a str>,
    pub conditions: BTreeSet<&'a str>,
    pub mappings: BTreeSet<&'a str>,
    /// The template declares a `Transform` (SAM types are expanded by CloudFormation).
    pub has_transform: bool,
}

static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);

impl<'a> Names<'a> {
    pub fn of(template: &'a Value) -> Self {
        let keys = |section: &str| -> BTreeSet<&'a str> {
            template
                .get(section)
                .and_then(Value::as_object)
                .map(|m| m.keys().map(String::as_str).collect())
                .unwrap_or_default()
        };
        Names {
            resources: template.get("Resources").and_then(Value::as_object).unwrap_or(&EMPTY),
            parameters: keys("Parameters"),
            conditions: keys("Conditions"),
            mappings: keys("Mappings"),
            has_transform: template.get("Transform").is_some(),
        }
    }

    fn resource_type(&self, id: &str) -> Option<&'a str> {
        self.resources
            .get(id)
            .and_then(|r| r.get("Type"))
            .and_then(Value::as_str)
    }

    fn is_ref_target(&self, name: &str) -> bool {
        self.resources.contains_key(name) || self.parameters.contains(name) || PSEUDO_PARAMETERS.contains(&name)
    }

    /// `None` when fine, else the problem.
    fn getatt_problem(&self, resource: &str, attribute: &str) -> Option<(String, Option<String>)> {
        let Some(type_name) = self.resource_type(resource) else {
            return Some((
                format!("Fn::GetAtt names `{resource}`, which is not a resource in this template"),
                None,
            ));
        };
        let schema = schema_for(type_name)?;
        if schema.has_attribute(attribute) {
            return None;
        }
        Some((
            format!("Fn::GetAtt: `{type_name}` has no attribute `{attribute}`"),
            Some(if schema.attributes().is_empty() {
                "no attributes".to_string()
            } else {
                schema.attributes().join(", ")
            }),
        ))
    }
}

/// Checks every intrinsic under `value` (at JSON pointer `pointer`).
pub fn check(stack: &str, names: &Names<'_>, value: &Value, pointer: &str, out: &mut Vec<Finding>) {
    let mut buf = String::with_capacity(pointer.len() + 128);
    buf.push_str(pointer);
    walk(stack, names, value, &mut buf, out);
}

/// [`check`] with one pointer buffer for the whole walk (extended and truncated per level).
fn walk(stack: &str, names: &Names<'_>, value: &Value, pointer: &mut String, out: &mut Vec<Finding>) {
    let len = pointer.len();
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if item.is_array() || item.is_object() {
                    crate::findings::push_pointer_index(pointer, i);
                    walk(stack, names, item, pointer, out);
                    pointer.truncate(len);
                }
            }
        }
        Value::Object(map) => {
            if map.len() == 1 && is_intrinsic(value) {
                for (key, arg) in map {
                    push_pointer_segment(pointer, key);
                    check_one(stack, names, key, arg, pointer, out);
                    pointer.truncate(len);
                }
            }
            for (key, child) in map {
                if child.is_array() || child.is_object() {
                    push_pointer_segment(pointer, key);
                    walk(stack, names, child, pointer, out);
                    pointer.truncate(len);
                }
            }
        }
        _ => {}
    }
}

fn finding(stack: &str, pointer: &str, message: String) -> Finding {
    Finding::new(Source::Schema, stack, pointer, message)
}

fn check_one(stack: &str, names: &Names<'_>, key: &str, arg: &Value, here: &str, out: &mut Vec<Finding>) {
    match key {
        "Ref" => match arg.as_str() {
            Some(target) if names.is_ref_target(target) => {}
            Some(target) => out.push(
                finding(
                    stack,
                    here,
                    format!("Ref to `{target}`, which is not a resource, parameter or pseudo parameter"),
                )
                .expected("a logical id in Resources or Parameters, or AWS::* pseudo parameter")
                .actual(target),
            ),
            None => out.push(finding(stack, here, "Ref takes a string".to_string()).actual(arg.to_string())),
        },
        "Fn::GetAtt" => {
            let (resource, attribute) = match arg {
                Value::String(s) => match s.split_once('.') {
                    Some((r, a)) => (Some(r.to_string()), Some(a.to_string())),
                    None => (None, None),
                },
                Value::Array(parts) if parts.len() == 2 => (
                    parts.first().and_then(Value::as_str).map(str::to_string),
                    parts.get(1).and_then(Value::as_str).map(str::to_string),
                ),
                _ => (None, None),
            };
            match (resource, attribute) {
                (Some(r), Some(a)) => {
                    if let Some((message, expected)) = names.getatt_problem(&r, &a) {
                        let mut f = finding(stack, here, message).actual(format!("{r}.{a}"));
                        if let Some(e) = expected {
                            f = f.expected(e);
                        }
                        out.push(f);
                    }
                }
                // [resource, {"Ref": param}] is allowed: the attribute is resolved at deploy time.
                (Some(r), None) if matches!(arg, Value::Array(_)) => {
                    if !names.resources.contains_key(&r) {
                        out.push(finding(
                            stack,
                            here,
                            format!("Fn::GetAtt names `{r}`, which is not a resource"),
                        ));
                    }
                }
                _ => out.push(
                    finding(
                        stack,
                        here,
                        "Fn::GetAtt takes [LogicalId, Attribute] or \"LogicalId.Attribute\"".into(),
                    )
                    .actual(arg.to_string()),
                ),
            }
        }
        "Fn::Sub" => {
            let (text, vars, text_pointer) = match arg {
                Value::String(s) => (Some(s.as_str()), None, here.to_string()),
                Value::Array(parts) if parts.len() == 2 => (
                    parts.first().and_then(Value::as_str),
                    parts.get(1).and_then(Value::as_object),
                    format!("{here}/0"),
                ),
                _ => (None, None, here.to_string()),
            };
            let Some(text) = text else {
                out.push(finding(
                    stack,
                    here,
                    "Fn::Sub takes a string or [string, {variables}]".into(),
                ));
                return;
            };
            for var in sub_variables(text) {
                if vars.is_some_and(|m| m.contains_key(&var)) {
                    continue;
                }
                if let Some((r, a)) = var.split_once('.')
                    && names.resources.contains_key(r)
                {
                    if let Some((message, expected)) = names.getatt_problem(r, a) {
                        let mut f =
                            finding(stack, &text_pointer, format!("Fn::Sub `${{{var}}}`: {message}")).actual(&var);
                        if let Some(e) = expected {
                            f = f.expected(e);
                        }
                        out.push(f);
                    }
                    continue;
                }
                if !names.is_ref_target(&var) {
                    out.push(
                        finding(
                            stack,
                            &text_pointer,
                            format!("Fn::Sub variable `${{{var}}}` is not defined"),
                        )
                        .expected("a parameter, resource, pseudo parameter or a key of the Sub's variable map")
                        .actual(var.clone()),
                    );
                }
            }
        }
        "Fn::If" => {
            let cond = arg.as_array().and_then(|a| a.first()).and_then(Value::as_str);
            match cond {
                Some(c) if names.conditions.contains(c) => {}
                Some(c) => out.push(finding(
                    stack,
                    here,
                    format!("Fn::If names condition `{c}`, which is not defined"),
                )),
                None => out.push(finding(
                    stack,
                    here,
                    "Fn::If takes [condition, value_if_true, value_if_false]".into(),
                )),
            }
        }
        "Condition" => {
            if let Some(c) = arg.as_str()
                && !names.conditions.contains(c)
            {
                out.push(finding(stack, here, format!("condition `{c}` is not defined")));
            }
        }
        "Fn::FindInMap" => {
            if let Some(m) = arg.as_array().and_then(|a| a.first()).and_then(Value::as_str)
                && !names.mappings.contains(m)
            {
                out.push(finding(
                    stack,
                    here,
                    format!("Fn::FindInMap names mapping `{m}`, which is not defined"),
                ));
            }
        }
        _ => {}
    }
}

/// The `${...}` variables of a `Fn::Sub` string (one implementation, in the model).
pub use crate::model::expr::sub_variables;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sub_variables_skip_literals() {
        assert_eq!(
            sub_variables("a-${AWS::Region}-${!Literal}-${Bucket.Arn}"),
            vec!["AWS::Region", "Bucket.Arn"]
        );
        assert_eq!(sub_variables("${unterminated"), Vec::<String>::new());
    }

    #[test]
    fn intrinsics_are_recognised() {
        assert!(is_intrinsic(&json!({"Ref": "X"})));
        assert!(is_intrinsic(&json!({"Fn::Sub": "x"})));
        assert!(is_intrinsic(&json!("{{resolve:ssm:/a/b}}")));
        assert!(!is_intrinsic(&json!({"Ref": "X", "Other": 1})));
        assert!(!is_intrinsic(&json!("plain")));
    }
}
