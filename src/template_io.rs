//! Reading CloudFormation documents: JSON, YAML with the short-form intrinsic tags (`!Ref`,
//! `!GetAtt`, `!Sub`, ...), and the AWS CLI's `get-template` output (`{"TemplateBody": ...}`).
//!
//! Everything downstream (Guard rules, schema checks, diff) sees one shape: a `serde_json::Value`
//! in the long form CloudFormation JSON uses (`{"Fn::Sub": ...}`), keys in file order. `!GetAtt A.B`
//! reads as `{"Fn::GetAtt": "A.B"}`, exactly as cfn-guard reads it; [`normalize_getatt`] gives
//! the list form where two templates are compared.

use serde_json::{Map, Number, Value};
use std::path::Path;

/// Why a document could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}:{line}:{column}: not valid JSON: {message}")]
    Json {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}{location}: not valid YAML: {message}")]
    Yaml {
        file: String,
        location: String,
        message: String,
    },
    #[error("{file}: {path}: {message}")]
    Shape {
        file: String,
        path: String,
        message: String,
    },
}

/// Reads a file as a CloudFormation document (JSON or YAML, chosen by content).
pub fn read_document(path: &Path) -> Result<Value, DocumentError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| DocumentError::Io {
        file: file.clone(),
        source,
    })?;
    parse_document(&text, &file)
}

/// Parses text as a CloudFormation document. Text whose first non-blank character is `{` or `[`
/// is JSON; anything else is YAML (JSON is also YAML, but JSON errors are clearer from the JSON
/// parser). `file` is used in messages only.
pub fn parse_document(text: &str, file: &str) -> Result<Value, DocumentError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first = text.trim_start().chars().next();
    if matches!(first, Some('{') | Some('[')) {
        return serde_json::from_str(text).map_err(|e| DocumentError::Json {
            file: file.to_string(),
            line: e.line(),
            column: e.column(),
            message: strip_json_location(&e.to_string()),
        });
    }
    let yaml: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| DocumentError::Yaml {
        file: file.to_string(),
        location: e
            .location()
            .map(|l| format!(":{}:{}", l.line(), l.column()))
            .unwrap_or_default(),
        message: e.to_string(),
    })?;
    yaml_to_json(yaml, file, "")
}

/// Unwraps the AWS CLI's `get-template` output: `{"TemplateBody": {...}}` or
/// `{"TemplateBody": "<json or yaml text>"}`; any other document is returned as it is.
pub fn unwrap_template_body(doc: Value, file: &str) -> Result<Value, DocumentError> {
    match doc {
        Value::Object(mut map)
            if map.len() <= 3 && map.contains_key("TemplateBody") && !map.contains_key("Resources") =>
        {
            match map.remove("TemplateBody").unwrap_or(Value::Null) {
                Value::String(body) => parse_document(&body, file),
                body @ Value::Object(_) => Ok(body),
                other => Err(DocumentError::Shape {
                    file: file.to_string(),
                    path: "TemplateBody".into(),
                    message: format!("expected a template (object or string), found {}", kind(&other)),
                }),
            }
        }
        other => Ok(other),
    }
}

fn strip_json_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn yaml_to_json(value: serde_yaml::Value, file: &str, path: &str) -> Result<Value, DocumentError> {
    use serde_yaml::Value as Y;
    Ok(match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => yaml_number(&n),
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| yaml_to_json(v, file, &format!("{path}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    Y::Null => "null".to_string(),
                    other => {
                        return Err(DocumentError::Shape {
                            file: file.to_string(),
                            path: path.to_string(),
                            message: format!("mapping keys must be scalars, found {other:?}"),
                        });
                    }
                };
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                let v = yaml_to_json(v, file, &child)?;
                out.insert(key, v);
            }
            Value::Object(out)
        }
        Y::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let inner = yaml_to_json(tagged.value, file, path)?;
            short_form(name, inner).map_err(|message| DocumentError::Shape {
                file: file.to_string(),
                path: if path.is_empty() {
                    "(root)".into()
                } else {
                    path.to_string()
                },
                message,
            })?
        }
    })
}

fn yaml_number(n: &serde_yaml::Number) -> Value {
    if let Some(i) = n.as_i64() {
        Value::Number(i.into())
    } else if let Some(u) = n.as_u64() {
        Value::Number(u.into())
    } else {
        n.as_f64()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(n.to_string()))
    }
}

