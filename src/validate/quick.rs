//! The first pass of resource schema validation: an interpreter that walks a resource's
//! `Properties` and its raw schema together and answers one question, "would the full
//! validator report nothing here?", without compiling anything.
//!
//! Compiling a `jsonschema` validator costs far more than running it, and almost every resource
//! of a real template is valid. So [`super::schema::validate_properties`] asks this pass first
//! and compiles a validator only when the answer is not a sure yes: the findings, their wording
//! and their order still come from one place, the compiled validator.
//!
//! The answer must never be "valid" where the full validator reports something. Every draft-07
//! keyword the vendored schemas use is implemented with the validator's semantics; anything
//! this pass is not sure of (a keyword it does not implement, `1.0` against `integer`, a `$ref`
//! with sibling keywords, a value CloudFormation would coerce) answers [`Verdict::Unknown`], and
//! the caller falls back. A test runs both on every synthesized resource and on thousands of
//! mutated ones and checks that every "valid" here is valid there.

use std::sync::{Arc, Mutex, OnceLock};

use rustc_hash::FxHashMap;
use serde_json::{Map, Value};

use super::intrinsics::is_intrinsic;
use super::schema::{LazyPattern, custom_keyword_holds, normalised_pattern};

/// What the full validator would say of an instance.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Verdict {
    Valid,
    Invalid,
    /// Not decided here: ask the full validator.
    Unknown,
}

use Verdict::{Invalid, Unknown, Valid};

impl Verdict {
    /// Both hold (an `Invalid` wins over an `Unknown`).
    fn and(self, other: Verdict) -> Verdict {
        match (self, other) {
            (Invalid, _) | (_, Invalid) => Invalid,
            (Unknown, _) | (_, Unknown) => Unknown,
            _ => Valid,
        }
    }

    fn not(self) -> Verdict {
        match self {
            Valid => Invalid,
            Invalid => Valid,
            Unknown => Unknown,
        }
    }
}

/// How a value under a CloudFormation intrinsic (`{"Ref": ...}`, `{"Fn::Sub": ...}`) counts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// As [`super::schema`] reports: errors at or under an intrinsic are dropped, so an
    /// intrinsic satisfies any schema.
    Findings,
    /// As the validator itself decides (inside `anyOf`, `oneOf`, `allOf`, `not`, `if`, whose
    /// outcome depends on which branches really match): an intrinsic is a plain object.
    Plain,
}

/// Deeper schema/instance nesting than this is left to the full validator.
const MAX_DEPTH: usize = 64;

/// Whether the full validator (with the intrinsic and coercion handling of
/// [`super::schema`]) surely reports nothing for `properties` against the schema `root`.
pub(super) fn surely_valid(root: &Value, properties: &Value) -> bool {
    Walk { root }.check(root, properties, Mode::Findings, 0) == Valid
}

struct Walk<'r> {
    root: &'r Value,
}

