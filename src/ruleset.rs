//! Rule sets: the built-in `rules/*.guard` (compiled in) and the user's rules files, each rule's
//! doc block (id, title, severity, profile, peers, what/why/fix), profiles, and running a rule
//! set on one template with suppressions honoured.

use crate::findings::{Finding, Severity, Source};
use crate::guard::{self, GuardError, RulesFile, Status};
use serde::Serialize;
use serde_json::Value;
use std::path::Path;

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// The opt-in profiles of `optional` rules.
pub const PROFILES: [&str; 4] = ["nist-800-53", "pci-dss", "hipaa", "serverless"];

/// When a rule runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Profile {
    /// On for every synth and check.
    Default,
    /// On when one of these profiles is selected.
    Optional(Vec<String>),
    /// Only when asked for by id.
    Off,
}

/// [`Profile`] in reports (`{"kind": "optional", "profiles": [...]}`), and as a plain enum in
/// formats that do not describe themselves (the pre-parsed built-in rules): those cannot read
/// the tagged form back.
#[derive(Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "profiles", rename_all = "lowercase")]
enum TaggedProfile<P> {
    Default,
    Optional(P),
    Off,
}

#[derive(Serialize, serde::Deserialize)]
enum PlainProfile<P> {
    Default,
    Optional(P),
    Off,
}

impl Serialize for Profile {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match (self, s.is_human_readable()) {
            (Profile::Default, true) => TaggedProfile::<&[String]>::Default.serialize(s),
            (Profile::Optional(ps), true) => TaggedProfile::Optional(ps).serialize(s),
            (Profile::Off, true) => TaggedProfile::<&[String]>::Off.serialize(s),
            (Profile::Default, false) => PlainProfile::<&[String]>::Default.serialize(s),
            (Profile::Optional(ps), false) => PlainProfile::Optional(ps).serialize(s),
            (Profile::Off, false) => PlainProfile::<&[String]>::Off.serialize(s),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Profile {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(if d.is_human_readable() {
            match TaggedProfile::deserialize(d)? {
                TaggedProfile::Default => Profile::Default,
                TaggedProfile::Optional(ps) => Profile::Optional(ps),
                TaggedProfile::Off => Profile::Off,
            }
        } else {
            match PlainProfile::deserialize(d)? {
                PlainProfile::Default => Profile::Default,
                PlainProfile::Optional(ps) => Profile::Optional(ps),
                PlainProfile::Off => Profile::Off,
            }
        })
    }
}

/// A rule's documentation, from the comment block above it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RuleDoc {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub profile: Profile,
    pub rows: Vec<String>,
    pub peers: Vec<String>,
    pub what: String,
    pub why: String,
    pub fix: String,
    /// The rules file (`builtin:s3.guard` or a path).
    pub file: String,
    pub line: usize,
}

/// A parsed rules file with the docs of its rules.
#[derive(Debug)]
pub struct LoadedRules {
    pub name: String,
    pub source: String,
    pub rules: RulesFile,
    pub docs: Vec<RuleDoc>,
}

