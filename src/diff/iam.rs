//! IAM statements added and removed, from every policy-bearing property, and whether
//! permissions broaden (actions, resources or principals grow, wildcards included, a condition
//! goes away, or a `Deny` is removed).

use super::normalise::{canonical, parse_json_string};
use indexmap::IndexMap;
use serde::Serialize;
use serde_json::{Map, Value};

/// Added or removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatementChange {
    Added,
    Removed,
}

/// One IAM statement added or removed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IamChange {
    pub change: StatementChange,
    /// Logical id of the resource holding the policy.
    pub logical_id: String,
    #[serde(rename = "type")]
    pub resource_type: String,
    /// Which policy of the resource: `/Properties/PolicyDocument`, `/Properties/Policies[Name]`.
    pub source: String,
    pub effect: String,
    /// `AWS:arn...`, `Service:x.amazonaws.com`, `AWS:*`; prefixed `NOT ` for `NotPrincipal`.
    pub principal: Vec<String>,
    /// Actions; prefixed `NOT ` for `NotAction`.
    pub action: Vec<String>,
    /// Resources; prefixed `NOT ` for `NotResource`.
    pub resource: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<Value>,
    /// This change widens access.
    pub broadened: bool,
    /// Why it widens access (`actions: s3:*`, `condition removed`, ...).
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
struct Stmt {
    effect: String,
    principal: Vec<String>,
    not_principal: bool,
    action: Vec<String>,
    not_action: bool,
    resource: Vec<String>,
    not_resource: bool,
    condition: Option<Value>,
    key: String,
}

type Groups = IndexMap<(String, String), (String, Vec<Stmt>)>;

/// Statement changes between two `Resources` sections.
pub fn diff_iam(before: &Map<String, Value>, after: &Map<String, Value>) -> Vec<IamChange> {
    // Only resources that differ can change statements.
    let differs = |id: &String| before.get(id) != after.get(id);
    let b = groups(before, &differs);
    let a = groups(after, &differs);
    let mut out = Vec::new();
    let empty: Vec<Stmt> = Vec::new();
    let mut keys: Vec<&(String, String)> = b.keys().collect();
    keys.extend(a.keys().filter(|k| !b.contains_key(*k)));
    for key in keys {
        let (bt, bs) = b.get(key).map(|(t, s)| (t.as_str(), s)).unwrap_or(("", &empty));
        let (at, as_) = a.get(key).map(|(t, s)| (t.as_str(), s)).unwrap_or(("", &empty));
        let resource_type = if at.is_empty() { bt } else { at };
        for s in bs.iter().filter(|s| !as_.iter().any(|x| x.key == s.key)) {
            let mut reasons = Vec::new();
            if s.effect == "Deny" {
                reasons.push("Deny statement removed".to_string());
            }
            out.push(change(StatementChange::Removed, key, resource_type, s, reasons));
        }
        for s in as_.iter().filter(|s| !bs.iter().any(|x| x.key == s.key)) {
            let reasons = if s.effect == "Allow" { widening(s, bs) } else { vec![] };
            out.push(change(StatementChange::Added, key, resource_type, s, reasons));
        }
    }
    out
}

fn change(kind: StatementChange, key: &(String, String), t: &str, s: &Stmt, reasons: Vec<String>) -> IamChange {
    let not = |on: bool, v: &[String]| -> Vec<String> {
        v.iter()
            .map(|x| if on { format!("NOT {x}") } else { x.clone() })
            .collect()
    };
    IamChange {
        change: kind,
        logical_id: key.0.clone(),
        resource_type: t.to_string(),
        source: key.1.clone(),
        effect: s.effect.clone(),
        principal: not(s.not_principal, &s.principal),
        action: not(s.not_action, &s.action),
        resource: not(s.not_resource, &s.resource),
        condition: s.condition.clone(),
        broadened: !reasons.is_empty(),
        reasons,
    }
}

/// Why an added Allow statement widens access compared with the Allow statements before.
/// The action shown for an attached managed policy (`ManagedPolicyArns`).
pub const MANAGED_POLICY: &str = "(managed policy attached)";

