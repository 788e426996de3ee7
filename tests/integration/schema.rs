//! Schema, limits and cross-stack validation: the base templates (one per stack of an
//! environment, every emitted type) pass; each mutation of `mutations.json` is caught at the
//! right pointer.

use std::path::{Path, PathBuf};

use kiro_infra::findings::{Finding, Severity};
use kiro_infra::validate::{crossstack, limits, validate_template};
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schema")
}

/// (stack name, fixture file) in deploy order.
const STACKS: &[(&str, &str)] = &[
    ("KiroPipelineCoreTest", "core.template.json"),
    ("KiroPipelineTest", "pipeline.template.json"),
    ("KiroPipelineMonitoringTest", "monitoring.template.json"),
];

fn load(file: &str) -> Value {
    let text = std::fs::read_to_string(fixtures().join(file)).unwrap_or_default();
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Every check this issue adds, over one environment.
fn check_all(stacks: &[(&str, Value)]) -> Vec<Finding> {
    let mut out = Vec::new();
    for (name, template) in stacks {
        out.extend(validate_template(name, template));
        // Size as synth writes it (the canonical rendering).
        let rendered = kiro_infra::render::render(template).text.len();
        out.extend(limits::check_limits(name, template, rendered));
    }
    let refs: Vec<(&str, &Value)> = stacks.iter().map(|(n, t)| (*n, t)).collect();
    out.extend(crossstack::check_environment(&refs));
    out
}

fn base() -> Vec<(&'static str, Value)> {
    STACKS.iter().map(|(name, file)| (*name, load(file))).collect()
}

#[test]
fn base_templates_pass_cleanly() {
    let stacks = base();
    for (name, t) in &stacks {
        assert!(t.get("Resources").is_some_and(Value::is_object), "{name} did not load");
    }
    let findings = check_all(&stacks);
    assert!(findings.is_empty(), "{findings:#?}");
}

/// Stack roles of the mutation table, in deploy order.
const ROLES: &[&str] = &["core", "pipeline", "monitoring"];

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Expands the table's value helpers: `{"$repeat": [s, n]}` (a long string) and
/// `{"$copy": "[role:]pointer"}` (a value of the base templates; a `${AWS::StackName}` Sub is
/// resolved to a literal with that stack's name, so a copied export name stays the same name).
fn expand(v: &Value, stacks: &[(String, Value)], own: usize) -> Value {
    match v {
        Value::Object(map) if map.len() == 1 => {
            if let Some(Value::Array(args)) = map.get("$repeat") {
                let s = args.first().and_then(Value::as_str).unwrap_or("x");
                let n = args.get(1).and_then(Value::as_u64).unwrap_or(0) as usize;
                return Value::String(s.repeat(n));
            }
            // `{"$id": "AWS::KMS::Key"}`: the logical id of the first resource of that type in
            // the mutated stack, so the corpus runs on any templates, not only the fixtures.
            if let Some(Value::String(type_name)) = map.get("$id") {
                let id = stacks.get(own).and_then(|(_, t)| {
                    t.get("Resources")?
                        .as_object()?
                        .iter()
                        .find(|(_, r)| r.get("Type").and_then(Value::as_str) == Some(type_name))
                        .map(|(id, _)| id.clone())
                });
                return Value::String(id.unwrap_or_default());
            }
            if let Some(Value::String(spec)) = map.get("$copy") {
                let (index, pointer) = match spec.split_once(':') {
                    Some((role, p)) => (ROLES.iter().position(|r| *r == role).unwrap_or(own), p),
                    None => (own, spec.as_str()),
                };
                let Some((name, template)) = stacks.get(index) else {
                    return Value::Null;
                };
                let copied = template.pointer(pointer).cloned().unwrap_or(Value::Null);
                if index == own {
                    return copied;
                }
                return match copied.get("Fn::Sub").and_then(Value::as_str) {
                    Some(s) => Value::String(s.replace("${AWS::StackName}", name)),
                    None => copied,
                };
            }
            Value::Object(map.iter().map(|(k, v)| (k.clone(), expand(v, stacks, own))).collect())
        }
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), expand(v, stacks, own))).collect()),
        Value::Array(items) => Value::Array(items.iter().map(|v| expand(v, stacks, own)).collect()),
        other => other.clone(),
    }
}

