//! `kiro-infra diff`: what a deploy will change, computed offline from two templates.
//!
//! Stages, all on `serde_json::Value` templates in the long form `crate::template_io` produces:
//! - [`normalise`]: JSON held in strings, set-like arrays, masking of secrets;
//! - [`structural`]: the value diff that yields [`PropertyChange`]s;
//! - this module: per stack, Parameters / Mappings / Conditions / Resources / Outputs, the
//!   replacement verdicts (create-only properties, type change, logical-id change, and their
//!   propagation through `Ref` / `Fn::GetAtt` / `Fn::Sub` into dependents' create-only properties);
//! - [`iam`]: IAM statements added and removed, and whether permissions broaden;
//! - [`render`]: text, JSON and Markdown, pure functions returning `String`;
//! - [`baseline`]: where the "before" side comes from (synth directory, file, deployed stack).
//!
//! Schema facts (create-only properties, unordered arrays) come through the [`SchemaFacts`]
//! trait; [`BuiltinFacts`] is a small table for tests and for use before the vendored schemas.

pub mod baseline;
pub mod iam;
pub mod normalise;
pub mod render;
pub mod structural;

use indexmap::{IndexMap, IndexSet};
use serde::Serialize;
use serde_json::{Map, Value};

pub use iam::IamChange;

/// What the diff needs to know about a resource type from its CloudFormation schema.
///
/// Every path is a JSON pointer relative to the resource's `Properties` (`/BucketName`,
/// `/KeySchema`, `/Tags`), `*` standing for any array item (`/Policies/*/PolicyName`). The
/// schema form `/properties/X/Y` is accepted too (the `/properties` prefix is dropped).
pub trait SchemaFacts {
    /// `createOnlyProperties`: a change replaces the resource.
    fn create_only(&self, type_name: &str) -> Vec<String>;
    /// `conditionalCreateOnlyProperties`: a change may replace the resource.
    fn conditional_create_only(&self, type_name: &str) -> Vec<String>;
    /// Arrays with `insertionOrder: false`: compared as sets.
    fn unordered_arrays(&self, type_name: &str) -> Vec<String>;
}

/// A small built-in table of schema facts for the resource types the fixtures and the pipeline
/// use. Not a replacement for the vendored schemas.
#[derive(Debug, Clone, Default)]
pub struct BuiltinFacts;

impl BuiltinFacts {
    fn row(
        type_name: &str,
    ) -> (
        &'static [&'static str],
        &'static [&'static str],
        &'static [&'static str],
    ) {
        match type_name {
            "AWS::S3::Bucket" => (&["/BucketName", "/ObjectLockEnabled"], &[], &["/Tags"]),
            "AWS::S3::BucketPolicy" => (&["/Bucket"], &[], &[]),
            "AWS::SNS::Topic" => (&["/TopicName", "/FifoTopic"], &[], &["/Tags", "/Subscription"]),
            "AWS::SNS::TopicPolicy" => (&[], &[], &["/Topics"]),
            "AWS::SQS::Queue" => (&["/QueueName", "/FifoQueue"], &[], &["/Tags"]),
            "AWS::SQS::QueuePolicy" => (&[], &[], &["/Queues"]),
            "AWS::DynamoDB::Table" => (
                &["/TableName", "/KeySchema"],
                &["/AttributeDefinitions"],
                &["/Tags", "/AttributeDefinitions", "/GlobalSecondaryIndexes"],
            ),
            "AWS::IAM::Role" => (
                &["/RoleName", "/Path"],
                &[],
                &["/Tags", "/ManagedPolicyArns", "/Policies"],
            ),
            "AWS::IAM::Policy" => (&[], &[], &["/Roles", "/Users", "/Groups"]),
            "AWS::IAM::ManagedPolicy" => (
                &["/ManagedPolicyName", "/Path", "/Description"],
                &[],
                &["/Roles", "/Users", "/Groups"],
            ),
            "AWS::KMS::Key" => (&[], &[], &["/Tags"]),
            "AWS::KMS::Alias" => (&["/AliasName"], &[], &[]),
            "AWS::Lambda::Function" => (&["/FunctionName"], &[], &["/Tags"]),
            "AWS::Lambda::Permission" => (
                &[
                    "/Action",
                    "/EventSourceToken",
                    "/FunctionName",
                    "/Principal",
                    "/SourceAccount",
                    "/SourceArn",
                ],
                &[],
                &[],
            ),
            "AWS::Logs::LogGroup" => (&["/LogGroupName"], &[], &["/Tags"]),
            "AWS::CloudWatch::Alarm" => (&["/AlarmName"], &[], &["/AlarmActions", "/OKActions", "/Dimensions"]),
            "AWS::CloudWatch::Dashboard" => (&["/DashboardName"], &[], &[]),
            "AWS::Events::Rule" => (&["/Name", "/EventBusName"], &[], &[]),
            "AWS::CodeBuild::Project" => (&["/Name"], &[], &["/Tags"]),
            "AWS::CodePipeline::Pipeline" => (&["/Name"], &[], &["/Tags"]),
            "AWS::SecretsManager::Secret" => (&["/Name"], &[], &["/Tags"]),
            "AWS::EC2::Instance" => (
                &["/AvailabilityZone", "/ImageId", "/SubnetId"],
                &["/InstanceType", "/UserData"],
                &["/Tags", "/SecurityGroupIds"],
            ),
            _ => (&[], &[], &[]),
        }
    }
}

