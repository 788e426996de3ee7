//! Where the "before" side of a diff comes from: a synth output directory
//! (`<dir>/<env>/<Stack>.template.json` + `manifest.json`), a single template file (JSON, YAML
//! with short-form tags, or `aws cloudformation get-template` output), or a deployed stack read
//! with the AWS CLI.

use super::StackSides;
use crate::template_io::{DocumentError, normalize_getatt, parse_document, read_document, unwrap_template_body};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Why a baseline could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error(transparent)]
    Document(#[from] DocumentError),
    #[error("{file}: not a CloudFormation template: {reason}")]
    NotATemplate { file: String, reason: String },
    #[error("{file}: bad manifest: {message}")]
    Manifest { file: String, message: String },
    #[error("{dir}: cannot list the directory: {source}")]
    Io {
        dir: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{dir}: no manifest.json and no *.template.json files")]
    Empty { dir: String },
    #[error("unknown stack `{name}`; known stacks: {known}")]
    UnknownStack { name: String, known: String },
    #[error(
        "the AWS CLI (`{program}`) was not found: install it (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html, or `pip install awscli`) or compare with --against instead of --deployed"
    )]
    AwsCliMissing { program: String },
    #[error(
        "no usable AWS credentials for `aws cloudformation get-template --stack-name {stack}`: {message} (configure a profile with `aws configure`, pass --profile, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
    )]
    AwsCredentials { stack: String, message: String },
    #[error("`aws cloudformation get-template --stack-name {stack}` failed ({status}): {message}")]
    AwsFailed {
        stack: String,
        status: String,
        message: String,
    },
    #[error("`aws cloudformation get-template --stack-name {stack}`: unreadable output: {source}")]
    AwsOutput {
        stack: String,
        #[source]
        source: DocumentError,
    },
}

/// One stack's template, with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct StackTemplate {
    /// The stack's name in the synth output (`Core`), or the file stem.
    pub name: String,
    /// The environment directory (`test`), when known.
    pub environment: Option<String>,
    /// The deployed CloudFormation stack name, when the manifest gives one.
    pub stack_name: Option<String>,
    /// Deploy order from the manifest.
    pub order: Option<i64>,
    pub path: PathBuf,
    pub template: Value,
}

/// Checks that a document is a CloudFormation template (an object with a `Resources` object).
pub fn check_template(doc: &Value, file: &str) -> Result<(), BaselineError> {
    let not = |reason: &str| BaselineError::NotATemplate {
        file: file.to_string(),
        reason: reason.to_string(),
    };
    let obj = doc.as_object().ok_or_else(|| not("the document is not an object"))?;
    match obj.get("Resources") {
        Some(Value::Object(_)) => Ok(()),
        Some(_) => Err(not("`Resources` is not an object")),
        None => Err(not("no `Resources` section")),
    }
}

/// Reads one template file: JSON, YAML (short-form tags) or `get-template` output.
pub fn load_template(path: &Path) -> Result<Value, BaselineError> {
    let file = path.display().to_string();
    let mut doc = unwrap_template_body(read_document(path)?, &file)?;
    check_template(&doc, &file)?;
    normalize_getatt(&mut doc);
    Ok(doc)
}

/// Reads one template file as the baseline of stack `name` (default: the file name without
/// `.template.json` / `.json` / `.yaml` / `.yml`).
pub fn load_file(path: &Path, name: Option<&str>) -> Result<StackTemplate, BaselineError> {
    let template = load_template(path)?;
    Ok(StackTemplate {
        name: name.map(str::to_string).unwrap_or_else(|| stack_name_of(path)),
        environment: None,
        stack_name: None,
        order: None,
        path: path.to_path_buf(),
        template,
    })
}

fn stack_name_of(path: &Path) -> String {
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    for suffix in [
        ".template.json",
        ".template.yaml",
        ".template.yml",
        ".json",
        ".yaml",
        ".yml",
    ] {
        if let Some(stem) = file.strip_suffix(suffix) {
            return stem.to_string();
        }
    }
    file
}

/// Loads a synth output directory. With `manifest.json` (`{"stacks": [{"name", "template",
/// "environment", "order"}]}` or a bare list), its stacks in manifest order; without, every
/// `*.template.json` directly in `dir` and in its subdirectories (the subdirectory is the
/// environment), sorted by path.
pub fn load_dir(dir: &Path) -> Result<Vec<StackTemplate>, BaselineError> {
    let manifest = dir.join("manifest.json");
    if manifest.is_file() {
        return load_manifest(dir, &manifest);
    }
    let mut files: Vec<(Option<String>, PathBuf)> = Vec::new();
    for entry in read_dir_sorted(dir)? {
        if entry.is_dir() {
            let env = entry.file_name().map(|f| f.to_string_lossy().into_owned());
            for inner in read_dir_sorted(&entry)? {
                if is_template_file(&inner) {
                    files.push((env.clone(), inner));
                }
            }
        } else if is_template_file(&entry) {
            files.push((None, entry));
        }
    }
    if files.is_empty() {
        return Err(BaselineError::Empty {
            dir: dir.display().to_string(),
        });
    }
    files
        .into_iter()
        .map(|(environment, path)| {
            Ok(StackTemplate {
                name: stack_name_of(&path),
                environment,
                stack_name: None,
                order: None,
                template: load_template(&path)?,
                path,
            })
        })
        .collect()
}

