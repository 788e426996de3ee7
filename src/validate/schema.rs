//! The official CloudFormation resource provider schemas, vendored in `schemas/` (see
//! `schemas/SOURCE.md`) and compiled into the binary.
//!
//! [`schema_for`] gives the parsed schema of a type with the facts other modules need
//! (create-only paths for replacement verdicts, attributes for `Fn::GetAtt`, unordered arrays for
//! the diff); [`ResourceSchema::validator`] gives the draft-07 validator, compiled once, with the
//! AWS keywords plain validators ignore (`requiredXor`, `requiredOr`, `dependentExcluded`,
//! `dependentRequired`, `prefixItems`, `uniqueKeys`) as custom keywords.

use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::paths::Location;
use jsonschema::{Keyword, ValidationError, Validator};
use serde_json::{Map, Value};

use crate::findings::{Finding, PathStep, Source, escape_pointer_token};

macro_rules! vendored {
    ($($type_name:literal => $file:literal),* $(,)?) => {
        &[$(($type_name, include_str!(concat!(env!("OUT_DIR"), "/schemas/", $file)))),*]
    };
}

/// The vendored schemas: (type name, schema JSON text), as `build.rs` slims them (prose and
/// `handlers` dropped, every validation keyword kept).
pub const VENDORED: &[(&str, &str)] = vendored!(
    "AWS::CloudWatch::Alarm" => "aws-cloudwatch-alarm.json",
    "AWS::CloudWatch::Dashboard" => "aws-cloudwatch-dashboard.json",
    "AWS::CodeBuild::Project" => "aws-codebuild-project.json",
    "AWS::CodePipeline::Pipeline" => "aws-codepipeline-pipeline.json",
    "AWS::CodePipeline::Webhook" => "aws-codepipeline-webhook.json",
    "AWS::DynamoDB::Table" => "aws-dynamodb-table.json",
    "AWS::Events::Rule" => "aws-events-rule.json",
    "AWS::IAM::ManagedPolicy" => "aws-iam-managedpolicy.json",
    "AWS::IAM::Policy" => "aws-iam-policy.json",
    "AWS::IAM::Role" => "aws-iam-role.json",
    "AWS::KMS::Alias" => "aws-kms-alias.json",
    "AWS::KMS::Key" => "aws-kms-key.json",
    "AWS::Lambda::Function" => "aws-lambda-function.json",
    "AWS::Lambda::Permission" => "aws-lambda-permission.json",
    "AWS::Logs::LogGroup" => "aws-logs-loggroup.json",
    "AWS::S3::Bucket" => "aws-s3-bucket.json",
    "AWS::S3::BucketPolicy" => "aws-s3-bucketpolicy.json",
    "AWS::SNS::Subscription" => "aws-sns-subscription.json",
    "AWS::SNS::Topic" => "aws-sns-topic.json",
    "AWS::SNS::TopicPolicy" => "aws-sns-topicpolicy.json",
    "AWS::SQS::Queue" => "aws-sqs-queue.json",
    "AWS::SQS::QueuePolicy" => "aws-sqs-queuepolicy.json",
);

/// Every resource type name in the schema bundle's us-east-1 index, one per line.
const TYPES_TXT: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/types.txt"));

/// Types whose every top-level property is also a `Fn::GetAtt` attribute (cfn-lint's
/// `_all_property_types`: older, non-registry types whose GetAtt list is wider than
/// `readOnlyProperties`, e.g. `Fn::GetAtt [Topic, TopicName]`).
const ALL_PROPERTIES_ARE_ATTRIBUTES: &[&str] = &["AWS::SNS::Topic", "AWS::SQS::Queue"];

/// Whether changing a property replaces the resource (from the schema's create-only lists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Replacement {
    /// Updated in place.
    Never,
    /// Listed in `conditionalCreateOnlyProperties`: replacement depends on the change.
    Conditional,
    /// Listed in `createOnlyProperties`: any change replaces the resource.
    Always,
}

/// A compiled validator, shared (or the compile error as text).
pub type CompiledSchema = Arc<Result<Validator, String>>;

/// One resource provider schema and the facts read from it.
///
/// Property paths are relative to the resource's `Properties`, segments joined with `/`,
/// `*` for "any array item": the schema's `/properties/A/*/B` is `A/*/B` here.
pub struct ResourceSchema {
    type_name: String,
    raw: Value,
    create_only: Vec<String>,
    conditional_create_only: Vec<String>,
    read_only: Vec<String>,
    write_only: Vec<String>,
    attributes: Vec<String>,
    /// Computed on first use (only `diff` asks; the walk over every subschema is not free).
    unordered: OnceLock<Vec<String>>,
    validator: OnceLock<Result<Validator, String>>,
    /// Validators compiled with only some top-level properties' subschemas (see
    /// [`ResourceSchema::validator_for`]): (the properties kept, the validator).
    narrowed: Mutex<Vec<(Vec<String>, CompiledSchema)>>,
    /// See [`referenced_properties`]; computed on first use (only a narrowed validator needs
    /// it, and walking the whole schema is not free).
    referenced: OnceLock<Vec<String>>,
}

impl std::fmt::Debug for ResourceSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceSchema")
            .field("type_name", &self.type_name)
            .finish_non_exhaustive()
    }
}

impl ResourceSchema {
    fn from_value(type_name: &str, raw: Value) -> Self {
        let paths = |key: &str| -> Vec<String> {
            raw.get(key)
                .and_then(Value::as_array)
                .map(|list| {
                    list.iter()
                        .filter_map(Value::as_str)
                        .filter_map(strip_properties)
                        .collect()
                })
                .unwrap_or_default()
        };
        let create_only = paths("createOnlyProperties");
        let conditional_create_only = paths("conditionalCreateOnlyProperties");
        let read_only = paths("readOnlyProperties");
        let write_only = paths("writeOnlyProperties");
        let mut attributes: Vec<String> = read_only.iter().map(|p| p.replace('/', ".")).collect();
        if ALL_PROPERTIES_ARE_ATTRIBUTES.contains(&type_name)
            && let Some(props) = raw.get("properties").and_then(Value::as_object)
        {
            attributes.extend(props.keys().cloned());
        }
        attributes.sort();
        attributes.dedup();
        ResourceSchema {
            type_name: type_name.to_string(),
            raw,
            create_only,
            conditional_create_only,
            read_only,
            write_only,
            attributes,
            unordered: OnceLock::new(),
            validator: OnceLock::new(),
            narrowed: Mutex::new(Vec::new()),
            referenced: OnceLock::new(),
        }
    }