/// Applies `op` at absolute `pointer`; false when the parent is missing.
fn apply(template: &mut Value, op: &str, pointer: &str, value: Option<Value>) -> bool {
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        return false;
    };
    let last = last.replace("~1", "/").replace("~0", "~");
    // `set` creates a missing top-level section (e.g. `/Outputs` in a stack without outputs).
    if op == "set"
        && template.pointer(parent).is_none()
        && parent.matches('/').count() == 1
        && let Some(root) = template.as_object_mut()
    {
        root.insert(
            parent.trim_start_matches('/').to_string(),
            Value::Object(Default::default()),
        );
    }
    let Some(parent) = template.pointer_mut(parent) else {
        return false;
    };
    match (op, parent) {
        ("set", Value::Object(map)) => {
            map.insert(last, value.unwrap_or(Value::Null));
            true
        }
        ("set", Value::Array(items)) => match last.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
            Some(slot) => {
                *slot = value.unwrap_or(Value::Null);
                true
            }
            None => false,
        },
        ("remove", Value::Object(map)) => map.shift_remove(&last).is_some(),
        _ => false,
    }
}

/// Runs the mutation table against one environment's templates (`stacks` in role order:
/// core, pipeline, monitoring). Returns the failures, one line each.
fn run_corpus(stacks: &[(String, Value)], table: &[Value]) -> (usize, Vec<String>) {
    let mut failures = Vec::new();
    let mut applied = 0;
    for m in table {
        let id = m.get("id").and_then(Value::as_str).unwrap_or("?");
        let role = m.get("stack").and_then(Value::as_str).unwrap_or("");
        let Some(index) = ROLES.iter().position(|r| *r == role) else {
            failures.push(format!("{id}: unknown stack role {role}"));
            continue;
        };
        let mut mutated: Vec<(String, Value)> = stacks.to_vec();
        let Some((stack_name, template)) = mutated.get_mut(index) else {
            continue;
        };
        let prefix = match m.get("resource_type").and_then(Value::as_str) {
            Some(type_name) => {
                let found = template.get("Resources").and_then(Value::as_object).and_then(|rs| {
                    rs.iter()
                        .find(|(_, r)| r.get("Type").and_then(Value::as_str) == Some(type_name))
                        .map(|(id, _)| id.clone())
                });
                match found {
                    Some(logical_id) => format!("/Resources/{}", escape(&logical_id)),
                    None => {
                        failures.push(format!("{id}: no {type_name} in {stack_name}"));
                        continue;
                    }
                }
            }
            None => String::new(),
        };
        let path = format!("{prefix}{}", m.get("path").and_then(Value::as_str).unwrap_or(""));
        let op = m.get("op").and_then(Value::as_str).unwrap_or("");
        let value = m.get("value").map(|v| expand(v, stacks, index));
        if !apply(template, op, &path, value) {
            failures.push(format!("{id}: cannot {op} {path}"));
            continue;
        }
        applied += 1;
        let stack_name = stack_name.clone();
        let refs: Vec<(&str, Value)> = mutated.iter().map(|(n, t)| (n.as_str(), t.clone())).collect();
        let findings = check_all(&refs);
        match m.get("expect") {
            Some(Value::Object(expect)) => {
                let pointer = format!(
                    "{prefix}{}",
                    expect.get("pointer").and_then(Value::as_str).unwrap_or("")
                );
                let fragment = expect.get("message").and_then(Value::as_str).unwrap_or("");
                let severity = match expect.get("severity").and_then(Value::as_str) {
                    Some("warning") => Severity::Warning,
                    _ => Severity::Error,
                };
                let hit = findings.iter().any(|f| {
                    f.stack == stack_name
                        && f.pointer == pointer
                        && f.message.contains(fragment)
                        && f.severity == severity
                });
                if !hit {
                    let got: Vec<String> = findings
                        .iter()
                        .map(|f| format!("[{:?}] {} {}: {}", f.severity, f.stack, f.pointer, f.message))
                        .collect();
                    failures.push(format!("{id}: expected {pointer} ~ {fragment:?}; got {got:#?}"));
                }
            }
            _ => {
                if !findings.is_empty() {
                    let got: Vec<String> = findings
                        .iter()
                        .map(|f| format!("{} {}: {}", f.stack, f.pointer, f.message))
                        .collect();
                    failures.push(format!(
                        "{id}: expected no finding (accepted by CloudFormation); got {got:#?}"
                    ));
                }
            }
        }
    }
    (applied, failures)
}