#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error(transparent)]
    Guard(#[from] GuardError),
    #[error("{path}: cannot read rules: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: no .guard files found")]
    Empty { path: String },
    /// A thread that checks templates stopped before its work was done (it panicked, and the
    /// panic is resumed first): a bug, reported as an error rather than a second panic.
    #[error("internal error: {what} did not finish; please report this")]
    Unfinished { what: &'static str },
    #[error("unknown profile `{name}`; profiles: {}", PROFILES.join(", "))]
    UnknownProfile { name: String },
    #[error("unknown rule id `{id}`{}; see `kiro-infra rules list`", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownRule { id: String, suggestion: Option<String> },
    #[error("{file}:{line}: bad rule doc: {message}")]
    Doc { file: String, line: usize, message: String },
    /// The built-in rules cannot be stored in their pre-parsed form (`precompile_builtin`).
    #[error("cannot store the parsed built-in rules: {0}")]
    Precompile(#[source] postcard::Error),
}

/// What to run: which rules files, which profiles, which extra rule ids.
#[derive(Debug)]
pub struct RuleSet {
    pub files: Vec<LoadedRules>,
    pub profiles: Vec<String>,
    /// Rules asked for by id (turns on `off` and `optional` rules too).
    pub enabled: Vec<String>,
}

impl RuleSet {
    /// The built-in rules.
    pub fn builtin() -> Result<Vec<LoadedRules>, RulesError> {
        BUILTIN_RULES.iter().map(load_builtin).collect()
    }

    /// Every rule doc of the set, in file order.
    pub fn docs(&self) -> impl Iterator<Item = &RuleDoc> {
        self.files.iter().flat_map(|f| f.docs.iter())
    }

    pub fn new(files: Vec<LoadedRules>, profiles: Vec<String>, enabled: Vec<String>) -> Result<RuleSet, RulesError> {
        for p in &profiles {
            if !PROFILES.contains(&p.as_str()) {
                return Err(RulesError::UnknownProfile { name: p.clone() });
            }
        }
        let set = RuleSet {
            files,
            profiles,
            enabled,
        };
        for id in &set.enabled {
            if set.find(id).is_none() {
                return Err(set.unknown(id));
            }
        }
        Ok(set)
    }

    pub fn find(&self, id: &str) -> Option<&RuleDoc> {
        self.docs().find(|d| d.id == id)
    }

    pub fn unknown(&self, id: &str) -> RulesError {
        let suggestion = self
            .docs()
            .map(|d| (strsim::levenshtein(&d.id.to_lowercase(), &id.to_lowercase()), &d.id))
            .filter(|(dist, _)| *dist <= 4)
            .min_by_key(|(dist, _)| *dist)
            .map(|(_, id)| id.clone());
        RulesError::UnknownRule {
            id: id.to_string(),
            suggestion,
        }
    }

    /// Whether a rule's result counts in this run. Rules without a doc block (users' own
    /// rules) always run.
    pub fn is_enabled(&self, file: &LoadedRules, rule: &str) -> bool {
        if self.enabled.iter().any(|e| e == rule) {
            return true;
        }
        match file.docs.iter().find(|d| d.id == rule).map(|d| &d.profile) {
            None | Some(Profile::Default) => true,
            Some(Profile::Optional(ps)) => ps.iter().any(|p| self.profiles.contains(p)),
            Some(Profile::Off) => false,
        }
    }
}

/// Loads `.guard` files from a file or a directory (its `*.guard` files, sorted).
pub fn load_path(path: &Path) -> Result<Vec<LoadedRules>, RulesError> {
    let io = |source| RulesError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut files = Vec::new();
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .map_err(io)?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "guard"))
            .collect();
        entries.sort();
        if entries.is_empty() {
            return Err(RulesError::Empty {
                path: path.display().to_string(),
            });
        }
        for p in entries {
            let text = std::fs::read_to_string(&p).map_err(|source| RulesError::Io {
                path: p.display().to_string(),
                source,
            })?;
            files.push(load_source(&p.display().to_string(), &text)?);
        }
    } else {
        let text = std::fs::read_to_string(path).map_err(io)?;
        files.push(load_source(&path.display().to_string(), &text)?);
    }
    Ok(files)
}

/// One of [`BUILTIN_RULES`] (named `builtin:<file>`), from its pre-parsed form when that was
/// made from this source (`PRECOMPILED`, `rules/builtin.postcard`), else parsed.
///
/// # Errors
/// As [`load_source`] (a test keeps the built-in rules parsing).
pub fn load_builtin(file: &(&str, &str)) -> Result<LoadedRules, RulesError> {
    let (name, source) = *file;
    match precompiled(name, source) {
        Some(Precompiled { rules, docs }) => Ok(LoadedRules {
            name: format!("builtin:{name}"),
            source: source.to_string(),
            rules,
            docs,
        }),
        None => parse_builtin(file),
    }
}

/// One of [`BUILTIN_RULES`], parsed from its source.
fn parse_builtin((name, source): &(&str, &str)) -> Result<LoadedRules, RulesError> {
    load_source(&format!("builtin:{name}"), source)
}

/// The built-in rules files parsed ahead of time (`rules/builtin.postcard`): per file, its name,
/// the source it was parsed from, and its [`Precompiled`] form in postcard. Loading that form
/// takes 40% of the instructions of parsing the source (a cold synth loads all fourteen files).
///
/// It is only a shortcut: a file whose source differs from the one compiled into the binary, or
/// a form that does not load (the syntax tree changed shape), is parsed from its source. The
/// test `ruleset::tests::precompiled_rules_are_fresh` rewrites the file when it is stale (and
/// fails, so that the change is committed).
static PRECOMPILED: &[u8] = include_bytes!("../rules/builtin.postcard");

/// What [`PRECOMPILED`] keeps of a rules file.
#[derive(Serialize, serde::Deserialize)]
struct Precompiled {
    rules: RulesFile,
    docs: Vec<RuleDoc>,
}