    /// `AWS::S3::Bucket`.
    pub fn type_name(&self) -> &str {
        &self.type_name
    }

    /// `createOnlyProperties`: changing one replaces the resource.
    pub fn create_only_properties(&self) -> &[String] {
        &self.create_only
    }

    /// `conditionalCreateOnlyProperties`: changing one may replace the resource.
    pub fn conditional_create_only_properties(&self) -> &[String] {
        &self.conditional_create_only
    }

    /// `readOnlyProperties`: set by CloudFormation, never in a template.
    pub fn read_only_properties(&self) -> &[String] {
        &self.read_only
    }

    /// `writeOnlyProperties`: never returned by a read (so drift on them is invisible).
    pub fn write_only_properties(&self) -> &[String] {
        &self.write_only
    }

    /// Names valid as the attribute of `Fn::GetAtt` (`Arn`, nested `A.B`), sorted.
    pub fn attributes(&self) -> &[String] {
        &self.attributes
    }

    /// Whether `name` is a `Fn::GetAtt` attribute of this type.
    pub fn has_attribute(&self, name: &str) -> bool {
        self.attributes.iter().any(|a| a == name)
    }

    /// Array properties whose order does not matter (`insertionOrder: false`), e.g. `Tags`,
    /// `Stages/*/Actions/*/InputArtifacts`: a diff should compare them as sets.
    pub fn unordered_property_paths(&self) -> &[String] {
        self.unordered.get_or_init(|| {
            let mut unordered = Vec::new();
            if let Some(props) = self.raw.get("properties").and_then(Value::as_object) {
                for (name, sub) in props {
                    collect_unordered(&self.raw, sub, name, &mut unordered, 0);
                }
            }
            unordered.sort();
            unordered.dedup();
            unordered
        })
    }

    /// Whether the array at `path` (concrete indices allowed: `A/0/B`) is unordered.
    pub fn is_unordered(&self, path: &[&str]) -> bool {
        self.unordered_property_paths()
            .iter()
            .any(|pattern| path_matches(pattern, path))
    }

    /// The replacement verdict for a change at `path` (segments relative to `Properties`,
    /// concrete array indices allowed): a change at or under a create-only path replaces.
    pub fn replacement(&self, path: &[&str]) -> Replacement {
        let hit = |list: &[String]| list.iter().any(|pattern| path_is_at_or_under(pattern, path));
        if hit(&self.create_only) {
            Replacement::Always
        } else if hit(&self.conditional_create_only) {
            Replacement::Conditional
        } else {
            Replacement::Never
        }
    }

    /// Top-level `required` property names.
    pub fn required(&self) -> Vec<&str> {
        self.raw
            .get("required")
            .and_then(Value::as_array)
            .map(|l| l.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    /// The schema as vendored.
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// A validator for property objects whose top-level keys are all in `present`: the same
    /// verdicts as [`ResourceSchema::validator`] on such objects, compiled without the
    /// subschemas of the other properties (a schema like `AWS::S3::Bucket` has dozens, and a
    /// template sets a handful; compiling is the costly part of validation). The names stay
    /// declared, so `additionalProperties: false` still rejects unknown keys. A validator
    /// compiled for a wider set is reused.
    ///
    /// # Errors
    /// The compile error as text, if the narrowed schema does not compile.
    pub fn validator_for(&self, present: &[&str]) -> CompiledSchema {
        let mut narrowed = self.narrowed.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, v)) = narrowed
            .iter()
            .find(|(kept, _)| present.iter().all(|p| kept.iter().any(|k| k == p)))
        {
            return Arc::clone(v);
        }
        let referenced = self.referenced.get_or_init(|| {
            let mut out = Vec::new();
            referenced_properties(&self.raw, &mut out);
            out
        });
        let mut raw = self.raw.clone();
        let mut kept = Vec::new();
        if let Some(props) = raw.get_mut("properties").and_then(Value::as_object_mut) {
            for (name, sub) in props.iter_mut() {
                if present.contains(&name.as_str()) || referenced.contains(name) {
                    kept.push(name.clone());
                } else {
                    *sub = Value::Object(Map::new());
                }
            }
        }
        // Keys the schema does not declare meet the same `additionalProperties` in every
        // narrowed validator: they count as kept.
        let undeclared: Vec<String> = present
            .iter()
            .filter(|p| !kept.iter().any(|k| k == *p))
            .map(|p| p.to_string())
            .collect();
        kept.extend(undeclared);
        let v = Arc::new(compile(raw));
        narrowed.push((kept, Arc::clone(&v)));
        v
    }

    /// The draft-07 validator with the AWS custom keywords, compiled on first use.
    ///
    /// # Errors
    /// The compile error as text, if the vendored schema does not compile (a test guards this).
    pub fn validator(&self) -> Result<&Validator, &str> {
        self.validator
            .get_or_init(|| compile(self.raw.clone()))
            .as_ref()
            .map_err(String::as_str)
    }
}

/// Top-level property names something in the schema refers into (`"$ref": "#/properties/X..."`):
/// their subschemas stay in every narrowed validator.
fn referenced_properties(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                if k == "$ref"
                    && let Some(rest) = c.as_str().and_then(|r| r.strip_prefix("#/properties/"))
                {
                    let name = rest.split('/').next().unwrap_or(rest);
                    out.push(crate::findings::unescape_pointer_token(name));
                }
                referenced_properties(c, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|c| referenced_properties(c, out)),
        _ => {}
    }
}

/// The schema of `type_name`, when vendored. Each type's schema is parsed on its first call
/// (a diff or a check that meets few types parses few).
pub fn schema_for(type_name: &str) -> Option<&'static ResourceSchema> {
    static SCHEMAS: [OnceLock<Option<ResourceSchema>>; VENDORED.len()] = [const { OnceLock::new() }; VENDORED.len()];
    let i = VENDORED.iter().position(|(name, _)| *name == type_name)?;
    let (name, text) = VENDORED.get(i)?;
    SCHEMAS
        .get(i)?
        .get_or_init(|| {
            let raw: Value = serde_json::from_str(text).ok()?;
            Some(ResourceSchema::from_value(name, raw))
        })
        .as_ref()
}