impl Walk<'_> {
    fn check(&self, schema: &Value, inst: &Value, mode: Mode, depth: usize) -> Verdict {
        if depth > MAX_DEPTH {
            return Unknown;
        }
        if mode == Mode::Findings && is_intrinsic(inst) {
            return Valid;
        }
        let map = match schema {
            Value::Bool(true) => return Valid,
            Value::Bool(false) => return Invalid,
            Value::Object(map) => map,
            _ => return Unknown,
        };
        let mut verdict = Valid;
        if let Some(reference) = keyword(map, "$ref") {
            let Some(target) = reference
                .as_str()
                .and_then(|r| r.strip_prefix('#'))
                .and_then(|pointer| resolve_pointer(self.root, pointer))
            else {
                return Unknown;
            };
            match self.check(target, inst, mode, depth + 1) {
                Invalid => return Invalid,
                v => verdict = v,
            }
            // Whether draft 07's "siblings of `$ref` are ignored" holds is the validator's
            // business: when the siblings would decide the outcome, ask it.
            if self.keywords(map, inst, mode, depth) != Valid {
                return Unknown;
            }
            return verdict;
        }
        verdict = verdict.and(self.keywords(map, inst, mode, depth));
        verdict
    }

    /// Every keyword of one schema object (`$ref` aside).
    fn keywords(&self, map: &Map<String, Value>, inst: &Value, mode: Mode, depth: usize) -> Verdict {
        let mut verdict = Valid;
        for (key, arg) in map {
            let v = match key.as_str() {
                "$ref" => Valid,
                "type" => type_keyword(arg, inst),
                "enum" => match arg.as_array() {
                    Some(options) => member(options, inst),
                    None => Unknown,
                },
                "const" => member(std::slice::from_ref(arg), inst),
                "properties" | "additionalProperties" | "patternProperties" => {
                    // Done together, once, under whichever of them comes first.
                    if first_object_keyword(map) == key.as_str() {
                        self.object_members(map, inst, mode, depth)
                    } else {
                        Valid
                    }
                }
                "required" => match (inst.as_object(), arg.as_array()) {
                    (Some(obj), Some(names)) => {
                        if names.iter().all(|n| n.as_str().is_some_and(|n| obj.contains_key(n))) {
                            Valid
                        } else {
                            Invalid
                        }
                    }
                    (None, _) => Valid,
                    _ => Unknown,
                },
                "minProperties" | "maxProperties" => count_bound(key, inst.as_object().map(Map::len), arg),
                "dependencies" => self.dependencies(arg, inst, mode, depth),
                "items" => self.items(map, arg, inst, mode, depth),
                "additionalItems" => Valid, // with `items`
                "minItems" | "maxItems" => count_bound(key, inst.as_array().map(Vec::len), arg),
                "uniqueItems" => match (inst.as_array(), arg) {
                    (Some(items), Value::Bool(true)) => unique(items),
                    (_, Value::Bool(_)) | (None, _) => Valid,
                    _ => Unknown,
                },
                "minLength" | "maxLength" => count_bound(key, inst.as_str().map(|s| s.chars().count()), arg),
                "pattern" => match (inst.as_str(), arg.as_str()) {
                    (Some(s), Some(source)) => holds(pattern(source).matches_str(s)),
                    (None, _) => Valid,
                    _ => Unknown,
                },
                "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" => bound(key, arg, inst),
                "allOf" => self.all_of(arg, inst, depth),
                "anyOf" => self.any_of(arg, inst, depth),
                "oneOf" => self.one_of(arg, inst, depth),
                "not" => self.check(arg, inst, Mode::Plain, depth + 1).not(),
                "if" => match self.check(arg, inst, Mode::Plain, depth + 1) {
                    Valid => map
                        .get("then")
                        .map_or(Valid, |s| self.check(s, inst, Mode::Plain, depth + 1)),
                    Invalid => map
                        .get("else")
                        .map_or(Valid, |s| self.check(s, inst, Mode::Plain, depth + 1)),
                    Unknown => Unknown,
                },
                "then" | "else" => Valid, // with `if`
                "requiredXor" | "requiredOr" | "dependentExcluded" | "dependentRequired" | "uniqueKeys" => {
                    match custom_keyword_holds(key, arg, inst) {
                        Some(true) => Valid,
                        Some(false) => Invalid,
                        None => Unknown,
                    }
                }
                "prefixItems" => self.prefix_items(arg, inst, depth),
                // Draft-07 keywords the vendored schemas do not use: the validator decides.
                "contains" | "propertyNames" | "multipleOf" | "$id" => Unknown,
                // Annotations (`format` is not validated), AWS metadata, unknown keywords: the
                // validator ignores them too.
                _ => Valid,
            };
            verdict = verdict.and(v);
            if verdict == Invalid {
                return Invalid;
            }
        }
        verdict
    }

    /// `properties`, `patternProperties` and `additionalProperties` on an object.
    fn object_members(&self, map: &Map<String, Value>, inst: &Value, mode: Mode, depth: usize) -> Verdict {
        let Some(obj) = inst.as_object() else {
            return Valid;
        };
        let properties = keyword(map, "properties").and_then(Value::as_object);
        let patterns: Vec<(&str, &Value)> = match keyword(map, "patternProperties") {
            Some(Value::Object(p)) => p.iter().map(|(k, v)| (k.as_str(), v)).collect(),
            Some(_) => return Unknown,
            None => Vec::new(),
        };
        let additional = keyword(map, "additionalProperties");
        let mut verdict = Valid;
        for (name, value) in obj {
            let mut matched = false;
            if let Some(sub) = properties.and_then(|p| p.get(name)) {
                matched = true;
                verdict = verdict.and(self.check(sub, value, mode, depth + 1));
            }
            for (source, sub) in &patterns {
                if key_pattern(source).matches_str(name) {
                    matched = true;
                    verdict = verdict.and(self.check(sub, value, mode, depth + 1));
                }
            }
            if !matched && let Some(sub) = additional {
                verdict = verdict.and(self.check(sub, value, mode, depth + 1));
            }
            if verdict == Invalid {
                return Invalid;
            }
        }
        verdict
    }

    fn dependencies(&self, arg: &Value, inst: &Value, mode: Mode, depth: usize) -> Verdict {
        let (Some(obj), Some(deps)) = (inst.as_object(), arg.as_object()) else {
            return if inst.is_object() { Unknown } else { Valid };
        };
        let mut verdict = Valid;
        for (key, dep) in deps {
            if !obj.contains_key(key) {
                continue;
            }
            verdict = verdict.and(match dep {
                Value::Array(names) => holds(names.iter().all(|n| n.as_str().is_some_and(|n| obj.contains_key(n)))),
                schema => self.check(schema, inst, mode, depth + 1),
            });
        }
        verdict
    }

    fn items(&self, map: &Map<String, Value>, arg: &Value, inst: &Value, mode: Mode, depth: usize) -> Verdict {
        let Some(items) = inst.as_array() else {
            return Valid;
        };
        let mut verdict = Valid;
        match arg {
            Value::Array(schemas) => {
                for (item, schema) in items.iter().zip(schemas) {
                    verdict = verdict.and(self.check(schema, item, mode, depth + 1));
                }
                if let Some(extra) = map.get("additionalItems") {
                    for item in items.iter().skip(schemas.len()) {
                        verdict = verdict.and(self.check(extra, item, mode, depth + 1));
                    }
                }
            }
            schema => {
                for item in items {
                    verdict = verdict.and(self.check(schema, item, mode, depth + 1));
                    if verdict == Invalid {
                        break;
                    }
                }
            }
        }
        verdict
    }

    fn all_of(&self, arg: &Value, inst: &Value, depth: usize) -> Verdict {
        let Some(branches) = arg.as_array() else {
            return Unknown;
        };
        branches
            .iter()
            .fold(Valid, |v, b| v.and(self.check(b, inst, Mode::Plain, depth + 1)))
    }

    fn any_of(&self, arg: &Value, inst: &Value, depth: usize) -> Verdict {
        let Some(branches) = arg.as_array() else {
            return Unknown;
        };
        let mut verdict = Invalid;
        for b in branches {
            match self.check(b, inst, Mode::Plain, depth + 1) {
                Valid => return Valid,
                Unknown => verdict = Unknown,
                Invalid => {}
            }
        }
        verdict
    }

    fn one_of(&self, arg: &Value, inst: &Value, depth: usize) -> Verdict {
        let Some(branches) = arg.as_array() else {
            return Unknown;
        };
        let (mut valid, mut unknown) = (0, 0);
        for b in branches {
            match self.check(b, inst, Mode::Plain, depth + 1) {
                Valid => valid += 1,
                Unknown => unknown += 1,
                Invalid => {}
            }
        }
        match (valid, unknown) {
            (1, 0) => Valid,
            (v, _) if v > 1 => Invalid,
            (0, 0) => Invalid,
            _ => Unknown,
        }
    }

    /// Our `prefixItems` keyword (see [`super::schema`]): item i against schema i, intrinsic
    /// items skipped. Its item validators are plain draft 07, so only a pass is trusted here.
    fn prefix_items(&self, arg: &Value, inst: &Value, depth: usize) -> Verdict {
        let (Some(items), Some(schemas)) = (inst.as_array(), arg.as_array()) else {
            return if inst.is_array() { Unknown } else { Valid };
        };
        for (item, schema) in items.iter().zip(schemas) {
            if is_intrinsic(item) {
                continue;
            }
            if self.check(schema, item, Mode::Plain, depth + 1) != Valid {
                return Unknown;
            }
        }
        Valid
    }
}