/// One file of [`PRECOMPILED`]: (file name, source, postcard of its [`Precompiled`]).
type PrecompiledFile<'a> = (&'a str, &'a [u8], &'a [u8]);

fn precompiled(name: &str, source: &str) -> Option<Precompiled> {
    let files: Vec<PrecompiledFile<'static>> = postcard::from_bytes(PRECOMPILED).ok()?;
    let (_, compiled_from, form) = files.into_iter().find(|(n, _, _)| *n == name)?;
    if compiled_from != source.as_bytes() {
        return None;
    }
    postcard::from_bytes(form).ok()
}

/// The contents of `rules/builtin.postcard` for the current [`BUILTIN_RULES`].
///
/// # Errors
/// A built-in rules file that does not parse.
pub fn precompile_builtin() -> Result<Vec<u8>, RulesError> {
    let mut forms = Vec::new();
    for file @ (name, source) in BUILTIN_RULES {
        let loaded = parse_builtin(file)?;
        let form = Precompiled {
            rules: loaded.rules,
            docs: loaded.docs,
        };
        forms.push((
            *name,
            source.as_bytes(),
            postcard::to_allocvec(&form).map_err(RulesError::Precompile)?,
        ));
    }
    let files: Vec<PrecompiledFile<'_>> = forms.iter().map(|(n, s, f)| (*n, *s, f.as_slice())).collect();
    postcard::to_allocvec(&files).map_err(RulesError::Precompile)
}

/// Parses a rules file and its doc blocks.
pub fn load_source(name: &str, source: &str) -> Result<LoadedRules, RulesError> {
    let rules = guard::parse_rules(source, name)?;
    let docs = parse_docs(source, name)?;
    Ok(LoadedRules {
        name: name.to_string(),
        source: source.to_string(),
        rules,
        docs,
    })
}

/// Reads the `# @id ...` doc blocks of a rules file. A file without any is fine (users' rules).
pub fn parse_docs(source: &str, file: &str) -> Result<Vec<RuleDoc>, RulesError> {
    let mut docs = Vec::new();
    let lines: Vec<&str> = source.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let Some(id) = lines[i].trim().strip_prefix("# @id ") else {
            i += 1;
            continue;
        };
        let start = i + 1;
        let mut fields: Vec<(String, String)> = vec![("id".into(), id.trim().to_string())];
        i += 1;
        while i < lines.len() {
            let l = lines[i];
            if let Some(rest) = l.strip_prefix("# @") {
                let (k, v) = rest.split_once(' ').unwrap_or((rest, ""));
                fields.push((k.to_string(), v.trim().to_string()));
            } else if let Some(cont) = l.strip_prefix("#  ") {
                if let Some(last) = fields.last_mut() {
                    last.1.push(' ');
                    last.1.push_str(cont.trim());
                }
            } else {
                break;
            }
            i += 1;
        }
        let get = |k: &str| fields.iter().find(|(f, _)| f == k).map(|(_, v)| v.clone());
        let need = |k: &str| {
            get(k).ok_or_else(|| RulesError::Doc {
                file: file.into(),
                line: start,
                message: format!("missing @{k}"),
            })
        };
        let severity = match need("severity")?.as_str() {
            "error" => Severity::Error,
            "warning" => Severity::Warning,
            other => {
                return Err(RulesError::Doc {
                    file: file.into(),
                    line: start,
                    message: format!("severity `{other}`"),
                });
            }
        };
        let profile_text = need("profile")?;
        let profile = match profile_text.as_str() {
            "default" => Profile::Default,
            "off" => Profile::Off,
            other => match other.strip_prefix("optional:") {
                Some(list) => Profile::Optional(list.split(',').map(|s| s.trim().to_string()).collect()),
                None => {
                    return Err(RulesError::Doc {
                        file: file.into(),
                        line: start,
                        message: format!("profile `{other}`"),
                    });
                }
            },
        };
        docs.push(RuleDoc {
            id: need("id")?,
            title: need("title")?,
            severity,
            profile,
            rows: get("rows")
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_string)
                .collect(),
            peers: get("peers")
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_string)
                .collect(),
            what: need("what")?,
            why: need("why")?,
            fix: need("fix")?,
            file: file.to_string(),
            line: start,
        });
    }
    Ok(docs)
}