fn is_template_file(p: &Path) -> bool {
    p.is_file()
        && p.file_name()
            .is_some_and(|f| f.to_string_lossy().ends_with(".template.json"))
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>, BaselineError> {
    let io = |source| BaselineError::Io {
        dir: dir.display().to_string(),
        source,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        out.push(entry.map_err(io)?.path());
    }
    out.sort();
    Ok(out)
}

fn load_manifest(dir: &Path, manifest: &Path) -> Result<Vec<StackTemplate>, BaselineError> {
    let file = manifest.display().to_string();
    let bad = |message: String| BaselineError::Manifest {
        file: file.clone(),
        message,
    };
    let doc = read_document(manifest)?;
    let list = match &doc {
        Value::Array(items) => items,
        Value::Object(map) => match map.get("stacks") {
            Some(Value::Array(items)) => items,
            _ => return Err(bad("expected a `stacks` list".into())),
        },
        _ => return Err(bad("expected an object with a `stacks` list".into())),
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let field = |k: &str| item.get(k).and_then(Value::as_str).map(str::to_string);
        let name = field("name").ok_or_else(|| bad(format!("stacks[{i}]: no `name`")))?;
        let template = field("template").ok_or_else(|| bad(format!("stacks[{i}] ({name}): no `template`")))?;
        let path = dir.join(&template);
        out.push(StackTemplate {
            template: load_template(&path)?,
            name,
            environment: field("environment"),
            stack_name: field("stack_name").or_else(|| field("stackName")),
            order: item.get("order").and_then(Value::as_i64),
            path,
        });
    }
    Ok(out)
}

/// Picks stacks by name (`Core` or `test/Core`); an unknown name is an error.
pub fn select<'a>(stacks: &'a [StackTemplate], names: &[String]) -> Result<Vec<&'a StackTemplate>, BaselineError> {
    if names.is_empty() {
        return Ok(stacks.iter().collect());
    }
    let mut out = Vec::new();
    for n in names {
        let hits: Vec<&StackTemplate> = stacks
            .iter()
            .filter(|s| &s.name == n || s.environment.as_ref().is_some_and(|e| format!("{e}/{}", s.name) == *n))
            .collect();
        if hits.is_empty() {
            let known: Vec<String> = stacks
                .iter()
                .map(|s| match &s.environment {
                    Some(e) => format!("{e}/{}", s.name),
                    None => s.name.clone(),
                })
                .collect();
            return Err(BaselineError::UnknownStack {
                name: n.clone(),
                known: known.join(", "),
            });
        }
        out.extend(hits);
    }
    Ok(out)
}

/// Pairs baseline and current stacks by (environment, name): current order first, then
/// stacks only in the baseline (removed stacks).
pub fn pair<'a>(before: &'a [StackTemplate], after: &'a [StackTemplate]) -> Vec<StackSides<'a>> {
    let same = |a: &StackTemplate, b: &StackTemplate| a.name == b.name && a.environment == b.environment;
    let mut out: Vec<StackSides<'a>> = after
        .iter()
        .map(|a| StackSides {
            stack: &a.name,
            environment: a.environment.as_deref(),
            before: before.iter().find(|b| same(b, a)).map(|b| &b.template),
            after: Some(&a.template),
        })
        .collect();
    for b in before.iter().filter(|b| !after.iter().any(|a| same(b, a))) {
        out.push(StackSides {
            stack: &b.name,
            environment: b.environment.as_deref(),
            before: Some(&b.template),
            after: None,
        });
    }
    out
}

/// How to call the AWS CLI for `--deployed`. Environment variables (`AWS_PROFILE`,
/// `AWS_REGION`, `AWS_ENDPOINT_URL`, credentials) are inherited; explicit options win.
#[derive(Debug, Clone)]
pub struct AwsCli {
    /// The program to run; `aws` on PATH by default.
    pub program: PathBuf,
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
}

impl Default for AwsCli {
    fn default() -> Self {
        AwsCli {
            program: PathBuf::from("aws"),
            profile: None,
            region: None,
            endpoint_url: None,
        }
    }
}

