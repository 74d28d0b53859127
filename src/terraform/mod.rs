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
//! resolution is linear in the number of blocks and locals: each local is evaluated once, in
//! dependency order, by [`eval`], whose values share their parts. Sizes, copies, instances and
//! nesting are bounded; past a bound the read stops naming the file and line (docs/drift.md).

mod eval;
pub mod functions;
pub mod plan;
mod tree;
pub mod watched;

use std::{
    collections::BTreeMap,
    ops::Range,
    path::{Path, PathBuf},
    sync::atomic::Ordering,
};

use hcl::{eval::Context, Block, BlockLabel, Body, Expression, Value};
use hcl_edit::Span;
use rustc_hash::FxHashMap;

use self::eval::{Failure, Limits, Local, Scope, Shared};
use crate::{
    error::{Error, Result},
    model::names::Region,
    support::{NoProgress, Progress},
};

pub use self::eval::{MAX_VALUE_DEPTH, MAX_VALUE_ELEMENTS};

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

/// The stack of the threads that parse and resolve: hcl-edit, hcl-rs and the evaluator recurse
/// once per level of nesting, up to 256 levels (vendor/hcl-edit/PATCH.md) and values up to
/// [`MAX_VALUE_DEPTH`]; 10,000 levels took under 128 MB in a debug build.
const STACK_BYTES: usize = 64 << 20;

fn spawn<'scope, T: Send + 'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    work: impl FnOnce() -> T + Send + 'scope,
) -> std::thread::ScopedJoinHandle<'scope, T> {
    std::thread::Builder::new().stack_size(STACK_BYTES).spawn_scoped(scope, work).expect("a thread starts")
}

/// One parsed file.
struct Parsed {
    path: PathBuf,
    display: String,
    body: Body,
    /// The 1-based line of each top-level block or attribute, in order.
    lines: Vec<usize>,
    /// The line of each attribute of the `locals` and `provider` blocks, by the block's index.
    attribute_lines: FxHashMap<usize, Vec<usize>>,
    tfvars: bool,
}

/// Where a block, attribute or local is: a file (index into the parsed files) and a line.
#[derive(Debug, Clone, Copy)]
struct Place {
    file: usize,
    line: usize,
}

/// Reads every `.tf` file under `dir` (and `terraform.tfvars`, `*.auto.tfvars`), skipping
/// `.terraform` and hidden directories. A syntax error is an error naming `file:line:column`.
pub fn read_dir(dir: &Path) -> Result<Declared> {
    read_dir_observed(dir, &NoProgress)
}

/// [`read_dir`], telling `progress` of each file parsed and each block resolved. The work runs
/// on a thread with a deep stack (`spawn`): hostile nesting must end in an error, not an overflow.
pub fn read_dir_observed(dir: &Path, progress: &dyn Progress) -> Result<Declared> {
    read_dir_with(dir, &Watch::default(), progress)
}

/// [`read_dir`], also keeping the resources of the types `watch` names.
pub fn read_dir_watching(dir: &Path, watch: &Watch) -> Result<Declared> {
    read_dir_with(dir, watch, &NoProgress)
}

/// [`read_dir_watching`], telling `progress` as [`read_dir_observed`] does.
pub fn read_dir_watching_observed(dir: &Path, watch: &Watch, progress: &dyn Progress) -> Result<Declared> {
    read_dir_with(dir, watch, progress)
}