fn widening(s: &Stmt, before: &[Stmt]) -> Vec<String> {
    if s.action.iter().any(|a| a == MANAGED_POLICY) {
        return vec![format!("managed policy attached: {}", s.resource.join(", "))];
    }
    let allows: Vec<&Stmt> = before.iter().filter(|t| t.effect == "Allow").collect();
    if allows.is_empty() {
        return vec!["new grant".to_string()];
    }
    if allows.iter().any(|t| covers(t, s)) {
        return vec![];
    }
    let mut reasons = Vec::new();
    let grown = |field: &str, not_s: bool, items: &[String], get: &dyn Fn(&Stmt) -> (bool, Vec<String>)| {
        let new: Vec<String> = items
            .iter()
            .filter(|i| {
                !allows.iter().any(|t| {
                    let (not_t, pats) = get(t);
                    not_t == not_s && pats.iter().any(|p| glob(p, i, field == "actions"))
                })
            })
            .cloned()
            .collect();
        (!new.is_empty()).then(|| format!("{field}: {}", new.join(", ")))
    };
    if let Some(r) = grown("actions", s.not_action, &s.action, &|t| {
        (t.not_action, t.action.clone())
    }) {
        reasons.push(r);
    }
    if let Some(r) = grown("resources", s.not_resource, &s.resource, &|t| {
        (t.not_resource, t.resource.clone())
    }) {
        reasons.push(r);
    }
    if let Some(r) = grown("principals", s.not_principal, &s.principal, &|t| {
        (t.not_principal, t.principal.clone())
    }) {
        reasons.push(r);
    }
    if reasons.is_empty() {
        let same_scope = allows.iter().any(|t| covers_ignoring_condition(t, s));
        reasons.push(if same_scope {
            "condition removed or relaxed".to_string()
        } else {
            "grants a combination not granted before".to_string()
        });
    }
    reasons
}

fn covers_ignoring_condition(t: &Stmt, s: &Stmt) -> bool {
    let all = |not_t: bool, not_s: bool, pats: &[String], items: &[String], ci: bool| {
        not_t == not_s
            && if not_s {
                pats == items
            } else {
                items.iter().all(|i| pats.iter().any(|p| glob(p, i, ci)))
            }
    };
    all(t.not_action, s.not_action, &t.action, &s.action, true)
        && all(t.not_resource, s.not_resource, &t.resource, &s.resource, false)
        && all(t.not_principal, s.not_principal, &t.principal, &s.principal, false)
}

/// Does before-statement `t` grant at least what `s` grants?
fn covers(t: &Stmt, s: &Stmt) -> bool {
    if !covers_ignoring_condition(t, s) {
        return false;
    }
    match (&t.condition, &s.condition) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(tc), Some(sc)) => condition_contains(sc, tc),
    }
}

/// Every operator/key of `inner` appears in `outer` with the same value.
fn condition_contains(outer: &Value, inner: &Value) -> bool {
    let (Some(o), Some(i)) = (outer.as_object(), inner.as_object()) else {
        return outer == inner;
    };
    i.iter().all(|(op, keys)| {
        o.get(op).is_some_and(|ok| match (ok.as_object(), keys.as_object()) {
            (Some(okm), Some(km)) => km
                .iter()
                .all(|(k, v)| okm.get(k).is_some_and(|x| canonical(x) == canonical(v))),
            _ => ok == keys,
        })
    })
}

/// IAM wildcard match (`*`, `?`); `ci`: case-insensitive (actions).
pub fn glob(pattern: &str, text: &str, ci: bool) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = if ci {
        (
            pattern.to_lowercase().chars().collect(),
            text.to_lowercase().chars().collect(),
        )
    } else {
        (pattern.chars().collect(), text.chars().collect())
    };
    let (mut pi, mut ti) = (0usize, 0usize);
    let (mut star, mut mark) = (None::<usize>, 0usize);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

