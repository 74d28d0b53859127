//! Static evaluation whose values share their parts. hcl-rs's evaluator copies a variable's whole
//! value at each reference, so `a1 = [local.a0, local.a0]` doubled 24 times took 4 GB; here a
//! reference is a pointer, and only the values onwatch keeps (the arguments it reads, and the
//! inputs of the expressions hcl-rs still evaluates: function calls, operators, conditionals)
//! are copied out, each bounded in size and all of them together by a budget of the read.

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use hcl::{
    eval::{Context, Evaluate},
    expr::{ForExpr, ObjectKey, TemplateExpr, Traversal, TraversalOperator},
    template::{Directive, Element, Strip, Template},
    Expression, Map, Value,
};
use rustc_hash::FxHashMap;

/// The most elements one value may hold (`ONWATCH_TERRAFORM_MAX_VALUE_ELEMENTS` sets it). Every
/// list, object and scalar is one element; a string adds one per [`STRING_BYTES_PER_ELEMENT`].
pub const MAX_VALUE_ELEMENTS: usize = 1_000_000;

/// The copies of values one read makes, over all arguments and hcl-rs inputs, in
/// [`MAX_VALUE_ELEMENTS`]s: the per-value bound alone would let 200,000 instances copy a
/// million elements each.
pub const COPY_BUDGET_VALUES: usize = 20;

/// The deepest value, in nested lists and objects (deeper values would overflow the stack of
/// the code that walks them).
pub const MAX_VALUE_DEPTH: usize = 512;

const STRING_BYTES_PER_ELEMENT: usize = 16;

/// Why an expression has no value: it cannot be known statically, or computing it passes a bound
/// or refers to a resource block the module does not declare (an error of the read, exit 2).
#[derive(Debug)]
pub enum Failure {
    Unresolved(String),
    Bound(String),
}

type Evaluated = Result<Shared, Failure>;

/// The bounds of one read: value size and depth, and what is left of the copy budget.
pub struct Limits {
    pub max_elements: usize,
    copies_left: AtomicUsize,
}

impl Limits {
    pub fn from_env() -> Limits {
        let max_elements =
            std::env::var("ONWATCH_TERRAFORM_MAX_VALUE_ELEMENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(MAX_VALUE_ELEMENTS);
        Limits { max_elements, copies_left: AtomicUsize::new(max_elements.saturating_mul(COPY_BUDGET_VALUES)) }
    }

    fn check(&self, elements: usize, depth: usize) -> Result<(), Failure> {
        if elements > self.max_elements {
            return Err(Failure::Bound(format!(
                "a value of more than {} elements, past the bound of one value (set ONWATCH_TERRAFORM_MAX_VALUE_ELEMENTS)",
                self.max_elements
            )));
        }
        if depth > MAX_VALUE_DEPTH {
            return Err(Failure::Bound(format!("a value nested more than {MAX_VALUE_DEPTH} levels deep")));
        }
        Ok(())
    }

    fn charge(&self, elements: usize) -> Result<(), Failure> {
        match self.copies_left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| left.checked_sub(elements)) {
            Ok(_) => Ok(()),
            Err(_) => Err(Failure::Bound(format!(
                "the values copied in this read pass {} elements ({COPY_BUDGET_VALUES} times the bound of one value, set ONWATCH_TERRAFORM_MAX_VALUE_ELEMENTS)",
                self.max_elements.saturating_mul(COPY_BUDGET_VALUES)
            ))),
        }
    }
}

#[derive(Debug)]
enum Node {
    Scalar(Value),
    Array(Vec<Shared>),
    Object(Map<String, Shared>),
}

#[derive(Debug)]
struct Inner {
    node: Node,
    elements: usize,
    depth: usize,
}

/// A value whose lists and objects hold their items by reference.
#[derive(Debug, Clone)]
pub struct Shared(Arc<Inner>);

