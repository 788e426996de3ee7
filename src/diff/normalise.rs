//! Normalisation helpers: JSON held in strings, set-like arrays, secrets, references.

use serde_json::{Map, Value};

/// The value of a string that holds a JSON object or array (dashboard bodies, policy
/// documents, event patterns); `None` for any other string.
pub fn parse_json_string(s: &str) -> Option<Value> {
    let t = s.trim_start();
    if !(t.starts_with('{') || t.starts_with('[')) {
        return None;
    }
    match serde_json::from_str::<Value>(s) {
        Ok(v @ (Value::Object(_) | Value::Array(_))) => Some(v),
        _ => None,
    }
}

/// Property names whose literal string values are secrets: `*Password*`, `*Secret*`,
/// `*Token*`, `*Passphrase*`, except names and identifiers (`SecretArn`, `TokenName`).
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    let named = ["password", "secret", "token", "passphrase", "privatekey"]
        .iter()
        .any(|w| k.contains(w));
    let identifier = ["arn", "arns", "name", "names", "id", "ids", "type", "ttl", "validity"]
        .iter()
        .any(|s| k.ends_with(s));
    named && !identifier
}

/// A string holding a secure dynamic reference (`{{resolve:secretsmanager:...}}`,
/// `{{resolve:ssm-secure:...}}`).
pub fn has_secure_dynamic_ref(s: &str) -> bool {
    s.contains("{{resolve:secretsmanager:") || s.contains("{{resolve:ssm-secure:")
}

/// A key name that always masks: used for the `Default` of a `NoEcho` parameter.
pub const SECRET_KEY: &str = "Secret";

/// An object with `NoEcho: true` (a parameter whose value is never shown).
pub fn is_no_echo(map: &Map<String, Value>) -> bool {
    match map.get("NoEcho") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// The key to judge masking by for child `key` of `parent`.
pub fn masking_key<'a>(parent: &Map<String, Value>, key: &'a str) -> &'a str {
    if key == "Default" && is_no_echo(parent) {
        SECRET_KEY
    } else {
        key
    }
}

/// The text shown instead of a masked value.
pub const MASK: &str = "(masked)";

/// Masks secrets inside `value`, found under property `key`. Returns the masked value and
/// whether anything was masked. Literal strings under secret-named keys and any string with a
/// secure dynamic reference are masked; intrinsics (`Ref`, `Fn::*`) are kept unless they embed
/// a secure dynamic reference.
pub fn mask(value: &Value, key: &str) -> (Value, bool) {
    match value {
        Value::String(s) if is_secret_key(key) || has_secure_dynamic_ref(s) => (Value::String(MASK.into()), true),
        Value::Object(map) => {
            let mut any = false;
            let mut out = Map::with_capacity(map.len());
            let intrinsic = map.len() == 1 && map.keys().all(|k| k == "Ref" || k.starts_with("Fn::"));
            for (k, v) in map {
                // Inside an intrinsic, the secret-ness comes from the property, not `Fn::Sub`.
                let (mv, m) = if intrinsic {
                    mask_refs_only(v)
                } else {
                    mask(v, masking_key(map, k))
                };
                any |= m;
                out.insert(k.clone(), mv);
            }
            (Value::Object(out), any)
        }
        Value::Array(items) => {
            let mut any = false;
            let out = items
                .iter()
                .map(|v| {
                    let (mv, m) = mask(v, key);
                    any |= m;
                    mv
                })
                .collect();
            (Value::Array(out), any)
        }
        other => (other.clone(), false),
    }
}

fn mask_refs_only(value: &Value) -> (Value, bool) {
    match value {
        Value::String(s) if has_secure_dynamic_ref(s) => (Value::String(MASK.into()), true),
        Value::Array(items) => {
            let mut any = false;
            let out = items
                .iter()
                .map(|v| {
                    let (mv, m) = mask_refs_only(v);
                    any |= m;
                    mv
                })
                .collect();
            (Value::Array(out), any)
        }
        Value::Object(_) => mask(value, ""),
        other => (other.clone(), false),
    }
}

