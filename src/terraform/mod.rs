//! Reading the repository's Terraform: every `.tf` file under a directory is parsed with hcl-rs
//! and the monitoring resources in it (metric and composite alarms, dashboards, SNS topics and
//! subscriptions, log metric filters) become a neutral "declared" model.
//!
//! Values are resolved statically where that is possible — literals, variables with defaults or
//! `*.tfvars` values, locals, `jsonencode` of literals, templates of resolved parts — and are
//! otherwise kept as [`Resolved::Unresolved`] with the reason, never guessed. A reference to
//! another resource (`aws_sns_topic.alerts.arn`) resolves to a symbolic [`reference`] that drift
//! can turn into an ARN once it knows the topic's name and the live account and region.
//!
//! Each directory is one Terraform module: variables, locals and resource references are scoped
//! to the directory that declares them. Files are parsed in parallel, one worker per core, and
//! resolution is linear in the number of blocks.

pub mod functions;
pub mod plan;
mod references;
mod tree;
pub mod watched;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::atomic::{AtomicUsize, Ordering},
};

use hcl::{eval::Context, eval::Evaluate, Block, BlockLabel, Body, Expression, Value};
use rustc_hash::FxHashMap;

use crate::error::{Error, Result};

/// The resource types onwatch reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    MetricAlarm,
    CompositeAlarm,
    Dashboard,
    SnsTopic,
    SnsSubscription,
    LogMetricFilter,
}

impl Kind {
    pub fn resource_type(self) -> &'static str {
        match self {
            Kind::MetricAlarm => "aws_cloudwatch_metric_alarm",
            Kind::CompositeAlarm => "aws_cloudwatch_composite_alarm",
            Kind::Dashboard => "aws_cloudwatch_dashboard",
            Kind::SnsTopic => "aws_sns_topic",
            Kind::SnsSubscription => "aws_sns_topic_subscription",
            Kind::LogMetricFilter => "aws_cloudwatch_log_metric_filter",
        }
    }

    fn from_type(resource_type: &str) -> Option<Kind> {
        [Kind::MetricAlarm, Kind::CompositeAlarm, Kind::Dashboard, Kind::SnsTopic, Kind::SnsSubscription, Kind::LogMetricFilter]
            .into_iter()
            .find(|kind| kind.resource_type() == resource_type)
    }

    /// The arguments onwatch reads of this kind (nested blocks as `block.argument`).
    fn arguments(self) -> &'static [&'static str] {
        match self {
            Kind::MetricAlarm => &[
                "alarm_name",
                "alarm_description",
                "namespace",
                "metric_name",
                "dimensions",
                "statistic",
                "extended_statistic",
                "period",
                "evaluation_periods",
                "datapoints_to_alarm",
                "comparison_operator",
                "threshold",
                "treat_missing_data",
                "actions_enabled",
                "alarm_actions",
                "ok_actions",
                "insufficient_data_actions",
            ],
            Kind::CompositeAlarm => &["alarm_name", "alarm_description", "alarm_rule", "actions_enabled", "alarm_actions", "ok_actions", "insufficient_data_actions"],
            Kind::Dashboard => &["dashboard_name", "dashboard_body"],
            Kind::SnsTopic => &["name", "kms_master_key_id"],
            Kind::SnsSubscription => &["topic_arn", "protocol", "endpoint"],
            Kind::LogMetricFilter => &["name", "log_group_name", "pattern", "metric_transformation.name", "metric_transformation.namespace", "metric_transformation.value"],
        }
    }
}

/// A value as far as static resolution gets.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    /// Fully known. Strings may hold [`reference`]s to other resources' attributes.
    Known(Value),
    /// Why it cannot be known before `terraform apply`.
    Unresolved(String),
}

/// Marks a reference to another resource's attribute inside a resolved string.
const REF_START: char = '\u{1}';
const REF_END: char = '\u{2}';

/// The symbolic form of a reference such as `aws_sns_topic.alerts.arn`, as it appears in a
/// [`Resolved::Known`] string.
pub fn reference(address: &str) -> String {
    format!("{REF_START}{address}{REF_END}")
}

/// `Some(address)` when `text` is exactly one reference.
pub fn as_reference(text: &str) -> Option<&str> {
    let inner = text.strip_prefix(REF_START)?.strip_suffix(REF_END)?;
    (!inner.contains(REF_START)).then_some(inner)
}

