//! Files compiled into the stacks: the rollback Lambda's source and the six CodeBuild buildspecs.
//!
//! They live as real files beside this module (`assets/rollback.py`, `assets/buildspecs/*.yml`) so
//! they can be read, linted and tested as what they are; `include_str!` puts them in the binary.

/// The rollback Lambda (Python, boto3 only), embedded in the Monitoring stack as inline `ZipFile`
/// code. Environment: `ENVIRONMENT`, `TABLE_NAME`, `PIPELINE_NAME`, `TOPIC_ARN`, optional `NAME_PREFIX`.
pub const ROLLBACK_PY: &str = include_str!("assets/rollback.py");

/// CloudFormation writes inline `ZipFile` code to `index.py`, so the handler is `index.handler`.
pub const ROLLBACK_HANDLER: &str = "index.handler";

/// A Lambda runtime AWS supports today.
pub const ROLLBACK_RUNTIME: &str = "python3.14";

/// The most bytes CloudFormation accepts in an inline `ZipFile`.
pub const ZIP_FILE_MAX_BYTES: usize = 4096;

/// The buildspec (YAML text) of a CodeBuild project (`build`, `deploy-test`, ...), if there is one.
pub fn buildspec(project: &str) -> Option<&'static str> {
    match project {
        "build" => Some(include_str!("assets/buildspecs/build.yml")),
        "integration-test" => Some(include_str!("assets/buildspecs/integration-test.yml")),
        "e2e-test" => Some(include_str!("assets/buildspecs/e2e-test.yml")),
        "deploy-test" => Some(include_str!("assets/buildspecs/deploy-test.yml")),
        "deploy-staging" => Some(include_str!("assets/buildspecs/deploy-staging.yml")),
        "deploy-production" => Some(include_str!("assets/buildspecs/deploy-production.yml")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_yaml::Value;

    fn parsed(project: &str) -> Value {
        let text = buildspec(project).unwrap_or_default();
        match serde_yaml::from_str(text) {
            Ok(value) => value,
            Err(err) => panic!("buildspec {project} is not YAML: {err}"),
        }
    }

    fn commands(spec: &Value) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(phases) = spec.get("phases").and_then(Value::as_mapping) {
            for phase in phases.values() {
                for command in phase.get("commands").and_then(Value::as_sequence).into_iter().flatten() {
                    out.push(command.as_str().unwrap_or_default().to_string());
                }
            }
        }
        out
    }

    #[test]
    fn rollback_source_fits_inline_zip_file() {
        assert!(
            ROLLBACK_PY.len() < ZIP_FILE_MAX_BYTES,
            "rollback.py is {} bytes",
            ROLLBACK_PY.len()
        );
        assert!(
            ROLLBACK_PY.contains("\ndef handler(event, context"),
            "index.handler must exist"
        );
        // boto3 is imported lazily, inside the client factory, never at module level
        assert!(
            !ROLLBACK_PY
                .lines()
                .any(|l| l.starts_with("import boto3") || l.starts_with("from boto3"))
        );
    }

    #[test]
    fn every_project_has_a_buildspec_version_0_2_with_phases() {
        for project in crate::model::naming::PROJECTS {
            let text = buildspec(project).unwrap_or_default();
            assert!(!text.is_empty(), "{project}: no buildspec");
            assert!(text.len() < ZIP_FILE_MAX_BYTES, "{project}: {} bytes", text.len());
            let spec = parsed(project);
            let version = spec.get("version");
            assert!(
                version.and_then(Value::as_f64) == Some(0.2) || version.and_then(Value::as_str) == Some("0.2"),
                "{project}: version is {version:?}"
            );
            let phases = spec
                .get("phases")
                .and_then(Value::as_mapping)
                .map(|m| m.len())
                .unwrap_or(0);
            assert!(phases >= 2, "{project}: {phases} phases");
            for phase in spec
                .get("phases")
                .and_then(Value::as_mapping)
                .into_iter()
                .flat_map(|m| m.keys())
            {
                let name = phase.as_str().unwrap_or_default();
                assert!(
                    ["install", "pre_build", "build", "post_build"].contains(&name),
                    "{project}: phase {name}"
                );
            }
            assert!(
                commands(&spec).iter().all(|c| !c.trim().is_empty()),
                "{project}: empty command"
            );
            assert!(
                text.ends_with('\n') && !text.contains('\r') && !text.contains('\t'),
                "{project}: layout"
            );
        }
    }

    #[test]
    fn unknown_project_has_no_buildspec() {
        assert_eq!(buildspec("deploy-dev"), None);
        assert_eq!(buildspec(""), None);
    }

    #[test]
    fn build_gates_coverage_and_audits_dependencies() {
        let all = commands(&parsed("build")).join("\n");
        for needle in [
            "npm ci",
            "npm run lint",
            "npm audit --audit-level=high",
            "COVERAGE_THRESHOLD",
            "npm run build",
        ] {
            assert!(all.contains(needle), "build buildspec lacks {needle}");
        }
    }

    #[test]
    fn deploy_buildspecs_record_the_deployment_the_rollback_lambda_reads() {
        for project in ["deploy-test", "deploy-staging", "deploy-production"] {
            let all = commands(&parsed(project)).join("\n");
            for needle in [
                "DEPLOYMENTS_TABLE",
                "${ENVIRONMENT}#$(date +%s%3N)",
                "status: {S: \"in_progress\"}",
                "expiresAt: {N: $expires}",
                "pipelineExecutionId",
                "HEALTH_CHECK_DURATION_MINUTES",
                "echo succeeded",
                "--condition-expression \"#s = :p\"",
            ] {
                assert!(all.contains(needle), "{project} lacks {needle}");
            }
        }
        let duration = |p: &str| parsed(p).get("env").and_then(|e| e.get("variables")).cloned();
        let minutes = |p: &str| {
            duration(p).and_then(|v| {
                v.get("HEALTH_CHECK_DURATION_MINUTES")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
        };
        assert_eq!(minutes("deploy-test").as_deref(), Some("5"));
        assert_eq!(minutes("deploy-staging").as_deref(), Some("5"));
        assert_eq!(minutes("deploy-production").as_deref(), Some("10"));
    }

    /// The handler's own unit tests (stub clients, no AWS, no boto3) run in `cargo test` too.
    #[test]
    fn rollback_python_unit_tests_pass() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/stacks/assets");
        let out = std::process::Command::new("python3")
            .args(["-m", "unittest", "discover", "-s", dir, "-p", "test_*.py"])
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output();
        match out {
            Ok(out) => assert!(
                out.status.success(),
                "python3 -m unittest failed:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(err) => panic!("python3 is needed to test the rollback Lambda: {err}"),
        }
    }
}