/// One rule's result on one template, with violations as findings.
#[derive(Debug, Clone)]
pub struct RuleRun {
    pub rule: String,
    pub file: String,
    pub status: Status,
    pub violations: Vec<Finding>,
}

/// A suppression found in a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppression {
    pub logical_id: String,
    pub rule: String,
    pub reason: Option<String>,
}

/// The `Metadata.guard.SuppressedRules` of every resource, with the reasons written beside them
/// in `Metadata.guard.SuppressionReasons` (`{rule id: reason}`).
pub fn suppressions(template: &Value) -> Vec<Suppression> {
    let mut out = Vec::new();
    let Some(resources) = template.get("Resources").and_then(Value::as_object) else {
        return out;
    };
    for (id, r) in resources {
        let Some(guard) = r.get("Metadata").and_then(|m| m.get("guard")) else {
            continue;
        };
        let rules: Vec<&str> = match guard.get("SuppressedRules") {
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            Some(Value::String(s)) => vec![s.as_str()],
            _ => Vec::new(),
        };
        for rule in rules {
            let reason = guard
                .get("SuppressionReasons")
                .and_then(|r| r.get(rule))
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string);
            out.push(Suppression {
                logical_id: id.clone(),
                rule: rule.to_string(),
                reason,
            });
        }
    }
    out
}

/// Runs every enabled rule of `set` on `template`; `stack` names it in findings, `line_of` maps
/// a JSON pointer to a line of the template's text.
pub fn run(
    set: &RuleSet,
    stack: &str,
    template: &Value,
    line_of: &dyn Fn(&str) -> Option<usize>,
) -> Result<Vec<RuleRun>, RulesError> {
    let mut runs = Vec::new();
    let parsed: Vec<&RulesFile> = set.files.iter().map(|f| &f.rules).collect();
    // Rules the profiles leave off are not evaluated at all.
    let wanted = |i: usize, name: &str| set.files.get(i).is_some_and(|file| set.is_enabled(file, name));
    let evaluations = guard::evaluate_many_where(&parsed, template, &wanted)?;
    for (file, evaluation) in set.files.iter().zip(evaluations) {
        for result in evaluation.rules {
            let doc = file.docs.iter().find(|d| d.id == result.name);
            let violations = if result.status == Status::Fail {
                // Nested clauses report the same spot more than once: keep one finding per
                // pointer, preferring the rule's own message (it starts with its id).
                let mut seen: Vec<&guard::Violation> = Vec::new();
                for v in &result.violations {
                    let own = |x: &guard::Violation| {
                        x.message
                            .as_deref()
                            .is_some_and(|m| m.trim_start().starts_with(&result.name))
                    };
                    match seen.iter().position(|s| s.pointer == v.pointer) {
                        Some(i) if !own(seen[i]) && own(v) => seen[i] = v,
                        Some(_) => {}
                        None => seen.push(v),
                    }
                }
                seen.into_iter()
                    .map(|v| {
                        let message = v
                            .message
                            .clone()
                            .map(|m| m.trim().to_string())
                            .or_else(|| doc.map(|d| d.title.clone()))
                            .unwrap_or_else(|| format!("rule {} failed ({})", result.name, v.operator));
                        let mut f = Finding::new(
                            Source::Guard {
                                rule: result.name.clone(),
                                file: file.name.clone(),
                            },
                            stack,
                            v.pointer.clone(),
                            message,
                        );
                        if doc.is_some_and(|d| d.severity == Severity::Warning) {
                            f = f.warning();
                        }
                        f.line = line_of(&v.pointer);
                        f.expected = v.expected.as_ref().map(|e| format!("{} {}", v.operator, compact(e)));
                        f.actual = Some(match &v.actual {
                            Some(a) => compact(a),
                            None => v.reason.clone().unwrap_or_else(|| "(missing)".into()),
                        });
                        f.fix = doc.map(|d| d.fix.clone());
                        f
                    })
                    .collect()
            } else {
                Vec::new()
            };
            runs.push(RuleRun {
                rule: result.name,
                file: file.name.clone(),
                status: result.status,
                violations,
            });
        }
    }
    Ok(runs)
}