/// Whether `text` holds a reference anywhere (also JSON-escaped, as `jsonencode` leaves it).
pub fn holds_reference(text: &str) -> bool {
    text.contains(REF_START) || text.contains("\\u0001")
}

/// Text for messages: references shown as Terraform writes them.
pub fn display(text: &str) -> String {
    text.replace(REF_START, "${").replace(REF_END, "}")
}

/// One declared resource instance (one per `count`/`for_each` element).
#[derive(Debug, Clone, PartialEq)]
pub struct DeclaredResource {
    pub kind: Kind,
    /// Terraform address, e.g. `aws_cloudwatch_metric_alarm.cpu["web"]`.
    pub address: String,
    /// The file, as found under the directory given (joined to it).
    pub file: String,
    /// 1-based line of the block header.
    pub line: usize,
    /// Index into [`Declared::modules`].
    pub module: usize,
    /// The region of the block's provider, when its `provider` names an aliased provider whose
    /// region is known (or it uses the module's default provider with a known region).
    pub region: Option<String>,
    /// The arguments onwatch reads that the block sets; unset ones are absent.
    pub arguments: BTreeMap<&'static str, Resolved>,
    /// Set when the whole block cannot be expanded (a `count` or `for_each` that is not static).
    pub unresolved: Option<String>,
}

impl DeclaredResource {
    pub fn get(&self, argument: &str) -> Option<&Resolved> {
        self.arguments.get(argument)
    }

    /// A string argument: `Ok(None)` when unset, `Err(reason)` when unresolved or not a string.
    pub fn string(&self, argument: &str) -> Result<Option<String>, String> {
        match self.arguments.get(argument) {
            None | Some(Resolved::Known(Value::Null)) => Ok(None),
            Some(Resolved::Known(Value::String(text))) => Ok(Some(text.clone())),
            Some(Resolved::Known(Value::Number(n))) => Ok(Some(n.to_string())),
            Some(Resolved::Known(Value::Bool(b))) => Ok(Some(b.to_string())),
            Some(Resolved::Known(other)) => Err(format!("{argument} is not a string: {other:?}")),
            Some(Resolved::Unresolved(reason)) => Err(reason.clone()),
        }
    }

    /// The name the resource has in AWS (alarm, dashboard, topic or filter name).
    pub fn name(&self) -> Result<Option<String>, String> {
        let argument = match self.kind {
            Kind::MetricAlarm | Kind::CompositeAlarm => "alarm_name",
            Kind::Dashboard => "dashboard_name",
            Kind::SnsTopic | Kind::LogMetricFilter => "name",
            Kind::SnsSubscription => return Ok(None),
        };
        if let Some(reason) = &self.unresolved {
            return Err(reason.clone());
        }
        match self.string(argument)? {
            Some(name) if holds_reference(&name) => Err(format!("{argument} refers to {}", display(&name))),
            other => Ok(other),
        }
    }
}

/// One declared instance of a resource type the catalogue maps (`aws_db_instance`), with the
/// arguments its mapping reads.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchedResource {
    pub resource_type: String,
    /// Terraform address within its module, e.g. `aws_db_instance.main[0]`.
    pub address: String,
    pub file: String,
    /// 1-based line of the block header; 0 where unknown (a plan).
    pub line: usize,
    /// Index into [`Declared::modules`].
    pub module: usize,
    pub region: Option<String>,
    pub arguments: BTreeMap<String, Resolved>,
    pub unresolved: Option<String>,
}

/// What the module at one index is: how it is called, and what its provider gives its resources.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModuleInfo {
    /// The address prefix of its resources: empty for a root, `module.app.` for a module the root calls.
    pub prefix: String,
    /// Its default provider's region, else its caller's.
    pub region: Option<String>,
    /// Its default provider's `default_tags`, else its caller's.
    pub default_tags: BTreeMap<String, String>,
}

/// Everything read from a directory of Terraform.
#[derive(Debug, Clone, Default)]
pub struct Declared {
    /// Module directories, relative to the directory read (`.` for itself).
    pub modules: Vec<PathBuf>,
    /// Per module, its address prefix, region and default tags.
    pub module_info: Vec<ModuleInfo>,
    pub resources: Vec<DeclaredResource>,
    /// Resources of the types [`Watch`] names.
    pub watched: Vec<WatchedResource>,
    /// `.tf` files read.
    pub files: usize,
    /// What was not read and why (remote module sources).
    pub notes: Vec<String>,
}