impl SchemaFacts for BuiltinFacts {
    fn create_only(&self, type_name: &str) -> Vec<String> {
        Self::row(type_name).0.iter().map(|s| s.to_string()).collect()
    }
    fn conditional_create_only(&self, type_name: &str) -> Vec<String> {
        Self::row(type_name).1.iter().map(|s| s.to_string()).collect()
    }
    fn unordered_arrays(&self, type_name: &str) -> Vec<String> {
        Self::row(type_name).2.iter().map(|s| s.to_string()).collect()
    }
}

/// What happens to one resource (or parameter, output, condition, mapping).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Add,
    Update,
    Replace,
    MayReplace,
    Remove,
}

impl Action {
    /// The plan symbol: `+ ~ -/+ ~? -`.
    pub fn symbol(self) -> &'static str {
        match self {
            Action::Add => "+",
            Action::Update => "~",
            Action::Replace => "-/+",
            Action::MayReplace => "~?",
            Action::Remove => "-",
        }
    }
}

/// Replacement verdict, ordered: `Never < Conditional < Always`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Replacement {
    #[default]
    Never,
    Conditional,
    Always,
}

/// Why a resource is (or may be) replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReplacementReason {
    /// A create-only property changed; `conditional` for `conditionalCreateOnlyProperties`.
    CreateOnlyProperty { path: String, conditional: bool },
    /// The resource type changed.
    TypeChange { before: String, after: String },
    /// The logical id changed (same type, same properties).
    LogicalIdChange { from: String, to: String },
    /// A create-only property references a resource that is replaced.
    ReferenceReplaced {
        path: String,
        target: String,
        conditional: bool,
    },
}

/// The kind of a change at one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Add,
    Remove,
    Modify,
    /// A set-like array whose elements are the same, in another order.
    Reorder,
}

/// One change inside a resource (or a parameter, output, ...).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PropertyChange {
    /// JSON pointer relative to the entry: `/Properties/BucketName`, `/DependsOn`. Array
    /// indices are positions in the current template, except for removed items (positions in
    /// the baseline).
    pub path: String,
    /// When the change is inside JSON held in a string: the pointer inside that JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json_path: Option<String>,
    pub kind: ChangeKind,
    pub before: Option<Value>,
    pub after: Option<Value>,
    /// A secret or dynamic reference was masked in `before`/`after`.
    pub masked: bool,
    /// Set when this change replaces the resource (`always`) or may (`conditional`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forces_replacement: Option<Replacement>,
}

/// One resource's change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceChange {
    pub logical_id: String,
    #[serde(rename = "type")]
    pub resource_type: String,
    pub action: Action,
    /// The logical id in the baseline when the resource was renamed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
    /// Removed from the stack but kept in the account (`DeletionPolicy: Retain`).
    pub retained: bool,
    /// Only set-like arrays were reordered: not counted as a change.
    pub reorder_only: bool,
    pub replacement: Replacement,
    pub reasons: Vec<ReplacementReason>,
    pub changes: Vec<PropertyChange>,
}

/// A Parameter, Mapping, Condition, Output or top-level template key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntryChange {
    pub name: String,
    pub action: Action,
    pub changes: Vec<PropertyChange>,
}

