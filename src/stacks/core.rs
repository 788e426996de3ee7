//! Core stack (`{Prefix}Core{Env}`): the KMS key, the artifacts bucket, the deployments table and
//! every log group. Everything stateful lives here, so the other stacks can be replaced freely.

use super::{Context, Export};
use crate::model::iam::{PolicyDocument, Principal, Statement};
use crate::model::naming::{PROJECTS, StackKind};
use crate::model::resources::{dynamodb, kms, logs, s3};
use crate::model::{Expr, Handle, ResourceOptions, Template, TemplateError};
use serde_json::json;

/// What Core exports for the later stacks of the same environment.
pub struct CoreExports {
    pub key_arn: Export,
    pub bucket_name: Export,
    pub bucket_arn: Export,
    pub table_name: Export,
    pub table_arn: Export,
    pub rollback_log_group_name: Export,
}

pub fn build(cx: &Context) -> Result<(Template, CoreExports), TemplateError> {
    let n = &cx.naming;
    let mut t = cx.template(
        StackKind::Core,
        "Kiro CD pipeline core: encryption key, artifacts, deployments, logs",
    );
    let retain = || ResourceOptions {
        retain: cx.stateful_policy(),
        ..Default::default()
    };

    let key = t.add_with("EncryptionKey", key(cx), retain())?;
    t.add(
        "EncryptionKeyAlias",
        kms::Alias {
            alias_name: n.key_alias(),
            target_key_id: key.reference(),
        },
    )?;

    let bucket = t.add_with("ArtifactsBucket", bucket(cx, &key), retain())?;
    t.add(
        "ArtifactsBucketPolicy",
        s3::BucketPolicy {
            bucket: bucket.reference(),
            policy_document: tls_only(&bucket),
        },
    )?;

    let table = t.add_with("DeploymentsTable", table(cx, &key), retain())?;

    let log_group = |name: String| logs::LogGroup {
        log_group_name: name,
        kms_key_id: key.arn(),
        retention_in_days: cx.env.logs.retention_days,
        tags: cx.tags(),
    };
    t.add_with("PipelineLogGroup", log_group(n.pipeline_log_group()), retain())?;
    let rollback_logs = t.add_with("RollbackLogGroup", log_group(n.rollback_log_group()), retain())?;
    for project in PROJECTS {
        let id = format!("{}LogGroup", crate::model::naming::pascal_case(project));
        t.add_with(&id, log_group(n.codebuild_log_group(project)), retain())?;
    }

    let core = StackKind::Core;
    let exports = CoreExports {
        bucket_name: cx.export(
            &mut t,
            core,
            "ArtifactsBucketName",
            "Artifacts bucket name",
            bucket.reference(),
        )?,
        bucket_arn: cx.export(&mut t, core, "ArtifactsBucketArn", "Artifacts bucket ARN", bucket.arn())?,
        table_name: cx.export(
            &mut t,
            core,
            "DeploymentsTableName",
            "Deployments table name",
            table.reference(),
        )?,
        table_arn: cx.export(
            &mut t,
            core,
            "DeploymentsTableArn",
            "Deployments table ARN",
            table.arn(),
        )?,
        key_arn: cx.export(
            &mut t,
            core,
            "KmsKeyArn",
            "KMS key ARN (artifacts, table, logs, topics, queue)",
            key.arn(),
        )?,
        rollback_log_group_name: cx.export(
            &mut t,
            core,
            "RollbackLogGroupName",
            "Log group of the rollback Lambda",
            rollback_logs.reference(),
        )?,
    };
    Ok((t, exports))
}

fn key(cx: &Context) -> kms::Key {
    let n = &cx.naming;
    // Each ARN pattern is an `Fn::Sub`, so the key policy stays region- and account-agnostic.
    let log_group_arn = |name: String| json!({ "Fn::Sub": format!("arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:{name}") });
    let log_groups = serde_json::Value::Array(vec![
        log_group_arn(n.pipeline_log_group()),
        log_group_arn(n.rollback_log_group()),
        log_group_arn(format!("/aws/codebuild/{}-*", n.base())),
    ]);
    let in_account = |s: Statement| s.condition("StringEquals", "aws:SourceAccount", json!({"Ref": "AWS::AccountId"}));
    kms::Key {
        description: format!("{}: artifacts, deployments table, logs, topics and queue", n.base()),
        enable_key_rotation: true,
        key_spec: "SYMMETRIC_DEFAULT",
        key_usage: "ENCRYPT_DECRYPT",
        pending_window_in_days: 30,
        key_policy: PolicyDocument::new(vec![
            // Key policies name the key itself as `*`. The account root keeps full control so
            // IAM policies (the roles below) can grant use of the key; without it the key
            // becomes unmanageable.
            Statement::allow("AccountAdministers", &["kms:*"], vec![Expr::str("*")])
                .principal(Principal::account_root()),
            Statement::allow(
                "CloudWatchLogsUseKeyForOwnLogGroups",
                &[
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncryptFrom",
                    "kms:ReEncryptTo",
                    "kms:GenerateDataKey",
                    "kms:GenerateDataKeyWithoutPlaintext",
                    "kms:DescribeKey",
                ],
                vec![Expr::str("*")],
            )
            .principal(Principal::Service(Expr::sub("logs.${AWS::Region}.amazonaws.com")))
            .condition("ArnLike", "kms:EncryptionContext:aws:logs:arn", log_groups),
            in_account(
                Statement::allow(
                    "CloudWatchAlarmsPublishToEncryptedTopics",
                    &["kms:Decrypt", "kms:GenerateDataKey"],
                    vec![Expr::str("*")],
                )
                .principal(Principal::Service(Expr::str("cloudwatch.amazonaws.com"))),
            ),
            in_account(
                Statement::allow(
                    "EventBridgeSendsToEncryptedDeadLetterQueue",
                    &["kms:Decrypt", "kms:GenerateDataKey"],
                    vec![Expr::str("*")],
                )
                .principal(Principal::Service(Expr::str("events.amazonaws.com"))),
            ),
        ]),
        tags: cx.tags(),
    }
}