/// One keyword of a schema object. Schema objects hold a handful of keys: comparing them beats
/// hashing the name (serde_json's maps hash with SipHash).
fn keyword<'s>(map: &'s Map<String, Value>, name: &str) -> Option<&'s Value> {
    map.iter().find(|(k, _)| k.as_str() == name).map(|(_, v)| v)
}

/// `minProperties`/`maxProperties`, `minItems`/`maxItems`, `minLength`/`maxLength`: `count` is
/// the instance's size when it is of the keyword's type (other types pass).
fn count_bound(key: &str, count: Option<usize>, arg: &Value) -> Verdict {
    match (count, arg.as_u64()) {
        (Some(n), Some(limit)) => holds(if key.starts_with("min") {
            n as u64 >= limit
        } else {
            n as u64 <= limit
        }),
        (None, _) => Valid,
        _ => Unknown,
    }
}

fn holds(ok: bool) -> Verdict {
    if ok { Valid } else { Invalid }
}

/// The first of the three object-member keywords in `map`'s order.
fn first_object_keyword(map: &Map<String, Value>) -> &str {
    map.keys()
        .map(String::as_str)
        .find(|k| matches!(*k, "properties" | "additionalProperties" | "patternProperties"))
        .unwrap_or("")
}

fn type_keyword(arg: &Value, inst: &Value) -> Verdict {
    match arg {
        Value::String(t) => type_is(t, inst),
        Value::Array(types) => {
            let mut verdict = Invalid;
            for t in types {
                match t.as_str().map(|t| type_is(t, inst)) {
                    Some(Valid) => return Valid,
                    Some(Invalid) => {}
                    _ => verdict = Unknown,
                }
            }
            verdict
        }
        _ => Unknown,
    }
}