/// What the diff did not show in full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Hidden {
    /// Changes whose values were masked (secrets, dynamic references).
    pub masked: usize,
    /// Set-like arrays reported as "reordered only".
    pub reordered: usize,
    /// JSON held in strings that differs only in formatting (not shown).
    pub reformatted: usize,
}

/// Counts for the footer and the gates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Summary {
    pub add: usize,
    pub change: usize,
    pub replace: usize,
    pub may_replace: usize,
    pub remove: usize,
    pub retained: usize,
    /// Parameters, outputs, conditions, mappings and template keys changed.
    pub other: usize,
    pub iam_added: usize,
    pub iam_removed: usize,
    pub broadened: bool,
}

impl Summary {
    /// Anything that a deploy would change.
    pub fn has_changes(&self) -> bool {
        self.add
            + self.change
            + self.replace
            + self.may_replace
            + self.remove
            + self.other
            + self.iam_added
            + self.iam_removed
            > 0
    }

    fn add(&mut self, o: &Summary) {
        self.add += o.add;
        self.change += o.change;
        self.replace += o.replace;
        self.may_replace += o.may_replace;
        self.remove += o.remove;
        self.retained += o.retained;
        self.other += o.other;
        self.iam_added += o.iam_added;
        self.iam_removed += o.iam_removed;
        self.broadened |= o.broadened;
    }
}

/// Whether the stack exists on each side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StackStatus {
    /// No baseline: everything is added.
    New,
    /// In the baseline only: everything is removed.
    Removed,
    Changed,
    Unchanged,
}

/// The diff of one stack.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StackDiff {
    pub stack: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    pub status: StackStatus,
    pub template: Vec<EntryChange>,
    pub parameters: Vec<EntryChange>,
    pub mappings: Vec<EntryChange>,
    pub conditions: Vec<EntryChange>,
    pub resources: Vec<ResourceChange>,
    pub outputs: Vec<EntryChange>,
    pub iam: Vec<IamChange>,
    pub hidden: Hidden,
    pub summary: Summary,
}

impl StackDiff {
    /// `env/Stack` or `Stack`.
    pub fn title(&self) -> String {
        match &self.environment {
            Some(env) => format!("{env}/{}", self.stack),
            None => self.stack.clone(),
        }
    }
}

/// The diff of every stack compared, in the order given.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiffReport {
    pub version: u32,
    pub stacks: Vec<StackDiff>,
    pub summary: Summary,
}

impl DiffReport {
    /// Builds a report from per-stack diffs, totalling the summaries.
    pub fn new(stacks: Vec<StackDiff>) -> Self {
        let mut summary = Summary::default();
        for s in &stacks {
            summary.add(&s.summary);
        }
        DiffReport {
            version: 1,
            stacks,
            summary,
        }
    }

    /// Any change at all (for `--detailed-exitcode`).
    pub fn has_changes(&self) -> bool {
        self.summary.has_changes()
    }
    /// Any resource replaced or possibly replaced (for `--fail-on replace`).
    pub fn has_replacements(&self) -> bool {
        self.summary.replace + self.summary.may_replace > 0
    }
    /// Any resource removed, retained or not (for `--fail-on remove`).
    pub fn has_removals(&self) -> bool {
        self.summary.remove > 0
    }
    /// Any IAM permission broadened (for `--fail-on broadening`).
    pub fn has_broadening(&self) -> bool {
        self.summary.broadened
    }
}

/// One side of a stack comparison.
#[derive(Debug, Clone, Copy)]
pub struct StackSides<'a> {
    pub stack: &'a str,
    pub environment: Option<&'a str>,
    /// `None`: the stack has no baseline (new stack).
    pub before: Option<&'a Value>,
    /// `None`: the stack is gone from the current templates.
    pub after: Option<&'a Value>,
}

const SECTIONS: [&str; 5] = ["Parameters", "Mappings", "Conditions", "Resources", "Outputs"];