fn table() -> Vec<Value> {
    let text = std::fs::read_to_string(fixtures().join("mutations.json")).unwrap_or_default();
    serde_json::from_str(&text).unwrap_or_default()
}

#[test]
fn every_mutation_is_caught_at_the_right_pointer() {
    let table = table();
    let caught = table
        .iter()
        .filter(|m| m.get("expect").is_some_and(Value::is_object))
        .count();
    assert!(
        caught >= 40,
        "the corpus needs at least 40 caught mutations, has {caught}"
    );
    let stacks: Vec<(String, Value)> = base().into_iter().map(|(n, t)| (n.to_string(), t)).collect();
    let (applied, failures) = run_corpus(&stacks, &table);
    assert_eq!(applied, table.len(), "{failures:#?}");
    assert!(
        failures.is_empty(),
        "{} of {} mutations failed:\n{}",
        failures.len(),
        table.len(),
        failures.join("\n")
    );
}

#[test]
fn base_templates_cover_every_vendored_type() {
    let mut types: Vec<String> = base()
        .iter()
        .flat_map(|(_, t)| {
            t.get("Resources")
                .and_then(Value::as_object)
                .map(|rs| {
                    rs.values()
                        .filter_map(|r| r.get("Type")?.as_str().map(str::to_string))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
        .collect();
    types.sort();
    types.dedup();
    let mut vendored: Vec<String> = kiro_infra::validate::schema::VENDORED
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    vendored.sort();
    assert_eq!(types, vendored);
}

/// The same corpus against the synthesized templates (`templates/test/*.template.json`), once
/// they exist in this checkout: files are matched to roles by name (`Core`, `Monitoring`, else pipeline).
#[test]
fn mutations_apply_to_synthesized_templates_when_present() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/test");
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}: run `kiro-infra synth`", dir.display()));
    let mut by_role: Vec<Option<(String, Value)>> = vec![None, None, None];
    for entry in entries.flatten() {
        let path = entry.path();
        let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("").to_string();
        let Some(stack) = file.strip_suffix(".template.json") else {
            continue;
        };
        let role = if stack.contains("Core") {
            0
        } else if stack.contains("Monitoring") {
            2
        } else {
            1
        };
        let template = serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_default()).unwrap_or(Value::Null);
        if let Some(slot) = by_role.get_mut(role) {
            *slot = Some((stack.to_string(), template));
        }
    }
    let stacks: Vec<(String, Value)> = by_role.into_iter().flatten().collect();
    assert_eq!(
        stacks.len(),
        3,
        "expected Core, Pipeline and Monitoring templates in {}",
        dir.display()
    );
    let refs: Vec<(&str, Value)> = stacks.iter().map(|(n, t)| (n.as_str(), t.clone())).collect();
    let errors: Vec<Finding> = check_all(&refs)
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let (_, failures) = run_corpus(&stacks, &table());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The base fixtures are realistic: the real cfn-lint (KIRO_CFN_LINT, set by
/// scripts/install-tools.sh) finds nothing in them. A missing cfn-lint fails the test.
#[test]
fn cfn_lint_accepts_the_base_fixtures() {
    let files: Vec<PathBuf> = STACKS.iter().map(|(_, f)| fixtures().join(f)).collect();
    let lint = std::env::var("KIRO_CFN_LINT").unwrap_or_else(|_| {
        panic!("cfn-lint is required: run `eval \"$(scripts/install-tools.sh)\"` (sets KIRO_CFN_LINT)")
    });
    let output = std::process::Command::new(&lint)
        .arg("--regions")
        .arg("us-east-1")
        .arg("--")
        .args(&files)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {lint}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "cfn-lint found problems:\n{stdout}");
}
