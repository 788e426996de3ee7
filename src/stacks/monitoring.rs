//! Monitoring stack (`{Prefix}Monitoring{Env}`): alarms, SNS topics, the rollback Lambda with
//! its dead-letter queue and EventBridge trigger, and the dashboard.

use super::core::CoreExports;
use super::pipeline::PipelineExports;
use super::{Context, assets};
use crate::model::iam::{PolicyDocument, Principal, Statement, service_trust};
use crate::model::naming::{StackKind, pascal_case};
use crate::model::resources::{cloudwatch, events, iam, lambda, sns, sqs};
use crate::model::{DynamicRef, Expr, Handle, Pseudo, Template, TemplateError};
use indexmap::IndexMap;
use serde_json::{Value, json};

/// The custom metric namespace the buildspecs and the rollback Lambda publish to.
pub const METRIC_NAMESPACE: &str = "KiroPipeline";

pub fn build(cx: &Context, core: &CoreExports, pipeline: &PipelineExports) -> Result<Template, TemplateError> {
    let n = &cx.naming;
    let mut t = cx.template(
        StackKind::Monitoring,
        "Kiro CD pipeline monitoring: alarms, notifications, automated rollback",
    );

    let mut topics: IndexMap<&str, Handle<sns::Topic>> = IndexMap::new();
    for (topic, display) in [
        ("deployments", "deployment notifications"),
        ("approvals", "approval requests"),
        ("rollbacks", "rollback notifications"),
    ] {
        let id = pascal_case(topic);
        let handle = t.add(
            &format!("{id}Topic"),
            sns::Topic {
                topic_name: n.resource(topic),
                display_name: format!("{} {display}", n.base()),
                kms_master_key_id: core.key_arn.import(),
                tags: cx.tags(),
            },
        )?;
        t.add(
            &format!("{id}EmailSubscription"),
            sns::Subscription {
                topic_arn: handle.arn(),
                protocol: "email",
                endpoint: Expr::Dynamic(DynamicRef::Ssm(n.ssm_parameter("notification-email"))),
            },
        )?;
        topics.insert(topic, handle);
    }
    let topic = |name: &str| {
        topics
            .get(name)
            .map(Handle::<sns::Topic>::arn)
            .unwrap_or_else(|| Expr::str(""))
    };
    t.add(
        "TopicsPolicy",
        sns::TopicPolicy {
            topics: topics.values().map(Handle::<sns::Topic>::arn).collect(),
            policy_document: PolicyDocument::new(vec![
                Statement::allow(
                    "CloudWatchAlarmsPublish",
                    &["sns:Publish"],
                    topics.values().map(Handle::<sns::Topic>::arn).collect(),
                )
                .principal(Principal::Service(Expr::str("cloudwatch.amazonaws.com")))
                .condition("StringEquals", "aws:SourceAccount", json!({"Ref": "AWS::AccountId"})),
                Statement::allow(
                    "CodePipelineApprovalsPublish",
                    &["sns:Publish"],
                    vec![topic("approvals")],
                )
                .principal(Principal::Service(Expr::str("codepipeline.amazonaws.com")))
                .condition("StringEquals", "aws:SourceAccount", json!({"Ref": "AWS::AccountId"})),
                Statement::deny(
                    "DenyInsecureTransport",
                    &["sns:Publish"],
                    topics.values().map(Handle::<sns::Topic>::arn).collect(),
                )
                .principal(Principal::Everyone)
                .condition("Bool", "aws:SecureTransport", json!("false")),
            ]),
        },
    )?;

    alarms(cx, &mut t, &topic)?;

    let dlq = t.add(
        "RollbackDeadLetterQueue",
        sqs::Queue {
            queue_name: n.dlq(),
            kms_master_key_id: core.key_arn.import(),
            kms_data_key_reuse_period_seconds: 300,
            message_retention_period: 1_209_600,
            tags: cx.tags(),
        },
    )?;

    let pipeline_arn = Expr::Sub(
        "arn:${AWS::Partition}:codepipeline:${AWS::Region}:${AWS::AccountId}:${Name}".into(),
        IndexMap::from([("Name".to_string(), pipeline.pipeline_name.import())]),
    );
    let role = t.add(
        "RollbackFunctionRole",
        rollback_role(cx, core, &pipeline_arn, &topic("rollbacks"), &dlq),
    )?;
    let mut variables = IndexMap::new();
    variables.insert("ENVIRONMENT".to_string(), Expr::str(cx.env_name));
    variables.insert("NAME_PREFIX".to_string(), Expr::str(cx.env.prefix.clone()));
    variables.insert("TABLE_NAME".to_string(), core.table_name.import());
    variables.insert("PIPELINE_NAME".to_string(), pipeline.pipeline_name.import());
    variables.insert("PIPELINE_ARN".to_string(), pipeline_arn.clone());
    variables.insert("TOPIC_ARN".to_string(), topic("rollbacks"));
    let function = t.add(
        "RollbackFunction",
        lambda::Function {
            function_name: n.rollback_function(),
            description: format!(
                "Rolls back {}'s in-progress deployment when one of its alarms fires",
                n.base()
            ),
            runtime: assets::ROLLBACK_RUNTIME.to_string(),
            handler: assets::ROLLBACK_HANDLER,
            architectures: vec!["arm64"],
            code: lambda::Code {
                zip_file: assets::ROLLBACK_PY.to_string(),
            },
            role: role.arn(),
            timeout: 900,
            memory_size: 256,
            reserved_concurrent_executions: Some(2),
            environment: lambda::FunctionEnvironment { variables },
            kms_key_arn: core.key_arn.import(),
            dead_letter_config: lambda::DeadLetterConfig { target_arn: dlq.arn() },
            tracing_config: lambda::TracingConfig { mode: "Active" },
            logging_config: lambda::LoggingConfig {
                log_format: "JSON",
                log_group: core.rollback_log_group_name.import(),
            },
            tags: cx.tags(),
        },
    )?;

    let rule = t.add(
        "AlarmRollbackRule",
        events::Rule {
            name: n.event_rule(),
            description: format!(
                "ALARM of a {} or kiro-worker-{} alarm -> rollback Lambda",
                n.base(),
                cx.env_name
            ),
            state: "ENABLED",
            event_pattern: rollback_event_pattern(cx),
            targets: vec![events::Target {
                id: "RollbackFunction".into(),
                arn: function.arn(),
                retry_policy: events::RetryPolicy {
                    maximum_retry_attempts: 4,
                    maximum_event_age_in_seconds: 3600,
                },
                dead_letter_config: events::TargetDeadLetterConfig { arn: dlq.arn() },
            }],
        },
    )?;
    t.add(
        "AlarmRollbackRulePermission",
        lambda::Permission {
            action: "lambda:InvokeFunction",
            function_name: function.reference(),
            principal: "events.amazonaws.com".into(),
            source_arn: rule.arn(),
            source_account: Pseudo::AccountId.expr(),
        },
    )?;
    t.add(
        "RollbackDeadLetterQueuePolicy",
        sqs::QueuePolicy {
            queues: vec![dlq.reference()],
            policy_document: PolicyDocument::new(vec![
                Statement::allow(
                    "EventBridgeRuleSendsFailedEvents",
                    &["sqs:SendMessage"],
                    vec![dlq.arn()],
                )
                .principal(Principal::Service(Expr::str("events.amazonaws.com")))
                .condition(
                    "ArnEquals",
                    "aws:SourceArn",
                    serde_json::to_value(rule.arn()).unwrap_or(Value::Null),
                ),
                Statement::deny("DenyInsecureTransport", &["sqs:*"], vec![dlq.arn()])
                    .principal(Principal::Everyone)
                    .condition("Bool", "aws:SecureTransport", json!("false")),
            ]),
        },
    )?;

    t.add(
        "Dashboard",
        cloudwatch::Dashboard {
            dashboard_name: n.dashboard(),
            dashboard_body: dashboard_body(cx),
        },
    )?;
    Ok(t)
}