/// Resource types to keep besides the monitoring ones, with the arguments to read of each.
#[derive(Debug, Clone, Default)]
pub struct Watch {
    pub arguments: BTreeMap<String, std::collections::BTreeSet<String>>,
}

impl Declared {
    pub fn of_kind(&self, kind: Kind) -> impl Iterator<Item = &DeclaredResource> {
        self.resources.iter().filter(move |r| r.kind == kind)
    }

    /// The declared resource at `address` in `module`, e.g. the topic behind a reference.
    pub fn find(&self, module: usize, address: &str) -> Option<&DeclaredResource> {
        self.resources.iter().find(|r| r.module == module && r.address == address)
    }
}

/// The most `count`/`for_each` instances one read expands, over all blocks (a few lines of
/// `count = 100000` would otherwise take gigabytes); `ONWATCH_TERRAFORM_MAX_INSTANCES` sets it.
pub const MAX_INSTANCES: usize = 200_000;

fn max_instances() -> usize {
    std::env::var("ONWATCH_TERRAFORM_MAX_INSTANCES").ok().and_then(|v| v.parse().ok()).unwrap_or(MAX_INSTANCES)
}

/// One parsed file.
struct Parsed {
    path: PathBuf,
    display: String,
    body: Body,
    /// `(type, name)` of each `resource` block header → 1-based line.
    lines: FxHashMap<(String, String), usize>,
    tfvars: bool,
}

/// Reads every `.tf` file under `dir` (and `terraform.tfvars`, `*.auto.tfvars`), skipping
/// `.terraform` and hidden directories. A syntax error is an error naming `file:line:column`.
pub fn read_dir(dir: &Path) -> Result<Declared> {
    read_dir_watching(dir, &Watch::default())
}

/// [`read_dir`], also keeping the resources of the types `watch` names.
pub fn read_dir_watching(dir: &Path, watch: &Watch) -> Result<Declared> {
    if !dir.is_dir() {
        return Err(Error::Usage(format!("{}: not a directory", dir.display())));
    }
    let mut files = Vec::new();
    let walker = walkdir::WalkDir::new(dir).sort_by_file_name().into_iter().filter_entry(|entry| {
        entry.depth() == 0 || !(entry.file_type().is_dir() && entry.file_name().to_str().is_some_and(|n| n.starts_with('.')))
    });
    for entry in walker {
        let entry = entry.map_err(|e| Error::Read {
            path: e.path().map_or_else(|| dir.to_path_buf(), Path::to_path_buf),
            source: e.into_io_error().unwrap_or_else(|| std::io::Error::other("filesystem loop")),
        })?;
        if !entry.file_type().is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy();
        let tfvars = name == "terraform.tfvars" || name.ends_with(".auto.tfvars");
        if name.ends_with(".tf") || tfvars {
            files.push((entry.into_path(), tfvars));
        }
    }
    let parsed = parse_all(&files)?;
    resolve(dir, parsed, watch)
}

fn parse_all(files: &[(PathBuf, bool)]) -> Result<Vec<Parsed>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(files.len().max(1));
    let share = files.len().div_ceil(threads).max(1);
    let results: Vec<Result<Parsed>> = std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(share)
            .map(|part| scope.spawn(move || part.iter().map(|(path, tfvars)| parse_file(path, *tfvars)).collect::<Vec<_>>()))
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("parsing threads do not panic")).collect()
    });
    results.into_iter().collect()
}

fn parse_file(path: &Path, tfvars: bool) -> Result<Parsed> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read { path: path.to_path_buf(), source })?;
    let display = path.display().to_string();
    // Terraform accepts a UTF-8 byte order mark at the start of a file; hcl-rs does not.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let body = hcl::parse(text).map_err(|error| syntax_error(&display, &error))?;
    let mut lines = FxHashMap::default();
    if !tfvars {
        for (index, line) in text.lines().enumerate() {
            if let Some(rest) = line.trim_start().strip_prefix("resource") {
                let mut labels = rest.split('"').skip(1).step_by(2);
                if let (Some(resource_type), Some(name)) = (labels.next(), labels.next()) {
                    lines.entry((resource_type.to_string(), name.to_string())).or_insert(index + 1);
                }
            } else if let Some(rest) = line.trim_start().strip_prefix("module") {
                // Module calls, for errors about them: keyed ("module", name).
                if let Some(name) = rest.split('"').nth(1) {
                    lines.entry(("module".to_string(), name.to_string())).or_insert(index + 1);
                }
            }
        }
    }
    Ok(Parsed { path: path.to_path_buf(), display, body, lines, tfvars })
}