fn compact(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 120 {
        format!("{}...", &s[..s.floor_char_boundary(117)])
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guard::lexer::{Tok, lex};
    use crate::guard::value::Rx;
    use proptest::prelude::*;

    /// `rules/builtin.postcard` holds the current built-in rules. When it does not, it is
    /// rewritten here and the test fails: commit the new file (the binary meanwhile parses the
    /// changed sources, so nothing is wrong, only slower).
    #[test]
    fn precompiled_rules_are_fresh() {
        let fresh = precompile_builtin().expect("built-in rules parse");
        if fresh != PRECOMPILED {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/rules/builtin.postcard");
            std::fs::write(path, &fresh).expect("write rules/builtin.postcard");
            panic!("rules/builtin.postcard was stale and has been rewritten: rebuild, rerun and commit it");
        }
    }

    /// Every built-in file loads from its pre-parsed form, and that form is what parsing the
    /// source gives: the same syntax tree (compared in its stored form), the same docs, and the
    /// same verdicts and findings on the synthesized templates.
    #[test]
    fn precompiled_rules_are_the_parsed_rules() {
        for file @ (name, source) in BUILTIN_RULES {
            let form = precompiled(name, source).unwrap_or_else(|| {
                panic!(
                    "{name} has no pre-parsed form: rules/builtin.postcard is stale (see precompiled_rules_are_fresh)"
                )
            });
            let parsed = parse_builtin(file).expect("parses");
            let bytes = |rules: &RulesFile| postcard::to_allocvec(rules).expect("serializes");
            assert_eq!(bytes(&form.rules), bytes(&parsed.rules), "{name}");
            assert_eq!(form.docs, parsed.docs, "{name}");
            // The file's own test cases (failing inputs among them) get the same verdicts.
            let stem = name.trim_end_matches(".guard");
            let tests = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("rules/tests/{stem}_tests.yaml"));
            let text = std::fs::read_to_string(&tests).expect("every built-in file has tests");
            let outcomes = |rules: &RulesFile| guard::run_test_file(rules, &text, "t").expect("test file runs");
            assert_eq!(outcomes(&form.rules), outcomes(&parsed.rules), "{name}");
        }
        let loaded = RuleSet::new(RuleSet::builtin().expect("loads"), vec![], vec![]).expect("set");
        let parsed_files = BUILTIN_RULES
            .iter()
            .map(parse_builtin)
            .collect::<Result<Vec<_>, _>>()
            .expect("parses");
        let parsed = RuleSet::new(parsed_files, vec![], vec![]).expect("set");
        let config = crate::config::Config::embedded().expect("config");
        let synthesis = crate::synth::synthesize(&config, &[]).expect("synth");
        for stack in &synthesis.stacks {
            let verdicts = |set: &RuleSet| {
                run(set, &stack.name, &stack.value, &|_| None)
                    .expect("runs")
                    .into_iter()
                    .map(|r| format!("{} {} {:?} {:?}", r.file, r.rule, r.status, r.violations))
                    .collect::<Vec<_>>()
            };
            assert_eq!(verdicts(&loaded), verdicts(&parsed), "{}", stack.name);
        }
    }

    /// A source that is not the one pre-parsed (edited since) is parsed, not taken from the
    /// stored form.
    #[test]
    fn a_changed_rules_source_is_parsed_not_taken_from_the_stored_form() {
        let (name, source) = BUILTIN_RULES.iter().find(|(n, _)| *n == "s3.guard").expect("s3.guard");
        let changed = format!("{source}\nrule EXTRA_RULE_FOR_THE_TEST {{ Resources exists }}\n");
        assert!(precompiled(name, &changed).is_none());
        let loaded = load_builtin(&(name, &changed)).expect("parses");
        assert!(loaded.rules.rules.iter().any(|r| r.name == "EXTRA_RULE_FOR_THE_TEST"));
        assert_eq!(loaded.source, changed);
        assert!(precompiled("no-such.guard", source).is_none());
    }

    /// Profiles keep their tagged form in reports and round-trip through the stored form.
    #[test]
    fn profiles_serialize_tagged_in_json_and_plain_in_the_stored_form() {
        let optional = Profile::Optional(vec!["hipaa".into()]);
        assert_eq!(
            serde_json::to_value(&optional).expect("json"),
            serde_json::json!({"kind": "optional", "profiles": ["hipaa"]})
        );
        assert_eq!(
            serde_json::to_value(Profile::Off).expect("json"),
            serde_json::json!({"kind": "off"})
        );
        for p in [Profile::Default, optional, Profile::Off] {
            let bytes = postcard::to_allocvec(&p).expect("postcard");
            assert_eq!(postcard::from_bytes::<Profile>(&bytes).expect("reads back"), p);
            let json = serde_json::to_string(&p).expect("json");
            assert_eq!(serde_json::from_str::<Profile>(&json).expect("reads back"), p);
        }
    }

    /// A rule its profile leaves off gets no result, but an enabled rule that names it still
    /// sees its verdict; `--rule ID` turns it back on.
    #[test]
    fn rules_left_off_are_not_run_but_still_answer_references() {
        let doc = |id: &str, profile: &str| {
            format!("# @id {id}\n# @title t\n# @severity error\n# @profile {profile}\n# @what w\n# @why y\n# @fix f\n")
        };
        let source = format!(
            "{}rule OFF_ONE {{ Resources.*.Type == 'Bucket' }}\n{}rule USES_IT when OFF_ONE {{ Resources.*.Properties exists }}\n",
            doc("OFF_ONE", "off"),
            doc("USES_IT", "default")
        );
        let template = serde_json::json!({"Resources": {"B": {"Type": "Bucket"}}});
        let run_with = |enabled: Vec<String>| {
            let set = RuleSet::new(vec![load_source("t.guard", &source).unwrap()], vec![], enabled).unwrap();
            run(&set, "S", &template, &|_| None)
                .unwrap()
                .into_iter()
                .map(|r| (r.rule, r.status))
                .collect::<Vec<_>>()
        };
        // OFF_ONE passes, so USES_IT runs and fails (no Properties).
        assert_eq!(run_with(vec![]), vec![("USES_IT".to_string(), Status::Fail)]);
        assert_eq!(
            run_with(vec!["OFF_ONE".into()]),
            vec![
                ("OFF_ONE".to_string(), Status::Pass),
                ("USES_IT".to_string(), Status::Fail)
            ]
        );
    }

    /// Every regex literal of the built-in rules.
    fn builtin_regexes() -> Vec<Rx> {
        let mut out: Vec<String> = Vec::new();
        for (name, source) in BUILTIN_RULES {
            let Ok(tokens) = lex(source, name) else {
                panic!("{name} does not lex")
            };
            out.extend(tokens.into_iter().filter_map(|t| match t.tok {
                Tok::Regex(s) => Some(s),
                _ => None,
            }));
        }
        out.sort();
        out.dedup();
        out.iter().map(|s| Rx::new(s)).collect()
    }

    /// Every string of the synthesized templates, plus edge cases.
    fn template_strings() -> Vec<String> {
        fn walk(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::String(s) => out.push(s.clone()),
                Value::Array(a) => a.iter().for_each(|e| walk(e, out)),
                Value::Object(m) => m.iter().for_each(|(k, e)| {
                    out.push(k.clone());
                    walk(e, out)
                }),
                _ => {}
            }
        }
        let Ok(config) = crate::config::Config::embedded() else {
            panic!("config")
        };
        let Ok(s) = crate::synth::synthesize(&config, &[]) else {
            panic!("synth")
        };
        let mut out = vec![
            String::new(),
            "*".into(),
            "IAM:PASSROLE".into(),
            "iam:Pass*".into(),
            "arn:aws:s3:::bucket/*".into(),
            "${AWS::AccountId}".into(),
            "123456789012".into(),
            "s3:*".into(),
        ];
        for st in &s.stacks {
            walk(&st.value, &mut out);
        }
        out
    }

    #[test]
    fn regex_lite_and_fancy_regex_agree_on_every_builtin_regex() {
        let regexes = builtin_regexes();
        assert!(regexes.len() > 30, "only {} regexes", regexes.len());
        let strings = template_strings();
        let mut matched = 0;
        for re in &regexes {
            for s in &strings {
                let m = re.is_match(s);
                assert_eq!(m, re.is_match_full(s), "/{}/ on {s:?}", re.source);
                matched += usize::from(m);
            }
        }
        assert!(matched > 100, "only {matched} matches: the comparison says little");
    }

    proptest! {
        #[test]
        fn regex_lite_and_fancy_regex_agree_on_ascii(s in "[a-zA-Z0-9:/*${}.@_ -]{0,40}") {
            for re in builtin_regexes() {
                prop_assert_eq!(re.is_match(&s), re.is_match_full(&s), "/{}/ on {:?}", re.source, s);
            }
        }

        #[test]
        fn non_ascii_text_uses_the_full_engine(s in "\\PC{0,12}") {
            for src in [r"(?i)^k", r"^\w+$", r"^\d+$", r"\bs\b"] {
                let re = Rx::new(src);
                prop_assert_eq!(re.is_match(&s), re.is_match_full(&s), "/{}/ on {:?}", src, s);
            }
        }
    }
}
