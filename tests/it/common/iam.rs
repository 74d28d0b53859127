//! A small IAM policy evaluator for policy-simulation tests of what `onwatch generate` writes:
//! identity policies plus one resource-based policy (table, key or trust policy), in one account,
//! with AWS's order: an explicit deny wins, then any allow, else the implicit deny. It knows the
//! condition operators the generated policies use and fails the test on any other.

use std::collections::BTreeMap;

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Denied by the statement with this Sid.
    ExplicitDeny(String),
    ImplicitDeny,
}

pub struct Request<'a> {
    /// The principal's ARN (a role ARN for a role session), or a service principal such as
    /// `states.amazonaws.com`.
    pub principal: &'a str,
    pub action: &'a str,
    pub resource: &'a str,
    /// Condition keys of the request (`aws:PrincipalArn` is added from `principal`).
    pub context: BTreeMap<&'a str, Vec<&'a str>>,
}

impl<'a> Request<'a> {
    pub fn new(principal: &'a str, action: &'a str, resource: &'a str) -> Self {
        Request { principal, action, resource, context: BTreeMap::new() }
    }

    pub fn with(mut self, key: &'a str, values: &[&'a str]) -> Self {
        self.context.insert(key, values.to_vec());
        self
    }

    fn values(&self, key: &str) -> Option<Vec<&str>> {
        if key == "aws:PrincipalArn" && self.principal.starts_with("arn:") {
            return Some(vec![self.principal]);
        }
        self.context.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.clone())
    }
}

fn list(value: Option<&Value>) -> Vec<&str> {
    match value {
        None => Vec::new(),
        Some(Value::String(text)) => vec![text.as_str()],
        Some(Value::Array(items)) => items.iter().map(|v| v.as_str().expect("policy lists hold strings")).collect(),
        Some(other) => panic!("unexpected policy value {other}"),
    }
}

fn glob(pattern: &str, text: &str, case_insensitive: bool) -> bool {
    let (pattern, text) = if case_insensitive { (pattern.to_lowercase(), text.to_lowercase()) } else { (pattern.to_string(), text.to_string()) };
    let regex = format!("^{}$", regex::escape(&pattern).replace("\\*", ".*").replace("\\?", "."));
    regex::Regex::new(&regex).unwrap().is_match(&text)
}

fn account_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// How a statement's Principal matches the request: not at all, through the account root (IAM
/// decides), or directly.
#[derive(PartialEq)]
enum PrincipalMatch {
    No,
    ViaAccount,
    Direct,
}

fn principal_match(statement: &Value, request: &Request) -> PrincipalMatch {
    let Some(principal) = statement.get("Principal") else { return PrincipalMatch::Direct };
    if principal == "*" {
        return PrincipalMatch::Direct;
    }
    let mut found = PrincipalMatch::No;
    for (kind, ids) in principal.as_object().expect("Principal is * or an object") {
        for id in list(Some(ids)) {
            match kind.as_str() {
                "AWS" if id == "*" || id == request.principal => return PrincipalMatch::Direct,
                "AWS" if id.ends_with(":root") && account_of(id) == account_of(request.principal) => found = PrincipalMatch::ViaAccount,
                "Service" if id == request.principal => return PrincipalMatch::Direct,
                _ => {}
            }
        }
    }
    found
}

fn conditions_hold(statement: &Value, request: &Request) -> bool {
    let Some(conditions) = statement.get("Condition") else { return true };
    conditions.as_object().unwrap().iter().all(|(operator, keys)| {
        keys.as_object().unwrap().iter().all(|(key, wanted)| {
            let wanted = list(Some(wanted));
            let present = request.values(key);
            let (operator, if_exists) = match operator.strip_suffix("IfExists") {
                Some(base) => (base, true),
                None => (operator.as_str(), false),
            };
            let Some(values) = present else {
                // An absent key: only the negated operators, ...IfExists and ForAllValues hold.
                return if_exists || operator.contains("Not") || operator.starts_with("ForAllValues:") || (operator == "Null" && wanted == ["true"]);
            };
            let equal = |a: &str, b: &str| a == b;
            let like = |a: &str, b: &str| glob(b, a, false);
            let any = |matcher: &dyn Fn(&str, &str) -> bool| values.iter().any(|v| wanted.iter().any(|w| matcher(v, w)));
            match operator {
                "StringEquals" | "ArnEquals" => any(&equal) || (operator == "ArnEquals" && any(&like)),
                "StringLike" | "ArnLike" => any(&like),
                "StringNotEquals" => !any(&equal),
                "ArnNotEquals" | "ArnNotLike" | "StringNotLike" => !any(&like),
                "ForAllValues:StringEquals" => values.iter().all(|v| wanted.contains(v)),
                "ForAnyValue:StringEquals" => any(&equal),
                "Null" => wanted == ["false"],
                other => panic!("the evaluator does not know condition operator {other}"),
            }
        })
    })
}

fn applies(statement: &Value, request: &Request) -> bool {
    let actions_match = match (statement.get("Action"), statement.get("NotAction")) {
        (Some(actions), _) => list(Some(actions)).iter().any(|a| glob(a, request.action, true)),
        (None, Some(not)) => !list(Some(not)).iter().any(|a| glob(a, request.action, true)),
        _ => false,
    };
    let resources_match = match (statement.get("Resource"), statement.get("NotResource")) {
        (Some(resources), _) => list(Some(resources)).iter().any(|r| glob(r, request.resource, false)),
        (None, Some(not)) => !list(Some(not)).iter().any(|r| glob(r, request.resource, false)),
        // Trust policies name no resource.
        _ => true,
    };
    actions_match && resources_match && conditions_hold(statement, request)
}

fn statements(policy: &Value) -> Vec<&Value> {
    match &policy["Statement"] {
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    }
}

/// Evaluates `request` against the requester's identity policies and one resource-based policy.
/// A resource policy that allows only through the account root defers to the identity policies,
/// as KMS key policies do.
pub fn evaluate(identity: &[&Value], resource_policy: Option<&Value>, request: &Request) -> Decision {
    let mut allowed = false;
    for policy in identity {
        for statement in statements(policy) {
            if !applies(statement, request) {
                continue;
            }
            if statement["Effect"] == "Deny" {
                return Decision::ExplicitDeny(statement["Sid"].as_str().unwrap_or("").to_string());
            }
            allowed = true;
        }
    }
    if let Some(policy) = resource_policy {
        for statement in statements(policy) {
            let principal = principal_match(statement, request);
            if principal == PrincipalMatch::No || !applies(statement, request) {
                continue;
            }
            if statement["Effect"] == "Deny" {
                return Decision::ExplicitDeny(statement["Sid"].as_str().unwrap_or("").to_string());
            }
            if principal == PrincipalMatch::Direct {
                allowed = true;
            }
        }
    }
    if allowed {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}