fn syntax_error(file: &str, error: &hcl::Error) -> Error {
    match error {
        hcl::Error::Parse(parse) => Error::Syntax {
            file: file.to_string(),
            line: parse.location().line(),
            column: parse.location().column(),
            message: parse.message().to_string(),
        },
        other => Error::Syntax { file: file.to_string(), line: 1, column: 1, message: other.to_string() },
    }
}

fn label(label: &BlockLabel) -> &str {
    match label {
        BlockLabel::Identifier(identifier) => identifier.as_str(),
        BlockLabel::String(text) => text.as_str(),
    }
}

fn labels(block: &Block) -> Vec<&str> {
    block.labels().iter().map(label).collect()
}

/// What one module (directory) declares.
#[derive(Default)]
struct Module<'a> {
    variables: Vec<(&'a str, Option<&'a Expression>)>,
    tfvars: Vec<(&'a str, &'a Expression)>,
    locals: Vec<(&'a str, &'a Expression)>,
    /// Providers: alias (or "" for the default) → region expression.
    providers: Vec<(String, Option<&'a Expression>)>,
    /// The default provider's `default_tags { tags = ... }`.
    default_tags: Option<&'a Expression>,
    /// Module calls: name, `source` and the file index of the call.
    calls: Vec<(&'a str, Option<&'a Expression>, usize)>,
    /// The blocks of watched types: (type, name, block, file index).
    watched: Vec<(&'a str, &'a str, &'a Block, usize)>,
    /// Every resource block's (type, name), for references.
    addresses: Vec<(&'a str, &'a str)>,
    /// The blocks onwatch reads: (kind, name, block, file index).
    blocks: Vec<(Kind, &'a str, &'a Block, usize)>,
}

/// The files grouped by directory into modules, with each module's directory relative to `root`.
fn collect_modules<'a>(root: &Path, parsed: &'a [Parsed], watch: &Watch) -> (Vec<Module<'a>>, Vec<PathBuf>) {
    let mut module_index: BTreeMap<PathBuf, usize> = BTreeMap::new();
    let mut modules: Vec<Module> = Vec::new();
    let mut module_dirs = Vec::new();
    for (file_index, file) in parsed.iter().enumerate() {
        let dir = file.path.parent().unwrap_or(Path::new("")).to_path_buf();
        let index = *module_index.entry(dir.clone()).or_insert_with(|| {
            modules.push(Module::default());
            let relative = dir.strip_prefix(root).unwrap_or(&dir);
            module_dirs.push(if relative.as_os_str().is_empty() { PathBuf::from(".") } else { relative.to_path_buf() });
            modules.len() - 1
        });
        let module = &mut modules[index];
        if file.tfvars {
            for attribute in file.body.attributes() {
                module.tfvars.push((attribute.key(), attribute.expr()));
            }
            continue;
        }
        for block in file.body.blocks() {
            let block_labels = labels(block);
            match (block.identifier(), block_labels.as_slice()) {
                ("variable", [name]) => {
                    module.variables.push((name, block.body().attributes().find(|a| a.key() == "default").map(|a| a.expr())));
                }
                ("locals", []) => {
                    for attribute in block.body().attributes() {
                        module.locals.push((attribute.key(), attribute.expr()));
                    }
                }
                ("provider", ["aws"]) => {
                    let attribute = |key: &str| block.body().attributes().find(|a| a.key() == key).map(|a| a.expr());
                    let alias = match attribute("alias") {
                        Some(Expression::String(alias)) => alias.clone(),
                        Some(_) => continue,
                        None => String::new(),
                    };
                    if alias.is_empty() {
                        let tags = block.body().blocks().find(|b| b.identifier() == "default_tags");
                        module.default_tags = tags.and_then(|b| b.body().attributes().find(|a| a.key() == "tags")).map(|a| a.expr());
                    }
                    module.providers.push((alias, attribute("region")));
                }
                ("module", [name]) => {
                    module.calls.push((name, block.body().attributes().find(|a| a.key() == "source").map(|a| a.expr()), file_index));
                }
                ("resource", [resource_type, name]) => {
                    module.addresses.push((resource_type, name));
                    if let Some(kind) = Kind::from_type(resource_type) {
                        module.blocks.push((kind, name, block, file_index));
                    }
                    if watch.arguments.contains_key(*resource_type) {
                        module.watched.push((resource_type, name, block, file_index));
                    }
                }
                _ => {}
            }
        }
    }
    (modules, module_dirs)
}

