use super::Tags;
use crate::model::expr::Expr;
use crate::model::template::{Handle, ResourceType};
use indexmap::IndexMap;
use serde::Serialize;

/// `AWS::CodePipeline::Pipeline`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Pipeline {
    pub name: String,
    pub pipeline_type: &'static str,
    pub execution_mode: &'static str,
    pub role_arn: Expr,
    pub artifact_store: ArtifactStore,
    pub restart_execution_on_update: bool,
    pub stages: Vec<Stage>,
    pub tags: Tags,
}

impl ResourceType for Pipeline {
    const TYPE: &'static str = "AWS::CodePipeline::Pipeline";
}

impl Handle<Pipeline> {
    pub fn version(&self) -> Expr {
        self.att("Version")
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ArtifactStore {
    #[serde(rename = "Type")]
    pub store_type: &'static str,
    pub location: Expr,
    pub encryption_key: EncryptionKey,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptionKey {
    pub id: Expr,
    #[serde(rename = "Type")]
    pub key_type: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Stage {
    pub name: String,
    pub actions: Vec<Action>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Action {
    pub name: String,
    pub action_type_id: ActionTypeId,
    pub run_order: u32,
    pub configuration: IndexMap<String, Expr>,
    pub input_artifacts: Option<Vec<ArtifactName>>,
    pub output_artifacts: Option<Vec<ArtifactName>>,
    /// Exposes the action's output variables as `#{Namespace.Name}` to later actions.
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ActionTypeId {
    pub category: &'static str,
    pub owner: &'static str,
    pub provider: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ArtifactName {
    pub name: String,
}

/// `AWS::CodePipeline::Webhook`: GitHub push events, HMAC-authenticated.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Webhook {
    pub name: String,
    pub authentication: &'static str,
    pub authentication_configuration: WebhookAuthConfiguration,
    pub filters: Vec<WebhookFilter>,
    pub target_pipeline: Expr,
    pub target_pipeline_version: Expr,
    pub target_action: String,
    pub register_with_third_party: bool,
}

impl ResourceType for Webhook {
    const TYPE: &'static str = "AWS::CodePipeline::Webhook";
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct WebhookAuthConfiguration {
    pub secret_token: Expr,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct WebhookFilter {
    pub json_path: String,
    pub match_equals: String,
}