fn read_dir_with(dir: &Path, watch: &Watch, progress: &dyn Progress) -> Result<Declared> {
    std::thread::scope(|scope| spawn(scope, || read_dir_here(dir, watch, progress)).join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
}

fn read_dir_here(dir: &Path, watch: &Watch, progress: &dyn Progress) -> Result<Declared> {
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
    progress.stage("reading Terraform files", files.len() as u64);
    let parsed = parse_all(&files, progress)?;
    resolve(dir, parsed, watch, progress)
}

fn parse_all(files: &[(PathBuf, bool)], progress: &dyn Progress) -> Result<Vec<Parsed>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(files.len().max(1));
    let share = files.len().div_ceil(threads).max(1);
    let results: Vec<Result<Parsed>> = std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(share)
            .map(|part| {
                spawn(scope, move || {
                    part.iter()
                        .map(|(path, tfvars)| {
                            let parsed = parse_file(path, *tfvars);
                            progress.advance(1);
                            parsed
                        })
                        .collect::<Vec<_>>()
                })
            })
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
    // hcl-edit keeps spans, which hcl-rs's types drop: the lines are taken first.
    let edited: hcl_edit::structure::Body = text.parse().map_err(|error| syntax_error(&display, &error))?;
    let mut line_starts = vec![0];
    line_starts.extend(text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i + 1));
    let line = |span: Option<Range<usize>>| span.map_or(1, |span| line_starts.partition_point(|&start| start <= span.start));
    let mut lines = Vec::with_capacity(edited.len());
    let mut attribute_lines = FxHashMap::default();
    for (index, structure) in edited.iter().enumerate() {
        match structure {
            hcl_edit::structure::Structure::Attribute(attribute) => lines.push(line(attribute.span())),
            hcl_edit::structure::Structure::Block(block) => {
                lines.push(line(block.span()));
                if matches!(block.ident.as_str(), "locals" | "provider") {
                    attribute_lines.insert(index, block.body.attributes().map(|a| line(a.span())).collect());
                }
            }
        }
    }
    let body = Body::from(edited);
    Ok(Parsed { path: path.to_path_buf(), display, body, lines, attribute_lines, tfvars })
}