/// The long form of one short-form tag: `!Ref X` -> `{"Ref": "X"}`,
/// `!Ref X` -> `{"Ref": "X"}`, `!GetAtt A.B` -> `{"Fn::GetAtt": "A.B"}`, `!Sub s` -> `{"Fn::Sub": "s"}`, ...
fn short_form(name: &str, inner: Value) -> Result<Value, String> {
    let key = match name {
        "Ref" => "Ref".to_string(),
        "Condition" => "Condition".to_string(),
        // `!GetAtt A.B` stays the string `"A.B"`, as cfn-guard 3.2.1 reads it (rules see the same
        // document in both engines); CloudFormation accepts both forms. The diff compares them
        // through [`normalize_getatt`].
        "GetAtt" => "Fn::GetAtt".to_string(),
        "Base64" | "Cidr" | "FindInMap" | "GetAZs" | "ImportValue" | "Join" | "Select" | "Split" | "Sub"
        | "Transform" | "And" | "Equals" | "If" | "Not" | "Or" | "Length" | "ToJsonString" | "ForEach" => {
            format!("Fn::{name}")
        }
        other => {
            return Err(format!(
                "unknown tag `!{other}`: CloudFormation short forms are !Ref, !GetAtt, !Sub, !Join, ..."
            ));
        }
    };
    Ok(single(&key, inner))
}

/// Rewrites every `{"Fn::GetAtt": "A.B.C"}` to the list form `{"Fn::GetAtt": ["A", "B.C"]}`,
/// so templates written either way compare equal.
pub fn normalize_getatt(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.len() == 1
                && let Some(Value::String(s)) = map.get("Fn::GetAtt")
                && let Some((resource, attribute)) = s.split_once('.')
            {
                let list = Value::Array(vec![Value::String(resource.into()), Value::String(attribute.into())]);
                map.insert("Fn::GetAtt".into(), list);
                return;
            }
            map.values_mut().for_each(normalize_getatt);
        }
        Value::Array(items) => items.iter_mut().for_each(normalize_getatt),
        _ => {}
    }
}

fn single(key: &str, value: Value) -> Value {
    let mut map = Map::new();
    map.insert(key.to_string(), value);
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn short_forms_become_long_forms() {
        let doc = parse_document(
            "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: !Sub '${AWS::StackName}-x'\n      Tags:\n        - Key: k\n          Value: !GetAtt Other.Arn\n        - Key: r\n          Value: !Ref Other\n        - Key: j\n          Value: !Join [',', [a, b]]\n",
            "t.yaml",
        )
        .unwrap();
        let props = &doc["Resources"]["B"]["Properties"];
        assert_eq!(props["BucketName"], json!({"Fn::Sub": "${AWS::StackName}-x"}));
        assert_eq!(props["Tags"][0]["Value"], json!({"Fn::GetAtt": "Other.Arn"}));
        let mut normalized = props["Tags"][0]["Value"].clone();
        normalize_getatt(&mut normalized);
        assert_eq!(normalized, json!({"Fn::GetAtt": ["Other", "Arn"]}));
        assert_eq!(props["Tags"][1]["Value"], json!({"Ref": "Other"}));
        assert_eq!(props["Tags"][2]["Value"], json!({"Fn::Join": [",", ["a", "b"]]}));
    }

    #[test]
    fn json_errors_are_located() {
        let err = parse_document("{\n  \"a\": ,\n}", "bad.json").unwrap_err().to_string();
        assert!(err.starts_with("bad.json:2:"), "{err}");
    }

    #[test]
    fn unknown_tags_are_errors_with_a_path() {
        let err = parse_document("a:\n  b: !Nope x\n", "t.yaml").unwrap_err().to_string();
        assert!(err.contains("a.b") && err.contains("!Nope"), "{err}");
    }

    #[test]
    fn get_template_output_is_unwrapped() {
        let doc = json!({"TemplateBody": "{\"Resources\": {}}", "StagesAvailable": ["Original"]});
        assert_eq!(unwrap_template_body(doc, "x").unwrap(), json!({"Resources": {}}));
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_a_document_or_an_error(text in "[ -~\n]{0,200}") {
            let _ = parse_document(&text, "fuzz").map(|d| unwrap_template_body(d, "fuzz"));
        }

        #[test]
        fn tagged_yaml_never_panics(tag in "!(Ref|GetAtt|Sub|Join|If|Nope|Base64|Select)", body in "[a-zA-Z.\\[\\], ]{0,20}") {
            let _ = parse_document(&format!("a: {tag} {body}\n"), "fuzz");
        }
    }
}