fn groups(resources: &Map<String, Value>, differs: &dyn Fn(&String) -> bool) -> Groups {
    let mut out: Groups = IndexMap::new();
    for (id, r) in resources {
        if !differs(id) {
            continue;
        }
        let t = r.get("Type").and_then(Value::as_str).unwrap_or("");
        let Some(props) = r.get("Properties").and_then(Value::as_object) else {
            continue;
        };
        let mut add = |source: String, stmts: Vec<Stmt>| {
            if !stmts.is_empty() {
                out.insert((id.clone(), source), (t.to_string(), stmts));
            }
        };
        match t {
            "AWS::IAM::Role" | "AWS::IAM::User" | "AWS::IAM::Group" => {
                if let Some(doc) = props.get("AssumeRolePolicyDocument") {
                    add("/Properties/AssumeRolePolicyDocument".into(), document(doc));
                }
                if let Some(Value::Array(policies)) = props.get("Policies") {
                    for (i, p) in policies.iter().enumerate() {
                        let name = p
                            .get("PolicyName")
                            .map(super::render::short)
                            .unwrap_or_else(|| i.to_string());
                        if let Some(doc) = p.get("PolicyDocument") {
                            add(format!("/Properties/Policies[{name}]"), document(doc));
                        }
                    }
                }
                // Each attached managed policy: one pseudo statement (its content is not in the template).
                let arns = strings(props.get("ManagedPolicyArns"));
                let attached = arns
                    .into_iter()
                    .map(|arn| {
                        make(
                            "Allow".into(),
                            vec![],
                            false,
                            vec![MANAGED_POLICY.into()],
                            false,
                            vec![arn],
                            false,
                            None,
                        )
                    })
                    .collect();
                add("/Properties/ManagedPolicyArns".into(), attached);
            }
            "AWS::IAM::Policy"
            | "AWS::IAM::ManagedPolicy"
            | "AWS::S3::BucketPolicy"
            | "AWS::SNS::TopicPolicy"
            | "AWS::SQS::QueuePolicy"
            | "AWS::Events::EventBusPolicy"
            | "AWS::IAM::RolePolicy"
            | "AWS::IAM::UserPolicy"
            | "AWS::IAM::GroupPolicy" => {
                let key = if props.contains_key("PolicyDocument") {
                    "PolicyDocument"
                } else {
                    "Statement"
                };
                if key == "Statement" {
                    if let Some(s) = props.get("Statement") {
                        add("/Properties/Statement".into(), statement_list(s));
                    }
                } else if let Some(doc) = props.get(key) {
                    add(format!("/Properties/{key}"), document(doc));
                }
            }
            "AWS::KMS::Key" => {
                if let Some(doc) = props.get("KeyPolicy") {
                    add("/Properties/KeyPolicy".into(), document(doc));
                }
            }
            "AWS::SecretsManager::ResourcePolicy" => {
                if let Some(doc) = props.get("ResourcePolicy") {
                    add("/Properties/ResourcePolicy".into(), document(doc));
                }
            }
            "AWS::ECR::Repository" => {
                if let Some(doc) = props.get("RepositoryPolicyText") {
                    add("/Properties/RepositoryPolicyText".into(), document(doc));
                }
            }
            "AWS::Lambda::Permission" => add("/Properties".into(), lambda_permission(props)),
            _ => {}
        }
    }
    out
}

fn document(doc: &Value) -> Vec<Stmt> {
    let parsed;
    let doc = match doc {
        Value::String(s) => match parse_json_string(s) {
            Some(v) => {
                parsed = v;
                &parsed
            }
            None => return vec![],
        },
        other => other,
    };
    doc.get("Statement").map(statement_list).unwrap_or_default()
}