/// Whether `type_name` is a resource type CloudFormation knows (schema vendored or not).
pub fn is_known_type(type_name: &str) -> bool {
    static TYPES: OnceLock<Vec<&'static str>> = OnceLock::new();
    TYPES
        .get_or_init(|| {
            let mut v: Vec<&str> = TYPES_TXT.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            v.sort_unstable();
            v
        })
        .binary_search(&type_name)
        .is_ok()
}

/// `/properties/A/B` -> `A/B`.
fn strip_properties(path: &str) -> Option<String> {
    path.strip_prefix("/properties/").map(str::to_string)
}

/// `pattern` (`A/*/B`) matches `path` exactly (`*` matches any one segment).
pub fn path_matches(pattern: &str, path: &[&str]) -> bool {
    let parts: Vec<&str> = pattern.split('/').collect();
    parts.len() == path.len() && parts.iter().zip(path).all(|(p, s)| *p == "*" || p == s)
}

/// `path` is `pattern` or below it.
fn path_is_at_or_under(pattern: &str, path: &[&str]) -> bool {
    let parts: Vec<&str> = pattern.split('/').collect();
    parts.len() <= path.len() && parts.iter().zip(path).all(|(p, s)| *p == "*" || p == s)
}

/// Follows a local `$ref` (`#/definitions/X`).
fn deref<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => r.strip_prefix('#').and_then(|p| root.pointer(p)).unwrap_or(schema),
        None => schema,
    }
}

fn collect_unordered(root: &Value, schema: &Value, path: &str, out: &mut Vec<String>, depth: usize) {
    if depth > 12 {
        return;
    }
    let schema = deref(root, schema);
    if schema.get("insertionOrder") == Some(&Value::Bool(false)) {
        out.push(path.to_string());
    }
    if let Some(items) = schema.get("items") {
        collect_unordered(root, items, &format!("{path}/*"), out, depth + 1);
    }
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (name, sub) in props {
            collect_unordered(root, sub, &format!("{path}/{name}"), out, depth + 1);
        }
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        for sub in schema.get(key).and_then(Value::as_array).into_iter().flatten() {
            collect_unordered(root, sub, path, out, depth + 1);
        }
    }
}

/// Python-only regex syntax in the bundle's patterns (`\Z`, end of input) rewritten for the
/// ECMA-262 dialect the validator speaks (`$`, which without the multiline flag is the same).
fn normalise_patterns(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                if k == "pattern"
                    && let Value::String(p) = child
                {
                    *p = python_regex_to_ecma(p);
                } else {
                    normalise_patterns(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalise_patterns),
        _ => {}
    }
}

/// A schema's `pattern` as the validators see it (see [`normalise_patterns`]).
pub(super) fn normalised_pattern(p: &str) -> String {
    python_regex_to_ecma(p)
}

fn python_regex_to_ecma(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('Z') => out.push('$'),
                Some('A') => out.push('^'),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn compile(mut raw: Value) -> Result<Validator, String> {
    normalise_patterns(&mut raw);
    let raw = &raw;
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(false)
        .with_keyword("requiredXor", |_, v, _| {
            names(v).map(|n| Box::new(RequiredXor(n)) as Box<dyn for<'i> Keyword<'i>>)
        })
        .with_keyword("requiredOr", |_, v, _| {
            names(v).map(|n| Box::new(RequiredOr(n)) as Box<dyn for<'i> Keyword<'i>>)
        })
        .with_keyword("dependentExcluded", |_, v, _| {
            dependency_map(v).map(|m| Box::new(DependentExcluded(m)) as Box<dyn for<'i> Keyword<'i>>)
        })
        .with_keyword("dependentRequired", |_, v, _| {
            dependency_map(v).map(|m| Box::new(DependentRequired(m)) as Box<dyn for<'i> Keyword<'i>>)
        })
        .with_keyword("uniqueKeys", |_, v, _| {
            names(v).map(|n| Box::new(UniqueKeys(n)) as Box<dyn for<'i> Keyword<'i>>)
        })
        .with_keyword("prefixItems", prefix_items_factory)
        .with_keyword("pattern", |_, v, _| {
            v.as_str()
                .map(|p| Box::new(LazyPattern::new(p)) as Box<dyn for<'i> Keyword<'i>>)
                .ok_or_else(|| ValidationError::schema("pattern must be a string"))
        })
        .build(raw)
        .map_err(|e| e.to_string())
}

/// Whether one of the AWS keywords holds for `instance`, exactly as the keyword compiled into
/// the validators decides; None when the keyword's argument is malformed.
pub(super) fn custom_keyword_holds(keyword: &str, arg: &Value, instance: &Value) -> Option<bool> {
    let failure = match keyword {
        "requiredXor" => RequiredXor(names(arg).ok()?).check(instance),
        "requiredOr" => RequiredOr(names(arg).ok()?).check(instance),
        "dependentExcluded" => DependentExcluded(dependency_map(arg).ok()?).check(instance),
        "dependentRequired" => DependentRequired(dependency_map(arg).ok()?).check(instance),
        "uniqueKeys" => UniqueKeys(names(arg).ok()?).check(instance),
        _ => return None,
    };
    Some(failure.is_none())
}

fn names(v: &Value) -> Result<Vec<String>, ValidationError<'static>> {
    v.as_array()
        .map(|l| l.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .ok_or_else(|| ValidationError::schema("expected an array of property names"))
}

fn dependency_map(v: &Value) -> Result<Vec<(String, Vec<String>)>, ValidationError<'static>> {
    let map = v
        .as_object()
        .ok_or_else(|| ValidationError::schema("expected an object of name lists"))?;
    map.iter().map(|(k, l)| Ok((k.clone(), names(l)?))).collect()
}

fn present<'a>(obj: &Map<String, Value>, names: &'a [String]) -> Vec<&'a str> {
    names
        .iter()
        .filter(|n| obj.contains_key(n.as_str()))
        .map(String::as_str)
        .collect()
}

/// `requiredXor`: exactly one of the listed properties.
struct RequiredXor(Vec<String>);

impl RequiredXor {
    fn check(&self, instance: &Value) -> Option<String> {
        let obj = instance.as_object()?;
        let found = present(obj, &self.0);
        (found.len() != 1).then(|| {
            format!(
                "exactly one of [{}] must be set (requiredXor); found [{}]",
                self.0.join(", "),
                found.join(", ")
            )
        })
    }
}