impl Shared {
    pub fn scalar(value: Value) -> Shared {
        let elements = match &value {
            Value::String(text) => 1 + text.len() / STRING_BYTES_PER_ELEMENT,
            _ => 1,
        };
        Shared(Arc::new(Inner { node: Node::Scalar(value), elements, depth: 0 }))
    }

    fn composite(node: Node, limits: &Limits) -> Evaluated {
        let items: Box<dyn Iterator<Item = &Shared>> = match &node {
            Node::Scalar(_) => Box::new(std::iter::empty()),
            Node::Array(items) => Box::new(items.iter()),
            Node::Object(map) => Box::new(map.values()),
        };
        let (elements, depth) = items.fold((1usize, 0usize), |(elements, depth), item| {
            (elements.saturating_add(item.0.elements), depth.max(item.0.depth + 1))
        });
        limits.check(elements, depth)?;
        Ok(Shared(Arc::new(Inner { node, elements, depth })))
    }

    pub fn array(items: Vec<Shared>, limits: &Limits) -> Evaluated {
        Shared::composite(Node::Array(items), limits)
    }

    pub fn object(map: Map<String, Shared>, limits: &Limits) -> Evaluated {
        Shared::composite(Node::Object(map), limits)
    }

    /// Takes in a value hcl-rs computed, checking its bounds.
    pub fn from_value(value: Value, limits: &Limits) -> Evaluated {
        match value {
            Value::Array(items) => {
                let items = items.into_iter().map(|item| Shared::from_value(item, limits)).collect::<Result<Vec<_>, _>>()?;
                Shared::array(items, limits)
            }
            Value::Object(map) => {
                let map = map.into_iter().map(|(k, v)| Ok((k, Shared::from_value(v, limits)?))).collect::<Result<Map<_, _>, Failure>>()?;
                Shared::object(map, limits)
            }
            scalar => {
                let shared = Shared::scalar(scalar);
                limits.check(shared.0.elements, 0)?;
                Ok(shared)
            }
        }
    }

    /// A copy as an hcl-rs value, charged to the read's copy budget.
    pub fn to_value(&self, limits: &Limits) -> Result<Value, Failure> {
        limits.charge(self.0.elements)?;
        Ok(self.copy())
    }

    fn copy(&self) -> Value {
        match &self.0.node {
            Node::Scalar(value) => value.clone(),
            Node::Array(items) => Value::Array(items.iter().map(Shared::copy).collect()),
            Node::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), v.copy())).collect()),
        }
    }

    pub fn as_scalar(&self) -> Option<&Value> {
        match &self.0.node {
            Node::Scalar(value) => Some(value),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Shared]> {
        match &self.0.node {
            Node::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Map<String, Shared>> {
        match &self.0.node {
            Node::Object(map) => Some(map),
            _ => None,
        }
    }

    fn kind(&self) -> &'static str {
        match &self.0.node {
            Node::Scalar(Value::Null) => "null",
            Node::Scalar(Value::Bool(_)) => "a bool",
            Node::Scalar(Value::Number(_)) => "a number",
            Node::Scalar(_) => "a string",
            Node::Array(_) => "a list",
            Node::Object(_) => "an object",
        }
    }
}

fn unresolved<T>(reason: impl Into<String>) -> Result<T, Failure> {
    Err(Failure::Unresolved(reason.into()))
}

/// A local's value, or why it has none.
pub type Local = Result<Shared, String>;

/// What names mean where an expression is evaluated.
pub struct Scope<'a> {
    /// The functions, for what hcl-rs evaluates.
    pub functions: &'a Context<'static>,
    pub locals: &'a FxHashMap<String, Local>,
    /// `var`, resource types, `count`, `each` and the variables of enclosing `for` expressions.
    pub roots: FxHashMap<String, Shared>,
    pub limits: &'a Limits,
}