/// A canonical text of a value: object keys sorted, no whitespace. Used to compare set items.
pub fn canonical(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(*k) {
                    write_canonical(v, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(v, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Is the array under `key` set-like by IAM semantics? `parent_has_effect`: the object holding
/// it is an IAM statement; `grandparent_key`: the key of the object holding it.
pub fn iam_set_like(key: &str, parent_has_effect: bool, grandparent_key: Option<&str>) -> bool {
    match key {
        "Statement" => true,
        "Action" | "NotAction" | "Resource" | "NotResource" => parent_has_effect,
        "AWS" | "Service" | "Federated" | "CanonicalUser" => {
            matches!(grandparent_key, Some("Principal") | Some("NotPrincipal"))
        }
        _ => false,
    }
}

/// Collects the logical ids referenced by `Ref`, `Fn::GetAtt` and `Fn::Sub` inside `value`,
/// with the JSON pointer (as `path`) of the property holding the reference. Pseudo parameters
/// (`AWS::...`) are skipped.
pub fn collect_references(value: &Value, path: &mut String, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            if map.len() == 1 {
                if let Some(Value::String(target)) = map.get("Ref") {
                    push_ref(path, target, out);
                    return;
                }
                if let Some(att) = map.get("Fn::GetAtt") {
                    let target = match att {
                        Value::Array(items) => items.first().and_then(Value::as_str).map(str::to_string),
                        Value::String(s) => s.split('.').next().map(str::to_string),
                        _ => None,
                    };
                    if let Some(t) = target {
                        push_ref(path, &t, out);
                    }
                    return;
                }
                if let Some(sub) = map.get("Fn::Sub") {
                    let (text, vars) = match sub {
                        Value::String(s) => (Some(s.as_str()), None),
                        Value::Array(items) => (
                            items.first().and_then(Value::as_str),
                            items.get(1).and_then(Value::as_object),
                        ),
                        _ => (None, None),
                    };
                    if let Some(text) = text {
                        for name in sub_variables(text) {
                            let target = name.split('.').next().unwrap_or(&name).to_string();
                            if vars.is_none_or(|v| !v.contains_key(&target)) {
                                push_ref(path, &target, out);
                            }
                        }
                    }
                    if let Some(vars) = vars {
                        for v in vars.values() {
                            collect_references(v, path, out);
                        }
                    }
                    return;
                }
            }
            for (k, v) in map {
                let len = path.len();
                crate::findings::push_pointer_segment(path, k);
                collect_references(v, path, out);
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let len = path.len();
                crate::findings::push_pointer_index(path, i);
                collect_references(v, path, out);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

fn push_ref(path: &str, target: &str, out: &mut Vec<(String, String)>) {
    if !target.starts_with("AWS::") {
        out.push((path.to_string(), target.to_string()));
    }
}

/// `${Name}` and `${Name.Attr}` in an `Fn::Sub` text, skipping `${!Literal}`.
fn sub_variables(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let name = &after[..end];
        if !name.starts_with('!') && !name.is_empty() {
            out.push(name.trim().to_string());
        }
        rest = &after[end + 1..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_masked_by_name_and_by_dynamic_reference() {
        let (v, m) = mask(&json!({"MasterUserPassword": "hunter2", "Port": 5432}), "");
        assert!(m);
        assert_eq!(v, json!({"MasterUserPassword": MASK, "Port": 5432}));
        let (v, m) = mask(&json!("{{resolve:secretsmanager:db:SecretString:pw}}"), "Value");
        assert!(m);
        assert_eq!(v, json!(MASK));
        let (v, m) = mask(
            &json!({"Type": "String", "NoEcho": true, "Default": "pw"}),
            "DbPassword",
        );
        assert!(m);
        assert_eq!(v["Default"], json!(MASK));
        let (_, m) = mask(&json!({"Ref": "Param"}), "Password");
        assert!(!m, "a reference is not a literal secret");
        assert!(!is_secret_key("SecretArn"));
    }

    #[test]
    fn sub_references_skip_literals_and_pseudo_parameters() {
        let mut out = Vec::new();
        let v = json!({"Fn::Sub": "${B.Arn}/${!Lit}/${AWS::Region}/${X}"});
        collect_references(&v, &mut "/Properties/P".to_string(), &mut out);
        let targets: Vec<&str> = out.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(targets, vec!["B", "X"]);
    }

    #[test]
    fn only_objects_and_arrays_count_as_json_strings() {
        assert!(parse_json_string("{\"a\": 1}").is_some());
        assert!(parse_json_string("42").is_none());
        assert!(parse_json_string("{not json").is_none());
    }
}