/// Takes `instances` from the budget of expanded instances, or says which block went past it.
fn take_budget<'b>(budget: &'b AtomicUsize, file: &'b str, line: usize, block: String) -> impl Fn(usize) -> Result<()> + 'b {
    move |instances: usize| {
        if budget.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| left.checked_sub(instances)).is_ok() {
            return Ok(());
        }
        Err(Error::TerraformBound {
            file: file.to_string(),
            line,
            message: format!(
                "{block} expands to {instances} instances, past the bound of {} instances the reader expands in one run (set ONWATCH_TERRAFORM_MAX_INSTANCES)",
                max_instances()
            ),
        })
    }
}

/// The region each module's providers name (by alias, "" for the default), where static.
fn provider_regions<'m>(module: &'m Module, context: &Context) -> FxHashMap<&'m str, Option<String>> {
    module
        .providers
        .iter()
        .map(|(alias, region)| {
            let region = region.and_then(|e| match e.evaluate(context) {
                Ok(Value::String(region)) if !holds_reference(&region) => Some(region),
                _ => None,
            });
            (alias.as_str(), region)
        })
        .collect()
}

fn resolve(root: &Path, parsed: Vec<Parsed>, watch: &Watch) -> Result<Declared> {
    let budget = AtomicUsize::new(max_instances());
    let (modules, module_dirs) = collect_modules(root, &parsed, watch);
    let contexts: Vec<Context> = modules.iter().map(|module| module_context(module, watch)).collect();
    let regions: Vec<FxHashMap<&str, Option<String>>> = modules.iter().zip(&contexts).map(|(module, context)| provider_regions(module, context)).collect();
    let (module_info, notes) = tree::module_tree(root, &parsed, &modules, &module_dirs, &contexts, &regions)?;
    let mut declared = Declared {
        modules: module_dirs,
        module_info,
        resources: Vec::new(),
        watched: Vec::new(),
        files: parsed.iter().filter(|p| !p.tfvars).count(),
        notes,
    };
    for (index, module) in modules.iter().enumerate() {
        let (context, regions) = (&contexts[index], &regions[index]);
        let addresses = references::Addresses::new(module, watch);
        let addresses = &addresses;
        let threads = if module.blocks.len() < 2048 { 1 } else { std::thread::available_parallelism().map_or(1, |n| n.get()) };
        let share = module.blocks.len().div_ceil(threads).max(1);
        let evaluate_share = |blocks: &[(Kind, &str, &Block, usize)]| {
            let mut context = context.clone();
            let mut out = Vec::with_capacity(blocks.len());
            for &(kind, name, block, file_index) in blocks {
                let file = &parsed[file_index];
                let line = file.lines.get(&(kind.resource_type().to_string(), name.to_string())).copied().unwrap_or(1);
                let region = provider_region(block, regions);
                let base = format!("{}.{name}", kind.resource_type());
                let take = take_budget(&budget, &file.display, line, base.clone());
                expand(&mut context, base, block, take, |c| arguments(c, addresses, kind, block), |address, arguments, unresolved| {
                    out.push(DeclaredResource {
                        kind,
                        address,
                        file: file.display.clone(),
                        line,
                        module: index,
                        region: region.clone(),
                        arguments,
                        unresolved,
                    });
                })?;
            }
            Ok(out)
        };
        if threads == 1 {
            declared.resources.extend(evaluate_share(&module.blocks)?);
        } else {
            let results: Vec<Result<Vec<DeclaredResource>>> = std::thread::scope(|scope| {
                let handles: Vec<_> = module.blocks.chunks(share).map(|part| scope.spawn(|| evaluate_share(part))).collect();
                handles.into_iter().map(|h| h.join().expect("resolving threads do not panic")).collect()
            });
            for result in results {
                declared.resources.extend(result?);
            }
        }
        let mut context = context.clone();
        for &(resource_type, name, block, file_index) in &module.watched {
            let file = &parsed[file_index];
            let line = file.lines.get(&(resource_type.to_string(), name.to_string())).copied().unwrap_or(1);
            let region = provider_region(block, regions);
            let base = format!("{resource_type}.{name}");
            let take = take_budget(&budget, &file.display, line, base.clone());
            let names = &watch.arguments[resource_type];
            expand(&mut context, base, block, take, |c| watched_arguments(c, addresses, names, block), |address, arguments, unresolved| {
                declared.watched.push(WatchedResource {
                    resource_type: resource_type.to_string(),
                    address,
                    file: file.display.clone(),
                    line,
                    module: index,
                    region: region.clone(),
                    arguments,
                    unresolved,
                });
            })?;
        }
    }
    Ok(declared)
}