impl<'i> Keyword<'i> for RequiredXor {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        self.check(instance).map_or(Ok(()), |m| Err(custom("requiredXor", m)))
    }
    fn is_valid(&self, instance: &'i Value) -> bool {
        self.check(instance).is_none()
    }
}

/// `requiredOr`: at least one of the listed properties.
struct RequiredOr(Vec<String>);

impl RequiredOr {
    fn check(&self, instance: &Value) -> Option<String> {
        let obj = instance.as_object()?;
        present(obj, &self.0)
            .is_empty()
            .then(|| format!("at least one of [{}] must be set (requiredOr)", self.0.join(", ")))
    }
}

impl<'i> Keyword<'i> for RequiredOr {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        self.check(instance).map_or(Ok(()), |m| Err(custom("requiredOr", m)))
    }
    fn is_valid(&self, instance: &'i Value) -> bool {
        self.check(instance).is_none()
    }
}

/// `dependentExcluded`: when the key is set, none of the listed properties may be.
struct DependentExcluded(Vec<(String, Vec<String>)>);

impl DependentExcluded {
    fn check(&self, instance: &Value) -> Option<String> {
        let obj = instance.as_object()?;
        self.0.iter().find_map(|(key, excluded)| {
            if !obj.contains_key(key) {
                return None;
            }
            let clash = present(obj, excluded);
            (!clash.is_empty()).then(|| {
                format!(
                    "`{key}` excludes [{}] (dependentExcluded); found [{}]",
                    excluded.join(", "),
                    clash.join(", ")
                )
            })
        })
    }
}

impl<'i> Keyword<'i> for DependentExcluded {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        self.check(instance)
            .map_or(Ok(()), |m| Err(custom("dependentExcluded", m)))
    }
    fn is_valid(&self, instance: &'i Value) -> bool {
        self.check(instance).is_none()
    }
}

/// `dependentRequired`: when the key is set, all listed properties must be.
struct DependentRequired(Vec<(String, Vec<String>)>);

impl DependentRequired {
    fn check(&self, instance: &Value) -> Option<String> {
        let obj = instance.as_object()?;
        self.0.iter().find_map(|(key, required)| {
            if !obj.contains_key(key) {
                return None;
            }
            let missing: Vec<&str> = required
                .iter()
                .filter(|n| !obj.contains_key(n.as_str()))
                .map(String::as_str)
                .collect();
            (!missing.is_empty()).then(|| {
                format!(
                    "`{key}` requires [{}] (dependentRequired); missing [{}]",
                    required.join(", "),
                    missing.join(", ")
                )
            })
        })
    }
}

impl<'i> Keyword<'i> for DependentRequired {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        self.check(instance)
            .map_or(Ok(()), |m| Err(custom("dependentRequired", m)))
    }
    fn is_valid(&self, instance: &'i Value) -> bool {
        self.check(instance).is_none()
    }
}

/// `uniqueKeys`: no two array items (objects) share the values of all listed keys.
struct UniqueKeys(Vec<String>);

impl UniqueKeys {
    fn check(&self, instance: &Value) -> Option<String> {
        let items = instance.as_array()?;
        let mut seen: Vec<Vec<&Value>> = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let Some(obj) = item.as_object() else { continue };
            let key: Vec<&Value> = self.0.iter().filter_map(|k| obj.get(k)).collect();
            if key.len() != self.0.len() || key.iter().any(|v| super::intrinsics::is_intrinsic(v)) {
                continue;
            }
            if seen.contains(&key) {
                let shown: Vec<String> = key.iter().map(|v| v.to_string()).collect();
                return Some(format!(
                    "item {index} repeats [{}] = [{}] (uniqueKeys)",
                    self.0.join(", "),
                    shown.join(", ")
                ));
            }
            seen.push(key);
        }
        None
    }
}

impl<'i> Keyword<'i> for UniqueKeys {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        self.check(instance).map_or(Ok(()), |m| Err(custom("uniqueKeys", m)))
    }
    fn is_valid(&self, instance: &'i Value) -> bool {
        self.check(instance).is_none()
    }
}

/// `prefixItems`: item i matches schema i (draft 2020-12 semantics, used by cfn-lint's patches).
struct PrefixItems(Vec<Validator>);

impl PrefixItems {
    fn check(&self, instance: &Value) -> Option<String> {
        let items = instance.as_array()?;
        items
            .iter()
            .zip(&self.0)
            .enumerate()
            .find_map(|(index, (item, validator))| {
                if super::intrinsics::is_intrinsic(item) {
                    return None;
                }
                validator
                    .validate(item)
                    .err()
                    .map(|e| format!("item {index} does not match its prefixItems schema: {e}"))
            })
    }
}

impl<'i> Keyword<'i> for PrefixItems {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        self.check(instance).map_or(Ok(()), |m| Err(custom("prefixItems", m)))
    }
    fn is_valid(&self, instance: &'i Value) -> bool {
        self.check(instance).is_none()
    }
}

fn prefix_items_factory<'a>(
    _parent: &'a Map<String, Value>,
    value: &'a Value,
    _path: Location,
) -> Result<Box<dyn for<'i> Keyword<'i>>, ValidationError<'a>> {
    let list = value
        .as_array()
        .ok_or_else(|| ValidationError::schema("prefixItems must be an array"))?;
    let validators = list
        .iter()
        .map(|s| jsonschema::options().with_draft(jsonschema::Draft::Draft7).build(s))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Box::new(PrefixItems(validators)))
}

/// `pattern`, compiled on first use. The vendored schemas hold some 70 patterns and a template
/// reaches few of them, while compiling all of them up front was two thirds of the schemas'
/// compile time. Same dialect as the built-in keyword (ECMA-262 translated by `jsonschema-regex`,
/// matched by fancy-regex); a test compiles every vendored pattern.
pub(super) struct LazyPattern {
    source: String,
    regex: OnceLock<Option<crate::regex::Rx>>,
}

/// Separates the value from the pattern in a [`LazyPattern`] error (the built-in keyword's
/// wording: `"x" does not match "^a$"`).
const DOES_NOT_MATCH: &str = " does not match ";

impl LazyPattern {
    pub(super) fn new(source: &str) -> Self {
        LazyPattern {
            source: source.to_string(),
            regex: OnceLock::new(),
        }
    }

