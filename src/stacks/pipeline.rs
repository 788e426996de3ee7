//! Pipeline stack (`{Prefix}{Env}`): the CodePipeline, its six CodeBuild projects, one IAM role
//! per project plus the pipeline's role, and the GitHub webhook.

use super::core::CoreExports;
use super::{Context, Export, assets};
use crate::model::iam::{PolicyDocument, Statement, service_trust};
use crate::model::naming::{PROJECTS, StackKind, pascal_case};
use crate::model::resources::{codebuild, codepipeline as cp, iam};
use crate::model::{DynamicRef, Expr, Handle, ResourceOptions, Template, TemplateError};
use indexmap::IndexMap;
use serde_json::json;

/// What the Pipeline stack exports for Monitoring.
pub struct PipelineExports {
    pub pipeline_name: Export,
}

/// The pipeline's stages and actions: (stage, [(action, project)]).
/// Stage and action names are the ones the runbooks type (SYSTEM.md decision 3).
const STAGES: [(&str, &[(&str, &str)]); 4] = [
    ("Build", &[("Build", "build")]),
    (
        "TestEnvironment",
        &[("Deploy_Test", "deploy-test"), ("Integration_Test", "integration-test")],
    ),
    (
        "StagingEnvironment",
        &[("Deploy_Staging", "deploy-staging"), ("E2E_Test", "e2e-test")],
    ),
    ("ProductionEnvironment", &[("Deploy_Production", "deploy-production")]),
];

/// The approval action the runbook's `put-approval-result` names.
pub const APPROVAL_ACTION: &str = "Approve_Production_Deployment";
const SOURCE_ACTION: &str = "GitHub_Source";
/// Namespaces of the source and build actions' output variables.
const SOURCE_NAMESPACE: &str = "SourceVariables";
const BUILD_NAMESPACE: &str = "BuildVariables";

pub fn build(cx: &Context, core: &CoreExports) -> Result<(Template, PipelineExports), TemplateError> {
    let n = &cx.naming;
    let mut t = cx.template(
        StackKind::Pipeline,
        "Kiro CD pipeline: CodePipeline, CodeBuild projects, GitHub webhook",
    );

    let mut projects: IndexMap<&str, Handle<codebuild::Project>> = IndexMap::new();
    let mut roles = Vec::new();
    for project in PROJECTS {
        let id = pascal_case(project);
        let options = match project.strip_prefix("deploy-") {
            Some(target) => ResourceOptions::default().suppress(&[
                (
                    "IAM_NO_PRIVILEGE_ESCALATION",
                    &format!("deploys kiro-worker-{target} stacks by passing their own execution role, by design"),
                ),
                (
                    "IAM_NO_WILDCARD_IN_ALLOW",
                    &format!("kiro-worker-{target} stack ids and alarm names are prefixes"),
                ),
            ]),
            None => ResourceOptions::default(),
        };
        let role = t.add_with(&format!("{id}Role"), codebuild_role(cx, project), options)?;
        let handle = t.add(&format!("{id}Project"), codebuild_project(cx, core, project, &role))?;
        roles.push(role.reference());
        projects.insert(project, handle);
    }
    // What the three deploy projects share: recording deployments and their duration.
    let deploy_roles: Vec<Expr> = PROJECTS
        .iter()
        .zip(&roles)
        .filter(|(p, _)| p.starts_with("deploy-"))
        .map(|(_, r)| r.clone())
        .collect();
    t.add(
        "DeploySharedPolicy",
        iam::ManagedPolicy {
            managed_policy_name: n.resource("deploy-shared"),
            description: format!(
                "What the deploy projects of {} share: deployment records and metrics",
                n.base()
            ),
            policy_document: PolicyDocument::new(vec![
                Statement::allow(
                    "RecordDeployments",
                    &[
                        "dynamodb:PutItem",
                        "dynamodb:UpdateItem",
                        "dynamodb:GetItem",
                        "dynamodb:Query",
                    ],
                    vec![core.table_arn.import(), index_of(core)],
                ),
                // cloudwatch:PutMetricData supports only `Resource: "*"`; the namespace condition
                // keeps it to the pipeline's own metrics.
                Statement::allow(
                    "PublishDeploymentMetricsResourceStarOnly",
                    &["cloudwatch:PutMetricData"],
                    vec![Expr::str("*")],
                )
                .condition("StringEquals", "cloudwatch:namespace", json!("KiroPipeline")),
            ]),
            roles: deploy_roles,
        },
    )?;
    // What every CodeBuild project needs, written once and attached to each project's role.
    t.add(
        "CodeBuildSharedPolicy",
        iam::ManagedPolicy {
            managed_policy_name: n.resource("codebuild-shared"),
            description: format!(
                "What every CodeBuild project of {} needs: the artifacts and the core key",
                n.base()
            ),
            policy_document: PolicyDocument::new(artifact_access(core, &["s3:GetBucketAcl", "s3:GetBucketLocation"])),
            roles,
        },
    )?;

    let pipeline_role = t.add("PipelineRole", pipeline_role(cx, core))?;
    let pipeline = t.add("Pipeline", pipeline(cx, core, &pipeline_role, &projects))?;
    let secret = Expr::Dynamic(DynamicRef::SecretsManager {
        secret_id: n.github_token_secret(),
        json_key: None,
    });
    t.add(
        "GitHubWebhook",
        cp::Webhook {
            name: n.webhook(),
            authentication: "GITHUB_HMAC",
            authentication_configuration: cp::WebhookAuthConfiguration { secret_token: secret },
            filters: vec![cp::WebhookFilter {
                json_path: "$.ref".into(),
                match_equals: format!("refs/heads/{}", cx.env.source.branch),
            }],
            target_pipeline: pipeline.reference(),
            target_pipeline_version: pipeline.version(),
            target_action: SOURCE_ACTION.into(),
            register_with_third_party: true,
        },
    )?;

    let kind = StackKind::Pipeline;
    let exports = PipelineExports {
        pipeline_name: cx.export(&mut t, kind, "PipelineName", "CodePipeline name", pipeline.reference())?,
    };
    Ok((t, exports))
}