fn syntax_error(file: &str, error: &hcl_edit::parser::Error) -> Error {
    Error::Syntax {
        file: file.to_string(),
        line: error.location().line(),
        column: error.location().column(),
        message: error.message().to_string(),
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
    variables: Vec<(&'a str, Option<&'a Expression>, Place)>,
    tfvars: Vec<(&'a str, &'a Expression, Place)>,
    locals: Vec<(&'a str, &'a Expression, Place)>,
    /// Providers: alias (or "" for the default) → region expression.
    providers: Vec<(String, Option<(&'a Expression, Place)>)>,
    /// The default provider's `default_tags { tags = ... }`.
    default_tags: Option<&'a Expression>,
    /// Module calls: name, `source` and the place of the call.
    calls: Vec<(&'a str, Option<&'a Expression>, Place)>,
    /// The blocks of watched types: (type, name, block, place of its header).
    watched: Vec<(&'a str, &'a str, &'a Block, Place)>,
    /// Every resource block's (type, name), for references.
    addresses: Vec<(&'a str, &'a str, Place)>,
    /// The blocks onwatch reads: (kind, name, block, place of its header).
    blocks: Vec<(Kind, &'a str, &'a Block, Place)>,
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
        collect_file(&mut modules[index], file, file_index, watch);
    }
    (modules, module_dirs)
}

fn collect_file<'a>(module: &mut Module<'a>, file: &'a Parsed, file_index: usize, watch: &Watch) {
    let place = |line: usize| Place { file: file_index, line };
    for (index, structure) in file.body.iter().enumerate() {
        let here = place(file.lines.get(index).copied().unwrap_or(1));
        let block = match structure {
            hcl::Structure::Attribute(attribute) if file.tfvars => {
                module.tfvars.push((attribute.key(), attribute.expr(), here));
                continue;
            }
            hcl::Structure::Block(block) if !file.tfvars => block,
            _ => continue,
        };
        let attribute_line = |i: usize| place(file.attribute_lines.get(&index).and_then(|lines| lines.get(i)).copied().unwrap_or(here.line));
        let block_labels = labels(block);
        match (block.identifier(), block_labels.as_slice()) {
            ("variable", [name]) => {
                module.variables.push((name, block.body().attributes().find(|a| a.key() == "default").map(|a| a.expr()), here));
            }
            ("locals", []) => {
                for (i, attribute) in block.body().attributes().enumerate() {
                    module.locals.push((attribute.key(), attribute.expr(), attribute_line(i)));
                }
            }
            ("provider", ["aws"]) => {
                let attribute = |key: &str| block.body().attributes().enumerate().find(|(_, a)| a.key() == key).map(|(i, a)| (a.expr(), attribute_line(i)));
                let alias = match attribute("alias") {
                    Some((Expression::String(alias), _)) => alias.clone(),
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
                module.calls.push((name, block.body().attributes().find(|a| a.key() == "source").map(|a| a.expr()), here));
            }
            ("resource", [resource_type, name]) => {
                module.addresses.push((resource_type, name, here));
                if let Some(kind) = Kind::from_type(resource_type) {
                    module.blocks.push((kind, name, block, here));
                }
                if watch.arguments.contains_key(*resource_type) {
                    module.watched.push((resource_type, name, block, here));
                }
            }
            _ => {}
        }
    }
}

fn resolve(root: &Path, parsed: Vec<Parsed>, watch: &Watch, progress: &dyn Progress) -> Result<Declared> {
    let budget = std::sync::atomic::AtomicUsize::new(max_instances());
    let limits = Limits::from_env();
    let (modules, module_dirs) = collect_modules(root, &parsed, watch);
    progress.stage("resolving Terraform blocks", modules.iter().map(|m| (m.blocks.len() + m.watched.len()) as u64).sum());
    let all_names = modules.iter().map(|module| ModuleNames::of(module, &parsed, &limits, watch)).collect::<Result<Vec<_>>>()?;
    let all_regions = modules.iter().zip(&all_names).map(|(module, names)| provider_regions(module, names, &parsed, &limits)).collect::<Result<Vec<_>>>()?;
    let (module_info, notes) = tree::module_tree(root, &parsed, &modules, &module_dirs, &all_names, &all_regions, &limits)?;
    let mut declared =
        Declared { modules: module_dirs, module_info, resources: Vec::new(), watched: Vec::new(), files: parsed.iter().filter(|p| !p.tfvars).count(), notes };
    for (index, module) in modules.iter().enumerate() {
        let (names, regions) = (&all_names[index], &all_regions[index]);
        let threads = if module.blocks.len() < 2048 { 1 } else { std::thread::available_parallelism().map_or(1, |n| n.get()) };
        let share = module.blocks.len().div_ceil(threads).max(1);
        let evaluate_share = |blocks: &[(Kind, &str, &Block, Place)]| {
            let mut scope = names.scope(&limits);
            let mut out = Vec::with_capacity(blocks.len());
            for &(kind, name, block, place) in blocks {
                let file = &parsed[place.file];
                let region = provider_region(block, regions);
                let what = format!("{}.{name}", kind.resource_type());
                let fail = |message: String| bound_error(&parsed, place, format!("{what}: {message}"));
                let take = take_budget(&budget, &parsed, place, &what);
                expand(&mut scope, what.clone(), block, take, &fail, |scope| arguments(scope, kind, block), |address, arguments, unresolved| {
                    out.push(DeclaredResource {
                        kind,
                        address,
                        file: file.display.clone(),
                        line: place.line,
                        module: index,
                        region: region.clone(),
                        arguments,
                        unresolved,
                    });
                })?;
                progress.advance(1);
            }
            Ok(out)
        };
        if threads == 1 {
            declared.resources.extend(evaluate_share(&module.blocks)?);
        } else {
            let results: Vec<Result<Vec<DeclaredResource>>> = std::thread::scope(|scope| {
                let handles: Vec<_> = module.blocks.chunks(share).map(|part| spawn(scope, || evaluate_share(part))).collect();
                handles.into_iter().map(|h| h.join().expect("resolving threads do not panic")).collect()
            });
            for result in results {
                declared.resources.extend(result?);
            }
        }
        declared.watched.extend(resolve_watched(module, index, names, regions, &parsed, &limits, watch, &budget, progress)?);
    }
    Ok(declared)
}

/// The watched blocks of one module, each instance with the arguments its mapping reads.
#[allow(clippy::too_many_arguments)]
fn resolve_watched(
    module: &Module,
    index: usize,
    names: &ModuleNames,
    regions: &FxHashMap<String, Option<String>>,
    parsed: &[Parsed],
    limits: &Limits,
    watch: &Watch,
    budget: &std::sync::atomic::AtomicUsize,
    progress: &dyn Progress,
) -> Result<Vec<WatchedResource>> {
    let mut scope = names.scope(limits);
    let mut out = Vec::new();
    for &(resource_type, name, block, place) in &module.watched {
        let file = &parsed[place.file];
        let region = provider_region(block, regions);
        let what = format!("{resource_type}.{name}");
        let fail = |message: String| bound_error(parsed, place, format!("{what}: {message}"));
        let take = take_budget(budget, parsed, place, &what);
        let wanted = &watch.arguments[resource_type];
        expand(&mut scope, what.clone(), block, take, &fail, |scope| watched_arguments(scope, wanted, block), |address, arguments, unresolved| {
            out.push(WatchedResource {
                resource_type: resource_type.to_string(),
                address,
                file: file.display.clone(),
                line: place.line,
                module: index,
                region: region.clone(),
                arguments,
                unresolved,
            });
        })?;
        progress.advance(1);
    }
    Ok(out)
}

/// Takes `instances` from the budget of expanded instances, or says which block went past it.
fn take_budget<'b>(budget: &'b std::sync::atomic::AtomicUsize, parsed: &'b [Parsed], place: Place, what: &'b str) -> impl Fn(usize) -> Result<()> + 'b {
    move |instances: usize| {
        if budget.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| left.checked_sub(instances)).is_ok() {
            return Ok(());
        }
        let message = format!(
            "{what} expands to {instances} instances, past the bound of {} instances the reader expands in one run (set ONWATCH_TERRAFORM_MAX_INSTANCES)",
            max_instances()
        );
        Err(bound_error(parsed, place, message))
    }
}