    /// The pattern in Rust syntax; None when it does not translate or compile.
    fn regex(&self) -> Option<&crate::regex::Rx> {
        self.regex
            .get_or_init(|| {
                let translated = jsonschema_regex::to_rust_regex(&self.source).ok()?;
                fancy_regex::Expr::parse_tree(&translated).ok()?;
                Some(crate::regex::Rx::new(&translated))
            })
            .as_ref()
    }

    /// Non-strings pass (`pattern` only constrains strings); so does a pattern that does not
    /// compile (none of the vendored ones: a test checks).
    fn matches(&self, instance: &Value) -> bool {
        instance.as_str().is_none_or(|s| self.matches_str(s))
    }

    /// Whether `s` matches (a pattern that does not compile matches everything).
    pub(super) fn matches_str(&self, s: &str) -> bool {
        self.regex().is_none_or(|re| re.is_match(s))
    }
}

impl<'i> Keyword<'i> for LazyPattern {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        if self.matches(instance) {
            return Ok(());
        }
        Err(ValidationError::custom(format!(
            "{instance}{DOES_NOT_MATCH}{}",
            Value::String(self.source.clone())
        )))
    }
    fn is_valid(&self, instance: &'i Value) -> bool {
        self.matches(instance)
    }
}

/// The pattern of a [`LazyPattern`] error.
fn lazy_pattern_of(err: &ValidationError<'_>) -> Option<String> {
    use jsonschema::error::ValidationErrorKind as K;
    let K::Custom { keyword, message } = err.kind() else {
        return None;
    };
    if keyword != "pattern" {
        return None;
    }
    let (_, pattern) = message.rsplit_once(DOES_NOT_MATCH)?;
    serde_json::from_str(pattern).ok()
}

/// The keyword name is already in the message (`... (requiredXor)`).
fn custom(_keyword: &str, message: String) -> ValidationError<'static> {
    ValidationError::custom(message)
}

/// What to do with one validator error.
enum Disposition {
    /// Caused by an intrinsic or a coercible value: not an error.
    Drop,
    /// A value CloudFormation coerces (`"30"` for an integer): replace and validate again.
    Coerce(Vec<Segment>, Value),
    Report,
}

#[derive(Clone, Debug)]
enum Segment {
    Key(String),
    Index(usize),
}

fn segments(location: &Location) -> Vec<Segment> {
    location
        .iter()
        .map(|s| match s {
            jsonschema::paths::LocationSegment::Index(i) => Segment::Index(i),
            jsonschema::paths::LocationSegment::Property(p) => Segment::Key(p.to_string()),
        })
        .collect()
}

fn child<'a>(v: &'a Value, s: &Segment) -> Option<&'a Value> {
    match s {
        Segment::Key(k) => v.get(k.as_str()),
        Segment::Index(i) => v.get(*i),
    }
}

fn at<'a>(root: &'a Value, path: &[Segment]) -> Option<&'a Value> {
    path.iter().try_fold(root, child)
}

fn at_mut<'a>(root: &'a mut Value, path: &[Segment]) -> Option<&'a mut Value> {
    path.iter().try_fold(root, |v, s| match s {
        Segment::Key(k) => v.get_mut(k.as_str()),
        Segment::Index(i) => v.get_mut(*i),
    })
}

/// Whether the node at `path`, or one above it, is an intrinsic.
fn under_intrinsic(root: &Value, path: &[Segment]) -> bool {
    let mut node = root;
    if super::intrinsics::is_intrinsic(node) {
        return true;
    }
    for s in path {
        match child(node, s) {
            Some(next) => node = next,
            None => return false,
        }
        if super::intrinsics::is_intrinsic(node) {
            return true;
        }
    }
    false
}

/// CloudFormation's coercions: `"true"`/`"false"` for booleans, numeric strings for numbers,
/// numbers and booleans for strings.
fn coerce(value: &Value, kind: &jsonschema::error::TypeKind) -> Option<Value> {
    use jsonschema::JsonType;
    let wants = |t: JsonType| match kind {
        jsonschema::error::TypeKind::Single(x) => *x == t,
        jsonschema::error::TypeKind::Multiple(set) => set.contains(t),
    };
    match value {
        Value::String(s) => {
            if wants(JsonType::Boolean) && (s == "true" || s == "false") {
                return Some(Value::Bool(s == "true"));
            }
            if wants(JsonType::Integer)
                && let Ok(i) = s.trim().parse::<i64>()
            {
                return Some(Value::from(i));
            }
            if wants(JsonType::Number)
                && let Ok(f) = s.trim().parse::<f64>()
            {
                return serde_json::Number::from_f64(f).map(Value::Number);
            }
            None
        }
        Value::Number(n) if wants(JsonType::String) => Some(Value::String(n.to_string())),
        Value::Bool(b) if wants(JsonType::String) => Some(Value::String(b.to_string())),
        _ => None,
    }
}

fn classify(err: &ValidationError<'_>, instance: &Value) -> Disposition {
    use jsonschema::error::ValidationErrorKind as K;
    let path = segments(err.instance_path());
    if under_intrinsic(instance, &path) {
        return Disposition::Drop;
    }
    match err.kind() {
        K::AnyOf { context } | K::OneOfNotValid { context } => {
            let branch_ok = |branch: &Vec<ValidationError<'static>>| {
                branch
                    .iter()
                    .all(|e| !matches!(classify(e, instance), Disposition::Report))
            };
            if context.iter().any(branch_ok) {
                Disposition::Drop
            } else {
                Disposition::Report
            }
        }
        K::Type { kind } => match at(instance, &path).and_then(|v| coerce(v, kind)) {
            Some(v) => Disposition::Coerce(path, v),
            None => Disposition::Report,
        },
        _ => Disposition::Report,
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 120 {
        format!("{}...", s.chars().take(117).collect::<String>())
    } else {
        s
    }
}