/// Diffs one stack's templates.
pub fn diff_stack(sides: StackSides<'_>, facts: &dyn SchemaFacts) -> StackDiff {
    let empty = Value::Object(Map::new());
    let before = sides.before.unwrap_or(&empty);
    let after = sides.after.unwrap_or(&empty);
    let mut hidden = Hidden::default();

    let empty_map = Map::new();

    // Top-level keys other than the sections (Description, Transform, Metadata, ...).
    let mut template = Vec::new();
    let keys: IndexSet<&String> = object_keys(before).chain(object_keys(after)).collect();
    for key in keys {
        if SECTIONS.contains(&key.as_str()) {
            continue;
        }
        // The format version of a stack that is new or removed is not news.
        if key == "AWSTemplateFormatVersion" && (before.get(key).is_none() || after.get(key).is_none()) {
            continue;
        }
        if let Some(e) = entry_change(key, before.get(key), after.get(key), &mut hidden) {
            template.push(e);
        }
    }
    let entries = |name: &str, hidden: &mut Hidden| -> Vec<EntryChange> {
        let (b, a) = (
            section_of(before, name, &empty_map),
            section_of(after, name, &empty_map),
        );
        let keys: IndexSet<&String> = b.keys().chain(a.keys()).collect();
        keys.into_iter()
            .filter_map(|k| entry_change(k, b.get(k), a.get(k), hidden))
            .collect()
    };
    let parameters = entries("Parameters", &mut hidden);
    let mappings = entries("Mappings", &mut hidden);
    let conditions = entries("Conditions", &mut hidden);
    let outputs = entries("Outputs", &mut hidden);

    let before_res = section_of(before, "Resources", &empty_map);
    let after_res = section_of(after, "Resources", &empty_map);
    let resources = diff_resources(before_res, after_res, facts, &mut hidden);
    let iam = iam::diff_iam(before_res, after_res);

    let mut summary = Summary::default();
    for r in &resources {
        match r.action {
            Action::Add => summary.add += 1,
            Action::Update if r.reorder_only => {}
            Action::Update => summary.change += 1,
            Action::Replace => summary.replace += 1,
            Action::MayReplace => summary.may_replace += 1,
            Action::Remove => {
                summary.remove += 1;
                if r.retained {
                    summary.retained += 1;
                }
            }
        }
    }
    summary.other = template.len() + parameters.len() + mappings.len() + conditions.len() + outputs.len();
    summary.iam_added = iam.iter().filter(|c| c.change == iam::StatementChange::Added).count();
    summary.iam_removed = iam.iter().filter(|c| c.change == iam::StatementChange::Removed).count();
    summary.broadened = iam.iter().any(|c| c.broadened);

    let status = match (sides.before, sides.after) {
        (None, Some(_)) => StackStatus::New,
        (Some(_), None) => StackStatus::Removed,
        _ if summary.has_changes() => StackStatus::Changed,
        _ => StackStatus::Unchanged,
    };
    StackDiff {
        stack: sides.stack.to_string(),
        environment: sides.environment.map(str::to_string),
        status,
        template,
        parameters,
        mappings,
        conditions,
        resources,
        outputs,
        iam,
        hidden,
        summary,
    }
}

/// Diffs every pair and totals the result.
pub fn diff_stacks(pairs: &[StackSides<'_>], facts: &(dyn SchemaFacts + Sync)) -> DiffReport {
    // Stacks are independent: diffed on every core, reported in pair order.
    DiffReport::new(crate::par::map(pairs, |p| diff_stack(*p, facts)))
}

fn section_of<'a>(t: &'a Value, name: &str, empty: &'a Map<String, Value>) -> &'a Map<String, Value> {
    t.get(name).and_then(Value::as_object).unwrap_or(empty)
}

fn object_keys(v: &Value) -> impl Iterator<Item = &String> {
    v.as_object().into_iter().flat_map(|m| m.keys())
}

fn entry_change(name: &str, before: Option<&Value>, after: Option<&Value>, hidden: &mut Hidden) -> Option<EntryChange> {
    let rules = structural::Rules::default();
    let (action, changes) = match (before, after) {
        (None, None) => return None,
        (None, Some(a)) => (
            Action::Add,
            vec![structural::whole(ChangeKind::Add, None, Some(a), name, hidden)],
        ),
        (Some(b), None) => (
            Action::Remove,
            vec![structural::whole(ChangeKind::Remove, Some(b), None, name, hidden)],
        ),
        (Some(b), Some(a)) => {
            if b == a {
                return None;
            }
            let mut out = Vec::new();
            structural::diff_values(b, a, &rules, name, &mut out, hidden);
            if out.is_empty() {
                return None;
            }
            (Action::Update, out)
        }
    };
    Some(EntryChange {
        name: name.to_string(),
        action,
        changes,
    })
}

fn type_of(resource: &Value) -> &str {
    resource.get("Type").and_then(Value::as_str).unwrap_or("")
}

fn properties_of(resource: &Value) -> Option<&Value> {
    resource.get("Properties")
}

/// Path patterns for the schema facts, split into tokens (`*` for items).
fn patterns(paths: Vec<String>) -> Vec<Vec<String>> {
    paths
        .into_iter()
        .map(|p| {
            let p = p.strip_prefix("/properties").unwrap_or(&p).to_string();
            p.split('/')
                .skip(1)
                .map(crate::findings::unescape_pointer_token)
                .collect()
        })
        .collect()
}

struct TypeFacts {
    create_only: Vec<Vec<String>>,
    conditional: Vec<Vec<String>>,
    unordered: Vec<Vec<String>>,
}

fn type_facts<'a>(cache: &'a mut IndexMap<String, TypeFacts>, facts: &dyn SchemaFacts, t: &str) -> &'a TypeFacts {
    cache.entry(t.to_string()).or_insert_with(|| TypeFacts {
        create_only: patterns(facts.create_only(t)),
        conditional: patterns(facts.conditional_create_only(t)),
        unordered: patterns(facts.unordered_arrays(t)),
    })
}