fn type_is(t: &str, inst: &Value) -> Verdict {
    match (t, inst) {
        ("object", Value::Object(_))
        | ("array", Value::Array(_))
        | ("string", Value::String(_))
        | ("boolean", Value::Bool(_))
        | ("null", Value::Null)
        | ("number", Value::Number(_)) => Valid,
        ("integer", Value::Number(n)) if n.is_i64() || n.is_u64() => Valid,
        // `1.0`: whether it is an integer is the validator's call.
        ("integer", Value::Number(n)) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => Unknown,
        ("object" | "array" | "string" | "boolean" | "null" | "number" | "integer", _) => Invalid,
        _ => Unknown,
    }
}

/// `enum` / `const`, with the validator's own equality (numbers by value: `1 == 1.0`).
fn member(options: &[Value], inst: &Value) -> Verdict {
    holds(options.iter().any(|o| jsonschema_value::cmp::equal(o, inst)))
}

/// `uniqueItems: true`, with the validator's own equality.
fn unique(items: &[Value]) -> Verdict {
    holds(jsonschema_value::unique::is_unique(items))
}

fn bound(key: &str, arg: &Value, inst: &Value) -> Verdict {
    let Value::Number(n) = inst else {
        return Valid;
    };
    let Value::Number(limit) = arg else {
        return Unknown;
    };
    let ordering = match (n.as_i64(), limit.as_i64()) {
        (Some(a), Some(b)) => a.cmp(&b),
        _ => match (n.as_f64(), limit.as_f64()) {
            (Some(a), Some(b)) => match a.partial_cmp(&b) {
                // Equal as floats may differ as exact numbers: the validator decides.
                Some(std::cmp::Ordering::Equal) | None => return Unknown,
                Some(o) => o,
            },
            _ => return Unknown,
        },
    };
    use std::cmp::Ordering::{Equal, Greater, Less};
    holds(match key {
        "minimum" => ordering != Less,
        "maximum" => ordering != Greater,
        "exclusiveMinimum" => ordering == Greater,
        "exclusiveMaximum" => ordering == Less,
        _ => ordering == Equal,
    })
}

type Patterns = OnceLock<Mutex<FxHashMap<String, Arc<LazyPattern>>>>;

/// A schema's `pattern`, normalised and matched exactly as the validators' [`LazyPattern`]
/// keyword does; compiled once per process.
fn pattern(source: &str) -> Arc<LazyPattern> {
    static PATTERNS: Patterns = OnceLock::new();
    shared(&PATTERNS, source, || LazyPattern::new(&normalised_pattern(source)))
}

/// A `patternProperties` key: the validators take those as written (ECMA-262, translated the
/// same way, no Python normalisation).
fn key_pattern(source: &str) -> Arc<LazyPattern> {
    static PATTERNS: Patterns = OnceLock::new();
    shared(&PATTERNS, source, || LazyPattern::new(source))
}

fn shared(cache: &Patterns, source: &str, make: impl FnOnce() -> LazyPattern) -> Arc<LazyPattern> {
    let mut patterns = cache
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(p) = patterns.get(source) {
        return Arc::clone(p);
    }
    let p = Arc::new(make());
    patterns.insert(source.to_string(), Arc::clone(&p));
    p
}

#[cfg(test)]
mod tests {
    use super::super::schema::{schema_for, validator_findings};
    use super::*;
    use serde_json::json;

    /// Every node of `v` (pointer segments), the root included.
    fn paths(v: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(at.clone());
        match v {
            Value::Object(m) => {
                for (k, c) in m {
                    at.push(k.clone());
                    paths(c, at, out);
                    at.pop();
                }
            }
            Value::Array(a) => {
                for (i, c) in a.iter().enumerate() {
                    at.push(i.to_string());
                    paths(c, at, out);
                    at.pop();
                }
            }
            _ => {}
        }
    }