/// The region of the provider a block uses: `provider = aws.alias`, else the default provider.
fn provider_region(block: &Block, regions: &FxHashMap<&str, Option<String>>) -> Option<String> {
    let alias = match block.body().attributes().find(|a| a.key() == "provider").map(|a| a.expr()) {
        None => "",
        Some(Expression::Traversal(traversal)) => match (&traversal.expr, traversal.operators.as_slice()) {
            (Expression::Variable(provider), [hcl::TraversalOperator::GetAttr(alias)]) if provider.as_str() == "aws" => alias.as_str(),
            _ => return None,
        },
        Some(_) => return None,
    };
    regions.get(alias).cloned().flatten()
}

/// The evaluation context of a module: functions, `var`, `local` and resource references.
fn module_context(module: &Module, watch: &Watch) -> Context<'static> {
    let mut context = Context::new();
    functions::declare(&mut context);
    // Variables: tfvars beat defaults; a variable with neither is left out, so references to it
    // fail to evaluate and stay unresolved.
    let mut variables = hcl::Map::new();
    for (name, default) in &module.variables {
        if let Some(Ok(value)) = default.map(|e| e.evaluate(&context)) {
            variables.insert(name.to_string(), value);
        }
    }
    for (name, expression) in &module.tfvars {
        if let Ok(value) = expression.evaluate(&context) {
            variables.insert(name.to_string(), value);
        }
    }
    context.declare_var("var", Value::Object(variables));
    // Resource references: `type.name.attribute` becomes a symbolic reference.
    let mut types: BTreeMap<&str, hcl::Map<String, Value>> = BTreeMap::new();
    for (resource_type, name) in &module.addresses {
        // Besides `arn`, `id` and `name`, what the catalogue reads of a watched type (`function_name`).
        let watched = watch.arguments.get(*resource_type).into_iter().flatten().map(String::as_str);
        let attributes: hcl::Map<String, Value> = ["arn", "id", "name"]
            .into_iter()
            .chain(watched)
            .map(|attribute| (attribute.to_string(), Value::String(reference(&format!("{resource_type}.{name}.{attribute}")))))
            .collect();
        types.entry(resource_type).or_default().insert(name.to_string(), Value::Object(attributes));
    }
    for (resource_type, names) in types {
        context.declare_var(resource_type.to_string(), Value::Object(names));
    }
    // Locals may refer to each other: evaluate in passes until no more resolve.
    let mut locals = hcl::Map::new();
    let mut pending: Vec<(&str, &Expression)> = module.locals.clone();
    context.declare_var("local", Value::Object(locals.clone()));
    while !pending.is_empty() {
        let before = pending.len();
        pending.retain(|(name, expression)| match expression.evaluate(&context) {
            Ok(value) => {
                locals.insert(name.to_string(), value);
                false
            }
            Err(_) => true,
        });
        context.declare_var("local", Value::Object(locals.clone()));
        if pending.len() == before {
            break;
        }
    }
    context
}