/// A bound of the reader passed at `place`.
fn bound_error(parsed: &[Parsed], place: Place, message: String) -> Error {
    Error::TerraformBound { file: parsed[place.file].display.clone(), line: place.line, message }
}

/// A value at `place` that is not valid Terraform or not a valid name.
fn invalid_error(parsed: &[Parsed], place: Place, message: String) -> Error {
    Error::TerraformInvalid { file: parsed[place.file].display.clone(), line: place.line, message }
}

/// The regions of a module's providers that are known; a known region that is not a region name
/// is an error (it would become a provider alias and a label).
fn provider_regions(module: &Module, names: &ModuleNames, parsed: &[Parsed], limits: &Limits) -> Result<FxHashMap<String, Option<String>>> {
    let mut scope = names.scope(limits);
    let mut regions = FxHashMap::default();
    for (alias, region) in &module.providers {
        let known = match region {
            None => None,
            Some((expression, place)) => match scope.evaluate(expression) {
                Ok(value) => match value.as_scalar() {
                    Some(Value::String(text)) if !holds_reference(text) => {
                        let region = Region::parse(text).map_err(|error| {
                            invalid_error(parsed, *place, format!("the region of provider aws{}: {error}", alias_suffix(alias)))
                        })?;
                        Some(region.as_str().to_string())
                    }
                    _ => None,
                },
                Err(Failure::Unresolved(_)) => None,
                Err(Failure::Bound(message)) => return Err(bound_error(parsed, *place, message)),
            },
        };
        regions.insert(alias.clone(), known);
    }
    Ok(regions)
}

fn alias_suffix(alias: &str) -> String {
    if alias.is_empty() {
        String::new()
    } else {
        format!(".{alias}")
    }
}