fn type_name_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn findings_for(err: &ValidationError<'_>, stack: &str, base: &str, instance: &Value) -> Vec<Finding> {
    use jsonschema::error::ValidationErrorKind as K;
    let pointer = format!("{base}{}", err.instance_path().as_str());
    let value = at(instance, &segments(err.instance_path()))
        .cloned()
        .unwrap_or(Value::Null);
    let f = |message: String| Finding::new(Source::Schema, stack, pointer.clone(), message);
    match err.kind() {
        K::Required { property } => {
            let name = property.as_str().map_or_else(|| property.to_string(), str::to_string);
            vec![f(format!("missing required property `{name}`")).expected(name)]
        }
        K::AdditionalProperties { unexpected } => unexpected
            .iter()
            .map(|name| {
                Finding::new(
                    Source::Schema,
                    stack,
                    format!("{pointer}/{}", escape_pointer_token(name)),
                    format!("unknown property `{name}`"),
                )
                .actual(name.clone())
                .fix("remove it, or check its spelling against the resource schema")
            })
            .collect(),
        K::Type { kind } => {
            let expected = match kind {
                jsonschema::error::TypeKind::Single(t) => t.to_string(),
                jsonschema::error::TypeKind::Multiple(set) => {
                    set.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(" or ")
                }
            };
            vec![
                f(format!(
                    "wrong type: expected {expected}, found {}",
                    type_name_of(&value)
                ))
                .expected(expected)
                .actual(short(&value)),
            ]
        }
        K::Enum { options } => {
            vec![
                f(format!("value {} is not allowed", short(&value)))
                    .expected(short(options))
                    .actual(short(&value)),
            ]
        }
        K::Constant { expected_value } => {
            vec![
                f(format!("value {} is not allowed", short(&value)))
                    .expected(short(expected_value))
                    .actual(short(&value)),
            ]
        }
        K::Pattern { pattern } => vec![pattern_finding(f, pattern.clone(), &value)],
        K::Custom { .. } if let Some(pattern) = lazy_pattern_of(err) => vec![pattern_finding(f, pattern, &value)],
        K::MaxLength { limit } => vec![
            f(format!("string is longer than {limit} characters"))
                .expected(format!("at most {limit} characters"))
                .actual(short(&value)),
        ],
        K::MinLength { limit } => vec![
            f(format!("string is shorter than {limit} characters"))
                .expected(format!("at least {limit} characters"))
                .actual(short(&value)),
        ],
        K::Maximum { limit } | K::ExclusiveMaximum { limit } => {
            vec![
                f(format!("value {} is above the maximum {limit}", short(&value)))
                    .expected(format!("<= {limit}"))
                    .actual(short(&value)),
            ]
        }
        K::Minimum { limit } | K::ExclusiveMinimum { limit } => {
            vec![
                f(format!("value {} is below the minimum {limit}", short(&value)))
                    .expected(format!(">= {limit}"))
                    .actual(short(&value)),
            ]
        }
        K::MaxItems { limit } => {
            vec![f(format!("array has more than {limit} items")).expected(format!("at most {limit} items"))]
        }
        K::MinItems { limit } => {
            vec![f(format!("array has fewer than {limit} items")).expected(format!("at least {limit} items"))]
        }
        K::UniqueItems => vec![f("array items are not unique".to_string()).actual(short(&value))],
        K::AnyOf { context } | K::OneOfNotValid { context } => {
            // The branch that got furthest: not a type mismatch at this very location.
            let here = err.instance_path().as_str();
            let branch = context
                .iter()
                .find(|b| {
                    !b.iter()
                        .any(|e| matches!(e.kind(), K::Type { .. }) && e.instance_path().as_str() == here)
                })
                .or_else(|| context.first());
            let why: Vec<String> = branch
                .into_iter()
                .flatten()
                .filter(|e| !matches!(classify(e, instance), Disposition::Drop))
                .map(|e| {
                    let rel = e.instance_path().as_str().strip_prefix(here).unwrap_or("");
                    if rel.is_empty() {
                        e.to_string()
                    } else {
                        format!("at {rel}: {e}")
                    }
                })
                .collect();
            let message = if why.is_empty() {
                "value matches none of the allowed forms".to_string()
            } else {
                format!("value matches none of the allowed forms: {}", why.join("; "))
            };
            vec![f(message).actual(short(&value))]
        }
        K::Custom { message, .. } => vec![f(message.clone())],
        _ => vec![f(err.to_string()).actual(short(&value))],
    }
}

fn pattern_finding(f: impl Fn(String) -> Finding, pattern: String, value: &Value) -> Finding {
    f(format!("value {} does not match the pattern", short(value)))
        .expected(pattern)
        .actual(short(value))
}

/// At most this many `Fn::If` per resource are expanded.
const MAX_IF_VARIANTS: usize = 16;

/// The instance errors of one properties object, with CloudFormation's coercions applied.
fn schema_errors(validator: &Validator, props: &Value, stack: &str, base: &str) -> Vec<Finding> {
    let mut owned: Option<Value> = None;
    let mut out = Vec::new();
    for _round in 0..4 {
        let instance = owned.as_ref().unwrap_or(props);
        let mut coercions = Vec::new();
        let mut reported = Vec::new();
        for err in validator.iter_errors(instance) {
            match classify(&err, instance) {
                Disposition::Drop => {}
                Disposition::Coerce(path, v) => coercions.push((path, v)),
                Disposition::Report => reported.extend(findings_for(&err, stack, base, instance)),
            }
        }
        out = reported;
        if coercions.is_empty() {
            break;
        }
        let mut copy = instance.clone();
        for (path, v) in coercions {
            if let Some(slot) = at_mut(&mut copy, &path) {
                *slot = v;
            }
        }
        owned = Some(copy);
    }
    out
}

/// `Fn::If` nodes not inside another intrinsic: (path, condition, [if true, if false]). The
/// path is kept borrowed while walking (every node of every resource is visited, and almost
/// none is an `Fn::If`).
fn find_ifs<'v>(v: &'v Value, path: &mut Vec<PathStep<'v>>, out: &mut Vec<(Vec<Segment>, String, [Value; 2])>) {
    if super::intrinsics::is_intrinsic(v) {
        if let Some(Value::Array(args)) = v.get("Fn::If")
            && let [Value::String(c), a, b] = args.as_slice()
        {
            let owned = path
                .iter()
                .map(|step| match step {
                    PathStep::Key(k) => Segment::Key((*k).to_string()),
                    PathStep::Index(i) => Segment::Index(*i),
                })
                .collect();
            out.push((owned, c.clone(), [a.clone(), b.clone()]));
        }
        return;
    }
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if child.is_object() || child.is_array() {
                    path.push(PathStep::Key(k));
                    find_ifs(child, path, out);
                    path.pop();
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                if child.is_object() || child.is_array() {
                    path.push(PathStep::Index(i));
                    find_ifs(child, path, out);
                    path.pop();
                }
            }
        }
        _ => {}
    }
}