    fn pointer(path: &[String]) -> String {
        path.iter()
            .map(|s| format!("/{}", crate::findings::escape_pointer_token(s)))
            .collect()
    }

    /// Values put in place of a node: every JSON type, bounds (empty, long, fractional,
    /// whole floats, huge), strings CloudFormation coerces, non-ASCII text, intrinsics.
    fn replacements() -> Vec<Value> {
        vec![
            json!("x"),
            json!(""),
            json!("a b"),
            json!("x".repeat(2100)),
            json!("Équipe"),
            json!("30"),
            json!("true"),
            json!(0),
            json!(-1),
            json!(1.5),
            json!(1.0),
            json!(1e20),
            json!(true),
            json!(null),
            json!([]),
            json!({}),
            json!([{"Key": "k", "Value": "v"}]),
            json!({"Ref": "Other"}),
            json!({"Fn::If": ["IsProd", "a", {"Ref": "AWS::NoValue"}]}),
        ]
    }

    /// Mutations of one properties object at `path`: each replacement, the node removed, an
    /// unknown key added, an array item repeated or dropped.
    fn mutations(props: &Value, path: &[String]) -> Vec<Value> {
        let p = pointer(path);
        let mut out = Vec::new();
        for r in replacements() {
            let mut m = props.clone();
            if let Some(slot) = m.pointer_mut(&p) {
                *slot = r;
                out.push(m);
            }
        }
        if let Some((last, parent)) = path.split_last() {
            let parent = pointer(parent);
            let mut removed = props.clone();
            match removed.pointer_mut(&parent) {
                Some(Value::Object(map)) => {
                    map.shift_remove(last);
                }
                Some(Value::Array(items)) => {
                    if let Ok(i) = last.parse::<usize>()
                        && i < items.len()
                    {
                        items.remove(i);
                    }
                }
                _ => {}
            }
            out.push(removed);
            let mut repeated = props.clone();
            if let Some(Value::Array(items)) = repeated.pointer_mut(&parent)
                && let Some(item) = last.parse::<usize>().ok().and_then(|i| items.get(i)).cloned()
            {
                items.push(item);
                out.push(repeated);
            }
        }
        if let Some(Value::Object(map)) = props.pointer(&p) {
            let mut m = props.clone();
            let mut extended = map.clone();
            extended.insert("NotAProperty".into(), json!(1));
            if let Some(slot) = m.pointer_mut(&p) {
                *slot = Value::Object(extended);
            }
            out.push(m);
        }
        out
    }

    /// The interpreter never calls valid what the compiled validator reports: every resource
    /// of the synthesized templates (one environment per kind of stack) and every mutation of
    /// every node of each. It must also be useful: most of the valid cases are decided here.
    #[test]
    fn never_valid_where_the_validator_reports() {
        let config = crate::config::Config::embedded().unwrap();
        let synthesis = crate::synth::synthesize(&config, &["production".to_string()]).unwrap();
        let (mut sure, mut reported, mut missed_valid, mut total) = (0, 0, 0, 0);
        for stack in &synthesis.stacks {
            for (id, resource) in stack.value["Resources"].as_object().unwrap() {
                let Some(schema) = resource["Type"].as_str().and_then(schema_for) else {
                    continue;
                };
                let props = resource.get("Properties").cloned().unwrap_or_else(|| json!({}));
                let (valid, findings) = validator_findings(schema, &props);
                assert!(valid && findings.is_empty(), "{id}: {findings:?}");
                let mut all = Vec::new();
                paths(&props, &mut Vec::new(), &mut all);
                for path in all {
                    for m in mutations(&props, &path) {
                        if !m.is_object() {
                            continue;
                        }
                        let (valid, findings) = validator_findings(schema, &m);
                        total += 1;
                        if valid {
                            sure += 1;
                            assert!(
                                findings.is_empty(),
                                "{} {id}: called valid, the validator reports {:?}\non {m}",
                                stack.name,
                                findings
                                    .iter()
                                    .map(|f| format!("{} {}", f.pointer, f.message))
                                    .collect::<Vec<_>>()
                            );
                        } else if findings.is_empty() {
                            missed_valid += 1;
                        } else {
                            reported += 1;
                        }
                    }
                }
            }
        }
        eprintln!(
            "{total} cases: {sure} decided valid, {missed_valid} valid left to the validator, {reported} reported"
        );
        assert!(total > 5_000, "only {total} cases");
        assert!(reported > 1_000, "only {reported} cases with findings");
        assert!(
            sure > missed_valid * 2,
            "decided {sure} valid, left {missed_valid} valid ones to the validator"
        );
    }

