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
