//! Command-line interface: clap types only. Behaviour lives in `crate::commands`.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

const AFTER_HELP: &str = "\
Exit codes (every command):
  0  success (diff --detailed-exitcode: no changes)
  1  error: bad input, unreadable file, I/O
  2  diff --detailed-exitcode: changes found
  3  rule violations, schema/limit errors, or a gate tripped (synth --check found stale files,
     diff --fail-on matched)

Typical use:
  kiro-infra synth                     write templates/ for every environment
  kiro-infra synth --check             fail when templates/ is stale (CI)
  kiro-infra diff                      what changed against the committed templates/
  kiro-infra check some.template.yaml  run the built-in rules and schemas on any template";

/// The AWS infrastructure of the Kiro CD pipeline: typed stacks rendered to checked
/// CloudFormation.
#[derive(Debug, Parser)]
#[command(name = "kiro-infra", version, about, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render every environment's stacks, check them, and write templates/ atomically.
    Synth(SynthArgs),
    /// Run the built-in rules, resource schemas and limits on any CloudFormation template
    /// (JSON or YAML), a directory of them, or (no PATH) a fresh synth.
    Check(CheckArgs),
    /// Show what a deploy would change: against the committed templates/ (default), another
    /// synth output, one template file, or the deployed stacks.
    Diff(DiffArgs),
    /// Print the JSON Schema of the config file (for editors and yaml-language-server).
    Schema,
    /// List, explain and test Guard rules (built-in or your own).
    #[command(subcommand)]
    Rules(RulesCommand),
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List the rules with their severity, profile and the equivalent peer ids.
    #[command(
        after_help = "Examples:\n  kiro-infra rules list\n  kiro-infra rules list --format markdown   (the README's rule table)\n  kiro-infra rules list --rules my-rules/ --no-builtin-rules"
    )]
    List(RulesListArgs),
    /// Print one rule's documentation: what it checks, why, how to fix, peer ids.
    Explain(RulesExplainArgs),
    /// Run Guard test files (the `cfn-guard test` format) and report every expectation not met.
    #[command(
        after_help = "Examples:\n  kiro-infra rules test                       every rules/X.guard with rules/tests/X_tests.yaml\n  kiro-infra rules test -d my-rules\n  kiro-infra rules test -r s3.guard -t s3_tests.yaml\n\nExit 0 when every expectation is met, 3 on any mismatch, 1 on bad input."
    )]
    Test(RulesTestArgs),
}

/// Where rules come from.
#[derive(Debug, Args)]
pub struct RulesSourceArgs {
    /// A .guard file or a directory of them, added to the built-in rules (repeatable)
    #[arg(long = "rules", short = 'r', value_name = "FILE_OR_DIR")]
    pub rules: Vec<PathBuf>,
    /// Run only the --rules given, not the built-in ones
    #[arg(long)]
    pub no_builtin_rules: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    Text,
    Markdown,
    Json,
}

#[derive(Debug, Args)]
pub struct RulesListArgs {
    #[command(flatten)]
    pub source: RulesSourceArgs,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
pub struct RulesExplainArgs {
    /// The rule id, e.g. S3_BUCKET_SSE_KMS
    pub id: String,
    #[command(flatten)]
    pub source: RulesSourceArgs,
}

#[derive(Debug, Args)]
pub struct RulesTestArgs {
    /// A rules file (with -t)
    #[arg(short = 'r', long = "rules-file", value_name = "FILE", requires = "tests")]
    pub rules_file: Option<PathBuf>,
    /// Its test file (with -r)
    #[arg(short = 't', long = "tests", value_name = "FILE", requires = "rules_file")]
    pub tests: Option<PathBuf>,
    /// A directory of X.guard files with tests in DIR/tests/X_tests.yaml (or DIR/X_tests.yaml)
    #[arg(
        short = 'd',
        long = "dir",
        value_name = "DIR",
        conflicts_with = "rules_file",
        default_value = "rules"
    )]
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Config file overriding the embedded defaults [default: ./kiro-infra.yaml when present]
    #[arg(long, value_name = "PATH", global = true)]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  kiro-infra synth                                   all environments -> templates/
  kiro-infra synth --env production                  only production (other environments' files are kept)
  kiro-infra synth --stack KiroPipelineCoreTest --stdout
  kiro-infra synth --check                           exit 3 and list the files when templates/ is stale

Nothing is written unless every template passes the schema, limit and rule checks; the output
directory is replaced atomically (never a mix of old and new files), or left untouched when it
already holds exactly these files (\"up to date: ... (no file rewritten)\").")]
pub struct SynthArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Environment to synthesize (repeatable) [default: all]
    #[arg(long = "env", value_name = "NAME")]
    pub envs: Vec<String>,
    /// Output directory
    #[arg(long, value_name = "DIR", default_value = "templates")]
    pub out: PathBuf,
    /// With --stdout: the stack to print (e.g. KiroPipelineCoreTest)
    #[arg(long, value_name = "NAME")]
    pub stack: Option<String>,
    /// Print one template (named by --stack) to stdout instead of writing files
    #[arg(long, requires = "stack")]
    pub stdout: bool,
    /// Write nothing; exit 3 and name the files when the output directory differs from a fresh synth
    #[arg(long, conflicts_with = "stdout")]
    pub check: bool,
    /// Run every check even when a passing verdict for these exact templates is cached
    /// (also KIRO_NO_CACHE=1; the cache lives in $KIRO_CACHE_DIR, else
    /// $XDG_CACHE_HOME/kiro-infra/verdicts, else ~/.cache/kiro-infra/verdicts)
    #[arg(long)]
    pub no_cache: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
    Sarif,
    Junit,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  kiro-infra check                                      a fresh synth of every environment
  kiro-infra check template.yaml other.json             any CloudFormation template (JSON, YAML with !Ref etc.)
  kiro-infra check cdk.out/ --format sarif > out.sarif  a directory; SARIF 2.1.0 for code scanning
  kiro-infra check t.json --rules my-rules/ --no-builtin-rules
  kiro-infra check t.json --profile pci-dss             add the PCI DSS rules

