//! Loading: embedded defaults <- config file, checked against the JSON Schema, then merged and
//! checked for meaning. Every problem is collected, so a user fixes them all in one go.

use super::lines::YamlText;
use super::{BUILTIN_ENVIRONMENTS, Config, DEFAULT_FILE, EnvConfig, LOG_RETENTION_DAYS, json_schema};
use crate::model::naming::Naming;
use indexmap::IndexMap;
use serde_json::{Map, Value};
use std::fmt;
use std::path::Path;

const DEFAULTS: [(&str, &str); 3] = [
    ("test", include_str!("defaults/test.yaml")),
    ("staging", include_str!("defaults/staging.yaml")),
    ("production", include_str!("defaults/production.yaml")),
];

/// One problem in a config file, located.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConfigProblem {
    /// Dotted path inside the file: `environments.production.alarms.failures_per_hour`.
    pub path: String,
    /// 1-based line in the file, when the path is written there.
    pub line: Option<usize>,
    pub message: String,
    /// The value found, as YAML/JSON text.
    pub found: Option<String>,
    /// What is accepted.
    pub expected: Option<String>,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}",
            if self.path.is_empty() {
                "(top level)"
            } else {
                &self.path
            },
            self.message
        )?;
        if let Some(found) = &self.found {
            write!(f, "\n      found:    {found}")?;
        }
        if let Some(expected) = &self.expected {
            write!(f, "\n      expected: {expected}")?;
        }
        Ok(())
    }
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: cannot read the config file: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}{}: not valid YAML: {message}", location.map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default())]
    Syntax {
        file: String,
        location: Option<(usize, usize)>,
        message: String,
    },
    #[error("{}", render_problems(file, problems))]
    Invalid { file: String, problems: Vec<ConfigProblem> },
    #[error("unknown environment `{name}`; known environments: {}", known.join(", "))]
    UnknownEnvironment { name: String, known: Vec<String> },
    #[error("internal error in the embedded defaults ({0}); please report it")]
    Embedded(String),
}

fn render_problems(file: &str, problems: &[ConfigProblem]) -> String {
    let mut out = format!(
        "{file}: {} problem{} in the configuration",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for p in problems {
        let at = p
            .line
            .map(|l| format!("{file}:{l}"))
            .unwrap_or_else(|| file.to_string());
        out.push_str(&format!("\n  {at}: {p}"));
    }
    out
}

/// Loads the configuration: `explicit` (from `--config`) must exist; without it,
/// `kiro-infra.yaml` in the working directory is used when present, else only the embedded
/// defaults.
pub fn load(explicit: Option<&Path>) -> Result<Config, ConfigError> {
    let path = match explicit {
        Some(p) => Some(p.to_path_buf()),
        None => Some(Path::new(DEFAULT_FILE).to_path_buf()).filter(|p| p.is_file()),
    };
    match path {
        None => load_str(None, None),
        Some(path) => {
            let file = path.display().to_string();
            let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Io {
                file: file.clone(),
                source,
            })?;
            load_str(Some(&text), Some(&file))
        }
    }
}

