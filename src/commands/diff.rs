//! `kiro-infra diff`: a fresh synth against a baseline, in text, JSON or Markdown.

use crate::cli::{DiffArgs, DiffFormat, FailOn};
use crate::diff::baseline::{self, AwsCli, StackTemplate};
use crate::diff::{self, SchemaFacts, render};
use crate::error::{Error, Exit};
use crate::{config, synth, validate};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// Replacement and ordering facts from the vendored CloudFormation schemas.
pub struct VendoredFacts;

impl SchemaFacts for VendoredFacts {
    fn create_only(&self, type_name: &str) -> Vec<String> {
        validate::schema_for(type_name)
            .map(|s| s.create_only_properties().to_vec())
            .unwrap_or_default()
    }
    fn conditional_create_only(&self, type_name: &str) -> Vec<String> {
        validate::schema_for(type_name)
            .map(|s| s.conditional_create_only_properties().to_vec())
            .unwrap_or_default()
    }
    fn unordered_arrays(&self, type_name: &str) -> Vec<String> {
        validate::schema_for(type_name)
            .map(|s| s.unordered_property_paths().to_vec())
            .unwrap_or_default()
    }
}

pub fn run(args: &DiffArgs) -> Result<Exit, Error> {
    // A baseline directory is read and parsed on another thread while the stacks are built.
    let against = args.against.clone().unwrap_or_else(|| PathBuf::from("templates"));
    let (built, preloaded) = crate::par::scope(|s| {
        let preload = (!args.deployed && against.is_dir()).then(|| s.spawn(|| baseline::load_dir(&against)));
        let built = config::load(args.config.config.as_deref())
            .map_err(Error::from)
            .and_then(|config| {
                let synthesis = synth::synthesize(&config, &args.envs)?;
                Ok((config, synthesis))
            });
        // No thread to spare: read it here, after building.
        let preloaded =
            preload.map(|spawned| spawned.map_or_else(|_| baseline::load_dir(&against), crate::par::Handle::join));
        (built, preloaded)
    });
    let (config, synthesis) = built?;
    let environments = synthesis.environments;
    let current: Vec<StackTemplate> = synthesis
        .stacks
        .into_iter()
        .map(|s| StackTemplate {
            stack_name: Some(s.name.clone()),
            name: s.name,
            environment: Some(s.environment),
            order: Some(i64::from(s.kind.order())),
            path: PathBuf::from(s.file),
            template: s.value,
        })
        .collect();
    let after: Vec<StackTemplate> = if args.stacks.is_empty() {
        current
    } else {
        baseline::select(&current, &args.stacks)?.into_iter().cloned().collect()
    };
    let in_scope = |b: &StackTemplate| {
        let env_ok = args.envs.is_empty() || b.environment.as_ref().is_none_or(|e| args.envs.contains(e));
        let stack_ok = args.stacks.is_empty() || args.stacks.contains(&b.name);
        env_ok && stack_ok
    };

    let before: Vec<StackTemplate> = if args.deployed {
        let aws = std::env::var_os("KIRO_AWS")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("aws"));
        let mut out = Vec::new();
        // One call per environment, each with its own region unless --region is given.
        for env in &environments {
            let region = args
                .region
                .clone()
                .or_else(|| config.environments.get(env).map(|e| e.region.clone()));
            let cli = AwsCli {
                program: aws.clone(),
                profile: args.profile.clone(),
                region,
                endpoint_url: args.endpoint_url.clone(),
            };
            let stacks: Vec<StackTemplate> = after
                .iter()
                .filter(|s| s.environment.as_deref() == Some(env.as_str()))
                .cloned()
                .collect();
            out.extend(baseline::load_deployed(&stacks, &cli, &|s: &StackTemplate| {
                s.stack_name.clone().unwrap_or_else(|| s.name.clone())
            })?);
        }
        out
    } else {
        match preloaded {
            Some(loaded) => loaded?.into_iter().filter(in_scope).collect(),
            None => vec![against_file(&against, &after)?],
        }
    };

    let pairs = baseline::pair(&before, &after);
    let report = diff::diff_stacks(&pairs, &VendoredFacts);
    let out = match args.format {
        DiffFormat::Text => {
            let colour = !args.no_color && std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal();
            render::text(&report, colour)
        }
        DiffFormat::Json => render::json(&report),
        DiffFormat::Markdown => render::markdown(&report),
    };
    print!("{out}");

    let tripped = args.fail_on.iter().any(|kind| match kind {
        FailOn::Replace => report.has_replacements(),
        FailOn::Remove => report.has_removals(),
        FailOn::Broadening => report.has_broadening(),
    });
    Ok(if tripped {
        Exit::Violations
    } else if args.detailed_exitcode && report.has_changes() {
        Exit::Changes
    } else {
        Exit::Ok
    })
}

/// One template file as the baseline of the one stack it belongs to.
fn against_file(path: &Path, after: &[StackTemplate]) -> Result<StackTemplate, Error> {
    let file = path.display().to_string();
    let target = match after {
        [only] => only,
        _ => {
            let stem = path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            let by_name = after.iter().find(|s| stem.starts_with(&format!("{}.", s.name)));
            by_name.ok_or_else(|| Error::AgainstFileNeedsStack {
                file: file.clone(),
                known: after.iter().map(|s| s.name.clone()).collect(),
            })?
        }
    };
    let mut loaded = baseline::load_file(path, Some(&target.name))?;
    loaded.environment = target.environment.clone();
    Ok(loaded)
}