Exit 0 when nothing fails, 3 when a rule or check fails, 1 on bad input.
Suppress a rule for one resource with Metadata.guard.SuppressedRules plus a written reason in
Metadata.guard.SuppressionReasons (see `kiro-infra rules explain ID`).")]
pub struct CheckArgs {
    /// Templates or directories of templates (*.json, *.yaml, *.yml, *.template) [default: a fresh synth]
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub source: RulesSourceArgs,
    /// Also run the optional rules of a profile: nist-800-53, pci-dss, hipaa, serverless (repeatable)
    #[arg(long = "profile", value_name = "NAME")]
    pub profiles: Vec<String>,
    /// Also run this rule, whatever its profile (repeatable)
    #[arg(long = "rule", value_name = "ID")]
    pub enable: Vec<String>,
    /// Report format
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReportFormat,
    /// Colour in text output (default: only on a terminal)
    #[arg(long)]
    pub no_color: bool,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// With no PATH: the environments to synthesize and check (repeatable) [default: all]
    #[arg(long = "env", value_name = "NAME")]
    pub envs: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    Replace,
    Remove,
    Broadening,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  kiro-infra diff                                    a fresh synth against the committed templates/
  kiro-infra diff --against ../main/templates        against another synth output directory
  kiro-infra diff --stack KiroPipelineCoreTest --against old.yaml
  aws cloudformation get-template --stack-name KiroPipelineTest > t.json && kiro-infra diff --stack KiroPipelineTest --against t.json
  kiro-infra diff --deployed --env test --profile ops  the deployed stacks (read-only get-template)
  kiro-infra diff --format markdown > comment.md     a pull-request comment
  kiro-infra diff --detailed-exitcode --fail-on replace,remove,broadening

Symbols: + add, ~ update, -/+ replace, ~? may be replaced, - remove. \"# forces replacement\" marks
the property that replaces a resource. Exit: 0 (default), with --detailed-exitcode 0 no changes /
2 changes; 3 when a --fail-on kind occurs; 1 on errors.")]
pub struct DiffArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Environments to compare (repeatable) [default: all]
    #[arg(long = "env", value_name = "NAME")]
    pub envs: Vec<String>,
    /// Stacks to compare, by stack name (repeatable) [default: all of the selected environments]
    #[arg(long = "stack", value_name = "NAME")]
    pub stacks: Vec<String>,
    /// Baseline: a synth output directory, or one template file (JSON, YAML, get-template output) for one --stack
    #[arg(long, value_name = "DIR_OR_FILE", conflicts_with = "deployed")]
    pub against: Option<PathBuf>,
    /// Baseline: the deployed stacks, read with `aws cloudformation get-template` (needs the AWS CLI and credentials)
    #[arg(long)]
    pub deployed: bool,
    /// With --deployed: the AWS profile
    #[arg(long, value_name = "NAME", requires = "deployed")]
    pub profile: Option<String>,
    /// With --deployed: the region [default: each environment's region]
    #[arg(long, value_name = "REGION", requires = "deployed")]
    pub region: Option<String>,
    /// With --deployed: the CloudFormation endpoint (e.g. a local emulator)
    #[arg(long, value_name = "URL", requires = "deployed")]
    pub endpoint_url: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: DiffFormat,
    /// No colour in text output (default: colour only on a terminal)
    #[arg(long)]
    pub no_color: bool,
    /// Exit 0 when nothing changes, 2 when something does
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Exit 3 when one of these occurs (comma-separated)
    #[arg(long, value_enum, value_delimiter = ',', value_name = "KINDS")]
    pub fail_on: Vec<FailOn>,
}