/// Loads the configuration from the text of a config file (`None`: embedded defaults only).
pub fn load_str(text: Option<&str>, file: Option<&str>) -> Result<Config, ConfigError> {
    let file_name = file.unwrap_or(DEFAULT_FILE).to_string();
    let mut defaults: IndexMap<&str, Value> = IndexMap::new();
    for (name, yaml) in DEFAULTS {
        let value: Value = serde_yaml::from_str(yaml).map_err(|e| ConfigError::Embedded(format!("{name}: {e}")))?;
        defaults.insert(name, value);
    }

    let user = match text {
        None => Value::Object(Map::new()),
        Some(text) => parse_yaml(text, &file_name)?,
    };
    // Problems look their lines up in one index of the text.
    let source = text.map(YamlText::new);
    let text = source.as_ref();

    // Without a file there is nothing to check against the schema (the embedded defaults are
    // checked by their own test), and compiling the schema is most of a load's time.
    let mut problems = match text {
        Some(source) => schema_problems(&user, source),
        None => Vec::new(),
    };
    if !problems.is_empty() {
        sort_problems(&mut problems);
        return Err(ConfigError::Invalid {
            file: file_name,
            problems,
        });
    }

    let shared = user.get("defaults").cloned();
    let overrides = user
        .get("environments")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut environments = IndexMap::new();
    let mut names: Vec<String> = BUILTIN_ENVIRONMENTS.iter().map(|s| s.to_string()).collect();
    names.extend(
        overrides
            .keys()
            .filter(|k| !BUILTIN_ENVIRONMENTS.contains(&k.as_str()))
            .cloned(),
    );

    for name in &names {
        let own = overrides.get(name);
        let base_name = if BUILTIN_ENVIRONMENTS.contains(&name.as_str()) {
            name.clone()
        } else {
            match own.and_then(|o| o.get("extends")) {
                Some(Value::String(b)) => b.clone(),
                _ => "test".to_string(),
            }
        };
        let Some(base) = defaults.get(base_name.as_str()) else {
            problems.push(problem(
                text,
                &["environments", name, "extends"],
                format!("unknown environment `{base_name}` to extend"),
                Some(format!("{base_name:?}")),
                Some(format!("one of: {}", BUILTIN_ENVIRONMENTS.join(", "))),
            ));
            continue;
        };
        let mut merged = base.clone();
        if let Some(shared) = &shared {
            merge(&mut merged, shared);
        }
        if let Some(own) = own {
            merge(&mut merged, own);
        }
        match serde_json::from_value::<EnvConfig>(merged) {
            Ok(env) => {
                problems.extend(semantic_problems(name, &env, text));
                environments.insert(name.clone(), env);
            }
            Err(e) => problems.push(problem(text, &["environments", name], e.to_string(), None, None)),
        }
    }

    if !problems.is_empty() {
        sort_problems(&mut problems);
        return Err(ConfigError::Invalid {
            file: file_name,
            problems,
        });
    }
    Ok(Config {
        environments,
        file: file.map(str::to_string),
    })
}

fn parse_yaml(text: &str, file: &str) -> Result<Value, ConfigError> {
    let yaml: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| ConfigError::Syntax {
        file: file.to_string(),
        location: e.location().map(|l| (l.line(), l.column())),
        message: e.to_string(),
    })?;
    let value = serde_json::to_value(&yaml).map_err(|e| ConfigError::Syntax {
        file: file.to_string(),
        location: None,
        message: format!("unsupported YAML value: {e}"),
    })?;
    Ok(if value.is_null() {
        Value::Object(Map::new())
    } else {
        value
    })
}

fn merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(slot) if slot.is_object() && v.is_object() => merge(slot, v),
                    _ => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}

fn sort_problems(problems: &mut Vec<ConfigProblem>) {
    problems.sort_by(|a, b| (a.line.unwrap_or(usize::MAX), &a.path).cmp(&(b.line.unwrap_or(usize::MAX), &b.path)));
    problems.dedup();
}

fn problem(
    text: Option<&YamlText<'_>>,
    path: &[&str],
    message: String,
    found: Option<String>,
    expected: Option<String>,
) -> ConfigProblem {
    let segments: Vec<String> = path.iter().map(|s| s.to_string()).collect();
    ConfigProblem {
        path: segments.join("."),
        line: text.and_then(|t| t.line_of(&segments)),
        message,
        found,
        expected,
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::Object(_) | Value::Array(_) => {
            let s = v.to_string();
            if s.len() > 60 {
                format!("{}...", &s[..s.floor_char_boundary(57)])
            } else {
                s
            }
        }
        other => other.to_string(),
    }
}

/// The sub-schema describing the value at `path`, following `properties`,
/// `additionalProperties` and `$ref`s.
fn subschema_at<'a>(root: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut node = resolve(root, root)?;
    for seg in path {
        let next = node
            .get("properties")
            .and_then(|p| p.get(seg))
            .or_else(|| node.get("additionalProperties").filter(|a| a.is_object()))?;
        node = resolve(root, next)?;
    }
    Some(node)
}

fn resolve<'a>(root: &'a Value, node: &'a Value) -> Option<&'a Value> {
    let mut node = node;
    for _ in 0..16 {
        if let Some(r) = node.get("$ref").and_then(Value::as_str) {
            node = root.pointer(r.strip_prefix('#')?)?;
        } else if let Some(first) = node.get("anyOf").and_then(Value::as_array).and_then(|a| {
            // `Option<T>`: anyOf [T, null]
            a.iter().find(|s| s.get("type").and_then(Value::as_str) != Some("null"))
        }) {
            node = first;
        } else {
            return Some(node);
        }
    }
    None
}