impl AwsCli {
    /// The arguments passed to the CLI for one stack (without the program).
    pub fn args(&self, stack: &str) -> Vec<String> {
        let mut args: Vec<String> = [
            "cloudformation",
            "get-template",
            "--stack-name",
            stack,
            "--output",
            "json",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let endpoint = self.endpoint_url.clone().or_else(|| {
            std::env::var("AWS_ENDPOINT_URL_CLOUDFORMATION")
                .or_else(|_| std::env::var("AWS_ENDPOINT_URL"))
                .ok()
                .filter(|s| !s.is_empty())
        });
        for (flag, value) in [
            ("--profile", &self.profile),
            ("--region", &self.region),
            ("--endpoint-url", &endpoint),
        ] {
            if let Some(v) = value {
                args.push(flag.to_string());
                args.push(v.clone());
            }
        }
        args
    }

    /// The deployed template of `stack`; `Ok(None)` when the stack does not exist (yet).
    pub fn get_template(&self, stack: &str) -> Result<Option<Value>, BaselineError> {
        let output = Command::new(&self.program)
            .args(self.args(stack))
            .env("AWS_PAGER", "")
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => BaselineError::AwsCliMissing {
                    program: self.program.display().to_string(),
                },
                _ => BaselineError::AwsFailed {
                    stack: stack.to_string(),
                    status: "could not start".into(),
                    message: e.to_string(),
                },
            })?;
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
        if !output.status.success() {
            return classify_failure(stack, &output.status, stderr);
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let file = format!("get-template {stack}");
        let parsed = parse_document(&stdout, &file)
            .and_then(|d| unwrap_template_body(d, &file))
            .map_err(|source| BaselineError::AwsOutput {
                stack: stack.to_string(),
                source,
            })?;
        check_template(&parsed, &file)?;
        let mut parsed = parsed;
        normalize_getatt(&mut parsed);
        Ok(Some(parsed))
    }
}

/// The deployed templates of `current` stacks that exist, named like them so [`pair`] matches
/// them; a stack that does not exist yet has no baseline (it shows as new, all added).
/// `stack_name` maps a stack to its CloudFormation stack name.
pub fn load_deployed(
    current: &[StackTemplate],
    cli: &AwsCli,
    stack_name: &dyn Fn(&StackTemplate) -> String,
) -> Result<Vec<StackTemplate>, BaselineError> {
    let mut out = Vec::new();
    for s in current {
        let name = stack_name(s);
        if let Some(template) = cli.get_template(&name)? {
            out.push(StackTemplate {
                name: s.name.clone(),
                environment: s.environment.clone(),
                path: PathBuf::from(format!("deployed:{name}")),
                stack_name: Some(name),
                order: s.order,
                template,
            });
        }
    }
    Ok(out)
}

fn classify_failure(
    stack: &str,
    status: &std::process::ExitStatus,
    stderr: String,
) -> Result<Option<Value>, BaselineError> {
    if stderr.contains("ValidationError") && stderr.contains("does not exist") {
        return Ok(None);
    }
    const CREDENTIAL_SIGNS: [&str; 8] = [
        "Unable to locate credentials",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "ExpiredToken",
        "SignatureDoesNotMatch",
        "could not be found",
        "NoCredentialProviders",
        "Error loading SSO Token",
    ];
    if CREDENTIAL_SIGNS.iter().any(|s| stderr.contains(s)) {
        return Err(BaselineError::AwsCredentials {
            stack: stack.to_string(),
            message: last_line(&stderr),
        });
    }
    Err(BaselineError::AwsFailed {
        stack: stack.to_string(),
        status: status
            .code()
            .map(|c| format!("exit {c}"))
            .unwrap_or_else(|| "killed".into()),
        message: last_line(&stderr),
    })
}

fn last_line(s: &str) -> String {
    s.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_stems_become_stack_names() {
        assert_eq!(stack_name_of(Path::new("x/Core.template.json")), "Core");
        assert_eq!(stack_name_of(Path::new("Core.yaml")), "Core");
    }

    #[test]
    fn explicit_options_are_passed_through() {
        let cli = AwsCli {
            profile: Some("p".into()),
            region: Some("eu-west-1".into()),
            endpoint_url: Some("http://127.0.0.1:1".into()),
            ..AwsCli::default()
        };
        let args = cli.args("S").join(" ");
        assert!(args.contains("--profile p --region eu-west-1 --endpoint-url http://127.0.0.1:1"));
        assert!(args.starts_with("cloudformation get-template --stack-name S --output json"));
    }

    #[test]
    fn a_missing_program_is_a_typed_error() {
        let cli = AwsCli {
            program: PathBuf::from("/nonexistent/aws-cli-binary"),
            ..AwsCli::default()
        };
        assert!(matches!(
            cli.get_template("S"),
            Err(BaselineError::AwsCliMissing { .. })
        ));
    }

    #[test]
    fn non_templates_are_rejected() {
        assert!(check_template(&serde_json::json!({"a": 1}), "f").is_err());
        assert!(check_template(&serde_json::json!({"Resources": {}}), "f").is_ok());
    }
}
