//! References to resources bound before evaluation. hcl-rs clones a variable's whole value on
//! every lookup, so evaluating `aws_lambda_function.fn_1.function_name` against a module declaring
//! 10,000 functions copies all of them: quadratic. A plain `type.name.attribute` traversal of a
//! declared resource is replaced by its symbolic [`reference`](super::reference) first; anything
//! else (templates, indexed instances) is left to the evaluator, which gives the same result.

use hcl::{Expression, TraversalOperator};
use rustc_hash::{FxHashMap, FxHashSet};

use super::{reference, Module, Watch};

/// The resources of one module and the attributes a reference to each type may name.
pub(super) struct Addresses<'a> {
    types: FxHashMap<&'a str, (FxHashSet<&'a str>, FxHashSet<&'a str>)>,
}

impl<'a> Addresses<'a> {
    pub(super) fn new(module: &Module<'a>, watch: &'a Watch) -> Self {
        let mut types: FxHashMap<&str, (FxHashSet<&str>, FxHashSet<&str>)> = FxHashMap::default();
        for &(resource_type, name) in &module.addresses {
            let entry = types.entry(resource_type).or_insert_with(|| {
                let watched = watch.arguments.get(resource_type).into_iter().flatten().map(String::as_str);
                (FxHashSet::default(), ["arn", "id", "name"].into_iter().chain(watched).collect())
            });
            entry.0.insert(name);
        }
        Addresses { types }
    }

    /// `expression` with its plain resource references bound, or `None` when it has none.
    pub(super) fn bind(&self, expression: &Expression) -> Option<Expression> {
        if self.types.is_empty() || !self.mentions(expression) {
            return None;
        }
        let mut bound = expression.clone();
        self.rewrite(&mut bound);
        Some(bound)
    }

    fn target(&self, expression: &Expression) -> Option<String> {
        let Expression::Traversal(traversal) = expression else { return None };
        let (Expression::Variable(root), [TraversalOperator::GetAttr(name), TraversalOperator::GetAttr(attribute)]) =
            (&traversal.expr, traversal.operators.as_slice())
        else {
            return None;
        };
        let (names, attributes) = self.types.get(root.as_str())?;
        (names.contains(name.as_str()) && attributes.contains(attribute.as_str())).then(|| format!("{}.{}.{}", root.as_str(), name.as_str(), attribute.as_str()))
    }

    fn mentions(&self, expression: &Expression) -> bool {
        match expression {
            Expression::Traversal(_) => self.target(expression).is_some(),
            Expression::Array(items) => items.iter().any(|e| self.mentions(e)),
            Expression::Object(object) => object.values().any(|e| self.mentions(e)),
            Expression::FuncCall(call) => call.args.iter().any(|e| self.mentions(e)),
            Expression::Parenthesis(inner) => self.mentions(inner),
            Expression::Conditional(c) => self.mentions(&c.cond_expr) || self.mentions(&c.true_expr) || self.mentions(&c.false_expr),
            _ => false,
        }
    }

    fn rewrite(&self, expression: &mut Expression) {
        if let Some(target) = self.target(expression) {
            *expression = Expression::String(reference(&target));
            return;
        }
        match expression {
            Expression::Array(items) => items.iter_mut().for_each(|e| self.rewrite(e)),
            Expression::Object(object) => object.values_mut().for_each(|e| self.rewrite(e)),
            Expression::FuncCall(call) => call.args.iter_mut().for_each(|e| self.rewrite(e)),
            Expression::Parenthesis(inner) => self.rewrite(inner),
            Expression::Conditional(c) => {
                self.rewrite(&mut c.cond_expr);
                self.rewrite(&mut c.true_expr);
                self.rewrite(&mut c.false_expr);
            }
            _ => {}
        }
    }
}
