//! Per-environment configuration: embedded defaults (`defaults/*.yaml`, compiled in), overridden
//! by an optional YAML file (`kiro-infra.yaml` or `--config PATH`), which can also add
//! environments.
//!
//! One struct, [`EnvConfig`], describes an environment; the file's JSON Schema is generated from
//! it (`kiro-infra schema`) with every field optional, since the file only overrides.

pub(crate) mod lines;
mod load;

pub use load::{ConfigError, ConfigProblem, load, load_str};

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The environments built into the tool, in deploy order.
pub const BUILTIN_ENVIRONMENTS: [&str; 3] = ["test", "staging", "production"];

/// The config file looked for in the working directory when `--config` is not given.
pub const DEFAULT_FILE: &str = "kiro-infra.yaml";

/// The whole configuration: every environment, in order (built-in ones first).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Config {
    pub environments: IndexMap<String, EnvConfig>,
    /// Where the overrides came from (`None`: embedded defaults only).
    pub file: Option<String>,
}

/// The config file's shape. Used for its JSON Schema; values are merged as JSON.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "kiro-infra configuration")]
pub struct ConfigFile {
    /// Optional editor hint (`# yaml-language-server: $schema=...` is the usual way); ignored.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Settings applied to every environment before its own overrides (same keys as an
    /// environment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defaults: Option<EnvConfig>,
    /// Per-environment overrides, by environment name. `test`, `staging` and `production` exist
    /// already; any other name adds an environment (lower-case letters, digits, `-`).
    #[serde(default)]
    pub environments: IndexMap<String, EnvConfig>,
}

/// The settings of one environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvConfig {
    /// For an added environment: the built-in environment it starts from (default `test`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extends: Option<String>,
    /// The AWS account id (12 digits) this environment deploys to. Templates stay
    /// account-agnostic; the account is recorded in the manifest so deploy scripts can check
    /// they talk to the right account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9]{12}$"))]
    pub account: Option<String>,
    /// The AWS region, e.g. `us-east-1` (used in the manifest's deploy commands).
    #[schemars(regex(pattern = r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$"))]
    pub region: String,
    /// The naming prefix: resources are named `{prefix}-{env}-{resource}`, stacks
    /// `{Prefix}Core{Env}` and so on.
    #[schemars(regex(pattern = r"^[a-z][a-z0-9-]*[a-z0-9]$"), length(min = 2, max = 63))]
    pub prefix: String,
    pub source: SourceConfig,
    pub pipeline: PipelineConfig,
    pub build: BuildConfig,
    pub alarms: AlarmsConfig,
    pub logs: LogsConfig,
    pub artifacts: ArtifactsConfig,
    /// Keep stateful resources (key, bucket, table, log groups) when the stack deletes or
    /// replaces them (`DeletionPolicy`/`UpdateReplacePolicy: Retain`). Must be true in staging
    /// and production.
    pub retain_stateful: bool,
    /// Extra tags on every taggable resource (Project, Environment and ManagedBy are always set).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub tags: IndexMap<String, String>,
}