impl Scope<'_> {
    pub fn evaluate(&mut self, expression: &Expression) -> Evaluated {
        match expression {
            Expression::Null => Ok(Shared::scalar(Value::Null)),
            Expression::Bool(b) => Ok(Shared::scalar(Value::Bool(*b))),
            Expression::Number(n) => Ok(Shared::scalar(Value::Number(*n))),
            Expression::String(text) => Ok(Shared::scalar(Value::String(text.clone()))),
            Expression::Array(items) => {
                let items = items.iter().map(|item| self.evaluate(item)).collect::<Result<Vec<_>, _>>()?;
                Shared::array(items, self.limits)
            }
            Expression::Object(object) => {
                let mut map = Map::with_capacity(object.len());
                for (key, value) in object {
                    let key = match key {
                        ObjectKey::Identifier(identifier) => identifier.to_string(),
                        ObjectKey::Expression(expression) => self.key(expression)?,
                        _ => return self.by_hcl(expression),
                    };
                    map.insert(key, self.evaluate(value)?);
                }
                Shared::object(map, self.limits)
            }
            Expression::Parenthesis(inner) => self.evaluate(inner),
            Expression::Variable(variable) => self.root(variable.as_str()),
            Expression::Traversal(traversal) => self.traverse(traversal, expression),
            Expression::TemplateExpr(template) => self.template(template, expression),
            Expression::ForExpr(for_expr) if !for_expr.grouping => self.for_expr(for_expr),
            _ => self.by_hcl(expression),
        }
    }

    /// An object key or index: a string, or a number or bool written as one.
    fn key(&mut self, expression: &Expression) -> Result<String, Failure> {
        key_of(&self.evaluate(expression)?)
    }

    fn root(&self, name: &str) -> Evaluated {
        match self.roots.get(name) {
            Some(value) => Ok(value.clone()),
            None if name == "local" => unresolved("`local` is read one value at a time, as local.<name>"),
            None => unresolved(format!("`{name}` is not known before apply")),
        }
    }

    /// A resource block's attributes (`aws_instance.web`); a block the module does not declare is
    /// an error, as it is to Terraform.
    fn resource(&self, resource_type: &str, name: &str) -> Evaluated {
        let missing = || Err(Failure::Bound(format!("a reference to {resource_type}.{name}, a resource block this module does not declare")));
        match self.roots.get(resource_type) {
            Some(value) if value.as_object().is_some_and(|blocks| !blocks.contains_key(name)) => missing(),
            Some(value) => attribute(value, name),
            None => missing(),
        }
    }

    fn local(&self, name: &str) -> Evaluated {
        match self.locals.get(name) {
            Some(Ok(value)) => Ok(value.clone()),
            Some(Err(reason)) => unresolved(format!("local.{name}: {reason}")),
            None => unresolved(format!("no local value named {name:?}")),
        }
    }

    fn traverse(&mut self, traversal: &Traversal, expression: &Expression) -> Evaluated {
        let Expression::Variable(root) = &traversal.expr else { return self.by_hcl(expression) };
        let mut operators = traversal.operators.as_slice();
        let mut value = match (root.as_str(), operators.first()) {
            ("local", Some(TraversalOperator::GetAttr(name))) => {
                operators = &operators[1..];
                self.local(name.as_str())?
            }
            (name, Some(TraversalOperator::GetAttr(block))) if is_resource_type(name) => {
                operators = &operators[1..];
                self.resource(name, block.as_str())?
            }
            (name, _) => self.root(name)?,
        };
        for operator in operators {
            value = match operator {
                TraversalOperator::GetAttr(name) => attribute(&value, name.as_str())?,
                TraversalOperator::LegacyIndex(index) => match instance(&value, &Value::from(*index), self.limits)? {
                    Some(one) => one,
                    None => element(&value, *index)?,
                },
                TraversalOperator::Index(index) => {
                    let index_value = self.evaluate(index)?;
                    if let Some(one) = index_value.as_scalar().map(|key| instance(&value, key, self.limits)).transpose()?.flatten() {
                        one
                    } else {
                        match index_value.as_scalar() {
                            Some(Value::Number(n)) if value.as_array().is_some() => match n.as_u64() {
                                Some(index) => element(&value, index)?,
                                None => return unresolved(format!("index {n} is not a whole number")),
                            },
                            _ => attribute(&value, &key_of(&index_value)?)?,
                        }
                    }
                }
                TraversalOperator::AttrSplat | TraversalOperator::FullSplat => return self.by_hcl(expression),
            };
        }
        Ok(value)
    }

    /// Quoted templates of literals and interpolations; directives, strip markers and heredocs go
    /// to hcl-rs.
    fn template(&mut self, template: &TemplateExpr, expression: &Expression) -> Evaluated {
        let TemplateExpr::QuotedString(_) = template else { return self.by_hcl(expression) };
        let parsed = Template::from_expr(template).map_err(|e| Failure::Unresolved(e.to_string()))?;
        let simple = parsed.elements().iter().all(|element| match element {
            Element::Literal(_) => true,
            Element::Interpolation(interpolation) => interpolation.strip == Strip::None,
            Element::Directive(_) => false,
        });
        if !simple {
            return self.by_hcl(expression);
        }
        let mut text = String::new();
        for element in parsed.elements() {
            match element {
                Element::Literal(literal) => text.push_str(literal),
                Element::Interpolation(interpolation) => {
                    let value = self.evaluate(&interpolation.expr)?;
                    match value.as_scalar() {
                        Some(Value::String(part)) => text.push_str(part),
                        Some(part @ (Value::Number(_) | Value::Bool(_))) => text.push_str(&part.to_string()),
                        _ => return unresolved(format!("a template interpolates {}", value.kind())),
                    }
                }
                Element::Directive(_) => unreachable!("templates with directives go to hcl-rs"),
            }
            self.limits.check(text.len() / STRING_BYTES_PER_ELEMENT, 0)?;
        }
        Ok(Shared::scalar(Value::String(text)))
    }

    fn for_expr(&mut self, for_expr: &ForExpr) -> Evaluated {
        let collection = self.evaluate(&for_expr.collection_expr)?;
        let pairs: Vec<(Shared, Shared)> = if let Some(items) = collection.as_array() {
            items.iter().enumerate().map(|(i, item)| (Shared::scalar(Value::from(i)), item.clone())).collect()
        } else if let Some(map) = collection.as_object() {
            map.iter().map(|(k, v)| (Shared::scalar(Value::String(k.clone())), v.clone())).collect()
        } else {
            return unresolved(format!("a for expression iterates over {}", collection.kind()));
        };
        let names: Vec<&str> = for_expr.key_var.iter().map(|k| k.as_str()).chain([for_expr.value_var.as_str()]).collect();
        let saved: Vec<Option<Shared>> = names.iter().map(|name| self.roots.get(*name).cloned()).collect();
        let result = self.for_items(for_expr, pairs);
        for (name, previous) in names.into_iter().zip(saved) {
            match previous {
                Some(value) => self.roots.insert(name.to_string(), value),
                None => self.roots.remove(name),
            };
        }
        result
    }

    fn for_items(&mut self, for_expr: &ForExpr, pairs: Vec<(Shared, Shared)>) -> Evaluated {
        let mut items = Vec::new();
        let mut map = Map::new();
        let mut elements = 1usize;
        for (key, value) in pairs {
            if let Some(key_var) = &for_expr.key_var {
                self.roots.insert(key_var.to_string(), key);
            }
            self.roots.insert(for_expr.value_var.to_string(), value);
            if let Some(condition) = &for_expr.cond_expr {
                match self.evaluate(condition)?.as_scalar() {
                    Some(Value::Bool(true)) => {}
                    Some(Value::Bool(false)) => continue,
                    _ => return unresolved("a for expression's condition is not a bool"),
                }
            }
            let item = self.evaluate(&for_expr.value_expr)?;
            elements = elements.saturating_add(item.0.elements);
            self.limits.check(elements, 0)?;
            match &for_expr.key_expr {
                None => items.push(item),
                Some(key_expr) => {
                    let key = self.key(key_expr)?;
                    if map.insert(key.clone(), item).is_some() {
                        return unresolved(format!("a for expression makes the key {key:?} twice"));
                    }
                }
            }
        }
        match for_expr.key_expr {
            None => Shared::array(items, self.limits),
            Some(_) => Shared::object(map, self.limits),
        }
    }

    /// What this evaluator does not do itself goes to hcl-rs, in a context holding copies of just
    /// the values the expression names.
    fn by_hcl(&mut self, expression: &Expression) -> Evaluated {
        let mut context = self.functions.clone();
        let mut wanted: FxHashMap<String, Option<Vec<String>>> = FxHashMap::default();
        for (root, attribute) in references(expression) {
            let entry = wanted.entry(root).or_insert_with(|| Some(Vec::new()));
            match (entry, attribute) {
                (Some(attributes), Some(attribute)) => attributes.push(attribute),
                (entry, _) => *entry = None,
            }
        }
        for (root, attributes) in wanted {
            let value = if root == "local" {
                let named = attributes.unwrap_or_default();
                let mut object = Map::new();
                for name in named {
                    if let Some(Ok(value)) = self.locals.get(&name) {
                        object.insert(name, value.to_value(self.limits)?);
                    }
                }
                Value::Object(object)
            } else if let Some(value) = self.roots.get(&root) {
                match (attributes, value.as_object()) {
                    (Some(named), Some(map)) => {
                        let mut object = Map::new();
                        for name in named {
                            if let Some(item) = map.get(&name) {
                                object.insert(name, item.to_value(self.limits)?);
                            }
                        }
                        Value::Object(object)
                    }
                    _ => value.to_value(self.limits)?,
                }
            } else {
                continue;
            };
            context.declare_var(root, value);
        }
        match expression.evaluate(&context) {
            Ok(value) => Shared::from_value(value, self.limits),
            Err(error) => unresolved(super::reason(&error)),
        }
    }
}

