//! A generated Terraform module read back for tests: its blocks, their expressions evaluated with
//! the references a test names (as `terraform apply` would resolve them), and IAM policy documents
//! rendered to JSON the way the AWS provider renders `data "aws_iam_policy_document"`.

use std::{collections::BTreeMap, path::Path};

use hcl::{eval::Evaluate, Block, Body, Expression};
use serde_json::{json, Map, Value};

/// The module `onwatch generate` writes for the example account (`--all` when `all`), written
/// to a temporary directory: the `.tf` files only.
pub fn example_module(all: bool) -> tempfile::TempDir {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sources = onwatch::config::Sources { config_dir: Some(root.join("config")), policies_dir: Some(root.join("policies")) };
    let settings = onwatch::config::load(&sources).unwrap();
    let inventory = onwatch::snapshot::read(&root.join("examples/inventory.json")).unwrap();
    let evaluation = onwatch::check::evaluate(&inventory, &settings, super::today());
    let templates = onwatch::generate::Templates::load(None).unwrap();
    let files = onwatch::generate::generate(&inventory, &settings, &evaluation, &templates, &onwatch::generate::GenerateOptions { all }).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for file in files.iter().filter(|f| f.path.ends_with(".tf")) {
        std::fs::write(dir.path().join(&file.path), &file.contents).unwrap();
    }
    dir
}

pub struct Module {
    pub body: Body,
    /// `type.name.attribute` → value, for references to resources created at apply.
    references: BTreeMap<String, String>,
}

impl Module {
    /// Parses every `.tf` file of `dir`.
    pub fn read(dir: &Path) -> Module {
        let mut text = String::new();
        let mut paths: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "tf")).collect();
        paths.sort();
        for path in paths {
            text.push_str(&std::fs::read_to_string(path).unwrap());
            text.push('\n');
        }
        Module { body: hcl::parse(&text).unwrap(), references: BTreeMap::new() }
    }

    /// Resolves `address.attribute` (`aws_dynamodb_table.audit.arn`) to `value` when evaluating.
    pub fn known(mut self, reference: &str, value: &str) -> Module {
        self.references.insert(reference.to_string(), value.to_string());
        self
    }

    /// The block `kind "type" "name"` (`resource "aws_dynamodb_table" "audit"`).
    pub fn block(&self, kind: &str, block_type: &str, name: &str) -> &Block {
        self.body
            .blocks()
            .find(|b| b.identifier() == kind && b.labels().len() == 2 && b.labels()[0].as_str() == block_type && b.labels()[1].as_str() == name)
            .unwrap_or_else(|| panic!("no {kind} {block_type:?} {name:?} in the module"))
    }

    pub fn blocks<'a>(&'a self, kind: &'a str, block_type: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
        self.body.blocks().filter(move |b| b.identifier() == kind && b.labels().first().is_some_and(|l| l.as_str() == block_type))
    }

    fn context(&self) -> hcl::eval::Context<'_> {
        let mut context = hcl::eval::Context::new();
        onwatch::terraform::functions::declare(&mut context);
        // Nested objects per reference root: aws_dynamodb_table = { audit = { arn = "..." } }.
        let mut roots: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
        for (reference, value) in &self.references {
            let parts: Vec<&str> = reference.split('.').collect();
            let (root, rest) = (parts[0], &parts[1..]);
            let mut node = roots.entry(root).or_default();
            for part in &rest[..rest.len() - 1] {
                node = node.entry(part.to_string()).or_insert_with(|| json!({})).as_object_mut().unwrap();
            }
            node.insert(rest[rest.len() - 1].to_string(), Value::String(value.clone()));
        }
        for (root, value) in roots {
            context.declare_var(root.to_string(), hcl::to_value(Value::Object(value)).unwrap());
        }
        context
    }

    /// Evaluates an expression to JSON; a reference the test did not name fails the test.
    pub fn eval(&self, expression: &Expression) -> Value {
        let value = expression.evaluate(&self.context()).unwrap_or_else(|e| panic!("cannot evaluate {expression}: {e}"));
        serde_json::to_value(value).unwrap()
    }

    /// The value of attribute `name` of `block`.
    pub fn attribute(&self, block: &Block, name: &str) -> Value {
        let attribute = block.body().attributes().find(|a| a.key() == name).unwrap_or_else(|| panic!("no attribute {name} in {}", block.identifier()));
        self.eval(attribute.expr())
    }

    /// A `data "aws_iam_policy_document"` as the IAM JSON the provider renders from it.
    pub fn policy_document(&self, name: &str) -> Value {
        let block = self.block("data", "aws_iam_policy_document", name);
        let statements: Vec<Value> = block.body().blocks().filter(|b| b.identifier() == "statement").map(|s| self.statement(s)).collect();
        json!({ "Version": "2012-10-17", "Statement": statements })
    }

    fn statement(&self, block: &Block) -> Value {
        let mut statement = Map::new();
        let get = |name: &str| block.body().attributes().find(|a| a.key() == name).map(|a| self.eval(a.expr()));
        if let Some(sid) = get("sid") {
            statement.insert("Sid".into(), sid);
        }
        statement.insert("Effect".into(), get("effect").unwrap_or_else(|| json!("Allow")));
        for (hcl_name, json_name) in [("actions", "Action"), ("not_actions", "NotAction"), ("resources", "Resource"), ("not_resources", "NotResource")] {
            if let Some(value) = get(hcl_name) {
                statement.insert(json_name.into(), value);
            }
        }
        let mut principals = Map::new();
        for principal in block.body().blocks().filter(|b| b.identifier() == "principals") {
            let kind = self.attribute(principal, "type");
            let identifiers = self.attribute(principal, "identifiers");
            principals.insert(kind.as_str().unwrap().to_string(), identifiers);
        }
        if !principals.is_empty() {
            // The provider renders an AWS principal of just "*" as "Principal": "*".
            let value = if principals.len() == 1 && principals.get("AWS") == Some(&json!(["*"])) { json!("*") } else { Value::Object(principals) };
            statement.insert("Principal".into(), value);
        }
        let mut conditions: Map<String, Value> = Map::new();
        for condition in block.body().blocks().filter(|b| b.identifier() == "condition") {
            let test = self.attribute(condition, "test");
            let variable = self.attribute(condition, "variable");
            let values = self.attribute(condition, "values");
            conditions
                .entry(test.as_str().unwrap().to_string())
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .unwrap()
                .insert(variable.as_str().unwrap().to_string(), values);
        }
        if !conditions.is_empty() {
            statement.insert("Condition".into(), Value::Object(conditions));
        }
        Value::Object(statement)
    }
}