/// `${ArtifactsBucketArn}/*` from the imported bucket ARN.
fn objects_of(bucket_arn: &Export) -> Expr {
    Expr::Join(String::new(), vec![bucket_arn.import(), Expr::str("/*")])
}

/// Read and write the artifacts, find their bucket (`bucket_actions`), and use the core key.
fn artifact_access(core: &CoreExports, bucket_actions: &[&str]) -> Vec<Statement> {
    vec![
        Statement::allow(
            "ReadWriteArtifacts",
            &["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
            vec![objects_of(&core.bucket_arn)],
        ),
        Statement::allow("LocateArtifactsBucket", bucket_actions, vec![core.bucket_arn.import()]),
        key_use(core),
    ]
}

fn key_use(core: &CoreExports) -> Statement {
    Statement::allow(
        "UseCoreKey",
        &[
            "kms:Decrypt",
            "kms:Encrypt",
            "kms:ReEncryptFrom",
            "kms:ReEncryptTo",
            "kms:GenerateDataKey",
            "kms:DescribeKey",
        ],
        vec![core.key_arn.import()],
    )
}

fn codebuild_role(cx: &Context, project: &str) -> iam::Role {
    let n = &cx.naming;
    let log_group = n.codebuild_log_group(project);
    let mut statements = vec![Statement::allow(
        "WriteOwnLogGroup",
        &["logs:CreateLogStream", "logs:PutLogEvents"],
        // `NAME:*` covers the group (CreateLogStream) and its streams (PutLogEvents).
        vec![Expr::arn("logs", &format!("log-group:{log_group}:*"))],
    )];
    if let Some(target) = project.strip_prefix("deploy-") {
        statements.extend(deploy_statements(cx, target));
    }
    iam::Role {
        role_name: n.role(project),
        description: format!("CodeBuild project {}", n.resource(project)),
        assume_role_policy_document: service_trust("codebuild.amazonaws.com"),
        policies: vec![iam::InlinePolicy {
            policy_name: "least-privilege".into(),
            policy_document: PolicyDocument::new(statements),
        }],
        tags: cx.tags(),
    }
}

/// What a deploy project needs on top: deploy the application's stacks (`kiro-worker-{target}*`)
/// through their CloudFormation execution role, record the deployment, publish its duration and
/// read the alarms it health-checks.
fn deploy_statements(cx: &Context, target: &str) -> Vec<Statement> {
    let app = format!("kiro-worker-{target}");
    vec![
        Statement::allow(
            "DeployApplicationStacks",
            &[
                "cloudformation:CreateChangeSet",
                "cloudformation:DeleteChangeSet",
                "cloudformation:DescribeChangeSet",
                "cloudformation:ExecuteChangeSet",
                "cloudformation:DescribeStacks",
                "cloudformation:DescribeStackEvents",
                "cloudformation:GetTemplate",
            ],
            vec![Expr::arn("cloudformation", &format!("stack/{app}*/*"))],
        ),
        Statement::allow(
            "PassApplicationExecutionRoleToCloudFormation",
            &["iam:PassRole"],
            vec![Expr::account_arn("iam", &format!("role/{app}-cfn-exec"))],
        )
        .condition(
            "StringEquals",
            "iam:PassedToService",
            json!("cloudformation.amazonaws.com"),
        ),
        Statement::allow(
            "ReadHealthAlarms",
            &["cloudwatch:DescribeAlarms"],
            vec![
                Expr::arn("cloudwatch", &format!("alarm:{}-*", cx.naming.base())),
                Expr::arn("cloudwatch", &format!("alarm:{app}-*")),
            ],
        ),
    ]
}

/// The deployments table's GSI ARN.
fn index_of(core: &CoreExports) -> Expr {
    Expr::Join(
        String::new(),
        vec![core.table_arn.import(), Expr::str("/index/EnvironmentStatusIndex")],
    )
}

fn codebuild_project(cx: &Context, core: &CoreExports, project: &str, role: &Handle<iam::Role>) -> codebuild::Project {
    let n = &cx.naming;
    let env = cx.env;
    let mut vars = vec![
        codebuild::EnvironmentVariable::plain("ENVIRONMENT", cx.env_name),
        codebuild::EnvironmentVariable::plain("COVERAGE_THRESHOLD", env.build.coverage_threshold.to_string()),
        codebuild::EnvironmentVariable::plain("ARTIFACTS_BUCKET", core.bucket_name.import()),
    ];
    if let Some(target) = project.strip_prefix("deploy-") {
        vars.push(codebuild::EnvironmentVariable::plain("DEPLOY_TARGET", target));
        vars.push(codebuild::EnvironmentVariable::plain(
            "DEPLOYMENTS_TABLE",
            core.table_name.import(),
        ));
        vars.push(codebuild::EnvironmentVariable::plain(
            "HEALTH_CHECK_DURATION_MINUTES",
            env.pipeline.health_check_minutes.to_string(),
        ));
        vars.push(codebuild::EnvironmentVariable::plain("ALARM_PREFIX", n.base()));
    }
    codebuild::Project {
        name: n.resource(project),
        description: format!("{project} for {}", n.base()),
        service_role: role.arn(),
        encryption_key: core.key_arn.import(),
        source: codebuild::Source {
            source_type: "CODEPIPELINE",
            build_spec: embedded_buildspec(assets::buildspec(project).unwrap_or_default()),
        },
        artifacts: codebuild::Artifacts {
            artifacts_type: "CODEPIPELINE",
        },
        environment: codebuild::Environment {
            environment_type: "LINUX_CONTAINER",
            compute_type: env.build.compute_type.as_str().to_string(),
            image: env.build.image.clone(),
            privileged_mode: false,
            environment_variables: vars,
        },
        logs_config: codebuild::LogsConfig {
            cloud_watch_logs: codebuild::CloudWatchLogs {
                status: "ENABLED",
                group_name: n.codebuild_log_group(project),
            },
        },
        timeout_in_minutes: env.build.timeout_minutes,
        queued_timeout_in_minutes: 480,
        tags: cx.tags(),
    }
}

fn pipeline_role(cx: &Context, core: &CoreExports) -> iam::Role {
    let n = &cx.naming;
    let project_arns: Vec<Expr> = PROJECTS
        .iter()
        .map(|p| Expr::arn("codebuild", &format!("project/{}", n.resource(p))))
        .collect();
    let mut statements = artifact_access(core, &["s3:GetBucketVersioning", "s3:GetBucketLocation"]);
    statements.extend([Statement::allow(
        "RunOwnBuilds",
        &[
            "codebuild:StartBuild",
            "codebuild:BatchGetBuilds",
            "codebuild:StopBuild",
        ],
        project_arns,
    )]);
    if cx.env.pipeline.manual_approval {
        statements.push(Statement::allow(
            "NotifyApprovers",
            &["sns:Publish"],
            vec![approvals_topic_arn(cx)],
        ));
    }
    iam::Role {
        role_name: n.role("pipeline"),
        description: format!("CodePipeline {}", n.base()),
        assume_role_policy_document: service_trust("codepipeline.amazonaws.com"),
        policies: vec![iam::InlinePolicy {
            policy_name: "least-privilege".into(),
            policy_document: PolicyDocument::new(statements),
        }],
        tags: cx.tags(),
    }
}

/// The approvals topic lives in Monitoring (deployed after this stack), so its ARN is built
/// from its name rather than imported.
fn approvals_topic_arn(cx: &Context) -> Expr {
    Expr::arn("sns", &cx.naming.resource("approvals"))
}

fn artifact(name: &str) -> Option<Vec<cp::ArtifactName>> {
    Some(vec![cp::ArtifactName { name: name.into() }])
}

fn codebuild_action(
    name: &str,
    project: &Handle<codebuild::Project>,
    input: &str,
    output: Option<&str>,
    run_order: u32,
) -> cp::Action {
    let mut configuration = IndexMap::new();
    configuration.insert("ProjectName".to_string(), project.reference());
    let is_build = output.is_some();
    if name.starts_with("Deploy_") {
        // What the deploy buildspecs record in the deployments table (the rollback Lambda stops
        // `PIPELINE_EXECUTION_ID`) and how they time a deployment.
        let vars = serde_json::json!([
            {"name": "PIPELINE_EXECUTION_ID", "value": "#{codepipeline.PipelineExecutionId}"},
            {"name": "COMMIT_ID", "value": format!("#{{{SOURCE_NAMESPACE}.CommitId}}")},
            {"name": "PIPELINE_STARTED_AT", "value": format!("#{{{BUILD_NAMESPACE}.PIPELINE_STARTED_AT}}")}
        ]);
        configuration.insert("EnvironmentVariables".to_string(), Expr::Str(vars.to_string()));
    }
    cp::Action {
        namespace: is_build.then(|| BUILD_NAMESPACE.to_string()),
        name: name.into(),
        action_type_id: cp::ActionTypeId {
            category: if output.is_some() { "Build" } else { "Test" },
            owner: "AWS",
            provider: "CodeBuild",
            version: "1",
        },
        run_order,
        configuration,
        input_artifacts: artifact(input),
        output_artifacts: output.and_then(artifact),
    }
}

fn pipeline(
    cx: &Context,
    core: &CoreExports,
    role: &Handle<iam::Role>,
    projects: &IndexMap<&str, Handle<codebuild::Project>>,
) -> cp::Pipeline {
    let n = &cx.naming;
    let mut source_config = IndexMap::new();
    source_config.insert(
        "Owner".to_string(),
        Expr::Dynamic(DynamicRef::Ssm(n.ssm_parameter("github-owner"))),
    );
    source_config.insert(
        "Repo".to_string(),
        Expr::Dynamic(DynamicRef::Ssm(n.ssm_parameter("github-repo"))),
    );
    source_config.insert("Branch".to_string(), Expr::str(cx.env.source.branch.clone()));
    source_config.insert(
        "OAuthToken".to_string(),
        Expr::Dynamic(DynamicRef::SecretsManager {
            secret_id: n.github_token_secret(),
            json_key: None,
        }),
    );
    source_config.insert("PollForSourceChanges".to_string(), Expr::Bool(false));
    let mut stages = vec![cp::Stage {
        name: "Source".into(),
        actions: vec![cp::Action {
            name: SOURCE_ACTION.into(),
            action_type_id: cp::ActionTypeId {
                category: "Source",
                owner: "ThirdParty",
                provider: "GitHub",
                version: "1",
            },
            run_order: 1,
            configuration: source_config,
            input_artifacts: None,
            output_artifacts: artifact("SourceOutput"),
            namespace: Some(SOURCE_NAMESPACE.to_string()),
        }],
    }];
    for (stage, actions) in STAGES {
        let mut list = Vec::new();
        let mut order = 1;
        if stage == "ProductionEnvironment" && cx.env.pipeline.manual_approval {
            let mut configuration = IndexMap::new();
            configuration.insert("NotificationArn".to_string(), approvals_topic_arn(cx));
            configuration.insert(
                "CustomData".to_string(),
                Expr::str(format!("Approve the production deployment of {}", n.base())),
            );
            list.push(cp::Action {
                name: APPROVAL_ACTION.into(),
                action_type_id: cp::ActionTypeId {
                    category: "Approval",
                    owner: "AWS",
                    provider: "Manual",
                    version: "1",
                },
                run_order: order,
                configuration,
                input_artifacts: None,
                output_artifacts: None,
                namespace: None,
            });
            order += 1;
        }
        for (action, project) in actions.iter() {
            let Some(handle) = projects.get(project) else { continue };
            let output = (*project == "build").then_some("BuildOutput");
            let input = if *project == "build" {
                "SourceOutput"
            } else {
                "BuildOutput"
            };
            list.push(codebuild_action(action, handle, input, output, order));
            order += 1;
        }
        stages.push(cp::Stage {
            name: stage.into(),
            actions: list,
        });
    }
    cp::Pipeline {
        name: n.base(),
        pipeline_type: "V2",
        execution_mode: "QUEUED",
        role_arn: role.arn(),
        artifact_store: cp::ArtifactStore {
            store_type: "S3",
            location: core.bucket_name.import(),
            encryption_key: cp::EncryptionKey {
                id: core.key_arn.import(),
                key_type: "KMS",
            },
        },
        restart_execution_on_update: false,
        stages,
        tags: cx.tags(),
    }
}

/// The buildspec as embedded in the template: the file without its comment-only and blank lines
/// (outside block scalars), so the same YAML costs fewer of the template's 51,200 bytes.
/// The readable, commented file stays the source (`assets/buildspecs/`).
pub fn embedded_buildspec(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // Inside a block scalar (`key: |`), lines indented deeper than the key belong to it.
    let mut block_indent: Option<usize> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if let Some(key_indent) = block_indent {
            if trimmed.is_empty() || indent > key_indent {
                out.push_str(line.trim_end());
                out.push('\n');
                continue;
            }
            block_indent = None;
        }
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let body = trimmed.split(" #").next().unwrap_or(trimmed).trim_end();
        if body.ends_with('|')
            || body.ends_with('>')
            || body.ends_with("|-")
            || body.ends_with(">-")
            || body.ends_with("|+")
            || body.ends_with(">+")
        {
            block_indent = Some(indent);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_buildspecs_are_the_same_yaml_as_the_files() {
        for project in PROJECTS {
            let file = assets::buildspec(project).unwrap_or_default();
            let embedded = embedded_buildspec(file);
            let a: serde_yaml::Value = serde_yaml::from_str(file).unwrap();
            let b: serde_yaml::Value = serde_yaml::from_str(&embedded).unwrap();
            assert_eq!(a, b, "{project}");
            assert!(embedded.len() < file.len(), "{project}: nothing stripped");
        }
    }

    #[test]
    fn block_scalars_keep_their_comment_lines() {
        let text = "# header\nphases:\n  build:\n    commands:\n      - |\n        # shell comment\n        echo hi\n\n        echo bye\n      # yaml comment\n      - ls\n";
        let embedded = embedded_buildspec(text);
        assert!(embedded.contains("# shell comment"));
        assert!(!embedded.contains("# yaml comment") && !embedded.contains("# header"));
        let a: serde_yaml::Value = serde_yaml::from_str(text).unwrap();
        let b: serde_yaml::Value = serde_yaml::from_str(&embedded).unwrap();
        assert_eq!(a, b);
    }
}