/// Does a change at `tokens` (relative to Properties, items as `*`) touch a pattern?
/// Either may be the prefix of the other: replacing a whole `KeySchema` touches
/// `/KeySchema/*/AttributeName`, and a change inside `/BucketName/...` touches `/BucketName`.
fn touches(tokens: &[String], pattern: &[String]) -> bool {
    tokens.iter().zip(pattern.iter()).all(|(t, p)| p == t || p == "*")
}

/// Tokens of a change path under `/Properties`, items as `*`; `None` when not a property.
fn property_tokens(path: &str) -> Option<Vec<String>> {
    let rest = path.strip_prefix("/Properties/")?;
    Some(
        rest.split('/')
            .map(|t| {
                if t.parse::<usize>().is_ok() {
                    "*".to_string()
                } else {
                    crate::findings::unescape_pointer_token(t)
                }
            })
            .collect(),
    )
}

fn verdict_for(tokens: &[String], tf: &TypeFacts) -> Option<Replacement> {
    if tf.create_only.iter().any(|p| touches(tokens, p)) {
        Some(Replacement::Always)
    } else if tf.conditional.iter().any(|p| touches(tokens, p)) {
        Some(Replacement::Conditional)
    } else {
        None
    }
}

fn is_retained(resource: &Value) -> bool {
    matches!(
        resource.get("DeletionPolicy").and_then(Value::as_str),
        Some("Retain") | Some("RetainExceptOnCreate")
    )
}