fn remove_at(root: &mut Value, path: &[Segment]) {
    let Some((last, parent)) = path.split_last() else {
        return;
    };
    match (at_mut(root, parent), last) {
        (Some(Value::Object(map)), Segment::Key(k)) => {
            map.shift_remove(k);
        }
        (Some(Value::Array(items)), Segment::Index(i)) if *i < items.len() => {
            items.remove(*i);
        }
        _ => {}
    }
}

/// Validates one resource's `Properties` against its schema: JSON schema (intrinsic-aware, with
/// CloudFormation's coercions and the AWS keywords) and read-only properties set.
pub fn validate_properties(
    stack: &str,
    logical_id: &str,
    schema: &ResourceSchema,
    properties: Option<&Value>,
) -> Vec<Finding> {
    let resource_pointer = format!("/Resources/{}", escape_pointer_token(logical_id));
    let base = match properties {
        Some(_) => format!("{resource_pointer}/Properties"),
        None => resource_pointer.clone(),
    };
    let empty = Value::Object(Map::new());
    let props = properties.unwrap_or(&empty);
    if super::intrinsics::is_intrinsic(props) {
        return Vec::new();
    }
    if !props.is_object() {
        return vec![
            Finding::new(Source::Schema, stack, base, "Properties must be an object")
                .expected("object")
                .actual(type_name_of(props)),
        ];
    }
    let variants = if_variants(props);
    let mut out = Vec::new();
    // Most resources are valid: the interpreter over the raw schema says so without compiling a
    // validator; anything else (and every finding's wording) comes from the validator.
    if !surely_valid(schema, props, &variants) {
        out = schema_errors_with_variants(schema, stack, &base, props, &variants);
    }
    for path in schema.read_only_properties() {
        let parts: Vec<&str> = path.split('/').collect();
        read_only_hits(props, &parts, &base, &mut |pointer| {
            out.push(
                Finding::new(
                    Source::Schema,
                    stack,
                    pointer,
                    format!("read-only property `{path}` cannot be set in a template"),
                )
                .fix("remove it; read it with Fn::GetAtt instead"),
            );
        });
    }
    out
}

/// Each `Fn::If` once per branch (the other intrinsics stay skipped), so a value chosen by a
/// condition is checked too; `Ref: AWS::NoValue` removes the property: (variant, condition,
/// which branch).
fn if_variants(props: &Value) -> Vec<(Value, String, &'static str)> {
    let mut ifs = Vec::new();
    find_ifs(props, &mut Vec::new(), &mut ifs);
    let mut variants = Vec::new();
    for (path, condition, branches) in ifs.into_iter().take(MAX_IF_VARIANTS) {
        for (branch, when) in branches.iter().zip(["true", "false"]) {
            let mut variant = props.clone();
            let no_value = branch.get("Ref").and_then(Value::as_str) == Some("AWS::NoValue");
            if no_value {
                remove_at(&mut variant, &path);
            } else if let Some(slot) = at_mut(&mut variant, &path) {
                *slot = branch.clone();
            }
            variants.push((variant, condition.clone(), when));
        }
    }
    variants
}

/// Whether [`super::quick`] is sure the validator reports nothing for `props` and its variants.
fn surely_valid(schema: &ResourceSchema, props: &Value, variants: &[(Value, String, &str)]) -> bool {
    super::quick::surely_valid(schema.raw(), props)
        && variants
            .iter()
            .all(|(v, _, _)| super::quick::surely_valid(schema.raw(), v))
}

/// The compiled validator's findings for `props` (a properties object) and its `Fn::If`
/// variants: what [`validate_properties`] reports when [`super::quick`] is not sure.
#[cfg(test)]
pub(super) fn validator_findings(schema: &ResourceSchema, props: &Value) -> (bool, Vec<Finding>) {
    let variants = if_variants(props);
    (
        surely_valid(schema, props, &variants),
        schema_errors_with_variants(schema, "S", "/P", props, &variants),
    )
}

/// The compiled validator's findings for `props` and its `Fn::If` variants.
fn schema_errors_with_variants(
    schema: &ResourceSchema,
    stack: &str,
    base: &str,
    props: &Value,
    variants: &[(Value, String, &str)],
) -> Vec<Finding> {
    let present: Vec<&str> = props
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let narrowed = schema.validator_for(&present);
    let validator = match narrowed.as_ref() {
        Ok(v) => v,
        Err(e) => {
            return vec![Finding::new(
                Source::Schema,
                stack,
                base,
                format!("the vendored schema of {} does not compile: {e}", schema.type_name()),
            )];
        }
    };
    let mut out = schema_errors(validator, props, stack, base);
    for (variant, condition, when) in variants {
        for f in schema_errors(validator, variant, stack, base) {
            if !out
                .iter()
                .any(|o| o.pointer == f.pointer && o.message.starts_with(&f.message))
            {
                let message = format!("{} (when condition `{condition}` is {when})", f.message);
                out.push(Finding { message, ..f });
            }
        }
    }
    out
}

