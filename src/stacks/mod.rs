//! The system of `spec/SYSTEM.md`: for each environment, the Core, Pipeline and Monitoring
//! stacks, secure by default. Where a resource is defined: `core.rs` (key, bucket, table, log
//! groups), `pipeline.rs` (CodePipeline, CodeBuild projects, their roles, the webhook),
//! `monitoring.rs` (alarms, topics, rollback Lambda, EventBridge rule, dashboard).
//!
//! Cross-stack values travel as typed [`Export`] handles: Core returns [`core::CoreExports`],
//! which Pipeline and Monitoring take by reference, so renaming an output is a compile error.

pub mod assets;
pub mod core;
pub mod monitoring;
pub mod pipeline;

use crate::config::EnvConfig;
use crate::model::naming::{Naming, StackKind};
use crate::model::resources::{Tag, Tags};
use crate::model::{Expr, Policy, Template, TemplateError};
use serde_json::json;

/// One synthesized stack.
#[derive(Debug, Clone)]
pub struct Stack {
    pub kind: StackKind,
    /// The CloudFormation stack name (`KiroPipelineCoreTest`).
    pub name: String,
    pub template: Template,
    /// Capabilities `aws cloudformation deploy` needs for this template.
    pub capabilities: Vec<&'static str>,
}

/// An exported stack output, as the importing stack sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    pub name: String,
}

impl Export {
    /// `{"Fn::ImportValue": name}`.
    pub fn import(&self) -> Expr {
        Expr::import(self.name.clone())
    }
}

/// Why an environment's stacks could not be built.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error("{stack}: {source}")]
    Template {
        stack: String,
        #[source]
        source: TemplateError,
    },
}

/// What every stack builder gets: the environment's names and settings.
pub struct Context<'a> {
    pub env_name: &'a str,
    pub env: &'a EnvConfig,
    pub naming: Naming,
}

impl Context<'_> {
    /// Project, Environment, ManagedBy, then the config's extra tags.
    pub fn tags(&self) -> Tags {
        let mut tags = vec![
            Tag {
                key: "Project".into(),
                value: Expr::str(self.env.prefix.clone()),
            },
            Tag {
                key: "Environment".into(),
                value: Expr::str(self.env_name),
            },
            Tag {
                key: "ManagedBy".into(),
                value: Expr::str("kiro-infra"),
            },
        ];
        for (k, v) in &self.env.tags {
            if !tags.iter().any(|t| &t.key == k) {
                tags.push(Tag {
                    key: k.clone(),
                    value: Expr::str(v.clone()),
                });
            }
        }
        tags
    }

    /// `Retain` for stateful resources where the environment keeps them.
    pub fn stateful_policy(&self) -> Option<Policy> {
        if self.env.retain_stateful {
            Some(Policy::Retain)
        } else {
            Some(Policy::Delete)
        }
    }

    /// A new template carrying the environment marker rules read
    /// (`Metadata.KiroInfra.Environment`).
    pub fn template(&self, kind: StackKind, description: &str) -> Template {
        let mut t = Template::new(format!(
            "{description} ({}, {})",
            self.naming.stack(kind),
            self.env_name
        ));
        t.metadata.insert(
            "KiroInfra".into(),
            json!({
                "Environment": self.env_name,
                "Stack": format!("{kind:?}").to_lowercase(),
                "Generator": "kiro-infra",
            }),
        );
        t
    }

    /// An output exported as `{StackName}:{output}`; returns the import handle.
    pub fn export(
        &self,
        template: &mut Template,
        kind: StackKind,
        output: &str,
        description: &str,
        value: Expr,
    ) -> Result<Export, TemplateError> {
        let name = self.naming.export(kind, output);
        template.output(output, description, value, Some(name.clone()))?;
        Ok(Export { name })
    }
}

/// Builds the three stacks of one environment, in deploy order.
pub fn build_environment(env_name: &str, env: &EnvConfig) -> Result<Vec<Stack>, StackError> {
    let cx = Context {
        env_name,
        env,
        naming: Naming::new(&env.prefix, env_name),
    };
    let wrap = |kind: StackKind| {
        let stack = cx.naming.stack(kind);
        move |source| StackError::Template {
            stack: stack.clone(),
            source,
        }
    };
    let (core_template, core) = core::build(&cx).map_err(wrap(StackKind::Core))?;
    let (pipeline_template, pipeline) = pipeline::build(&cx, &core).map_err(wrap(StackKind::Pipeline))?;
    let monitoring_template = monitoring::build(&cx, &core, &pipeline).map_err(wrap(StackKind::Monitoring))?;
    Ok(vec![
        Stack {
            kind: StackKind::Core,
            name: cx.naming.stack(StackKind::Core),
            template: core_template,
            capabilities: vec![],
        },
        Stack {
            kind: StackKind::Pipeline,
            name: cx.naming.stack(StackKind::Pipeline),
            template: pipeline_template,
            capabilities: vec!["CAPABILITY_NAMED_IAM"],
        },
        Stack {
            kind: StackKind::Monitoring,
            name: cx.naming.stack(StackKind::Monitoring),
            template: monitoring_template,
            capabilities: vec!["CAPABILITY_NAMED_IAM"],
        },
    ])
}