fn bucket(cx: &Context, key: &Handle<kms::Key>) -> s3::Bucket {
    let a = &cx.env.artifacts;
    s3::Bucket {
        bucket_name: cx.naming.bucket(),
        bucket_encryption: s3::BucketEncryption {
            server_side_encryption_configuration: vec![s3::EncryptionRule {
                bucket_key_enabled: true,
                server_side_encryption_by_default: s3::EncryptionByDefault {
                    sse_algorithm: "aws:kms",
                    kms_master_key_id: key.arn(),
                },
            }],
        },
        versioning_configuration: s3::VersioningConfiguration { status: "Enabled" },
        public_access_block_configuration: s3::PublicAccessBlockConfiguration::all_blocked(),
        ownership_controls: Some(s3::OwnershipControls {
            rules: vec![s3::OwnershipRule {
                object_ownership: "BucketOwnerEnforced",
            }],
        }),
        lifecycle_configuration: s3::LifecycleConfiguration {
            rules: vec![s3::LifecycleRule {
                id: "expire-artifacts".into(),
                status: "Enabled",
                transitions: Some(vec![s3::Transition {
                    storage_class: "STANDARD_IA",
                    transition_in_days: a.transition_to_ia_days,
                }]),
                expiration_in_days: Some(a.expire_days),
                noncurrent_version_expiration: Some(s3::NoncurrentVersionExpiration {
                    noncurrent_days: a.noncurrent_expire_days,
                }),
                abort_incomplete_multipart_upload: Some(s3::AbortIncompleteMultipartUpload {
                    days_after_initiation: 7,
                }),
            }],
        },
        object_lock_enabled: None,
        logging_configuration: None,
        tags: cx.tags(),
    }
}

/// Denies every request that does not use TLS.
fn tls_only(bucket: &Handle<s3::Bucket>) -> PolicyDocument {
    PolicyDocument::new(vec![
        Statement::deny(
            "DenyInsecureTransport",
            &["s3:*"],
            vec![
                bucket.arn(),
                Expr::Join(String::new(), vec![bucket.arn(), Expr::str("/*")]),
            ],
        )
        .principal(Principal::Everyone)
        .condition("Bool", "aws:SecureTransport", json!("false")),
    ])
}

fn table(cx: &Context, key: &Handle<kms::Key>) -> dynamodb::Table {
    use dynamodb::*;
    let attr = |name: &str| AttributeDefinition {
        attribute_name: name.into(),
        attribute_type: "S",
    };
    let k = |name: &str, key_type| KeySchema {
        attribute_name: name.into(),
        key_type,
    };
    Table {
        table_name: cx.naming.table(),
        billing_mode: "PAY_PER_REQUEST",
        attribute_definitions: vec![attr("deploymentId"), attr("environment"), attr("status")],
        key_schema: vec![k("deploymentId", "HASH")],
        global_secondary_indexes: vec![GlobalSecondaryIndex {
            index_name: "EnvironmentStatusIndex".into(),
            key_schema: vec![k("environment", "HASH"), k("status", "RANGE")],
            projection: Projection { projection_type: "ALL" },
        }],
        sse_specification: SseSpecification {
            sse_enabled: true,
            sse_type: "KMS",
            kms_master_key_id: key.arn(),
        },
        point_in_time_recovery_specification: PointInTimeRecoverySpecification {
            point_in_time_recovery_enabled: true,
        },
        time_to_live_specification: TimeToLiveSpecification {
            attribute_name: "expiresAt".into(),
            enabled: true,
        },
        deletion_protection_enabled: cx.env.retain_stateful,
        tags: cx.tags(),
    }
}
