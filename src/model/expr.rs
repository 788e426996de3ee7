//! Typed CloudFormation values: literals, intrinsic functions and dynamic references.
//!
//! An [`Expr`] serializes to exactly the JSON CloudFormation expects (`{"Ref": "X"}`,
//! `{"Fn::GetAtt": ["X", "Arn"]}`, `{"Fn::Sub": "..."}`), so the stacks never write intrinsic
//! JSON by hand.

use indexmap::IndexMap;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

/// A CloudFormation value that may be computed at deploy time.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A literal string.
    Str(String),
    /// A literal integer.
    Int(i64),
    /// A literal boolean.
    Bool(bool),
    /// `{"Ref": name}`: a resource, a parameter or a pseudo parameter (see [`Pseudo`]).
    Ref(String),
    /// `{"Fn::GetAtt": [logical_id, attribute]}`.
    GetAtt(String, String),
    /// `{"Fn::Sub": template}` or `{"Fn::Sub": [template, {vars}]}`.
    Sub(String, IndexMap<String, Expr>),
    /// `{"Fn::Join": [separator, [parts]]}`.
    Join(String, Vec<Expr>),
    /// `{"Fn::ImportValue": export_name}`.
    ImportValue(Box<Expr>),
    /// `{"Fn::Select": [index, list]}`.
    Select(u32, Box<Expr>),
    /// `{"Fn::Split": [separator, source]}`.
    Split(String, Box<Expr>),
    /// A `{{resolve:...}}` dynamic reference: the value is read at deploy time and never
    /// stored in the template.
    Dynamic(DynamicRef),
    /// A list of values.
    List(Vec<Expr>),
}

/// Where a dynamic reference reads its value from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DynamicRef {
    /// `{{resolve:ssm:NAME}}`: a plain SSM parameter.
    Ssm(String),
    /// `{{resolve:secretsmanager:ID}}` (the whole secret string) or with a JSON key.
    SecretsManager {
        secret_id: String,
        json_key: Option<String>,
    },
}

impl DynamicRef {
    /// The `{{resolve:...}}` string.
    pub fn render(&self) -> String {
        match self {
            DynamicRef::Ssm(name) => format!("{{{{resolve:ssm:{name}}}}}"),
            DynamicRef::SecretsManager {
                secret_id,
                json_key: None,
            } => {
                format!("{{{{resolve:secretsmanager:{secret_id}}}}}")
            }
            DynamicRef::SecretsManager {
                secret_id,
                json_key: Some(key),
            } => {
                format!("{{{{resolve:secretsmanager:{secret_id}:SecretString:{key}}}}}")
            }
        }
    }
}

/// The pseudo parameters templates use to stay account- and region-agnostic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pseudo {
    AccountId,
    Region,
    Partition,
    StackName,
    UrlSuffix,
}

impl Pseudo {
    pub fn name(self) -> &'static str {
        match self {
            Pseudo::AccountId => "AWS::AccountId",
            Pseudo::Region => "AWS::Region",
            Pseudo::Partition => "AWS::Partition",
            Pseudo::StackName => "AWS::StackName",
            Pseudo::UrlSuffix => "AWS::URLSuffix",
        }
    }

    pub fn expr(self) -> Expr {
        Expr::Ref(self.name().to_string())
    }
}

impl Expr {
    pub fn str(s: impl Into<String>) -> Self {
        Expr::Str(s.into())
    }

    /// `Fn::Sub` without a variable map.
    pub fn sub(template: impl Into<String>) -> Self {
        Expr::Sub(template.into(), IndexMap::new())
    }

    pub fn import(export_name: impl Into<String>) -> Self {
        Expr::ImportValue(Box::new(Expr::Str(export_name.into())))
    }

    /// An ARN in this partition, region and account:
    /// `arn:${AWS::Partition}:{service}:${AWS::Region}:${AWS::AccountId}:{resource}`.
    /// `resource` is inserted into a `Fn::Sub` string, so `$` must not appear in it unescaped.
    pub fn arn(service: &str, resource: &str) -> Self {
        Expr::sub(format!(
            "arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}"
        ))
    }

    /// A global ARN (no region, no account): `arn:${AWS::Partition}:{service}:::{resource}`.
    pub fn global_arn(service: &str, resource: &str) -> Self {
        Expr::sub(format!("arn:${{AWS::Partition}}:{service}:::{resource}"))
    }

    /// An ARN with no region (IAM): `arn:${AWS::Partition}:{service}::${AWS::AccountId}:{resource}`.
    pub fn account_arn(service: &str, resource: &str) -> Self {
        Expr::sub(format!(
            "arn:${{AWS::Partition}}:{service}::${{AWS::AccountId}}:{resource}"
        ))
    }

    /// `Fn::Join` with an empty separator.
    pub fn concat(parts: Vec<Expr>) -> Self {
        Expr::Join(String::new(), parts)
    }