fn key_of(key: &Shared) -> Result<String, Failure> {
    match key.as_scalar() {
        Some(Value::String(text)) => Ok(text.clone()),
        Some(value @ (Value::Number(_) | Value::Bool(_))) => Ok(value.to_string()),
        _ => unresolved(format!("an object key is {}, not a string", key.kind())),
    }
}

fn attribute(value: &Shared, name: &str) -> Evaluated {
    match value.as_object() {
        Some(map) => map.get(name).cloned().map_or_else(|| unresolved(format!("no attribute {name:?}")), Ok),
        None => unresolved(format!("cannot read attribute {name:?} of {}", value.kind())),
    }
}

/// Whether a root name is a resource type (`aws_instance`): a provider prefix and a type, not one
/// of Terraform's own roots.
fn is_resource_type(name: &str) -> bool {
    name.contains('_') && !matches!(name, "var" | "local" | "module" | "data" | "path" | "terraform" | "count" | "each" | "self")
}

/// One instance of a resource block (`aws_instance.web[0]`, `aws_instance.web["a"]`): the block's
/// attributes as references to that instance's. `None` when `value` is not a block's attributes.
fn instance(value: &Shared, key: &Value, limits: &Limits) -> Result<Option<Shared>, Failure> {
    let Some(attributes) = value.as_object() else { return Ok(None) };
    let Some(block) = attributes.get("id").and_then(|id| id.as_scalar()).and_then(Value::as_str).and_then(super::as_reference) else { return Ok(None) };
    let Some(block) = block.strip_suffix(".id").filter(|block| !block.ends_with(']')) else { return Ok(None) };
    let key = match key {
        Value::Number(n) if n.as_u64().is_some() => format!("[{n}]"),
        Value::String(text) => format!("[{}]", serde_json::to_string(text).expect("a string serialises")),
        _ => return Ok(None),
    };
    let one: Map<String, Shared> = attributes
        .keys()
        .map(|attribute| (attribute.clone(), Shared::scalar(Value::String(super::reference(&format!("{block}{key}.{attribute}"))))))
        .collect();
    Shared::object(one, limits).map(Some)
}