/// Evaluates the arguments onwatch reads of one block (`base` is its address), once per
/// `count`/`for_each` instance.
fn expand<T: Default>(
    context: &mut Context,
    base: String,
    block: &Block,
    take: impl Fn(usize) -> Result<()>,
    evaluate: impl Fn(&Context) -> T,
    mut emit: impl FnMut(String, T, Option<String>),
) -> Result<()> {
    let attribute = |key: &str| block.body().attributes().find(|a| a.key() == key).map(|a| a.expr());
    if let Some(count) = attribute("count") {
        match count.evaluate(context) {
            Ok(Value::Number(n)) if n.as_u64().is_some() => {
                let n = n.as_u64().unwrap();
                take(usize::try_from(n).unwrap_or(usize::MAX))?;
                for index in 0..n {
                    let mut instance = hcl::Map::new();
                    instance.insert("index".to_string(), Value::from(index));
                    context.declare_var("count", Value::Object(instance));
                    emit(format!("{base}[{index}]"), evaluate(context), None);
                }
            }
            Ok(other) => emit(base, T::default(), Some(format!("count is not a whole number: {other}"))),
            Err(error) => emit(base, T::default(), Some(format!("count is not static: {}", reason(&error)))),
        }
        return Ok(());
    }
    if let Some(for_each) = attribute("for_each") {
        let instances: Vec<(String, Value)> = match for_each.evaluate(context) {
            Ok(Value::Object(map)) => {
                // Terraform orders instances by key.
                let mut pairs: Vec<(String, Value)> = map.into_iter().collect();
                pairs.sort_by(|a, b| a.0.cmp(&b.0));
                pairs
            }
            Ok(Value::Array(items)) if items.iter().all(|i| matches!(i, Value::String(_))) => {
                items.into_iter().map(|item| (item.as_str().unwrap().to_string(), item)).collect()
            }
            Ok(other) => {
                emit(base, T::default(), Some(format!("for_each is not a map or set of strings: {other}")));
                return Ok(());
            }
            Err(error) => {
                emit(base, T::default(), Some(format!("for_each is not static: {}", reason(&error))));
                return Ok(());
            }
        };
        take(instances.len())?;
        for (key, value) in instances {
            if holds_reference(&key) {
                emit(base.clone(), T::default(), Some("for_each keys refer to other resources".into()));
                return Ok(());
            }
            let mut each = hcl::Map::new();
            each.insert("key".to_string(), Value::String(key.clone()));
            each.insert("value".to_string(), value);
            context.declare_var("each", Value::Object(each));
            emit(format!("{base}[{}]", serde_json::to_string(&key).unwrap()), evaluate(context), None);
        }
        return Ok(());
    }
    take(1)?;
    emit(base, evaluate(context), None);
    Ok(())
}

fn arguments(context: &Context, addresses: &references::Addresses, kind: Kind, block: &Block) -> BTreeMap<&'static str, Resolved> {
    let mut out = BTreeMap::new();
    for &argument in kind.arguments() {
        let expression = match argument.split_once('.') {
            None => block.body().attributes().find(|a| a.key() == argument).map(|a| a.expr()),
            Some((nested, key)) => block
                .body()
                .blocks()
                .find(|b| b.identifier() == nested)
                .and_then(|b| b.body().attributes().find(|a| a.key() == key).map(|a| a.expr())),
        };
        if let Some(expression) = expression {
            out.insert(argument, evaluated(context, addresses, expression));
        }
    }
    out
}

fn evaluated(context: &Context, addresses: &references::Addresses, expression: &Expression) -> Resolved {
    let bound = addresses.bind(expression);
    match bound.as_ref().unwrap_or(expression).evaluate(context) {
        Ok(value) => Resolved::Known(value),
        Err(error) => Resolved::Unresolved(reason(&error)),
    }
}

/// The top-level arguments `names` of a watched block that it sets.
fn watched_arguments(context: &Context, addresses: &references::Addresses, names: &std::collections::BTreeSet<String>, block: &Block) -> BTreeMap<String, Resolved> {
    block.body().attributes().filter(|a| names.contains(a.key())).map(|a| (a.key().to_string(), evaluated(context, addresses, a.expr()))).collect()
}

/// A short reason from an evaluation error.
fn reason(error: &hcl::eval::Error) -> String {
    let text = error.to_string();
    let text = text.split('\n').next().unwrap_or(&text).to_string();
    if text.len() > 200 {
        format!("{}…", &text[..text.char_indices().nth(200).map_or(text.len(), |(i, _)| i)])
    } else {
        text
    }
}

#[cfg(test)]
mod tests;
