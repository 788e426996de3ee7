//! Cross-stack consistency of one environment: every `Fn::ImportValue` has an export in an
//! earlier stack (deploy order), and export names are unique.
//!
//! Export and import names are compared after resolving `Fn::Sub` / `Fn::Join` of literals,
//! with `${AWS::StackName}` replaced by the stack's name; other pseudo parameters
//! (`${AWS::Region}`, `${AWS::AccountId}`) stay symbolic (one environment = one account and region).
//! A name built from a parameter or a resource cannot be resolved and is reported as a warning.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::findings::{Finding, PathStep, Source, escape_pointer_token, pointer_of, push_pointer_segment};

/// Resolves an export/import name expression to a comparable string.
fn resolve(v: &Value, stack: &str) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(map) if map.len() == 1 => {
            if let Some(arg) = map.get("Fn::Sub") {
                let (text, vars) = match arg {
                    Value::String(s) => (s.as_str(), None),
                    Value::Array(parts) => (parts.first()?.as_str()?, parts.get(1).and_then(Value::as_object)),
                    _ => return None,
                };
                substitute(text, stack, vars)
            } else if let Some(Value::Array(parts)) = map.get("Fn::Join") {
                let sep = parts.first()?.as_str()?;
                let items = parts.get(1)?.as_array()?;
                let resolved: Option<Vec<String>> = items.iter().map(|i| resolve(i, stack)).collect();
                Some(resolved?.join(sep))
            } else if let Some(Value::String(name)) = map.get("Ref") {
                pseudo(name, stack)
            } else {
                None
            }
        }
        _ => None,
    }
}

fn pseudo(name: &str, stack: &str) -> Option<String> {
    match name {
        "AWS::StackName" => Some(stack.to_string()),
        "AWS::Region" | "AWS::AccountId" | "AWS::Partition" | "AWS::URLSuffix" => Some(format!("${{{name}}}")),
        _ => None,
    }
}

fn substitute(text: &str, stack: &str, vars: Option<&serde_json::Map<String, Value>>) -> Option<String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(rest.get(..start)?);
        let after = rest.get(start + 2..)?;
        let (name, tail) = after.split_once('}')?;
        if let Some(literal) = name.strip_prefix('!') {
            out.push_str("${");
            out.push_str(literal);
            out.push('}');
        } else if let Some(v) = vars.and_then(|m| m.get(name.trim())) {
            out.push_str(&resolve(v, stack)?);
        } else {
            out.push_str(&pseudo(name.trim(), stack)?);
        }
        rest = tail;
    }
    out.push_str(rest);
    Some(out)
}

/// Every `Fn::ImportValue` under `v`: (pointer to the `Fn::ImportValue` key, its argument).
/// `path` holds the keys and indices above `v`; a pointer is only written for a hit.
fn imports<'a>(v: &'a Value, path: &mut Vec<PathStep<'a>>, out: &mut Vec<(String, &'a Value)>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if k == "Fn::ImportValue" && map.len() == 1 {
                    let mut pointer = pointer_of(path);
                    push_pointer_segment(&mut pointer, k);
                    out.push((pointer, child));
                }
                if child.is_object() || child.is_array() {
                    path.push(PathStep::Key(k));
                    imports(child, path, out);
                    path.pop();
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if item.is_object() || item.is_array() {
                    path.push(PathStep::Index(i));
                    imports(item, path, out);
                    path.pop();
                }
            }
        }
        _ => {}
    }
}

/// Checks the stacks of one environment, given in deploy order as (stack name, template).
pub fn check_environment(stacks: &[(&str, &Value)]) -> Vec<Finding> {
    let mut out = Vec::new();
    // export name -> (index of the stack, stack name)
    let mut exports: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for (index, (stack, template)) in stacks.iter().enumerate() {
        for (name, output) in template.get("Outputs").and_then(Value::as_object).into_iter().flatten() {
            let Some(expr) = output.get("Export").and_then(|e| e.get("Name")) else {
                continue;
            };
            let pointer = format!("/Outputs/{}/Export/Name", escape_pointer_token(name));
            match resolve(expr, stack) {
                Some(export) => {
                    if let Some((_, first)) = exports.get(&export) {
                        out.push(
                            Finding::new(
                                Source::CrossStack,
                                *stack,
                                pointer,
                                format!("export name `{export}` is already exported by {first}"),
                            )
                            .expected("export names unique within the environment")
                            .actual(export.clone()),
                        );
                    } else {
                        exports.insert(export, (index, stack.to_string()));
                    }
                }
                None => out.push(
                    Finding::new(
                        Source::CrossStack,
                        *stack,
                        pointer,
                        "export name cannot be resolved before deploy; uniqueness not checked",
                    )
                    .actual(expr.to_string())
                    .warning(),
                ),
            }
        }
    }
    for (index, (stack, template)) in stacks.iter().enumerate() {
        let mut found = Vec::new();
        imports(template, &mut Vec::new(), &mut found);
        for (pointer, arg) in found {
            let Some(name) = resolve(arg, stack) else {
                out.push(
                    Finding::new(
                        Source::CrossStack,
                        *stack,
                        pointer,
                        "Fn::ImportValue name cannot be resolved before deploy; not checked",
                    )
                    .actual(arg.to_string())
                    .warning(),
                );
                continue;
            };
            match exports.get(&name) {
                Some((i, _)) if *i < index => {}
                Some((_, exporter)) => out.push(
                    Finding::new(
                        Source::CrossStack,
                        *stack,
                        pointer,
                        format!("imports `{name}`, exported by {exporter}, which deploys after or with {stack}"),
                    )
                    .expected("an export of an earlier stack")
                    .actual(name.clone()),
                ),
                None => out.push(
                    Finding::new(
                        Source::CrossStack,
                        *stack,
                        pointer,
                        format!("imports `{name}`, which no earlier stack exports"),
                    )
                    .expected("an export of an earlier stack")
                    .actual(name.clone()),
                ),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sub_names_resolve_with_the_stack_name() {
        let v = json!({"Fn::Sub": "${AWS::StackName}-Arn-${!Lit}"});
        assert_eq!(resolve(&v, "Core").as_deref(), Some("Core-Arn-${Lit}"));
        assert_eq!(resolve(&json!({"Fn::Sub": "${Param}"}), "Core"), None);
    }

    #[test]
    fn imports_need_an_earlier_export() {
        let core = json!({"Resources": {}, "Outputs": {"A": {"Value": "x", "Export": {"Name": "core-a"}}}});
        let pipe = json!({"Resources": {"R": {"Properties": {"X": {"Fn::ImportValue": "core-a"}, "Y": {"Fn::ImportValue": "nope"}}}}});
        let f = check_environment(&[("Core", &core), ("Pipe", &pipe)]);
        assert_eq!(f.len(), 1);
        assert_eq!(
            f.first().map(|f| f.pointer.as_str()),
            Some("/Resources/R/Properties/Y/Fn::ImportValue")
        );
        let f = check_environment(&[("Pipe", &pipe), ("Core", &core)]);
        assert_eq!(f.len(), 2);
    }
}
