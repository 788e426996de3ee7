//! Synthesis: config -> stacks -> rendered templates + manifest, all in memory. Nothing here
//! writes files (see `crate::output`), so every check runs before anything is written.

use crate::config::{Config, ConfigError};
use crate::model::naming::StackKind;
use crate::render::{Rendered, render};
use crate::stacks::{self, StackError};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

use crate::validate::limits::MAX_INLINE_BODY;

/// One stack, rendered.
#[derive(Debug, Clone)]
pub struct SynthesizedStack {
    pub environment: String,
    pub kind: StackKind,
    pub name: String,
    /// Path relative to the output directory: `test/KiroPipelineCoreTest.template.json`.
    pub file: String,
    /// The template; after changing it, call [`SynthesizedStack::set_value`] so the text follows.
    pub value: Value,
    /// The text, rendered on first use (`diff` compares values and never needs it).
    rendered: OnceLock<Rendered>,
    pub capabilities: Vec<&'static str>,
    pub region: String,
    pub account: Option<String>,
}

/// Every selected environment's stacks, in deploy order per environment.
#[derive(Debug, Clone)]
pub struct Synthesis {
    pub environments: Vec<String>,
    pub stacks: Vec<SynthesizedStack>,
}

#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Stack(#[from] StackError),
}

/// Builds and renders the stacks of `envs` (every environment when empty).
pub fn synthesize(config: &Config, envs: &[String]) -> Result<Synthesis, SynthError> {
    build(config, envs, false)
}

/// [`synthesize`], every template rendered too (what `synth` writes): each environment is built
/// and rendered on its own core.
///
/// # Errors
/// As [`synthesize`].
pub fn synthesize_rendered(config: &Config, envs: &[String]) -> Result<Synthesis, SynthError> {
    build(config, envs, true)
}

fn build(config: &Config, envs: &[String], render_now: bool) -> Result<Synthesis, SynthError> {
    let selected = config.select(envs)?;
    // Environments are independent: built in parallel, kept in config order.
    let built = crate::par::map(&selected, |&(env_name, env)| {
        build_environment(env_name, env, render_now)
    });
    let mut stacks_out = Vec::new();
    for stacks in built {
        stacks_out.extend(stacks?);
    }
    Ok(Synthesis {
        environments: selected.iter().map(|(name, _)| name.to_string()).collect(),
        stacks: stacks_out,
    })
}

/// The stacks of one environment in deploy order, rendered too when `render_now`.
///
/// # Errors
/// A stack that cannot be built from this environment's config.
pub fn build_environment(
    env_name: &str,
    env: &crate::config::EnvConfig,
    render_now: bool,
) -> Result<Vec<SynthesizedStack>, SynthError> {
    let mut out = Vec::new();
    for stack in stacks::build_environment(env_name, env)? {
        let value = stack.template.into_value();
        let synthesized = SynthesizedStack {
            environment: env_name.to_string(),
            kind: stack.kind,
            file: format!("{env_name}/{}.template.json", stack.name),
            name: stack.name,
            value,
            rendered: OnceLock::new(),
            capabilities: stack.capabilities,
            region: env.region.clone(),
            account: env.account.clone(),
        };
        if render_now {
            synthesized.rendered();
        }
        out.push(synthesized);
    }
    Ok(out)
}

/// The manifest: per stack, what a deployer needs.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub version: u32,
    pub generator: &'static str,
    pub stacks: Vec<ManifestStack>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ManifestStack {
    pub environment: String,
    pub name: String,
    pub kind: String,
    /// Deploy order within the environment (1 = first).
    pub order: u32,
    /// Path relative to the output directory.
    pub template: String,
    pub region: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub account: Option<String>,
    pub capabilities: Vec<String>,
    pub deploy_command: String,
    pub bytes: usize,
    pub resources: usize,
    pub sha256: String,
}

impl SynthesizedStack {
    /// The template's text as it is written, and its JSON-pointer line index.
    pub fn rendered(&self) -> &Rendered {
        self.rendered.get_or_init(|| render(&self.value))
    }

    /// Replaces the template (the text is rendered again when next asked for).
    pub fn set_value(&mut self, value: Value) {
        self.value = value;
        self.rendered = OnceLock::new();
    }

    /// The manifest entry; `out_dir` is the output directory as the user named it, so the
    /// deploy command can be pasted from the repository's root.
    pub fn manifest_entry(&self, out_dir: &str) -> ManifestStack {
        let bytes = self.rendered().text.len();
        let path = format!("{}/{}", out_dir.trim_end_matches('/'), self.file);
        let mut cmd = format!(
            "aws cloudformation deploy --stack-name {} --template-file {} --region {}",
            self.name, path, self.region
        );
        if !self.capabilities.is_empty() {
            cmd.push_str(&format!(" --capabilities {}", self.capabilities.join(" ")));
        }
        if bytes > MAX_INLINE_BODY {
            cmd.push_str(" --s3-bucket \"$KIRO_DEPLOY_BUCKET\"");
        }
        cmd.push_str(" --no-fail-on-empty-changeset");
        ManifestStack {
            environment: self.environment.clone(),
            name: self.name.clone(),
            kind: format!("{:?}", self.kind).to_lowercase(),
            order: self.kind.order(),
            template: self.file.clone(),
            region: self.region.clone(),
            account: self.account.clone(),
            capabilities: self.capabilities.iter().map(|c| c.to_string()).collect(),
            deploy_command: cmd,
            bytes,
            resources: self
                .value
                .get("Resources")
                .and_then(Value::as_object)
                .map_or(0, |r| r.len()),
            sha256: hex(&Sha256::digest(self.rendered().text.as_bytes())),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nine_stacks_in_deploy_order() {
        let config = Config::embedded().unwrap();
        let s = synthesize(&config, &[]).unwrap();
        assert_eq!(s.stacks.len(), 9);
        let names: Vec<&str> = s.stacks.iter().take(3).map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["KiroPipelineCoreTest", "KiroPipelineTest", "KiroPipelineMonitoringTest"]
        );
    }

    #[test]
    fn synthesis_is_deterministic() {
        let config = Config::embedded().unwrap();
        let a = synthesize(&config, &[]).unwrap();
        let b = synthesize(&config, &[]).unwrap();
        for (x, y) in a.stacks.iter().zip(&b.stacks) {
            assert_eq!(x.rendered().text, y.rendered().text);
        }
    }
}