/// The region of the provider a block uses: `provider = aws.alias`, else the default provider.
fn provider_region(block: &Block, regions: &FxHashMap<String, Option<String>>) -> Option<String> {
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

/// What names mean in a module: functions, `var`, `local` and resource references.
struct ModuleNames {
    functions: Context<'static>,
    locals: FxHashMap<String, Local>,
    roots: FxHashMap<String, Shared>,
}

impl ModuleNames {
    fn of(module: &Module, parsed: &[Parsed], limits: &Limits, watch: &Watch) -> Result<ModuleNames> {
        let mut functions = Context::new();
        functions::declare(&mut functions);
        let mut names = ModuleNames { functions, locals: FxHashMap::default(), roots: FxHashMap::default() };
        let bound = |place: Place, message: String| bound_error(parsed, place, message);
        // Variables: tfvars beat defaults; a variable with neither is left out, so references to it
        // fail to evaluate and stay unresolved.
        let mut variables = hcl::Map::new();
        let mut last = None;
        let values = module.variables.iter().filter_map(|(name, default, place)| default.map(|d| (name, d, place)));
        for (name, expression, place) in values.chain(module.tfvars.iter().map(|(name, expression, place)| (name, *expression, place))) {
            match names.scope(limits).evaluate(expression) {
                Ok(value) => {
                    variables.insert(name.to_string(), value);
                    last = Some(*place);
                }
                Err(Failure::Unresolved(_)) => {}
                Err(Failure::Bound(message)) => return Err(bound(*place, format!("var.{name}: {message}"))),
            }
        }
        let variables = Shared::object(variables, limits).map_err(|f| bound(last.expect("a variable was set"), format!("the variables together: {}", failure(f))));
        names.roots.insert("var".into(), variables?);
        // Resource references: `type.name.attribute` becomes a symbolic reference.
        let mut types: BTreeMap<&str, (hcl::Map<String, Shared>, Place)> = BTreeMap::new();
        for &(resource_type, name, place) in &module.addresses {
            // Besides `arn`, `id` and `name`, what the catalogue reads of a watched type (`function_name`).
            let watched = watch.arguments.get(resource_type).into_iter().flatten().map(String::as_str);
            let attributes: hcl::Map<String, Shared> = ["arn", "id", "name"]
                .into_iter()
                .chain(watched)
                .map(|attribute| (attribute.to_string(), Shared::scalar(Value::String(reference(&format!("{resource_type}.{name}.{attribute}"))))))
                .collect();
            let object = Shared::object(attributes, limits).map_err(|f| bound(place, format!("{resource_type}.{name}: {}", failure(f))))?;
            let entry = types.entry(resource_type).or_insert_with(|| (hcl::Map::new(), place));
            entry.0.insert(name.to_string(), object);
            entry.1 = place;
        }
        for (resource_type, (objects, place)) in types {
            let object = Shared::object(objects, limits).map_err(|f| bound(place, format!("the {resource_type} blocks together: {}", failure(f))))?;
            names.roots.insert(resource_type.to_string(), object);
        }
        names.resolve_locals(module, parsed, limits)?;
        Ok(names)
    }

    fn scope<'a>(&'a self, limits: &'a Limits) -> Scope<'a> {
        Scope { functions: &self.functions, locals: &self.locals, roots: self.roots.clone(), limits }
    }

    /// Evaluates each local once, after the locals it names.
    fn resolve_locals(&mut self, module: &Module, parsed: &[Parsed], limits: &Limits) -> Result<()> {
        let order = local_order(&module.locals).map_err(|cycle| {
            let (_, _, place) = module.locals[cycle[0]];
            let path: Vec<String> = cycle.iter().chain(&cycle[..1]).map(|&i| format!("local.{}", module.locals[i].0)).collect();
            invalid_error(parsed, place, format!("local.{} refers to itself: {}", module.locals[cycle[0]].0, path.join(" → ")))
        })?;
        for index in order {
            let (name, expression, place) = module.locals[index];
            let value = match self.scope(limits).evaluate(expression) {
                Ok(value) => Ok(value),
                Err(Failure::Unresolved(reason)) => Err(reason),
                Err(Failure::Bound(message)) => return Err(bound_error(parsed, place, format!("local.{name}: {message}"))),
            };
            self.locals.insert(name.to_string(), value);
        }
        Ok(())
    }
}

/// The order to evaluate locals in, each after the locals it names (Kahn's algorithm, linear in
/// locals and references); a later local of the same name replaces an earlier one. `Err` holds
/// the locals of one cycle.
fn local_order(locals: &[(&str, &Expression, Place)]) -> std::result::Result<Vec<usize>, Vec<usize>> {
    let index: FxHashMap<&str, usize> = locals.iter().enumerate().map(|(i, (name, _, _))| (*name, i)).collect();
    let live: Vec<usize> = (0..locals.len()).filter(|&i| index[locals[i].0] == i).collect();
    let mut dependencies: Vec<Vec<usize>> = vec![Vec::new(); locals.len()];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); locals.len()];
    for &i in &live {
        let mut named: Vec<usize> = eval::references(locals[i].1)
            .into_iter()
            .filter(|(root, _)| root == "local")
            .filter_map(|(_, attribute)| attribute.and_then(|a| index.get(a.as_str()).copied()))
            .collect();
        // Sorted, so that the cycle reported is always the same one.
        named.sort_unstable();
        named.dedup();
        for &j in &named {
            dependents[j].push(i);
        }
        dependencies[i] = named;
    }
    let mut waiting: Vec<usize> = dependencies.iter().map(Vec::len).collect();
    let mut order: Vec<usize> = live.iter().copied().filter(|&i| waiting[i] == 0).collect();
    let mut next = 0;
    while next < order.len() {
        for &dependent in &dependents[order[next]] {
            waiting[dependent] -= 1;
            if waiting[dependent] == 0 {
                order.push(dependent);
            }
        }
        next += 1;
    }
    if order.len() == live.len() {
        return Ok(order);
    }
    // Every local left waits on another one left: following those from any of them runs into a cycle.
    let mut seen: FxHashMap<usize, usize> = FxHashMap::default();
    let mut path = Vec::new();
    let mut at = *live.iter().find(|&&i| waiting[i] > 0).expect("a local is left");
    while !seen.contains_key(&at) {
        seen.insert(at, path.len());
        path.push(at);
        at = *dependencies[at].iter().find(|&&j| waiting[j] > 0).expect("a local left waits on another left");
    }
    Err(path.split_off(seen[&at]))
}