fn schema_problems(user: &Value, text: &YamlText<'_>) -> Vec<ConfigProblem> {
    let schema = json_schema();
    let validator = match jsonschema::draft202012::new(&schema) {
        Ok(v) => v,
        Err(e) => {
            return vec![ConfigProblem {
                path: String::new(),
                line: None,
                message: format!("internal error: the config schema does not compile: {e}"),
                found: None,
                expected: None,
            }];
        }
    };
    let mut out = Vec::new();
    for error in validator.iter_errors(user) {
        let pointer = error.instance_path().as_str().to_string();
        let mut segments: Vec<String> = pointer
            .split('/')
            .skip(1)
            .map(crate::findings::unescape_pointer_token)
            .filter(|s| !s.is_empty())
            .collect();
        let sub = subschema_at(&schema, &segments);
        let found = Some(show(error.instance()));
        use jsonschema::error::ValidationErrorKind as K;
        let (message, found, expected) = match error.kind() {
            K::AdditionalProperties { unexpected } => {
                let known: Vec<String> = sub
                    .and_then(|s| s.get("properties"))
                    .and_then(Value::as_object)
                    .map(|p| p.keys().cloned().collect())
                    .unwrap_or_default();
                for key in unexpected {
                    let mut path = segments.clone();
                    path.push(key.clone());
                    let suggestion = closest(key, &known);
                    let message = match &suggestion {
                        Some(s) => format!("unknown key `{key}`; did you mean `{s}`?"),
                        None => format!("unknown key `{key}`"),
                    };
                    let refs: Vec<&str> = path.iter().map(String::as_str).collect();
                    out.push(problem(
                        Some(text),
                        &refs,
                        message,
                        None,
                        Some(format!("one of: {}", known.join(", "))),
                    ));
                }
                continue;
            }
            K::Type { kind } => (format!("wrong type: expected {}", type_name(kind)), found, None),
            K::Minimum { .. } | K::Maximum { .. } | K::ExclusiveMinimum { .. } | K::ExclusiveMaximum { .. } => {
                let min = sub.and_then(|s| s.get("minimum")).map(Value::to_string);
                let max = sub.and_then(|s| s.get("maximum")).map(Value::to_string);
                let expected = match (min, max) {
                    (Some(a), Some(b)) => format!("a whole number from {a} to {b}"),
                    (Some(a), None) => format!("a whole number of at least {a}"),
                    (None, Some(b)) => format!("a whole number of at most {b}"),
                    (None, None) => error.to_string(),
                };
                ("out of range".to_string(), found, Some(expected))
            }
            K::Pattern { pattern } => (
                "not a valid value".to_string(),
                found,
                Some(format!("a string matching `{pattern}`")),
            ),
            K::MinLength { limit } => (
                "too short".to_string(),
                found,
                Some(format!("at least {limit} characters")),
            ),
            K::MaxLength { limit } => (
                "too long".to_string(),
                found,
                Some(format!("at most {limit} characters")),
            ),
            K::Enum { options } => {
                let list: Vec<String> = options
                    .as_array()
                    .map(|a| a.iter().map(show).collect())
                    .unwrap_or_else(|| vec![show(options)]);
                (
                    "not one of the accepted values".to_string(),
                    found,
                    Some(format!("one of: {}", list.join(", "))),
                )
            }
            K::AnyOf { .. } | K::OneOfNotValid { .. } => {
                // `Option<T>` or enums: describe the expected shape from the schema.
                let expected = sub.and_then(|s| s.get("enum")).map(|e| format!("one of: {}", show(e)));
                (
                    "not an accepted value".to_string(),
                    found,
                    expected.or(Some(error.to_string())),
                )
            }
            _ => (error.to_string(), found, None),
        };
        if segments.is_empty() {
            segments = Vec::new();
        }
        let refs: Vec<&str> = segments.iter().map(String::as_str).collect();
        out.push(problem(Some(text), &refs, message, found, expected));
    }
    out
}