fn read_only_hits(node: &Value, parts: &[&str], pointer: &str, hit: &mut dyn FnMut(String)) {
    let Some((first, rest)) = parts.split_first() else {
        hit(pointer.to_string());
        return;
    };
    if *first == "*" {
        for (i, item) in node.as_array().into_iter().flatten().enumerate() {
            read_only_hits(item, rest, &format!("{pointer}/{i}"), hit);
        }
    } else if let Some(next) = node.get(*first) {
        read_only_hits(next, rest, &format!("{pointer}/{}", escape_pointer_token(first)), hit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_vendored_schema_parses_and_compiles() {
        for (name, _) in VENDORED {
            let schema = schema_for(name);
            assert!(schema.is_some(), "{name} did not parse");
            if let Some(s) = schema {
                assert_eq!(s.type_name(), *name);
                assert!(s.validator().is_ok(), "{name}: {:?}", s.validator().err());
                assert!(is_known_type(name));
            }
        }
        assert!(!is_known_type("AWS::S3::Buckett"));
        assert!(is_known_type("AWS::EC2::Instance"));
    }

    #[test]
    fn accessors_read_the_schema() {
        let Some(bucket) = schema_for("AWS::S3::Bucket") else {
            panic!("no bucket schema")
        };
        assert!(bucket.create_only_properties().iter().any(|p| p == "BucketName"));
        assert!(bucket.has_attribute("Arn"));
        assert!(bucket.has_attribute("RegionalDomainName"));
        assert_eq!(bucket.replacement(&["BucketName"]), Replacement::Always);
        assert_eq!(
            bucket.replacement(&["VersioningConfiguration", "Status"]),
            Replacement::Never
        );
        assert!(bucket.is_unordered(&["Tags"]));
        let Some(func) = schema_for("AWS::Lambda::Function") else {
            panic!("no function schema")
        };
        assert!(func.has_attribute("SnapStartResponse.ApplyOn"));
        let Some(topic) = schema_for("AWS::SNS::Topic") else {
            panic!("no topic schema")
        };
        assert!(topic.has_attribute("TopicName"));
        let Some(table) = schema_for("AWS::DynamoDB::Table") else {
            panic!("no table schema")
        };
        assert!(!table.conditional_create_only_properties().is_empty() || !table.create_only_properties().is_empty());
    }

    #[test]
    fn custom_keywords_fire() {
        let Ok(v) = jsonschema::options()
            .with_keyword("requiredXor", |_, v, _| {
                names(v).map(|n| Box::new(RequiredXor(n)) as Box<dyn for<'i> Keyword<'i>>)
            })
            .build(&json!({"requiredXor": ["A", "B"]}))
        else {
            panic!("compile")
        };
        assert!(v.is_valid(&json!({"A": 1})));
        assert!(!v.is_valid(&json!({"A": 1, "B": 2})));
        assert!(!v.is_valid(&json!({})));
    }

    #[test]
    fn unicode_property_patterns_compile_and_match() {
        let Some(role) = schema_for("AWS::IAM::Role") else {
            panic!("no role schema")
        };
        let Ok(v) = role.validator() else { panic!("compile") };
        let ok = json!({"AssumeRolePolicyDocument": {}, "Tags": [{"Key": "Équipe", "Value": "données"}]});
        assert!(v.is_valid(&ok));
        let bad = json!({"AssumeRolePolicyDocument": {}, "Tags": [{"Key": "a*b", "Value": "x"}]});
        assert!(!v.is_valid(&bad));
    }

    const SAMPLES: &[&str] = &[
        "",
        "a",
        "a b",
        "x*",
        "kiro-pipeline-test-artifacts",
        "arn:aws:iam::123456789012:role/kiro-pipeline-test-build",
        "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "alias/kiro-pipeline",
        "/aws/codebuild/kiro-pipeline-test-unit",
        "python3.14",
        "index.handler",
        "{\"a\": 1}",
        "Équipe",
        "données_1",
    ];

    /// The narrowed validators give the full schema's findings on every resource of the
    /// synthesized templates, and on each with an unknown key, a wrong type and a missing
    /// required property added.
    #[test]
    fn narrowed_validators_agree_with_the_full_schema() {
        let config = crate::config::Config::embedded().unwrap();
        let synthesis = crate::synth::synthesize(&config, &[]).unwrap();
        let mut compared = 0;
        for stack in &synthesis.stacks {
            for (id, resource) in stack.value["Resources"].as_object().unwrap() {
                let Some(schema) = resource["Type"].as_str().and_then(schema_for) else {
                    continue;
                };
                let props = resource.get("Properties").cloned().unwrap_or_else(|| json!({}));
                let mut variants = vec![props.clone()];
                let mut unknown = props.clone();
                unknown["NotAProperty"] = json!(1);
                variants.push(unknown);
                if let Some((first, _)) = props.as_object().and_then(|m| m.iter().next()) {
                    let mut wrong = props.clone();
                    wrong[first.as_str()] = json!({"Unexpected": [true]});
                    variants.push(wrong);
                    let mut missing = props.clone();
                    missing.as_object_mut().unwrap().remove(first);
                    variants.push(missing);
                }
                for v in &variants {
                    let present: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
                    let narrowed = schema.validator_for(&present);
                    let (Ok(full), Ok(narrow)) = (schema.validator(), narrowed.as_ref()) else {
                        panic!("{id}: a validator does not compile")
                    };
                    let a = schema_errors(full, v, "S", "/P");
                    let b = schema_errors(narrow, v, "S", "/P");
                    let text = |f: &[Finding]| {
                        f.iter()
                            .map(|f| format!("{} {}", f.pointer, f.message))
                            .collect::<Vec<_>>()
                    };
                    assert_eq!(text(&a), text(&b), "{} {id} on {v}", stack.name);
                    compared += 1;
                }
            }
        }
        assert!(compared > 400, "only {compared} comparisons");
    }

    #[test]
    fn every_vendored_pattern_compiles() {
        fn patterns(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Object(m) => {
                    for (k, c) in m {
                        match (k.as_str(), c) {
                            ("pattern", Value::String(p)) => out.push(python_regex_to_ecma(p)),
                            _ => patterns(c, out),
                        }
                    }
                }
                Value::Array(a) => a.iter().for_each(|c| patterns(c, out)),
                _ => {}
            }
        }
        let mut all = Vec::new();
        for (name, _) in VENDORED {
            let Some(s) = schema_for(name) else {
                panic!("{name} does not parse")
            };
            patterns(s.raw(), &mut all);
        }
        assert!(all.len() > 50, "only {} patterns found", all.len());
        for p in &all {
            let lazy = LazyPattern::new(p);
            let Some(re) = lazy.regex() else {
                panic!("pattern {p:?} does not translate")
            };
            // Compiles in the full engine (non-ASCII text goes there).
            assert!(re.compiles(), "pattern {p:?} does not compile");
            for s in SAMPLES {
                assert_eq!(re.is_match(s), re.is_match_full(s), "/{p}/ on {s:?}");
            }
        }
    }

    #[test]
    fn pattern_mismatch_is_reported_with_the_pattern() {
        let Some(role) = schema_for("AWS::IAM::Role") else {
            panic!("no role schema")
        };
        let Ok(v) = role.validator() else { panic!("compile") };
        let bad = json!({"AssumeRolePolicyDocument": {}, "RoleName": "a b"});
        let errors: Vec<_> = v.iter_errors(&bad).collect();
        let patterns: Vec<String> = errors.iter().filter_map(lazy_pattern_of).collect();
        assert_eq!(patterns, vec![r"^[\w+=,.@-]+$".to_string()], "{errors:?}");
    }
}