fn diff_resources(
    before: &Map<String, Value>,
    after: &Map<String, Value>,
    facts: &dyn SchemaFacts,
    hidden: &mut Hidden,
) -> Vec<ResourceChange> {
    let mut cache: IndexMap<String, TypeFacts> = IndexMap::new();

    // Renames: a removed resource and an added resource of the same type with equal properties.
    let removed: Vec<(&String, &Value)> = before.iter().filter(|(k, _)| !after.contains_key(*k)).collect();
    let added: Vec<(&String, &Value)> = after.iter().filter(|(k, _)| !before.contains_key(*k)).collect();
    let mut renamed_to: IndexMap<&String, &String> = IndexMap::new(); // after id -> before id
    let mut renamed_from: IndexSet<&String> = IndexSet::new();
    if !removed.is_empty() && !added.is_empty() {
        for (a, av) in &added {
            let found = removed.iter().find(|(r, bv)| {
                !renamed_from.contains(*r) && type_of(bv) == type_of(av) && properties_of(bv) == properties_of(av)
            });
            if let Some((r, _)) = found {
                renamed_from.insert(r);
                renamed_to.insert(a, r);
            }
        }
    }

    let mut changes: IndexMap<String, ResourceChange> = IndexMap::new();
    for (id, bv) in before {
        let Some(av) = after.get(id) else {
            if renamed_from.contains(id) {
                continue;
            }
            changes.insert(
                id.clone(),
                ResourceChange {
                    logical_id: id.clone(),
                    resource_type: type_of(bv).to_string(),
                    action: Action::Remove,
                    renamed_from: None,
                    retained: is_retained(bv),
                    reorder_only: false,
                    replacement: Replacement::Never,
                    reasons: vec![],
                    changes: vec![],
                },
            );
            continue;
        };
        if bv == av {
            continue;
        }
        let (bt, at) = (type_of(bv), type_of(av));
        let tf = type_facts(&mut cache, facts, at);
        let rules = structural::Rules {
            unordered: tf.unordered.clone(),
            resource_level: true,
        };
        let mut out = Vec::new();
        structural::diff_values(bv, av, &rules, "", &mut out, hidden);
        let mut reasons = Vec::new();
        let mut verdict = Replacement::Never;
        if bt != at {
            verdict = Replacement::Always;
            reasons.push(ReplacementReason::TypeChange {
                before: bt.to_string(),
                after: at.to_string(),
            });
            for c in out.iter_mut().filter(|c| c.path == "/Type") {
                c.forces_replacement = Some(Replacement::Always);
            }
        } else {
            for c in out.iter_mut() {
                if c.kind == ChangeKind::Reorder {
                    continue;
                }
                let Some(tokens) = property_tokens(&c.path) else {
                    continue;
                };
                if let Some(v) = verdict_for(&tokens, tf) {
                    c.forces_replacement = Some(v);
                    verdict = verdict.max(v);
                    reasons.push(ReplacementReason::CreateOnlyProperty {
                        path: c.path.clone(),
                        conditional: v == Replacement::Conditional,
                    });
                }
            }
        }
        if out.is_empty() && verdict == Replacement::Never {
            continue;
        }
        let reorder_only = !out.is_empty() && out.iter().all(|c| c.kind == ChangeKind::Reorder);
        changes.insert(
            id.clone(),
            ResourceChange {
                logical_id: id.clone(),
                resource_type: at.to_string(),
                action: action_for(verdict),
                renamed_from: None,
                retained: false,
                reorder_only,
                replacement: verdict,
                reasons: dedup(reasons),
                changes: out,
            },
        );
    }
    for (id, av) in after {
        if before.contains_key(id) {
            continue;
        }
        let rc = match renamed_to.get(id) {
            Some(from) => ResourceChange {
                logical_id: id.clone(),
                resource_type: type_of(av).to_string(),
                action: Action::Replace,
                renamed_from: Some((*from).clone()),
                retained: false,
                reorder_only: false,
                replacement: Replacement::Always,
                reasons: vec![ReplacementReason::LogicalIdChange {
                    from: (*from).clone(),
                    to: id.clone(),
                }],
                changes: vec![],
            },
            None => ResourceChange {
                logical_id: id.clone(),
                resource_type: type_of(av).to_string(),
                action: Action::Add,
                renamed_from: None,
                retained: false,
                reorder_only: false,
                replacement: Replacement::Never,
                reasons: vec![],
                changes: vec![],
            },
        };
        changes.insert(id.clone(), rc);
    }

    propagate(before, after, facts, &mut cache, &mut changes);

    // Destructive first, template order within each group.
    let rank = |a: Action| match a {
        Action::Replace => 0,
        Action::Remove => 1,
        Action::MayReplace => 2,
        Action::Update => 3,
        Action::Add => 4,
    };
    let mut list: Vec<ResourceChange> = changes.into_values().collect();
    list.sort_by_key(|r| (rank(r.action), r.reorder_only));
    list
}

fn action_for(v: Replacement) -> Action {
    match v {
        Replacement::Always => Action::Replace,
        Replacement::Conditional => Action::MayReplace,
        Replacement::Never => Action::Update,
    }
}

fn dedup(reasons: Vec<ReplacementReason>) -> Vec<ReplacementReason> {
    let mut out: Vec<ReplacementReason> = Vec::with_capacity(reasons.len());
    for r in reasons {
        if !out.contains(&r) {
            out.push(r);
        }
    }
    out
}