fn type_name(kind: &jsonschema::error::TypeKind) -> String {
    match kind {
        jsonschema::error::TypeKind::Single(t) => article(&t.to_string()),
        jsonschema::error::TypeKind::Multiple(ts) => {
            let names: Vec<String> = ts.iter().map(|t| t.to_string()).collect();
            names.join(" or ")
        }
    }
}

fn article(t: &str) -> String {
    match t {
        "integer" => "a whole number".into(),
        "object" => "a mapping (key: value)".into(),
        "array" => "a list".into(),
        "boolean" => "true or false".into(),
        "string" => "a string".into(),
        "number" => "a number".into(),
        other => other.into(),
    }
}

/// The known key closest to `key`, when it is close enough to be a typo.
fn closest(key: &str, known: &[String]) -> Option<String> {
    known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(key, k), k))
        .filter(|(d, k)| *d <= 3.max(k.len() / 3) && *d < k.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k.clone())
}

fn semantic_problems(name: &str, env: &EnvConfig, text: Option<&YamlText<'_>>) -> Vec<ConfigProblem> {
    let mut out = Vec::new();
    fn join<'a>(name: &'a str, path: &[&'a str]) -> Vec<&'a str> {
        let mut v = vec!["environments", name];
        v.extend_from_slice(path);
        v
    }
    let at = |path: &[&'static str]| join(name, path);
    let valid_name = name.len() <= 20
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-')
        && !name.contains("--");
    if !valid_name {
        out.push(problem(
            text,
            &["environments", name],
            "not a valid environment name".into(),
            Some(format!("{name:?}")),
            Some("1-20 lower-case letters, digits and single `-`, starting with a letter".into()),
        ));
        return out;
    }
    if !LOG_RETENTION_DAYS.contains(&env.logs.retention_days) {
        let next = LOG_RETENTION_DAYS.iter().find(|d| **d > env.logs.retention_days);
        out.push(problem(
            text,
            &at(&["logs", "retention_days"]),
            format!(
                "CloudWatch Logs does not accept this retention{}",
                next.map(|n| format!(" (the next accepted value is {n})"))
                    .unwrap_or_default()
            ),
            Some(env.logs.retention_days.to_string()),
            Some(format!(
                "one of: {}",
                LOG_RETENTION_DAYS
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        ));
    }
    if env.artifacts.expire_days <= env.artifacts.transition_to_ia_days {
        out.push(problem(
            text,
            &at(&["artifacts", "expire_days"]),
            "artifacts would expire before (or when) they move to STANDARD_IA".into(),
            Some(env.artifacts.expire_days.to_string()),
            Some(format!(
                "more than transition_to_ia_days ({})",
                env.artifacts.transition_to_ia_days
            )),
        ));
    }
    if name == "production" {
        if !env.pipeline.manual_approval {
            out.push(problem(
                text,
                &at(&["pipeline", "manual_approval"]),
                "manual approval is mandatory in production".into(),
                Some("false".into()),
                Some("true".into()),
            ));
        }
        if env.logs.retention_days < 90 {
            out.push(problem(
                text,
                &at(&["logs", "retention_days"]),
                "production keeps logs at least 90 days".into(),
                Some(env.logs.retention_days.to_string()),
                Some("90 or more".into()),
            ));
        }
    }
    if (name == "production" || name == "staging") && !env.retain_stateful {
        out.push(problem(
            text,
            &at(&["retain_stateful"]),
            format!("{name} must keep its stateful resources (key, bucket, table, logs) on delete or replace"),
            Some("false".into()),
            Some("true".into()),
        ));
    }
    let naming = Naming::new(&env.prefix, name);
    let bad: Vec<String> = naming
        .all_names()
        .into_iter()
        .filter_map(|(kind, generated)| {
            kind.check(&generated)
                .err()
                .map(|why| format!("{} `{generated}`: {why}", kind.describe()))
        })
        .collect();
    if !bad.is_empty() {
        // Point at where the prefix is written: the environment's own, the shared defaults, or
        // (prefix not set in the file) the environment's name.
        let set_here = text.is_some_and(|t| {
            t.line_of(&["environments", name, "prefix"])
                .is_some_and(|l| t.line_of(&["environments", name]) != Some(l))
        });
        let in_defaults = text.is_some_and(|t| {
            t.line_of(&["defaults", "prefix"])
                .is_some_and(|l| t.line_of(&["defaults"]) != Some(l))
        });
        let path: Vec<&str> = if set_here {
            at(&["prefix"])
        } else if in_defaults {
            vec!["defaults", "prefix"]
        } else {
            vec!["environments", name]
        };
        let mut message = format!(
            "prefix `{}` with environment `{name}` makes {} generated name{} invalid: {}",
            env.prefix,
            bad.len(),
            if bad.len() == 1 { "" } else { "s" },
            bad.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
        );
        if bad.len() > 3 {
            message.push_str(&format!("; and {} more", bad.len() - 3));
        }
        out.push(problem(
            text,
            &path,
            message,
            Some(format!("{:?} ({} characters)", env.prefix, env.prefix.len())),
            Some(format!(
                "a prefix of at most {} characters for this environment name",
                max_prefix(name)
            )),
        ));
    }
    out
}

/// The longest prefix whose generated names are all valid for environment `name`.
fn max_prefix(name: &str) -> usize {
    (1..=63usize)
        .rev()
        .find(|n| {
            let naming = Naming::new(&"a".repeat(*n), name);
            naming
                .all_names()
                .into_iter()
                .all(|(kind, generated)| kind.check(&generated).is_ok())
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_defaults_load() {
        let c = load_str(None, None).unwrap();
        assert_eq!(
            c.environments.keys().collect::<Vec<_>>(),
            ["test", "staging", "production"]
        );
        assert!(c.environments["production"].pipeline.manual_approval);
        assert_eq!(c.environments["test"].logs.retention_days, 30);
    }

    #[test]
    fn embedded_defaults_pass_the_config_schema() {
        // `load` skips the schema when there is no file; this is what makes that safe.
        let mut environments = Map::new();
        for (name, yaml) in DEFAULTS {
            let Ok(v) = parse_yaml(yaml, name) else {
                panic!("{name} does not parse")
            };
            environments.insert(name.to_string(), v);
        }
        let user = serde_json::json!({ "environments": environments });
        let text = serde_json::to_string(&user).unwrap_or_default();
        assert_eq!(schema_problems(&user, &YamlText::new(&text)), vec![]);
        // ... and the check is not vacuous.
        let bad = serde_json::json!({ "environments": { "test": { "alarms": { "failures_per_hour": "x" } } } });
        assert!(!schema_problems(&bad, &YamlText::new("")).is_empty());
    }

    #[test]
    fn overrides_merge_and_add_environments() {
        let text = "environments:\n  production:\n    alarms:\n      failures_per_hour: 4\n  dev-eu:\n    extends: staging\n    region: eu-west-1\n";
        let c = load_str(Some(text), Some("k.yaml")).unwrap();
        assert_eq!(c.environments["production"].alarms.failures_per_hour, 4);
        assert_eq!(c.environments["production"].alarms.rollbacks_per_hour, 2);
        assert_eq!(c.environments["dev-eu"].region, "eu-west-1");
        assert_eq!(c.environments["dev-eu"].logs.retention_days, 90);
    }

    #[test]
    fn every_problem_is_reported_with_path_and_line() {
        let text = "environments:\n  production:\n    alarms:\n      failures_per_hour: 9\n    alrms: {}\n";
        let err = load_str(Some(text), Some("k.yaml")).unwrap_err();
        let ConfigError::Invalid { problems, .. } = err else {
            panic!("{err}")
        };
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(problems[0].path, "environments.production.alarms.failures_per_hour");
        assert_eq!(problems[0].line, Some(4));
        assert!(
            problems[1].message.contains("did you mean `alarms`"),
            "{:?}",
            problems[1]
        );
    }

    #[test]
    fn thousands_of_problems_each_get_their_own_line() {
        // One index of the file serves every problem (it used to be one scan per problem).
        let mut text = String::from("environments:\n  test:\n");
        for i in 0..3000 {
            text.push_str(&format!("    key{i}: 1\n"));
        }
        let err = load_str(Some(&text), Some("k.yaml")).unwrap_err();
        let ConfigError::Invalid { problems, .. } = err else {
            panic!("{err}")
        };
        assert_eq!(problems.len(), 3000);
        for problem in &problems {
            let i: usize = problem
                .path
                .trim_start_matches("environments.test.key")
                .parse()
                .expect("a key's path");
            assert_eq!(problem.line, Some(i + 3), "{problem:?}");
        }
    }
}