    /// The logical ids this value refers to with `Ref`/`Fn::GetAtt`/`${X}`.
    pub fn references(&self, out: &mut Vec<String>) {
        match self {
            Expr::Ref(name) | Expr::GetAtt(name, _) => out.push(name.clone()),
            Expr::Sub(template, vars) => {
                for var in sub_variables(template) {
                    let head = var.split('.').next().unwrap_or(&var).to_string();
                    if !vars.contains_key(&head) {
                        out.push(head);
                    }
                }
                vars.values().for_each(|v| v.references(out));
            }
            Expr::Join(_, parts) | Expr::List(parts) => parts.iter().for_each(|p| p.references(out)),
            Expr::ImportValue(inner) | Expr::Select(_, inner) | Expr::Split(_, inner) => inner.references(out),
            Expr::Str(_) | Expr::Int(_) | Expr::Bool(_) | Expr::Dynamic(_) => {}
        }
    }
}

/// The `${...}` variables of a `Fn::Sub` template (not `${!Literal}`), trimmed.
pub fn sub_variables(template: &str) -> Vec<String> {
    let mut vars = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        let Some(after) = rest.get(start + 2..) else { break };
        let Some((name, tail)) = after.split_once('}') else {
            break;
        };
        if !name.starts_with('!') {
            vars.push(name.trim().to_string());
        }
        rest = tail;
    }
    vars
}

impl From<&str> for Expr {
    fn from(s: &str) -> Self {
        Expr::Str(s.to_string())
    }
}

impl From<String> for Expr {
    fn from(s: String) -> Self {
        Expr::Str(s)
    }
}

impl From<&String> for Expr {
    fn from(s: &String) -> Self {
        Expr::Str(s.clone())
    }
}

impl From<DynamicRef> for Expr {
    fn from(d: DynamicRef) -> Self {
        Expr::Dynamic(d)
    }
}

impl From<i64> for Expr {
    fn from(i: i64) -> Self {
        Expr::Int(i)
    }
}

impl From<bool> for Expr {
    fn from(b: bool) -> Self {
        Expr::Bool(b)
    }
}

fn single<S: Serializer, V: Serialize + ?Sized>(s: S, key: &str, value: &V) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(1))?;
    map.serialize_entry(key, value)?;
    map.end()
}

struct Pair<'a, A: Serialize + ?Sized, B: Serialize + ?Sized>(&'a A, &'a B);

impl<A: Serialize + ?Sized, B: Serialize + ?Sized> Serialize for Pair<'_, A, B> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(2))?;
        seq.serialize_element(self.0)?;
        seq.serialize_element(self.1)?;
        seq.end()
    }
}

impl Serialize for Expr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Expr::Str(v) => s.serialize_str(v),
            Expr::Int(v) => s.serialize_i64(*v),
            Expr::Bool(v) => s.serialize_bool(*v),
            Expr::Ref(name) => single(s, "Ref", name),
            Expr::GetAtt(id, attr) => single(s, "Fn::GetAtt", &Pair(id, attr)),
            Expr::Sub(template, vars) if vars.is_empty() => single(s, "Fn::Sub", template),
            Expr::Sub(template, vars) => single(s, "Fn::Sub", &Pair(template, vars)),
            Expr::Join(sep, parts) => single(s, "Fn::Join", &Pair(sep, parts)),
            Expr::ImportValue(name) => single(s, "Fn::ImportValue", name.as_ref()),
            Expr::Select(i, list) => single(s, "Fn::Select", &Pair(i, list.as_ref())),
            Expr::Split(sep, source) => single(s, "Fn::Split", &Pair(sep, source.as_ref())),
            Expr::Dynamic(d) => s.serialize_str(&d.render()),
            Expr::List(items) => items.serialize(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn intrinsics_serialize_to_cloudformation_json() {
        let v = |e: Expr| serde_json::to_value(e).unwrap();
        assert_eq!(v(Expr::Ref("B".into())), json!({"Ref": "B"}));
        assert_eq!(
            v(Expr::GetAtt("B".into(), "Arn".into())),
            json!({"Fn::GetAtt": ["B", "Arn"]})
        );
        assert_eq!(v(Expr::sub("${B}/*")), json!({"Fn::Sub": "${B}/*"}));
        assert_eq!(v(Expr::import("X")), json!({"Fn::ImportValue": "X"}));
        assert_eq!(
            v(Expr::Dynamic(DynamicRef::SecretsManager {
                secret_id: "s".into(),
                json_key: None
            })),
            json!("{{resolve:secretsmanager:s}}")
        );
        assert_eq!(
            v(Expr::Dynamic(DynamicRef::Ssm("/a/b".into()))),
            json!("{{resolve:ssm:/a/b}}")
        );
    }

    #[test]
    fn sub_variables_skip_literals_and_find_references() {
        assert_eq!(
            sub_variables("arn:${AWS::Partition}:s3:::${Bucket}/${!Literal}"),
            vec!["AWS::Partition", "Bucket"]
        );
        let mut refs = Vec::new();
        Expr::sub("${Bucket.Arn}/*").references(&mut refs);
        assert_eq!(refs, vec!["Bucket"]);
    }
}