/// Only this environment's alarms (SYSTEM.md decision 5): the seed's bare `kiro-pipeline-`
/// prefix would let a test alarm roll back production.
pub fn rollback_event_pattern(cx: &Context) -> Value {
    json!({
        "source": ["aws.cloudwatch"],
        "detail-type": ["CloudWatch Alarm State Change"],
        "detail": {
            "alarmName": [
                {"prefix": format!("{}-", cx.naming.base())},
                {"prefix": format!("kiro-worker-{}-", cx.env_name)}
            ],
            "state": {"value": ["ALARM"]}
        }
    })
}

fn alarms(cx: &Context, t: &mut Template, topic: &dyn Fn(&str) -> Expr) -> Result<(), TemplateError> {
    let n = &cx.naming;
    let a = &cx.env.alarms;
    let env_dim = || {
        vec![cloudwatch::Dimension {
            name: "Environment".into(),
            value: Expr::str(cx.env_name),
        }]
    };
    let alarm = |suffix: &str,
                 description: String,
                 namespace: &str,
                 metric: &str,
                 dims,
                 statistic,
                 threshold: u32,
                 action: &str| {
        cloudwatch::Alarm {
            alarm_name: n.resource(suffix),
            alarm_description: description,
            namespace: namespace.into(),
            metric_name: metric.into(),
            dimensions: dims,
            statistic,
            period: 3600,
            evaluation_periods: 1,
            datapoints_to_alarm: 1,
            threshold: f64::from(threshold),
            comparison_operator: "GreaterThanOrEqualToThreshold",
            treat_missing_data: "notBreaching",
            actions_enabled: true,
            alarm_actions: vec![topic(action)],
            ok_actions: vec![topic(action)],
        }
    };
    t.add(
        "FailuresAlarm",
        alarm(
            "failures",
            format!(
                "{} or more failed executions of {} in an hour",
                a.failures_per_hour,
                n.base()
            ),
            "AWS/CodePipeline",
            "PipelineExecutionFailure",
            vec![cloudwatch::Dimension {
                name: "PipelineName".into(),
                value: Expr::str(n.base()),
            }],
            "Sum",
            a.failures_per_hour,
            "deployments",
        ),
    )?;
    t.add(
        "RollbacksAlarm",
        alarm(
            "rollbacks",
            format!(
                "{} or more rollbacks in {} in an hour",
                a.rollbacks_per_hour, cx.env_name
            ),
            METRIC_NAMESPACE,
            "RollbackCount",
            env_dim(),
            "Sum",
            a.rollbacks_per_hour,
            "rollbacks",
        ),
    )?;
    t.add(
        "DurationAlarm",
        alarm(
            "duration",
            format!(
                "a deployment in {} took {} seconds or more",
                cx.env_name, a.duration_seconds
            ),
            METRIC_NAMESPACE,
            "DeploymentDuration",
            env_dim(),
            "Maximum",
            a.duration_seconds,
            "deployments",
        ),
    )?;
    Ok(())
}