fn statement_list(v: &Value) -> Vec<Stmt> {
    match v {
        Value::Array(items) => items.iter().filter_map(statement).collect(),
        Value::Object(_) => statement(v).into_iter().collect(),
        _ => vec![],
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    let mut out: Vec<String> = match v {
        None => vec![],
        Some(Value::Array(items)) => items.iter().map(super::render::short).collect(),
        Some(other) => vec![super::render::short(other)],
    };
    out.sort();
    out.dedup();
    out
}

fn principals(v: Option<&Value>) -> Vec<String> {
    let mut out = Vec::new();
    match v {
        None => {}
        Some(Value::String(s)) => out.push(format!("AWS:{s}")),
        Some(Value::Object(map)) if map.keys().all(|k| !k.starts_with("Fn::") && k != "Ref") => {
            for (k, vals) in map {
                for s in strings(Some(vals)) {
                    out.push(format!("{k}:{s}"));
                }
            }
        }
        Some(other) => out.push(format!("AWS:{}", super::render::short(other))),
    }
    out.sort();
    out.dedup();
    out
}

fn statement(v: &Value) -> Option<Stmt> {
    let obj = v.as_object()?;
    let effect = obj.get("Effect").and_then(Value::as_str)?.to_string();
    let (principal, not_principal) = match obj.get("NotPrincipal") {
        Some(p) => (principals(Some(p)), true),
        None => (principals(obj.get("Principal")), false),
    };
    let (action, not_action) = match obj.get("NotAction") {
        Some(a) => (strings(Some(a)), true),
        None => (strings(obj.get("Action")), false),
    };
    let (resource, not_resource) = match obj.get("NotResource") {
        Some(r) => (strings(Some(r)), true),
        None => (strings(obj.get("Resource")), false),
    };
    let condition = obj.get("Condition").cloned();
    Some(make(
        effect,
        principal,
        not_principal,
        action,
        not_action,
        resource,
        not_resource,
        condition,
    ))
}

#[allow(clippy::too_many_arguments)]
fn make(
    effect: String,
    principal: Vec<String>,
    not_principal: bool,
    action: Vec<String>,
    not_action: bool,
    resource: Vec<String>,
    not_resource: bool,
    condition: Option<Value>,
) -> Stmt {
    let key = canonical(&serde_json::json!([
        effect,
        principal,
        not_principal,
        action,
        not_action,
        resource,
        not_resource,
        condition.as_ref().map(canonical)
    ]));
    Stmt {
        effect,
        principal,
        not_principal,
        action,
        not_action,
        resource,
        not_resource,
        condition,
        key,
    }
}

/// `AWS::Lambda::Permission` as the resource-policy statement it adds to the function.
fn lambda_permission(props: &Map<String, Value>) -> Vec<Stmt> {
    let principal = match props.get("Principal") {
        Some(Value::String(s)) if s.ends_with(".amazonaws.com") || s.ends_with(".amazonaws.com.cn") => {
            vec![format!("Service:{s}")]
        }
        Some(p) => vec![format!("AWS:{}", super::render::short(p))],
        None => vec![],
    };
    let mut condition = Map::new();
    if let Some(arn) = props.get("SourceArn") {
        condition.insert("ArnLike".into(), serde_json::json!({"AWS:SourceArn": arn}));
    }
    let mut equals = Map::new();
    if let Some(acct) = props.get("SourceAccount") {
        equals.insert("AWS:SourceAccount".into(), acct.clone());
    }
    if let Some(org) = props.get("PrincipalOrgID") {
        equals.insert("aws:PrincipalOrgID".into(), org.clone());
    }
    if !equals.is_empty() {
        condition.insert("StringEquals".into(), Value::Object(equals));
    }
    vec![make(
        "Allow".into(),
        principal,
        false,
        strings(props.get("Action")),
        false,
        strings(props.get("FunctionName")),
        false,
        (!condition.is_empty()).then_some(Value::Object(condition)),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn role(actions: Value, resource: Value, condition: Option<Value>) -> Map<String, Value> {
        let mut stmt = json!({"Effect": "Allow", "Action": actions, "Resource": resource});
        if let Some(c) = condition {
            stmt["Condition"] = c;
        }
        json!({"R": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyDocument": {"Statement": [stmt]}}}})
            .as_object()
            .cloned()
            .unwrap_or_default()
    }

    #[test]
    fn wildcard_action_is_broadening() {
        let c = diff_iam(
            &role(json!("s3:GetObject"), json!("*"), None),
            &role(json!("s3:*"), json!("*"), None),
        );
        assert_eq!(c.len(), 2);
        let added = c.iter().find(|x| x.change == StatementChange::Added);
        assert!(added.is_some_and(|a| a.broadened && a.reasons == vec!["actions: s3:*"]));
    }

    #[test]
    fn narrowing_is_not_broadening() {
        let c = diff_iam(
            &role(json!("s3:*"), json!("*"), None),
            &role(json!("s3:GetObject"), json!("arn:aws:s3:::b/*"), None),
        );
        assert!(c.iter().all(|x| !x.broadened));
    }

    #[test]
    fn dropping_a_condition_is_broadening() {
        let cond = json!({"Bool": {"aws:SecureTransport": "true"}});
        let c = diff_iam(
            &role(json!("s3:GetObject"), json!("*"), Some(cond)),
            &role(json!("s3:GetObject"), json!("*"), None),
        );
        let added = c.iter().find(|x| x.change == StatementChange::Added);
        assert!(added.is_some_and(|a| a.reasons == vec!["condition removed or relaxed"]));
    }

    #[test]
    fn attaching_a_managed_policy_is_broadening() {
        let role = |arns: Value| -> Map<String, Value> {
            json!({"R": {"Type": "AWS::IAM::Role", "Properties": {"ManagedPolicyArns": arns}}})
                .as_object()
                .cloned()
                .unwrap_or_default()
        };
        let admin = "arn:aws:iam::aws:policy/AdministratorAccess";
        let c = diff_iam(
            &role(json!(["arn:aws:iam::aws:policy/ReadOnlyAccess"])),
            &role(json!(["arn:aws:iam::aws:policy/ReadOnlyAccess", admin])),
        );
        assert_eq!(c.len(), 1);
        assert!(c[0].broadened);
        assert_eq!(c[0].reasons, vec![format!("managed policy attached: {admin}")]);
        // Detaching is not broadening.
        let c = diff_iam(&role(json!([admin])), &role(json!([])));
        assert!(c.len() == 1 && !c[0].broadened);
    }

    #[test]
    fn glob_matches_iam_wildcards() {
        assert!(glob("s3:Get*", "s3:getobject", true));
        assert!(glob("s3:*", "s3:Get*", true));
        assert!(!glob("s3:Get*", "s3:*", true));
        assert!(glob("arn:aws:s3:::b/?", "arn:aws:s3:::b/x", false));
    }
}