/// Evaluates what `evaluate` reads of one block (`base` is its address), once per
/// `count`/`for_each` instance; `evaluate`'s `Err` is a bound passed.
fn expand<T: Default>(
    scope: &mut Scope,
    base: String,
    block: &Block,
    take: impl Fn(usize) -> Result<()>,
    fail: &dyn Fn(String) -> Error,
    evaluate: impl Fn(&mut Scope) -> std::result::Result<T, String>,
    mut emit: impl FnMut(String, T, Option<String>),
) -> Result<()> {
    let attribute = |key: &str| block.body().attributes().find(|a| a.key() == key).map(|a| a.expr());
    // `count` and `each` of the block before do not leak into this one.
    scope.roots.remove("count");
    scope.roots.remove("each");
    if let Some(count) = attribute("count") {
        match scope.evaluate(count) {
            Ok(value) => match value.as_scalar() {
                Some(Value::Number(n)) if n.as_u64().is_some() => {
                    let n = n.as_u64().unwrap();
                    take(usize::try_from(n).unwrap_or(usize::MAX))?;
                    for index in 0..n {
                        let instance = hcl::Map::from_iter([("index".to_string(), Shared::scalar(Value::from(index)))]);
                        scope.roots.insert("count".into(), Shared::object(instance, scope.limits).map_err(|f| fail(failure(f)))?);
                        emit(format!("{base}[{index}]"), evaluate(scope).map_err(fail)?, None);
                    }
                }
                _ => emit(base, T::default(), Some(format!("count is not a whole number: {}", describe(&value)))),
            },
            Err(Failure::Unresolved(reason)) => emit(base, T::default(), Some(format!("count is not static: {reason}"))),
            Err(Failure::Bound(message)) => return Err(fail(message)),
        }
        return Ok(());
    }
    if let Some(for_each) = attribute("for_each") {
        let instances = match scope.evaluate(for_each) {
            Ok(value) => match for_each_instances(&value) {
                Some(instances) => instances,
                None => {
                    emit(base, T::default(), Some(format!("for_each is not a map or set of strings: {}", describe(&value))));
                    return Ok(());
                }
            },
            Err(Failure::Unresolved(reason)) => {
                emit(base, T::default(), Some(format!("for_each is not static: {reason}")));
                return Ok(());
            }
            Err(Failure::Bound(message)) => return Err(fail(message)),
        };
        take(instances.len())?;
        for (key, value) in instances {
            if holds_reference(&key) {
                emit(base.clone(), T::default(), Some("for_each keys refer to other resources".into()));
                return Ok(());
            }
            let each = hcl::Map::from_iter([("key".to_string(), Shared::scalar(Value::String(key.clone()))), ("value".to_string(), value)]);
            scope.roots.insert("each".into(), Shared::object(each, scope.limits).map_err(|f| fail(failure(f)))?);
            emit(format!("{base}[{}]", serde_json::to_string(&key).unwrap()), evaluate(scope).map_err(fail)?, None);
        }
        return Ok(());
    }
    take(1)?;
    emit(base, evaluate(scope).map_err(fail)?, None);
    Ok(())
}