fn rollback_role(
    cx: &Context,
    core: &CoreExports,
    pipeline_arn: &Expr,
    rollbacks_topic: &Expr,
    dlq: &Handle<sqs::Queue>,
) -> iam::Role {
    let n = &cx.naming;
    let log_group = n.rollback_log_group();
    let statements = vec![
        Statement::allow(
            "WriteOwnLogGroup",
            &["logs:CreateLogStream", "logs:PutLogEvents"],
            // `NAME:*` covers the group (CreateLogStream) and its streams (PutLogEvents).
            vec![Expr::arn("logs", &format!("log-group:{log_group}:*"))],
        ),
        Statement::allow(
            "FindAndRecordDeployments",
            &["dynamodb:Query", "dynamodb:GetItem", "dynamodb:UpdateItem"],
            vec![
                core.table_arn.import(),
                Expr::Join(
                    String::new(),
                    vec![core.table_arn.import(), Expr::str("/index/EnvironmentStatusIndex")],
                ),
            ],
        ),
        Statement::allow(
            "StopOwnPipeline",
            &[
                "codepipeline:StopPipelineExecution",
                "codepipeline:GetPipelineState",
                "codepipeline:GetPipelineExecution",
            ],
            vec![pipeline_arn.clone()],
        ),
        Statement::allow("NotifyRollbacks", &["sns:Publish"], vec![rollbacks_topic.clone()]),
        Statement::allow("SendToDeadLetterQueue", &["sqs:SendMessage"], vec![dlq.arn()]),
        Statement::allow(
            "UseCoreKey",
            &["kms:Decrypt", "kms:GenerateDataKey"],
            vec![core.key_arn.import()],
        ),
        // X-Ray and cloudwatch:PutMetricData support only `Resource: "*"`.
        Statement::allow(
            "TraceResourceStarOnly",
            &["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
            vec![Expr::str("*")],
        ),
        Statement::allow(
            "PublishRollbackMetricResourceStarOnly",
            &["cloudwatch:PutMetricData"],
            vec![Expr::str("*")],
        )
        .condition("StringEquals", "cloudwatch:namespace", json!(METRIC_NAMESPACE)),
    ];
    iam::Role {
        role_name: n.role("rollback"),
        description: format!(
            "Rollback Lambda of {}: its table, topic, queue and pipeline only",
            n.base()
        ),
        assume_role_policy_document: service_trust("lambda.amazonaws.com"),
        policies: vec![iam::InlinePolicy {
            policy_name: "least-privilege".into(),
            policy_document: PolicyDocument::new(statements),
        }],
        tags: cx.tags(),
    }
}

/// The dashboard, built as typed JSON and serialized into the string CloudFormation wants.
/// `${AWS::Region}` is substituted at deploy time (`Fn::Sub`).
fn dashboard_body(cx: &Context) -> Expr {
    let n = &cx.naming;
    let env = cx.env_name;
    let widget = |x: u32, y: u32, title: &str, metrics: Value, stat: &str| {
        json!({
            "type": "metric",
            "x": x, "y": y, "width": 12, "height": 6,
            "properties": {
                "title": title,
                "region": "${AWS::Region}",
                "stat": stat,
                "period": 3600,
                "view": "timeSeries",
                "metrics": metrics
            }
        })
    };
    let body = json!({
        "widgets": [
            widget(0, 0, "Pipeline executions", json!([
                ["AWS/CodePipeline", "PipelineExecutionSuccess", "PipelineName", n.base()],
                ["AWS/CodePipeline", "PipelineExecutionFailure", "PipelineName", n.base()]
            ]), "Sum"),
            widget(12, 0, "Deployment duration (s)", json!([
                [METRIC_NAMESPACE, "DeploymentDuration", "Environment", env]
            ]), "Maximum"),
            widget(0, 6, "Rollbacks", json!([
                [METRIC_NAMESPACE, "RollbackCount", "Environment", env]
            ]), "Sum"),
            widget(12, 6, "Test results", json!([
                [METRIC_NAMESPACE, "TestsPassed", "Environment", env],
                [METRIC_NAMESPACE, "TestsFailed", "Environment", env],
                [METRIC_NAMESPACE, "CoveragePercent", "Environment", env]
            ]), "Average")
        ]
    });
    Expr::sub(body.to_string())
}