/// The GitHub source. Owner, repository and token are never in the config or the templates:
/// they are read at deploy time from SSM `/{prefix}/{env}/github-owner|github-repo` and
/// Secrets Manager `{prefix}-{env}-github-token`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// The branch whose pushes start the pipeline.
    #[schemars(regex(pattern = r"^[A-Za-z0-9._/-]+$"), length(min = 1, max = 255))]
    pub branch: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PipelineConfig {
    /// A manual approval (`Approve_Production_Deployment`) before the ProductionEnvironment
    /// stage's deploy. Mandatory in production.
    pub manual_approval: bool,
    /// How long the deploy projects watch health after a deploy, in minutes.
    #[schemars(range(min = 1, max = 60))]
    pub health_check_minutes: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BuildConfig {
    /// CodeBuild compute type of every project.
    pub compute_type: ComputeType,
    /// CodeBuild image.
    #[schemars(length(min = 1, max = 255))]
    pub image: String,
    /// Minimum code coverage, in percent (COVERAGE_THRESHOLD).
    #[schemars(range(min = 0, max = 100))]
    pub coverage_threshold: u32,
    /// Build timeout in minutes (CodeBuild accepts 5-2160).
    #[schemars(range(min = 5, max = 2160))]
    pub timeout_minutes: u32,
}

/// CodeBuild compute types for Linux containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[allow(clippy::enum_variant_names)]
pub enum ComputeType {
    #[serde(rename = "BUILD_GENERAL1_SMALL")]
    Small,
    #[serde(rename = "BUILD_GENERAL1_MEDIUM")]
    Medium,
    #[serde(rename = "BUILD_GENERAL1_LARGE")]
    Large,
    #[serde(rename = "BUILD_GENERAL1_XLARGE")]
    XLarge,
    #[serde(rename = "BUILD_GENERAL1_2XLARGE")]
    XXLarge,
}

impl ComputeType {
    pub fn as_str(self) -> &'static str {
        match self {
            ComputeType::Small => "BUILD_GENERAL1_SMALL",
            ComputeType::Medium => "BUILD_GENERAL1_MEDIUM",
            ComputeType::Large => "BUILD_GENERAL1_LARGE",
            ComputeType::XLarge => "BUILD_GENERAL1_XLARGE",
            ComputeType::XXLarge => "BUILD_GENERAL1_2XLARGE",
        }
    }
}

/// Alarm thresholds, within the operations runbook's recommended ranges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlarmsConfig {
    /// `{prefix}-{env}-failures` fires at this many failed pipeline executions in an hour.
    #[schemars(range(min = 3, max = 5))]
    pub failures_per_hour: u32,
    /// `{prefix}-{env}-rollbacks` fires at this many rollbacks in an hour.
    #[schemars(range(min = 2, max = 3))]
    pub rollbacks_per_hour: u32,
    /// `{prefix}-{env}-duration` fires when a deployment takes longer than this, in seconds.
    #[schemars(range(min = 3600, max = 4500))]
    pub duration_seconds: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogsConfig {
    /// Retention of every log group, in days: a value CloudWatch Logs accepts (1, 3, 5, 7, 14,
    /// 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653).
    /// At least 90 in production.
    pub retention_days: u32,
}

/// The values CloudWatch Logs accepts for `RetentionInDays`.
pub const LOG_RETENTION_DAYS: [u32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArtifactsConfig {
    /// Days before artifacts move to STANDARD_IA (S3 requires at least 30).
    #[schemars(range(min = 30, max = 3650))]
    pub transition_to_ia_days: u32,
    /// Days before artifacts expire; must be later than the transition.
    #[schemars(range(min = 1, max = 3650))]
    pub expire_days: u32,
    /// Days before non-current object versions expire.
    #[schemars(range(min = 1, max = 3650))]
    pub noncurrent_expire_days: u32,
}

impl Config {
    /// The embedded defaults only.
    pub fn embedded() -> Result<Config, ConfigError> {
        load_str(None, None)
    }

    /// The environments named in `names` (all when empty), or an error naming the unknown one
    /// and listing the known ones.
    pub fn select(&self, names: &[String]) -> Result<Vec<(&str, &EnvConfig)>, ConfigError> {
        if names.is_empty() {
            return Ok(self.environments.iter().map(|(k, v)| (k.as_str(), v)).collect());
        }
        let mut out = Vec::new();
        for name in names {
            match self.environments.get_key_value(name) {
                Some((k, v)) => {
                    if !out.iter().any(|(n, _): &(&str, &EnvConfig)| *n == k.as_str()) {
                        out.push((k.as_str(), v));
                    }
                }
                None => {
                    return Err(ConfigError::UnknownEnvironment {
                        name: name.clone(),
                        known: self.environments.keys().cloned().collect(),
                    });
                }
            }
        }
        Ok(out)
    }
}

/// The JSON Schema of the config file (`kiro-infra schema`), for editors and for checking.
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(ConfigFile);
    let mut value = serde_json::to_value(&schema).unwrap_or(serde_json::Value::Null);
    // The file only overrides: no field of an environment is required there.
    strip_required(&mut value);
    value
}

fn strip_required(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            map.shift_remove("required");
            map.values_mut().for_each(strip_required);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_required),
        _ => {}
    }
}