/// The instances of a `for_each` value: a map's entries by key (Terraform's order), or a set of
/// strings; `None` for anything else.
fn for_each_instances(value: &Shared) -> Option<Vec<(String, Shared)>> {
    if let Some(map) = value.as_object() {
        let mut pairs: Vec<(String, Shared)> = map.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        return Some(pairs);
    }
    let items = value.as_array()?;
    items.iter().map(|item| item.as_scalar().and_then(Value::as_str).map(|key| (key.to_string(), item.clone()))).collect()
}

/// A value for a message: scalars as written, lists and objects by kind.
fn describe(value: &Shared) -> String {
    match value.as_scalar() {
        Some(scalar) => scalar.to_string(),
        None if value.as_array().is_some() => "a list".into(),
        None => "an object".into(),
    }
}

fn failure(failure: Failure) -> String {
    match failure {
        Failure::Unresolved(reason) | Failure::Bound(reason) => reason,
    }
}

/// The arguments onwatch reads of a block; `Err` is a bound passed.
fn arguments(scope: &mut Scope, kind: Kind, block: &Block) -> std::result::Result<BTreeMap<&'static str, Resolved>, String> {
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
            let value = match scope.evaluate(expression).and_then(|value| value.to_value(scope.limits)) {
                Ok(value) => Resolved::Known(value),
                Err(Failure::Unresolved(reason)) => Resolved::Unresolved(reason),
                Err(Failure::Bound(message)) => return Err(format!("{argument}: {message}")),
            };
            out.insert(argument, value);
        }
    }
    Ok(out)
}

/// The top-level arguments `wanted` of a watched block that it sets; `Err` is a bound passed.
fn watched_arguments(scope: &mut Scope, wanted: &std::collections::BTreeSet<String>, block: &Block) -> std::result::Result<BTreeMap<String, Resolved>, String> {
    let mut out = BTreeMap::new();
    for attribute in block.body().attributes().filter(|a| wanted.contains(a.key())) {
        let value = match scope.evaluate(attribute.expr()).and_then(|value| value.to_value(scope.limits)) {
            Ok(value) => Resolved::Known(value),
            Err(Failure::Unresolved(reason)) => Resolved::Unresolved(reason),
            Err(Failure::Bound(message)) => return Err(format!("{}: {message}", attribute.key())),
        };
        out.insert(attribute.key().to_string(), value);
    }
    Ok(out)
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