/// Replacement propagates: a create-only property that references (`Ref`, `Fn::GetAtt`,
/// `Fn::Sub`) a replaced resource gets a new value, so its resource is replaced too. Runs to a
/// fixpoint over the current template; resources that exist on both sides only.
fn propagate(
    before: &Map<String, Value>,
    after: &Map<String, Value>,
    facts: &dyn SchemaFacts,
    cache: &mut IndexMap<String, TypeFacts>,
    changes: &mut IndexMap<String, ResourceChange>,
) {
    if !changes
        .values()
        .any(|c| matches!(c.action, Action::Replace | Action::MayReplace))
    {
        return;
    }
    // (dependent, property path, target, verdict of the property)
    let mut edges: Vec<(String, String, String, Replacement)> = Vec::new();
    for (id, av) in after {
        if !before.contains_key(id) {
            continue;
        }
        let tf = type_facts(cache, facts, type_of(av));
        if tf.create_only.is_empty() && tf.conditional.is_empty() {
            continue;
        }
        let Some(props) = properties_of(av).and_then(Value::as_object) else {
            continue;
        };
        let mut refs = Vec::new();
        for (k, v) in props {
            let mut path = format!("/Properties/{}", crate::findings::escape_pointer_token(k));
            normalise::collect_references(v, &mut path, &mut refs);
        }
        for (path, target) in refs {
            if let Some(tokens) = property_tokens(&path)
                && let Some(v) = verdict_for(&tokens, tf)
            {
                edges.push((id.clone(), path, target, v));
            }
        }
    }
    if edges.is_empty() {
        return;
    }
    loop {
        let mut changed = false;
        for (dep, path, target, prop_verdict) in &edges {
            let target_verdict = match changes.get(target) {
                Some(rc) if matches!(rc.action, Action::Replace | Action::MayReplace) => rc.replacement,
                _ => continue,
            };
            let v = (*prop_verdict).min(target_verdict);
            let reason = ReplacementReason::ReferenceReplaced {
                path: path.clone(),
                target: target.clone(),
                conditional: v == Replacement::Conditional,
            };
            let rc = changes.entry(dep.clone()).or_insert_with(|| ResourceChange {
                logical_id: dep.clone(),
                resource_type: after.get(dep).map(type_of).unwrap_or("").to_string(),
                action: Action::Update,
                renamed_from: None,
                retained: false,
                reorder_only: false,
                replacement: Replacement::Never,
                reasons: vec![],
                changes: vec![],
            });
            if !rc.reasons.contains(&reason) {
                rc.reasons.push(reason);
                changed = true;
            }
            if v > rc.replacement {
                rc.replacement = v;
                rc.action = action_for(v);
                rc.reorder_only = false;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn diff(before: Value, after: Value) -> StackDiff {
        diff_stack(
            StackSides {
                stack: "S",
                environment: None,
                before: Some(&before),
                after: Some(&after),
            },
            &BuiltinFacts,
        )
    }

    #[test]
    fn create_only_change_replaces_and_propagates_through_ref() {
        let before = json!({"Resources": {
            "B": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "a"}},
            "P": {"Type": "AWS::S3::BucketPolicy", "Properties": {"Bucket": {"Ref": "B"}, "PolicyDocument": {}}},
            "Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "q"}}
        }});
        let mut after = before.clone();
        after["Resources"]["B"]["Properties"]["BucketName"] = json!("b");
        let d = diff(before, after);
        assert_eq!(d.resources.len(), 2);
        assert_eq!(d.resources[0].logical_id, "B");
        assert_eq!(d.resources[0].action, Action::Replace);
        assert_eq!(d.resources[1].logical_id, "P");
        assert_eq!(d.resources[1].action, Action::Replace);
        assert!(matches!(
            &d.resources[1].reasons[0],
            ReplacementReason::ReferenceReplaced { target, .. } if target == "B"
        ));
        assert_eq!(d.summary.replace, 2);
    }

    #[test]
    fn rename_is_a_replacement_with_the_old_id() {
        let before = json!({"Resources": {"Old": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "x"}}}});
        let after = json!({"Resources": {"New": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "x"}}}});
        let d = diff(before, after);
        assert_eq!(d.resources.len(), 1);
        assert_eq!(d.resources[0].renamed_from.as_deref(), Some("Old"));
        assert_eq!(d.resources[0].action, Action::Replace);
    }

    #[test]
    fn touches_matches_prefixes_and_items() {
        let p = |s: &str| patterns(vec![s.to_string()]).remove(0);
        assert!(touches(&p("/KeySchema"), &p("/KeySchema/*/AttributeName")));
        assert!(touches(&p("/KeySchema/*/AttributeName"), &p("/KeySchema")));
        assert!(touches(&p("/BucketName"), &p("/properties/BucketName")));
        assert!(!touches(&p("/BucketNameX"), &p("/BucketName")));
    }
}