    #[test]
    fn keyword_semantics() {
        let root = json!({
            "definitions": {"Tag": {"type": "object", "required": ["Key"], "properties": {"Key": {"type": "string", "maxLength": 3}}}},
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "Tags": {"type": "array", "uniqueItems": true, "items": {"$ref": "#/definitions/Tag"}},
                "N": {"type": "integer", "minimum": 1, "maximum": 5},
                "E": {"enum": ["a", 2]},
                "O": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                "A": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                "W": {"oneOf": [{"properties": {"K": {"type": "string"}}}, {"properties": {"K": {"type": "integer"}}}]},
                "P": {"type": "string", "pattern": "^[a-z]+\\Z"}
            },
            "requiredXor": ["N", "E"]
        });
        let ok = |v: Value| surely_valid(&root, &v);
        assert!(ok(json!({"N": 3, "Tags": [{"Key": "abc"}]})));
        assert!(
            !ok(json!({"N": 3, "Tags": [{"Key": "abcd"}]})),
            "maxLength through $ref"
        );
        assert!(
            !ok(json!({"N": 3, "Tags": [{"Key": "a"}, {"Key": "a"}]})),
            "uniqueItems"
        );
        assert!(!ok(json!({"N": 3, "Extra": 1})), "additionalProperties");
        assert!(!ok(json!({"N": 9})), "maximum");
        assert!(!ok(json!({"N": 1, "E": "a"})), "requiredXor");
        assert!(ok(json!({"E": 2.0})), "enum compares numbers by value");
        assert!(ok(json!({"N": 1, "O": 1, "A": "s"})));
        assert!(!ok(json!({"N": 1, "O": true})), "oneOf");
        assert!(ok(json!({"N": 1, "P": "abc"})), "Python \\Z means end of input");
        assert!(!ok(json!({"N": 1, "P": "ab1"})));
        assert!(ok(json!({"N": {"Ref": "Count"}})), "an intrinsic satisfies any schema");
        assert!(
            ok(json!({"N": 1, "O": {"Ref": "X"}})),
            "errors at an intrinsic are dropped"
        );
        assert!(
            !ok(json!({"N": 1, "W": {"K": {"Ref": "X"}}})),
            "an intrinsic deciding between branches: the validator decides"
        );
        assert!(!ok(json!({"N": 1.0})), "1.0 as an integer is the validator's call");
    }
}

/// `root.pointer(pointer)` (RFC 6901), without allocating when no token is escaped (`$ref`s are
/// `#/definitions/Name`, resolved at every use).
fn resolve_pointer<'v>(root: &'v Value, pointer: &str) -> Option<&'v Value> {
    if pointer.contains('~') {
        return root.pointer(pointer);
    }
    if pointer.is_empty() {
        return Some(root);
    }
    pointer
        .strip_prefix('/')?
        .split('/')
        .try_fold(root, |v, token| match v {
            Value::Object(map) => map.get(token),
            Value::Array(items) => {
                // As serde_json: no sign, no leading zero.
                let plain = !token.starts_with('+') && (token == "0" || !token.starts_with('0'));
                plain
                    .then(|| token.parse::<usize>().ok())
                    .flatten()
                    .and_then(|i| items.get(i))
            }
            _ => None,
        })
}

#[cfg(test)]
mod pointer_tests {
    use super::resolve_pointer;
    use serde_json::json;

    #[test]
    fn resolves_as_serde_json_does() {
        let doc = json!({"definitions": {"A": {"type": "string"}, "a/b": 1, "m~n": 2, "": 3},
                         "list": [10, 11, {"x": 12}], "01": 4});
        for p in [
            "",
            "/definitions",
            "/definitions/A",
            "/definitions/A/type",
            "/definitions/a~1b",
            "/definitions/m~0n",
            "/definitions/",
            "/list/0",
            "/list/2/x",
            "/list/01",
            "/list/+1",
            "/list/3",
            "/list/-1",
            "/01",
            "/nope",
            "nope",
            "/definitions/A/type/deeper",
            "//",
        ] {
            assert_eq!(resolve_pointer(&doc, p), doc.pointer(p), "{p}");
        }
    }
}
