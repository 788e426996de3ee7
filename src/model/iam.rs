//! Typed IAM policy documents.

use super::expr::Expr;
use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;

/// An IAM policy document (identity or resource policy).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDocument {
    pub version: &'static str,
    pub statement: Vec<Statement>,
}

impl PolicyDocument {
    pub fn new(statement: Vec<Statement>) -> Self {
        PolicyDocument {
            version: "2012-10-17",
            statement,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// Who a resource policy or trust policy applies to.
#[derive(Debug, Clone, PartialEq)]
pub enum Principal {
    /// `{"Service": "x.amazonaws.com"}` (an `Fn::Sub` for regional service principals).
    Service(Expr),
    /// `{"AWS": <arn>}`, e.g. this account's root.
    Aws(Expr),
    /// `"*"`: everyone. Only for Deny statements or with a condition.
    Everyone,
}

impl Principal {
    /// This account's root principal (`arn:${AWS::Partition}:iam::${AWS::AccountId}:root`).
    pub fn account_root() -> Self {
        Principal::Aws(Expr::account_arn("iam", "root"))
    }
}

impl Serialize for Principal {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            Principal::Everyone => s.serialize_str("*"),
            Principal::Service(service) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("Service", service)?;
                m.end()
            }
            Principal::Aws(arn) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("AWS", arn)?;
                m.end()
            }
        }
    }
}

/// One statement. Actions are explicit (`s3:GetObject`), never `*` or `service:*`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    pub effect: Effect,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<Principal>,
    pub action: Vec<String>,
    /// Empty only in trust policies (which name no resource).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resource: Vec<Expr>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub condition: IndexMap<String, IndexMap<String, Value>>,
}

impl Statement {
    /// An Allow statement for `actions` on `resources`.
    pub fn allow(sid: &str, actions: &[&str], resources: Vec<Expr>) -> Self {
        Statement {
            sid: Some(sid.to_string()),
            effect: Effect::Allow,
            principal: None,
            action: actions.iter().map(|a| a.to_string()).collect(),
            resource: resources,
            condition: IndexMap::new(),
        }
    }

    /// A Deny statement for `actions` on `resources`.
    pub fn deny(sid: &str, actions: &[&str], resources: Vec<Expr>) -> Self {
        Statement {
            effect: Effect::Deny,
            ..Statement::allow(sid, actions, resources)
        }
    }

    pub fn principal(mut self, principal: Principal) -> Self {
        self.principal = Some(principal);
        self
    }

    /// Adds `operator: {key: value}` to the condition block.
    pub fn condition(mut self, operator: &str, key: &str, value: impl Into<Value>) -> Self {
        self.condition
            .entry(operator.to_string())
            .or_default()
            .insert(key.to_string(), value.into());
        self
    }
}

/// A trust policy letting one AWS service assume a role, scoped to this account.
pub fn service_trust(service: &str) -> PolicyDocument {
    PolicyDocument::new(vec![Statement {
        sid: Some("TrustedService".to_string()),
        effect: Effect::Allow,
        principal: Some(Principal::Service(Expr::str(service))),
        action: vec!["sts:AssumeRole".to_string()],
        resource: Vec::new(),
        condition: IndexMap::new(),
    }])
}
