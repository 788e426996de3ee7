//! Guard rule test files (GUARD.md section 12), run like `cfn-guard test`.

use serde::Serialize;
use serde_json::Value;

use super::{GuardError, RulesFile, Status, evaluate};

/// One expectation of one case. A mismatch is `expected != actual`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TestOutcome {
    pub case_name: String,
    pub rule: String,
    pub expected: Status,
    pub actual: Status,
}

impl TestOutcome {
    pub fn passed(&self) -> bool {
        self.expected == self.actual
    }
}

fn bad(file: &str, message: String) -> GuardError {
    GuardError::TestFile {
        file: file.to_string(),
        message,
    }
}

/// Runs every case of a test file (a YAML/JSON list of `{name, input, expectations: {rules}}`).
/// Expectations naming a rule the file does not define are skipped (cfn-guard only warns).
pub fn run_test_file(rules: &RulesFile, text: &str, file: &str) -> Result<Vec<TestOutcome>, GuardError> {
    let doc = crate::template_io::parse_document(text, file).map_err(|e| bad(file, e.to_string()))?;
    let Value::Array(cases) = doc else {
        return Err(bad(file, "a test file is a list of cases".into()));
    };
    let mut outcomes = vec![];
    for (i, case) in cases.iter().enumerate() {
        let name = case
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| format!("case {}", i + 1));
        let input = case.get("input").cloned().unwrap_or(Value::Object(Default::default()));
        let Some(expect) = case
            .get("expectations")
            .and_then(|e| e.get("rules"))
            .and_then(Value::as_object)
        else {
            return Err(bad(file, format!("{name}: missing `expectations.rules`")));
        };
        let eval = evaluate(rules, &input)?;
        for (rule, want) in expect {
            let expected = match want.as_str() {
                Some("PASS") => Status::Pass,
                Some("FAIL") => Status::Fail,
                Some("SKIP") => Status::Skip,
                _ => {
                    return Err(bad(
                        file,
                        format!("{name}: rule {rule}: expected PASS, FAIL or SKIP, found {want}"),
                    ));
                }
            };
            let statuses: Vec<Status> = eval
                .rules
                .iter()
                .filter(|r| &r.name == rule)
                .map(|r| r.status)
                .collect();
            if statuses.is_empty() {
                continue;
            }
            let actual = statuses
                .iter()
                .copied()
                .find(|s| *s != Status::Skip)
                .unwrap_or(Status::Skip);
            outcomes.push(TestOutcome {
                case_name: name.clone(),
                rule: rule.clone(),
                expected,
                actual,
            });
        }
    }
    Ok(outcomes)
}

/// `cfn-guard test -d DIR` pairing: each `X.guard` in `dir` with the files of `dir/tests/` whose
/// names start with `X` and end in `.yaml`, `.yml` or `.json`. Sorted by path.
pub fn test_dir_pairs(dir: &std::path::Path) -> std::io::Result<Vec<(std::path::PathBuf, Vec<std::path::PathBuf>)>> {
    let mut rules: Vec<std::path::PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "guard") && p.is_file())
        .collect();
    rules.sort();
    let tests_dir = dir.join("tests");
    let mut tests: Vec<std::path::PathBuf> = match std::fs::read_dir(&tests_dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml" || x == "json"))
            .collect(),
        Err(_) => vec![],
    };
    tests.sort();
    Ok(rules
        .into_iter()
        .map(|r| {
            let stem = r
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_default();
            let mine = tests
                .iter()
                .filter(|t| t.file_name().is_some_and(|n| n.to_string_lossy().starts_with(&stem)))
                .cloned()
                .collect();
            (r, mine)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_rules_with_tests_by_prefix() -> std::io::Result<()> {
        let d = tempfile::tempdir()?;
        std::fs::create_dir(d.path().join("tests"))?;
        for f in [
            "a.guard",
            "b.guard",
            "tests/a_tests.yaml",
            "tests/a2.json",
            "tests/b.yml",
            "tests/c.yaml",
            "tests/a.txt",
        ] {
            std::fs::write(d.path().join(f), "")?;
        }
        let pairs = test_dir_pairs(d.path())?;
        let names: Vec<(String, Vec<String>)> = pairs
            .iter()
            .map(|(r, t)| {
                let n = |p: &std::path::Path| {
                    p.file_name()
                        .map(|s| s.to_string_lossy().to_string())
                        .unwrap_or_default()
                };
                (n(r), t.iter().map(|p| n(p)).collect())
            })
            .collect();
        assert_eq!(
            names,
            vec![
                (
                    "a.guard".to_string(),
                    vec!["a2.json".to_string(), "a_tests.yaml".to_string()]
                ),
                ("b.guard".to_string(), vec!["b.yml".to_string()]),
            ]
        );
        Ok(())
    }

    #[test]
    fn bad_test_files_are_errors() {
        let rules = super::super::parse_rules("rule r { x exists }", "r.guard");
        let Ok(rules) = rules else { panic!("parse") };
        assert!(run_test_file(&rules, "{}", "t.yaml").is_err());
        assert!(run_test_file(&rules, "- input: {}\n", "t.yaml").is_err());
        assert!(run_test_file(&rules, "- input: {}\n  expectations: {rules: {r: MAYBE}}\n", "t.yaml").is_err());
        let ok = run_test_file(
            &rules,
            "- input: {x: 1}\n  expectations: {rules: {r: PASS}}\n",
            "t.yaml",
        );
        assert!(matches!(ok.as_deref(), Ok([o]) if o.passed()));
    }
}