fn element(value: &Shared, index: u64) -> Evaluated {
    match value.as_array() {
        Some(items) => usize::try_from(index)
            .ok()
            .and_then(|i| items.get(i))
            .cloned()
            .map_or_else(|| unresolved(format!("index {index} is past the end of a list of {}", items.len())), Ok),
        None => unresolved(format!("cannot index {} with a number", value.kind())),
    }
}

/// The variables an expression names: `(root, first attribute)`, e.g. `("local", Some("prefix"))`
/// for `local.prefix`, `("each", None)` for `each[...]`.
pub fn references(expression: &Expression) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    collect_references(expression, &mut out);
    out
}

fn collect_references(expression: &Expression, out: &mut Vec<(String, Option<String>)>) {
    let mut parts: Vec<&Expression> = Vec::new();
    match expression {
        Expression::Variable(variable) => out.push((variable.to_string(), None)),
        Expression::Traversal(traversal) => {
            match &traversal.expr {
                Expression::Variable(root) => {
                    let attribute = match traversal.operators.first() {
                        Some(TraversalOperator::GetAttr(name)) => Some(name.to_string()),
                        _ => None,
                    };
                    out.push((root.to_string(), attribute));
                }
                other => parts.push(other),
            }
            parts.extend(traversal.operators.iter().filter_map(|operator| match operator {
                TraversalOperator::Index(index) => Some(index),
                _ => None,
            }));
        }
        Expression::Array(items) => parts.extend(items),
        Expression::Object(object) => {
            for (key, value) in object {
                if let ObjectKey::Expression(key) = key {
                    parts.push(key);
                }
                parts.push(value);
            }
        }
        Expression::TemplateExpr(template) => {
            if let Ok(template) = Template::from_expr(template) {
                template_references(&template, out);
            }
        }
        Expression::FuncCall(call) => parts.extend(&call.args),
        Expression::Parenthesis(inner) => parts.push(inner),
        Expression::Conditional(conditional) => parts.extend([&conditional.cond_expr, &conditional.true_expr, &conditional.false_expr]),
        Expression::Operation(operation) => match operation.as_ref() {
            hcl::expr::Operation::Unary(unary) => parts.push(&unary.expr),
            hcl::expr::Operation::Binary(binary) => parts.extend([&binary.lhs_expr, &binary.rhs_expr]),
        },
        Expression::ForExpr(for_expr) => {
            let optional = [for_expr.key_expr.as_ref(), for_expr.cond_expr.as_ref()];
            parts.extend([&for_expr.collection_expr, &for_expr.value_expr].into_iter().chain(optional.into_iter().flatten()));
        }
        _ => {}
    }
    for part in parts {
        collect_references(part, out);
    }
}

fn template_references(template: &Template, out: &mut Vec<(String, Option<String>)>) {
    for element in template.elements() {
        match element {
            Element::Literal(_) => {}
            Element::Interpolation(interpolation) => collect_references(&interpolation.expr, out),
            Element::Directive(directive) => match directive.as_ref() {
                Directive::If(branch) => {
                    collect_references(&branch.cond_expr, out);
                    template_references(&branch.true_template, out);
                    if let Some(otherwise) = &branch.false_template {
                        template_references(otherwise, out);
                    }
                }
                Directive::For(each) => {
                    collect_references(&each.collection_expr, out);
                    template_references(&each.template, out);
                }
            },
        }
    }
}
